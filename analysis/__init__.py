"""Analysis of circle-survival job outputs (parquet files only, see briefs/schema.md).

Three commands, run from the repository root:

    python analysis/aggregate.py ROOT... [--out DIR]
    python analysis/figures.py ROOT --out DIR [--only fig5 ...]
    python analysis/paper_check.py ROOT
"""

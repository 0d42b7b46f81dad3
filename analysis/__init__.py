"""Analysis of circle-survival job outputs (parquet files only, see docs/schema.md).

Four commands, run from the repository root (no ROOT: multirun/ and outputs/; output
under analysis-out/ unless --out says otherwise):

    python analysis/aggregate.py [ROOT...] [--out DIR]
    python analysis/figures.py [ROOT...] [--out DIR] [--only NAME ...] [--figure FIG]
    python analysis/paper_check.py [ROOT...] [--out FILE.md]
    python analysis/report.py [ROOT...] [--out DIR]        # all of it on one page
"""

"""docs/schema.md names every column a job writes."""
from pathlib import Path

import pyarrow.parquet as pq

from circle_survival.job import run_job

SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_schema_doc_names_every_column(tmp_path, tiny_cfg):
    run_job(tiny_cfg(steps=10), tmp_path)
    doc = SCHEMA_DOC.read_text()
    missing = [f"{path.name}: {name}" for path in sorted(tmp_path.glob("*.parquet"))
               for name in pq.read_schema(path).names if f"`{name}`" not in doc]
    assert len(list(tmp_path.glob("*.parquet"))) == 4
    assert not missing, f"columns not in docs/schema.md: {missing}"

"""docs/schema.md names every column a job writes."""
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from circle_survival.config import AddTask, MSEConfig
from circle_survival.job import run_job

SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


@pytest.mark.parametrize("extra, files", [
    ({}, 4),
    ({"p": 10, "task": AddTask(train_count=45), "loss": MSEConfig(), "log.embedding": True}, 5),
], ids=["default", "add_mse_embedding"])
def test_schema_doc_names_every_column(tmp_path, tiny_cfg, extra, files):
    run_job(tiny_cfg(steps=10, **extra), tmp_path)
    doc = SCHEMA_DOC.read_text()
    missing = [f"{path.name}: {name}" for path in sorted(tmp_path.glob("*.parquet"))
               for name in pq.read_schema(path).names if f"`{name}`" not in doc]
    assert len(list(tmp_path.glob("*.parquet"))) == files
    assert not missing, f"columns not in docs/schema.md: {missing}"

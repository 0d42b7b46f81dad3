"""One particle-simulation job: skip if complete, simulate, write parquet atomically.

    result = run_simulation(SimulateConfig(systems=64), Path("simulations/default"))  # None if skipped

Files (docs/schema.md): `positions.parquet` (every system's positions at the stored
steps), then `systems.parquet` (one row per system: config, final positions, final loss),
written last as the mark of a complete job, holding the flat config in its metadata. The
writing, the lock and the completeness mark are train's (results.write_table,
job.job_lock, results.stored_config).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa

from .config import ConfigError
from .job import job_lock, skip_or_start
from .particles import SimResult, SimulateConfig, flatten, simulate, validate
from .results import CONFIG_KEY, stored_config, write_table

log = logging.getLogger("circle_survival")
FILES = ("positions.parquet", "systems.parquet")


def positions_table(result: SimResult) -> pa.Table:
    L, S = result.loss.shape
    return pa.table({
        "system": pa.array(np.tile(result.systems, L), pa.int32()),
        "step": pa.array(np.repeat(result.steps, S), pa.int32()),
        "loss": pa.array(result.loss.ravel(), pa.float32()),
        "positions": pa.array(list(result.positions.reshape(L * S, -1).astype(np.float32)),
                              pa.list_(pa.float32())),
    })


def systems_table(cfg: SimulateConfig, result: SimResult) -> pa.Table:
    S = len(result.systems)
    flat = flatten(cfg)
    columns = {"system": pa.array(result.systems, pa.int32())}
    columns.update({k: pa.array([v] * S) for k, v in flat.items()})
    columns.update({
        "parallelograms": pa.array(result.parallelograms, pa.int32()),
        "final_loss": pa.array(result.loss[-1], pa.float32()),
        "final_positions": pa.array(list(result.positions[-1].reshape(S, -1).astype(np.float32)),
                                    pa.list_(pa.float32())),
    })
    return pa.table(columns).replace_schema_metadata({CONFIG_KEY: json.dumps(flat, sort_keys=True)})


def is_complete(cfg: SimulateConfig, out_dir: Path) -> bool:
    """True if out_dir holds this config's results; ConfigError if another config's."""
    stored = stored_config(out_dir, FILES[-1])
    if stored is None:
        return False
    wanted = flatten(cfg)
    diff = [f"{k}: {stored.get(k)!r} != {wanted.get(k)!r}" for k in sorted(set(stored) | set(wanted))
            if stored.get(k) != wanted.get(k)]
    if diff:
        raise ConfigError(f"{out_dir} holds results of another config ({'; '.join(diff)}); "
                          "choose another output directory or pass force=true to overwrite")
    return True


def run_simulation(cfg: SimulateConfig, out_dir: Path) -> SimResult | None:
    """Simulate into out_dir; None if its outputs were already complete."""
    validate(cfg)
    out_dir = Path(out_dir)
    with job_lock(out_dir):
        if skip_or_start(out_dir, cfg.force, lambda: is_complete(cfg, out_dir), FILES[-1:], cfg.threads):
            return None
        result = simulate(cfg)
        write_table(positions_table(result), out_dir / FILES[0])
        write_table(systems_table(cfg, result), out_dir / FILES[1])
    log.info("%d systems, final effective loss %.3g (median); logs: %s (%s)", len(result.systems),
             float(np.median(result.loss[-1])), out_dir, ", ".join(FILES))
    return result

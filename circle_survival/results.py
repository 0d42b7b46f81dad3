"""Parquet results of one job, written so that nothing partial ever looks complete.

    write_job(out_dir, cfg, result)     # signals, metrics, params, [embedding], then trials.parquet
    files(cfg)                          # the files a job of cfg writes, trials.parquet last
    stored_config(out_dir)              # flat config of a complete job, or None

Every file is written under a hidden temporary name and renamed into place;
`trials.parquet` comes last and marks the job complete. Floats are float32 without
dictionary encoding (pyarrow's default dictionary-encodes them, ~1.5x larger here).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import grid
from .config import SCHEMA_VERSION, TrainConfig, flatten
from .fourier import circle_lists, half
from .trainer import METRICS, TrainResult

FILES = ("signals.parquet", "metrics.parquet", "params.parquet", "trials.parquet")
OPTIONAL = {"embedding.parquet": "embedding"}  # written when log.<key> is true, before trials.parquet
CONFIG_KEY = b"circle_survival.config"


def write_table(table: pa.Table, path: Path) -> None:
    """Write atomically: a killed writer leaves only a hidden `.NAME.tmp` file, and one
    that fails (OSError: a full disk) not even that."""
    tmp = path.with_name(f".{path.name}.tmp")
    dictionary = [f.name for f in table.schema
                  if not pa.types.is_floating(f.type) and not pa.types.is_list(f.type)]
    try:
        pq.write_table(table, tmp, compression="zstd", use_dictionary=dictionary)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a partial file only takes space a rerun needs
        raise


def end_steps(result: TrainResult) -> np.ndarray:
    """(T,) each trial's last step: where it stopped (stop=settled), else the last step."""
    return np.where(result.stopped_step >= 0, result.stopped_step, result.steps[-1])


def _long(result: TrainResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """trial and step columns for arrays laid out (L, T, ...), and which (L*T) rows to keep:
    none of a stopped trial after its stopping step."""
    L, T = len(result.steps), len(result.trials)
    step = np.repeat(result.steps.astype(np.int32), T)
    trial = np.tile(result.trials.astype(np.int32), L)
    keep = (result.steps[:, None] <= end_steps(result)[None, :]).ravel()
    return trial[keep], step[keep], keep


def signals_table(result: TrainResult) -> pa.Table:
    K = result.signal.shape[-1]
    trial, step, keep = _long(result)
    return pa.table({
        "trial": np.repeat(trial, K), "step": np.repeat(step, K),
        "k": np.tile(np.arange(K, dtype=np.int32), len(trial)),
        "signal": result.signal.astype(np.float32).reshape(-1, K)[keep].ravel(),
        "grad_signal": result.grad_signal.astype(np.float32).reshape(-1, K)[keep].ravel(),
    })


def metrics_table(result: TrainResult) -> pa.Table:
    """Losses and accuracies per (trial, logged step), and rqi: null unless log.rqi."""
    trial, step, keep = _long(result)
    m = result.metrics.astype(np.float32).reshape(-1, len(METRICS))[keep]
    rqi = (pa.nulls(len(trial), pa.float32()) if result.rqi is None else
           pa.array(result.rqi.astype(np.float32).ravel()[keep], pa.float32()))
    return pa.table({"trial": trial, "step": step, **{n: m[:, i] for i, n in enumerate(METRICS)},
                     "rqi": rqi})


def embedding_table(result: TrainResult) -> pa.Table:
    """log.embedding: E (p, d) row-major per (trial, logged step)."""
    trial, step, keep = _long(result)
    L, T, p, d = result.embedding.shape
    E = result.embedding.astype(np.float32).reshape(L * T, p * d)[keep]
    return pa.table({"trial": trial, "step": step,
                     "E": pa.FixedSizeListArray.from_arrays(E.ravel(), p * d).cast(pa.list_(pa.float32()))})


def params_table(result: TrainResult) -> pa.Table:
    """One row per (trial, step, parameter): shape and row-major float32 values. A stopped
    trial has none after its stopping step, and its final parameters under that step."""
    rows: dict[str, list] = {"trial": [], "step": [], "name": [], "shape": [], "values": []}
    last, ends = max(result.params), end_steps(result)
    for step, named in sorted(result.params.items()):
        for name, stacked in named.items():
            for i, trial in enumerate(result.trials):
                if step >= ends[i] and step != last:
                    continue  # its final row (below, at `last`) stands for it
                rows["trial"].append(int(trial))
                rows["step"].append(int(ends[i]) if step == last else step)
                rows["name"].append(name)
                rows["shape"].append(list(stacked.shape[1:]))
                rows["values"].append(stacked[i].numpy().ravel())
    return pa.table({
        "trial": pa.array(rows["trial"], pa.int32()), "step": pa.array(rows["step"], pa.int32()),
        "name": pa.array(rows["name"], pa.string()),
        "shape": pa.array(rows["shape"], pa.list_(pa.int32())),
        "values": pa.array(rows["values"], pa.list_(pa.float32())),
    })


def trial_circles(cfg: TrainConfig, result: TrainResult) -> list[list[int] | None]:
    """Surviving circles of each trial under the configured rule; None for a diverged
    trial (its NaN signals would otherwise count as no circles)."""
    circles = circle_lists(result.final_spectrum, cfg.circles.rule, cfg.circles.threshold)
    return [None if diverged >= 0 else c for c, diverged in zip(circles, result.diverged_step)]


def _step_or_null(steps: np.ndarray) -> pa.Array:
    """Steps as int32, with -1 (never) as null."""
    return pa.array(steps, pa.int32(), mask=np.asarray(steps) < 0)


def first_reached(result: TrainResult, column: int, threshold: float) -> np.ndarray:
    """(T,) the first logged step (up to each trial's last) at which metric `column`
    (METRICS order) is >= threshold, -1 if none. Compared in float32, as logged: 9 of 10
    correct (0.9 in float32) reaches 0.9."""
    values = result.metrics[:, :, column].astype(np.float32)  # (L, T)
    live = result.steps[:, None] <= end_steps(result)[None, :]
    reached = (values >= np.float32(threshold)) & live
    return np.where(reached.any(0), result.steps[reached.argmax(0)], -1)


def trials_table(cfg: TrainConfig, result: TrainResult) -> pa.Table:
    """One row per trial: every result-relevant config value as a column, then results.
    A grid's keys hold each trial's own value; `replicate` is the index its seeding used."""
    T = len(result.trials)
    flat = flatten(cfg)
    circles = trial_circles(cfg, result)
    last_row = np.searchsorted(result.steps, end_steps(result))  # (T,) a stopping step is logged
    final = result.metrics[last_row, np.arange(T)].astype(np.float32)  # (T, 4)
    columns = {"trial": pa.array(result.trials, pa.int32()),
               "replicate": pa.array([t.replicate for t in grid.layout(cfg)], pa.int32())}
    # List-valued config (perturbation.ks, snapshots.steps) as list<int32>, even when empty.
    columns.update({key: pa.array([value] * T, pa.list_(pa.int32()) if isinstance(value, list) else None)
                    for key, value in flat.items() if key != "grid"})
    columns.update({key: pa.array(values, pa.float64()) for key, values in grid.columns(cfg).items()})
    columns["device"] = pa.array([result.device] * T, pa.string())
    applied = result.applied if result.applied is not None else [[] for _ in range(T)]
    columns["perturbation.applied"] = pa.array(applied, pa.list_(pa.int32()))
    columns.update({
        "diverged": pa.array(result.diverged_step >= 0, pa.bool_()),
        "diverged_step": _step_or_null(result.diverged_step),
        "loss_spike_step": _step_or_null(result.spike_step),
        "stopped_step": _step_or_null(result.stopped_step),
        **{f"{n}_step": _step_or_null(first_reached(result, METRICS.index(n), cfg.log.acc_threshold))
           for n in ("train_acc", "test_acc")},
        "train_pairs": pa.array(list(result.train_pairs), pa.list_(pa.int32())),
        "n_circles": pa.array([None if c is None else len(c) for c in circles], pa.int32()),
        "circles": pa.array(circles, pa.list_(pa.int32())),
        "init_signal": pa.array(list(half(result.init_spectrum).astype(np.float32)),
                                pa.list_(pa.float32())),
        "final_signal": pa.array(list(half(result.final_spectrum).astype(np.float32)),
                                 pa.list_(pa.float32())),
        **{f"final_{n}": pa.array(final[:, i], pa.float32()) for i, n in enumerate(METRICS)},
        "schema_version": pa.array([SCHEMA_VERSION] * T, pa.int32()),
    })
    table = pa.table(columns)
    return table.replace_schema_metadata({CONFIG_KEY: json.dumps(flat, sort_keys=True)})


def files(cfg: TrainConfig) -> tuple[str, ...]:
    """The files a job of cfg writes, in order: FILES with the optional ones the config
    asks for (OPTIONAL) before trials.parquet, the mark of a complete job."""
    chosen = tuple(name for name, key in OPTIONAL.items() if getattr(cfg.log, key))
    return FILES[:-1] + chosen + FILES[-1:]


def write_job(out_dir: Path, cfg: TrainConfig, result: TrainResult) -> None:
    """Every file of `files(cfg)`; trials.parquet last, as the mark of a complete job. If
    one cannot be written (a full disk), those written before it are removed too, leaving
    their space to the rerun that writes them all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {"signals.parquet": lambda: signals_table(result),
              "metrics.parquet": lambda: metrics_table(result),
              "params.parquet": lambda: params_table(result),
              "embedding.parquet": lambda: embedding_table(result),
              "trials.parquet": lambda: trials_table(cfg, result)}
    written = []
    try:
        for name in files(cfg):
            write_table(tables[name](), out_dir / name)
            written.append(out_dir / name)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def stored_config(out_dir: Path, name: str = "trials.parquet") -> dict | None:
    """The flat config of the complete job in out_dir (marked by the file `name`, written
    last), or None if it is not complete."""
    path = out_dir / name
    if not path.exists():
        return None
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[CONFIG_KEY]) if CONFIG_KEY in meta else {}

"""Find job directories under roots and read their parquet tables.

The parquet columns (docs/schema.md) are the whole input; nothing here knows how
the files were produced. Problems with single jobs never raise: they come back as
`Skip(path, reason)` so callers can list them and carry on with the rest.

    trials, skipped = load_trials(["multirun/2024-06-01"])
    signals, skipped = read_table(trials.job.unique(), "signals.parquet",
                                  filter=ds.field("step") <= 4)
    E0 = list_matrix(trials.init_signal)         # (n_trials, p//2 + 1) when p is fixed
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

SCHEMA_VERSION = 3
# Version 1 (before the model and optimizer config groups) is read as version 2: its model
# was the paper's (model.kind mlp), its optimizer AdamW under `optim.*`, and it stored every
# perturbation field whatever the kind; `_upgrade_v1` maps it. Version 2 stores the fields
# of the trial's perturbation kind only, these. Version 3 adds the task and loss config
# groups (absent: task.kind mod_add, loss.kind cross_entropy, DEFAULTS), the results
# train_acc_step, test_acc_step, train_pairs (absent: null) and metrics' rqi (absent:
# null), and the optional embedding.parquet.
READABLE_VERSIONS = (1, 2, 3)
PERTURBATION_FIELDS = {"none": (), "scale": ("ks", "alpha"), "keep": ("ks", "random", "top", "source"),
                          "construct": ("scale", "eps", "r")}
TRIALS = "trials.parquet"
SIMULATION = "systems.parquet"  # marks a complete particle-simulation job (circle_survival/sim_job.py)
OUTPUTS = ("signals.parquet", "metrics.parquet", "params.parquet")
# Written only when the job's config asks (log.embedding): a job without one is left out of
# read_table's result without a Skip.
OPTIONAL = ("embedding.parquet",)
# What a started job leaves before trials.parquet: its other outputs, Hydra's log and
# config folder, the trainer's checkpoint (hidden `.NAME.tmp` files are checked apart).
STARTED = (*OUTPUTS, *OPTIONAL, "train.log", "checkpoint.pt", ".hydra")

# Per-trial results; every other trials.parquet column is configuration.
RESULTS = (
    "trial", "replicate", "n_circles", "circles", "init_signal", "final_signal",
    "final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc",
    "schema_version", "perturbation.applied", "diverged", "diverged_step", "loss_spike_step",
    "stopped_step", "train_acc_step", "test_acc_step", "train_pairs",
)
TRIALS_REQUIRED = {
    "trial": pa.types.is_integer, "p": pa.types.is_integer, "d": pa.types.is_integer,
    "n_circles": pa.types.is_integer, "circles": pa.types.is_list,
    "init_signal": pa.types.is_list, "final_signal": pa.types.is_list,
    "schema_version": pa.types.is_integer,
}
# Columns that older files may lack, with the value that absence means.
DEFAULTS = {"sweep": "", "vary": "", "perturbation.kind": "none", "stop.kind": "never", "diverged": False,
            "model.kind": "mlp", "optimizer.kind": "adamw", "task.kind": "mod_add",
            "loss.kind": "cross_entropy"}
DIVERGED = "diverged"  # how a diverged trial's Skip reason begins


class DataError(Exception):
    """An expected problem with the input as a whole; str(err) is the line to print."""


@dataclass(frozen=True)
class Skip:
    """A job left out of the analysis, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def find_jobs(roots) -> tuple[list[str], list[Skip]]:
    """Job directories (those holding trials.parquet) at any depth under `roots`.

    Directories a job has started in (other outputs, train.log, .hydra/, a checkpoint,
    `.*.tmp` files) but without trials.parquet are incomplete (it is written last)
    and come back as skips. A missing root raises DataError.

        jobs, incomplete = find_jobs(["multirun/"])
    """
    jobs, skipped, seen = [], [], set()
    for root in map(Path, roots):
        if not root.exists():
            raise DataError(f"root not found: {root}")
        if not root.is_dir():
            raise DataError(f"root is not a directory: {root}")
        for dirpath, dirnames, filenames in os.walk(root):
            names = set(filenames) | set(dirnames)
            dirnames[:] = sorted(n for n in dirnames if n != ".hydra")
            real = os.path.realpath(dirpath)
            if real in seen:  # overlapping roots must not count a job twice
                continue
            seen.add(real)
            if TRIALS in names:
                jobs.append(os.path.normpath(dirpath))
            elif SIMULATION in names:  # a particle-simulation job: analysis/grids.py reads it
                continue
            elif names & set(STARTED) or any(n.startswith(".") and n.endswith(".tmp") for n in names):
                skipped.append(Skip(os.path.normpath(dirpath), "incomplete: no trials.parquet"))
    return jobs, skipped


def read_table(job_dirs, name: str, columns=None, filter=None, required=None):
    """Concatenate `name` from every job dir, with a `job` column naming the dir.

    `columns` and `filter` are pushed down into the parquet scan, so only what is
    asked for is read. `required` maps column -> type predicate; files without it
    are skipped as a different schema, as are unreadable ones (e.g. bad footer). A job
    without an OPTIONAL file (embedding.parquet) did not ask for it: it is left out
    without a Skip.

        table, skipped = read_table(jobs, "metrics.parquet", columns=["trial", "step", "test_loss"])
    """
    paths, schemas, skipped = [], [], []
    for job in job_dirs:
        path = os.path.join(job, name)
        if name in OPTIONAL and not os.path.exists(path):
            continue
        schema, problem = _file_schema(path, required or {})
        if problem:
            skipped.append(Skip(job, problem))
        else:
            paths.append(path)
            schemas.append(schema)
    unified, odd = _unify(schemas)
    skipped += [Skip(os.path.dirname(paths[i]), reason) for i, reason in odd]
    keep = [i for i in range(len(paths)) if i not in dict(odd)]
    paths = [paths[i] for i in keep]
    if not paths:
        return pd.DataFrame(columns=["job", *(columns or [])]), skipped
    try:
        table, job_index = _scan(paths, unified, columns, filter)
    except (pa.ArrowException, OSError):
        # A file whose footer is fine but whose data is not: find it the slow way.
        good = []
        for path in paths:
            try:
                ds.dataset(path, format="parquet").to_table(columns=columns, filter=filter)
                good.append(path)
            except (pa.ArrowException, OSError) as err:
                skipped.append(Skip(os.path.dirname(path), f"corrupt: {_first_line(err)}"))
        if not good:
            return pd.DataFrame(columns=["job", *(columns or [])]), skipped
        paths = good
        table, job_index = _scan(paths, unified, columns, filter)
    frame = table.to_pandas(types_mapper=_list_as_arrow)
    frame.insert(0, "job", pd.Categorical.from_codes(job_index, [os.path.dirname(p) for p in paths]))
    return frame, skipped


def load_trials(roots) -> tuple[pd.DataFrame, list[Skip]]:
    """All trials under `roots`, one row each, sorted by (job, trial), with a `job` column.

    List columns (circles, init_signal, ...) are Arrow-backed: use `.list.flatten()`
    or `list_matrix`. A config list such as perturbation.ks becomes a comma-joined
    string so that it can be grouped on. Raises DataError if nothing usable is found.

        trials, skipped = load_trials(["runs/fig5"])
    """
    jobs, skipped = find_jobs(roots)
    if not jobs and not skipped:
        raise DataError(f"no job directories (with {TRIALS}) under {' '.join(map(str, roots))}")
    trials, bad = read_table(jobs, TRIALS, required=TRIALS_REQUIRED)
    skipped += bad
    trials, bad = _drop_inconsistent(trials)
    skipped += bad
    trials, bad = _drop_diverged(trials)
    skipped += bad
    if trials.empty:
        first = f"; first: {skipped[0]}" if skipped else ""
        raise DataError(f"no readable jobs under {' '.join(map(str, roots))} "
                        f"({len(skipped)} skipped{first})")
    trials = _upgrade_v1(trials)
    # The seeding index (a grid job's trials share it point by point); files before it: the trial.
    trials["replicate"] = (trials["replicate"].fillna(trials["trial"]) if "replicate" in trials
                           else trials["trial"]).astype("int64")
    for column, value in DEFAULTS.items():
        trials[column] = trials[column].fillna(value) if column in trials else value
    # Parameters of a rule that is not in force define no condition: blank them, so old
    # files (without them) and new ones group together.
    for column in trials.columns:
        if column.startswith("stop.") and column != "stop.kind":
            trials[column] = trials[column].where(trials["stop.kind"] != "never")
    if "circles.threshold" in trials and "circles.rule" in trials:
        trials["circles.threshold"] = trials["circles.threshold"].where(trials["circles.rule"] == "threshold")
    for column in trials.columns:
        if column not in RESULTS and isinstance(trials[column].dtype, pd.ArrowDtype) \
                and pa.types.is_list(trials[column].dtype.pyarrow_dtype):
            trials[column] = _joined(trials[column])
    trials["job"] = trials["job"].astype(str)
    trials = trials.sort_values(["job", "trial"], kind="stable").reset_index(drop=True)
    return trials, sorted(skipped, key=lambda s: s.path)


def load_or_exit(roots) -> tuple[pd.DataFrame, list[Skip]]:
    """`load_trials` for the command-line scripts: an expected problem is one line on
    stderr and exit status 2."""
    try:
        return load_trials(roots)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def problem(err: Exception) -> str:
    """One line for data that is there but unusable: a KeyError is a missing column."""
    return f"no column {err}" if isinstance(err, KeyError) else _first_line(err)


def config_columns(trials: pd.DataFrame) -> list[str]:
    """The configuration columns of a trials frame (everything that is not a result)."""
    return [c for c in trials.columns if c not in RESULTS and c != "job"]


def list_matrix(series: pd.Series) -> np.ndarray:
    """Stack an equal-length list column into a 2-D array (one row per entry)."""
    lengths = np.asarray(series.list.len())
    if len(lengths) and (lengths != lengths[0]).any():
        raise ValueError("list lengths differ (mixed p?): select one p first")
    flat = np.asarray(series.list.flatten(), dtype=float)
    return flat.reshape(len(series), -1 if len(series) else 0)


def _file_schema(path: str, required: dict):
    """(schema, None) for a readable file with the required columns, else (None, reason)."""
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        return None, f"incomplete: no {os.path.basename(path)}"
    except (pa.ArrowException, OSError) as err:
        return None, f"corrupt: {_first_line(err)}"
    if "job" in schema.names:  # e.g. aggregate's all_trials.parquet copied into a job's place
        return None, "different schema: an aggregated table (has a 'job' column), not a job's"
    for column, ok in required.items():
        if column not in schema.names:
            return None, f"different schema: no column {column!r}"
        if not ok(schema.field(column).type):
            return None, f"different schema: column {column!r} is {schema.field(column).type}"
    return schema, None


def _unify(schemas):
    """One schema for all files; files whose column types clash are listed as (index, reason)."""
    unified, odd = None, []
    for i, schema in enumerate(schemas):
        try:
            unified = schema if unified is None else pa.unify_schemas([unified, schema],
                                                                       promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid) as err:
            odd.append((i, f"different schema: {_first_line(err)}"))
    return unified, odd


def _scan(paths, schema, columns, filter):
    """Read all files in one multi-threaded scan; returns the table and each row's file index."""
    dataset = ds.dataset(paths, schema=schema, format="parquet")
    index = {os.path.normpath(path): i for i, path in enumerate(paths)}
    batches, job_index = [], []
    # scan_batches tags each batch with its file, so filtered reads keep their job.
    for tagged in dataset.scanner(columns=columns, filter=filter).scan_batches():
        batches.append(tagged.record_batch)
        file = index[os.path.normpath(tagged.fragment.path)]
        job_index.append(np.full(tagged.record_batch.num_rows, file, np.int32))
    out_schema = pa.schema([schema.field(c) for c in columns]) if columns else schema
    return pa.Table.from_batches(batches, out_schema), np.concatenate(job_index or [np.zeros(0, np.int32)])


def _drop_inconsistent(trials: pd.DataFrame):
    """Drop whole jobs whose rows contradict the schema (other version, missing or repeated trials)."""
    if trials.empty:
        return trials, []
    jobs = trials.groupby("job", observed=True)
    reasons = {}
    version = jobs["schema_version"].max()
    for job, v in version[~version.isin(READABLE_VERSIONS)].items():
        reasons[job] = (f"different schema: schema_version {v}, expected one of "
                        f"{', '.join(map(str, READABLE_VERSIONS))}")
    repeated = jobs["trial"].nunique() != jobs.size()
    for job in repeated[repeated].index:
        reasons.setdefault(job, "corrupt: repeated trial indices")
    if "trials" in trials:
        # `trials` replicates of each grid point: as many rows per replicate as points (1 without a grid)
        replicate = trials["replicate"].fillna(trials["trial"]) if "replicate" in trials else trials["trial"]
        points = trials.groupby(["job", replicate], observed=True).size().groupby(level=0, observed=True).max()
        rows, wanted = jobs.size(), jobs["trials"].max() * points
        for job in rows[rows != wanted].index:
            reasons.setdefault(job, f"incomplete: {rows[job]} of {wanted[job]} trials")
    bad = trials["job"].isin(list(reasons))
    return trials[~bad], [Skip(str(job), reason) for job, reason in reasons.items()]


def _upgrade_v1(trials: pd.DataFrame) -> pd.DataFrame:
    """Version-1 rows as version 2: optim.* becomes optimizer.*, and perturbation fields
    that their kind does not read are blanked (version 2 does not store them)."""
    old = trials["schema_version"] == 1
    if not old.any():
        return trials
    for column in [c for c in trials.columns if c.startswith("optim.")]:
        new = "optimizer." + column.split(".", 1)[1]
        trials[new] = trials[new].fillna(trials[column]) if new in trials else trials[column]
        trials = trials.drop(columns=column)
    kinds = trials.get("perturbation.kind", pd.Series("none", index=trials.index)).fillna("none")
    for column in [c for c in trials.columns if c.startswith("perturbation.")]:
        field = column.split(".", 1)[1]
        if field in ("kind", "applied"):
            continue
        used = kinds.map(lambda kind: field in PERTURBATION_FIELDS.get(kind, ()))
        trials[column] = trials[column].where(~old | used)
    return trials


def _drop_diverged(trials: pd.DataFrame):
    """Leave out trials whose training diverged: their NaN signals are not "0 circles"."""
    if "diverged" not in trials:
        return trials, []
    bad = trials["diverged"].fillna(False).astype(bool)
    skips = [Skip(f"{job} (trial {trial})", f"{DIVERGED} at step {step}: loss or parameters not "
                  "finite; left out of every count")
             for job, trial, step in zip(trials.job[bad], trials.trial[bad], trials.diverged_step[bad])]
    return trials[~bad], skips


def _joined(series: pd.Series) -> pd.Series:
    """A list column as comma-joined strings ("25,34"), hashable for grouping."""
    array = pa.array(series.array).cast(pa.list_(pa.string()))
    return pd.Series(pc.binary_join(array, ",").to_pandas(), index=series.index).fillna("")


def _list_as_arrow(arrow_type):
    is_list = pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)
    return pd.ArrowDtype(arrow_type) if is_list else None


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__

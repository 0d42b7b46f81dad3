"""Synthetic job directories that follow docs/schema.md exactly, with planted answers.

For tests and benchmarks: nothing here trains. Signals follow a known diagonal linear
ODE, survivors are planted, and every file is written with the schema's types.

    write_job("runs/a", trials_table(config(p=11), circles=[[1, 2]] * 4, init_signal=S0))
    fake_job("runs/b", config(p=59, d=128, trials=10, sweep="fig5_top"), n_circles=4)
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import fourier
from analysis.jobs import PERTURBATION_FIELDS, SCHEMA_VERSION

I32, I64, F32, F64, STR, BOOL = pa.int32(), pa.int64(), pa.float32(), pa.float64(), pa.string(), pa.bool_()
LIST_I32, LIST_F32 = pa.list_(I32), pa.list_(F32)

CONFIG_TYPES = {
    "p": I64, "d": I64, "steps": I64, "trials": I64, "trial_offset": I64, "seed": I64, "init_seed": I64,
    "vary": STR, "train_frac": F64, "freeze_embedding": BOOL, "dtype": STR, "device": STR, "sweep": STR,
    "task.kind": STR, "loss.kind": STR, "loss.scale": F64,
    "model.kind": STR, "model.width": I64, "model.mlp_init": STR, "optimizer.kind": STR,
    "optimizer.lr": F64, "optimizer.weight_decay": F64, "optimizer.beta1": F64, "optimizer.beta2": F64, "optimizer.eps": F64,
    "log.dense_steps": I64, "log.every": I64, "log.acc_threshold": F64, "log.embedding": BOOL,
    "log.rqi": BOOL, "circles.rule": STR, "circles.threshold": F64,
    "perturbation.kind": STR, "perturbation.ks": LIST_I32, "perturbation.alpha": F64,
    "perturbation.random": I64, "perturbation.top": I64, "perturbation.source": STR,
    "perturbation.scale": F64, "perturbation.eps": F64, "perturbation.r": F64,
    "stop.kind": STR, "stop.after": I64, "stop.window": I64, "stop.decay_times": F64,
    "stop.alive": F64, "stop.dead": F64,
}
DEFAULTS = {
    "p": 59, "d": 128, "steps": 30000, "trials": 4, "trial_offset": 0, "seed": 0, "init_seed": 0,
    "vary": "embedding,mlp,split", "train_frac": 0.8, "freeze_embedding": False, "dtype": "float32",
    "device": "cpu", "sweep": "", "task.kind": "mod_add", "loss.kind": "cross_entropy", "loss.scale": 1.0,
    "model.kind": "mlp", "model.width": 100, "model.mlp_init": "default",
    "optimizer.kind": "adamw",
    "optimizer.lr": 0.01, "optimizer.weight_decay": 0.5, "optimizer.beta1": 0.9, "optimizer.beta2": 0.999, "optimizer.eps": 1e-8,
    "log.dense_steps": 1000, "log.every": 100, "log.acc_threshold": 0.9, "log.embedding": False,
    "log.rqi": False, "circles.rule": "two_mean", "circles.threshold": 10.0,
    "perturbation.kind": "none", "perturbation.ks": [], "perturbation.alpha": 1.0,
    "perturbation.random": 0, "perturbation.top": 0, "perturbation.source": "",
    "perturbation.scale": 80.0, "perturbation.eps": 1e-6, "perturbation.r": 1.0,
    "stop.kind": "never", "stop.after": 2000, "stop.window": 2000, "stop.decay_times": 10.0,
    "stop.alive": 1.3, "stop.dead": 0.7,
}
DECAY = 0.01  # per-step rate of the planted signal ODE: x_{t+1} - x_t = DECAY (x* - x_t)
AMPLITUDE = 40.0  # planted final ||F_k|| scale of a surviving frequency (times sqrt(p d) / 10)


def config(**overrides) -> dict:
    """The default config with overrides; dotted keys go through a dict: config(**{"optimizer.lr": 0.1})."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise KeyError(f"not schema config columns: {sorted(unknown)}")
    return {**DEFAULTS, **overrides}


def trials_table(cfg: dict, circles, init_signal, final_signal=None, applied=None, losses=None) -> pa.Table:
    """trials.parquet contents: one row per trial with every config column and the given results."""
    n = len(circles)
    init_signal = np.asarray(init_signal, dtype=np.float32).reshape(n, -1)
    final_signal = np.asarray(init_signal if final_signal is None else final_signal, np.float32).reshape(n, -1)
    losses = losses or {}
    columns = {"trial": pa.array(cfg["trial_offset"] + np.arange(n), I32)}
    for name, kind in CONFIG_TYPES.items():
        group, _, field = name.partition(".")
        unused = group == "perturbation" and field != "kind" and \
            field not in PERTURBATION_FIELDS[cfg["perturbation.kind"]]
        columns[name] = pa.array([None if unused else cfg[name]] * n, kind)  # another kind's: null
    columns |= {
        "n_circles": pa.array([len(c) for c in circles], I32),
        "circles": pa.array([sorted(int(k) for k in c) for c in circles], LIST_I32),
        "init_signal": pa.array(list(init_signal), LIST_F32),
        "final_signal": pa.array(list(final_signal), LIST_F32),
    }
    for name in ("final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc"):
        columns[name] = pa.array(np.broadcast_to(losses.get(name, 0.0), n), F32)
    columns["schema_version"] = pa.array([SCHEMA_VERSION] * n, I32)
    applied = [[]] * n if applied is None else [list(a) for a in applied]
    columns["perturbation.applied"] = pa.array(applied, LIST_I32)
    return pa.table(columns)


def write_job(directory, trials: pa.Table, signals=None, metrics=None, params=None) -> Path:
    """Write a job directory the way the trainer does: other files first, trials.parquet last."""
    directory = Path(directory)
    (directory / ".hydra").mkdir(parents=True, exist_ok=True)
    for name, table in (("signals", signals), ("metrics", metrics), ("params", params)):
        if table is not None:
            pq.write_table(table, directory / f"{name}.parquet")
    tmp = directory / ".trials.parquet.tmp"
    pq.write_table(trials, tmp)
    os.replace(tmp, directory / "trials.parquet")
    return directory


def fake_job(directory, cfg: dict, n_circles=3, seed: int = 0, snapshot_every: int | None = None,
             loss_scale: float = 1.0, with_files: bool = True) -> pa.Table:
    """A plausible complete job: planted survivors, signals, metrics and params.

    Trial i keeps n_circles (an int, or one int per trial) frequencies: the ones with
    the largest initial signal times log-normal noise, so survival follows the initial
    signal. `perturbation.*` in cfg shapes the initial embedding (scale / keep /
    construct); loss_scale multiplies the test loss curve. Returns the trials table.
    """
    p, d, n = cfg["p"], cfg["d"], cfg["trials"]
    rng = np.random.default_rng([seed, cfg["init_seed"], cfg["trial_offset"]])
    fixed = np.random.default_rng(cfg["init_seed"]).standard_normal((p, d))
    counts = np.broadcast_to(n_circles, n)
    E0, circles, applied = [], [], []
    for i in range(n):
        E = rng.standard_normal((p, d)) if "embedding" in cfg["vary"] else fixed.copy()
        E, used = _perturb(E, cfg, rng)
        s = fourier.signals(E)[1:]
        order = np.argsort(-s * rng.lognormal(0, 0.3, len(s))) + 1
        if cfg["perturbation.kind"] == "construct":  # the planted rule: the strongest always survives
            order = np.concatenate([used[:1], order[order != used[0]]])
        E0.append(E)
        circles.append(np.sort(order[:counts[i]]))
        applied.append(used)
    E0 = np.stack(E0)
    E_final = np.stack([_circles_embedding(p, d, c, rng) for c in circles])
    table = trials_table(cfg, circles, fourier.signals(E0), fourier.signals(E_final), applied,
                         losses={"final_test_loss": 0.01, "final_train_loss": 0.001,
                                 "final_test_acc": 1.0, "final_train_acc": 1.0})
    if not with_files:
        write_job(directory, table)
        return table
    steps = logged_steps(cfg)
    snaps = sorted({0, cfg["steps"], *(range(0, cfg["steps"], snapshot_every) if snapshot_every else [])})
    write_job(directory, table, _signals(E0, E_final, steps, cfg["trial_offset"]),
              _metrics(n, p, steps, cfg["trial_offset"], loss_scale), _params(E0, E_final, snaps, cfg, rng))
    return table


def logged_steps(cfg: dict) -> np.ndarray:
    """The schema's logging cadence: every step below dense_steps, then every `every`, and the last."""
    dense = np.arange(min(cfg["log.dense_steps"], cfg["steps"] + 1))
    sparse = np.arange(0, cfg["steps"] + 1, cfg["log.every"])
    return np.union1d(np.union1d(dense, sparse), [cfg["steps"]])


def _perturb(E, cfg, rng):
    """The initial embedding after perturbation.kind, and the frequencies it touched."""
    p, kind = E.shape[0], cfg["perturbation.kind"]
    if kind == "scale":
        F = np.fft.rfft(E, axis=0)
        F[list(cfg["perturbation.ks"])] *= cfg["perturbation.alpha"]
        return np.fft.irfft(F, n=p, axis=0), list(cfg["perturbation.ks"])
    if kind == "keep":
        n = cfg["perturbation.random"] or 1
        ks = list(cfg["perturbation.ks"]) or list(rng.choice(np.arange(1, p // 2 + 1), n, replace=False))
        return fourier.keep_frequencies(E, ks), ks
    if kind == "construct":
        ks = rng.choice(np.arange(1, p // 2 + 1), 2, replace=False)
        direction = rng.standard_normal((p // 2 + 1, E.shape[1]))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        scale = np.full(p // 2 + 1, cfg["perturbation.eps"])
        scale[0] = 0
        scale[ks] = [cfg["perturbation.scale"], cfg["perturbation.scale"] * cfg["perturbation.r"]]
        return np.fft.irfft(direction * scale[:, None], n=p, axis=0), list(ks)
    return E, []


def circle(p: int, k: int, u, v) -> np.ndarray:
    """A perfect circle of frequency k: token t at cos(2 pi k t / p) u + sin(2 pi k t / p) v."""
    angle = 2 * np.pi * k * np.arange(p)[:, None] / p
    return np.cos(angle) * np.asarray(u, float) + np.sin(angle) * np.asarray(v, float)


def _circles_embedding(p, d, ks, rng):
    """An embedding made of one random-plane circle per k (plus faint noise)."""
    E = 1e-3 * rng.standard_normal((p, d))
    for k in ks:
        u, v = np.linalg.qr(rng.standard_normal((d, 2)))[0].T
        E += AMPLITUDE * np.sqrt(d / p) * circle(p, k, u, v)
    return E


def _signals(E0, E_final, steps, offset) -> pa.Table:
    """Long signals table following x_{t+1} = x_t + DECAY (x* - x_t) from x_0 to x* = final."""
    s0, s1 = fourier.signals(E0), fourier.signals(E_final)  # (n, K)
    w = (1 - DECAY) ** steps.astype(float)                   # (T,)
    signal = s1[:, None, :] + (s0 - s1)[:, None, :] * w[None, :, None]
    grad = s0[:, None, :] * np.exp(-np.log1p(steps / 100.0) ** 2)[None, :, None]
    n, T, K = signal.shape
    return pa.table({
        "trial": pa.array(np.repeat(offset + np.arange(n), T * K), I32),
        "step": pa.array(np.tile(np.repeat(steps, K), n), I32),
        "k": pa.array(np.tile(np.arange(K), n * T), I32),
        "signal": pa.array(signal.ravel(), F32),
        "grad_signal": pa.array(grad.ravel(), F32),
    })


def _metrics(n, p, steps, offset, loss_scale=1.0) -> pa.Table:
    """Loss falling from log p, test lagging train (a cartoon of grokking)."""
    t = np.tile(steps.astype(float), n)
    train = np.log(p) * np.exp(-t / 200.0)
    test = loss_scale * np.log(p) * np.exp(-t / 2000.0)
    return pa.table({
        "trial": pa.array(np.repeat(offset + np.arange(n), len(steps)), I32),
        "step": pa.array(np.tile(steps, n), I32),
        "train_loss": pa.array(train, F32), "test_loss": pa.array(test, F32),
        "train_acc": pa.array(1 - train / np.log(p), F32), "test_acc": pa.array(1 - test / np.log(p), F32),
    })


def _params(E0, E_final, snaps, cfg, rng) -> pa.Table:
    """Snapshots: E moves from E0 to E_final like the signals; the MLP is random (nn.Linear layout)."""
    p, d, width = cfg["p"], cfg["d"], cfg["model.width"]
    shapes = {"W1": (width, 2 * d), "b1": (width,), "W2": (width, width), "b2": (width,),
              "W3": (p, width), "b3": (p,)}
    rows = {"trial": [], "step": [], "name": [], "shape": [], "values": []}
    for i in range(len(E0)):
        mlp = {name: rng.uniform(-1, 1, shape) / np.sqrt(shape[-1]) for name, shape in shapes.items()}
        for step in snaps:
            w = (1 - DECAY) ** step
            for name, array in {"E": w * E0[i] + (1 - w) * E_final[i], **mlp}.items():
                rows["trial"].append(cfg["trial_offset"] + i)
                rows["step"].append(step)
                rows["name"].append(name)
                rows["shape"].append(list(array.shape))
                rows["values"].append(np.asarray(array, np.float32).ravel())
    return pa.table({
        "trial": pa.array(rows["trial"], I32), "step": pa.array(rows["step"], I32),
        "name": pa.array(rows["name"], STR), "shape": pa.array(rows["shape"], LIST_I32),
        "values": pa.array(rows["values"], LIST_F32),
    })


# Seed 002's per-trial columns (task, loss, split optimizer, threshold steps), their Arrow types.
GROKKING_TYPES = {
    "task.kind": STR, "task.train_count": I64, "loss.kind": STR, "optimizer.embedding.lr": F64,
    "optimizer.decoder.lr": F64, "optimizer.decoder.weight_decay": F64, "log.acc_threshold": F64,
    "train_acc_step": I32, "test_acc_step": I32, "train_pairs": LIST_I32,
}


def grokking_job(directory, sweep: str, columns: dict, embeddings=None, rqi=None, steps: int = 1000) -> pa.Table:
    """A seed-002 job (task add, p = 10, d = 1) with one trial per entry of the `columns` lists.

    columns: any GROKKING_TYPES column (train_pairs default: the first 45 of the 55 pairs),
    and final_train_acc / final_test_acc. embeddings {trial: (S, 10, 1)} writes embedding.parquet
    at S steps spread over 0..steps; rqi {trial: (S,)} writes metrics.parquet the same way.
    """
    n = len(next(iter(columns.values())))
    cfg = config(p=10, d=1, trials=n, steps=steps, sweep=sweep, train_frac=45 / 55, **{"optimizer.kind": "split"})
    losses = {k: np.asarray(columns[k], np.float32) for k in ("final_train_acc", "final_test_acc") if k in columns}
    table = trials_table(cfg, [[]] * n, np.zeros((n, 6)), losses=losses)
    defaults = {"task.kind": "add", "task.train_count": 45, "loss.kind": "mse", "optimizer.embedding.lr": 1e-3,
                "optimizer.decoder.lr": 1e-4, "optimizer.decoder.weight_decay": 0.0, "log.acc_threshold": 0.9,
                "train_acc_step": None, "test_acc_step": None, "train_pairs": list(range(45))}
    for name, kind in GROKKING_TYPES.items():
        column = pa.array(list(columns.get(name, [defaults[name]] * n)), kind)
        if name in table.column_names:  # a config column every job has (CONFIG_TYPES)
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.append_column(name, column)
    metrics = _series(rqi, steps, "rqi", F32) if rqi else None
    write_job(directory, table, metrics=metrics)
    if embeddings:
        pq.write_table(_series(embeddings, steps, "E", LIST_F32), Path(directory) / "embedding.parquet")
    return table


def _series(per_trial: dict, steps: int, name: str, kind) -> pa.Table:
    """trial, step, name: per_trial[t] (S, ...) at S steps spread evenly over 0..steps."""
    rows = {"trial": [], "step": [], name: []}
    for trial, values in per_trial.items():
        values = np.asarray(values, np.float32)
        at = np.linspace(0, steps, len(values)).astype(int)
        rows["trial"] += [trial] * len(values)
        rows["step"] += list(at)
        rows[name] += [v.ravel() if v.ndim else float(v) for v in values]
    return pa.table({"trial": pa.array(rows["trial"], I32), "step": pa.array(rows["step"], I32),
                     name: pa.array(rows[name], kind)})

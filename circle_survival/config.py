"""Typed configuration of one training job, registered in Hydra's ConfigStore.

Values live in ``conf/train.yaml``; this module holds the schema and its checks::

    cfg = TrainConfig(p=23, d=32, trials=10)
    validate(cfg)                 # raises ConfigError naming the bad value
    flat = flatten(cfg)           # {"p": 23, ..., "optim.lr": 0.01}: parquet columns

Also registered here: each named sweep ``sweeps/<name>.yaml`` as option ``<name>`` of the
config group ``sweep`` (so ``+sweep=<name>`` works from any directory), and the
resolvers the YAML files use (``cs_or``, ``cs_scale``, ``cs_with``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from .keys import RUNTIME_KEYS

PARTS = ("embedding", "mlp", "split")  # what `vary` may name
MLP_INITS = ("default", "normal")
DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")
CIRCLE_RULES = ("two_mean", "threshold")
PERTURBATIONS = ("none", "scale", "keep", "construct")
# What `scale` may name; named sweeps pick their sizes by it, `${cs_scale:...}` taking one
# value per scale in this order: the paper's; smoke (tiny, for tests); laptop (the paper's
# settings with fewer trials and grid points: every claim in about 2 hours on 2 cores).
SCALES = ("paper", "smoke", "laptop")
SCHEMA_VERSION = 1
SWEEPS_DIR = Path(__file__).resolve().parent.parent / "sweeps"


class ConfigError(CompactHydraException, ValueError):
    """A config value out of range; Hydra prints its message as one line."""


@dataclass
class ModelConfig:
    width: int = 100  # hidden width of both MLP layers
    mlp_init: str = "default"  # default: nn.Linear's U(+-1/sqrt(fan_in)); normal: N(0, 1)


@dataclass
class OptimConfig:
    lr: float = 0.01
    weight_decay: float = 0.5  # AdamW's decoupled decay, on every parameter (E included)
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass
class LogConfig:
    dense_steps: int = 1000  # log every step below this...
    every: int = 100  # ...then every `every` steps, and always the last step


@dataclass
class CirclesConfig:
    rule: str = "two_mean"  # two_mean: ||F_k|| > 2 x mean over all p k; threshold: > threshold
    threshold: float = 10.0


@dataclass
class PerturbationConfig:
    """An intervention on the initial embedding in its Fourier basis (circle_survival.perturbation)."""
    kind: str = "none"  # none | scale | keep | construct
    ks: list[int] = field(default_factory=list)  # scale: frequencies scaled; keep: frequencies kept
    alpha: float = 1.0  # scale: factor on F_k and F_{p-k}
    random: int = 0  # keep: this many frequencies drawn per trial
    top: int = 0  # keep: this many strongest survivors of the job in `source`
    source: str = ""  # keep with top: directory of a complete earlier job
    scale: float = 80.0  # construct: signal of the first frequency
    eps: float = 1e-6  # construct: signal of every other frequency
    r: float = 1.0  # construct: the second frequency's signal is r * scale


# Which perturbation fields each kind reads; the others must keep their defaults, so a
# parameter given with the wrong kind (or none) is an error, not silently ignored.
# `source` is exempt: a sweep may set it for all its jobs.
PERTURBATION_FIELDS = {"none": (), "scale": ("ks", "alpha"), "keep": ("ks", "random", "top"),
                       "construct": ("scale", "eps", "r")}


@dataclass
class StopConfig:
    """When a trial stops before `steps`: never, or once its circles have settled
    (fourier.SETTLED; conf/stop/). A stopped trial's results are those at its stopping step."""
    kind: str = "never"  # never | settled
    after: int = 2000  # settled: the earliest step a trial may stop at
    window: int = 2000  # settled: steps its circle set must hold, clear of the threshold
    # settled: `after` and `window` are at least this many AdamW decay times 1 / (lr x
    # weight_decay) (200 steps at the defaults); 0 = steps only. No decay: never settles.
    decay_times: float = 10.0
    alive: float = 1.3  # settled: every survivor's signal >= alive x the rule's threshold
    dead: float = 0.7  # settled: every dead frequency's signal <= dead x the threshold


STOP_KINDS = ("never", "settled")
# Named sweeps whose figures use only final circles (and, Fig 7, the first steps' logs):
# stop=settled is safe for them (benchmarks/early_stop.py). The others use whole
# trajectories or final parameters, and refuse it.
SETTLED_SWEEPS = ("fig5_top", "fig5_bottom", "fig6_left", "fig6_middle", "fig6_right", "fig7",
                  "fig10", "fig14")


@dataclass
class SnapshotsConfig:
    """Extra steps at which params.parquet stores every parameter (steps 0 and last always)."""
    every: int = 0  # every `every` steps; 0 = off
    steps: list[int] = field(default_factory=list)  # and these steps (those past `steps` are skipped)


@dataclass
class TrainConfig:
    p: int = 59
    d: int = 128
    steps: int = 30_000
    trials: int = 1  # models trained at once in this job
    trial_offset: int = 0  # this job trains trials trial_offset .. trial_offset + trials - 1
    seed: int = 0  # randomness of varied parts: trial i depends on (seed, i) only
    init_seed: int = 0  # randomness of parts not varied: shared by every trial
    vary: list[str] = field(default_factory=lambda: list(PARTS))
    train_frac: float = 0.8
    freeze_embedding: bool = False  # train only the MLP (Fig 4)
    dtype: str = "float32"
    device: str = "auto"
    sweep: str = ""  # name of the named sweep this job belongs to, recorded with results
    scale: str = "paper"  # paper | smoke | laptop: the sizes a named sweep picks (`${cs_scale:...}`)
    force: bool = False  # redo a job whose outputs are already complete
    progress: str = "auto"  # auto: a bar on a terminal, log lines otherwise; bar; lines; off
    block_trials: int = 0  # trials per vectorised block; 0 = auto (2 on CPU: cache-sized; all on GPU)
    threads: int = 0  # CPU threads for torch; 0 = torch's default (every core). 1 on a shared CPU
    checkpoint_every: float = 300.0  # seconds between checkpoints of the training state; 0 = never
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    log: LogConfig = field(default_factory=LogConfig)
    circles: CirclesConfig = field(default_factory=CirclesConfig)
    perturbation: PerturbationConfig = field(default_factory=PerturbationConfig)
    snapshots: SnapshotsConfig = field(default_factory=SnapshotsConfig)
    stop: StopConfig = field(default_factory=StopConfig)


ConfigStore.instance().store(name="train_schema", node=TrainConfig)


def to_dataclass(cfg: DictConfig | TrainConfig) -> TrainConfig:
    """A Hydra DictConfig (or a TrainConfig) as a plain TrainConfig object."""
    if isinstance(cfg, TrainConfig):
        return cfg
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig), cfg))


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"invalid config: {key}={value!r}; allowed: {allowed}")


def validate(cfg: TrainConfig) -> None:
    """Raise ConfigError (one line: key, value, allowed range) for the first bad value."""
    for key, value in leaves(cfg).items():  # inf and nan pass every comparison below
        _check(not isinstance(value, float) or math.isfinite(value), key, value, "a finite number")
    _check(cfg.p >= 3, "p", cfg.p, "an integer >= 3")
    _check(cfg.d >= 1, "d", cfg.d, "an integer >= 1")
    _check(cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1")
    _check(cfg.trials >= 1, "trials", cfg.trials, "an integer >= 1")
    _check(cfg.trial_offset >= 0, "trial_offset", cfg.trial_offset, "an integer >= 0")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _check(cfg.init_seed >= 0, "init_seed", cfg.init_seed, "an integer >= 0")
    unknown = [v for v in cfg.vary if v not in PARTS]
    _check(not unknown and len(set(cfg.vary)) == len(cfg.vary), "vary", list(cfg.vary),
           f"a subset of {list(PARTS)}, each part once")
    _check(0 < cfg.train_frac < 1, "train_frac", cfg.train_frac, "a number in (0, 1)")
    n_train = int(cfg.p * cfg.p * cfg.train_frac)
    _check(0 < n_train < cfg.p * cfg.p, "train_frac", cfg.train_frac,
           f"a fraction leaving at least one train and one test pair of the {cfg.p**2}")
    _check(cfg.dtype in DTYPES, "dtype", cfg.dtype, f"one of {list(DTYPES)}")
    _check(cfg.device in DEVICES, "device", cfg.device, f"one of {list(DEVICES)}")
    _check(cfg.progress in ("auto", "bar", "lines", "off"), "progress", cfg.progress,
           "one of ['auto', 'bar', 'lines', 'off']")
    _check(cfg.block_trials >= 0, "block_trials", cfg.block_trials, "an integer >= 0 (0 = auto)")
    _check(cfg.threads >= 0, "threads", cfg.threads, "an integer >= 0 (0 = every core)")
    _check(cfg.checkpoint_every >= 0, "checkpoint_every", cfg.checkpoint_every,
           "seconds >= 0 (0 = never)")
    _check(cfg.model.width >= 1, "model.width", cfg.model.width, "an integer >= 1")
    _check(cfg.model.mlp_init in MLP_INITS, "model.mlp_init", cfg.model.mlp_init,
           f"one of {list(MLP_INITS)}")
    o = cfg.optim
    _check(o.lr > 0, "optim.lr", o.lr, "a number > 0")
    _check(o.weight_decay >= 0, "optim.weight_decay", o.weight_decay, "a number >= 0")
    _check(0 <= o.beta1 < 1, "optim.beta1", o.beta1, "a number in [0, 1)")
    _check(0 <= o.beta2 < 1, "optim.beta2", o.beta2, "a number in [0, 1)")
    _check(o.eps > 0, "optim.eps", o.eps, "a number > 0")
    _check(cfg.log.dense_steps >= 0, "log.dense_steps", cfg.log.dense_steps, "an integer >= 0")
    _check(cfg.log.every >= 1, "log.every", cfg.log.every, "an integer >= 1")
    _check(cfg.circles.rule in CIRCLE_RULES, "circles.rule", cfg.circles.rule,
           f"one of {list(CIRCLE_RULES)}")
    _check(cfg.circles.threshold > 0, "circles.threshold", cfg.circles.threshold,
           "a number > 0 (at or below 0 every frequency would survive)")
    _check(cfg.scale in SCALES, "scale", cfg.scale, f"one of {list(SCALES)}")
    _check(cfg.snapshots.every >= 0, "snapshots.every", cfg.snapshots.every,
           "an integer >= 0 (0 = off)")
    _check(all(s >= 0 for s in cfg.snapshots.steps), "snapshots.steps", list(cfg.snapshots.steps),
           "a list of integers >= 0")
    _validate_perturbation(cfg.perturbation, cfg.p)
    _validate_stop(cfg.stop)
    _check(cfg.stop.kind == "never" or not cfg.sweep or cfg.sweep in SETTLED_SWEEPS, "stop.kind",
           cfg.stop.kind, f"'never' in sweep {cfg.sweep}, whose figure uses whole trajectories or "
           f"final parameters (stop=settled is for {', '.join(SETTLED_SWEEPS)})")


def _validate_stop(sc: StopConfig) -> None:
    _check(sc.kind in STOP_KINDS, "stop.kind", sc.kind, f"one of {list(STOP_KINDS)}")
    if sc.kind == "never":  # a rule's key given without the rule is a mistake, not ignored
        for key, value in leaves(sc).items():
            _check(key == "kind" or value == getattr(StopConfig(), key), f"stop.{key}", value,
                   "only with stop=settled (stop is never)")
    _check(sc.after >= 0, "stop.after", sc.after, "an integer >= 0")
    _check(sc.window >= 0, "stop.window", sc.window, "an integer >= 0")
    _check(sc.decay_times >= 0, "stop.decay_times", sc.decay_times, "a number >= 0")
    _check(sc.alive >= 1, "stop.alive", sc.alive, "a number >= 1 (a multiple of the threshold)")
    _check(0 <= sc.dead <= 1, "stop.dead", sc.dead, "a number in [0, 1] (a multiple of the threshold)")


def _validate_perturbation(pc: PerturbationConfig, p: int) -> None:
    half = p // 2  # frequencies 1..p//2 are the distinct circles
    _check(pc.kind in PERTURBATIONS, "perturbation.kind", pc.kind, f"one of {list(PERTURBATIONS)}")
    default = PerturbationConfig()
    for name in sorted({n for used in PERTURBATION_FIELDS.values() for n in used}):
        value = getattr(pc, name)
        _check(name in PERTURBATION_FIELDS[pc.kind] or value == getattr(default, name),
               f"perturbation.{name}", value,
               f"only with perturbation.kind in {[k for k, f in PERTURBATION_FIELDS.items() if name in f]}"
               f" (kind is {pc.kind!r})")
    ks = list(pc.ks)
    _check(all(1 <= k <= half for k in ks) and len(set(ks)) == len(ks), "perturbation.ks", ks,
           f"distinct integers in 1..{half} (p={p})")
    _check(pc.alpha > 0, "perturbation.alpha", pc.alpha, "a number > 0")
    _check(0 <= pc.random <= half, "perturbation.random", pc.random, f"an integer in 0..{half} (p={p})")
    _check(0 <= pc.top <= half, "perturbation.top", pc.top, f"an integer in 0..{half} (p={p})")
    if pc.kind == "scale":
        _check(bool(ks), "perturbation.ks", ks, f"at least one frequency in 1..{half} to scale")
    if pc.kind == "keep":
        chosen = [bool(ks), pc.random > 0, pc.top > 0]
        _check(sum(chosen) == 1, "perturbation.kind", pc.kind,
               "keep with exactly one of perturbation.ks (a list), perturbation.random > 0, "
               f"perturbation.top > 0 (given ks={ks}, random={pc.random}, top={pc.top})")
        if pc.top > 0:
            _check(bool(pc.source), "perturbation.source", pc.source,
                   "the directory of a complete job (needed by perturbation.top)")
    if pc.kind == "construct":
        _check(half >= 2, "p", p, "an integer >= 4 (construct needs two frequencies)")
        _check(pc.scale > 0, "perturbation.scale", pc.scale, "a number > 0")
        _check(pc.eps >= 0, "perturbation.eps", pc.eps, "a number >= 0")
        _check(0 <= pc.r <= 1, "perturbation.r", pc.r, "a number in [0, 1]")


def leaves(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf value of a config, keyed by its dotted override path ("optim.lr")."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out.update(leaves(value, prefix + f.name + "."))
        else:
            out[prefix + f.name] = value
    return out


def flatten(cfg: TrainConfig) -> dict[str, Any]:
    """Result-relevant config values keyed exactly as Hydra overrides ("optim.lr").

    `vary` becomes one string ("embedding,mlp,split") so it can be a parquet column.
    """
    flat = {k: v for k, v in leaves(cfg).items() if k not in RUNTIME_KEYS}
    flat["vary"] = ",".join(sorted(flat["vary"]))
    return flat


# `${cs_or:value,default}` in conf/: the value, or the default where it is empty.
OmegaConf.register_new_resolver("cs_or", lambda value, default: value or default, replace=True)


def by_scale(*values: Any, _root_: DictConfig) -> Any:
    """`${cs_scale:PAPER,SMOKE,LAPTOP}` in a sweep file: the value for the config's `scale`,
    one value per name in SCALES, in its order (every value required: a new scale is an
    edit of every file, never a silent fallback).

    An unknown scale picks the smoke value here; `validate` then rejects it in one line.
    """
    if len(values) != len(SCALES):
        raise ConfigError(f"${{cs_scale:...}} takes one value per scale {', '.join(SCALES)}; "
                          f"got {len(values)}: {list(values)}")
    scale = _root_.get("scale", "paper")
    return values[SCALES.index(scale if scale in SCALES else "smoke")]


@contextmanager
def hydra_resolving(cfg: DictConfig):
    """Resolve `cfg` (a composed config, hydra node included) inside this block: its
    `${hydra:...}` values (a sweep's `${hydra:runtime.choices.stop}`, fig12's source)
    read Hydra's global config, which is set to cfg's meanwhile."""
    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    hydra_config.set_config(cfg)
    try:
        yield cfg
    finally:
        hydra_config.cfg = previous


def with_override(dirname: str, item: str) -> str:
    """`${cs_with:${hydra:job.override_dirname},'key=value'}`: the directory name of the
    sibling job whose override of `key` is `value` (all other overrides the same).

    Hydra sorts the items of override_dirname; `key=` sorts the same whatever its value,
    so replacing the item in place keeps the order (values may contain commas: no split).
    """
    key = item.split("=", 1)[0]
    pattern = rf"(^|,){re.escape(key)}=[^,]*"
    if re.search(pattern, dirname):
        return re.sub(pattern, lambda m: m.group(1) + item, dirname)
    return ",".join(sorted(filter(None, [dirname, item])))


OmegaConf.register_new_resolver("cs_scale", by_scale, replace=True)
OmegaConf.register_new_resolver("cs_with", with_override, replace=True)


def register_sweeps(folder: Path = SWEEPS_DIR) -> list[str]:
    """Store each `folder/<name>.yaml` as option <name> of config group `sweep`, package
    _global_ (it sets top-level keys and hydra.sweeper.params). Registering them in the
    ConfigStore, rather than adding a search path, makes `+sweep=<name>` work from any
    working directory while the files stay at the repository root."""
    names = []
    for path in sorted(folder.glob("*.yaml")):
        ConfigStore.instance().store(group="sweep", name=path.stem, node=OmegaConf.load(path),
                                     package="_global_")
        names.append(path.stem)
    return names


register_sweeps()

"""Typed configuration of one training job, registered in Hydra's ConfigStore.

Values live in ``conf/train.yaml``; this module holds the schema and its checks::

    cfg = TrainConfig(p=23, d=32, trials=10)
    validate(cfg)                 # raises ConfigError naming the bad value
    flat = flatten(cfg)           # {"p": 23, ..., "optim.lr": 0.01}: parquet columns
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

PARTS = ("embedding", "mlp", "split")  # what `vary` may name
MLP_INITS = ("default", "normal")
DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")
CIRCLE_RULES = ("two_mean", "threshold")
SCHEMA_VERSION = 1


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
    force: bool = False  # redo a job whose outputs are already complete
    progress: str = "auto"  # auto: a bar on a terminal, log lines otherwise; bar; lines; off
    block_trials: int = 0  # trials per vectorised block; 0 = auto (2 on CPU: cache-sized; all on GPU)
    threads: int = 0  # CPU threads for torch; 0 = torch's default (every core). 1 on a shared CPU
    checkpoint_every: float = 300.0  # seconds between checkpoints of the training state; 0 = never
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    log: LogConfig = field(default_factory=LogConfig)
    circles: CirclesConfig = field(default_factory=CirclesConfig)


# Keys that do not change results: left out of output directory names and result columns.
RUNTIME_KEYS = ("device", "force", "progress", "block_trials", "threads", "checkpoint_every")

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
    _check(cfg.p >= 3, "p", cfg.p, "an integer >= 3")
    _check(cfg.d >= 1, "d", cfg.d, "an integer >= 1")
    _check(cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1")
    _check(cfg.trials >= 1, "trials", cfg.trials, "an integer >= 1")
    _check(cfg.trial_offset >= 0, "trial_offset", cfg.trial_offset, "an integer >= 0")
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _check(cfg.init_seed >= 0, "init_seed", cfg.init_seed, "an integer >= 0")
    unknown = [v for v in cfg.vary if v not in PARTS]
    _check(not unknown, "vary", list(cfg.vary), f"a subset of {list(PARTS)}")
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

"""Typed configuration of one training job: the schema of conf/ and its checks.

Values live in ``conf/``; this module holds the schema and its checks::

    cfg = TrainConfig(p=23, d=32, trials=10, model=SumMLPConfig(activation="tanh"))
    validate(cfg)                 # raises ConfigError naming the bad value
    flat = flatten(cfg)           # {"p": 23, ..., "optimizer.lr": 0.01}: parquet columns

The config groups ``task``, ``loss``, ``model``, ``optimizer`` and ``perturbation`` have
one dataclass per option (`GROUPS`), each with a ``kind`` field naming it: a key of another
option is an unknown key. ``grid`` (`GridConfig`) lists values of optimizer keys that one
job trains every combination of (circle_survival.grid). Hydra's side (the ConfigStore,
resolvers, named sweeps) is in hydra_setup.py.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.errors import CompactHydraException
from omegaconf import MISSING, DictConfig, OmegaConf

from .keys import RUNTIME_KEYS

PARTS = ("embedding", "mlp", "split")  # what `vary` may name ("mlp": every parameter but E)
MLP_INITS = ("default", "normal")
EMBEDDING_INITS = ("normal", "uniform")
ACTIVATIONS = ("silu", "relu", "tanh")
DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")
BACKWARDS = ("auto", "generic")
CIRCLE_RULES = ("two_mean", "threshold")
# What `scale` may name; named sweeps pick their sizes by it, `${cs_scale:...}` taking one
# value per scale in this order: the paper's; smoke (tiny, for tests); laptop (the paper's
# settings with fewer trials and grid points: every claim in about 2 hours on 2 cores).
SCALES = ("paper", "smoke", "laptop")
# 2: config groups model and optimizer (columns model.kind, optimizer.*; 1 had optim.*),
# and perturbation columns of the chosen kind only. 3: config groups task and loss,
# train_acc_step, test_acc_step, train_pairs; metrics' rqi; embedding.parquet (optional).
SCHEMA_VERSION = 3


class ConfigError(CompactHydraException, ValueError):
    """A config value out of range; Hydra prints its message as one line."""


class SweepFailed(CompactHydraException):
    """Some jobs of a sweep failed; the message lists them. Raised by the launchers
    (hydra_plugins/circle_survival_launcher), reported by train.py. Here, not in sweeps.py:
    the launcher plugin, which Hydra imports in every app, must not import hydra_setup,
    whose `sweep` config group would take `sweep=NAME` from simulate's command line."""


@dataclass
class TaskConfig:
    """The data set (circle_survival.data): one subclass per option of group `task`.
    Tokens are 0..p-1 in every task; samples are pairs (a, b) with a label."""
    kind: str = MISSING

    def n_pairs(self, p: int) -> int:
        """How many samples the task has."""
        raise NotImplementedError

    def n_classes(self, p: int) -> int:
        """How many labels: 0..n_classes - 1."""
        raise NotImplementedError


@dataclass
class ModAddTask(TaskConfig):
    """task=mod_add, seed 001's: all p*p ordered pairs, label (a + b) mod p; split by train_frac."""
    kind: str = "mod_add"

    def n_pairs(self, p: int) -> int:
        return p * p

    def n_classes(self, p: int) -> int:
        return p


@dataclass
class AddTask(TaskConfig):
    """task=add, seed 002's: unordered pairs a <= b, label a + b (2p - 1 classes)."""
    kind: str = "add"
    train_count: int = 0  # training samples (45 of 55 at p=10); 0 = int(n_pairs * train_frac)

    def n_pairs(self, p: int) -> int:
        return p * (p + 1) // 2

    def n_classes(self, p: int) -> int:
        return 2 * p - 1


@dataclass
class LossConfig:
    """The loss and accuracy rule (circle_survival.loss): one subclass per option of group `loss`."""
    kind: str = MISSING


@dataclass
class CrossEntropyConfig(LossConfig):
    """loss=cross_entropy: softmax cross-entropy over the classes, divided by `scale`;
    accuracy: the largest logit is the label."""
    kind: str = "cross_entropy"
    scale: float = 1.0  # seed 002's notebook divides by 19 (its number of classes)


@dataclass
class MSEConfig(LossConfig):
    """loss=mse (seed 002's regression): a fixed random target Y_c ~ N(0, 1) of `target_dim`
    entries per class; mean squared error to the label's target; accuracy: the nearest
    target (Euclidean) is the label's."""
    kind: str = "mse"
    target_dim: int = 30


@dataclass
class ModelConfig:
    """A model family (circle_survival.models): one subclass per option of group `model`.

    Every family's embedding E is drawn as `embedding_scale` x N(0, 1) (embedding_init
    normal, seed 001's) or `embedding_scale` x U(-1/2, 1/2) (uniform: seed 002's
    U(-s/2, s/2) with s = embedding_scale).
    """
    kind: str = MISSING
    embedding_init: str = "normal"  # normal | uniform
    embedding_scale: float = 1.0


@dataclass
class MLPConfig(ModelConfig):
    """model=mlp, the paper's: concat(E_a, E_b) -> Linear, SiLU, Linear, SiLU, Linear -> p."""
    kind: str = "mlp"
    width: int = 100  # hidden width of both layers
    mlp_init: str = "default"  # default: nn.Linear's U(+-1/sqrt(fan_in)); normal: N(0, 1)


@dataclass
class SumMLPConfig(ModelConfig):
    """model=sum_mlp: E_a + E_b -> `depth` x (Linear, activation) -> Linear -> p (seeds 002, 003)."""
    kind: str = "sum_mlp"
    width: int = 100
    depth: int = 2  # hidden layers
    activation: str = "silu"  # silu | relu | tanh
    mlp_init: str = "default"


@dataclass
class OptimizerConfig:
    """AdamW's settings shared by every option of group `optimizer`."""
    kind: str = MISSING
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def settings(self, name: str) -> tuple[float, float]:
        """(lr, weight_decay) of the parameter `name` ("E", "W1", ...)."""
        raise NotImplementedError


@dataclass
class AdamWConfig(OptimizerConfig):
    """optimizer=adamw: one lr and weight decay for every parameter (E included)."""
    kind: str = "adamw"
    lr: float = 0.01
    weight_decay: float = 0.5  # decoupled decay

    def settings(self, name: str) -> tuple[float, float]:
        return self.lr, self.weight_decay


@dataclass
class LearningRate:
    lr: float = 1e-3
    weight_decay: float = 0.0


@dataclass
class SplitConfig(OptimizerConfig):
    """optimizer=split: the embedding E and the rest (the decoder) with their own lr and
    weight decay, as seed 002 trains them."""
    kind: str = "split"
    embedding: LearningRate = field(default_factory=LearningRate)
    decoder: LearningRate = field(default_factory=LearningRate)

    def settings(self, name: str) -> tuple[float, float]:
        part = self.embedding if name == "E" else self.decoder
        return part.lr, part.weight_decay


def rates(o: OptimizerConfig) -> dict[str, Any]:
    """Each (lr, weight_decay) pair of an optimizer option by its key prefix: {"": o} for
    adamw, {"embedding.": ..., "decoder.": ...} for split (keys optimizer.<prefix>lr, ...)."""
    if isinstance(o, SplitConfig):
        return {"embedding.": o.embedding, "decoder.": o.decoder}
    return {"": o}


@dataclass
class GridRates:
    """Values of one (lr, weight_decay) pair to train in one job; None: not in the grid."""
    lr: Optional[list[float]] = None
    weight_decay: Optional[list[float]] = None


@dataclass
class GridOptimizer(GridRates):
    """grid.optimizer.<key>, a list for each optimizer key given: lr, weight_decay (adamw),
    embedding.lr, ..., decoder.weight_decay (split)."""
    embedding: GridRates = field(default_factory=GridRates)
    decoder: GridRates = field(default_factory=GridRates)


@dataclass
class GridConfig:
    """Hyperparameters that vary over the trial axis: the job trains `trials` replicates of
    every combination of the lists given (circle_survival.grid), e.g.
    ``grid.optimizer.decoder.lr=[1e-4,1e-3] grid.optimizer.decoder.weight_decay=[0,5]``."""
    optimizer: GridOptimizer = field(default_factory=GridOptimizer)


@dataclass
class PerturbationConfig:
    """An intervention on the initial embedding in its Fourier basis (circle_survival.perturbation):
    one subclass per kind."""
    kind: str = MISSING


@dataclass
class NoPerturbation(PerturbationConfig):
    kind: str = "none"


@dataclass
class ScalePerturbation(PerturbationConfig):
    """Multiply F_k and F_{p-k} of each listed k by alpha."""
    kind: str = "scale"
    ks: list[int] = field(default_factory=list)
    alpha: float = 1.0


@dataclass
class KeepPerturbation(PerturbationConfig):
    """Keep only some frequencies: the listed `ks`, `random` drawn per trial, or the `top`
    strongest survivors of the job in `source`."""
    kind: str = "keep"
    ks: list[int] = field(default_factory=list)
    random: int = 0
    top: int = 0
    source: str = ""


@dataclass
class ConstructPerturbation(PerturbationConfig):
    """An embedding of two circles: signal `scale` and r x scale, every other frequency eps."""
    kind: str = "construct"
    scale: float = 80.0
    eps: float = 1e-6
    r: float = 1.0


# Each config group's options by kind: the one list the schema, the ConfigStore and the
# command line read.
GROUPS: dict[str, dict[str, type]] = {
    "task": {"mod_add": ModAddTask, "add": AddTask},
    "loss": {"cross_entropy": CrossEntropyConfig, "mse": MSEConfig},
    "model": {"mlp": MLPConfig, "sum_mlp": SumMLPConfig},
    "optimizer": {"adamw": AdamWConfig, "split": SplitConfig},
    "perturbation": {"none": NoPerturbation, "scale": ScalePerturbation, "keep": KeepPerturbation,
                     "construct": ConstructPerturbation},
}


@dataclass
class LogConfig:
    dense_steps: int = 1000  # log every step below this...
    every: int = 100  # ...then every `every` steps, and always the last step
    # trials.parquet's train_acc_step / test_acc_step: the first logged step whose accuracy
    # reaches this (seed 002's phases use 0.9)
    acc_threshold: float = 0.9
    embedding: bool = False  # embedding.parquet: E of every trial at every logged step
    rqi: bool = False  # metrics.parquet's rqi at every logged step (else null)


@dataclass
class CirclesConfig:
    rule: str = "two_mean"  # two_mean: ||F_k|| > 2 x mean over all p k; threshold: > threshold
    threshold: float = 10.0


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
# trajectories, final parameters or final signals, and refuse it. fig10 is among the
# latter: it also counts frequencies above circles.threshold, which a trial stopped
# under "2 x mean" has not reached yet (at laptop scale 12 of 24 trials lost that count).
SETTLED_SWEEPS = ("fig5_top", "fig5_bottom", "fig6_left", "fig6_middle", "fig6_right", "fig7", "fig14")


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
    backward: str = "auto"  # auto: the model family's hand-written backward if it has one; generic: torch.func
    task: TaskConfig = field(default_factory=ModAddTask)
    loss: LossConfig = field(default_factory=CrossEntropyConfig)
    model: ModelConfig = field(default_factory=MLPConfig)
    optimizer: OptimizerConfig = field(default_factory=AdamWConfig)
    log: LogConfig = field(default_factory=LogConfig)
    circles: CirclesConfig = field(default_factory=CirclesConfig)
    perturbation: PerturbationConfig = field(default_factory=NoPerturbation)
    snapshots: SnapshotsConfig = field(default_factory=SnapshotsConfig)
    stop: StopConfig = field(default_factory=StopConfig)
    grid: GridConfig = field(default_factory=GridConfig)



@dataclass
class TrainSchema(TrainConfig):
    """TrainConfig as Hydra composes it: each group's option comes from conf/train.yaml's
    defaults list (a subclass may fill a field typed with its base class)."""
    task: TaskConfig = MISSING
    loss: LossConfig = MISSING
    model: ModelConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    perturbation: PerturbationConfig = MISSING


def option(group: str, kind: Any) -> type:
    """The dataclass of option `kind` of config group `group`; ConfigError if none."""
    options = GROUPS[group]
    check(kind in options, f"{group}.kind", kind, f"one of {list(options)}")
    return options[kind]


def to_dataclass(cfg: DictConfig | dict | TrainConfig) -> TrainConfig:
    """A Hydra DictConfig, or a dict such as a job's stored config, as a TrainConfig.

    Each group's node becomes the dataclass its `kind` names (a key of another option is
    an error).
    """
    if isinstance(cfg, TrainConfig):
        return cfg
    data = OmegaConf.to_container(OmegaConf.create(cfg), resolve=True)
    groups = {}
    for group in GROUPS:
        node = data.pop(group, None) or {}
        cls = option(group, node.get("kind", getattr(TrainConfig(), group).kind))
        groups[group] = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), node))
    base = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig), data))
    return dataclasses.replace(base, **groups)


def known_leaves() -> dict[str, Any]:
    """Every key a config may set, with its default: TrainConfig's and every group option's."""
    out = {k: v for k, v in leaves(TrainConfig()).items() if k.split(".")[0] not in GROUPS}
    for group, options in GROUPS.items():
        for cls in options.values():
            out.update(leaves(cls(), group + "."))
    return out


def check(ok: bool, key: str, value: Any, allowed: str) -> None:
    """ConfigError naming key, value and what is allowed, unless ok."""
    if not ok:
        raise ConfigError(f"invalid config: {key}={value!r}; allowed: {allowed}")


def check_shared(cfg) -> None:
    """The checks of the keys both apps have (train's TrainConfig, simulate's SimulateConfig)."""
    check(cfg.p >= 3, "p", cfg.p, "an integer >= 3")
    check(cfg.d >= 1, "d", cfg.d, "an integer >= 1")
    check(cfg.steps >= 1, "steps", cfg.steps, "an integer >= 1")
    check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    check(cfg.threads >= 0, "threads", cfg.threads, "an integer >= 0 (0 = every core)")


def validate(cfg: TrainConfig) -> None:
    """Raise ConfigError (one line: key, value, allowed range) for the first bad value."""
    for key, value in leaves(cfg).items():  # inf and nan pass every comparison below
        check(not isinstance(value, float) or math.isfinite(value), key, value, "a finite number")
    check_shared(cfg)
    check(cfg.trials >= 1, "trials", cfg.trials, "an integer >= 1")
    check(cfg.trial_offset >= 0, "trial_offset", cfg.trial_offset, "an integer >= 0")
    check(cfg.init_seed >= 0, "init_seed", cfg.init_seed, "an integer >= 0")
    unknown = [v for v in cfg.vary if v not in PARTS]
    check(not unknown and len(set(cfg.vary)) == len(cfg.vary), "vary", list(cfg.vary),
           f"a subset of {list(PARTS)}, each part once")
    check(0 < cfg.train_frac < 1, "train_frac", cfg.train_frac, "a number in (0, 1)")
    _validate_task(cfg)
    _validate_loss(cfg.loss)
    check(cfg.dtype in DTYPES, "dtype", cfg.dtype, f"one of {list(DTYPES)}")
    check(cfg.device in DEVICES, "device", cfg.device, f"one of {list(DEVICES)}")
    check(cfg.progress in ("auto", "bar", "lines", "off"), "progress", cfg.progress,
           "one of ['auto', 'bar', 'lines', 'off']")
    check(cfg.block_trials >= 0, "block_trials", cfg.block_trials, "an integer >= 0 (0 = auto)")
    check(cfg.checkpoint_every >= 0, "checkpoint_every", cfg.checkpoint_every,
           "seconds >= 0 (0 = never)")
    check(cfg.backward in BACKWARDS, "backward", cfg.backward, f"one of {list(BACKWARDS)}")
    _validate_model(cfg.model)
    _validate_optimizer(cfg.optimizer)
    _validate_grid(cfg)
    check(cfg.log.dense_steps >= 0, "log.dense_steps", cfg.log.dense_steps, "an integer >= 0")
    check(cfg.log.every >= 1, "log.every", cfg.log.every, "an integer >= 1")
    check(0 < cfg.log.acc_threshold <= 1, "log.acc_threshold", cfg.log.acc_threshold,
           "a number in (0, 1]")
    check(cfg.circles.rule in CIRCLE_RULES, "circles.rule", cfg.circles.rule,
           f"one of {list(CIRCLE_RULES)}")
    check(cfg.circles.threshold > 0, "circles.threshold", cfg.circles.threshold,
           "a number > 0 (at or below 0 every frequency would survive)")
    check(cfg.scale in SCALES, "scale", cfg.scale, f"one of {list(SCALES)}")
    check(cfg.snapshots.every >= 0, "snapshots.every", cfg.snapshots.every,
           "an integer >= 0 (0 = off)")
    check(all(s >= 0 for s in cfg.snapshots.steps), "snapshots.steps", list(cfg.snapshots.steps),
           "a list of integers >= 0")
    _validate_perturbation(cfg.perturbation, cfg.p)
    _validate_stop(cfg.stop)
    check(cfg.stop.kind == "never" or not cfg.sweep or cfg.sweep in SETTLED_SWEEPS, "stop.kind",
           cfg.stop.kind, f"'never' in sweep {cfg.sweep}, whose figure uses whole trajectories or "
           f"final parameters (stop=settled is for {', '.join(SETTLED_SWEEPS)})")


def train_size(cfg: TrainConfig) -> int:
    """How many of the task's samples each trial trains on: task.train_count if the task
    has one and it is set, else int(n_pairs * train_frac)."""
    count = getattr(cfg.task, "train_count", 0)
    return count or int(cfg.task.n_pairs(cfg.p) * cfg.train_frac)


def _validate_task(cfg: TrainConfig) -> None:
    option("task", cfg.task.kind)
    n = cfg.task.n_pairs(cfg.p)
    count = getattr(cfg.task, "train_count", 0)
    check(0 <= count < n, "task.train_count", count,
           f"0 (use train_frac) or an integer in 1..{n - 1} (p={cfg.p}: {n} pairs)")
    if not count:
        check(0 < train_size(cfg) < n, "train_frac", cfg.train_frac,
               f"a fraction leaving at least one train and one test pair of the {n}")


def _validate_loss(lc: LossConfig) -> None:
    option("loss", lc.kind)
    if isinstance(lc, CrossEntropyConfig):
        check(lc.scale > 0, "loss.scale", lc.scale, "a number > 0 (the loss is divided by it)")
    if isinstance(lc, MSEConfig):
        check(lc.target_dim >= 1, "loss.target_dim", lc.target_dim, "an integer >= 1")


def _validate_model(mc: ModelConfig) -> None:
    option("model", mc.kind)
    check(mc.embedding_init in EMBEDDING_INITS, "model.embedding_init", mc.embedding_init,
           f"one of {list(EMBEDDING_INITS)}")
    check(mc.embedding_scale > 0, "model.embedding_scale", mc.embedding_scale, "a number > 0")
    check(mc.width >= 1, "model.width", mc.width, "an integer >= 1")
    check(mc.mlp_init in MLP_INITS, "model.mlp_init", mc.mlp_init, f"one of {list(MLP_INITS)}")
    if isinstance(mc, SumMLPConfig):
        check(mc.depth >= 1, "model.depth", mc.depth, "an integer >= 1 (hidden layers)")
        check(mc.activation in ACTIVATIONS, "model.activation", mc.activation,
               f"one of {list(ACTIVATIONS)}")


def _validate_optimizer(o: OptimizerConfig, source: str = "optimizer.") -> None:
    """`source` names the keys in messages: "optimizer." or, for a grid's values, "grid.optimizer."."""
    option("optimizer", o.kind)
    for prefix, rate in rates(o).items():
        check(rate.lr > 0, f"{source}{prefix}lr", rate.lr, "a number > 0")
        check(rate.weight_decay >= 0, f"{source}{prefix}weight_decay", rate.weight_decay,
               "a number >= 0")
    check(0 <= o.beta1 < 1, "optimizer.beta1", o.beta1, "a number in [0, 1)")
    check(0 <= o.beta2 < 1, "optimizer.beta2", o.beta2, "a number in [0, 1)")
    check(o.eps > 0, "optimizer.eps", o.eps, "a number > 0")


def grid_values(cfg: TrainConfig) -> dict[str, list[float]]:
    """The grid's lists by optimizer key ("optimizer.decoder.lr"), in schema order; {} without a grid."""
    return {key[len("grid."):]: [float(v) for v in values]
            for key, values in leaves(cfg.grid, "grid.").items() if values is not None}


def _validate_grid(cfg: TrainConfig) -> None:
    keys = [f"optimizer.{prefix}{name}" for prefix in rates(cfg.optimizer)
            for name in ("lr", "weight_decay")]
    for key, values in grid_values(cfg).items():
        check(key in keys, f"grid.{key}", values,
               f"grid keys of optimizer={cfg.optimizer.kind}: {', '.join('grid.' + k for k in keys)}")
        check(len(values) > 0, f"grid.{key}", values, "a non-empty list of values")
        check(len(set(values)) == len(values), f"grid.{key}", values, "distinct values")
        for value in values:  # the optimizer's own range, key by key
            o = copy.deepcopy(cfg.optimizer)
            *path, name = key.split(".")[1:]
            setattr(functools.reduce(getattr, path, o), name, value)
            check(math.isfinite(value), f"grid.{key}", values, "finite numbers")
            _validate_optimizer(o, source="grid.optimizer.")


def _validate_stop(sc: StopConfig) -> None:
    check(sc.kind in STOP_KINDS, "stop.kind", sc.kind, f"one of {list(STOP_KINDS)}")
    if sc.kind == "never":  # a rule's key given without the rule is a mistake, not ignored
        for key, value in leaves(sc).items():
            check(key == "kind" or value == getattr(StopConfig(), key), f"stop.{key}", value,
                   "only with stop=settled (stop is never)")
    check(sc.after >= 0, "stop.after", sc.after, "an integer >= 0")
    check(sc.window >= 0, "stop.window", sc.window, "an integer >= 0")
    check(sc.decay_times >= 0, "stop.decay_times", sc.decay_times, "a number >= 0")
    check(sc.alive >= 1, "stop.alive", sc.alive, "a number >= 1 (a multiple of the threshold)")
    check(0 <= sc.dead <= 1, "stop.dead", sc.dead, "a number in [0, 1] (a multiple of the threshold)")


def _validate_perturbation(pc: PerturbationConfig, p: int) -> None:
    option("perturbation", pc.kind)
    half = p // 2  # frequencies 1..p//2 are the distinct circles
    if isinstance(pc, (ScalePerturbation, KeepPerturbation)):
        ks = list(pc.ks)
        check(all(1 <= k <= half for k in ks) and len(set(ks)) == len(ks), "perturbation.ks", ks,
               f"distinct integers in 1..{half} (p={p})")
    if isinstance(pc, ScalePerturbation):
        check(bool(ks), "perturbation.ks", ks, f"at least one frequency in 1..{half} to scale")
        check(pc.alpha > 0, "perturbation.alpha", pc.alpha, "a number > 0")
    if isinstance(pc, KeepPerturbation):
        check(0 <= pc.random <= half, "perturbation.random", pc.random, f"an integer in 0..{half} (p={p})")
        check(0 <= pc.top <= half, "perturbation.top", pc.top, f"an integer in 0..{half} (p={p})")
        chosen = [bool(ks), pc.random > 0, pc.top > 0]
        check(sum(chosen) == 1, "perturbation.kind", pc.kind,
               "keep with exactly one of perturbation.ks (a list), perturbation.random > 0, "
               f"perturbation.top > 0 (given ks={ks}, random={pc.random}, top={pc.top})")
        if pc.top > 0:
            check(bool(pc.source), "perturbation.source", pc.source,
                   "the directory of a complete job (needed by perturbation.top)")
    if isinstance(pc, ConstructPerturbation):
        check(half >= 2, "p", p, "an integer >= 4 (construct needs two frequencies)")
        check(pc.scale > 0, "perturbation.scale", pc.scale, "a number > 0")
        check(pc.eps >= 0, "perturbation.eps", pc.eps, "a number >= 0")
        check(0 <= pc.r <= 1, "perturbation.r", pc.r, "a number in [0, 1]")


def leaves(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf value of a config, keyed by its dotted override path ("optimizer.lr")."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out.update(leaves(value, prefix + f.name + "."))
        else:
            out[prefix + f.name] = value
    return out


def flatten(cfg: TrainConfig) -> dict[str, Any]:
    """Result-relevant config values keyed exactly as Hydra overrides ("optimizer.lr").

    `vary` becomes one string ("embedding,mlp,split") so it can be a parquet column.
    A grid is one entry, "grid": {"optimizer.decoder.lr": [...], ...}, only where it is set.
    """
    flat = {k: v for k, v in leaves(cfg).items() if k not in RUNTIME_KEYS and k.split(".")[0] != "grid"}
    flat["vary"] = ",".join(sorted(flat["vary"]))
    if grid_values(cfg):  # one entry, absent without a grid: not a column (grid.columns gives its values)
        flat["grid"] = grid_values(cfg)
    return flat

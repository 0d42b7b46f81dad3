import dataclasses
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from circle_survival.config import (GROUPS, ConfigError, SplitConfig, SumMLPConfig, TrainConfig,
                                    to_dataclass, validate)
from circle_survival.hydra_setup import with_override

CONF = str(Path(__file__).resolve().parent.parent / "conf")


def composed(*overrides: str) -> TrainConfig:
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return to_dataclass(compose(config_name="train", overrides=list(overrides)))


def test_yaml_defaults_are_the_papers_settings():
    cfg = composed()
    assert (cfg.p, cfg.d, cfg.steps, cfg.model.width, cfg.train_frac) == (59, 128, 30_000, 100, 0.8)
    o = cfg.optimizer
    assert (o.lr, o.weight_decay, o.beta1, o.beta2, o.eps) == (0.01, 0.5, 0.9, 0.999, 1e-8)
    assert cfg.model.mlp_init == "default" and cfg.dtype == "float32"
    assert cfg.circles.rule == "two_mean" and sorted(cfg.vary) == ["embedding", "mlp", "split"]
    # the YAML and the dataclass defaults agree, so library users get the same job
    assert dataclasses.asdict(cfg) == dataclasses.asdict(TrainConfig())


def test_overrides_compose():
    cfg = composed("p=23", "d=32", "trials=100", "optimizer.weight_decay=1.0", "vary=[mlp,split]",
                   "model.mlp_init=normal", "freeze_embedding=true")
    assert (cfg.p, cfg.d, cfg.trials, cfg.optimizer.weight_decay) == (23, 32, 100, 1.0)
    assert cfg.vary == ["mlp", "split"] and cfg.model.mlp_init == "normal" and cfg.freeze_embedding


BAD = [
    ("p", 2), ("d", 0), ("trials", 0), ("steps", 0), ("optimizer.lr", 0.0), ("optimizer.lr", -1.0),
    ("optimizer.weight_decay", -0.1), ("train_frac", 0.0), ("train_frac", 1.0), ("train_frac", 1.5),
    ("vary", ["mlp", "bogus"]), ("vary", ["mlp", "mlp"]), ("model.mlp_init", "xavier"), ("model.embedding_init", "xavier"), ("model.embedding_scale", 0.0),
    ("dtype", "float16"),
    ("circles.rule", "bogus"), ("log.every", 0), ("trial_offset", -1),
    ("optimizer.lr", float("inf")), ("optimizer.eps", float("nan")), ("circles.threshold", float("inf")),
    ("optimizer.weight_decay", float("inf")), ("stop.kind", "sometimes"), ("stop.window", 10),
    ("backward", "numeric"), ("model.width", 0),
    ("circles.threshold", -1.0), ("circles.threshold", 0.0),
    ("log.acc_threshold", 0.0), ("log.acc_threshold", 1.01), ("loss.scale", 0.0),
]


@pytest.mark.parametrize("key,value", BAD)
def test_bad_values_name_key_and_range(key, value):
    cfg = TrainConfig()
    target = cfg
    *path, last = key.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, last, value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    message = str(err.value)
    assert f"{key}=" in message and "allowed" in message and "\n" not in message


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_options_yaml_equals_its_dataclass(group):
    # conf/<group>/<option>.yaml holds the values, its dataclass the schema: the defaults agree
    for path in sorted((Path(CONF) / group).glob("*.yaml")):
        source = ["perturbation.source=dir"] if "top" in path.stem else []  # else the sibling job's
        cfg = getattr(composed(f"{group}={path.stem}", *source), group)
        default = type(cfg)()
        assert cfg.kind in GROUPS[group] and type(cfg) is GROUPS[group][cfg.kind]
        if path.stem == cfg.kind:  # the option named for its kind is the kind's defaults
            assert cfg == default, path


def test_model_and_optimizer_groups_compose():
    cfg = composed("model=sum_mlp", "model.activation=tanh", "model.depth=3", "optimizer=split",
                   "optimizer.decoder.lr=1e-4", "optimizer.decoder.weight_decay=5")
    assert cfg.model == SumMLPConfig(activation="tanh", depth=3)
    assert cfg.optimizer == SplitConfig(decoder=SplitConfig().decoder.__class__(lr=1e-4, weight_decay=5.0))
    assert cfg.optimizer.settings("E") == (1e-3, 0.0) and cfg.optimizer.settings("W1") == (1e-4, 5.0)
    assert composed().optimizer.settings("E") == composed().optimizer.settings("W3") == (0.01, 0.5)


@pytest.mark.parametrize("overrides", [["perturbation.alpha=1.1"], ["model.depth=3"],
                                       ["optimizer=split", "optimizer.lr=0.1"],
                                       ["perturbation=construct", "perturbation.ks=[1]"]])
def test_a_key_of_another_option_is_an_error(overrides):
    with pytest.raises(ConfigCompositionException):
        composed(*overrides)


def test_stored_config_dict_becomes_its_options_dataclasses():
    cfg = to_dataclass({"p": 23, "model": {"kind": "sum_mlp", "depth": 1},
                        "perturbation": {"kind": "scale", "ks": [2], "alpha": 2.0}})
    assert cfg.model == SumMLPConfig(depth=1) and cfg.perturbation.ks == [2] and cfg.p == 23
    with pytest.raises(ConfigError, match="model.kind='cnn'"):
        to_dataclass({"model": {"kind": "cnn"}})


def test_with_override_replaces_in_place():
    assert with_override("d=8,perturbation=keep_top1,steps=5", "perturbation=none") == \
        "d=8,perturbation=none,steps=5"
    assert with_override("perturbation=keep_top1,vary=[mlp,split]", "perturbation=none") == \
        "perturbation=none,vary=[mlp,split]"
    assert with_override("", "perturbation=none") == "perturbation=none"


def test_perturbation_group_and_scale_compose():
    cfg = composed("perturbation=keep_top2", "perturbation.source=some/dir")
    assert (cfg.perturbation.kind, cfg.perturbation.top, cfg.perturbation.source) == ("keep", 2, "some/dir")
    cfg = composed("perturbation=scale", "perturbation.ks=[25]", "perturbation.alpha=1.1", "scale=smoke")
    assert (cfg.perturbation.kind, cfg.perturbation.ks, cfg.perturbation.alpha) == ("scale", [25], 1.1)
    assert cfg.scale == "smoke" and composed().perturbation.kind == "none"


@pytest.mark.parametrize("key,value", [("stop.alive", 0.9), ("stop.dead", 1.5), ("stop.window", -1),
                                       ("stop.after", -5), ("stop.decay_times", -1.0)])
def test_bad_stop_values_with_stop_settled(key, value):
    cfg = composed("stop=settled", f"{key}={value}")
    with pytest.raises(ConfigError, match=f"{key}="):
        validate(cfg)


def test_stop_group_composes():
    assert composed().stop.kind == "never"
    cfg = composed("stop=settled", "stop.window=3000")
    assert (cfg.stop.kind, cfg.stop.window, cfg.stop.after, cfg.stop.decay_times) == ("settled", 3000, 2000, 10)


def test_task_and_loss_groups_compose():
    cfg = composed()
    assert (cfg.task.kind, cfg.loss.kind, cfg.loss.scale) == ("mod_add", "cross_entropy", 1.0)
    assert (cfg.log.acc_threshold, cfg.log.embedding, cfg.log.rqi) == (0.9, False, False)
    cfg = composed("task=add", "task.train_count=45", "p=10", "loss=mse", "log.embedding=true")
    assert (cfg.task.kind, cfg.task.train_count, cfg.loss.kind, cfg.loss.target_dim) == ("add", 45, "mse", 30)
    validate(cfg)
    assert composed("loss.scale=19").loss.scale == 19.0


@pytest.mark.parametrize("overrides, key", [
    (["task=add", "p=10", "task.train_count=55"], "task.train_count"),  # leaves no test sample
    (["task=add", "p=10", "task.train_count=-1"], "task.train_count"),
    (["task=add", "p=3", "train_frac=0.1"], "train_frac"),  # int(6 * 0.1) = 0 training samples
    (["loss=mse", "loss.target_dim=0"], "loss.target_dim"),
    (["log.acc_threshold=0"], "log.acc_threshold"),
    (["log.acc_threshold=1.5"], "log.acc_threshold"),
])
def test_bad_task_loss_and_log_values_give_one_line(overrides, key):
    with pytest.raises(ConfigError) as err:
        validate(composed(*overrides))
    message = str(err.value)
    assert message.startswith(f"invalid config: {key}=") and "allowed" in message and "\n" not in message


@pytest.mark.parametrize("overrides", [["task.train_count=45"], ["loss.target_dim=30"],
                                       ["loss=mse", "loss.scale=19"]])
def test_a_task_or_loss_key_of_another_option_is_an_error(overrides):
    with pytest.raises(ConfigCompositionException):
        composed(*overrides)

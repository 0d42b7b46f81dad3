"""OmegaConf resolvers of conf/ and sweeps/: `${cs_or:...}`, `${cs_scale:...}`, `${cs_with:...}`,
`${cs_swept:...}`, `${cs_logspace:...}`.

Registered on import. hydra_setup imports this module (with the ConfigStore and the named
sweeps); circle_survival.simulate imports it alone, as its config has no `sweep` group.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .config import SCALES, ConfigError
from .hydra_compat import sweep_jobs

SWEEPS_DIR = Path(__file__).resolve().parent.parent / "sweeps"

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


def swept_values(sweep: str, key: str, *, _root_: DictConfig) -> list[Any]:
    """`${cs_swept:fig10,optimizer.weight_decay}`: the values named sweep `sweep` sweeps `key`
    over at this config's scale, as a list: one source for a sweep's values and a grid
    over them (sweeps/fig10_onejob.yaml)."""
    params = OmegaConf.load(SWEEPS_DIR / f"{sweep}.yaml").hydra.sweeper.params
    raw = OmegaConf.to_container(params, resolve=False)[key]  # e.g. ${cs_scale:'0,0.1',...}
    value = OmegaConf.create({"scale": _root_.get("scale", "paper"), "value": raw}).value
    return [job[0].split("=", 1)[1] for job in sweep_jobs([f"{key}={value}"])]


def logspace(low: float, high: float, n: int) -> list[float]:
    """`${cs_logspace:1e-5,1e-2,16}`: n values from low to high, evenly spaced in log, to 6
    significant digits (seed 002's grids: 10^(-5 + 0.2 i))."""
    if n < 2 or not 0 < low < high:
        raise ConfigError(f"${{cs_logspace:LOW,HIGH,N}} needs 0 < LOW < HIGH and N >= 2; got {low}, {high}, {n}")
    step = (math.log10(high) - math.log10(low)) / (n - 1)
    return [float(f"{10 ** (math.log10(low) + i * step):.6g}") for i in range(n)]


OmegaConf.register_new_resolver("cs_logspace", logspace, replace=True)
OmegaConf.register_new_resolver("cs_scale", by_scale, replace=True)
OmegaConf.register_new_resolver("cs_swept", swept_values, replace=True)
OmegaConf.register_new_resolver("cs_with", with_override, replace=True)

"""Every Hydra internal circle-survival relies on, in one place.

    from circle_survival.hydra_compat import BasicLauncher, job_error, set_hydra_config, sweep_jobs

    sweep_jobs(["p=5,7", "d=8"])        # [["p=5", "d=8"], ["p=7", "d=8"]], as Hydra runs them
    with set_hydra_config(cfg):         # `${hydra:...}` in cfg answers from cfg.hydra
        task = OmegaConf.to_object(cfg)
    job_error(ret)                      # a failed JobReturn's exception, not raised
    submitit_executor(launcher)         # the submitit executor a submitit launcher would use
    submitit_job_args(["p=5"], 3)       # the arguments of that launcher's call for job #3
    register_plugins("hydra_plugins.circle_survival_launcher.launcher")   # Hydra can use them

pyproject.toml pins hydra-core below 1.4 and hydra-submitit-launcher below 1.3;
tests/test_hydra_compat.py has one test per item below, which fails when an upgrade
changes it:

- `hydra._internal.core_plugins.basic_launcher.BasicLauncher`: Hydra's default launcher
  (jobs one after another, in this process). CheckedBasicLauncher extends it to check
  every job first, reading the `config` and `hydra_context` its `setup()` stores.
- `hydra._internal.core_plugins.basic_sweeper.BasicSweeper.split_arguments`: how the basic
  sweeper expands `p=5,7 d=8` into jobs. `sweep_jobs` calls it, so that `sweeps.jobs`
  lists exactly the jobs a sweep runs, in Hydra's order.
- `JobReturn._return_value`: a failed job's exception. The public `return_value` raises
  it (and writes to stderr) instead of returning it.
- `HydraConfig.instance().cfg`: the config that `${hydra:...}` interpolations read.
  The public `set_config` sets it, but nothing puts the previous one back.
- hydra-submitit-launcher's `BaseSubmititLauncher`: its `_EXECUTOR` (submitit's cluster
  name), `params` (the launcher's config), the `config` and `hydra_context` its `setup()`
  stores, and the arguments of its `__call__` (one job). The reporting launchers submit
  the jobs themselves (launcher.py) to skip complete ones and wait for every job.
- Plugin discovery: Hydra finds plugins by scanning the `hydra_plugins` namespace
  package, which an editable install hides from it; `register_plugins` names ours to it
  with the public `Plugins.register`. Hydra instantiates plugins only from modules under
  `hydra_plugins.`, by the `_target_` names of conf/hydra/launcher/.
"""
from __future__ import annotations

import importlib
import inspect
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn
from hydra.plugins.plugin import Plugin
from omegaconf import DictConfig, OmegaConf

__all__ = ["BasicLauncher", "job_error", "register_plugins", "set_hydra_config", "submitit_cluster",
           "submitit_executor", "submitit_job_args", "sweep_jobs"]


def sweep_jobs(overrides: Sequence[str]) -> list[list[str]]:
    """Each job's overrides, in launch order, as Hydra's basic sweeper expands `overrides`.

        sweep_jobs(["p=5,7", "d=8"])   # [["p=5", "d=8"], ["p=7", "d=8"]]
    """
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return BasicSweeper.split_arguments(parsed, max_batch_size=None)[0]


@contextmanager
def set_hydra_config(cfg: DictConfig) -> Iterator[DictConfig]:
    """Inside this block, `${hydra:...}` values read `cfg.hydra` (cfg: a composed config,
    hydra node included); the previous global config is back afterwards.

        with set_hydra_config(cfg):
            choice = cfg.stop.kind   # "${hydra:runtime.choices.stop}" resolved from cfg
    """
    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    hydra_config.set_config(cfg)
    try:
        yield cfg
    finally:
        hydra_config.cfg = previous


def job_error(ret: JobReturn) -> Any:
    """What a job returned, or for a failed job the exception it raised, without raising it.

        reason = str(job_error(ret))   # set with the public `ret.return_value = err`
    """
    return ret._return_value


def submitit_cluster(launcher: Any) -> str:
    """submitit's name of the cluster a hydra-submitit-launcher launcher submits to:
    "slurm" or "local"."""
    return launcher._EXECUTOR


def submitit_executor(launcher: Any):
    """The submitit executor `launcher` (a hydra-submitit-launcher launcher) would submit
    its jobs with: its config's queue parameters, named as submitit wants them.

        jobs = submitit_executor(self).map_array(self, *zip(*args))
    """
    import submitit  # slow to import; only a sweep that submits needs it
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    cluster, params = submitit_cluster(launcher), launcher.params
    init_keys = {"submitit_folder", "max_num_timeout"}
    executor = submitit.AutoExecutor(
        cluster=cluster, folder=params["submitit_folder"],
        **{f"{cluster}_max_num_timeout": params["max_num_timeout"]} if "max_num_timeout" in params else {})
    # Keys of the base config are submitit's own; the others are the cluster's.
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"{cluster}_{k}": v
                                  for k, v in params.items() if k not in init_keys})
    return executor


def submitit_job_args(overrides: Sequence[str], idx: int) -> tuple:
    """The arguments of a hydra-submitit-launcher launcher's call that runs job number
    `idx` with `overrides`, Hydra's global state included.

        args = [submitit_job_args(o, idx) for idx, o in todo]
        executor.map_array(launcher, *zip(*args))
    """
    return list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()


def register_plugins(module: str) -> list[type]:
    """Name every Hydra plugin class defined in `module` (under `hydra_plugins.`) to Hydra;
    returns them.

        register_plugins("hydra_plugins.circle_survival_launcher.launcher")
    """
    loaded = importlib.import_module(module)
    found = [cls for _, cls in inspect.getmembers(loaded, inspect.isclass)
             if cls.__module__ == module and issubclass(cls, Plugin) and not inspect.isabstract(cls)]
    for cls in found:
        Plugins.instance().register(cls)
    return found

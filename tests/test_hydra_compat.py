"""The Hydra internals circle_survival/hydra_compat.py relies on, one test each: a failure
here after upgrading hydra-core or hydra-submitit-launcher names the internal that changed
(see that module's docstring for why each is used)."""
import inspect

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (BaseSubmititLauncher, LocalLauncher,
                                                                     SlurmLauncher)
from omegaconf import OmegaConf

from circle_survival.hydra_compat import (BasicLauncher, job_error, register_plugins, set_hydra_config,
                                          submitit_cluster, submitit_executor, submitit_job_args, sweep_jobs)

CHANGED = "changed in this Hydra version; see circle_survival/hydra_compat.py"


def test_basic_launcher_is_a_launcher_whose_setup_stores_config_and_context():
    assert issubclass(BasicLauncher, Launcher), f"BasicLauncher {CHANGED}"
    params = list(inspect.signature(BasicLauncher.launch).parameters)
    assert params == ["self", "job_overrides", "initial_job_idx"], f"BasicLauncher.launch {CHANGED}"
    launcher, context, config = BasicLauncher(), object(), OmegaConf.create({"a": 1})
    launcher.setup(hydra_context=context, task_function=print, config=config)
    assert launcher.config is config and launcher.hydra_context is context, f"BasicLauncher.setup {CHANGED}"


def test_sweep_jobs_expands_as_the_basic_sweeper_does():
    assert sweep_jobs(["p=5,7", "d=8", "seed=0,1"]) == [
        ["p=5", "d=8", "seed=0"], ["p=5", "d=8", "seed=1"],
        ["p=7", "d=8", "seed=0"], ["p=7", "d=8", "seed=1"]], f"BasicSweeper.split_arguments {CHANGED}"
    assert sweep_jobs([]) == [[]], f"BasicSweeper.split_arguments {CHANGED}"  # a one-job sweep


def test_job_error_is_a_failed_jobs_exception_not_raised():
    err = ValueError("boom")
    failed = JobReturn(overrides=["p=5"], status=JobStatus.FAILED)
    failed.return_value = err
    assert job_error(failed) is err, f"JobReturn._return_value {CHANGED}"
    done = JobReturn(status=JobStatus.COMPLETED)
    done.return_value = 3
    assert job_error(done) == 3, f"JobReturn._return_value {CHANGED}"


def test_set_hydra_config_answers_hydra_interpolations_then_restores(tmp_path):
    (tmp_path / "probe.yaml").write_text("name: ${hydra:job.name}\n")
    with initialize_config_dir(config_dir=str(tmp_path), job_name="probe_job", version_base="1.3"):
        cfg = compose(config_name="probe", return_hydra_config=True)
    before = HydraConfig.instance().cfg
    with set_hydra_config(cfg) as same:
        assert same is cfg
        assert cfg.name == "probe_job", f"HydraConfig.set_config {CHANGED}"
    assert HydraConfig.instance().cfg is before, f"HydraConfig.instance().cfg {CHANGED}"


@pytest.mark.parametrize("cls, conf, cluster", [(LocalLauncher, LocalQueueConf, "local"),
                                                (SlurmLauncher, SlurmQueueConf, "slurm")])
def test_submitit_launcher_internals(tmp_path, cls, conf, cluster):
    params = {k: v for k, v in OmegaConf.to_container(OmegaConf.structured(conf)).items() if k != "_target_"}
    launcher = cls(**{**params, "submitit_folder": str(tmp_path)})
    assert submitit_cluster(launcher) == cluster, f"BaseSubmititLauncher._EXECUTOR {CHANGED}"
    assert launcher.params["submitit_folder"] == str(tmp_path), f"BaseSubmititLauncher.params {CHANGED}"
    # Every key of the plugin's config is one submitit's executor accepts, named our way.
    assert submitit_executor(launcher).cluster == cluster, f"hydra-submitit-launcher's config {CHANGED}"

    context, config = object(), OmegaConf.create({"a": 1})
    launcher.setup(hydra_context=context, task_function=print, config=config)
    assert launcher.config is config and launcher.hydra_context is context, \
        f"BaseSubmititLauncher.setup {CHANGED}"


def test_submitit_job_args_match_the_launchers_call():
    params = list(inspect.signature(BaseSubmititLauncher.__call__).parameters)
    assert params == ["self", "sweep_overrides", "job_dir_key", "job_num", "job_id", "singleton_state"], \
        f"BaseSubmititLauncher.__call__ {CHANGED}"
    overrides, job_dir_key, job_num, job_id, state = submitit_job_args(("p=5",), 3)
    assert (overrides, job_dir_key, job_num, job_id) == (["p=5"], "hydra.sweep.dir", 3, "job_id_for_3")
    assert isinstance(state, dict)


def test_register_plugins_names_our_launchers_to_hydra():
    module = "hydra_plugins.circle_survival_launcher.launcher"
    found = register_plugins(module)
    assert sorted(cls.__name__ for cls in found) == ["CheckedBasicLauncher", "LocalLauncher", "SlurmLauncher"]
    assert set(found) <= set(Plugins.instance().discover(Launcher)), f"Plugins.register {CHANGED}"
    assert all(Plugins.is_in_toplevel_plugins_module(f"{module}.{cls.__name__}") for cls in found), \
        f"Hydra's plugin namespace {CHANGED}"

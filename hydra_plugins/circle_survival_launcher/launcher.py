"""Hydra's launchers, made safe for long sweeps.

    python -m circle_survival.train -m +sweep=fig5_top                        # local
    python -m circle_survival.train -m +sweep=fig5_top hydra/launcher=slurm

Every launcher first checks every job's config: one value out of range stops the
whole sweep with one line, before any job runs or anything is written.

hydra-submitit-launcher's launchers (slurm, processes) change in two more ways:
- jobs whose outputs are already complete are not submitted (rerunning a sweep
  submits only the missing or failed jobs);
- the launcher waits for every job and ends with one report of all that failed and why
  (the plugin stops at the first failure and names only that one).
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from omegaconf import OmegaConf

from circle_survival.config import ConfigError, TrainConfig, to_dataclass, validate
from circle_survival.grid import check_not_shadowed
from circle_survival.hydra_compat import (BasicLauncher, job_error, set_hydra_config, submitit_cluster,
                                          submitit_executor, submitit_job_args)
from circle_survival.job import is_complete
from circle_survival.rejected import discard_leftovers
from circle_survival.config import SweepFailed

log = logging.getLogger(__name__)
REPORT = "failed_jobs.txt"


class _Checked:
    config: Any
    hydra_context: Any

    def _job(self, overrides: Sequence[str]) -> tuple[TrainConfig, Path]:
        """One job's config and output directory."""
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        out_dir = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
        # Values may interpolate `${hydra:...}` of their own job (fig12's source).
        with set_hydra_config(cfg):
            task = to_dataclass(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
        return task, out_dir

    def _check(self, job_overrides: Sequence[Sequence[str]]) -> list[tuple[TrainConfig, Path]]:
        """Every job's config and output directory; exit with one line (and remove the
        sweep's multirun.yaml) if any job's config is out of range."""
        jobs = []
        for overrides in job_overrides:
            jobs.append(self._job(overrides))
            try:
                validate(jobs[-1][0])
                check_not_shadowed(jobs[-1][0], list(overrides))
            except ConfigError as err:
                discard_leftovers(Path(str(self.config.hydra.sweep.dir)), ("multirun.yaml",))
                print(f"error: {err} (job {' '.join(filter_overrides(overrides))}; "
                      "no job of the sweep was run)", file=sys.stderr)
                sys.exit(2)
        return jobs


class CheckedBasicLauncher(_Checked, BasicLauncher):
    """Hydra's default launcher (jobs one after another, in this process), checked first:
    `hydra/launcher=local`, the default."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int):
        self._check(job_overrides)
        return super().launch(job_overrides, initial_job_idx)


class _Reporting(_Checked):
    @staticmethod
    def _complete(cfg: TrainConfig, out_dir: Path) -> bool:
        """Whether this job's output directory already holds its finished results."""
        try:
            return is_complete(out_dir, cfg)
        except ConfigError:
            return False  # the job itself will report the problem in its own log

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list[JobReturn]:
        composed = self._check(job_overrides)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        numbered = list(enumerate(job_overrides, initial_job_idx))
        returns: dict[int, JobReturn] = {}
        todo = []
        for (idx, overrides), (cfg, out_dir) in zip(numbered, composed):
            if self._complete(cfg, out_dir):
                returns[idx] = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)
            else:
                todo.append((idx, overrides))
        log.info("%d of %d jobs already complete; submitting %d to %s (%s)",
                 len(numbered) - len(todo), len(numbered), len(todo), submitit_cluster(self), sweep_dir)
        if not todo:
            return [returns[idx] for idx, _ in numbered]

        for idx, overrides in todo:
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(overrides)))
        args = [submitit_job_args(o, idx) for idx, o in todo]
        jobs = submitit_executor(self).map_array(self, *zip(*args))

        failures = []
        for (idx, overrides), job in zip(todo, jobs):
            try:
                ret = job.results()[0]
            except Exception as err:  # noqa: BLE001 - cancelled, killed, crashed: all reported
                ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
                ret.return_value = err
            if ret.status != JobStatus.COMPLETED:
                reason = str(job_error(ret)).strip().splitlines() or ["unknown"]
                failures.append(f"#{idx} {' '.join(filter_overrides(overrides))} "
                                f"(job {job.job_id}, {job.state}): {reason[-1]}")
            returns[idx] = ret
        if failures:
            report = (f"{len(failures)} of {len(numbered)} jobs failed (the others' outputs are "
                      f"intact; rerun the same command to retry only these):\n  "
                      + "\n  ".join(failures))
            (sweep_dir / REPORT).write_text(report + "\n")
            raise SweepFailed(f"{report}\n(also in {sweep_dir / REPORT})")
        (sweep_dir / REPORT).unlink(missing_ok=True)
        return [returns[idx] for idx, _ in numbered]


class SlurmLauncher(_Reporting, submitit_launcher.SlurmLauncher):
    """Slurm array jobs through submitit: `hydra/launcher=slurm`."""


class LocalLauncher(_Reporting, submitit_launcher.LocalLauncher):
    """Each job in its own local process through submitit: `hydra/launcher=processes`."""

"""The named sweeps, one per figure of the paper (sweeps/<name>.yaml), sized without running.

    python -m circle_survival.sweeps              # jobs, trials, model-steps at every scale
    python -m circle_survival.sweeps --markdown   # the same as README's table

    jobs("fig5_top", "smoke")    # [["p=11"], ["p=17"], ["p=23"]]: each job's sweep overrides
    size("fig5_top", "paper")    # Size(jobs=26, trials=2600, model_steps=78000000, ...)
    size("fig5_top", "laptop").steps_to_run   # model-steps, estimated with stop=settled where it is on

A sweep runs as ``python -m circle_survival.train -m +sweep=<name> [scale=smoke|laptop]``; its jobs
are the cartesian product of its ``hydra.sweeper.params``, expanded here by the same
function Hydra's basic sweeper uses. A model-step is one AdamW update of one trial.
"""
from __future__ import annotations

import argparse
import copy
import functools
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict

from . import grid
from .config import SCALES, SETTLED_SWEEPS, GridConfig, StopConfig, TrainConfig, to_dataclass
from .hydra_setup import SWEEPS_DIR
from .fourier import settling_steps
from .hydra_compat import set_hydra_config, sweep_jobs
from .keys import SWEEP_FORMS

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# Paper order; `names()` appends any other sweep file after these.
ORDER = ("fig2", "fig3", "fig4", "fig5_top", "fig5_bottom", "fig6_left", "fig6_middle",
         "fig6_right", "fig7", "fig8", "fig9", "fig10", "fig10_onejob", "fig11", "fig12", "fig13", "fig14")


# The mean steps a trial trained for under stop=settled at the paper's defaults, measured
# by benchmarks/early_stop.py (README, "Stopping settled trials": 4,250 over 8 trials of
# seed 0, 3,475 over 4 of seed 1). Only an estimate's input: `Size.settled_model_steps`
# assumes each trial stops then, or as soon as its rule allows, whichever is later.
SETTLED_MEAN_STEPS = 4000



@dataclass
class Size:
    jobs: int
    trials: int  # over all jobs
    model_steps: int  # sum over jobs of trials x steps
    trials_per_job: set[int]  # distinct values
    settled_model_steps: int  # estimated with stop=settled (SETTLED_MEAN_STEPS)
    stops_settled: bool  # whether the sweep at this scale uses stop=settled (laptop scale does)

    @property
    def steps_to_run(self) -> int:
        """Model-steps this sweep runs as composed: with stop=settled an estimate."""
        return self.settled_model_steps if self.stops_settled else self.model_steps


def names(forms: bool = True) -> list[str]:
    """Every sweep in sweeps/, in the paper's order; forms=False leaves out those that are
    another form of one (keys.SWEEP_FORMS: fig10_onejob trains fig10's trials)."""
    found = {p.stem for p in SWEEPS_DIR.glob("*.yaml")} - (set() if forms else set(SWEEP_FORMS))
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def title(name: str) -> str:
    """The sweep file's first comment line: "Fig 5 top: number of surviving circles vs p, ..."."""
    first = (SWEEPS_DIR / f"{name}.yaml").read_text().splitlines()[0]
    return first.lstrip("# ").strip()


def command(name: str, scale: str = "paper") -> str:
    extra = "" if scale == "paper" else f" scale={scale}"
    return f"python -m circle_survival.train -m +sweep={name}{extra}"


def composed(name: str, scale: str = "paper", overrides: tuple[str, ...] = ()) -> DictConfig:
    """The sweep's composed config, hydra node included (interpolations unresolved)."""
    return copy.deepcopy(_compose(name, scale, tuple(overrides)))


@functools.lru_cache(maxsize=None)
def _compose(name: str, scale: str, overrides: tuple[str, ...]) -> DictConfig:
    # Composing takes ~0.1 s; the listing and the tests ask for each sweep several times.
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=[f"+sweep={name}", f"scale={scale}", *overrides],
                       return_hydra_config=True)


def jobs(name: str, scale: str = "paper", cfg: DictConfig | None = None) -> list[list[str]]:
    """Each job's overrides ("key=value"), in launch order, as Hydra's basic sweeper makes them."""
    cfg = composed(name, scale) if cfg is None else cfg
    node = cfg.hydra.sweeper.params  # None where the sweep is one job
    params = OmegaConf.to_container(node, resolve=True) if node is not None else {}
    return sweep_jobs([f"{k}={v}" for k, v in params.items()])


def job_config(name: str, scale: str, overrides: list[str] | tuple[str, ...]) -> TrainConfig:
    """One job's config as the task function sees it (Hydra's resolvers answering):

        job_config("fig5_top", "laptop", jobs("fig5_top", "laptop")[0]).p   # 13
    """
    cfg = composed(name, scale, tuple(overrides))
    with set_hydra_config(cfg):
        with open_dict(cfg):
            del cfg["hydra"]
        return to_dataclass(cfg)


def size(name: str, scale: str = "paper") -> Size:
    """Jobs, trials and model-steps of a sweep at a scale (no training).

    A job's `trials`, `steps`, and the embedding's lr and weight decay (`optimizer.lr`, or
    `optimizer.embedding.lr` with optimizer=split) are its own overrides where the sweep
    varies them, else the composed config's values. A job with a grid trains `trials`
    per grid point (each point's own lr and weight decay).
    """
    cfg = composed(name, scale)
    total_trials = model_steps = settled_steps = 0
    per_job = set()
    job_list = jobs(name, scale, cfg)
    rule = StopConfig(kind="settled")
    prefix = "optimizer." if cfg.optimizer.kind == "adamw" else "optimizer.embedding."
    embedding_keys = (prefix + "lr", prefix + "weight_decay")
    grid_node = OmegaConf.merge(OmegaConf.structured(GridConfig), OmegaConf.to_container(cfg.grid, resolve=True))
    points = grid.points(TrainConfig(grid=OmegaConf.to_object(grid_node)))  # [{}] without a grid
    for overrides in job_list:
        values = dict(o.split("=", 1) for o in overrides)
        trials, steps = int(values.get("trials", cfg.trials)), int(values.get("steps", cfg.steps))
        for point in points:
            lr, weight_decay = (float(point.get(k, values.get(k, OmegaConf.select(cfg, k))))
                                for k in embedding_keys)
            earliest = max(settling_steps(rule.after, rule.window, rule.decay_times, lr, weight_decay))
            settled_steps += trials * int(min(steps, max(SETTLED_MEAN_STEPS, earliest)))
        total_trials += trials * len(points)
        model_steps += trials * len(points) * steps
        per_job.add(trials * len(points))
    with set_hydra_config(cfg):  # a sweep picks stop.kind by scale from `${hydra:runtime.choices.stop}`
        stops_settled = cfg.stop.kind == "settled"
    return Size(len(job_list), total_trials, model_steps, per_job, settled_steps, stops_settled)


def _jobs_x_trials(s: Size) -> str:
    if len(s.trials_per_job) == 1:
        return f"{s.jobs} × {next(iter(s.trials_per_job))}"
    return f"{s.jobs} jobs, {s.trials} trials"


def _steps(model_steps: int, to_run: int, settled: bool) -> str:
    """Model-steps, and those estimated to run where the scale uses stop=settled."""
    return f"{model_steps:,}" + (f"; ~{to_run:,} with stop=settled" if settled else "")


def table(markdown: bool = False) -> str:
    """Every sweep's figure, size at each scale, and command, as text or a markdown table."""
    rows = []
    by_scale = {scale: [] for scale in SCALES}  # each sweep's Size, for the totals
    with_settled = 0  # paper scale, stop=settled in the sweeps that allow it
    for name in names():
        row = [title(name).split(":")[0], name]
        counted = name not in SWEEP_FORMS  # another form of a sweep: not again in the totals
        for scale in SCALES:
            s = size(name, scale)
            row += [_jobs_x_trials(s), _steps(s.model_steps, s.steps_to_run, s.stops_settled)]
            by_scale[scale] += [s] if counted else []
        paper = size(name, "paper")
        settled = paper.settled_model_steps
        if counted:
            with_settled += settled if name in SETTLED_SWEEPS else paper.model_steps
        rows.append(row + [f"{settled:,}" if name in SETTLED_SWEEPS else "no (refused)",
                           command(name)])
    total = ["all", ""]
    for scale in SCALES:
        got = by_scale[scale]
        total += [f"{sum(s.jobs for s in got)} jobs, {sum(s.trials for s in got):,} trials",
                  _steps(sum(s.model_steps for s in got), sum(s.steps_to_run for s in got),
                         any(s.stops_settled for s in got))]
    rows.append(total + [f"{with_settled:,} (where allowed)", ""])
    header = ["figure", "sweep"]
    for scale in SCALES:
        prefix = "" if scale == "paper" else f"{scale}: "
        header += [f"{prefix}jobs × trials", f"{prefix}model-steps"]
    header += ["paper: model-steps with stop=settled (estimate)", "command"]
    if markdown:
        lines = [header, ["---"] * len(header)] + [
            [c if i != len(header) - 1 or not c else f"`{c}`" for i, c in enumerate(r)] for r in rows]
        return "\n".join("| " + " | ".join(r) + " |" for r in lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m circle_survival.sweeps",
        description="List the named sweeps (one per paper figure) with their jobs, trials and "
                    f"model-steps (trials x AdamW steps) at each scale ({', '.join(SCALES)}); runs "
                    "nothing. Run one with: python -m circle_survival.train -m +sweep=NAME [scale=...]")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table (README's)")
    args = parser.parse_args(argv)
    print(table(markdown=args.markdown))


if __name__ == "__main__":
    main()

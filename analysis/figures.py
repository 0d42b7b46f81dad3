"""Draw figures for every group of jobs under the roots, and the paper's figures where
their named sweeps exist, as PNG and PDF.

    python analysis/figures.py [ROOT...] [--out DIR] [--only NAME ...] [--figure FIG] [--strict]

Every group of jobs launched together (groups.by_sweep: "adhoc", "fig5_top-smoke", ...)
gets DIR/<group>/circles (circles against each varied key), survival (rate by
frequency) and signals (the first job's trials). Paper figures go to DIR/<fig>, from
the jobs of their named sweeps; `--figure fig7` draws Fig 7 from every job under the
roots instead, whatever its sweep (`--figure fig5_bottom`: one panel of a figure
with several sweeps). This module alone binds figures to jobs:

    drawn, not_drawn = draw_all(["multirun"], "analysis-out/figures")
    # drawn:     [(Path("analysis-out/figures/adhoc/circles.png"), "adhoc: surviving circles (d = 32)"), ...]
    # not_drawn: [("adhoc/signals", "cannot read signals.parquet: multirun/...: corrupt: ..."), ...]
"""
from __future__ import annotations

import functools
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
from tqdm import tqdm

from analysis import (command, figdata, grids, grids_figures, groups, grokking_figures, jobs, ode,
                      paper_figures, plotting, structures, sweep_figures)

# Every paper figure, seed 001's (paper_figures) and seed 002's (grokking_figures): name -> draw(sweeps),
# and name -> the named sweeps it reads.
FIGURES = {**paper_figures.FIGURES, **grokking_figures.FIGURES}
SWEEPS = {**paper_figures.SWEEPS, **grokking_figures.SWEEPS}


def _circles(trials, group, skipped):
    return sweep_figures.circles(trials, title=f"{group}: {sweep_figures.CIRCLES}")


def _survival(trials, group, skipped):
    return sweep_figures.frequency_survival(trials, title=f"{group}: survival rate of each frequency")


def _signals(trials, group, skipped):
    first = trials[trials["job"] == trials["job"].iloc[0]].head(sweep_figures.MAX_TRIALS)
    return sweep_figures.signals(figdata.job_signals(first, skipped), trials)


# The figures every group of jobs gets: name -> f(trials of the group, its name, skip list).
SWEEP_FIGURES = {"circles": _circles, "survival": _survival, "signals": _signals}

# Seed 003's sweep: structures of 2-D embeddings (analysis/grids.py, grids_figures.py).
GRIDS_SWEEP = "grids_circles"


def _structures(trials, group, skipped):
    table = grids.network_structures(trials, skipped)
    keys = [k for k in ("optimizer.lr", "optimizer.weight_decay") if trials[k].nunique() > 1 or
            k == "optimizer.weight_decay"]
    freq = grids.frequencies(table, keys)
    panel = "optimizer.lr" if "optimizer.lr" in keys else None
    return grids_figures.frequency(freq, "optimizer.weight_decay", panel,
                                   title=f"{group}: structure of the final embedding (networks)")


def _showcase(trials, table, label=None):
    """(job, trial) of the first trial labelled `label`; if None, of the first circle,
    else grid, else any trial."""
    if label is None:
        found = [lab for lab in structures.LABELS if (table["structure"] == lab).any()]
        label = found[0]
    rows = table[table["structure"] == label]
    if rows.empty:
        raise ValueError(f"no trial formed a {label}")
    first = rows.sort_values(["job", "trial"]).iloc[0]
    return first["job"], first["trial"]


def _one_trial(trials, skipped, label=None):
    """The stored embeddings of the first trial labelled `label` (see _showcase), and its evidence row."""
    table = grids.network_structures(trials, skipped)
    job, trial = _showcase(trials, table, label)
    emb = grids.embeddings(trials[(trials["job"] == job) & (trials["trial"] == trial)], skipped)
    row = table[(table["job"] == job) & (table["trial"] == trial)].iloc[0]
    return emb, row


def _snapshots(trials, group, skipped):
    emb, row = _one_trial(trials, skipped)
    return grids_figures.snapshots(emb, title=f"{group}: {row['structure']}, trial {row['trial']} of {row['job']}")


def _example(label):
    def draw(trials, group, skipped):
        emb, row = _one_trial(trials, skipped, label)
        return grids_figures.example(emb["E"].iloc[-1], label, row.to_dict(),
                                     title=f"{group}: a {label} (trial {row['trial']}, step {emb['step'].iloc[-1]})")
    return draw


def _animation(stem):
    def draw(trials, group, skipped):
        emb, row = _one_trial(trials, skipped)
        return grids_figures.animation(emb, stem, title=f"{row['structure']}, trial {row['trial']}:")
    return draw


def grids_tasks(trials, group, out: Path) -> list[Task]:
    """Seed 003's figures of one group of grids_circles jobs: structure frequencies,
    snapshots, an animation, one example per structure."""
    draws = {"structures": _structures, "snapshots": _snapshots,
             **{f"example_{label}": _example(label) for label in structures.LABELS}}
    tasks = []
    for name, draw in {**draws, "animation": _animation(out / group / "animation")}.items():
        skipped = []
        tasks.append(Task(f"{group}/{name}", out / group / name, functools.partial(draw, trials, group, skipped),
                          skipped))
    return tasks


def simulation_tasks(systems: pd.DataFrame, out: Path) -> list[Task]:
    """Per group of simulation jobs: structure frequency against weight decay."""
    tasks = []
    for group, part in groups.by_sweep(systems).items():
        def make(part=part, group=group):
            freq = grids.frequencies(grids.simulation_structures(part), ["weight_decay"])
            return grids_figures.frequency(freq, "weight_decay",
                                           title=f"{group}: structure of the final positions (simulation)")
        tasks.append(Task(f"{group}/simulation_structures", out / group / "simulation_structures", make))
    return tasks


@dataclass
class Task:
    """One figure to draw: `make()` builds it, appending jobs it cannot read to `skipped`."""

    name: str
    stem: Path
    make: Callable
    skipped: list = field(default_factory=list)


@dataclass
class Outcome:
    name: str
    paths: list  # PNG then PDF; empty when not drawn
    text: str  # the figure's title, or why it was not drawn
    left_out: list  # jobs.Skip for jobs this figure could not read


# What --figure accepts: a paper figure, or one of the named sweeps it is drawn from.
TARGETS = sorted({*FIGURES, *(s for sweeps in SWEEPS.values() for s in sweeps)}, key=lambda t: (len(t), t))


def available(name: str, sweeps) -> bool:
    """Whether any named sweep of figure `name` is among `sweeps` (figdata.Sweeps or a set of names)."""
    return any(s in sweeps for s in SWEEPS[name])


def bind(target: str) -> tuple[str, str]:
    """(paper figure, sweep) for --figure: a figure drawn from one sweep ("fig7"), or one
    sweep of a figure drawn from several ("fig5_bottom"). ValueError otherwise."""
    for name, sweeps in SWEEPS.items():
        if target == name and len(sweeps) == 1:
            return name, sweeps[0]
    for name, sweeps in SWEEPS.items():
        if target in sweeps and len(sweeps) > 1:
            return name, target
    if target in SWEEPS:
        raise ValueError(f"{target} is drawn from {' and '.join(SWEEPS[target])}: "
                         f"name the one these jobs stand for (--figure {SWEEPS[target][0]})")
    raise ValueError(f"unknown figure {target!r}; known: {', '.join(TARGETS)}")


def plan(trials: pd.DataFrame, out, where: str = "the roots", only=None, figure: str | None = None,
         lasso: float = ode.LASSO_ALPHA, systems: pd.DataFrame | None = None) -> list[Task]:
    """The figures to draw from these trials: by default every group's SWEEP_FIGURES and
    each paper figure whose sweep is present; `only` names some (a paper figure named
    there without its sweep is reported as such); `figure` binds all trials to a paper figure."""
    out = Path(out)
    if figure:
        name, sweep = bind(figure)
        return [_paper(name, figdata.Sweeps(trials.assign(sweep=sweep), lasso=lasso), out, where)]
    wanted = set(only or [*SWEEP_FIGURES, GRIDS_SWEEP, *FIGURES])
    tasks = []
    for group, part in groups.by_sweep(trials).items():
        reason = not_modular(part)
        if reason and wanted & set(SWEEP_FIGURES):
            tasks.append(Task(f"{group}/circles", out / group / "circles", functools.partial(_refuse, reason), []))
            continue
        for name, draw in SWEEP_FIGURES.items():
            if name in wanted:
                skipped = []
                tasks.append(Task(f"{group}/{name}", out / group / name,
                                  functools.partial(draw, part, group, skipped), skipped))
        if (part["sweep"] == GRIDS_SWEEP).all() and GRIDS_SWEEP in wanted:
            tasks += grids_tasks(part, group, out)
    if systems is not None and GRIDS_SWEEP in wanted:
        tasks += simulation_tasks(systems, out)
    sweeps = figdata.Sweeps(trials, lasso=lasso)
    for name in FIGURES:
        if name in wanted and (only or available(name, sweeps)):
            tasks.append(_paper(name, sweeps, out, where))
    return tasks


def not_modular(trials: pd.DataFrame) -> str:
    """Why these trials have no circles ("" if they do): circles are Fourier frequencies
    mod p, so a group trained on another task (seed 002's task=add) has none to count."""
    kinds = set(trials["task.kind"]) - {"mod_add"} if "task.kind" in trials else set()
    return f"no circle figures: circles are frequencies mod p, and these jobs have task.kind={', '.join(sorted(kinds))}" if kinds else ""


def _refuse(reason: str):
    raise ValueError(reason)


def _paper(name: str, sweeps, out: Path, where: str) -> Task:
    """Paper figure `name` from `sweeps`; without any of its sweeps, a task that says which command makes them."""
    def make():
        if not available(name, sweeps):
            commands = "; ".join(paper_figures.how_to_run(s) for s in SWEEPS[name])
            raise ValueError(f"no data under {where} (run: {commands})")
        sweeps.read.clear()
        fig = FIGURES[name](sweeps)
        spiked = sweeps.spiked(sweeps.read)
        if spiked != "none":  # a result that may look wrong is flagged, as in the paper check
            fig.suptitle(f"{fig.get_suptitle()}\n(loss spikes in {spiked} trials: flagged in train.log, still drawn)")
        return fig
    return Task(name, out / name, make, sweeps.skipped)


def simulations(roots) -> tuple[pd.DataFrame | None, list]:
    """The simulated systems under the roots (analysis/grids.py), or None if there are none."""
    try:
        return grids.load_systems(roots)
    except jobs.DataError:
        return None, []


def absent(trials: pd.DataFrame) -> list[str]:
    """Paper figures none of whose named sweeps is among these trials (seed 002's only when
    some seed-002 sweep is there: without one, seed 001's list as before)."""
    found = set(trials["sweep"])
    names = FIGURES if any(available(name, found) for name in grokking_figures.FIGURES) else paper_figures.FIGURES
    return [name for name in names if not available(name, found)]


def run(task: Task) -> Outcome:
    """Draw and save one figure; data it cannot use, or an empty figure, is a reason instead."""
    before, open_before = len(task.skipped), set(plotting.plt.get_fignums())
    try:
        with plotting.styled():
            fig = task.make()
            if isinstance(fig, Path):  # an animation, written by the task itself
                return Outcome(task.name, [fig], task.name, task.skipped[before:])
            title = fig.get_suptitle() or task.name
            paths = plotting.save(fig, task.stem)
    except (KeyError, ValueError) as err:  # data of the wrong kind: a column or file missing, too little
        for number in set(plotting.plt.get_fignums()) - open_before:
            plotting.plt.close(number)
        return Outcome(task.name, [], jobs.problem(err), task.skipped[before:])
    return Outcome(task.name, paths, title, task.skipped[before:])


def draw_all(roots, out_dir, only=None, figure: str | None = None, lasso: float = ode.LASSO_ALPHA,
             skipped: list | None = None) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Draw every figure the jobs under `roots` allow into out_dir (see plan).

    Returns (drawn, not_drawn): [(PNG path, title)] (a PDF lies beside each PNG) and
    [(name, reason)]. Jobs left out, on loading or by a figure, are appended to
    `skipped` when given a list. Raises jobs.DataError when no job is readable.
    """
    trials, skips = jobs.load_trials(roots)
    systems, sim_skips = simulations(roots)
    skips += sim_skips
    outcomes = [run(task) for task in plan(trials, out_dir, " ".join(map(str, roots)), only, figure, lasso, systems)]
    if skipped is not None:
        skipped += skips + [skip for outcome in outcomes for skip in outcome.left_out]
    return ([(o.paths[0], o.text) for o in outcomes if o.paths],
            [(o.name, o.text) for o in outcomes if not o.paths])


def main(argv=None) -> int:
    parser = command.parser(__doc__, __file__, out="figures", lasso="Fig 9, 15, 16; ")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--only", nargs="+", choices=[*SWEEP_FIGURES, GRIDS_SWEEP, *FIGURES], metavar="NAME",
                       help=f"draw only these ({', '.join([*SWEEP_FIGURES, GRIDS_SWEEP, *FIGURES])})")
    which.add_argument("--figure", metavar="FIG",
                       help="draw this paper figure from every job under the roots, whatever their sweep "
                            "(a figure, or for fig5 and fig6 one of its sweeps, e.g. fig5_bottom)")
    args = parser.parse_args(argv)
    if args.figure:
        try:
            bind(args.figure)
        except ValueError as err:
            parser.error(str(err))
    roots = command.roots(args.roots, parser.prog)
    trials, skipped = jobs.load_or_exit(roots)
    systems, sim_skipped = simulations(roots)
    skipped += sim_skipped
    command.print_skips(skipped)
    where = " ".join(roots)
    tasks = plan(trials, args.out, where, args.only, args.figure, args.lasso, systems)
    drawn = 0
    for task in tqdm(tasks, desc="figures", leave=False, disable=None if len(tasks) > 3 else True):
        outcome = run(task)
        command.print_skips(outcome.left_out, prefix=f"{outcome.name}: left out")
        skipped += outcome.left_out
        if outcome.paths:
            drawn += 1
            print(f"{outcome.name}: {' '.join(str(p) for p in outcome.paths)}")
        else:
            print(f"{outcome.name}: not drawn: {outcome.text}")
    missing = [] if args.only or args.figure else absent(trials)
    if missing:
        print(f"paper figures whose named sweeps are not under {where}: {', '.join(missing)} "
              f"(run one: {paper_figures.how_to_run('NAME')}; or draw one from these jobs: --figure NAME)")
    print(f"{drawn} of {len(tasks)} figures drawn in {args.out}")
    return command.exit_status(skipped, args.strict)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

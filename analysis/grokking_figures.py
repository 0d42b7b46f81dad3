"""Seed 002's figures (Liu et al. 2022): phase diagrams (Fig 6 a, b, c), RQI against accuracy
(Fig 3, 4b), and the effective theory (Fig 4a, 5a, 4c, 4d).

Drawing functions take data frames; the FIGURES entries take figdata.Sweeps and read the
named sweeps in SWEEPS (figures.py binds them, as paper_figures' for seed 001).

    fig = phase_diagram(trials, "fig6b")                        # majority phase per cell, counts
    fig = quality_figure(grokking_data.quality(trials), grokking_data.steps_to_rqi(trials))
    fig = theory_figure(grokking_data.structure(10))            # Fig 4a and 5a, no training needed
"""
from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd

from analysis import grokking_data, grokking_regions, phases, plotting
from analysis.plotting import STEP

COLOURS = {"comprehension": "tab:green", "grokking": "tab:orange", "memorization": "tab:blue",
           "confusion": "tab:red"}
LETTER = {phase: phase[0].upper() for phase in phases.PHASES}  # C G M C: confusion is "X" below
LETTER["confusion"] = "X"
LABELS = {grokking_regions.LR: "decoder lr", grokking_regions.WD: "decoder weight decay",
          grokking_regions.EMB: "embedding lr"}
PHASE_SWEEPS = {name: spec.sweep for name, spec in grokking_regions.FIGURES.items()}
FIG3 = "grokking_fig3"
# figure -> the named sweeps it reads (any one present draws it)
SWEEPS = {
    "grokking_fig3": (FIG3,),
    "grokking_fig4": (FIG3, *PHASE_SWEEPS.values()),
    **{f"grokking_{name}": (sweep,) for name, sweep in PHASE_SWEEPS.items()},
}


def phase_diagram(trials: pd.DataFrame, figure: str, gap: float = phases.GAP, title: str | None = None):
    """Majority phase per (x, y) cell of Fig 6 `figure` ("fig6b"), each cell labelled with
    its counts; a black frame marks cells whose majority is the phase the authors report,
    a dashed one cells where it is not."""
    spec = grokking_regions.FIGURES[figure]
    cells = grokking_regions.agreement(phases.grid(trials, spec.x, spec.y, gap), figure)
    xs, ys = np.sort(cells[spec.x].unique()), np.sort(cells[spec.y].unique())
    image = np.full((len(ys), len(xs)), np.nan)
    for _, cell in cells.iterrows():
        image[np.searchsorted(ys, cell[spec.y]), np.searchsorted(xs, cell[spec.x])] = \
            phases.PHASES.index(cell["majority"])
    fig, axes = plotting.figure(1, 1, title=title or f"Fig {figure[3:]}: learning phases ({len(trials)} trials)",
                                panel=(max(4.0, 0.55 * len(xs) + 2), max(3.0, 0.45 * len(ys) + 1.5)))
    ax = axes[0, 0]
    cmap = mcolors.ListedColormap([COLOURS[p] for p in phases.PHASES])
    ax.imshow(image, origin="lower", cmap=cmap, vmin=-0.5, vmax=len(phases.PHASES) - 0.5, aspect="auto", alpha=0.75)
    for _, cell in cells.iterrows():
        i, j = np.searchsorted(ys, cell[spec.y]), np.searchsorted(xs, cell[spec.x])
        counts = "/".join(str(int(cell[p])) for p in phases.PHASES)
        ax.text(j, i, f"{LETTER[cell['majority']]}\n{counts}", ha="center", va="center", fontsize=5)
        if not np.isnan(cell["majority_agrees"]):
            ax.add_patch(plotting.plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=1.2,
                                                edgecolor="k", linestyle="-" if cell["majority_agrees"] else "--"))
    ax.set(xticks=range(len(xs)), xticklabels=[f"{v:.2g}" for v in xs], yticks=range(len(ys)),
           yticklabels=[f"{v:.2g}" for v in ys], xlabel=LABELS.get(spec.x, spec.x), ylabel=LABELS.get(spec.y, spec.y))
    ax.tick_params(axis="x", labelrotation=90)
    ax.grid(False)
    handles = [plotting.plt.Rectangle((0, 0), 1, 1, color=COLOURS[p], alpha=0.75) for p in phases.PHASES]
    ax.legend(handles, [f"{LETTER[p]}: {p}" for p in phases.PHASES], loc="upper left", bbox_to_anchor=(1.01, 1),
              title="counts C/G/M/X;\nframe: authors' phase\n(solid agrees)", fontsize=6, title_fontsize=6)
    return fig


def quality_figure(quality: pd.DataFrame, reach: pd.DataFrame | None = None):
    """Fig 3: RQI and predicted accuracy against real accuracy; Fig 4b: steps to high RQI
    against training fraction (never reached: drawn at the top, hollow)."""
    fig, axes = plotting.figure(1, 3, title="Fig 3, 4b: representation quality and accuracy")
    for ax, column, label in ((axes[0, 0], "rqi", "RQI"), (axes[0, 1], "predicted_acc", "predicted accuracy")):
        if quality.empty:
            plotting.note(ax, "no embedding.parquet in these jobs")
            continue
        points = ax.scatter(quality["acc"], quality[column], c=quality["train_frac"], cmap="viridis", s=14,
                            vmin=0, vmax=1)
        ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1)
        ax.set(xlabel="accuracy (whole data)", ylabel=label, xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    if not quality.empty:
        fig.colorbar(points, ax=axes[0, :2], label="training fraction", shrink=0.8)
    ax = axes[0, 2]
    if reach is None or reach.empty:
        plotting.note(ax, "no rqi in metrics.parquet")
        return fig
    done = reach["step"].notna()
    top = float(reach["step"].max()) * 1.2 if done.any() else 1.0
    ax.scatter(reach.loc[done, "train_frac"], reach.loc[done, "step"], s=14, color="k", label="reached")
    ax.scatter(reach.loc[~done, "train_frac"], np.full((~done).sum(), top), s=14, facecolors="none",
               edgecolors="0.4", label="never")
    ax.set(xlabel="training fraction", ylabel=f"steps to RQI > {grokking_data.HIGH_RQI}", title="Fig 4b")
    ax.legend()
    return fig


def theory_figure(structure, flow=None):
    """Fig 4a (P(unique linear structure)) and 5a (mean lambda3) against training fraction;
    with flow = grokking_data.flow_and_run(...), Fig 4c (effective theory) and 4d (the run)."""
    fig, axes = plotting.figure(1, 4 if flow is not None else 2,
                                title="Fig 4a, 5a: effective theory over random training sets"
                                      + (" ; 4c, d: trajectories" if flow is not None else ""))
    ax = axes[0, 0]
    ax.plot(structure.fraction, structure.p_unique, marker="o")
    ax.axvline(0.4, color="0.5", linestyle="--", linewidth=1, label="paper: ~0.4")
    ax.set(xlabel="training fraction", ylabel="P(unique linear structure)", title="Fig 4a")
    ax.legend()
    ax = axes[0, 1]
    ax.plot(structure.fraction, structure.mean_lambda3, marker="o")
    ax.set(xlabel="training fraction", ylabel="mean λ3 of A_D^T A_D", title="Fig 5a")
    if flow is not None:
        run_steps, run, flow_steps, trajectory = flow
        for ax, steps, E, name in ((axes[0, 2], flow_steps, trajectory, "4c: effective theory"),
                                   (axes[0, 3], run_steps, run, "4d: training, normalised")):
            colours = plotting.plt.get_cmap("viridis")(np.linspace(0, 1, E.shape[1]))
            for k in range(E.shape[1]):
                ax.plot(steps, E[:, k, 0], color=colours[k], linewidth=1)
            ax.set(xlabel=STEP, ylabel="embedding E_k (1st dim)", title=name)
    return fig


def _phase_figure(name):
    def draw(sweeps):
        trials = sweeps[PHASE_SWEEPS[name]]
        return phase_diagram(trials, name)
    draw.__name__ = f"grokking_{name}"
    return draw


def grokking_fig3(sweeps):
    trials = sweeps[FIG3]
    return quality_figure(grokking_data.quality(trials, sweeps.skipped),
                          grokking_data.steps_to_rqi(trials, sweeps.skipped))


def grokking_fig4(sweeps):
    structure = sweeps.memo("structure", grokking_data.structure)
    if FIG3 not in sweeps:
        return theory_figure(structure)
    trials = sweeps[FIG3]
    found = grokking_data.embeddings(trials.head(1), sweeps.skipped)
    if not found:
        return theory_figure(structure)
    steps, E = next(iter(found.values()))
    return theory_figure(structure, grokking_data.flow_and_run(trials.iloc[0], steps, E))


FIGURES = {"grokking_fig3": grokking_fig3, "grokking_fig4": grokking_fig4,
           **{f"grokking_{name}": _phase_figure(name) for name in PHASE_SWEEPS}}

"""Seed 002's claims (Liu et al. 2022), checked like seed 001's (analysis.claims).

Checked only when some seed-002 sweep (grokking_figures.SWEEPS) is among the trials, so a
check of seed 001's data alone is unchanged. Each check takes figdata.Sweeps and returns a
claims.Claim, or None when no data covers it.

    rows = check_all(figdata.Sweeps(trials))          # [] without seed-002 sweeps
"""
from __future__ import annotations

from analysis import grokking_data, grokking_figures, grokking_regions, phases, stats
from analysis.claims import UNCLEAR, Claim, ci_text, run_checks, sign_verdict
from circle_survival import effective_theory

PAPER = "Liu et al. 2022 (seed 002)"
CRITICAL = 0.4          # the paper's critical training fraction (Fig 4a)
CRITICAL_WINDOW = 0.05  # ours agrees within this distance
MAJORITY_AGREES = 0.75  # share of cells with a reported phase whose majority must be it


def present(sweeps) -> bool:
    """Whether any seed-002 sweep is there."""
    return any(s in sweeps for names in grokking_figures.SWEEPS.values() for s in names)


def critical_fraction(sweeps):
    structure = sweeps.memo("structure", grokking_data.structure)
    critical = effective_theory.critical_fraction(structure.fraction, structure.p_unique)
    return Claim(f"critical training fraction: P(unique linear structure) = 1/2 (Fig. 4a, "
                 f"{grokking_data.SETS} random sets per fraction, no training)",
                 f"about {CRITICAL}", f"{critical:.3f}", "", grokking_data.SETS * len(structure.fraction),
                 bool(abs(critical - CRITICAL) <= CRITICAL_WINDOW),
                 f"the 1/2 crossing (linear interpolation between fractions) within {CRITICAL} ± {CRITICAL_WINDOW}")


def phase_regions(figure: str):
    """The claim that figure's grid cells fall in the phases the authors report, per cell."""
    spec = grokking_regions.FIGURES[figure]

    def check(sweeps):
        if spec.sweep not in sweeps:
            return None
        cells = region_cells(sweeps[spec.sweep], figure)
        said = cells[cells["expected"] != grokking_regions.ANY]
        if said.empty:
            return None
        n = int(said["n"].sum())
        share = float((said["share"] * said["n"]).sum() / n)
        majority = said["majority_agrees"].mean()
        lo, hi = stats.wilson_interval(round(share * n), n)
        return Claim(f"phase regions of Fig. {figure[3:]} ({len(said)} of {len(cells)} cells with a reported phase)",
                     "as reported (facts file)", f"{share:.0%} of trials; majority agrees in "
                     f"{int(said['majority_agrees'].sum())} of {len(said)} cells ({majority:.0%})",
                     ci_text(lo, hi, ".0%"), n, bool(majority >= MAJORITY_AGREES),
                     f"the majority phase is the reported one in >= {MAJORITY_AGREES:.0%} of cells with one "
                     f"(per cell below)", detail=cell_grid(cells, figure))
    check.__name__ = f"phase_regions_{figure}"
    return check


def cell_grid(cells, figure: str) -> str:
    """Markdown grid, one row per y and one column per x: each cell's majority phase letter
    (C, G, M, X), then the reported phase's letter and the share of the cell's trials in it
    ("G 100% of G"), or "any" where the authors say nothing."""
    spec = grokking_regions.FIGURES[figure]
    letter = {p: ("X" if p == "confusion" else p[0].upper()) for p in phases.PHASES}
    text = [f"{letter[m]} " + ("any" if e == grokking_regions.ANY else f"{s:.0%} of {letter[e]}")
            for m, e, s in zip(cells["majority"], cells["expected"], cells["share"])]
    grid = cells.assign(text=text).pivot(index=spec.y, columns=spec.x, values="text").sort_index(ascending=False)
    head = [f"{spec.y} \\ {spec.x}", *(f"{x:.2g}" for x in grid.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([f"{y:.2g}", *grid.loc[y].fillna("")]) + " |" for y in grid.index]
    return (f"Fig. {figure[3:]} per cell: majority phase (C comprehension, G grokking, M memorization, "
            f"X confusion), then the share of trials in the reported phase:\n\n" + "\n".join(lines))


def region_cells(trials, figure: str, gap: float = phases.GAP):
    """Per grid cell of `figure`: counts per phase, majority, the reported phase, share of trials in it."""
    spec = grokking_regions.FIGURES[figure]
    return grokking_regions.agreement(phases.grid(trials, spec.x, spec.y, gap), figure)


def rqi_steps_fall(sweeps):
    if grokking_figures.FIG3 not in sweeps:
        return None
    reach = grokking_data.steps_to_rqi(sweeps[grokking_figures.FIG3], sweeps.skipped)
    done = reach.dropna(subset=["step"])
    if reach["train_frac"].nunique() < 2:
        return None
    rate, rlo, rhi = stats.slope_interval(reach["train_frac"], reach["step"].notna().astype(float))
    reached = f"{len(done)} of {len(reach)} runs reach RQI > {grokking_data.HIGH_RQI}"
    if done["train_frac"].nunique() < 2 or len(done) < 3:
        return Claim("steps to RQI > 0.95 fall with training fraction (Fig. 4b)",
                     "none at <= 0.36; 3 of 3 at >= 0.82 in ~830-1270 steps",
                     f"{reached}; share rises: slope {rate:+.3g}", ci_text(rlo, rhi, "+.3g"), len(reach),
                     sign_verdict(rlo, rhi),
                     "too few runs reach it at two fractions: 95 % CI of the slope of the share reaching it "
                     f"against training fraction above 0{UNCLEAR}")
    slope, lo, hi = stats.slope_interval(done["train_frac"], done["step"])
    return Claim("steps to RQI > 0.95 fall with training fraction (Fig. 4b)",
                 "none at <= 0.36; 3 of 3 at >= 0.82 in ~830-1270 steps",
                 f"{reached}; slope {slope:+.3g} steps per unit fraction", ci_text(lo, hi, "+.3g"), len(done),
                 sign_verdict(lo, hi, -1),
                 f"95 % CI of the slope of steps (runs that reach it) against training fraction below 0{UNCLEAR}")


CHECKS = (critical_fraction, *(phase_regions(name) for name in ("fig6b", "fig6c", "fig6a")), rqi_steps_fall)


def check_all(sweeps, problems: list | None = None) -> list[Claim]:
    """Seed 002's claims the data covers; [] when no seed-002 sweep is there."""
    if not present(sweeps):
        return []
    rows = run_checks(CHECKS, sweeps, problems)
    for row in rows:
        row.source = PAPER
    return rows

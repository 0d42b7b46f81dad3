"""The paper's quantitative claims, each checked against the data that covers it.

Every check takes figdata.Sweeps and returns a Claim, or None when no data covers
it. "agree" is the check's verdict, stated in its `rule`: True, False, or None where
the data cannot tell (an interval that contains 0; shown as "unclear").

    for claim in check_all(figdata.Sweeps(trials)):
        print(claim.claim, claim.paper, claim.ours, claim.agree)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import figdata, gradient, groups, jobs, stats, survival

# Sweeps whose trials are plain training runs at some (p, d, weight decay).
PLAIN_SWEEPS = ("fig5_top", "fig5_bottom", "fig14", "fig10")
# How far from d = p the frozen-embedding comparison looks, on each side.
DIP_WINDOW = 10
# Most fig9 runs refitted in the Lotka-Volterra form (each fit has ~p^2/8 regressors).
LV_RUNS = 20


@dataclass
class Claim:
    claim: str
    paper: str
    ours: str
    ci: str
    n: int | None
    agree: bool | None
    rule: str
    stopped_early: str = ""  # "k of n" trials it read stopped early (stop=settled), or "none"
    spiked: str = ""  # "k of n" trials it read had a loss spike (flagged, still counted), or "none"
    detail: str = ""  # Markdown printed under the table (seed 002's per-cell phase grids)
    source: str = ""  # whose claim: "" for seed 001, the main paper; else its name (grokking_claims.PAPER)


def check_all(sweeps, problems: list | None = None) -> list[Claim]:
    """Every claim the data covers, in the paper's order.

    A check whose data is there but unusable (a column missing, one class only) is
    left out and, when `problems` is a list, named there with the reason.
    """
    return run_checks(CHECKS, sweeps, problems)


def run_checks(checks, sweeps, problems: list | None = None) -> list[Claim]:
    """check_all for any sequence of checks (seed 002's: analysis.grokking_claims)."""
    out = []
    for check in checks:
        sweeps.read.clear()
        try:
            claim = check(sweeps)
            if claim is not None:
                claim.stopped_early = sweeps.stopped_early(sweeps.read)
                claim.spiked = sweeps.spiked(sweeps.read)
        except (KeyError, ValueError) as err:
            if problems is not None:
                problems.append(f"{check.__name__}: {jobs.problem(err)}")
            continue
        if claim is not None:
            out.append(claim)
    return out


UNCLEAR = " (on the other side of 0: NO; containing 0: unclear, too few trials to tell)"


def sign_verdict(lo: float, hi: float, sign: int = +1) -> bool | None:
    """A claimed sign (+1: above 0) against a 95 % interval [lo, hi]: True where the
    interval lies on that side of 0, False where it lies on the other, None (unclear)
    where it contains 0: an interval over 0 does not contradict the paper, it cannot tell.

        sign_verdict(0.1, 0.3) -> True;  sign_verdict(-0.3, -0.1) -> False;  sign_verdict(-0.1, 0.3) -> None
    """
    lo, hi = (lo, hi) if sign > 0 else (-hi, -lo)
    return True if lo > 0 else False if hi < 0 else None


def circles_at_default(sweeps):
    trials = _plain(sweeps)
    if trials is None:
        return None
    default = trials[(trials["p"] == 59) & (trials["d"] == 128)
                     & np.isclose(trials["optimizer.weight_decay"], 0.5)]
    if len(default) == 0:
        return None
    mean, lo, hi = stats.t_interval(default["n_circles"])
    return Claim("circles surviving at p = 59, d = 128 (Sec. 1, Fig. 5)", "3 to 5", f"{mean:.2f}",
                 ci_text(lo, hi), len(default), bool(3 <= mean <= 5), "mean within [3, 5]")


def _trend(sweep, x, label, figure, sign, log=False, held=(), count=None, note=""):
    """A claim that n_circles (or count(trials), NaN = not known) rises (sign +1) or falls (-1)
    with config column x (or log10 x), labelled with the values of the `held` columns as found
    in the trials; `note` follows the agreement rule."""
    direction = "above" if sign > 0 else "below"

    def check(sweeps):
        if sweep not in sweeps:
            return None
        trials = sweeps[sweep]
        values = trials[x].to_numpy(dtype=float)
        ys = (trials["n_circles"] if count is None else count(trials)).to_numpy(dtype=float)
        keep = (values > 0 if log else np.ones(len(values), bool)) & np.isfinite(ys)
        if len(np.unique(values[keep])) < 2:
            return None
        xs = np.log10(values[keep]) if log else values[keep]
        slope, lo, hi = stats.slope_interval(xs, ys[keep])
        # only the `held` columns: fixed_values with none names every constant setting
        name = f"{label} ({', '.join([*(groups.fixed_values(trials, *held) if held else []), figure])})"
        return Claim(name, "rises" if sign > 0 else "falls",
                     f"slope {slope:+.3g} per unit {'log10 ' * log}{x}", ci_text(lo, hi, "+.3g"), int(keep.sum()),
                     sign_verdict(lo, hi, sign), f"95 % CI of the slope {direction} 0{UNCLEAR}{note}")
    check.__name__ = f"circles_vs_{x}" + ("" if count is None else f"_{count.__name__}")
    return check


circles_vs_p = _trend("fig5_top", "p", "circles rise with p", "Fig. 5 top", +1, held=["d"])
circles_vs_d = _trend("fig5_bottom", "d", "circles rise with d", "Fig. 5 bottom", +1, held=["p"])
circles_vs_all_p = _trend("fig14", "p", "circles rise with p, every integer p", "Fig. 14", +1, held=["d"])
circles_vs_wd = _trend("fig10", "optimizer.weight_decay", "circles fall as weight decay rises", "Fig. 10", -1,
                       log=True, held=["p", "d"])


def kept_share(trials: pd.DataFrame) -> np.ndarray:
    """Per trial, the share of frequencies k = 1..p//2 above circles.threshold at the end."""
    return (figdata.above_threshold(trials) / (trials["p"] // 2)).to_numpy(dtype=float)


# Fig 10 under the other rule too: at small weight decay every frequency survives, so
# "2 x mean" counts few or none there and the trend it gives says little.
frequencies_vs_wd = _trend("fig10", "optimizer.weight_decay",
                           "frequencies above circles.threshold fall as weight decay rises", "Fig. 10", -1,
                           log=True, held=["p", "d"], count=figdata.above_threshold,
                           note="; trials stop=settled stopped are left out (figdata.above_threshold: not final)")


def no_weight_decay(sweeps):
    if "fig10" not in sweeps:
        return None
    trials = sweeps["fig10"]
    zero = trials[trials["optimizer.weight_decay"] == 0]
    if len(zero) == 0:
        return None
    mean, lo, hi = stats.t_interval(kept_share(zero))
    threshold = figdata.threshold_of(zero).iloc[0]
    return Claim("weight decay 0 keeps all frequencies (App. A)", "all (100 %)",
                 f"{mean:.0%} of k = 1..p//2 end above {threshold:g} "
                 f"(the 2 x mean rule: {zero['n_circles'].mean():.1f} circles)", ci_text(lo, hi, ".0%"),
                 len(zero), bool(mean >= 0.9),
                 f"mean share of frequencies whose final signal exceeds circles.threshold ({threshold:g}) "
                 f">= 90 % (not the circle count: 2 x mean, a relative rule, cannot say 'all')")


def frozen_dip(sweeps):
    if "fig4" not in sweeps:
        return None
    losses = figdata.frozen_losses(sweeps["fig4"], skipped=sweeps.skipped)
    if losses.empty:
        return None
    last = losses[losses["target"] == losses["target"].max()]
    p, step = int(last["p"].iloc[0]), int(last["step"].iloc[0])
    below = last.loc[(last["d"] < p) & (last["d"] >= p - DIP_WINDOW), "test_loss"]
    above = last.loc[(last["d"] > p) & (last["d"] <= p + DIP_WINDOW), "test_loss"]
    if len(below) < 2 or len(above) < 2:
        return None
    diff, lo, hi = stats.difference_interval(below, above)
    return Claim(f"frozen embedding: lower test loss for d > p than d < p (step {step}, Fig. 4)",
                 "sharp drop at d = p", f"loss(d < p) - loss(d > p) = {diff:.3g}", ci_text(lo, hi),
                 len(below) + len(above), sign_verdict(lo, hi),
                 f"Welch CI of the difference in test loss, d within {DIP_WINDOW} of p, above 0{UNCLEAR}")


def signal_correlation(sweeps):
    if "fig6_left" not in sweeps:
        return None
    r, pvalue, n = survival.signal_correlation(figdata.initial_signal(sweeps["fig6_left"]))
    lo, hi = stats.pearson_interval(r, n)
    return Claim("Pearson r, survival rate vs initial signal (Fig. 6 left)", "0.85, p < 1e-3",
                 f"{r:.3f}, {stats.p_text(pvalue)}", ci_text(lo, hi, ".3f"), n,
                 bool(lo <= 0.85 <= hi and pvalue < 1e-3), "CI contains 0.85 and p < 1e-3")


def perturbation_trend(sweeps):
    if "fig6_middle" not in sweeps:
        return None
    curve = survival.perturbation_curve(sweeps["fig6_middle"])
    if curve["x"].nunique() < 3:
        return None
    slope, lo, hi = stats.slope_interval(curve["x"], curve["rate"])
    return Claim("a scaled-up frequency survives more often (Fig. 6 middle)", "rises to ~100 %",
                 f"slope {slope:+.3g} per unit signal", ci_text(lo, hi, "+.3g"), int(curve["n"].sum()),
                 sign_verdict(lo, hi), f"95 % CI of the slope of survival rate vs lead above 0{UNCLEAR}")


def strongest_survives(sweeps):
    if "fig6_right" not in sweeps:
        return None
    curve = survival.construction_curve(sweeps["fig6_right"])
    n, k = int(curve["n"].sum()), int(curve["first"].sum())
    lo, hi = stats.wilson_interval(k, n)
    return Claim("the strongest constructed frequency always survives (Fig. 6 right)", "100 %",
                 f"{k / n:.1%}", ci_text(lo, hi, ".1%"), n, bool(k / n >= 0.95), "survival rate >= 95 %")


def _gradients(sweeps):
    """Fig 7's gradient table, or None where it cannot separate survived from dead."""
    if "fig7" not in sweeps:
        return None
    table = sweeps.memo("gradient", figdata.initial_gradient, sweeps["fig7"], skipped=sweeps.skipped)
    return None if table["survived"].all() or not table["survived"].any() else table


def gradient_difference(sweeps):
    table = _gradients(sweeps)
    if table is None:
        return None
    t, pvalue = gradient.gradient_ttest(table)
    return Claim("survivors have larger initial gradients (step 4, Fig. 7)", "larger", f"Welch t = {t:.2f}",
                 stats.p_text(pvalue), len(table), bool(t > 0 and pvalue < 0.05), "t > 0 and p < 0.05")


def svm(sweeps):
    table = _gradients(sweeps)
    if table is None:
        return None
    result = gradient.svm_accuracy(table)
    return Claim("linear SVM on (gradient, initial signal) predicts survival (Fig. 7)", "83.8 %",
                 f"{result['accuracy']:.1%} (majority {result['baseline']:.1%})",
                 ci_text(result["lo"], result["hi"], ".1%"), result["n_test"],
                 bool(result["lo"] <= 0.838 <= result["hi"]), "CI contains 83.8 %")


def circles_collaborate(sweeps):
    if "fig8" not in sweeps:
        return None
    curves = sweeps.memo("restricted", figdata.restricted, sweeps["fig8"], skipped=sweeps.skipped)
    last = curves[curves["step"] == curves["step"].max()].set_index("label")["loss"]
    if "1 circle" not in last or "3 circles" not in last:
        return None
    one, three = last["1 circle"], last["3 circles"]
    return Claim("one circle fails, three reach ~0 loss (Fig. 8, final snapshot)", "1: high, 3: ~0",
                 f"1: {one:.3g}, 3: {three:.3g}", "", 1, bool(three < 0.1 and one > 10 * three),
                 "loss(3) < 0.1 and loss(1) > 10 x loss(3)")


def gradient_spike(sweeps):
    if "fig13" not in sweeps:
        return None
    grads = figdata.run_signals(sweeps["fig13"], sweeps.skipped, columns=("grad_signal",))
    peak, late = gradient.spike(grads)
    if np.isnan(late):
        return None  # the run ended before step 1000
    return Claim("embedding gradient spikes near step 100, negligible after 1000 (Fig. 13)",
                 "spike ~100; ~0 after 1000", f"peak at step {peak}; after 1000 at most {late:.1%} of it", "", 1,
                 bool(50 <= peak <= 200 and late <= 0.05),
                 "peak of the mean over k within steps 50-200 (a factor 2 of 100) and <= 5 % of it from step 1000")


def circularity_vs_d(sweeps):
    if "fig11" not in sweeps:
        return None
    table = sweeps.memo("circularity", figdata.init_circularity, sweeps["fig11"], skipped=sweeps.skipped)
    per_trial = table.groupby(["job", "trial", "d"], as_index=False)["c"].mean()
    if per_trial["d"].nunique() < 2:
        return None
    slope, lo, hi = stats.slope_interval(per_trial["d"], per_trial["c"])
    return Claim("mean circularity at init rises with d (Fig. 11 left)", "rises",
                 f"slope {slope:+.3g} per unit d", ci_text(lo, hi, "+.3g"), len(per_trial), sign_verdict(lo, hi),
                 f"95 % CI of the slope above 0{UNCLEAR}")


def ode_r2(method):
    """The claim that the linear ODE fits, for method "linear" (least squares) or "lasso"."""
    def check(sweeps):
        if "fig9" not in sweeps:
            return None
        scores, _ = sweeps.memo("ode", figdata.ode_fits, sweeps["fig9"], sweeps.lasso, sweeps.skipped)
        if len(scores) == 0:
            return None
        mean, lo, hi = stats.t_interval(scores[f"{method}_r2_out"], upper=1.0)  # R² <= 1
        inside = scores[f"{method}_r2_in"].mean()
        return Claim(f"linear ODE fits the first 1000 steps, {method} (held-out 20 %, Fig. 9)",
                     "R² close to 1", f"{mean:.3f} (in-sample {inside:.3f})", ci_text(lo, hi, ".3f"),
                     len(scores), bool(mean >= 0.9), "mean held-out R² >= 0.9")
    check.__name__ = f"ode_r2_{method}"
    return check


def lotka_volterra_unstable(sweeps):
    if "fig9" not in sweeps:
        return None
    scores, _ = figdata.ode_fits(sweeps["fig9"].head(LV_RUNS), sweeps.lasso, sweeps.skipped, lotka_volterra=True)
    if len(scores) == 0:
        return None
    n, diverged = len(scores), int(scores["lv_diverged_at"].notna().sum())
    lo, hi = stats.wilson_interval(diverged, n)
    return Claim("Lotka-Volterra form: R² ~ 1 in-sample but its rollout blows up (Sec. 4.2)", "blows up",
                 f"{diverged / n:.0%} of rollouts diverge (in-sample R² {scores['lv_r2_in'].mean():.3f})",
                 ci_text(lo, hi, ".0%"), n, bool(diverged / n > 0.5), "more than half diverge")


def ablation(sweeps):
    if "fig12" not in sweeps:
        return None
    curves = figdata.ablation_curves(sweeps["fig12"], skipped=sweeps.skipped)
    last = curves["step"] == curves.groupby("label")["step"].transform("max")
    final = curves[last].set_index("label")["test_loss"]
    if "largest 2" not in final or "2 random" not in final:
        return None
    best, random = final["largest 2"], final["2 random"]
    return Claim("two strongest circles suffice, two random do not (Fig. 12)", "largest 2: ~1e-7; random: high",
                 f"largest 2: {best:.3g}, 2 random: {random:.3g}", "", 2, bool(best < random),
                 "final test loss lower with the two strongest")


CHECKS = (
    circles_at_default, circles_vs_p, circles_vs_d, circles_vs_all_p, frozen_dip, circles_vs_wd,
    frequencies_vs_wd, no_weight_decay, signal_correlation, perturbation_trend, strongest_survives, gradient_difference, svm,
    circles_collaborate, ode_r2("linear"), ode_r2("lasso"), lotka_volterra_unstable, circularity_vs_d, ablation,
    gradient_spike,
)


def as_table(claims) -> pd.DataFrame:
    return pd.DataFrame([{
        "claim": c.claim, "paper": c.paper, "ours": c.ours, "95% CI": c.ci,
        "n": "" if c.n is None else c.n, "agree": {True: "yes", False: "NO", None: "unclear"}[c.agree],
        "stopped early": c.stopped_early, "loss spikes": c.spiked,
    } for c in claims])


def _plain(sweeps):
    parts = [sweeps[s] for s in PLAIN_SWEEPS if s in sweeps]
    if not parts:
        return None
    trials = pd.concat(parts, ignore_index=True)
    plain = (trials["perturbation.kind"] == "none") & ~trials["freeze_embedding"].astype(bool)
    return trials[plain]


def ci_text(lo, hi, fmt=".3g") -> str:
    return "" if pd.isna(lo) else f"[{lo:{fmt}}, {hi:{fmt}}]"

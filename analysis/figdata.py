"""The tidy data behind each paper figure, shared by the figures and the paper check.

Each function takes the trials of the sweep that produces the figure (one frame,
from jobs.load_trials) and returns tables; those that read more files than
trials.parquet append what they could not read to `skipped` when given a list.

    sweeps = Sweeps(jobs.load_trials(["runs"])[0])
    curve = circles_vs(sweeps["fig5_top"], "p")
    table = initial_gradient(sweeps["fig7"], skipped=sweeps.skipped)

A file that none of the jobs has in readable form raises Unreadable (a ValueError)
naming the file and the first job's problem, rather than yielding an empty table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from tqdm import tqdm

from analysis import circularity, gradient, groups, jobs, ode, restrict, stats, survival
from circle_survival.keys import SWEEP_FORMS

FROZEN_STEPS = (500, 1000, 5000, 10000)


class Unreadable(ValueError):
    """No job holds the file asked for in readable form ("cannot read params.parquet: JOB: why")."""


class Sweeps:
    """Trials split by their `sweep` column, with memoised derived data, a skip list,
    and the analysis settings (the ODE's Lasso alpha).

        sweeps = Sweeps(trials, lasso=0.01)
        if "fig9" in sweeps:
            scores, fits = sweeps.memo("ode", ode_fits, sweeps["fig9"], sweeps.lasso, sweeps.skipped)
    """

    def __init__(self, trials: pd.DataFrame, lasso: float = ode.LASSO_ALPHA):
        # Another form of a sweep (SWEEP_FORMS) stands for it, unless that sweep's own jobs
        # are here too: their trials are the same, and counting both would count them twice.
        present = set(trials["sweep"])
        names = trials["sweep"].replace({form: sweep for form, sweep in SWEEP_FORMS.items()
                                         if sweep not in present})
        self.trials = {name: part.reset_index(drop=True) for name, part in trials.groupby(names, sort=True)}
        self.lasso = lasso
        self.skipped: list = []
        self._memo: dict = {}
        self.read: set[str] = set()  # sweeps asked for since last cleared (claims.check_all)

    def __contains__(self, sweep: str) -> bool:
        return sweep in self.trials

    def __getitem__(self, sweep: str) -> pd.DataFrame:
        self.read.add(sweep)
        return self.trials[sweep]

    def stopped_early(self, names) -> str:
        """How many trials of the named sweeps stopped early (stop=settled), as "k of n"."""
        return self._marked(names, "stopped_step")

    def spiked(self, names) -> str:
        """How many trials of the named sweeps had a loss spike (circle_survival.health), as "k of n"."""
        return self._marked(names, "loss_spike_step")

    def _marked(self, names, column: str) -> str:
        parts = [self.trials[n] for n in sorted(names)]
        n = sum(len(t) for t in parts)
        k = sum(int(t[column].notna().sum()) for t in parts if column in t)
        return f"{k} of {n}" if k else "none"

    def memo(self, key, compute, *args, **kwargs):
        """compute(*args, **kwargs), once per key."""
        if key not in self._memo:
            self._memo[key] = compute(*args, **kwargs)
        return self._memo[key]


def circles_vs(trials: pd.DataFrame, x: str, by=()) -> pd.DataFrame:
    """Number of circles against config column x, per value of the `by` columns: n, mean,
    sd and 95 % CIs (within 0..p//2) per (by, x) (Fig 5, 10, 14, and any sweep)."""
    return groups.summarise(trials, [*by, x])


# The authors' other rule, "final signal > 10" (circles.threshold's default): the threshold
# where a trial's circles.threshold is blank (jobs.load_trials blanks it under "2 x mean").
AUTHORS_THRESHOLD = 10.0


def threshold_of(trials: pd.DataFrame) -> pd.Series:
    """Each trial's circles.threshold, AUTHORS_THRESHOLD where it is blank."""
    given = trials["circles.threshold"] if "circles.threshold" in trials else pd.Series(np.nan, trials.index)
    return given.astype(float).fillna(AUTHORS_THRESHOLD)


def above_threshold(trials: pd.DataFrame) -> pd.Series:
    """Per trial, the frequencies k = 1..p//2 whose final signal exceeds `threshold_of` it
    (the authors' other rule, "final signal > 10"). Unlike "2 x mean", which is relative and
    counts none when every frequency survives, it can count them all.

    NaN for a trial that stop=settled stopped under another circles.rule: the stop waits for
    that rule's circle set, not for every dead frequency to fall below the threshold, so the
    count at its stopping step is not final (seen: 23 of 29 above 10 at step 12,100, weight decay 0.1).
    """
    counts = pd.Series([int((np.asarray(final, dtype=float)[1:] > t).sum())
                        for final, t in zip(trials["final_signal"], threshold_of(trials))],
                       index=trials.index, dtype=float)
    if "stopped_step" in trials:
        other_rule = trials["circles.rule"] != "threshold" if "circles.rule" in trials else True
        counts[trials["stopped_step"].notna() & other_rule] = np.nan
    return counts


def none_stand_out(trials: pd.DataFrame) -> int:
    """Trials "2 x mean" counts no circle in although at least half their frequencies end
    above `threshold_of`: every frequency survived, so none stands out (weight decay 0 or
    small). Figures of circle counts say how many there are, rather than show them as none."""
    if "circles.rule" not in trials or "final_signal" not in trials:
        return 0
    most = above_threshold(trials) >= (trials["p"] // 2) / 2
    return int(((trials["circles.rule"] == "two_mean") & (trials["n_circles"] == 0) & most).sum())


def frozen_losses(trials: pd.DataFrame, steps=FROZEN_STEPS, skipped=None) -> pd.DataFrame:
    """Each trial's test loss at the logged step nearest each target step (Fig 4).

    Columns job, trial, d, p, target, step, test_loss; targets beyond the run are dropped.
    """
    metrics = _read(trials, "metrics.parquet", ["trial", "step", "test_loss"], skipped)
    metrics = _with_config(metrics, trials, ["d", "p"])
    logged = np.sort(metrics["step"].unique())
    parts = []
    for target in steps:
        if len(logged) and target <= logged.max():
            step = logged[np.abs(logged - target).argmin()]
            parts.append(metrics[metrics["step"] == step].assign(target=target))
    columns = ["job", "trial", "d", "p", "target", "step", "test_loss"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def frozen_loss(trials: pd.DataFrame, steps=FROZEN_STEPS, skipped=None) -> pd.DataFrame:
    """Test loss per (target step, d): step, p, n, mean, lo, hi (95 % t) (Fig 4)."""
    rows = []
    losses = frozen_losses(trials, steps, skipped)
    for (target, step, d, p), loss in losses.groupby(["target", "step", "d", "p"])["test_loss"]:
        mean, lo, hi = stats.t_interval(loss, lower=0.0)  # a loss is never below 0
        rows.append({"target": target, "step": step, "d": d, "p": p,
                     "n": len(loss), "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def initial_signal(trials: pd.DataFrame) -> pd.DataFrame:
    """Survival rate and mean initial signal per (embedding, k) (Fig 6 left)."""
    keys = [k for k in groups.varying_keys(trials) if k != "p"] or ["init_seed"]
    return survival.survival_rates(trials, keys)


def initial_gradient(trials: pd.DataFrame, skipped=None) -> pd.DataFrame:
    """One row per (trial, k): init_signal, g1..g4, survived (Fig 7)."""
    signals = _read(trials, "signals.parquet", ["trial", "step", "k", "signal"], skipped,
                    filter=ds.field("step") <= max(gradient.STEPS))
    return gradient.gradient_table(trials, signals)


def top_circles(trials: pd.DataFrame, row: int = 0, n: int = 3) -> list[int]:
    """The trial's surviving frequencies, strongest final signal first (at most n)."""
    trial = trials.iloc[row]
    final = np.asarray(trial["final_signal"], dtype=float)
    return sorted((int(k) for k in trial["circles"]), key=lambda k: -final[k])[:n]


def restricted(trials: pd.DataFrame, skipped=None) -> pd.DataFrame:
    """Fig 8: loss at every parameter snapshot of the first trial, keeping its 1, 2, 3 strongest circles.

    Columns label ("1 circle", ... , "all"), step, loss, acc, and kept (the frequencies).
    """
    first = trials.iloc[:1]
    restrict.check_supported(first.iloc[0])
    trial, p = int(first["trial"].iloc[0]), int(first["p"].iloc[0])
    params = _read(first, "params.parquet", None, skipped, filter=ds.field("trial") == trial)
    top = top_circles(first)
    keep = {f"{n} circle{'s' * (n > 1)}": top[:n] for n in range(1, len(top) + 1)}
    kept = {label: ",".join(map(str, ks)) for label, ks in keep.items()}
    keep["all"], kept["all"] = list(range(1, p // 2 + 1)), "all"
    curves = restrict.restricted_curves(params, trial, keep)
    curves["kept"] = curves["label"].map(kept)
    return curves


def ode_fits(trials: pd.DataFrame, lasso: float = ode.LASSO_ALPHA, skipped=None,
             lotka_volterra: bool = False):
    """Fig 9: fit the linear ODE (least squares and Lasso) to every trial's first 1000 steps.

    Returns (scores, fits): scores has one row per trial with d, r2 of each method
    in-sample and held-out (and Lotka-Volterra's when asked, with the step its
    rollout diverges at); fits maps (job, trial) -> {"steps", "X", "linear", "lasso", ...}.
    """
    rows, fits = [], {}
    # One job at a time: a fig9 sweep's first 1000 steps of every signal do not need to
    # sit in memory at once.
    for job, part in tqdm(trials.groupby("job", sort=True), desc="ODE fits", leave=False, disable=None):
        wanted = (ds.field("step") < ode.N_STEPS) & ds.field("trial").isin(part["trial"].tolist())
        try:
            signals = _read(part, "signals.parquet", ["trial", "step", "k", "signal"], skipped, filter=wanted)
        except Unreadable:  # this job only (already in `skipped`); the others still fit
            continue
        for trial, one in signals.groupby("trial", sort=True):
            steps, X = ode.trajectory(one)
            if len(steps) < 10:
                continue
            fit = {"steps": steps, "X": X,
                   "linear": ode.fit_linear(steps, X), "lasso": ode.fit_linear(steps, X, lasso=lasso)}
            row = {"job": job, "trial": trial}
            for name in ("linear", "lasso"):
                row[f"{name}_r2_in"], row[f"{name}_r2_out"] = fit[name].r2_in, fit[name].r2_out
            if lotka_volterra:
                fit["lv"] = ode.fit_lotka_volterra(steps, X)
                path = ode.rollout(fit["lv"].A, fit["lv"].b, X[0], steps, phi=ode.quadratic_features)
                row["lv_r2_in"], row["lv_diverged_at"] = fit["lv"].r2_in, ode.diverged_at(path, X)
            rows.append(row)
            fits[(job, trial)] = fit
    scores = pd.DataFrame(rows)
    return _with_config(scores, trials, ["d", "p"]) if len(scores) else scores, fits


def init_circularity(trials: pd.DataFrame, skipped=None) -> pd.DataFrame:
    """Fig 11: circularity c of each trial's initial E per k, and whether k survived.

    Columns job, trial, d, p, k, c, survived.
    """
    params = _read(trials, "params.parquet", None, skipped,
                   filter=(ds.field("step") == 0) & (ds.field("name") == "E"))
    rows = []
    for (job, trial), weights in tqdm(_by_job(params).items(), desc="circularity", leave=False, disable=None):
        c = circularity.circularity(weights["E"])
        rows += [{"job": job, "trial": trial, "k": k, "c": c[k]} for k in range(1, len(c))]
    table = _with_config(pd.DataFrame(rows), trials, ["d", "p"])
    freq = survival.frequency_table(trials)
    freq["job"], freq["trial"] = trials["job"].to_numpy()[freq["row"]], trials["trial"].to_numpy()[freq["row"]]
    return table.merge(freq[["job", "trial", "k", "survived"]], on=["job", "trial", "k"], how="left")


def ablation_label(row: pd.Series) -> str:
    """A readable name for a Fig 12 variant from its perturbation config."""
    if row.get("perturbation.kind", "none") != "keep":
        return "all frequencies"
    if row.get("perturbation.top", 0) and row["perturbation.top"] > 0:
        return "largest" if row["perturbation.top"] == 1 else f"largest {int(row['perturbation.top'])}"
    if row.get("perturbation.random", 0) and row["perturbation.random"] > 0:
        n = int(row["perturbation.random"])
        return "one random" if n == 1 else f"{n} random"
    return f"keep {row.get('perturbation.ks', '')}"


def ablation_curves(trials: pd.DataFrame, skipped=None) -> pd.DataFrame:
    """Fig 12: test loss over steps per variant: label, step, test_loss (mean over the variant's trials)."""
    labels = trials.apply(ablation_label, axis=1)
    metrics = _read(trials, "metrics.parquet", ["trial", "step", "test_loss"], skipped)
    label_of = dict(zip(zip(trials["job"], trials["trial"]), labels))
    metrics["label"] = [label_of.get((j, t)) for j, t in zip(metrics["job"].astype(str), metrics["trial"])]
    return metrics.dropna(subset=["label"]).groupby(["label", "step"], as_index=False)["test_loss"].mean()


def run_signals(trials: pd.DataFrame, skipped=None, columns=("signal",)) -> pd.DataFrame:
    """The long signals table (step, k, signal, ...) of the first trial, with survived per k (Fig 2, 13)."""
    return job_signals(trials.iloc[:1], skipped, columns)


def job_signals(trials: pd.DataFrame, skipped=None, columns=("signal",)) -> pd.DataFrame:
    """The long signals table of the given trials of one job (the first job's, if several):
    job, trial, step, k, the columns, and survived (k is in the trial's circles).

        job_signals(trials[trials["job"] == trials["job"].iloc[0]].head(6))
    """
    mine = trials[trials["job"] == trials["job"].iloc[0]]
    signals = _read(mine, "signals.parquet", ["trial", "step", "k", *columns], skipped,
                    filter=ds.field("trial").isin(mine["trial"].tolist()))
    alive = [(int(t), int(k)) for t, ks in zip(mine["trial"], mine["circles"]) for k in ks]
    pairs = pd.MultiIndex.from_arrays([signals["trial"].astype(int), signals["k"].astype(int)])
    return signals.assign(survived=pairs.isin(alive))


def run_snapshots(trials: pd.DataFrame, skipped=None) -> dict:
    """{step: E} for every parameter snapshot of the first trial (Fig 2, 3)."""
    first = trials.iloc[:1]
    trial = int(first["trial"].iloc[0])
    params = _read(first, "params.parquet", None, skipped,
                   filter=(ds.field("trial") == trial) & (ds.field("name") == "E"))
    return {step: w["E"] for (_, step), w in restrict.snapshots(params).items()}


def _read(trials, name, columns, skipped, filter=None) -> pd.DataFrame:
    """read_table over the trials' jobs; what cannot be read goes to `skipped`, and
    Unreadable is raised when no job's file could be read."""
    job_dirs = sorted(trials["job"].unique())
    table, bad = jobs.read_table(job_dirs, name, columns=columns, filter=filter)
    if skipped is not None:
        skipped += bad
    if bad and {skip.path for skip in bad} >= set(job_dirs):
        more = f" (and {len(bad) - 1} more jobs)" if len(bad) > 1 else ""
        raise Unreadable(f"cannot read {name}: {bad[0]}{more}")
    table["job"] = table["job"].astype(str)
    return table


def _with_config(table: pd.DataFrame, trials: pd.DataFrame, columns) -> pd.DataFrame:
    """Attach per-trial config columns by (job, trial)."""
    config = trials[["job", "trial", *columns]]
    return table.merge(config, on=["job", "trial"], how="inner")


def _by_job(params: pd.DataFrame) -> dict:
    """{(job, trial): {name: array}} over every job in a params table (snapshots are per job)."""
    out = {}
    for job, rows in params.groupby("job", observed=True, sort=True):
        for (trial, _), weights in restrict.snapshots(rows).items():
            out[(job, trial)] = weights
    return out

"""One function per paper figure (Fig 2-16, and Eq. 2's rollout), drawn from figdata.

A figure draws when at least one sweep it needs is present; a panel whose sweep is
missing says which command produces it. Which trials count as a sweep's is up to the
caller (figures.py binds them by the `sweep` column, or all of a root with --figure).

    sweeps = figdata.Sweeps(trials)
    if available("fig5", sweeps):
        fig = FIGURES["fig5"](sweeps)                 # a matplotlib figure
"""
from __future__ import annotations

import numpy as np

from analysis import figdata, fourier, gradient, groups, ode, plotting, stats, survival, sweep_figures
from analysis.plotting import DEAD, SIGNAL, STEP, SURVIVED

# figure -> the named sweeps whose jobs hold its data
SWEEPS = {
    "fig2": ("fig2",), "fig3": ("fig3",), "fig4": ("fig4",), "fig5": ("fig5_top", "fig5_bottom"),
    "fig6": ("fig6_left", "fig6_middle", "fig6_right"), "fig7": ("fig7",), "fig8": ("fig8",),
    "fig9": ("fig9",), "fig10": ("fig10",), "fig11": ("fig11",), "fig12": ("fig12",),
    "fig13": ("fig13",), "fig14": ("fig14",), "fig15": ("fig9",), "fig16": ("fig9",), "eq2": ("fig9",),
}
TRAIN = "python -m circle_survival.train -m +sweep={}"
TOKEN = "token n (0 to p - 1)"  # the colour key of token scatters


def available(name: str, sweeps) -> bool:
    return any(s in sweeps for s in SWEEPS[name])


def how_to_run(sweep: str) -> str:
    return TRAIN.format(sweep)


def fig2(sweeps):
    trials = sweeps["fig2"]
    signals = figdata.run_signals(trials, sweeps.skipped)
    snaps = figdata.run_snapshots(trials, sweeps.skipped)
    shown = _spread(sorted(snaps), 5)
    alive = figdata.top_circles(trials, n=1)
    init = np.asarray(trials["init_signal"].iloc[0], dtype=float)
    dead = [k for k in np.argsort(-init) if k >= 1 and k not in set(trials["circles"].iloc[0])][:1]
    layout = [["top"] * len(shown)] + [[f"{row}{i}" for i in range(len(shown))] for row in ("dead", "alive")]
    fig, axes = plotting.mosaic(layout, "Fig 2: signals over training, and two frequencies' planes")
    plotting.signal_lines(axes["top"], signals, "signal", log_x=True)
    axes["top"].set(ylabel=SIGNAL, title="all frequencies (colour: survived)")
    tokens = None
    for row, ks in (("dead", dead), ("alive", alive)):
        for i, step in enumerate(shown):
            ax = axes[f"{row}{i}"]
            if not ks:
                plotting.note(ax, f"no {row} frequency")
                continue
            xy = fourier.project(snaps[step], int(ks[0]))
            tokens = ax.scatter(xy[:, 0], xy[:, 1], c=np.arange(len(xy)), cmap="twilight", s=12)
            ax.set(title=f"step {step}", aspect="equal")
            if i == 0:
                ax.set_ylabel(f"k = {ks[0]} ({row})\nIm axis")
            ax.set_xlabel("Re axis")
    if tokens is not None:
        planes = [axes[f"{row}{i}"] for row in ("dead", "alive") for i in range(len(shown))]
        fig.colorbar(tokens, ax=planes, label=TOKEN, shrink=0.8)
    return fig


def fig3(sweeps):
    trials = sweeps["fig3"]
    snaps = figdata.run_snapshots(trials, sweeps.skipped)
    E = snaps[max(snaps)]
    p = E.shape[0]
    centred = E - E.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = centred @ vt.T
    pairs = min(5, pcs.shape[1] // 2)
    order = [k for k in np.argsort(-fourier.signals(E)) if k >= 1][:5]
    fig, axes = plotting.figure(2, max(pairs, len(order)),
                                title=f"Fig 3: PCA (top) vs Fourier planes (bottom), trained embedding, p = {p}")
    for i in range(pairs):
        _tokens(axes[0, i], pcs[:, 2 * i], pcs[:, 2 * i + 1])
        axes[0, i].set(xlabel=f"PC {2 * i + 1}", ylabel=f"PC {2 * i + 2}",
                       title=f"singular values {singular[2 * i]:.3g}, {singular[2 * i + 1]:.3g}")
    for i, k in enumerate(order):
        xy = fourier.project(E, int(k))
        _tokens(axes[1, i], xy[:, 0], xy[:, 1])
        delta = f", Δ = {pow(int(k), -1, p)}" if np.gcd(int(k), p) == 1 else ""
        axes[1, i].set(xlabel=f"Re F_{k} axis", ylabel=f"Im F_{k} axis", title=f"k = {k}{delta}")
    for ax in [*axes[0, pairs:], *axes[1, len(order):]]:
        ax.set_axis_off()
    return fig


def fig4(sweeps):
    table = figdata.frozen_loss(sweeps["fig4"], skipped=sweeps.skipped)
    if table.empty:
        raise ValueError(f"no job logs a step as late as {min(figdata.FROZEN_STEPS)} "
                         f"(the test loss is read at steps {', '.join(map(str, figdata.FROZEN_STEPS))})")
    p = int(table["p"].iloc[0])
    fig, axes = plotting.figure(1, 2, title=f"Fig 4: frozen random embedding, only the MLP trains (p = {p})")
    for ax, zoom in zip(axes[0], (False, True)):
        for _, part in table.groupby("target"):
            plotting.line_with_band(ax, part["d"], part["mean"], part["lo"], part["hi"],
                                    label=f"step {part['step'].iloc[0]}", marker=".")
        ax.axvline(p, color="0.3", linestyle="--", linewidth=1, label="d = p")
        ax.set(xlabel="embedding dimension d", ylabel="test loss (nats)")
        if zoom:
            ax.set(ylim=(0, 1), title="zoomed to loss < 1")
    axes[0, 0].legend()
    return fig


def fig5(sweeps):
    fig, axes = plotting.figure(2, 1, title="Fig 5: surviving circles vs p and vs d")
    for ax, sweep, x, label in ((axes[0, 0], "fig5_top", "p", "modulus p"),
                                (axes[1, 0], "fig5_bottom", "d", "embedding dimension d")):
        _circles_panel(ax, sweeps, sweep, x, label)
    return fig


def fig6(sweeps):
    fig, axes = plotting.figure(1, 3, title="Fig 6: survival follows the initial signal")
    for ax, sweep, panel in zip(axes[0], ("fig6_left", "fig6_middle", "fig6_right"),
                                (_observed, _perturbed, _constructed)):
        if sweep in sweeps:
            panel(ax, sweeps[sweep])
        else:
            plotting.note(ax, f"no data: {how_to_run(sweep)}")
    return fig


def _observed(ax, trials):
    rates = figdata.initial_signal(trials)
    r, pvalue, n = survival.signal_correlation(rates)
    embedding = [c for c in rates.columns if c not in (*survival.RATE_COLUMNS, "p")]
    for _, part in rates.groupby(embedding or "p"):  # one colour per embedding
        plotting.error_bars(ax, part["init_signal"], part["rate"], part["lo"], part["hi"],
                            fmt="o", alpha=0.7, elinewidth=0.6, markersize=3)
    ax.set(xlabel="initial signal ||F_k||", ylabel="survival rate",
           title=f"observed: Pearson r = {r:.2f}, {stats.p_text(pvalue)}, n = {n}")


def _perturbed(ax, trials):
    curve = survival.perturbation_curve(trials)
    for line, part in curve.groupby("line"):
        plotting.line_with_band(ax, part["x"], part["rate"], part["lo"], part["hi"],
                                label=f"embedding {line}", marker=".")
    ax.axvline(0, color="0.3", linestyle="--", linewidth=1)
    ax.set(xlabel=f"signal of k = {curve['k'].iloc[0]} minus mean signal", ylabel="survival rate",
           title="perturbed: scale one frequency by alpha")
    ax.legend(fontsize=6, ncol=2)


def _constructed(ax, trials):
    curve = survival.construction_curve(trials)
    for which, label in (("first", "largest"), ("second", "second largest")):
        plotting.line_with_band(ax, curve["r"], curve[f"{which}_rate"], curve[f"{which}_lo"],
                                curve[f"{which}_hi"], label=label)
    ax.set(xscale="log", xlabel="ratio r of the two constructed signals", ylabel="survival rate",
           title="constructed: signals s and r s, rest 1e-6")
    ax.legend()


def fig7(sweeps):
    table = sweeps.memo("gradient", figdata.initial_gradient, sweeps["fig7"], skipped=sweeps.skipped)
    fig, axes = plotting.figure(1, 3, title="Fig 7: initial gradient (relative change of the signal)")
    left, middle, right = axes[0]
    alive = table["survived"]
    bins = np.histogram_bin_edges(table["g4"], 30)
    left.hist(table.loc[~alive, "g4"], bins, color=DEAD, alpha=0.6, label="dead", density=True)
    left.hist(table.loc[alive, "g4"], bins, color=SURVIVED, alpha=0.6, label="survived", density=True)
    t, pvalue = gradient.gradient_ttest(table) if alive.any() and (~alive).any() else (np.nan, np.nan)
    left.set(xlabel="gradient at step 4 / initial signal", ylabel="density",
             title=f"Welch t = {t:.2f}, {stats.p_text(pvalue)}")
    left.legend()
    for step in gradient.STEPS:
        curve = gradient.survival_vs_gradient(table, step)
        plotting.line_with_band(middle, curve["g"], curve["rate"], curve["lo"], curve["hi"],
                                label=f"step {step}", marker=".")
    middle.set(xlabel="gradient / initial signal", ylabel="survival rate", title="survival vs gradient (deciles)")
    middle.legend()
    for fate, colour, label in ((~alive, DEAD, "dead"), (alive, SURVIVED, "survived")):
        right.scatter(table.loc[fate, "g4"], table.loc[fate, "init_signal"], s=4, color=colour, alpha=0.6,
                      label=label)
    title = "linear SVM: needs both classes"
    if alive.any() and (~alive).any():
        svm = gradient.svm_accuracy(table)
        g = np.linspace(table["g4"].min(), table["g4"].max(), 50)
        right.plot(g, _svm_boundary(svm["model"], g), color="k", linewidth=1, label="SVM boundary")
        right.set_ylim(table["init_signal"].min() * 0.95, table["init_signal"].max() * 1.05)
        title = f"SVM accuracy {svm['accuracy']:.1%} [{svm['lo']:.1%}, {svm['hi']:.1%}], n = {svm['n_test']}"
    right.set(xlabel="gradient at step 4 / initial signal", ylabel="initial signal ||F_k||", title=title)
    right.legend()
    return fig


def fig8(sweeps):
    curves = sweeps.memo("restricted", figdata.restricted, sweeps["fig8"], skipped=sweeps.skipped)
    labels = [label for label in curves["label"].unique() if label != "all"]
    full = curves[curves["label"] == "all"]
    fig, axes = plotting.figure(1, max(len(labels), 1),
                                title="Fig 8: loss with only the strongest circles kept")
    for ax, label in zip(axes[0], labels):
        part = curves[curves["label"] == label]
        ax.plot(full["step"], full["loss"], color="0.6", linestyle="--", label="all frequencies")
        ax.plot(part["step"], part["loss"], marker=".", label=label)
        ax.set(yscale="log", xlabel=STEP, ylabel="loss on all p² pairs (nats)",
               title=f"keep k = {part['kept'].iloc[0]}")
        ax.legend()
    return fig


def fig9(sweeps):
    scores, fits = _ode(sweeps)
    key = _representative(scores)
    fit = fits[key]
    dead, alive = _dead_and_alive(sweeps["fig9"], key, fit)
    fig, axes = plotting.figure(1, 4, title="Fig 9: a linear ODE dx/dt = A x + b models the signals")
    by_d = scores.groupby("d")
    for method in ("linear", "lasso"):
        stat = by_d[f"{method}_r2_out"].agg(["mean", "std", "count"]).reset_index()
        half = stats.t_half_width(stat["std"], stat["count"])
        line = plotting.line_with_band(axes[0, 0], stat["d"], stat["mean"], stat["mean"] - half,
                                       np.minimum(stat["mean"] + half, 1.0),  # R² <= 1
                                       label=f"{method} (held-out 20 %)", marker=".")
        axes[0, 0].plot(stat["d"], by_d[f"{method}_r2_in"].mean().to_numpy(), linestyle=":",
                        color=line.get_color(), label=f"{method} (in-sample)")
    axes[0, 0].set(xlabel="embedding dimension d", ylabel="R²", title="fit quality")
    axes[0, 0].legend()
    for ax, k, fate in ((axes[0, 1], dead, "dead"), (axes[0, 2], alive, "surviving")):
        _trajectories(ax, fit, k)
        ax.set(title=f"{fate} frequency k = {k}")
    axes[0, 1].legend()
    _heatmap(fig, axes[0, 3], fit["lasso"].A, "Lasso coefficients A")
    return fig


def fig10(sweeps):
    trials = sweeps["fig10"]
    threshold = figdata.threshold_of(trials).iloc[0]
    # the configured rule's circles, and frequencies above circles.threshold: at small weight
    # decay every frequency survives and "2 x mean" (relative) counts few or none there
    rule = f" ({trials['circles.rule'].iloc[0]})" if "circles.rule" in trials else ""
    above = trials.assign(n_above_threshold=figdata.above_threshold(trials)).dropna(subset=["n_above_threshold"])
    left_out = f", {len(trials) - len(above)} stopped trials left out" if len(above) < len(trials) else ""
    lines = ((figdata.circles_vs(trials, "optimizer.weight_decay"), f"circles{rule}"),
             (groups.summarise(above, ["optimizer.weight_decay"], "n_above_threshold"),
              f"final signal > {threshold:g}{left_out}"))
    title = f"Fig 10: surviving circles vs weight decay{_fixed(trials, 'p', 'd')}"
    fig, axes = plotting.figure(1, 3, title=title)
    for ax, pick, scale, title in ((axes[0, 0], lambda wd: wd > 0, "log", "all weight decays"),
                                   (axes[0, 1], lambda wd: (wd > 0) & (wd < 0.1), "log", "small (< 0.1)"),
                                   (axes[0, 2], lambda wd: wd >= 0.1, "linear", "large (≥ 0.1)")):
        for table, label in lines:
            part = table[pick(table["optimizer.weight_decay"])]
            if not part.empty:
                plotting.line_with_band(ax, part["optimizer.weight_decay"], part["mean"], part["t_lo"],
                                        part["t_hi"], label=f"{label} ({plotting.n_text(part['n'])} per point)")
        if not plotting.has_data(ax):
            plotting.note(ax, f"no weight decay {title}")
            continue
        ax.set(xscale=scale, xlabel="weight decay", ylabel="frequencies k = 1..p//2 counted", title=title)
        ax.legend()
    return fig


def fig11(sweeps):
    table = sweeps.memo("circularity", figdata.init_circularity, sweeps["fig11"], skipped=sweeps.skipped)
    fig, axes = plotting.figure(1, 2, title="Fig 11: circularity (Eq. 5) of the initial embedding")
    per_trial = table.groupby(["job", "trial", "d"])["c"].agg(["mean", "max"]).reset_index()
    for which in ("mean", "max"):
        stat = per_trial.groupby("d")[which].agg(["mean", "std", "count"]).reset_index()
        half = stats.t_half_width(stat["std"], stat["count"])
        plotting.line_with_band(axes[0, 0], stat["d"], stat["mean"], stat["mean"] - half, stat["mean"] + half,
                                label=f"{which} over k", marker=".")
    axes[0, 0].set(xlabel="embedding dimension d", ylabel="circularity at init", title="vs d")
    axes[0, 0].legend()
    # Survival needs training: fig11's jobs only initialise (steps: 1), so the right panel
    # reads fig5_bottom's runs, which start from the same initial embeddings (its params at
    # step 0) and were trained to the end.
    ax = axes[0, 1]
    if "fig5_bottom" not in sweeps:
        plotting.note(ax, f"survival comes from fig5_bottom's trained runs: {how_to_run('fig5_bottom')}")
        return fig
    trained = sweeps.memo("circularity fig5_bottom", figdata.init_circularity, sweeps["fig5_bottom"],
                          skipped=sweeps.skipped).dropna(subset=["survived"])  # diverged: unknown
    alive = trained["survived"].astype(bool)
    bins = np.linspace(0, 1, 31)
    for part, colour, label in ((trained[~alive], DEAD, "dead"), (trained[alive], SURVIVED, "survived")):
        if len(part):
            ax.hist(part["c"], bins, color=colour, alpha=0.6, density=True, label=f"{label} ({len(part)})")
    ax.set(xlabel="circularity at init", ylabel="density",
           title=f"survived vs dead frequencies (fig5_bottom, {trained['trial'].groupby(trained['job']).nunique().sum()} runs)")
    ax.legend()
    return fig


def fig12(sweeps):
    curves = figdata.ablation_curves(sweeps["fig12"], skipped=sweeps.skipped)
    fig, axes = plotting.figure(1, 2, title="Fig 12: training from an embedding ablated to a few frequencies")
    for ax, labels in ((axes[0, 0], ("all frequencies", "largest", "largest 2")),
                       (axes[0, 1], ("all frequencies", "one random", "2 random"))):
        for label in labels:
            part = curves[(curves["label"] == label) & (curves["step"] > 0)]
            if len(part):
                ax.plot(part["step"], part["test_loss"], label=label)
        ax.set(xscale="log", yscale="log", xlabel=STEP, ylabel="test loss (nats)")
        ax.legend()
    return fig


def fig13(sweeps):
    signals = figdata.run_signals(sweeps["fig13"], sweeps.skipped, columns=("grad_signal",))
    fig, axes = plotting.figure(1, 2, title="Fig 13: embedding gradient dL/dE in the Fourier basis")
    plotting.signal_lines(axes[0, 0], signals, "grad_signal", log_x=True)
    zoom = signals[(signals["step"] >= 100) & (signals["step"] <= 1000)]
    plotting.signal_lines(axes[0, 1], zoom, "grad_signal", log_x=False)
    for ax, title in zip(axes[0], ("all steps", "steps 100 to 1000")):
        ax.set(ylabel="||FFT(dL/dE)_k||", title=title)
    return fig


def fig14(sweeps):
    title = f"Fig 14: surviving circles for every p{_fixed(sweeps['fig14'], 'd')}"
    fig, axes = plotting.figure(1, 1, title=title)
    _circles_panel(axes[0, 0], sweeps, "fig14", "p", "modulus p (every integer)")
    return fig


def fig15(sweeps):
    scores, fits = _ode(sweeps)
    keys = [k for k in fits if k != _representative(scores)][:3] or [_representative(scores)]
    fig, axes = plotting.figure(1, len(keys), title="Fig 15: more Lasso coefficient matrices")
    for ax, key in zip(axes[0], keys):
        _heatmap(fig, ax, fits[key]["lasso"].A, f"trial {key[1]}, d = {_d_of(scores, key)}")
    return fig


def fig16(sweeps):
    scores, fits = _ode(sweeps)
    fit = fits[_representative(scores)]
    K = fit["X"].shape[1]
    cols = min(K, 6)
    fig, axes = plotting.figure(-(-K // cols), cols, panel=(2.2, 1.7),
                                title="Fig 16: every frequency's signal and its ODE estimates")
    for k, ax in zip(range(1, K + 1), axes.ravel()):
        _trajectories(ax, fit, k, labels=k == 1)
        ax.set(title=f"k = {k}", xlabel=STEP if k > K - cols else "", ylabel="")
    for ax in axes.ravel()[K:]:
        ax.set_axis_off()
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=4)
    fig.supylabel(SIGNAL)
    return fig


def eq2(sweeps):
    scores, fits = _ode(sweeps)
    fit = fits[_representative(scores)]
    steps, X = fit["steps"], fit["X"]
    lv = ode.fit_lotka_volterra(steps, X)
    fig, axes = plotting.figure(1, 2, title="Eq. 2: the Lotka-Volterra form fits, but its rollout blows up")
    paths = {"data": X, "linear ODE": ode.rollout(fit["linear"].A, fit["linear"].b, X[0], steps),
             "Lotka-Volterra": ode.rollout(lv.A, lv.b, X[0], steps, phi=ode.quadratic_features)}
    for label, path in paths.items():
        with np.errstate(invalid="ignore", over="ignore"):
            axes[0, 0].plot(steps, np.linalg.norm(path, axis=1), label=label)
    axes[0, 0].set(yscale="log", xlabel=STEP, ylabel="||x_t|| (all signals)",
                   ylim=(np.linalg.norm(X, axis=1).min() / 10, None))
    axes[0, 0].legend()
    diverged = ode.diverged_at(paths["Lotka-Volterra"], X)
    axes[0, 0].set_title(f"rollout (LV leaves 10x the data range at step {diverged})" if diverged is not None
                         else "rollout (LV stays bounded here)")
    r2 = {"linear": fit["linear"].r2_in, "Lotka-Volterra": lv.r2_in}
    axes[0, 1].bar(list(r2), list(r2.values()), color=["tab:blue", "tab:red"])
    axes[0, 1].set(ylabel="in-sample R²", ylim=(min(0, *r2.values()), 1.05), title="one-step fit")
    return fig


FIGURES = {
    "fig2": fig2, "fig3": fig3, "fig4": fig4, "fig5": fig5, "fig6": fig6, "fig7": fig7, "fig8": fig8,
    "fig9": fig9, "fig10": fig10, "fig11": fig11, "fig12": fig12, "fig13": fig13, "fig14": fig14,
    "fig15": fig15, "fig16": fig16, "eq2": eq2,
}


def _circles_panel(ax, sweeps, sweep, x, xlabel):
    if sweep not in sweeps:
        plotting.note(ax, f"no data: {how_to_run(sweep)}")
        return
    trials = sweeps[sweep]
    sweep_figures.circles_panel(ax, trials, x, xlabel=xlabel)
    ax.set_title(_fixed(trials, *({"p", "d"} - {x})).strip(" ()"))


def _tokens(ax, x, y):
    ax.scatter(x, y, c=np.arange(len(x)), cmap="twilight", s=14)
    for t, (a, b) in enumerate(zip(x, y)):
        ax.annotate(str(t), (a, b), fontsize=5, ha="center", va="bottom")
    ax.set_aspect("equal", adjustable="datalim")


def _fixed(trials, *columns) -> str:
    """" (d = 128, p = 59)" for the columns that hold one value in these trials."""
    fixed = groups.fixed_values(trials, *columns)
    return f" ({', '.join(fixed)})" if fixed else ""


def _svm_boundary(model, g):
    """Initial signal on the SVM's decision line for each gradient g (original units)."""
    scaler, svc = model[0], model[-1]
    (w0, w1), b = svc.coef_[0], svc.intercept_[0]
    z0 = (g - scaler.mean_[0]) / scaler.scale_[0]
    return scaler.mean_[1] - scaler.scale_[1] * (b + w0 * z0) / w1


def _ode(sweeps):
    scores, fits = sweeps.memo("ode", figdata.ode_fits, sweeps["fig9"], sweeps.lasso, sweeps.skipped)
    if not fits:
        raise ValueError("fig9 jobs have no signals for the first steps (log.dense_steps too small?)")
    return scores, fits


def _representative(scores):
    """The run shown in detail: the first trial of the largest d (closest to the paper's 128)."""
    row = scores.sort_values(["d", "job", "trial"], ascending=[False, True, True]).iloc[0]
    return row["job"], row["trial"]


def _d_of(scores, key):
    return int(scores.set_index(["job", "trial"]).loc[key, "d"])


def _dead_and_alive(trials, key, fit):
    """The strongest surviving k and the dead k with the largest initial signal, of one trial."""
    row = trials[(trials["job"] == key[0]) & (trials["trial"] == key[1])].iloc[0]
    alive = set(int(k) for k in row["circles"])
    final, start = fit["X"][-1], fit["X"][0]
    ks = range(1, fit["X"].shape[1] + 1)
    dead = max((k for k in ks if k not in alive), key=lambda k: start[k - 1], default=1)
    strongest = max(alive, key=lambda k: final[k - 1], default=ks[-1])
    return dead, strongest


def _trajectories(ax, fit, k, labels=True):
    steps, X = fit["steps"], fit["X"]
    t = steps - steps[0]
    lasso = fit["lasso"]
    lines = {
        "data": X[:, k - 1],
        "linear rollout": ode.rollout(fit["linear"].A, fit["linear"].b, X[0], steps)[:, k - 1],
        "Lasso rollout": ode.rollout(lasso.A, lasso.b, X[0], steps)[:, k - 1],
        "Lasso analytic": ode.analytic(lasso.A, lasso.b, X[0], t[:: max(len(t) // 50, 1)])[:, k - 1],
    }
    styles = {"data": dict(color="k", linewidth=2), "linear rollout": dict(linestyle="--"),
              "Lasso rollout": dict(linestyle="-."), "Lasso analytic": dict(linestyle="", marker=".")}
    for label, y in lines.items():
        x = steps[:: max(len(t) // 50, 1)] if label == "Lasso analytic" else steps
        ax.plot(x, y, label=label if labels else None, **styles[label])
    ax.set(xlabel=STEP, ylabel=SIGNAL)


def _heatmap(fig, ax, A, title):
    vmax = np.abs(A).max() or 1.0
    image = ax.imshow(A, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    K = len(A)
    ticks = np.arange(0, K, max(K // 6, 1))
    ax.set(xticks=ticks, xticklabels=ticks + 1, yticks=ticks, yticklabels=ticks + 1,
           xlabel="k (source)", ylabel="k (rate of change)", title=title)
    ax.grid(False)
    fig.colorbar(image, ax=ax, shrink=0.8)


def _spread(values, n):
    """At most n of the values, spread evenly on a log scale (first and last kept)."""
    if len(values) <= n:
        return list(values)
    idx = np.unique(np.round(np.geomspace(1, len(values), n)).astype(int) - 1)
    return [values[i] for i in idx]

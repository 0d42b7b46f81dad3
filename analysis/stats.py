"""95 % confidence intervals: t (means), bootstrap (small samples), Wilson (rates), Fisher (r).

    mean, lo, hi = t_interval([3, 4, 4, 5])
    lo, hi = bootstrap_interval([3, 4, 4, 5])
    lo, hi = wilson_interval(successes=12, n=50)       # also element-wise on arrays
    lo, hi = pearson_interval(r=0.85, n=290)
    diff, lo, hi = difference_interval(a, b)           # mean(a) - mean(b), Welch
    p_text(3e-7)                                       # "p = 3.0e-07" (for titles and tables)
"""
from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# Below this many samples the t-interval leans on normality; report a bootstrap too.
SMALL_N = 30


def t_interval(values, confidence: float = CONFIDENCE, lower: float = -np.inf,
               upper: float = np.inf) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean; bounds are NaN for n < 2.
    `lower`, `upper`: the possible range (a loss >= 0, R² <= 1), which the interval does not leave."""
    x = np.asarray(values, dtype=float)
    mean = x.mean() if len(x) else np.nan
    if len(x) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return mean, max(mean - half, lower), min(mean + half, upper)


def t_half_width(sd, n, confidence: float = CONFIDENCE):
    """Half-width of the t-interval from sd and n (arrays allowed; NaN where n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
        return t * np.asarray(sd, dtype=float) / np.sqrt(n)


def bootstrap_interval(values, confidence: float = CONFIDENCE, n_boot: int = 4000, seed: int = 0):
    """Percentile bootstrap interval of the mean (fixed seed, so reproducible)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return np.nan, np.nan
    means = x[np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))].mean(axis=1)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(lo), float(hi)


def wilson_interval(successes, n, confidence: float = CONFIDENCE):
    """Wilson score interval of a binomial rate; works element-wise, NaN where n = 0."""
    k, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = k / n
        centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def pearson_interval(r: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Fisher-z confidence interval of a Pearson correlation from n pairs."""
    if n < 4:
        return np.nan, np.nan
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = stats.norm.ppf(0.5 + confidence / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def slope_interval(x, y, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Least-squares slope of y on x with its t-interval (n - 2 degrees of freedom)."""
    fit = stats.linregress(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if len(x) < 3:
        return fit.slope, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 2) * fit.stderr
    return fit.slope, fit.slope - half, fit.slope + half


def difference_interval(a, b, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(a) - mean(b) with its Welch t-interval (unequal variances)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        return diff, np.nan, np.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.5 + confidence / 2, df) * np.sqrt(va + vb)
    return diff, diff - half, diff + half


def p_text(pvalue: float) -> str:
    """A p-value for people: "p = 3.0e-07", or "p < 1e-300" where it underflowed to 0."""
    return "p < 1e-300" if pvalue == 0 else f"p = {pvalue:.1e}"

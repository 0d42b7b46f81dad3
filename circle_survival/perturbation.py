"""Interventions on the initial embedding, in its Fourier basis (Fig 6 middle and right, Fig 12).

    E, applied = perturb(cfg, E, trials)       # E (T, p, d) -> perturbed E, per-trial ks
    scale_frequencies(E, [25], 1.1)            # F_25 and F_{p-25} times 1.1, the rest as is
    keep_frequencies(E, [3, 5])                # only DC, k = 3 and k = 5 left
    construct(59, 128, (7, 20), 80.0, 0.5, 1e-6, gen)  # signals 80 at k=7, 40 at k=20, 1e-6 else
    top_frequencies("multirun/fig12/perturbation=none", trial=0, n=2, p=59)   # [k1, k2]

Each acts on F = FFT of E along tokens (F_k, k = 0..p-1, one complex d-vector each) and
returns the real part of the inverse FFT. F_k and F_{p-k} are changed together, so F
stays conjugate-symmetric and the inverse is real up to rounding. Randomness (kept sets,
constructed frequencies and directions) comes from the embedding's "perturbation"
stream: per trial from (seed, trial) when the embedding varies, shared otherwise.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from .config import ConfigError, TrainConfig
from .seeding import generator

log = logging.getLogger("circle_survival")


def _pairs(p: int, ks) -> list[int]:
    """Indices k and p - k of each k in ks (once for k = p/2 of an even p)."""
    return sorted({i for k in ks for i in (k % p, (p - k) % p)})


def scale_frequencies(E: torch.Tensor, ks, alpha: float) -> torch.Tensor:
    """E (..., p, d) with F_k and F_{p-k} of every k in ks multiplied by alpha."""
    F = torch.fft.fft(E, dim=-2)  # (..., p, d) complex
    F[..., _pairs(E.shape[-2], ks), :] *= alpha
    return torch.fft.ifft(F, dim=-2).real


def keep_frequencies(E: torch.Tensor, ks) -> torch.Tensor:
    """E (..., p, d) with every frequency in 1..p//2 zeroed except ks (DC is kept)."""
    p = E.shape[-2]
    mask = torch.zeros(p, 1, dtype=E.dtype)  # (p, 1): broadcasts over d
    mask[[0, *_pairs(p, ks)]] = 1
    return torch.fft.ifft(torch.fft.fft(E, dim=-2) * mask, dim=-2).real


def construct(p: int, d: int, pair: tuple[int, int], scale: float, r: float, eps: float,
              gen: torch.Generator) -> torch.Tensor:
    """The manual embedding of Fig 6 right, (p, d) float64.

    Every k in 1..p//2 gets a random unit direction u_k in R^d (drawn in k order) and
    F_k = F_{p-k} = a_k u_k with a_k = scale for pair[0], r * scale for pair[1], eps
    otherwise; F_0 = 0. So ||F_k|| = a_k exactly.
    """
    half = p // 2
    u = torch.randn(half, d, generator=gen, dtype=torch.float64)
    u /= torch.linalg.vector_norm(u, dim=1, keepdim=True)  # (half, d) unit rows
    amp = torch.full((half, 1), float(eps), dtype=torch.float64)
    amp[pair[0] - 1], amp[pair[1] - 1] = scale, r * scale
    F = torch.zeros(p, d, dtype=torch.complex128)
    ks = torch.arange(1, half + 1)
    F[ks] = (amp * u).to(F.dtype)
    F[p - ks] = F[ks]  # for k = p/2 (even p) the same row twice: fine
    return torch.fft.ifft(F, dim=0).real


def _random_ks(cfg: TrainConfig, trial: int, n: int) -> list[int]:
    """n distinct frequencies in 1..p//2, in draw order, from the trial's stream."""
    gen = generator(cfg, "embedding", trial, stream="perturbation")
    return [int(k) + 1 for k in torch.randperm(cfg.p // 2, generator=gen)[:n]]


def _source_table(source: str, p: int) -> pa.Table:
    path = Path(source) / "trials.parquet"
    if not path.is_file():
        raise ConfigError(f"invalid config: perturbation.source={source!r}; allowed: the directory of "
                          "a complete job (it has no trials.parquet: run that job first)")
    try:
        table = pq.read_table(path, columns=["trial", "p", "circles", "final_signal"])
    except (OSError, pa.ArrowException) as err:
        raise ConfigError(f"invalid config: perturbation.source={source!r}; allowed: the directory of "
                          f"a complete job ({path} is unreadable: {err})") from None
    source_p = set(table.column("p").to_pylist())
    if source_p != {p}:
        raise ConfigError(f"invalid config: perturbation.source={source!r}; allowed: a job with "
                          f"p={p} (it has p={sorted(source_p)})")
    return table


def top_frequencies(source: str, trial: int, n: int, p: int) -> list[int]:
    """The n strongest frequencies by final signal (strongest first) of trial `trial` of
    the job in `source` (its only trial if it has one): its n strongest surviving circles.

    With fewer than n survivors the strongest non-survivors fill up, with a warning.
    """
    return _strongest(_source_table(source, p), source, trial, n)


def _strongest(table: pa.Table, source: str, trial: int, n: int) -> list[int]:
    rows = table.to_pylist()
    row = next((r for r in rows if r["trial"] == trial), rows[0] if len(rows) == 1 else None)
    if row is None:
        raise ConfigError(f"invalid config: perturbation.source={source!r}; allowed: a job holding "
                          f"trial {trial} or a single trial (it has {len(rows)} trials)")
    if row.get("diverged"):
        raise ConfigError(f"invalid config: perturbation.source={source!r}; allowed: a job whose "
                          f"trial {row['trial']} trained (it diverged at step {row['diverged_step']})")
    signal = np.asarray(row["final_signal"])  # (p//2 + 1,), k = 0..p//2
    order = 1 + np.argsort(-signal[1:], kind="stable")  # k = 1..p//2, strongest first
    chosen = [int(k) for k in order[:n]]
    if not set(chosen) <= set(row["circles"]):
        log.warning("perturbation.top=%d: trial %d of %s has only %d surviving circles %s; "
                    "keeping the strongest frequencies %s", n, row["trial"], source,
                    len(row["circles"]), row["circles"], chosen)
    return chosen


def perturb(cfg: TrainConfig, E: torch.Tensor, trials: list[int]) -> tuple[torch.Tensor, list[list[int]]]:
    """Apply cfg.perturbation to the initial embeddings E (T, p, d) of global `trials`.

    Returns the new E and, per trial, the frequencies scaled (sorted), kept (sorted), or
    constructed ([first, second]); [] for kind none.
    """
    pc, p, d = cfg.perturbation, cfg.p, cfg.d
    if pc.kind == "none":
        return E, [[] for _ in trials]
    if pc.kind == "scale":
        return scale_frequencies(E, pc.ks, pc.alpha), [sorted(pc.ks) for _ in trials]
    if pc.kind == "keep":
        if pc.top:
            table = _source_table(pc.source, p)  # read once per job
            kept = [sorted(_strongest(table, pc.source, t, pc.top)) for t in trials]
        elif pc.random:
            kept = [sorted(_random_ks(cfg, t, pc.random)) for t in trials]
        else:
            kept = [sorted(pc.ks) for _ in trials]
        return torch.stack([keep_frequencies(E[i], ks) for i, ks in enumerate(kept)]), kept
    if pc.kind == "construct":
        out, pairs = [], []
        for t in trials:
            gen = generator(cfg, "embedding", t, stream="perturbation")
            pair = tuple(int(k) + 1 for k in torch.randperm(p // 2, generator=gen)[:2])
            out.append(construct(p, d, pair, pc.scale, pc.r, pc.eps, gen).to(E.dtype))
            pairs.append(list(pair))
        return torch.stack(out), pairs
    raise ValueError(f"unknown perturbation kind {pc.kind!r}")

"""A particle simulation of 2-D embeddings (seed 003), many systems at once.

THIS PROJECT'S CONSTRUCTION, not the paper's formula (seed 003's force formulae are not
public). N particles E_0..E_{N-1} in R^d (one per token) move by gradient descent on an
explicit effective loss, plus decoupled weight decay:

    L(E) = l0(E) / Z(E)
    l0   = mean over the system's parallelograms (a, b, c, d) of |E_a + E_b - E_c - E_d|^2
    Z    = mean over k of |E_k - mean(E)|^2
    E   <- E - lr * grad L(E) - lr * weight_decay * E

A parallelogram is a + b = c + d (mod N) with {a, b} != {c, d}, both pairs seen in the
system's training split (either order). l0 is seed 002's effective loss (its parallelogram
loss, ../shared/grokking-facts.md) taken modulo N: each term pulls the sums E_a + E_b and
E_c + E_d of pairs with equal sums together (seed 003's "clustering"). Z is its
normalisation, here centred: L is invariant to translating and scaling E, so the gradient
alone does not shrink or collapse the points, and keeps their spread (the uncentred Z of
seed 002 is minimised by collapsing every point onto one). Weight decay shrinks E; as L is
scale invariant, its gradient grows like 1 / |E|, so decay raises the effective step: the
link between regularisation and the dynamics this simulation lets one test.

    cfg = SimulateConfig(systems=64, weight_decay=0.1)
    result = simulate(cfg)        # SimResult: positions (L, S, N, d) at result.steps, final loss
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .config import SCALES, check, check_shared
from .data import split
from .parallelograms import modular_quadruples


@dataclass
class SimulateConfig:
    """One simulation job: `systems` independent systems of p particles in R^d."""
    p: int = 17  # particles (tokens); parallelograms are taken mod p
    d: int = 2
    systems: int = 32
    system_offset: int = 0  # first global system index: system i depends only on (seed, i)
    seed: int = 0
    steps: int = 1000
    lr: float = 0.5
    weight_decay: float = 0.0
    train_frac: float = 0.8  # int(p*p*train_frac) ordered pairs seen, as in training
    init_scale: float = 1.0  # initial positions ~ N(0, init_scale^2), as the embedding's N(0, 1)
    every: int = 50  # positions stored every `every` steps (and the last)
    sweep: str = ""
    scale: str = "paper"
    force: bool = False
    threads: int = 0


# Keys that are not result columns (like train's RUNTIME_KEYS): how the job ran, not what it computed.
RUNTIME = ("force", "threads")


def validate(cfg: SimulateConfig) -> None:
    """Raise ConfigError (one line: key, value, allowed range) for the first bad value."""
    for key in ("lr", "weight_decay", "train_frac", "init_scale"):
        value = getattr(cfg, key)
        check(math.isfinite(value), key, value, "a finite number")
    check_shared(cfg)
    check(cfg.systems >= 1, "systems", cfg.systems, "an integer >= 1")
    check(cfg.system_offset >= 0, "system_offset", cfg.system_offset, "an integer >= 0")
    check(cfg.lr > 0, "lr", cfg.lr, "a number > 0")
    check(cfg.weight_decay >= 0, "weight_decay", cfg.weight_decay, "a number >= 0")
    check(0 < cfg.train_frac <= 1, "train_frac", cfg.train_frac, "a number in (0, 1]")
    check(cfg.init_scale > 0, "init_scale", cfg.init_scale, "a number > 0")
    check(cfg.every >= 1, "every", cfg.every, "an integer >= 1")
    check(cfg.scale in SCALES, "scale", cfg.scale, f"one of {list(SCALES)}")


def flatten(cfg: SimulateConfig) -> dict:
    """Result-relevant config values as columns ("p", "lr", ...)."""
    return {k: getattr(cfg, k) for k in cfg.__dataclass_fields__ if k not in RUNTIME}


def _generator(cfg: SimulateConfig, system: int, part: int) -> torch.Generator:
    """System `system`'s generator for part 0 (positions) or 1 (training split)."""
    state = np.random.SeedSequence([cfg.seed, system, part, 3]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def parallelograms(p: int) -> np.ndarray:
    """(Q, 4) every a + b = c + d (mod p) over unordered pairs a <= b, c <= d, (a, b) < (c, d)."""
    return modular_quadruples(p).numpy()


def seen_weights(cfg: SimulateConfig, quads: np.ndarray, systems: np.ndarray) -> torch.Tensor:
    """(S, Q) 1 where both pairs of a parallelogram are in the system's training split."""
    out = torch.zeros(len(systems), len(quads), dtype=torch.float64)
    q = torch.as_tensor(quads)
    for row, system in enumerate(systems):
        seen = torch.zeros(cfg.p, cfg.p, dtype=torch.bool)
        if cfg.train_frac >= 1:
            seen[:] = True
        else:
            n = cfg.p * cfg.p  # mod_add's ordered pairs, split as the trainer splits them
            train, _ = split(n, int(n * cfg.train_frac), _generator(cfg, int(system), 1))
            seen[train // cfg.p, train % cfg.p] = True
        seen = seen | seen.T  # an unordered pair is seen in either order
        out[row] = (seen[q[:, 0], q[:, 1]] & seen[q[:, 2], q[:, 3]]).double()
    return out


def effective_loss(E: torch.Tensor, quads: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(S,) l0 / Z of positions E (S, N, d) over parallelograms quads (Q, 4) with weights (S, Q)."""
    r = E[:, quads[:, 0]] + E[:, quads[:, 1]] - E[:, quads[:, 2]] - E[:, quads[:, 3]]  # (S, Q, d)
    l0 = (weights * (r**2).sum(-1)).sum(-1) / weights.sum(-1).clamp(min=1)  # (S,)
    Z = ((E - E.mean(1, keepdim=True)) ** 2).sum(-1).mean(-1)  # (S,)
    return l0 / Z


@dataclass
class SimResult:
    systems: np.ndarray  # (S,) global system indices
    steps: np.ndarray  # (L,) stored steps
    positions: np.ndarray  # (L, S, N, d)
    loss: np.ndarray  # (L, S) effective loss at the stored steps
    parallelograms: np.ndarray  # (S,) parallelograms each system sees


def stored_steps(steps: int, every: int) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, steps + 1, every), steps])


def simulate(cfg: SimulateConfig) -> SimResult:
    """Run every system of the job for cfg.steps gradient steps (float64, CPU)."""
    validate(cfg)
    systems = np.arange(cfg.system_offset, cfg.system_offset + cfg.systems)
    quads = parallelograms(cfg.p)
    weights = seen_weights(cfg, quads, systems)  # (S, Q)
    q = torch.as_tensor(quads)
    E = torch.stack([cfg.init_scale * torch.randn(cfg.p, cfg.d, generator=_generator(cfg, int(s), 0),
                                                  dtype=torch.float64) for s in systems])  # (S, N, d)
    keep = stored_steps(cfg.steps, cfg.every)
    positions, losses = [], []
    for step in range(cfg.steps + 1):
        E.requires_grad_(True)
        loss = effective_loss(E, q, weights)  # (S,)
        if step in keep:
            positions.append(E.detach().clone())
            losses.append(loss.detach().clone())
        if step == cfg.steps:
            break
        (grad,) = torch.autograd.grad(loss.sum(), E)  # systems are independent: one backward
        with torch.no_grad():
            E = E - cfg.lr * grad - cfg.lr * cfg.weight_decay * E
    return SimResult(systems, keep, torch.stack(positions).numpy(), torch.stack(losses).numpy(),
                     weights.sum(-1).numpy().astype(int))

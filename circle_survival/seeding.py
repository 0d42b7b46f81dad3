"""Per-trial random generators: trial i's randomness depends only on (seed, i).

    gen = generator(cfg, "embedding", trial=7)
    E = torch.randn(p, d, generator=gen)
    gen = generator(cfg, "embedding", trial=7, stream="perturbation")  # its own stream

A part listed in ``cfg.vary`` is drawn from (seed, trial, part); a part not varied is
drawn from (init_seed, part) and so is identical in every trial of every job. A named
stream of a part follows the part's rule but is independent of the part's main stream:
the perturbation of the embedding is random per trial exactly when the embedding is.

    gen = shared_generator(cfg, "targets")   # the same in every trial and job of init_seed

A shared stream (loss=mse's target vectors) is drawn from (init_seed, name) whatever
`vary` says: it is a fixed part of the task, like seed 002's targets, fixed for the run.
"""
from __future__ import annotations

import numpy as np
import torch

from .config import PARTS, TrainConfig

STREAMS = ("perturbation",)  # named sub-streams a part may have
SHARED = ("targets",)  # streams shared by every trial (shared_generator)


def generator(cfg: TrainConfig, part: str, trial: int, stream: str | None = None) -> torch.Generator:
    """A CPU generator for one part ("embedding", "mlp", "split") of one global trial."""
    part_id = PARTS.index(part)
    if part in cfg.vary:
        key = [cfg.seed, trial, part_id, 1]
    else:
        key = [cfg.init_seed, part_id, 0]  # trailing 0/1 keeps the two families disjoint
    if stream is not None:
        # Keys of 5+ words: SeedSequence pads shorter keys with zeros ([a, b, 0] equals
        # [a, b, 0, 0]) but mixes in every word past the fourth, so these cannot collide
        # with the main streams above.
        key += [2, STREAMS.index(stream)]
    return _seeded(key)


def shared_generator(cfg: TrainConfig, name: str) -> torch.Generator:
    """A CPU generator for stream `name` of SHARED, from init_seed only."""
    # Five words with a fourth word 3: the keys above have 0 or 1 there (main streams;
    # SeedSequence pads them with zeros) or are six words long (named streams).
    return _seeded([cfg.init_seed, 0, 0, 3, SHARED.index(name)])


def _seeded(key: list[int]) -> torch.Generator:
    # SeedSequence hashes the key well: neighbouring seeds give unrelated streams.
    state = np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))

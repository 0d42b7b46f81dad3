"""Per-trial random generators: trial i's randomness depends only on (seed, i).

    gen = generator(cfg, "embedding", trial=7)
    E = torch.randn(p, d, generator=gen)

A part listed in ``cfg.vary`` is drawn from (seed, trial, part); a part not varied is
drawn from (init_seed, part) and so is identical in every trial of every job.
"""
from __future__ import annotations

import numpy as np
import torch

from .config import PARTS, TrainConfig


def generator(cfg: TrainConfig, part: str, trial: int) -> torch.Generator:
    """A CPU generator for one part ("embedding", "mlp", "split") of one global trial."""
    part_id = PARTS.index(part)
    if part in cfg.vary:
        key = [cfg.seed, trial, part_id, 1]
    else:
        key = [cfg.init_seed, part_id, 0]  # trailing 0/1 keeps the two families disjoint
    # SeedSequence hashes the key well: neighbouring seeds give unrelated streams.
    state = np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))

"""Elementwise ops whose result for one trial never depends on its block-mates.

    x = by_trial(torch.ops.aten.silu.out, z)     # = F.silu(z), z: (T, n, h)
"""
from __future__ import annotations

import torch


def by_trial(op, *inputs: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """`op(*inputs, out=out)` for an elementwise op; one call per trial on one CPU thread.

    A CPU kernel computes the last elements of its range with scalar code, whose exp
    rounds differently from the vector code. With one call per trial, every trial has the
    same range whatever trials share its block, so on one thread a job of trials 25..49
    repeats those of a job of trials 0..99 exactly. With more threads the ranges are split
    anyway, and calls per trial would cost ~30% (a trial's data then crosses cores).
    """
    out = torch.empty_like(inputs[0]) if out is None else out
    if out.device.type != "cpu" or torch.get_num_threads() > 1:
        return op(*inputs, out=out)
    for t in range(out.shape[0]):
        op(*(x[t] for x in inputs), out=out[t])
    return out

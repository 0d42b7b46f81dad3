"""Keep freed memory in the process instead of handing it back to the kernel (glibc).

    keep_freed_memory()   # once per process, before training on a CPU

Every training step allocates and frees ~20 MB of activations per block of trials.
glibc serves blocks above a dynamic threshold with fresh `mmap`s and trims the heap
top back to the kernel, so depending on where that threshold happens to settle, every
step may fault its activations in anew: between otherwise identical runs we measured
0 or 4,400 page faults per block-step, and 2.8 or 5.7 ms per model-step. Fixed
thresholds make every step reuse the same warm memory.
"""
from __future__ import annotations

import ctypes

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20  # glibc's upper limit: larger blocks are still mmapped
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of freed heap top


def keep_freed_memory() -> bool:
    """Serve blocks up to 32 MB from the heap, and keep up to 1 GiB of it when freed.

    Returns False where the C library has no `mallopt` (macOS) or refuses the values.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))

"""CPU settings that keep training steps fast: freed memory kept, denormals flushed.

    keep_freed_memory()                          # once per process, before training on a CPU
    with flushed_denormals(torch.device("cpu")):
        ...                                      # training

Every training step allocates and frees ~20 MB of activations per block of trials.
glibc serves blocks above a dynamic threshold with fresh `mmap`s and trims the heap
top back to the kernel, so depending on where that threshold happens to settle, every
step may fault its activations in anew: between otherwise identical runs we measured
0 or 4,400 page faults per block-step, and 2.8 or 5.7 ms per model-step. Fixed
thresholds make every step reuse the same warm memory.

Late in training, weight decay drives dead frequencies and softmax tails towards 1e-40,
and CPU arithmetic on such denormal floats is 30-70x slower. `torch.set_flush_denormal`
sets the FTZ/DAZ flags of the calling thread only, but the matmuls and elementwise
kernels run in the threads of torch's OpenMP pool; a 2-thread run then slowed from
6 to 20 ms per step. So the flag is also set inside each OpenMP thread, through a
parallel region of the libgomp that torch itself loaded.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging

import torch

log = logging.getLogger("circle_survival")

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


_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _loaded_libgomp() -> str | None:
    try:
        with open("/proc/self/maps") as maps:
            return next((line.split()[-1] for line in maps if "libgomp" in line), None)
    except OSError:  # not Linux
        return None


def set_flush_denormal(on: bool) -> bool:
    """Set FTZ/DAZ in this thread and in every thread of torch's OpenMP pool.

    Returns False where only this thread could be set (no libgomp, e.g. macOS): run
    with threads=1 there to keep late training fast.
    """
    if not torch.set_flush_denormal(on):
        return False  # the CPU has no such flags
    path = _loaded_libgomp()
    if path is None or torch.get_num_threads() == 1:
        return torch.get_num_threads() == 1
    gomp = ctypes.CDLL(path)
    gomp.GOMP_parallel.argtypes = [_CALLBACK, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    # Runs the callback once in each thread of a team as large as torch's (ctypes
    # releases the GIL during the call; each thread takes it to run the callback).
    callback = _CALLBACK(lambda _: torch.set_flush_denormal(on))
    gomp.GOMP_parallel(callback, None, torch.get_num_threads(), 0)
    return True


@contextlib.contextmanager
def flushed_denormals(device: torch.device):
    """Denormals flushed to zero on the CPU for the duration (GPUs are left alone)."""
    if device.type != "cpu":
        yield
        return
    if not set_flush_denormal(True):
        log.warning("denormals are flushed in the main thread only: late training may be slow "
                    "with several threads (threads=1 avoids it)")
    try:
        yield
    finally:
        set_flush_denormal(False)

"""cpu_speed: freed memory stays in the process, and denormals are flushed in every thread."""
import ctypes
import subprocess
import sys

import pytest
import torch

from circle_survival.cpu_speed import flushed_denormals, set_flush_denormal

# Run in a fresh interpreter: the thresholds are process-wide and glibc's dynamic ones
# depend on what the process freed before.
CHILD = """
import ctypes, sys, torch
from circle_survival.cpu_speed import keep_freed_memory
class Info(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
info = ctypes.CDLL(None).mallinfo2
info.restype = Info
if sys.argv[1] == "keep":
    assert keep_freed_memory()
mapped, heap = info().hblkhd, info().arena
x = torch.ones(24 << 20, dtype=torch.uint8)  # 24 MB
grown_mapped, grown_heap = info().hblkhd - mapped, info().arena - heap
del x
print(grown_mapped >> 20, grown_heap >> 20, (info().arena - heap) >> 20)
"""


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="needs glibc >= 2.33")
@pytest.mark.parametrize("mode, from_mmap, from_heap", [
    ("default", True, False),  # glibc maps a fresh 24 MB block, and unmaps it when freed
    ("keep", False, True),  # from the heap, which keeps it after the free
])
def test_blocks_come_from_the_heap_and_stay(mode, from_mmap, from_heap):
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    mapped, heap, heap_after_free = (int(v) for v in out)  # MB
    assert (mapped >= 24) == from_mmap
    # The heap may have had a few MB free already: it grows by a little less than 24 MB.
    assert (heap >= 16) == from_heap and (heap_after_free >= 16) == from_heap


TINY = 1e-39  # a denormal float32


def denormal_silu() -> torch.Tensor:
    # silu(x) ~ x / 2 for tiny x: a denormal result, unless denormals are flushed. The
    # tensor is large enough for torch to split the work across its threads.
    return torch.nn.functional.silu(torch.full((2_000_000,), TINY))


def test_flushed_in_every_thread_and_restored_after():
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the suite runs single-threaded; this needs the worker too
    try:
        assert denormal_silu().count_nonzero() > 0  # not flushed by default
        with flushed_denormals(torch.device("cpu")):
            assert denormal_silu().count_nonzero() == 0  # in the main thread AND the worker
        assert denormal_silu().count_nonzero() == 2_000_000
    finally:
        set_flush_denormal(False)
        torch.set_num_threads(before)

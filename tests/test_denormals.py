import torch

from circle_survival.denormals import flushed_denormals, set_flush_denormal

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

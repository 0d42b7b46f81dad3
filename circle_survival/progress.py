"""Progress over training steps: a tqdm bar on a terminal, plain log lines otherwise.

    bar = progress("auto", total=30_000, desc="p=59 d=128 x1")   # initial=12_000 on resume
    bar.update(1); ...; bar.close()

Log lines (Slurm logs, pipes) appear every 10 % of the run; neither mode synchronises
with the device.
"""
from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger("circle_survival")


class _Lines:
    def __init__(self, total: int, desc: str, initial: int):
        self.total, self.desc, self.done, self.initial = total, desc, initial, initial
        self.start = time.perf_counter()
        self.every = max(total // 10, 1)
        self.next_report = (initial // self.every + 1) * self.every

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self.next_report or self.done == self.total:
            elapsed = time.perf_counter() - self.start
            rate = (self.done - self.initial) / elapsed if elapsed > 0 else float("inf")
            log.info("%s: step %d/%d (%.0f%%), %.0f steps/s", self.desc, self.done,
                     self.total, 100 * self.done / self.total, rate)
            self.next_report = (self.done // self.every + 1) * self.every

    def close(self) -> None:
        pass


class _Off:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress(mode: str, total: int, desc: str, initial: int = 0):
    """A progress reporter: mode auto | bar | lines | off; `initial` steps already done
    (a resumed job) count neither as progress made now nor towards its rate."""
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "lines"
    if mode == "bar":
        return tqdm(total=total, desc=desc, unit="step", mininterval=0.5, initial=initial)
    if mode == "lines":
        return _Lines(total, desc, initial)
    return _Off()

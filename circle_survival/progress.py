"""Progress over training steps: a tqdm bar on a terminal, plain log lines otherwise.

    bar = progress("auto", total=30_000, desc="p=59 d=128 x1")   # initial=12_000 on resume
    bar.update(1); ...; bar.close()

Log lines (Slurm logs, pipes) say the rate and the time left: the first 10 s in, then
every 10 % of the run or every minute, whichever comes first. Neither mode synchronises
with the device.
"""
from __future__ import annotations

import logging
import math
import sys
import time
from typing import Callable

from tqdm import tqdm

log = logging.getLogger("circle_survival")


class _Lines:
    def __init__(self, total: int, desc: str, initial: int, first_s: float, every_s: float,
                 clock: Callable[[], float]):
        self.total, self.desc, self.done, self.initial = total, desc, initial, initial
        self.first_s, self.every_s, self.clock = first_s, every_s, clock
        self.start = self.last = clock()
        self.lines = 0
        self.tenth = max(total // 10, 1)
        self.next_tenth = (initial // self.tenth + 1) * self.tenth

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        wait = self.every_s if self.lines else self.first_s
        if self.done >= self.next_tenth or self.done == self.total or now - self.last >= wait:
            self._report(now)

    def _report(self, now: float) -> None:
        elapsed = now - self.start
        rate = (self.done - self.initial) / elapsed if elapsed > 0 else float("inf")
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        log.info("%s: step %d/%d (%.0f%%), %.0f steps/s, %s left", self.desc, self.done,
                 self.total, 100 * self.done / self.total, rate, _duration(left))
        self.last, self.lines = now, self.lines + 1
        self.next_tenth = (self.done // self.tenth + 1) * self.tenth

    def close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    """Seconds as h:mm:ss or m:ss ("1:02:03", "4:05")."""
    if not math.isfinite(seconds):
        return "?"
    minutes, s = divmod(round(seconds), 60)
    h, m = divmod(minutes, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Off:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress(mode: str, total: int, desc: str, initial: int = 0, *, first_s: float = 10.0,
             every_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
    """A progress reporter: mode auto | bar | lines | off; `initial` steps already done
    (a resumed job) count neither as progress made now nor towards its rate.

    Lines come `first_s` seconds after the start, then after every tenth of the run or
    `every_s` seconds, whichever is first, and at the end (`clock`: seconds, for tests).
    """
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "lines"
    if mode == "bar":
        return tqdm(total=total, desc=desc, unit="step", mininterval=0.5, initial=initial)
    if mode == "lines":
        return _Lines(total, desc, initial, first_s, every_s, clock)
    return _Off()

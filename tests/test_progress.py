import logging
import re

import pytest

from circle_survival.progress import progress


class Clock:
    """A fake clock: `clock.now` seconds, moved by the test."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reported(caplog, total, initial=0, seconds_per_step=0.0, **intervals):
    """(step, message) of each line while `total - initial` steps run, each taking
    `seconds_per_step` on a fake clock."""
    clock = Clock()
    bar = progress("lines", total=total, desc="job", initial=initial, clock=clock, **intervals)
    with caplog.at_level(logging.INFO, logger="circle_survival"):
        for _ in range(total - initial):
            clock.now += seconds_per_step
            bar.update(1)
    return [(int(re.search(r"step (\d+)/", r.getMessage())[1]), r.getMessage())
            for r in caplog.records]


@pytest.mark.parametrize("initial, steps", [
    (0, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
    (37, [40, 50, 60, 70, 80, 90, 100]),  # a job resumed at step 37
])
def test_a_fast_run_reports_every_tenth(caplog, initial, steps):
    assert [s for s, _ in reported(caplog, 100, initial, seconds_per_step=0.01)] == steps


def test_a_slow_run_reports_after_10_s_then_every_minute_or_tenth(caplog):
    lines = reported(caplog, 1000, seconds_per_step=1.0)  # 100 s per tenth
    assert [s for s, _ in lines][:7] == [10, 70, 100, 160, 200, 260, 300]
    assert lines[0][1] == "job: step 10/1000 (1%), 1 steps/s, 16:30 left"


def test_intervals_are_parameters(caplog):
    lines = reported(caplog, 1000, seconds_per_step=1.0, first_s=2.0, every_s=5.0)
    assert [s for s, _ in lines][:4] == [2, 7, 12, 17]


def test_rate_and_time_left_count_only_steps_run_now(caplog):
    lines = reported(caplog, 10_000, initial=4_000, seconds_per_step=0.5)  # 2 steps/s
    assert lines[0][1] == "job: step 4020/10000 (40%), 2 steps/s, 49:50 left"

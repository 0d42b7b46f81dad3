import logging

import pytest

from circle_survival.progress import progress


@pytest.mark.parametrize("initial, reported", [
    (0, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
    (37, [40, 50, 60, 70, 80, 90, 100]),  # a job resumed at step 37
])
def test_lines_every_tenth_of_the_run(caplog, initial, reported):
    bar = progress("lines", total=100, desc="job", initial=initial)
    with caplog.at_level(logging.INFO, logger="circle_survival"):
        for _ in range(100 - initial):
            bar.update(1)
    steps = [int(r.getMessage().split("step ")[1].split("/")[0]) for r in caplog.records]
    assert steps == reported

"""Stop a Trainer after a given number of updates, as a crash there would."""
from circle_survival.trainer import Trainer


class Crash(Exception):
    pass


def run_until(trainer: Trainer, step: int) -> Trainer:
    """`trainer` run on (from its current step) until it has made `step` updates."""
    if trainer.step == step:
        return trainer

    def stop(tr):
        if tr.step == step:
            raise Crash

    try:
        trainer.run(stop)
    except Crash:
        return trainer
    raise AssertionError(f"training ended before step {step}")

"""Run the Hydra app as a user does: a subprocess in a given directory."""
import os
import subprocess
import sys

TINY = ["d=8", "steps=40", "model.width=16", "log.dense_steps=5", "log.every=10", "progress=off"]


def run(cwd, *args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "circle_survival.train", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)

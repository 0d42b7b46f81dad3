"""Run the Hydra app as a user does: a subprocess in a given directory."""
import os
import signal
import subprocess
import sys

TINY = ["d=8", "steps=40", "model.width=16", "log.dense_steps=5", "log.every=10", "progress=off"]


def tiny(*args: str) -> list[str]:
    """Flags in `args`, TINY but for the keys `args` give (a key given twice is an error),
    then the overrides in `args`."""
    given = {a.split("=", 1)[0].lstrip("+~") for a in args if not a.startswith("-")}
    flags = [a for a in args if a.startswith("-")]
    return [*flags, *(t for t in TINY if t.split("=", 1)[0] not in given),
            *(a for a in args if not a.startswith("-"))]


def run(cwd, *args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "circle_survival.train", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def start(cwd, *args) -> subprocess.Popen:
    """The app started in the background, output captured. Ctrl-C (SIGINT) reaches it even
    where this process was started with SIGINT ignored (`cmd &` in a script)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "circle_survival.train", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

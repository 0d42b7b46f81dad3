"""Pytest fixtures for tests against a real, local single-node Slurm cluster.

The session-scoped ``slurm_cluster`` fixture installs the Debian packages if
needed (``slurm/install.sh``), starts the cluster with
``slurm/start_cluster.sh`` and stops it with ``slurm/stop_cluster.sh`` at the
end of the session. It needs root; otherwise the tests are skipped, unless
``CS_REQUIRE_SLURM=1``, in which case they fail.

Environment:
  CS_REQUIRE_SLURM=1      fail (instead of skip) when the cluster is unavailable
  CS_SLURM_STATE_DIR=DIR  use this state dir; if a cluster already runs there
                          (started by ``slurm/start_cluster.sh DIR``) it is
                          reused and left running at the end
  CS_SLURM_KEEP_STATE=1   keep the fixture's temporary state dir (logs) afterwards

Select these tests with ``pytest -m slurm``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SLURM_SCRIPTS = REPO_ROOT / "slurm"
# Binaries the scripts need; any missing one means "install first".
REQUIRED_BINARIES = ("sinfo", "sbatch", "sacct", "slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd")
INSTALL_TIMEOUT_S = 900
START_TIMEOUT_S = 300
STOP_TIMEOUT_S = 180


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slurm: needs the local Slurm test cluster (fixture slurm_cluster; root, installs Debian packages)",
    )


@dataclasses.dataclass(frozen=True)
class SlurmCluster:
    """What a test needs to know about the running local cluster."""

    state_dir: Path
    slurm_conf: Path
    partition: str
    node: str
    cpus: int  # CPUs the node advertises (more than the real cores)
    log_dir: Path


def _unavailable(reason: str) -> None:
    """Skip, or fail when the environment says Slurm tests are required."""
    if os.environ.get("CS_REQUIRE_SLURM") == "1":
        pytest.fail(f"Slurm test cluster required (CS_REQUIRE_SLURM=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"local Slurm test cluster unavailable: {reason}")


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # stdin closed, output captured: the daemons the scripts start never hold our pipes.
    return subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.splitlines()[-n:])


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        _unavailable("must run as root (installs packages, runs slurmd/slurmctld); run pytest as root")

    missing = [b for b in REQUIRED_BINARIES if shutil.which(b) is None]
    if missing:
        proc = _run(["bash", str(SLURM_SCRIPTS / "install.sh")], timeout=INSTALL_TIMEOUT_S)
        if proc.returncode != 0:
            _unavailable(f"slurm/install.sh failed (rc={proc.returncode}):\n{_tail(proc.stdout)}")

    env_state = os.environ.get("CS_SLURM_STATE_DIR")
    # Not pytest's tmp_path: that lives under a 0700 directory, and munged
    # requires every directory above its socket to be world-executable.
    state_dir = Path(env_state) if env_state else Path(tempfile.mkdtemp(prefix="cs-slurm-pytest."))
    env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
    proc = _run(["bash", str(SLURM_SCRIPTS / "start_cluster.sh"), str(state_dir)], timeout=START_TIMEOUT_S, env=env)
    if proc.returncode != 0:
        # Clean up whatever did start before giving up.
        _run(["bash", str(SLURM_SCRIPTS / "stop_cluster.sh"), str(state_dir)], timeout=STOP_TIMEOUT_S, env=env)
        _unavailable(f"slurm/start_cluster.sh {state_dir} failed (rc={proc.returncode}):\n{_tail(proc.stdout)}")
    # A cluster somebody else started in that dir is reused and left running.
    owned = "already running" not in proc.stdout

    state_dir = state_dir.resolve()
    slurm_conf = state_dir / "etc" / "slurm.conf"
    old_conf = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(slurm_conf)
    try:
        yield SlurmCluster(
            state_dir=state_dir,
            slurm_conf=slurm_conf,
            partition=_conf_value(slurm_conf, "PartitionName"),
            node=_conf_value(slurm_conf, "NodeName"),
            cpus=int(_conf_value(slurm_conf, "CPUs")),
            log_dir=state_dir / "log",
        )
    finally:
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf
        if owned:
            stop = _run(["bash", str(SLURM_SCRIPTS / "stop_cluster.sh"), str(state_dir)], timeout=STOP_TIMEOUT_S, env=env)
            if stop.returncode != 0:
                print(f"slurm/stop_cluster.sh failed (rc={stop.returncode}):\n{_tail(stop.stdout)}")
            elif not env_state and os.environ.get("CS_SLURM_KEEP_STATE") != "1":
                shutil.rmtree(state_dir, ignore_errors=True)


def _conf_value(slurm_conf: Path, key: str) -> str:
    """First ``key=value`` in slurm.conf (the node/partition lines hold several)."""
    for line in slurm_conf.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        for word in line.split():
            k, sep, v = word.partition("=")
            if sep and k == key:
                return v
    raise KeyError(f"{key} not found in {slurm_conf}")

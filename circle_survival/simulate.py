"""Hydra entry point of the particle simulation (circle_survival/particles.py):

    python -m circle_survival.simulate systems=64 weight_decay=0.1
    python -m circle_survival.simulate -m weight_decay=0,0.01,0.1 train_frac=0.6,0.8

Thin on purpose: composes conf/simulate.yaml (schema: particles.SimulateConfig, stored
in the ConfigStore as `simulate_schema`) and hands it to sim_job.run_simulation in Hydra's
output directory (simulations/<overrides>/, multiruns under simulations/multirun/), which
skips complete jobs. A bad value ends with one line on stderr and exit status 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from . import resolvers  # noqa: F401 - cs_or, cs_scale in conf/simulate.yaml
from .config import ConfigError
from .particles import SimulateConfig
from .rejected import discard_leftovers
from .sim_job import run_simulation

ConfigStore.instance().store(name="simulate_schema", node=SimulateConfig)


@hydra.main(version_base="1.3", config_path="../conf", config_name="simulate")
def _hydra_main(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_simulation(OmegaConf.to_object(cfg), out_dir)
    except ConfigError as err:
        discard_leftovers(out_dir, (".hydra", "simulate.log", ".lock"))
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises its errors here instead of printing them
    try:
        _hydra_main()
    except CompactHydraException as err:  # Hydra's own checks: an unknown key, a bad type
        print("error: " + "; ".join(l.strip() for l in str(err).splitlines() if l.strip()), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

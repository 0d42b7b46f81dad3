"""Hydra entry point: ``python -m circle_survival.train [overrides]`` (``-m`` for sweeps).

Thin on purpose: composes the config, hands it to `job.run_job` in Hydra's output
directory, and keeps bad input from leaving anything behind.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from hydra_plugins.circle_survival_launcher import register as register_launchers

from .config import ConfigError, TrainConfig, leaves, to_dataclass
from .job import JobRunning, run_job
from .leftovers import discard_leftovers

log = logging.getLogger("circle_survival")


CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def known_keys() -> set[str]:
    """Every key a plain `key=value` override may name: config fields and config groups."""
    keys = set(leaves(TrainConfig()))
    keys.update(k.rsplit(".", 1)[0] for k in list(keys) if "." in k)
    keys.update(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "hydra")
    return keys


def override_error(args: list[str]) -> str | None:
    """The first command-line override naming no config key, or giving a key a value of
    the wrong type (`p=abc`), as one line; Hydra's own messages for these span five."""
    known, fields = known_keys(), leaves(TrainConfig())
    conf, parser = OmegaConf.structured(TrainConfig), OverridesParser.create()
    for arg in args:
        key = arg.split("=", 1)[0].lstrip("+~")  # +key=v adds, ++key=v forces, ~key deletes
        if (arg.startswith("-") or ("=" not in arg and not arg.startswith("~"))
                or key == "hydra" or key.startswith(("hydra.", "hydra/"))):
            continue
        if key not in known:
            return f"unknown config key {key!r}; known keys: {', '.join(sorted(known))}"
        if key in fields and not arg.startswith("~"):
            try:
                override = parser.parse_override(arg)
                values = (list(override.sweep_iterator()) if override.is_sweep_override()
                          else [override.value()])
            except HydraException:  # bad syntax or an interval sweep: Hydra reports it
                continue
            for value in values:
                try:
                    OmegaConf.update(conf, key, value, merge=True)
                except ValidationError as err:
                    return f"invalid config: {key}={value!r} ({err.msg.splitlines()[0]})"
    return None


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_job(to_dataclass(cfg), out_dir)
    except JobRunning as err:  # the running job's files are not ours to discard
        _fail(str(err))
    except ConfigError as err:
        discard_leftovers(out_dir, (".hydra", "train.log"))
        _fail(str(err))
    except BaseException:
        log.exception("job failed: %s", out_dir)  # the traceback also lands in train.log
        raise


def main() -> None:
    error = override_error(sys.argv[1:])
    if error is not None:
        _fail(error)
    register_launchers()
    _hydra_main()


if __name__ == "__main__":
    main()

"""Hydra entry point: ``python -m circle_survival.train [overrides]`` (``-m`` for sweeps).

Thin on purpose: composes the config, hands it to `job.run_job` in Hydra's output
directory, and keeps bad input from leaving anything behind.

Every error the user can fix (a bad value, key or option, an unwritable or full output
folder) ends the process with one line on stderr and exit status 2, Ctrl-C with one line
and 130; tracebacks go to the job's train.log. Only bugs print a traceback.
"""
from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException, HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from .config import GROUPS, ConfigError, TrainConfig, known_leaves, leaves, to_dataclass
from .hydra_compat import register_plugins
from .hydra_setup import SWEEPS_DIR
from .job import CHECKPOINT, Interrupted, JobRunning, ResultsNotWritten, oserror_text, run_job
from .rejected import discard_leftovers
from .config import SweepFailed
from .grid import check_not_shadowed

log = logging.getLogger("circle_survival")


CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# The launchers' module, as conf/hydra/launcher/*.yaml name it: imported by name, like
# Hydra's own plugins, so that circle_survival does not import the plugin that imports it.
LAUNCHERS = "hydra_plugins.circle_survival_launcher.launcher"


def known_keys() -> set[str]:
    """Every key a plain `key=value` override may name: config fields and config groups."""
    keys = set(known_leaves())
    keys.update(k.rsplit(".", 1)[0] for k in list(keys) if "." in k)
    keys.update(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "hydra")
    return keys


def group_options() -> dict[str, list[str]]:
    """Each config group a command line may choose an option of (`perturbation=scale`,
    `+sweep=fig5_top`), and its options."""
    options = {p.name: sorted(f.stem for f in p.glob("*.yaml"))
               for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "hydra"}
    options["sweep"] = sorted(f.stem for f in SWEEPS_DIR.glob("*.yaml"))
    return options


def _schema_of(key: str) -> tuple[DictConfig, str]:
    """A typed config holding `key`, and its path there: a group's key ("model.depth") in
    the first option of the group that has it."""
    group, _, rest = key.partition(".")
    for cls in GROUPS.get(group, {}).values():
        if rest in leaves(cls()):
            return OmegaConf.structured(cls), rest
    return OmegaConf.structured(TrainConfig), key


def _wrong_option(given: dict[str, str]) -> str | None:
    """A group key given with an option that has no such key (`perturbation=construct
    perturbation.alpha=2`), as one line. The option is the command line's, else conf/
    train.yaml's default unless a named sweep may choose it."""
    defaults = {k: v for item in OmegaConf.load(CONF_DIR / "train.yaml").defaults
                if isinstance(item, DictConfig) for k, v in item.items()}
    for key, arg in given.items():
        group, _, rest = key.partition(".")
        if group not in GROUPS or not rest or arg.startswith("~"):
            continue
        chosen = given[group].split("=", 1)[1] if group in given else defaults.get(group)
        if chosen is None or "," in chosen or (group not in given and "sweep" in given):
            continue  # several options, or a named sweep's choice: Hydra checks each job
        kind = OmegaConf.load(CONF_DIR / group / f"{chosen}.yaml").kind
        keys = leaves(GROUPS[group][kind]())
        if rest not in keys:
            return (f"{key} is not a key of {group}={chosen} (its keys: {', '.join(keys)}); "
                    f"choose an option that has it: {group}=...")
    return None


def override_error(args: list[str]) -> str | None:
    """The first command-line override naming no config key, repeating one (`d=0 d=4`),
    choosing no option of a group (`perturbation=bogus`), or giving a key a value of the
    wrong type (`p=abc`), as one line; Hydra's own messages for these span five to 25,
    or it takes the last of a repeated key."""
    known, fields, options = known_keys(), known_leaves(), group_options()
    parser = OverridesParser.create()
    given: dict[str, str] = {}
    for arg in args:
        key = arg.split("=", 1)[0].lstrip("+~")  # +key=v adds, ++key=v forces, ~key deletes
        if arg.startswith("-") or ("=" not in arg and not arg.startswith("~")):
            continue
        if key in given:
            return (f"{key} given twice ({given[key]} and {arg}); give each key once "
                    f"(several values: -m {key}=A,B)")
        given[key] = arg
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            continue
        if key not in known:
            return f"unknown config key {key!r}; known keys: {', '.join(sorted(known))}"
        if arg.startswith("~") or (key not in fields and key not in options):
            continue
        try:
            override = parser.parse_override(arg)
            values = (list(override.sweep_iterator()) if override.is_sweep_override()
                      else [override.value()])
        except HydraException:  # bad syntax or an interval sweep: Hydra reports it
            continue
        if key in options:
            unknown = [v for v in values if v is not None and str(v) not in options[key]]
            if unknown and key == "sweep":
                return (f"unknown named sweep {unknown[0]!r}; named sweeps: "
                        f"{', '.join(options[key])}")
            if unknown:
                return f"unknown option {key}={unknown[0]}; options: {', '.join(options[key])}"
        if key in fields:
            conf, path = _schema_of(key)
            for value in values:
                try:
                    OmegaConf.update(conf, path, value, merge=True)
                except ValidationError as err:
                    return f"invalid config: {key}={value!r} ({err.msg.splitlines()[0]})"
    return _wrong_option(given)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _interrupted(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    sys.exit(130)


def _cannot_write(err: OSError, folder: Path | str | None = None) -> str:
    """An OSError from writing outputs to `folder` as one line: what, why, what to do."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space, then rerun the same command"
    elif err.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        advice = ("a file or folder is in the way: move it, or choose another output folder "
                  "(hydra.run.dir=DIR, or hydra.sweep.dir=DIR with -m)")
    else:
        advice = ("choose an output folder you can write to (hydra.run.dir=DIR, or "
                  "hydra.sweep.dir=DIR with -m)")
    return f"cannot write {oserror_text(err, folder)}; {advice}"


def _oserror_in(err: BaseException | None) -> OSError | None:
    """`err` if an OSError, else the OSError that caused it, if any."""
    while err is not None and not isinstance(err, OSError):
        err = err.__cause__
    return err


def _log_to_file(message: str, exc_info: bool = False) -> None:
    """`message` (and the exception being handled) in the job's train.log only."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, (),
                            sys.exc_info() if exc_info else None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        train_cfg = to_dataclass(cfg)
        check_not_shadowed(train_cfg, list(HydraConfig.get().overrides.task))
        run_job(train_cfg, out_dir)
    except JobRunning as err:  # the running job's files are not ours to discard
        _fail(str(err))
    except ConfigError as err:
        discard_leftovers(out_dir, (".hydra", "train.log"))
        _fail(str(err))
    except OSError as err:  # a full disk, an unwritable folder: the user's to fix
        _log_to_file(f"job failed: {out_dir}", exc_info=True)
        _fail(str(err) if isinstance(err, ResultsNotWritten) else _cannot_write(err, out_dir))
    except KeyboardInterrupt as err:  # Interrupted between two steps; else before or after them
        ckpt = out_dir / CHECKPOINT
        if isinstance(err, Interrupted):
            message = str(err)
        elif ckpt.exists():
            message = f"interrupted; {ckpt} kept: rerun the same command to resume"
        else:
            message = "interrupted before the first checkpoint; a rerun starts from step 0"
        _log_to_file(message)
        _interrupted(message)
    except BaseException:
        _log_to_file(f"job failed: {out_dir}", exc_info=True)  # Hydra prints it on the terminal
        raise


def main() -> None:
    error = override_error(sys.argv[1:])
    if error is not None:
        _fail(error)
    register_plugins(LAUNCHERS)

    logging.raiseExceptions = False  # a full disk fails train.log quietly; the console reports
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises its errors here instead of printing them
    try:
        _hydra_main()
    except SweepFailed as err:  # the launcher's report of failed jobs, one line each
        print(err, file=sys.stderr)
        sys.exit(1)
    except CompactHydraException as err:  # Hydra's own checks of the command line
        _fail("; ".join(line.strip() for line in str(err).splitlines() if line.strip()))
    except (OSError, ValueError) as err:  # Hydra's own writes: the output folder, .hydra/,
        cause = _oserror_in(err)          # train.log (a ValueError from logging), multirun.yaml
        if cause is None:
            raise
        _fail(_cannot_write(cause, "the output folder"))
    except KeyboardInterrupt:  # before or between jobs
        _interrupted("interrupted")


if __name__ == "__main__":
    main()

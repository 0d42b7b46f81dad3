"""Hydra's side of the configuration: the ConfigStore, the resolvers, the named sweeps.

Imported by every entry point that composes configs (train, sweeps, reproduce, the
launcher, tests); config.py holds the schema and its checks and imports no Hydra state.

    from circle_survival import hydra_setup   # registers everything below, once

- ConfigStore: `train_schema` (config.TrainSchema) and, per option of each config group
  in config.GROUPS, `<group>/<kind>_schema`, which conf/<group>/*.yaml list first in their
  defaults (Hydra's structured-config schema pattern).
- Resolvers `${cs_or:...}`, `${cs_scale:...}`, `${cs_with:...}`, `${cs_swept:...}`, used by
  conf/ and sweeps/ (circle_survival/resolvers.py, which conf/simulate.yaml's app imports alone).
- Each named sweep `sweeps/<name>.yaml` as option <name> of group `sweep`.
"""
from __future__ import annotations

from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from .config import GROUPS, TrainSchema
from .resolvers import SWEEPS_DIR, by_scale, with_override  # noqa: F401 - registers them; for callers


ConfigStore.instance().store(name="train_schema", node=TrainSchema)
for _group, _options in GROUPS.items():
    for _kind, _cls in _options.items():
        ConfigStore.instance().store(group=_group, name=f"{_kind}_schema", node=_cls)


def register_sweeps(folder: Path = SWEEPS_DIR) -> list[str]:
    """Store each `folder/<name>.yaml` as option <name> of config group `sweep`, package
    _global_ (it sets top-level keys and hydra.sweeper.params). Registering them in the
    ConfigStore, rather than adding a search path, makes `+sweep=<name>` work from any
    working directory while the files stay at the repository root."""
    names = []
    for path in sorted(folder.glob("*.yaml")):
        ConfigStore.instance().store(group="sweep", name=path.stem, node=OmegaConf.load(path),
                                     package="_global_")
        names.append(path.stem)
    return names


register_sweeps()

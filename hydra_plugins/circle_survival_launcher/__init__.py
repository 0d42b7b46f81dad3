"""Hydra launchers of circle-survival.

Hydra finds plugins by listing the `hydra_plugins` namespace, which an editable install
hides from it; `register()` names them to Hydra directly.
"""


def register() -> None:
    from hydra.core.plugins import Plugins

    from .launcher import CheckedBasicLauncher, LocalLauncher, SlurmLauncher

    for cls in (CheckedBasicLauncher, LocalLauncher, SlurmLauncher):
        Plugins.instance().register(cls)

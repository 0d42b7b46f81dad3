"""Hydra launchers of circle-survival (launcher.py), named in conf/hydra/launcher/.

Hydra instantiates plugins only from the `hydra_plugins` namespace, and finds them by
listing it, which an editable install hides from it: circle_survival/train.py names them
to Hydra by module name (`hydra_compat.register_plugins`). They use circle_survival;
circle_survival imports nothing from here.
"""

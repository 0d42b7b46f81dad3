"""Config keys that do not change results, at most the float rounding (like the device).

    from circle_survival.keys import RUNTIME_KEYS   # ("device", "force", ...)

They stay out of result columns (`config.flatten`) and output directory names, and
analysis/ counts jobs that differ only in them as replicates. This module imports
nothing, so analysis/ reads it without Hydra or torch. conf/train.yaml's `exclude_keys`
repeats the keys (YAML cannot import them); tests/test_keys.py checks that all agree.
"""

RUNTIME_KEYS = ("device", "force", "progress", "block_trials", "threads", "checkpoint_every",
                "backward")
# Named sweeps that train another sweep's trials in another form, with the same results
# (fig10_onejob: fig10's weight decays as one job's grid): analysis files their trials
# under that sweep's figure, and `python -m circle_survival.reproduce` runs one form only.
SWEEP_FORMS = {"fig10_onejob": "fig10"}

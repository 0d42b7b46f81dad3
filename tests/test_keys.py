"""RUNTIME_KEYS (circle_survival/keys.py) is the one list of keys that do not change
results: conf/train.yaml's exclude_keys and analysis/groups.py must agree with it."""
import subprocess
import sys
from pathlib import Path

import yaml

from analysis import groups
from circle_survival.config import RUNTIME_KEYS as CONFIG_RUNTIME_KEYS
from circle_survival.config import TrainConfig, flatten, leaves
from circle_survival.keys import RUNTIME_KEYS

ROOT = Path(__file__).resolve().parent.parent
# Also out of directory names, though they change results: the output folder already
# says a named sweep's name and scale, and perturbation.source is a long path.
NAMED_BY_FOLDER = ("sweep", "scale", "perturbation.source")


def test_train_yaml_excludes_the_runtime_keys_and_the_folder_named_ones():
    hydra = yaml.safe_load((ROOT / "conf" / "train.yaml").read_text())["hydra"]
    excluded = hydra["job"]["config"]["override_dirname"]["exclude_keys"]
    assert sorted(excluded) == sorted(RUNTIME_KEYS + NAMED_BY_FOLDER)
    assert len(set(excluded)) == len(excluded)


def test_runtime_keys_are_config_keys_kept_out_of_results():
    assert CONFIG_RUNTIME_KEYS is RUNTIME_KEYS  # config.py re-exports, never redefines
    assert set(RUNTIME_KEYS) <= set(leaves(TrainConfig()))
    assert not set(RUNTIME_KEYS) & set(flatten(TrainConfig()))


def test_analysis_counts_runtime_keys_as_replicates():
    assert set(RUNTIME_KEYS) <= set(groups.REPLICATE_COLUMNS)


def test_analysis_reads_the_keys_without_hydra_or_torch():
    code = ("import sys, analysis.groups; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'hydra', 'omegaconf', 'torch'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"

"""Removing what Hydra wrote for work that was rejected before it started.

    discard_leftovers(Path("outputs/p=2"), (".hydra", "train.log"))   # a rejected job
    discard_leftovers(Path("multirun/adhoc"), ("multirun.yaml",))      # a rejected sweep

Bad input must leave nothing behind; but a folder holding anything else (a finished
job, another sweep's results) is kept whole.
"""
from __future__ import annotations

import shutil
from pathlib import Path


def discard_leftovers(folder: Path, names: tuple[str, ...]) -> None:
    """Remove `names` from `folder` if it holds nothing else, then the empty folders above
    it up to the working directory."""
    folder = folder.resolve()
    if not folder.is_dir() or any(f.name not in names for f in folder.iterdir()):
        return
    for name in names:
        path = folder / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    for parent in [folder, *folder.parents]:
        if parent == Path.cwd() or any(parent.iterdir()):
            break
        parent.rmdir()

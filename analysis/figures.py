"""Draw every paper figure whose data exists under ROOT, as PNG and PDF.

    python analysis/figures.py ROOT --out DIR [--only fig5 fig6 ...]
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the package from the repo root, not analysis/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from tqdm import tqdm  # noqa: E402

from analysis import figdata, jobs, ode, paper_figures  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="+", help="directories holding job directories (any depth)")
    parser.add_argument("--out", required=True, type=Path, help="where the PNG and PDF files go")
    parser.add_argument("--only", nargs="+", choices=list(paper_figures.FIGURES), metavar="FIG",
                        help=f"draw only these ({', '.join(paper_figures.FIGURES)})")
    parser.add_argument("--lasso", type=float, default=ode.LASSO_ALPHA, metavar="ALPHA",
                        help="Lasso alpha of the ODE fits (Fig 9, 15, 16; default %(default)s)")
    args = parser.parse_args(argv)
    trials, skipped = jobs.load_or_exit(args.root)
    for skip in skipped:
        print(f"skipped {skip}")
    sweeps = figdata.Sweeps(trials, lasso=args.lasso)
    names = args.only or list(paper_figures.FIGURES)
    root = " ".join(args.root)
    drawn = 0
    for name in tqdm(names, desc="figures", leave=False, disable=None if len(names) > 3 else True):
        if not paper_figures.available(name, sweeps):
            commands = "; ".join(paper_figures.how_to_run(s) for s in paper_figures.SWEEPS[name])
            print(f"{name}: no data under {root} (run: {commands})")
            continue
        before = len(sweeps.skipped)
        try:
            paths = paper_figures.render(name, sweeps, args.out)
        except (KeyError, ValueError) as err:  # data of the wrong kind: a column missing, too little
            print(f"{name}: skipped: {jobs.problem(err)}")
            continue
        for skip in sweeps.skipped[before:]:
            print(f"{name}: left out {skip}")
        print(f"{name}: {' '.join(str(p) for p in paths)}")
        drawn += 1
    print(f"{drawn} of {len(names)} figures drawn in {args.out}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

"""Compare the paper's quantitative claims with the data under ROOT.

    python analysis/paper_check.py ROOT... [--out paper_check.md]

Prints a Markdown table (one row per claim the data covers: the paper's value, ours
with its 95 % CI and n, and whether they agree, by the rule listed under the table)
and writes the same table to --out.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the package from the repo root, not analysis/
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from analysis import claims, figdata, jobs, ode  # noqa: E402


def markdown(rows: list[claims.Claim]) -> str:
    """The claims as an aligned Markdown table, followed by the agreement rules."""
    table = claims.as_table(rows)
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
    def line(values):
        return "| " + " | ".join(str(v).ljust(widths[c]) for c, v in zip(table.columns, values)) + " |"
    out = [line(table.columns), "|" + "|".join("-" * (widths[c] + 2) for c in table.columns) + "|"]
    out += [line(row) for row in table.itertuples(index=False)]
    out += ["", "Agreement rules:"] + [f"- {c.claim}: {c.rule}" for c in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="directories holding job directories (any depth)")
    parser.add_argument("--out", type=Path, default=Path("paper_check.md"), help="Markdown file to write")
    parser.add_argument("--lasso", type=float, default=ode.LASSO_ALPHA, metavar="ALPHA",
                        help="Lasso alpha of the ODE fits (default %(default)s)")
    args = parser.parse_args(argv)
    trials, skipped = jobs.load_or_exit(args.roots)
    sweeps = figdata.Sweeps(trials, lasso=args.lasso)
    problems = []
    rows = claims.check_all(sweeps, problems)
    for skip in [*skipped, *sweeps.skipped]:
        print(f"skipped {skip}")
    for problem in problems:
        print(f"claim left out: {problem}")
    if not rows:
        print(f"no claim of the paper is covered by the data under {' '.join(args.roots)} "
              f"(sweeps found: {', '.join(sweeps.trials) or 'none'})")
        return 0
    text = markdown(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Paper check: {' '.join(args.roots)}\n\n{text}\n")
    print(text)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

"""What the analysis commands share: where they read and write by default, and how they
report jobs they left out.

    parser = command.parser(__doc__, __file__, out="aggregate")   # ROOT... (optional), --out, --strict
    args = parser.parse_args(argv)
    roots = command.roots(args.roots, parser.prog)   # given, else multirun/ and outputs/ here
    ...
    command.print_skips(skipped)                      # one line each, on stderr
    return command.exit_status(skipped, args.strict)  # 1 under --strict if any was skipped
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import ode

# Where the trainer writes, relative to where it ran: the roots read when none are given.
DEFAULT_ROOTS = ("multirun", "outputs")
# Every command's output goes under this one folder by default (git-ignored).
OUT = Path("analysis-out")


def parser(doc: str, script: str, out: str, lasso: str = "") -> argparse.ArgumentParser:
    """A parser for the command in file `script` (named "python analysis/NAME.py", as run
    from the repository root), described by the first line of `doc`, with ROOT... (default:
    multirun/ and outputs/ where they exist), --out (default analysis-out/<out>), --strict,
    and, for commands that fit the ODE, --lasso (`lasso`: what it applies to)."""
    parser = argparse.ArgumentParser(prog=f"python analysis/{Path(script).name}", description=doc.splitlines()[0])
    parser.add_argument("roots", nargs="*", metavar="ROOT",
                        help="directories holding job directories, at any depth "
                             f"(default: {' and '.join(f'{r}/' for r in DEFAULT_ROOTS)} where they exist)")
    parser.add_argument("--out", type=_output_checker(is_file=Path(out).suffix != ""), default=OUT / out,
                        help="where to write (default: %(default)s)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 if any job or trial was left out (outputs are still written)")
    if lasso:
        parser.add_argument("--lasso", type=float, default=ode.LASSO_ALPHA, metavar="ALPHA",
                            help=f"Lasso alpha of the ODE fits ({lasso}default %(default)s)")
    return parser


def _output_checker(is_file: bool):
    """An argparse type for --out: a folder (or, `is_file`, a file) to write; something of
    the other kind already there is one line on stderr and exit status 2, nothing written."""
    def check(value: str) -> Path:
        path = Path(value)
        in_the_way = path.is_dir() if is_file else path.exists() and not path.is_dir()
        if in_the_way:
            kind, wanted = ("a folder", "a file") if is_file else ("a file", "a folder")
            print(f"error: --out {path} is {kind}; it must name {wanted} to write "
                  f"(choose another --out)", file=sys.stderr)
            raise SystemExit(2)
        return path
    return check


def roots(given, prog: str) -> list[str]:
    """The roots given, else those of DEFAULT_ROOTS that exist here; with neither, one
    line on stderr saying what to pass, and exit status 2."""
    if given:
        return list(given)
    found = [root for root in DEFAULT_ROOTS if Path(root).is_dir()]
    if not found:
        print(f"error: no {' or '.join(f'{r}/' for r in DEFAULT_ROOTS)} in {Path.cwd()}; "
              f"pass the directories holding the jobs: {prog} ROOT...", file=sys.stderr)
        raise SystemExit(2)
    return found


def print_skips(skipped, prefix: str = "skipped") -> None:
    """One line per job or trial left out, with its reason, on stderr."""
    for skip in skipped:
        print(f"{prefix} {skip}", file=sys.stderr)


def exit_status(skipped, strict: bool) -> int:
    """0, or 1 under --strict when anything was left out (said on stderr)."""
    if strict and skipped:
        print(f"error: {len(skipped)} jobs or trials left out (--strict)", file=sys.stderr)
        return 1
    return 0

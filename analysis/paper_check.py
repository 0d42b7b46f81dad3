"""Compare the paper's quantitative claims with the data under ROOT.

    python analysis/paper_check.py [ROOT...] [--out FILE.md] [--strict]

Prints a Markdown table (one row per claim the data covers: the paper's value, ours
with its 95 % CI and n, and whether they agree, by the rule listed under the table)
and writes the same table to --out (default analysis-out/paper_check.md). Reads
multirun/ and outputs/ (where they exist) when no root is given; jobs left out are
listed on stderr.
"""
from __future__ import annotations

import signal
import sys

from analysis import claims, command, figdata, grids, grids_claims, grokking_claims, jobs, ode, paper_figures
from circle_survival.health import SPIKE_AFTER, SPIKE_FACTOR


def markdown(rows: list[claims.Claim]) -> str:
    """The claims as an aligned Markdown table, followed by the agreement rules; another
    paper's claims (seed 002's) follow in a section of their own."""
    sources = list(dict.fromkeys(c.source for c in rows))
    if sources in ([], [""]):
        return _table(rows)
    parts = [_table([c for c in rows if c.source == ""])] if "" in sources else []
    parts += [f"## {source}\n\n" + _table([c for c in rows if c.source == source]) for source in sources if source]
    return "\n\n".join(parts)


def _table(rows: list[claims.Claim]) -> str:
    table = claims.as_table(rows)
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in table.columns}
    def line(values):
        return "| " + " | ".join(str(v).ljust(widths[c]) for c, v in zip(table.columns, values)) + " |"
    out = [line(table.columns), "|" + "|".join("-" * (widths[c] + 2) for c in table.columns) + "|"]
    out += [line(row) for row in table.itertuples(index=False)]
    out += ["", "Agreement rules:"] + [f"- {c.claim}: {c.rule}" for c in rows]
    out += ["", f"'stopped early': trials that stop=settled stopped. 'loss spikes': trials whose training loss "
            f"exceeded {SPIKE_FACTOR:g}x its running minimum after step {SPIKE_AFTER:,}; they are counted, "
            f"and their train.log names them."]
    out += [f"\n{c.detail}" for c in rows if c.detail]
    return "\n".join(out)


def check(trials, lasso: float = ode.LASSO_ALPHA, systems=None) -> tuple[list[claims.Claim], list[str], list[jobs.Skip]]:
    """The claims these trials cover (seed 001's, then seed 003's where the grids_circles
    sweep and, optionally, simulated `systems` are there), the checks left out
    ("check: reason") and the jobs the checks could not read.

        rows, problems, skipped = check(jobs.load_trials(["multirun"])[0])
    """
    sweeps = figdata.Sweeps(trials, lasso=lasso)
    problems = []
    rows = claims.check_all(sweeps, problems) + grokking_claims.check_all(sweeps, problems)
    try:
        rows += grids_claims.check(trials, systems, sweeps.skipped)
    except (KeyError, ValueError) as err:
        problems.append(f"seed 003: {jobs.problem(err)}")
    return rows, problems, sweeps.skipped


def uncovered(trials, roots) -> str:
    """What to say when no claim is covered: the claims read the named sweeps."""
    named = sorted({s for s in trials["sweep"] if s})
    return (f"no claim of the paper is covered by the {trials['job'].nunique()} jobs under "
            f"{' '.join(map(str, roots))}: the claims read the named sweeps (found: {', '.join(named) or 'none, only ad-hoc runs'}); "
            f"e.g. {paper_figures.how_to_run('fig5_top')} scale=smoke")


def main(argv=None) -> int:
    parser = command.parser(__doc__, __file__, out="paper_check.md", lasso="claims of Fig 9, 15, 16; ")
    args = parser.parse_args(argv)
    roots = command.roots(args.roots, parser.prog)
    trials, skipped = jobs.load_or_exit(roots)
    try:
        systems, sim_skipped = grids.load_systems(roots)
    except jobs.DataError:  # no simulation under the roots
        systems, sim_skipped = None, []
    skipped += sim_skipped
    rows, problems, left_out = check(trials, args.lasso, systems)
    skipped += left_out
    command.print_skips(skipped)
    for problem in problems:
        print(f"claim left out: {problem}")
    if not rows:
        print(uncovered(trials, roots))
        return command.exit_status(skipped, args.strict)
    text = markdown(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Paper check: {' '.join(roots)}\n\n{text}\n")
    print(text)
    print(f"\nwrote {args.out}")
    return command.exit_status(skipped, args.strict)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

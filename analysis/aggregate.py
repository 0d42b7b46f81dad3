"""Aggregate every job under the roots into tidy tables and print a summary.

    python analysis/aggregate.py [ROOT...] [--out DIR] [--strict]

Reads multirun/ and outputs/ (where they exist) when no root is given. Jobs left out
are listed on stderr. Writes to DIR (default analysis-out/aggregate): all_trials.parquet (all trials, every config
column, plus `job`; not named trials.parquet, which marks a job directory),
groups.csv (circles per condition: n, mean, sd, 95 % t and bootstrap CIs),
survival.csv (per condition and frequency, Wilson CI), survival_by_p.csv (per p and
frequency, all conditions pooled) and skipped.csv.
"""
from __future__ import annotations

import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import command, groups, jobs, survival
from circle_survival.health import SPIKE_AFTER, SPIKE_FACTOR

SHOWN_ROWS = 40  # groups printed; the csv has them all
SHOWN_FREQUENCIES = 8  # per p, most often surviving first


@dataclass
class Aggregate:
    trials: pd.DataFrame
    skipped: list
    keys: list
    groups: pd.DataFrame
    survival: pd.DataFrame
    survival_by_p: pd.DataFrame


def aggregate(roots) -> Aggregate:
    """Read every job under `roots` and summarise it (raises jobs.DataError if there is nothing)."""
    return summarise_trials(*jobs.load_trials(roots))


def summarise_trials(trials: pd.DataFrame, skipped: list[jobs.Skip]) -> Aggregate:
    """The tables of trials loaded by `jobs.load_trials`."""
    keys = groups.varying_keys(trials)
    return Aggregate(
        trials=trials, skipped=skipped, keys=keys,
        groups=groups.summarise(trials, keys),
        survival=survival.survival_rates(trials, keys),
        survival_by_p=survival.survival_rates(trials, ["p"]),
    )


def write(result: Aggregate, out: Path) -> list[Path]:
    """Write the tables into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    names = ("all_trials.parquet", "groups.csv", "survival.csv", "survival_by_p.csv", "skipped.csv")
    paths = [out / name for name in names]
    # Without pandas' metadata: it records list columns' Arrow dtypes in a form that
    # pd.read_parquet cannot parse back.
    table = pa.Table.from_pandas(result.trials, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(None), paths[0])
    result.groups.to_csv(paths[1], index=False)
    result.survival.to_csv(paths[2], index=False)
    result.survival_by_p.to_csv(paths[3], index=False)
    skipped = pd.DataFrame([(s.path, s.reason) for s in result.skipped], columns=["path", "reason"])
    skipped.to_csv(paths[4], index=False)
    return paths


def report(result: Aggregate, roots=()) -> str:
    """The printed summary: how much was read (under `roots`) and left out (the reasons are
    command.print_skips'), the settings shared by every trial, circles per group, survival
    per frequency."""
    trials = result.trials
    diverged = sum(s.reason.startswith(jobs.DIVERGED) for s in result.skipped)
    under = f" under {' '.join(map(str, roots))}" if roots else ""
    lines = [f"read {trials['job'].nunique()} jobs, {len(trials)} trials{under}; skipped {len(result.skipped)}"
             f" ({diverged} diverged trials, left out of the counts)"]
    if "loss_spike_step" in trials and trials["loss_spike_step"].notna().any():
        spiked = trials[trials["loss_spike_step"].notna()]
        lines.append(f"  {len(spiked)} counted trials had a loss spike (> {SPIKE_FACTOR:g}x the running minimum "
                     f"after step {SPIKE_AFTER:,}; column loss_spike_step), e.g. {spiked['job'].iloc[0]} "
                     f"trial {spiked['trial'].iloc[0]} at step {int(spiked['loss_spike_step'].iloc[0])}")
    lines += ["", *_wrapped("same in every trial: ", groups.fixed_values(trials)),
              f"circles per condition (grouped by {', '.join(result.keys) or 'nothing: one condition'}):"]
    table = result.groups.copy()
    table["95% CI (t)"] = [_interval(lo, hi) for lo, hi in zip(table["t_lo"], table["t_hi"])]
    table["95% CI (bootstrap)"] = [_interval(lo, hi) for lo, hi in zip(table["boot_lo"], table["boot_hi"])]
    shown = table.drop(columns=["t_lo", "t_hi", "boot_lo", "boot_hi"]).head(SHOWN_ROWS)
    lines.append(shown.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.3g}"))
    if len(table) > SHOWN_ROWS:
        lines.append(f"... {len(table) - SHOWN_ROWS} more groups in groups.csv")
    lines += ["", "survival rate per frequency (all conditions pooled), Wilson 95% CI, most frequent first:"]
    for p, part in result.survival_by_p.groupby("p"):
        best = part.sort_values(["rate", "k"], ascending=[False, True]).head(SHOWN_FREQUENCIES)
        cells = [f"k={k} {rate:.2f} {_interval(lo, hi)}" for k, rate, lo, hi in
                 zip(best["k"], best["rate"], best["lo"], best["hi"])]
        lines.append(f"  p={p} (n={part['n'].iloc[0]}): " + "; ".join(cells))
    return "\n".join(lines)


def _wrapped(head: str, items, width: int = 100) -> list[str]:
    """head and the items, comma-separated, in lines of at most `width` (an item is never split)."""
    lines, line = [], head
    for i, item in enumerate(items):
        text = item + (", " if i < len(items) - 1 else "")
        if len(line) + len(text.rstrip()) > width and line.strip():
            lines.append(line.rstrip())
            line = "    "
        line += text
    return lines + [line.rstrip()] if items else []


def _interval(lo, hi) -> str:
    return "" if pd.isna(lo) else f"[{lo:.2f}, {hi:.2f}]"


def main(argv=None) -> int:
    parser = command.parser(__doc__, __file__, out="aggregate")
    args = parser.parse_args(argv)
    roots = command.roots(args.roots, parser.prog)
    result = summarise_trials(*jobs.load_or_exit(roots))
    paths = write(result, args.out)  # before printing: a closed pipe must not cost the tables
    command.print_skips(result.skipped)
    print(report(result, roots))
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    return command.exit_status(result.skipped, args.strict)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

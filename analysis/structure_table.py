"""Seed 003: how often each structure forms, trained networks next to the particle simulation.

    python analysis/structure_table.py [ROOT...] [--out FILE.md] [--strict]

Reads the grids_circles training jobs and the simulation jobs under ROOT (default
multirun/ and outputs/; add simulations/ for the simulation), classifies each final
embedding and each system's final positions (analysis/structures.py), and prints one
Markdown row per (source, weight decay, lr, train_frac): n, the share of each structure
with its 95 % Wilson interval, and for networks the share at 100 % training accuracy.

    table = structure_table(net, sim)     # net, sim: grids.network_structures / simulation_structures
"""
from __future__ import annotations

import signal
import sys

import pandas as pd

from analysis import command, grids, grids_claims, jobs, structures


def _rows(table: pd.DataFrame, source: str, wd: str, lr: str | None) -> pd.DataFrame:
    keys = [wd, *([lr] if lr else []), "train_frac"]
    freq = grids.frequencies(table, keys)
    out = []
    for values, part in freq.groupby(keys):
        values = dict(zip(keys, values))
        row = {"source": source, "weight decay": f"{values[wd]:g}",
               "lr": f"{values[lr]:g}" if lr else "", "train_frac": f"{values['train_frac']:g}",
               "n": int(part["n"].iloc[0])}
        for _, r in part.set_index("structure").loc[list(structures.LABELS)].reset_index().iterrows():
            row[r["structure"]] = f"{r['count']} ({r['rate']:.0%}, [{r['lo']:.0%}, {r['hi']:.0%}])"
        out.append(row)
    return pd.DataFrame(out)


def structure_table(net: pd.DataFrame | None, sim: pd.DataFrame | None) -> pd.DataFrame:
    """One row per source and setting: n and each structure's count (share, 95 % CI)."""
    parts = []
    if net is not None and len(net):
        rows = _rows(net, "network", "optimizer.weight_decay", "optimizer.lr")
        full = net.assign(full=net["final_train_acc"] >= 1).groupby(
            ["optimizer.weight_decay", "optimizer.lr", "train_frac"])["full"].sum().to_numpy()
        rows["100 % train acc"] = [f"{int(k)}/{n}" for k, n in zip(full, rows["n"])]
        parts.append(rows)
    if sim is not None and len(sim):
        rows = _rows(sim, "simulation", "weight_decay", None)
        rows["lr"] = [f"{v:g}" for v in sim.groupby(["weight_decay", "train_frac"])["lr"].first()]
        parts.append(rows)
    return pd.concat(parts, ignore_index=True).fillna("")


def markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = command.parser(__doc__, __file__, out="structure_table.md")
    args = parser.parse_args(argv)
    roots = command.roots(args.roots, parser.prog)
    trials, skipped = jobs.load_or_exit(roots)
    part = trials[trials["sweep"] == grids_claims.SWEEP]
    net = grids.network_structures(part, skipped) if len(part) else None
    try:
        systems, more = grids.load_systems(roots)
        skipped += more
        systems = systems[systems["sweep"] == grids_claims.SWEEP]
        sim = grids.simulation_structures(systems) if len(systems) else None
    except jobs.DataError:
        sim = None
    command.print_skips(skipped)
    if net is None and sim is None:
        print(f"error: no {grids_claims.SWEEP} jobs under {' '.join(roots)}", file=sys.stderr)
        return 2
    text = markdown(structure_table(net, sim))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    print(f"\nwrote {args.out}")
    return command.exit_status(skipped, args.strict)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())

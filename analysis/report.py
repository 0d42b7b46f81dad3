"""Write one HTML page on the jobs under the roots: what was found, the paper check, every
figure, and provenance.

    python analysis/report.py [ROOT...] [--out DIR] [--strict]

Writes DIR/index.html (default analysis-out/report/index.html) and its figures under
DIR/figures/ (PNG shown, PDF linked). The page needs nothing but those files: open it
offline, or copy DIR elsewhere. Reads multirun/ and outputs/ (where they exist) when no
root is given; jobs left out are listed on the page and on stderr. From Python:

    report = build(["multirun"], Path("analysis-out/report"))   # draws the figures
    Path("analysis-out/report/index.html").write_text(page(report))
"""
from __future__ import annotations

import html
import importlib.metadata
import numbers
import platform
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from analysis import claims, command, figures, groups, jobs, ode, paper_check, paper_figures

REPO = Path(__file__).resolve().parents[1]
TRAINER = "python -m circle_survival.train"  # what a job's .hydra/ files were written by
# Versions shown (of the environment writing the report).
PACKAGES = ("circle-survival", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "matplotlib",
            "torch", "hydra-core", "omegaconf", "PyYAML")
FIGURES_DIR = "figures"  # under --out
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}
th{background:#eee}tr.no td{background:#fde8e8}tr.unclear td{background:#fdf6e0}code,pre{background:#f4f4f4;padding:.1em .3em}
pre{white-space:pre-wrap}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #ddd}"""


@dataclass
class Report:
    roots: list
    found: pd.DataFrame  # one row per group of jobs: sweep, jobs, trials, model-steps, varies
    skipped: list  # jobs.Skip: jobs and trials left out anywhere
    claim_rows: list  # claims.Claim
    problems: list  # claim checks left out, "check: reason"
    uncovered: str  # what to say when no claim is covered
    drawn: list  # (PNG path relative to the page, title)
    not_drawn: list  # (name, reason)
    absent: list  # paper figures none of whose sweeps is present
    commands: dict  # group -> [(command, number of jobs)]
    versions: dict  # package -> version
    commit: str | None


def model_steps(trials: pd.DataFrame) -> int:
    """AdamW updates over all trials: `steps` each, or `stopped_step` where stop=settled stopped one.

        model_steps(trials[trials.sweep == "fig7"])   # 30 trials x 20 steps -> 600
    """
    steps = trials["steps"].astype(float)
    if "stopped_step" in trials:
        steps = pd.to_numeric(trials["stopped_step"], errors="coerce").fillna(steps)
    return int(steps.sum())


def found(trials: pd.DataFrame) -> pd.DataFrame:
    """Per group of jobs (groups.by_sweep): jobs, trials, model-steps, and the keys it varies."""
    return pd.DataFrame([{"sweep": name, "jobs": part["job"].nunique(), "trials": len(part),
                          "model-steps": model_steps(part), "varies": ", ".join(groups.varying_keys(part)) or "-"}
                         for name, part in groups.by_sweep(trials).items()])


def recorded(job) -> tuple | None:
    """What launched a job, from its .hydra/ files (read as yaml): (mode, hydra overrides,
    task overrides, job number), or None without them.

        recorded("multirun/adhoc/d=8,p=7")  # ("MULTIRUN", [], ["p=7", "d=8"], 0)
    """
    hydra_dir = Path(job) / ".hydra"
    try:
        task = yaml.safe_load((hydra_dir / "overrides.yaml").read_text()) or []
        info = (yaml.safe_load((hydra_dir / "hydra.yaml").read_text()) or {})["hydra"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    mode = str(info.get("mode") or "RUN")
    hydra = [o for o in (info.get("overrides") or {}).get("hydra") or [] if not o.startswith("hydra.mode=")]
    num = (info.get("job") or {}).get("num")  # "???" in a single run
    return mode, hydra, [str(o) for o in task], num if isinstance(num, int) else 0


def commands(job_dirs) -> list[tuple[str, int]]:
    """The commands that launched these jobs, as [(command, number of jobs)]: multirun jobs
    with the same keys share one command, each key with its values over the jobs in launch
    order ("-m p=7,11"); jobs without .hydra/ files are counted under "(not recorded)".

        commands(["multirun/adhoc/d=8,p=7", "multirun/adhoc/d=8,p=11"])
        # [("python -m circle_survival.train -m p=7,11 d=8", 2)]
    """
    launches, missing = {}, 0
    for job in job_dirs:
        record = recorded(job)
        if record is None:
            missing += 1
            continue
        mode, hydra, task, num = record
        # A multirun's jobs merge into one command; single runs (mode RUN) stay apart.
        same = tuple(o.partition("=")[0] for o in task) if mode == "MULTIRUN" else tuple(task)
        launches.setdefault((mode, tuple(hydra), same), []).append((num, task))
    out = []
    for (mode, hydra, _), runs in launches.items():
        values = {}
        for _, task in sorted(runs, key=lambda run: run[0]):
            for override in task:
                key, _, value = override.partition("=")
                values.setdefault(key, [])
                values[key] += [] if value in values[key] else [value]
        words = [*(["-m"] if mode == "MULTIRUN" else []), *hydra, *(f"{k}={','.join(v)}" for k, v in values.items())]
        out.append((" ".join([TRAINER, *map(shlex.quote, words)]), len(runs)))
    return out + ([("(not recorded: no .hydra/ files)", missing)] if missing else [])


def git_commit(repo: Path = REPO) -> str | None:
    """The commit checked out in `repo`, "+ uncommitted changes" when its tracked files
    differ; None if it is no git checkout (or git is missing)."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def versions(names=PACKAGES) -> dict[str, str]:
    """{"python": "3.11.2", "numpy": "2.4.6", ..., "torch": "not installed"}."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build(roots, out: Path, lasso: float = ode.LASSO_ALPHA) -> Report:
    """Read the jobs under `roots`, check the claims and draw every figure into out/figures/.
    Raises jobs.DataError when no job is readable."""
    out = Path(out)
    trials, skipped = jobs.load_trials(roots)
    systems, sim_skipped = figures.simulations(roots)  # seed 003's particle simulations, if any
    skipped += sim_skipped
    rows, problems, check_skipped = paper_check.check(trials, lasso, systems)
    figure_skipped = []  # draw_all's own reading's skips again, and jobs a figure could not read
    drawn, not_drawn = figures.draw_all(roots, out / FIGURES_DIR, lasso=lasso, skipped=figure_skipped)
    by_group = {name: commands(part["job"].unique()) for name, part in groups.by_sweep(trials).items()}
    left_out = list(dict.fromkeys(skipped + check_skipped + figure_skipped))  # each once, in order
    return Report(
        roots=list(map(str, roots)), found=found(trials), skipped=left_out,
        claim_rows=rows, problems=problems, uncovered=paper_check.uncovered(trials, roots),
        drawn=[(png.relative_to(out), title) for png, title in drawn], not_drawn=not_drawn,
        absent=figures.absent(trials), commands=by_group, versions=versions(), commit=git_commit())


def table(frame: pd.DataFrame, row_class=None) -> str:
    """An HTML table of `frame`, every cell escaped; row_class(row) may name a CSS class per row."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        css = row_class(row) if row_class else None
        cells = "".join(f"<td>{html.escape(_text(v))}</td>" for v in row)
        rows.append(f'<tr class="{html.escape(css)}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _text(value) -> str:
    return f"{value:,}" if isinstance(value, numbers.Integral) and not isinstance(value, bool) else str(value)


def _items(lines) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def found_section(r: Report) -> str:
    total = r.found[["jobs", "trials", "model-steps"]].sum()
    parts = [f"<h2>What was found</h2><p>{total['jobs']:,} jobs, {total['trials']:,} trials, "
             f"{total['model-steps']:,} model-steps (AdamW updates of one trial) under "
             f"<code>{html.escape(' '.join(r.roots))}</code> (trials read; those left out below are not counted).</p>",
             table(r.found)]
    if r.skipped:
        parts += [f"<h3>Left out ({len(r.skipped)})</h3>",
                  table(pd.DataFrame([(s.path, s.reason) for s in r.skipped], columns=["job", "reason"]))]
    else:
        parts.append("<p>No job or trial was left out.</p>")
    return "\n".join(parts)


def claims_section(r: Report) -> str:
    """Seed 001's claims, then each other paper's in a section of its own (as in
    paper_check.md), with the rules and the per-cell grids under each table."""
    parts = ["<h2>Paper check</h2>"]
    if not r.claim_rows:
        parts.append(f"<p>{html.escape(r.uncovered)}</p>")
    for source in dict.fromkeys(c.source for c in r.claim_rows):
        rows = [c for c in r.claim_rows if c.source == source]
        if source:
            parts.append(f"<h3>{html.escape(source)}</h3>")
        parts += [table(claims.as_table(rows), lambda row: {"NO": "no", "unclear": "unclear"}.get(row.agree)),
                  "<h4>Agreement rules</h4>", _items(f"{c.claim}: {c.rule}" for c in rows)]
        parts += [markdown_block(c.detail) for c in rows if c.detail]
    if r.problems:
        parts += ["<h3>Checks left out</h3>", _items(r.problems)]
    return "\n".join(parts)


def markdown_block(text: str) -> str:
    """The Markdown a claim's detail holds, as HTML: paragraphs, and tables of "|" lines
    (the first their header, the "|---|" line dropped); everything escaped.

        markdown_block("Per cell:\n\n| y \\ x | 1 |\n|---|---|\n| 2 | G |")
    """
    parts = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if all(line.startswith("|") for line in lines):
            cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
                     if not set(line) <= set("|-: ")]
            parts.append(table(pd.DataFrame(cells[1:], columns=cells[0])))
        else:
            parts.append(f"<p>{html.escape(block)}</p>")
    return "\n".join(parts)


def figures_section(r: Report) -> str:
    parts = [f"<h2>Figures ({len(r.drawn)} drawn)</h2>"]
    for png, title in r.drawn:
        src = html.escape(png.as_posix(), quote=True)
        pdf = html.escape(png.with_suffix(".pdf").as_posix(), quote=True)
        link = f' (<a href="{pdf}">PDF</a>)' if png.suffix == ".png" else ""  # an animation has none
        parts.append(f'<figure><img src="{src}" alt="{html.escape(title, quote=True)}">'
                     f'<figcaption>{html.escape(title)}{link}</figcaption></figure>')
    if r.not_drawn:
        parts += [f"<h3>Not drawn ({len(r.not_drawn)})</h3>",
                  table(pd.DataFrame(r.not_drawn, columns=["figure", "reason"]))]
    if r.absent:
        parts.append(f"<p>Paper figures whose named sweeps are not here: {html.escape(', '.join(r.absent))} "
                     f"(run one: <code>{html.escape(paper_figures.how_to_run('NAME'))}</code>).</p>")
    return "\n".join(parts)


def provenance_section(r: Report) -> str:
    parts = ["<h2>Provenance</h2>",
             f"<p>Analysis code: git commit <code>{html.escape(r.commit or 'unknown (not a git checkout)')}</code></p>",
             "<h3>Commands, as recorded in each job's .hydra/</h3>",
             table(pd.DataFrame([(group, n, cmd) for group, launched in r.commands.items() for cmd, n in launched],
                                columns=["sweep", "jobs", "command"])),
             "<h3>Package versions (of the environment writing this report)</h3>",
             table(pd.DataFrame(list(r.versions.items()), columns=["package", "version"]))]
    return "\n".join(parts)


def page(r: Report) -> str:
    """The whole page: one self-contained HTML document (images referenced by relative path)."""
    title = f"circle-survival report: {' '.join(r.roots)}"
    body = "\n".join(s(r) for s in (found_section, claims_section, figures_section, provenance_section))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head>\n<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def main(argv=None) -> int:
    parser = command.parser(__doc__, __file__, out="report", lasso="claims and Fig 9, 15, 16; ")
    args = parser.parse_args(argv)
    roots = command.roots(args.roots, parser.prog)
    try:
        report = build(roots, args.out, args.lasso)
    except jobs.DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    index = args.out / "index.html"
    index.write_text(page(report), encoding="utf-8")
    command.print_skips(report.skipped)
    print(f"wrote {index}: sweeps {len(report.found)}, claims {len(report.claim_rows)}, figures "
          f"{len(report.drawn)} (not drawn {len(report.not_drawn)}), left out {len(report.skipped)}")
    return command.exit_status(report.skipped, args.strict)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly, as other tools
    sys.exit(main())

"""The three commands, called in-process (fast) and once each as a real script."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis import aggregate, figures, paper_check, paper_figures, synthetic

REPO = Path(__file__).resolve().parents[2]


def test_aggregate_writes_tables_and_lists_skips(planted, tmp_path, capsys):
    assert aggregate.main([str(planted.root), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert f"read 4 jobs, 16 trials under {planted.root}; skipped 8" in printed.out
    assert "corrupt: Parquet magic bytes not found" in printed.err  # the reasons, on stderr
    assert len(printed.err.splitlines()) == 8
    assert "grouped by p, perturbation.kind" in printed.out
    groups = pd.read_csv(tmp_path / "groups.csv")
    assert groups[["p", "n", "mean"]].values.tolist() == [[11, 6, 2.0], [13, 5, 3.0], [13, 5, 3.0]]
    by_p = pd.read_csv(tmp_path / "survival_by_p.csv").query("p == 11")
    assert by_p["survived"].tolist() == [5, 3, 2, 1, 1]
    assert len(pd.read_parquet(tmp_path / "all_trials.parquet")) == 16
    assert len(pd.read_csv(tmp_path / "skipped.csv")) == 8


def exit_status(main, argv) -> int:
    """What the script exits with: main's return value, or the code it exits with."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_missing_root_is_one_error_line(tmp_path, capsys):
    nope = str(tmp_path / "nope")
    for main, argv in ((aggregate.main, [nope]), (paper_check.main, [nope]),
                       (figures.main, [nope, "--out", str(tmp_path)])):
        assert exit_status(main, argv) == 2
        assert capsys.readouterr().err == f"error: root not found: {nope}\n"


def test_figures_draws_every_paper_figure(figure_data, tmp_path, capsys):
    names = list(paper_figures.FIGURES)  # each sweep's own figures: test_figures.py, test_end_to_end.py
    assert figures.main([str(figure_data.root), "--out", str(tmp_path), "--only", *names]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == f"{len(names)} of {len(names)} figures drawn in {tmp_path}"
    for name in names:
        assert f"{name}: {tmp_path}/{name}.png {tmp_path}/{name}.pdf" in printed
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        assert (tmp_path / f"{name}.pdf").exists()


def test_figures_names_the_sweep_of_missing_data(planted, tmp_path, capsys):
    assert figures.main([str(planted.root), "--out", str(tmp_path), "--only", "fig5", "fig7"]) == 0
    printed = capsys.readouterr().out
    assert f"fig7: not drawn: no data under {planted.root} (run: python -m circle_survival.train -m +sweep=fig7)" \
        in printed
    assert "1 of 2 figures drawn" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig5.pdf", "fig5.png"]


def test_paper_check_writes_markdown(figure_data, tmp_path, capsys):
    out = tmp_path / "check.md"
    assert paper_check.main([str(figure_data.root), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Paper check:")
    assert "| claim" in text and "| circles rise with d (p = 11, Fig. 5 bottom)" in text  # p of the data
    assert "Agreement rules:" in text


@pytest.mark.parametrize("script", ["aggregate", "figures", "paper_check"])
def test_scripts_run_from_the_repo_root(script, planted, tmp_path):
    extra = ["--out", str(tmp_path / "out")] + (["--only", "fig5"] if script == "figures" else [])
    done = subprocess.run([sys.executable, f"analysis/{script}.py", str(planted.root), *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("how", ["path", "module"])
def test_aggregate_runs_from_any_directory(how, planted, tmp_path):
    """`python /checkout/analysis/aggregate.py` and `python -m analysis.aggregate` from a
    folder outside the checkout: the installed `analysis` package answers its imports."""
    command = [str(REPO / "analysis" / "aggregate.py")] if how == "path" else ["-m", "analysis.aggregate"]
    done = subprocess.run([sys.executable, *command, str(planted.root), "--out", str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "groups.csv").exists()


def test_unusable_sweep_data_is_a_listed_skip(tmp_path, capsys):
    # a fig6_middle job written by a trainer without perturbation columns
    cfg = synthetic.config(p=11, d=8, trials=2, sweep="fig6_middle")
    table = synthetic.trials_table(cfg, [[1], [2]], np.ones((2, 6)))
    table = table.drop_columns([c for c in table.column_names if c.startswith("perturbation.")])
    synthetic.write_job(tmp_path / "jobs" / "0", table)
    root, out = str(tmp_path / "jobs"), str(tmp_path / "out")
    assert figures.main([root, "--out", out, "--only", "fig6"]) == 0
    assert "fig6: not drawn: no column 'perturbation." in capsys.readouterr().out
    assert paper_check.main([root, "--out", str(tmp_path / "check.md")]) == 0
    assert "claim left out: perturbation_trend: no column 'perturbation." in capsys.readouterr().out


def test_output_piped_into_head_ends_quietly_after_writing(planted, tmp_path):
    # As in `python analysis/aggregate.py runs/ | head -1`: the reader goes away early.
    proc = subprocess.Popen([sys.executable, "analysis/aggregate.py", str(planted.root), "--out",
                             str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert len(pd.read_parquet(tmp_path / "all_trials.parquet")) == 16  # written first


def test_diverged_trials_are_left_out_of_counts_and_spikes_named(tmp_path, capsys):
    cfg = synthetic.config(p=11, d=16, trials=3)
    table = synthetic.trials_table(cfg, [[1, 2], [], [3, 4, 5, 1]], np.ones((3, 6)))
    table = table.set_column(table.schema.get_field_index("n_circles"), "n_circles",
                             pa.array([2, None, 4], pa.int32()))
    table = table.append_column("diverged", pa.array([False, True, False]))
    table = table.append_column("diverged_step", pa.array([None, 812, None], pa.int32()))
    table = table.append_column("loss_spike_step", pa.array([None, None, 19_100], pa.int32()))
    synthetic.write_job(tmp_path / "runs" / "job", table)
    assert aggregate.main([str(tmp_path / "runs"), "--out", str(tmp_path / "agg")]) == 0
    printed = capsys.readouterr()
    assert f"read 1 jobs, 2 trials under {tmp_path / 'runs'}; skipped 1 (1 diverged trials, left out of the counts)" \
        in printed.out
    assert "(trial 1): diverged at step 812" in printed.err
    assert "1 counted trials had a loss spike" in printed.out and "at step 19100" in printed.out
    groups = pd.read_csv(tmp_path / "agg" / "groups.csv")
    assert groups[["n", "mean"]].values.tolist() == [[2, 3.0]]  # trials 0 and 2 only

"""figures.py on a real ad-hoc multirun: every group's figures, --figure, and figures never drawn empty."""
import subprocess
from pathlib import Path

import pytest

from analysis import command, figures, jobs

REPO = Path(__file__).resolve().parents[2]
in_git = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")


def test_an_adhoc_multirun_gets_its_circles_vs_p_figure(trained, tmp_path, capsys):
    root, out = trained.copy(tmp_path / "runs", d=8), tmp_path / "figs"
    assert figures.main([str(root), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == [f"adhoc/{name}: {out}/adhoc/{name}.png {out}/adhoc/{name}.pdf"
                           for name in ("circles", "survival", "signals")]
    assert printed[3].startswith(f"paper figures whose named sweeps are not under {root}: fig2, fig3,")
    assert "--figure NAME" in printed[3]
    assert printed[4] == f"3 of 3 figures drawn in {out}"
    assert sorted(p.name for p in (out / "adhoc").iterdir()) == sorted(
        f"{name}.{ext}" for name in ("circles", "survival", "signals") for ext in ("png", "pdf"))


def test_draw_all_returns_what_was_drawn_and_why_not(trained, tmp_path):
    root, out = trained.copy(tmp_path / "runs", d=8), tmp_path / "figs"
    skipped = []
    drawn, not_drawn = figures.draw_all([root], out, only=["circles", "fig7"], skipped=skipped)
    assert drawn == [(out / "adhoc" / "circles.png", "adhoc: surviving circles (d = 8, steps = 300)")]
    assert not_drawn == [("fig7", f"no data under {root} (run: python -m circle_survival.train -m +sweep=fig7)")]
    assert skipped == []
    drawn, not_drawn = figures.draw_all([root], out, figure="fig7")
    assert [(path.name, title.split(":")[0]) for path, title in drawn] == [("fig7.png", "Fig 7")]


def test_a_group_of_another_task_gets_a_reason_not_circle_figures(trained, tmp_path):
    trials, _ = jobs.load_or_exit([trained.copy(tmp_path / "runs", d=8)])
    tasks = figures.plan(trials.assign(**{"task.kind": "add"}), tmp_path / "figs")
    assert [t.name for t in tasks] == ["adhoc/circles"]
    outcome = figures.run(tasks[0])
    assert not outcome.paths
    assert "circles are frequencies mod p, and these jobs have task.kind=add" in outcome.text


def test_figure_draws_a_paper_figure_from_any_jobs(trained, tmp_path, capsys):
    out = tmp_path / "figs"
    assert figures.main([str(trained.root), "--out", str(out), "--figure", "fig5_bottom"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"fig5: {out}/fig5.png {out}/fig5.pdf",
                                                    f"1 of 1 figures drawn in {out}"]
    with pytest.raises(SystemExit) as stop:
        figures.main([str(trained.root), "--figure", "fig5"])
    assert stop.value.code == 2
    assert "fig5 is drawn from fig5_top and fig5_bottom: name the one" in capsys.readouterr().err


def test_a_figure_without_readable_data_is_not_written(trained, tmp_path, capsys):
    root, out = trained.copy(tmp_path / "runs", p=11, d=8), tmp_path / "figs"
    (job,) = root.iterdir()
    data = (job / "signals.parquet").read_bytes()
    (job / "signals.parquet").write_bytes(data[: len(data) // 2])  # truncated: no footer
    assert figures.main([str(root), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    reason = f"cannot read signals.parquet: {job}: corrupt: Parquet magic bytes not found"
    lines = printed.out.splitlines()
    assert lines[0] == "adhoc/circles: not drawn: one condition: no config key varies between these jobs"
    assert lines[1].startswith("adhoc/survival: ")  # from trials.parquet alone
    assert lines[2].startswith(f"adhoc/signals: not drawn: {reason}")
    assert f"adhoc/signals: left out {job}: corrupt:" in printed.err
    assert lines[-1] == f"1 of 3 figures drawn in {out}"
    assert not (out / "adhoc" / "signals.png").exists()
    assert figures.main([str(root), "--out", str(out), "--figure", "fig13"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"fig13: not drawn: {reason}") and lines[1] == f"0 of 1 figures drawn in {out}"
    assert not (out / "fig13.png").exists()


def test_a_missing_params_file_is_named(trained, tmp_path, capsys):
    root, out = trained.copy(tmp_path / "runs", p=11, d=8), tmp_path / "figs"
    (job,) = root.iterdir()
    (job / "params.parquet").unlink()
    assert figures.main([str(root), "--out", str(out), "--figure", "fig8", "--strict"]) == 1
    printed = capsys.readouterr()
    assert printed.out.splitlines()[0] == (f"fig8: not drawn: cannot read params.parquet: {job}: "
                                           "incomplete: no params.parquet")
    assert "error: 1 jobs or trials left out (--strict)" in printed.err


@in_git
def test_bare_command_reads_multirun_and_writes_under_analysis_out(trained, tmp_path, monkeypatch, capsys):
    trained.copy(tmp_path / "multirun" / "adhoc", d=8)
    monkeypatch.chdir(tmp_path)
    assert figures.main([]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 of 3 figures drawn in analysis-out/figures"
    assert (tmp_path / command.OUT / "figures" / "adhoc" / "circles.png").exists()
    assert subprocess.run(["git", "check-ignore", "-q", f"{command.OUT}/figures/adhoc/circles.png"],
                          cwd=REPO).returncode == 0  # never an untracked file in the checkout


def test_a_paper_figure_names_the_trials_it_draws_that_had_a_loss_spike(figure_data, tmp_path):
    import numpy as np
    trials, _ = jobs.load_trials([figure_data.root])
    fig12 = trials["sweep"] == "fig12"
    (clean,) = figures.plan(trials, tmp_path / "clean", only=["fig12"])
    assert "loss spikes" not in figures.run(clean).text
    trials["loss_spike_step"] = np.where(fig12 & (trials["trial"] == 0), 1269.0, np.nan)
    (task,) = figures.plan(trials, tmp_path / "figs", only=["fig12"])
    outcome = figures.run(task)
    spiked = int((fig12 & (trials["trial"] == 0)).sum())
    assert outcome.paths and outcome.text.endswith(
        f"(loss spikes in {spiked} of {int(fig12.sum())} trials: flagged in train.log, still drawn)")

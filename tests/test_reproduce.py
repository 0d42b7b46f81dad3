"""The local runner of every named sweep: its plan, and one tiny sweep run and resumed."""
import pandas as pd

from circle_survival import reproduce, sweeps

TINY = ["steps=12", "model.width=8", "log.dense_steps=4", "log.every=4", "checkpoint_every=0",
        "progress=off"]


def test_plan_runs_largest_first_and_estimates_the_busier_slot():
    text, order = reproduce.plan(["fig2", "fig7", "fig4"], "laptop", parallel=2, ms=1.0)
    to_run = {n: sweeps.size(n, "laptop").steps_to_run for n in order}
    assert order == sorted(to_run, key=lambda n: -to_run[n])
    # fig4 (480,000) fills one slot, fig7 (~120,000 settled) and fig2 (30,000) the other
    assert f"{sum(to_run.values()):,}" in text
    assert f"estimated time: {max(to_run.values()) / 3.6e6:.1f} h, 2 sweeps at a time" in text


def test_the_speed_is_measured_here():
    ms = reproduce.measure_ms_per_step(steps=15)
    assert 0.05 < ms < 500  # a model-step at p = 59, d = 128: milliseconds on any CPU


def test_dry_run_prints_the_plan_only(tmp_path, capsys):
    assert reproduce.main(["--out", str(tmp_path / "out"), "--dry-run", "--ms-per-step", "4"]) == 0
    out = capsys.readouterr().out
    assert "estimated time:" in out and "\nfig7 " in out
    assert all(line.split()[-2] == "4" for line in out.splitlines()[1:-3])  # ms/step, as given
    assert all(f"\n{name} " in out for name in sweeps.names(forms=False))
    assert "fig10_onejob" not in out  # fig10 once, in its own form
    assert not (tmp_path / "out").exists()


def test_runs_a_sweep_in_out_and_a_rerun_skips_it(tmp_path, capsys):
    args = ["fig7", "--scale", "smoke", "--out", str(tmp_path), "--", *TINY]
    assert reproduce.main(args) == 0
    jobs = list((tmp_path / "multirun" / "fig7-smoke").glob("*/trials.parquet"))
    assert len(jobs) == 1 and len(pd.read_parquet(jobs[0])) == sweeps.size("fig7", "smoke").trials
    assert reproduce.main(args) == 0
    assert "outputs complete, skipping" in (tmp_path / "logs" / "fig7.log").read_text()
    assert "fig7: done" in capsys.readouterr().out


def test_the_plan_counts_jobs_complete_in_out_as_done(tmp_path):
    for d in ("d=16", "d=50"):  # two of fig4's 8 laptop jobs complete, one only begun
        (tmp_path / "multirun" / "fig4-laptop" / d).mkdir(parents=True)
        (tmp_path / "multirun" / "fig4-laptop" / d / "trials.parquet").write_bytes(b"")
    (tmp_path / "multirun" / "fig4-laptop" / "d=55").mkdir()
    text, _ = reproduce.plan(["fig4"], "laptop", parallel=1, ms=1.0, out=tmp_path)
    fig4 = text.splitlines()[1].split()
    assert fig4[:3] == ["fig4", "8", "2"]
    assert fig4[-3] == f"{480_000 * 6 // 8:,}"  # 30,000 steps x 2 trials x the 6 jobs left
    assert "estimated time: 0.1 h" in text  # 360,000 ms


def test_smallest_first_reverses_the_order():
    _, order = reproduce.plan(["fig2", "fig7", "fig4"], "laptop", parallel=2, ms=1.0, smallest_first=True)
    assert order == ["fig2", "fig7", "fig4"]  # 30,000, ~120,000 settled, 480,000


def test_the_estimate_says_how_long_if_no_trial_settles():
    text, _ = reproduce.plan(["fig7"], "laptop", parallel=1, ms=4.0)
    # 30 trials x 30,000 steps x 4 ms = 1 h when none settles
    assert "up to 1.0 h if no trial settles" in text
    text, _ = reproduce.plan(["fig2"], "laptop", parallel=1, ms=4.0)  # no stop=settled: no range
    assert "if no trial settles" not in text


def test_each_sweep_has_its_own_speed():
    # fig2: 30,000 model-steps at 2 ms = 1/60 h; fig7: ~120,000 settled at 1 ms = 1/30 h
    text, order = reproduce.plan(["fig2", "fig7"], "laptop", parallel=1, ms={"fig2": 2.0, "fig7": 1.0})
    fig7 = sweeps.size("fig7", "laptop").steps_to_run
    rows = {line.split()[0]: line.split() for line in text.splitlines()[1:3]}
    assert rows["fig2"][-2:] == ["2", f"{30_000 * 2 / 3.6e6:.2f}"]
    assert rows["fig7"][-2:] == ["1", f"{fig7 / 3.6e6:.2f}"]
    assert order == ["fig7", "fig2"]


def test_a_sweeps_speed_is_measured_on_its_own_jobs():
    cache = {}
    # fig12's ablations read the unablated job's output when trained; measured, they start plain
    ms = reproduce.sweep_ms_per_step("fig12", "laptop", cache=cache)
    assert 0.05 < ms < 500 and len(cache) == 1  # its jobs differ only in the perturbation
    again = reproduce.sweep_ms_per_step("fig12", "laptop", cache=cache)
    assert again == ms  # from the cache, not measured anew

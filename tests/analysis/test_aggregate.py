"""aggregate.py on a real ad-hoc multirun: the bare command, skip reasons, --strict, shared settings."""

import pandas as pd

from analysis import aggregate, command


def test_bare_command_reads_multirun_and_outputs(trained, tmp_path, monkeypatch, capsys):
    trained.copy(tmp_path / "multirun" / "adhoc", d=8)
    trained.copy(tmp_path / "outputs", p=7, d=12)
    monkeypatch.chdir(tmp_path)
    assert aggregate.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("read 4 jobs, 12 trials under multirun outputs; skipped 0 "
                        "(0 diverged trials, left out of the counts)")
    out = command.OUT / "aggregate"
    assert lines[-1] == "wrote " + ", ".join(str(out / name) for name in (
        "all_trials.parquet", "groups.csv", "survival.csv", "survival_by_p.csv", "skipped.csv"))
    groups = pd.read_csv(tmp_path / out / "groups.csv")
    assert groups[["p", "d", "n"]].values.tolist() == [[7, 8, 3], [7, 12, 3], [11, 8, 3], [13, 8, 3]]


def test_bare_command_without_job_folders_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    try:
        aggregate.main([])
    except SystemExit as stop:
        assert stop.code == 2
    else:
        raise AssertionError("no exit")
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (f"error: no multirun/ or outputs/ in {tmp_path}; pass the directories holding "
                           "the jobs: python analysis/aggregate.py ROOT...\n")
    assert not (tmp_path / command.OUT).exists()


def test_skip_reasons_go_to_stderr_and_strict_makes_them_an_error(trained, tmp_path, capsys):
    root = trained.copy(tmp_path / "runs", d=8)
    broken = root / sorted(p.name for p in root.iterdir())[0]
    (broken / "trials.parquet").write_bytes(b"PAR1 cut off")
    argv = [str(root), "--out", str(tmp_path / "agg")]
    assert aggregate.main(argv) == 0
    printed = capsys.readouterr()
    assert "read 2 jobs, 6 trials" in printed.out and "skipped 1" in printed.out
    assert "corrupt" not in printed.out
    assert printed.err.startswith(f"skipped {broken}: corrupt: ")
    assert aggregate.main([*argv, "--strict"]) == 1
    printed = capsys.readouterr()
    assert printed.err.splitlines()[-1] == "error: 1 jobs or trials left out (--strict)"
    assert len(pd.read_parquet(tmp_path / "agg" / "all_trials.parquet")) == 6  # still written


def test_settings_shared_by_every_trial_are_printed_once_above_the_table(trained, tmp_path, capsys):
    assert aggregate.main([str(trained.copy(tmp_path / "runs", d=8)), "--out", str(tmp_path / "agg")]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("same in every trial: "))
    header = lines.index("circles per condition (grouped by p):")
    assert start < header and lines[header + 1].split() == ["p", "n", "mean", "sd", "95%", "CI", "(t)", "95%",
                                                            "CI", "(bootstrap)"]
    settings = " ".join(lines[start:header]).removeprefix("same in every trial: ").split(", ")
    assert all(" = " in item for item in settings)  # never split inside "key = value"
    assert [s.strip() for s in settings][:3] == ["d = 8", "steps = 300", "trials = 3"]
    assert "circles.threshold = 6" in [s.strip() for s in settings]
    assert all(len(line) <= 100 for line in lines[start:header])

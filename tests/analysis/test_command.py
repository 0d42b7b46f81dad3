import subprocess
from pathlib import Path

import pytest

from analysis import command, jobs

REPO = Path(__file__).resolve().parents[2]
in_git = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")


def test_roots_default_to_the_trainers_folders_that_exist(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert command.roots(["runs/a", "runs/b"], "prog") == ["runs/a", "runs/b"]
    (tmp_path / "outputs").mkdir()
    assert command.roots([], "prog") == ["outputs"]
    (tmp_path / "multirun").mkdir()
    assert command.roots([], "prog") == ["multirun", "outputs"]
    (tmp_path / "multirun").rmdir(), (tmp_path / "outputs").rmdir()
    with pytest.raises(SystemExit) as stop:
        command.roots([], "python analysis/figures.py")
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(
        "pass the directories holding the jobs: python analysis/figures.py ROOT...\n")


def test_skips_go_to_stderr_and_strict_turns_them_into_exit_status_1(capsys):
    skips = [jobs.Skip("runs/a", "corrupt: bad footer"), jobs.Skip("runs/b (trial 3)", "diverged at step 12")]
    command.print_skips(skips, prefix="fig7: left out")
    assert command.exit_status(skips, strict=False) == 0
    assert command.exit_status([], strict=True) == 0
    assert command.exit_status(skips, strict=True) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.splitlines() == ["fig7: left out runs/a: corrupt: bad footer",
                                        "fig7: left out runs/b (trial 3): diverged at step 12",
                                        "error: 2 jobs or trials left out (--strict)"]


@in_git
def test_default_outputs_share_one_folder_that_git_ignores():
    parser = command.parser("Doc line.\nmore", "analysis/aggregate.py", out="aggregate")
    args = parser.parse_args([])
    assert (args.roots, args.out, args.strict) == ([], command.OUT / "aggregate", False)
    assert parser.prog == "python analysis/aggregate.py"
    done = subprocess.run(["git", "check-ignore", "-v", f"{command.OUT}/aggregate/groups.csv"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith(".gitignore:")


def test_out_of_the_wrong_kind_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "afile").write_text("keep me")
    folder_out = command.parser("Doc.", "analysis/aggregate.py", out="aggregate")
    file_out = command.parser("Doc.", "analysis/paper_check.py", out="paper_check.md")
    for parser, given in ((folder_out, tmp_path / "afile"), (file_out, tmp_path)):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args(["--out", str(given)])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith(f"error: --out {given} is a ")
    assert (tmp_path / "afile").read_text() == "keep me"
    assert folder_out.parse_args(["--out", str(tmp_path / "new")]).out == tmp_path / "new"
    assert file_out.parse_args(["--out", str(tmp_path / "x.md")]).out == tmp_path / "x.md"

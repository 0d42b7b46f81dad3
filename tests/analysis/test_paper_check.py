from analysis import command, paper_check


def test_adhoc_runs_are_told_which_sweeps_the_claims_read(trained, tmp_path, monkeypatch, capsys):
    trained.copy(tmp_path / "multirun" / "adhoc", d=8)
    monkeypatch.chdir(tmp_path)
    assert paper_check.main([]) == 0
    assert capsys.readouterr().out == (
        "no claim of the paper is covered by the 3 jobs under multirun: the claims read the named sweeps "
        "(found: none, only ad-hoc runs); e.g. python -m circle_survival.train -m +sweep=fig5_top scale=smoke\n")


def test_the_table_goes_under_analysis_out_by_default(figure_data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert paper_check.main([str(figure_data.root / "fig5_top")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {command.OUT / 'paper_check.md'}"
    assert (tmp_path / command.OUT / "paper_check.md").read_text().startswith("# Paper check:")

"""report.py on real tiny runs (conftest's `trained` and `named` multiruns, plus two jobs it
must leave out): the page's numbers against the raw files, and the page opened in a real
headless Chromium, which must load every image.

The browser test is skipped without Chromium unless it can install Debian's package (as
root); CS_REQUIRE_BROWSER=1 (CI) makes a missing browser a failure instead.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import report

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 900
# Appended to a copy of the page: once everything has loaded, write what each <img> did into the DOM.
IMAGE_CHECK = """<script>
window.addEventListener("load", () => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
  const out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = JSON.stringify({images: document.images.length, broken: broken});
  document.body.appendChild(out);
});
</script>"""


class Tables(HTMLParser):
    """The <table>s of a page, each a list of rows of cell texts (the header row first)."""

    def __init__(self, text: str):
        super().__init__()
        self.tables, self.cell = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def rows(text: str, *header: str) -> list[list[str]]:
    """The rows of the page's table with this header row (header excluded)."""
    (table,) = [t for t in Tables(text).tables if tuple(t[0]) == header]
    return table[1:]


@pytest.fixture(scope="module")
def bad_root(trained, tmp_path_factory) -> Path:
    """A job whose trials.parquet is cut short (its folder named with HTML's special
    characters), and a job that started but wrote nothing yet."""
    root = tmp_path_factory.mktemp("bad")
    (corrupt,) = trained.copy(root / "x<b>&y", p=7, d=8).iterdir()
    data = (corrupt / "trials.parquet").read_bytes()
    (corrupt / "trials.parquet").write_bytes(data[: len(data) // 2])
    (root / "running" / ".hydra").mkdir(parents=True)
    (root / "running" / "train.log").write_text("step 10\n")
    return root


@pytest.fixture(scope="module")
def page(trained, named, bad_root, tmp_path_factory):
    """The report written by the script, as a user runs it: (out dir, HTML text, stderr)."""
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run([sys.executable, "analysis/report.py", str(trained.root), str(named.root), str(bad_root),
                           "--out", str(out), "--strict"], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 1, done.stderr[-2000:]  # --strict: two jobs were left out
    return out, (out / "index.html").read_text(encoding="utf-8"), done.stderr


def raw_trials(jobs) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(job / "trials.parquet").assign(job=str(job)) for job in jobs])


def test_found_counts_jobs_trials_and_model_steps_per_sweep(page, trained, named):
    found = {row[0]: row[1:4] for row in rows(page[1], "sweep", "jobs", "trials", "model-steps", "varies")}
    raw = raw_trials([*trained.jobs, *named.jobs])
    raw["sweep"] = raw["sweep"].replace("", "adhoc")
    assert set(found) == {"adhoc", "fig5_top"}
    for sweep, part in raw.groupby("sweep"):
        steps = part["stopped_step"].fillna(part["steps"]).sum()
        assert found[sweep] == [str(part["job"].nunique()), str(len(part)), f"{int(steps):,}"]
    assert found["adhoc"] == ["6", "18", "5,400"]  # 6 jobs x 3 trials x 300 steps


def test_left_out_jobs_with_their_reasons(page, bad_root):
    out, text, stderr = page
    left_out = dict(rows(text, "job", "reason"))
    (corrupt,) = (bad_root / "x<b>&y").iterdir()
    assert left_out.keys() == {str(corrupt), str(bad_root / "running")}
    assert left_out[str(corrupt)].startswith("corrupt: ")
    assert left_out[str(bad_root / "running")] == "incomplete: no trials.parquet"
    assert html.escape(str(corrupt)) in text and "<b>" not in text  # escaped, never markup
    assert f"skipped {bad_root / 'running'}: incomplete: no trials.parquet" in stderr.splitlines()


def test_paper_check_rows_match_the_raw_files(page, named):
    claims = {row[0]: row[1:] for row in rows(page[1], "claim", "paper", "ours", "95% CI", "n", "agree",
                                              "stopped early", "loss spikes")}
    raw = raw_trials(named.jobs)
    slope = np.polyfit(raw["p"].astype(float), raw["n_circles"].astype(float), 1)[0]
    paper, ours, ci, n, agree, _, spikes = claims["circles rise with p (d = 16, Fig. 5 top)"]
    assert (paper, ours, n, spikes) == ("rises", f"slope {slope:+.3g} per unit p", "6", "none")
    assert agree in ("yes", "NO") and ci.startswith("[")
    assert "circles rise with p (d = 16, Fig. 5 top): 95 % CI of the slope above 0" in page[1]


def test_a_claims_markdown_detail_becomes_html_tables():
    detail = ("Fig. 6b per cell, <all> escaped:\n\n| wd \\ lr | 2.5e-05 | 0.0063 |\n|---|---|---|\n"
              "| 10 | G 0% of G | X 100% of X |\n| 0 | C any |  |")
    text = report.markdown_block(detail)
    assert "<p>Fig. 6b per cell, &lt;all&gt; escaped:</p>" in text
    assert Tables(text).tables == [[["wd \\ lr", "2.5e-05", "0.0063"], ["10", "G 0% of G", "X 100% of X"],
                                    ["0", "C any", ""]]]


def test_every_drawn_figure_is_an_image_file_beside_the_page(page):
    out, text, _ = page
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert len(sources) == int(re.search(r"Figures \((\d+) drawn\)", text).group(1))
    assert {"figures/adhoc/circles.png", "figures/fig5_top/circles.png", "figures/fig5.png"} <= set(sources)
    for src in sources:
        assert (out / src).stat().st_size > 10_000 and (out / src).with_suffix(".pdf").exists()
    links = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert links and not [link for link in links if "//" in link or link.startswith("/")]  # offline, relative
    assert "<script" not in text and "<link" not in text


def test_provenance_holds_the_recorded_commands_and_versions(page, trained, named):
    text = page[1]
    commands = {row[0]: row[1:] for row in rows(text, "sweep", "jobs", "command")}
    adhoc, fig5 = commands["adhoc"], commands["fig5_top"]
    assert adhoc == ["6", "python -m circle_survival.train " + " ".join(trained.args)]  # as typed
    assert fig5[0] == "2" and sorted(fig5[1].split()[3:]) == sorted(named.args)  # Hydra lists swept keys first
    versions = dict(rows(text, "package", "version"))
    assert versions["numpy"] == np.__version__ and versions["pandas"] == pd.__version__
    if (REPO / ".git").exists():
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        assert f"git commit <code>{head}" in text


def test_defaults_read_multirun_and_write_under_analysis_out(trained, tmp_path, monkeypatch, capsys):
    trained.copy(tmp_path / "multirun", d=8)
    monkeypatch.chdir(tmp_path)
    assert report.main([]) == 0
    assert capsys.readouterr().out.startswith("wrote analysis-out/report/index.html: sweeps 1, claims 0, figures 3")
    text = (tmp_path / "analysis-out" / "report" / "index.html").read_text()
    assert "no claim of the paper is covered by the 3 jobs under multirun" in text


def _unavailable(reason: str):
    if os.environ.get("CS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium required (CS_REQUIRE_BROWSER=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"Chromium unavailable: {reason}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path: found, else installed from Debian's packages when root."""
    found = shutil.which("chromium")
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        _unavailable("not installed, and installing it (apt-get install chromium) needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    try:
        for step in ([install], [["apt-get", "update"], install]):  # the package lists only when needed
            done = [subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
                    for cmd in step]
            if done[-1].returncode == 0 and shutil.which("chromium"):
                return shutil.which("chromium")
    except (OSError, subprocess.SubprocessError) as err:  # no apt-get (not Debian), or it hung
        _unavailable(f"apt-get install chromium: {err}")
    _unavailable(f"apt-get install chromium failed: {done[-1].stderr[-1000:]}")


@pytest.mark.browser
def test_every_image_loads_in_headless_chromium(page, chromium, tmp_path):
    """A copy of the page, with one image that cannot load added (so the check is seen to
    catch one), opened from disk with the network unused."""
    out = shutil.copytree(page[0], tmp_path / "report")
    drawn = page[1].count("<img ")
    check = page[1].replace("</body>", f'<img src="figures/missing.png">{IMAGE_CHECK}</body>')
    (out / "check.html").write_text(check, encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox",
                           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
                           "--dump-dom", (out / "check.html").as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="image-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no result in the DOM (rc {done.returncode}): {done.stderr[-2000:]}"
    assert json.loads(html.unescape(found.group(1))) == {"images": drawn + 1, "broken": ["figures/missing.png"]}

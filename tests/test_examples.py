"""The scripts in examples/ run as a user would run them, at small sizes, and print and
write what they say they do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str, cwd: Path) -> str:
    """`python examples/NAME ARGS` from `cwd`; returns its stdout (fails on an error exit)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "examples" / name), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow  # a subprocess that imports JAX and compiles its kernels
def test_quick_ranking_prints_the_ranking_and_intervals_and_writes_the_figure(tmp_path):
    out = run_example("quick_ranking.py", "--runs", "300", "--boot", "4", "--out", "figs", cwd=tmp_path)
    assert "65 models x 21 benchmarks" in out and "P(champion)" in out
    assert "ci_low" in out and "rank_high" in out  # the DataFrame's columns
    assert (tmp_path / "figs" / "ranking.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_harness_folder_flips_the_perplexity(tmp_path):
    out = run_example("harness_folder.py", "--runs", "200", cwd=tmp_path)
    assert "negated so that higher is better: wikitext" in out
    assert "'wikitext': np.float64(-35.24)" in out or "'wikitext': -35.24" in out
    assert "gpt2" in out and "E[S]" in out


@pytest.mark.slow
def test_paper_analysis_writes_the_report(tmp_path):
    out = run_example("paper_analysis.py", "--quick", "--out", "paper", cwd=tmp_path)
    assert "report.md" in out and "gpt-5.1-codex-max-xhigh" in out
    assert "## " in (tmp_path / "paper" / "report.md").read_text(encoding="utf-8")
    assert (tmp_path / "paper" / "bootstrap.png").exists()

"""scripts/paper_analysis.py end to end: `--quick` on the shipped LiveBench table, in a
subprocess started outside the repository, writes the report, its JSON and every figure."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from csd.testing.png import png_size

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "paper_analysis.py"
FIGURES = (
    "risk_profile.png",
    "expected_scores.png",
    "survival.png",
    "rank_heatmap.png",
    "bootstrap.png",
    "bump.png",
    "round_orders.png",
)
SECTIONS = (
    "## Headline",
    "## 1. Ranking by Expected Win Score",
    "## 2. Failure Sensitivity Analysis",
    "### Risk profiles",
    "## 3. Bootstrap intervals and tiers",
    "## 4. CSD and the static rankings",
    "## 5. Outlier robustness",
    "## 6. How much the ranking depends on the round order",
    "## 7. Monte Carlo precision and run time",
)


def run_script(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("elsewhere")
    out = cwd / "report"
    proc = run_script("--quick", "--out", str(out), cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
def test_report_has_every_section_and_embeds_every_figure_with_a_caption(quick_report):
    report = (quick_report / "report.md").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in report
    for name in FIGURES:
        match = re.search(rf"!\[[^\]]+\]\({re.escape(name)}\)\n\n\*[^*]+\*\s+(\S.{{80,}})", report)
        assert match, f"{name} is not embedded with a caption"
    assert "nan" not in report.lower().split()  # no number came out undefined
    results = json.loads((quick_report / "results.json").read_text(encoding="utf-8"))
    assert f"**{results['ranking'][0]['model']}** leads" in report  # the table's leader is named
    assert "7 tiers, by the tier's mean score, easiest first: Mathematics," in report  # the default tier order


@pytest.mark.slow
def test_every_figure_is_a_nontrivial_png(quick_report):
    from matplotlib.image import imread

    for name in FIGURES:
        path = quick_report / name
        width, height = png_size(path)
        assert width >= 600 and height >= 400, (name, width, height)
        assert path.stat().st_size > 20_000, name
        pixels = imread(path)  # (H, W, 4) floats in [0, 1]
        assert pixels[..., :3].std() > 0.05, f"{name} is nearly blank"


@pytest.mark.slow
def test_results_json_holds_the_headline_numbers(quick_report):
    results = json.loads((quick_report / "results.json").read_text(encoding="utf-8"))
    assert results["shape"] == [65, 21]
    assert len(results["ranking"]) == 65
    assert results["sweep"]["labels"] == ["T=0", "T=1", "T=2"]
    assert set(results["kendall_tau"]) >= {"csd T=0", "csd T=2", "mean", "elo", "bradley_terry"}
    outlier = results["outlier"]
    assert outlier["rank_before"]["csd"] == 7 and len(outlier["benchmarks"]) == 3
    seventh = results["ranking"][6]  # the outlier test reuses the ranking for the unperturbed table
    assert outlier["model"] == seventh["model"] and outlier["score_before"]["csd"] == seventh["expected_score"]
    assert outlier["score_after"]["mean"] < outlier["score_before"]["mean"]
    assert results["round_order"] == {"order": "easy-first", "tier_order": "easy-first"}
    assert list(results["tiers"])[0] == "Mathematics" and results["rounds"][:3] == results["tiers"]["Mathematics"]
    stderr = np.array([row["stderr"] for row in results["ranking"]])
    assert np.all(stderr > 0) and np.all(stderr < 0.2)


@pytest.mark.slow
def test_no_temporary_files_are_left_behind(quick_report):
    assert sorted(p.name for p in quick_report.iterdir()) == sorted(["report.md", "results.json", *FIGURES])


def test_script_uses_only_the_public_api():
    import ast

    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    private = [name for name in imported if name.startswith("csd") and any(p.startswith("_") for p in name.split("."))]
    private += [ast.unparse(node) for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr.startswith("_") and "csd" in ast.unparse(node)]
    assert private == []


def test_unknown_table_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("paper_analysis", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "paper_analysis", script)  # its dataclasses look it up
    spec.loader.exec_module(script)  # in-process: no second JAX import
    assert script.main(["--table", "no_such_table", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().startswith("paper_analysis: error: --table='no_such_table'")
    assert not (tmp_path / "out").exists()

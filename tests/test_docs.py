"""The documentation site builds with `mkdocs build --strict`: every page in the nav,
every link between pages, and the API reference generated from the docstrings of every
public name."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import csd

REPO = Path(__file__).resolve().parents[1]
needs_mkdocs = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None,
    reason="the docs extra is not installed (pip install -e '.[docs]'): mkdocs and mkdocstrings build the site",
)


@needs_mkdocs
@pytest.mark.slow  # mkdocstrings reads every module: 3-4 s on 2 cores
def test_site_builds_strict_with_every_public_name(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in csd.__all__:
        assert f'id="csd.{name}"' in api, name
    assert 'id="csd.plots.plot_bump"' in api and 'id="csd.SimulationResult.plot"' in api
    assert "<h2" in (tmp_path / "tutorial" / "index.html").read_text(encoding="utf-8")


def test_every_page_is_in_the_nav_and_every_public_name_in_the_api_page():
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {path.name for path in (REPO / "docs").glob("*.md")}
    assert pages == set(re.findall(r"([\w-]+\.md)", nav))
    api = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^::: csd\.(\w+)$", api, re.M)) == sorted({*csd.__all__, "plots"})


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "docs" / page).read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow  # compiles the adjacent pairing's kernels, with and without avoid_rematch
def test_the_worked_examples_of_the_rules_run_as_written():
    (example,) = python_blocks("rules-examples.md")
    exec(compile(example, "docs/rules-examples.md", "exec"), {})


@pytest.mark.slow  # a sweep, a bootstrap and a comparison on LiveBench
def test_the_tutorials_api_example_runs_as_written(capsys):
    (example,) = [block for block in python_blocks("tutorial.md") if "csd.sweep" in block]
    exec(compile(example, "docs/tutorial.md", "exec"), {})
    assert "E[S]" in capsys.readouterr().out

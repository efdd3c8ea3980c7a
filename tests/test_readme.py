"""The README's promises: its Python example runs as written, and .ci/run runs exactly its
test command."""

import re
from pathlib import Path

import pytest

from csd._src.config import RunConfig, prepare_table

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.slow
def test_python_examples_run_as_written(capsys):
    api, *others = code_blocks("python")
    names = {}
    exec(compile(api, "README.md", "exec"), names)
    assert "E[S]" in capsys.readouterr().out
    # csd-run with no options plays the same rules on the same rounds in the same order
    defaults = RunConfig()
    prepared = prepare_table(defaults.data, defaults.seed)
    assert names["rules"] == defaults.tournament() and names["table"].benchmarks == prepared.table.benchmarks
    for example in others:
        exec(compile(example, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command():
    first_block = code_blocks("bash")[0].strip().splitlines()
    assert len(first_block) == 2 and "csd-run" in first_block[0]
    ci_commands = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    os_packages = 'if [ "$(id -u)" = 0 ]; then apt-get'  # as root: the OS packages of the slurm and browser tests
    assert [line for line in ci_commands if not line.startswith((os_packages, "export "))] == [first_block[1]]
    for packages in ("slurm-wlm munge", "chromium chromium-driver"):
        assert any(line.startswith(os_packages) and packages in line and "|| echo" in line for line in ci_commands)

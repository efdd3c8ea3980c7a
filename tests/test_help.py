"""Help that says what each thing is: `csd-run --help` describes every config key (from
the comments in csd/configs), and `dir(csd)` lists the public names only."""

import re

import csd
from csd._src.config import RunConfig
from csd._src.keyhelp import config_descriptions, descriptions
from csd.testing.cli import run_cli_in_process as run_cli


def test_help_lists_every_key_with_its_value_and_description(tmp_path):
    proc = run_cli("pairing=fold", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    config = proc.stdout.split("== Config ==", 1)[1].split("Examples:", 1)[0]
    assert re.search(r"^n_runs: 100000 +# N, simulated tournaments \(per schedule, per replicate\)$", config, re.M)
    assert re.search(r"^  bye: null +# the seeded rules give the bye to the lowest seed", config, re.M)  # fold's
    assert "  order: auto" in config and "| shuffle (a fresh order per tournament) | auto (easy-first" in config
    keys = [line for line in config.splitlines() if re.match(r"^ *\w+:", line)]
    assert len(keys) > 60 and [line for line in keys if "# " not in line] == []  # each key is described
    assert "$" not in config.replace("$$", "")


def test_every_key_of_the_schema_has_a_description():
    found = config_descriptions()
    leaves = []

    def walk(value, prefix):
        for key, item in value.items():
            walk(item, f"{prefix}{key}.") if isinstance(item, dict) else leaves.append(prefix + key)

    walk(RunConfig().to_dict(), "")
    assert len(leaves) > 50 and [key for key in leaves if key not in found] == []


def test_descriptions_follow_nesting_and_join_comments_that_go_on():
    text = "a: 1  # one\nb:    # section\n  c: x  # inner\n         # and more\n  d: 2\ne: 3 # top\n"
    assert descriptions(text) == {"a": "one", "b": "section", "b.c": "inner and more", "e": "top"}
    assert descriptions("hydra:\n  job: x  # Hydra's\n", "g.") == {}
    assert descriptions("defaults:\n  - data: x  # the table\n  - _self_\n") == {"data": "the table"}


def test_dir_of_csd_shows_only_public_names():
    names = dir(csd)
    assert {"simulate", "report", "plots", "baselines", "ScoreTable", "InputError"} <= set(names)
    assert not {"TYPE_CHECKING", "annotations", "importlib"} & set(names)
    assert [name for name in names if name.startswith("_")] == []
    assert set(names) == set(csd.__all__) | {"plots"}

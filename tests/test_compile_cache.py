"""JAX's persistent compilation cache, on by default (`csd._src.compile_cache`).

The suite itself runs with a cache of its own (`JAX_COMPILATION_CACHE_DIR`, conftest.py),
which `enable` must leave alone; what `enable` does in a user's process is checked in
fresh subprocesses without that variable."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from csd._src import compile_cache

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -c code` with the working tree on the path, `env` over an environment with
    no JAX cache settings of the suite's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "CSD_COMPILATION"))}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_folder_below_a_file_is_unwritable_and_named(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("")
    problem = compile_cache.unwritable(regular / "jax")
    assert problem is not None and str(regular / "jax") in problem
    assert compile_cache.unwritable(tmp_path / "new" / "jax") is None and (tmp_path / "new" / "jax").is_dir()


def test_prune_deletes_the_entries_used_longest_ago(tmp_path):
    for age, name in enumerate(["newest", "middle", "oldest"]):
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_000_000 - age * 1000, 1_000_000 - age * 1000))
    assert compile_cache.prune(tmp_path, 250) == [tmp_path / "oldest"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["middle", "newest"]
    assert compile_cache.prune(tmp_path, 200) == []


def test_enable_in_a_fresh_process(tmp_path):
    """Default folder under XDG_CACHE_HOME; opt-out; an unwritable folder is one
    RuntimeWarning and no cache; a user's own JAX cache is kept."""
    regular = tmp_path / "file"
    regular.write_text("")
    code = f"""
        import json, os, warnings
        import jax
        from csd._src import compile_cache

        def case(setting):
            compile_cache.enable.cache_clear()
            jax.config.update("jax_compilation_cache_dir", None)
            os.environ.pop("CSD_COMPILATION_CACHE", None)
            if setting is not None:
                os.environ["CSD_COMPILATION_CACHE"] = setting
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                folder = compile_cache.enable()
            return [str(folder) if folder else None, jax.config.jax_compilation_cache_dir,
                    jax.config.jax_persistent_cache_min_compile_time_secs, [str(w.message) for w in caught]]

        cases = {{"default": case(None), "off": case("0"), "unwritable": case({str(regular / "jax")!r})}}
        compile_cache.enable.cache_clear()
        jax.config.update("jax_compilation_cache_dir", "/users/own")
        cases["user"] = [compile_cache.enable(), jax.config.jax_compilation_cache_dir]
        print(json.dumps(cases))
    """
    proc = run_python(code, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert proc.returncode == 0, proc.stderr
    cases = json.loads(proc.stdout)
    default = str(tmp_path / "xdg" / "csd-swiss" / "jax")
    assert cases["default"] == [default, None, 1.0, []]  # one CPU device: csd's executables, not JAX's cache
    assert cases["off"][:2] == [None, None] and cases["off"][3] == []
    folder, in_use, _, caught = cases["unwritable"]
    assert folder is None and in_use is None and len(caught) == 1
    assert "compilation cache is off" in caught[0] and str(regular / "jax") in caught[0]
    assert cases["user"] == [None, "/users/own"]


SIMULATE = """
    import json, sys, jax.monitoring, numpy as np, csd
    from csd._src import compile_cache
    if "--full-disk" in sys.argv:
        def full(path, data):
            raise OSError(28, "No space left on device")
        compile_cache.write_whole = full
    events = {}
    def count(event, *args, **kwargs):
        events[event] = events.get(event, 0) + 1
    jax.monitoring.register_event_listener(count)
    jax.monitoring.register_event_duration_secs_listener(count)
    print(json.dumps({"score": csd.simulate(TABLE, n_runs=300, seed=1).expected_score.tolist(),
                      "kernels_built": events.get("/jax/core/compile/backend_compile_duration", 0)}))
"""
TABLE = 'csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array([[4.0, 1, 4], [3, 3, 3], [2, 2, 2], [1, 4, 1]]))'


@pytest.mark.slow
def test_a_second_process_loads_every_kernel_and_an_unwritable_cache_only_warns(tmp_path):
    import numpy as np

    import csd

    code = SIMULATE.replace("TABLE", TABLE)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    folder = tmp_path / "xdg" / "csd-swiss" / "jax"
    first = run_python(code, env)
    stored = sorted(folder.glob("csd-*"))
    second = run_python(code, env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    first, second = json.loads(first.stdout), json.loads(second.stdout)
    # the runs' kernel and the pilot's, stored by the first process and loaded by the second
    assert len(stored) == 2 and sorted(folder.glob("csd-*")) == stored
    assert second["kernels_built"] <= first["kernels_built"] - 2
    in_process = csd.simulate(eval(TABLE), n_runs=300, seed=1).expected_score.tolist()  # plain jit: bit-identical
    assert first["score"] == second["score"] == in_process

    regular = tmp_path / "file"
    regular.write_text("")
    blocked = run_python(code, {"CSD_COMPILATION_CACHE": str(regular / "jax")})
    full = subprocess.run([sys.executable, "-c", textwrap.dedent(code), "--full-disk"], capture_output=True, text=True,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("JAX_")},
                               "PYTHONPATH": str(REPO), "CSD_COMPILATION_CACHE": str(tmp_path / "full")}, timeout=300)
    for proc, says in ((blocked, "compilation cache is off"), (full, "could not store a compiled kernel")):
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["score"] == in_process
        assert proc.stderr.count("RuntimeWarning") == 1 and says in proc.stderr
    assert not list((tmp_path / "full").glob(".tmp-*"))


def test_n_runs_and_n_over_a_power_of_two_share_one_chunk_shape():
    """csd-run's default main run (100k) and its 8 orders (12,500 each) compile one kernel
    of the runs, not two; the chunks stay near the memory-sized default and pad little."""
    import csd
    from csd._src import driver

    rules = driver.prepare(csd.load_table(csd.shipped_table("livebench")), csd.Tournament()).rules
    default = driver.CPU_CHUNK_ELEMENTS // rules.n_models  # the tests run on the CPU
    chunks = {n: driver._chunk_size(rules, 1, n, None) for n in (100_000, 50_000, 25_000, 12_500)}
    assert len(set(chunks.values())) == 1
    for n, chunk in chunks.items():
        n_chunks = -(-n // chunk)
        assert default // 2 < chunk <= default and n_chunks * chunk - n < n_chunks


def test_a_second_call_with_the_same_pilot_reuses_its_tables_and_gives_the_same_result(monkeypatch):
    import numpy as np

    import csd
    from csd._src import driver, pilot_cache

    pilots = []

    def counted(*args, **kwargs):
        pilots.append(kwargs)
        return driver.run_pilot(*args, **kwargs)

    monkeypatch.setattr(pilot_cache, "run_pilot", counted)
    monkeypatch.setattr(pilot_cache, "_FITTED", collections.OrderedDict())
    table = csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array([[4.0, 1, 4], [3, 3, 3], [2, 2, 2], [1, 4, 1]]))
    first = csd.simulate(table, n_runs=2000, seed=3)
    again = csd.simulate(table, n_runs=2000, seed=3)
    assert first.estimator == "cv" and len(pilots) == 1
    assert np.array_equal(first.expected_score, again.expected_score) and np.array_equal(first.stderr, again.stderr)
    csd.simulate(table, n_runs=2000, seed=4)  # another seed: another pilot
    csd.simulate(table.with_benchmarks(("y", "x", "z")), n_runs=2000, seed=3)  # another round order: another pilot
    assert len(pilots) == 3

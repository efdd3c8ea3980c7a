"""The frozen-round diagnostic: `SimulationResult.round_activity` (the share of tournaments
in which each round played a game), `last_active_round`, and `csd.FrozenRoundsWarning`
(`csd._src.frozen`) from every entry point, in report.md, results.json and csd-run's output."""

import json
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import csd
from csd._src import driver, engine, rng
from csd._src.frozen import found_in
from csd.testing.cli import run_cli_in_process as run_cli


def strict_table(n_models, n_rounds):
    """Model 0 beats model 1 beats ... on every benchmark (no ties: no random games)."""
    scores = np.tile(np.arange(n_models, 0, -1, dtype=float)[:, None], (1, n_rounds))
    return csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


def test_random_pairing_freezes_once_every_group_holds_one_model():
    # 4 models: scores {1,1,0,0}, {2,1,1,0}, {2,2,1,0}, {3,2,1,0}; then every group is a
    # single model, every one gets a 0-point bye, and nobody plays rounds 5 and 6.
    with pytest.warns(csd.FrozenRoundsWarning, match=r"rounds 5-6 \(b4, b5\) played no game in every tournament"):
        result = csd.simulate(strict_table(4, 6), n_runs=3000, seed=1)
    np.testing.assert_array_equal(result.round_activity, [1, 1, 1, 1, 0, 0])
    assert result.last_active_round() == 3
    (frozen,) = found_in(result)
    assert (frozen.first, frozen.last, frozen.rounds, frozen.share) == (5, 6, ("b4", "b5"), 0.0)


def test_float_pairing_keeps_playing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", csd.FrozenRoundsWarning)
        result = csd.simulate(strict_table(4, 6), n_runs=3000, seed=1, pairing="float")
    np.testing.assert_array_equal(result.round_activity, np.ones(6))
    assert found_in(result) == []


@pytest.mark.slow
def test_round_activity_counts_the_runs_with_a_game_padding_excluded():
    win = np.triu(np.random.default_rng(4).uniform(0.1, 0.9, (6, 4, 4)), 1).transpose(1, 2, 0)
    probs = 0.8 * (win + np.triu(1 - win.transpose(2, 0, 1), 1).transpose(2, 1, 0))  # 20% draws
    n_runs = 700
    # chunk_size 300: the last chunk is padded with 200 runs that must count as no game.
    result = csd.simulate(probs, n_runs=n_runs, seed=2, chunk_size=300)
    prepared = driver.prepare(probs, csd.Tournament())
    _, _, opponent = jax.jit(engine.trace_pairings, static_argnums=0)(
        prepared.rules, prepared.outcomes, jnp.zeros(6, jnp.int32), jnp.asarray(prepared.seed_key),
        jnp.asarray(rng.seed_words(2)), jnp.uint32(0), jnp.arange(n_runs, dtype=jnp.uint32),
    )
    with_game = (np.asarray(opponent) >= 0).any(axis=2).mean(axis=0)  # (K,)
    np.testing.assert_allclose(result.round_activity, with_game)
    assert 0 < with_game[-1] < with_game[2] < 1  # draws leave groups of two in some runs, fewer later


def test_results_without_round_activity_still_load():
    result = csd.simulate(strict_table(3, 3), n_runs=200)
    again = csd.SimulationResult.from_dict(result.to_dict())
    np.testing.assert_array_equal(again.round_activity, result.round_activity)
    newer = ("round_activity", "order_sensitivity")
    older = {key: value for key, value in result.to_dict().items() if key not in newer}
    loaded = csd.SimulationResult.from_dict(older)
    assert loaded.round_activity is None and loaded.last_active_round() is None
    assert found_in(loaded) == []


# ------------------------------------------------- csd.FrozenRoundsWarning, everywhere

# The issue's table: the first three benchmarks share one order (a > b > c), c is best on
# the other four; after round 3 the scores are 2/1/0, each model alone in its score group.
ISSUE = csd.ScoreTable(("a", "b", "c"), tuple("defghij"), np.array(
    [[3.0, 3, 3, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2], [1, 1, 1, 3, 3, 3, 3]]))
ROUNDS_4_7 = "rounds 4-7 (g, h, i, j) played no game in every tournament"


def the_warning(record) -> str:
    """The text of the one FrozenRoundsWarning in `record`, which points at this file."""
    frozen = [w for w in record if issubclass(w.category, csd.FrozenRoundsWarning)]
    assert len(frozen) == 1, [str(w.message) for w in frozen]
    assert frozen[0].filename == __file__  # the caller's line, not the library's
    return str(frozen[0].message)


def test_the_issue_table_warns_that_its_last_four_rounds_do_not_count():
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        result = csd.simulate(ISSUE, n_runs=200)
    text = the_warning(record)
    assert result.expected_score.tolist() == [2.0, 1.0, 0.0]  # c, best on 4 of 7, last with certainty
    assert text.startswith(ROUNDS_4_7) and "each of the 3 active models was alone in its score group" in text
    assert "the byes, worth 0, changed no score" in text and 'use pairing="float"' in text
    assert issubclass(csd.FrozenRoundsWarning, UserWarning)


def test_a_larger_bye_does_not_unfreeze_and_float_pairing_does():
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        csd.simulate(ISSUE, n_runs=200, bye_points=1)
    assert the_warning(record).startswith(ROUNDS_4_7) and "the same bye, worth 1" in the_warning(record)
    with warnings.catch_warnings():
        warnings.simplefilter("error", csd.FrozenRoundsWarning)
        result = csd.simulate(ISSUE, n_runs=200, pairing="float")
    assert result.round_activity.min() == 1


def test_sweep_warns_once_naming_each_schedule_and_its_reason():
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        csd.sweep(ISSUE, schedules=[0, 2], n_runs=200)
    text = the_warning(record)
    assert text.startswith(f"under T=0, {ROUNDS_4_7}")
    assert "under T=2, rounds 2-7 (e, ..., j) played no game in every tournament: the elimination (T=2, " \
           "min_active 1) had left one active model" in text
    assert 'use pairing="float"' in text and "eliminate fewer models" in text


@pytest.mark.slow  # over 4 s on two cores: the fast tier stays quick
def test_bootstrap_and_compare_warn_once_of_their_point_ranking():
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        csd.bootstrap(ISSUE, n_boot=4, n_runs=100)
    assert the_warning(record).startswith(ROUNDS_4_7)  # not again from the simulate inside
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        comparison = csd.compare(ISSUE, ["csd", "mean"], n_runs=200)
    assert the_warning(record).startswith(ROUNDS_4_7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", csd.FrozenRoundsWarning)
        csd.compare(ISSUE, ["mean"])  # no tournament, nothing to warn of
    assert comparison.ranks["csd"].tolist() == [1, 2, 3] and comparison.ranks["mean"].tolist() == [3, 2, 1]


def test_outlier_test_warns_of_both_tables_and_keeps_it_in_the_result():
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        result = csd.outlier_test(ISSUE, "c", ["g"], methods=["csd"], n_runs=200)
    text = the_warning(record)
    assert text.startswith(f"on the table and on the perturbed table (c: g set to 0), {ROUNDS_4_7}")
    assert result.frozen_rounds["message"] == text and len(result.frozen_rounds["results"]) == 2
    assert csd.OutlierResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


@pytest.mark.slow  # over 5 s: the whole report, with its figures
def test_report_warns_once_and_says_it_in_the_headline_and_results_json(tmp_path):
    sizes = dict(n_runs=200, fsa_runs=200, n_boot=4, boot_runs=100, order_runs=100, n_random_orders=1)
    with pytest.warns(csd.FrozenRoundsWarning) as record:
        report = csd.report(ISSUE, out_dir=tmp_path, **sizes)
    text = the_warning(record)
    assert text.startswith(f"in the ranking (T=0), {ROUNDS_4_7}")
    assert "; in the sweep under T=1, rounds 2-7" in text and "; in the sweep under T=2, rounds 2-7" in text
    headline = (tmp_path / "report.md").read_text().split("## Headline\n\n")[1]
    assert headline.startswith(f"- **Frozen rounds:** {text}\n")
    page = (tmp_path / "report.html").read_text()  # the same model: the page says it too
    assert "<li><strong>Frozen rounds:</strong> in the ranking (T=0), rounds 4-7 (g, h, i, j) played no game" in page
    stored = json.loads((tmp_path / "results.json").read_text())["frozen_rounds"]
    assert stored["message"] == text and stored == report.to_dict()["frozen_rounds"]
    assert [entry["where"] for entry in stored["results"]] == [
        "in the ranking (T=0)", "in the sweep under T=1", "in the sweep under T=2"]


@pytest.mark.parametrize("mode", [["mode=simulate"], ["mode=sweep", "sweep.schedules=[0,1]"],
                                  ["mode=outlier", "outlier.model=c", "outlier.benchmarks=[g]"]])
def test_csd_run_prints_the_warning_and_writes_it_into_results_json_and_report_md(tmp_path, mode):
    rows = ["model," + ",".join(ISSUE.benchmarks)]
    rows += [f"{m}," + ",".join(f"{v:g}" for v in row) for m, row in zip(ISSUE.models, ISSUE.scores)]
    (tmp_path / "issue.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    proc = run_cli(*mode, "data.path=issue.csv", "data.order=given", "n_runs=200", "order_sensitivity=0",
                   f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stored = json.loads((out / "results.json").read_text())["frozen_rounds"]
    text = stored["message"]
    assert re.search(r"(^|, )rounds 4-7 \(g, h, i, j\) played no game", text)
    assert f"\nwarning: {text}\n" in proc.stdout and "rounds 4-7" not in proc.stderr  # said once, in the output
    assert f"- **warning:** {text}\n" in (out / "report.md").read_text()
    assert "<li><strong>warning:</strong> " in (out / "report.html").read_text()

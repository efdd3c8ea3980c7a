"""simulate(): the paper's exact cases, invariances the design promises, and bad options."""

import dataclasses
import json
from fractions import Fraction

import chex
import numpy as np
import pytest

import csd
from csd._src import driver, engine
from csd._src.spec import elimination_schedules


def strict_table(n_models, n_rounds):
    """Model 0 beats everyone on every benchmark, model 1 everyone but 0, ..."""
    scores = np.repeat(np.arange(n_models, 0, -1, dtype=float)[:, None], n_rounds, axis=1)
    return csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


def random_table(n_models, n_rounds, seed, ties=False):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, (n_models, n_rounds)).astype(float) if ties else rng.normal(size=(n_models, n_rounds))
    return csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


def test_four_models_in_strict_order_give_the_paper_values_exactly():
    result = csd.simulate(strict_table(4, 3), n_runs=5000, seed=1)
    assert result.expected_score.tolist() == [2.0, 2.0, 1.0, 0.0]
    assert result.stderr.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.slow
def test_five_models_in_strict_order_match_the_paper_within_standard_errors():
    result = csd.simulate(strict_table(5, 3), n_runs=100_000, seed=2)
    exact = np.array([29 / 15, 28 / 15, 6 / 5, 1, 0])
    assert result.expected_score[3:].tolist() == [1.0, 0.0]
    z = (result.expected_score[:3] - exact[:3]) / result.stderr[:3]
    assert np.all(np.abs(z) < 4.5), z


@pytest.mark.slow
def test_results_do_not_depend_on_the_chunk_size():
    table = csd.load_table(csd.shipped_table("livebench"))
    a = csd.simulate(table, n_runs=5000, elimination=1, seed=5, chunk_size=1000)
    b = csd.simulate(table, n_runs=5000, elimination=1, seed=5, chunk_size=1777)
    for field in ("expected_score", "stderr", "rank_probs", "survival", "expected_score_by_round"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


@pytest.fixture
def kernel_traced_at_most_once(monkeypatch):
    """The kernel rebuilt around `chex.assert_max_traces(n=1)`: a second trace raises."""
    monkeypatch.setattr(engine, "chunk_stats", chex.assert_max_traces(engine.chunk_stats, n=1))
    driver._compiled_kernel.cache_clear()
    yield
    monkeypatch.undo()
    driver._compiled_kernel.cache_clear()


def test_new_table_values_and_seeds_do_not_recompile(kernel_traced_at_most_once):
    csd.simulate(random_table(10, 4, seed=0), n_runs=3000, seed=0, chunk_size=1000)
    csd.simulate(random_table(10, 4, seed=1), n_runs=3000, seed=7, chunk_size=1000, elimination=[1, 0, 2, 0])


@pytest.mark.slow
def test_a_table_and_its_probability_tensor_give_identical_results():
    table = random_table(9, 5, seed=3, ties=True)
    from_table = csd.simulate(table, n_runs=4000, elimination=1, seed=3)
    from_tensor = csd.simulate(csd.win_probabilities(table), n_runs=4000, elimination=1, seed=3)
    assert np.array_equal(from_table.expected_score, from_tensor.expected_score)
    assert np.array_equal(from_table.rank_probs, from_tensor.rank_probs)


def random_tensor(n_models, n_rounds, seed):
    """Random P with draws: P[i,j] + P[j,i] <= 1."""
    rng = np.random.default_rng(seed)
    win, lose = rng.random((2, n_models, n_models, n_rounds))
    total = win + lose + rng.random((n_models, n_models, n_rounds))
    probs = win / total
    probs = np.where(np.triu(np.ones((n_models, n_models), bool), 1)[:, :, None], probs, 0)
    lower = (lose / total).transpose(1, 0, 2)
    probs = probs + np.where(np.tril(np.ones((n_models, n_models), bool), -1)[:, :, None], lower, 0)
    return probs


@pytest.mark.slow
@pytest.mark.parametrize("pairing", ["random", "float", "fold", "slide", "adjacent"])
def test_pairs_and_sort_orderings_give_identical_results(pairing):
    probs = random_tensor(7, 4, seed=11)
    schedules = elimination_schedules([[1, 0, 2, 1]], 4)
    totals = []
    for ranking in ("pairs", "sort"):
        tournament = driver.prepare(probs, csd.Tournament(pairing=pairing, min_active=2), ranking=ranking, wide_keys=True)
        totals.append(driver.run_engine(tournament, schedules, n_runs=3000, seed=4))
    for field in dataclasses.fields(driver.Totals):
        assert np.array_equal(getattr(totals[0], field.name), getattr(totals[1], field.name)), field.name


def test_outputs_are_consistent_distributions():
    table = random_table(12, 6, seed=4, ties=True)
    result = csd.simulate(table, n_runs=5000, elimination=[2, 1, 0, 3, 1, 1], min_active=3, seed=8, estimator="plain")
    assert np.allclose(result.rank_probs.sum(axis=1), 1)
    assert np.allclose(result.rank_probs.sum(axis=0), 1)  # each run is a strict ranking
    assert np.all(result.champion_prob >= result.rank_probs[:, 0])  # tied leaders are all champions
    assert result.champion_prob.sum() > 1  # this table's runs do end with tied leaders
    assert np.allclose(result.expected_score_by_round[:, -1], result.expected_score)
    active_after = result.survival.sum(axis=0)
    assert np.allclose(active_after, [10, 9, 9, 6, 5, 4])
    low, high = result.rank_interval(0.9)
    assert np.all((1 <= low) & (low <= high) & (high <= 12))


def test_min_active_stops_elimination():
    # the two models kept from round 3 on differ in score, so random pairing pairs nobody
    with pytest.warns(csd.FrozenRoundsWarning, match=r"rounds 3-5 \(b2, b3, b4\) played no game"):
        result = csd.simulate(random_table(6, 5, seed=5), n_runs=2000, elimination=3, min_active=2, seed=1)
    assert np.allclose(result.survival.sum(axis=0), [3, 2, 2, 2, 2])


def test_draw_and_bye_points_are_scored():
    table = csd.ScoreTable(("a", "b", "c"), ("x", "y"), np.ones((3, 2)))
    result = csd.simulate(table, n_runs=2000, tie="draw", draw_points=0.5, bye_points=1.0, seed=0, estimator="plain")
    # Every round: one game (a draw, 0.5 each) and one bye (1): 2 points handed out per round.
    assert result.expected_score.sum() == pytest.approx(4.0)
    assert result.tournament.bye_points == 1.0


def test_an_elimination_beyond_the_field_eliminates_down_to_min_active():
    table = random_table(5, 3, seed=2)
    with pytest.warns(csd.FrozenRoundsWarning, match="alone in its score group"):  # two left, apart
        result = csd.simulate(table, n_runs=200, elimination=10**30, min_active=2, seed=0)
    assert np.allclose(result.survival.sum(axis=0), [2, 2, 2])


def test_a_result_replays_exactly_from_its_tournament_and_seed():
    table = random_table(6, 4, seed=3)
    rules = csd.Tournament(pairing="float", bye="lowest", bye_once=True, elimination=[1, 0, 1, 0], min_active=2)
    result = csd.simulate(table, tournament=rules, n_runs=500, seed=9)
    again = csd.SimulationResult.from_dict(json.loads(json.dumps(result.to_dict())))
    replay = csd.simulate(table, tournament=again.tournament, n_runs=again.n_runs, seed=again.seed)
    assert again.tournament == rules and np.array_equal(replay.expected_score, result.expected_score)
    assert csd.simulate(table, tournament=rules, n_runs=500, seed=9, elimination=0).tournament.elimination == 0


@pytest.mark.slow
def test_target_se_adds_runs_until_every_standard_error_is_small_enough():
    table = random_table(8, 6, seed=6)
    result = csd.simulate(table, n_runs=1000, chunk_size=1000, target_se=0.02, seed=2)
    assert result.stderr.max() <= 0.02
    assert result.n_runs > 1000 and result.n_runs % 1000 == 0
    capped = csd.simulate(table, n_runs=1000, chunk_size=1000, target_se=1e-6, max_runs=3000, seed=2)
    assert capped.n_runs == 3000


def test_ranking_and_table_text_are_sorted_by_expected_score():
    result = csd.simulate(strict_table(4, 3), n_runs=1000, seed=0)
    assert [row["model"] for row in result.ranking()] == ["m0", "m1", "m2", "m3"]
    lines = result.format_table().splitlines()
    assert lines[1].split()[:3] == ["1", "m0", "2.000"]
    assert lines[-2:] == result.table().legend.splitlines()  # under the table: how ties count
    assert lines[-2].startswith("P(champion): P(top final score, alone or tied)") and "random order" in lines[-1]
    assert result.to_dict()["rank"] == [1, 1, 3, 4]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"elimination": [1, 1]}, r"elimination: has 2 entries but the tournament has 3 rounds"),
        ({"elimination": -1}, r"elimination=-1 must be >= 0"),
        ({"elimination": [0, -1, 0]}, r"elimination, round 2 \(T\)=-1 must be >= 0"),
        ({"pairng": "float"}, r"unknown tournament option\(s\) \['pairng'\]; the options are: pairing, bye"),
        ({"elimination": [0, 1.5, 0]}, r"elimination, round 2 \(T\)=1.5 must be an integer"),
        ({"n_runs": 0}, r"n_runs=0 must be >= 1"),
        ({"n_runs": -5}, r"n_runs=-5 must be >= 1"),
        ({"pairing": "dutch"}, r"pairing='dutch' is not allowed; choose one of: random, float, fold, slide, adjacent"),
        ({"tie": "maybe"}, r"tie='maybe' is not allowed"),
        ({"bye_points": 2}, r"bye_points=2 must be in \[0, 1\]"),
        ({"draw_points": 0.123456789, "tie": "draw"}, r"draw_points=0.123456789 must be a fraction"),
        ({"min_active": 0}, r"min_active=0 must be >= 1"),
        ({"seed": -1}, r"seed=-1 must be >= 0"),
        ({"chunk_size": 0}, r"chunk_size=0 must be >= 1"),
        ({"target_se": 0}, r"target_se=0 must be > 0"),
    ],
)
def test_bad_options_raise_input_error_naming_the_option(options, message):
    with pytest.raises(csd.InputError, match=message):
        csd.simulate(strict_table(4, 3), **{"n_runs": 100, **options})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p.__setitem__((0, 1, 0), 1.5), r"P\[0, 1, 0\] = 1.5 is outside \[0, 1\]"),
        (lambda p: p.__setitem__((0, 1, 0), -0.1), r"P\[0, 1, 0\] = -0.1 is outside \[0, 1\]"),
        (lambda p: p.__setitem__((1, 0, 1), 0.9), r"P\[0, 1, 1\] = 1.0 plus P\[j, i, k\] exceeds 1"),
        (lambda p: p.__setitem__((2, 2, 0), 0.5), r"P\[2, 2, 0\] = 0.5: a model cannot play itself"),
        (lambda p: p.__setitem__((0, 2, 1), np.nan), r"P\[0, 2, 1\] = nan is not a finite number"),
    ],
)
def test_bad_probability_tensors_name_the_entry(change, message):
    probs = csd.win_probabilities(strict_table(4, 3))
    change(probs)
    with pytest.raises(csd.InputError, match=message):
        csd.simulate(probs, n_runs=100)


def test_bad_tensor_shapes_are_rejected():
    with pytest.raises(csd.InputError, match=r"P must have shape \(M, M, K\)"):
        csd.simulate(np.zeros((3, 4, 2)))
    with pytest.raises(csd.InputError, match="at least 2 models"):
        csd.simulate(np.zeros((1, 1, 2)))


def test_win_probabilities_handle_ties_and_missing_scores():
    table = csd.ScoreTable(("a", "b", "c"), ("x",), np.array([[1.0], [1.0], [np.nan]]))
    coin = csd.win_probabilities(table)[:, :, 0]
    assert coin.tolist() == [[0, 0.5, 1], [0.5, 0, 1], [0, 0, 0]]
    draw = csd.win_probabilities(table, tie="draw")[:, :, 0]
    assert draw.tolist() == [[0, 0, 1], [0, 0, 1], [0, 0, 0]]
    two_missing = csd.ScoreTable(("a", "b"), ("x",), np.array([[np.nan], [np.nan]]))
    assert csd.win_probabilities(two_missing)[:, :, 0].tolist() == [[0, 0.5], [0.5, 0]]


def test_exact_fraction_values_are_reachable_in_ticks():
    table = csd.ScoreTable(("a", "b", "c"), ("x", "y", "z"), np.ones((3, 3)))
    result = csd.simulate(table, n_runs=3000, tie="draw", draw_points=1 / 3, bye_points=2 / 3, seed=1)
    # Each round: one draw (1/3 each) and one bye (2/3): 4/3 points per round.
    assert result.expected_score.sum() == pytest.approx(float(Fraction(4, 3) * 3))


def test_displayed_ranks_lie_inside_their_intervals_on_a_table_with_many_ties():
    """Four identical score rows, two near-identical ones, and eliminated models tied on
    their final scores: the place by E[S] and the rank interval count ties by one rule
    (tied models take the places they span in random order), so every place is inside its
    interval (with ties sharing the better rank in the interval, places 8-10 were not),
    and every place goes to one model per run."""
    rows = [[4, 4, 4, 4, 4], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3],
            [2, 2, 2, 2, 2.5], [2, 2, 2, 2, 2], [1, 1, 1, 1, 1], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0]]
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(len(rows))), tuple(f"b{k}" for k in range(5)),
                           np.array(rows, dtype=float))
    result = csd.simulate(table, n_runs=4000, seed=3, elimination=2)
    assert np.allclose(result.rank_probs.sum(axis=0), 1) and np.allclose(result.rank_probs.sum(axis=1), 1)
    shown = result.table()
    place, low, high = (np.array([row[shown.header.index(name)] for row in shown.values])
                        for name in ("rank", "rank_low", "rank_high"))
    assert np.all((low <= place) & (place <= high)), np.c_[place, low, high]


@pytest.mark.parametrize("top", [0, -1, 1.5])
def test_format_table_refuses_a_top_below_one_naming_it(top):
    result = csd.SimulationResult(  # hand-made: no run needed
        models=("a", "b"), rounds=("x",), expected_score=np.array([1.0, 0.0]), stderr=np.zeros(2),
        rank_probs=np.eye(2), champion_prob=np.array([1.0, 0.0]), survival=np.ones((2, 1)),
        expected_score_by_round=np.array([[1.0], [0.0]]), n_runs=10, tournament=csd.Tournament(), seed=0,
    )
    assert result.format_table(top=1).splitlines()[1].split()[1] == "a"
    with pytest.raises(csd.InputError, match=rf"^top={top} must be"):
        result.format_table(top=top)

"""The round order as part of the tournament (`Tournament.order`, `Tournament.tiers`):
`shuffle` against exact values averaged over every order, its independence of the
input's column order, the host orders against `csd.order_rounds`, and the checks."""

from fractions import Fraction

import jax
import numpy as np
import pytest
from csd.testing.agreement import assert_agrees_with_exact, assert_scores_agree
from csd.testing.exact import exact_expectations, exact_over_orders

import csd
from csd._src import engine

# These checks play every rule and schedule on tiny tables, frozen tournaments included
# (rounds with no game: csd._src.frozen); their FrozenRoundsWarning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::csd.FrozenRoundsWarning")

N_RUNS = 20_000


def small_tensor(seed, n_models=4, n_rounds=3):
    """A random (M, M, K) win-probability tensor with draws."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 4, (3, n_models, n_models, n_rounds)).astype(float)
    total = raw.sum(axis=0) + 1
    upper = np.triu(np.ones((n_models, n_models), bool), 1)[:, :, None]
    return np.where(upper, raw[0] / total, 0) + np.where(upper, raw[1] / total, 0).transpose(1, 0, 2)


@pytest.mark.parametrize(
    "seed, pairing, schedule, tiers, options",
    [
        pytest.param(0, "random", [0, 0, 0], None, {}, marks=pytest.mark.slow),
        pytest.param(1, "float", [1, 0, 0], None, {}, marks=pytest.mark.slow),
        (2, "random", [0, 1, 0], (0, 0, 1), {}),
        pytest.param(4, "adjacent", [0, 0, 0], None, {"avoid_rematch": True}, marks=pytest.mark.slow),
    ],
)
def test_shuffle_matches_the_mean_over_every_order(seed, pairing, schedule, tiers, options):
    probs = small_tensor(seed)
    tier_names = None if tiers is None else (("round_0", "round_1"), ("round_2",))
    result = csd.simulate(probs, n_runs=N_RUNS, seed=seed, pairing=pairing, elimination=schedule,
                          order="shuffle", tiers=tier_names, **options)
    exact = exact_over_orders(probs, schedule, tiers, pairing=pairing, draw_points=Fraction(1, 2), **options)
    assert_agrees_with_exact(result, exact, N_RUNS)
    fixed = exact_expectations(probs, schedule, pairing=pairing, draw_points=Fraction(1, 2), **options)
    fixed = fixed["expected_score"]
    # The case is one where the order matters, so the test can tell shuffle from given.
    assert np.abs(np.asarray(fixed, float) - np.asarray(exact["expected_score"], float)).max() > 0.02


@pytest.mark.slow
def test_shuffle_does_not_depend_on_the_column_order():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 6, (8, 6)).astype(float)
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(8)), tuple(f"b{k}" for k in range(6)), scores)
    permuted = table.with_benchmarks([table.benchmarks[k] for k in (3, 5, 0, 4, 1, 2)])
    first = csd.simulate(table, n_runs=N_RUNS, seed=1, order="shuffle", elimination=1)
    second = csd.simulate(permuted, n_runs=N_RUNS, seed=2, order="shuffle", elimination=1)
    se = np.hypot(first.stderr, second.stderr)
    assert_scores_agree(first.expected_score, se, second.expected_score, 0.0)
    given = csd.simulate(permuted, n_runs=N_RUNS, seed=2, elimination=1)
    assert np.abs(given.expected_score - second.expected_score).max() > 10 * se.max()  # the order matters here


def test_round_permutation_shuffles_inside_each_tier_only():
    tiers = (0, 0, 0, 1, 1, 2)
    keys = jax.numpy.asarray(np.random.default_rng(0).integers(0, 2**32, (500, 2)), jax.numpy.uint32)
    perms = np.asarray(jax.vmap(engine.round_permutation, in_axes=(0, None))(keys, tiers))
    assert (np.sort(perms, axis=1) == np.arange(6)).all()
    assert (np.asarray(tiers)[perms] == np.asarray(tiers)).all()
    first_position = np.bincount(perms[:, 0], minlength=3)[:3]  # uniform over tier 0's rounds
    assert first_position.min() > 120


def test_host_orders_equal_order_rounds():
    scores = np.random.default_rng(3).normal(size=(6, 5))
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(6)), tuple(f"b{k}" for k in range(5)), scores)
    tiers = {"one": list(table.benchmarks[:3]), "two": list(table.benchmarks[3:])}
    for order in ("given", "easy-first", "random"):
        ordered, _ = csd.order_rounds(table, order, tiers)
        by_tournament = csd.simulate(table, n_runs=500, order=order, tiers=tuple(tiers.values()))
        by_table = csd.simulate(ordered, n_runs=500)
        assert by_tournament.rounds == ordered.benchmarks
        np.testing.assert_array_equal(by_tournament.expected_score, by_table.expected_score)


def test_order_and_tiers_are_checked_and_round_trip():
    with pytest.raises(csd.InputError, match="order='sideways'"):
        csd.Tournament(order="sideways")
    with pytest.raises(csd.InputError, match="more than one tier"):
        csd.Tournament(tiers=[["a", "b"], ["b"]])
    rules = csd.Tournament(order="shuffle", tiers=[["a", "b"], ["c"]])
    assert rules.tiers == (("a", "b"), ("c",)) and hash(rules)
    assert csd.Tournament.from_dict(rules.to_dict()) == rules
    table = csd.ScoreTable(("x", "y"), ("a", "b"), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(csd.InputError, match="lacks: c"):
        csd.simulate(table, n_runs=10, tournament=rules)
    with pytest.raises(csd.InputError, match="easy-first"):
        csd.simulate(small_tensor(0), n_runs=10, order="easy-first")


def test_order_sensitivity_line_gives_one_tau_when_the_range_collapses():
    def line(taus):
        return csd.OrderSensitivity(orders=(("x", "y"),) * len(taus), expected_score=np.zeros((len(taus), 2)),
                                    kendall_tau=np.array(taus), leaders=("a",) * len(taus), reported_leader="a",
                                    n_runs=10).line()

    assert "Kendall tau 0.97 against" in line([0.9712, 0.9688])  # was `0.97-0.97`
    assert "Kendall tau 0.51-0.97 against" in line([0.51, 0.97])
    assert "Kendall tau -0.20 to 0.40 against" in line([0.4, -0.2])


def test_order_sensitivity_shuffles_inside_tiers_and_round_trips():
    scores = np.random.default_rng(7).normal(size=(6, 5))
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(6)), tuple(f"b{k}" for k in range(5)), scores)
    tiers = (("b0", "b1", "b2"), ("b3", "b4"))
    result = csd.simulate(table, n_runs=2000, seed=3, tiers=tiers, order_sensitivity=4)
    sensitivity = result.order_sensitivity
    assert sensitivity.n_runs == 500 and sensitivity.within_tiers and len(sensitivity.orders) == 4
    for order in sensitivity.orders:
        assert set(order[:3]) == set(tiers[0]) and set(order[3:]) == set(tiers[1])
    assert len(set(sensitivity.orders)) > 1
    # 500 runs per order is less than cv's pilot, so the orders run the plain estimator.
    replayed = csd.simulate(table.with_benchmarks(sensitivity.orders[0]), n_runs=500, seed=3, estimator="plain")
    np.testing.assert_array_equal(sensitivity.expected_score[0], replayed.expected_score)
    tau = csd.baselines.kendall_tau(result.expected_score, replayed.expected_score)
    assert sensitivity.kendall_tau[0] == tau
    assert sensitivity.reported_leader == result.models[result.order()[0]]
    assert f"leader changes in {sensitivity.leader_changes()}/4" in sensitivity.line()
    again = csd.SimulationResult.from_dict(result.to_dict())
    np.testing.assert_array_equal(again.order_sensitivity.expected_score, sensitivity.expected_score)
    assert again.order_sensitivity.orders == sensitivity.orders


def test_data_order_shuffle_routes_to_the_tournament_inside_the_tiers():
    from csd._src.config import RunConfig, prepare_table

    config = RunConfig.from_dict({"data": {"order": "shuffle"}})
    prepared = prepare_table(config.data)
    tournament = config.tournament(prepared)
    assert tournament.order == "shuffle" and tournament.tiers == tuple(map(tuple, prepared.tiers.values()))
    assert list(prepared.table.benchmarks) == [b for tier in tournament.tiers for b in tier]
    shipped = RunConfig.from_dict({})  # the LiveBench config: by category, easiest first
    assert shipped.data.round_order() == "easy-first" and shipped.tournament().order == "given"
    assert RunConfig.from_dict({"data": {"path": "x.csv"}}).data.round_order() == "given"  # any other table

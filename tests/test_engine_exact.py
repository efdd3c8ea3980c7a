"""The JAX engine against the exact enumerator (csd/testing/exact.py) on random small cases,
and against the plain-Python reference (csd/testing/reference.py) on a shipped real table."""

import time
from fractions import Fraction

import numpy as np
import pytest
from csd.testing.agreement import Z_MAX, assert_agrees_with_exact, assert_probs_agree
from csd.testing.exact import exact_expectations
from csd.testing.reference import simulate_reference

import csd
from csd._src import driver

# These checks play every rule and schedule on tiny tables, frozen tournaments included
# (rounds with no game: csd._src.frozen); their FrozenRoundsWarning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::csd.FrozenRoundsWarning")

N_RUNS = 20_000


def random_case(index):
    """A small tournament: (P, schedule, options), hard or probabilistic, with draws."""
    rng = np.random.default_rng(1000 + index)
    n_models, n_rounds = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    kind = ("hard coin", "hard draw", "probabilistic")[index % 3]
    if kind == "probabilistic":
        raw = rng.integers(0, 5, (3, n_models, n_models, n_rounds)).astype(float)  # win, loss, draw weights
        total = raw.sum(axis=0) + 1
        upper = np.triu(np.ones((n_models, n_models), bool), 1)[:, :, None]
        probs = np.where(upper, raw[0] / total, 0) + np.where(upper, raw[1] / total, 0).transpose(1, 0, 2)
    else:
        scores = rng.integers(0, 3, (n_models, n_rounds)).astype(float)
        table = csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)
        probs = csd.win_probabilities(table, tie="coin" if kind == "hard coin" else "draw")
    options = {
        "min_active": int(rng.integers(1, 3)),
        "bye_points": float(rng.choice([0.0, 0.5, 1.0])),
        "draw_points": float(rng.choice([0.5, 0.25])),
    }
    schedule = rng.integers(0, 3, n_rounds).tolist()
    return probs, schedule, options


def assert_matches_exact(probs, schedule, options, pairing, seed):
    result = csd.simulate(probs, n_runs=N_RUNS, elimination=schedule, pairing=pairing, seed=seed, **options)
    exact = exact_expectations(
        probs,
        schedule,
        pairing=pairing,
        bye_points=Fraction(options["bye_points"]),
        draw_points=Fraction(options["draw_points"]),
        min_active=options["min_active"],
    )
    assert_agrees_with_exact(result, exact, N_RUNS)


FAST_CASES = 2  # a coin and a draw case in the fast tier; the other 28 cases in the slow tier


@pytest.mark.parametrize(
    "index", [pytest.param(i, marks=() if i < FAST_CASES else pytest.mark.slow) for i in range(30)]
)
def test_random_pairing_matches_the_exact_enumerator(index):
    probs, schedule, options = random_case(index)
    assert_matches_exact(probs, schedule, options, "random", seed=index)


@pytest.mark.slow
@pytest.mark.parametrize("pairing", ["float", "fold", "slide", "adjacent"])
@pytest.mark.parametrize("index", range(30, 40))
def test_other_pairing_rules_match_the_exact_enumerator(pairing, index):
    probs, schedule, options = random_case(index)
    assert_matches_exact(probs, schedule, options, pairing, seed=index)


@pytest.mark.slow
def test_rank_distribution_matches_the_exact_enumerator():
    probs, schedule, options = random_case(2)
    result = csd.simulate(probs, n_runs=N_RUNS, elimination=schedule, seed=3, **options)
    exact = exact_expectations(
        probs, schedule, bye_points=Fraction(options["bye_points"]),
        draw_points=Fraction(options["draw_points"]), min_active=options["min_active"],
    )
    assert_probs_agree(result.rank_probs, exact["rank_probs"], N_RUNS, 1 / N_RUNS)


@pytest.mark.slow
def test_engine_agrees_with_the_plain_reference_on_a_real_table_and_is_faster():
    table = csd.load_table(csd.shipped_table("livebench"))
    probs = csd.win_probabilities(table)
    start = time.perf_counter()
    reference = simulate_reference(probs, [1] * table.shape[1], n_runs=1500, seed=0)
    reference_seconds = time.perf_counter() - start
    engine = csd.simulate(table, n_runs=20_000, elimination=1, seed=0)
    z = (engine.expected_score - reference["expected_score"]) / np.hypot(engine.stderr, reference["stderr"])
    assert np.all(np.abs(z) < Z_MAX), z
    start = time.perf_counter()
    csd.simulate(table, n_runs=20_000, elimination=1, seed=1)
    engine_seconds = time.perf_counter() - start
    assert engine_seconds / 20_000 < reference_seconds / 1500


def test_tensor_seed_order_matches_the_enumerators_default():
    probs, _, _ = random_case(5)
    tournament = driver.prepare(probs, csd.Tournament(pairing="fold"))
    from csd.testing.tournament_inputs import default_seed_order

    by_priority = np.argsort(-tournament.seed_key[: probs.shape[0]].astype(np.int64), kind="stable")
    assert by_priority.tolist() == default_seed_order(probs)

"""The plain-Python reference simulator and the exact enumerator, checked against values
worked out by hand, against the paper, and against each other."""

from fractions import Fraction

import numpy as np
import pytest

from csd.testing.agreement import Z_MAX, as_float, assert_probs_agree, assert_scores_agree
from csd.testing.exact import exact_expectations
from csd.testing.reference import simulate_reference
from csd.testing.tournament_inputs import PAIRING_RULES, SEEDED_RULES, default_seed_order, strict_order_P

F = Fraction


def assert_within_stderr(reference, exact_score, n_rounds):
    """Reference E[S] within Z_MAX standard errors (plus n_rounds / n_runs) of the exact
    value, for every model."""
    assert_scores_agree(reference["expected_score"], reference["stderr"], exact_score, n_rounds / reference["n_runs"])


def assert_within_binomial_se(estimate, exact_probability, n_runs):
    """Frequencies within Z_MAX binomial standard errors of the exact probabilities;
    probability 0 or 1 must be matched exactly."""
    assert_probs_agree(estimate, exact_probability, n_runs, 1e-12)


# --- the paper's exact small cases --------------------------------------------------


@pytest.mark.parametrize(
    "n_models, expected",
    [(4, [2, 2, 1, 0]), (5, [F(29, 15), F(28, 15), F(6, 5), 1, 0])],
)
def test_paper_strict_order_three_rounds(n_models, expected):
    P = strict_order_P(n_models, 3)
    exact = exact_expectations(P, [0, 0, 0])
    assert list(exact["expected_score"]) == expected
    assert_within_stderr(simulate_reference(P, [0, 0, 0], n_runs=4000, seed=1), expected, 3)


# --- hand-worked cases, one rule at a time ------------------------------------------

# 6 models in strict order, 3 rounds, seeds 0..5.
# fold: r0 on [0..5]: 0-5, 1-4, 2-3 -> 0, 1, 2 at 1. r1: group {0,1,2} is odd, so 2 goes
#   down: segments [0,1] and [2,3,4,5]: 0-1, 2-5, 3-4 -> scores 2,1,2,1,0,0.
#   r2: groups {0,2}, {1,3}, {4,5}: 0-2, 1-3, 4-5 -> 3,2,2,1,1,0.
# slide: r0 0-3, 1-4, 2-5 and r1 0-1, 2-4, 3-5 give the same winners -> 3,2,2,1,1,0.
# adjacent: r0 0-1, 2-3, 4-5 -> 0, 2, 4 at 1. r1: [0,2] and [4,1,3,5]: 0-2, 4-1, 3-5
#   -> scores 2,1,1,1,1,0. r2: {0} sends 0 down, {0,1,2,3,4} is odd and sends 4 down:
#   segments [0,1,2,3], [4,5]: 0-1, 2-3, 4-5 -> 3,1,2,1,2,0.
SIX_STRICT = {
    "fold": [3, 2, 2, 1, 1, 0],
    "slide": [3, 2, 2, 1, 1, 0],
    "adjacent": [3, 1, 2, 1, 2, 0],
}


@pytest.mark.parametrize("pairing", SEEDED_RULES)
def test_seeded_rules_six_strict_models_float_down_lowest_seed(pairing):
    P = strict_order_P(6, 3)
    exact = exact_expectations(P, [0, 0, 0], pairing=pairing)
    assert list(exact["expected_score"]) == SIX_STRICT[pairing]
    reference = simulate_reference(P, [0, 0, 0], n_runs=50, pairing=pairing)
    np.testing.assert_array_equal(reference["expected_score"], SIX_STRICT[pairing])
    np.testing.assert_array_equal(reference["stderr"], 0)


def draw_then_cycle_P():
    """(4, 4, 2): round 0 every game a certain draw, round 1 a cycle of winners:
    0 beats 1 and 3, 1 beats 2, 2 beats 0, 3 beats 1 and 2."""
    P = np.zeros((4, 4, 2))
    for winner, loser in [(0, 1), (0, 3), (1, 2), (2, 0), (3, 1), (3, 2)]:
        P[winner, loser, 1] = 1
    return P


# After round 0 all four are at 1/2, one segment of 4. With seeds [0, 1, 2, 3]:
# fold 0-3, 1-2 (0, 1 win); slide 0-2, 1-3 (2, 3 win); adjacent 0-1, 2-3 (0, 3 win).
# The default seeds (mean of P: 0 and 3 win twice, 1 and 2 once) are [0, 3, 1, 2]:
# fold 0-2, 3-1 (2, 3 win); slide 0-1, 3-2 (0, 3 win); adjacent 0-3, 1-2 (0, 1 win).
@pytest.mark.parametrize(
    "pairing, seed_order, winners",
    [
        ("fold", [0, 1, 2, 3], (0, 1)),
        ("slide", [0, 1, 2, 3], (2, 3)),
        ("adjacent", [0, 1, 2, 3], (0, 3)),
        ("fold", None, (2, 3)),
        ("slide", None, (0, 3)),
        ("adjacent", None, (0, 1)),
    ],
)
def test_seeded_rule_patterns_inside_one_segment(pairing, seed_order, winners):
    P = draw_then_cycle_P()
    expected = [F(3, 2) if m in winners else F(1, 2) for m in range(4)]
    exact = exact_expectations(P, [0, 0], pairing=pairing, seed_order=seed_order)
    assert list(exact["expected_score"]) == expected
    reference = simulate_reference(P, [0, 0], n_runs=20, pairing=pairing, seed_order=seed_order)
    np.testing.assert_array_equal(reference["expected_score"], as_float(expected))


def test_default_seed_order_is_mean_win_probability_ties_by_index():
    assert default_seed_order(draw_then_cycle_P()) == [0, 3, 1, 2]


# 5 strict models, 2 rounds, bye worth 1. r0: [0..4] is odd, so its last member 4 gets
# the bye; the pattern on [0,1,2,3] lets 0 and 1 win under every seeded rule -> 1,1,0,0,1.
# r1: {0,1,4} sends 4 down: [0,1] (0 wins) and [4,2,3], odd: 3 gets the bye, 2 beats 4
# -> 2,1,1,1,1. With a bye worth 0: r1 is {0,1}: 0 wins, and [2,3,4]: 4's bye, 2 wins.
@pytest.mark.parametrize("pairing", SEEDED_RULES)
@pytest.mark.parametrize("bye_points, expected", [(1, [2, 1, 1, 1, 1]), (0, [2, 1, 1, 0, 0])])
def test_seeded_rules_give_the_bye_to_the_lowest_segments_last_member(
    pairing, bye_points, expected
):
    P = strict_order_P(5, 2)
    exact = exact_expectations(P, [0, 0], pairing=pairing, bye_points=bye_points)
    assert list(exact["expected_score"]) == expected
    reference = simulate_reference(P, [0, 0], n_runs=20, pairing=pairing, bye_points=bye_points)
    np.testing.assert_array_equal(reference["expected_score"], expected)


# 3 strict models, 2 rounds, bye worth 0. r0: each model has the bye with chance 1/3.
#   Bye to 0: 1 beats 2 -> (0, 1, 0). Bye to 1 or 2: 0 wins -> (1, 0, 0).
# random, r1: the lone leader takes a bye, the other two play: (1, 1, 0) either way.
# float, r1: the leader floats into the group of two and meets a uniform member, the
#   other gets the bye. From (0, 1, 0): 1 meets 0 (0 wins) or 2 (1 wins), so 1/2 each
#   of (1, 1, 0) and (0, 2, 0). From (1, 0, 0): 0 wins -> (2, 0, 0).
#   E[S] = 1/3 (1/2 (1, 1, 0) + 1/2 (0, 2, 0)) + 2/3 (2, 0, 0) = (3/2, 1/2, 0).
@pytest.mark.parametrize(
    "pairing, expected", [("random", [1, 1, 0]), ("float", [F(3, 2), F(1, 2), 0])]
)
def test_random_byes_each_odd_group_float_carries_the_odd_one_down(pairing, expected):
    P = strict_order_P(3, 2)
    assert list(exact_expectations(P, [0, 0], pairing=pairing)["expected_score"]) == expected
    reference = simulate_reference(P, [0, 0], n_runs=4000, pairing=pairing, seed=2)
    assert_within_stderr(reference, expected, 2)


# 3 strict models, 3 rounds, random pairing, bye worth 1. After r0 the scores are
# (1, 1, 0) if the bye went to 0 or 1, (1, 0, 1) if it went to 2; r1 puts 0 against the
# other 1-point model and gives the third a bye -> (2, 1, 1); r2: 0's bye, 1 beats 2
# -> (3, 2, 1) in every run. Points handed out: 3 games + 3 byes = 6.
def test_byes_worth_one_point_are_counted():
    P = strict_order_P(3, 3)
    exact = exact_expectations(P, [0, 0, 0], bye_points=1)
    assert list(exact["expected_score"]) == [3, 2, 1]
    reference = simulate_reference(P, [0, 0, 0], n_runs=50, bye_points=1.0)
    np.testing.assert_array_equal(reference["expected_score"], [3, 2, 1])


# 4 models, random pairing: round 0 all draws (everyone at 1/2); round 1 strict order,
# one group of 4 with 3 equally likely matchings. 0 always wins; 1 wins unless it meets 0
# (2/3); 2 wins only against 3 (1/3); 3 never.
def test_certain_draws_split_the_point():
    P = strict_order_P(4, 2)
    P[:, :, 0] = 0
    expected = [F(3, 2), F(7, 6), F(5, 6), F(1, 2)]
    exact = exact_expectations(P, [0, 0])
    assert list(exact["expected_score"]) == expected
    assert list(exact["expected_score_by_round"][:, 0]) == [F(1, 2)] * 4
    assert_within_stderr(simulate_reference(P, [0, 0], n_runs=4000, seed=3), expected, 2)


# 2 models, 1 round: 0 wins 1/2, 1 wins 1/6, draw 1/3, a draw worth 1/4.
# E[S] = (1/2 + 1/3 * 1/4, 1/6 + 1/3 * 1/4) = (7/12, 1/4). A draw makes both champion:
# P(champion) = (1/2 + 1/3, 1/6 + 1/3) = (5/6, 1/2); the tied pair takes places 1 and 2
# with 1/2 each: P(place 2) = (1/6 + 1/3 * 1/2, 1/2 + 1/3 * 1/2) = (1/3, 2/3).
def test_probabilistic_draws_with_custom_draw_points_and_shared_ranks():
    P = np.array([[[F(0)], [F(1, 2)]], [[F(1, 6)], [F(0)]]], dtype=object)
    exact = exact_expectations(P, [0], draw_points=F(1, 4))
    assert list(exact["expected_score"]) == [F(7, 12), F(1, 4)]
    assert list(exact["champion_prob"]) == [F(5, 6), F(1, 2)]
    assert list(exact["rank_probs"][:, 1]) == [F(1, 3), F(2, 3)]
    assert list(exact["rank_probs"].sum(axis=0)) == [1, 1]
    reference = simulate_reference(as_float(P), [0], n_runs=4000, draw_points=0.25, seed=4)
    assert_within_stderr(reference, exact["expected_score"], 1)
    assert_within_binomial_se(reference["rank_probs"], exact["rank_probs"], 4000)


# 4 strict models, 2 rounds, random pairing, T = (1, 5), min_active = 2.
# r0 matchings (1/3 each): A = {0-1, 2-3} (0, 2 win), B = {0-2, 1-3}, C = {0-3, 1-2}
#   (0, 1 win). t = min(1, 4 - 2) = 1: one of the two losers (tied at 0) goes, 1/2 each.
#   survival after r0: 0: 1; 1: 1/3 * 1/2 + 2/3 = 5/6; 2: 1/3 + 2/3 * 1/2 = 2/3; 3: 1/2.
# r1: the two winners play (0 wins), the surviving loser takes a 0-point bye.
#   A -> (2, 0, 1, 0); B, C -> (2, 1, 0, 0): E[S] = (2, 2/3, 1/3, 0).
#   t = min(5, 3 - 2) = 1: the surviving loser goes. survival: (1, 2/3, 1/3, 0).
# Places: A -> (1, 3|4, 2, 3|4); B, C -> (1, 2, 3|4, 3|4), a tie's places 1/2 each.
def test_tied_boundary_elimination_is_uniform_and_stops_at_min_active():
    P = strict_order_P(4, 2)
    exact = exact_expectations(P, [1, 5], min_active=2)
    assert list(exact["expected_score"]) == [2, F(2, 3), F(1, 3), 0]
    assert exact["survival"].tolist() == [
        [1, 1],
        [F(5, 6), F(2, 3)],
        [F(2, 3), F(1, 3)],
        [F(1, 2), 0],
    ]
    assert exact["rank_probs"].tolist() == [
        [1, 0, 0, 0],
        [0, F(2, 3), F(1, 6), F(1, 6)],
        [0, F(1, 3), F(1, 3), F(1, 3)],
        [0, 0, F(1, 2), F(1, 2)],
    ]
    reference = simulate_reference(P, [1, 5], n_runs=4000, min_active=2, seed=5)
    assert_within_stderr(reference, exact["expected_score"], 2)
    assert_within_binomial_se(reference["survival"], exact["survival"], 4000)
    assert_within_binomial_se(reference["rank_probs"], exact["rank_probs"], 4000)


# --- the reference against the exact enumerator on random small cases --------------

CASE_KINDS = ("hard-coin", "hard-draw", "grid", "continuous")


def random_P(rng, n_models, n_rounds, kind):
    """(M, M, K) test tensor, zero diagonal.

    hard-*: scores in {0, 1, 2} per round (many ties), a tie is a coin flip or a certain
    draw; grid: win/loss probabilities on a 1/8 grid, draws likely; continuous: arbitrary
    floats, each side at most 1/2 (so the sum stays <= 1 in exact arithmetic).
    """
    if kind.startswith("hard"):
        scores = rng.integers(0, 3, (n_models, n_rounds))
        diff = scores[:, None, :] - scores[None, :, :]  # (M, M, K)
        tie_value = 0.5 if kind == "hard-coin" else 0.0
        P = (diff > 0) + tie_value * (diff == 0)
    elif kind == "grid":
        first = rng.integers(0, 9, (n_models, n_models, n_rounds))
        second = np.floor(rng.random((n_models, n_models, n_rounds)) * (9 - first))
        upper = np.triu(np.ones((n_models, n_models)), 1)[:, :, None]
        P = (upper * first + np.swapaxes(upper * second, 0, 1)) / 8
    else:
        P = 0.5 * rng.random((n_models, n_models, n_rounds))
    return P * (1 - np.eye(n_models))[:, :, None]


CASE_SHAPES = [(3, 2), (3, 4), (4, 3), (4, 4), (5, 2), (5, 3), (5, 4), (6, 2), (6, 3), (6, 4)]


def random_case(case_seed, n_models, n_rounds):
    """Keyword arguments of one small tournament, fixed by case_seed."""
    rng = np.random.default_rng(case_seed)
    return {
        "P": random_P(rng, n_models, n_rounds, CASE_KINDS[case_seed % len(CASE_KINDS)]),
        "schedule": [int(t) for t in rng.integers(0, 3, n_rounds)],
        "min_active": int(rng.integers(1, 4)),
        "bye_points": float(rng.choice([0.0, 0.5, 1.0])),
    }


CASES = [random_case(seed, *shape) for seed, shape in enumerate(CASE_SHAPES)]
CASE_IDS = [
    f"{seed}-{CASE_KINDS[seed % len(CASE_KINDS)]}-M{n_models}K{n_rounds}"
    for seed, (n_models, n_rounds) in enumerate(CASE_SHAPES)
]


@pytest.mark.parametrize("pairing", PAIRING_RULES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reference_matches_exact_expected_scores(case, pairing):
    exact = exact_expectations(**case, pairing=pairing)
    reference = simulate_reference(**case, pairing=pairing, n_runs=4000, seed=11)
    assert_within_stderr(reference, exact["expected_score"], len(case["schedule"]))


@pytest.mark.parametrize("pairing", PAIRING_RULES)
def test_reference_matches_exact_rank_and_survival_probabilities(pairing):
    case = CASES[8]
    exact = exact_expectations(**case, pairing=pairing)
    reference = simulate_reference(**case, pairing=pairing, n_runs=4000, seed=12)
    assert_within_binomial_se(reference["rank_probs"], exact["rank_probs"], 4000)
    assert_within_binomial_se(reference["survival"], exact["survival"], 4000)


# --- properties every result must have ----------------------------------------------


def active_counts(n_models, schedule, min_active):
    """(K,) number of active models after each round's elimination (not random)."""
    counts, n_active = [], n_models
    for n_scheduled in schedule:
        n_active -= max(0, min(n_scheduled, n_active - min_active))
        counts.append(n_active)
    return counts


def assert_consistent(result, case, exact):
    """Rank distributions, survival and per-round scores agree with each other and the schedule.

    exact: Fraction results must hold with equality, Monte Carlo ones up to float rounding.
    """
    close = (lambda a, b: (np.asarray(a) == np.asarray(b)).all()) if exact else np.allclose
    n_models = case["P"].shape[0]
    rank_probs, survival = result["rank_probs"], result["survival"]
    by_round = result["expected_score_by_round"]
    assert close(rank_probs.sum(axis=1), np.ones(n_models))
    assert close(rank_probs.sum(axis=0), np.ones(n_models))  # tied models share their places
    assert (as_float(result["champion_prob"]) >= as_float(rank_probs[:, 0]) - 1e-12).all()  # ties count for all
    assert (as_float(rank_probs) >= 0).all() and (np.diff(as_float(survival), axis=1) <= 0).all()
    n_active = active_counts(n_models, case["schedule"], case["min_active"])
    assert close(survival.sum(axis=0), n_active)
    assert close(by_round[:, -1], result["expected_score"])
    assert (np.diff(as_float(by_round), axis=1) >= 0).all()


@pytest.mark.parametrize("pairing", PAIRING_RULES)
@pytest.mark.parametrize("case", CASES[6:9], ids=CASE_IDS[6:9])
def test_results_are_internally_consistent(case, pairing):
    assert_consistent(exact_expectations(**case, pairing=pairing), case, exact=True)
    assert_consistent(simulate_reference(**case, pairing=pairing, n_runs=500), case, exact=False)


@pytest.mark.parametrize("pairing", PAIRING_RULES)
@pytest.mark.parametrize("case", CASES[6:9], ids=CASE_IDS[6:9])
def test_each_round_hands_out_half_a_point_per_active_model(case, pairing):
    """With a draw and a bye both worth 1/2, every game hands out 1 point and every bye
    1/2, so round k adds exactly n_k / 2 points, n_k the active models before it."""
    case = {**case, "bye_points": 0.5}
    n_models, schedule = case["P"].shape[0], case["schedule"]
    active_before = [n_models] + active_counts(n_models, schedule, case["min_active"])[:-1]
    handed_out = np.cumsum(active_before) / 2  # (K,)
    exact = exact_expectations(**case, pairing=pairing)
    assert list(exact["expected_score_by_round"].sum(axis=0)) == list(handed_out)
    reference = simulate_reference(**case, pairing=pairing, n_runs=500)
    np.testing.assert_allclose(reference["expected_score_by_round"].sum(axis=0), handed_out)


def test_reference_is_reproducible_from_its_seed():
    first, again, other = (
        simulate_reference(**CASES[8], n_runs=200, seed=seed) for seed in (7, 7, 8)
    )
    np.testing.assert_array_equal(first["rank_probs"], again["rank_probs"])
    assert not np.array_equal(first["rank_probs"], other["rank_probs"])


UNDEFINED_INPUTS = {
    "unknown-pairing": {"pairing": "dutch"},
    "win-probabilities-over-one": {"P": np.full((3, 3, 2), 0.6)},
    "seed-order-not-a-permutation": {"seed_order": [0, 0, 1]},
    "schedule-length": {"schedule": [0]},
}


@pytest.mark.parametrize("bad_input", UNDEFINED_INPUTS.values(), ids=UNDEFINED_INPUTS.keys())
def test_undefined_inputs_are_rejected(bad_input):
    arguments = {"P": strict_order_P(3, 2), "schedule": [0, 0], **bad_input}
    with pytest.raises(ValueError):
        exact_expectations(**arguments)
    with pytest.raises(ValueError):
        simulate_reference(**arguments, n_runs=10)

"""The pairing options of docs/rules.md ("Pairing options"): `bye`, `bye_once` and
`avoid_rematch`. Hand-worked cases in the exact enumerator, the plain reference and the
engine; the engine against the exact enumerator on random small cases; and properties of
many random tournaments read out of the engine (`engine.trace_pairings`)."""

import itertools
import random
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from csd.testing.agreement import Z_MAX, assert_agrees_with_exact, assert_scores_agree
from csd.testing.exact import Options, exact_expectations, list_form_pairings
from csd.testing.reference import PAIRING_WITH_OPTIONS, History, rematch_free, simulate_reference
from csd.testing.reference import Rules as ReferenceRules
from csd.testing.tournament_inputs import PAIRING_RULES, SEEDED_RULES, strict_order_P

import csd
from csd._src import driver
from csd._src import engine, rng
from csd._src.estimator import FINE
from csd._src.spec import elimination_schedules

# These checks play every rule and schedule on tiny tables, frozen tournaments included
# (rounds with no game: csd._src.frozen); their FrozenRoundsWarning is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::csd.FrozenRoundsWarning")

F = Fraction
N_RUNS = 20_000


def trace(P, schedule, n_runs, seed=0, **options):
    """(score, active, opponent), each (runs, K, M) numpy, of `n_runs` engine runs: the
    scores before each round, who plays it and against whom (-1: a bye or not playing)."""
    tournament = driver.prepare(P, csd.Tournament(**options))
    rules, n_players = tournament.rules, tournament.rules.n_players
    schedule = jnp.asarray(elimination_schedules([schedule], rules.n_rounds)[0])
    traced = jax.jit(engine.trace_pairings, static_argnums=0)(
        rules,
        tournament.outcomes,
        schedule,
        jnp.asarray(tournament.seed_key),
        jnp.asarray(rng.seed_words(seed)),
        jnp.uint32(0),
        jnp.arange(n_runs, dtype=jnp.uint32),
    )
    return tuple(np.asarray(x)[..., :n_players] for x in traced)


def round_pairs(opponent):
    """The set of pairs (low, high) of one round's (M,) opponents."""
    return {(m, int(o)) for m, o in enumerate(opponent) if o > m}


def draws_then(final_round):
    """(M, M, K + 1): K rounds of certain draws, then `final_round` (M, M)."""
    def build(n_models, n_draw_rounds):
        P = np.zeros((n_models, n_models, n_draw_rounds + 1))
        P[:, :, -1] = final_round(n_models)
        return P

    return build


lower_wins = draws_then(lambda m: np.triu(np.ones((m, m)), 1))


# --- bye: which member of an odd group ---------------------------------------------

# 3 models in strict order, 1 round, a bye worth 1, seeds 0, 1, 2. bye="random": each
# member has the bye with chance 1/3, the other two play (the lower index wins):
# bye 0 -> (1, 1, 0), bye 1 -> (1, 1, 0), bye 2 -> (1, 0, 1): E[S] = (1, 2/3, 1/3).
# bye="lowest": always 2 -> (1, 0, 1). One group, so float plays the same.
@pytest.mark.parametrize("pairing", ["random", "float"])
@pytest.mark.parametrize("bye, expected", [("random", [1, F(2, 3), F(1, 3)]), ("lowest", [1, 0, 1])])
def test_bye_lowest_goes_to_the_lowest_seed_random_to_anyone(pairing, bye, expected):
    P = strict_order_P(3, 1)
    options = dict(pairing=pairing, bye=bye, bye_points=1)
    assert list(exact_expectations(P, [0], **options)["expected_score"]) == expected
    reference = simulate_reference(P, [0], n_runs=3000, seed=1, **options)
    assert_scores_agree(reference["expected_score"], reference["stderr"], expected, 1e-12)
    result = csd.simulate(P, n_runs=N_RUNS, seed=0, **options)
    # The cv estimator (random bye) sums each run's score on a grid of 1/FINE of a point,
    # and its SE is 0 here: one round whose conditional mean is known.
    assert_scores_agree(result.expected_score, result.stderr, expected, 1.0 / FINE)


# 3 models; round 1 all draws, round 2 the lower index wins; byes worth 1/2 (a draw).
# Round 1: the lowest seed 2 has the bye, 0-1 draw: everyone at 1/2, one group again.
# Round 2 without bye_once: 2's bye again, 0 beats 1 -> (3/2, 1/2, 1).
# With bye_once: 2 had one, so the lowest seed without one, 1, gets it; 0 beats 2
# -> (3/2, 1, 1/2). The seeded rules (one segment of two) and random/float with
# bye="lowest" all play this.
BYE_ONCE_CASES = [("random", "lowest"), ("float", "lowest"), ("fold", None), ("slide", None), ("adjacent", None)]


@pytest.mark.parametrize("pairing, bye", [pytest.param(*case, marks=() if i == 0 else pytest.mark.slow)
                                          for i, case in enumerate(BYE_ONCE_CASES)])
@pytest.mark.parametrize("bye_once, expected", [(False, [F(3, 2), F(1, 2), 1]), (True, [F(3, 2), 1, F(1, 2)])])
def test_bye_once_passes_a_second_bye_to_the_next_lowest_seed(pairing, bye, bye_once, expected):
    P = lower_wins(3, 1)
    options = dict(pairing=pairing, bye=bye, bye_once=bye_once, bye_points=0.5)
    assert list(exact_expectations(P, [0, 0], **options)["expected_score"]) == expected
    reference = simulate_reference(P, [0, 0], n_runs=20, **options)
    np.testing.assert_array_equal(reference["expected_score"], np.array(expected, float))
    if pairing in ("random", "float", "adjacent"):
        result = csd.simulate(P, n_runs=200, elimination=[0, 0], **options)
        np.testing.assert_array_equal(result.expected_score, np.array(expected, float))


def test_random_bye_once_hands_out_one_bye_each_in_uniform_order():
    """3 models, 3 rounds of draws (byes worth 1/2 too): everyone stays level, so each
    round's bye goes to a member without one, uniformly: the byes of a run are a uniformly
    random permutation of the three models."""
    P = np.zeros((3, 3, 3))
    n_runs = 6000
    _, _, opponent = trace(P, 0, n_runs, pairing="random", bye_once=True, bye_points=0.5)
    byes = np.argmax(opponent < 0, axis=2)  # (runs, K) the bye of each round
    assert np.all((opponent < 0).sum(axis=2) == 1)
    assert all(sorted(run) == [0, 1, 2] for run in byes.tolist())
    counts = np.array([np.sum((byes[:, 0] == a) & (byes[:, 1] == b)) for a, b in itertools.permutations(range(3), 2)])
    share = 1 / 6
    assert np.all(np.abs(counts / n_runs - share) <= Z_MAX * np.sqrt(share * (1 - share) / n_runs))


# --- avoid_rematch: hand-worked cases ----------------------------------------------

# 6 models, seeds 0-5, round 1 all draws (everyone at 1/2, one segment of six), round 2
# the lower index wins. Round 1 plays the rule's pattern; round 2 with avoid_rematch:
# adjacent: round 1 0-1, 2-3, 4-5. Leader 0 skips 1 (met), takes 2; leader 1 takes 3;
#   then 4-5 (met): back up, leader 1 takes 4; leader 3 takes 5: 0-2, 1-4, 3-5.
# fold (candidates from the end): round 1 0-5, 1-4, 2-3. Leader 0 skips 5, takes 4;
#   remaining [1, 2, 3, 5]: leader 1 takes 5, leaving 2-3 (met): back up, 1 takes 3;
#   2-5: 0-4, 1-3, 2-5.
# slide (candidates r/2, ..., r-1, then r/2-1, ..., 1): round 1 0-3, 1-4, 2-5. Leader 0
#   skips 3, takes 4; remaining [1, 2, 3, 5]: leader 1 takes 3 (r/2 = 2nd place), leaving
#   2-5 (met): back up, 1 takes 5; 2-3: 0-4, 1-5, 2-3.
# A greedy pass without backing up would replay 4-5, 2-3 and 2-5 respectively.
TRAPS = {
    "adjacent": ({(0, 1), (2, 3), (4, 5)}, {(0, 2), (1, 4), (3, 5)}),
    "fold": ({(0, 5), (1, 4), (2, 3)}, {(0, 4), (1, 3), (2, 5)}),
    "slide": ({(0, 3), (1, 4), (2, 5)}, {(0, 4), (1, 5), (2, 3)}),
}


def reference_pairs(pairing, groups, met, avoid_rematch=True):
    rules = ReferenceRules(pairing, 0.0, 0.5, 1, list(range(6)), "lowest", False, avoid_rematch)
    history = History({frozenset(pair) for pair in met}, set())
    pairs, byes = PAIRING_WITH_OPTIONS[pairing](groups, None, rules, history)
    return {tuple(sorted(pair)) for pair in pairs}, byes


@pytest.mark.slow
@pytest.mark.parametrize("pairing", sorted(TRAPS))
def test_avoid_rematch_backs_up_where_a_greedy_pass_would_replay_a_game(pairing):
    first, second = TRAPS[pairing]
    group = [tuple(range(6))]
    # The enumerator and the reference, from the state after round 1.
    (only,) = list_form_pairings(Options(pairing, "lowest", False, True), tuple(group), (frozenset(first), frozenset()))
    assert only[0] == 1 and set(only[1]) == second
    assert reference_pairs(pairing, [list(range(6))], first) == (second, [])
    assert reference_pairs(pairing, [list(range(6))], first, avoid_rematch=False) == (first, [])
    # The engine, over the whole tournament.
    _, _, opponent = trace(lower_wins(6, 1), 0, 2, pairing=pairing, avoid_rematch=True)
    for run in opponent:
        assert round_pairs(run[0]) == first and round_pairs(run[1]) == second


def test_avoid_rematch_adjacent_trap_in_expected_scores():
    """The trap above in E[S]: round 2's winners are 0, 1, 3 (not 0, 2, 4)."""
    P = lower_wins(6, 1)
    expected = [F(3, 2), F(3, 2), F(1, 2), F(3, 2), F(1, 2), F(1, 2)]
    assert list(exact_expectations(P, [0, 0], pairing="adjacent", avoid_rematch=True)["expected_score"]) == expected
    plain = exact_expectations(P, [0, 0], pairing="adjacent")["expected_score"]
    assert list(plain) == [F(3, 2), F(1, 2), F(3, 2), F(1, 2), F(3, 2), F(1, 2)]


@pytest.mark.slow
def test_avoid_rematch_random_plays_a_round_robin_of_four():
    """4 models, 3 rounds of draws: after two rounds only one matching is new, and the
    search finds it, so every pair meets exactly once in every run (by random pairing
    alone, a given run would do so with chance 2/9)."""
    P = np.zeros((4, 4, 3))
    _, _, opponent = trace(P, 0, 500, pairing="random", avoid_rematch=True)
    for run in opponent:
        pairs = [pair for k in range(3) for pair in round_pairs(run[k])]
        assert sorted(pairs) == sorted(itertools.combinations(range(4), 2))
    rules = ReferenceRules("random", 0.5, 0.5, 1, list(range(4)), "random", False, True)
    generator = random.Random(0)
    for _ in range(200):
        met = set()
        for _ in range(3):
            pairs, _ = PAIRING_WITH_OPTIONS["random"]([[0, 1, 2, 3]], generator, rules, History(met, set()))
            assert not met & {frozenset(pair) for pair in pairs}
            met |= {frozenset(pair) for pair in pairs}


@pytest.mark.slow
def test_avoid_rematch_random_five_models_never_replays_in_round_two():
    """5 models, 2 rounds of draws, byes worth 1/2: all stay level. Round 2's bye member
    is uniform; when it is not round 1's, the other four include one pair that met and
    two that did not, so a greedy pass along the random order that starts with the two
    unmatched ones (chance 1/3) would replay the met pair; the search never does."""
    P = np.zeros((5, 5, 2))
    _, _, opponent = trace(P, 0, 2000, pairing="random", avoid_rematch=True, bye_points=0.5)
    for run in opponent:
        assert not round_pairs(run[0]) & round_pairs(run[1])


# --- options: checks and no-ops ----------------------------------------------------


@pytest.mark.parametrize(
    "options, message",
    [
        ({"pairing": "fold", "bye": "random"}, "bye='random' does not apply to pairing='fold'"),
        ({"bye": "first"}, "bye='first' is not allowed; choose one of: random, lowest"),
        ({"bye_once": 1}, "bye_once=1 must be True or False"),
        ({"avoid_rematch": "yes"}, "avoid_rematch='yes' must be True or False"),
    ],
)
def test_bad_pairing_options_name_the_option(options, message):
    with pytest.raises(csd.InputError, match=message):
        csd.simulate(strict_order_P(3, 1), n_runs=10, **options)


def test_avoid_rematch_refuses_more_models_than_it_keeps_meetings_for():
    table = csd.ScoreTable(tuple(f"m{i}" for i in range(193)), ("b",), np.arange(193.0)[:, None])
    with pytest.raises(csd.InputError, match="avoid_rematch supports at most 192 models"):
        driver.prepare(table, csd.Tournament(avoid_rematch=True))


@pytest.mark.slow
def test_seeded_rules_lowest_bye_is_their_own_rule():
    P = strict_order_P(5, 3)
    default = csd.simulate(P, n_runs=100, pairing="fold")
    lowest = csd.simulate(P, n_runs=100, pairing="fold", bye="lowest")
    np.testing.assert_array_equal(default.expected_score, lowest.expected_score)
    assert lowest.tournament.bye_rule == "lowest" and csd.simulate(P, n_runs=10).tournament.bye_rule == "random"


# --- the engine against the exact enumerator on random small cases ------------------

# (name, pairing (or rules to cycle), options, M, K, bye_points, draw_points, min_active):
# M, K and the points are fixed per combination, so that its 10 cases share one compile
# (the enumerator's history of meetings grows fast: 6 models get at most 4 rounds, and
# `random`/`float` with avoid_rematch, the slowest to enumerate, 5 models).
COMBINATIONS = [
    ("random-lowest", "random", {"bye": "lowest"}, 5, 4, 1.0, 0.5, 1),
    ("random-once", "random", {"bye_once": True}, 5, 4, 0.5, 0.25, 1),
    ("float-lowest-once", "float", {"bye": "lowest", "bye_once": True}, 5, 4, 1.0, 0.5, 2),
    ("float-once", "float", {"bye_once": True}, 5, 3, 0.0, 0.5, 1),
    ("seeded-once", SEEDED_RULES, {"bye_once": True}, 5, 4, 0.5, 0.5, 1),
    ("random-avoid", "random", {"avoid_rematch": True}, 5, 4, 0.0, 0.5, 1),
    ("float-avoid", "float", {"avoid_rematch": True}, 5, 3, 0.5, 0.5, 1),
    ("fold-avoid", "fold", {"avoid_rematch": True}, 6, 4, 0.0, 0.5, 2),
    ("slide-avoid", "slide", {"avoid_rematch": True}, 5, 4, 1.0, 0.5, 1),
    ("adjacent-avoid", "adjacent", {"avoid_rematch": True}, 6, 4, 0.5, 0.25, 1),
    ("random-avoid-lowest-once", "random", {"avoid_rematch": True, "bye": "lowest", "bye_once": True}, 5, 4, 0.0, 0.5, 1),
]


def option_case(index, n_models, n_rounds):
    """(P, schedule) of a small case: win, loss and draw weights per game on a small grid;
    every other case uses only weights 0 and 3, so that many games are nearly decided and
    scores tie often, like a hard table. Eliminations of 0 or 1 a round, 1 after the last."""
    generator = np.random.default_rng(7000 + index)
    weights = (0, 3) if index % 2 == 0 else (0, 1, 2, 3)
    raw = generator.choice(weights, (3, n_models, n_models, n_rounds)).astype(float)
    total = raw.sum(axis=0) + 1
    upper = np.triu(np.ones((n_models, n_models), bool), 1)[:, :, None]
    P = np.where(upper, raw[0] / total, 0) + np.where(upper, raw[1] / total, 0).transpose(1, 0, 2)
    schedule = generator.integers(0, 2, n_rounds - 1).tolist() + [1]  # one final cut: one compile
    return P, schedule


@pytest.mark.slow
@pytest.mark.parametrize("index", range(10))
@pytest.mark.parametrize("combination", COMBINATIONS, ids=[c[0] for c in COMBINATIONS])
def test_engine_matches_the_exact_enumerator_with_pairing_options(combination, index):
    _, rules, options, n_models, n_rounds, bye_points, draw_points, min_active = combination
    pairing = rules if isinstance(rules, str) else rules[index % len(rules)]
    P, schedule = option_case(index, n_models, n_rounds)
    points = dict(bye_points=bye_points, draw_points=draw_points, min_active=min_active)
    result = csd.simulate(P, n_runs=N_RUNS, elimination=schedule, pairing=pairing, seed=index, **points, **options)
    exact = exact_expectations(
        P, schedule, pairing=pairing, **options,
        bye_points=F(bye_points), draw_points=F(draw_points), min_active=min_active,
    )
    assert_agrees_with_exact(result, exact, N_RUNS)


# --- the reference against the exact enumerator ------------------------------------


@pytest.mark.parametrize("combination", COMBINATIONS[:1] + COMBINATIONS[2:3] + COMBINATIONS[5:], ids=lambda c: c[0])
def test_reference_matches_the_exact_enumerator_with_pairing_options(combination):
    _, rules, options, n_models, n_rounds, bye_points, draw_points, min_active = combination
    pairing = rules if isinstance(rules, str) else rules[0]
    P, schedule = option_case(3, n_models, n_rounds)
    points = dict(bye_points=bye_points, draw_points=draw_points, min_active=min_active)
    reference = simulate_reference(P, schedule, n_runs=3000, pairing=pairing, seed=5, **points, **options)
    exact = exact_expectations(
        P, schedule, pairing=pairing, **options,
        bye_points=F(bye_points), draw_points=F(draw_points), min_active=min_active,
    )
    assert_scores_agree(reference["expected_score"], reference["stderr"], exact["expected_score"], len(schedule) / 3000)


# --- properties of many random tournaments -------------------------------------------


def segments_of_round(pairing, score, active, opponent):
    """The segments (docs/rules.md, list form) of one round, rebuilt from what was played:
    score groups from the top, each with the model floating in from the group above and
    without its own floater (the member paired below its group) and its bye."""
    levels = sorted({score[m] for m in range(len(score)) if active[m]}, reverse=True)
    segments, floater = [], []
    for level in levels:
        group = [m for m in range(len(score)) if active[m] and score[m] == level]
        if pairing == "random":
            segments.append([m for m in group if opponent[m] >= 0])
            continue
        down = [m for m in group if opponent[m] >= 0 and score[opponent[m]] < level]
        segments.append(floater + [m for m in group if opponent[m] >= 0 and m not in down])
        floater = down
    return segments


@pytest.mark.slow
@pytest.mark.parametrize("pairing", PAIRING_RULES)
def test_avoid_rematch_never_replays_a_game_that_could_be_avoided(pairing):
    """Random 9-model tables over 6 rounds with eliminations: in every segment of every
    round, a game is a rematch only if the segment has no rematch-free matching; and with
    bye_once, a model gets a second bye only if every member of its bye group had one."""
    n_models, n_rounds, n_runs = 9, 6, 100
    checked = avoided = 0
    for table in range(3):
        generator = np.random.default_rng([11, table])
        scores = generator.integers(0, 4, (n_models, n_rounds)).astype(float)
        names = tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds))
        P = csd.win_probabilities(csd.ScoreTable(*names, scores), tie="draw" if table == 2 else "coin")
        schedule = [0, 0, 1, 0, 1, 0] if table else 0
        score, active, opponent = trace(
            P, schedule, n_runs, seed=table, pairing=pairing, avoid_rematch=True, bye_once=True, bye_points=0.5
        )
        for run in range(n_runs):
            met, had_bye = set(), set()
            for k in range(n_rounds):
                games = round_pairs(opponent[run, k])
                byes = [m for m in range(n_models) if active[run, k, m] and opponent[run, k, m] < 0]
                for segment in segments_of_round(pairing, score[run, k], active[run, k], opponent[run, k]):
                    inside = {pair for pair in games if pair[0] in segment}
                    assert {m for pair in inside for m in pair} == set(segment)
                    replays = [pair for pair in inside if frozenset(pair) in met]
                    checked += 1
                    if replays:
                        # allowed only where no rematch-free matching exists (the search tries all)
                        assert rematch_free(segment, "adjacent", met) is None, (run, k, segment, replays)
                    elif any(frozenset(pair) in met for pair in itertools.combinations(segment, 2)):
                        avoided += 1  # a segment with meetings inside, paired without a rematch
                for bye in byes:
                    if bye in had_bye:
                        level = score[run, k, bye]
                        lowest = min(score[run, k, m] for m in range(n_models) if active[run, k, m])
                        group_level = level if pairing == "random" else lowest
                        group = [m for m in range(n_models) if active[run, k, m] and score[run, k, m] == group_level]
                        assert set(group) <= had_bye, (run, k, bye, group)
                met |= {frozenset(pair) for pair in games}
                had_bye |= set(byes)
    assert checked > 4000 and avoided > 200  # the property was put to the test

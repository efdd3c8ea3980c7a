"""The static baselines (mean, Borda, Bradley-Terry, Elo, ...), Kendall tau and places."""

import math

import numpy as np
import pytest

import csd
from csd import baselines
from csd.testing.tables import score_table as _table

NAN = math.nan


# x: a beats b and c, who tie; y: a is missing, c beats b; z: all equal.
HAND = _table([[3.0, NAN, 5.0], [1.0, 2.0, 5.0], [1.0, 4.0, 5.0]], ("a", "b", "c"), ("x", "y", "z"))


def _reference_ranks(scores: np.ndarray) -> np.ndarray:
    """(M, K) average ranks by plain loops: missing below every present score."""
    n_models, n_benchmarks = scores.shape
    key = np.where(np.isnan(scores), -np.inf, scores)
    ranks = np.empty(scores.shape)
    for k in range(n_benchmarks):
        for m in range(n_models):
            better = sum(key[o, k] > key[m, k] for o in range(n_models))
            tied = sum(key[o, k] == key[m, k] for o in range(n_models) if o != m)
            ranks[m, k] = 1 + better + tied / 2
    return ranks


def _random_table(rng, n_models=7, n_benchmarks=5) -> csd.ScoreTable:
    """Scores on a coarse grid (many ties) with some missing cells."""
    scores = rng.integers(0, 4, size=(n_models, n_benchmarks)).astype(float)
    scores[rng.random(scores.shape) < 0.2] = NAN
    return _table(scores)


# ---- each baseline on the hand-worked table --------------------------------------------


def test_mean_score_ignores_missing_cells():
    np.testing.assert_allclose(baselines.mean_score(HAND), [4.0, 8 / 3, 10 / 3])


def test_normalized_mean_maps_each_benchmark_to_unit_range_and_constant_to_half():
    # x: (1, 0, 0); y: (-, 0, 1); z: constant, 0.5 each.
    np.testing.assert_allclose(baselines.normalized_mean(HAND), [0.75, 1 / 6, 0.5])


def test_mean_rank_averages_tied_ranks_and_puts_missing_last():
    # x: ranks (1, 2.5, 2.5); y: (3, 2, 1); z: (2, 2, 2).
    np.testing.assert_allclose(baselines.mean_rank(HAND), [-2.0, -6.5 / 3, -5.5 / 3])


def test_borda_counts_models_beaten_with_half_for_ties():
    # x: (2, 0.5, 0.5); y: (0, 1, 2); z: (1, 1, 1).
    np.testing.assert_allclose(baselines.borda(HAND), [3.0, 2.5, 3.5])


def test_model_without_any_score_ranks_last_in_the_averages():
    table = _table([[NAN, NAN], [1.0, 2.0], [0.0, 0.0]])
    for method in (baselines.mean_score, baselines.normalized_mean):
        scores = method(table)
        assert scores[0] == -np.inf and np.isfinite(scores[1:]).all()


def test_rank_methods_match_a_plain_loop_reference_on_random_tables():
    rng = np.random.default_rng(3)
    for _ in range(20):
        table = _random_table(rng)
        ranks = _reference_ranks(table.scores)
        np.testing.assert_allclose(baselines.mean_rank(table), -ranks.mean(axis=1))
        np.testing.assert_allclose(baselines.borda(table), (table.shape[0] - ranks).sum(axis=1))


def test_benchmark_ranks_of_a_table_or_its_scores_match_plain_loops():
    np.testing.assert_array_equal(baselines.benchmark_ranks(HAND), [[1, 3, 2], [2.5, 2, 2], [2.5, 1, 2]])
    rng = np.random.default_rng(4)
    for _ in range(10):
        table = _random_table(rng)
        np.testing.assert_array_equal(baselines.benchmark_ranks(table), _reference_ranks(table.scores))
        np.testing.assert_array_equal(baselines.benchmark_ranks(table.scores), _reference_ranks(table.scores))
    with pytest.raises(csd.InputError, match=r"\(M, K\) scores, got shape \(3,\)"):
        baselines.benchmark_ranks([1.0, 2.0, 3.0])


# ---- Bradley-Terry ----------------------------------------------------------------------


def test_bradley_terry_two_models_gives_the_odds_of_their_wins_plus_prior():
    table = _table([[2.0, 2, 2, 1], [1.0, 1, 1, 2]])
    for prior in (1.0, 0.01):
        strength = baselines.bradley_terry(table, prior=prior)
        assert strength[0] - strength[1] == pytest.approx(math.log((3 + prior / 2) / (1 + prior / 2)))
        assert strength.sum() == pytest.approx(0.0, abs=1e-12)


def test_bradley_terry_recovers_known_strengths():
    # Score = strength + Gumbel noise makes every pair follow Bradley-Terry exactly:
    # P(i beats j) = 1 / (1 + exp(-(theta_i - theta_j))).
    rng = np.random.default_rng(0)
    theta = np.linspace(-1.5, 1.5, 8)
    theta -= theta.mean()
    n_benchmarks = 600
    table = _table(theta[:, None] + rng.gumbel(size=(theta.size, n_benchmarks)))
    estimate = baselines.bradley_terry(table)
    # SE of each log-strength is about 1 / sqrt(7 * 600 * 0.2) = 0.035.
    assert np.abs(estimate - theta).max() < 4 * 0.035
    assert np.corrcoef(estimate, theta)[0, 1] > 0.99


def test_bradley_terry_is_finite_for_models_that_never_win_or_never_lose():
    table = _table([[3.0, 3.0], [2.0, 1.0], [1.0, 2.0], [0.0, 0.0]])
    strength = baselines.bradley_terry(table)
    assert np.isfinite(strength).all()
    assert strength[1] == pytest.approx(strength[2])
    assert strength[0] > strength[1] and strength[2] > strength[3]


def test_bradley_terry_orders_models_by_total_wins_on_a_complete_table():
    table = _table(np.random.default_rng(2).normal(size=(9, 6)))
    wins, strength = baselines.borda(table), baselines.bradley_terry(table)
    assert len(set(wins)) < len(wins)  # some models tie on total wins
    for i in range(len(wins)):
        for j in range(len(wins)):
            if wins[i] == wins[j]:
                assert strength[i] == strength[j]
            else:
                assert (wins[i] > wins[j]) == (strength[i] > strength[j])


def test_bradley_terry_warns_when_it_runs_out_of_iterations():
    table = _table([[3.0, 1.0], [2.0, 3.0], [1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="did not converge"):
        baselines.bradley_terry(table, max_iter=1)


# ---- Elo --------------------------------------------------------------------------------


def test_elo_single_game_moves_both_ratings_by_half_the_k_factor():
    table = _table([[2.0], [1.0]])
    np.testing.assert_allclose(baselines.elo(table, k_factor=32, initial=1000, n_orders=3), [1016, 984])


def test_elo_is_reproducible_from_the_seed_and_depends_on_it():
    table = _table(np.random.default_rng(1).random((6, 4)))
    first = baselines.elo(table, n_orders=5, seed=11)
    np.testing.assert_array_equal(first, baselines.elo(table, n_orders=5, seed=11))
    assert not np.allclose(first, baselines.elo(table, n_orders=5, seed=12))


def test_elo_keeps_the_mean_rating_and_orders_a_strict_table():
    table = _table([[4.0, 4], [3.0, 3], [2.0, 2], [1.0, 1]])
    ratings = baselines.elo(table, initial=1500, n_orders=20)
    assert ratings.mean() == pytest.approx(1500)
    assert (np.diff(ratings) < 0).all()


# ---- Kendall tau ------------------------------------------------------------------------


def test_kendall_tau_of_identical_and_reversed_rankings():
    scores = np.array([0.3, 2.0, -1.0, 5.0, 4.0])
    assert baselines.kendall_tau(scores, scores * 10) == pytest.approx(1.0)
    assert baselines.kendall_tau(scores, -scores) == pytest.approx(-1.0)


def test_kendall_tau_b_with_ties_matches_a_hand_count():
    # Pairs: (0,1) discordant, (2,3) tied in b only, the other 4 concordant:
    # (4 - 1) / sqrt(6 * 5).
    tau = baselines.kendall_tau([1, 2, 3, 4], [2, 1, 4, 4])
    assert tau == pytest.approx(3 / math.sqrt(30))


def test_kendall_tau_handles_infinite_scores_and_is_nan_for_a_constant_vector():
    assert baselines.kendall_tau([-np.inf, 1, 2], [0, 1, 2]) == pytest.approx(1.0)
    assert math.isnan(baselines.kendall_tau([1, 1, 1], [0, 1, 2]))


# ---- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: baselines.kendall_tau([1, 2], [1, 2, 3]), "a has 2 scores, b has 3"),
        (lambda: baselines.kendall_tau([1, NAN], [1, 2]), r"a\[1\] is NaN"),
        (lambda: baselines.kendall_tau([[1, 2]], [1, 2]), "must be 1-D"),
        (lambda: baselines.bradley_terry(HAND, prior=0), "prior=0 must be > 0"),
        (lambda: baselines.bradley_terry(HAND, max_iter=0), "max_iter=0 must be >= 1"),
        (lambda: baselines.elo(HAND, n_orders=0), "n_orders=0 must be >= 1"),
    ],
)
def test_baselines_reject_bad_arguments(call, message):
    with pytest.raises(csd.InputError, match=message):
        call()


def test_places_number_by_descending_score_with_ties_sharing_the_better_place():
    assert baselines.places([2.0, 5.0, 2.0, 1.0]).tolist() == [2, 1, 2, 4]
    assert baselines.places([3, 3, 3]).tolist() == [1, 1, 1]


def test_the_registry_is_what_compare_the_report_and_csd_baselines_read():
    from csd._src import baselines as registry
    from csd._src.compare import METHODS
    from csd._src.report.analysis import BASELINES

    assert METHODS == ("csd", *registry.STATIC_METHODS)
    assert BASELINES == tuple(registry.STATIC_METHODS)
    for method in registry.STATIC_METHODS.values():
        assert getattr(baselines, method.__name__) is method


def test_static_methods_give_the_seed_to_the_seeded_methods_only():
    from csd._src.baselines import static_methods

    one, two = static_methods(1), static_methods(2)
    np.testing.assert_array_equal(one["elo"](HAND), baselines.elo(HAND, seed=1))
    assert not np.array_equal(one["elo"](HAND), two["elo"](HAND))
    assert one["borda"] is baselines.borda

"""sweep(): one kernel call over several schedules, with calibrated paired drop SEs."""

import json

import numpy as np
import pytest

import csd
from csd._src.sweep import MIN_PROFILE_MODELS, risk_profiles


def random_table(n_models, n_rounds, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n_models, n_rounds)) + np.linspace(1, 0, n_models)[:, None]
    return csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


@pytest.mark.slow
def test_each_schedule_equals_a_simulate_call_with_the_same_seed():
    table = random_table(10, 6, seed=0)
    result = csd.sweep(table, [0, 1, [2, 0, 1, 0, 2, 0]], n_runs=3000, seed=4)
    for s, schedule in enumerate([0, 1, [2, 0, 1, 0, 2, 0]]):
        single = csd.simulate(table, n_runs=3000, elimination=schedule, seed=4)
        assert np.array_equal(result.expected_score[s], single.expected_score)
        assert np.array_equal(result.results[s].rank_probs, single.rank_probs)
    assert result.labels == ("T=0", "T=1", "T=[2,0,1,0,2,0]")
    assert [r.tournament.label() for r in result.results] == list(result.labels)  # one label list
    assert np.array_equal(result.drop[0], np.zeros(10))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::csd.FrozenRoundsWarning")  # T=2 leaves two models for rounds 4-6
def test_drop_standard_error_is_calibrated_across_seeds():
    table = random_table(8, 6, seed=1)
    drops, errors = [], []
    for seed in range(40):
        result = csd.sweep(table, [0, 2], n_runs=1500, seed=seed, chunk_size=1500)
        drops.append(result.drop[1])
        errors.append(result.drop_stderr[1])
    drops, errors = np.array(drops), np.array(errors)  # (seeds, M)
    z = (drops - drops.mean(axis=0)) / errors
    # Mean z^2 over 320 values is 39/40 in expectation; models in a run are correlated, so
    # allow a wide band that still catches an SE off by a factor of 1.4.
    assert 0.6 < (z**2).mean() < 1.5


@pytest.mark.slow
def test_common_random_numbers_shrink_the_drop_error_on_a_short_tournament():
    table = random_table(16, 3, seed=2)
    common = csd.sweep(table, [0, 1], n_runs=20_000, seed=3)
    independent = csd.sweep(table, [0, 1], n_runs=20_000, seed=3, coupling="independent")
    assert np.array_equal(independent.drop_stderr, independent.independent_drop_stderr)
    varies = common.drop_stderr[1] > 0  # some models are never eliminated: drop exactly 0
    gain = np.median(common.independent_drop_stderr[1][varies] / common.drop_stderr[1][varies])
    assert gain > 1.2
    # (A model whose cv score never varies has the same drop under both, with SE 0.)
    spread = np.hypot(common.drop_stderr[1], independent.drop_stderr[1])
    assert np.all(np.abs(common.drop[1] - independent.drop[1]) <= 4.5 * spread + 1e-12)


def test_risk_profiles_flag_models_that_differ_from_their_peers():
    base = np.linspace(10, 1, 20)
    drop = -0.2 * base + np.random.default_rng(0).normal(0, 0.1, 20)  # Monte Carlo noise, SE 0.1
    drop[5] -= 3.0  # loses far more than its neighbours
    drop[12] += 2.0  # loses far less
    profiles, residual = risk_profiles(base, drop, np.full(20, 0.1), z=3.0, spread=1.0)
    assert profiles[5] == "aggressive specialist"
    assert profiles[12] == "robust generalist"
    assert residual[5] < -2.5 and residual[12] > 1.5
    assert sum(p != "in between" for p in profiles) == 2


def test_risk_profiles_flag_nobody_below_the_stated_number_of_models():
    # A model that loses 3 points more than the others: flagged among 8 models, not among 7
    # (a trend through a handful of peers says nothing about the field).
    def profiles_of(n_models):
        base = np.linspace(10, 1, n_models)
        drop = -0.2 * base
        drop[3] -= 3.0
        return risk_profiles(base, drop, np.full(n_models, 0.01), z=3.0, spread=1.0)

    profiles, residual = profiles_of(MIN_PROFILE_MODELS - 1)
    assert set(profiles) == {"in between"} and residual[3] < -2.9  # the residual is still there
    assert profiles_of(MIN_PROFILE_MODELS)[0][3] == "aggressive specialist"


def test_result_serializes_and_prints():
    table = random_table(6, 4, seed=3)
    result = csd.sweep(table, [0, 1], n_runs=1000)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["labels"] == ["T=0", "T=1"] and len(data["drop_stderr"][1]) == 6
    header, *_, legend_1, legend_2 = result.format_table().splitlines()
    assert "E[S] T=0" in header and "drop T=1" in header and "profile" in header
    assert "drop: E[S | schedule] - E[S | T=0] ± its SE (paired over shared random numbers)" in legend_1
    assert legend_2.startswith("rank: place by E[S | T=0]")


@pytest.mark.parametrize(
    "schedules, message",
    [
        ([1], "a sweep needs at least two schedules"),
        (2, "a sweep needs at least two schedules"),
        ([0, [1, 1]], "elimination schedule 1: has 2 entries but the tournament has 4 rounds"),
        ([0, -1], r"elimination schedule 1=-1 must be >= 0"),
    ],
)
def test_bad_schedules_raise_input_error(schedules, message):
    with pytest.raises(csd.InputError, match=message):
        csd.sweep(random_table(6, 4, seed=4), schedules, n_runs=100)


def test_unknown_coupling_names_the_choices():
    with pytest.raises(csd.InputError, match="coupling='paired' is not allowed; choose one of: common, independent"):
        csd.sweep(random_table(6, 4, seed=4), [0, 1], n_runs=100, coupling="paired")

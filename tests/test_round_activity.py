"""The frozen-round diagnostic: `SimulationResult.round_activity` (the share of tournaments
in which each round played a game), `last_active_round` and the warning in the header."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import csd
from csd._src import driver, engine, rng
from csd._src.orders import frozen_rounds_warning, order_notes


def strict_table(n_models, n_rounds):
    """Model 0 beats model 1 beats ... on every benchmark (no ties: no random games)."""
    scores = np.tile(np.arange(n_models, 0, -1, dtype=float)[:, None], (1, n_rounds))
    return csd.ScoreTable(tuple(f"m{i}" for i in range(n_models)), tuple(f"b{k}" for k in range(n_rounds)), scores)


def test_random_pairing_freezes_once_every_group_holds_one_model():
    # 4 models: scores {1,1,0,0}, {2,1,1,0}, {2,2,1,0}, {3,2,1,0}; then every group is a
    # single model, every one gets a 0-point bye, and nobody plays rounds 5 and 6.
    result = csd.simulate(strict_table(4, 6), n_runs=3000, seed=1)
    np.testing.assert_array_equal(result.round_activity, [1, 1, 1, 1, 0, 0])
    assert result.last_active_round() == 3
    warning = frozen_rounds_warning(result)
    assert "rounds 5-6 (2 of 6 benchmarks)" in warning and "pairing=float" in warning
    assert warning in order_notes(result)


def test_float_pairing_keeps_playing():
    result = csd.simulate(strict_table(4, 6), n_runs=3000, seed=1, pairing="float")
    np.testing.assert_array_equal(result.round_activity, np.ones(6))
    assert frozen_rounds_warning(result) is None


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
    assert frozen_rounds_warning(loaded) is None

"""The counter-based hash RNG: uniform, independent across its coordinates, and distinct
where the engine relies on distinctness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from csd._src import rng

N_RUNS = 20_000
N_MODELS = 32


def keys_for(seed=0, stream=0, n_runs=N_RUNS):
    return rng.run_keys(jnp.asarray(rng.seed_words(seed)), jnp.uint32(stream), jnp.arange(n_runs, dtype=jnp.uint32))


def model_keys(keys, round_index):
    round_keys = rng.round_keys(keys, round_index)  # (C, 2)
    return np.asarray(jax.vmap(lambda k: rng.model_keys(k, N_MODELS))(round_keys[:, 0]))


def chi_square_uniform(values, bins):
    counts = np.bincount(values, minlength=bins)
    expected = len(values) / bins
    return ((counts - expected) ** 2 / expected).sum()


def test_mixers_are_bijections_on_a_sample():
    x = jnp.arange(1 << 20, dtype=jnp.uint32) * jnp.uint32(4099)
    for mixer in (rng.lowbias32, rng.triple32):
        assert len(np.unique(np.asarray(mixer(x)))) == 1 << 20


def test_run_keys_are_distinct_per_run_and_differ_between_seeds_and_streams():
    base = np.asarray(keys_for())
    assert len(np.unique(base[:, 0])) == N_RUNS and len(np.unique(base[:, 1])) == N_RUNS
    for other in (np.asarray(keys_for(seed=1)), np.asarray(keys_for(stream=1)), np.asarray(keys_for(seed=1 << 32))):
        assert (other != base).mean() > 0.999


def test_model_keys_are_distinct_within_each_run_and_round():
    values = model_keys(keys_for(), 3)
    assert all(len(set(row)) == N_MODELS for row in values)


@pytest.mark.parametrize("shift", [0, 8, 16, 24])
def test_model_key_bytes_are_uniform(shift):
    values = ((model_keys(keys_for(), 5) >> shift) & 0xFF).ravel()
    # 255 degrees of freedom: mean 255, sd 22.6; 400 is beyond 6 sd.
    assert chi_square_uniform(values, 256) < 400


def test_model_keys_are_uncorrelated_across_runs_rounds_and_models():
    keys = keys_for()
    a, b = model_keys(keys, 0).astype(np.float64), model_keys(keys, 1).astype(np.float64)
    pairs = [(a[:-1], a[1:]), (a, b), (a[:, :-1], a[:, 1:])]  # runs, rounds, models
    for x, y in pairs:
        r = np.corrcoef(x.ravel(), y.ravel())[0, 1]
        assert abs(r) < 6 / np.sqrt(x.size)


def test_pair_uniforms_are_uniform_symmetric_and_independent_of_model_keys():
    keys = keys_for()
    round_keys = rng.round_keys(keys, 2)
    low = jnp.zeros(N_MODELS, jnp.int32)
    high = jnp.arange(1, N_MODELS + 1, dtype=jnp.int32)
    u = np.asarray(jax.vmap(lambda k: rng.pair_uniforms(k, low, high))(round_keys[:, 1]))
    assert u.min() >= 0 and u.max() < 1
    assert chi_square_uniform((u.ravel() * 100).astype(int), 100) < 220  # 99 dof, > 8 sd
    grid = u.ravel() * 2**rng.UNIFORM_BITS
    assert np.array_equal(grid, np.round(grid))
    same = np.asarray(jax.vmap(lambda k: rng.pair_uniforms(k, low, high))(round_keys[:, 1]))
    assert np.array_equal(u, same)
    keys0 = model_keys(keys, 2).astype(np.float64)
    r = np.corrcoef(u.ravel(), keys0.ravel())[0, 1]
    assert abs(r) < 6 / np.sqrt(u.size)


def test_tag_mask_bits_are_fair_coins_independent_of_model_keys():
    keys = keys_for()
    round_keys = rng.round_keys(keys, 4)[:, 0]
    masks = np.asarray(jax.vmap(rng.tag_mask)(round_keys))
    bits = (masks[:, None] >> np.arange(8)) & 1
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 6 * 0.5 / np.sqrt(N_RUNS))
    first_key = model_keys(keys, 4)[:, 0]
    assert np.mean((masks & 1) == (first_key & 1)) == pytest.approx(0.5, abs=6 * 0.5 / np.sqrt(N_RUNS))

"""The `network` ordering: the sorting network against a sort, its `Order` against the
`sort` method's, and the engine's results identical whichever method orders the models."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import csd
from test_simulate import random_tensor

from csd._src import driver, ordering, rng
from csd._src.spec import elimination_schedules
from csd._src.network import network_sort


@pytest.mark.parametrize("n_keys", [1, 2, 3, 16, 33, 65, 100, 129])
@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_network_sorts_columns_descending(n_keys, dtype):
    generator = np.random.default_rng(n_keys)
    keys = generator.integers(0, np.iinfo(dtype).max, size=(n_keys, 37), dtype=dtype, endpoint=True)
    keys[generator.random(keys.shape) < 0.2] = 0  # zero keys, equal to the padding
    keys[:, 0] = np.iinfo(dtype).max
    with jax.enable_x64(dtype == np.uint64):
        result = np.asarray(jax.jit(network_sort)(jnp.asarray(keys)))
    assert result.dtype == dtype
    assert np.array_equal(result, np.sort(keys, axis=0)[::-1])


def random_keys(layout, n_runs, n_models, max_level, seed):
    """(C, M) packed keys of random levels (-1: inactive) and distinct random keys, and (C,) masks."""
    generator = np.random.default_rng(seed)
    level = jnp.asarray(generator.integers(-1, max_level + 1, size=(n_runs, n_models)), jnp.int32)
    offsets = jnp.asarray(generator.integers(0, 2**32, size=(n_runs, 1)), jnp.uint32)
    rand = rng.triple32(jnp.arange(n_models, dtype=jnp.uint32)[None, :] + offsets)  # distinct per run
    mask = jnp.asarray(generator.integers(0, 2**32, size=n_runs), jnp.uint32)
    with jax.enable_x64(layout.wide):
        keys = jax.vmap(lambda lv, r, m: ordering.pack_keys(layout, lv, r, m))(level, rand, mask)
    return keys, mask


@pytest.mark.parametrize("n_models, wide", [
    (5, False), pytest.param(29, False, marks=pytest.mark.slow), pytest.param(65, True, marks=pytest.mark.slow), pytest.param(130, True, marks=pytest.mark.slow)])
def test_network_order_equals_sort_order(n_models, wide):
    max_level = 6
    network = ordering.choose_layout(n_models, max_level, "network", wide)
    sort = network._replace(method="sort")
    n_runs = 333  # not a multiple of the network's tile of runs
    keys, mask = random_keys(network, n_runs, n_models, max_level, seed=n_models)
    for with_size in (False, True):
        got, want = (
            jax.jit(jax.vmap(lambda k, m, lay=lay: ordering.order_keys(lay, k, m, with_size)))(keys, mask)
            for lay in (network, sort)
        )
        for field in ("rank", "order", "start", "size", "group") if with_size else ("rank", "order", "start", "group"):
            assert np.array_equal(getattr(got, field), getattr(want, field)), field
        models = np.take_along_axis(np.asarray(got.order), np.asarray(got.rank), axis=1)
        assert np.array_equal(models, np.tile(np.arange(n_models), (n_runs, 1)))
    unbatched = jax.jit(lambda k, m: ordering.order_keys(network, k, m, with_size=True))(keys[0], mask[0])
    assert np.array_equal(unbatched.rank, got.rank[0]) and np.array_equal(unbatched.size, got.size[0])


def engine_totals(probs, schedule, ranking, n_runs=2000, wide_keys=None, **options):
    schedules = elimination_schedules([schedule], probs.shape[2])
    tournament = driver.prepare(probs, csd.Tournament(**options), ranking=ranking, wide_keys=wide_keys)
    return driver.run_engine(tournament, schedules, n_runs=n_runs, seed=5)


def assert_same_totals(a, b):
    for field in dataclasses.fields(driver.Totals):
        assert np.array_equal(getattr(a, field.name), getattr(b, field.name)), field.name


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        {"pairing": "random"},
        {"pairing": "float", "bye": "lowest"},
        {"pairing": "fold", "bye_once": True},
        {"pairing": "random", "avoid_rematch": True},
    ],
)
def test_engine_results_identical_across_rankings(options):
    probs = random_tensor(11, 5, seed=3)
    schedule = [1, 0, 2, 1, 1]
    totals = {m: engine_totals(probs, schedule, m, wide_keys=True, min_active=2, **options) for m in ordering.RANKINGS}
    assert totals["network"].score_sum.sum() > 0
    for method in ("pairs", "sort"):
        assert_same_totals(totals["network"], totals[method])


@pytest.mark.slow
def test_network_and_pairs_share_the_narrow_layout():
    """With their default layouts (32-bit keys for few models) network and pairs agree."""
    probs = random_tensor(20, 6, seed=9)
    pairs, network = (driver.prepare(probs, csd.Tournament(), ranking=m) for m in ("pairs", "network"))
    assert not network.rules.layout.wide and network.rules.layout._replace(method="pairs") == pairs.rules.layout
    assert_same_totals(engine_totals(probs, 1, "pairs"), engine_totals(probs, 1, "network"))


def test_auto_picks_a_method_for_every_size():
    chosen = [ordering.choose_ranking(m) for m in (2, 16, 32, 33, 65, 128, 129, 192, 450, 4576)]
    assert chosen == ["pairs"] * 3 + ["network"] * 3 + ["sort"] * 4

"""cv's fitted tables, reused within a process.

The tables of the cv estimator are a function of the pilot alone: the tournament (its
outcomes, seed priorities and static rules), the elimination schedules, the seed and the
pilot's size, played on the pilot's own random stream (`streams.CV_PILOT`), never on the
runs they correct. A second call that would play the same pilot (the same table and rules
again, with the same seed and N) takes the tables the first one fitted: the same numbers,
so the same result, without the pilot's runs. The estimate stays unbiased for the reason
it was before: the tables were fitted on runs other than those they correct.
"""

from __future__ import annotations

import collections
import hashlib

import jax
import numpy as np

from csd._src import shards
from csd._src.control import Tables
from csd._src.driver import Prepared, run_pilot
from csd._src.estimator import fit_tables

MAX_ENTRIES = 16  # LiveBench's tables take 0.24 MB per schedule; the full Open LLM table's 3 MB

_FITTED: collections.OrderedDict[tuple, Tables] = collections.OrderedDict()


def fitted_tables(prepared: Prepared, schedules: np.ndarray, *, n_runs: int, seed: int) -> Tables:
    """`estimator.fit_tables` of `driver.run_pilot(prepared, schedules, n_runs=n_runs,
    seed=seed)`, from memory where this process fitted them already (the `MAX_ENTRIES`
    used last are kept), except while a shard is played or merged."""
    fit = lambda: fit_tables(run_pilot(prepared, schedules, n_runs=n_runs, seed=seed), prepared.rules)  # noqa: E731
    if shards.in_play():  # a shard records (and a merge replays) every pilot call in order
        return fit()
    key = pilot_key(prepared, schedules, n_runs, seed)
    tables = _FITTED.get(key)
    if tables is None:
        tables = fit()
        for table in tables:
            table.setflags(write=False)  # shared by the calls that reuse it
        _FITTED[key] = tables
        while len(_FITTED) > MAX_ENTRIES:
            _FITTED.popitem(last=False)
    _FITTED.move_to_end(key)
    return tables


def clear() -> None:
    """Forgets every fitted table (a benchmark timing a pilot calls it before each call)."""
    _FITTED.clear()


def pilot_key(prepared: Prepared, schedules: np.ndarray, n_runs: int, seed: int) -> tuple:
    """What a pilot's sums depend on: the static rules, the replicate count, a hash of the
    outcome arrays, seed priorities and schedules, the pilot's runs and the seed."""
    digest = hashlib.sha256()
    for array in (*jax.tree_util.tree_leaves(prepared.outcomes), prepared.seed_key, schedules):
        array = np.asarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return prepared.rules, prepared.n_replicates, digest.hexdigest(), int(n_runs), int(seed)

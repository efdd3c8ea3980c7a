"""The order of the rounds: which benchmark is played when, optionally tier by tier.

CSD is a ranking for a given sequence of benchmarks (who meets whom depends on the scores
built up in the earlier rounds), so the order is part of the method. `order_rounds` is
the one place that decides it; `csd-run` (`data.order`, `data.tier_order`, `data.tiers`)
calls it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import numpy as np

from csd._src import streams
from csd._src.errors import InputError, check_choice, check_int
from csd._src.table import ScoreTable

# The round orders: the fixed ones are one arrangement of the columns, made on the host
# (`order_rounds`, `arrange`); `shuffle` draws a fresh order for every tournament in the
# kernel (`Tournament(order="shuffle")`, `tournament_rounds`), so no table can hold it.
FIXED_ORDERS = ("given", "easy-first", "random")
ORDERS = (*FIXED_ORDERS, "shuffle")
TIER_ORDERS = ("given", "easy-first")

Tiers = dict[str, list[str]]


def order_rounds(
    table: ScoreTable,
    order: str = "given",
    tiers: Mapping[str, Sequence[str]] | str | os.PathLike | None = None,
    *,
    tier_order: str = "given",
    seed: int = 0,
) -> tuple[ScoreTable, Tiers | None]:
    """Puts the benchmarks of `table` in round order, optionally tier by tier.

    Args:
      table: the score table; its column order is the `given` order.
      order: the order inside each tier (or of all benchmarks, without tiers): `given`
        (the columns' order, or with tiers the order the tiers list them), `easy-first`
        (by mean score over the models' present scores, highest first; ties keep the given
        order) or `random` (a permutation drawn from `seed`).
      tiers: None, a mapping {tier: [benchmark, ...]} or the path of a JSON file holding
        one (e.g. `csd.shipped_tiers("livebench")`). Every benchmark of the table must be
        in exactly one tier; benchmarks the table dropped (`missing="drop-benchmark"`) are
        skipped, and so are tiers left empty.
      tier_order: the order of the tiers: `given` (as listed) or `easy-first` (by the
        tier's mean score, the mean of its benchmarks' mean scores, highest first), a
        stand-in for the paper's order from foundational to advanced abilities. Without
        tiers it changes nothing.
      seed: the seed of `order="random"`.

    Returns:
      (the table with its columns in round order, the tiers {tier: [benchmarks in round
      order]} in round order, or None without tiers). The tiers are what `csd.bootstrap`
      takes as `tiers=list(tiers.values())`.

    Raises:
      InputError: for an unknown option, or tiers that do not fit the table (naming the
        benchmarks at fault) or a tiers file that cannot be read.

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x", "y", "z"), np.array(
      ...     [[1.0, 9.0, 5.0], [3.0, 7.0, 5.0]]))
      >>> ordered, tiers = csd.order_rounds(table, "easy-first", {"hard": ["x"], "easy": ["z", "y"]},
      ...                                   tier_order="easy-first")
      >>> ordered.benchmarks, tiers
      (('y', 'z', 'x'), {'easy': ['y', 'z'], 'hard': ['x']})
    """
    if not isinstance(table, ScoreTable):
        raise InputError(f"order_rounds needs a ScoreTable, got {type(table).__name__}")
    check_choice("order", order, FIXED_ORDERS)
    check_choice("tier_order", tier_order, TIER_ORDERS)
    seed = check_int("seed", seed, 0)
    groups = None if tiers is None else read_tiers(tiers, table)
    return arrange(table, order, groups, tier_order, seed)


def read_tiers(source, table: ScoreTable, option: str = "tiers") -> Tiers:
    """{tier: [benchmarks]} from a mapping or a JSON file, checked against `table`
    (benchmarks the table dropped are skipped, and so are tiers left empty). Errors name
    `option`."""
    if isinstance(source, Mapping):
        raw, where = source, option
    elif isinstance(source, (str, os.PathLike)):
        path = os.path.abspath(os.path.expanduser(os.fspath(source)))
        where = f"{option}: {path}"
        try:
            with open(path, encoding="utf-8") as handle:
                raw = json.load(handle)
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{option}={os.fspath(source)!r}: cannot read {path}: {err}") from None
        except json.JSONDecodeError as err:
            raise InputError(f"{option}={os.fspath(source)!r}: {path} is not valid JSON: {err}") from None
    else:
        raise InputError(
            f"{option} must be None, a mapping {{tier: [benchmarks]}} or a JSON file, got {type(source).__name__}"
        )
    if not isinstance(raw, Mapping) or not all(
        isinstance(tier, str)
        and isinstance(names, Sequence)
        and not isinstance(names, str)
        and all(isinstance(b, str) for b in names)
        for tier, names in raw.items()
    ):
        raise InputError(f'{where} must be a JSON object {{"tier": ["benchmark", ...], ...}}')
    seen: dict[str, str] = {}
    for tier, names in raw.items():
        for b in names:
            if b in seen:
                raise InputError(f"{option}: benchmark {b!r} is in tiers {seen[b]!r} and {tier!r}")
            seen[b] = tier
    dropped = set(table.dropped) if table.missing_policy == "drop-benchmark" else set()
    unknown = [b for b in seen if b not in table.benchmarks and b not in dropped]
    if unknown:
        raise InputError(f"{where} names benchmark(s) the table lacks: {', '.join(unknown)}")
    untiered = [b for b in table.benchmarks if b not in seen]
    if untiered:
        raise InputError(f"{where} puts no tier on benchmark(s): {', '.join(untiered)}")
    kept = {tier: [b for b in names if b in table.benchmarks] for tier, names in raw.items()}
    return {tier: names for tier, names in kept.items() if names}


def as_tiers(value) -> tuple[tuple[str, ...], ...] | None:
    """None, or the tiers as a tuple of tuples of benchmark names (each named once, empty
    tiers left out), from a list of lists or a mapping {tier: names}; what a `Tournament`
    holds. `read_tiers` checks them against a table."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = list(value.values())
    shaped = isinstance(value, Sequence) and not isinstance(value, str)
    if not shaped or not all(
        isinstance(tier, Sequence) and not isinstance(tier, str) and all(isinstance(b, str) for b in tier)
        for tier in value
    ):
        raise InputError(f"tiers={value!r} must be None or a list of tiers, each a list of benchmark names", "tiers")
    tiers = tuple(tuple(tier) for tier in value if len(tier))
    names = [b for tier in tiers for b in tier]
    if len(set(names)) < len(names):
        repeated = sorted({b for b in names if names.count(b) > 1})
        raise InputError(f"tiers: benchmark(s) {', '.join(repeated)} are in more than one tier", "tiers")
    return tiers


def fit_tiers(tiers, table: ScoreTable) -> Tiers:
    """`as_tiers(tiers)` checked against `table` by `read_tiers`, named `tier 1`, `tier 2`, ..."""
    return read_tiers({f"tier {t + 1}": list(names) for t, names in enumerate(as_tiers(tiers))}, table)


def arrange(
    table: ScoreTable, order: str, tiers: Tiers | None, tier_order: str, seed: int
) -> tuple[ScoreTable, Tiers | None]:
    """`order_rounds` on checked options and tiers from `read_tiers`."""
    means = benchmark_means(table)
    if tiers is not None and tier_order == "easy-first":  # highest mean first; ties keep the given order
        tier_means = {tier: _mean_of([means[b] for b in names]) for tier, names in tiers.items()}
        tiers = {tier: tiers[tier] for tier in sorted(tiers, key=lambda t: -tier_means[t])}
    groups = list(tiers.values()) if tiers is not None else [list(table.benchmarks)]
    rng = streams.host_generator(seed, streams.ROUND_ORDER)
    ordered = [_order_group(group, order, means, rng) for group in groups]
    rounds = [b for group in ordered for b in group]
    if rounds != list(table.benchmarks):
        table = table.with_benchmarks(rounds)
    return table, None if tiers is None else dict(zip(tiers, ordered))


def benchmark_means(table: ScoreTable) -> dict[str, float]:
    """{benchmark: mean over the models' present scores} (-inf if none is present)."""
    present = ~np.isnan(table.scores)
    total = np.where(present, table.scores, 0.0).sum(axis=0)
    count = present.sum(axis=0)
    means = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
    return dict(zip(table.benchmarks, means.tolist()))


def _mean_of(values: list[float]) -> float:
    """The mean of the finite `values` (-inf if there are none)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else -np.inf


def _order_group(group: list[str], order: str, means: dict[str, float], rng) -> list[str]:
    if order == "easy-first":  # highest mean first; ties keep the given order
        return sorted(group, key=lambda b: -means[b])
    if order == "random":
        return [group[i] for i in rng.permutation(len(group))]
    return list(group)


def tournament_rounds(table_or_probs, rounds: Sequence[str], tournament) -> tuple[list[int], tuple[int, ...] | None]:
    """The round order a `Tournament` plays (its `order` and `tiers`), for `driver.prepare`.

    Args:
      table_or_probs: the `ScoreTable` or the checked (M, M, K) tensor.
      rounds: (K,) the round names (a tensor's are `round_k`).
      tournament: the `Tournament`.

    Returns:
      (the indices of the rounds in play order, with `order="shuffle"` the tier of each
      position ((K,) ints, 0 first; all 0 without tiers), else None). `given`,
      `easy-first` and `random` are made here (`arrange`, tier order kept); `shuffle`
      keeps the given order inside each tier and leaves the shuffling to the kernel.

    Raises:
      InputError: for tiers that do not fit the rounds, or `easy-first` on a tensor (it has
        no scores to order by).
    """
    is_table = isinstance(table_or_probs, ScoreTable)
    if tournament.order == "easy-first" and not is_table:
        raise InputError("order='easy-first' needs a score table (a tensor has no benchmark scores)", "order")
    stand_in = table_or_probs if is_table else ScoreTable(
        tuple(f"model_{m}" for m in range(table_or_probs.shape[0])), tuple(rounds),
        np.zeros(table_or_probs.shape[::2]))
    tiers = None
    if tournament.tiers is not None:
        tiers = fit_tiers(tournament.tiers, stand_in)
    host_order = "given" if tournament.order == "shuffle" else tournament.order
    played, groups = arrange(stand_in, host_order, tiers, "given", 0)
    index = {name: k for k, name in enumerate(rounds)}
    order = [index[name] for name in played.benchmarks]
    if tournament.order != "shuffle":
        return order, None
    sizes = [len(group) for group in groups.values()] if groups else [len(order)]
    return order, tuple(t for t, size in enumerate(sizes) for _ in range(size))

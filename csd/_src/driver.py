"""The host side of the engine: options to static rules, chunks over devices, exact totals.

`run_engine` is the one place that calls the jitted kernel. It cuts the runs into chunks
of a fixed shape (the last one padded and masked), spreads each chunk over the available
devices, and adds the integer sums of every chunk in int64 on the host.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from csd._src import engine, rng
from csd._src.errors import InputError, check_choice, check_int, check_unit_interval
from csd._src.ordering import PAIRS_MAX_MODELS, RANKINGS, choose_layout, choose_ranking, model_slots
from csd._src.outcomes import check_probabilities, table_outcomes, tensor_outcomes
from csd._src.pairing import BYES, PAIRINGS, SEEDED_PAIRINGS
from csd._src.table import ScoreTable

MAX_DENOMINATOR = 64
DEFAULT_CHUNK_ELEMENTS = 1 << 22  # runs x models x replicates per chunk


@dataclasses.dataclass(frozen=True)
class Tournament:
    """A checked tournament: what plays, under which rules, and the names to report.

    Attributes:
      models: (M,) names; rounds: (K,) names (benchmarks).
      outcomes: engine outcomes (`TensorOutcomes` or `ScoreOutcomes`).
      rules: static `engine.Rules`.
      ticks_per_point: the common denominator of the points (a win is this many ticks).
      seed_key: (M,) uint32 seed priorities for the seeded pairing rules.
      n_replicates: None, or B when every leaf of `outcomes` has a leading axis of B
        replicate tables (bootstrap), each played with its own random stream.
    """

    models: tuple[str, ...]
    rounds: tuple[str, ...]
    outcomes: object
    rules: engine.Rules
    ticks_per_point: int
    seed_key: np.ndarray
    n_replicates: int | None = None


def build_tournament(
    table_or_probs,
    *,
    pairing: str = "random",
    tie: str = "coin",
    bye_points: float = 0.0,
    draw_points: float = 0.5,
    min_active: int = 1,
    bye: str | None = None,
    bye_once: bool = False,
    avoid_rematch: bool = False,
    ranking: str = "auto",
    wide_keys: bool | None = None,
) -> Tournament:
    """Checks the options and turns a `ScoreTable` or an (M, M, K) tensor into a `Tournament`.

    Args:
      bye, bye_once, avoid_rematch: see `simulate` (`check_pairing_options`).
      ranking: `auto`, `pairs`, `sort` or `network` (see `ordering`); wide_keys: see
        `ordering.choose_layout`. Both only change speed, and the results only where 32-bit
        keys tie (see `ordering`).

    Raises:
      InputError: naming the option at fault.
    """
    bye = check_pairing_options(pairing, bye, bye_once, avoid_rematch)
    check_choice("ranking", ranking, ("auto",) + RANKINGS)
    is_table = isinstance(table_or_probs, ScoreTable)
    if is_table:
        models, rounds = table_or_probs.models, table_or_probs.benchmarks
    else:
        probs = check_probabilities(table_or_probs)
        models = tuple(f"model_{m}" for m in range(probs.shape[0]))
        rounds = tuple(f"round_{k}" for k in range(probs.shape[2]))
    n_players = len(models)
    if n_players >= 1 << 16:
        raise InputError(f"the table has {n_players} models; at most 65535 are supported")
    if avoid_rematch and n_players > PAIRS_MAX_MODELS:
        raise InputError(
            f"avoid_rematch supports at most {PAIRS_MAX_MODELS} models (it keeps who met whom as "
            f"bits per model); the table has {n_players}"
        )
    method = choose_ranking(n_players) if ranking == "auto" else ranking
    n_slots = model_slots(n_players, method)
    if is_table:
        outcomes, facts = table_outcomes(table_or_probs, tie, n_slots)
        strength = table_or_probs.mean_scores()
    else:
        outcomes, facts = tensor_outcomes(probs, n_slots)
        strength = probs.mean(axis=(1, 2))
    draw = _points_fraction("draw_points", draw_points)
    # Points that cannot occur do not refine the tick (fewer ticks, fewer key bits).
    points = [Fraction(1), draw if facts.draws else Fraction(0), _points_fraction("bye_points", bye_points)]
    denominator = math.lcm(*(p.denominator for p in points))
    win, draw, bye_ticks = (int(p * denominator) for p in points)
    rules = engine.Rules(
        n_models=n_slots,
        n_players=n_players,
        n_rounds=len(rounds),
        pairing=pairing,
        min_active=check_int("min_active", min_active, 1),
        win_ticks=win,
        draw_ticks=draw,
        bye_ticks=bye_ticks,
        random_games=facts.random_games,
        layout=choose_layout(n_slots, len(rounds) * max(win, bye_ticks), method, wide_keys),
        bye=bye,
        bye_once=bool(bye_once),
        avoid_rematch=bool(avoid_rematch),
    )
    return Tournament(models, rounds, outcomes, rules, denominator, _seed_key(strength, n_slots))


def check_pairing_options(pairing: str, bye: str | None, bye_once, avoid_rematch) -> str:
    """Checks the pairing rule and its options; returns the bye rule (`random`/`lowest`).

    `bye=None` means the rule's own: `random` for `random` and `float`, `lowest` for the
    seeded rules, which always give the bye to the lowest seed (`bye="random"` with them is
    an error, as it cannot be honoured).

    Raises:
      InputError: naming the option at fault.
    """
    check_choice("pairing", pairing, PAIRINGS)
    for option, value in (("bye_once", bye_once), ("avoid_rematch", avoid_rematch)):
        if not isinstance(value, (bool, np.bool_)):
            raise InputError(f"{option}={value!r} must be True or False")
    seeded = pairing in SEEDED_PAIRINGS
    if bye is None:
        return "lowest" if seeded else "random"
    check_choice("bye", bye, BYES)
    if seeded and bye == "random":
        raise InputError(
            f"bye='random' does not apply to pairing={pairing!r}: the seeded rules give the bye to "
            "the lowest seed of the lowest group; leave bye unset (or 'lowest')"
        )
    return bye


def elimination_schedules(schedules: Sequence, n_rounds: int) -> np.ndarray:
    """(S, K) int32 from a list of schedules, each an int (every round) or K ints.

    Raises:
      InputError: naming the schedule and the round at fault.
    """
    rows = []
    for number, schedule in enumerate(schedules):
        name = "elimination" if len(schedules) == 1 else f"elimination schedule {number}"
        row = np.full(n_rounds, schedule) if np.ndim(schedule) == 0 else np.asarray(schedule)
        if row.ndim != 1 or len(row) != n_rounds:
            raise InputError(
                f"{name}: has {len(row) if row.ndim == 1 else row.shape} entries but the "
                f"tournament has {n_rounds} rounds (one per benchmark); give one int or {n_rounds} ints"
            )
        rows.append([check_int(f"{name}, round {k + 1} (T)", value, 0) for k, value in enumerate(row.tolist())])
    if not rows:
        raise InputError("elimination: give at least one schedule")
    return np.minimum(np.array(rows, dtype=np.int64), np.iinfo(np.int32).max).astype(np.int32)


@dataclasses.dataclass
class Totals:
    """Exact int64 sums over all runs so far (fields as `engine.ChunkStats`, with a leading
    replicate axis B for a replicated tournament)."""

    n_runs: int
    score_sum: np.ndarray
    score_sq_sum: np.ndarray
    diff_sq_sum: np.ndarray
    rank_count: np.ndarray
    survival_count: np.ndarray
    round_score_sum: np.ndarray

    def add(self, stats: engine.ChunkStats, n_players: int) -> None:
        """Adds a chunk's sums, dropping the padding slots beyond the first `n_players`."""
        for field in dataclasses.fields(self):
            value = np.asarray(getattr(stats, field.name), dtype=np.int64)
            if field.name == "rank_count":
                value = value[..., :n_players, :n_players]
            elif field.name != "n_runs":
                value = value[..., :n_players]
            setattr(self, field.name, getattr(self, field.name) + value)


def run_engine(
    tournament: Tournament,
    schedules: np.ndarray,
    *,
    n_runs: int,
    seed: int,
    stream: int | np.ndarray = 0,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[Totals], bool] | None = None,
    max_runs: int | None = None,
) -> Totals:
    """Plays `n_runs` runs (or, with `stop`, chunks until `stop(totals)` or `max_runs`).

    Args:
      tournament: from `build_tournament` (or `replicate`).
      schedules: (S, K) int32 from `elimination_schedules`.
      n_runs: runs to play (with `stop`: the fewest runs before `stop` is asked).
      seed: an int in [0, 2**64).
      stream: an int in [0, 2**32) selecting an independent random stream; for a
        replicated tournament, (B,) ints, one per replicate.
      chunk_size: runs per kernel call (default: sized for memory); results do not depend
        on it.
      progress: called with (runs done, runs planned) after each chunk.
      stop: asked after each chunk once `n_runs` are done; True ends the loop.
      max_runs: the most runs `stop` may lead to (default 100 * n_runs).
    """
    n_runs = check_int("n_runs", n_runs, 1)
    seed = check_int("seed", seed, 0)
    if seed >= 1 << 64:
        raise InputError(f"seed={seed} must be < 2**64")
    limit = n_runs if stop is None else check_int("max_runs", max_runs or 100 * n_runs, n_runs)
    if limit >= 1 << 32:
        raise InputError(f"at most 2**32 - 1 runs are supported, asked for {limit}")
    batch = () if tournament.n_replicates is None else (tournament.n_replicates,)
    # The schedules of a chunk are played one after another (`engine.chunk_stats`), the
    # replicates side by side: only the replicates multiply the memory of a chunk.
    chunk = _chunk_size(tournament.rules, math.prod(batch), limit, chunk_size)
    kernel, place = _compiled_kernel(bool(batch)), _placer(len(jax.devices()))
    rules = tournament.rules._replace(final_cut=bool(schedules[:, -1].any()))
    static = (tournament.outcomes, jnp.asarray(schedules), jnp.asarray(tournament.seed_key))
    streams = [check_int("stream", value, 0) for value in np.ravel(stream)]
    words = jnp.asarray(rng.seed_words(seed)), jnp.asarray(streams if batch else streams[0], jnp.uint32)
    totals = _empty_totals(batch, len(schedules), tournament.rules)
    done = 0
    while done < limit:
        index = done + np.arange(chunk, dtype=np.int64)
        runs = place(index.astype(np.uint32), index < limit)
        stats = kernel(rules, *static, *words, *runs)
        totals.add(stats, tournament.rules.n_players)
        done = min(done + chunk, limit)
        if progress is not None:
            progress(done, limit)
        if done >= n_runs and (stop is None or stop(totals)):
            break
    return totals


def _points_fraction(option: str, value) -> Fraction:
    """`value` in [0, 1] as a fraction with a small denominator, or InputError."""
    number = check_unit_interval(option, value)
    fraction = Fraction(number).limit_denominator(MAX_DENOMINATOR)
    if abs(float(fraction) - number) > 1e-9:
        raise InputError(
            f"{option}={value!r} must be a fraction with denominator <= {MAX_DENOMINATOR} (e.g. 0.5, 1/3)"
        )
    return fraction


def _seed_key(strength: np.ndarray, n_slots: int) -> np.ndarray:
    """(n_slots,) uint32 distinct seed priorities: the strongest model gets n_slots, the
    next n_slots - 1, ... (ties by row), padding slots the lowest; shifted into the top
    bits, which are the ones the ordering keys keep."""
    n_models = len(strength)
    order = np.lexsort((np.arange(n_models), -np.asarray(strength)))
    priority = np.arange(n_slots, 0, -1, dtype=np.uint32)
    priority[order] = n_slots - np.arange(n_models)
    return priority << np.uint32(32 - n_slots.bit_length())


def _chunk_size(rules: engine.Rules, n_side_by_side: int, n_runs: int, requested: int | None) -> int:
    """Runs per chunk: as asked (or sized for memory), capped so that int32 sums of squared
    scores cannot overflow, and rounded up to a multiple of the device count."""
    max_ticks = rules.n_rounds * max(rules.win_ticks, rules.bye_ticks)
    overflow_cap = (2**31 - 1) // max(1, max_ticks * max_ticks)
    if requested is None:
        requested = max(256, DEFAULT_CHUNK_ELEMENTS // (rules.n_models * n_side_by_side))
        requested = min(requested, n_runs)
    requested = check_int("chunk_size", requested, 1)
    devices = len(jax.devices())
    chunk = min(requested, overflow_cap)
    return -(-chunk // devices) * devices


def replicate(tournament: Tournament, outcomes, random_games: bool) -> Tournament:
    """`tournament` with B replicate outcome tables (leaves with a leading axis B) instead
    of its own; `random_games` must hold for any of them."""
    n_replicates = jax.tree_util.tree_leaves(outcomes)[0].shape[0]
    rules = tournament.rules._replace(random_games=random_games)
    return dataclasses.replace(tournament, outcomes=outcomes, rules=rules, n_replicates=n_replicates)


@lru_cache(maxsize=2)
def _compiled_kernel(replicated: bool):
    """The one jitted entry point: `engine.chunk_stats`, vmapped over replicate outcome
    tables and their streams when `replicated`."""
    if not replicated:
        return jax.jit(engine.chunk_stats, static_argnums=0)
    over_replicates = jax.vmap(engine.chunk_stats, in_axes=(None, 0, None, None, None, 0, None, None))
    return jax.jit(over_replicates, static_argnums=0)


@lru_cache(maxsize=8)
def _placer(n_devices: int):
    """A function putting (run_index, valid) on the devices, split along the runs."""
    if n_devices == 1:
        return lambda *arrays: tuple(jnp.asarray(a) for a in arrays)
    sharding = NamedSharding(Mesh(np.array(jax.devices()), ("runs",)), PartitionSpec("runs"))
    return lambda *arrays: tuple(jax.device_put(a, sharding) for a in arrays)


def _empty_totals(batch: tuple[int, ...], n_schedules: int, rules: engine.Rules) -> Totals:
    per_model = batch + (n_schedules, rules.n_players)
    per_round = batch + (n_schedules, rules.n_rounds, rules.n_players)
    return Totals(
        n_runs=np.zeros(batch, np.int64),
        score_sum=np.zeros(per_model, np.int64),
        score_sq_sum=np.zeros(per_model, np.int64),
        diff_sq_sum=np.zeros(per_model, np.int64),
        rank_count=np.zeros(per_model + (rules.n_players,), np.int64),
        survival_count=np.zeros(per_round, np.int64),
        round_score_sum=np.zeros(per_round, np.int64),
    )

"""The host side of the engine: a `Tournament` to static rules, chunks over devices, exact totals.

`run_engine` is the one place that calls the jitted kernel. It cuts the runs into chunks
of a fixed shape (the last one padded and masked), spreads each chunk over the available
devices, and adds the integer sums of every chunk in int64 on the host.
"""

from __future__ import annotations

import dataclasses
import math
import os
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from csd._src import compile_cache, engine, estimator, rng, shards, streams
from csd._src.errors import InputError, check_choice, check_int
from csd._src.ordering import PAIRS_MAX_MODELS, RANKINGS, choose_layout, choose_ranking, model_slots
from csd._src.outcomes import check_probabilities, table_outcomes, tensor_outcomes
from csd._src.rounds import tournament_rounds
from csd._src.spec import Tournament, elimination_schedules, points_fraction
from csd._src.table import ScoreTable

# Runs x models x replicates per chunk, by default. On XLA:CPU a chunk whose working set
# stays in cache is faster: 2**18 against 2**22 ran 40k LiveBench runs 15% faster (plain
# and cv), the 29x38 paper table 4% and Open LLM's top 450 10%, on 2 cores. Accelerators
# keep the larger chunks.
CPU_CHUNK_ELEMENTS = 1 << 18
ACCELERATOR_CHUNK_ELEMENTS = 1 << 22
MIN_DEFAULT_CHUNK = 512  # runs: smaller chunks of the full Open LLM table ran up to 50% slower


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A tournament ready for the kernel: what plays, under which static rules, and the
    names to report.

    Attributes:
      spec: the `spec.Tournament` it plays.
      models: (M,) names; rounds: (K,) names (benchmarks).
      outcomes: engine outcomes (`TensorOutcomes` or `ScoreOutcomes`).
      rules: static `engine.Rules`.
      ticks_per_point: the common denominator of the points (a win is this many ticks).
      seed_key: (M,) uint32 seed priorities for the seeded pairing rules.
      n_replicates: None, or B when every leaf of `outcomes` has a leading axis of B
        replicate tables (bootstrap), each played with its own random stream.
    """

    spec: Tournament
    models: tuple[str, ...]
    rounds: tuple[str, ...]
    outcomes: object
    rules: engine.Rules
    ticks_per_point: int
    seed_key: np.ndarray
    n_replicates: int | None = None

    def schedules(self, schedules: Sequence | None = None) -> np.ndarray:
        """(S, K) int32: `schedules` (default: the spec's own elimination) checked against
        the rounds."""
        return elimination_schedules([self.spec.elimination] if schedules is None else schedules, len(self.rounds))


def prepare(table_or_probs, tournament: Tournament, *, ranking: str = "auto", wide_keys: bool | None = None) -> Prepared:
    """Turns a `ScoreTable` or an (M, M, K) tensor and a checked `Tournament` into what the
    kernel plays.

    Args:
      ranking: `auto`, `pairs`, `sort` or `network` (see `ordering`); wide_keys: see
        `ordering.choose_layout`. Both only change speed, and the results only where 32-bit
        keys tie (see `ordering`).

    Raises:
      InputError: for a table or tensor the engine cannot play, naming what is wrong.
    """
    compile_cache.enable()  # before the first array op compiles
    check_choice("ranking", ranking, ("auto",) + RANKINGS)
    is_table = isinstance(table_or_probs, ScoreTable)
    if is_table:
        models, rounds = table_or_probs.models, table_or_probs.benchmarks
    else:
        probs = check_probabilities(_probability_array(table_or_probs))
        models = tuple(f"model_{m}" for m in range(probs.shape[0]))
        rounds = tuple(f"round_{k}" for k in range(probs.shape[2]))
    order, shuffle_tiers = tournament_rounds(table_or_probs if is_table else probs, rounds, tournament)
    if order != list(range(len(rounds))):
        rounds = tuple(rounds[k] for k in order)
        if is_table:
            table_or_probs = table_or_probs.with_benchmarks(rounds)
        else:
            probs = probs[:, :, order]
    n_players = len(models)
    if n_players >= 1 << 16:
        raise InputError(f"the table has {n_players} models; at most 65535 are supported")
    if tournament.avoid_rematch and n_players > PAIRS_MAX_MODELS:
        raise InputError(
            f"avoid_rematch supports at most {PAIRS_MAX_MODELS} models (it keeps who met whom as "
            f"bits per model); the table has {n_players}"
        )
    method = choose_ranking(n_players) if ranking == "auto" else ranking
    n_slots = model_slots(n_players, method)
    if is_table:
        outcomes, facts = table_outcomes(table_or_probs, tournament.tie, n_slots)
        strength = table_or_probs.mean_scores()
    else:
        outcomes, facts = tensor_outcomes(probs, n_slots)
        strength = probs.mean(axis=(1, 2))
    draw = points_fraction("draw_points", tournament.draw_points)
    # Points that cannot occur do not refine the tick (fewer ticks, fewer key bits).
    points = [Fraction(1), draw if facts.draws else Fraction(0), points_fraction("bye_points", tournament.bye_points)]
    denominator = math.lcm(*(p.denominator for p in points))
    win, draw, bye_ticks = (int(p * denominator) for p in points)
    rules = engine.Rules(
        n_models=n_slots,
        n_players=n_players,
        n_rounds=len(rounds),
        pairing=tournament.rule,
        min_active=tournament.min_active,
        win_ticks=win,
        draw_ticks=draw,
        bye_ticks=bye_ticks,
        random_games=facts.random_games,
        draws=facts.draws,
        layout=choose_layout(n_slots, len(rounds) * max(win, bye_ticks), method, wide_keys),
        bye=tournament.bye_rule,
        bye_once=tournament.bye_once,
        avoid_rematch=tournament.avoid_rematch,
        shuffle_tiers=shuffle_tiers,
    )
    prepared = Prepared(tournament, models, rounds, outcomes, rules, denominator, _seed_key(strength, n_slots))
    prepared.schedules()  # the schedule fits the rounds
    return prepared


def _probability_array(value) -> np.ndarray:
    """`value` as a real (M, M, K) array, or InputError saying what the first argument takes."""
    allowed = "a csd.ScoreTable (csd.load_table(path) reads a file) or an (M, M, K) array P of win probabilities"
    if isinstance(value, (str, bytes, os.PathLike)):
        raise InputError(f"the first argument is {value!r}, a path or text; give {allowed}", "table_or_probs")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:  # e.g. ragged nested lists
        raise InputError(f"P is not a rectangular array ({' '.join(str(err).split())}); give {allowed}", "P") from None
    if array.dtype.kind not in "biuf":
        raise InputError(f"P holds {array.dtype} values; give {allowed} (real numbers in [0, 1])", "P")
    return array


PER_RUN_SUMS = ("control", "champion")  # the `Totals` fields that are `ControlTotals`, not arrays


@dataclasses.dataclass
class Totals:
    """Exact int64 sums over all runs so far (fields as `engine.ChunkStats`, with a leading
    replicate axis B for a replicated tournament)."""

    n_runs: int
    score_sum: np.ndarray
    score_sq_sum: np.ndarray
    diff_sq_sum: np.ndarray
    rank_count: np.ndarray
    worst_rank_count: np.ndarray
    survival_count: np.ndarray
    round_score_sum: np.ndarray
    round_games_count: np.ndarray
    control: object = None  # `estimator.ControlTotals` of the cv scores when the kernel ran with tables
    champion: object = None  # and of P(champion | before the last round's games), x CHAMPION_SCALE

    def add(self, stats: engine.ChunkStats, n_players: int) -> None:
        """Adds a chunk's sums, dropping the padding slots beyond the first `n_players`."""
        if self.control is not None:
            self.control.add(np.asarray(stats.control_score), n_players)
            self.champion.add(np.asarray(stats.champion_score) * estimator.CHAMPION_SCALE, n_players)
        for field in dataclasses.fields(self):
            if field.name in PER_RUN_SUMS:
                continue
            value = np.asarray(getattr(stats, field.name), dtype=np.int64)
            if field.name in ("rank_count", "worst_rank_count"):
                value = value[..., :n_players, :n_players]
            elif field.name not in ("n_runs", "round_games_count"):
                value = value[..., :n_players]
            setattr(self, field.name, getattr(self, field.name) + value)


def run_engine(
    tournament: Prepared,
    schedules: np.ndarray,
    *,
    n_runs: int,
    seed: int,
    stream: int | np.ndarray = 0,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[Totals], bool] | None = None,
    max_runs: int | None = None,
    tables=None,
) -> Totals:
    """Plays `n_runs` runs (or, with `stop`, chunks until `stop(totals)` or `max_runs`).

    Args:
      tournament: from `prepare` (or `replicate`).
      schedules: (S, K) int32 from `Prepared.schedules`.
      n_runs: runs to play (with `stop`: the fewest runs before `stop` is asked).
      seed: an int in [0, 2**64).
      stream: an int in [0, 2**32) selecting an independent random stream; for a
        replicated tournament, (B,) ints, one per replicate.
      chunk_size: runs per kernel call (default: sized for memory); results do not depend
        on it.
      progress: called with (runs done, runs planned) after each chunk.
      stop: asked at the run counts `stop_checkpoints(n_runs, max_runs)` (whatever the
        chunk size); True ends the loop.
      max_runs: the most runs `stop` may lead to (default 100 * n_runs).
      tables: None, or `control.Tables` with (S, K, M, V, 2) fields (shared by the
        replicates of a replicated tournament): also sum the control-variate scores into
        `Totals.control` and P(champion | before the last round's games) into
        `Totals.champion`.

    Raises:
      InputError: for a bad option, or a call whose rank counts would not fit in memory.
    """
    n_runs, seed, limit = check_run(
        tournament, len(schedules), n_runs=n_runs, seed=seed, chunk_size=chunk_size, progress=progress,
        stopping=stop is not None, max_runs=max_runs, cv=tables is not None,
    )
    first_run, n_played, merged = shards.engine_range(n_runs, stop)  # all runs, a shard's, or none (merging)
    if merged is not None:
        return merged
    limit = limit if stop is not None else n_played
    batch = () if tournament.n_replicates is None else (tournament.n_replicates,)
    # Sized by the runs before `stop` is first asked: later checkpoints are multiples of it.
    chunk = _chunk_size(tournament.rules, math.prod(batch), max(1, n_played), chunk_size)
    # The kernel's input shapes, checked on the host before it traces or runs.
    chex.assert_shape(schedules, (None, tournament.rules.n_rounds))
    chex.assert_shape(tournament.seed_key, (tournament.rules.n_models,))
    chex.assert_tree_shape_prefix(tournament.outcomes, batch)
    kernel, place = _compiled_kernel(bool(batch)), _placer(len(jax.devices()))
    rules = tournament.rules._replace(final_cut=bool(schedules[:, -1].any()))
    static = (tournament.outcomes, jnp.asarray(schedules), jnp.asarray(tournament.seed_key))
    stream_ids = [check_int("stream", value, 0) for value in np.ravel(stream)]
    words = jnp.asarray(rng.seed_words(seed)), jnp.asarray(stream_ids if batch else stream_ids[0], jnp.uint32)
    totals = _empty_totals(batch, len(schedules), tournament.rules)
    if tables is not None:
        per_model = batch + (len(schedules), tournament.rules.n_players)
        totals.control, totals.champion = estimator.ControlTotals.empty(per_model), estimator.ControlTotals.empty(per_model)
    done = 0
    # `stop` is asked only at fixed run counts, so where it stops does not depend on the
    # chunk size or the device count: a chunk never crosses a checkpoint (it is masked).
    for checkpoint in stop_checkpoints(n_runs, limit) if stop is not None else [n_played]:
        while done < checkpoint:
            index = done + np.arange(chunk, dtype=np.int64)
            runs = place((first_run + index).astype(np.uint32), index < checkpoint)
            stats = kernel(rules, *static, *words, *runs, tables)
            totals.add(stats, tournament.rules.n_players)
            done = min(done + chunk, checkpoint)
            if progress is not None:
                progress(done, limit)
        if stop is None or stop(totals):
            break
    shards.record_engine(n_runs, totals)
    return totals


def check_run(
    tournament: Prepared,
    n_schedules: int,
    *,
    n_runs,
    seed,
    chunk_size=None,
    progress=None,
    stopping: bool = False,
    max_runs=None,
    cv: bool = False,
) -> tuple[int, int, int]:
    """Checks the options of `run_engine` and the memory its calls need (with `cv`, that
    of the pilot and the weight tables too), before any kernel runs; `stopping`: a
    stopping rule is given. Returns (n_runs, seed, the most runs it may play) as ints.

    Raises:
      InputError: for a bad option, or a call that would not fit in memory.
    """
    n_runs = check_int("n_runs", n_runs, 1)
    seed = check_int("seed", seed, 0)
    if seed >= 1 << 64:
        raise InputError(f"seed={seed} must be < 2**64", "seed")
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, 1)
    if progress is not None and not callable(progress):
        raise InputError(f"progress={progress!r} must be a function (runs done, runs planned) or None", "progress")
    limit = n_runs if not stopping else check_int("max_runs", 100 * n_runs if max_runs is None else max_runs, n_runs)
    if limit >= 1 << 32:
        raise InputError(f"at most 2**32 - 1 runs are supported, asked for {limit}")
    # The schedules of a chunk are played one after another (`engine.chunk_stats`), the
    # replicates side by side: only the replicates multiply the memory of a chunk.
    check_memory(tournament.rules, tournament.n_replicates or 1, n_schedules, cv)
    return n_runs, seed, limit


def stop_checkpoints(n_runs: int, max_runs: int) -> list[int]:
    """The run counts at which a stopping rule is asked: n_runs, 2 n_runs, 4 n_runs, ...,
    and max_runs last.

    Example:
      >>> stop_checkpoints(1000, 5000)
      [1000, 2000, 4000, 5000]
    """
    checkpoints = [n_runs]
    while checkpoints[-1] < max_runs:
        checkpoints.append(min(2 * checkpoints[-1], max_runs))
    return checkpoints


BYTES_PER_RUN_AND_MODEL = 64  # device state of one run's model in a chunk (scores, keys, sort temporaries), generously
MEMORY_FRACTION = 0.5  # of the memory available, what one call may plan to use


# Bytes per cell of cv's (S, K, M, V) pilot sums and weight tables, V = K * max(win, bye) + 1
# score values: the pilot's int32 scatters and their stack on the device, their int64 sum
# on the host, the float64 fit and the float32 tables (measured on XLA:CPU: a 3 x 1,000
# table of scores, 8 model slots, peaked 0.93 GiB above plain's, 122 bytes a cell, as did
# the campaign's 3 x 2,000 and 3 x 5,000 tables in issue 24); and per replicate
# played side by side, its pilot's int32 sums before they are added (`_compiled_pilot`).
CV_BYTES_PER_CELL = 128
CV_BYTES_PER_REPLICATE_CELL = 48
PLACE_COUNTS = 2  # the (S, M, M) place counts: `rank_count` (best places) and `worst_rank_count`


def score_values(rules: engine.Rules) -> int:
    """V, the score values 0 .. V - 1 ticks that cv's tables hold (`engine.pilot_stats`)."""
    return rules.n_rounds * max(rules.win_ticks, rules.bye_ticks) + 1


def check_memory(rules: engine.Rules, n_side_by_side: int, n_schedules: int, cv: bool = False) -> None:
    """Refuses, before anything is allocated, a call whose rank counts cannot fit: the
    two (S, M, M) int64 totals (best and worst places) on the host, about three copies
    while a chunk is added, and their (S, M, M) int32 counts of a chunk on the device;
    with `cv`, also one whose pilot
    sums and weight tables cannot: (S, K, M, V) cells, which grow with the square of the
    rounds (V = K * max(win, bye) + 1), where plain's memory does not grow with them.

    Raises:
      InputError: saying how much is needed and what lowers it.
    """
    players, slots = rules.n_players, rules.n_models
    host = 3 * 8 * PLACE_COUNTS * n_side_by_side * n_schedules * players * players
    device = 2 * 4 * PLACE_COUNTS * n_side_by_side * n_schedules * slots * slots
    budget = MEMORY_FRACTION * available_memory()
    if host + device > budget:
        cells = n_side_by_side * n_schedules
        fits = int(math.sqrt(budget / (32 * PLACE_COUNTS * cells)))
        raise InputError(
            f"this call needs about {_gib(host + device)} of memory for the full rank distribution of "
            f"{players} models ({cells} x {players} x {players} counts), more than the {_gib(budget)} it may "
            f"use; use a table with fewer models (about {fits} fit), fewer schedules or fewer replicates"
        )
    cv_cells = n_schedules * rules.n_rounds * slots * score_values(rules) if cv else 0
    tables = cv_cells * (CV_BYTES_PER_CELL + CV_BYTES_PER_REPLICATE_CELL * (n_side_by_side - 1))
    if host + device + tables > budget:
        raise InputError(
            f"estimator='cv' needs about {_gib(host + device + tables)} of memory for its weight tables "
            f"({n_schedules} x {rules.n_rounds} rounds x {slots} models x {score_values(rules)} score values), "
            f"more than the {_gib(budget)} it may use; use estimator='plain' (its memory does not grow with "
            "the rounds), or fewer benchmarks or schedules",
            "estimator",
        )


def run_pilot(tournament: Prepared, schedules: np.ndarray, *, n_runs: int, seed: int) -> np.ndarray:
    """(S, 2, 3, K, M, V) int64 `engine.pilot_stats` summed over `n_runs` runs of the
    pilot's own random stream (`streams.CV_PILOT`); for a replicated tournament
    (`n_runs` a multiple of B), over n_runs / B runs of each replicate on its own pilot stream
    (`streams.replicate_pilot_streams`). Integer sums of whole runs: they depend on
    nothing but the seed and `n_runs`, whatever the chunks."""
    replayed = shards.replayed_pilot()
    if replayed is not None:
        return replayed
    n_devices, batch = len(jax.devices()), tournament.n_replicates
    per_call = estimator.PILOT_CHUNK if batch is None else max(1, estimator.PILOT_CHUNK // batch)
    chunk = -(-per_call // n_devices) * n_devices
    if batch is None:
        stream = estimator.PILOT_STREAM
    else:
        stream, n_runs = streams.replicate_pilot_streams(batch), n_runs // batch
    kernel, place = _compiled_pilot(batch is not None), _placer(n_devices)
    static = (tournament.outcomes, jnp.asarray(schedules), jnp.asarray(tournament.seed_key))
    words = jnp.asarray(rng.seed_words(seed)), jnp.asarray(stream, jnp.uint32)
    total = 0
    for done in range(0, n_runs, chunk):
        index = done + np.arange(chunk, dtype=np.int64)
        runs = place(index.astype(np.uint32), index < n_runs)
        total = total + np.asarray(kernel(tournament.rules, *static, *words, *runs), np.int64)
    shards.record_pilot(total)
    return total


@lru_cache(maxsize=2)
@compile_cache.stored
def _compiled_pilot(replicated: bool):
    """`engine.pilot_stats`, or for replicates, vmapped over their outcome tables and
    streams and summed over them in int32 (a call adds about max(PILOT_CHUNK, B) runs,
    see `run_pilot`)."""
    if not replicated:
        return jax.jit(engine.pilot_stats, static_argnums=0)
    over_replicates = jax.vmap(engine.pilot_stats, in_axes=(None, 0, None, None, None, 0, None, None))
    return jax.jit(lambda *args: over_replicates(*args).sum(0), static_argnums=0)


def available_memory() -> int:
    """Bytes the process may still allocate: the smaller of the host's available memory
    and the first device's limit (where it reports one)."""
    host = _host_available()
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - a backend without memory statistics
        stats = {}
    device = stats.get("bytes_limit", 0) - stats.get("bytes_in_use", 0)
    return min(host, device) if device > 0 else host


def _host_available() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


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
    """Runs per chunk: as asked (or sized for memory and balanced over the chunks the runs
    need), capped so that int32 sums of squared scores cannot overflow, and rounded up to a
    multiple of the device count."""
    balanced = requested is None
    max_ticks = rules.n_rounds * max(rules.win_ticks, rules.bye_ticks)
    overflow_cap = (2**31 - 1) // max(1, max_ticks * max_ticks)
    if requested is None:
        elements = CPU_CHUNK_ELEMENTS if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK_ELEMENTS
        requested = max(MIN_DEFAULT_CHUNK, elements // (rules.n_models * n_side_by_side))
    requested = check_int("chunk_size", requested, 1)
    devices = len(jax.devices())
    # Never more runs than asked for, nor more than the memory allows (results do not
    # depend on the chunk size).
    per_run = BYTES_PER_RUN_AND_MODEL * rules.n_models * n_side_by_side
    memory_cap = max(devices, int(MEMORY_FRACTION * available_memory() // per_run))
    chunk = min(requested, n_runs, overflow_cap, memory_cap)
    if balanced:
        # Chunks of equal size: the last one is padded by less than a run per chunk, not by
        # up to a whole chunk (100k LiveBench runs: 2 x 50k, not 2 x 64.5k, 29% of the runs
        # wasted). As few as that allows, rounded up to a power of two where the chunks
        # keep MIN_DEFAULT_CHUNK runs: N runs and N / 2^j runs then share one chunk shape,
        # one compiled kernel (csd-run's 100k runs and its 8 orders of 12,500: 32 and 4
        # chunks of 3,125).
        n_chunks = -(-n_runs // chunk)
        power = 1 << (n_chunks - 1).bit_length()
        if -(-n_runs // power) >= min(MIN_DEFAULT_CHUNK, chunk):
            n_chunks = power
        chunk = -(-n_runs // n_chunks)
    return -(-chunk // devices) * devices


def replicate(tournament: Prepared, outcomes, random_games: bool) -> Prepared:
    """`tournament` with B replicate outcome tables (leaves with a leading axis B) instead
    of its own; `random_games` must hold for any of them."""
    n_replicates = jax.tree_util.tree_leaves(outcomes)[0].shape[0]
    rules = tournament.rules._replace(random_games=random_games)
    return dataclasses.replace(tournament, outcomes=outcomes, rules=rules, n_replicates=n_replicates)


@lru_cache(maxsize=2)
@compile_cache.stored
def _compiled_kernel(replicated: bool):
    """The one jitted entry point: `engine.chunk_stats`, vmapped over replicate outcome
    tables and their streams when `replicated`."""
    if not replicated:
        return jax.jit(engine.chunk_stats, static_argnums=0)
    over_replicates = jax.vmap(engine.chunk_stats, in_axes=(None, 0, None, None, None, 0, None, None, None))
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
        worst_rank_count=np.zeros(per_model + (rules.n_players,), np.int64),
        survival_count=np.zeros(per_round, np.int64),
        round_score_sum=np.zeros(per_round, np.int64),
        round_games_count=np.zeros(batch + (n_schedules, rules.n_rounds), np.int64),
    )

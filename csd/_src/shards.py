"""One run split over jobs: each shard plays a disjoint range of every call's runs, and
their exact integer totals, added, are the single job's totals bit for bit.

A run's random numbers depend only on the seed, its stream and its global index
(`rng.run_keys`), and every total `driver.run_engine` keeps is an exact integer sum
(int64, or Python ints for the cv squares), so a sum over shards is the sum over the
whole range in any order. Shard i of S plays runs [i N / S, (i + 1) N / S) of each
`run_engine` call of its job (a bootstrap's call, for instance, plays that range of every
replicate), and records the totals of each call, with the pilot sums of the cv
estimator, which every shard computes whole (they come from a stream of their own).

Merging replays the job: inside `merged_shards(recordings)` each `run_engine` call returns the
added totals of that call and each `run_pilot` call the recorded pilot, so the same code
that made the single job's result makes the merged one, from the same integers:
E[S], SE, P(champion), the rank distribution, survival, order sensitivity, everything.

    shard = Shard(1, 4)
    with playing(shard):
        simulate(table, n_runs=100_000, seed=0)   # plays runs 25,000 .. 49,999
    shard.save("shard.npz")
    with merged_shards([Shard.load(p) for p in paths]):
        result = simulate(table, n_runs=100_000, seed=0)   # plays nothing

A stopping rule (`target_se`) cannot be split: it decides from all the runs so far.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from csd._src.errors import InputError, check_int

SIDECAR = "shard.npz"  # what a csd-run shard writes beside its results.json


@dataclasses.dataclass
class Shard:
    """Shard `index` of `count`, and what it recorded: per `run_engine` call the (planned
    runs, totals), per `run_pilot` call its sums."""

    index: int
    count: int
    engine: list = dataclasses.field(default_factory=list)
    pilot: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.count = check_int("shard.count", self.count, 1)
        self.index = check_int("shard.index", self.index, 0)
        if self.index >= self.count:
            raise InputError(f"shard.index={self.index} must be < shard.count={self.count}", "shard.index")

    def runs(self, n_runs: int) -> tuple[int, int]:
        """(first global run index, number of runs) of this shard among `n_runs`.

        Example:
          >>> [Shard(i, 3).runs(10) for i in range(3)]
          [(0, 3), (3, 3), (6, 4)]
        """
        start, stop = self.index * n_runs // self.count, (self.index + 1) * n_runs // self.count
        return start, stop - start

    def save(self, path) -> None:
        """Writes the recording to `path` (.npz; the cv sums of squares as decimal text)."""
        arrays = {"shard": np.array([self.index, self.count]), "calls": np.array([len(self.engine), len(self.pilot)])}
        for j, (planned, totals) in enumerate(self.engine):
            arrays[f"engine{j}/planned"] = np.array(planned)
            for name, value in _fields(totals):
                arrays[f"engine{j}/{name}"] = value.astype(str) if value.dtype == object else value
        for j, sums in enumerate(self.pilot):
            arrays[f"pilot{j}"] = sums
        with open(path, "wb") as file:
            np.savez_compressed(file, **arrays)

    @classmethod
    def load(cls, path) -> Shard:
        """A `save`d recording. Raises InputError naming a file it cannot read."""
        from csd._src.driver import Totals
        from csd._src.estimator import ControlTotals

        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            index, count = (int(v) for v in arrays["shard"])
            n_engine, n_pilot = (int(v) for v in arrays["calls"])
            shard = cls(index, count)
            for j in range(n_engine):
                fields = {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith(f"engine{j}/")}
                planned = int(fields.pop("planned"))
                control = {part: {} for part in ("control", "champion")}
                plain = {}
                for name, value in fields.items():
                    if value.dtype.kind == "U":
                        value = np.vectorize(int, otypes=[object])(value)
                    head, _, tail = name.partition(".")
                    (control[head] if tail else plain)[tail or head] = value
                totals = Totals(**plain)
                if control["control"]:
                    totals.control, totals.champion = (ControlTotals(**control[part]) for part in ("control", "champion"))
                shard.engine.append((planned, totals))
            shard.pilot = [arrays[f"pilot{j}"] for j in range(n_pilot)]
        except InputError:
            raise
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise InputError(f"{path}: not a shard's totals ({type(err).__name__}: {err})") from None
        return shard


def _fields(totals) -> Iterator[tuple[str, np.ndarray]]:
    """(name, array) of every sum in `totals`; the cv sums as `control.fine_sum`, ..."""
    for field in dataclasses.fields(totals):
        value = getattr(totals, field.name)
        if value is None:
            continue
        if dataclasses.is_dataclass(value):
            for part in dataclasses.fields(value):
                yield f"{field.name}.{part.name}", np.asarray(getattr(value, part.name))
        else:
            yield field.name, np.asarray(value)


# What this process does with the runs of each call: None (play them all), a Shard
# (play its range and record), or a _Replay (play nothing: return merged totals).
_ACTIVE: list = [None]


@dataclasses.dataclass
class _Replay:
    engine: list
    pilot: list
    engine_calls: int = 0
    pilot_calls: int = 0


def as_shard(value) -> Shard | None:
    """None, a `Shard`, or (index, count) as a `Shard`."""
    if value is None or isinstance(value, Shard):
        return value
    try:
        index, count = value
    except (TypeError, ValueError):
        raise InputError(f"shard={value!r} must be (index, count), e.g. (0, 4)", "shard") from None
    return Shard(index, count)


def shardable(function):
    """`function` with a keyword `shard=(i, S)` (or a `Shard`, which keeps the recording):
    it then plays only shard i of S of each of its simulation calls (see `playing`)."""

    @functools.wraps(function)
    def wrapper(*args, shard=None, **kwargs):
        with playing(as_shard(shard)):
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def playing(shard: Shard | None):
    """Inside it, `run_engine` plays only `shard`'s range of each call and records it."""
    if shard is None:
        yield None
        return
    _ACTIVE.append(shard)
    try:
        yield shard
    finally:
        _ACTIVE.pop()


@contextlib.contextmanager
def merged_shards(shards: Sequence[Shard]):
    """Inside it, the k-th `run_engine` call returns the k-th calls' totals of `shards`
    added, and the k-th `run_pilot` call their pilot: the single job's, exactly.

    Raises:
      InputError: when the shards are not exactly 0 .. S - 1 of one S, or the job that
        replays them makes other calls than they recorded.
    """
    if not shards:
        raise InputError("no shards to merge")
    check_complete([(shard.index, shard.count, str(shard.index)) for shard in shards])
    first = shards[0]
    if any(len(s.engine) != len(first.engine) or len(s.pilot) != len(first.pilot) for s in shards):
        raise InputError("the shards recorded different numbers of calls: they are not shards of one run")
    engine = [(first.engine[j][0], add_totals([s.engine[j][1] for s in shards])) for j in range(len(first.engine))]
    for j, sums in enumerate(first.pilot):
        if any(not np.array_equal(s.pilot[j], sums) for s in shards):
            raise InputError("the shards' cv pilots differ: they are not shards of one run (seed, table, rules)")
    _ACTIVE.append(_Replay(engine, first.pilot))
    try:
        yield
        replay = _ACTIVE[-1]
        if replay.engine_calls != len(engine):
            raise InputError(f"the job made {replay.engine_calls} simulation calls, its shards recorded {len(engine)}")
    finally:
        _ACTIVE.pop()


def check_complete(found: Sequence[tuple[int, int, str]]) -> None:
    """`found`: (index, count, where) of each shard. Raises InputError naming the missing
    or duplicated shards, or counts that differ."""
    counts = sorted({count for _, count, _ in found})
    if len(counts) != 1:
        raise InputError(f"the shards have different shard.count values {counts}: they are not one run")
    count = counts[0]
    where: dict[int, list[str]] = {}
    for index, _, place in found:
        where.setdefault(index, []).append(place)
    twice = [f"shard {i} ({', '.join(places)})" for i, places in sorted(where.items()) if len(places) > 1]
    if twice:
        raise InputError(f"shard(s) found more than once: {'; '.join(twice)}; remove the extra copies")
    missing = [i for i in range(count) if i not in where]
    if missing:
        indices = ",".join(map(str, missing))
        raise InputError(f"shard(s) {indices} of {count} missing; run them (shard.index={indices} "
                         f"shard.count={count}) and collect again")


def add_totals(parts: Sequence):
    """The field-by-field sum of `driver.Totals` (exact: integers); the parts are not changed."""
    first = parts[0]
    if first is None:
        return None
    if dataclasses.is_dataclass(first):
        return dataclasses.replace(first, **{f.name: add_totals([getattr(p, f.name) for p in parts])
                                             for f in dataclasses.fields(first)})
    return sum(parts[1:], first)


def engine_range(n_runs: int, stop) -> tuple[int, int, object]:
    """For a `run_engine` call of `n_runs` runs: (first run, runs to play, merged totals
    or None). Raises InputError for a stopping rule inside a shard or a merge."""
    if not in_play():
        return 0, n_runs, None
    active = _ACTIVE[-1]
    if stop is not None:
        raise InputError("target_se cannot be split into shards (it stops on all the runs so far); give n_runs",
                         "target_se")
    if isinstance(active, Shard):
        start, count = active.runs(n_runs)
        return start, count, None
    j = active.engine_calls
    if j >= len(active.engine) or active.engine[j][0] != n_runs:
        recorded = "no more" if j >= len(active.engine) else f"{active.engine[j][0]:,} runs"
        raise InputError(f"simulation call {j + 1} asks for {n_runs:,} runs, its shards recorded {recorded}: "
                         "collect replays the shards' own config")
    active.engine_calls += 1
    totals = active.engine[j][1]
    return 0, 0, dataclasses.replace(totals)


def whole_runs(n_runs: int) -> int:
    """The runs of the whole job behind a result of `n_runs` runs: in a shard, the planned
    runs of its latest call of which it played `n_runs` (so that sizes derived from a
    result, such as order sensitivity's runs per order, are the single job's), else
    `n_runs`."""
    active = _ACTIVE[-1]
    if isinstance(active, Shard):
        for planned, _ in reversed(active.engine):
            if active.runs(planned)[1] == n_runs:
                return planned
    return n_runs


def record_engine(n_runs: int, totals) -> None:
    """Keeps a shard's totals of a `run_engine` call of `n_runs` planned runs."""
    if isinstance(_ACTIVE[-1], Shard):
        _ACTIVE[-1].engine.append((n_runs, totals))


def replayed_pilot():
    """The recorded pilot sums of this `run_pilot` call when merging, else None."""
    active = _ACTIVE[-1]
    if not isinstance(active, _Replay):
        return None
    if active.pilot_calls >= len(active.pilot):
        raise InputError("the job fits more cv pilots than its shards recorded")
    active.pilot_calls += 1
    return active.pilot[active.pilot_calls - 1]


def in_play() -> bool:
    """Whether a shard is being played or merged: then every `run_pilot` call is recorded
    or replayed in order, so none may be skipped (`pilot_cache` plays them all)."""
    return _ACTIVE[-1] is not None


def record_pilot(sums: np.ndarray) -> None:
    if isinstance(_ACTIVE[-1], Shard):
        _ACTIVE[-1].pilot.append(sums)


def sidecar(folder) -> Path:
    return Path(folder) / SIDECAR


def find(root: Path) -> list[tuple[Path, dict]]:
    """(results.json path, its content) of every csd-run shard (shard.count > 1) under
    `root`, by shard index; staging folders (names starting with a dot) are skipped.

    Raises:
      InputError: naming a results.json that is not JSON.
    """
    found = []
    for path in sorted(Path(root).rglob("results.json")):
        if any(part.startswith(".") for part in path.relative_to(root).parts[:-1]):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise InputError(f"{path}: cannot read it as JSON: {err}") from None
        shard = data.get("config", {}).get("shard") if isinstance(data, dict) else None
        if isinstance(shard, dict) and (shard.get("count") or 1) > 1:
            found.append((path, data))
    return sorted(found, key=lambda item: (item[1]["config"]["shard"]["index"], str(item[0])))


def whole_config(root: Path, found: list[tuple[Path, dict]]) -> dict:
    """The config of the run the shards `found` split (their config with shard.index and
    shard.count unset), after checking that they are exactly its shards 0 .. S - 1.

    Raises:
      InputError: naming shards that are missing, duplicated, or of another run.
    """
    check_complete([(data["config"]["shard"]["index"], data["config"]["shard"]["count"],
                     str(path.parent.relative_to(root))) for path, data in found])
    whole = [{**data["config"], "shard": {"index": None, "count": 1}} for _, data in found]
    first_path = found[0][0]
    for (path, _), config in zip(found[1:], whole[1:]):
        differing = sorted(key for key in set(config) | set(whole[0])
                           if key not in ("progress", "top") and config.get(key) != whole[0].get(key))
        if differing:
            raise InputError(f"{path} and {first_path} are not shards of one run: they differ in {', '.join(differing)}")
    return whole[0]

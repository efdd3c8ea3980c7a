"""Frozen tournaments: rounds that play no game in (nearly) every tournament, and the one
text that says which, why, and what makes them count (`message`).

A round plays no game when nobody can be paired, for one of two reasons:
  - under `random` pairing, which pairs only inside a score group, every active model is
    alone in its group: the scores all differ, as they soon do when the first benchmarks
    share one order. Each model gets a bye, all of the same `bye_points`, so
    no score moves against another and the tournament stays frozen to its end. A larger
    `bye_points` does not help (1 freezes the same rounds as 0; 0.5 can freeze earlier, by
    splitting ties); `float`, `fold`, `slide` and `adjacent` pair across groups and play
    every round while two models are active;
  - the elimination has left one active model (`min_active` = 1), under any pairing.
Either way the state is final, so the frozen rounds are the last ones:
`SimulationResult.last_active_round` (a game in at least `ACTIVE_ROUND_SHARE` of the
tournaments) is the last round that counts.

Every public entry point (`simulate`, `sweep`, `bootstrap`, `compare`, `outlier_test`,
`report`) is wrapped by `warns_frozen`: it raises one `csd.FrozenRoundsWarning` per call,
with the `message` of the results that call stands on (`found_in`); an entry point called
by another one stays quiet (so does `order_sensitivity`, whose other orders are what-ifs),
and so do calls inside `quiet()` (csd-run, whose terminal output, report.md and
results.json carry the same words: `record`).

Example:
  >>> import warnings
  >>> import numpy as np, csd
  >>> from csd._src.frozen import found_in
  >>> # c is best on 4 of the 7 benchmarks, but the first three share one order: a > b > c
  >>> table = csd.ScoreTable(("a", "b", "c"), tuple("defghij"), np.array(
  ...     [[3.0, 3, 3, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2], [1, 1, 1, 3, 3, 3, 3]]))
  >>> with warnings.catch_warnings(record=True) as caught:
  ...     warnings.simplefilter("always")
  ...     result = csd.simulate(table, n_runs=200)
  >>> result.expected_score.tolist(), caught[0].category.__name__
  ([2.0, 1.0, 0.0], 'FrozenRoundsWarning')
  >>> (frozen,) = found_in(result)
  >>> frozen.rounds, frozen.first, frozen.last
  (('g', 'h', 'i', 'j'), 4, 7)
  >>> found_in(csd.simulate(table, n_runs=200, pairing="float"))  # every round plays
  []
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from csd._src.errors import FrozenRoundsWarning
from csd._src.results import (
    ACTIVE_ROUND_SHARE,
    BootstrapResult,
    Comparison,
    OutlierResult,
    SimulationResult,
    SweepResult,
)
from csd._src.spec import Tournament

NAMED_ROUNDS = 4  # up to this many frozen rounds are named one by one; more as "first, ..., last"

ALONE_REMEDY = (
    'use pairing="float", which pairs a model alone in its score group with one from the next group down '
    "(bye_points does not help: every model waiting alone gets the same bye)"
)
ONE_LEFT_REMEDY = 'eliminate fewer models (a smaller elimination T, or min_active=2 with pairing="float")'



@dataclasses.dataclass(frozen=True)
class FrozenRounds:
    """The rounds of one result that played no game in (nearly) every tournament.

    Attributes:
      where: which result, for a call that stands on several (`under T=1`, `on the
        perturbed table ...`): a phrase that opens the sentence; None for the one result.
      first, last: the frozen rounds' positions, 1-based, in play order (last: the
        tournament's final round).
      n_rounds: K, the rounds of the tournament.
      rounds: the frozen rounds' benchmarks in play order (empty under
        `order="shuffle"`, where every tournament plays its own order).
      share: the largest share of tournaments in which one of them played a game (below
        `ACTIVE_ROUND_SHARE`; 0: none ever did).
      reason: why nobody could be paired, in words.
      remedies: what makes these rounds count, in words (each completes "For every round
        to count, ...").
    """

    where: str | None
    first: int
    last: int
    n_rounds: int
    rounds: tuple[str, ...]
    share: float
    reason: str
    remedies: tuple[str, ...]

    def sentence(self) -> str:
        """What froze and why, without `where` and the remedy: `rounds 4-7 (g, h, i, j)
        played no game in every tournament: ..., so these 4 of 7 benchmarks did not count`."""
        count = self.last - self.first + 1
        span = f"round {self.first}" if count == 1 else f"rounds {self.first}-{self.last}"
        names = self.rounds if len(self.rounds) <= NAMED_ROUNDS else (self.rounds[0], "...", self.rounds[-1])
        named = f" ({', '.join(names)})" if names else " (a shuffled order: other benchmarks in each tournament)"
        played = "every tournament" if self.share == 0 else f"over {1 - ACTIVE_ROUND_SHARE:.0%} of the tournaments"
        these = "this benchmark" if count == 1 else f"these {count} of {self.n_rounds} benchmarks"
        counted = "did not count" if self.share == 0 else "barely counted"
        return f"{span}{named} played no game in {played}: {self.reason}, so {these} {counted}"

    def to_dict(self) -> dict:
        """Plain values, ready for JSON."""
        return {**dataclasses.asdict(self), "rounds": list(self.rounds), "remedies": list(self.remedies)}

    @classmethod
    def from_dict(cls, data: dict) -> FrozenRounds:
        return cls(**{**data, "rounds": tuple(data["rounds"]), "remedies": tuple(data["remedies"])})


def frozen_rounds(result: SimulationResult, where: str | None = None) -> FrozenRounds | None:
    """The rounds of `result` that played a game in under `ACTIVE_ROUND_SHARE` of the
    tournaments (`SimulationResult.round_activity`), with the reason; None if every round
    played, or the result does not record its rounds' activity."""
    last_active = result.last_active_round()
    n_rounds = len(result.rounds)
    if last_active is None or last_active >= n_rounds - 1:
        return None
    first = last_active + 1  # 0-based
    spec = result.tournament
    active = active_before_rounds(spec, len(result.models), n_rounds)
    if active[first] <= 1:
        reason = f"the elimination ({spec.label()}, min_active {spec.min_active}) had left one active model"
        remedies = (ONE_LEFT_REMEDY,)
    else:
        reason = (f"each of the {active[first]} active models was alone in its score group, and `{spec.pairing}` "
                  "pairing pairs only inside a group; " + _bye_words(spec.bye_points))
        remedies = (ALONE_REMEDY,) + ((ONE_LEFT_REMEDY,) if active[-1] <= 1 else ())  # float would run out too
    return FrozenRounds(
        where=where,
        first=first + 1,
        last=n_rounds,
        n_rounds=n_rounds,
        rounds=() if spec.order == "shuffle" else tuple(result.rounds[first:]),
        share=float(np.max(result.round_activity[first:])),
        reason=reason,
        remedies=remedies,
    )


def _bye_words(bye_points: float) -> str:
    if bye_points == 0:
        return "the byes, worth 0, changed no score"
    return f"every model got the same bye, worth {bye_points:g}, which moved no score against another"


def active_before_rounds(tournament: Tournament, n_models: int, n_rounds: int) -> np.ndarray:
    """(K,) int: the active models at the start of each round (the elimination is
    deterministic in number: docs/rules.md)."""
    active, counts = n_models, []
    for cut in tournament.schedule(n_rounds):
        counts.append(active)
        active -= max(0, min(int(cut), active - tournament.min_active))
    return np.array(counts)


def found_in(result) -> list[FrozenRounds]:
    """The frozen rounds of the results an entry point's `result` stands on: a
    `SimulationResult` itself, each schedule of a `SweepResult` (`under T=1`), the point
    estimate of a `BootstrapResult` (not the replicates), the `csd` ranking of a
    `Comparison`, both tables of an `OutlierResult`; [] for anything else."""
    if isinstance(result, SimulationResult):
        return present([frozen_rounds(result)])
    if isinstance(result, SweepResult):
        return present(frozen_rounds(r, f"under {label}") for label, r in zip(result.labels, result.results))
    if isinstance(result, BootstrapResult):
        return present([frozen_rounds(result.point)])
    if isinstance(result, Comparison) and result.csd is not None:
        return present([frozen_rounds(result.csd)])
    if isinstance(result, OutlierResult) and result.frozen_rounds:
        return [FrozenRounds.from_dict(entry) for entry in result.frozen_rounds["results"]]
    return []


def present(found: Iterable[FrozenRounds | None]) -> list[FrozenRounds]:
    """The entries of `found` that are not None."""
    return [entry for entry in found if entry is not None]


def message(found: Sequence[FrozenRounds]) -> str | None:
    """The one text on frozen rounds (warning, terminal, report.md, results.json): one
    sentence per distinct freeze (results that froze alike share it), then each remedy
    once; None when nothing froze."""
    if not found:
        return None
    wheres: dict[str, list[str]] = {}
    for entry in found:
        wheres.setdefault(entry.sentence(), []).append(entry.where)
    sentences = [
        (f"{' and '.join(w for w in where if w)}, " if any(where) else "") + sentence
        for sentence, where in wheres.items()
    ]
    remedies = dict.fromkeys(remedy for entry in found for remedy in entry.remedies)
    return "; ".join(sentences) + ". For every round to count, " + ", and ".join(remedies) + "."


def record(found: Sequence[FrozenRounds]) -> dict | None:
    """results.json's `frozen_rounds`: {"message": `message(found)`, "results": one dict
    per result that froze (`FrozenRounds.to_dict`)}; None when nothing froze."""
    if not found:
        return None
    return {"message": message(found), "results": [entry.to_dict() for entry in found]}


_NESTED = contextvars.ContextVar("csd_frozen_rounds_nested", default=0)


@contextlib.contextmanager
def quiet():
    """Entry points called inside raise no `FrozenRoundsWarning`: the caller says it (an
    outer entry point once, or csd-run in its outputs)."""
    token = _NESTED.set(_NESTED.get() + 1)
    try:
        yield
    finally:
        _NESTED.reset(token)


def warns_frozen(find: Callable[[object], list[FrozenRounds]] = found_in):
    """Decorates a public entry point: when called from outside every entry point, it
    warns once (`FrozenRoundsWarning`, pointing at the caller's line) with the `message`
    of `find(returned)`; the entry points it calls stay quiet."""

    def decorate(function):
        @functools.wraps(function)
        def entry_point(*args, **kwargs):
            outermost = _NESTED.get() == 0
            with quiet():
                returned = function(*args, **kwargs)
            text = message(find(returned)) if outermost else None
            if text:
                warnings.warn(text, FrozenRoundsWarning, stacklevel=2)
            return returned

        return entry_point

    return decorate

"""`Tournament`: the rules of one CSD tournament, checked once, where they are made.

Every entry point (`simulate`, `sweep`, `bootstrap`, `compare`, `outlier_test`, `report`,
the `csd-run` config) takes a `Tournament`, and every result carries the one it played, so
a result can be replayed exactly: `csd.simulate(table, tournament=result.tournament,
n_runs=result.n_runs, seed=result.seed)`. Keyword options of the entry points (`pairing=`,
`elimination=`, ...) are sugar that builds one (`as_tournament`).

Example:
  >>> import csd
  >>> rules = csd.Tournament(pairing="float", elimination=1)
  >>> rules.to_dict()["elimination"], rules.bye_rule
  (1, 'random')
  >>> csd.Tournament.from_dict(rules.to_dict()) == rules
  True
  >>> csd.Tournament(pairing="swiss")
  Traceback (most recent call last):
  ...
  csd._src.errors.InputError: pairing='swiss' is not allowed; choose one of: random, float, fold, slide, adjacent
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from csd._src.errors import InputError, check_choice, check_int, check_unit_interval
from csd._src.outcomes import TIES
from csd._src.pairing import BYES, RULES, PairingRule
from csd._src.rounds import ORDERS, as_tiers

MAX_DENOMINATOR = 64  # points are fractions with at most this denominator (integer ticks)
MAX_ELIMINATION = np.iinfo(np.int32).max  # a larger T eliminates as many as this does: all

Schedule = int | tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Tournament:
    """The rules of a tournament (docs/rules.md): frozen, hashable and checked on creation.

    Attributes:
      pairing: the pairing rule: `random` (the paper), `float`, `fold`, `slide` or
        `adjacent` (`pairing.RULES`).
      bye: who of an odd group gets the bye: `random` (a uniformly random member) or
        `lowest` (the lowest seed); None: the rule's own (`bye_rule`). The seeded rules
        allow only `lowest`.
      bye_once: a bye goes to a member with no earlier bye when the group has one.
      avoid_rematch: no rematch inside a group (segment) while a matching of it without
        one exists (a depth-first search in the rule's order; at most 192 models).
      tie: what an exact tie of two scores is: `coin` (each wins with probability 1/2) or
        `draw`. Only a score table has ties; a win-probability tensor states its draws.
      draw_points, bye_points: the points of a draw and of a bye, in [0, 1], fractions
        with denominator <= 64.
      elimination: T, the models eliminated after each round: an int (every round) or one
        int per round.
      min_active: never eliminate below this many active models.
      order: the order of the rounds: `given` (the table's columns, the paper's rule),
        `easy-first` (by mean score, highest first) or `random` (one fixed permutation,
        host stream `streams.ROUND_ORDER`, seed 0), both made on the host before the
        kernel; or `shuffle`, a fresh order for every tournament drawn in the kernel, so
        E[S] averages over the orders too (an order-free CSD). With `tiers`, each is
        applied inside every tier and the tiers keep their order.
      tiers: None, or the benchmarks of each tier in tier order ((names, ...), ...),
        covering every round once; the rounds play tier by tier.

    Raises:
      InputError: on creation, naming the field at fault.
    """

    pairing: str = "random"
    bye: str | None = None
    bye_once: bool = False
    avoid_rematch: bool = False
    tie: str = "coin"
    draw_points: float = 0.5
    bye_points: float = 0.0
    elimination: Schedule = 0
    min_active: int = 1
    order: str = "given"
    tiers: tuple[tuple[str, ...], ...] | None = None

    def __post_init__(self):
        check_choice("pairing", self.pairing, RULES)
        check_choice("tie", self.tie, TIES)
        for name in ("bye_once", "avoid_rematch"):
            _set(self, name, _flag(name, getattr(self, name)))
        if self.bye is not None:
            check_choice("bye", self.bye, BYES)
            if self.rule.seeded and self.bye == "random":
                raise InputError(
                    f"bye='random' does not apply to pairing={self.pairing!r}: the seeded rules give the "
                    "bye to the lowest seed of the lowest group; leave bye unset (or 'lowest')",
                    "bye",
                )
        for name in ("draw_points", "bye_points"):
            _set(self, name, float(points_fraction(name, getattr(self, name))))
        _set(self, "elimination", _elimination(self.elimination))
        _set(self, "min_active", check_int("min_active", self.min_active, 1))
        check_choice("order", self.order, ORDERS)
        _set(self, "tiers", as_tiers(self.tiers))

    @property
    def rule(self) -> PairingRule:
        """The pairing rule's registry entry (`pairing.RULES`)."""
        return RULES[self.pairing]

    @property
    def bye_rule(self) -> str:
        """The bye rule played: `bye`, or the pairing rule's own where it is None."""
        return self.rule.default_bye if self.bye is None else self.bye

    def schedule(self, n_rounds: int) -> np.ndarray:
        """(K,) int32: T after each of `n_rounds` rounds.

        Raises:
          InputError: if a per-round schedule does not have one entry per round.
        """
        return elimination_schedules([self.elimination], n_rounds)[0]

    def label(self) -> str:
        """A short name of the elimination schedule: `T=1`, or `T=[0,1,...]`."""
        return schedule_label(self.elimination)

    def replace(self, **changes) -> Tournament:
        """A copy with some fields changed (checked again).

        Raises:
          InputError: for an unknown field or an invalid value.
        """
        _check_fields(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The fields as plain values (a schedule as a list), ready for JSON."""
        fields = dataclasses.asdict(self)
        if isinstance(self.elimination, tuple):
            fields["elimination"] = list(self.elimination)
        if self.tiers is not None:
            fields["tiers"] = [list(tier) for tier in self.tiers]
        return fields

    @classmethod
    def from_dict(cls, fields: Mapping) -> Tournament:
        """The `Tournament` of `to_dict`'s output (absent fields take their defaults).

        Raises:
          InputError: for an unknown field or an invalid value.
        """
        _check_fields(fields)
        return cls(**fields)


FIELDS = tuple(field.name for field in dataclasses.fields(Tournament))


def as_tournament(tournament: Tournament | None, options: Mapping) -> Tournament:
    """The tournament an entry point plays: `tournament` (default `Tournament()`) with the
    keyword `options` (fields of `Tournament`) put in.

    Raises:
      InputError: for an unknown option, naming it, or an invalid value.
    """
    if tournament is None:
        tournament = Tournament()
    elif not isinstance(tournament, Tournament):
        raise InputError(f"tournament must be a csd.Tournament, got {type(tournament).__name__}")
    return tournament.replace(**options) if options else tournament


def elimination_schedules(schedules: Sequence, n_rounds: int) -> np.ndarray:
    """(S, K) int32 from a list of schedules, each an int (every round) or K ints.

    Raises:
      InputError: naming the schedule and the round at fault.
    """
    if not len(schedules):
        raise InputError("elimination: give at least one schedule")
    rows = []
    for number, schedule in enumerate(schedules):
        name = "elimination" if len(schedules) == 1 else f"elimination schedule {number}"
        schedule = _elimination(schedule, name)
        row = [schedule] * n_rounds if isinstance(schedule, int) else list(schedule)
        if len(row) != n_rounds:
            raise InputError(
                f"{name}: has {len(row)} entries but the tournament has {n_rounds} rounds (one per "
                f"benchmark); give one int or {n_rounds} ints",
                "elimination",
            )
        rows.append(row)
    return np.array(rows, dtype=np.int32)


def schedule_label(schedule) -> str:
    """`T=t` for a constant schedule (an int, or a list of equal ints), else `T=[a,b,...]`."""
    values = np.atleast_1d(np.asarray(schedule)).tolist()
    if len(set(values)) == 1:
        return f"T={values[0]}"
    return "T=[" + ",".join(str(v) for v in values) + "]"


def points_fraction(option: str, value) -> Fraction:
    """`value` in [0, 1] as a fraction with denominator <= `MAX_DENOMINATOR`, or InputError."""
    number = check_unit_interval(option, value)
    fraction = Fraction(number).limit_denominator(MAX_DENOMINATOR)
    if abs(float(fraction) - number) > 1e-9:
        raise InputError(
            f"{option}={value!r} must be a fraction with denominator <= {MAX_DENOMINATOR} (e.g. 0.5, 1/3)", option
        )
    return fraction


def _elimination(value, name: str = "elimination") -> Schedule:
    """An int >= 0 (capped at `MAX_ELIMINATION`) or a tuple of them."""
    if isinstance(value, str) or (np.ndim(value) == 0 and not _is_number(value)):
        raise InputError(f"{name}={value!r} must be an int T >= 0 or a list of them, one per round", "elimination")
    if np.ndim(value) == 0:
        try:
            return min(check_int(name, value, 0), MAX_ELIMINATION)
        except InputError as error:
            raise InputError(str(error), "elimination") from None
    values = list(np.asarray(value, dtype=object).ravel()) if np.ndim(value) == 1 else None
    if values is None:
        raise InputError(f"{name}: a schedule is one int per round, got an array of shape {np.shape(value)}", "elimination")
    try:
        return tuple(min(check_int(f"{name}, round {k + 1} (T)", v, 0), MAX_ELIMINATION) for k, v in enumerate(values))
    except InputError as error:
        raise InputError(str(error), "elimination") from None


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name}={value!r} must be True or False", name)
    return bool(value)


def _check_fields(fields: Mapping) -> None:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown tournament option(s) {unknown}; the options are: {', '.join(FIELDS)}")


def _set(tournament: Tournament, name: str, value) -> None:
    """Stores a normalized field of the frozen `tournament` (only in `__post_init__`)."""
    object.__setattr__(tournament, name, value)

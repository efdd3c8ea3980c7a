"""The one exception users see for bad input, the checks that raise it, and the warning for
frozen tournaments (`csd._src.frozen` finds and words them)."""

from __future__ import annotations

from typing import Iterable


class InputError(ValueError):
    """Bad input: the message names the file, line and column, or the option, at fault.

    Attributes:
      option: the name of the option at fault, where one is (for callers that know it by
        another name, e.g. `csd-run`'s config keys: see `prefixed`).
    """

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option

    def prefixed(self, key: str) -> InputError:
        """The same error, its message prefixed with `key` (the caller's name of the option)."""
        return InputError(f"{key}: {self}", option=key)


class FrozenRoundsWarning(UserWarning):
    """Rounds played no game in (nearly) every tournament, so their benchmarks did not count
    (`csd._src.frozen`: which rounds, why, and what makes them count)."""


def check_choice(option: str, value, allowed: Iterable[str]) -> None:
    """Raises InputError unless `value` is one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise InputError(f"{option}={value!r} is not allowed; choose one of: {', '.join(allowed)}", option)


def check_int(option: str, value, minimum: int) -> int:
    """`value` as an int >= `minimum`, or InputError naming `option`."""
    if isinstance(value, bool) or not _is_integral(value):
        raise InputError(f"{option}={value!r} must be an integer", option)
    if int(value) < minimum:
        raise InputError(f"{option}={value!r} must be >= {minimum}", option)
    return int(value)


def check_unit_interval(option: str, value) -> float:
    """`value` as a float in [0, 1], or InputError naming `option`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option}={value!r} must be a number in [0, 1]", option) from None
    if not 0.0 <= number <= 1.0:
        raise InputError(f"{option}={value!r} must be in [0, 1]", option)
    return number


def _is_integral(value) -> bool:
    try:
        return int(value) == value
    except (TypeError, ValueError, OverflowError):
        return False

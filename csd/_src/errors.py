"""The one exception users see for bad input, and the checks that raise it."""

from __future__ import annotations

from typing import Iterable


class InputError(ValueError):
    """Bad input: the message names the file, line and column, or the option, at fault."""


def check_choice(option: str, value, allowed: Iterable[str]) -> None:
    """Raises InputError unless `value` is one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise InputError(f"{option}={value!r} is not allowed; choose one of: {', '.join(allowed)}")


def check_int(option: str, value, minimum: int) -> int:
    """`value` as an int >= `minimum`, or InputError naming `option`."""
    if isinstance(value, bool) or not _is_integral(value):
        raise InputError(f"{option}={value!r} must be an integer")
    if int(value) < minimum:
        raise InputError(f"{option}={value!r} must be >= {minimum}")
    return int(value)


def check_unit_interval(option: str, value) -> float:
    """`value` as a float in [0, 1], or InputError naming `option`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option}={value!r} must be a number in [0, 1]") from None
    if not 0.0 <= number <= 1.0:
        raise InputError(f"{option}={value!r} must be in [0, 1]")
    return number


def _is_integral(value) -> bool:
    try:
        return int(value) == value
    except (TypeError, ValueError, OverflowError):
        return False

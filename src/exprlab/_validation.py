"""Validation of options at the boundary: one helper per kind of constraint.

Every public function and every command checks its options with these helpers, in the spirit
of scikit-learn's parameter constraints, so that a bad value is refused before any work starts
with one message that names the option, the value received and what is allowed. Each helper
returns the (normalised) value, so a check reads as an assignment::

    top = check_count(top, "top", minimum=1)
    method = check_choice(method, "method", METHODS)
    fraction = check_interval(fraction, "test_fraction", 0.0, 1.0, closed="left")
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Literal, TypeVar

from exprlab.errors import InvalidParameterError

__all__ = ["check_choice", "check_choices", "check_count", "check_interval", "check_fraction"]

T = TypeVar("T")


def _fix_for(name: str, allowed: str) -> str:
    return f"give {name} {allowed}"


def check_choice(value: T, name: str, choices: Iterable[T]) -> T:
    """Return ``value`` if it is one of ``choices``, else raise.

    Parameters
    ----------
    value
        The value received.
    name
        Option name as the user wrote it (``method``, ``--method``).
    choices
        The accepted values, in the order the message lists them.

    Returns
    -------
    The value, unchanged.

    Raises
    ------
    InvalidParameterError
        When ``value`` is not among ``choices``.
    """
    allowed = list(choices)
    if value not in allowed:
        raise InvalidParameterError(
            f"unknown {name} {value!r}",
            where=name,
            fix=f"use one of {', '.join(map(str, allowed))}",
        )
    return value


def check_choices(values: Iterable[T], name: str, choices: Iterable[T]) -> list[T]:
    """Return ``values`` as a list if every one is among ``choices``, else raise.

    Parameters
    ----------
    values
        The values received (e.g. a comma-separated option already split).
    name
        Option name as the user wrote it.
    choices
        The accepted values.

    Returns
    -------
    The values as a list, in the order given.

    Raises
    ------
    InvalidParameterError
        When a value is unknown or none is given.
    """
    allowed = list(choices)
    got = list(values)
    if not got:
        raise InvalidParameterError(
            f"no {name} given", where=name, fix=f"use one or more of {', '.join(map(str, allowed))}"
        )
    unknown = [v for v in got if v not in allowed]
    if unknown:
        raise InvalidParameterError(
            f"unknown {name} {', '.join(map(repr, unknown))}",
            where=name,
            fix=f"use one or more of {', '.join(map(str, allowed))}",
        )
    return got


def check_count(
    value: int, name: str, *, minimum: int = 0, maximum: int | None = None, allow_none: bool = False
) -> int:
    """Return ``value`` if it is an integer in ``[minimum, maximum]``, else raise.

    Parameters
    ----------
    value
        The value received. Booleans are refused; integral floats are not silently truncated.
    name
        Option name as the user wrote it.
    minimum, maximum
        Inclusive bounds; ``maximum=None`` means no upper bound.
    allow_none
        Accept ``None`` (an option left unset) and return it.

    Returns
    -------
    The value as a Python ``int`` (or ``None`` when allowed).

    Raises
    ------
    InvalidParameterError
        When the value is not an integer or lies outside the bounds.
    """
    if value is None and allow_none:
        return value
    bounds = f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(
            f"{name} must be an integer, got {value!r}", where=name, fix=_fix_for(name, bounds)
        )
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidParameterError(
            f"{name} = {value} is out of range", where=name, fix=_fix_for(name, bounds)
        )
    return int(value)


def check_interval(
    value: float,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    closed: Literal["both", "left", "right", "neither"] = "both",
    allow_none: bool = False,
) -> float:
    """Return ``value`` if it is a finite real number in the interval, else raise.

    Parameters
    ----------
    value
        The value received.
    name
        Option name as the user wrote it.
    low, high
        Interval ends; ``None`` means unbounded on that side.
    closed
        Which ends belong to the interval.
    allow_none
        Accept ``None`` (an option left unset) and return it.

    Returns
    -------
    The value as a Python ``float`` (or ``None`` when allowed).

    Raises
    ------
    InvalidParameterError
        When the value is not a finite number or lies outside the interval.
    """
    if value is None and allow_none:
        return value
    left = "[" if closed in ("both", "left") else "("
    right = "]" if closed in ("both", "right") else ")"
    shown = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    allowed = f"a number in {shown}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InvalidParameterError(
            f"{name} must be a finite number, got {value!r}", where=name, fix=_fix_for(name, allowed)
        )
    v = float(value)
    too_low = low is not None and (v < low or (v == low and closed in ("right", "neither")))
    too_high = high is not None and (v > high or (v == high and closed in ("left", "neither")))
    if too_low or too_high:
        raise InvalidParameterError(
            f"{name} = {value} is out of range", where=name, fix=_fix_for(name, allowed)
        )
    return v


def check_fraction(
    value: float,
    name: str,
    *,
    closed: Literal["both", "left", "right", "neither"] = "both",
    allow_none: bool = False,
) -> float:
    """Return ``value`` if it is a fraction in [0, 1] (ends as ``closed`` says), else raise.

    Parameters
    ----------
    value
        The value received.
    name
        Option name as the user wrote it.
    closed
        Which of 0 and 1 are allowed.
    allow_none
        Accept ``None`` (an option left unset) and return it.

    Returns
    -------
    The value as a Python ``float``.

    Raises
    ------
    InvalidParameterError
        When the value is not a number in the interval.
    """
    return check_interval(value, name, 0.0, 1.0, closed=closed, allow_none=allow_none)

"""Argument checks shared by the optimizers and the schedules.

They run once, in ``__init__``, so the update step itself never validates.
Every message names the argument and ends with ``Received: name=value``.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

_REAL_TYPES = (int, float, np.integer, np.floating)


def is_real(value: Any) -> bool:
    """Return True for a real number that is not a bool (ints, floats, NumPy scalars)."""
    return isinstance(value, _REAL_TYPES) and not isinstance(value, (bool, np.bool_))


def shown(value: Any) -> str:
    """Format a received value for an error message (NumPy scalars as plain numbers)."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    return repr(value)


def received(name: str, value: Any) -> str:
    """Return the ``Received: name=value`` tail every message ends with."""
    return f"Received: {name}={shown(value)}"


def real(name: str, value: Any, expect: str, ok: Callable[[float], bool]) -> float:
    """Return ``float(value)`` if it is a real number accepted by ``ok``.

    Args:
        name: the argument's name.
        value: what the user passed.
        expect: what is allowed, e.g. ``"a float in [0, 1)"``.
        ok: predicate on the float value (NaN fails every comparison).

    Returns:
        The value as a Python float.

    Raises:
        ValueError: naming the argument and what was received.
    """
    if not is_real(value) or not ok(float(value)):
        raise ValueError(f"Argument `{name}` must be {expect}. {received(name, value)}")
    return float(value)


def optional_real(name: str, value: Any, expect: str, ok: Callable[[float], bool]) -> float | None:
    """Like :func:`real`, but ``None`` passes through unchanged."""
    if value is None:
        return None
    return real(name, value, expect + " or None", ok)


def boolean(name: str, value: Any) -> bool:
    """Return ``bool(value)`` if it is a bool (Python or NumPy), else raise ValueError."""
    if not isinstance(value, (bool, np.bool_)):
        # ValueError like every other argument check here (and Keras): one type to catch.
        message = f"Argument `{name}` must be a bool. {received(name, value)}"
        raise ValueError(message)  # noqa: TRY004
    return bool(value)


def unexpected_kwargs(owner: str, kwargs: Iterable[str], accepted: Iterable[str]) -> TypeError:
    """Build the TypeError for keyword arguments nobody accepts, with close matches."""
    names = sorted(kwargs)
    accepted = sorted(accepted)
    parts = []
    for name in names:
        import difflib  # noqa: PLC0415  (loads only for a wrong name)

        close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    plural = "s" if len(names) > 1 else ""
    return TypeError(
        f"{owner}() got unexpected keyword argument{plural} {', '.join(parts)}. "
        f"Accepted: {', '.join(accepted)}."
    )


def accepted_arguments(cls: type) -> list[str]:
    """Return the keyword names a class's ``__init__`` chain accepts (without ``self``)."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            keyword = p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            if keyword and p.name != "self" and p.name not in names:
                names.append(p.name)
    return names


def deprecated(message: str) -> None:
    """Emit a DeprecationWarning attributed to the caller outside this package.

    The warning points at the user's line (so Python shows it in scripts and
    notebooks), however deep the constructor chain is.
    """
    frame = sys._getframe(1)
    level = 2  # 1 would be this function, 2 its caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "chainrule.optimizers"
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)

"""Keras's global session state: the counters behind default layer names, and what
``clear_session`` resets.

Higher packages hand this module what they keep (``on_clear_session`` for a reset,
``register_symbolic_type`` for the symbolic tensor class), so the backend never imports
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["clear_session", "get_uid", "is_keras_tensor", "on_clear_session",
           "register_symbolic_type", "uid_counts", "set_uid_counts"]

_UIDS: dict[str, int] = {}
_RESETS: list[Callable[[], None]] = []
_SYMBOLIC: list[type] = []


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... for successive calls with the same ``prefix`` (the counter of layer names).

    Args:
        prefix: the name being counted (``"dense"``).

    Returns:
        How many times ``prefix`` was counted since the last :func:`clear_session`.

    Example:
        >>> clear_session(); get_uid("dense"), get_uid("dense")
        (1, 2)
    """
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def uid_counts() -> dict[str, int]:
    """A copy of every prefix's count (to put back with :func:`set_uid_counts`).

    Example:
        >>> clear_session(); _ = get_uid("conv2d"); uid_counts()
        {'conv2d': 1}
    """
    return dict(_UIDS)


def set_uid_counts(counts: dict[str, int]) -> None:
    """Put back the counts :func:`uid_counts` returned (names made since are forgotten).

    Example:
        >>> clear_session(); saved = uid_counts(); _ = get_uid("dense")
        >>> set_uid_counts(saved); get_uid("dense")
        1
    """
    _UIDS.clear()
    _UIDS.update(counts)


def on_clear_session(reset: Callable[[], None]) -> Callable[[], None]:
    """Have :func:`clear_session` call ``reset`` (a package's own global state).

    Args:
        reset: a function of no arguments.

    Returns:
        ``reset``, so this can decorate it.

    Raises:
        TypeError: if ``reset`` is not callable.

    Example:
        >>> calls = []
        >>> _ = on_clear_session(lambda: calls.append(1))
        >>> clear_session(); calls
        [1]
        >>> _RESETS.pop() and None
    """
    if not callable(reset):
        raise TypeError(f"on_clear_session expects a function. Received: reset={reset!r}")
    _RESETS.append(reset)
    return reset


def clear_session(free_memory: bool = True) -> None:
    """Reset chainrule's global state (``keras.backend.clear_session``).

    Default layer names start again (the next ``Dense`` is ``dense``) and the global
    dtype policy returns to :func:`~chainrule.backend.floatx`, as in Keras.

    Args:
        free_memory: also run Python's garbage collector (Keras's default).

    Example:
        >>> import chainrule as cr
        >>> clear_session(); cr.layers.Dense(2).name
        'dense'
    """
    _UIDS.clear()
    for reset in _RESETS:
        reset()
    if free_memory:
        import gc  # noqa: PLC0415

        gc.collect()


def register_symbolic_type(cls: type) -> type:
    """Make :func:`is_keras_tensor` recognise ``cls`` (the layers' ``KerasTensor``).

    Args:
        cls: a class.

    Returns:
        ``cls``, so this can decorate it.

    Raises:
        TypeError: if ``cls`` is not a class.

    Example:
        >>> class Placeholder:
        ...     pass
        >>> is_keras_tensor(register_symbolic_type(Placeholder)())
        True
        >>> _SYMBOLIC.pop() is Placeholder
        True
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_symbolic_type expects a class. Received: cls={cls!r}")
    _SYMBOLIC.append(cls)
    return cls


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor (from ``Input``), not data.

    Args:
        x: any object.

    Returns:
        True for a ``KerasTensor``.

    Example:
        >>> import chainrule as cr
        >>> is_keras_tensor(cr.Input((3,))), is_keras_tensor(cr.ops.ones((3,)))
        (True, False)
    """
    return isinstance(x, tuple(_SYMBOLIC))

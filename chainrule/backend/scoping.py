"""The open name scopes and stateless scope of each thread (Keras's thread-local scope state).

:mod:`chainrule.scopes` opens and closes the scopes (``name_scope``, ``StatelessScope``,
...); variables and layers read here what is open when they name a weight or assign
one, so they need not import the scopes' module, which builds on them.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["current_path", "scoped_path", "nested_path"]


class _State(threading.local):
    """The open scopes of this thread (Keras keeps them in its thread-local global state)."""

    def __init__(self) -> None:
        self.names: list = []
        self.stateless: Any = None
        self.symbolic: Any = None
        self.remat: list = []


_STATE = _State()


def current_path() -> str:
    """The path of the open name scopes, joined with ``/`` (``""`` outside every scope).

    Example:
        >>> from chainrule import name_scope
        >>> with name_scope("a"), name_scope("b"):
        ...     current_path()
        'a/b'
        >>> current_path()
        ''
    """
    parts: list[str] = []
    for scope in _STATE.names:
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


def scoped_path(path: str) -> str:
    """``path`` under the open name scopes (``path`` itself outside every scope).

    Example:
        >>> from chainrule import name_scope
        >>> with name_scope("block"):
        ...     scoped_path("dense/kernel")
        'block/dense/kernel'
    """
    parent = current_path() if _STATE.names else ""
    return f"{parent}/{path}" if parent else path


def nested_path(parent: str, path: str) -> str:
    """The path of a sublayer's weight ``path`` once its parent layer ``parent`` owns it.

    The parent's name goes right after the open name scopes:
    ``nested_path("lstm", "enc/lstm_cell/kernel")`` inside ``name_scope("enc")``
    is ``enc/lstm/lstm_cell/kernel``, as Keras names it.

    Example:
        >>> from chainrule import name_scope
        >>> nested_path("lstm", "lstm_cell/kernel")
        'lstm/lstm_cell/kernel'
        >>> with name_scope("enc"):
        ...     nested_path("lstm", "enc/lstm_cell/kernel")
        'enc/lstm/lstm_cell/kernel'
    """
    prefix = current_path() if _STATE.names else ""
    if prefix and path.startswith(prefix + "/"):
        return f"{prefix}/{parent}/{path[len(prefix) + 1:]}"
    return f"{parent}/{path}"

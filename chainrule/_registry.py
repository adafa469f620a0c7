"""Name lookup shared by every registry (losses, metrics, optimizers, activations, ...).

One place builds the learner-facing error for an unknown name, so every
registry answers ``Unknown optimizer: 'adma'. Did you mean 'adam'? Known: ...``
in the same words.
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping


def unknown_name_error(kind: str, name: Any, known: Mapping[str, Any] | list[str]) -> ValueError:
    """Build the ValueError for a name that is not in a registry.

    Args:
        kind: what is looked up, e.g. ``"optimizer"``.
        name: the name the user gave.
        known: the registered names.

    Returns:
        A ValueError whose message suggests the closest names.

    Example:
        >>> str(unknown_name_error("loss", "msee", ["mse", "mae"]))
        "Unknown loss: 'msee'. Did you mean 'mse'? Known: mae, mse."
    """
    names = sorted(set(known))
    close = difflib.get_close_matches(str(name).lower(), names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown {kind}: {name!r}.{hint} Known: {', '.join(names)}.")


def lookup(kind: str, name: str, table: Mapping[str, Any]) -> Any:
    """Return ``table[name]`` (case-insensitive), or raise :func:`unknown_name_error`.

    Args:
        kind: what is looked up, e.g. ``"loss"``.
        name: the name the user gave.
        table: a mapping from lower-case names to objects.

    Returns:
        The registered object.

    Raises:
        ValueError: when the name is unknown, with close matches.
    """
    if isinstance(name, str):
        obj = table.get(name) or table.get(name.lower())
        if obj is not None:
            return obj
    raise unknown_name_error(kind, name, list(table))

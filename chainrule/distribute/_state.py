"""The active distribution (no MPI import here: the trainer asks this on every ``fit``)."""

from __future__ import annotations

from typing import Any

_current: list = [None]


def active() -> Any:
    """The distribution set with ``set_distribution`` when it spans several processes, else None."""
    dist = _current[0]
    if dist is None or dist.num_processes == 1:
        return None
    return dist


def is_chief() -> bool:
    """Whether this process prints and writes files: rank 0, or the only process.

    Example:
        >>> is_chief()
        True
    """
    dist = _current[0]
    return dist is None or dist.process_id == 0

"""Helpers shared by the callbacks: argument checks, messages, the learning rate, batch counts.

The checks run once, in ``__init__``; every message names the argument and ends
with ``Received: name=value``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def check_int(name: str, value: Any, minimum: int = 0, allow_bool: bool = False) -> int:
    """Return ``value`` as an int, or raise TypeError (not an integer) or ValueError (too small)."""
    is_int = isinstance(value, (int, np.integer)) and (allow_bool or not isinstance(value, bool))
    if not is_int or value < minimum:
        kind = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        error = ValueError if is_int else TypeError
        raise error(f"{name} must be {kind}. Received: {name}={value!r}")
    return int(value)


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise TypeError for anything but a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number. Received: {name}={value!r}")
    return float(value)


def check_mode(mode: Any) -> str:
    """Return ``mode`` if it is ``"auto"``, ``"min"`` or ``"max"``; raise ValueError otherwise."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be one of 'auto', 'min' or 'max'. Received: mode={mode!r}")
    return mode


def print_message(message: str) -> None:
    """Print one message of a callback (``verbose=1``): to standard output, or to the
    ``"chainrule"`` logger when interactive logging is off (``chainrule.utils.io_utils``)."""
    from chainrule.utils import io_utils  # noqa: PLC0415

    io_utils.print_msg(message)


def get_learning_rate(model: Any) -> float:
    """Return ``model.optimizer.learning_rate`` as a float.

    Raises:
        ValueError: if the model has no optimizer with a ``learning_rate``.
    """
    optimizer = getattr(model, "optimizer", None)
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            f'Optimizer must have a "learning_rate" attribute. Received: optimizer={optimizer!r}'
        )
    return float(optimizer.learning_rate)


def check_save_freq(save_freq: Any) -> Any:
    """Return ``"epoch"``, or ``save_freq`` as a positive int; raise ValueError otherwise."""
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer)) or save_freq < 1:
        raise ValueError(
            "Unrecognized save_freq: expected 'epoch' or a positive integer (a number of "
            f"batches). Received: save_freq={save_freq!r}"
        )
    return int(save_freq)


class BatchCounter:
    """Keras's count of batches since the last save, across epochs."""

    def __init__(self, every: int) -> None:
        self.every, self.seen, self.last = every, 0, 0

    def step(self, batch: int) -> bool:
        """Counts the batch; True when ``every`` batches have passed since the last save."""
        self.seen += batch + 1 if batch <= self.last else batch - self.last
        self.last = batch
        if self.seen >= self.every:
            self.seen = 0
            return True
        return False

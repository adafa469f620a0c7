"""LearningRateScheduler: set the learning rate at the start of every epoch from a schedule."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from chainrule.callbacks._utils import check_int, get_learning_rate, print_message
from chainrule.callbacks.callback import Callback, Logs

__all__ = ["LearningRateScheduler"]


def _schedule_takes_lr(schedule: Callable[..., Any]) -> bool | None:
    """Whether ``schedule`` accepts ``(epoch, lr)``; ``None`` when it cannot be told."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    return positional >= 2


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch from a schedule.

    Args:
        schedule: ``schedule(epoch, lr)`` or ``schedule(epoch)`` returning the
            learning rate for the epoch (``epoch`` counts from 0, ``lr`` is the
            current rate).
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> def scheduler(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> callback = LearningRateScheduler(scheduler)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = check_int("verbose", verbose, allow_bool=True)
        self._takes_lr = _schedule_takes_lr(schedule)

    def _next_lr(self, epoch: int, lr: float) -> Any:
        if self._takes_lr is None:
            try:
                return self.schedule(epoch, lr)
            except TypeError:  # a one-argument schedule
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Sets ``model.optimizer.learning_rate`` to ``schedule(epoch, lr)``."""
        lr = self._next_lr(epoch, get_learning_rate(self.model))
        try:
            if isinstance(lr, (bool, str, bytes)):
                raise TypeError
            value = float(lr)
        except (TypeError, ValueError):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Received: {lr!r}"
            ) from None
        self.model.optimizer.learning_rate = value
        if self.verbose > 0:
            print_message(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Adds the learning rate to the epoch logs as ``learning_rate``."""
        if isinstance(logs, dict):
            logs["learning_rate"] = get_learning_rate(self.model)

"""ReduceLROnPlateau: reduce the learning rate when a metric has stopped improving."""

from __future__ import annotations

import warnings

import numpy as np

from chainrule.callbacks._utils import check_int, check_real, get_learning_rate, print_message
from chainrule.callbacks.callback import Logs
from chainrule.callbacks.monitor_callback import _MonitorCallback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(_MonitorCallback):
    """Reduces the learning rate when a metric has stopped improving.

    After ``patience`` epochs without improvement the learning rate becomes
    ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass before waiting
    starts again. The current learning rate is added to the epoch logs as
    ``learning_rate``.

    Args:
        monitor: Name of the metric in the epoch logs.
        factor: Multiplier of the learning rate, in (0, 1).
        patience: Epochs without improvement before a reduction.
        verbose: 1 prints a message at each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (see :class:`EarlyStopping`).
        min_delta: Smallest change that counts as an improvement.
        cooldown: Epochs after a reduction during which no waiting is counted.
        min_lr: Lower bound of the learning rate.

    Example:
        >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5,
        ...                               min_lr=0.001)
        >>> reduce_lr.factor, reduce_lr.min_lr
        (0.2, 0.001)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        factor = check_real("factor", factor)
        if not 0.0 < factor < 1.0:
            raise ValueError(
                "factor must be a number between 0 and 1 (exclusive); "
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor}"
            )
        self.factor = factor
        self.patience = check_int("patience", patience)
        self.verbose = check_int("verbose", verbose, allow_bool=True)
        self.cooldown = check_int("cooldown", cooldown)
        self.min_lr = check_real("min_lr", min_lr)
        if self.min_lr < 0:
            raise ValueError(f"min_lr must be non-negative. Received: min_lr={min_lr!r}")
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        """Whether the callback is in its cooldown period.

        Returns:
            True while the cooldown counter is positive.
        """
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Resets the counters and the best value."""
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Counts epochs without improvement and reduces the learning rate."""
        logs = logs if logs is not None else {}
        old_lr = get_learning_rate(self.model)
        if isinstance(logs, dict):
            logs["learning_rate"] = old_lr
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which "
                f"is not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            # NOTE: compared in float32, as the rate is often stored in float32:
            # float32(0.2) > 0.2 would otherwise reduce to min_lr forever.
            if self.wait >= self.patience and old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print_message(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                        f"learning rate to {new_lr}."
                    )
                self.cooldown_counter = self.cooldown
                self.wait = 0

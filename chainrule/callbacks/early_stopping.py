"""EarlyStopping: stop training when a monitored metric has stopped improving."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.callbacks._utils import check_int, check_real, print_message
from chainrule.callbacks.callback import Logs
from chainrule.callbacks.monitor_callback import _MonitorCallback

__all__ = ["EarlyStopping"]


def _copy_weights(weights: Iterable[Any]) -> list[np.ndarray]:
    # get_weights may hand out views of live parameters; keep a snapshot.
    return [np.array(w, copy=True) for w in weights]


class EarlyStopping(_MonitorCallback):
    """Stops training when a monitored metric has stopped improving.

    After each epoch the monitored value is compared with the best so far; once
    it has not improved for ``patience`` epochs, ``model.stop_training`` is set.

    Args:
        monitor: Name of the metric in the epoch logs, e.g. ``"val_loss"``.
        min_delta: Smallest change that counts as an improvement.
        patience: Epochs without improvement after which training stops.
        verbose: 1 prints a message when the callback acts.
        mode: ``"min"``, ``"max"``, or ``"auto"`` (maximize names containing
            ``acc``, ``auc``, ``precision``, ``recall``, ...; minimize the rest).
        baseline: Value the metric must beat; until it does, epochs count
            towards ``patience`` even when they improve on the previous best.
        restore_best_weights: At the end of training, restore the weights of
            the epoch with the best monitored value.
        start_from_epoch: Epochs of warm-up during which nothing is monitored.

    Example:
        >>> early = EarlyStopping(monitor="loss", patience=1)
        >>> early.mode, early.monitor_op.__name__
        ('auto', 'less')
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = check_int("patience", patience)
        self.verbose = check_int("verbose", verbose, allow_bool=True)
        self.baseline = None if baseline is None else check_real("baseline", baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Resets the state, so one instance can serve several `fit` calls."""
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Compares the monitored value with the best one and stops if patience ran out."""
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first monitored weights are the best.
            self.best_weights = _copy_weights(self.model.get_weights())
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _copy_weights(self.model.get_weights())
            # Patience restarts only once the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Reports the stop and restores the best weights if asked to."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_message(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_message(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs | None) -> float | None:
        """Returns the monitored value, warning when the logs lack it.

        Args:
            logs: The epoch logs.

        Returns:
            The value, or ``None`` when it is missing.
        """
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
        return value

"""History: the logs of every epoch; `fit` returns it."""

from __future__ import annotations

from typing import Any

from chainrule.callbacks.callback import Callback, Logs

__all__ = ["History"]

class History(Callback):
    """Records the logs of every epoch; `fit` returns it.

    Attributes:
        history: Dict from metric name to the list of its values, one per epoch.
        epoch: Indices of the epochs recorded in this `fit`.
        params: The run parameters (``verbose``, ``epochs``, ``steps``).
        model: The model trained.

    Example:
        >>> history = History()
        >>> history.on_train_begin()
        >>> history.on_epoch_end(0, {"loss": 0.5, "mae": 0.25})
        >>> history.history
        {'loss': [0.5], 'mae': [0.25]}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Starts a new list of epochs (the metric lists keep growing, as in Keras)."""
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Appends the epoch's logs to :attr:`history`."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

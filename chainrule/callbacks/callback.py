"""The base class of callbacks, and the names of the hooks a run calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Callback", "Logs"]

Logs = Mapping[str, Any]

# Every hook a callback can implement, in the order a run calls them.
_HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_batch_begin",
    "on_train_batch_begin",
    "on_batch_end",
    "on_train_batch_end",
    "on_epoch_end",
    "on_train_end",
    "on_test_begin",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_test_end",
    "on_predict_begin",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_predict_end",
)


class Callback:
    """Base class of callbacks: override the hooks you need.

    Every hook is a no-op here. ``on_train_batch_begin``/``end`` forward to the
    older names ``on_batch_begin``/``end``, so overriding either name works.

    Attributes:
        params: Dict of run parameters, e.g. ``{"verbose": 1, "epochs": 10, "steps": 32}``.
        model: The model being trained, evaluated or used for prediction.

    Example:
        >>> class PrintEpoch(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(f"epoch {epoch}: loss {logs['loss']:.2f}")
        >>> PrintEpoch().on_epoch_end(0, {"loss": 0.25})
        epoch 0: loss 0.25
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Receives the run parameters (``verbose``, ``epochs``, ``steps``, ...).

        Args:
            params: The parameters of the run.
        """
        self.params = params

    def set_model(self, model: Any) -> None:
        """Receives the model the callback acts on.

        Args:
            model: The model.
        """
        self.model = model

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Older name of :meth:`on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Older name of :meth:`on_train_batch_end`."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of an epoch of training.

        Args:
            epoch: Index of the epoch, from 0.
            logs: Currently empty.
        """

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of an epoch of training.

        Args:
            epoch: Index of the epoch, from 0.
            logs: Metric results of the epoch, validation ones prefixed with
                ``val_``, e.g. ``{"loss": 0.2, "accuracy": 0.7, "val_loss": 0.3}``.
        """

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before a training batch.

        Args:
            batch: Index of the batch within the epoch.
            logs: Currently empty.
        """
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after a training batch.

        Args:
            batch: Index of the batch within the epoch.
            logs: Running means of the metrics over the epoch so far.
        """
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before a batch of `evaluate` or of validation.

        Args:
            batch: Index of the batch.
            logs: Currently empty.
        """

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after a batch of `evaluate` or of validation.

        Args:
            batch: Index of the batch.
            logs: Running means of the metrics so far.
        """

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before a batch of `predict`.

        Args:
            batch: Index of the batch.
            logs: Currently empty.
        """

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after a batch of `predict`.

        Args:
            batch: Index of the batch.
            logs: Outputs of the batch, if any.
        """

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `fit`.

        Args:
            logs: Currently empty.
        """

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `fit`.

        Args:
            logs: The logs of the last epoch.
        """

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `evaluate` or of validation.

        Args:
            logs: Currently empty.
        """

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `evaluate` or of validation.

        Args:
            logs: The metric results.
        """

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called at the start of `predict`.

        Args:
            logs: Currently empty.
        """

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called at the end of `predict`.

        Args:
            logs: Currently empty.
        """

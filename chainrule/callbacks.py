"""Callbacks: hooks into `fit`, `evaluate` and `predict`, with Keras semantics.

A callback sees the model only through a small interface:

* ``model.stop_training``: a bool the training loop checks after each epoch;
* ``model.get_weights()`` / ``model.set_weights(list_of_arrays)``;
* ``model.optimizer.learning_rate``: a float, readable and settable;
* ``model.history``: set to the :class:`History` of the current ``fit``.

The training loop drives every callback through one :class:`CallbackList`::

    callbacks = CallbackList(user_callbacks, add_history=True, add_progbar=verbose != 0,
                             model=model, verbose=verbose, epochs=epochs, steps=steps)
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for step in range(steps):
            callbacks.on_train_batch_begin(step)
            logs = train_step(...)
            callbacks.on_train_batch_end(step, logs)
        callbacks.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callbacks.on_train_end(epoch_logs)
"""

from __future__ import annotations

import csv
import inspect
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO

import numpy as np

from chainrule.utils.progbar import Progbar

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]

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


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: Any, minimum: int = 0, allow_bool: bool = False) -> int:
    is_int = isinstance(value, (int, np.integer)) and (allow_bool or not isinstance(value, bool))
    if not is_int or value < minimum:
        kind = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        error = ValueError if is_int else TypeError
        raise error(f"{name} must be {kind}. Received: {name}={value!r}")
    return int(value)


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number. Received: {name}={value!r}")
    return float(value)


def _check_mode(mode: Any) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be one of 'auto', 'min' or 'max'. Received: mode={mode!r}")
    return mode


def _print(message: str) -> None:
    # sys.stdout is looked up at call time so redirections (and pytest) see it.
    print(message, file=sys.stdout)


def _pythonify(logs: Logs | None) -> dict[str, Any]:
    """Copy ``logs``, turning NumPy scalars into Python numbers (as History stores them)."""
    if not logs:
        return {}
    out = {}
    for key, value in logs.items():
        if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
            value = value.item()
        out[key] = value
    return out


# --------------------------------------------------------------------------- base


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


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (the base hooks do nothing)."""
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


# --------------------------------------------------------------------------- container


class CallbackList(Callback):
    """Calls many callbacks as one; the training loop talks only to this.

    Batch hooks are dispatched only to the callbacks that implement them, so a
    run with the default callbacks costs little per batch. Every callback of
    one event sees the same logs dict (a copy of the caller's), so a value one
    callback adds (``learning_rate``) reaches the ones after it.

    Args:
        callbacks: Callbacks to call, in order.
        add_history: Append a :class:`History` unless one is in ``callbacks``.
        add_progbar: Append a :class:`ProgbarLogger` unless one is in ``callbacks``.
        model: The model; each callback gets it through ``set_model``, and
            ``model.history`` is set to the History.
        **params: Run parameters passed to every callback through ``set_params``
            (``verbose``, ``epochs``, ``steps``).

    Example:
        >>> history = History()
        >>> callbacks = CallbackList([history], epochs=2, steps=1, verbose=0)
        >>> callbacks.on_train_begin()
        >>> for epoch in range(2):
        ...     callbacks.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        >>> history.history
        {'loss': [1.0, 0.5]}
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks: list[Callback] = []
        for callback in callbacks or ():
            self._check(callback)
            self.callbacks.append(callback)
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self._refresh()
        self.set_model(model)
        self.set_params(params)

    @staticmethod
    def _check(callback: Any) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be instances of chainrule.callbacks.Callback. "
                f"Received: {callback!r}"
            )

    def _refresh(self) -> None:
        """Rebuild the per-batch dispatch lists."""

        def bound(hook: str, *older: str) -> list[Callable[..., Any]]:
            return [
                getattr(c, hook)
                for c in self.callbacks
                if _overrides(c, hook) or any(_overrides(c, o) for o in older)
            ]

        self._train_batch_begin = bound("on_train_batch_begin", "on_batch_begin")
        self._train_batch_end = bound("on_train_batch_end", "on_batch_end")
        self._test_batch_begin = bound("on_test_batch_begin")
        self._test_batch_end = bound("on_test_batch_end")
        self._predict_batch_begin = bound("on_predict_batch_begin")
        self._predict_batch_end = bound("on_predict_batch_end")

    def append(self, callback: Callback) -> None:
        """Adds a callback at the end of the list.

        Args:
            callback: The callback to add; it gets the list's model and params.
        """
        self._check(callback)
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self._refresh()

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def set_params(self, params: dict[str, Any]) -> None:
        """Passes ``params`` to every callback.

        Args:
            params: The run parameters.
        """
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model: Any) -> None:
        """Passes ``model`` to every callback and sets ``model.history``.

        Args:
            model: The model; ``None`` is ignored.
        """
        if model is None:
            return
        self.model = model
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    # Batch hooks: the hot path. One shallow copy, then only the implementers.
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Same as :meth:`on_train_batch_begin`."""
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Same as :meth:`on_train_batch_end`."""
        self.on_train_batch_end(batch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_train_batch_begin`` of the callbacks that implement it."""
        if self._train_batch_begin:
            logs = dict(logs) if logs else {}
            for hook in self._train_batch_begin:
                hook(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_train_batch_end`` of the callbacks that implement it."""
        if self._train_batch_end:
            logs = dict(logs) if logs else {}
            for hook in self._train_batch_end:
                hook(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_test_batch_begin`` of the callbacks that implement it."""
        if self._test_batch_begin:
            logs = dict(logs) if logs else {}
            for hook in self._test_batch_begin:
                hook(batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_test_batch_end`` of the callbacks that implement it."""
        if self._test_batch_end:
            logs = dict(logs) if logs else {}
            for hook in self._test_batch_end:
                hook(batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_predict_batch_begin`` of the callbacks that implement it."""
        if self._predict_batch_begin:
            logs = dict(logs) if logs else {}
            for hook in self._predict_batch_begin:
                hook(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Calls ``on_predict_batch_end`` of the callbacks that implement it."""
        if self._predict_batch_end:
            logs = dict(logs) if logs else {}
            for hook in self._predict_batch_end:
                hook(batch, logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Calls ``on_epoch_begin`` of every callback."""
        self._call("on_epoch_begin", epoch, _pythonify(logs))

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Calls ``on_epoch_end`` of every callback, all with one logs dict."""
        self._call("on_epoch_end", epoch, _pythonify(logs))

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Calls ``on_train_begin`` of every callback."""
        self._refresh()
        self._call("on_train_begin", _pythonify(logs))

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Calls ``on_train_end`` of every callback."""
        self._call("on_train_end", _pythonify(logs))

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Calls ``on_test_begin`` of every callback."""
        self._refresh()
        self._call("on_test_begin", _pythonify(logs))

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Calls ``on_test_end`` of every callback."""
        self._call("on_test_end", _pythonify(logs))

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Calls ``on_predict_begin`` of every callback."""
        self._refresh()
        self._call("on_predict_begin", _pythonify(logs))

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Calls ``on_predict_end`` of every callback."""
        self._call("on_predict_end", _pythonify(logs))


# --------------------------------------------------------------------------- History


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


# --------------------------------------------------------------------------- ProgbarLogger


class ProgbarLogger(Callback):
    """Prints the ``Epoch k/N`` lines and a progress bar, as tf.keras does.

    ``verbose=1`` draws a bar per epoch, redrawn in place on a terminal and
    printed once per epoch elsewhere; ``verbose=2`` prints one line per epoch;
    ``verbose=0`` prints nothing. Validation inside `fit` is silent; alone (in
    `evaluate` or `predict`) it gets its own bar. The values in the logs are
    shown as given: the training loop passes running means already.

    Args:
        stream: Where to print; ``None`` means ``sys.stdout`` at the time of printing.
        time_fn: Clock for the progress bar (see :class:`~chainrule.utils.progbar.Progbar`).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> logger = ProgbarLogger(stream=out, time_fn=lambda: 0.0)
        >>> logger.set_params({"verbose": 2, "epochs": 2, "steps": 32})
        >>> logger.on_train_begin()
        >>> logger.on_epoch_begin(0)
        >>> logger.on_epoch_end(0, {"loss": 0.0665, "mae": 0.2402})
        >>> print(out.getvalue(), end="")
        Epoch 1/2
        32/32 - 0s - loss: 0.0665 - mae: 0.2402
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        time_fn: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.time_fn = time_fn
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Reads ``verbose`` (``"auto"`` means 1), ``epochs`` and ``steps`` (``None`` if unknown)."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _write(self, text: str) -> None:
        out = self.stream if self.stream is not None else sys.stdout
        out.write(text)
        out.flush()

    def _new_progbar(self) -> None:
        self.seen = 0
        self.progbar = Progbar(
            target=self.target,
            verbose=self.verbose,
            stateless_metrics=(),  # every value arrives as a running mean
            stream=self.stream,
            time_fn=self.time_fn,
        )

    def _update(self, batch: int, logs: Logs | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, logs.items() if logs else None, finalize=False)

    def _finalize(self, logs: Logs | None) -> None:
        if self.target is None:
            # Steps were unknown: the first full pass tells how many there are.
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, logs.items() if logs else None, finalize=True)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Marks that validation inside `fit` must stay silent."""
        self._called_in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Ends the `fit`; a later `evaluate` with this logger prints again."""
        self._called_in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Starts a bar and prints ``Epoch k/N`` when there is more than one epoch."""
        self._new_progbar()
        if self.verbose and self.epochs > 1:
            self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the bar."""
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Prints the final state of the epoch's bar."""
        self._finalize(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Starts a bar for `evaluate` (not for validation inside `fit`)."""
        if not self._called_in_fit:
            self._new_progbar()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the `evaluate` bar."""
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Prints the final `evaluate` line."""
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Starts a bar for `predict`."""
        self._new_progbar()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the `predict` bar (predictions are not printed)."""
        self._update(batch, None)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Prints the final `predict` line."""
        self._finalize(None)


# --------------------------------------------------------------------------- monitoring

# Metric names (without ``val_``) that grow as the model gets better.
_MAXIMIZED_PARTS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou")
_MAXIMIZED_NAMES = ("cosine_similarity", "true_positives", "true_negatives")


def _infer_maximize(monitor: str) -> bool:
    """Whether ``mode='auto'`` should maximize ``monitor``; losses and errors are minimized."""
    name = monitor.removeprefix("val_").lower()
    if name.endswith("loss"):
        return False
    return (
        any(part in name for part in _MAXIMIZED_PARTS)
        or name.startswith("r2")
        or name in _MAXIMIZED_NAMES
    )


class _MonitorCallback(Callback):
    """Shared part of callbacks that watch one metric for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.mode = _check_mode(mode)
        self.min_delta = abs(_check_real("min_delta", min_delta))
        maximize = _infer_maximize(monitor) if mode == "auto" else mode == "max"
        #: np.greater when larger is better, np.less otherwise (as in Keras).
        self.monitor_op = np.greater if maximize else np.less
        self.best: float | None = None

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta``."""
        if reference is None:
            return True
        if self.monitor_op is np.greater:
            return bool(current - self.min_delta > reference)
        return bool(current + self.min_delta < reference)


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
        self.patience = _check_int("patience", patience)
        self.verbose = _check_int("verbose", verbose, allow_bool=True)
        self.baseline = None if baseline is None else _check_real("baseline", baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = _check_int("start_from_epoch", start_from_epoch)
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
            _print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _print(
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


def _get_learning_rate(model: Any) -> float:
    optimizer = getattr(model, "optimizer", None)
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            f'Optimizer must have a "learning_rate" attribute. Received: optimizer={optimizer!r}'
        )
    return float(optimizer.learning_rate)


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
        factor = _check_real("factor", factor)
        if not 0.0 < factor < 1.0:
            raise ValueError(
                "factor must be a number between 0 and 1 (exclusive); "
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor}"
            )
        self.factor = factor
        self.patience = _check_int("patience", patience)
        self.verbose = _check_int("verbose", verbose, allow_bool=True)
        self.cooldown = _check_int("cooldown", cooldown)
        self.min_lr = _check_real("min_lr", min_lr)
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
        old_lr = _get_learning_rate(self.model)
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
                    _print(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                        f"learning rate to {new_lr}."
                    )
                self.cooldown_counter = self.cooldown
                self.wait = 0


# --------------------------------------------------------------------------- schedules


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
        self.verbose = _check_int("verbose", verbose, allow_bool=True)
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
        lr = self._next_lr(epoch, _get_learning_rate(self.model))
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
            _print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Adds the learning rate to the epoch logs as ``learning_rate``."""
        if isinstance(logs, dict):
            logs["learning_rate"] = _get_learning_rate(self.model)


# --------------------------------------------------------------------------- others


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite.

    Args:
        raise_error: Raise a RuntimeError at once instead of setting
            ``model.stop_training`` (which lets ``on_train_end`` run).

    Example:
        >>> callback = TerminateOnNaN()
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Checks the batch's loss.

        Raises:
            RuntimeError: If the loss is NaN or infinite and ``raise_error`` is set.
        """
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. "
                f"Loss value: {loss}. Terminating training immediately."
            )
        _print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class CSVLogger(Callback):
    """Writes the logs of every epoch as a row of a CSV file.

    The columns are ``epoch`` then the keys of the first epoch's logs, sorted;
    a key missing later is written ``NA``.

    Args:
        filename: Path of the CSV file.
        separator: One character separating the fields.
        append: Append to an existing file (no second header) instead of
            overwriting it.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "mae": 0.25})
        >>> logger.on_train_end()
        >>> print(open(path).read(), end="")
        epoch,loss,mae
        0,0.5,0.25
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        try:
            self.filename = os.fspath(filename)
        except TypeError:
            raise TypeError(f"filename must be a path. Received: filename={filename!r}") from None
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"separator must be a single character. Received: separator={separator!r}"
            )
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self.writer: Any = None
        self.csv_file: Any = None
        self.append_header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Opens the file (appending or overwriting)."""
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        # newline="" lets the csv module decide the line ends: '\n' here.
        # The file stays open across epochs and is closed in on_train_end.
        self.csv_file = open(  # noqa: SIM115
            self.filename, "a" if self.append else "w", newline="", encoding="utf-8"
        )
        self.writer = None
        self.keys = None

    @staticmethod
    def _cell(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        if isinstance(value, Iterable):
            return f"[{', '.join(map(str, value))}]"
        return value

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Writes one row and flushes it to disk."""
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.csv_file, delimiter=self.sep, lineterminator="\n")
            if self.append_header:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(self._cell(logs.get(k, "NA")) for k in self.keys)])
        self.csv_file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Closes the file."""
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


class LambdaCallback(Callback):
    """Builds a callback from plain functions.

    The functions are called with positional arguments: ``on_epoch_begin`` and
    ``on_epoch_end`` with ``(epoch, logs)``, ``on_train_begin`` and
    ``on_train_end`` with ``(logs)``, the batch hooks with ``(batch, logs)``.

    Args:
        on_epoch_begin: Called at the start of every epoch.
        on_epoch_end: Called at the end of every epoch.
        on_train_begin: Called at the start of training.
        on_train_end: Called at the end of training.
        on_train_batch_begin: Called before every training batch.
        on_train_batch_end: Called after every training batch.
        **kwargs: Any other hook of :class:`Callback` by name, e.g.
            ``on_test_end=fn``.

    Example:
        >>> losses = []
        >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
        >>> callback.on_epoch_end(0, {"loss": 0.5})
        >>> losses
        [0.5]
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any],
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, function in kwargs.items():
            if name not in _HOOKS:
                raise TypeError(
                    f"LambdaCallback got an unknown hook {name!r}; hooks are "
                    f"{', '.join(_HOOKS)}. Received: {name}={function!r}"
                )
        hooks.update(kwargs)
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"{name} must be callable. Received: {name}={function!r}")
            setattr(self, name, function)


# Callbacks defined next to the features they serve, exported here under Keras's names.
# Resolved lazily (PEP 562) because those modules build on the classes above.
_LAZY = {
    "ModelCheckpoint": "chainrule.saving.checkpoints",
    "BackupAndRestore": "chainrule.saving.checkpoints",
    "GradientMonitor": "chainrule.explain.monitor",
}
__all__ += list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'chainrule.callbacks' has no attribute {name!r}")

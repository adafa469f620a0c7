"""CallbackList: the one object through which `fit`, `evaluate` and `predict` call callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from chainrule.callbacks.callback import Callback, Logs
from chainrule.callbacks.history import History
from chainrule.callbacks.progbar_logger import ProgbarLogger

__all__ = ["CallbackList"]


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


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (the base hooks do nothing)."""
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


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

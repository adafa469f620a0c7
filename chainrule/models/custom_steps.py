"""Keras 3's overridable steps: ``train_step``, ``test_step``, ``predict_step`` and their helpers.

A subclassed model may override ``train_step(self, data)`` as Keras 3 allows.
With chainrule the gradients come from the tape, as with Keras's PyTorch
backend: call the model, compute the loss, ``loss.backward()``, read each
weight's ``.grad`` and let the optimizer apply them::

    class MyModel(cr.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply([w.grad for w in weights], weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

``fit`` clears every weight's ``.grad`` before each call (``self.zero_grad()``
does the same), passes ``data`` as Keras does (``x`` alone when there are no
targets, else ``(x, y)`` or ``(x, y, sample_weight)``, as Tensors), and shows
the returned dict (nested dicts flattened, values as floats) in the progress bar
and the history. A model with its own ``train_step`` trains on the tape: its
steps are not captured for replay. ``super().train_step(data)`` runs the
built-in step (which is captured as usual). A model may also override
``compute_loss(x, y, y_pred, sample_weight, training)`` alone: the built-in
steps then call it (``super().compute_loss(...)`` is the compiled loss plus
:attr:`losses`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Tensor, no_grad

__all__ = ["StepMethods", "unpack_x_y_sample_weight", "pack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data: Any) -> tuple:
    """Split a batch into ``(x, y, sample_weight)`` as Keras does (missing parts are None).

    Args:
        data: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Returns:
        The tuple ``(x, y, sample_weight)``.

    Raises:
        ValueError: for a tuple of more than 3 items.

    Example:
        >>> unpack_x_y_sample_weight(([1.0], [0.0]))
        ([1.0], [0.0], None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError("Data is expected to be x, (x,), (x, y) or (x, y, sample_weight). "
                     f"Received: a tuple of {len(data)} items")


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Pack ``x``, ``y`` and ``sample_weight`` into the batch a ``train_step`` receives.

    Example:
        >>> pack_x_y_sample_weight([1.0])
        [1.0]
        >>> pack_x_y_sample_weight([1.0], [0.0])
        ([1.0], [0.0])
    """
    if y is None:
        return (x,) if isinstance(x, tuple) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _flatten_logs(logs: Any, what: str) -> dict:
    if not isinstance(logs, dict):
        raise TypeError(f"{what} must return a dict of metric names and values, e.g. "
                        "{'loss': loss}. Received: a value of type " f"{type(logs).__name__}")
    from chainrule.models.compile_utils import _to_py  # noqa: PLC0415

    out: dict = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(_flatten_logs(value, what))
        else:
            out[str(key)] = _to_py(value)
    return out


class StepMethods:
    """The overridable step methods of :class:`~chainrule.models.Model` (see the module docs)."""

    # -- what a user's step calls -----------------------------------------------------
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """The compiled loss of ``y`` against ``y_pred`` plus :attr:`losses` (a scalar Tensor).

        Args:
            x: the inputs (accepted, as in Keras; unused).
            y: the targets (a list for several outputs), or None when the model's
                layers add the whole loss with ``add_loss``.
            y_pred: the model's outputs from this step's call.
            sample_weight: optional weights per sample.
            training: accepted, as in Keras.

        Returns:
            The total loss, a scalar Tensor: call ``.backward()`` on it.

        Raises:
            ValueError: when there is no loss at all (none compiled, none added).
        """
        del x, training
        preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
        if y is None:
            ys: list = []
        else:
            ys = list(y) if isinstance(y, (list, tuple)) and len(preds) > 1 else [y]
        ys = [t if isinstance(t, Tensor) else Tensor(backend.as_array(t)) for t in ys]
        sws = None
        if sample_weight is not None:
            sws = [sample_weight if isinstance(sample_weight, Tensor)
                   else Tensor(backend.as_array(sample_weight))]
        total, _ = self._compiled_loss(ys, preds, sws)
        return total

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Update the compiled metrics with one batch; return :meth:`get_metrics_result`.

        Args:
            x: the inputs (unused, as in Keras).
            y: the targets (a list for several outputs).
            y_pred: the model's outputs.
            sample_weight: optional weights per sample.

        Returns:
            ``{name: value}`` of every metric so far.
        """
        del x
        preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
        if y is not None:
            ys = list(y) if isinstance(y, (list, tuple)) and len(preds) > 1 else [y]
            sws = None if sample_weight is None else [_array(sample_weight)]
            self._update_metrics([_array(t) for t in ys], [_array(p) for p in preds], sws)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: value}`` of every metric in :attr:`metrics` (a dict result is merged in)."""
        return _flatten_logs({m.name: m.result() for m in self.metrics}, "get_metrics_result")

    def reset_metrics(self) -> None:
        """Reset the state of every metric (``fit`` does it at the start of each epoch)."""
        self._reset_metrics()

    def zero_grad(self) -> None:
        """Forget the gradients of every weight (``.grad`` becomes None)."""
        for v in self.weights:
            v.grad = None

    # -- the built-in steps ---------------------------------------------------------------
    def train_step(self, data: Any) -> dict:
        """One training step on one batch (override to customize; see the module docs).

        Args:
            data: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The logs so far, ``{name: value}``.
        """
        xs, ys, sws = _batch_lists(data)
        self._builtin_train_batch(xs, ys, sws, False)
        return self._compiled_logs()

    def test_step(self, data: Any) -> dict:
        """One evaluation step on one batch (override to customize).

        Args:
            data: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            The logs so far, ``{name: value}``.
        """
        xs, ys, sws = _batch_lists(data)
        self._builtin_test_batch(xs, ys, sws)
        return self._compiled_logs()

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch (override to customize).

        Args:
            data: ``x`` (or a tuple whose first item is ``x``).

        Returns:
            The outputs (a Tensor, or a list for several outputs).
        """
        x, _, _ = unpack_x_y_sample_weight(data)
        with no_grad():
            return self(x, training=False)

    # -- dispatch (called by the loops in trainer.py) -----------------------------------------
    def _overrides(self, method: str) -> bool:
        return getattr(type(self), method) is not getattr(StepMethods, method)

    def _custom_batch(self, method: str, xb: list, yb: list | None, swb: list | None) -> float:
        """Run a user's ``train_step``/``test_step`` on one batch; returns its ``loss`` (or 0)."""
        if method == "train_step" and self._jit_compile is True:
            raise ValueError(
                f"jit_compile=True, but model {self.name!r} cannot be captured for replay: it "
                "overrides train_step, which runs on the tape. Pass jit_compile='auto' or "
                "False. Received: jit_compile=True")
        if self._metrics is None and yb is not None and (self._metric_specs or (None, None)) != (
                None, None):
            # build the compiled metrics first, so that a loop over self.metrics sees them
            with no_grad():
                preds = self._forward([backend.as_array(a) for a in xb], training=False)
            self._build_metrics(yb, [p.data for p in preds])
        x = [Tensor(a) for a in self._step_factory().feeds([backend.as_array(a) for a in xb])]
        y = None if yb is None else [Tensor(backend.as_array(a)) for a in yb]
        sw = None if swb is None else [Tensor(backend.as_array(a)) for a in swb]
        data = pack_x_y_sample_weight(
            x[0] if len(x) == 1 else x,
            None if y is None else y[0] if len(y) == 1 else y,
            None if sw is None else sw[0] if len(sw) == 1 else sw)
        if method == "train_step":
            self.zero_grad()
            logs = self.train_step(data)
        else:
            logs = self.test_step(data)
        logs = _flatten_logs(logs, method)
        self._custom_logs = logs
        loss = logs.get("loss", 0.0)
        return float(loss) if isinstance(loss, (float, int)) else 0.0

    def _predict_batch(self, xb: list) -> list:
        """The outputs of one batch as arrays: the step factory's, or a user's ``predict_step``."""
        if not self._overrides("predict_step"):
            return self._step_factory().predict(xb)
        x = [Tensor(a) for a in self._step_factory().feeds([backend.as_array(a) for a in xb])]
        out = self.predict_step(x[0] if len(x) == 1 else x)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return [o.data if isinstance(o, Tensor) else backend.as_array(o) for o in outs]

    def _compiled_logs(self) -> dict:
        saved, self._custom_logs = getattr(self, "_custom_logs", None), None
        try:
            return self._logs()
        finally:
            self._custom_logs = saved


def _array(t: Any) -> Any:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _batch_lists(data: Any) -> tuple:
    x, y, sw = unpack_x_y_sample_weight(data)

    def as_list(v: Any) -> list | None:
        if v is None:
            return None
        items = list(v) if isinstance(v, (list, tuple)) else [v]
        return [_array(t) for t in items]

    return as_list(x), as_list(y), as_list(sw)

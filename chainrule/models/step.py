"""The step factory: one place decides how a training, test or predict step runs.

For each (model, mode, batch shapes) the first two steps run the general path
— the layers call ``chainrule.ops``, the tape records, ``backward`` walks it —
under a recorder (:mod:`chainrule.autograd.capture`). If both runs recorded
the same program, every later step with those shapes replays it on raw arrays:
the ops' own ``forward`` and ``backward``, in the tape's order, with the
gradients landing in the model's flat gradient buffer and one optimizer pass
over the flat weight buffer. If they did not (Python control flow on values,
an array computed from the batch outside the ops, ...), that key stays on the
tape, or ``compile(jit_compile=True)`` raises the reason.

A capture is dropped when what it was recorded from changes: the batch shapes
or dtypes (they are part of the key), the set of trainable weights (a layer
frozen or added: the weights are packed anew), a weight's array replaced by
another one, a public attribute of a layer set (``layer.rate = 0.5``), the
model compiled again, or the backend switched.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from chainrule import backend
from chainrule.autograd import capture
from chainrule.autograd.engine import Tensor, backward_for_training, no_grad
from chainrule.backend.flat import FlatBuffer
from chainrule.layers import base as layers_base

__all__ = ["StepFactory"]

_MAX_PROGRAMS = 16  # per model: shapes seldom vary more (full and last partial batch, per mode)


class _Entry:
    """The state of one (mode, shapes) key: tracing, captured or taped."""

    __slots__ = ("first", "program", "reason", "version", "unused", "masked")

    def __init__(self) -> None:
        self.first: Any = None  # the first trace's recorder
        self.program: Any = None
        self.reason: str | None = None  # why it stays on the tape
        self.version: Any = None
        self.unused: list | None = None  # variables the loss does not reach
        self.masked: tuple = ()  # outputs whose masks the program returns last (for metrics)


def _as_feed(a: Any, declared: Any = None) -> Any:
    """An input batch as the layers receive it.

    Cast to the model input's declared integer dtype where it has one
    (``Input(shape, dtype="int64")``: token ids stay exact, as Keras converts
    inputs to their ``Input``'s dtype); otherwise integers, booleans and float64
    are cast to floatx (Keras's default float32 inputs).
    """
    dt = a.dtype
    if declared is not None:
        return a if dt == declared or dt.kind not in "iubf" else a.astype(declared)
    if dt.kind in "iub" or dt == "float64" and backend.floatx() != "float64":
        return a.astype(backend.floatx())
    return a


def _loss_scale(optimizer: Any) -> float | None:
    """The factor the loss is multiplied by before backward (Keras's ``scale_loss``): a
    LossScaleOptimizer's current dynamic scale, else the ``loss_scale_factor`` (or None)."""
    dynamic = getattr(optimizer, "_backward_scale", None)
    return dynamic if dynamic is not None else getattr(optimizer, "loss_scale_factor", None)


class StepFactory:
    """Makes and runs the steps of one model (owned by the model; see module docs).

    Args:
        model: the compiled model.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.entries: dict = {}
        self.buffer: FlatBuffer | None = None
        self.skipped = False  # whether the last training step was not applied (non-finite)
        # Set by chainrule.distribute while a data-parallel fit runs: called between the
        # gradients and the optimizer update, it sums the gradients across processes in place
        # and returns the global loss (see chainrule/distribute/data_parallel.py).
        self.gradient_reducer: Any = None
        # A program's ops keep what their backward needs, so one thread at a time replays or
        # traces; another thread meanwhile takes the general path (e.g. predict from threads).
        self._lock = threading.Lock()
        self._declared: tuple = (-1, ())  # (structure version, integer dtypes of the inputs)

    def feeds(self, xs: list) -> list:
        """The input arrays as the layers receive them (see :func:`_as_feed`).

        Args:
            xs: one array per model input.

        Returns:
            The arrays, each cast to its input's declared integer dtype, or to
            floatx where it has none.

        Example:
            >>> import numpy as np, chainrule as cr
            >>> inp = cr.Input((2,), dtype="int64")
            >>> model = cr.Model(inp, cr.layers.Embedding(2**25 + 2, 1)(inp))
            >>> model._step_factory().feeds([np.array([[2**25 + 1, 0]])])[0].dtype
            dtype('int64')
        """
        version, declared = self._declared
        if version != layers_base._STRUCTURE[0]:
            declared = self._declared_dtypes()
            self._declared = (layers_base._STRUCTURE[0], declared)
        if not declared:
            return [_as_feed(a) for a in xs]
        return [_as_feed(a, declared[i] if i < len(declared) else None) for i, a in enumerate(xs)]

    def declares_integers(self) -> bool:
        """Whether an input of the model is declared with an integer or boolean dtype."""
        version, declared = self._declared
        if version != layers_base._STRUCTURE[0]:
            declared = self._declared_dtypes()
            self._declared = (layers_base._STRUCTURE[0], declared)
        return bool(declared)

    def _declared_dtypes(self) -> tuple:
        """Per model input, its declared integer or boolean dtype, else None; () if none has."""
        try:
            inputs = getattr(self.model, "inputs", None) or []
        except (AttributeError, ValueError):  # a subclassed model has no symbolic inputs
            return ()
        dts = []
        for kt in inputs:
            try:
                dt = backend.xp.dtype(getattr(kt, "dtype", None) or "float32")
            except TypeError:
                dt = None
            dts.append(dt if dt is not None and dt.kind in "iub" else None)
        return tuple(dts) if any(d is not None for d in dts) else ()

    def reset(self) -> None:
        """Forget every capture (compile and a backend switch call this)."""
        self.entries.clear()

    # -- the flat buffer -------------------------------------------------------------
    def pack(self, variables: list) -> FlatBuffer | None:
        """Pack ``variables`` into the flat buffer unless they already are; returns it."""
        if not variables:
            self.buffer = None
            return None
        buf = self.buffer
        if buf is None or not buf.holds(variables):
            buf = self.buffer = FlatBuffer(variables)
        return buf

    # -- keys ----------------------------------------------------------------------------
    def _version(self) -> tuple:
        return (layers_base._STRUCTURE[0], id(self.buffer), backend.get_backend(),
                backend.floatx())

    def _entry(self, mode: str, arrays: list) -> _Entry:
        key = (mode, *[(a.shape, a.dtype) for a in arrays])
        entry = self.entries.get(key)
        version = self._version()
        if entry is None or entry.version != version:
            if len(self.entries) >= _MAX_PROGRAMS:
                self.entries.pop(next(iter(self.entries)))
            entry = self.entries[key] = _Entry()
            entry.version = version
        return entry

    def _strict(self) -> bool:
        return self.model._jit_compile is True

    def _give_up(self, entry: _Entry, reason: str) -> None:
        entry.first = entry.program = None
        entry.reason = reason
        if self._strict():
            raise ValueError(
                f"jit_compile=True, but model {self.model.name!r} cannot be captured for replay: "
                f"{reason}. Pass jit_compile='auto' (replay where possible) or False. "
                "Received: jit_compile=True"
            )

    # -- training ------------------------------------------------------------------------
    def train(self, xs: list, ys: list, sws: list | None, skip_nonfinite: bool) -> tuple:
        """One training step; returns ``(loss, predictions, per-output losses)`` as arrays/floats.

        With ``skip_nonfinite``, a step whose loss or gradients are NaN or infinite
        changes nothing (and :attr:`skipped` says so).
        """
        self.skipped = False
        capture.new_inference_generation()  # the weights change: nothing computed from them stays
        model = self.model
        xs = self.feeds(xs)
        variables = model._trainable_vars()
        buf = self.pack(variables)
        feeds = xs + list(ys) + (list(sws) if sws is not None else [])
        lock = self._lock
        if not model._jit_compile or not lock.acquire(blocking=False):
            return self._train_general(None, xs, ys, sws, variables, buf, skip_nonfinite)
        try:
            entry = self._entry("train", feeds)
            if entry.program is not None and buf is not None:  # pack checked the buffer
                out = self._keep_masks(entry, entry.program.run(
                    feeds, buf.grads, _loss_scale(model.optimizer)))
                n_out = len(model._loss_fns)
                preds, value = out[:n_out], float(out[n_out])
                per_output = [float(v) for v in out[n_out + 1:]]
                if self.gradient_reducer is not None:
                    value = self.gradient_reducer.reduce_flat(buf, value)
                if not skip_nonfinite or self._finite(value, self._guarded(buf), None):
                    self._apply(buf, entry.unused)
                else:
                    self.skipped = True
                return value, preds, per_output
            return self._train_general(entry, xs, ys, sws, variables, buf, skip_nonfinite)
        finally:
            lock.release()

    def _apply(self, buf: FlatBuffer, unused: list | None) -> None:
        opt = self.model.optimizer
        for v, g in zip(buf.variables, buf.grads):
            v.grad = g  # what the tape leaves there, for callbacks such as GradientMonitor
        if unused:
            used = [i for i in range(len(buf.variables)) if i not in unused]
            opt.apply([buf.grads[i] for i in used], [buf.variables[i] for i in used])
        else:
            opt.apply_flat(buf)

    def _train_general(self, entry: _Entry | None, xs: list, ys: list, sws: list | None,
                       variables: list, buf: FlatBuffer | None, skip_nonfinite: bool) -> tuple:
        model = self.model
        for v in variables:
            v.grad = None
        fx = [Tensor(a) for a in xs]
        fy = [Tensor(a) for a in ys]
        fw = [Tensor(a) for a in sws] if sws is not None else []

        def body() -> tuple:
            preds = model._forward(fx, training=True)
            loss, per_output = model._compute_loss(fy, preds, fw or None, fx, training=True)
            return preds, loss, per_output

        recording = entry is not None and entry.reason is None
        if recording:
            (preds, loss, per_output), rec = capture.trace(body, fx + fy + fw)
        else:
            preds, loss, per_output = body()
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise ValueError(
                f"The loss of model {model.name!r} does not depend on any trainable weight, so "
                "there is nothing to train (are all layers frozen?). Received: loss that "
                "requires no gradient"
            )
        # Keras: the optimizer's scale_loss, then apply divides the gradients by the factor
        backward_for_training(loss, _loss_scale(model.optimizer))
        value = float(loss.data)
        per_output_values = [float(t.data) for t in per_output]
        masked = model._metric_masks(preds)
        if recording:
            self._record(entry, rec, preds + [loss] + per_output + [m for _, m in masked], loss,
                         variables)
            entry.masked = tuple(i for i, _ in masked)
        if self.gradient_reducer is not None:
            value = self.gradient_reducer.reduce_taped(variables, value)
        if not skip_nonfinite or self._finite(value, None, self._guarded(variables)):
            self._apply_taped(variables, buf)
        else:
            self.skipped = True
        return value, self._tape_masks(preds, masked), per_output_values

    def _guarded(self, grads: Any) -> Any:
        """The gradients the non-finite guard checks: none when the optimizer skips steps with
        non-finite gradients itself (a LossScaleOptimizer halves its scale then), so that only
        a non-finite loss stops ``fit``."""
        return None if getattr(self.model.optimizer, "_skips_nonfinite_gradients", False) else grads

    @staticmethod
    def _finite(value: float, buf: FlatBuffer | None, variables: list | None) -> bool:
        """Whether the loss and every gradient are finite (the guard of ``on_nan``).

        :func:`chainrule.backend.all_finite` of each gradient array: one dot product of
        the array with itself (BLAS makes it the cheapest pass), an element-wise check
        only where that is not finite.
        """
        if not math.isfinite(value):
            return False
        if buf is not None:
            grads = buf.grad.values()  # one 1-D array per dtype
        else:
            grads = [v.grad for v in variables or [] if v.grad is not None]
        for g in grads:
            if not backend.all_finite(g):
                return False
        return True

    def _apply_taped(self, variables: list, buf: FlatBuffer | None) -> None:
        """The update after a taped step: over the flat buffer, as a replay does, when it can."""
        grads, used = [], []
        for v in variables:
            if v.grad is not None:
                grads.append(v.grad)
                used.append(v)
        if buf is not None and len(used) == len(buf.variables) and buf.holds(variables):
            for g, dst in zip(grads, buf.grads):
                dst[...] = g
            self._apply(buf, None)
        elif used:
            self.model.optimizer.apply(grads, used)

    def _record(self, entry: _Entry, rec: Any, outputs: list, loss: Any, variables: list) -> None:
        if entry.first is None:
            if rec.problem is not None:  # known from one trace: no need for a second
                self._give_up(entry, rec.problem)
                return
            rec.condense(variables)  # what the comparison needs, not the step's arrays
            entry.first = rec
            return
        try:
            program = capture.Program.from_traces(entry.first, rec, outputs, loss, variables)
        except capture.NotCapturable as e:
            self._give_up(entry, str(e))
            return
        entry.first = None
        if loss is not None:
            reached = {t for _, _, targets in program.bwd for _, k, t in targets if k == 2}
            entry.unused = [i for i in range(len(variables)) if i not in reached] or None
        entry.program = program
        entry.version = self._version()

    # -- evaluation and prediction -----------------------------------------------------------
    def test(self, xs: list, ys: list, sws: list | None) -> tuple:
        """The loss, predictions and per-output losses of one batch in inference mode."""
        if not capture.in_inference_pass():  # a lone step: the weights may have changed
            capture.new_inference_generation()
        model = self.model
        xs = self.feeds(xs)
        feeds = xs + list(ys) + (list(sws) if sws is not None else [])
        lock = self._lock
        if not model._jit_compile or not lock.acquire(blocking=False):
            return self._test_general(None, xs, ys, sws)
        try:
            entry = self._entry("test", feeds)
            if entry.program is not None:
                out = self._keep_masks(entry, entry.program.run(feeds))
                n_out = len(model._loss_fns)
                return float(out[n_out]), out[:n_out], [float(v) for v in out[n_out + 1:]]
            return self._test_general(entry, xs, ys, sws)
        finally:
            lock.release()

    def _test_general(self, entry: _Entry | None, xs: list, ys: list, sws: list | None) -> tuple:
        model = self.model
        fx, fy = [Tensor(a) for a in xs], [Tensor(a) for a in ys]
        fw = [Tensor(a) for a in sws] if sws is not None else []

        def body() -> tuple:
            preds = model._forward(fx, training=False)
            loss, per_output = model._compute_loss(fy, preds, fw or None, fx, training=False)
            return preds, loss, per_output

        with no_grad():
            if entry is not None and entry.reason is None:
                (preds, loss, per_output), rec = capture.trace(body, fx + fy + fw)
                masked = model._metric_masks(preds)
                self._record(entry, rec, preds + [loss] + per_output + [m for _, m in masked],
                             None, [])
                entry.masked = tuple(i for i, _ in masked)
            else:
                preds, loss, per_output = body()
                masked = model._metric_masks(preds)
        return (float(loss.data), self._tape_masks(preds, masked),
                [float(t.data) for t in per_output])

    # -- the outputs' masks, for the compiled metrics ------------------------------------------
    # ``last_masks`` is ``(predictions, {output index: mask array})`` of the latest train or
    # test step; the model's metric update takes the masks of the predictions it is given.
    last_masks: tuple = ((), {})

    def _keep_masks(self, entry: _Entry, out: list) -> list:
        """A replay's outputs without the masks it returns last (kept in ``last_masks``)."""
        k = len(entry.masked)
        if not k:
            self.last_masks = ((), {})
            return out
        preds = out[:len(self.model._loss_fns)]
        self.last_masks = (preds, dict(zip(entry.masked, out[-k:])))
        return out[:-k]

    def _tape_masks(self, preds: list, masked: list) -> list:
        """The predictions' arrays, their masks kept in ``last_masks``."""
        arrays = [p.data for p in preds]
        self.last_masks = (arrays, {i: m.data for i, m in masked})
        return arrays

    def predict(self, xs: list) -> list:
        """The model's outputs for one batch in inference mode, as arrays."""
        if not capture.in_inference_pass():  # a lone step: the weights may have changed
            capture.new_inference_generation()
        model = self.model
        xs = self.feeds(xs)
        lock = self._lock
        if not model._jit_compile or not lock.acquire(blocking=False):
            return self._predict_general(None, xs)
        try:
            entry = self._entry("predict", xs)
            if entry.program is not None:
                return entry.program.run(xs)
            return self._predict_general(entry, xs)
        finally:
            lock.release()

    def _predict_general(self, entry: _Entry | None, xs: list) -> list:
        model = self.model
        fx = [Tensor(a) for a in xs]
        with no_grad():
            if entry is not None and entry.reason is None:
                preds, rec = capture.trace(lambda: model._forward(fx, training=False), fx)
                self._record(entry, rec, list(preds), None, [])
            else:
                preds = model._forward(fx, training=False)
        return [p.data for p in preds]

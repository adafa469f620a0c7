"""Loss and metric resolution: what ``compile`` makes of its arguments, and the running totals.

Keras's ``compile_utils`` split: ``compile`` resolves names into loss, metric
and optimizer objects once; the step (``step.py``) computes the loss with
:meth:`CompileMixin._compute_loss`; the loop (``trainer.py``) tracks it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from chainrule.autograd.engine import Tensor  # noqa: F401  (type of the loss)

__all__ = ["CompileMixin", "MeanTracker", "metrics_error"]


class MeanTracker:
    """A running weighted mean (the loss shown in the progress bar and history)."""

    __slots__ = ("name", "total", "count")

    def __init__(self, name: str) -> None:
        self.name, self.total, self.count = name, 0.0, 0.0

    def update_state(self, value: Any, sample_weight: Any = 1.0) -> None:
        """Add ``value`` (a float, or a scalar tensor from a custom ``train_step``) with a weight."""
        if not isinstance(value, float):
            value = float(np.asarray(getattr(value, "data", value)))
        self.total += value * sample_weight
        self.count += sample_weight

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        self.total = self.count = 0.0



class CompileMixin:
    """``compile`` and the losses and metrics it resolves (mixed into :class:`Trainer`)."""

    # -- compile -----------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True, **kwargs: Any) -> None:
        """Configure the model for training.

        Args:
            optimizer: name (``'adam'``, ``'sgd'``, ...) or optimizer instance.
            loss: name, function or ``Loss`` instance; a list or dict for several outputs.
            loss_weights: optional list/dict weighting each output's loss.
            metrics: list of names/functions/``Metric`` objects (or a dict per output).
                History keys are the names you write (``'acc'`` → ``acc``, ``val_acc``).
            weighted_metrics: metrics that use ``sample_weight``.
            jit_compile: ``'auto'`` (default): after two steps on the general path
                (layers, ops, tape) that record the same ops, ``fit``, ``evaluate`` and
                ``predict`` replay the recorded ops on raw arrays for every later batch
                of the same shapes (the same arithmetic without the tape); a model whose
                steps differ from batch to batch stays on the tape. True: the same, but
                a model that cannot be captured raises a ``ValueError`` naming the layer
                and the reason. False: always the layers and the tape.
            run_eagerly, steps_per_execution, auto_scale_loss: accepted for Keras
                compatibility.

        Raises:
            ValueError: for unknown optimizer, loss or metric names (with close matches).
            TypeError: for unknown keyword arguments.

        Example:
            >>> import chainrule as cr
            >>> model = cr.models.Sequential([cr.layers.Dense(1, input_dim=2)])
            >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments: {sorted(kwargs)}. "
                            f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}")
        from chainrule import losses as losses_lib  # noqa: PLC0415
        from chainrule import optimizers  # noqa: PLC0415

        self.optimizer = optimizers.get(optimizer)
        if loss is None and not _may_add_own_loss(self):
            raise ValueError("compile() needs a loss, e.g. loss='mse' for regression or "
                             "loss='sparse_categorical_crossentropy' for classes. Received: loss=None")
        self.loss = loss
        n_out = self._num_outputs()
        if loss is None:  # the model's own layers add the loss (add_loss), or its train_step does
            self._loss_fns = [None] * n_out
        else:
            self._loss_fns = self._resolve_per_output(loss, n_out, "loss", _get_loss)
        self._loss_weights = self._resolve_loss_weights(loss_weights, n_out)
        self._metric_specs = (metrics, weighted_metrics)
        for spec in _flatten_specs(metrics) + _flatten_specs(weighted_metrics):
            if isinstance(spec, str) and spec.lower() not in ("accuracy", "acc"):
                from chainrule import metrics as metrics_lib  # noqa: PLC0415

                try:  # unknown names fail now, not at the first batch
                    metrics_lib.get(spec)
                except ValueError:
                    try:
                        losses_lib.get(spec)
                    except ValueError:
                        raise metrics_error(spec) from None
        self._metrics = None
        # Keras logs "<output>_loss" for each output that has a loss, when more than one has
        named = [name for name, fn in zip(self._output_names(), self._loss_fns) if fn is not None]
        self._output_loss_trackers = ([MeanTracker(f"{name}_loss") for name in named]
                                      if len(named) > 1 else [])
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto'. "
                             f"Received: jit_compile={jit_compile!r}")
        self._jit_compile = jit_compile
        self._step_factory().reset()
        self.compiled = True
        self._train_vars: list | None = None

    def _num_outputs(self) -> int:
        if getattr(self, "_functional", False):
            return len(self.outputs)
        return 1

    def _output_names(self) -> list[str]:
        if getattr(self, "_functional", False):
            return [t.node.layer.name for t in self.outputs]
        return ["output"]

    def _resolve_per_output(self, spec: Any, n_out: int, what: str, getter: Any) -> list:
        names = self._output_names()
        if isinstance(spec, dict):
            unknown = [k for k in spec if k not in names]
            if unknown:
                raise ValueError(f"{what} keys must be output names {names}. Received: {what} "
                                 f"keys {unknown}")
            return [getter(spec[k]) if k in spec else None for k in names]
        if isinstance(spec, (list, tuple)) and what == "loss":
            if len(spec) != n_out:
                raise ValueError(f"The model has {n_out} outputs but {len(spec)} losses were given. "
                                 f"Received: loss={spec!r}")
            return [getter(s) for s in spec]
        return [getter(spec)] * n_out

    def _resolve_loss_weights(self, loss_weights: Any, n_out: int) -> list | None:
        if loss_weights is None:
            return None
        if isinstance(loss_weights, dict):
            return [float(loss_weights.get(k, 1.0)) for k in self._output_names()]
        if isinstance(loss_weights, (int, float)):
            return [float(loss_weights)] * n_out
        if len(loss_weights) != n_out:
            raise ValueError(f"loss_weights needs one weight per output ({n_out}). "
                             f"Received: loss_weights={loss_weights!r}")
        return [float(w) for w in loss_weights]

    def _build_metrics(self, ys: list, preds: list) -> None:
        """Resolve metric names once shapes are known ('accuracy' depends on loss and shapes)."""
        from chainrule import metrics as metrics_lib  # noqa: PLC0415

        metrics, weighted = self._metric_specs
        names = self._output_names()
        out: list = []
        for i in range(len(names)):
            specs = _specs_for_output(metrics, names, i)
            wspecs = _specs_for_output(weighted, names, i)
            objs = []
            for spec, use_sw in [(s, False) for s in specs] + [(s, True) for s in wspecs]:
                obj = _make_metric(metrics_lib, spec, self._loss_fns[i], ys[i], preds[i])
                if len(names) > 1:
                    obj.name = f"{names[i]}_{obj.name}"
                taken = {m.name for m, _ in objs} | {m.name for group in out for m, _ in group}
                if obj.name in taken:
                    k = 1
                    while f"{obj.name}_{k}" in taken:
                        k += 1
                    obj.name = f"{obj.name}_{k}"
                objs.append((obj, use_sw))
            out.append(objs)
        self._metrics = out

    @property
    def metrics_names(self) -> list[str]:
        """The names in ``history.history`` and ``evaluate``'s results, in order."""
        names = ["loss"] + [t.name for t in self._output_loss_trackers]
        for objs in self._metrics or []:
            names += [m.name for m, _ in objs]
        from chainrule.layers.base import tracked_metrics  # noqa: PLC0415

        names += [m.name for m in tracked_metrics(self) if m.name not in names]
        return names

    @property
    def metrics(self) -> list:
        """The metric objects: the loss tracker (named ``loss``), each output's loss tracker,
        the compiled metrics (made at the first batch, when the shapes are known), then the
        ``Metric`` objects assigned as attributes of the model and its layers (Keras 3)."""
        out: list = [self._loss_tracker] + list(self._output_loss_trackers)
        for objs in self._metrics or []:
            out += [m for m, _ in objs]
        from chainrule.layers.base import tracked_metrics  # noqa: PLC0415

        out += [m for m in tracked_metrics(self) if not any(m is o for o in out)]
        return out

    def _compute_loss(self, ys: list, preds: list, sws: list | None, xs: list | None = None,
                      training: bool = True) -> tuple:
        """The total loss and, with several outputs, each output's own loss (Tensors).

        A model that overrides ``compute_loss`` (Keras 3 allows it) gets its own
        method called here, by the built-in steps, with the batch's inputs ``x`` (a
        distiller runs its teacher on them) and, where its signature takes it,
        ``training`` (as Keras's trainers do).
        """
        overrides = getattr(self, "_overrides", None)
        if overrides is not None and overrides("compute_loss"):
            n = len(preds)
            extra = {"training": training} if _takes_training(self.compute_loss) else {}
            loss = self.compute_loss(
                x=(xs[0] if len(xs) == 1 else xs) if xs else None,
                y=(ys[0] if n == 1 else ys) if ys else None,
                y_pred=preds[0] if n == 1 else preds,
                sample_weight=None if not sws else sws[0] if len(sws) == 1 else sws, **extra)
            return loss, []
        return self._compiled_loss(ys, preds, sws)

    def _compiled_loss(self, ys: list, preds: list, sws: list | None) -> tuple:
        """The compiled losses plus :attr:`losses`, and each output's own loss."""
        total = None
        per_output = []
        for i, (fn, y, p) in enumerate(zip(self._loss_fns, ys, preds)):
            if fn is None:
                continue
            sw = None if sws is None else sws[0] if len(sws) == 1 else sws[i]
            mask = getattr(p, "_keras_mask", None)
            if mask is not None:  # masked time steps are skipped, as Keras does
                sw = _masked_weights(mask, p, sw, getattr(fn, "reduction", None))
            li = fn(y, p, sample_weight=sw) if sw is not None else fn(y, p)
            if self._output_loss_trackers:
                per_output.append(li)
            if self._loss_weights is not None:
                li = li * self._loss_weights[i]
            total = li if total is None else total + li
        for extra in self.losses:  # add_loss values, then weight penalties (Keras 3's order)
            if extra.ndim:
                from chainrule import ops  # noqa: PLC0415

                extra = ops.sum(extra)
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(
                f"No loss to compute for model {self.name!r}: compile() was given no loss and "
                "no layer added one with add_loss(). Pass loss=... to compile(). Received: "
                "loss=None"
            )
        return total, per_output

    def _track_losses(self, value: float, per_output: list, n: int) -> None:
        self._loss_tracker.update_state(value, n)
        for tracker, v in zip(self._output_loss_trackers, per_output):  # outputs with a loss
            tracker.update_state(v, n)

    def _metric_masks(self, preds: list) -> list:
        """``(output index, mask)`` of the outputs that carry a mask, when there are compiled
        metrics to weigh with it (the step returns these masks beside the predictions)."""
        metrics, weighted = getattr(self, "_metric_specs", (None, None))
        if not (_flatten_specs(metrics) or _flatten_specs(weighted)):
            return []
        return [(i, m) for i, p in enumerate(preds)
                if (m := getattr(p, "_keras_mask", None)) is not None]

    def _update_metrics(self, ys: list, preds: list, sws: list | None) -> None:
        """Update the compiled metrics with target and prediction arrays.

        Where the step computed a mask for an output (``mask_zero=True``, ``Masking``),
        the mean metrics (accuracy, mae, a loss as a metric, ...) skip the masked steps:
        the mask is their 0/1 weight, times any sample weights (Keras's
        ``MeanMetricWrapper``). Other metrics (precision, AUC, ...) count every step, as
        in Keras.
        """
        if self._metrics is None:
            self._build_metrics(ys, preds)
        masks = self._masks_of(preds)
        for i, objs in enumerate(self._metrics):
            if not objs:
                continue
            y, p = ys[i], preds[i]
            for m, use_sw in objs:
                sw = None if not use_sw or sws is None else sws[0] if len(sws) == 1 else sws[i]
                if i in masks and _takes_mask(m):
                    sw = _mask_as_weights(masks[i], sw)
                m.update_state(y, p, sample_weight=sw)

    def _masks_of(self, preds: list) -> dict:
        """The masks the latest step computed for ``preds`` (``{output index: array}``)."""
        steps = getattr(self, "_steps", None)
        if steps is None:
            return {}
        arrays, masks = steps.last_masks
        if len(arrays) != len(preds) or any(a is not b for a, b in zip(arrays, preds)):
            return {}  # not the step's own predictions (a custom train_step's)
        return masks

    def _logs(self) -> dict:
        custom = getattr(self, "_custom_logs", None)
        if custom is not None:  # what a user's train_step/test_step returned last
            return dict(custom)
        logs = {"loss": self._loss_tracker.result()}
        for t in self._output_loss_trackers:
            logs[t.name] = t.result()
        for objs in self._metrics or []:
            for m, _ in objs:
                logs[m.name] = _to_py(m.result())
        from chainrule.layers.base import tracked_metrics  # noqa: PLC0415

        for m in tracked_metrics(self):  # Metric attributes of the model and its layers
            if m.name not in logs:
                logs[m.name] = _to_py(m.result())
        return logs

    def _reset_metrics(self) -> None:
        self._custom_logs = None
        self._loss_tracker.reset_state()
        for t in self._output_loss_trackers:
            t.reset_state()
        for objs in self._metrics or []:
            for m, _ in objs:
                m.reset_state()
        for m in self.metrics:  # a user's `metrics` property and tracked Metric attributes
            reset = getattr(m, "reset_state", None)
            if reset is not None:
                reset()


def _may_add_own_loss(model: Any) -> bool:
    """Whether a model compiled without a loss may still have one: a class or layer of the
    user's own (``add_loss`` in its ``call``), or its own ``train_step``."""
    from chainrule.layers.base import layer_tree  # noqa: PLC0415

    overrides = getattr(model, "_overrides", None)
    if overrides is not None and overrides("train_step"):
        return True
    return any(not type(layer).__module__.startswith("chainrule.") for layer in layer_tree(model))


def _masked_weights(mask: Any, pred: Any, sample_weight: Any, reduction: Any) -> Any:
    """Keras's ``apply_mask``: the output's mask as loss weights (``total / valid`` where
    valid, 0 where masked, for a mean; 0/1 otherwise), times any sample weights (ops, so a
    captured step replays it)."""
    from chainrule import ops  # noqa: PLC0415
    from chainrule.ops.rnn import mask_weights  # noqa: PLC0415

    w = mask_weights(mask, pred.dtype if pred.dtype.kind == "f" else "float32",
                     scale=reduction in (None, "mean", "sum_over_batch_size"))
    if sample_weight is None:
        return w
    sw = sample_weight if isinstance(sample_weight, Tensor) else Tensor(sample_weight)
    if sw.dtype != w.dtype:
        sw = ops.cast(sw, w.dtype)
    while sw.ndim < w.ndim:
        sw = ops.expand_dims(sw, -1)
    return w * sw


def _takes_mask(metric: Any) -> bool:
    """Whether Keras weighs ``metric``'s values with the output's mask (its mean metrics)."""
    from chainrule.metrics import MeanMetricWrapper  # noqa: PLC0415

    return isinstance(metric, MeanMetricWrapper)


def _mask_as_weights(mask: Any, sample_weight: Any) -> np.ndarray:
    """Keras's ``apply_mask`` with ``reduction='sum'``: the mask as 0/1 weights times any
    sample weights (per-sample weights reach every step of their sample)."""
    from chainrule import backend  # noqa: PLC0415

    w = np.asarray(backend.to_numpy(mask), dtype=np.float64)
    if sample_weight is None:
        return w
    sw = np.asarray(backend.to_numpy(getattr(sample_weight, "data", sample_weight)),
                    dtype=np.float64)
    while sw.ndim < w.ndim:
        sw = sw[..., None]
    return w * sw


def _to_py(v: Any) -> Any:
    if isinstance(v, (float, int)):
        return v
    if hasattr(v, "numpy"):  # a Tensor or a metric Variable from a user's result()
        v = v.numpy()
    arr = np.asarray(v)
    # a one-element result of any rank (F1Score over one class gives shape (1,)) logs as a float
    return float(arr.reshape(-1)[0]) if arr.size == 1 else arr


def _flatten_specs(spec: Any) -> list:
    if spec is None:
        return []
    if isinstance(spec, dict):
        out: list = []
        for v in spec.values():
            out.extend(_flatten_specs(v))
        return out
    if isinstance(spec, (list, tuple)):
        out = []
        for v in spec:
            out.extend(_flatten_specs(v) if isinstance(v, (list, tuple)) else [v])
        return out
    return [spec]


def _takes_training(method: Any) -> bool:
    """Whether a user's ``compute_loss`` has a ``training`` parameter (or ``**kwargs``)."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)


def _specs_for_output(spec: Any, names: list, i: int) -> list:
    if spec is None:
        return []
    if isinstance(spec, dict):
        v = spec.get(names[i], [])
        return list(v) if isinstance(v, (list, tuple)) else [v]
    if isinstance(spec, (list, tuple)) and len(spec) == len(names) > 1:
        # as Keras 3: with several outputs, a list with one entry per output gives output i
        # entry i (a metric, a list of metrics, or None for none)
        entry = spec[i]
        return [] if entry is None else list(entry) if isinstance(entry, (list, tuple)) \
            else [entry]
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, (list, tuple)) for s in spec):
        return list(spec[i]) if i < len(spec) else []
    # another flat list: every output gets each metric (tf.keras 2; Keras 3 raises)
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


def _get_loss(identifier: Any) -> Any:
    """A Loss object for any identifier (a plain function is wrapped, as Keras's compile does)."""
    from chainrule import losses as losses_lib  # noqa: PLC0415

    obj = losses_lib.get(identifier)
    if obj is None or isinstance(obj, losses_lib.Loss):
        return obj
    return losses_lib.LossFunctionWrapper(obj)


def _make_metric(metrics_lib: Any, spec: Any, loss_fn: Any, y: Any, p: Any) -> Any:
    try:
        return metrics_lib.resolve(spec, loss_fn, tuple(np.shape(y)), tuple(np.shape(p)))
    except ValueError:
        # a loss name used as a metric (metrics=['binary_crossentropy']) is tracked as its mean
        if not isinstance(spec, str):
            raise
        from chainrule import losses as losses_lib  # noqa: PLC0415

        try:
            fn = losses_lib.get(spec)
        except ValueError:
            raise metrics_error(spec) from None
        return metrics_lib.MeanMetricWrapper(fn, name=spec)


def metrics_error(spec: str) -> ValueError:
    from chainrule import metrics as metrics_lib  # noqa: PLC0415

    try:
        metrics_lib.get(spec)
    except ValueError as e:
        return e
    return ValueError(f"Unknown metric: {spec!r}. Received: metrics=[{spec!r}]")

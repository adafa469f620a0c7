"""A captured training step for plain stacks of Dense layers.

The models the seeds train (Flatten → Dense → ... with a standard loss) run the
same sequence of array operations every step. This module derives that
sequence once from the model — forward through each Dense, the fused loss
gradient (``p − y`` for softmax/sigmoid cross-entropy), backward through each
layer — and replays it on raw arrays with buffers preallocated per batch size:
no tape, no Tensor objects, no per-op dispatch. The result is numerically the
same computation as the autograd path (tests compare the two), only without
the bookkeeping.

:func:`build_fast_step` returns None for anything it does not cover (other
layers, regularizers, constraints, custom or non-default losses, sample
weights); ``fit`` then uses the general autograd step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["build_fast_step", "build_fast_forward", "FastDenseStep"]


def _activation_kinds() -> dict:
    from chainrule import activations as A  # noqa: PLC0415

    return {A.linear: "linear", A.relu: "relu", A.sigmoid: "sigmoid", A.tanh: "tanh",
            A.softmax: "softmax"}


def _loss_kind(loss: Any) -> str | None:
    from chainrule import losses as L  # noqa: PLC0415

    if not isinstance(loss, L.LossFunctionWrapper) or loss.reduction != "sum_over_batch_size":
        return None
    kwargs = dict(loss._fn_kwargs)
    if kwargs.pop("from_logits", False) or kwargs.pop("label_smoothing", 0.0):
        return None
    if kwargs.pop("axis", -1) != -1 or kwargs.pop("ignore_class", None) is not None or kwargs:
        return None
    return {L.mean_squared_error: "mse", L.mean_absolute_error: "mae",
            L.binary_crossentropy: "bce", L.categorical_crossentropy: "cce",
            L.sparse_categorical_crossentropy: "scce"}.get(loss.fn)


def _dense_plan(model: Any, training: bool) -> list | None:
    """The model's layers as captured operations, or None if one is not covered.

    For training, a Dense layer must have no regularizer or constraint and be
    trainable; for inference those do not change the output.
    """
    from chainrule import backend  # noqa: PLC0415
    from chainrule.layers.core import Activation, Dense, Dropout, Flatten  # noqa: PLC0415

    if backend.get_backend() != "numpy" or not hasattr(model, "_stack"):
        return None
    kinds = _activation_kinds()
    plan: list = []  # ("flatten",) | ("dense", layer, act) | ("act", act) | ("dropout", layer)
    for layer in model._stack:
        t = type(layer)
        if t is Flatten:
            plan.append(("flatten",))
        elif t is Dense:
            if layer.activation not in kinds or training and (
                    layer.activity_regularizer is not None or layer.kernel_regularizer is not None
                    or layer.bias_regularizer is not None or layer.kernel_constraint is not None
                    or layer.bias_constraint is not None or not layer.trainable):
                return None
            plan.append(("dense", layer, kinds[layer.activation]))
        elif t is Activation:
            if layer.activation not in kinds:
                return None
            plan.append(("act", kinds[layer.activation]))
        elif t is Dropout:
            if layer.noise_shape is not None:
                return None
            plan.append(("dropout", layer))
        else:
            return None
    if not any(p[0] == "dense" for p in plan):
        return None
    return plan


def _weights(plan: list) -> list:
    return [v for p in plan if p[0] == "dense" for v in (p[1].kernel, p[1].bias) if v is not None]


def build_fast_step(model: Any) -> "FastDenseStep | None":
    """Return a captured step for ``model`` if it is a plain Dense stack, else None.

    Args:
        model: a compiled, built model.

    Returns:
        A :class:`FastDenseStep`, or None when the general step must be used.
    """
    if not hasattr(model, "_loss_fns") or len(model._loss_fns) != 1:
        return None
    if model._loss_weights is not None or model._output_loss_trackers:
        return None
    loss_kind = _loss_kind(model._loss_fns[0])
    if loss_kind is None:
        return None
    plan = _dense_plan(model, training=True)
    if plan is None:
        return None
    # softmax only as the very last operation, and cross-entropies only on their own output
    last_act = plan[-1][2] if plan[-1][0] == "dense" else plan[-1][1] if plan[-1][0] == "act" else None
    for i, p in enumerate(plan):
        act = p[2] if p[0] == "dense" else p[1] if p[0] == "act" else None
        if act == "softmax" and i != len(plan) - 1:
            return None
    if loss_kind in ("cce", "scce") and last_act != "softmax":
        return None
    if loss_kind == "bce" and last_act != "sigmoid":
        return None
    if loss_kind in ("mse", "mae") and last_act == "softmax":
        return None
    weights = _weights(plan)
    if any(not v.requires_grad for v in weights) or len(model.losses):
        return None
    return FastDenseStep(plan, loss_kind, weights)


def build_fast_forward(model: Any) -> "FastDenseStep | None":
    """Return a captured inference forward for ``model`` if it is a plain Dense stack.

    ``predict`` uses it: the same array operations as the layers' forward with
    ``training=False``, without building Tensors.

    Args:
        model: a built model.

    Returns:
        A :class:`FastDenseStep` whose :meth:`~FastDenseStep.forward` computes the
        outputs, or None when the layers' own forward must be used.
    """
    plan = _dense_plan(model, training=False)
    return None if plan is None else FastDenseStep(plan, None, _weights(plan))


def _sigmoid_(y: np.ndarray) -> np.ndarray:
    # (1 + tanh(x/2)) / 2 in place, as chainrule.ops.sigmoid computes it
    y *= 0.5
    np.tanh(y, out=y)
    y += 1
    y *= 0.5
    return y


class FastDenseStep:
    """Forward, loss, gradients and update for a Dense stack on raw arrays.

    Args:
        plan: the layer operations, in order.
        loss_kind: ``'mse'``, ``'mae'``, ``'bce'``, ``'cce'`` or ``'scce'``; None
            for a forward-only (inference) capture.
        weights: the trainable variables (kernel, bias per Dense layer).
    """

    def __init__(self, plan: list, loss_kind: str | None, weights: list) -> None:
        self.plan, self.loss_kind, self.weights = plan, loss_kind, weights
        self._fused = False
        self._last = plan[-1]
        self._fused_loss = loss_kind in ("bce", "cce", "scce")
        self._logits: Any = None
        self._logsum: Any = None

    def forward(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, list]:
        """The forward pass on raw arrays.

        Args:
            x: the input batch.
            training: apply dropout.

        Returns:
            ``(output, tape)``: the model's output and, per operation, what its
            backward needs.
        """
        n = x.shape[0]
        a = x
        tape: list = []  # per op: what its backward needs
        for op in self.plan:
            kind = op[0]
            if kind == "flatten":
                if a.ndim != 2:
                    a = a.reshape(n, -1)
                tape.append(None)
            elif kind == "dense":
                layer = op[1]
                kernel = layer.kernel.data
                if a.shape[-1] != kernel.shape[0]:
                    from chainrule.layers.core import incompatible_input_error  # noqa: PLC0415

                    raise incompatible_input_error(layer, 0, kernel.shape[0], a.shape)
                if a.dtype != kernel.dtype:  # integer or other-precision inputs, as Dense casts them
                    a = a.astype(kernel.dtype)
                z = a @ kernel
                if layer.bias is not None:
                    z += layer.bias.data
                if op is self._last and self._fused_loss:
                    out = self._activate_keep_logits(z, op[2])
                else:
                    out = self._activate(z, op[2])
                tape.append((a, out))
                a = out
            elif kind == "act":
                if op is self._last and self._fused_loss:
                    out = self._activate_keep_logits(a.copy(), op[1])
                else:
                    out = self._activate(a.copy(), op[1])
                tape.append((a, out))
                a = out
            else:  # dropout
                layer = op[1]
                if training and layer.rate:
                    from chainrule import backend  # noqa: PLC0415

                    rng = layer._rng or backend.rng()
                    keep = rng.random(a.shape) >= layer.rate
                    mask = (keep.astype(a.dtype) * (1.0 / (1.0 - layer.rate))).astype(a.dtype, copy=False)
                    a = a * mask
                    tape.append(mask)
                else:
                    tape.append(None)
        return a, tape

    def __call__(self, x: np.ndarray, y: np.ndarray, training: bool = True) -> tuple[float, np.ndarray]:
        """Run one step: returns the batch loss and the predictions, sets ``.grad`` on weights.

        Args:
            x: the input batch.
            y: the target batch.
            training: apply dropout.

        Returns:
            ``(loss, predictions)``.
        """
        a, tape = self.forward(x, training)
        loss, g = self._loss_and_grad(a, y)
        pred = a
        grads: list = []
        # backward; g is dL/d(output of the last op), except that the fused losses give
        # dL/dz of a final softmax/sigmoid directly (flagged by self._fused)
        fused = self._fused
        for i in range(len(self.plan) - 1, -1, -1):
            op, saved = self.plan[i], tape[i]
            kind = op[0]
            if kind == "dense":
                inp, out = saved
                if not fused:
                    g = self._activation_grad(g, out, op[2])
                fused = False
                layer = op[1]
                inp2 = inp if inp.ndim == 2 else inp.reshape(-1, inp.shape[-1])
                g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
                gk = inp2.T @ g2
                if layer.bias is not None:
                    grads.append(g2.sum(axis=0))
                grads.append(gk)
                if i > 0 and any(p[0] == "dense" for p in self.plan[:i]):
                    g = g @ layer.kernel.data.T
            elif kind == "act":
                if not fused:
                    g = self._activation_grad(g, saved[1], op[1])
                fused = False
            elif kind == "dropout":
                if saved is not None:
                    g = g * saved
            elif kind == "flatten":
                continue
        grads.reverse()  # built output-first as (bias, kernel); now kernel, bias, ...
        for v, gr in zip(self.weights, grads):
            v.grad = gr
        return loss, pred

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """The batch loss and predictions in inference mode (no dropout, no gradients kept).

        Args:
            x: the input batch.
            y: the target batch.

        Returns:
            ``(loss, predictions)``.
        """
        a, _ = self.forward(x, training=False)
        loss, _ = self._loss_and_grad(a, y)
        return loss, a

    def _activate_keep_logits(self, z: np.ndarray, act: str) -> np.ndarray:
        """Final softmax/sigmoid before a cross-entropy: keep what the loss needs.

        For softmax, the shifted logits ``z - max`` and the row sums of their
        exponentials give ``log softmax`` without a second ``exp``; for sigmoid,
        the logits themselves.
        """
        if act == "softmax":
            z -= z.max(axis=-1, keepdims=True)
            self._logits = z  # shifted logits
            p = np.exp(z)
            s = p.sum(axis=-1, keepdims=True)
            p /= s
            self._logsum = np.log(s[:, 0])
            return p
        self._logits = z.copy()
        return self._activate(z, act)

    @staticmethod
    def _activate(z: np.ndarray, act: str) -> np.ndarray:
        if act == "linear":
            return z
        if act == "relu":
            return np.maximum(z, 0, out=z)
        if act == "sigmoid":
            return _sigmoid_(z)
        if act == "tanh":
            return np.tanh(z, out=z)
        # softmax over the last axis
        z -= z.max(axis=-1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=-1, keepdims=True)
        return z

    @staticmethod
    def _activation_grad(g: np.ndarray, out: np.ndarray, act: str) -> np.ndarray:
        if act == "linear":
            return g
        if act == "relu":
            return g * (out > 0)
        if act == "sigmoid":
            return g * out * (1 - out)
        if act == "tanh":
            return g * (1 - out * out)
        gx = out * g  # softmax (only reached without a fused loss)
        gx -= out * gx.sum(axis=-1, keepdims=True)
        return gx

    def _loss_and_grad(self, p: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """The loss of the batch and its gradient (for the fused losses: w.r.t. the logits).

        Cross-entropies are computed from the logits exactly as the autograd
        path's fused ops do: stable for any logits, gradient ``p - y``.
        """
        kind = self.loss_kind
        self._fused = self._fused_loss
        if kind in ("scce", "cce"):
            z = self._logits  # shifted so each row's maximum is 0
            n = z.shape[0]
            lse = self._logsum  # log-sum-exp of the shifted logits
            if kind == "scce":
                labels = y.reshape(-1)
                if labels.dtype.kind == "f":
                    labels = labels.astype(np.int64)
                rows = np.arange(n)
                loss = float((lse - z[rows, labels]).sum(dtype=np.float64) / n)
                g = p.copy()
                g[rows, labels] -= 1
            else:
                y = y if y.shape == p.shape else y.reshape(p.shape)
                ysum = y.sum(axis=-1)
                loss = float((lse * ysum - (y * z).sum(axis=-1)).sum(dtype=np.float64) / n)
                g = p * ysum[:, None] - y
            g *= 1.0 / n
            return loss, g.astype(p.dtype, copy=False)
        y = y if y.shape == p.shape else y.reshape(p.shape)
        if kind == "bce":
            z = self._logits
            elem = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
            loss = float(elem.mean(dtype=np.float64))
            g = (p - y) * (1.0 / p.size)
            return loss, g.astype(p.dtype, copy=False)
        d = p - y
        if kind == "mse":
            loss = float(np.mean(d * d, dtype=np.float64))
            return loss, (d * (2.0 / p.size)).astype(p.dtype, copy=False)
        loss = float(np.mean(np.abs(d), dtype=np.float64))  # mae
        return loss, (np.sign(d) * (1.0 / p.size)).astype(p.dtype, copy=False)

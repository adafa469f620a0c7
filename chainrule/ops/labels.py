"""Class labels and the cross-entropies on them, with Keras's ``ops`` signatures.

``one_hot`` and ``multi_hot`` are ops without gradient (a captured step encodes
each batch anew). The cross-entropies are compositions: from logits (or from
the output of ``softmax``/``sigmoid``, as Keras's TensorFlow backend does) they
use chainrule's fused, stable ops; from probabilities they clip to
``[epsilon, 1 - epsilon]`` and take the log, as Keras does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input, raw
from chainrule.ops.math import cast, clip, log
from chainrule.ops.nn import SoftmaxCrossEntropy, log_softmax, sigmoid_binary_cross_entropy
from chainrule.ops.reduce import max as _max
from chainrule.ops.reduce import sum as _sum
from chainrule.ops.shaping import reshape

__all__ = ["one_hot", "multi_hot", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy"]


class OneHot(Function):
    """Integer class ids to one-hot vectors along ``axis``; ids < 0 give all zeros."""

    differentiable = False

    def __init__(self, num_classes, axis, dtype):
        self.num_classes, self.axis, self.dtype = num_classes, axis, dtype

    def forward(self, x):
        if x.dtype.kind == "f":
            if x.size and not bool((x == np.floor(x)).all()):
                raise shape_error(f"one_hot: class ids must be integers. Received: x of dtype "
                                  f"{x.dtype} with non-integer values")
        elif x.dtype.kind not in "biu":
            raise shape_error(f"one_hot: class ids must be integers. Received: x of dtype {x.dtype}")
        ids = x.astype(np.intp).reshape(-1)
        c = self.num_classes
        if ids.size and int(ids.max()) >= c:
            bad = sorted({int(v) for v in ids[ids >= c][:10]})
            raise shape_error(f"one_hot: class ids must be < num_classes={c}. Received: class "
                              f"ids {bad}")
        out = np.zeros((ids.size, c), dtype=self.dtype)
        rows = np.arange(ids.size)
        valid = ids >= 0
        out[rows[valid], ids[valid]] = 1
        out = out.reshape(x.shape + (c,))
        if self.axis not in (-1, x.ndim):
            out = np.moveaxis(out, -1, self.axis)
        return out

    def backward(self, gy):
        return (None,)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None,
            sparse: bool = False) -> Tensor:
    """Encode integer class ids as one-hot vectors (a new axis of length ``num_classes``).

    Args:
        x: integer class ids of any shape (floats holding integers are accepted).
        num_classes: the number of classes.
        axis: where the class axis goes (default last).
        dtype: default ``floatx``.
        sparse: only dense tensors exist; True raises.

    Returns:
        A Tensor of shape ``x.shape`` with ``num_classes`` inserted at ``axis``; no
        gradient. A negative id gives a row of zeros.

    Raises:
        ValueError: for a class id >= ``num_classes``, or non-integer ids.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.one_hot([0, 2], 3)
        Tensor([[1., 0., 0.],
                [0., 0., 1.]], dtype=float32)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or \
            num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer. Received: "
                         f"num_classes={num_classes!r}")
    if sparse:
        raise ValueError("one_hot: chainrule tensors are dense. Received: sparse=True")
    x = as_input(x)
    nd = np.ndim(raw(x))
    if not -(nd + 1) <= axis <= nd:
        raise ValueError(f"one_hot: axis out of range for ids with {nd} dimensions. Received: "
                         f"axis={axis}")
    return OneHot(int(num_classes), int(axis), np.dtype(dtype or backend.floatx()))(x)


def multi_hot(inputs: Any, num_classes: int | None = None, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> Tensor:
    """Encode each row of class ids as one vector with a 1 for every id present.

    Args:
        inputs: integer ids, shape ``(batch, ids)`` (or ``(ids,)``).
        num_classes: the number of classes (``num_tokens`` is accepted as an alias).
        axis: where the class axis goes.
        dtype: default ``floatx``.
        sparse: only dense tensors exist; True raises.

    Returns:
        Shape ``(batch, num_classes)`` (or ``(num_classes,)``); no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.multi_hot([[0, 2], [1, 1]], 3)
        Tensor([[1., 0., 1.],
                [0., 1., 0.]], dtype=float32)
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise ValueError(f"multi_hot: unknown arguments. Received: {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required. Received: num_classes=None")
    inputs = as_input(inputs)
    reduction_axis = 1 if np.ndim(raw(inputs)) > 1 else 0
    return _max(one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse),
                axis=reduction_axis)


def _same_dtype(target: Any, like: Any) -> Any:
    dt = raw(like).dtype
    if raw(target).dtype == dt:
        return target
    return cast(target, dt) if isinstance(target, Tensor) else raw(target).astype(dt)


def _check_same_shape(target: Any, output: Any, op: str) -> None:
    ts, os_ = np.shape(raw(target)), np.shape(raw(output))
    if ts != os_:
        raise ValueError(f"{op}: target and output must have the same shape. Received: "
                         f"target.shape={ts}, output.shape={os_}")


def _logits_of(output: Any) -> Any:
    return getattr(output, "_logits", None) if isinstance(output, Tensor) else None


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Elementwise binary cross-entropy ``-(t log p + (1 - t) log(1 - p))`` (no mean).

    With ``from_logits`` (or when ``output`` is ``sigmoid``'s result) it is computed
    from the logits, stably; otherwise ``p`` is clipped to ``[epsilon, 1 - epsilon]``.

    Args:
        target: targets in [0, 1].
        output: probabilities (or logits), ``target``'s shape.
        from_logits: whether ``output`` holds logits.

    Returns:
        A Tensor of ``output``'s shape.

    Raises:
        ValueError: when the shapes differ.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.binary_crossentropy([1.0, 0.0], cr.Tensor([0.5, 0.5]))
        Tensor([0.6931472, 0.6931472], dtype=float32)
    """
    target, output = as_input(target), as_input(output)
    _check_same_shape(target, output, "binary_crossentropy")
    logits = _logits_of(output)
    if from_logits or logits is not None:
        z = output if from_logits else logits
        return sigmoid_binary_cross_entropy(z, _same_dtype(target, z))
    t = _same_dtype(target, output)
    eps = backend.epsilon()
    q = clip(output, eps, 1.0 - eps)
    return -(t * log(q) + (1.0 - t) * log(1.0 - q))


def _last(axis: int, nd: int, op: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -nd <= axis < nd:
        raise ValueError(f"{op}: axis out of range for output with {nd} dimensions. Received: "
                         f"axis={axis!r}")
    return int(axis) % nd


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> Tensor:
    """Cross-entropy ``-sum(t * log p, axis)`` for one-hot (or soft) targets.

    From logits (``from_logits``, or ``output`` made by ``softmax`` over the last axis)
    it is stable and its gradient is ``p - t``; from probabilities, ``output`` is
    renormalized along ``axis`` and clipped to ``[epsilon, 1 - epsilon]``.

    Args:
        target: one-hot or probability targets.
        output: probabilities (or logits), ``target``'s shape.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.

    Returns:
        A Tensor with ``axis`` removed.

    Raises:
        ValueError: when the shapes differ or ``axis`` is out of range.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.categorical_crossentropy([[0.0, 1.0]], cr.Tensor([[0.5, 0.5]]))
        Tensor([0.6931472], dtype=float32)
    """
    target, output = as_input(target), as_input(output)
    _check_same_shape(target, output, "categorical_crossentropy")
    nd = np.ndim(raw(output))
    ax = _last(axis, nd, "categorical_crossentropy")
    logits = _logits_of(output) if ax == nd - 1 else None
    if logits is not None or (from_logits and ax == nd - 1):
        z = output if from_logits else logits
        return SoftmaxCrossEntropy()(z, _same_dtype(target, z))
    t = _same_dtype(target, output)
    if from_logits:
        log_p = log_softmax(output, axis=ax)
    else:
        eps = backend.epsilon()
        log_p = log(clip(output / _sum(output, axis=ax, keepdims=True), eps, 1.0 - eps))
    return -_sum(t * log_p, axis=ax)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Cross-entropy ``-log p[target]`` for integer class targets.

    Args:
        target: class ids, shape ``output.shape[:-1]`` (or with a trailing 1).
        output: probabilities (or logits), classes along ``axis``.
        from_logits: whether ``output`` holds logits.
        axis: the class axis (the last one).

    Returns:
        A Tensor of ``target``'s shape.

    Raises:
        ValueError: when the shapes do not fit, or a class id is outside
            ``[0, classes)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sparse_categorical_crossentropy([1], cr.Tensor([[0.5, 0.5]]))
        Tensor([0.6931472], dtype=float32)
    """
    target, output = as_input(target), as_input(output)
    ts, os_ = np.shape(raw(target)), np.shape(raw(output))
    if len(os_) < 1:
        raise ValueError(f"sparse_categorical_crossentropy: output must have at least 1 "
                         f"dimension. Received: output.shape={os_}")
    nd = len(os_)
    ax = _last(axis, nd, "sparse_categorical_crossentropy")
    if ax != nd - 1:
        raise ValueError(f"sparse_categorical_crossentropy: the class axis must be the last "
                         f"one. Received: axis={axis}")
    if len(ts) == nd and ts[-1] == 1:
        target = reshape(target, ts[:-1])
        ts = ts[:-1]
    if ts != os_[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: target and output must have the same "
                         f"shape up to the last dimension. Received: target.shape={ts}, "
                         f"output.shape={os_}")
    if raw(target).dtype.kind not in "iu":
        target = cast(target, np.int64) if isinstance(target, Tensor) else \
            raw(target).astype(np.int64)
    logits = _logits_of(output)
    if from_logits or logits is not None:
        z = output if from_logits else logits
        return SoftmaxCrossEntropy()(z, target if isinstance(target, Tensor) else Tensor(target))
    eps = backend.epsilon()
    log_p = log(clip(output / _sum(output, axis=-1, keepdims=True), eps, 1.0 - eps))
    t = one_hot(target, os_[-1], dtype=raw(output).dtype)
    return -_sum(t * log_p, axis=-1)

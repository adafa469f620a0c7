"""Loss functions and Loss classes with Keras 3's names, defaults and numbers.

Two forms, as in Keras:

- **functions** (``mean_squared_error``, ``categorical_crossentropy``, ...)
  take ``(y_true, y_pred)`` and return one loss per sample: the last axis is
  reduced (averaged, or summed for cross-entropies), so a batch of shape
  ``(batch, d)`` gives shape ``(batch,)``;
- **classes** (``MeanSquaredError``, ``CategoricalCrossentropy``, ...) are
  called as ``loss(y_true, y_pred, sample_weight=None)`` and reduce those
  per-sample losses to the one number that training minimizes.

Reductions (Keras 3): ``"sum_over_batch_size"`` (the default) divides the
weighted sum by the *number of loss elements*, not by the sum of the weights;
``"mean"`` is the same; ``"sum"`` is the weighted sum;
``"mean_with_sample_weight"`` divides by the sum of the weights; ``"none"`` or
None returns the weighted per-sample losses.

Cross-entropies on probabilities clip them to ``[eps, 1 - eps]`` with
``eps = chainrule.backend.epsilon()`` (1e-7), as Keras does. When ``y_pred``
comes straight out of a softmax (last axis) or a sigmoid, the loss is computed
from the logits with one fused op instead: finite for any logits, with
gradient exactly ``p - y``.

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule import losses
    >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(float(losses.CategoricalCrossentropy()(y_true, y_pred)), 4)
    1.1769
    >>> losses.get("mse") is losses.mean_squared_error
    True
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule._registry import Registry
from chainrule.autograd import engine as _engine
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.nn import MeanSquaredDifference
from chainrule.ops.nn import Sigmoid as _SigmoidOp
from chainrule.ops.nn import Softmax as _SoftmaxOp
from chainrule.ops.nn import SoftmaxCrossEntropy as _SoftmaxCE

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "Reduction",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "check_targets",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]

_LOG2 = math.log(2.0)

# -- input handling ------------------------------------------------------------


def _pred(y_pred: Any) -> Tensor:
    """``y_pred`` as a floating Tensor; a float Tensor is returned as is (keeps ``_logits``)."""
    if isinstance(y_pred, Tensor):
        if y_pred.data.dtype.kind == "f":
            return y_pred
        return Tensor(y_pred.data.astype(backend.floatx()))
    t = Tensor(y_pred)
    if t.data.dtype.kind != "f":
        t.data = t.data.astype(backend.floatx())
    return t


def _true(y_true: Any, dtype: Any) -> Tensor:
    """``y_true`` as a Tensor of ``dtype`` (a differentiable cast when it needs grad)."""
    if isinstance(y_true, Tensor):
        if y_true.data.dtype == dtype:
            return y_true
        return ops.cast(y_true, dtype)  # an op, so a captured step casts each new batch
    t = Tensor(y_true)
    if t.data.dtype != dtype:
        t.data = t.data.astype(dtype)
    return t


def _reshape(x: Any, shape: tuple) -> Any:
    return ops.reshape(x, shape) if isinstance(x, Tensor) else x.reshape(shape)


def _squeeze_or_expand(a: Any, b: Any) -> tuple:
    """Make ranks equal when they differ by a trailing axis of length 1 (Keras's rule).

    A rank-1 operand is expanded to ``(n, 1)``; otherwise the trailing 1 of the
    other operand is squeezed. Works on Tensors and on arrays.
    """
    ra, rb = len(a.shape), len(b.shape)
    if ra == rb + 1 and a.shape[-1] == 1:
        if rb == 1:
            b = _reshape(b, tuple(b.shape) + (1,))
        else:
            a = _reshape(a, tuple(a.shape[:-1]))
    elif rb == ra + 1 and b.shape[-1] == 1:
        if ra == 1:
            a = _reshape(a, tuple(a.shape) + (1,))
        else:
            b = _reshape(b, tuple(b.shape[:-1]))
    return a, b


def _shape_mismatch(name: str, true_shape: tuple, pred_shape: tuple) -> ValueError:
    return ValueError(
        f"{name}: y_true and y_pred must have the same shape. "
        f"Received: y_true.shape={tuple(true_shape)}, y_pred.shape={tuple(pred_shape)}"
    )


def _broadcast_mismatch(name: str, true_shape: tuple, pred_shape: tuple) -> ValueError:
    return ValueError(
        f"{name}: y_true and y_pred must have the same shape or shapes that broadcast together "
        "(after a trailing axis of length 1 is squeezed or added). "
        f"Received: y_true.shape={tuple(true_shape)}, y_pred.shape={tuple(pred_shape)}"
    )


def _broadcasts(a: tuple, b: tuple) -> bool:
    """Whether shapes ``a`` and ``b`` broadcast together (NumPy's rule)."""
    if a == b:
        return True
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _pair(y_true: Any, y_pred: Any, name: str) -> tuple:
    """Convert, align ranks, and check that the shapes broadcast together.

    Keras 3's rule for the elementwise losses (regression, hinge, Poisson,
    Kullback-Leibler, cosine): a trailing axis of length 1 is squeezed or
    added, then the two broadcast, so targets ``(batch, 10)`` against a
    ``(batch, 1)`` output compare every target with the one prediction.
    """
    p = _pred(y_pred)
    t = _true(y_true, p.data.dtype)
    t2, p2 = _squeeze_or_expand(t, p)
    if not _broadcasts(tuple(t2.shape), tuple(p2.shape)):
        raise _broadcast_mismatch(name, t.shape, p.shape)
    return t2, p2


def _class_axis(axis: Any, ndim: int, name: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        # ValueError, as Keras raises for a bool axis
        raise ValueError(f"{name}: axis must be an integer. Received: axis={axis!r}")  # noqa: TRY004
    if ndim < 1:
        raise ValueError(
            f"{name}: y_pred needs a class axis (at least 1 dimension). Received: y_pred.shape=()"
        )
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: axis {axis} is out of range for y_pred with {ndim} dimensions. "
            f"Received: axis={axis}"
        )
    return int(axis) % ndim


def _check_smoothing(label_smoothing: Any) -> float:
    if (
        isinstance(label_smoothing, bool)
        or not isinstance(label_smoothing, numbers.Real)
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            f"label_smoothing must be a number in [0, 1]. Received: label_smoothing={label_smoothing!r}"
        )
    return float(label_smoothing)


def _check_delta(delta: Any) -> float:
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ValueError(f"delta must be a positive number. Received: delta={delta!r}")
    return float(delta)


def _logits_of(y_pred: Any, kind: str) -> Tensor | None:
    """The logits behind a softmax (``kind="softmax"``) or sigmoid output, or None.

    ``ops.softmax`` (last axis) and ``ops.sigmoid`` leave ``_logits`` on their
    output. Both set the same attribute, so check which op made the tensor: on
    the tape its creator says so; off the tape (under ``no_grad``) one row is
    recomputed, which costs O(classes).
    """
    z = getattr(y_pred, "_logits", None)
    if z is None:
        return None
    op = y_pred.creator
    if op is None and _engine._recorder is not None:  # a traced step knows it under no_grad too
        op = _engine._recorder.creator_of(y_pred)
    if op is not None:
        return z if type(op) is (_SoftmaxOp if kind == "softmax" else _SigmoidOp) else None
    y, zd = y_pred.data, z.data
    if y.size == 0 or y.shape != zd.shape:
        return None
    n = y.shape[-1] if y.ndim else 1
    y0, z0 = y.reshape(-1, n)[0], zd.reshape(-1, n)[0]
    if kind == "softmax":
        e = backend.xp.exp(z0 - z0.max())
        ref = e / e.sum()
    else:
        ref = 0.5 * (1.0 + backend.xp.tanh(0.5 * z0))
    return z if bool(backend.xp.allclose(ref, y0, rtol=1e-4, atol=1e-6)) else None


def _warn_logits(name: str, op: str) -> None:
    warnings.warn(
        f"`{name}` received `from_logits=True`, but the `y_pred` argument was produced by a "
        f"{op} activation and thus does not represent logits. Computing the loss from the "
        "logits behind it. Was this intended?",
        stacklevel=3,
    )


# -- regression losses -----------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """Mean squared error per sample: ``mean((y_true - y_pred)^2, axis=-1)``.

    Gradient for ``y_pred``: ``2 (y_pred - y_true) / d`` with ``d`` the size of the last axis.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it
            (a trailing axis of length 1 on either side is squeezed or added
            first, as in Keras: targets ``(batch, 10)`` against predictions
            ``(batch, 1)`` average the 10 squared errors of each sample).

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together (both are named).

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        Tensor([0.5], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    if tuple(t.shape) == tuple(p.shape):  # one fused op: the same arithmetic, one backward
        return ops.mean_squared_difference(t, p)
    return ops.mean(ops.square(t - p), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """Mean absolute error per sample: ``mean(|y_true - y_pred|, axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]])
        Tensor([1.5], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(t - p), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> mean_absolute_percentage_error([[100.0, 200.0]], [[90.0, 210.0]]).numpy().round(4)
        array([7.5], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    diff = ops.abs((t - p) / ops.maximum(ops.abs(t), backend.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> mean_squared_logarithmic_error([[0.0]], [[math.e - 1]]).numpy().round(5)
        array([1.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    eps = backend.epsilon()
    first = ops.log(ops.maximum(p, eps) + 1.0)
    second = ops.log(ops.maximum(t, eps) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """``x / sqrt(max(sum(x^2), eps^2))`` along ``axis``: zero vectors stay zero."""
    eps = backend.epsilon()
    norm2 = ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), eps * eps)
    return x / ops.sqrt(norm2)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Negative cosine similarity: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``.

    Keras's sign convention: -1 means the vectors point the same way (the
    best value), 0 orthogonal, 1 opposite, so minimizing it aligns
    predictions with targets. A zero vector gives 0.

    Args:
        y_true: targets.
        y_pred: predictions, the same shape or one that broadcasts against it.
        axis: the axis along which the vectors lie.

    Returns:
        A Tensor with ``axis`` removed.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> loss = cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [-1.0, -1.0]])
        >>> loss.numpy().round(6)
        array([-0.,  1.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "cosine_similarity")
    return -ops.sum(_l2_normalize(t, axis) * _l2_normalize(p, axis), axis=axis)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Huber loss per sample: quadratic for small errors, linear for large ones.

    With ``e = y_pred - y_true``: ``0.5 e^2`` where ``|e| <= delta``, else
    ``delta |e| - 0.5 delta^2``; averaged over the last axis. The gradient is
    ``e`` inside and ``delta * sign(e)`` outside, so outliers pull no harder
    than ``delta``.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it.
        delta: where the loss changes from quadratic to linear (> 0).

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together or ``delta`` is not positive.

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]])
        Tensor([1.3125], dtype=float32)
    """
    delta = _check_delta(delta)
    t, p = _pair(y_true, y_pred, "huber")
    err = p - t
    abs_err = ops.abs(err)
    quadratic = 0.5 * ops.square(err)
    linear = delta * abs_err - 0.5 * delta * delta
    return ops.mean(ops.where(abs_err <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably.

    ``log(cosh(x)) = x + softplus(-2x) - log 2``: about ``x^2 / 2`` for small
    errors and ``|x| - log 2`` for large ones; the gradient is ``tanh(x)``.

    Args:
        y_true: targets, shape ``(batch, d0, ..., dN)``.
        y_pred: predictions, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).numpy().round(5)
        array([0.21689, 0.     ], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "log_cosh")
    x = p - t
    return ops.mean(x + ops.softplus(-2.0 * x) - _LOG2, axis=-1)


# -- hinge losses ----------------------------------------------------------------


def _hinge_labels(t: Tensor) -> Tensor:
    """Map {0, 1} labels to {-1, 1} (left alone when any label is something else)."""
    d = t.data
    if bool(((d == 0) | (d == 1)).all()):
        return 2.0 * t - 1.0
    return t


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Hinge loss per sample: ``mean(max(1 - y_true * y_pred, 0), axis=-1)``.

    Labels are -1 or 1; labels given as 0 or 1 are converted. The gradient for
    ``y_pred`` is ``-y_true / d`` where the margin ``y_true * y_pred`` is below 1, else 0.

    Args:
        y_true: labels in {-1, 1} or {0, 1}, shape ``(batch, d0, ..., dN)``.
        y_pred: scores, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> hinge([[1.0, 0.0]], [[0.5, -2.0]])
        Tensor([0.25], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "hinge")
    t = _hinge_labels(t)
    return ops.mean(ops.maximum(1.0 - t * p, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Squared hinge loss per sample: ``mean(max(1 - y_true * y_pred, 0)^2, axis=-1)``.

    Args:
        y_true: labels in {-1, 1} or {0, 1} (converted), shape ``(batch, d0, ..., dN)``.
        y_pred: scores, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> squared_hinge([[1.0, 0.0]], [[0.5, -2.0]])
        Tensor([0.125], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "squared_hinge")
    t = _hinge_labels(t)
    return ops.mean(ops.square(ops.maximum(1.0 - t * p, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Categorical hinge per sample: ``max(neg - pos + 1, 0)``.

    ``pos = sum(y_true * y_pred)`` is the true class's score and
    ``neg = max((1 - y_true) * y_pred)`` the best other score, both over the last axis.

    Args:
        y_true: one-hot labels, shape ``(batch, classes)``.
        y_pred: scores, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> categorical_hinge([[0.0, 1.0, 0.0]], [[0.2, 0.5, 0.1]])
        Tensor([0.7], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(t * p, axis=-1)
    neg = ops.max((1.0 - t) * p, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# -- probabilistic losses --------------------------------------------------------


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Kullback-Leibler divergence per sample: ``sum(y_true * log(y_true / y_pred), axis=-1)``.

    Both arguments are clipped to ``[eps, 1]`` first, as in Keras.

    Args:
        y_true: target distributions, shape ``(batch, classes)``.
        y_pred: predicted distributions, the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> kl_divergence([[0.5, 0.5]], [[0.5, 0.5]])
        Tensor([0.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "kl_divergence")
    eps = backend.epsilon()
    t = ops.clip(t, eps, 1.0)
    p = ops.clip(p, eps, 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Poisson loss per sample: ``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``.

    Args:
        y_true: observed counts, shape ``(batch, d0, ..., dN)``.
        y_pred: predicted rates (positive), the same shape or one that broadcasts against it.

    Returns:
        A Tensor of shape ``(batch, d0, ..., dN-1)``.

    Raises:
        ValueError: when the shapes do not broadcast together.

    Example:
        >>> poisson([[0.0]], [[2.0]])
        Tensor([2.], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "poisson")
    return ops.mean(p - t * ops.log(p + backend.epsilon()), axis=-1)


def _binary_pair(y_true: Any, y_pred: Any, logits: Tensor | None, label_smoothing: float,
                 name: str) -> tuple:
    """Targets (smoothed), predictions and their logits (or None), aligned to one shape."""
    p = _pred(y_pred)
    t0 = _true(y_true, p.data.dtype)
    t, p2 = _squeeze_or_expand(t0, p)
    if t.shape != p2.shape:
        raise _shape_mismatch(name, t0.shape, p.shape)
    if logits is not None and p2 is not p:
        logits = ops.reshape(logits, p2.shape)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return t, p2, logits


def _clipped_bce(t: Tensor, p: Tensor) -> Tensor:
    """Elementwise binary cross-entropy of probabilities clipped to ``[eps, 1 - eps]``."""
    eps = backend.epsilon()
    q = ops.clip(p, eps, 1.0 - eps)
    return -(t * ops.log(q) + (1.0 - t) * ops.log(1.0 - q))


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary cross-entropy, averaged over ``axis``.

    Elementwise ``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to
    ``[eps, 1 - eps]``. With ``from_logits=True``, or when ``y_pred`` is the
    output of ``sigmoid``, it is computed from the logits ``x`` as
    ``max(x, 0) - x y + log(1 + e^-|x|)``: stable for any ``x``, gradient
    ``sigmoid(x) - y``. Label smoothing replaces ``y`` by
    ``y (1 - label_smoothing) + 0.5 label_smoothing``.

    Args:
        y_true: targets in [0, 1], shape ``(batch, d0, ..., dN)``.
        y_pred: probabilities (or logits), the same shape.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; squeezes the targets towards 0.5.
        axis: the axis the mean is taken over.

    Returns:
        A Tensor with ``axis`` removed.

    Raises:
        ValueError: when the shapes differ or ``label_smoothing`` is outside [0, 1].

    Example:
        >>> loss = binary_crossentropy([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> loss.numpy().round(3)
        array([0.916, 0.714], dtype=float32)
    """
    label_smoothing = _check_smoothing(label_smoothing)
    logits = _logits_of(y_pred, "sigmoid")
    t, p2, logits = _binary_pair(y_true, y_pred, logits, label_smoothing, "binary_crossentropy")
    if logits is not None:
        if from_logits:
            _warn_logits("binary_crossentropy", "sigmoid")
        elementwise = ops.sigmoid_binary_cross_entropy(logits, t)
    elif from_logits:
        elementwise = ops.sigmoid_binary_cross_entropy(p2, t)
    else:
        elementwise = _clipped_bce(t, p2)
    return ops.mean(elementwise, axis=axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Categorical cross-entropy per sample, for one-hot (or soft) labels.

    ``-sum(y * log(p), axis)`` where ``p = y_pred / sum(y_pred)`` clipped to
    ``[eps, 1 - eps]``. With ``from_logits=True``, or when ``y_pred`` is the
    output of ``softmax``, it is computed from the logits ``z`` as
    ``-sum(y * log_softmax(z))``: stable for any ``z``, gradient ``p - y``.
    Label smoothing replaces ``y`` by ``y (1 - label_smoothing) + label_smoothing / classes``.

    Args:
        y_true: one-hot or probability labels, shape ``(batch, classes)``.
        y_pred: probabilities (or logits), the same shape.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
        axis: the class axis.

    Returns:
        A Tensor with the class axis removed, e.g. ``(batch,)``.

    Raises:
        ValueError: for integer class labels (use
            :func:`sparse_categorical_crossentropy` or
            ``chainrule.utils.to_categorical``), other shape mismatches, an
            invalid ``axis`` or ``label_smoothing``.

    Example:
        >>> categorical_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.95, 0.0]])
        Tensor([0.05129331], dtype=float32)
    """
    name = "categorical_crossentropy"
    label_smoothing = _check_smoothing(label_smoothing)
    raw = y_pred
    p = _pred(y_pred)
    ndim = p.ndim
    ax = _class_axis(axis, ndim, name)
    last = ax == ndim - 1
    logits = _logits_of(raw, "softmax") if last else None
    classes = p.shape[ax]
    true_shape = tuple(np.shape(y_true.data if isinstance(y_true, Tensor) else y_true))
    if last:
        _check_not_sparse(true_shape, tuple(p.shape))
    t0 = _true(y_true, p.data.dtype)
    t, p2 = _squeeze_or_expand(t0, p)
    if t.shape != p2.shape:
        raise _shape_mismatch(name, t0.shape, p.shape)
    if p2 is not p:
        logits, ndim = None, p2.ndim
        ax, last = ndim - 1, True
    if classes == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be "
            f"(batch_size, num_classes) with num_classes > 1. Received: y_pred.shape="
            f"{tuple(p.shape)}. Consider using 'binary_crossentropy' if you only have 2 classes.",
            stacklevel=2,
        )
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / classes
    if logits is not None:
        if from_logits:
            _warn_logits(name, "softmax")
        return ops.softmax_cross_entropy(logits, t)
    if from_logits:
        if last:
            return ops.softmax_cross_entropy(p2, t)
        log_prob = ops.log_softmax(p2, axis=ax)
    else:
        eps = backend.epsilon()
        out = p2 / ops.sum(p2, axis=ax, keepdims=True)
        log_prob = ops.log(ops.clip(out, eps, 1.0 - eps))
    return -ops.sum(t * log_prob, axis=ax)


def _check_not_sparse(true_shape: tuple, pred_shape: tuple) -> None:
    """Reject class indices given to categorical_crossentropy (class axis last)."""
    classes = pred_shape[-1]
    if classes > 1 and true_shape in (pred_shape[:-1], pred_shape[:-1] + (1,)):
        raise ValueError(
            f"categorical_crossentropy expects one-hot labels of shape {pred_shape}, "
            f"received integer class labels of shape {true_shape}. Use "
            'loss="sparse_categorical_crossentropy" or convert the labels with '
            f"chainrule.utils.to_categorical(y, num_classes={classes})."
        )


def _sparse_labels(y_true: Any, pred_shape: tuple, ax: int, ignore_class: Any) -> tuple:
    """Validate class labels and return ``(int labels, valid mask or None)``.

    Cheap on purpose (losses run every step): shape comparisons, one
    integrality test for float labels, one min and one max.
    """
    name = "sparse_categorical_crossentropy"
    y = y_true.data if isinstance(y_true, Tensor) else y_true
    if not hasattr(y, "dtype") or not hasattr(y, "shape"):
        y = backend.as_array(y)
    orig_shape = tuple(y.shape)
    pred_shape = tuple(pred_shape)
    classes = pred_shape[ax]
    expected = pred_shape[:ax] + pred_shape[ax + 1 :]
    if y.ndim == len(pred_shape) and y.ndim and y.shape[ax] == 1:
        y = y.reshape(orig_shape[:ax] + orig_shape[ax + 1 :])
    if tuple(y.shape) != expected:
        if orig_shape == pred_shape and classes > 1:
            batch = "(batch,)" if len(expected) == 1 else "(batch, " + ", ".join(
                str(n) for n in expected[1:]
            ) + ")"
            argmax = "-1" if ax == len(pred_shape) - 1 else str(ax)
            raise ValueError(
                f"{name} expects integer class labels of shape {batch}, received one-hot labels "
                f'of shape {orig_shape}. Use loss="categorical_crossentropy" or pass '
                f"y.argmax({argmax})."
            )
        raise ValueError(
            f"{name}: y_true needs one class index per sample, shape {expected}, for y_pred "
            f"of shape {pred_shape}. Received: y_true.shape={orig_shape}"
        )
    kind = y.dtype.kind
    if kind == "f":
        xp = backend.xp
        if y.size and not bool((y == xp.floor(y)).all()):
            bad = y[y != xp.floor(y)].reshape(-1)[:5]
            raise ValueError(
                f"{name} expects integer class labels. Received: y_true of dtype {y.dtype} "
                f"holding non-integer values such as {backend.to_numpy(bad).tolist()}. For "
                'one-hot or probability labels use loss="categorical_crossentropy".'
            )
    elif kind not in "biu":
        raise TypeError(
            f"{name} expects integer class labels. Received: y_true of dtype {y.dtype}"
        )
    labels = y if y.dtype == np.intp else y.astype(np.intp)
    valid = None
    if ignore_class is not None:
        valid = labels != int(ignore_class)
        labels = backend.xp.where(valid, labels, 0)
    # one reduction: as unsigned integers, negative labels are huge, so the maximum alone
    # tells whether every label is in [0, classes)
    if labels.size and (backend.xp is not np or int(np.maximum.reduce(
            labels.view(np.uintp), axis=None)) >= classes):
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= classes:
            out = labels[(labels < 0) | (labels >= classes)]
            bad = backend.to_numpy(backend.xp.unique(out))[:10].tolist()
            hint = (
                " Does the last layer have one unit per class, and do the labels start at 0?"
                if hi >= classes
                else ""
            )
            raise ValueError(
                f"{name}: class labels must be in [0, {classes}) for y_pred with {classes} "
                f"classes.{hint} Received: labels outside that range: {bad}"
            )
    return labels, valid


class _SparseLabels(Function):
    """Checked integer class labels from ``y_true`` (not differentiable).

    With ``ignore_class``, ignored labels become 0 (their losses are zeroed by
    :class:`_ValidLabels`'s mask); ``valid=True`` returns that mask instead.
    """

    differentiable = False

    def __init__(self, pred_shape: tuple, ax: int, ignore_class: Any = None,
                 valid: bool = False) -> None:
        self.pred_shape, self.ax = pred_shape, ax
        self.ignore_class, self.valid = ignore_class, valid
        shape = tuple(pred_shape)
        # the common case checked first: integer labels of the expected shape, nothing ignored
        self._plain = (None if ignore_class is not None or valid
                       else (shape[:ax] + shape[ax + 1:], shape[ax]))

    def forward(self, y: Any) -> Any:
        plain = self._plain
        if (plain is not None and type(y) is np.ndarray and y.dtype == np.intp
                and y.shape == plain[0] and (not y.size or int(np.maximum.reduce(
                    y.view(np.uintp), axis=None)) < plain[1])):
            return y  # what _sparse_labels returns for them, without its other checks
        try:
            return _sparse_labels(y, self.pred_shape, self.ax, self.ignore_class)[int(self.valid)]
        except ValueError as e:
            e._chainrule = True  # type: ignore[attr-defined]  # the message is already the user's
            raise

    def backward(self, gy: Any) -> tuple:
        return (None,)


def _sparse_ce(
    y_true: Any, y_pred: Any, from_logits: bool, ignore_class: Any, axis: int,
    mean: bool = False,
) -> tuple:
    """Per-sample sparse cross-entropy and the mask of labels not ignored (or None).

    With ``mean`` (and no ``ignore_class``), the mean over every sample instead,
    fused into the cross-entropy op where it is computed from the logits.
    """
    name = "sparse_categorical_crossentropy"
    raw = y_pred
    p = _pred(y_pred)
    ndim = p.ndim
    ax = _class_axis(axis, ndim, name)
    if isinstance(y_true, Tensor):
        # ops, so that a captured step checks and converts every new batch's labels
        labels = _SparseLabels(tuple(p.shape), ax, ignore_class)(y_true)
        valid = None if ignore_class is None else _SparseLabels(
            tuple(p.shape), ax, ignore_class, valid=True)(y_true)
    else:
        labels, valid = _sparse_labels(y_true, p.shape, ax, ignore_class)
    checked = True  # _sparse_labels checked the range: the fused op need not do it again
    if not isinstance(labels, Tensor):
        labels = Tensor(labels)
    logits = None
    if ax == ndim - 1:
        logits = _logits_of(raw, "softmax")
    else:  # move the class axis last
        perm = tuple(i for i in range(ndim) if i != ax) + (ax,)
        p = ops.transpose(p, perm)
    if logits is not None:
        if from_logits:
            _warn_logits(name, "softmax")
        res = _SoftmaxCE(checked, mean)(logits, labels)
        mean = False
    elif from_logits:
        res = _SoftmaxCE(checked, mean)(p, labels)
        mean = False
    else:
        # -log(clip(p[label] / sum(p))): Keras's renormalize-clip-log, on the picked entries.
        # picked by an op from the labels Tensor, so a captured step picks each batch's own
        classes = p.shape[-1]
        flat = p if p.ndim == 2 else ops.reshape(p, (-1, classes))
        idx = ops.reshape(labels, (-1, 1))
        picked = ops.reshape(ops.take_along_axis(flat, idx, axis=-1), (-1,))
        eps = backend.epsilon()
        prob = ops.clip(picked / ops.sum(flat, axis=-1), eps, 1.0 - eps)
        res = -ops.log(prob)
        if labels.ndim != 1:
            res = ops.reshape(res, tuple(labels.shape))
    if valid is not None:
        res = ops.where(valid, res, 0.0)
    if mean:
        res = ops.mean(res)
    return res, valid


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Categorical cross-entropy per sample, for integer class labels.

    ``-log(p[label])`` with ``p = y_pred / sum(y_pred)`` clipped to
    ``[eps, 1 - eps]``. With ``from_logits=True``, or when ``y_pred`` is the
    output of ``softmax``, it is computed from the logits: stable, gradient
    ``p - one_hot(label)``.

    Args:
        y_true: class indices of shape ``(batch,)`` or ``(batch, 1)``: integers,
            or floats holding integers.
        y_pred: probabilities (or logits), shape ``(batch, classes)``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value to leave out (loss 0, and not counted by the
            Loss class's default reduction), e.g. a "void" class.
        axis: the class axis of ``y_pred``.

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: for one-hot labels (use :func:`categorical_crossentropy`),
            non-integer labels, labels outside ``[0, classes)``, or other shape
            mismatches.

    Example:
        >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        Tensor([0.05129331, 2.3025851 ], dtype=float32)
    """
    return _sparse_ce(y_true, y_pred, from_logits, ignore_class, axis)[0]


def _align_shapes(a: tuple, b: tuple) -> tuple:
    """:func:`_squeeze_or_expand` on shapes."""
    if len(a) == len(b) + 1 and a[-1] == 1:
        return (a, b + (1,)) if len(b) == 1 else (a[:-1], b)
    if len(b) == len(a) + 1 and b[-1] == 1:
        return (a + (1,), b) if len(a) == 1 else (a, b[:-1])
    return a, b


def check_targets(loss: Any, y_true: Any, pred_shape: tuple) -> None:
    """Check a whole target array against a loss once, before training starts.

    The per-step checks only see one batch; this one sees every label, so a
    label out of range in the last batch of the epoch is reported before the
    first step. It costs one pass over the labels. Losses of your own are not
    checked.

    Args:
        loss: a loss function, a name, or a Loss (a built-in class or a
            :class:`LossFunctionWrapper` around a built-in function).
        y_true: all the targets, shape ``(samples, ...)``.
        pred_shape: the shape of the model's output for any batch (only the
            dimensions after the first are used).

    Raises:
        ValueError: with the same messages as the loss itself (one-hot labels
            for a sparse loss, class indices for ``categorical_crossentropy``,
            labels out of range, mismatched shapes).

    Example:
        >>> import numpy as np
        >>> check_targets("sparse_categorical_crossentropy", np.array([0, 1, 2]), (2, 3))
        >>> check_targets("sparse_categorical_crossentropy", np.array([0, 1, 3]), (2, 3))
        Traceback (most recent call last):
        ...
        ValueError: sparse_categorical_crossentropy: class labels must be in [0, 3) for y_pred with 3 classes. Does the last layer have one unit per class, and do the labels start at 0? Received: labels outside that range: [3]
    """
    if isinstance(loss, str):
        loss = get(loss)
    if isinstance(loss, LossFunctionWrapper) and loss.fn in _BUILTIN_FUNCTIONS:
        fn, kwargs = loss.fn, loss._fn_kwargs
    elif loss in _BUILTIN_FUNCTIONS:
        fn, kwargs = loss, {}
    else:
        return
    if fn in _OWN_TARGET_SHAPES:  # labels shaped unlike y_pred; the loss checks them itself
        return
    y = y_true.data if isinstance(y_true, Tensor) else y_true
    if not hasattr(y, "shape") or not hasattr(y, "dtype"):
        y = np.asarray(y)
    if y.ndim == 0 or len(pred_shape) == 0:
        return
    shape = (y.shape[0],) + tuple(pred_shape[1:])
    name = fn.__name__
    label_rank = y.ndim - (1 if y.ndim > 1 and y.shape[-1] == 1 else 0)
    expected_rank = label_rank + 1 if fn is sparse_categorical_crossentropy else max(y.ndim, 2)
    if len(shape) > 2 and len(shape) > expected_rank:
        raise ValueError(
            f"{name}: the model's output has shape {(None,) + tuple(shape[1:])} but the labels have "
            f"shape {tuple(y.shape)}: the output kept the input's extra dimensions. Did you forget "
            f"a Flatten layer? Received: y of shape {tuple(y.shape)}"
        )
    if fn is binary_crossentropy and not kwargs.get("from_logits") and y.size:
        outside = (y < 0) | (y > 1)
        if outside.any():
            bad = np.unique(y[outside])[:5].tolist()
            raise ValueError(
                "binary_crossentropy expects labels in [0, 1] (0/1 classes or probabilities). "
                "For more than two classes use sparse_categorical_crossentropy with a softmax "
                f"output of one unit per class. Received: labels outside that range: {bad}"
            )
    if fn is sparse_categorical_crossentropy:
        ax = _class_axis(kwargs.get("axis", -1), len(shape), name)
        _sparse_labels(y, shape, ax, kwargs.get("ignore_class"))
        return
    if fn is categorical_crossentropy:
        ax = _class_axis(kwargs.get("axis", -1), len(shape), name)
        if ax == len(shape) - 1:
            _check_not_sparse(tuple(y.shape), shape)
    t, p = _align_shapes(tuple(y.shape), shape)
    if fn in (binary_crossentropy, categorical_crossentropy):
        if t != p:
            raise _shape_mismatch(name, y.shape, shape)
    elif not _broadcasts(t, p):  # the elementwise losses broadcast, as in Keras
        raise _broadcast_mismatch(name, y.shape, shape)


# Keras's short names.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


# -- reduction -------------------------------------------------------------------


class Reduction:
    """The reduction names, as constants (tf.keras 2 spelled them this way).

    Keras 3 takes the strings directly; ``AUTO`` means ``SUM_OVER_BATCH_SIZE``.
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    MEAN = "mean"
    MEAN_WITH_SAMPLE_WEIGHT = "mean_with_sample_weight"

    @classmethod
    def all(cls) -> tuple:
        """Return every accepted reduction name."""
        return (
            cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE, cls.MEAN,
            cls.MEAN_WITH_SAMPLE_WEIGHT,
        )


_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _standardize_reduction(reduction: Any) -> str | None:
    if reduction == "auto":
        return "sum_over_batch_size"
    if not (reduction is None or isinstance(reduction, str)) or reduction not in _REDUCTIONS:
        raise ValueError(
            "Invalid value for argument reduction. Expected one of 'sum_over_batch_size', "
            f"'sum', 'mean', 'mean_with_sample_weight', 'none' or None. Received: "
            f"reduction={reduction!r}"
        )
    return reduction


def _fit_weights(sw: Any, shape: tuple) -> Any:
    """Let per-sample weights of shape (batch,) weight losses of shape (batch, ...)."""
    if sw.ndim < len(shape) and tuple(sw.shape) == tuple(shape[: sw.ndim]):
        sw = sw.reshape(tuple(sw.shape) + (1,) * (len(shape) - sw.ndim))
    try:
        np.broadcast_shapes(tuple(sw.shape), tuple(shape))
    except ValueError:
        raise ValueError(
            f"sample_weight must have one weight per sample (or broadcast to) the per-sample "
            f"losses of shape {tuple(shape)}. Received: sample_weight.shape={tuple(sw.shape)}"
        ) from None
    return sw


def _reduce_weighted(values: Any, sample_weight: Any, mask: Any, reduction: Any) -> Tensor:
    """Keras 3's ``reduce_weighted_values``: weight, mask, then reduce."""
    if not isinstance(values, Tensor):
        values = Tensor(values)
    dtype = values.data.dtype
    sw = None
    if isinstance(sample_weight, Tensor):
        # kept a Tensor (cast by an op), so a captured step weights each new batch
        sw = sample_weight if sample_weight.data.dtype == dtype else ops.cast(sample_weight, dtype)
    elif sample_weight is not None:
        # lists and numbers go straight to the losses' dtype (no float32 detour)
        sw = backend.as_array(sample_weight, dtype)
        if sw.dtype != dtype:
            sw = sw.astype(dtype)
    if mask is not None:
        from chainrule.ops.rnn import mask_weights  # noqa: PLC0415

        # valid entries weigh total/valid, so dividing by total divides by valid; an op, so
        # that a captured step counts each new batch's valid entries
        fmask = mask_weights(mask, dtype, scale=reduction in ("mean", "sum_over_batch_size"))
        if sw is not None:
            fmask, sw = _squeeze_or_expand(fmask, sw)
            sw = _fit_weights(sw, fmask.shape) * fmask
        else:
            sw = fmask
    if sw is not None:
        values, sw = _squeeze_or_expand(values, sw)
        sw = _fit_weights(sw, values.shape)
        values = values * sw
    return _reduce_values(values, sw, reduction)


def _reduce_values(values: Tensor, sw: Any, reduction: Any) -> Tensor:
    if reduction is None or reduction == "none" or values.shape in ((), (0,)):
        return values
    if reduction == "sum":
        return ops.sum(values)
    if reduction != "mean_with_sample_weight" or sw is None:
        if values.size == 0:  # Keras's divide_no_nan
            return ops.sum(values) * 0.0
        return ops.mean(values)
    # the sum of the weights, in an op: a captured step divides by each batch's own sum
    return _DivideNoNan()(ops.sum(values), ops.sum(sw if isinstance(sw, Tensor) else Tensor(sw)))


class _DivideNoNan(Function):
    """``a / b``, and 0 where ``b`` is 0 (Keras's ``divide_no_nan``), for scalars."""

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return backend.xp.where(b == 0, 0, a / backend.xp.where(b == 0, 1, b)).astype(a.dtype)

    def backward(self, gy: Any) -> tuple:
        xp, a, b = backend.xp, self.a, self.b
        safe = xp.where(b == 0, 1, b)
        ga = xp.where(b == 0, 0, gy / safe).astype(a.dtype)
        gb = xp.where(b == 0, 0, -gy * a / (safe * safe)).astype(b.dtype)
        return ga, gb


# -- Loss classes ----------------------------------------------------------------


def _snake_case(name: str) -> str:
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Loss:
    """Base class of losses: per-sample losses from :meth:`call`, then weighting and reduction.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses
    (a Tensor) using differentiable ops.

    Args:
        name: the loss's name (the snake-case class name by default).
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or None (``"auto"`` is
            read as the default).
        dtype: the float type to compute in; None keeps ``y_pred``'s float
            type (integer predictions become ``chainrule.config.floatx()``).

    Example:
        >>> import chainrule as cr
        >>> class MeanCubed(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return cr.ops.mean(cr.ops.abs(y_pred - y_true) ** 3, axis=-1)
        >>> float(MeanCubed()([[0.0, 0.0]], [[1.0, 2.0]]))
        4.5
    """

    #: whether ``__call__`` casts ``y_true`` to ``y_pred``'s dtype before ``call``.
    _cast_y_true = True

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string. Received: name={name!r}")
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        if dtype is not None and str(np.dtype(dtype)) not in ("float16", "float32", "float64"):
            raise ValueError(
                f"dtype must be a float type (float16, float32 or float64). Received: dtype={dtype!r}"
            )
        self.dtype = None if dtype is None else str(np.dtype(dtype))

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """Return the reduced loss.

        Args:
            y_true: targets (arrays or Tensors).
            y_pred: predictions (usually the model's output Tensor).
            sample_weight: optional weights, one per sample (shape ``(batch,)``)
                or one per loss element.

        Returns:
            A scalar Tensor, or per-sample losses for reduction ``"none"``/None.
        """
        p = _pred(y_pred)
        if self.dtype is not None and p.data.dtype != self.dtype:
            p = ops.cast(p, self.dtype) if p.requires_grad else Tensor(p.data.astype(self.dtype))
        if self._cast_y_true:
            y_true = _true(y_true, p.data.dtype)
        if sample_weight is None and self.reduction == "sum_over_batch_size":
            mean = self._mean_loss(y_true, p)
            if mean is not None:
                return mean
        losses, mask = self._losses_and_mask(y_true, p)
        return _reduce_weighted(losses, sample_weight, mask, self.reduction)

    def _mean_loss(self, y_true: Any, y_pred: Tensor) -> Tensor | None:
        """The mean of the per-sample losses as one fused op, where the loss has one.

        The same numbers as the per-sample losses followed by their mean (the
        default reduction), in one op with one backward; None: no such form.
        """
        return None

    def _losses_and_mask(self, y_true: Any, y_pred: Tensor) -> tuple:
        # the losses' own mask, as Keras reads it (e.g. circle's: the positive losses)
        losses = self.call(y_true, y_pred)
        return losses, getattr(losses, "_keras_mask", None)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """Return the per-sample losses; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict:
        """Return the constructor arguments (Keras's keys: ``name``, ``reduction``, ...)."""
        config = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        """Create a loss from the output of :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name} reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A :class:`Loss` made from a per-sample loss function.

    Args:
        fn: a function ``fn(y_true, y_pred, **kwargs)`` returning per-sample losses.
        reduction: see :class:`Loss`.
        name: the loss's name (``fn``'s name by default).
        dtype: see :class:`Loss`.
        **kwargs: passed to ``fn`` on every call.

    Example:
        >>> loss = LossFunctionWrapper(huber, delta=2.0)
        >>> float(loss([[0.0]], [[3.0]]))
        4.0
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be a function. Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs
        if fn is sparse_categorical_crossentropy:
            self._cast_y_true = False  # labels stay integers, as in the class form

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """Return ``fn(y_true, y_pred, **kwargs)`` (ranks aligned first for your own functions)."""
        if self.fn not in _BUILTIN_FUNCTIONS:  # built-ins align and check shapes themselves
            if not isinstance(y_true, Tensor):
                y_true = _true(y_true, y_pred.data.dtype)
            y_true, y_pred = _squeeze_or_expand(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _mean_loss(self, y_true: Any, y_pred: Tensor) -> Tensor | None:
        if self.fn is mean_squared_error:
            t, p = _pair(y_true, y_pred, "mean_squared_error")
            if (tuple(t.shape) != tuple(p.shape) or p.ndim < 2 or not p.size
                    or p.data.dtype not in (np.float32, np.float64)):
                return None
            return MeanSquaredDifference(mean=True)(t, p)
        if self.fn is not sparse_categorical_crossentropy:
            return None
        kw = self._fn_kwargs
        if kw.get("ignore_class") is not None:
            return None
        return _sparse_ce(y_true, y_pred, kw.get("from_logits", False), None, kw.get("axis", -1),
                          mean=True)[0]

    def get_config(self) -> dict:
        """Return ``name``, ``reduction``, the serialized ``fn`` and its keyword arguments."""
        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Loss:
        """Create the loss from :meth:`get_config`'s output (``fn`` looked up by name)."""
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


class _Builtin(LossFunctionWrapper):
    """A wrapper whose config is its constructor arguments (no ``fn`` entry).

    With ``_attributes`` true, each of ``_keys`` is also a public attribute
    holding the checked value passed to the function (as Keras's classes have).
    """

    _keys: tuple = ()
    _attributes = False

    def __init__(self, fn: Callable[..., Any], reduction: str | None, name: str, dtype: Any,
                 **kwargs: Any) -> None:
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        if self._attributes:
            for key in self._keys:
                setattr(self, key, self._fn_kwargs[key])

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        config.update({k: self._fn_kwargs[k] for k in self._keys})
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        args = "".join(f" {k}={self._fn_kwargs[k]!r}" for k in self._keys)
        return f"<{type(self).__name__} name={self.name} reduction={self.reduction}{args}>"


class MeanSquaredError(_Builtin):
    """Mean of squared errors, ``mean((y_true - y_pred)^2)``.

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"mean_squared_error"``.
        dtype: see :class:`Loss`.

    Example:
        >>> float(MeanSquaredError()([1.0, 0.0, 1.0], [0.9, 0.1, 0.8]))  # doctest: +ELLIPSIS
        0.0200...
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(_Builtin):
    """Mean of absolute errors, ``mean(|y_true - y_pred|)``.

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"mean_absolute_error"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(MeanAbsoluteError()([1.0, 0.3, 1.0], [1.9, 0.3, 1.8])), 6)
        0.566667
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(_Builtin):
    """``100 * mean(|(y_true - y_pred) / y_true|)`` (the divisor at least eps).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"mean_absolute_percentage_error"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(MeanAbsolutePercentageError()([100.0, 200.0, 300.0], [90.0, 210.0, 310.0])), 4)
        6.1111
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(_Builtin):
    """``mean((log(y_pred + 1) - log(y_true + 1))^2)`` (both at least eps).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"mean_squared_logarithmic_error"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(MeanSquaredLogarithmicError()([[0.0, 1.0]], [[1.0, 1.0]])), 5)
        0.24023
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class CosineSimilarity(_Builtin):
    """Negative cosine similarity (-1 is best): see :func:`cosine_similarity`.

    Args:
        axis: the axis along which the vectors lie.
        reduction: see :class:`Loss`.
        name: defaults to ``"cosine_similarity"``.
        dtype: see :class:`Loss`.

    Example:
        >>> float(CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]))  # doctest: +ELLIPSIS
        -0.499999...
    """

    _keys = ("axis",)

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: Any = None,
    ) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(_Builtin):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond (see :func:`huber`).

    Args:
        delta: where the loss turns linear (> 0).
        reduction: see :class:`Loss`.
        name: defaults to ``"huber_loss"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``delta`` is not positive.

    Example:
        >>> round(float(Huber()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 3)
        0.155
    """

    _keys = ("delta",)

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            huber, reduction=reduction, name=name, dtype=dtype, delta=_check_delta(delta)
        )


class LogCosh(_Builtin):
    """Logarithm of the hyperbolic cosine of the error (see :func:`log_cosh`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"log_cosh"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(LogCosh()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])), 3)
        0.108
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: Any = None,
    ) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(_Builtin):
    """Hinge loss ``max(1 - y_true * y_pred, 0)``, labels in {-1, 1} (or {0, 1}, converted).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"hinge"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(Hinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 2)
        1.3
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(_Builtin):
    """Squared hinge loss ``max(1 - y_true * y_pred, 0)^2`` (see :func:`squared_hinge`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"squared_hinge"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(SquaredHinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 2)
        1.86
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(_Builtin):
    """Categorical hinge ``max(neg - pos + 1, 0)`` (see :func:`categorical_hinge`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"categorical_hinge"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(CategoricalHinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 2)
        1.4
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(_Builtin):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` (see :func:`kl_divergence`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"kl_divergence"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(KLDivergence()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 3)
        0.458
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: Any = None,
    ) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(_Builtin):
    """Poisson loss ``y_pred - y_true * log(y_pred)`` (see :func:`poisson`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"poisson"``.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(Poisson()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])), 1)
        0.5
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: Any = None,
    ) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(_Builtin):
    """Binary cross-entropy for 0/1 targets (see :func:`binary_crossentropy`).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; squeezes the targets towards 0.5.
        axis: the axis the mean is taken over.
        reduction: see :class:`Loss`.
        name: defaults to ``"binary_crossentropy"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``label_smoothing`` is outside [0, 1].

    Example:
        >>> bce = BinaryCrossentropy(from_logits=True)
        >>> round(float(bce([[0.0, 1.0], [0.0, 0.0]], [[-18.6, 0.51], [2.94, -12.8]])), 4)
        0.8655
    """

    _keys = ("from_logits", "label_smoothing", "axis")
    _attributes = True

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=bool(from_logits), label_smoothing=_check_smoothing(label_smoothing),
            axis=axis,
        )


class CategoricalCrossentropy(_Builtin):
    """Cross-entropy for one-hot labels (see :func:`categorical_crossentropy`).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; the target becomes
            ``1 - label_smoothing + label_smoothing / classes``, the others
            ``label_smoothing / classes``.
        axis: the class axis.
        reduction: see :class:`Loss`.
        name: defaults to ``"categorical_crossentropy"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``label_smoothing`` is outside [0, 1].

    Example:
        >>> cce = CategoricalCrossentropy(reduction="sum")
        >>> round(float(cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])), 3)
        2.354
    """

    _keys = ("from_logits", "label_smoothing", "axis")
    _attributes = True

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=bool(from_logits), label_smoothing=_check_smoothing(label_smoothing),
            axis=axis,
        )


class SparseCategoricalCrossentropy(_Builtin):
    """Cross-entropy for integer class labels (see :func:`sparse_categorical_crossentropy`).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: a label value to leave out; under the default reduction
            the loss is averaged over the other samples only.
        reduction: see :class:`Loss`.
        axis: the class axis.
        name: defaults to ``"sparse_categorical_crossentropy"``.
        dtype: see :class:`Loss`.

    Example:
        >>> scce = SparseCategoricalCrossentropy()
        >>> round(float(scce([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])), 3)
        1.177
    """

    _keys = ("from_logits", "ignore_class", "axis")
    _cast_y_true = False  # labels stay integers: no float round trip every step

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        if ignore_class is not None and (
            isinstance(ignore_class, bool) or not isinstance(ignore_class, numbers.Integral)
        ):
            raise ValueError(
                f"ignore_class must be an integer or None. Received: ignore_class={ignore_class!r}"
            )
        super().__init__(
            sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=bool(from_logits),
            ignore_class=None if ignore_class is None else int(ignore_class), axis=axis,
        )
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class
        self.axis = axis

    def _losses_and_mask(self, y_true: Any, y_pred: Tensor) -> tuple:
        kw = self._fn_kwargs
        return _sparse_ce(y_true, y_pred, kw["from_logits"], kw["ignore_class"], kw["axis"])


# -- focal cross-entropies, Dice and Tversky ---------------------------------------


def _check_gamma(gamma: Any) -> float:
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, numbers.Real)
        or not 0.0 <= gamma < math.inf
    ):
        raise ValueError(f"gamma must be a number >= 0. Received: gamma={gamma!r}")
    return float(gamma)


def _check_unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


def _check_class_alpha(alpha: Any) -> Any:
    """A number, or one number per class (a list or tuple), each >= 0."""
    values = alpha if isinstance(alpha, (list, tuple)) else [alpha]
    ok = len(values) > 0 and all(
        not isinstance(a, bool) and isinstance(a, numbers.Real) and 0.0 <= a < math.inf
        for a in values
    )
    if not ok:
        raise ValueError(
            "alpha must be a number >= 0 or a list of them (one per class). "
            f"Received: alpha={alpha!r}"
        )
    return [float(a) for a in alpha] if isinstance(alpha, (list, tuple)) else float(alpha)


def _check_weight(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
        raise ValueError(f"{owner}: {name} must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _region_axis(axis: Any, ndim: int, name: str) -> Any:
    """``None``, an int or a sequence of ints, each a valid axis of ``ndim`` dimensions."""
    if axis is None:
        return None
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ValueError(
                f"{name}: axis must be None, an integer or a tuple of integers, each in "
                f"[-{ndim}, {ndim}) for inputs of {ndim} dimensions. Received: axis={axis!r}"
            )
    return tuple(int(a) for a in axes) if isinstance(axis, (list, tuple)) else int(axis)


def _focal_power(base: Tensor, gamma: float) -> Tensor:
    """``base ** gamma``; for gamma 0 the factor 1 itself (no 0 * inf slope at base 0)."""
    return base**gamma if gamma else ops.ones_like(base)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Binary focal cross-entropy (Lin et al., 2018), averaged over ``axis``.

    Elementwise ``(1 - p_t)**gamma * bce`` where ``bce`` is the binary
    cross-entropy and ``p_t = y p + (1 - y)(1 - p)`` the probability given to
    the true class: well-classified elements weigh less. With
    ``apply_class_balancing`` each element is further weighted by ``alpha``
    (class 1) or ``1 - alpha`` (class 0). With ``from_logits=True``, or when
    ``y_pred`` is the output of ``sigmoid``, ``bce`` is computed from the
    logits (stable for any logits), as Keras does on TensorFlow.

    Args:
        y_true: targets in [0, 1], shape ``(batch, d0, ..., dN)``.
        y_pred: probabilities (or logits), the same shape.
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: in [0, 1]. Defaults to 0.25.
        gamma: the focusing parameter, >= 0 (0 gives the plain cross-entropy).
            Defaults to 2.0.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; squeezes the targets towards 0.5.
        axis: the axis the mean is taken over.

    Returns:
        A Tensor with ``axis`` removed.

    Raises:
        ValueError: for mismatched shapes, or ``gamma``, ``alpha`` or
            ``label_smoothing`` out of range.

    Example:
        >>> loss = binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2)
        >>> loss.numpy().round(3)
        array([0.33 , 0.206], dtype=float32)
    """
    name = "binary_focal_crossentropy"
    label_smoothing = _check_smoothing(label_smoothing)
    gamma = _check_gamma(gamma)
    alpha = _check_unit("alpha", alpha)
    logits = None if from_logits else _logits_of(y_pred, "sigmoid")
    t, p2, logits = _binary_pair(y_true, y_pred, logits, label_smoothing, name)
    if from_logits:
        logits, p2 = p2, ops.sigmoid(p2)
    if logits is not None:
        bce = ops.sigmoid_binary_cross_entropy(logits, t)
    else:
        bce = _clipped_bce(t, p2)
    p_t = t * p2 + (1.0 - t) * (1.0 - p2)
    focal = _focal_power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (t * alpha + (1.0 - t) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: Any = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Categorical focal cross-entropy (Lin et al., 2018) per sample, for one-hot labels.

    ``-sum(alpha * (1 - p)**gamma * y * log(p), axis)`` where
    ``p = y_pred / sum(y_pred)`` clipped to ``[eps, 1 - eps]`` (the softmax of
    ``y_pred`` first with ``from_logits=True``).

    Args:
        y_true: one-hot or probability labels, shape ``(batch, classes)``.
        y_pred: probabilities (or logits), the same shape.
        alpha: a weight >= 0, or a list of one weight per class. Defaults to 0.25.
        gamma: the focusing parameter, >= 0. Defaults to 2.0.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
        axis: the class axis.

    Returns:
        A Tensor with the class axis removed, e.g. ``(batch,)``.

    Raises:
        ValueError: for integer class labels, other shape mismatches, an invalid
            ``axis``, or ``gamma``, ``alpha`` or ``label_smoothing`` out of range.

    Example:
        >>> y_true = [[0, 1, 0], [0, 0, 1]]
        >>> y_pred = [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]
        >>> categorical_focal_crossentropy(y_true, y_pred).numpy().round(5)
        array([2.6000e-04, 6.7591e-01], dtype=float32)
    """
    name = "categorical_focal_crossentropy"
    label_smoothing = _check_smoothing(label_smoothing)
    gamma = _check_gamma(gamma)
    alpha = _check_class_alpha(alpha)
    p = _pred(y_pred)
    ndim = p.ndim
    ax = _class_axis(axis, ndim, name)
    classes = p.shape[ax]
    true_shape = tuple(np.shape(y_true.data if isinstance(y_true, Tensor) else y_true))
    pred_shape = tuple(p.shape)
    if ax == ndim - 1 and classes > 1 and true_shape in (pred_shape[:-1], pred_shape[:-1] + (1,)):
        raise ValueError(
            f"{name} expects one-hot labels of shape {pred_shape}, received integer class "
            "labels. Convert them with chainrule.utils.to_categorical(y, "
            f"num_classes={classes}). Received: y_true.shape={true_shape}"
        )
    t0 = _true(y_true, p.data.dtype)
    t, p2 = _squeeze_or_expand(t0, p)
    if t.shape != p2.shape:
        raise _shape_mismatch(name, t0.shape, p.shape)
    if p2 is not p:
        ax = p2.ndim - 1
    if isinstance(alpha, list) and len(alpha) not in (1, classes):
        raise ValueError(
            f"{name}: alpha must have one weight per class ({classes}). "
            f"Received: alpha={alpha!r}"
        )
    if classes == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(p.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        p2 = ops.softmax(p2, axis=ax)
    eps = backend.epsilon()
    out = ops.clip(p2 / ops.sum(p2, axis=ax, keepdims=True), eps, 1.0 - eps)
    cce = -t * ops.log(out)
    if isinstance(alpha, list):  # one weight per class, along the class axis
        shape = [1] * p2.ndim
        shape[ax] = len(alpha)
        weights = np.asarray(alpha, dtype=p2.data.dtype).reshape(shape)
    else:
        weights = alpha
    focal = (_focal_power(1.0 - out, gamma) * weights) * cce
    return ops.sum(focal, axis=ax)


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    """Dice loss, ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + eps)``.

    The sums run over ``axis``: all elements by default (one number for the
    whole batch), or e.g. ``axis=(1, 2, 3)`` for one loss per image.

    Args:
        y_true: targets, e.g. segmentation masks in [0, 1].
        y_pred: predictions, the same shape.
        axis: None, an axis or a tuple of axes to sum over. Defaults to None.

    Returns:
        A Tensor with ``axis`` removed (a scalar for None).

    Raises:
        ValueError: for mismatched shapes or an invalid ``axis``.

    Example:
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
        >>> dice(y_true, y_pred, axis=(1, 2, 3)).numpy()
        array([0.5       , 0.75757575], dtype=float32)
    """
    t, p = _pair(y_true, y_pred, "dice")
    axis = _region_axis(axis, p.ndim, "dice")
    intersection = ops.sum(t * p, axis=axis)
    total = ops.sum(t, axis=axis) + ops.sum(p, axis=axis) + backend.epsilon()
    return 1.0 - (2.0 * intersection) / total


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> Tensor:
    """Tversky loss (Salehi et al., 2017), a Dice loss with separate weights for the errors.

    With ``i = sum(y_true y_pred)``, ``a = sum(y_true (1 - y_pred))`` and
    ``b = sum((1 - y_true) y_pred)``, the loss is
    ``1 - i / (i + alpha a + beta b + eps)``, as Keras computes it (``alpha``
    weighs the missed targets, ``beta`` the false alarms). ``alpha = beta = 0.5``
    is the Dice loss.

    Args:
        y_true: targets, e.g. segmentation masks in [0, 1].
        y_pred: predictions, the same shape.
        alpha: weight of ``sum(y_true (1 - y_pred))``. Defaults to 0.5.
        beta: weight of ``sum((1 - y_true) y_pred)``. Defaults to 0.5.
        axis: None, an axis or a tuple of axes to sum over. Defaults to None.

    Returns:
        A Tensor with ``axis`` removed (a scalar for None).

    Raises:
        ValueError: for mismatched shapes, an invalid ``axis``, or a negative
            ``alpha`` or ``beta``.

    Example:
        >>> round(float(tversky([[1.0, 0.0]], [[0.5, 0.5]], alpha=0.7, beta=0.3)), 4)
        0.5
    """
    for arg, value in (("alpha", alpha), ("beta", beta)):
        _check_weight("tversky", arg, value)
    t, p = _pair(y_true, y_pred, "tversky")
    axis = _region_axis(axis, p.ndim, "tversky")
    intersection = ops.sum(t * p, axis=axis)
    missed = ops.sum((1.0 - p) * t, axis=axis)
    false_alarms = ops.sum(p * (1.0 - t), axis=axis)
    denominator = intersection + missed * float(alpha) + false_alarms * float(beta)
    return 1.0 - intersection / (denominator + backend.epsilon())


class BinaryFocalCrossentropy(_Builtin):
    """Binary focal cross-entropy (see :func:`binary_focal_crossentropy`).

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: in [0, 1]. Defaults to 0.25.
        gamma: the focusing parameter, >= 0. Defaults to 2.0.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; squeezes the targets towards 0.5.
        axis: the axis the mean is taken over.
        reduction: see :class:`Loss`.
        name: defaults to ``"binary_focal_crossentropy"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``gamma``, ``alpha`` or ``label_smoothing`` is out of range.

    Example:
        >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
        >>> round(float(loss([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8])), 3)
        0.691
    """

    _keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")
    _attributes = True

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=bool(from_logits), label_smoothing=_check_smoothing(label_smoothing),
            axis=axis, apply_class_balancing=bool(apply_class_balancing),
            alpha=_check_unit("alpha", alpha), gamma=_check_gamma(gamma),
        )


class CategoricalFocalCrossentropy(_Builtin):
    """Categorical focal cross-entropy (see :func:`categorical_focal_crossentropy`).

    Args:
        alpha: a weight >= 0, or a list of one weight per class. Defaults to 0.25.
        gamma: the focusing parameter, >= 0. Defaults to 2.0.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in [0, 1].
        axis: the class axis.
        reduction: see :class:`Loss`.
        name: defaults to ``"categorical_focal_crossentropy"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``gamma``, ``alpha`` or ``label_smoothing`` is out of range.

    Example:
        >>> cfce = CategoricalFocalCrossentropy()
        >>> round(float(cfce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
        0.2332
    """

    _keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")
    _attributes = True

    def __init__(
        self,
        alpha: Any = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
            from_logits=bool(from_logits), label_smoothing=_check_smoothing(label_smoothing),
            axis=axis, alpha=_check_class_alpha(alpha), gamma=_check_gamma(gamma),
        )


class Dice(_Builtin):
    """Dice loss (see :func:`dice`).

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"dice"``.
        axis: None (sum over everything), an axis or a tuple of axes.
        dtype: see :class:`Loss`.

    Example:
        >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
        >>> y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
        >>> round(float(Dice()(y_true, y_pred)), 5)
        0.61644
    """

    _keys = ("axis",)
    _attributes = True

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        axis = tuple(axis) if isinstance(axis, list) else axis  # a JSON round trip gives a list
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_Builtin):
    """Tversky loss (see :func:`tversky`).

    Args:
        alpha: weight of ``sum(y_true (1 - y_pred))``, >= 0. Defaults to 0.5.
        beta: weight of ``sum((1 - y_true) y_pred)``, >= 0. Defaults to 0.5.
        reduction: see :class:`Loss`.
        name: defaults to ``"tversky"``.
        axis: None (sum over everything), an axis or a tuple of axes.
        dtype: see :class:`Loss`.

    Example:
        >>> round(float(Tversky(alpha=0.7, beta=0.3)([[1.0, 0.0]], [[0.5, 0.5]])), 4)
        0.5
    """

    _keys = ("alpha", "beta", "axis")
    _attributes = True

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: Any = None,
        dtype: Any = None,
    ) -> None:
        for arg, value in (("alpha", alpha), ("beta", beta)):
            _check_weight("Tversky", arg, value)
        axis = tuple(axis) if isinstance(axis, list) else axis
        super().__init__(
            tversky, reduction=reduction, name=name, dtype=dtype, alpha=float(alpha),
            beta=float(beta), axis=axis,
        )


# -- registry --------------------------------------------------------------------

_BUILTIN_FUNCTIONS = frozenset(
    (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
        sparse_categorical_crossentropy, huber, hinge, squared_hinge, categorical_hinge,
        kl_divergence, log_cosh, poisson, cosine_similarity,
    )
)

_FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in _BUILTIN_FUNCTIONS}
_ALIASES: dict[str, Callable[..., Any]] = {
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "kld": kl_divergence,
    "bce": binary_crossentropy,
    "logcosh": log_cosh,
    "kullback_leibler_divergence": kl_divergence,
}
_TABLE: dict[str, Callable[..., Any]] = {**_FUNCTIONS, **_ALIASES}

_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (
        Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
        MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber,
        LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
        BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    )
}
# focal cross-entropies, Dice and Tversky
__all__ += [
    "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Dice", "Tversky",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky",
]
_MORE_FUNCTIONS = (binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky)
_BUILTIN_FUNCTIONS = _BUILTIN_FUNCTIONS | frozenset(_MORE_FUNCTIONS)
_FUNCTIONS.update({fn.__name__: fn for fn in _MORE_FUNCTIONS})
_TABLE.update({fn.__name__: fn for fn in _MORE_FUNCTIONS})
_CLASSES.update(
    {c.__name__: c for c in (BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky)}
)

# generalized cross-entropy (Keras 3's categorical_generalized_cross_entropy)


def _check_q(q: Any, owner: str) -> float:
    if isinstance(q, bool) or not isinstance(q, (int, float, np.floating)) or not 0 < q < 1:
        raise ValueError(f"{owner}: q must be in the interval (0, 1). Received: q={q!r}")
    return float(q)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Generalized cross-entropy per sample (Zhang & Sabuncu, 2018): ``(1 - p**q) / q``.

    ``p`` is the predicted probability of the true class. As ``q`` goes to 0 it
    becomes the cross-entropy, as ``q`` goes to 1 the mean absolute error: larger
    ``q`` is more robust to noisy labels.

    Args:
        y_true: integer class indices, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: class probabilities, shape ``(batch, classes)``.
        q: the noise parameter, in (0, 1).

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: if ``q`` is outside (0, 1).

    Example:
        >>> loss = categorical_generalized_cross_entropy([0, 1], [[0.64, 0.36], [0.75, 0.25]], q=0.5)
        >>> [round(v, 4) for v in loss.numpy().tolist()]
        [0.4, 1.0]
    """
    q = _check_q(q, "categorical_generalized_cross_entropy")
    p = _pred(y_pred)
    t = y_true if isinstance(y_true, Tensor) else Tensor(np.asarray(y_true))
    if t.ndim == p.ndim and t.shape[-1] == 1:  # (batch, 1) labels: one label per sample
        t = ops.squeeze(t, -1)
    hot = ops.cast(ops.one_hot(ops.cast(t, "int64"), p.shape[-1]), p.data.dtype)
    prob = ops.sum(p * hot, axis=-1)
    return (1.0 - ops.power(prob, q)) / q


class CategoricalGeneralizedCrossEntropy(_Builtin):
    """Generalized cross-entropy, robust to noisy labels (see
    :func:`categorical_generalized_cross_entropy`).

    Args:
        q: the noise parameter, in (0, 1); 0.5 by default.
        reduction: see :class:`Loss`.
        name: defaults to ``"categorical_generalized_cross_entropy"``.
        dtype: see :class:`Loss`.

    Raises:
        ValueError: if ``q`` is outside (0, 1).

    Example:
        >>> gce = CategoricalGeneralizedCrossEntropy(q=0.5)
        >>> round(float(gce([0, 1], [[0.64, 0.36], [0.75, 0.25]])), 4)
        0.7
    """

    _keys = ("q",)
    _attributes = True

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None) -> None:
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=_check_q(q, "CategoricalGeneralizedCrossEntropy"))


__all__ += ["CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy"]
_FUNCTIONS["categorical_generalized_cross_entropy"] = categorical_generalized_cross_entropy
_TABLE["categorical_generalized_cross_entropy"] = categorical_generalized_cross_entropy
_CLASSES["CategoricalGeneralizedCrossEntropy"] = CategoricalGeneralizedCrossEntropy

# Circle and CTC (Keras 3.15)


def _labels(y: Any, name: str, owner: str) -> Tensor:
    """Integer labels of shape (n,) (or (n, 1)) as a Tensor, cast by an op when they are floats."""
    t = y if isinstance(y, Tensor) else Tensor(np.asarray(y))
    if t.ndim == 2 and t.shape[1] == 1:
        t = ops.reshape(t, (-1,))
    if t.ndim != 1:
        raise ValueError(f"{owner}: {name} must be integer labels of shape (batch,). "
                         f"Received: {name} of shape {tuple(t.shape)}")
    return t


def _check_positive(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or \
            not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a positive number. Received: {name}={value!r}")
    return float(value)


def _row_logsumexp(x: Tensor) -> Tensor:
    """``log(sum(exp(x), axis=1))`` with the rows' maxima subtracted first, all in ops (so a
    captured step computes each batch's maxima)."""
    m = ops.stop_gradient(ops.max(x, axis=1, keepdims=True))
    return ops.log(ops.sum(ops.exp(x - m), axis=1)) + ops.reshape(m, (-1,))


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any = None,
    ref_embeddings: Any = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    """Circle loss per sample (Sun et al., 2020), on L2-normalized embeddings.

    With cosine distances ``d = max(1 - y_pred @ ref^T, 0)``, over each row's
    positives (same label; the sample itself left out with ``remove_diagonal``)
    and negatives::

        p = logsumexp(-gamma * max(margin + d, 0) * (margin - d))       over positives
        n = logsumexp(gamma * max(1 + margin - d, 0) * (1 - margin - d)) over negatives
        loss = softplus(p + n)

    A row without positives or without negatives has loss 0. The result carries
    the mask ``loss > 0`` (Keras's): the default reduction averages over the
    samples with a positive loss only.

    Args:
        y_true: integer labels, shape ``(batch,)``.
        y_pred: L2-normalized embeddings, shape ``(batch, dim)``.
        ref_labels: labels of the reference embeddings (default: ``y_true``).
        ref_embeddings: reference embeddings ``(refs, dim)`` (default: ``y_pred``).
        remove_diagonal: leave each sample out of its own positives.
        gamma: the scale, > 0. Defaults to 80.
        margin: the relaxation, > 0. Defaults to 0.4.

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: for labels that are not 1-D, embeddings that are not 2-D, or
            a non-positive ``gamma`` or ``margin``.

    Example:
        >>> emb = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
        >>> circle([0, 0, 1], emb, gamma=4.0).numpy().round(4)
        array([0.2824, 0.8659, 0.    ])
    """
    gamma = _check_positive("circle", "gamma", gamma)
    margin = _check_positive("circle", "margin", margin)
    p = _pred(y_pred)
    if p.ndim != 2:
        raise ValueError(f"circle: y_pred must be embeddings of shape (batch, dim). Received: "
                         f"y_pred of shape {tuple(p.shape)}")
    labels = _labels(y_true, "y_true", "circle")
    ref = p if ref_embeddings is None else _pred(ref_embeddings)
    ref_lab = labels if ref_labels is None else _labels(ref_labels, "ref_labels", "circle")
    if ref.ndim != 2 or ref.shape[1] != p.shape[1] or ref.shape[0] != ref_lab.shape[0] or \
            labels.shape[0] != p.shape[0]:
        raise ValueError(
            "circle: expected labels (batch,), embeddings (batch, dim), reference labels "
            "(refs,) and reference embeddings (refs, dim). Received: shapes "
            f"{tuple(labels.shape)}, {tuple(p.shape)}, {tuple(ref_lab.shape)}, {tuple(ref.shape)}")
    dt = p.data.dtype
    dist = ops.maximum(1.0 - ops.matmul(p, ops.transpose(ref)), 0.0)
    pos = ops.equal(ops.reshape(labels, (-1, 1)), ops.reshape(ref_lab, (1, -1)))
    neg = ops.logical_not(pos)
    if remove_diagonal:
        pos = ops.logical_and(pos, ops.logical_not(
            ops.eye(p.shape[0], ref.shape[0], dtype="bool")))
    pos_w = ops.maximum((margin + dist) * ops.cast(pos, dt), 0.0)
    neg_w = ops.maximum((1.0 + margin - dist) * ops.cast(neg, dt), 0.0)
    pos_terms = -1 * gamma * pos_w * (margin - dist)
    neg_terms = gamma * neg_w * ((1.0 - margin) - dist)
    # Keras puts -inf outside the masks; a very negative finite number gives the same sums
    # (its exp is 0) and, for a row with no positive or no negative, a loss of 0 with a zero
    # gradient instead of NaN
    low = float(np.finfo(dt).min) / 4
    p_loss = _row_logsumexp(ops.where(pos, pos_terms, low))
    n_loss = _row_logsumexp(ops.where(neg, neg_terms, low))
    loss = ops.softplus(p_loss + n_loss)
    loss._keras_mask = ops.greater(loss, 0.0)
    return loss


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """CTC loss per sequence, Keras's form: blank 0, labels padded with 0, every time step used.

    The label length of a sequence is its count of non-zero labels; the input
    length is the number of time steps. See :func:`chainrule.ops.ctc_loss`.

    Args:
        y_true: integer labels ``(batch, max_label_length)``; 0 is the blank and
            the padding (never a class).
        y_pred: logits ``(batch, steps, classes)`` (not softmax-normalized).

    Returns:
        A Tensor of shape ``(batch,)``.

    Raises:
        ValueError: if ``y_true`` is not 2-D or ``y_pred`` not 3-D.

    Example:
        >>> logits = np.log([[[0.6, 0.4], [0.6, 0.4]]])  # blank 0, class 1
        >>> ctc([[1, 0]], logits).numpy().round(4)  # -log(.4*.4 + 2*.6*.4)
        array([0.4463])
    """
    t = y_true if isinstance(y_true, Tensor) else Tensor(np.asarray(y_true))
    p = _pred(y_pred)
    if t.ndim != 2:
        raise ValueError("ctc: y_true must be integer labels of shape (batch_size, max_length). "
                         f"Received: y_true.shape={tuple(t.shape)}")
    if p.ndim != 3:
        raise ValueError("ctc: y_pred must be logits of shape (batch_size, max_length, "
                         f"num_classes). Received: y_pred.shape={tuple(p.shape)}")
    label_length = ops.sum(ops.cast(ops.not_equal(t, 0), "int32"), axis=-1)
    input_length = np.full(p.shape[0], p.shape[1], dtype=np.int32)
    if t.data.dtype.kind not in "iu":
        t = ops.cast(t, "int32")
    return ops.ctc_loss(t, p, label_length, input_length, mask_index=0)


class Circle(_Builtin):
    """Circle loss on L2-normalized embeddings (see :func:`circle`).

    Averaged (by default) over the samples whose loss is positive, as Keras does.

    Args:
        gamma: the scale, > 0. Defaults to 80.
        margin: the relaxation, > 0. Defaults to 0.4.
        remove_diagonal: leave each sample out of its own positives. Defaults to True.
        reduction: see :class:`Loss`.
        name: defaults to ``"circle"``.
        dtype: see :class:`Loss`.

    Example:
        >>> emb = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
        >>> round(float(Circle(gamma=4.0)([0, 0, 1], emb)), 4)  # (0.2824 + 0.8659) / 2
        0.5741
    """

    _keys = ("gamma", "margin", "remove_diagonal")
    _attributes = True
    _cast_y_true = False  # labels stay integers

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle",
                 dtype: Any = None) -> None:
        gamma = _check_positive("Circle", "gamma", gamma)
        margin = _check_positive("Circle", "margin", margin)
        if not isinstance(remove_diagonal, (bool, np.bool_)):
            raise ValueError(f"Circle: remove_diagonal must be a bool. Received: "
                             f"remove_diagonal={remove_diagonal!r}")
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=bool(remove_diagonal))



class CTC(_Builtin):
    """CTC loss (see :func:`ctc`): labels ``(batch, max_length)`` padded with the blank 0,
    logits ``(batch, steps, classes)``.

    Args:
        reduction: see :class:`Loss`.
        name: defaults to ``"ctc"``.
        dtype: see :class:`Loss`.

    Example:
        >>> logits = np.log([[[0.6, 0.4], [0.6, 0.4]]])
        >>> round(float(CTC()([[1, 0]], logits)), 4)
        0.4463
    """

    _cast_y_true = False  # labels stay integers

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc",
                 dtype: Any = None) -> None:
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


__all__ += ["CTC", "Circle", "circle", "ctc"]
_OWN_TARGET_SHAPES = frozenset((circle, ctc))
_BUILTIN_FUNCTIONS = _BUILTIN_FUNCTIONS | _OWN_TARGET_SHAPES
_FUNCTIONS.update({"circle": circle, "ctc": ctc})
_TABLE.update({"circle": circle, "ctc": ctc})
_CLASSES.update({"Circle": Circle, "CTC": CTC})

_LOSSES = Registry(
    kind="loss",
    module="chainrule.losses",
    base=Loss,
    classes=_CLASSES,
    abstract=(Loss, LossFunctionWrapper),
    names=_TABLE,
    functions=_TABLE,
    get_error=(
        TypeError,
        "Could not interpret loss identifier: expected None, a name, a config dict, a Loss or "
        "a function. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize expects a Loss or a named loss function. Received: loss={value!r}",
    ),
)


def get(identifier: Any) -> Any:
    """Return the loss an identifier stands for.

    Args:
        identifier: None; a function name or alias (``"mse"``,
            ``"categorical_crossentropy"``; case-insensitive) giving the
            function; a class name (``"MeanSquaredError"``) giving a new
            instance; a config dict from :func:`serialize`; a Loss instance or
            a function (returned as is); a Loss class (instantiated).

    Returns:
        A per-sample loss function, a Loss, or None.

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for any other kind of identifier.

    Example:
        >>> get("categorical_crossentropy") is categorical_crossentropy
        True
        >>> get("CategoricalCrossentropy")
        <CategoricalCrossentropy name=categorical_crossentropy reduction=sum_over_batch_size from_logits=False label_smoothing=0.0 axis=-1>
    """
    return _LOSSES.get(identifier)


def serialize(loss: Any) -> dict:
    """Return a JSON-serializable description of a loss (Keras's layout).

    Args:
        loss: a Loss, or a named loss function.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``; for a
        function ``class_name`` is ``"function"`` and ``config`` its name.

    Raises:
        TypeError: for anything else (lambdas included).

    Example:
        >>> serialize(Huber(delta=2.0))["config"]
        {'name': 'huber_loss', 'reduction': 'sum_over_batch_size', 'delta': 2.0}
        >>> serialize(mse)["config"]
        'mean_squared_error'
    """
    return _LOSSES.serialize(loss)


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """Rebuild a loss from the output of :func:`serialize` (or a name).

    Args:
        config: a dict with ``"class_name"`` and ``"config"``, or a name.
        custom_objects: optional ``{name: class or function}`` for your own losses.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new Loss, or a loss function.

    Raises:
        ValueError: for unknown names, with the closest known names.
        TypeError: for a config of another type.

    Example:
        >>> deserialize(serialize(CategoricalCrossentropy(from_logits=True))).from_logits
        True
    """
    return _LOSSES.deserialize(config, custom_objects)

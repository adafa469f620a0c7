"""Normalization ops: moments, batch/layer/group normalization and moving averages.

One fused op, :class:`Normalize`, normalizes a tensor with the mean and the
(biased) variance of its own values over some axes, then scales and shifts it,
with one hand-written backward: layer normalization, group normalization and
batch normalization in training mode are all this op, one node on the tape
instead of a dozen. In training mode it can also update a batch normalization
layer's moving statistics in place (``moving = moving * momentum + batch *
(1 - momentum)``): because the update happens inside the op's ``forward``, a
captured training step repeats it at every replay, in the same order.

:func:`batch_normalization` is Keras's op (normalize with given statistics,
the inference mode of a batch normalization layer) and :func:`moments` Keras's
mean and variance.

Example:
    >>> import numpy as np, chainrule as cr
    >>> x = cr.Tensor([[1.0, 2.0], [3.0, 6.0]])
    >>> mean, var = cr.ops.moments(x, axes=[0])
    >>> mean, var
    (Tensor([2., 4.], dtype=float32), Tensor([1., 4.], dtype=float32))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error, sum_to
from chainrule.autograd.variable import Variable
from chainrule.ops.reduce import mean as _mean

__all__ = [
    "moments", "batch_normalization", "fused_batch_normalization", "layer_normalization",
    "group_normalization", "assign_moving_average",
]


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def _axes(axis: Any, ndim: int, op: str, name: str = "axis") -> tuple:
    """Normalized, sorted, distinct axes; a clear error for an axis out of range."""
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        raise shape_error(f"{op}: {name} must be an int or a list of ints. Received: "
                          f"{name}={axis!r}") from None
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise shape_error(
                f"{op}: {name} {a!r} is out of range for an input with {ndim} dimensions. "
                f"Received: {name}={axis!r}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise shape_error(f"{op}: {name} repeats an axis. Received: {name}={axis!r}")
    return tuple(sorted(out))


def _moments(x: Any, axes: tuple) -> tuple:
    """Mean and biased variance over ``axes`` (kept), two passes, and ``x - mean``."""
    mean = x.mean(axis=axes, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=axes, keepdims=True)
    return mean, var, d


class Variance(Function):
    """The biased variance ``mean((x - mean(x))**2)`` over ``axes`` (``ops.moments``' second)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        _, var, self.d = _moments(x, self.axes)
        self.n = math.prod(x.shape[a] for a in self.axes)
        return var if self.keepdims else var.reshape(
            [n for i, n in enumerate(var.shape) if i not in self.axes])

    def backward(self, gy):
        if not self.keepdims:
            gy = gy.reshape([1 if i in self.axes else n for i, n in enumerate(self.d.shape)])
        return (self.d * (gy * (2.0 / self.n)).astype(self.d.dtype, copy=False),)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _subscripts(ndim: int, axes: tuple) -> tuple:
    """einsum subscripts summing over ``axes``: of one array, and of the product of two."""
    full = _LETTERS[:ndim]
    kept = "".join(c for i, c in enumerate(full) if i not in axes)
    return f"{full}->{kept}", f"{full},{full}->{kept}"


class Normalize(Function):
    """``(x - mean) / sqrt(var + epsilon) * scale + offset`` with the statistics of ``x``.

    The mean and biased variance are taken over ``axes``; ``scale`` and ``offset``
    (optional, in that order after ``x``) are reshaped to ``param_shape``, a
    shape that broadcasts against ``x``. With ``momentum`` set, two more
    inputs follow, the moving mean and the moving variance (arrays of the
    statistics' size), which ``forward`` updates in place. With
    ``center=False`` (Keras's deprecated ``rms_scaling`` of layer
    normalization) the output is ``x / sqrt(var + epsilon) * scale``.

    The sums over ``axes`` are ``einsum`` contractions: a sum of products
    (``sum((x - mean)**2)``, ``sum(gy * (x - mean))``) then needs no temporary
    array, and the op makes about half the passes over the data of the same
    maths spelled with separate ops.
    """

    def __init__(self, axes, param_shape, epsilon, has_scale, has_offset, momentum=None,
                 center=True):
        self.axes, self.param_shape, self.epsilon = axes, param_shape, epsilon
        self.has_scale, self.has_offset = has_scale, has_offset
        self.momentum, self.center = momentum, center

    def forward(self, x, *params):
        params = list(params)
        scale = params.pop(0).reshape(self.param_shape) if self.has_scale else None
        offset = params.pop(0).reshape(self.param_shape) if self.has_offset else None
        axes = self.axes
        one, two = self.subs = _subscripts(x.ndim, axes)
        kshape = self.kshape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        n = self.n = math.prod(x.shape[a] for a in axes)
        mean = np.einsum(one, x).reshape(kshape) / n
        d = x - mean
        var = np.einsum(two, d, d).reshape(kshape) / n
        if self.momentum is not None:
            mm, mv = params
            m = self.momentum
            mm *= m
            mm += mean.reshape(mm.shape) * (1.0 - m)
            mv *= m
            mv += var.reshape(mv.shape) * (1.0 - m)
        rstd = var + self.epsilon
        np.sqrt(rstd, out=rstd)
        np.reciprocal(rstd, out=rstd)
        self.d, self.rstd, self.scale = d, rstd, scale
        if self.center:
            y = d * (rstd if scale is None else rstd * scale)
        else:
            self.x = x
            y = x * (rstd if scale is None else rstd * scale)
        if offset is not None:
            y += offset
        return y

    def backward(self, gy):
        d, rstd, scale, n = self.d, self.rstd, self.scale, self.n
        one, two = self.subs
        kshape = self.kshape
        needs = self.needs
        need_scale = self.has_scale and needs[1]
        need_offset = self.has_offset and needs[1 + self.has_scale]
        gscale = goffset = None
        bn_like = self.center and tuple(self.param_shape) == kshape
        if bn_like:  # the weights vary along the axes kept: the same sums serve all gradients
            s1 = np.einsum(one, gy).reshape(kshape)
            s2 = np.einsum(two, gy, d).reshape(kshape) * rstd  # sum(gy * xhat)
            goffset, gscale = s1, s2
            k = rstd if scale is None else rstd * scale
            gx = None
            if needs[0]:
                gx = gy - s1 / n  # rstd * scale * (gy - mean(gy) - xhat * mean(gy * xhat))
                gx -= d * (rstd * s2 / n)
                gx *= k
        else:
            base = d if self.center else self.x
            if need_offset:
                goffset = sum_to(gy, self.param_shape)
            if need_scale:
                gscale = sum_to(gy * (base * rstd), self.param_shape)
            gx = None
            if needs[0]:
                gg = gy * scale if scale is not None else gy
                m2 = np.einsum(two, gg, base).reshape(kshape) * (rstd / n)  # mean(gg * u)
                gx = gg - np.einsum(one, gg).reshape(kshape) / n if self.center else gg.copy()
                gx -= d * (rstd * m2)
                gx *= rstd
        grads = [gx]
        if self.has_scale:
            grads.append(gscale.reshape(_shape(self.inputs[1])) if need_scale else None)
        if self.has_offset:
            k = 1 + self.has_scale
            grads.append(goffset.reshape(_shape(self.inputs[k])) if need_offset else None)
        if self.momentum is not None:
            grads += [None, None]
        return tuple(grads)


def _scale_shift_kernel(x, inv, shift):
    """The compiled ``x * inv + shift`` (``ops/_conv_kernels.py``) where it applies: a large
    C-contiguous ``x`` normalized along its last axis, every array of one float dtype."""
    f = x.shape[-1] if x.ndim else 0
    if (x.size < 32768 or not x.flags.c_contiguous or inv.shape != shift.shape
            or inv.size != f or inv.shape[-1:] != (f,) or not (x.dtype == inv.dtype == shift.dtype)):
        return None
    from chainrule.ops import _conv_kernels  # noqa: PLC0415

    return _conv_kernels.get("scale_shift", x, inv, shift)


class BatchNorm(Function):
    """Keras's ``batch_normalization``: ``x * inv + (offset - mean * inv)``,
    ``inv = scale / sqrt(variance + epsilon)``; inputs ``x, mean, variance[, offset][, scale]``.

    ``pshape`` is the shape the 1-D statistics and weights are viewed as (the
    channel axis kept, the others 1), or None to broadcast them as given.
    """

    def __init__(self, pshape, epsilon, has_offset, has_scale):
        self.pshape, self.epsilon = pshape, epsilon
        self.has_offset, self.has_scale = has_offset, has_scale

    def _view(self, a):
        return a.reshape(self.pshape) if self.pshape is not None and a.ndim == 1 else a

    def forward(self, x, mean, variance, *params):
        params = list(params)
        offset = self._view(params.pop(0)) if self.has_offset else None
        scale = self._view(params.pop(0)) if self.has_scale else None
        mean, variance = self._view(mean), self._view(variance)
        r = 1.0 / np.sqrt(variance + self.epsilon)
        inv = r * scale if scale is not None else r
        self.x, self.mean, self.r, self.inv, self.scale = x, mean, r, inv, scale
        self.views = [_shape(mean), _shape(variance)] + [
            _shape(v) for v in (offset, scale) if v is not None]
        shift = -mean * inv if offset is None else offset - mean * inv
        kernel = _scale_shift_kernel(x, inv, shift)
        if kernel is not None:  # the same product and sum per element, in one pass
            f = x.shape[-1]
            y = np.empty_like(x)
            kernel(x.reshape(-1, f), inv.reshape(f), shift.reshape(f), y.reshape(-1, f))
            return y
        y = x * inv
        y += shift
        return y

    def backward(self, gy):
        x, mean, r, inv, scale = self.x, self.mean, self.r, self.inv, self.scale
        shapes, views, needs = [_shape(t) for t in self.inputs], self.views, self.needs
        k_scale = 3 + self.has_offset
        need_scale = self.has_scale and needs[k_scale]
        gx = gy * inv if needs[0] else None
        gmean = gvar = None
        if needs[1]:
            gmean = sum_to(-sum_to(gy, views[0]) * inv, views[0]).reshape(shapes[1])
        if needs[2] or need_scale:
            g_inv = sum_to(gy * (x - mean), _shape(inv))
            if needs[2]:
                g_r = g_inv * scale if scale is not None else g_inv
                gvar = sum_to(g_r * (-0.5) * r * r * r, views[1]).reshape(shapes[2])
        grads = [gx, gmean, gvar]
        if self.has_offset:
            grads.append(sum_to(gy, views[2]).reshape(shapes[3]) if needs[3] else None)
        if self.has_scale:
            grads.append(sum_to(g_inv * r, views[-1]).reshape(shapes[k_scale]) if need_scale
                         else None)
        return tuple(grads)


class AssignMovingAverage(Function):
    """``variable = variable * momentum + value * (1 - momentum)`` in place; not differentiable."""

    differentiable = False

    def __init__(self, momentum):
        self.momentum = momentum

    def forward(self, var, value):
        if _shape(value) != _shape(var):
            raise shape_error(
                f"assign_moving_average: the value's shape {_shape(value)} differs from the "
                f"variable's {_shape(var)}. Received: value of shape {_shape(value)}")
        var *= self.momentum
        var += value * (1.0 - self.momentum)
        return var.copy()

    def backward(self, gy):  # pragma: no cover - never called: not differentiable
        return (None, None)


# -- public wrappers -------------------------------------------------------------------------


def _check_epsilon(epsilon: Any, op: str) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon >= 0:
        raise ValueError(f"{op}: epsilon must be a non-negative number. Received: "
                         f"epsilon={epsilon!r}")
    return float(epsilon)


def _check_momentum(momentum: Any, op: str) -> float:
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not (
            0 <= momentum <= 1):
        raise ValueError(f"{op}: momentum must be a number in [0, 1]. Received: "
                         f"momentum={momentum!r}")
    return float(momentum)


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple:
    """The mean and the biased variance of ``x`` over ``axes`` (Keras's ``ops.moments``).

    The variance is ``mean((x - mean)**2)``, computed in two passes (as
    TensorFlow's ``tf.nn.moments``), so it is never negative.

    Args:
        x: input Tensor.
        axes: an int or a sequence of ints, the axes to reduce.
        keepdims: keep the reduced axes with length 1.
        synchronized: accepted for Keras compatibility (one process: no effect).

    Returns:
        ``(mean, variance)``, two Tensors.

    Raises:
        ValueError: when an axis is out of range.

    Example:
        >>> import chainrule as cr
        >>> m, v = cr.ops.moments(cr.Tensor([1.0, 2.0, 3.0, 4.0]), axes=0)
        >>> float(m.data), float(v.data)
        (2.5, 1.25)
    """
    axes_t = _axes(axes, len(_shape(x)), "moments", "axes")
    return _mean(x, axes_t, keepdims), Variance(axes_t, bool(keepdims))(x)


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> Tensor:
    """Normalize ``x`` with given statistics: ``(x - mean) / sqrt(variance + epsilon) * scale + offset``.

    Keras's ``ops.batch_normalization``: the inference mode of a batch
    normalization layer (its moving statistics), differentiable with respect
    to every input.

    Args:
        x: input Tensor of any rank.
        mean, variance: 1-D Tensors of the size of ``x``'s ``axis`` (or shapes
            that broadcast against ``x``).
        axis: the feature axis the 1-D statistics run along.
        offset: optional 1-D Tensor added (beta).
        scale: optional 1-D Tensor multiplied (gamma).
        epsilon: added to the variance.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: when ``axis`` is out of range or a 1-D argument's size
            differs from ``x.shape[axis]``.

    Example:
        >>> import chainrule as cr
        >>> y = cr.ops.batch_normalization(cr.Tensor([[1.0, 4.0]]), cr.Tensor([0.0, 2.0]),
        ...                                cr.Tensor([1.0, 4.0]), axis=-1, epsilon=0.0)
        >>> y
        Tensor([[1., 1.]], dtype=float32)
    """
    shape = _shape(x)
    (ax,) = _axes(axis, len(shape), "batch_normalization")
    pshape = tuple(n if i == ax else 1 for i, n in enumerate(shape))
    for name, v in (("mean", mean), ("variance", variance), ("offset", offset), ("scale", scale)):
        if v is not None and len(_shape(v)) == 1 and _shape(v)[0] != shape[ax]:
            raise shape_error(
                f"batch_normalization: {name} has {_shape(v)[0]} values but x has {shape[ax]} "
                f"features along axis {axis}. Received: x of shape {shape} and {name} of shape "
                f"{_shape(v)}")
    fn = BatchNorm(pshape, _check_epsilon(epsilon, "batch_normalization"), offset is not None,
                   scale is not None)
    args = [x, mean, variance] + [v for v in (offset, scale) if v is not None]
    return fn(*args)


def fused_batch_normalization(x: Any, scale: Any = None, offset: Any = None,
                              moving_mean: Any = None, moving_variance: Any = None,
                              axis: int = -1, momentum: float = 0.99,
                              epsilon: float = 1e-3) -> Tensor:
    """Batch normalization in training mode, as one op: normalize with the batch's own statistics.

    The mean and biased variance are taken over every axis but ``axis``; the
    output is ``(x - mean) / sqrt(var + epsilon) * scale + offset``, with one
    backward for ``x``, ``scale`` and ``offset``. Given the moving statistics
    (Variables of the features' size), the op updates them in place, as
    ``moving = moving * momentum + batch * (1 - momentum)``, each time it runs:
    so a captured training step repeats the update at every replay.

    Args:
        x: input Tensor of rank >= 2.
        scale, offset: optional 1-D Tensors of ``x.shape[axis]`` values (gamma, beta).
        moving_mean, moving_variance: optional Variables to update (both or neither).
        axis: the feature axis.
        momentum: the moving averages' momentum, in [0, 1].
        epsilon: added to the variance.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: when ``axis`` is out of range, a weight's size differs from
            ``x.shape[axis]``, or only one moving statistic is given.

    Example:
        >>> import chainrule as cr
        >>> mm = cr.layers.Variable([0.0, 0.0], trainable=False)
        >>> mv = cr.layers.Variable([1.0, 1.0], trainable=False)
        >>> x = cr.Tensor([[0.0, 1.0], [2.0, 5.0]])
        >>> cr.ops.fused_batch_normalization(x, moving_mean=mm, moving_variance=mv,
        ...                                  momentum=0.5, epsilon=0.0)
        Tensor([[-1., -1.],
                [ 1.,  1.]], dtype=float32)
        >>> mm.numpy(), mv.numpy()
        (array([0.5, 1.5], dtype=float32), array([1. , 2.5], dtype=float32))
    """
    shape = _shape(x)
    if len(shape) < 2:
        raise shape_error(
            "fused_batch_normalization: x needs a batch axis and a feature axis (rank >= 2). "
            f"Received: x of shape {shape}")
    (ax,) = _axes(axis, len(shape), "fused_batch_normalization")
    if (moving_mean is None) != (moving_variance is None):
        raise ValueError("fused_batch_normalization: pass both moving_mean and moving_variance, "
                         f"or neither. Received: moving_mean={moving_mean is not None and '...'}, "
                         f"moving_variance={moving_variance is not None and '...'}")
    c = shape[ax]
    for name, v in (("scale", scale), ("offset", offset), ("moving_mean", moving_mean),
                    ("moving_variance", moving_variance)):
        if v is not None and math.prod(_shape(v)) != c:
            raise shape_error(
                f"fused_batch_normalization: {name} needs {c} values, one per feature of axis "
                f"{axis}. Received: x of shape {shape} and {name} of shape {_shape(v)}")
    axes = tuple(i for i in range(len(shape)) if i != ax)
    pshape = tuple(c if i == ax else 1 for i in range(len(shape)))
    update = moving_mean is not None
    fn = Normalize(axes, pshape, _check_epsilon(epsilon, "fused_batch_normalization"),
                   scale is not None, offset is not None,
                   _check_momentum(momentum, "fused_batch_normalization") if update else None)
    args = [x] + [v for v in (scale, offset, moving_mean, moving_variance) if v is not None]
    return fn(*args)


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None, rms_scaling: bool = False) -> Tensor:
    """Normalize each sample over ``axis`` with its own mean and variance (Keras's op).

    ``(x - mean) / sqrt(var + epsilon) * gamma + beta``, one op with one
    backward. With ``rms_scaling=True`` (Keras's deprecated option) the
    input is not centered: ``x / sqrt(var + epsilon) * gamma``.

    Args:
        x: input Tensor.
        gamma, beta: optional Tensors of the normalized axes' shape.
        axis: an int or a list of ints.
        epsilon: added to the variance (default :func:`chainrule.backend.epsilon`, 1e-7).
        rms_scaling: scale by the variance without centering.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: when an axis is out of range or ``gamma``/``beta`` do not
            have the normalized axes' sizes.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.layer_normalization(cr.Tensor([[1.0, 3.0]]), epsilon=0.0)
        Tensor([[-1.,  1.]], dtype=float32)
    """
    from chainrule import backend  # noqa: PLC0415

    shape = _shape(x)
    axes = _axes(axis, len(shape), "layer_normalization")
    eps = backend.epsilon() if epsilon is None else _check_epsilon(epsilon, "layer_normalization")
    pshape = tuple(n if i in axes else 1 for i, n in enumerate(shape))
    want = math.prod(shape[a] for a in axes)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v is not None and math.prod(_shape(v)) != want:
            raise shape_error(
                f"layer_normalization: {name} needs the normalized axes' shape "
                f"{tuple(shape[a] for a in axes)}. Received: x of shape {shape} and {name} of "
                f"shape {_shape(v)}")
    if rms_scaling:
        beta = None
    fn = Normalize(axes, pshape, eps, gamma is not None, beta is not None, None,
                   center=not rms_scaling)
    return fn(*([x] + [v for v in (gamma, beta) if v is not None]))


def group_normalization(x: Any, groups: int, gamma: Any = None, beta: Any = None,
                        axis: int = -1, epsilon: float = 1e-3) -> Tensor:
    """Normalize each sample's channels in ``groups`` groups, each with its own statistics.

    The channels of ``axis`` are split into ``groups`` consecutive groups; each
    group of each sample is normalized over its channels and every axis but
    the batch, then scaled by ``gamma`` and shifted by ``beta`` per channel
    (Keras's ``GroupNormalization``). One reshape, one fused op, one reshape.

    Args:
        x: input Tensor, batch first, of rank >= 2.
        groups: the number of groups; must divide ``x.shape[axis]``.
        gamma, beta: optional 1-D Tensors, one value per channel.
        axis: the channel axis (not the batch axis).
        epsilon: added to the variance.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: when ``axis`` is out of range or the batch axis, or
            ``groups`` does not divide the channels.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.group_normalization(cr.Tensor([[1.0, 3.0, 0.0, 4.0]]), 2, epsilon=0.0)
        Tensor([[-1.,  1., -1.,  1.]], dtype=float32)
    """
    from chainrule.ops.shaping import reshape  # noqa: PLC0415

    shape = _shape(x)
    if len(shape) < 2:
        raise shape_error(f"group_normalization: x needs a batch axis and a channel axis. "
                          f"Received: x of shape {shape}")
    (ax,) = _axes(axis, len(shape), "group_normalization")
    if ax == 0:
        raise shape_error("group_normalization: axis cannot be the batch axis 0. "
                          f"Received: axis={axis}")
    c = shape[ax]
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0 or (
            c % groups):
        raise shape_error(f"group_normalization: groups must be a positive divisor of the "
                          f"{c} channels of axis {axis}. Received: groups={groups!r}")
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v is not None and math.prod(_shape(v)) != c:
            raise shape_error(f"group_normalization: {name} needs {c} values, one per channel. "
                              f"Received: {name} of shape {_shape(v)}")
    gshape = shape[:ax] + (int(groups), c // int(groups)) + shape[ax + 1:]
    axes = tuple(i for i in range(1, len(gshape)) if i != ax)
    pshape = tuple(n if i in (ax, ax + 1) else 1 for i, n in enumerate(gshape))
    fn = Normalize(axes, pshape, _check_epsilon(epsilon, "group_normalization"),
                   gamma is not None, beta is not None)
    y = fn(*([reshape(x, gshape)] + [v for v in (gamma, beta) if v is not None]))
    return reshape(y, shape)


def assign_moving_average(variable: Any, value: Any, momentum: float) -> Tensor:
    """Update ``variable`` in place to ``variable * momentum + value * (1 - momentum)``.

    An op, not an assignment: a captured training step repeats it at every
    replay (a ``Variable.assign`` inside ``call`` would keep the model on the
    tape). Use it in your own layers for running statistics. Not differentiable.

    Args:
        variable: the :class:`~chainrule.layers.Variable` to update.
        value: a Tensor of the variable's shape (e.g. a batch statistic).
        momentum: in [0, 1]; the weight of the old value.

    Returns:
        A Tensor with a copy of the updated value.

    Raises:
        TypeError: when ``variable`` is not a Variable.
        ValueError: when the shapes differ or ``momentum`` is out of range.

    Example:
        >>> import chainrule as cr
        >>> v = cr.layers.Variable([0.0, 0.0], trainable=False)
        >>> _ = cr.ops.assign_moving_average(v, cr.Tensor([1.0, 2.0]), 0.75)
        >>> v.numpy()
        array([0.25, 0.5 ], dtype=float32)
    """
    if not isinstance(variable, Variable):
        raise TypeError("assign_moving_average updates a Variable (a layer weight). "
                        f"Received: variable of type {type(variable).__name__}")
    return AssignMovingAverage(_check_momentum(momentum, "assign_moving_average"))(
        variable, value)


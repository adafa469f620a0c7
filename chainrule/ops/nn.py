"""Neural-network ops: activations and fused, numerically stable layers and losses.

The fused ops (``linear``, ``softmax_cross_entropy``, ``sigmoid_binary_cross_entropy``)
have one backward each, so a dense layer or a classification loss costs one node
on the tape instead of five, and the loss gradient is the exact ``p - y``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "step", "softmax", "log_softmax", "elu",
    "selu", "softplus", "softsign", "gelu", "swish", "silu", "hard_sigmoid", "linear",
    "softmax_cross_entropy", "sigmoid_binary_cross_entropy", "dropout", "relu_ext",
    "mean_squared_difference",
]


def _sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x) computed as (1 + tanh(x/2)) / 2: no overflow for any x."""
    y = x * 0.5
    if y.ndim == 0:  # a 0-d array times a number is a NumPy scalar: no in-place arithmetic
        return (np.tanh(y) + 1) * 0.5
    np.tanh(y, out=y)
    y += 1
    y *= 0.5
    return y


class Sigmoid(Function):
    def forward(self, x):
        self.y = _sigmoid(x)
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy * y * (1 - y),)


class Tanh(Function):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy * (1 - y * y),)


class Relu(Function):
    """``max(x, 0)``; its backward multiplies by ``y > 0``.

    In a captured program (:meth:`absorb`) it may add the bias a convolution before it
    left out, in the same pass, and hand its whole pass to a max pooling after it.
    """

    source = None  # a Conv op whose bias this op adds (absorb)
    pooled = False  # a max pooling after this op takes the ReLU itself (pooling.MaxPool.absorb)
    passed = False  # whether this call handed its input on to that pooling

    def absorb(self, producer: Function, sole: bool = False) -> bool:
        """Offered by a captured program (:meth:`~chainrule.autograd.capture.Program`) the op
        whose output is this op's input: a channels-last convolution read by this op alone
        leaves its bias's add to this op, which does it in its own compiled pass (the same
        additions, where the kernels are on).

        Args:
            producer: the op that computes this op's input in the same replay.
            sole: whether nothing else reads that input.

        Returns:
            Whether the bias's add moved here.
        """
        from chainrule.ops.conv import Conv  # noqa: PLC0415

        if not sole or type(producer) is not Conv or producer.channels_first:
            return False
        producer.defer_bias, self.source = True, producer
        return True

    def forward(self, x):
        b = self.source.deferred_bias if self.source is not None else None
        self.passed = False
        if self.pooled and _pool_takes(x, b):  # the max pooling after this op does it all
            self.passed, self.bias = True, b
            return x
        if not isinstance(x, np.ndarray) and hasattr(x, "full"):  # a conv._ConvOutput
            x = x.full()
        return self._relu(x, b)

    def _relu(self, x, b=None):
        """``max(x + b, 0)`` (``b`` None: none), kept for the backward."""
        if b is not None:  # the convolution's bias, then the maximum, in one compiled pass
            kernel = _relu_kernel("bias_relu", x, b, small=True)
            y = np.empty_like(x)
            if kernel is not None:
                f = b.shape[0]
                kernel(x.reshape(-1, f), b, y.reshape(-1, f))
                self.y = y
                return y
            x = x + b  # the same additions (the kernels were switched off since the product)
        kernel = _relu_kernel("relu", x)  # the same maximum in one compiled pass (Numba)
        if kernel is not None:
            y = np.empty_like(x)
            kernel(x.reshape(-1), y.reshape(-1))
        else:
            y = np.maximum(x, 0)
        self.y = y
        return y  # the mask is formed in backward: inference never needs it

    def backward(self, gy):
        if self.passed:  # the max pooling's backward applied the mask already
            return (gy,)
        return self._mask(gy)

    def _mask(self, gy):
        """``gy * (y > 0)``."""
        y = self.y
        kernel = _relu_kernel("relu_grad", gy, y) if gy.shape == y.shape else None
        if kernel is not None and gy.dtype == y.dtype:
            gx = np.empty_like(gy)
            kernel(gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
            return (gx,)
        return (gy * (y > 0),)


def _relu_kernel(name, *arrays, small=False):
    """ReLU's compiled pass (``ops/_conv_kernels.py``) for large C-contiguous arrays, or None.

    Below 32,768 elements NumPy's pass costs about what calling the kernel does (``small``:
    any size, where the kernel saves a whole pass)."""
    if (np.size(arrays[0]) < 32768 and not small) or not all(
            getattr(a, "flags", None) is not None and a.flags.c_contiguous for a in arrays):
        return None
    from chainrule.ops import _conv_kernels  # noqa: PLC0415

    return _conv_kernels.get(name, *arrays)


def _pool_takes(x, b):
    """Whether the fused max pooling's kernel (``bias_relu_max_pool``) runs on ``x``."""
    from chainrule.ops import _conv_kernels  # noqa: PLC0415

    lazy = not isinstance(x, np.ndarray)  # a conv._ConvOutput
    probe = np.empty(0, x.dtype) if lazy else x
    arrays = (probe,) if b is None else (probe, b)
    return ((lazy or x.flags.c_contiguous) and (b is None or b.dtype == x.dtype)
            and _conv_kernels.get("bias_relu_max_pool", *arrays) is not None)


class LeakyRelu(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, x * self.alpha)

    def backward(self, gy):
        return (np.where(self.mask, gy, gy * self.alpha),)


class Step(Function):
    def forward(self, x):
        self.shape = x.shape
        return (x > 0).astype(x.dtype)

    def backward(self, gy):
        return (np.zeros(self.shape, dtype=gy.dtype),)


class Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        # the ufuncs' reduce directly: ndarray.max/sum add a Python layer (same numbers)
        m = np.maximum.reduce(x, axis=self.axis, keepdims=True)
        y = x - m
        np.exp(y, out=y)
        s = np.add.reduce(y, axis=self.axis, keepdims=True)
        y /= s
        self.y, self.m, self.s = y, m, s  # m and s: for a cross-entropy that reuses them
        return y

    def backward(self, gy):
        y = self.y
        gx = y * gy
        gx -= y * gx.sum(axis=self.axis, keepdims=True)
        return (gx,)


class LogSoftmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.y = y
        return y

    def backward(self, gy):
        return (gy - np.exp(self.y) * gy.sum(axis=self.axis, keepdims=True),)


class Elu(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        self.x = x
        self.neg = self.alpha * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, self.neg)

    def backward(self, gy):
        return (np.where(self.x > 0, gy, gy * (self.neg + self.alpha)),)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Softplus(Function):
    def forward(self, x):
        self.x = x
        return np.logaddexp(x, 0).astype(x.dtype, copy=False)

    def backward(self, gy):
        return (gy * _sigmoid(self.x.copy()),)


class Softsign(Function):
    def forward(self, x):
        self.d = 1 + np.abs(x)
        return x / self.d

    def backward(self, gy):
        return (gy / (self.d * self.d),)


class Linear(Function):
    """x @ W (+ b) with x of shape (..., in)."""

    supports_grad_out = True

    def forward(self, x, W, b=None):
        if x.shape[-1:] != W.shape[:1] or W.ndim != 2:
            raise shape_error(
                f"linear: shapes {x.shape} and {W.shape} are not aligned "
                f"({x.shape[-1] if x.ndim else None} != {W.shape[0] if W.ndim else None})"
            )
        self.x, self.W = x, W
        y = x @ W
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, W = self.x, self.W
        gx = gW = gb = None
        if self.needs[0]:
            gx = gy @ W.T
        if x.ndim != 2:
            x = x.reshape(-1, x.shape[-1])
            gy = gy.reshape(-1, gy.shape[-1])
        out = self.grad_out or {}
        if self.needs[1]:
            gW = x.T @ gy if 1 not in out else np.matmul(x.T, gy, out=out[1])
        if len(self.needs) > 2 and self.needs[2]:
            gb = gy.sum(axis=0) if 2 not in out else gy.sum(axis=0, out=out[2])
        return gx, gW, gb


class SoftmaxCrossEntropy(Function):
    """Per-sample -log softmax(logits)[label], labels as integers or probabilities.

    ``labels_checked=True`` skips the range check of integer labels (the caller
    has checked them, as the sparse cross-entropy loss does). ``mean=True``
    returns the mean over all samples instead (a loss's default reduction), with
    the arithmetic of ``ops.mean`` of the per-sample losses and its gradient.
    """

    def __init__(self, labels_checked=False, mean=False):
        self.labels_checked, self.mean = labels_checked, mean
        self.softmax = None  # a Softmax op on the same logits, run first (see reuse)

    def reuse(self, other):
        """Take the maximum, the exponentials' sum and the probabilities from ``other``.

        Called by a captured step's builder when ``other`` ran earlier on the
        same logits: a ``Softmax`` over the last axis (a model's softmax output
        whose logits the loss uses) has already computed them, with the same
        operations as here, so the numbers are bit-identical and the exponentials
        are computed once per step instead of twice.
        """
        if type(other) is not Softmax or other.axis != -1:
            return False
        self.softmax = other
        return True

    def forward(self, logits, labels):
        c = logits.shape[-1]
        sm = self.softmax
        if sm is not None and labels.dtype.kind in "iu":
            m, s = sm.m, sm.s  # this step's, from the Softmax op that ran on these logits
            self.e, self.p = None, sm.y
            shifted = None
        else:
            shifted = logits - logits.max(axis=-1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=-1, keepdims=True)
            self.e, self.p = e, None  # softmax = e / s, formed in backward (or below) if needed
        self.s = s
        self.labels = labels
        if labels.dtype.kind in "iu":
            if labels.shape != logits.shape[:-1]:
                raise shape_error(
                    f"softmax_cross_entropy: integer labels need shape {logits.shape[:-1]} for "
                    f"logits of shape {logits.shape}. Received: labels of shape {labels.shape}"
                )
            if not self.labels_checked and labels.size and (labels.min() < 0 or labels.max() >= c):
                raise shape_error(
                    f"softmax_cross_entropy: labels must be in [0, {c}) for {c} classes. "
                    f"Received: labels from {int(labels.min())} to {int(labels.max())}"
                )
            self.sparse = True
            # -log p[label] = log(s) - shifted[label]: only the picked entries, no full log p
            rows, flat = self._rows(labels.size), labels.reshape(-1)
            if shifted is None:  # the same subtraction as logits - max, at the labels only
                picked = logits.reshape(-1, c)[rows, flat] - m.reshape(-1)
            else:
                picked = shifted.reshape(-1, c)[rows, flat]
            return self._reduce((np.log(s).reshape(-1) - picked).reshape(labels.shape))
        if labels.shape != logits.shape:
            raise shape_error(
                f"softmax_cross_entropy: probability labels need the logits' shape "
                f"{logits.shape}. Received: labels of shape {labels.shape}"
            )
        self.sparse = False
        self.logp = logp = shifted - np.log(s)
        return self._reduce(-(labels * logp).sum(axis=-1))

    def _reduce(self, per):
        self.reduced = self.mean and per.size > 0
        if not self.reduced:
            return per
        self.n = per.size  # the mean as ops.mean computes it
        if per.dtype in (np.float32, np.float64):
            return per.dtype.type(np.add.reduce(per, axis=None) / self.n)
        return per.mean()

    def _rows(self, n):
        rows = getattr(self, "_arange", None)  # kept: a replayed step has the same batch size
        if rows is None or len(rows) != n:
            rows = self._arange = np.arange(n)
        return rows

    def backward(self, gy):
        gx = gl = None
        g = gy / self.n if self.reduced else gy[..., None]  # the mean's gradient, then ours
        if self.needs[0]:
            # the softmax probabilities p: e / s, or the reused Softmax op's (the same numbers)
            gx = self.e / self.s if self.p is None else self.p.copy()
            if self.sparse:
                flat = gx.reshape(-1, gx.shape[-1])
                flat[self._rows(flat.shape[0]), self.labels.reshape(-1)] -= 1
            else:  # d/dx of -sum(l * logp) is p * sum(l) - l (p - l for normalized labels)
                gx *= self.labels.sum(axis=-1, keepdims=True)
                gx -= self.labels
            gx *= g
        if len(self.needs) > 1 and self.needs[1] and not self.sparse:
            gl = -self.logp * g
        return gx, gl


class SigmoidBinaryCrossEntropy(Function):
    """Elementwise -[t log s(x) + (1 - t) log(1 - s(x))], from logits, stably."""

    def forward(self, x, t):
        if np.shape(t) != x.shape:
            raise shape_error(
                f"sigmoid_binary_cross_entropy: targets need the logits' shape {x.shape}. "
                f"Received: targets of shape {np.shape(t)}"
            )
        self.x, self.t = x, t
        return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))

    def backward(self, gy):
        gx = gt = None
        if self.needs[0]:
            gx = (_sigmoid(self.x.copy()) - self.t) * gy
        if len(self.needs) > 1 and self.needs[1]:
            gt = -self.x * gy
        return gx, gt


class MeanSquaredDifference(Function):
    """``mean((a - b)**2, axis=-1)`` as one op: the arithmetic of subtract, square and mean.

    ``mean=True`` returns the mean of those per-sample values instead (a loss's
    default reduction), with the arithmetic of ``ops.mean`` over them and its
    gradient: the same numbers as the two ops, in one. Only for float32/float64
    inputs of at least two dimensions (the caller checks).
    """

    def __init__(self, mean=False):
        self.mean = mean

    def forward(self, a, b):
        d = a - b
        self.d = d
        n = d.shape[-1] if d.ndim else 1
        self.n = n
        sq = d * d
        if d.ndim == 0:
            return sq
        per = np.add.reduce(sq, axis=-1) / n if d.dtype.kind == "f" else sq.mean(axis=-1)
        if not self.mean:
            return per
        self.count = per.size  # the mean over every sample, as ops.mean computes it
        return per.dtype.type(np.add.reduce(per, axis=None) / self.count)

    def backward(self, gy):
        d = self.d
        if self.mean:  # ops.mean's backward (gy / count at every sample), then ours
            g = gy / self.count / self.n * 2
        else:
            g = (gy / self.n)[..., None] * 2 if d.ndim else gy * 2  # as mean's, then square's
        g = g * d
        return (g if self.needs[0] else None, -g if self.needs[1] else None)


class Dropout(Function):
    """Multiply by a fresh random keep-mask scaled by 1/(1 - rate), drawn in ``forward``.

    The mask is drawn when the op runs, so a replayed step draws a new one each
    time, from the same generator in the same order as the layers would.
    """

    def __init__(self, rate, noise_shape, rng):
        self.rate, self.noise_shape, self.rng = rate, noise_shape, rng

    def forward(self, x):
        from chainrule import backend  # noqa: PLC0415

        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        rng = self.rng or backend.rng()
        keep = rng.random(shape) >= self.rate
        self.mask = backend.as_array(keep.astype(x.dtype) * (1.0 / (1.0 - self.rate)), x.dtype)
        return x * self.mask

    def backward(self, gy):
        return (gy * self.mask,)  # a broadcast mask still gives x's shape


class ReluCap(Function):
    """``min(max(x, 0), max_value)``: the composition ``minimum(relu(x), max_value)`` (Keras's
    ``ReLU(max_value)``, ``relu6``) in one pass; its backward multiplies by
    ``0 < x <= max_value``, bit for bit what the two ops' backwards give (one compiled pass
    each way where the kernels are on)."""

    def __init__(self, max_value):
        self.max_value = max_value

    def forward(self, x):
        self.x = x
        kernel = _relu_kernel("relu_cap_pass", x)
        if kernel is not None:
            y = np.empty_like(x)
            kernel(x.reshape(-1), x.reshape(-1), y.reshape(-1), x.dtype.type(self.max_value),
                   False)
            return y
        y = np.maximum(x, 0)
        return np.minimum(y, self.max_value, out=y if y.dtype.kind == "f" else None)

    def backward(self, gy):
        x = self.x
        kernel = _relu_kernel("relu_cap_pass", gy, x) if gy.shape == x.shape and (
            gy.dtype == x.dtype) else None
        if kernel is not None:
            gx = np.empty_like(gy)
            kernel(gy.reshape(-1), x.reshape(-1), gx.reshape(-1), x.dtype.type(self.max_value),
                   True)
            return (gx,)
        return (gy * ((x > 0) & (x <= self.max_value)),)


class ReluExt(Function):
    """ReLU with a threshold, a slope below it and a cap: Keras's ``ReLU`` layer."""

    def __init__(self, max_value, negative_slope, threshold):
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x):
        above = x >= self.threshold
        y = np.where(above, x, (x - self.threshold) * self.negative_slope).astype(x.dtype, copy=False)
        slope = np.where(above, 1.0, self.negative_slope).astype(x.dtype, copy=False)
        if self.max_value is not None:
            capped = y > self.max_value
            y = np.where(capped, np.asarray(self.max_value, dtype=x.dtype), y)
            slope = np.where(capped, 0.0, slope).astype(x.dtype, copy=False)
        self.slope = slope
        return y

    def backward(self, gy):
        return (gy * self.slope,)


# -- public wrappers ---------------------------------------------------------


def sigmoid(x: Any) -> Tensor:
    """The logistic function ``1 / (1 + e^-x)``, computed without overflow; gradient ``y(1-y)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sigmoid(cr.Tensor([0.0]))
        Tensor([0.5], dtype=float32)
    """
    x = as_input(x)
    y = Sigmoid()(x)
    if isinstance(x, Tensor):
        y._logits = x  # lets binary_crossentropy use the stable fused op (see losses)
    return y


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent; gradient ``1 - y**2``."""
    x = as_input(x)
    return Tanh()(x)


def relu(x: Any) -> Tensor:
    """``max(x, 0)``; gradient 1 where x > 0, else 0."""
    x = as_input(x)
    return Relu()(x)


def leaky_relu(x: Any, alpha: float = 0.2, *, negative_slope: float | None = None) -> Tensor:
    """``x`` where positive, else ``alpha * x`` (Keras's default slope is 0.2).

    Args:
        x: input.
        alpha: slope for negative inputs.
        negative_slope: Keras 3's name for ``alpha`` (``keras.ops.nn.leaky_relu``); wins when
            given.
    """
    x = as_input(x)
    return LeakyRelu(alpha if negative_slope is None else negative_slope)(x)


def step(x: Any) -> Tensor:
    """The perceptron's binary step: 1 where x > 0, else 0. Its gradient is zero everywhere.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.step(cr.Tensor([-1.0, 0.0, 2.0]))
        Tensor([0., 0., 1.], dtype=float32)
    """
    x = as_input(x)
    return Step()(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (the maximum is subtracted first)."""
    x = as_input(x)
    y = Softmax(axis)(x)
    if isinstance(x, Tensor) and (axis == -1 or axis == x.ndim - 1):
        y._logits = x  # lets categorical cross-entropies use the stable fused op (see losses)
    return y


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``axis``, computed stably."""
    x = as_input(x)
    return LogSoftmax(axis)(x)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, else ``alpha * (e^x - 1)``."""
    x = as_input(x)
    return Elu(alpha)(x)


def selu(x: Any) -> Tensor:
    """Scaled ELU with the self-normalizing constants (Klambauer et al., 2017)."""
    x = as_input(x)
    return Elu(_SELU_ALPHA)(x) * _SELU_SCALE


def softplus(x: Any) -> Tensor:
    """``log(1 + e^x)``, stable for large |x|; gradient ``sigmoid(x)``."""
    x = as_input(x)
    return Softplus()(x)


def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_input(x)
    return Softsign()(x)


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``.

    As Keras 3's ``ops.gelu``, the tanh approximation is the default here; the
    ``gelu`` activation (``activations.gelu``) defaults to the exact form with erf.

    Args:
        x: input.
        approximate: use the tanh approximation (default) instead of erf.
    """
    x = as_input(x)
    from chainrule.ops.math import erf, power  # noqa: PLC0415

    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * power(x, 3.0))))
    return 0.5 * x * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def swish(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (also called SiLU)."""
    x = as_input(x)
    return x * sigmoid(x)


silu = swish


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid ``clip(x / 6 + 0.5, 0, 1)`` (Keras 3's definition)."""
    x = as_input(x)
    from chainrule.ops.math import clip  # noqa: PLC0415

    return clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def linear(x: Any, W: Any, b: Any = None) -> Tensor:
    """The dense layer's affine map ``x @ W + b`` as one fused op.

    Args:
        x: inputs, shape ``(..., in)``.
        W: kernel, shape ``(in, out)`` (Keras's layout).
        b: optional bias, shape ``(out,)``.

    Returns:
        Shape ``(..., out)``.

    Raises:
        ValueError: when the last axis of ``x`` does not match ``W``'s first.
    """
    if b is None:
        return Linear()(x, W)
    return Linear()(x, W, b)


def mean_squared_difference(a: Any, b: Any) -> Tensor:
    """``mean((a - b)**2, axis=-1)`` as one fused op (the mean squared error per sample).

    The same arithmetic as ``mean(square(a - b), axis=-1)`` in three ops, with one
    backward: ``±2 (a - b) / n`` times the incoming gradient.

    Args:
        a, b: arrays or Tensors of the same shape ``(..., n)``.

    Returns:
        Shape ``(...)``.

    Raises:
        ValueError: when the shapes differ.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.mean_squared_difference(cr.Tensor([[1.0, 3.0]]), cr.Tensor([[0.0, 0.0]]))
        Tensor([5.], dtype=float32)
    """
    if np.shape(getattr(a, "data", a)) != np.shape(getattr(b, "data", b)):
        raise shape_error(
            "mean_squared_difference: a and b need the same shape. Received: shapes "
            f"{np.shape(getattr(a, 'data', a))} and {np.shape(getattr(b, 'data', b))}"
        )
    return MeanSquaredDifference()(a, b)


def dropout(x: Any, rate: float, noise_shape: Any = None, rng: Any = None) -> Tensor:
    """Zero each element with probability ``rate``; scale the others by ``1 / (1 - rate)``.

    The mask is drawn inside the op (from ``rng``, or chainrule's seeded
    generator), so a captured step draws a new mask at every replay.

    Args:
        x: input of any shape.
        rate: the fraction to drop, in [0, 1).
        noise_shape: optional mask shape broadcast to ``x`` (``None`` entries
            take ``x``'s size), e.g. ``(batch, 1, features)``.
        rng: optional ``numpy.random.Generator`` (default: chainrule's).

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> cr.utils.set_random_seed(0)
        >>> y = cr.ops.dropout(cr.Tensor(np.ones((2, 4))), 0.5)
        >>> sorted(set(y.numpy().ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a number in [0, 1). Received: rate={rate!r}")
    return Dropout(float(rate), None if noise_shape is None else tuple(noise_shape), rng)(x)


def relu_ext(x: Any, max_value: float | None = None, negative_slope: float = 0.0,
             threshold: float = 0.0) -> Tensor:
    """Keras's ``ReLU`` layer: ``x`` above ``threshold``, ``negative_slope * (x - threshold)``
    below it, capped at ``max_value``.

    Args:
        x: input.
        max_value: optional cap (>= 0).
        negative_slope: slope below the threshold (>= 0).
        threshold: where the slope changes.

    Returns:
        A Tensor of ``x``'s shape; the gradient is the local slope (0 where capped). With
        a cap alone (no slope, threshold 0) this is ``minimum(relu(x), max_value)`` in one
        pass, whose gradient is 1 for ``0 < x <= max_value``, else 0.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.relu_ext(cr.Tensor([-2.0, 0.5, 9.0]), max_value=6.0, negative_slope=0.1)
        Tensor([-0.2,  0.5,  6. ], dtype=float32)
    """
    if max_value is not None and negative_slope == 0 and threshold == 0:
        return ReluCap(float(max_value))(as_input(x))  # one pass (Keras's ReLU(6.0))
    return ReluExt(max_value, float(negative_slope), float(threshold))(x)


def softmax_cross_entropy(logits: Any, labels: Any) -> Tensor:
    """Cross-entropy of ``softmax(logits)`` against labels, per sample, from the logits.

    Stable for any logits (no NaN or inf at +-1000); the gradient for the logits
    is exactly ``softmax(logits) - one_hot(labels)`` times the incoming gradient.

    Args:
        logits: shape ``(..., classes)``.
        labels: integer class indices of shape ``(...)``, or probabilities
            (one-hot or soft) of shape ``(..., classes)``.

    Returns:
        Per-sample losses, shape ``(...)``.

    Example:
        >>> import chainrule as cr
        >>> loss = cr.ops.softmax_cross_entropy(cr.Tensor([[0.0, 0.0]]), cr.Tensor([1]))
        >>> round(float(loss.data[0]), 6)
        0.693147
    """
    if not isinstance(labels, Tensor):
        labels = Tensor(labels)
    return SoftmaxCrossEntropy()(logits, labels)


def sigmoid_binary_cross_entropy(logits: Any, targets: Any) -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], elementwise.

    Computed as ``max(x, 0) - x t + log(1 + e^-|x|)``: stable for any logits; the
    gradient for the logits is exactly ``sigmoid(x) - t``.

    Args:
        logits: any shape.
        targets: the same shape, values in [0, 1].

    Returns:
        Elementwise losses, the logits' shape.
    """
    if not isinstance(targets, Tensor):
        targets = Tensor(targets)
    return SigmoidBinaryCrossEntropy()(logits, targets)


# -- Keras's keras.ops.nn namespace: its other functions live in their own modules (conv,
# pooling, normalization, labels, activations_extra, nn_extra...), most of which import this
# one, so they cannot be imported here; they are looked up in chainrule.ops on first use
# (``chainrule.ops.nn.conv``, ``from chainrule.ops.nn import one_hot``) instead.
KERAS_NN_NAMES = frozenset({
    "adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss", "fold", "polar",
    "unfold", "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "conv_transpose", "depth_to_space", "depthwise_conv",
    "dot_product_attention", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh",
    "layer_normalization", "log_sigmoid", "max_pool", "moments", "multi_hot", "normalize",
    "one_hot", "psnr", "relu6", "rms_normalization", "separable_conv", "soft_shrink",
    "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "tanh_shrink", "threshold",
})


def __getattr__(name: str) -> Any:
    if name in KERAS_NN_NAMES:
        import chainrule.ops as _ops  # noqa: PLC0415 - complete by the time a name is asked

        return getattr(_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | KERAS_NN_NAMES)

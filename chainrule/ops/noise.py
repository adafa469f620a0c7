"""Random noise ops of the regularization layers: Gaussian noise, Gaussian dropout, alpha dropout.

Each draws its noise inside ``forward`` (from a layer's own generator or
chainrule's seeded one), as ``ops.dropout`` does, so a captured training step
draws fresh noise at every replay, in the same order as the layers would.
The backward passes reuse the noise of the forward pass.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.core import as_input

__all__ = ["gaussian_noise", "gaussian_dropout", "alpha_dropout"]

# the SELU constants alpha dropout keeps the mean and variance of (Klambauer et al., 2017)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _rng(rng: Any) -> np.random.Generator:
    return rng or backend.rng()


class GaussianNoise(Function):
    """``x + N(0, stddev²)`` noise drawn in ``forward``; the gradient passes unchanged."""

    def __init__(self, stddev: float, rng: Any) -> None:
        self.stddev, self.rng = stddev, rng

    def forward(self, x):
        noise = _rng(self.rng).normal(0.0, self.stddev, size=x.shape)
        return x + backend.as_array(noise, x.dtype)

    def backward(self, gy):
        return (gy,)


class GaussianDropout(Function):
    """``x * N(1, rate / (1 - rate))`` noise drawn in ``forward``; the gradient is scaled alike."""

    def __init__(self, rate: float, rng: Any) -> None:
        self.rate, self.rng = rate, rng

    def forward(self, x):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        self.noise = backend.as_array(_rng(self.rng).normal(1.0, stddev, size=x.shape), x.dtype)
        return x * self.noise

    def backward(self, gy):
        return (gy * self.noise,)


class AlphaDropout(Function):
    """Set dropped values to SELU's saturation value, then restore mean and variance.

    ``y = a * (x * keep + alpha_p * (1 - keep)) + b`` with a keep-mask drawn in
    ``forward`` (broadcast from ``noise_shape``); ``dy/dx = a * keep``.
    """

    def __init__(self, rate: float, noise_shape: tuple | None, rng: Any) -> None:
        self.rate, self.noise_shape, self.rng = rate, noise_shape, rng

    def forward(self, x):
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = backend.as_array(_rng(self.rng).random(shape) >= self.rate, x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        self.grad_scale = keep * x.dtype.type(a)
        # a * (x * keep + alpha_p * (1 - keep)) + b, with the constant part folded
        offset = (1.0 - keep) * x.dtype.type(a * alpha_p) + x.dtype.type(b)
        return x * self.grad_scale + offset

    def backward(self, gy):
        return (gy * self.grad_scale,)  # a broadcast mask still gives x's shape


def _rate(rate: Any, op: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not (
            0 <= rate < 1):
        raise ValueError(f"{op}: rate must be a number in [0, 1). Received: rate={rate!r}")
    return float(rate)


def gaussian_noise(x: Any, stddev: float, rng: Any = None) -> Tensor:
    """Add zero-centred Gaussian noise of standard deviation ``stddev``.

    Args:
        x: input of any shape.
        stddev: the noise's standard deviation (>= 0).
        rng: optional ``numpy.random.Generator`` (default: chainrule's).

    Returns:
        A Tensor of ``x``'s shape; the gradient with respect to ``x`` is the identity.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.ops.noise import gaussian_noise
        >>> y = gaussian_noise(cr.Tensor(np.zeros((1000,))), 0.5, np.random.default_rng(0))
        >>> round(float(y.numpy().std()), 1)
        0.5
    """
    if isinstance(stddev, bool) or not isinstance(stddev, (int, float, np.floating)) or \
            stddev < 0:
        raise ValueError("gaussian_noise: stddev must be a non-negative number. "
                         f"Received: stddev={stddev!r}")
    return GaussianNoise(float(stddev), rng)(as_input(x))


def gaussian_dropout(x: Any, rate: float, rng: Any = None) -> Tensor:
    """Multiply by 1-centred Gaussian noise of standard deviation ``sqrt(rate / (1 - rate))``.

    Args:
        x: input of any shape.
        rate: the drop probability the noise stands for, in [0, 1).
        rng: optional ``numpy.random.Generator`` (default: chainrule's).

    Returns:
        A Tensor of ``x``'s shape (the same mean as ``x``).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.ops.noise import gaussian_dropout
        >>> y = gaussian_dropout(cr.Tensor(np.ones((4000,))), 0.5, np.random.default_rng(0))
        >>> round(float(y.numpy().mean()), 1), round(float(y.numpy().std()), 1)
        (1.0, 1.0)
    """
    return GaussianDropout(_rate(rate, "gaussian_dropout"), rng)(as_input(x))


def alpha_dropout(x: Any, rate: float, noise_shape: Sequence[Any] | None = None,
                  rng: Any = None) -> Tensor:
    """Alpha dropout: dropped values take SELU's negative saturation value, then an affine map
    keeps the mean and variance of standard-normal inputs.

    Args:
        x: input of any shape.
        rate: the fraction to drop, in [0, 1).
        noise_shape: optional mask shape broadcast to ``x`` (``None`` entries take
            ``x``'s size), e.g. ``(batch, 1, features)``.
        rng: optional ``numpy.random.Generator`` (default: chainrule's).

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.ops.noise import alpha_dropout
        >>> x = np.random.default_rng(1).standard_normal(20000)
        >>> y = alpha_dropout(cr.Tensor(x), 0.2, rng=np.random.default_rng(0))
        >>> abs(float(y.numpy().mean())) < 0.05, round(float(y.numpy().std()), 1)
        (True, 1.0)
    """
    x = as_input(x)
    if noise_shape is not None:
        noise_shape = tuple(noise_shape)
        if len(noise_shape) != x.ndim:
            raise ValueError("alpha_dropout: noise_shape needs one entry per axis of x "
                             f"{tuple(x.shape)}. Received: noise_shape={noise_shape}")
    return AlphaDropout(_rate(rate, "alpha_dropout"), noise_shape, rng)(x)

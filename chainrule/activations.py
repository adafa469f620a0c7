"""Activation functions with Keras 3's names and defaults.

Each function takes a Tensor (or an array) and returns a Tensor; gradients flow
through the differentiable ops in :mod:`chainrule.ops`. Every docstring gives
the formula ``f(x)`` and its derivative ``f'(x)``, the number backpropagation
multiplies the incoming gradient by.

Pass them to layers by name (``Dense(10, activation="relu")``) or as
functions; :func:`get` turns either into the function.

Example:
    >>> import chainrule as cr
    >>> from chainrule import activations
    >>> activations.relu(cr.Tensor([-1.0, 2.0]))
    Tensor([0., 2.], dtype=float32)
    >>> activations.get("sigmoid") is activations.sigmoid
    True
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from chainrule import ops
from chainrule._registry import Registry
from chainrule.autograd.engine import Tensor

__all__ = [
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "step",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def linear(x: Any) -> Any:
    """The identity, ``f(x) = x``; ``f'(x) = 1``.

    What a layer uses when it is given no activation (``activation=None``).

    Args:
        x: input Tensor, any shape.

    Returns:
        ``x`` itself, unchanged.

    Example:
        >>> import chainrule as cr
        >>> linear(cr.Tensor([-3.0]))
        Tensor([-3.], dtype=float32)
    """
    return x


def step(x: Any) -> Tensor:
    """The perceptron's binary step: ``f(x) = 1 if x > 0 else 0``; ``f'(x) = 0``.

    Not part of Keras. Because its derivative is zero everywhere (and undefined
    at 0), gradient descent cannot train through it: the perceptron learning
    rule updates the weights directly instead.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of 0s and 1s, ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> step(cr.Tensor([-1.0, 0.0, 0.5]))
        Tensor([0., 0., 1.], dtype=float32)
    """
    return ops.step(_tensor(x))


def sigmoid(x: Any) -> Tensor:
    """The logistic function ``f(x) = 1 / (1 + e^-x)``; ``f'(x) = f(x) (1 - f(x))``.

    Squashes any number into (0, 1); the derivative is at most 0.25 (at x = 0),
    which is why deep sigmoid networks see vanishing gradients. Followed by
    ``binary_crossentropy``, the loss is computed from ``x`` directly (stable,
    gradient ``f(x) - y``).

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in (0, 1).

    Example:
        >>> import chainrule as cr
        >>> sigmoid(cr.Tensor([0.0]))
        Tensor([0.5], dtype=float32)
    """
    return ops.sigmoid(_tensor(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent ``f(x) = (e^x - e^-x) / (e^x + e^-x)``; ``f'(x) = 1 - f(x)^2``.

    A zero-centred sigmoid with values in (-1, 1) and slope 1 at x = 0.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> tanh(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return ops.tanh(_tensor(x))


def relu(
    x: Any,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Tensor:
    """Rectified linear unit, ``f(x) = max(x, 0)``; ``f'(x) = 1 if x > 0 else 0``.

    With the optional arguments (Keras's general form):
    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for
    ``threshold < x < max_value``, and ``negative_slope * (x - threshold)``
    otherwise; the derivative is 0, 1 and ``negative_slope`` on those pieces.

    Args:
        x: input Tensor, any shape.
        negative_slope: slope below ``threshold``.
        max_value: the largest value returned (None for no limit).
        threshold: values at or below it are damped to ``negative_slope * (x - threshold)``.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> relu(cr.Tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), max_value=5.0)
        Tensor([0., 0., 0., 5., 5.], dtype=float32)
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(_tensor(x))
    x = _tensor(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return ops.leaky_relu(_tensor(x), negative_slope)
    if threshold != 0.0:
        y = ops.where(x > threshold, x, 0.0)
    else:
        y = ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if negative_slope != 0.0:
        below = ops.relu(threshold - x) if threshold != 0.0 else ops.relu(-x)
        y = y - negative_slope * below
    return y


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """Leaky ReLU, ``f(x) = x if x > 0 else negative_slope * x``; ``f'(x) = 1`` or ``negative_slope``.

    The small slope keeps a gradient flowing for negative inputs, so units
    cannot "die" as plain ReLU units can.

    Args:
        x: input Tensor, any shape.
        negative_slope: the slope for negative inputs (Keras's default 0.2).

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> leaky_relu(cr.Tensor([-1.0, 2.0]))
        Tensor([-0.2,  2. ], dtype=float32)
    """
    return ops.leaky_relu(_tensor(x), negative_slope)


def relu6(x: Any) -> Tensor:
    """ReLU capped at 6: ``f(x) = min(max(x, 0), 6)``; ``f'(x) = 1`` for ``0 < x < 6``, else 0.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in [0, 6].

    Example:
        >>> import chainrule as cr
        >>> relu6(cr.Tensor([-1.0, 3.0, 8.0]))
        Tensor([0., 3., 6.], dtype=float32)
    """
    return ops.clip(ops.relu(_tensor(x)), None, 6.0)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax, ``f(x)_i = e^{x_i} / sum_j e^{x_j}`` along ``axis``.

    Turns scores (logits) into probabilities that sum to 1. Its Jacobian is
    ``df_i/dx_j = f_i (delta_ij - f_j)``, so the gradient is
    ``f * (g - sum(f * g))`` for an incoming gradient ``g``. Followed by
    ``categorical_crossentropy`` (last axis), the loss is computed from ``x``
    directly: stable, with gradient ``f(x) - y``.

    Args:
        x: input Tensor with at least one dimension.
        axis: the axis that sums to 1 (the classes).

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        TypeError: if ``axis`` is not an integer.

    Example:
        >>> import chainrule as cr
        >>> softmax(cr.Tensor([[0.0, 0.0]]))
        Tensor([[0.5, 0.5]], dtype=float32)
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"softmax: axis must be an integer. Received: axis={axis!r}")
    return ops.softmax(_tensor(x), int(axis))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``f(x)_i = x_i - log(sum_j e^{x_j})`` along ``axis``, computed stably.

    The derivative: ``df_i/dx_j = delta_ij - softmax(x)_j``, so the gradient is
    ``g - softmax(x) * sum(g)``.

    Args:
        x: input Tensor with at least one dimension.
        axis: the axis to normalize over.

    Returns:
        A Tensor of ``x``'s shape (log-probabilities, all <= 0).

    Raises:
        TypeError: if ``axis`` is not an integer.

    Example:
        >>> import chainrule as cr
        >>> log_softmax(cr.Tensor([[0.0, 0.0]]))
        Tensor([[-0.6931472, -0.6931472]], dtype=float32)
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"log_softmax: axis must be an integer. Received: axis={axis!r}")
    return ops.log_softmax(_tensor(x), int(axis))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit, ``f(x) = x if x > 0 else alpha (e^x - 1)``.

    ``f'(x) = 1`` for ``x > 0`` and ``alpha e^x = f(x) + alpha`` otherwise.

    Args:
        x: input Tensor, any shape.
        alpha: the negative saturation value is ``-alpha``.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> elu(cr.Tensor([0.0, 2.0]))
        Tensor([0., 2.], dtype=float32)
    """
    return ops.elu(_tensor(x), alpha)


def selu(x: Any) -> Tensor:
    """Scaled ELU, ``f(x) = scale * (x if x > 0 else alpha (e^x - 1))``.

    With ``alpha = 1.67326324`` and ``scale = 1.05070098`` (Klambauer et al.,
    2017); ``f'(x) = scale`` for ``x > 0``, else ``scale * alpha * e^x``. Use it
    with the ``lecun_normal`` initializer.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> selu(cr.Tensor([1.0]))
        Tensor([1.050701], dtype=float32)
    """
    return ops.selu(_tensor(x))


def softplus(x: Any) -> Tensor:
    """``f(x) = log(1 + e^x)``, a smooth ReLU; ``f'(x) = sigmoid(x)``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with positive values.

    Example:
        >>> import chainrule as cr
        >>> softplus(cr.Tensor([0.0]))
        Tensor([0.6931472], dtype=float32)
    """
    return ops.softplus(_tensor(x))


def softsign(x: Any) -> Tensor:
    """``f(x) = x / (1 + |x|)``; ``f'(x) = 1 / (1 + |x|)^2``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in (-1, 1).

    Example:
        >>> import chainrule as cr
        >>> softsign(cr.Tensor([1.0]))
        Tensor([0.5], dtype=float32)
    """
    return ops.softsign(_tensor(x))


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit, ``f(x) = x * Phi(x) = x/2 (1 + erf(x / sqrt 2))``.

    ``f'(x) = Phi(x) + x * phi(x)``, with ``phi`` the standard normal density.
    With ``approximate=True``:
    ``f(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Args:
        x: input Tensor, any shape.
        approximate: use the tanh approximation instead of erf.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> gelu(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return ops.gelu(_tensor(x), approximate=bool(approximate))


def silu(x: Any) -> Tensor:
    """Swish / SiLU, ``f(x) = x * sigmoid(x)``; ``f'(x) = s + x s (1 - s)`` with ``s = sigmoid(x)``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> silu(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return ops.silu(_tensor(x))


swish = silu


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise-linear sigmoid, ``f(x) = clip(x / 6 + 1/2, 0, 1)`` (Keras 3's definition).

    ``f'(x) = 1/6`` for ``-3 < x < 3``, else 0.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in [0, 1].

    Example:
        >>> import chainrule as cr
        >>> hard_sigmoid(cr.Tensor([-4.0, 0.0, 4.0]))
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    return ops.hard_sigmoid(_tensor(x))


def hard_silu(x: Any) -> Tensor:
    """Hard swish, ``f(x) = x * hard_sigmoid(x)``.

    ``f'(x) = 0`` for ``x < -3``, ``x/3 + 1/2`` for ``-3 < x < 3``, and 1 for ``x > 3``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> hard_silu(cr.Tensor([-4.0, 4.0]))
        Tensor([-0.,  4.], dtype=float32)
    """
    x = _tensor(x)
    return x * ops.hard_sigmoid(x)


hard_swish = hard_silu


def log_sigmoid(x: Any) -> Tensor:
    """``f(x) = log(sigmoid(x)) = -softplus(-x)``, computed stably; ``f'(x) = 1 - sigmoid(x)``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values <= 0.

    Example:
        >>> import chainrule as cr
        >>> log_sigmoid(cr.Tensor([0.0]))
        Tensor([-0.6931472], dtype=float32)
    """
    return -ops.softplus(-_tensor(x))


def exponential(x: Any) -> Tensor:
    """``f(x) = e^x``; ``f'(x) = e^x``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> exponential(cr.Tensor([0.0]))
        Tensor([1.], dtype=float32)
    """
    return ops.exp(_tensor(x))


def mish(x: Any) -> Tensor:
    """Mish, ``f(x) = x * tanh(softplus(x))`` (Misra, 2019).

    ``f'(x) = t + x * sigmoid(x) * (1 - t^2)`` with ``t = tanh(softplus(x))``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> mish(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    x = _tensor(x)
    return x * ops.tanh(ops.softplus(x))


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: ``max(x, 0) + alpha (e^(min(x, 0) / alpha) - 1)``.

    ``f'(x) = 1`` for ``x > 0`` and ``e^(x / alpha)`` otherwise: unlike ELU
    with ``alpha != 1``, the slope is continuous at 0.

    Args:
        x: input Tensor, any shape.
        alpha: the negative saturation value is ``-alpha`` (nonzero). Defaults to 1.0.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> celu(cr.Tensor([-1.0, 2.0]), alpha=2.0)
        Tensor([-0.78693867,  2.        ], dtype=float32)
    """
    return ops.celu(_tensor(x), alpha=alpha)


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)``, ``a, b`` the halves of ``x`` along ``axis``.

    ``df/da = sigmoid(b)``, ``df/db = a sigmoid(b) (1 - sigmoid(b))``.

    Args:
        x: input Tensor; ``x.shape[axis]`` must be even.
        axis: the axis split in two. Defaults to -1.

    Returns:
        A Tensor with ``x.shape[axis]`` halved.

    Example:
        >>> import chainrule as cr
        >>> glu(cr.Tensor([[2.0, 0.0]]))
        Tensor([[1.]], dtype=float32)
    """
    return ops.glu(_tensor(x), axis=axis)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """Hard shrinkage, ``f(x) = x if |x| > threshold else 0``; ``f'(x)`` is 1 or 0 likewise.

    Args:
        x: input Tensor, any shape.
        threshold: a number. Defaults to 0.5.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> hard_shrink(cr.Tensor([-0.4, 0.6]))
        Tensor([0. , 0.6], dtype=float32)
    """
    return ops.hard_shrink(_tensor(x), threshold=threshold)


def hard_tanh(x: Any) -> Tensor:
    """HardTanh, ``f(x) = clip(x, -1, 1)``; ``f'(x) = 1`` on [-1, 1], else 0.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in [-1, 1].

    Example:
        >>> import chainrule as cr
        >>> hard_tanh(cr.Tensor([-2.0, 0.3]))
        Tensor([-1. ,  0.3], dtype=float32)
    """
    return ops.hard_tanh(_tensor(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """Soft shrinkage: ``x`` moved ``threshold`` towards 0, and 0 on ``[-threshold, threshold]``.

    ``f(x) = x - threshold`` above ``threshold``, ``x + threshold`` below
    ``-threshold``; ``f'(x) = 1`` where ``|x| > threshold``, else 0.

    Args:
        x: input Tensor, any shape.
        threshold: a number. Defaults to 0.5.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> soft_shrink(cr.Tensor([-1.0, 0.2, 1.0]))
        Tensor([-0.5,  0. ,  0.5], dtype=float32)
    """
    return ops.soft_shrink(_tensor(x), threshold=threshold)


def sparse_sigmoid(x: Any) -> Tensor:
    """SparseSigmoid: ``0`` for ``x <= -1``, ``(x + 1) / 2`` for ``|x| < 1``, ``1`` for ``x >= 1``.

    A sigmoid made piecewise linear (Keras 3's ``sparse_sigmoid``): outputs are exactly
    0 or 1 outside ``(-1, 1)``, where the gradient is 0; inside it is 1/2. Composed of
    ``ops.clip`` of ``(x + 1) / 2``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> sparse_sigmoid(cr.Tensor([-2.0, 0.0, 0.5, 3.0]))
        Tensor([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    return ops.clip((_tensor(x) + 1.0) * 0.5, 0.0, 1.0)


def sparse_plus(x: Any) -> Tensor:
    """SparsePlus: ``0`` for ``x <= -1``, ``(x + 1)^2 / 4`` for ``|x| < 1``, ``x`` for ``x >= 1``.

    ``f'(x)`` is 0, ``(x + 1) / 2`` and 1 on the three pieces: a ReLU smoothed
    between -1 and 1.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> sparse_plus(cr.Tensor([-1.0, 0.0, 1.0]))
        Tensor([0.  , 0.25, 1.  ], dtype=float32)
    """
    return ops.sparse_plus(_tensor(x))


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Sparsemax, ``f(x) = max(x - tau, 0)``: the projection onto the probability simplex.

    ``tau`` makes the outputs sum to 1 along ``axis``; unlike softmax, small
    inputs get exactly 0. With ``S`` the outputs above 0 (``k`` of them), the
    gradient is ``dx = dy - mean(dy over S)`` on ``S`` and 0 elsewhere.

    Args:
        x: input Tensor, at least 1-D.
        axis: the axis the outputs sum to 1 along. Defaults to -1.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> sparsemax(cr.Tensor([[1.0, 0.0, -1.0]]))
        Tensor([[1., 0., 0.]], dtype=float32)
    """
    return ops.sparsemax(_tensor(x), axis=axis)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """Squareplus, ``f(x) = (x + sqrt(x^2 + b)) / 2``; ``f'(x) = (1 + x / sqrt(x^2 + b)) / 2``.

    Args:
        x: input Tensor, any shape.
        b: the smoothness near 0, >= 0 (0 gives ReLU). Defaults to 4.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> squareplus(cr.Tensor([0.0]))
        Tensor([1.], dtype=float32)
    """
    return ops.squareplus(_tensor(x), b=b)


def tanh_shrink(x: Any) -> Tensor:
    """Tanh shrink, ``f(x) = x - tanh(x)``; ``f'(x) = tanh(x)^2``.

    Args:
        x: input Tensor, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> tanh_shrink(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return ops.tanh_shrink(_tensor(x))


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """Threshold: ``f(x) = x if x > threshold else default_value``.

    ``f'(x)`` is 1 above ``threshold``, else 0.

    Args:
        x: input Tensor, any shape.
        threshold: a number.
        default_value: the value of the elements at or below ``threshold``.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> threshold(cr.Tensor([0.0, 2.0]), threshold=1.0, default_value=0.0)
        Tensor([0., 2.], dtype=float32)
    """
    return ops.threshold(_tensor(x), threshold, default_value)


# -- registry ------------------------------------------------------------------

_ACTIVATIONS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        linear, step, sigmoid, tanh, relu, leaky_relu, relu6, softmax, log_softmax, elu,
        selu, softplus, softsign, gelu, silu, hard_sigmoid, hard_silu, log_sigmoid,
        exponential, mish, celu, glu, hard_shrink, hard_tanh, soft_shrink, sparse_plus, sparse_sigmoid,
        sparsemax, squareplus, tanh_shrink, threshold,
    )
}
_ALIASES: dict[str, Callable[..., Any]] = {"swish": silu, "hard_swish": hard_silu}
_TABLE: dict[str, Callable[..., Any]] = {**_ACTIVATIONS, **_ALIASES}
_REGISTRY = Registry(
    kind="activation",
    module="chainrule.activations",
    none=linear,
    names=_TABLE,
    functions=_TABLE,  # with no classes, {"class_name": "relu"} names a function too
    strict_names=True,
    get_error=(
        TypeError,
        "Could not interpret activation identifier: expected None, a name, a config dict or "
        "a function. Received: identifier={value!r}",
    ),
    serialize_error=(
        ValueError,
        "Only named functions can be serialized as activations; define the function with `def` "
        "instead of a lambda. Received: activation={value!r}",
    ),
    config_error=(
        TypeError,
        "deserialize expects an activation name or a dict with 'class_name' and 'config'. "
        "Received: config={value!r}",
    ),
)


def get(identifier: Any) -> Callable[..., Any]:
    """Return the activation function an identifier stands for.

    Args:
        identifier: None (the identity, :func:`linear`), a name such as
            ``"relu"`` (case-insensitive), a config dict from :func:`serialize`-style
            saving (``{"class_name": "function", "config": "relu"}``), or a
            callable (returned as is).

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for any other kind of identifier.

    Example:
        >>> get(None) is linear
        True
        >>> get("swish") is silu
        True
    """
    return _REGISTRY.get(identifier)


def serialize(activation: Callable[..., Any]) -> str:
    """Return the name an activation is saved under.

    Args:
        activation: one of this module's functions, or a named function of your
            own (load it back with ``deserialize(name, custom_objects={name: fn})``).

    Returns:
        The function's name (``"silu"`` for ``swish``, which is the same function).

    Raises:
        ValueError: for a lambda or a callable without a name.

    Example:
        >>> serialize(relu)
        'relu'
    """
    return _REGISTRY.serialize_name(activation)


def deserialize(config: Any, custom_objects: dict | None = None) -> Callable[..., Any]:
    """Return the activation function named by ``config``.

    Args:
        config: a name, or a dict ``{"class_name": "function", "config": name}``
            (Keras's layout for functions) or ``{"class_name": name}``.
        custom_objects: optional ``{name: function}`` for activations of your own.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for a config of another type.

    Example:
        >>> deserialize({"class_name": "function", "config": "tanh"}) is tanh
        True
    """
    return _REGISTRY.deserialize(config, custom_objects)

"""Spectral normalization of a weight in place, by power iteration (the op behind
:class:`chainrule.layers.SpectralNormalization`).

An op rather than ``Variable.assign`` calls in a layer's ``call``: a captured
training step replays it at every step, as it replays
:func:`chainrule.ops.assign_moving_average`.
"""

from __future__ import annotations

from typing import Any

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.autograd.variable import Variable

__all__ = ["assign_spectral_normalization"]

_EPSILON = 1e-7  # the floor of a norm (Keras's ops.normalize: x * min(1 / |x|, 1 / eps))


def _normalize(xp: Any, x: Any) -> Any:
    norm = xp.sqrt(xp.sum(x * x))
    return x * min(1.0 / float(norm) if norm > 0 else float("inf"), 1.0 / _EPSILON)


class SpectralNormalize(Function):
    """``kernel /= sigma`` and ``u = `` the power iteration's right singular vector, in place.

    ``sigma`` estimates the largest singular value of the kernel seen as a matrix
    ``(-1, kernel.shape[-1])``, by ``iterations`` steps of power iteration from
    ``u`` (``(1, kernel.shape[-1])``). An all-zero kernel is left as it is. Not
    differentiable: the layer then uses the new kernel as a weight.
    """

    differentiable = False

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations

    def forward(self, kernel, u):
        xp = backend.xp
        if not xp.any(kernel):
            return u.copy()
        w = kernel.reshape(-1, kernel.shape[-1])
        new_u = u
        for _ in range(self.iterations):
            v = _normalize(xp, new_u @ w.T)
            new_u = _normalize(xp, v @ w)
        sigma = (v @ w @ new_u.T).reshape(())
        kernel /= sigma.astype(kernel.dtype)
        u[...] = new_u.astype(u.dtype)
        return u.copy()

    def backward(self, gy):  # pragma: no cover - never called: not differentiable
        return (None, None)


def assign_spectral_normalization(kernel: Variable, vector_u: Variable,
                                  power_iterations: int = 1) -> Tensor:
    """Divide ``kernel`` by its largest singular value, estimated by power iteration, in place.

    With ``W = kernel.reshape(-1, n)`` (``n = kernel.shape[-1]``) and ``u`` of shape
    ``(1, n)``, each iteration sets ``v = normalize(u W^T)``, ``u = normalize(v W)``;
    then ``sigma = v W u^T``, ``kernel /= sigma`` and ``vector_u = u`` (Keras's
    ``SpectralNormalization`` update; ``normalize`` floors the norm at 1e-7). An
    all-zero kernel is left unchanged. Not differentiable.

    Args:
        kernel: the weight :class:`~chainrule.layers.Variable` to normalize.
        vector_u: the ``(1, n)`` Variable holding the power iteration's state.
        power_iterations: the number of iterations (positive).

    Returns:
        A Tensor with a copy of the new ``vector_u``.

    Raises:
        TypeError: when ``kernel`` or ``vector_u`` is not a Variable.
        ValueError: for a ``vector_u`` of another shape or a bad ``power_iterations``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> k = cr.layers.Variable(np.diag([3.0, 1.0]))
        >>> u = cr.layers.Variable([[1.0, 0.0]], trainable=False)
        >>> _ = assign_spectral_normalization(k, u)
        >>> k.numpy().round(4).tolist()
        [[1.0, 0.0], [0.0, 0.3333]]
    """
    for name, var in (("kernel", kernel), ("vector_u", vector_u)):
        if not isinstance(var, Variable):
            raise TypeError(f"assign_spectral_normalization updates Variables (layer weights). "
                            f"Received: {name} of type {type(var).__name__}")
    n = tuple(kernel.shape)[-1] if len(kernel.shape) else None
    if tuple(vector_u.shape) != (1, n):
        raise ValueError(f"assign_spectral_normalization: vector_u must have shape (1, {n}). "
                         f"Received: vector_u of shape {tuple(vector_u.shape)}")
    if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or \
            power_iterations < 1:
        raise ValueError("assign_spectral_normalization: power_iterations must be a positive "
                         f"integer. Received: power_iterations={power_iterations!r}")
    return SpectralNormalize(power_iterations)(kernel, vector_u)

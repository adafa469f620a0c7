"""Numerical differentiation, gradient checking and gradient descent on plain functions.

These are seed 004's lessons (§4.3-4.4) as tools: the central-difference
derivative of any function of a NumPy array, a comparison of the engine's
gradients with numerical ones, and gradient descent that tells you when the
learning rate was too large or too small.

Example:
    >>> import numpy as np
    >>> f = lambda x: x[0] ** 2 + x[1] ** 2
    >>> numerical_gradient(f, np.array([3.0, 4.0]))
    array([6., 8.])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from chainrule.autograd.engine import Tensor

__all__ = [
    "numerical_gradient",
    "check_gradients",
    "GradientCheckResult",
    "gradient_descent",
    "GradientDescentResult",
]


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, h: float = 1e-4) -> np.ndarray:
    """Central-difference gradient ``(f(x + h) - f(x - h)) / 2h`` of a scalar function.

    Each element of ``x`` is nudged in turn (and restored), exactly as seed 004
    teaches; ``x`` may have any shape.

    Args:
        f: a function of one array returning a number.
        x: the point, an array of any shape (converted to float64).
        h: the step; 1e-4 (the seed's choice) balances truncation and rounding.

    Returns:
        The gradient, a float64 array of ``x``'s shape.

    Raises:
        ValueError: if ``h`` is not positive or ``f`` does not return a number.

    Example:
        >>> numerical_gradient(lambda x: (x ** 2).sum(), np.array([[1.0, -2.0]]))
        array([[ 2., -4.]])
    """
    if not isinstance(h, (int, float)) or not h > 0:
        raise ValueError(f"h must be a positive number. Received: h={h!r}")
    if not callable(f):
        raise TypeError(f"f must be callable. Received: f of type {type(f).__name__}")
    x = np.array(x, dtype=np.float64, order="C")  # C order: reshape(-1) must be a view
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = _scalar(f(x), "f")
        flat[i] = old - h
        fm = _scalar(f(x), "f")
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def _scalar(v: Any, name: str) -> float:
    if isinstance(v, Tensor):
        v = v.data
    arr = np.asarray(v, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(
            f"{name} must return a single number. Received: a value of shape {arr.shape}"
        )
    return float(arr.reshape(()))


@dataclass
class GradientCheckResult:
    """What :func:`check_gradients` found.

    Attributes:
        max_rel_errors: per input, the worst relative error between the engine's
            and the numerical gradient (``|a - n| / max(|a|, |n|, 1e-8)``);
            None for inputs that do not require grad.
        analytic: the engine's gradients, per input.
        numeric: the numerical gradients, per input.
        tolerance: the tolerance used.
    """

    max_rel_errors: list
    analytic: list = field(repr=False)
    numeric: list = field(repr=False)
    tolerance: float = 1e-6

    @property
    def ok(self) -> bool:
        """True when every checked input is within tolerance."""
        return all(e is None or e <= self.tolerance for e in self.max_rel_errors)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = []
        for i, e in enumerate(self.max_rel_errors):
            if e is None:
                lines.append(f"input {i}: not checked (requires_grad=False)")
            else:
                verdict = "ok" if e <= self.tolerance else "MISMATCH"
                lines.append(f"input {i}: worst relative error {e:.3e} ({verdict})")
        return "\n".join(lines)


def check_gradients(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    tolerance: float = 1e-6,
    seed: int = 0,
) -> GradientCheckResult:
    """Compare the engine's gradients of ``fn`` with central differences, in float64.

    Inputs are converted to float64 Tensors that require grad (integer arrays
    are passed through unchanged and not checked, e.g. class labels). When
    ``fn`` returns a non-scalar, the check differentiates ``sum(fn(...) * r)``
    for a fixed random ``r``, which tests every output element at once.

    Args:
        fn: a function of Tensors returning a Tensor.
        *inputs: arrays (or Tensors) to evaluate at.
        eps: the finite-difference step.
        tolerance: the largest acceptable relative error.
        seed: seed for the random projection ``r``.

    Returns:
        A :class:`GradientCheckResult`; truthy when all inputs pass, and its
        ``str`` reports the worst relative error per input.

    Example:
        >>> import chainrule as cr
        >>> r = check_gradients(lambda a, b: cr.ops.sum(a * b), np.ones(3), np.arange(3.0))
        >>> r.ok
        True
    """
    tensors = []
    for i, x in enumerate(inputs):
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind == "f" or data.dtype.kind == "O":
            tensors.append(Tensor(np.array(data, dtype=np.float64), requires_grad=True))
        elif data.dtype.kind in "biu":
            tensors.append(Tensor(data))
        else:
            raise TypeError(
                f"check_gradients: input {i} must be numeric. Received: dtype {data.dtype}"
            )
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"check_gradients: fn must return a Tensor. Received: {type(out).__name__}"
        )
    r = np.random.default_rng(seed).standard_normal(out.shape) if out.data.size != 1 else None

    def scalar(*ts: Tensor) -> Tensor:
        y = fn(*ts)
        return (y * r).sum() if r is not None else y.sum()

    loss = scalar(*tensors)
    loss.backward()
    errors, analytic, numeric = [], [], []
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            errors.append(None)
            analytic.append(None)
            numeric.append(None)
            continue
        a = np.zeros_like(t.data) if t.grad is None else np.asarray(t.grad, dtype=np.float64)

        def f_i(v: np.ndarray, i: int = i) -> float:
            args = [Tensor(v) if j == i else tensors[j] for j in range(len(tensors))]
            return float(scalar(*args).data)

        n = numerical_gradient(f_i, t.data, h=eps)
        denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)
        errors.append(float((np.abs(a - n) / denom).max()) if a.size else 0.0)
        analytic.append(a)
        numeric.append(n)
    return GradientCheckResult(errors, analytic, numeric, tolerance)


class GradientDescentResult:
    """The outcome of :func:`gradient_descent`.

    Unpacks as ``x, path = result`` (the seed's two values), and says what
    happened: ``status`` is ``'converged'``, ``'diverged'``, ``'barely moved'``
    or ``'max steps'``, with ``message`` a sentence a learner can act on.

    Attributes:
        x: the final point.
        path: every point visited, shape ``(steps + 1, *x.shape)``.
        values: ``f`` at every point of the path.
        status: one of the statuses above.
        message: an explanation.
    """

    def __init__(self, x: np.ndarray, path: np.ndarray, values: np.ndarray, status: str, message: str):
        self.x, self.path, self.values = x, path, values
        self.status, self.message = status, message

    @property
    def converged(self) -> bool:
        """True when the gradient became (almost) zero."""
        return self.status == "converged"

    @property
    def diverged(self) -> bool:
        """True when the values grew without bound."""
        return self.status == "diverged"

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.x, self.path))

    def __repr__(self) -> str:
        return f"GradientDescentResult(x={self.x!r}, status={self.status!r}, steps={len(self.path) - 1})"


def gradient_descent(
    f: Callable[[np.ndarray], Any],
    init_x: Any,
    lr: float = 0.01,
    step_num: int = 100,
    tol: float = 1e-8,
) -> GradientDescentResult:
    """Minimize ``f`` by repeating ``x -= lr * grad f(x)`` with numerical gradients.

    Args:
        f: a function of one array returning a number.
        init_x: the starting point.
        lr: the learning rate.
        step_num: how many steps to take.
        tol: the gradient norm below which the descent counts as converged.

    Returns:
        A :class:`GradientDescentResult` (unpacks as ``x, path``) whose
        ``status`` says whether it converged, diverged or barely moved.

    Example:
        >>> f = lambda x: x[0] ** 2 + x[1] ** 2
        >>> x, path = gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
        >>> np.round(x, 6)
        array([-0., 0.])
    """
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr must be a positive number. Received: lr={lr!r}")
    if isinstance(step_num, bool) or not isinstance(step_num, (int, np.integer)) or step_num < 0:
        raise ValueError(f"step_num must be a non-negative integer. Received: step_num={step_num!r}")
    x = np.array(init_x, dtype=np.float64)
    path, values = [x.copy()], [_scalar(f(x), "f")]
    status = "max steps"
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(step_num)):
            g = numerical_gradient(f, x)
            if np.sqrt((g * g).sum()) < tol:
                # a vanishing numerical gradient far uphill is lost precision, not a minimum
                status = "converged" if values[-1] <= values[0] else "diverged"
                break
            x = x - lr * g
            path.append(x.copy())
            values.append(_scalar(f(x), "f"))
            blown_up = values[-1] > 1e8 * max(abs(values[0]), 1.0)
            if blown_up or not np.isfinite(values[-1]) or not np.all(np.isfinite(x)):
                status = "diverged"
                break
    path_arr, vals = np.array(path), np.array(values)
    start, end = vals[0], vals[-1]
    moved = float(np.abs(path_arr[-1] - path_arr[0]).max()) if len(path_arr) > 1 else 0.0
    scale = max(float(np.abs(path_arr[0]).max()), 1.0)
    if status == "max steps":
        g_end = numerical_gradient(f, x)
        if np.sqrt((g_end * g_end).sum()) < max(tol, 1e-6) and end <= start:
            status = "converged"
        elif end > start or (abs(end) > 1e6 * max(abs(start), 1.0)):
            status = "diverged"
        elif moved < 1e-3 * scale:
            status = "barely moved"
    messages = {
        "converged": f"converged: the gradient vanished at x = {np.round(x, 6).tolist()} "
        f"(f = {end:.6g}).",
        "diverged": f"diverged: f grew from {start:.6g} to {end:.6g}; the learning rate "
        f"lr={lr} is too large for this function. Try a smaller one.",
        "barely moved": f"barely moved: after {len(path_arr) - 1} steps x changed by at most "
        f"{moved:.3g}; the learning rate lr={lr} is too small. Try a larger one.",
        "max steps": f"stopped after {len(path_arr) - 1} steps without converging "
        f"(f went from {start:.6g} to {end:.6g}); take more steps or a larger learning rate.",
    }
    return GradientDescentResult(x, path_arr, vals, status, messages[status])

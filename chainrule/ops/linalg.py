"""Products and norms: ``einsum`` (forward and backward by einsum), ``tensordot``, ``dot``,
``outer``, ``norm``, ``normalize``.

``tensordot``, ``outer`` and N-D ``dot`` are written as einsums, so their
gradients are einsum's; norms are compositions of existing ops.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input, raw
from chainrule.ops.math import abs as _abs
from chainrule.ops.math import cast, divide, matmul, maximum, multiply, power, sqrt, square
from chainrule.ops.reduce import max as _max
from chainrule.ops.reduce import min as _min
from chainrule.ops.reduce import sum as _sum
from chainrule.ops.shaping import expand_dims, reshape

__all__ = ["einsum", "tensordot", "dot", "outer", "norm", "normalize"]


def _parse(subscripts: str, shapes: list) -> tuple:
    """Explicit subscripts: every ``...`` replaced by letters, and the output spelled out."""
    s = subscripts.replace(" ", "")
    ins, arrow, out = s.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise shape_error(f"einsum: the subscripts name {len(terms)} operands. Received: "
                          f"{len(shapes)} operands for subscripts {subscripts!r}")
    used = {c for c in s if c.isalpha()}
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = max([len(sh) - (len(t) - 3) for t, sh in zip(terms, shapes) if "..." in t] or [0])
    ell = "".join(free[:ell_n])
    full = []
    for t, sh in zip(terms, shapes):
        if "..." in t:
            k = len(sh) - (len(t) - 3)
            t = t.replace("...", ell[ell_n - k:] if k > 0 else "")
        if len(t) != len(sh) or not all(c.isalpha() for c in t):
            raise shape_error(f"einsum: subscripts {subscripts!r} do not fit operand shapes "
                              f"{[tuple(x) for x in shapes]}. Received: term {t!r} for shape "
                              f"{tuple(sh)}")
        full.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit output: the broadcast axes, then the letters used once, sorted
        counts = Counter("".join(full))
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    return full, out


def _matmul_pair(ta: str, tb: str, out: str, a: Any, b: Any) -> Any:
    """``einsum(f"{ta},{tb}->{out}", a, b)`` as one batched matmul (BLAS), or None.

    The letters in both terms and the output are the batch, those of one term and the output
    its rows or columns, those of both terms only the summed axis. NumPy's einsum does such a
    contraction in its own loop, up to ~50 times slower (attention scores). None when the plain
    einsum is the better or the only way: no letter summed, a repeated letter, a letter whose
    sizes differ (broadcast), or operands that are not floats.
    """
    if not (getattr(a, "dtype", None) is not None and getattr(b, "dtype", None) is not None
            and a.dtype.kind == "f" and b.dtype.kind == "f"):
        return None
    if len(set(ta)) < len(ta) or len(set(tb)) < len(tb) or len(set(out)) < len(out):
        return None
    size: dict = {}
    for t, x in ((ta, a), (tb, b)):
        for c, n in zip(t, x.shape):
            if size.setdefault(c, n) != n:
                return None
    if any(c not in size for c in out):
        return None
    summed = [c for c in ta if c in tb and c not in out]
    if not summed:
        return None
    alone_a = tuple(k for k, c in enumerate(ta) if c not in tb and c not in out)
    alone_b = tuple(k for k, c in enumerate(tb) if c not in ta and c not in out)
    if alone_a:  # a letter of one operand alone, not in the output: summed first
        a, ta = a.sum(axis=alone_a), "".join(c for k, c in enumerate(ta) if k not in alone_a)
    if alone_b:
        b, tb = b.sum(axis=alone_b), "".join(c for k, c in enumerate(tb) if k not in alone_b)
    batch = [c for c in out if c in ta and c in tb]
    rows = [c for c in out if c in ta and c not in tb]
    cols = [c for c in out if c in tb and c not in ta]

    def n(cs: list) -> int:
        return math.prod(size[c] for c in cs)

    left = a.transpose([ta.index(c) for c in batch + rows + summed]).reshape(
        n(batch), n(rows), n(summed))
    right = b.transpose([tb.index(c) for c in batch + summed + cols]).reshape(
        n(batch), n(summed), n(cols))
    order = batch + rows + cols
    y = np.matmul(left, right).reshape([size[c] for c in order])
    return y.transpose([order.index(c) for c in out])


def _contract(terms: list, out: str, arrays: list) -> Any:
    """``np.einsum`` of explicit ``terms -> out``; two float operands go through one matmul."""
    if len(arrays) == 2:
        y = _matmul_pair(terms[0], terms[1], out, arrays[0], arrays[1])
        if y is not None:
            return y
    return np.asarray(np.einsum(",".join(terms) + "->" + out, *arrays, optimize=len(arrays) > 2))


class Einsum(Function):
    """Einstein summation; the gradient of each operand is another einsum.

    Letters of an operand summed away on their own are broadcast back, axes of
    length 1 that were broadcast are summed, and repeated letters (a diagonal)
    write the gradient onto that diagonal.
    """

    def __init__(self, subscripts):
        self.subscripts = subscripts

    def forward(self, *xs):
        terms, out = _parse(self.subscripts, [np.shape(x) for x in xs])
        self.terms, self.out, self.xs = terms, out, xs
        try:
            return _contract(terms, out, list(xs))
        except ValueError as e:
            raise shape_error(f"einsum: operands of shapes {[np.shape(x) for x in xs]} do not "
                              f"fit subscripts {self.subscripts!r}. Received: ({e})") from None

    def backward(self, gy):
        terms, xs = self.terms, self.xs
        sizes: dict = {}
        for t, x in zip(terms, xs):
            for c, n in zip(t, np.shape(x)):
                sizes[c] = max(sizes.get(c, 1), n)
        grads = []
        for i, (t, x) in enumerate(zip(terms, xs)):
            if not self.needs[i]:
                grads.append(None)
                continue
            others = [terms[j] for j in range(len(xs)) if j != i] + [self.out]
            arrays = [xs[j] for j in range(len(xs)) if j != i] + [gy]
            uniq = "".join(dict.fromkeys(t))
            avail = set("".join(others))
            target = "".join(c for c in uniq if c in avail)
            g = _contract(others, target, arrays)
            if target != uniq:  # letters only this operand had: summed in forward, broadcast back
                g = np.broadcast_to(g.reshape([sizes[c] if c in target else 1 for c in uniq]),
                                    [sizes[c] for c in uniq])
            own = dict(zip(t, np.shape(x)))
            axes = tuple(k for k, c in enumerate(uniq) if own[c] == 1 and g.shape[k] != 1)
            if axes:
                g = g.sum(axis=axes, keepdims=True)
            if uniq != t:  # a repeated letter: the gradient lives on that diagonal
                gx = np.zeros(np.shape(x), dtype=g.dtype)
                np.einsum(t + "->" + uniq, gx)[...] = g
                g = gx
            grads.append(g.astype(x.dtype, copy=False) if hasattr(x, "dtype") else g)
        return tuple(grads)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation over the operands (NumPy's rules: ``...``, implicit output).

    Args:
        subscripts: e.g. ``"ij,jk->ik"``, ``"bij,bjk->bik"``, ``"...i,i"``.
        *operands: Tensors, arrays or numbers.
        **kwargs: accepted for Keras compatibility (``optimize``, ignored: chainrule
            picks the contraction order for three or more operands).

    Returns:
        A Tensor; every operand gets a gradient (itself an einsum).

    Example:
        >>> import chainrule as cr
        >>> a = cr.Tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> cr.ops.einsum("ij,j->i", a, cr.Tensor([1.0, 1.0]))
        Tensor([3., 7.], dtype=float32)
    """
    if not isinstance(subscripts, str):
        raise ValueError(f"einsum: subscripts must be a string. Received: "
                         f"subscripts={subscripts!r}")
    if not operands:
        raise ValueError("einsum needs at least one operand. Received: no operands")
    return Einsum(subscripts)(*[as_input(x) for x in operands])


def _letters(n: int, skip: str = "") -> str:
    return "".join([c for c in string.ascii_letters if c not in skip][:n])


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """Sum products over the given axes of ``x1`` and ``x2`` (NumPy's ``tensordot``).

    Args:
        x1, x2: inputs.
        axes: an int ``n`` (the last ``n`` axes of ``x1`` with the first ``n`` of ``x2``),
            or a pair of axis lists.

    Returns:
        ``x1``'s free axes followed by ``x2``'s.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.tensordot(cr.Tensor(np.ones((2, 3))), cr.Tensor(np.ones((3, 4))), 1).shape
        (2, 4)
    """
    x1, x2 = as_input(x1), as_input(x2)
    n1, n2 = np.ndim(raw(x1)), np.ndim(raw(x2))
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(n1, n2):
            raise ValueError(f"tensordot: axes must be in [0, {min(n1, n2)}] for inputs with "
                             f"{n1} and {n2} dimensions. Received: axes={axes}")
        a_ax, b_ax = list(range(n1 - axes, n1)), list(range(int(axes)))
    else:
        a_ax, b_ax = ([int(v)] if isinstance(v, (int, np.integer)) else [int(w) for w in v]
                      for v in axes)
        if len(a_ax) != len(b_ax):
            raise ValueError(f"tensordot: both inputs need as many axes. Received: axes={axes}")
        a_ax, b_ax = [a % n1 for a in a_ax], [b % n2 for b in b_ax]
    a = _letters(n1)
    b = list(_letters(n2, a))
    for i, j in zip(a_ax, b_ax):
        b[j] = a[i]
    out = "".join(c for k, c in enumerate(a) if k not in a_ax) + "".join(
        c for k, c in enumerate(b) if k not in b_ax)
    return einsum(f"{a},{''.join(b)}->{out}", x1, x2)


def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's ``dot``: products of scalars, inner product of vectors, matrix product, and for
    N-D inputs a sum over the last axis of ``x1`` and the second-to-last of ``x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.dot(cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0]))
        Tensor(11., dtype=float32)
    """
    x1, x2 = as_input(x1), as_input(x2)
    n1, n2 = np.ndim(raw(x1)), np.ndim(raw(x2))
    if n1 == 0 or n2 == 0:
        return multiply(x1, x2)
    if n2 <= 2:
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-2]))


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product of the flattened inputs, shape ``(x1.size, x2.size)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.outer(cr.Tensor([1.0, 2.0]), cr.Tensor([1.0, 10.0]))
        Tensor([[ 1., 10.],
                [ 2., 20.]], dtype=float32)
    """
    return einsum("i,j->ij", reshape(as_input(x1), (-1,)), reshape(as_input(x2), (-1,)))


def _vector_norm(x: Any, ord: Any, axes: tuple, keepdims: bool) -> Tensor:  # noqa: A002
    if ord is None or ord == 2:
        return sqrt(_sum(square(x), axis=axes, keepdims=keepdims))
    if ord == math.inf:
        return _max(_abs(x), axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return _min(_abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        from chainrule.ops.math import compare  # noqa: PLC0415

        return _sum(cast(compare(x, 0, "!="), raw(x).dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return _sum(_abs(x), axis=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord {ord!r} is for matrices (give a 2-tuple axis). "
                         f"Received: ord={ord!r}")
    return power(_sum(power(_abs(x), float(ord)), axis=axes, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axes: tuple, keepdims: bool) -> Tensor:  # noqa: A002
    if ord is None or ord == "fro":
        return sqrt(_sum(square(x), axis=axes, keepdims=keepdims))
    row, col = axes
    if ord in (1, -1):
        inner, outer_ax = row, col
    elif ord in (math.inf, -math.inf):
        inner, outer_ax = col, row
    elif ord in (2, -2, "nuc"):  # from the singular values (the gradient goes through svd)
        from chainrule.ops.decompositions import svd  # noqa: PLC0415
        from chainrule.ops.indexing import moveaxis  # noqa: PLC0415

        sv = svd(moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
        y = {2: _max, -2: _min, "nuc": _sum}[ord](sv, axis=-1)
        if not keepdims:
            return y
        shape = list(np.shape(raw(x)))
        shape[row] = shape[col] = 1
        return reshape(y, tuple(shape))
    else:
        raise ValueError(f"norm: unknown matrix norm order; supported: None, 'fro', 'nuc', 1, "
                         f"-1, 2, -2, inf, -inf. Received: ord={ord!r}")
    s = _sum(_abs(x), axis=inner, keepdims=True)
    reduce = _max if ord in (1, math.inf) else _min
    y = reduce(s, axis=outer_ax, keepdims=True)
    if keepdims:
        return y
    shape = tuple(n for k, n in enumerate(np.shape(raw(y))) if k not in (row, col))
    return reshape(y, shape)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm (NumPy's ``linalg.norm`` rules).

    Args:
        x: input (integers are cast to ``floatx``).
        ord: for vectors None/2, 1, inf, -inf, 0 or any p; for matrices None/'fro',
            1, -1, inf, -inf, and 2, -2, 'nuc' (from the singular values, by ``svd``).
        axis: None (all of a 1-D or 2-D ``x``; with ``ord=None`` any rank, flattened),
            an int (vector norms) or a pair (matrix norms).
        keepdims: keep the reduced axes with length 1.

    Returns:
        The norm; differentiable (the 2-norm's gradient is ``x / norm``).

    Raises:
        ValueError: for an unknown matrix norm order.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.norm(cr.Tensor([3.0, 4.0]))
        Tensor(5., dtype=float32)
    """
    x = as_input(x)
    xd = raw(x)
    if xd.dtype.kind in "biu":
        x = cast(x, backend.floatx())
    nd = np.ndim(xd)
    if axis is None:
        if ord is None:
            return sqrt(_sum(square(x), axis=None, keepdims=keepdims)) if not keepdims else \
                sqrt(_sum(square(x), axis=tuple(range(nd)), keepdims=True))
        if nd not in (1, 2):
            raise ValueError(f"norm: with ord and no axis, x must be 1-D or 2-D. Received: x of "
                             f"shape {np.shape(xd)}, ord={ord!r}")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(int(a) % max(nd, 1) for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be an int or a pair. Received: axis={axis!r}")


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x / max(norm(x, order, axis), epsilon)`` (Keras's ``ops.normalize``).

    For ``order=2``, as Keras: ``x / sqrt(max(sum(x**2), epsilon**2))``, which
    keeps the gradient of a zero vector finite.

    Args:
        x: input.
        axis: the axis to normalize along.
        order: the norm's order, an int >= 1.
        epsilon: the smallest norm divided by (default ``backend.epsilon()``).

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.normalize(cr.Tensor([[3.0, 4.0]]))
        Tensor([[0.6, 0.8]], dtype=float32)
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1. Received: order={order!r}")
    x = as_input(x)
    if np.ndim(raw(x)) == 0:
        x = expand_dims(x, 0)
    eps = backend.epsilon() if epsilon is None else float(epsilon)
    if order == 2:
        return x / sqrt(maximum(_sum(square(x), axis=axis, keepdims=True), eps * eps))
    return divide(x, maximum(norm(x, ord=order, axis=axis, keepdims=True), eps))


# Keras's ``keras.ops.linalg`` namespace: the decompositions live in their own module (which
# does not import this one), and are reachable here as ``chainrule.ops.linalg.<name>``.
from chainrule.ops.decompositions import (  # noqa: E402
    cholesky,
    cholesky_inverse,
    det,
    eig,
    eigh,
    inv,
    lstsq,
    lu_factor,
    matrix_power,
    matrix_rank,
    pinv,
    qr,
    solve,
    solve_triangular,
    svd,
)

KERAS_LINALG_NAMES = ("cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq",
                      "lu_factor", "matrix_rank", "pinv", "qr", "solve", "solve_triangular",
                      "svd")
__all__ += ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor",
            "matrix_rank", "pinv", "qr", "solve", "solve_triangular", "svd", "matrix_power"]

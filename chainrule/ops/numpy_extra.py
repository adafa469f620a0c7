"""More of Keras 3's NumPy-like array ops: stacking and splitting, ``ravel``, ``rot90``,
``diff``, ``cross``, ``kron``, ``inner``, ``correlate``, ``trapezoid``, ``select``, creation
(``tri``, ``meshgrid``, ``logspace``...) and searching (``searchsorted``, ``bincount``...).

Array manipulation is composed of existing ops (``getitem``, ``concatenate``,
``reshape``, ``multiply``...), so every gradient comes from theirs. Searching
and counting return integer Tensors without gradient, computed by ops (so a
captured step recomputes them for each batch); creation ops make constants.

Example:
    >>> import chainrule as cr
    >>> cr.ops.hstack([cr.Tensor([1.0]), cr.Tensor([2.0, 3.0])])
    Tensor([1., 2., 3.], dtype=float32)
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.core import as_input, cast, convert_to_tensor, raw
from chainrule.ops.creation import _dtype, _host, _make, _shape_arg
from chainrule.ops.indexing import _axis_of, flip, take, where
from chainrule.ops.linalg import tensordot
from chainrule.ops.math import matmul, multiply, power, subtract
from chainrule.ops.math_extra import Copy
from chainrule.ops.reduce import sum
from chainrule.ops.shaping import broadcast_to, concatenate, getitem, reshape, stack, transpose

__all__ = [
    "unstack", "hstack", "vstack", "dstack", "column_stack", "array_split", "hsplit", "vsplit",
    "dsplit", "ravel", "append", "copy", "array", "get_item", "flipud", "fliplr", "rot90",
    "diff", "cross", "kron", "inner", "vdot", "correlate", "trapezoid", "vander", "select",
    "diagflat", "tri", "empty", "empty_like", "meshgrid", "geomspace", "logspace",
    "searchsorted", "digitize", "bincount", "histogram", "isin", "argpartition",
    "unravel_index", "bartlett", "blackman", "hamming", "hanning", "kaiser", "i0", "corrcoef",
    "view", "cdist", "extract_sequences",
]


def _nd(x: Any) -> int:
    return np.ndim(raw(x))


def _atleast(x: Any, n: int) -> Any:
    """``x`` with NumPy's ``atleast_2d``/``atleast_3d`` shape."""
    x = as_input(x)
    s = np.shape(raw(x))
    if len(s) >= n:
        return x
    if n == 2:
        return reshape(x, (1,) * (2 - len(s)) + s)
    new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]
    return reshape(x, new)


def _tensors(xs: Any, op: str) -> list:
    if not isinstance(xs, (list, tuple)) or len(xs) == 0:
        raise ValueError(f"{op} needs a non-empty list of tensors. Received: xs={xs!r}")
    return [as_input(x) for x in xs]


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list:
    """Split ``x`` along ``axis`` into a list of its slices (the axis removed).

    Args:
        x: input.
        num: the expected number of slices (checked when given).
        axis: the axis to unstack.

    Raises:
        ValueError: when ``num`` does not match the length of ``axis``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.unstack(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        [Tensor([1., 3.], dtype=float32), Tensor([2., 4.], dtype=float32)]
    """
    x = as_input(x)
    ax = _axis_of(x, axis, "unstack")
    n = np.shape(raw(x))[ax]
    if num is not None and int(num) != n:
        raise ValueError(f"unstack: num must equal the length {n} of axis {axis}. "
                         f"Received: num={num!r}")
    lead = (slice(None),) * ax
    return [getitem(x, lead + (i,)) for i in range(n)]


def hstack(xs: Sequence[Any]) -> Tensor:
    """Join along the second axis (the first for 1-D inputs).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.hstack([cr.ops.ones((2, 1)), cr.ops.zeros((2, 2))]).shape
        (2, 3)
    """
    ts = _tensors(xs, "hstack")
    return concatenate(ts, axis=0 if _nd(ts[0]) <= 1 else 1) if _nd(ts[0]) else \
        concatenate([reshape(t, (1,)) for t in ts], axis=0)


def vstack(xs: Sequence[Any]) -> Tensor:
    """Join along the first axis, 1-D inputs becoming rows.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.vstack([cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0])]).shape
        (2, 2)
    """
    return concatenate([_atleast(t, 2) for t in _tensors(xs, "vstack")], axis=0)


def dstack(xs: Sequence[Any]) -> Tensor:
    """Join along the third axis (inputs made at least 3-D as NumPy does).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.dstack([cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0])]).shape
        (1, 2, 2)
    """
    return concatenate([_atleast(t, 3) for t in _tensors(xs, "dstack")], axis=2)


def column_stack(xs: Sequence[Any]) -> Tensor:
    """Join 1-D inputs as columns (2-D inputs as they are) along the second axis.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.column_stack([cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0])])
        Tensor([[1., 3.],
                [2., 4.]], dtype=float32)
    """
    ts = [reshape(t, (-1, 1)) if _nd(t) < 2 else t for t in _tensors(xs, "column_stack")]
    return concatenate(ts, axis=1)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Split into ``n`` nearly equal parts (the first ones one longer), or at indices.

    Example:
        >>> import chainrule as cr
        >>> [t.shape for t in cr.ops.array_split(cr.ops.zeros((5,)), 3)]
        [(2,), (2,), (1,)]
    """
    x = as_input(x)
    ax = _axis_of(x, axis, "array_split")
    n = np.shape(raw(x))[ax]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(
            indices_or_sections, bool):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("array_split: the number of sections must be a positive integer. "
                             f"Received: indices_or_sections={k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        bounds = [0] + list(np.cumsum(sizes))
    else:
        bounds = [0] + [int(p) for p in indices_or_sections] + [n]
    lead = (slice(None),) * ax
    return [getitem(x, lead + (slice(int(a), builtins.max(int(a), int(b))),))
            for a, b in zip(bounds, bounds[1:])]


def _split_on(x: Any, indices_or_sections: Any, axis: int, op: str) -> list:
    from chainrule.ops.indexing import split  # noqa: PLC0415

    x = as_input(x)
    if _nd(x) <= axis:
        raise ValueError(f"{op}: needs at least {axis + 1} dimensions. Received: x of shape "
                         f"{np.shape(raw(x))}")
    return split(x, indices_or_sections, axis=axis)


def hsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along the second axis (the first for 1-D ``x``) into equal parts or at indices.

    Example:
        >>> import chainrule as cr
        >>> [t.shape for t in cr.ops.hsplit(cr.ops.zeros((2, 4)), 2)]
        [(2, 2), (2, 2)]
    """
    return _split_on(x, indices_or_sections, 0 if _nd(as_input(x)) == 1 else 1, "hsplit")


def vsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along the first axis (``x`` at least 2-D).

    Example:
        >>> import chainrule as cr
        >>> [t.shape for t in cr.ops.vsplit(cr.ops.zeros((4, 2)), [1])]
        [(1, 2), (3, 2)]
    """
    if _nd(as_input(x)) < 2:
        raise ValueError(f"vsplit: needs at least 2 dimensions. Received: x of shape "
                         f"{np.shape(raw(as_input(x)))}")
    return _split_on(x, indices_or_sections, 0, "vsplit")


def dsplit(x: Any, indices_or_sections: Any) -> list:
    """Split along the third axis (``x`` at least 3-D).

    Example:
        >>> import chainrule as cr
        >>> [t.shape for t in cr.ops.dsplit(cr.ops.zeros((1, 2, 4)), 2)]
        [(1, 2, 2), (1, 2, 2)]
    """
    return _split_on(x, indices_or_sections, 2, "dsplit")


def ravel(x: Any) -> Tensor:
    """``x`` flattened to 1-D (row-major).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ravel(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([1., 2., 3., 4.], dtype=float32)
    """
    return reshape(as_input(x), (-1,))


def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.append(cr.Tensor([[1.0, 2.0]]), cr.Tensor([[3.0, 4.0]]))
        Tensor([1., 2., 3., 4.], dtype=float32)
    """
    a, b = as_input(x1), as_input(x2)
    if axis is None:
        return concatenate([ravel(a), ravel(b)], axis=0)
    return concatenate([a, b], axis=axis)


def copy(x: Any) -> Tensor:
    """A copy of ``x`` (the gradient passes through).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.copy(cr.Tensor([1.0]))
        Tensor([1.], dtype=float32)
    """
    return Copy()(as_input(x))


def array(x: Any, dtype: Any = None) -> Tensor:
    """A Tensor from ``x`` (Keras's ``ops.array``, the same as ``convert_to_tensor``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.array([1, 2], dtype="float32")
        Tensor([1., 2.], dtype=float32)
    """
    return convert_to_tensor(x, dtype=dtype)


def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]`` (Keras's name for ``getitem``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.get_item(cr.Tensor([1.0, 2.0, 3.0]), 1)
        Tensor(2., dtype=float32)
    """
    return getitem(as_input(x), key)


def flipud(x: Any) -> Tensor:
    """Reverse the first axis.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.flipud(cr.Tensor([[1.0], [2.0]]))
        Tensor([[2.],
                [1.]], dtype=float32)
    """
    return flip(x, 0)


def fliplr(x: Any) -> Tensor:
    """Reverse the second axis (``x`` at least 2-D).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fliplr(cr.Tensor([[1.0, 2.0]]))
        Tensor([[2., 1.]], dtype=float32)
    """
    x = as_input(x)
    if _nd(x) < 2:
        raise ValueError(f"fliplr: needs at least 2 dimensions. Received: x of shape "
                         f"{np.shape(raw(x))}")
    return flip(x, 1)


def rot90(array: Any, k: int = 1, axes: tuple = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis toward
    the second, NumPy's direction).

    Raises:
        ValueError: for fewer than 2 dimensions or ``axes`` that are not two different axes.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.rot90(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([[2., 4.],
                [1., 3.]], dtype=float32)
    """
    x = as_input(array)
    nd = _nd(x)
    if nd < 2:
        raise ValueError(f"rot90: the input must have at least 2 dimensions. Received: "
                         f"array.ndim={nd}")
    ax = tuple(axes)
    if len(ax) != 2 or any(not -nd <= a < nd for a in ax) or ax[0] % nd == ax[1] % nd:
        raise ValueError(f"rot90: axes must be two different axes of the input. "
                         f"Received: axes={axes!r}")
    a0, a1 = ax[0] % nd, ax[1] % nd
    k = int(k) % 4
    if k == 0:
        return Copy()(x)
    if k == 2:
        return flip(flip(x, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(x, a1), perm)
    return flip(transpose(x, perm), a1)


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``: ``a[1:] - a[:-1]``, ``n`` times.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.diff(cr.Tensor([1.0, 4.0, 9.0, 16.0]), n=2)
        Tensor([2., 2.], dtype=float32)
    """
    x = as_input(a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: n must be a non-negative integer. Received: n={n!r}")
    ax = _axis_of(x, axis, "diff")
    lead = (slice(None),) * ax
    for _ in range(int(n)):
        x = subtract(getitem(x, lead + (slice(1, None),)), getitem(x, lead + (slice(None, -1),)))
    return x


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """Cross product of 3-D (or 2-D) vectors along the given axes (NumPy's ``cross``).

    Two 2-D vectors give the z component alone; a 2-D vector with a 3-D one is
    taken with a zero z component.

    Raises:
        ValueError: when a vector axis is not of length 2 or 3.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cross(cr.Tensor([1.0, 0.0, 0.0]), cr.Tensor([0.0, 1.0, 0.0]))
        Tensor([0., 0., 1.], dtype=float32)
    """
    from chainrule.ops.indexing import moveaxis  # noqa: PLC0415

    a, b = as_input(x1), as_input(x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = np.shape(raw(a))[-1], np.shape(raw(b))[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: both inputs must be vectors of 2 or 3 components along the "
                         f"chosen axes. Received: vectors of {na} and {nb} components")
    ac = [getitem(a, (Ellipsis, i)) for i in range(na)]
    bc = [getitem(b, (Ellipsis, i)) for i in range(nb)]
    if na == 2 and nb == 2:
        return ac[0] * bc[1] - ac[1] * bc[0]
    if na == 2:
        ac.append(None)
    if nb == 2:
        bc.append(None)

    def term(i: int, j: int) -> Any:
        if ac[i] is None or bc[j] is None:
            return None
        return multiply(ac[i], bc[j])

    def minus(p: Any, q: Any) -> Any:
        if p is None and q is None:
            return multiply(ac[0], 0.0) * bc[0]
        if q is None:
            return p
        return -q if p is None else p - q

    c = [minus(term(1, 2), term(2, 1)), minus(term(2, 0), term(0, 2)),
         minus(term(0, 1), term(1, 0))]
    shape = np.broadcast_shapes(*[np.shape(raw(t)) for t in c])
    out = stack([broadcast_to(t, shape) for t in c], axis=-1)
    return moveaxis(out, -1, axisc)


def kron(x1: Any, x2: Any) -> Tensor:
    """Kronecker product: blocks ``x1[i, j] * x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.kron(cr.Tensor([1.0, 2.0]), cr.Tensor([1.0, 10.0]))
        Tensor([ 1., 10.,  2., 20.], dtype=float32)
    """
    a, b = as_input(x1), as_input(x2)
    sa, sb = np.shape(raw(a)), np.shape(raw(b))
    nd = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    ia = reshape(a, [v for n in sa for v in (n, 1)])
    ib = reshape(b, [v for n in sb for v in (1, n)])
    return reshape(multiply(ia, ib), [p * q for p, q in zip(sa, sb)])


def inner(x1: Any, x2: Any) -> Tensor:
    """Sum of products over the last axes of ``x1`` and ``x2`` (a scalar scales).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.inner(cr.Tensor([1.0, 2.0]), cr.Tensor([3.0, 4.0]))
        Tensor(11., dtype=float32)
    """
    a, b = as_input(x1), as_input(x2)
    if _nd(a) == 0 or _nd(b) == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def vdot(x1: Any, x2: Any) -> Tensor:
    """Dot product of the flattened inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.vdot(cr.Tensor([[1.0, 2.0]]), cr.Tensor([3.0, 4.0]))
        Tensor(11., dtype=float32)
    """
    return sum(multiply(ravel(x1), ravel(x2)))


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """Cross-correlation of two 1-D tensors, ``c[k] = sum_n x1[n + k] * x2[n]`` (NumPy's).

    Args:
        x1, x2: 1-D inputs.
        mode: ``"valid"``, ``"same"`` or ``"full"``.

    Raises:
        ValueError: for inputs that are not 1-D, an empty one, or an unknown mode.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.correlate(cr.Tensor([1.0, 2.0, 3.0]), cr.Tensor([0.0, 1.0]), "full")
        Tensor([1., 2., 3., 0.], dtype=float32)
    """
    from chainrule.ops.arrays import pad  # noqa: PLC0415

    a, v = as_input(x1), as_input(x2)
    for name, t in (("x1", a), ("x2", v)):
        if raw(t).dtype.kind not in "fc":
            t = cast(t, backend.floatx())
            a, v = (t, v) if name == "x1" else (a, t)
    if _nd(a) != 1 or _nd(v) != 1 or not raw(a).size or not raw(v).size:
        raise ValueError(f"correlate: x1 and x2 must be non-empty 1-D tensors. Received: "
                         f"shapes {np.shape(raw(a))} and {np.shape(raw(v))}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full'. "
                         f"Received: mode={mode!r}")
    swap = np.shape(raw(v))[0] > np.shape(raw(a))[0]
    if swap:
        a, v = v, a
    n, m = np.shape(raw(a))[0], np.shape(raw(v))[0]
    left = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    right = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    if left or right:
        a = pad(a, [(left, right)])
    out_len = n + left + right - m + 1
    idx = np.arange(out_len)[:, None] + np.arange(m)[None, :]
    c = matmul(take(a, idx), v)
    return flip(c, 0) if swap else c


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (sample points ``x`` or a
    spacing ``dx``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.trapezoid(cr.Tensor([1.0, 2.0, 3.0]))
        Tensor(4., dtype=float32)
    """
    y = as_input(y)
    if raw(y).dtype.kind not in "fc":
        y = cast(y, backend.floatx())
    ax = _axis_of(y, axis, "trapezoid")
    nd = _nd(y)
    lead = (slice(None),) * ax
    mid = getitem(y, lead + (slice(1, None),)) + getitem(y, lead + (slice(None, -1),))
    if x is None:
        d = dx
    else:
        d = diff(x, axis=-1 if _nd(as_input(x)) == 1 else axis)
        if _nd(as_input(x)) == 1 and nd > 1:
            d = reshape(d, [-1 if k == ax else 1 for k in range(nd)])
    return sum(multiply(mid, d), axis=ax) * 0.5


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D ``x``: columns ``x**(N-1), ..., x, 1`` (reversed when
    ``increasing``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.vander(cr.Tensor([2.0, 3.0]), 3)
        Tensor([[4., 2., 1.],
                [9., 3., 1.]], dtype=float32)
    """
    x = as_input(x)
    if _nd(x) != 1:
        raise ValueError(f"vander: x must be 1-D. Received: x of shape {np.shape(raw(x))}")
    n = np.shape(raw(x))[0] if N is None else int(N)
    p = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return power(reshape(x, (-1, 1)), p.astype(raw(x).dtype))


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    """From ``choicelist``, the value of the first true condition of ``condlist``, else
    ``default`` (elementwise).

    Raises:
        ValueError: when the lists differ in length or are empty.

    Example:
        >>> import chainrule as cr
        >>> x = cr.Tensor([-1.0, 0.5, 3.0])
        >>> cr.ops.select([x < 0, x > 1], [-x, x * 10], default=0.0)
        Tensor([ 1.,  0., 30.], dtype=float32)
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)) \
            or len(condlist) != len(choicelist) or not condlist:
        raise ValueError("select: condlist and choicelist must be lists of the same non-zero "
                         f"length. Received: {len(condlist) if hasattr(condlist, '__len__') else condlist!r} "  # noqa: E501
                         f"conditions and {len(choicelist) if hasattr(choicelist, '__len__') else choicelist!r} choices")  # noqa: E501
    choices = [as_input(c) for c in choicelist]
    out = as_input(default)
    if not isinstance(out, Tensor) and hasattr(out, "dtype") and out.ndim == 0:
        ref = next((raw(c) for c in choices if hasattr(raw(c), "dtype")), None)
        if ref is not None:
            out = out.astype(np.result_type(ref, out) if ref.dtype.kind != "f" else ref.dtype)
    for cond, choice in reversed(list(zip(condlist, choices))):
        out = where(cond, choice, out)
    return out


def diagflat(x: Any, k: int = 0) -> Tensor:
    """The flattened ``x`` on the ``k``-th diagonal of a square matrix.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.diagflat(cr.Tensor([[1.0, 2.0]]))
        Tensor([[1., 0.],
                [0., 2.]], dtype=float32)
    """
    from chainrule.ops.indexing import diag  # noqa: PLC0415

    return diag(ravel(x), k)


# -- creation -----------------------------------------------------------------------------------


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """Ones at and below the ``k``-th diagonal, zeros above (shape ``(N, M)``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.tri(2, 3)
        Tensor([[1., 0., 0.],
                [1., 1., 0.]], dtype=float32)
    """
    return _make(np.tri(int(N), None if M is None else int(M), int(k), dtype=_dtype(dtype)))


def empty(shape: Sequence[int] | int, dtype: Any = None) -> Tensor:
    """A new tensor of ``shape`` (chainrule fills it with zeros, so it is never stale).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.empty((2,)).shape
        (2,)
    """
    return _make(np.zeros(_shape_arg(shape, "empty"), dtype=_dtype(dtype)))


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """A new tensor shaped like ``x`` (zeros; ``x``'s dtype unless ``dtype``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.empty_like(cr.Tensor([1.0, 2.0])).shape
        (2,)
    """
    a = raw(as_input(x))
    return _make(np.zeros(np.shape(a), dtype=_dtype(dtype, a.dtype)))


def meshgrid(*x: Any, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D tensors (``"xy"``: Cartesian, ``"ij"``: matrix indexing).

    Example:
        >>> import chainrule as cr
        >>> [g.shape for g in cr.ops.meshgrid(cr.Tensor([1.0, 2.0, 3.0]), cr.Tensor([4.0, 5.0]))]
        [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij'. Received: "
                         f"indexing={indexing!r}")
    ts = [ravel(t) for t in x]
    n = len(ts)
    sizes = [np.shape(raw(t))[0] for t in ts]
    out_shape = list(sizes)
    if indexing == "xy" and n >= 2:
        out_shape[0], out_shape[1] = out_shape[1], out_shape[0]
    grids = []
    for i, t in enumerate(ts):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = sizes[i]
        grids.append(broadcast_to(reshape(t, shape), out_shape))
    return grids


def _space_dtype(start: Any, stop: Any, dtype: Any) -> np.dtype:
    if dtype is not None:
        return _dtype(dtype)
    kinds = [getattr(v, "dtype", None) for v in (start, stop)]
    if any(k is not None and np.dtype(k) == np.float64 for k in kinds):
        return np.dtype("float64")
    return np.dtype(backend.floatx())


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Tensor:
    """``num`` numbers evenly spaced on a log scale from ``start`` to ``stop``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.geomspace(1.0, 100.0, 3)
        Tensor([  1.,  10., 100.], dtype=float32)
    """
    return _make(np.geomspace(_host(start), _host(stop), num=int(num), endpoint=endpoint,
                              axis=axis).astype(_space_dtype(start, stop, dtype)))


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: Any = None, axis: int = 0) -> Tensor:
    """``base ** linspace(start, stop, num)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logspace(0.0, 2.0, 3)
        Tensor([  1.,  10., 100.], dtype=float32)
    """
    return _make(np.logspace(_host(start), _host(stop), num=int(num), endpoint=endpoint,
                             base=base, axis=axis).astype(_space_dtype(start, stop, dtype)))


# -- searching and counting (no gradient) -------------------------------------------------------


class NoGrad(Function):
    """A NumPy function of the inputs whose result carries no gradient (``fn`` and its
    keyword settings are the op's configuration)."""

    differentiable = False

    def __init__(self, fn, kwargs=None):
        self.fn, self.kwargs = fn, kwargs or {}

    def forward(self, *xs):
        return self.fn(*xs, **self.kwargs)

    def backward(self, gy):
        return (None,) * len(self.inputs)


def _searchsorted(seq, values, side):
    out = np.searchsorted(seq, values, side=side)
    return out.astype(np.int32 if seq.shape[0] <= np.iinfo(np.int32).max else np.int64)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Where ``values`` would go in the 1-D ``sorted_sequence`` to keep it sorted (int32).

    Args:
        sorted_sequence: a sorted 1-D tensor.
        values: the values to place.
        side: ``"left"`` (the first suitable index) or ``"right"`` (the last).

    Raises:
        ValueError: for a sequence that is not 1-D or an unknown ``side``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.searchsorted(cr.Tensor([1.0, 2.0, 3.0]), cr.Tensor([2.0, 2.5]))
        Tensor([1, 2], dtype=int32)
    """
    seq, v = as_input(sorted_sequence), as_input(values)
    if _nd(seq) != 1:
        raise ValueError("searchsorted: sorted_sequence must be 1-D (use ops.vectorized_map "
                         "for more dimensions). Received: sorted_sequence of shape "
                         f"{np.shape(raw(seq))}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right'. Received: side={side!r}")
    return NoGrad(_searchsorted, {"side": side})(seq, v)


def _digitize(x, bins):
    return np.digitize(x, bins).astype(np.int32)


def digitize(x: Any, bins: Any) -> Tensor:
    """The index of the bin of each element of ``x`` (NumPy's ``digitize``), int32.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.digitize(cr.Tensor([0.5, 1.5, 3.0]), [1.0, 2.0])
        Tensor([0, 1, 2], dtype=int32)
    """
    b = as_input(bins)
    if _nd(b) != 1:
        raise ValueError(f"digitize: bins must be 1-D. Received: bins of shape "
                         f"{np.shape(raw(b))}")
    return NoGrad(_digitize)(as_input(x), b)


def _bincount(x, *weights, minlength=0):
    w = weights[0] if weights else None
    dtype = np.int32 if w is None else w.dtype
    if x.ndim == 2:
        rows = [np.bincount(x[i], None if w is None else w[i], minlength) for i in range(len(x))]
        n = builtins.max([len(r) for r in rows] + [minlength])
        return np.stack([np.pad(r, (0, n - len(r))) for r in rows]).astype(dtype)
    return np.bincount(x, w, minlength).astype(dtype)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """Count each non-negative integer of ``x`` (weighted by ``weights``); a 2-D ``x`` counts
    each row. No gradient.

    Raises:
        ValueError: for ``sparse=True``, negative or non-integer ``x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bincount(np.array([0, 2, 2, 3]))
        Tensor([1, 0, 2, 1], dtype=int32)
    """
    if sparse:
        raise ValueError("bincount: chainrule tensors are dense. Received: sparse=True")
    x = as_input(x)
    a = raw(x)
    if a.dtype.kind not in "iu" or _nd(x) not in (1, 2):
        raise ValueError(f"bincount: x must be a 1-D or 2-D tensor of integers. Received: x of "
                         f"shape {a.shape} and dtype {a.dtype}")
    ins = [x] if weights is None else [x, as_input(weights)]
    return NoGrad(_bincount, {"minlength": int(minlength)})(*ins)


def _histogram_counts(x, bins, lo, hi):
    return np.histogram(x, bins=bins, range=(lo, hi))[0].astype(np.int32)


def histogram(x: Any, bins: int = 10, range: tuple | None = None) -> tuple:  # noqa: A002
    """Counts of ``x``'s values in ``bins`` equal bins over ``range`` (default: min to max).

    Returns:
        ``(counts, bin_edges)``: int32 counts and the ``bins + 1`` edges. No gradient.

    Example:
        >>> import chainrule as cr
        >>> counts, edges = cr.ops.histogram(cr.Tensor([0.0, 1.0, 1.0, 2.0]), bins=2)
        >>> counts, edges
        (Tensor([1, 3], dtype=int32), Tensor([0., 1., 2.], dtype=float32))
    """
    x = as_input(x)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"histogram: bins must be a positive integer. Received: bins={bins!r}")
    a = _host(x)
    if range is None:
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
    else:
        lo, hi = float(range[0]), float(range[1])
    if not lo <= hi:
        raise ValueError(f"histogram: range must be (min, max) with min <= max. "
                         f"Received: range={range!r}")
    edges = np.histogram_bin_edges(a, bins=int(bins), range=(lo, hi))
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(backend.floatx())
    return (NoGrad(_histogram_counts, {"bins": int(bins), "lo": lo, "hi": hi})(x),
            _make(edges.astype(dtype)))


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``x1`` is in ``x2`` (a boolean Tensor of ``x1``'s shape).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isin(cr.Tensor([1.0, 2.0, 3.0]), [2.0, 5.0])
        Tensor([False,  True, False], dtype=bool)
    """
    return NoGrad(np.isin, {"assume_unique": bool(assume_unique), "invert": bool(invert)})(
        as_input(x1), as_input(x2))


def _argpartition(x, kth, axis):
    return np.argpartition(x, kth, axis=axis).astype(np.int32)


def argpartition(x: Any, kth: int, axis: int = -1) -> Tensor:
    """Indices that partition ``x`` along ``axis``: the ``kth`` element in its sorted place,
    smaller ones before it, larger after (int32).

    Example:
        >>> import chainrule as cr
        >>> int(cr.ops.argpartition(cr.Tensor([3.0, 1.0, 2.0]), 0)[0])
        1
    """
    x = as_input(x)
    ax = _axis_of(x, axis, "argpartition")
    n = np.shape(raw(x))[ax]
    ks = np.atleast_1d(np.asarray(kth))
    if ks.dtype.kind not in "iu" or np.any((ks < -n) | (ks >= n)):
        raise ValueError(f"argpartition: kth must be an index into axis {axis} of length {n}. "
                         f"Received: kth={kth!r}")
    kth = int(kth) if np.ndim(kth) == 0 else tuple(int(k) for k in kth)
    return NoGrad(_argpartition, {"kth": kth, "axis": ax})(x)


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple:
    """Flat indices to a tuple of coordinate Tensors for ``shape`` (indices' dtype).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.unravel_index(np.array([5, 1]), (2, 3))
        (Tensor([1, 0], dtype=int64), Tensor([2, 1], dtype=int64))
    """
    idx = as_input(indices)
    dims = _shape_arg(shape, "unravel_index")
    a = raw(idx)
    if a.dtype.kind not in "iu":
        raise ValueError(f"unravel_index: indices must be integers. Received: indices of dtype "
                         f"{a.dtype}")
    total = int(np.prod(dims))
    if a.size and (a.min() < 0 or a.max() >= total):
        raise ValueError(f"unravel_index: indices must be in [0, {total}) for shape {dims}. "
                         f"Received: indices from {int(a.min())} to {int(a.max())}")
    return tuple(NoGrad(_coordinate, {"shape": dims, "axis": d})(idx) for d in range(len(dims)))


def _coordinate(idx, shape, axis):
    return np.unravel_index(idx, shape)[axis].astype(idx.dtype)



# -- windows, Bessel's i0, correlation coefficients, bit views, distances, frames ----------------


def _window(kind: str, x: Any, beta: float = 0.0) -> Tensor:
    m = x.numpy() if isinstance(x, Tensor) else x
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) and not (
            hasattr(m, "ndim") and m.ndim == 0 and m.dtype.kind in "iu"):
        raise ValueError(f"{kind}: x must be the window length, an integer. Received: x={x!r}")
    m = int(m)
    fn = {"bartlett": np.bartlett, "blackman": np.blackman, "hamming": np.hamming,
          "hanning": np.hanning}.get(kind)
    w = np.kaiser(m, float(beta)) if kind == "kaiser" else fn(m)
    return _make(w.astype(backend.floatx()))


def bartlett(x: int) -> Tensor:
    """The Bartlett (triangular) window of ``x`` points.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bartlett(5)
        Tensor([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    return _window("bartlett", x)


def blackman(x: int) -> Tensor:
    """The Blackman window of ``x`` points.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.blackman(3).numpy().round(6)
        array([-0.,  1., -0.], dtype=float32)
    """
    return _window("blackman", x)


def hamming(x: int) -> Tensor:
    """The Hamming window of ``x`` points.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.hamming(3)
        Tensor([0.08, 1.  , 0.08], dtype=float32)
    """
    return _window("hamming", x)


def hanning(x: int) -> Tensor:
    """The Hann window of ``x`` points.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.hanning(3)
        Tensor([0., 1., 0.], dtype=float32)
    """
    return _window("hanning", x)


def kaiser(x: int, beta: float) -> Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.kaiser(3, 0.0)
        Tensor([1., 1., 1.], dtype=float32)
    """
    return _window("kaiser", x, beta)


def _i1(x):
    """Modified Bessel function of the first kind, order 1, by its power series (all terms of
    one sign, so summing them is accurate)."""
    half = np.asarray(x, dtype=np.float64) / 2.0
    term = half.copy()
    total = term.copy()
    q = half * half
    for k in range(1, 400):
        term = term * q / (k * (k + 1))
        total = total + term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return total


class I0(Function):
    """Modified Bessel function of order 0 (NumPy's ``i0``); gradient ``i1(x)``."""

    def forward(self, x):
        self.x = x
        return np.i0(x.astype(np.float64)).astype(x.dtype)  # NumPy loses digits in float32

    def backward(self, gy):
        return ((gy * _i1(self.x)).astype(self.x.dtype, copy=False),)


def i0(x: Any) -> Tensor:
    """Modified Bessel function of the first kind, order 0; gradient ``i1(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.i0(cr.Tensor([0.0, 1.0]))
        Tensor([1.       , 1.2660658], dtype=float32)
    """
    x = as_input(x)
    if raw(x).dtype.kind not in "f":
        x = cast(x, backend.floatx())
    return I0()(x)


def corrcoef(x: Any) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x`` (variables) over its columns
    (observations), clipped to [-1, 1] as NumPy does.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.corrcoef(cr.Tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0]])).numpy().round(4)
        array([[1.    , 0.9934],
               [0.9934, 1.    ]], dtype=float32)
    """
    from chainrule.ops.math import clip, sqrt  # noqa: PLC0415
    from chainrule.ops.reduce import mean  # noqa: PLC0415

    x = as_input(x)
    if raw(x).dtype.kind != "f":
        x = cast(x, backend.floatx())
    if _nd(x) > 2:
        raise ValueError(f"corrcoef: x must be 1-D or 2-D. Received: x of shape "
                         f"{np.shape(raw(x))}")
    x = _atleast(x, 2)
    xm = x - mean(x, axis=1, keepdims=True)
    cov = matmul(xm, transpose(xm))
    d = sqrt(getitem(cov, (np.arange(np.shape(raw(cov))[0]),) * 2))
    c = cov / reshape(d, (-1, 1)) / reshape(d, (1, -1))
    c = clip(c, -1.0, 1.0)
    return reshape(c, ()) if np.shape(raw(c)) == (1, 1) else c


def _view(x, dtype):
    return x.view(dtype)


def view(x: Any, dtype: Any = None) -> Tensor:
    """The same bytes read as ``dtype`` (NumPy's ``ndarray.view``); no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.view(cr.Tensor([1.0]), "int32")
        Tensor([1065353216], dtype=int32)
    """
    x = as_input(x)
    if dtype is None:
        return Copy()(x)
    return NoGrad(_view, {"dtype": _dtype(dtype)})(x)


def cdist(x: Any, y: Any) -> Tensor:
    """Euclidean distances between the rows of ``x`` ``(..., m, d)`` and ``y`` ``(..., n, d)``:
    shape ``(..., m, n)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cdist(cr.Tensor([[0.0, 0.0]]), cr.Tensor([[3.0, 4.0], [0.0, 1.0]]))
        Tensor([[5., 1.]], dtype=float32)
    """
    from chainrule.ops.math import sqrt, square  # noqa: PLC0415

    a, b = as_input(x), as_input(y)
    sa, sb = np.shape(raw(a)), np.shape(raw(b))
    if len(sa) < 2 or len(sb) < 2 or sa[-1] != sb[-1]:
        raise ValueError(f"cdist: x and y must be (..., m, d) and (..., n, d) with the same d. "
                         f"Received: x of shape {sa}, y of shape {sb}")
    if raw(a).dtype.kind != "f":
        a = cast(a, backend.floatx())
    if raw(b).dtype.kind != "f":
        b = cast(b, raw(a).dtype)
    d = reshape(a, sa[:-1] + (1, sa[-1])) - reshape(b, sb[:-2] + (1,) + sb[-2:])
    return sqrt(sum(square(d), axis=-1))


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of ``sequence_length`` along the last axis, every ``sequence_stride`` steps:
    ``(..., n)`` becomes ``(..., 1 + (n - sequence_length) // sequence_stride,
    sequence_length)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.extract_sequences(cr.Tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 3, 2)
        Tensor([[1., 2., 3.],
                [3., 4., 5.]], dtype=float32)
    """
    x = as_input(x)
    n = np.shape(raw(x))[-1] if _nd(x) else 0
    for name, v in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"extract_sequences: {name} must be a positive integer. "
                             f"Received: {name}={v!r}")
    if sequence_length > n:
        raise ValueError(f"extract_sequences: sequence_length must not exceed the last axis "
                         f"({n}). Received: sequence_length={sequence_length}")
    count = 1 + (n - sequence_length) // sequence_stride
    idx = np.arange(count)[:, None] * sequence_stride + np.arange(sequence_length)[None, :]
    return take(x, idx, axis=-1)

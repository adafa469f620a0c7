"""Keras 3's ``keras.ops.linalg``: determinants, inverses, solves and decompositions.

Each differentiable op is a Function on stacks of matrices (``(..., n, n)``)
with the classic matrix-calculus backward: ``det`` (``det * inv(x)^T``), ``inv``,
``solve``, ``solve_triangular``, ``cholesky`` (Murray's formula), ``qr`` (reduced,
``m >= n``), ``svd`` (distinct singular values) and ``eigh`` (distinct
eigenvalues). A decomposition with several outputs is one Function per output,
each with the full backward for its own output's gradient (the gradients of
the outputs add up, so nothing is lost; the factorization is computed once per
output used). ``pinv`` and ``lstsq`` are compositions of ``svd``. ``eig``,
``matrix_rank`` and ``lu_factor`` carry no gradient.

Example:
    >>> import chainrule as cr
    >>> cr.ops.linalg.det(cr.Tensor([[2.0, 0.0], [0.0, 3.0]]))
    Tensor(6., dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, sum_to
from chainrule.ops.core import as_input, cast, raw
from chainrule.ops.indexing import where
from chainrule.ops.math import divide, matmul, multiply
from chainrule.ops.reduce import max as _max
from chainrule.ops.shaping import expand_dims, squeeze, transpose

__all__ = ["det", "inv", "solve", "solve_triangular", "cholesky", "cholesky_inverse", "qr",
           "svd", "eigh", "eig", "lstsq", "pinv", "slogdet", "logdet", "matrix_rank",
           "lu_factor", "matrix_power"]


def _t(a):
    return np.swapaxes(a, -1, -2)


def _square(x: Any, op: str, name: str = "x") -> Any:
    x = as_input(x)
    s = np.shape(raw(x))
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{op}: {name} must be a square matrix or a stack of them, of shape "
                         f"(..., n, n). Received: {name} of shape {s}")
    if raw(x).dtype.kind not in "fc":
        x = cast(x, backend.floatx())
    return x


def _matrix(x: Any, op: str, name: str = "x") -> Any:
    x = as_input(x)
    s = np.shape(raw(x))
    if len(s) < 2:
        raise ValueError(f"{op}: {name} must be a matrix or a stack of them, of shape "
                         f"(..., m, n). Received: {name} of shape {s}")
    if raw(x).dtype.kind not in "fc":
        x = cast(x, backend.floatx())
    return x


def _undefined(x, shape):
    """NaNs of ``shape`` when ``x`` is all zeros (a functional model's shape dry run feeds
    zeros), else None: the caller raises the linear-algebra error."""
    if x.size and not x.any():
        return np.full(shape, np.nan, dtype=x.dtype)
    return None


def _linalg_error(op: str, e: Exception) -> ValueError:
    err = ValueError(f"{op}: {e}. Received: a matrix NumPy's linear algebra cannot handle")
    err._chainrule = True  # type: ignore[attr-defined]
    return err


class Det(Function):
    def forward(self, x):
        self.x = x
        self.y = np.linalg.det(x).astype(x.dtype, copy=False)
        return self.y

    def backward(self, gy):
        return ((gy * self.y)[..., None, None] * _t(np.linalg.inv(self.x)),)


class SlogdetLog(Function):
    """``log|det(x)|``; gradient ``inv(x)^T``."""

    def forward(self, x):
        self.x = x
        return np.linalg.slogdet(x)[1].astype(x.dtype, copy=False)

    def backward(self, gy):
        return (gy[..., None, None] * _t(np.linalg.inv(self.x)),)


class SlogdetSign(Function):
    differentiable = False

    def forward(self, x):
        return np.linalg.slogdet(x)[0].astype(x.dtype, copy=False)

    def backward(self, gy):
        return (None,)


class Inv(Function):
    def forward(self, x):
        try:
            self.y = np.linalg.inv(x)
        except np.linalg.LinAlgError as e:
            self.y = _undefined(x, x.shape)
            if self.y is None:
                raise _linalg_error("inv", e) from None
        return self.y

    def backward(self, gy):
        yt = _t(self.y)
        return (-(yt @ gy @ yt),)


class Solve(Function):
    """``a @ x = b`` for ``x`` (``b`` of shape ``(..., n, k)``); triangular when ``lower`` is
    not None (only that triangle of ``a`` is read)."""

    def __init__(self, lower=None):
        self.lower = lower

    def _a(self, a):
        if self.lower is None:
            return a
        return np.tril(a) if self.lower else np.triu(a)

    def forward(self, a, b):
        self.bshape = b.shape
        self.a = self._a(a)
        try:
            self.x = np.linalg.solve(self.a, b)
        except np.linalg.LinAlgError as e:
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
            self.x = _undefined(a, shape)
            if self.x is None:
                raise _linalg_error("solve" if self.lower is None else "solve_triangular",
                                    e) from None
        return self.x

    def backward(self, gy):
        gb = np.linalg.solve(_t(self.a), gy)
        ga = None
        if self.needs[0]:
            ga = sum_to(self._a(-(gb @ _t(self.x))), self.a.shape)
        return ga, sum_to(gb, self.bshape) if self.needs[1] else None


class Cholesky(Function):
    """The lower Cholesky factor ``L`` (``x = L L^T``; only the lower triangle of ``x`` is
    read). Murray's backward, symmetrized."""

    def forward(self, x):
        try:
            self.L = np.linalg.cholesky(x)
        except np.linalg.LinAlgError as e:
            self.L = _undefined(x, x.shape)
            if self.L is None:
                raise _linalg_error("cholesky", e) from None
        return self.L

    def backward(self, gy):
        L = self.L
        P = _t(L) @ gy
        P = np.tril(P)
        P[..., np.arange(P.shape[-1]), np.arange(P.shape[-1])] *= 0.5
        Linv = np.linalg.inv(L)
        S = _t(Linv) @ P @ Linv
        return (0.5 * (S + _t(S)),)


def _copyltu(M):
    low = np.tril(M, -1)
    return low + _t(low) + M * np.eye(M.shape[-1], dtype=M.dtype)


class QR(Function):
    """One output of the QR factorization (``part`` 0: Q, 1: R)."""

    def __init__(self, mode, part):
        self.mode, self.part = mode, part

    def forward(self, x):
        self.q, self.r = np.linalg.qr(x, mode=self.mode)
        return self.q if self.part == 0 else self.r

    def backward(self, gy):
        q, r = self.q, self.r
        m, n = q.shape[-2], r.shape[-1]
        if m < n or q.shape[-1] != n:
            raise NotImplementedError(
                "qr: the gradient is available for mode='reduced' with m >= n (or a square "
                f"matrix). Received: a matrix of {m} rows and {n} columns, mode={self.mode!r}")
        gq = gy if self.part == 0 else np.zeros_like(q)
        gr = gy if self.part == 1 else np.zeros_like(r)
        M = r @ _t(gr) - _t(gq) @ q
        rhs = gq + q @ _copyltu(M)
        # gA = rhs @ R^-T: solve R gA^T = rhs^T
        return (_t(np.linalg.solve(r, _t(rhs))),)


class SVD(Function):
    """One output of the thin SVD (``part`` 0: u, 1: s, 2: vh); ``full`` for
    ``full_matrices=True`` (the same as thin for square matrices)."""

    def __init__(self, part, full):
        self.part, self.full = part, full

    def forward(self, x):
        self.shape = x.shape
        self.u, self.s, self.vh = np.linalg.svd(x, full_matrices=self.full)
        return (self.u, self.s, self.vh)[self.part]

    def backward(self, gy):
        m, n = self.shape[-2:]
        k = min(m, n)
        if self.full and m != n and self.part != 1:
            raise NotImplementedError(
                "svd: the gradient of u and vh needs full_matrices=False for a matrix that is "
                f"not square. Received: shape {self.shape}, full_matrices=True")
        u, s, vh = self.u[..., :, :k], self.s, self.vh[..., :k, :]
        v = _t(vh)
        gs = gy if self.part == 1 else np.zeros_like(s)
        gu = gy[..., :, :k] if self.part == 0 else np.zeros_like(u)
        gv = _t(gy[..., :k, :]) if self.part == 2 else np.zeros_like(v)
        s2 = s * s
        diff = s2[..., None, :] - s2[..., :, None]  # s_j^2 - s_i^2
        eye = np.eye(k, dtype=bool)
        with np.errstate(divide="ignore"):
            F = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))
        S = s[..., None, :] * np.eye(k, dtype=s.dtype)
        J = F * (_t(u) @ gu - _t(gu) @ u)
        K = F * (_t(v) @ gv - _t(gv) @ v)
        inner = J @ S + gs[..., None, :] * np.eye(k, dtype=s.dtype) + S @ K
        ga = u @ inner @ vh
        sinv = 1.0 / s
        if m > k:
            ga = ga + (gu - u @ (_t(u) @ gu)) * sinv[..., None, :] @ vh
        if n > k:
            ga = ga + u @ (_t(gv - v @ (_t(v) @ gv)) * sinv[..., :, None])
        return (ga,)


class Eigh(Function):
    """One output of the symmetric eigendecomposition (``part`` 0: eigenvalues, 1: vectors);
    only the lower triangle of ``x`` is read, so the gradient is symmetrized."""

    def __init__(self, part):
        self.part = part

    def forward(self, x):
        self.w, self.v = np.linalg.eigh(x)
        return self.w if self.part == 0 else self.v

    def backward(self, gy):
        w, v = self.w, self.v
        n = w.shape[-1]
        gw = gy if self.part == 0 else np.zeros_like(w)
        inner = gw[..., None, :] * np.eye(n, dtype=w.dtype)
        if self.part == 1:
            diff = w[..., None, :] - w[..., :, None]  # w_j - w_i
            eye = np.eye(n, dtype=bool)
            F = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))
            inner = inner + F * (_t(v) @ gy)
        g = v @ inner @ _t(v)
        g = 0.5 * (g + _t(g))
        return (g,)


class NoGradLinalg(Function):
    differentiable = False

    def __init__(self, fn, kwargs=None):
        self.fn, self.kwargs = fn, kwargs or {}

    def forward(self, x):
        return self.fn(x, **self.kwargs)

    def backward(self, gy):
        return (None,)


def det(x: Any) -> Tensor:
    """Determinant of a square matrix (or each of a stack); gradient ``det(x) inv(x)^T``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.det(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor(-2., dtype=float32)
    """
    return Det()(_square(x, "det"))


def inv(x: Any) -> Tensor:
    """Inverse of a square matrix (or each of a stack); gradient ``-inv^T g inv^T``.

    Raises:
        ValueError: for a matrix that is not square or is singular (a matrix of zeros gives
            NaN instead, so a functional model's shape dry run passes).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.inv(cr.Tensor([[2.0, 0.0], [0.0, 4.0]]))
        Tensor([[0.5 , 0.  ],
                [0.  , 0.25]], dtype=float32)
    """
    return Inv()(_square(x, "inv"))


def _solve(a: Any, b: Any, lower: Any, op: str) -> Tensor:
    a = _square(a, op, "a")
    b = as_input(b)
    if raw(b).dtype != raw(a).dtype:
        b = cast(b, raw(a).dtype)
    n = np.shape(raw(a))[-1]
    bs = np.shape(raw(b))
    # solve follows NumPy 2 (only a 1-D b is a vector); Keras's solve_triangular takes a b of
    # one dimension less than a as a stack of vectors
    vector = len(bs) == 1 or (lower is not None and len(bs) == len(np.shape(raw(a))) - 1)
    if not bs or (bs[-1] if vector else bs[-2]) != n:
        raise ValueError(f"{op}: b must have {n} rows to match a of shape "
                         f"{np.shape(raw(a))}. Received: b of shape {bs}")
    if vector:
        return squeeze(Solve(lower)(a, expand_dims(b, -1)), -1)
    return Solve(lower)(a, b)


def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b``; ``b`` a vector ``(..., n)`` or matrix ``(..., n, k)``.

    Raises:
        ValueError: for a non-square or singular ``a``, or ``b`` with the wrong rows.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.solve(cr.Tensor([[2.0, 0.0], [0.0, 4.0]]), cr.Tensor([2.0, 2.0]))
        Tensor([1. , 0.5], dtype=float32)
    """
    return _solve(a, b, None, "solve")


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """``solve`` for a triangular ``a`` (upper unless ``lower``; the other triangle is
    ignored).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.solve_triangular(cr.Tensor([[2.0, 9.0], [1.0, 4.0]]), [1.0, 2.0], lower=True)
        Tensor([0.5  , 0.375], dtype=float32)
    """
    return _solve(a, b, bool(lower), "solve_triangular")


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """Cholesky factor of a symmetric positive definite matrix: lower ``L`` with
    ``x = L L^T`` (or upper ``U = L^T`` with ``upper=True``).

    Raises:
        ValueError: for a matrix that is not positive definite.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cholesky(cr.Tensor([[4.0, 2.0], [2.0, 5.0]]))
        Tensor([[2., 0.],
                [1., 2.]], dtype=float32)
    """
    L = Cholesky()(_square(x, "cholesky"))
    return transpose(L, _swap_last(L)) if upper else L


def _swap_last(x: Any) -> list:
    nd = np.ndim(raw(x))
    return list(range(nd - 2)) + [nd - 1, nd - 2]


def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """The inverse of ``A`` from its Cholesky factor ``x`` (``A = x x^T``, or ``x^T x`` when
    ``upper``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cholesky_inverse(cr.Tensor([[2.0, 0.0], [1.0, 2.0]]))
        Tensor([[ 0.3125, -0.125 ],
                [-0.125 ,  0.25  ]], dtype=float32)
    """
    f = _square(x, "cholesky_inverse")
    ft = transpose(f, _swap_last(f))
    return inv(matmul(ft, f) if upper else matmul(f, ft))


def qr(x: Any, mode: str = "reduced") -> tuple:
    """QR factorization ``x = q @ r``: ``q`` with orthonormal columns, ``r`` upper triangular
    (NumPy's signs).

    Args:
        x: a matrix ``(..., m, n)``.
        mode: ``"reduced"`` (``q`` is ``(m, k)``, ``k = min(m, n)``) or ``"complete"``.

    Returns:
        ``(q, r)``; differentiable for ``mode="reduced"`` with ``m >= n``.

    Example:
        >>> import chainrule as cr
        >>> q, r = cr.ops.qr(cr.Tensor([[3.0, 0.0], [4.0, 5.0]]))
        >>> np.allclose((q @ r).numpy(), [[3.0, 0.0], [4.0, 5.0]], atol=1e-6)
        True
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete'. Received: mode={mode!r}")
    x = _matrix(x, "qr")
    return QR(mode, 0)(x), QR(mode, 1)(x)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Singular value decomposition ``x = u @ diag(s) @ vh`` (``s`` descending).

    Args:
        x: a matrix ``(..., m, n)``.
        full_matrices: square ``u`` and ``vh`` (else ``(m, k)`` and ``(k, n)``).
        compute_uv: return ``(u, s, vh)``; otherwise ``s`` alone.

    Returns:
        ``(u, s, vh)`` or ``s``. The gradient needs distinct singular values, and for
        ``u``/``vh`` of a non-square ``x``, ``full_matrices=False``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.svd(cr.Tensor([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
        Tensor([4., 3.], dtype=float32)
    """
    x = _matrix(x, "svd")
    full = bool(full_matrices)
    if not compute_uv:
        return SVD(1, False)(x)
    return SVD(0, full)(x), SVD(1, full)(x), SVD(2, full)(x)


def eigh(x: Any) -> tuple:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix (its lower
    triangle is read).

    Returns:
        ``(w, v)``; the gradient needs distinct eigenvalues.

    Example:
        >>> import chainrule as cr
        >>> w, v = cr.ops.eigh(cr.Tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> w
        Tensor([1., 2.], dtype=float32)
    """
    x = _square(x, "eigh")
    return Eigh(0)(x), Eigh(1)(x)


def _eig(x, part):
    return np.linalg.eig(x)[part]


def eig(x: Any) -> tuple:
    """Eigenvalues and right eigenvectors of a square matrix (complex when the spectrum is).

    No gradient: the eigenvectors of a general matrix are complex in general,
    and chainrule's gradients are real. Use :func:`eigh` for symmetric matrices.

    Example:
        >>> import chainrule as cr
        >>> w, v = cr.ops.eig(cr.Tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> w
        Tensor([2., 1.], dtype=float32)
    """
    x = _square(x, "eig")
    return NoGradLinalg(_eig, {"part": 0})(x), NoGradLinalg(_eig, {"part": 1})(x)


def pinv(x: Any, rcond: float | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse by SVD; singular values below ``rcond * max(s)`` (default
    1e-15, NumPy's) count as zero. Differentiable through :func:`svd`.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.pinv(cr.Tensor([[2.0, 0.0], [0.0, 0.0]]))
        Tensor([[0.5, 0. ],
                [0. , 0. ]], dtype=float32)
    """
    x = _matrix(x, "pinv")
    return _pinv(x, 1e-15 if rcond is None else float(rcond))


def _pinv(x: Any, rcond: float) -> Tensor:
    u, s, vh = svd(x, full_matrices=False)
    keep = s > rcond * _max(s, axis=-1, keepdims=True)
    sinv = where(keep, divide(1.0, where(keep, s, 1.0)), 0.0)
    v_scaled = multiply(transpose(vh, _swap_last(vh)), expand_dims(sinv, -2))
    return matmul(v_scaled, transpose(u, _swap_last(u)))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """The least-squares solution ``x`` minimizing ``|a @ x - b|`` (the minimum-norm one when
    ``a`` is rank deficient), as ``pinv(a) @ b``; singular values below ``rcond * max(s)``
    (default ``eps * max(m, n)``, NumPy's) count as zero.

    Raises:
        ValueError: when ``b`` does not have ``a``'s number of rows.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.lstsq(cr.Tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), [1.0, 2.0, 3.0])
        Tensor([1., 2.], dtype=float32)
    """
    a = _matrix(a, "lstsq", "a")
    b = as_input(b)
    if raw(b).dtype != raw(a).dtype:
        b = cast(b, raw(a).dtype)
    m, n = np.shape(raw(a))[-2:]
    bs = np.shape(raw(b))
    if len(np.shape(raw(a))) != 2 or len(bs) not in (1, 2) or bs[0] != m:
        raise ValueError(f"lstsq: a must be a matrix (m, n) and b of shape (m,) or (m, k) with "
                         f"m={m}. Received: a of shape {np.shape(raw(a))}, b of shape {bs}")
    eps = np.finfo(raw(a).dtype).eps
    p = _pinv(a, eps * max(m, n) if rcond is None else float(rcond))
    if len(bs) == 1:
        return squeeze(matmul(p, expand_dims(b, -1)), -1)
    return matmul(p, b)


def slogdet(x: Any) -> tuple:
    """Sign and natural log of the absolute determinant; the log is differentiable
    (gradient ``inv(x)^T``), the sign is not.

    Example:
        >>> import chainrule as cr
        >>> sign, logabs = cr.ops.slogdet(cr.Tensor([[-2.0, 0.0], [0.0, 1.0]]))
        >>> sign, logabs
        (Tensor(-1., dtype=float32), Tensor(0.6931472, dtype=float32))
    """
    x = _square(x, "slogdet")
    return SlogdetSign()(x), SlogdetLog()(x)


def logdet(x: Any) -> Tensor:
    """Log-determinant of a positive definite matrix (``log|det x|``, from ``slogdet``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logdet(cr.Tensor([[2.0, 1.0], [1.0, 2.0]], dtype="float64"))
        Tensor(1.09861229, dtype=float64)
    """
    return SlogdetLog()(_square(x, "logdet"))


def _rank(x, tol):
    return np.asarray(np.linalg.matrix_rank(x, tol=tol)).astype(np.int32)


def matrix_rank(x: Any, tol: float | None = None) -> Tensor:
    """The rank by SVD (singular values above ``tol``, NumPy's default), int32. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.matrix_rank(cr.Tensor([[1.0, 2.0], [2.0, 4.0]]))
        Tensor(1, dtype=int32)
    """
    return NoGradLinalg(_rank, {"tol": tol})(_matrix(x, "matrix_rank"))


def _lu(a, part):
    """LAPACK's ``getrf`` in NumPy: partial pivoting, ``L`` (unit diagonal) and ``U`` packed in
    one matrix, 0-based pivot rows (SciPy's ``lu_factor``)."""
    lu = np.array(a, dtype=a.dtype, copy=True)
    m, n = lu.shape[-2:]
    k = min(m, n)
    piv = np.zeros(lu.shape[:-2] + (k,), dtype=np.int32)
    for j in range(k):
        p = np.argmax(np.abs(lu[..., j:, j]), axis=-1) + j
        piv[..., j] = p
        rows = np.take_along_axis(lu, p[..., None, None] * np.ones((1, n), np.intp), -2)
        cur = lu[..., j:j + 1, :].copy()
        np.put_along_axis(lu, p[..., None, None] * np.ones((1, n), np.intp), cur, -2)
        lu[..., j:j + 1, :] = rows
        pivot = lu[..., j, j]
        safe = np.where(pivot == 0, 1, pivot)
        lu[..., j + 1:, j] = np.where(pivot[..., None] == 0, 0,
                                      lu[..., j + 1:, j] / safe[..., None])
        lu[..., j + 1:, j + 1:] -= lu[..., j + 1:, j:j + 1] * lu[..., j:j + 1, j + 1:]
    return lu if part == 0 else piv


def lu_factor(x: Any) -> tuple:
    """LU factorization with partial pivoting (SciPy's ``lu_factor``): ``(lu, pivots)``, ``L``
    (unit diagonal, below) and ``U`` (on and above) packed in ``lu``; row ``i`` was swapped
    with row ``pivots[i]``. No gradient.

    Example:
        >>> import chainrule as cr
        >>> lu, piv = cr.ops.lu_factor(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> piv
        Tensor([1, 1], dtype=int32)
    """
    x = _matrix(x, "lu_factor")
    return NoGradLinalg(_lu, {"part": 0})(x), NoGradLinalg(_lu, {"part": 1})(x)


def matrix_power(x: Any, n: int) -> Tensor:
    """``x`` multiplied by itself ``n`` times (``n < 0``: of its inverse; 0: the identity).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.linalg.matrix_power(cr.Tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        Tensor([[1., 3.],
                [0., 1.]], dtype=float32)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"matrix_power: n must be an integer. Received: n={n!r}")
    x = _square(x, "matrix_power")
    if n == 0:
        from chainrule.ops.creation import eye  # noqa: PLC0415

        s = np.shape(raw(x))
        return eye(s[-1], dtype=raw(x).dtype) * np.ones(s, raw(x).dtype)
    base = inv(x) if n < 0 else x
    result, k = None, abs(int(n))
    while k:  # binary powering: about log2(n) products
        if k & 1:
            result = base if result is None else matmul(result, base)
        k >>= 1
        if k:
            base = matmul(base, base)
    return result

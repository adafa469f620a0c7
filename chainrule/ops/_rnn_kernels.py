"""Per-step gate arithmetic of the LSTM and GRU ops, compiled with Numba (the ``fast`` extra).

At a batch of 32 and 64 units, a time step of the NumPy loops in :mod:`chainrule.ops.rnn` is a
dozen or more ufunc calls on arrays of a few thousand numbers, each costing about a
microsecond of call overhead; over 200 steps that is most of an LSTM's time outside BLAS. The
kernels here do the arithmetic between the recurrent matrix product and the ``tanh`` calls in
one pass each, so a step is the product, two ``tanh`` calls and three kernels (forward) or one
kernel and the product (backward; GRU with ``reset_after=False`` has two of each).

Bit-identical to the NumPy loops (tests compare every output and gradient), except the
forward-only LSTM's whole-sequence kernel (:func:`_lstm_sequence`, see there): each kernel does
the NumPy path's operations element by element, in the same order and precision, with the
constants passed in the array's dtype (a Python literal would promote float32 to float64);
they are compiled without fast-math, so nothing is reordered or contracted into an FMA. The
transcendental function stays in NumPy (``np.tanh`` over a whole block between kernels), since
NumPy's and Numba's ``tanh`` differ in the last bit; the matrix products stay NumPy's BLAS
calls, the same calls as the NumPy path makes.

Switched with the optimizer kernels: on when Numba can be imported and
:func:`chainrule.config.set_fused_kernels` has not turned it off. Only float32 or float64
operands of one dtype, the default activations (``tanh``, ``sigmoid``) and no recurrent
dropout take them; everything else runs the NumPy loops.

Shapes below: ``B`` batch, ``U`` units; every array is C-contiguous 2-D except masks
``(B, 1)`` and the bias ``(3U,)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.backend import compiled as _compiled_switch

__all__ = ["kernel", "available", "sequence_gemm"]

_lock = threading.Lock()
_kernels: dict[str, Any] = {}


def available(dtype: Any) -> bool:
    """Whether the kernels are on and take arrays of ``dtype``.

    Args:
        dtype: a NumPy dtype.

    Returns:
        True when the fused kernels are enabled, Numba imports, and ``dtype`` is float32 or
        float64.

    Example:
        >>> import numpy as np
        >>> available(np.dtype("float16"))
        False
    """
    return np.dtype(dtype) in (np.float32, np.float64) and _compiled_switch.fused_kernels()


def kernel(name: str) -> Callable[..., None]:
    """The compiled kernel ``name`` (see the functions of this module for each one's arguments).

    Call only when :func:`available` is True.

    Args:
        name: a kernel's name, e.g. ``'lstm_back'``.

    Returns:
        The compiled function.
    """
    compiled = _kernels.get(name)
    if compiled is None:
        with _lock:
            compiled = _kernels.get(name)
            if compiled is None:
                numba = _compiled_switch.numba_module()
                _bind_helpers(numba)
                compiled = _kernels[name] = _compiled_switch.compile_kernel(_PYTHON[name], numba)
    return compiled


def _bind_helpers(numba: Any) -> None:
    """Compile the functions the kernels call and bind them in this module in their place
    (the kernels reach them through this module's names), with the LLVM intrinsics of
    :func:`_intrinsics`; once."""
    module = globals()
    if hasattr(module["_tanh32"], "py_func"):
        return
    module.update(_intrinsics(numba))
    for helper in _HELPERS:
        module[helper] = _compiled_switch.compile_kernel(module[helper], numba)
    for helper in _INLINE:  # inlined into their callers, so the loops around them vectorize
        module[helper] = numba.njit(inline="always", error_model="numpy")(module[helper])


def sequence_gemm(dtype: Any) -> tuple[int, np.ndarray] | None:
    """What :func:`_lstm_sequence` needs to run for ``dtype``: NumPy's BLAS ``cblas_sgemm``
    (:func:`chainrule.backend.cblas.gemm`), or None.

    The whole-sequence kernel is float32 only (its ``tanh``, :func:`_tanh32`, is written for
    float32) and needs the kernels on and NumPy's BLAS callable.

    Args:
        dtype: the operands' dtype.

    Returns:
        ``(address, integer_prototype)`` or None.

    Example:
        >>> import numpy as np
        >>> sequence_gemm(np.float64) is None
        True
    """
    if np.dtype(dtype) != np.float32 or not available(dtype):
        return None
    from chainrule.backend import cblas  # noqa: PLC0415

    return cblas.gemm(dtype)


# Each kernel works row by row on 1-D slices, with the flags tested outside the inner loops:
# then LLVM vectorizes the inner loops (a flag tested inside one, or 2-D indexing, keeps it
# scalar and about four times slower).

# -- LSTM ---------------------------------------------------------------------------------


def _lstm_gates(a: Any, rec: Any, two: Any, half: Any) -> None:
    """Before the one ``tanh``: ``a += rec``; the c gate doubled; every gate halved."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        ar, rr = a[b], rec[b]
        for j in range(2 * U):
            ar[j] = (ar[j] + rr[j]) * half
        ac, rc = ar[2 * U:3 * U], rr[2 * U:3 * U]
        for u in range(U):
            v = ac[u] + rc[u]
            v = v * two
            ac[u] = v * half
        ao, ro = ar[3 * U:], rr[3 * U:]
        for u in range(U):
            ao[u] = (ao[u] + ro[u]) * half


def _lstm_cell(a: Any, c: Any, cn: Any, tc: Any, one: Any, half: Any) -> None:
    """After the gates' ``tanh``: sigmoid gates ``(t + 1) / 2``; ``cn = f c + i g``; ``tc = cn``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        ar = a[b]
        for j in range(2 * U):
            ar[j] = (ar[j] + one) * half
        ao = ar[3 * U:]
        for u in range(U):
            ao[u] = (ao[u] + one) * half
        i, f, g = ar[:U], ar[U:2 * U], ar[2 * U:3 * U]
        cb, cnb, tcb = c[b], cn[b], tc[b]
        for u in range(U):
            v = f[u] * cb[u]
            ig = i[u] * g[u]
            v = v + ig
            cnb[u] = v
            tcb[u] = v


def _lstm_cell_infer(a: Any, scale: Any, offset: Any, c: Any, cn: Any) -> None:
    """The forward-only path after the gates' ``tanh``: ``a = a * scale + offset`` on whole
    rows; ``cn = f c + i g``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        ar = a[b]
        for j in range(G):
            v = ar[j] * scale[j]
            ar[j] = v + offset[j]
        i, f, g = ar[:U], ar[U:2 * U], ar[2 * U:3 * U]
        cb, cnb = c[b], cn[b]
        for u in range(U):
            v = f[u] * cb[u]
            ig = i[u] * g[u]
            cnb[u] = v + ig


def _lstm_out(a: Any, tc: Any, hn: Any, h: Any, cn: Any, c: Any, m: Any, masked: bool) -> None:
    """``hn = o * tc`` (``tc`` may be ``hn``); a masked row carries ``h`` and ``c``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        hnb, cnb = hn[b], cn[b]
        if masked and m[b, 0] == 0:
            hb, cb = h[b], c[b]
            for u in range(U):
                hnb[u] = hb[u]
            for u in range(U):
                cnb[u] = cb[u]
        else:
            o, tcb = a[b, 3 * U:], tc[b]
            for u in range(U):
                hnb[u] = o[u] * tcb[u]


def _carry_dh(back: Any, dh: Any, dHt: Any, has_dH: bool, mp: Any, masked: bool, first: bool,
              one: Any) -> None:
    """The state's gradient at this step, in ``dh``: the step after's (``back``, plus ``dh * (1 -
    mp)`` where masked; ``dh`` as given at the first step) plus this step's output's ``dHt``."""
    B, U = dh.shape
    for b in range(B):
        dhb, bb = dh[b], back[b]
        if first:
            pass
        elif masked:
            keep = one - mp[b, 0]
            for u in range(U):
                dhb[u] = bb[u] + dhb[u] * keep
        else:
            for u in range(U):
                dhb[u] = bb[u]
        if has_dH:
            db = dHt[b]
            for u in range(U):
                dhb[u] = dhb[u] + db[u]


def _lstm_back(a: Any, tc: Any, cp: Any, back: Any, dh: Any, dc: Any, dHt: Any, has_dH: bool,
               m: Any, mp: Any, masked: bool, first: bool, da: Any, one: Any) -> None:
    """One step of LSTM's backward (tanh and sigmoid), the NumPy loop's operations.

    ``dh`` holds the gradient of the step after this one (or the initial one when ``first``);
    it becomes ``back + dh * (1 - mp)`` (``back`` alone unmasked), plus ``dHt``; ``dc`` becomes
    the gradient for the step before. ``da`` receives the gates' gradient.
    """
    B, G = a.shape
    U = G // 4
    _carry_dh(back, dh, dHt, has_dH, mp, masked, first, one)
    for b in range(B):
        ar, dar = a[b], da[b]
        i, f, g, o = ar[:U], ar[U:2 * U], ar[2 * U:3 * U], ar[3 * U:]
        di, df, dg, do = dar[:U], dar[U:2 * U], dar[2 * U:3 * U], dar[3 * U:]
        dhb, dcb, tcb, cpb = dh[b], dc[b], tc[b], cp[b]
        if masked:
            mv = m[b, 0]
            keep = one - mv
            for u in range(U):
                dhc = dhb[u] * mv
                dcv = dcb[u]
                t = tcb[u]
                tmp = dhc * o[u]
                tmp = tmp * (one - t * t)
                dcn = tmp + dcv * mv
                di[u] = (dcn * g[u]) * (i[u] * (one - i[u]))
                df[u] = (dcn * cpb[u]) * (f[u] * (one - f[u]))
                dg[u] = (dcn * i[u]) * (one - g[u] * g[u])
                do[u] = (dhc * t) * (o[u] * (one - o[u]))
                dcb[u] = dcn * f[u] + dcv * keep
        else:
            for u in range(U):
                dhc = dhb[u]
                t = tcb[u]
                tmp = dhc * o[u]
                tmp = tmp * (one - t * t)
                dcn = tmp + dcb[u]
                di[u] = (dcn * g[u]) * (i[u] * (one - i[u]))
                df[u] = (dcn * cpb[u]) * (f[u] * (one - f[u]))
                dg[u] = (dcn * i[u]) * (one - g[u] * g[u])
                do[u] = (dhc * t) * (o[u] * (one - o[u]))
                dcb[u] = dcn * f[u]


# -- LSTM's forward-only sequence kernel ------------------------------------------------
#
# The per-step kernels above leave the recurrent product and the ``tanh`` calls to NumPy, so a
# step still costs half a dozen calls from Python (about 10 us at a batch of 32 and 64 units,
# next to a 5 us product). The forward-only LSTM needs nothing kept for backward, so one
# compiled call runs its whole sequence for a block of batch rows: the product through NumPy's
# own BLAS (chainrule.backend.cblas, the same function np.matmul calls), the gates with the
# kernel's own float32 ``tanh`` (:func:`_tanh32`; NumPy's is not callable from a kernel), the
# state updated in place. Two blocks of rows run on two threads without meeting until the end
# (the GIL released). Not bit-identical to the NumPy path: ``_tanh32`` and ``np.tanh`` are
# both within 1.5 ulp of the true tanh, not always the same float.

# float32 constants (a Python float would promote the arithmetic to float64)
_F = np.float32
# tanh(x) = x + x^3 q(x^2) on |x| < _TANH_SPLIT: q's coefficients, a least-squares fit of
# relative error (max 1.4e-9 before rounding)
_TQ0, _TQ1, _TQ2, _TQ3, _TQ4 = (_F(-0.3333331346511841), _F(0.13332445919513702),
                                _F(-0.053836967796087265), _F(0.021006060764193535),
                                _F(-0.006178302690386772))
# exp(r) = 1 + r + r^2 e(r) on |r| <= ln(2) / 2 (max relative error 4.5e-9 before rounding)
_TE0, _TE1, _TE2, _TE3, _TE4 = (_F(0.5), _F(0.16666509211063385), _F(0.04166624695062637),
                                _F(0.008369872346520424), _F(0.0013947626575827599))
_TANH_SPLIT, _TANH_TOP = _F(0.5625), _F(9.5)  # tanh(9.5) rounds to 1 in float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693145751953125), _F(1.428606765330187e-06)
_ROUND = _F(12582912.0)  # 1.5 * 2^23: adding and subtracting it rounds to a whole number
_ONE, _TWO, _HALF = _F(1), _F(2), _F(0.5)


def _intrinsics(numba: Any) -> dict:
    """The LLVM operations the sequence kernel needs that Numba does not spell: a fused
    multiply-add, ``2**n`` from the exponent bits, and a call of a C function by address.
    Made when the kernels are first compiled (they need Numba)."""
    from llvmlite import ir  # noqa: PLC0415
    from numba.core import types  # noqa: PLC0415
    from numba.extending import intrinsic  # noqa: PLC0415

    @intrinsic
    def _fmuladd(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
        """``a * b + c``, fused where the processor can (``llvm.fmuladd``)."""
        if not (a == b == c and isinstance(a, types.Float)):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            lt = context.get_value_type(signature.return_type)
            fn = builder.module.declare_intrinsic("llvm.fmuladd", [lt],
                                                  ir.FunctionType(lt, [lt, lt, lt]))
            return builder.call(fn, args)

        return a(a, b, c), codegen

    @intrinsic
    def _pow2(typingctx: Any, n: Any) -> Any:
        """``2.0 ** n`` for a whole float32 ``n`` in [-126, 127]: the exponent field."""
        if n != types.float32:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i32 = ir.IntType(32)
            k = builder.add(builder.fptosi(args[0], i32), ir.Constant(i32, 127))
            return builder.bitcast(builder.shl(k, ir.Constant(i32, 23)), ir.FloatType())

        return types.float32(types.float32), codegen

    @intrinsic
    def _gemm(typingctx: Any, address: Any, ints: Any, m: Any, n: Any, k: Any, a: Any, b: Any,
              c: Any) -> Any:
        """``c = a @ b`` (``(m, k) @ (k, n)``, C-contiguous rows) by the ``cblas_?gemm`` at
        ``address``, whose integers have the width of ``ints``' dtype."""
        arrays = (ints, a, b, c)
        if not (all(isinstance(t, types.Array) for t in arrays) and a.dtype == b.dtype == c.dtype
                and isinstance(a.dtype, types.Float)):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            ity, i32 = ir.IntType(ints.dtype.bitwidth), ir.IntType(32)
            fty = context.get_value_type(a.dtype)
            ptr = fty.as_pointer()
            fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, ity, ity, ity, fty, ptr, ity,
                                                   ptr, ity, fty, ptr, ity])
            fn = builder.inttoptr(args[0], fnty.as_pointer())
            mm, nn, kk = (builder.trunc(v, ity) if ity.width < 64 else v for v in args[2:5])
            pa, pb, pc = (context.make_array(t)(context, builder, v).data
                          for t, v in zip((a, b, c), args[5:8]))
            builder.call(fn, [ir.Constant(i32, 101), ir.Constant(i32, 111),
                              ir.Constant(i32, 111), mm, nn, kk, ir.Constant(fty, 1.0), pa, kk,
                              pb, nn, ir.Constant(fty, 0.0), pc, nn])
            return context.get_dummy_value()

        return types.void(address, ints, m, n, k, a, b, c), codegen

    @intrinsic
    def _prefetch(typingctx: Any, a: Any, j: Any) -> Any:
        """Ask the processor to bring the cache line of ``a[j]`` (a C-contiguous 1-D array)
        closer, for reading (``llvm.prefetch``); nothing else happens."""
        if not (isinstance(a, types.Array) and a.ndim == 1 and isinstance(j, types.Integer)):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
            data = context.make_array(a)(context, builder, args[0]).data
            ptr = builder.bitcast(builder.gep(data, [args[1]]), i8p)
            fn = builder.module.declare_intrinsic(
                "llvm.prefetch", [i8p], ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
            builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return types.void(a, j), codegen

    return {"_fmuladd": _fmuladd, "_pow2": _pow2, "_gemm": _gemm, "_prefetch": _prefetch}


def _fmuladd(a: Any, b: Any, c: Any) -> Any:  # pragma: no cover - replaced by _intrinsics
    return a * b + c


def _pow2(n: Any) -> Any:  # pragma: no cover - replaced by _intrinsics
    return _F(2.0) ** n


def _gemm(address: int, ints: Any, m: int, n: int, k: int, a: Any, b: Any, c: Any) -> None:
    raise NotImplementedError  # pragma: no cover - replaced by _intrinsics


def _prefetch(a: Any, j: int) -> None:  # pragma: no cover - replaced by _intrinsics
    pass


def _tanh32(x: Any) -> Any:
    """float32 ``tanh`` within 1.5 ulp (NumPy's: 1.4), written so loops of it vectorize.

    ``|x| < 0.5625``: ``x + x^3 q(x^2)``; above, ``1 - 2 / (exp(2|x|) + 1)`` with ``exp`` by
    range reduction (``2|x| = n ln 2 + r``, ``exp(r)`` a polynomial, ``2^n`` from the exponent
    bits), ``|x|`` clamped at 9.5 where tanh is 1 in float32. Both are computed and one kept
    (no branch); NaN goes through the first.
    """
    ax = abs(x)
    s = ax * ax
    q = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_TQ4, s, _TQ3), s, _TQ2), s, _TQ1), s, _TQ0)
    small = _fmuladd(x, s * q, x)
    y = min(ax, _TANH_TOP) * _TWO
    n = _fmuladd(y, _LOG2E, _ROUND) - _ROUND
    r = _fmuladd(n, -_LN2_LO, _fmuladd(n, -_LN2_HI, y))
    p = _fmuladd(_fmuladd(_fmuladd(_fmuladd(_TE4, r, _TE3), r, _TE2), r, _TE1), r, _TE0)
    e = _fmuladd(r * r, p, _ONE + r) * _pow2(n)
    t = _ONE - _TWO / (e + _ONE)
    big = t if x > 0 else -t
    return big if ax >= _TANH_SPLIT else small


def _tanh_array(x: Any, out: Any) -> None:
    """``out = tanh(x)`` by :func:`_tanh32`, 1-D float32 (for checks against ``np.tanh``)."""
    for i in range(x.shape[0]):
        out[i] = _tanh32(x[i])


def _lstm_sequence(gemm: int, ints: Any, rows: Any, ids: Any, R: Any, scale: Any, offset: Any,
                   h: Any, c: Any, a: Any, H: Any, seq: bool, mf: Any, masked: bool, r0: int,
                   r1: int) -> None:
    """LSTM's forward-only path over all steps for batch rows ``r0:r1`` (tanh and sigmoid).

    Step ``t`` of row ``b``: ``a = h @ R + rows[ids[t, b]]`` (``R`` and the rows with the
    sigmoid gates' columns halved, as ``rnn.LSTM._loop_inference`` prepares them); ``a =
    tanh(a) * scale + offset`` (the sigmoids as ``(t + 1) / 2``); ``c = f c + i g``; ``h = o
    tanh(c)``, in place, or both kept where the mask ``mf[t, b, 0]`` is 0; ``H[t] = h`` when
    ``seq``. ``rows`` is ``(N, 4U)`` (a projected embedding table, or the projection of every
    step as ``(T*B, 4U)``), ``ids`` ``(T, B)`` indices into it (clipped to ``[0, N)``); ``a`` a
    ``(B, 4U)`` scratch. Rows outside ``r0:r1`` are not touched, so blocks of rows can run on
    separate threads at once.
    """
    T = ids.shape[0]
    N, G = rows.shape
    U = G // 4
    hb, ab = h[r0:r1], a[r0:r1]
    line = 64 // rows.itemsize
    for t in range(T):
        if t + 1 < T:  # the next step's rows, scattered over the table: fetched meanwhile
            for b in range(r0, r1):
                pn = rows[min(max(ids[t + 1, b], 0), N - 1)]
                for j in range(0, G, line):
                    _prefetch(pn, j)
        _gemm(gemm, ints, r1 - r0, G, U, hb, R, ab)
        for b in range(r0, r1):
            k = min(max(ids[t, b], 0), N - 1)
            ar, p = a[b], rows[k]
            for j in range(G):
                v = _tanh32(ar[j] + p[j])
                v = v * scale[j]
                ar[j] = v + offset[j]
            if not (masked and mf[t, b, 0] == 0):
                cb, hr = c[b], h[b]
                i, f, g, o = ar[:U], ar[U:2 * U], ar[2 * U:3 * U], ar[3 * U:]
                for u in range(U):
                    v = f[u] * cb[u]
                    ig = i[u] * g[u]
                    cn = v + ig
                    cb[u] = cn
                    hr[u] = o[u] * _tanh32(cn)
            if seq:
                hr, Hr = h[b], H[t, b]
                for u in range(U):
                    Hr[u] = hr[u]


def _gru_sequence(gemm: int, ints: Any, rows: Any, ids: Any, R: Any, brec: Any, has_b: bool,
                  h: Any, a: Any, H: Any, seq: bool, mf: Any, masked: bool, r0: int,
                  r1: int) -> None:
    """GRU's forward-only path (``reset_after``, tanh and sigmoid) over all steps for batch
    rows ``r0:r1``, as :func:`_lstm_sequence` does LSTM's.

    Step ``t`` of row ``b``, with ``p = rows[ids[t, b]]`` (the input projection with its bias):
    ``m = h @ R + brec``; ``z, r = (tanh((p + m)[:2U] / 2) + 1) / 2``; ``hh = tanh(r m_h +
    p_h)``; ``h = (h - hh) z + hh`` in place (kept where the mask is 0); ``H[t] = h`` when
    ``seq``. ``a`` is a ``(B, 3U)`` scratch.
    """
    T = ids.shape[0]
    N, G = rows.shape
    U = G // 3
    hb, ab = h[r0:r1], a[r0:r1]
    line = 64 // rows.itemsize
    for t in range(T):
        if t + 1 < T:
            for b in range(r0, r1):
                pn = rows[min(max(ids[t + 1, b], 0), N - 1)]
                for j in range(0, G, line):
                    _prefetch(pn, j)
        _gemm(gemm, ints, r1 - r0, G, U, hb, R, ab)
        for b in range(r0, r1):
            k = min(max(ids[t, b], 0), N - 1)
            ar, p = a[b], rows[k]
            if has_b:
                for j in range(G):
                    ar[j] = ar[j] + brec[j]
            for j in range(2 * U):
                v = _tanh32((p[j] + ar[j]) * _HALF)
                ar[j] = (v + _ONE) * _HALF
            if not (masked and mf[t, b, 0] == 0):
                hr = h[b]
                z, r, m, ph = ar[:U], ar[U:2 * U], ar[2 * U:], p[2 * U:]
                for u in range(U):
                    v = r[u] * m[u]
                    hh = _tanh32(v + ph[u])
                    w = hr[u] - hh
                    w = w * z[u]
                    hr[u] = w + hh
            if seq:
                hr, Hr = h[b], H[t, b]
                for u in range(U):
                    Hr[u] = hr[u]


# -- GRU ----------------------------------------------------------------------------------


def _gru_gates(p: Any, rec: Any, brec: Any, has_b: bool, zr: Any, mt: Any, half: Any) -> None:
    """reset_after, before the gates' ``tanh``: ``mi = rec + brec`` (into ``rec``); ``zr =
    (p + mi)[:, :2U] / 2`` (sigmoid's halving); ``mt = mi[:, 2U:]``."""
    B, G = p.shape
    U = G // 3
    for b in range(B):
        pr, rr, zrb, mtb = p[b], rec[b], zr[b], mt[b]
        if has_b:
            for j in range(G):
                rr[j] = rr[j] + brec[j]
        for j in range(2 * U):
            zrb[j] = (pr[j] + rr[j]) * half
        rh = rr[2 * U:]
        for u in range(U):
            mtb[u] = rh[u]


def _gru_gates_before(p: Any, rec: Any, zr: Any, half: Any) -> None:
    """reset_before, before the gates' ``tanh``: ``zr = (p[:, :2U] + rec) / 2``."""
    B, G2 = zr.shape
    for b in range(B):
        pr, rr, zrb = p[b], rec[b], zr[b]
        for j in range(G2):
            zrb[j] = (pr[j] + rr[j]) * half


def _gru_cand(p: Any, zr: Any, mt: Any, hh: Any, one: Any, half: Any) -> None:
    """reset_after, after the gates' ``tanh``: sigmoid ``(t + 1) / 2``; ``hh = r * mt + p_h``."""
    B, G = p.shape
    U = G // 3
    for b in range(B):
        zrb = zr[b]
        for j in range(2 * U):
            zrb[j] = (zrb[j] + one) * half
        r, mtb, hhb, ph = zrb[U:], mt[b], hh[b], p[b, 2 * U:]
        for u in range(U):
            v = r[u] * mtb[u]
            hhb[u] = v + ph[u]


def _gru_reset(zr: Any, h: Any, mt: Any, one: Any, half: Any) -> None:
    """reset_before, after the gates' ``tanh``: sigmoid ``(t + 1) / 2``; ``mt = r * h``."""
    B, G2 = zr.shape
    U = G2 // 2
    for b in range(B):
        zrb = zr[b]
        for j in range(G2):
            zrb[j] = (zrb[j] + one) * half
        r, hb, mtb = zrb[U:], h[b], mt[b]
        for u in range(U):
            mtb[u] = r[u] * hb[u]


def _gru_out(zr: Any, hh: Any, h: Any, hn: Any, m: Any, masked: bool) -> None:
    """``hn = (h - hh) * z + hh``; a masked row carries ``h``."""
    B, U = h.shape
    for b in range(B):
        hb, hnb = h[b], hn[b]
        if masked and m[b, 0] == 0:
            for u in range(U):
                hnb[u] = hb[u]
        else:
            z, hhb = zr[b], hh[b]
            for u in range(U):
                v = hb[u] - hhb[u]
                v = v * z[u]
                hnb[u] = v + hhb[u]


def _gru_dz_dah(hp: Any, hh: Any, zr: Any, dh: Any, m: Any, masked: bool, dp: Any,
                carry: Any, one: Any) -> None:
    """GRU's backward from the state's gradient ``dh``: ``dz`` into ``dp[:, :U]``, ``dah`` (the
    candidate's pre-activation) into ``dp[:, 2U:]``, and ``carry = dhc * z`` (``dhc = dh``
    times the mask)."""
    B, U = hh.shape
    for b in range(B):
        hpb, hhb, z, dhb = hp[b], hh[b], zr[b], dh[b]
        dzb, dahb, cb = dp[b, :U], dp[b, 2 * U:], carry[b]
        mv = m[b, 0]
        if masked:
            for u in range(U):
                cb[u] = dhb[u] * mv
        else:
            for u in range(U):
                cb[u] = dhb[u]
        for u in range(U):  # cb holds dhc here
            dhc = cb[u]
            zu = z[u]
            hv = hhb[u]
            v = hpb[u] - hv
            v = v * dhc
            dzb[u] = v * (zu * (one - zu))
            w = one - zu
            w = w * dhc
            dahb[u] = w * (one - hv * hv)
            cb[u] = dhc * zu


def _gru_back(hp: Any, hh: Any, zr: Any, mt: Any, back: Any, carry: Any, dh: Any, dHt: Any,
              has_dH: bool, m: Any, mp: Any, masked: bool, first: bool, dmi: Any, dp: Any,
              one: Any) -> None:
    """One step of GRU's backward, reset_after (tanh and sigmoid).

    ``dh`` as in :func:`_lstm_back`, with ``back + carry`` for the step after's part;
    ``carry`` then keeps ``dhc * z`` for the step before; ``dmi`` receives the recurrent
    product's gradient ``(B, 3U)``, ``dp`` the projection's.
    """
    B, U = hh.shape
    if not first:
        for b in range(B):
            bb, cb = back[b], carry[b]
            for u in range(U):
                bb[u] = bb[u] + cb[u]
    _carry_dh(back, dh, dHt, has_dH, mp, masked, first, one)
    # dz into dp[:, :U], dah into dp[:, 2U:]
    _gru_dz_dah(hp, hh, zr, dh, m, masked, dp, carry, one)
    for b in range(B):
        dpb, dmib, r, mtb = dp[b], dmi[b], zr[b, U:], mt[b]
        dah, dr = dpb[2 * U:], dpb[U:2 * U]
        for u in range(U):
            ru = r[u]
            v = dah[u] * mtb[u]
            dr[u] = v * (ru * (one - ru))
        for u in range(2 * U):
            dmib[u] = dpb[u]
        dmh = dmib[2 * U:]
        for u in range(U):
            dmh[u] = dah[u] * r[u]


def _gru_back_before1(hp: Any, hh: Any, zr: Any, back: Any, carry: Any, carry2: Any, dh: Any,
                      dHt: Any, has_dH: bool, m: Any, mp: Any, masked: bool, first: bool,
                      dah_out: Any, dmi: Any, dp: Any, one: Any) -> None:
    """One step of GRU's backward, reset_before, up to ``dah`` (``dM = dah @ R_h^T`` follows):
    the step after's part is ``(back + carry2) + carry`` (its ``dM * r``, then ``dhc * z``)."""
    B, U = hh.shape
    if not first:
        for b in range(B):
            bb, cb, c2 = back[b], carry[b], carry2[b]
            for u in range(U):
                v = bb[u] + c2[u]
                bb[u] = v + cb[u]
    _carry_dh(back, dh, dHt, has_dH, mp, masked, first, one)
    _gru_dz_dah(hp, hh, zr, dh, m, masked, dp, carry, one)
    for b in range(B):
        dpb, dmib, dab = dp[b], dmi[b], dah_out[b]
        for u in range(U):
            dmib[u] = dpb[u]
        dah = dpb[2 * U:]
        for u in range(U):
            dab[u] = dah[u]


def _gru_back_before2(hp: Any, zr: Any, dM: Any, carry2: Any, dmi: Any, dp: Any,
                      one: Any) -> None:
    """reset_before, after ``dM``: ``dr = dM * h_prev * r (1 - r)``; ``carry2 = dM * r``."""
    B, U = hp.shape
    for b in range(B):
        r, dmb, hpb, c2 = zr[b, U:], dM[b], hp[b], carry2[b]
        dr, dri = dp[b, U:2 * U], dmi[b, U:]
        for u in range(U):
            ru = r[u]
            v = dmb[u] * hpb[u]
            v = v * (ru * (one - ru))
            dr[u] = v
            dri[u] = v
            c2[u] = dmb[u] * ru


_PYTHON: dict[str, Callable[..., None]] = {
    "lstm_gates": _lstm_gates, "lstm_cell": _lstm_cell, "lstm_cell_infer": _lstm_cell_infer,
    "lstm_out": _lstm_out, "lstm_back": _lstm_back, "lstm_sequence": _lstm_sequence,
    "tanh_array": _tanh_array, "gru_sequence": _gru_sequence,
    "gru_gates": _gru_gates, "gru_gates_before": _gru_gates_before, "gru_cand": _gru_cand,
    "gru_reset": _gru_reset, "gru_out": _gru_out, "gru_back": _gru_back,
    "gru_back_before1": _gru_back_before1, "gru_back_before2": _gru_back_before2,
}
#: Functions the kernels call: compiled first and bound in this module in their place.
_HELPERS = ("_carry_dh", "_gru_dz_dah")
#: Functions compiled to be inlined where they are called (see :func:`_bind_helpers`).
_INLINE = ("_tanh32",)

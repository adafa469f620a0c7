"""Per-step gate arithmetic of the LSTM and GRU ops, compiled with Numba (the ``fast`` extra).

At a batch of 32 and 64 units, a time step of the NumPy loops in :mod:`chainrule.ops.rnn` is a
dozen or more ufunc calls on arrays of a few thousand numbers, each costing about a
microsecond of call overhead; over 200 steps that is most of an LSTM's time outside BLAS. The
kernels here do the arithmetic between the recurrent matrix product and the ``tanh`` calls in
one pass each, so a step is the product, two ``tanh`` calls and three kernels (forward) or one
kernel and the product (backward; GRU with ``reset_after=False`` has two of each).

Bit-identical to the NumPy loops (tests compare every output and gradient): each kernel does
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

__all__ = ["kernel", "available"]

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
                module = globals()
                for helper in _HELPERS:  # the kernels reach them through this module's names
                    if not hasattr(module[helper], "py_func"):
                        module[helper] = _compiled_switch.compile_kernel(module[helper], numba)
                compiled = _kernels[name] = _compiled_switch.compile_kernel(_PYTHON[name], numba)
    return compiled


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
    "lstm_out": _lstm_out, "lstm_back": _lstm_back,
    "gru_gates": _gru_gates, "gru_gates_before": _gru_gates_before, "gru_cand": _gru_cand,
    "gru_reset": _gru_reset, "gru_out": _gru_out, "gru_back": _gru_back,
    "gru_back_before1": _gru_back_before1, "gru_back_before2": _gru_back_before2,
}
#: Functions the kernels call: compiled first and bound in this module in their place.
_HELPERS = ("_carry_dh", "_gru_dz_dah")

"""Per-step gate arithmetic of the LSTM and GRU ops, compiled with Numba (the ``fast`` extra).

At a batch of 32 and 64 units, a time step of the NumPy loops in :mod:`chainrule.ops.rnn` is a
dozen or more ufunc calls on arrays of a few thousand numbers, each costing about a
microsecond of call overhead; over 200 steps that is most of an LSTM's time outside BLAS. The
kernels here do the arithmetic between the recurrent matrix product and the ``tanh`` calls in
one pass each, so a step is the product, two ``tanh`` calls and three kernels (forward) or one
kernel and the product (backward).

Bit-identical to the NumPy loops (tests compare every output and gradient): each kernel does
the NumPy path's operations element by element, in the same order and precision, with the
constants passed in the array's dtype (a Python literal would promote float32 to float64);
they are compiled without fast-math, so nothing is reordered or contracted into an FMA. The
transcendental function stays in NumPy (``np.tanh`` over a whole block between kernels), since
NumPy's and Numba's ``tanh`` differ in the last bit; the matrix products stay NumPy's BLAS
calls, the same calls as the NumPy path makes.

Switched with the optimizer kernels: on when Numba can be imported and
:func:`chainrule.config.set_fused_kernels` has not turned it off. Only float32 and float64
arrays, the default activations (``tanh``, ``sigmoid``) and no recurrent dropout take them;
everything else runs the NumPy loops.

Shapes below: ``B`` batch, ``U`` units; every array is C-contiguous 2-D except masks
``(B, 1)`` and the bias ``(3U,)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.optimizers import _fused

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
    return np.dtype(dtype) in (np.float32, np.float64) and _fused.fused_kernels()


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
                compiled = _kernels[name] = _fused._compile(_fused._numba(), _PYTHON[name])
    return compiled


# -- LSTM ---------------------------------------------------------------------------------


def _lstm_gates(a: Any, rec: Any, two: Any, half: Any) -> None:
    """Before the one ``tanh``: ``a += rec``; the c gate doubled; every gate halved."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        for j in range(2 * U):
            a[b, j] = (a[b, j] + rec[b, j]) * half
        for j in range(2 * U, 3 * U):
            v = a[b, j] + rec[b, j]
            v = v * two
            a[b, j] = v * half
        for j in range(3 * U, G):
            a[b, j] = (a[b, j] + rec[b, j]) * half


def _lstm_cell(a: Any, c: Any, cn: Any, tc: Any, one: Any, half: Any) -> None:
    """After the gates' ``tanh``: sigmoid gates ``(t + 1) / 2``; ``cn = f c + i g``; ``tc = cn``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        for j in range(2 * U):
            a[b, j] = (a[b, j] + one) * half
        for j in range(3 * U, G):
            a[b, j] = (a[b, j] + one) * half
        for u in range(U):
            v = a[b, U + u] * c[b, u]
            ig = a[b, u] * a[b, 2 * U + u]
            v = v + ig
            cn[b, u] = v
            tc[b, u] = v


def _lstm_cell_infer(a: Any, scale: Any, offset: Any, c: Any, cn: Any) -> None:
    """The forward-only path after the gates' ``tanh``: ``a = a * scale + offset`` on whole
    rows; ``cn = f c + i g``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        for j in range(G):
            v = a[b, j] * scale[j]
            a[b, j] = v + offset[j]
        for u in range(U):
            v = a[b, U + u] * c[b, u]
            ig = a[b, u] * a[b, 2 * U + u]
            cn[b, u] = v + ig


def _lstm_out(a: Any, tc: Any, hn: Any, h: Any, cn: Any, c: Any, m: Any, masked: bool) -> None:
    """``hn = o * tc`` (``tc`` may be ``hn``); a masked row carries ``h`` and ``c``."""
    B, G = a.shape
    U = G // 4
    for b in range(B):
        if masked and m[b, 0] == 0:
            for u in range(U):
                hn[b, u] = h[b, u]
                cn[b, u] = c[b, u]
        else:
            for u in range(U):
                hn[b, u] = a[b, 3 * U + u] * tc[b, u]


def _lstm_back(a: Any, tc: Any, cp: Any, back: Any, dh: Any, dc: Any, dHt: Any, has_dH: bool,
               m: Any, mp: Any, masked: bool, first: bool, da: Any, one: Any) -> None:
    """One step of LSTM's backward (tanh and sigmoid), the NumPy loop's operations.

    ``dh`` holds the gradient of the step after this one (or the initial one when ``first``);
    it becomes ``back + dh * (1 - mp)`` (``back`` alone unmasked), plus ``dHt``; ``dc`` becomes
    the gradient for the step before. ``da`` receives the gates' gradient.
    """
    B, G = a.shape
    U = G // 4
    for b in range(B):
        mv = m[b, 0]
        keep = one - mv
        keep_next = one - mp[b, 0]
        for u in range(U):
            if first:
                dhv = dh[b, u]
            elif masked:
                dhv = back[b, u] + dh[b, u] * keep_next
            else:
                dhv = back[b, u]
            if has_dH:
                dhv = dhv + dHt[b, u]
            dh[b, u] = dhv
            dcv = dc[b, u]
            if masked:
                dhc = dhv * mv
                dcc = dcv * mv
            else:
                dhc = dhv
                dcc = dcv
            i = a[b, u]
            f = a[b, U + u]
            g = a[b, 2 * U + u]
            o = a[b, 3 * U + u]
            t = tc[b, u]
            tmp = dhc * o
            tmp = tmp * (one - t * t)
            dcn = tmp + dcc
            da[b, u] = (dcn * g) * (i * (one - i))
            da[b, U + u] = (dcn * cp[b, u]) * (f * (one - f))
            da[b, 2 * U + u] = (dcn * i) * (one - g * g)
            da[b, 3 * U + u] = (dhc * t) * (o * (one - o))
            if masked:
                dc[b, u] = dcn * f + dcv * keep
            else:
                dc[b, u] = dcn * f


# -- GRU ----------------------------------------------------------------------------------


def _gru_gates(p: Any, rec: Any, brec: Any, has_b: bool, zr: Any, mt: Any, half: Any) -> None:
    """reset_after, before the gates' ``tanh``: ``mi = rec + brec`` (into ``rec``); ``zr =
    (p + mi)[:, :2U] / 2`` (sigmoid's halving); ``mt = mi[:, 2U:]``."""
    B, G = p.shape
    U = G // 3
    for b in range(B):
        for j in range(2 * U):
            mi = rec[b, j]
            if has_b:
                mi = mi + brec[j]
                rec[b, j] = mi
            zr[b, j] = (p[b, j] + mi) * half
        for u in range(U):
            mi = rec[b, 2 * U + u]
            if has_b:
                mi = mi + brec[2 * U + u]
                rec[b, 2 * U + u] = mi
            mt[b, u] = mi


def _gru_gates_before(p: Any, rec: Any, zr: Any, half: Any) -> None:
    """reset_before, before the gates' ``tanh``: ``zr = (p[:, :2U] + rec) / 2``."""
    B, G2 = zr.shape
    for b in range(B):
        for j in range(G2):
            zr[b, j] = (p[b, j] + rec[b, j]) * half


def _gru_cand(p: Any, zr: Any, mt: Any, hh: Any, one: Any, half: Any) -> None:
    """reset_after, after the gates' ``tanh``: sigmoid ``(t + 1) / 2``; ``hh = r * mt + p_h``."""
    B, G = p.shape
    U = G // 3
    for b in range(B):
        for j in range(2 * U):
            zr[b, j] = (zr[b, j] + one) * half
        for u in range(U):
            v = zr[b, U + u] * mt[b, u]
            hh[b, u] = v + p[b, 2 * U + u]


def _gru_reset(zr: Any, h: Any, mt: Any, one: Any, half: Any) -> None:
    """reset_before, after the gates' ``tanh``: sigmoid ``(t + 1) / 2``; ``mt = r * h``."""
    B, G2 = zr.shape
    U = G2 // 2
    for b in range(B):
        for j in range(G2):
            zr[b, j] = (zr[b, j] + one) * half
        for u in range(U):
            mt[b, u] = zr[b, U + u] * h[b, u]


def _gru_out(zr: Any, hh: Any, h: Any, hn: Any, m: Any, masked: bool) -> None:
    """``hn = (h - hh) * z + hh``; a masked row carries ``h``."""
    B, U = h.shape
    for b in range(B):
        if masked and m[b, 0] == 0:
            for u in range(U):
                hn[b, u] = h[b, u]
        else:
            for u in range(U):
                v = h[b, u] - hh[b, u]
                v = v * zr[b, u]
                hn[b, u] = v + hh[b, u]


def _gru_back(hp: Any, hh: Any, zr: Any, mt: Any, back: Any, carry: Any, dh: Any, dHt: Any,
              has_dH: bool, m: Any, mp: Any, masked: bool, first: bool, dmi: Any, dp: Any,
              one: Any) -> None:
    """One step of GRU's backward, reset_after (tanh and sigmoid).

    ``dh`` as in :func:`_lstm_back`; ``carry`` keeps ``dhc * z`` for the step before; ``dmi``
    receives the recurrent product's gradient ``(B, 3U)``, ``dp`` the projection's.
    """
    B, U = hh.shape
    for b in range(B):
        mv = m[b, 0]
        for u in range(U):
            if first:
                dhv = dh[b, u]
            else:  # the step after's product, its carry, and the masked rows' carry
                dhv = back[b, u] + carry[b, u]
                if masked:
                    dhv = dhv + dh[b, u] * (one - mp[b, 0])
            if has_dH:
                dhv = dhv + dHt[b, u]
            dh[b, u] = dhv
            dhc = dhv * mv if masked else dhv
            z = zr[b, u]
            r = zr[b, U + u]
            hv = hh[b, u]
            dz = hp[b, u] - hv
            dz = dz * dhc
            dz = dz * (z * (one - z))
            dah = one - z
            dah = dah * dhc
            dah = dah * (one - hv * hv)
            dr = dah * mt[b, u]
            dr = dr * (r * (one - r))
            dmi[b, u] = dz
            dmi[b, U + u] = dr
            dmi[b, 2 * U + u] = dah * r
            dp[b, u] = dz
            dp[b, U + u] = dr
            dp[b, 2 * U + u] = dah
            carry[b, u] = dhc * z


def _gru_back_before1(hp: Any, hh: Any, zr: Any, back: Any, carry: Any, carry2: Any, dh: Any,
                      dHt: Any, has_dH: bool, m: Any, mp: Any, masked: bool, first: bool,
                      dah_out: Any, dmi: Any, dp: Any, one: Any) -> None:
    """One step of GRU's backward, reset_before, up to ``dah`` (``dM = dah @ R_h^T`` follows);
    ``carry`` keeps ``dhc * z``, ``carry2`` holds the step after's ``dM * r``."""
    B, U = hh.shape
    for b in range(B):
        mv = m[b, 0]
        for u in range(U):
            if first:
                dhv = dh[b, u]
            else:  # the product, then its carries dM * r and dhc * z, then the masked carry
                dhv = back[b, u] + carry2[b, u]
                dhv = dhv + carry[b, u]
                if masked:
                    dhv = dhv + dh[b, u] * (one - mp[b, 0])
            if has_dH:
                dhv = dhv + dHt[b, u]
            dh[b, u] = dhv
            dhc = dhv * mv if masked else dhv
            z = zr[b, u]
            hv = hh[b, u]
            dz = hp[b, u] - hv
            dz = dz * dhc
            dz = dz * (z * (one - z))
            dah = one - z
            dah = dah * dhc
            dah = dah * (one - hv * hv)
            dah_out[b, u] = dah
            dmi[b, u] = dz
            dp[b, u] = dz
            dp[b, 2 * U + u] = dah
            carry[b, u] = dhc * z


def _gru_back_before2(hp: Any, zr: Any, dM: Any, carry2: Any, dmi: Any, dp: Any,
                      one: Any) -> None:
    """reset_before, after ``dM``: ``dr = dM * h_prev * r (1 - r)``; ``carry2 = dM * r``."""
    B, U = hp.shape
    for b in range(B):
        for u in range(U):
            r = zr[b, U + u]
            dmv = dM[b, u]
            dr = dmv * hp[b, u]
            dr = dr * (r * (one - r))
            dmi[b, U + u] = dr
            dp[b, U + u] = dr
            carry2[b, u] = dmv * r


_PYTHON: dict[str, Callable[..., None]] = {
    "lstm_gates": _lstm_gates, "lstm_cell": _lstm_cell, "lstm_cell_infer": _lstm_cell_infer,
    "lstm_out": _lstm_out, "lstm_back": _lstm_back,
    "gru_gates": _gru_gates, "gru_gates_before": _gru_gates_before, "gru_cand": _gru_cand,
    "gru_reset": _gru_reset, "gru_out": _gru_out, "gru_back": _gru_back,
    "gru_back_before1": _gru_back_before1, "gru_back_before2": _gru_back_before2,
}

"""Keras 3's Fourier ops on (real, imaginary) pairs: ``fft``, ``fft2``, ``ifft2``, ``rfft``,
``irfft``, ``stft``, ``istft``; and the overlap-add that ``istft`` and ``ops.fold`` share.

chainrule's tensors are real, so (as in Keras) a complex tensor is a pair of
real ones. The discrete Fourier transform is linear: its backward is the
adjoint transform (``n * ifft`` of the output gradient for ``fft``), one
Function per output part. ``rfft``, ``irfft``, ``stft`` and ``istft`` are
compositions of it with slicing, ``take`` and the overlap-add, so their
gradients come free.

Example:
    >>> import chainrule as cr
    >>> real, imag = cr.ops.rfft(cr.Tensor([1.0, 0.0, 0.0, 0.0]))
    >>> real, imag
    (Tensor([1., 1., 1.], dtype=float32), Tensor([0., 0., 0.], dtype=float32))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.arrays import pad
from chainrule.ops.core import as_input, cast, raw
from chainrule.ops.indexing import take
from chainrule.ops.math import multiply
from chainrule.ops.shaping import concatenate, getitem

__all__ = ["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "OverlapAdd"]


class DFT(Function):
    """One part (0: real, 1: imaginary) of the DFT (``inverse``: the 1/n-normalized inverse) of
    ``real + 1j * imag`` over ``axes``."""

    def __init__(self, axes, inverse, part):
        self.axes, self.inverse, self.part = axes, inverse, part

    def forward(self, real, imag):
        fn = np.fft.ifftn if self.inverse else np.fft.fftn
        y = fn(real + 1j * imag, axes=self.axes)
        self.dtype = np.result_type(real, imag)
        self.n = int(np.prod([real.shape[a] for a in self.axes]))
        return (y.real if self.part == 0 else y.imag).astype(self.dtype)

    def backward(self, gy):
        g = gy if self.part == 0 else 1j * gy
        # the adjoint of fftn is n * ifftn; of ifftn, fftn / n
        if self.inverse:
            gx = np.fft.fftn(g, axes=self.axes) / self.n
        else:
            gx = np.fft.ifftn(g, axes=self.axes) * self.n
        return gx.real.astype(self.dtype), gx.imag.astype(self.dtype)


def _pair(x: Any, op: str) -> tuple:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{op}: x must be a tuple (real, imag) of two tensors. "
                         f"Received: x of type {type(x).__name__}")
    real, imag = as_input(x[0]), as_input(x[1])
    rs, is_ = np.shape(raw(real)), np.shape(raw(imag))
    if rs != is_:
        raise ValueError(f"{op}: the real and imaginary parts must have the same shape. "
                         f"Received: x[0].shape={rs}, x[1].shape={is_}")
    if raw(real).dtype.kind != "f" or raw(imag).dtype.kind != "f":
        raise ValueError(f"{op}: both parts of x must be floats. Received: dtypes "
                         f"{raw(real).dtype} and {raw(imag).dtype}")
    return real, imag


def _dft(real: Any, imag: Any, axes: tuple, inverse: bool) -> tuple:
    return DFT(axes, inverse, 0)(real, imag), DFT(axes, inverse, 1)(real, imag)


def _axes(real: Any, k: int, op: str) -> tuple:
    nd = np.ndim(raw(real))
    if nd < k:
        raise ValueError(f"{op}: x needs at least {k} dimensions. Received: x[0] of shape "
                         f"{np.shape(raw(real))}")
    return tuple(range(nd - k, nd))


def fft(x: tuple) -> tuple:
    """Fourier transform along the last axis of ``x = (real, imag)``.

    Returns:
        ``(real, imag)`` of the transform.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fft((cr.Tensor([1.0, 2.0]), cr.Tensor([0.0, 0.0])))
        (Tensor([ 3., -1.], dtype=float32), Tensor([0., 0.], dtype=float32))
    """
    real, imag = _pair(x, "fft")
    return _dft(real, imag, _axes(real, 1, "fft"), False)


def fft2(x: tuple) -> tuple:
    """Fourier transform over the last two axes of ``x = (real, imag)``.

    Example:
        >>> import chainrule as cr
        >>> re, im = cr.ops.fft2((cr.ops.ones((2, 2)), cr.ops.zeros((2, 2))))
        >>> re
        Tensor([[4., 0.],
                [0., 0.]], dtype=float32)
    """
    real, imag = _pair(x, "fft2")
    return _dft(real, imag, _axes(real, 2, "fft2"), False)


def ifft2(x: tuple) -> tuple:
    """Inverse Fourier transform (normalized by ``1/n``) over the last two axes.

    Example:
        >>> import chainrule as cr
        >>> re, im = cr.ops.ifft2((cr.Tensor([[4.0, 0.0], [0.0, 0.0]]), cr.ops.zeros((2, 2))))
        >>> re
        Tensor([[1., 1.],
                [1., 1.]], dtype=float32)
    """
    real, imag = _pair(x, "ifft2")
    return _dft(real, imag, _axes(real, 2, "ifft2"), True)


def _fit_last(x: Any, n: int) -> Any:
    """``x`` cropped or zero-padded to ``n`` along the last axis (NumPy's rule for ``n=``)."""
    m = np.shape(raw(x))[-1]
    if m > n:
        return getitem(x, (Ellipsis, slice(0, n)))
    if m < n:
        return pad(x, [(0, 0)] * (np.ndim(raw(x)) - 1) + [(0, n - m)])
    return x


def _length(v: Any, name: str, op: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{op}: {name} must be a positive integer. Received: {name}={v!r}")
    return int(v)


def rfft(x: Any, fft_length: int | None = None) -> tuple:
    """Fourier transform of a real signal along the last axis: the ``fft_length // 2 + 1``
    non-negative frequencies (the signal cropped or zero-padded to ``fft_length``).

    Example:
        >>> import chainrule as cr
        >>> re, im = cr.ops.rfft(cr.Tensor([1.0, 2.0, 3.0]))
        >>> re
        Tensor([ 6. , -1.5], dtype=float32)
    """
    x = as_input(x)
    if raw(x).dtype.kind != "f":
        from chainrule import backend  # noqa: PLC0415

        x = cast(x, backend.floatx())
    if np.ndim(raw(x)) < 1:
        raise ValueError(f"rfft: x needs at least 1 dimension. Received: x of shape "
                         f"{np.shape(raw(x))}")
    n = np.shape(raw(x))[-1] if fft_length is None else _length(fft_length, "fft_length",
                                                                 "rfft")
    x = _fit_last(x, n)
    zeros = np.zeros(np.shape(raw(x)), raw(x).dtype)
    re, im = _dft(x, zeros, (np.ndim(raw(x)) - 1,), False)
    keep = (Ellipsis, slice(0, n // 2 + 1))
    return getitem(re, keep), getitem(im, keep)


def irfft(x: tuple, fft_length: int | None = None) -> Tensor:
    """The real signal of length ``fft_length`` (default ``2 * (m - 1)``) whose :func:`rfft`
    is ``x = (real, imag)`` (NumPy's ``irfft``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.irfft((cr.Tensor([6.0, -1.5]), cr.Tensor([0.0, 0.8660254])), 3)
        Tensor([1., 2., 3.], dtype=float32)
    """
    real, imag = _pair(x, "irfft")
    m = np.shape(raw(real))[-1] if np.ndim(raw(real)) else 0
    if m < 1:
        raise ValueError(f"irfft: x needs at least one frequency along its last axis. "
                         f"Received: x[0] of shape {np.shape(raw(real))}")
    n = 2 * (m - 1) if fft_length is None else _length(fft_length, "fft_length", "irfft")
    if n < 1:
        raise ValueError("irfft: the signal length 2 * (m - 1) is 0 for one frequency; pass "
                         "fft_length. Received: fft_length=None")
    half = n // 2 + 1
    re, im = _fit_last(real, half), _fit_last(imag, half)
    tail = n - np.arange(half, n)  # the conjugate-symmetric rest of the spectrum
    full_re = concatenate([re, take(re, tail, axis=-1)], axis=-1)
    full_im = concatenate([im, -take(im, tail, axis=-1)], axis=-1)
    return DFT((np.ndim(raw(real)) - 1,), True, 0)(full_re, full_im)


def _window(window: Any, sequence_length: int, fft_length: int, dtype: Any, op: str) -> Any:
    if window is None:
        return None
    if isinstance(window, str):
        t = np.arange(sequence_length)
        if window == "hann":  # periodic windows (SciPy's get_window), as Keras uses
            w = 0.5 - 0.5 * np.cos(2 * np.pi * t / sequence_length)
        elif window == "hamming":
            w = 0.54 - 0.46 * np.cos(2 * np.pi * t / sequence_length)
        else:
            raise ValueError(f"{op}: a window given by name must be 'hann' or 'hamming'. "
                             f"Received: window={window!r}")
    else:
        w = np.asarray(window.numpy() if isinstance(window, Tensor) else window)
        if w.shape != (sequence_length,):
            raise ValueError(f"{op}: window must have shape (sequence_length,) = "
                             f"({sequence_length},). Received: window of shape {w.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(w, (left, fft_length - sequence_length - left)).astype(dtype)


def _stft_args(sequence_length: Any, sequence_stride: Any, fft_length: Any, op: str) -> tuple:
    sl = _length(sequence_length, "sequence_length", op)
    ss = _length(sequence_stride, "sequence_stride", op)
    fl = _length(fft_length, "fft_length", op)
    if fl < sl:
        raise ValueError(f"{op}: fft_length must be at least sequence_length. Received: "
                         f"sequence_length={sl}, fft_length={fl}")
    return sl, ss, fl


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int,
         window: Any = "hann", center: bool = True) -> tuple:
    """Short-time Fourier transform along the last axis (Keras's framing and scaling).

    Args:
        x: a real signal ``(..., samples)`` (float32 or float64).
        sequence_length: the window length.
        sequence_stride: the hop between frames.
        fft_length: the frame length transformed (>= ``sequence_length``; the window is
            centered in it).
        window: ``"hann"``, ``"hamming"`` (periodic), an array of ``sequence_length``, or None.
        center: reflect-pad the signal by ``fft_length // 2`` on both sides first.

    Returns:
        ``(real, imag)``, each ``(..., frames, fft_length // 2 + 1)``.

    Example:
        >>> import chainrule as cr
        >>> re, im = cr.ops.stft(cr.ops.ones((16,)), 8, 4, 8)
        >>> re.shape
        (5, 5)
    """
    sl, ss, fl = _stft_args(sequence_length, sequence_stride, fft_length, "stft")
    x = as_input(x)
    if raw(x).dtype not in (np.float32, np.float64):
        raise TypeError(f"stft: x must be float32 or float64. Received: x of dtype "
                        f"{raw(x).dtype}")
    if center:
        x = pad(x, [(0, 0)] * (np.ndim(raw(x)) - 1) + [(fl // 2, fl // 2)], mode="reflect")
    win = _window(window, sl, fl, raw(x).dtype, "stft")
    from chainrule.ops.numpy_extra import extract_sequences  # noqa: PLC0415

    frames = extract_sequences(x, fl, ss)
    if win is not None:
        frames = multiply(frames, win)
    return rfft(frames)


class OverlapAdd(Function):
    """``out[..., index[j]] += x[..., j]`` into ``size`` places along the last axis (repeated
    places add up); the gradient gathers ``gy[..., index]``."""

    def __init__(self, index, size):
        self.index, self.size = index, size

    def forward(self, x):
        out = np.zeros(x.shape[:-1] + (self.size,), dtype=x.dtype)
        np.add.at(out, (Ellipsis, self.index), x)
        return out

    def backward(self, gy):
        return (gy[..., self.index],)


def istft(x: tuple, sequence_length: int, sequence_stride: int, fft_length: int,
          length: int | None = None, window: Any = "hann", center: bool = True) -> Tensor:
    """Inverse of :func:`stft`: each frame's ``irfft``, windowed and overlap-added, divided by
    the overlapping windows' squares (SciPy's ``istft``, as Keras uses it).

    Args:
        x: ``(real, imag)``, each ``(..., frames, fft_length // 2 + 1)``.
        sequence_length, sequence_stride, fft_length, window, center: as for :func:`stft`.
        length: the output length (default: all samples, without the centering pad).

    Example:
        >>> import chainrule as cr
        >>> sig = cr.Tensor(np.sin(np.arange(32.0)))
        >>> back = cr.ops.istft(cr.ops.stft(sig, 8, 2, 8), 8, 2, 8, length=32)
        >>> bool(np.allclose(back.numpy(), sig.numpy(), atol=1e-5))
        True
    """
    sl, ss, fl = _stft_args(sequence_length, sequence_stride, fft_length, "istft")
    real, imag = _pair(x, "istft")
    if np.ndim(raw(real)) < 2:
        raise ValueError(f"istft: x needs the shape (..., frames, bins). Received: x[0] of "
                         f"shape {np.shape(raw(real))}")
    dtype = raw(real).dtype
    nseg = np.shape(raw(real))[-2]
    frames = irfft((real, imag), fl)  # (..., nseg, fl)
    win = _window(window, sl, fl, dtype, "istft")
    w = np.ones(fl, dtype) if win is None else win
    out_len = fl + ss * (nseg - 1)
    index = (np.arange(nseg)[:, None] * ss + np.arange(fl)[None, :]).reshape(-1)
    lead = np.shape(raw(frames))[:-2]
    from chainrule.ops.shaping import reshape  # noqa: PLC0415

    flat = reshape(multiply(frames, w), lead + (nseg * fl,))
    y = OverlapAdd(index, out_len)(flat)
    norm = np.zeros(out_len, dtype)
    np.add.at(norm, index, np.tile(w * w, nseg))
    scale = w.sum() / np.where(norm > 1e-10, norm, 1.0)
    scale = scale / (w.sum() if win is not None else ss)
    y = multiply(y, scale.astype(dtype))
    start = fl // 2 if center else 0
    if length is not None:
        end = start + int(length)
    elif center:
        end = out_len - fl // 2
    else:
        end = out_len
    return getitem(y, (Ellipsis, slice(start, end)))

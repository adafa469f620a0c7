"""Keras 3's colour ops of ``keras.ops.image``: ``rgb_to_grayscale``, ``rgb_to_hsv``,
``hsv_to_rgb`` and ``gaussian_blur`` (re-exported by :mod:`chainrule.ops.image`).

``rgb_to_grayscale`` and ``gaussian_blur`` are linear, so each is one :class:`Function`
whose backward pass applies the transposed map. The HSV conversions are piecewise
smooth; they are written as compositions of chainrule's elementwise ops (Keras's
formulas: the hexcone model of ``dm_pix``/TensorFlow), so their gradients follow
from those ops.

Example:
    >>> import chainrule as cr
    >>> red = np.array([[[1.0, 0.0, 0.0]]], dtype="float32")
    >>> cr.ops.image.rgb_to_hsv(red).numpy().ravel()
    array([0., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.conv import normalize_data_format

__all__ = ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "gaussian_blur"]

#: ITU-R 601 luma weights, as Keras (and ``tf.image.rgb_to_grayscale``) use them
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def _channel_axis(images: Any, data_format: Any, what: str, channels: tuple) -> int:
    """The channel axis (negative) after checking the rank and the number of channels."""
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    if len(shape) not in (3, 4):
        raise shape_error(f"{what}: images must have rank 3 (height, width, channels) or 4 "
                          f"(batch, height, width, channels). Received: images of shape "
                          f"{shape}")
    axis = -3 if channels_first else -1
    if shape[axis] not in channels:
        want = " or ".join(str(c) for c in channels)
        raise shape_error(f"{what}: images must have {want} channels (RGB"
                          f"{' or grayscale' if 1 in channels else ''}) on axis {axis}. "
                          f"Received: images of shape {shape}")
    return axis


def _as_float(images: Any) -> Tensor:
    from chainrule import ops  # noqa: PLC0415

    x = images if isinstance(images, Tensor) else ops.convert_to_tensor(images)
    if x.dtype.kind != "f":
        from chainrule import backend  # noqa: PLC0415

        x = ops.cast(x, backend.floatx())
    return x


class RgbToGrayscale(Function):
    """The luma ``0.2989 R + 0.5870 G + 0.1140 B`` along ``axis``, kept as one channel."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        self.dtype = x.dtype
        xf = x if x.dtype.kind == "f" else x.astype(np.float32)
        w = np.asarray(GRAY_WEIGHTS, dtype=xf.dtype)
        y = np.expand_dims(np.tensordot(xf, w, axes=([self.axis], [0])), self.axis)
        if x.dtype.kind != "f":  # Keras casts back to the input's (integer) dtype
            y = y.astype(x.dtype)
        return y

    def backward(self, gy):
        shape = [1] * gy.ndim
        shape[self.axis] = 3
        return (gy * np.asarray(GRAY_WEIGHTS, dtype=gy.dtype).reshape(shape),)


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Tensor:
    """Convert RGB images to grayscale (Keras's ``ops.image.rgb_to_grayscale``).

    Args:
        images: ``(batch, height, width, 3)`` or ``(height, width, 3)`` (channels first
            with ``data_format="channels_first"``); one-channel images are returned as
            they are.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The images with one channel ``0.2989 R + 0.5870 G + 0.1140 B``, in the input's
        dtype (integers are truncated, as Keras casts). Differentiable for float input.

    Raises:
        ValueError: for images not of rank 3 or 4, or with neither 1 nor 3 channels.

    Example:
        >>> import chainrule as cr
        >>> img = np.array([[[255.0, 0.0, 0.0]]], dtype="float32")
        >>> cr.ops.image.rgb_to_grayscale(img).numpy().round(2).ravel()
        array([76.22], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415

    axis = _channel_axis(images, data_format, "rgb_to_grayscale", (1, 3))
    x = images if isinstance(images, Tensor) else ops.convert_to_tensor(images)
    if x.shape[axis] == 1:
        return ops.copy(x)
    return RgbToGrayscale(axis)(x)


def _planes(x: Tensor, axis: int) -> list:
    from chainrule import ops  # noqa: PLC0415

    index = [slice(None)] * len(x.shape)
    planes = []
    for c in range(3):
        index[axis] = c
        planes.append(ops.getitem(x, tuple(index)))
    return planes


def rgb_to_hsv(images: Any, data_format: str | None = None) -> Tensor:
    """Convert RGB images to HSV (Keras's ``ops.image.rgb_to_hsv``).

    Hue, saturation and value are each in ``[0, 1]`` for RGB in ``[0, 1]``: ``V =
    max(R, G, B)``, ``S = (V - min) / V`` (0 where ``V = 0``) and the hue of the hexcone
    model (0 for red, 1/3 for green, 2/3 for blue; 0 for grays). Values with magnitude
    below the dtype's machine epsilon are read as 0, as Keras does.

    Args:
        images: float images ``(batch, height, width, 3)`` or ``(height, width, 3)``
            (channels first with ``data_format="channels_first"``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The HSV images, same shape and dtype. Differentiable (piecewise).

    Raises:
        ValueError: for images not of rank 3 or 4, or without 3 channels.

    Example:
        >>> import chainrule as cr
        >>> img = np.array([[[0.0, 0.5, 1.0]]], dtype="float32")
        >>> cr.ops.image.rgb_to_hsv(img).numpy().round(4).ravel()
        array([0.5833, 1.    , 1.    ], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415

    axis = _channel_axis(images, data_format, "rgb_to_hsv", (3,))
    x = _as_float(images)
    eps = float(np.finfo(x.dtype).eps)
    x = ops.where(ops.abs(x) < eps, 0.0, x)
    r, g, b = _planes(x, axis)
    value = ops.maximum(ops.maximum(r, g), b)
    spread = value - ops.minimum(ops.minimum(r, g), b)
    positive, colour = value > 0, spread > 0
    saturation = ops.where(positive, spread / ops.where(positive, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * ops.where(colour, spread, 1.0))
    hue = ops.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = ops.where(value == r, norm * (g - b), hue)
    hue = ops.where(colour, hue, 0.0) + ops.cast(hue < 0.0, x.dtype)
    return ops.stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> Tensor:
    """Convert HSV images to RGB (Keras's ``ops.image.hsv_to_rgb``).

    The inverse of :func:`rgb_to_hsv`: the hue is read modulo 1, and each colour is
    ``V * (1 - S + S * d(H))`` with the hexcone's piecewise-linear ``d``.

    Args:
        images: float HSV images ``(batch, height, width, 3)`` or ``(height, width, 3)``
            (channels first with ``data_format="channels_first"``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The RGB images, same shape and dtype. Differentiable (piecewise).

    Raises:
        ValueError: for images not of rank 3 or 4, or without 3 channels.

    Example:
        >>> import chainrule as cr
        >>> hsv = np.array([[[1 / 3, 1.0, 0.5]]], dtype="float32")
        >>> cr.ops.image.hsv_to_rgb(hsv).numpy().ravel()
        array([0. , 0.5, 0. ], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415

    axis = _channel_axis(images, data_format, "hsv_to_rgb", (3,))
    x = _as_float(images)
    hue, saturation, value = _planes(x, axis)
    dh = ops.mod(hue, 1.0) * 6.0
    dr = ops.clip(ops.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = ops.clip(2.0 - ops.abs(dh - 2.0), 0.0, 1.0)
    db = ops.clip(2.0 - ops.abs(dh - 4.0), 0.0, 1.0)
    grey = 1.0 - saturation
    return ops.stack([value * (grey + saturation * d) for d in (dr, dg, db)], axis=axis)


def gaussian_kernel(kernel_size: tuple, sigma: Any, dtype: Any) -> np.ndarray:
    """The ``(kernel_size[0], kernel_size[1])`` Gaussian kernel Keras's TensorFlow backend uses.

    Two normalised 1-D Gaussians, ``ky`` of ``kernel_size[1]`` taps with ``sigma[1]``
    and ``kx`` of ``kernel_size[0]`` taps with ``sigma[0]``; their outer product
    ``ky ⊗ kx`` read in row-major order as a ``kernel_size`` array (for square kernels:
    ``sigma[1]`` acts along the height and ``sigma[0]`` along the width).

    Example:
        >>> round(float(gaussian_kernel((3, 3), (1.0, 1.0), "float64").sum()), 12)
        1.0
    """
    dt = np.dtype(dtype)
    sigma = np.asarray(sigma, dtype=dt).reshape(-1)

    def one_d(size: int, s: Any) -> np.ndarray:
        t = np.arange(size, dtype=dt) - dt.type((size - 1) / 2)
        k = np.exp(dt.type(-0.5) * (t / s) ** 2)
        return k / k.sum()

    outer = np.multiply.outer(one_d(kernel_size[1], sigma[1]), one_d(kernel_size[0], sigma[0]))
    return outer.reshape(kernel_size)


class Filter2D(Function):
    """Correlate each channel of ``(n, h, w, c)`` images with one 2-D ``kernel`` (zero
    padding, TensorFlow's "SAME" split: ``(k - 1) // 2`` before).

    Linear, so the backward pass adds ``kernel[i, j] * gy`` back where each tap read.
    """

    def __init__(self, kernel: Any = None) -> None:
        self.kernel = None if kernel is None else np.asarray(kernel)

    def _correlate(self, x, k):
        kh, kw = k.shape
        n, h, w, c = x.shape
        self.kernel, self.top, self.left = k, (kh - 1) // 2, (kw - 1) // 2
        xp = np.pad(x, ((0, 0), (self.top, kh - 1 - self.top), (self.left, kw - 1 - self.left),
                        (0, 0)))
        out = np.zeros_like(x)
        for i in range(kh):
            for j in range(kw):
                out += k[i, j] * xp[:, i:i + h, j:j + w]
        return out

    def forward(self, x):
        return self._correlate(x, self.kernel.astype(x.dtype, copy=False))

    def backward(self, gy):
        kh, kw = self.kernel.shape
        n, h, w, c = gy.shape
        gp = np.zeros((n, h + kh - 1, w + kw - 1, c), dtype=gy.dtype)
        for i in range(kh):
            for j in range(kw):
                gp[:, i:i + h, j:j + w] += self.kernel[i, j] * gy
        return (gp[:, self.top:self.top + h, self.left:self.left + w],)


class GaussianBlur(Filter2D):
    """:class:`Filter2D` with the Gaussian of :func:`gaussian_kernel` for ``sigma``, a second
    input (2 numbers, for instance drawn inside an op; not differentiated)."""

    def __init__(self, kernel_size: tuple) -> None:
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x, sigma):
        return self._correlate(x, gaussian_kernel(self.kernel_size, sigma, x.dtype))

    def backward(self, gy):
        return super().backward(gy) + (None,)


def _pair(value: Any, name: str, what: str, kind: type) -> tuple:
    given = value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = (value, value)
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        and v > 0 and (kind is float or float(v) == int(v)) for v in value)
    if not ok:
        noun = "positive integers" if kind is int else "positive numbers"
        raise ValueError(f"{what}: {name} must be a pair of {noun}. Received: "
                         f"{name}={given!r}")
    return tuple(kind(v) for v in value)


def blur(x: Any, kernel_size: tuple, sigma: Any) -> Tensor:
    """:class:`GaussianBlur` on channels-last batches ``(n, h, w, c)``; ``sigma`` may be a
    Tensor (for instance drawn inside an op)."""
    return GaussianBlur(tuple(int(k) for k in kernel_size))(x, sigma)


def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: str | None = None) -> Tensor:
    """Blur images with a Gaussian kernel (Keras's ``ops.image.gaussian_blur``).

    Each channel is correlated with the kernel of :func:`gaussian_kernel` (zero padding,
    TensorFlow's ``"SAME"`` split), so the output keeps the input's size.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``
            (channels first with ``data_format="channels_first"``).
        kernel_size: a pair of positive integers (an int means a square kernel).
        sigma: a pair of positive standard deviations (a number means both).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The blurred images, shape of the input (float). Differentiable with respect to
        ``images``.

    Raises:
        ValueError: for images not of rank 3 or 4, or a bad ``kernel_size``/``sigma``.

    Example:
        >>> import chainrule as cr
        >>> img = np.zeros((5, 5, 1), "float32"); img[2, 2] = 1.0
        >>> out = cr.ops.image.gaussian_blur(img, (3, 3), (1.0, 1.0))
        >>> out.shape, round(float(out.numpy().sum()), 5)
        ((5, 5, 1), 1.0)
    """
    from chainrule import ops  # noqa: PLC0415

    what = "gaussian_blur"
    ks = _pair(kernel_size, "kernel_size", what, int)
    sg = _pair(sigma, "sigma", what, float)
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    if len(shape) not in (3, 4):
        raise shape_error(f"{what}: images must have rank 3 (height, width, channels) or 4 "
                          f"(batch, height, width, channels). Received: images of shape "
                          f"{shape}")
    x = _as_float(images)
    if len(shape) == 3:
        x = ops.expand_dims(x, 0)
    if channels_first:
        x = ops.transpose(x, (0, 2, 3, 1))
    y = blur(x, ks, np.asarray(sg))
    if channels_first:
        y = ops.transpose(y, (0, 3, 1, 2))
    return ops.squeeze(y, 0) if len(shape) == 3 else y

"""Keras 3's ``ops.image.sobel_edges`` and ``ops.image.ssim`` (re-exported by
:mod:`chainrule.ops.image`).

``sobel_edges`` is linear: one :class:`Function` (:class:`SobelEdges`) correlates each
channel with the two 3x3 Sobel kernels after mirror padding (TensorFlow's ``REFLECT``,
the edge pixel not repeated) and its backward pass applies the transposed map.
``ssim`` is Keras's formula written with chainrule's ops (a Gaussian ``valid``
convolution and elementwise maths), so its gradient follows from theirs.

Example:
    >>> import chainrule as cr
    >>> img = np.zeros((1, 4, 4, 1), "float32"); img[0, :, 2:] = 1.0
    >>> cr.ops.image.sobel_edges(img).numpy()[0, 1, :, 0, 1]
    array([0., 4., 4., 0.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.conv import normalize_data_format

__all__ = ["sobel_edges", "ssim"]

#: the smoothing and difference taps whose outer products are the Sobel kernels
_SMOOTH = (1.0, 2.0, 1.0)
_DIFF = (-1.0, 0.0, 1.0)


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def _fold_reflect(gp: np.ndarray, axis: int) -> np.ndarray:
    """The adjoint of a one-pixel ``REFLECT`` pad along ``axis``: the two border slices of
    ``gp`` are added onto the pixels they copied (index 1 and ``n - 2``)."""
    gp = np.moveaxis(gp, axis, 0)
    g = gp[1:-1].copy()
    g[1] += gp[0]
    g[-2] += gp[-1]
    return np.moveaxis(g, 0, axis)


class SobelEdges(Function):
    """The Sobel responses ``(dy, dx)`` of channels-last images ``(n, h, w, c)`` (mirror
    padded), stacked on a new last axis: ``(n, h, w, c, 2)``.

    ``dy`` correlates with ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]`` and ``dx`` with its
    transpose. Linear: the backward pass correlates the gradient with the flipped
    kernels and folds the padding back onto the pixels it mirrored.
    """

    def forward(self, x):
        n, h, w, c = x.shape
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        out = np.zeros((n, h, w, c, 2), dtype=x.dtype)
        for i in range(3):
            for j in range(3):
                window = p[:, i:i + h, j:j + w]
                ky, kx = _DIFF[i] * _SMOOTH[j], _SMOOTH[i] * _DIFF[j]
                if ky:
                    out[..., 0] += ky * window
                if kx:
                    out[..., 1] += kx * window
        return out

    def backward(self, gy):
        n, h, w, c, _ = gy.shape
        gp = np.zeros((n, h + 2, w + 2, c), dtype=gy.dtype)
        for i in range(3):
            for j in range(3):
                ky, kx = _DIFF[i] * _SMOOTH[j], _SMOOTH[i] * _DIFF[j]
                gp[:, i:i + h, j:j + w] += ky * gy[..., 0] + kx * gy[..., 1]
        return (_fold_reflect(_fold_reflect(gp, 1), 2),)


def sobel_edges(images: Any, data_format: str | None = None) -> Tensor:
    """Sobel edge responses of a batch of images (Keras's ``ops.image.sobel_edges``).

    Each channel is correlated with the vertical kernel ``[[-1, -2, -1], [0, 0, 0],
    [1, 2, 1]]`` (``dy``) and its transpose (``dx``) after padding one pixel by mirror
    reflection without repeating the edge (TensorFlow's ``tf.image.sobel_edges``, which
    Keras's TensorFlow backend calls).

    Args:
        images: ``(batch, height, width, channels)`` (``(batch, channels, height, width)``
            with ``data_format="channels_first"``), height and width at least 2.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        ``(batch, height, width, channels, 2)`` (channels first: ``(batch, channels,
        height, width, 2)``) holding ``[dy, dx]`` on the last axis, in the images' float
        dtype (integers give ``floatx``). Differentiable with respect to ``images``.

    Raises:
        ValueError: for images not of rank 4, smaller than 2x2, or a bad data format.

    Example:
        >>> import chainrule as cr
        >>> image = np.zeros((1, 8, 8, 1), "float32"); image[0, :, 4:, 0] = 1.0
        >>> cr.ops.image.sobel_edges(image).shape
        (1, 8, 8, 1, 2)
    """
    from chainrule import ops  # noqa: PLC0415
    from chainrule.ops.image_color import _as_float  # noqa: PLC0415

    what = "sobel_edges"
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    if len(shape) != 4:
        raise shape_error(f"{what}: images must have rank 4 (a batch of images). "
                          f"Received: images of shape {shape}")
    spatial = shape[2:] if channels_first else shape[1:3]
    if min(spatial) < 2:
        raise shape_error(f"{what}: images must be at least 2x2 pixels (the mirror padding "
                          f"needs two). Received: images of shape {shape}")
    x = _as_float(images)
    if channels_first:
        x = ops.transpose(x, (0, 2, 3, 1))
    y = SobelEdges()(x)
    return ops.transpose(y, (0, 3, 1, 2, 4)) if channels_first else y


def _gaussian_1d(size: int, sigma: float, dtype: Any) -> np.ndarray:
    dt = np.dtype(dtype)
    t = np.arange(size, dtype=dt) - dt.type((size - 1) / 2.0)
    g = np.exp(-(t ** 2) / dt.type(2.0 * sigma ** 2))
    return g / g.sum()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                      bool)


def ssim(image1: Any, image2: Any, max_val: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
         data_format: str | None = None) -> Tensor:
    """The structural similarity index of two images (Keras's ``ops.image.ssim``).

    Wang et al. (2004), as Keras computes it: local means, variances and covariance
    under a ``filter_size`` Gaussian window (a ``"valid"`` convolution, so only whole
    windows count), the SSIM map ``(2 mu1 mu2 + c1)(2 s12 + c2) / ((mu1^2 + mu2^2 + c1)
    (s1^2 + s2^2 + c2))`` with ``c1 = (k1 max_val)^2`` and ``c2 = (k2 max_val)^2``, then
    the mean over the pixels and the channels of each image.

    Args:
        image1: ``(batch, height, width, channels)`` or ``(height, width, channels)``
            (channels first with ``data_format="channels_first"``).
        image2: images of the same shape.
        max_val: the largest pixel value (``1.0`` for [0, 1], ``255.0`` for bytes).
        filter_size: the Gaussian window's size, a positive integer no larger than the
            images' height and width.
        filter_sigma: the window's standard deviation.
        k1: the luminance stabilisation constant.
        k2: the contrast stabilisation constant.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        One SSIM value per image pair, shape ``(batch,)`` (a scalar for single images),
        computed in the float dtype of ``image1`` (``floatx`` for integers) and, as in
        Keras, cast back to ``image1``'s dtype. Differentiable with respect to both
        images.

    Raises:
        ValueError: for images not of rank 3 or 4, of different shapes, smaller than the
            window, or a bad ``filter_size``/``filter_sigma``.

    Example:
        >>> import chainrule as cr
        >>> image = np.random.default_rng(0).random((32, 32, 3)).astype("float32")
        >>> round(float(cr.ops.image.ssim(image, image)), 4)
        1.0
        >>> cr.ops.image.ssim(np.stack([image] * 2), np.zeros((2, 32, 32, 3))).shape
        (2,)
    """
    from chainrule import ops  # noqa: PLC0415
    from chainrule.ops.image_color import _as_float  # noqa: PLC0415

    what = "ssim"
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    s1, s2 = _shape(image1), _shape(image2)
    for name, s in (("image1", s1), ("image2", s2)):
        if len(s) not in (3, 4):
            raise shape_error(f"{what}: {name} must have rank 3 (a single image) or 4 (a "
                              f"batch of images). Received: {name} of shape {s}")
    if s1 != s2:
        raise shape_error(f"{what}: image1 and image2 must have the same shape. Received: "
                          f"image1 of shape {s1}, image2 of shape {s2}")
    if not isinstance(filter_size, (int, np.integer)) or isinstance(filter_size, bool) \
            or filter_size < 1:
        raise ValueError(f"{what}: filter_size must be a positive integer. Received: "
                         f"filter_size={filter_size!r}")
    if not _number(filter_sigma) or filter_sigma <= 0:
        raise ValueError(f"{what}: filter_sigma must be a positive number. Received: "
                         f"filter_sigma={filter_sigma!r}")
    spatial = s1[-2:] if channels_first else s1[-3:-1]
    if min(spatial) < filter_size:
        raise shape_error(f"{what}: the images must be at least filter_size={filter_size} "
                          f"pixels high and wide (only whole windows count). Received: "
                          f"images of shape {s1}")
    x1 = image1 if isinstance(image1, Tensor) else ops.convert_to_tensor(image1)
    original = x1.dtype
    x1 = _as_float(x1)
    x2 = ops.cast(_as_float(image2), x1.dtype)
    if len(s1) == 3:
        x1, x2 = ops.expand_dims(x1, 0), ops.expand_dims(x2, 0)
    if not channels_first:  # (b, h, w, c) -> (b, c, h, w)
        x1, x2 = ops.transpose(x1, (0, 3, 1, 2)), ops.transpose(x2, (0, 3, 1, 2))
    b, c, h, w = x1.shape
    # every channel an image of its own: (b * c, h, w, 1)
    x1, x2 = ops.reshape(x1, (-1, h, w, 1)), ops.reshape(x2, (-1, h, w, 1))
    g = _gaussian_1d(int(filter_size), float(filter_sigma), x1.dtype)
    kernel = np.multiply.outer(g, g).reshape(filter_size, filter_size, 1, 1)

    def local_mean(t: Any) -> Tensor:
        return ops.conv(t, kernel, strides=1, padding="valid", data_format="channels_last")

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = local_mean(x1), local_mean(x2)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = local_mean(x1 * x1) - mu1_sq
    sigma2_sq = local_mean(x2 * x2) - mu2_sq
    sigma12 = local_mean(x1 * x2) - mu1_mu2
    ssim_map = ((2.0 * mu1_mu2 + c1) * (2.0 * sigma12 + c2)) / (
        (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    per_image = ops.mean(ops.reshape(ops.mean(ssim_map, axis=(1, 2, 3)), (b, c)), axis=-1)
    if len(s1) == 3:
        per_image = ops.squeeze(per_image, 0)
    return per_image if per_image.dtype == original else ops.cast(per_image, original)

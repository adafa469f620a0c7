"""The image ops of the preprocessing layers: resampling (warps, resizing) and random changes.

One resampler serves every geometric layer: :func:`sampling_plan` says, for
each output pixel, which input pixels it reads and with what weights (the
bilinear or nearest neighbours of the point a transform maps it to, with
TensorFlow's fill modes for points outside); :class:`Warp` forms the weighted
sums, and its backward scatters the gradient back with the same weights.
``Resizing``, ``CenterCrop`` and ``ops.image.resize`` use it (:func:`resize`) with
TensorFlow's resize coordinates,
``RandomRotation``/``RandomZoom``/``RandomTranslation`` with Keras's affine
matrices drawn inside the op (:class:`RandomWarp`), so a replayed training
step draws new transforms. Coordinates and weights are float32, as
TensorFlow computes them, so the outputs match Keras's.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.arrays import pad
from chainrule.ops.shaping import getitem

__all__ = [
    "Warp", "RandomWarp", "RandomFlipOp", "RandomContrastOp", "RandomBrightnessOp",
    "warp", "affine_warp", "resize_images", "sampling_plan", "affine_coordinates",
    "resize_coordinates", "rotation_matrices",
]


_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _map_coordinates(c: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Map sampling coordinates outside ``[0, n-1]`` inside, by ``mode`` (TensorFlow's rules).

    ``reflect`` mirrors about the edge of the last pixel (d c b a | a b c d | d c b a),
    ``wrap`` repeats the image, ``nearest`` clamps; ``constant`` leaves them (the
    pixels read outside take ``fill_value``).
    """
    if mode == "constant":
        return c
    if mode == "nearest":
        return np.clip(c, 0, n - 1)
    if n <= 1:
        return np.zeros_like(c)
    c = c.copy()
    low, high = c < 0, c > n - 1  # one or the other, decided before either moves a point
    if mode == "reflect":
        period = 2.0 * n
        v = c[low]
        v = np.where(v < -period, period * np.trunc(-v / period) + v, v)
        c[low] = np.where(v < -n, v + period, -v - 1)
        v = c[high]
        v = v - period * np.trunc(v / period)
        c[high] = np.where(v >= n, period - v - 1, v)
    else:  # wrap: one period is n pixels; TensorFlow counts whole periods of n - 1
        size = float(n - 1)
        c[low] = c[low] + n * (np.trunc(-c[low] / size) + 1)
        c[high] = c[high] - n * np.trunc(c[high] / size)
    return np.clip(c, 0, n - 1)


def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def affine_coordinates(matrices: np.ndarray, out_hw: tuple) -> tuple:
    """The input point each output pixel reads under Keras's projective transforms.

    ``matrices`` are ``[a0, a1, a2, b0, b1, b2, c0, c1]`` per image: the output
    pixel ``(x, y)`` reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y +
    b2) / k)`` with ``k = c0 x + c1 y + 1``, computed in float32 as TensorFlow
    does (so nearest-neighbour ties fall the same way).

    Returns:
        ``(x_in, y_in, degenerate)``, each of shape ``(n, oh, ow)``.
    """
    oh, ow = out_hw
    m = matrices.astype(np.float32)
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float32), np.arange(ow, dtype=np.float32),
                         indexing="ij")
    a = m[:, :, None, None]
    k = a[:, 6] * xs + a[:, 7] * ys + np.float32(1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_in = (a[:, 0] * xs + a[:, 1] * ys + a[:, 2]) / k
        y_in = (a[:, 3] * xs + a[:, 4] * ys + a[:, 5]) / k
    return x_in, y_in, k == 0


def resize_coordinates(n: int, in_hw: tuple, out_hw: tuple, interpolation: str) -> tuple:
    """The input point each output pixel reads in TensorFlow's ``resize`` (half-pixel centres).

    Bilinear: ``(i + 0.5) * scale - 0.5``; nearest: ``floor((i + 0.5) * scale)``;
    both in float32 as TensorFlow computes them.
    """
    coords = []
    for size_in, size_out in zip(in_hw, out_hw):
        scale = np.float32(size_in) / np.float32(size_out)
        c = (np.arange(size_out, dtype=np.float32) + np.float32(0.5)) * scale
        c = np.floor(c) if interpolation == "nearest" else c - np.float32(0.5)
        coords.append(c)
    y_in, x_in = np.meshgrid(coords[0], coords[1], indexing="ij")
    shape = (n,) + tuple(out_hw)
    return (np.broadcast_to(x_in, shape), np.broadcast_to(y_in, shape),
            np.zeros(shape, dtype=bool))


def sampling_plan(coords: tuple, in_hw: tuple, interpolation: str, fill_mode: str) -> tuple:
    """Where each output pixel reads the input: flat indices and weights per corner.

    Args:
        coords: ``(x_in, y_in, degenerate)`` from :func:`affine_coordinates` or
            :func:`resize_coordinates`.
        in_hw: the input's ``(height, width)``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: how points outside are read (see :func:`_map_coordinates`).

    Returns:
        ``(index, weight, fill)``: arrays of shape ``(corners, n, oh, ow)``: the
        flat input pixel and its weight (0 for a read outside the image); and
        the total weight of the reads outside (they read ``fill_value``), shape
        ``(n, oh, ow)``.
    """
    h, w = in_hw
    x_in, y_in, degenerate = coords
    n, oh, ow = x_in.shape
    if degenerate.any():
        x_in = np.where(degenerate, np.float32(-2 * w - 2), x_in)
        y_in = np.where(degenerate, np.float32(-2 * h - 2), y_in)
    x_in = _map_coordinates(x_in, w, fill_mode)  # float32, as TensorFlow computes them
    y_in = _map_coordinates(y_in, h, fill_mode)
    base = (np.arange(n) * (h * w))[:, None, None]
    if interpolation == "nearest":
        ys, xs = _round_half_away(y_in)[None], _round_half_away(x_in)[None]
        wts = np.ones((1,) + x_in.shape, dtype=x_in.dtype)
    else:  # the four neighbours, weighted as TensorFlow weighs them
        y0, x0 = np.floor(y_in), np.floor(x_in)
        y1, x1 = y0 + 1, x0 + 1
        ys, xs = np.stack([y0, y0, y1, y1]), np.stack([x0, x1, x0, x1])
        wy0, wy1, wx0, wx1 = y1 - y_in, y_in - y0, x1 - x_in, x_in - x0
        wts = np.stack([wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1])
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1) & ~degenerate
    index = np.where(inside, base + np.where(inside, ys, 0).astype(np.int64) * w
                     + np.where(inside, xs, 0).astype(np.int64), 0)
    fill = np.where(inside, 0, wts).sum(axis=0)
    return index, np.where(inside, wts, 0), fill


class Warp(Function):
    """Resample images ``(n, h, w, c)`` at the points a :func:`sampling_plan` gives.

    The output is a weighted sum of input pixels (plus ``fill_value`` times the
    weight that fell outside), so the backward pass scatters ``gy`` back with
    the same weights.
    """

    def __init__(self, plan: tuple, out_hw: tuple, fill_value: float) -> None:
        self.plan, self.out_hw, self.fill_value = plan, out_hw, fill_value

    def forward(self, x):
        index, weight, fill = self.plan
        n, h, w, c = x.shape
        self.in_shape = x.shape
        dt = x.dtype if x.dtype.kind == "f" else np.dtype(backend.floatx())
        self.weight = weight.astype(dt)[..., None]  # a weight of 0 for reads outside
        out = (x.reshape(n * h * w, c).astype(dt, copy=False)[index] * self.weight).sum(axis=0)
        if self.fill_value:
            out += (self.fill_value * fill).astype(dt)[..., None]
        return out

    def backward(self, gy):
        index = self.plan[0]
        n, h, w, c = self.in_shape
        contrib = (self.weight * gy[None]).reshape(-1, c)
        flat = index.reshape(-1)
        g = np.stack([np.bincount(flat, weights=contrib[:, ch], minlength=n * h * w)
                      for ch in range(c)], axis=1)
        return (g.reshape(self.in_shape).astype(gy.dtype),)


def check_image_options(interpolation: str, fill_mode: str, layer: str) -> None:
    """Raise for an unknown ``interpolation`` or ``fill_mode``, naming the layer."""
    from chainrule.layers.preprocessing._utils import check_choice  # noqa: PLC0415

    check_choice(interpolation, _INTERPOLATIONS, "interpolation", layer)
    check_choice(fill_mode, _FILL_MODES, "fill_mode", layer)


def warp(images: Any, matrices: Any, out_hw: Any = None, interpolation: str = "bilinear",
         fill_mode: str = "constant", fill_value: float = 0.0) -> Tensor:
    """Apply a projective transform to each image (Keras's ``ops.image.affine_transform``).

    Args:
        images: ``(n, h, w, c)`` (channels last).
        matrices: ``(n, 8)`` or ``(8,)``: ``[a0, a1, a2, b0, b1, b2, c0, c1]``
            mapping output pixel ``(x, y)`` to the input point it reads.
        out_hw: the output's ``(height, width)`` (default the input's).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"constant"``, ``"reflect"``, ``"wrap"`` or ``"nearest"``:
            how points outside the input are read.
        fill_value: the value read outside with ``"constant"``.

    Returns:
        ``(n, out_h, out_w, c)``; differentiable with respect to ``images``.

    Example:
        >>> img = np.arange(4.0, dtype="float32").reshape(1, 2, 2, 1)
        >>> shift = [1, 0, -1, 0, 1, 0, 0, 0]  # x reads x - 1: one pixel to the right
        >>> warp(img, shift)[..., 0].data
        array([[[0., 0.],
                [0., 2.]]], dtype=float32)
    """
    check_image_options(interpolation, fill_mode, "warp")
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"warp: images must have shape (n, height, width, channels). "
                         f"Received: images of shape {shape}")
    m = np.asarray(matrices, dtype=np.float64).reshape(-1, 8)
    if len(m) == 1:
        m = np.repeat(m, shape[0], axis=0)
    out_hw = tuple(shape[1:3]) if out_hw is None else tuple(int(v) for v in out_hw)
    plan = sampling_plan(affine_coordinates(m, out_hw), shape[1:3], interpolation, fill_mode)
    return Warp(plan, out_hw, float(fill_value))(images)


def resize_images(images: Any, height: int, width: int, interpolation: str = "bilinear"
                  ) -> Tensor:
    """Resize ``(n, h, w, c)`` images as TensorFlow's ``resize`` (half-pixel centres, no antialias).

    Args:
        images: ``(n, h, w, c)``.
        height, width: the output size.
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(n, height, width, c)``; differentiable with respect to ``images``.

    Example:
        >>> img = np.arange(4.0, dtype="float32").reshape(1, 2, 2, 1)
        >>> resize_images(img, 1, 1)[..., 0].data
        array([[[1.5]]], dtype=float32)
    """
    shape = tuple(images.shape)
    coords = resize_coordinates(shape[0], shape[1:3], (height, width), interpolation)
    plan = sampling_plan(coords, shape[1:3], interpolation, "nearest")
    return Warp(plan, (int(height), int(width)), 0.0)(images)


class RandomWarp(Function):
    """Draw one transform per image (``draw(rng, n, h, w) -> (n, 8)``) and :class:`Warp` with it.

    The draw happens in ``forward``, so a replayed training step draws anew.
    """

    def __init__(self, draw: Callable, interpolation: str, fill_mode: str, fill_value: float,
                 rng: Any) -> None:
        self.draw, self.interpolation, self.fill_mode = draw, interpolation, fill_mode
        self.fill_value, self.rng = fill_value, rng

    def forward(self, x):
        n, h, w, _ = x.shape
        m = self.draw(self.rng or backend.rng(), n, h, w)
        plan = sampling_plan(affine_coordinates(m, (h, w)), (h, w), self.interpolation,
                             self.fill_mode)
        self.warp = Warp(plan, (h, w), self.fill_value)
        return self.warp.forward(x)

    def backward(self, gy):
        return self.warp.backward(gy)


def affine_warp(images: Any, draw: Callable, interpolation: str = "bilinear",
                fill_mode: str = "reflect", fill_value: float = 0.0, rng: Any = None) -> Tensor:
    """Warp each image by a random transform drawn inside the op (see :class:`RandomWarp`).

    Args:
        images: ``(n, h, w, c)``.
        draw: ``draw(rng, n, h, w)`` returning ``(n, 8)`` transform matrices.
        interpolation, fill_mode, fill_value: as in :func:`warp`.
        rng: a ``numpy.random.Generator`` (default chainrule's).

    Returns:
        The warped images, differentiable with respect to ``images``.
    """
    return RandomWarp(draw, interpolation, fill_mode, float(fill_value), rng)(images)


class RandomFlipOp(Function):
    """Flip each image (horizontally and/or vertically) with probability 1/2, drawn in ``forward``."""

    def __init__(self, horizontal: bool, vertical: bool, rng: Any) -> None:
        self.horizontal, self.vertical, self.rng = horizontal, vertical, rng

    def _apply(self, x):
        out = x.copy()
        f = self.flips
        if self.horizontal:
            out[f] = out[f][:, :, ::-1]
        if self.vertical:
            out[f] = out[f][:, ::-1]
        return out

    def forward(self, x):
        rng = self.rng or backend.rng()
        self.flips = rng.uniform(size=x.shape[0]) <= 0.5
        return self._apply(x)

    def backward(self, gy):
        return (self._apply(gy),)  # a flip is its own inverse


class RandomContrastOp(Function):
    """``(x - mean) * f + mean`` per image and channel, clipped; ``f`` drawn in ``forward``."""

    def __init__(self, lower: float, upper: float, value_range: tuple, rng: Any) -> None:
        self.lower, self.upper, self.value_range, self.rng = lower, upper, value_range, rng

    def forward(self, x):
        rng = self.rng or backend.rng()
        f = rng.uniform(1.0 - self.lower, 1.0 + self.upper, size=(x.shape[0], 1, 1, 1))
        self.f = f = f.astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)
        y = (x - mean) * f + mean
        lo, hi = self.value_range
        self.inside = (y >= lo) & (y <= hi)
        return np.clip(y, lo, hi)

    def backward(self, gy):
        g = gy * self.inside
        hw = g.shape[1] * g.shape[2]
        # d/dx of (x - mean) f + mean: f, plus (1 - f)/hw from the mean of the image's channel
        return (g * self.f + g.sum(axis=(1, 2), keepdims=True) * ((1 - self.f) / hw),)


class RandomBrightnessOp(Function):
    """``x + delta`` per image, clipped to ``value_range``; ``delta`` drawn in ``forward``."""

    def __init__(self, lower: float, upper: float, value_range: tuple, rng: Any) -> None:
        self.lower, self.upper, self.value_range, self.rng = lower, upper, value_range, rng

    def forward(self, x):
        rng = self.rng or backend.rng()
        lo, hi = self.value_range
        delta = rng.uniform(self.lower, self.upper, size=(x.shape[0],) + (1,) * (x.ndim - 1))
        y = x + (delta * (hi - lo)).astype(x.dtype)
        self.inside = (y >= lo) & (y <= hi)
        return np.clip(y, lo, hi)

    def backward(self, gy):
        return (gy * self.inside,)


def rotation_matrices(angles: np.ndarray, h: int, w: int) -> np.ndarray:
    """Keras's rotation about the image centre by ``angles`` (radians), as ``(n, 8)`` matrices."""
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    cos, sin = np.cos(angles), np.sin(angles)
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    z = np.zeros_like(angles)
    return np.stack([a0, a1, a2, b0, b1, b2, z, z], axis=1)


def _aspect_crop(h: int, w: int, th: int, tw: int) -> tuple:
    """The centred window of the target's aspect ratio (Keras's ``smart_resize`` crop)."""
    ch = max(min(h, int(float(w * th) / tw)), 1)
    cw = max(min(w, int(float(h * tw) / th)), 1)
    return int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw


def resize(images: Any, height: int, width: int, interpolation: str = "bilinear",
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_value: float = 0.0) -> Any:
    """Resize a batch of images as TensorFlow's ``resize`` does (half-pixel centres, no antialias).

    Args:
        images: ``(n, h, w, c)``.
        height, width: the output size.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        crop_to_aspect_ratio: first crop the centred window of the output's
            aspect ratio.
        pad_to_aspect_ratio: first pad both sides with ``fill_value`` towards
            the output's aspect ratio (Keras's arithmetic: the same padding on
            each side).
        fill_value: the padding's value.

    Returns:
        ``(n, height, width, c)``, differentiable with respect to ``images``.
    """
    h, w = int(images.shape[1]), int(images.shape[2])
    if crop_to_aspect_ratio:
        top, left, ch, cw = _aspect_crop(h, w, height, width)
        if (ch, cw) != (h, w):
            images = getitem(images, (slice(None), slice(top, top + ch),
                                          slice(left, left + cw)))
            h, w = ch, cw
    if pad_to_aspect_ratio:
        top = int(float(max(h, int(float(w * height) / width)) - h) / 2)
        left = int(float(max(w, int(float(h * width) / height)) - w) / 2)
        if top or left:
            images = pad(images, ((0, 0), (top, top), (left, left), (0, 0)),
                             constant_values=fill_value)
            h, w = h + 2 * top, w + 2 * left
    if (h, w) == (height, width):
        return images
    return resize_images(images, height, width, interpolation)

"""Keras 3's geometric ``keras.ops.image`` functions: warps, resampling, crops and pads.

``affine_transform`` and ``perspective_transform`` resample with TensorFlow's
projective-transform rules (the resampler of the preprocessing layers);
``map_coordinates`` and ``elastic_transform`` read with ``map_coordinates``'s
index rules (``"constant"``, ``"nearest"``, ``"wrap"``, ``"mirror"``,
``"reflect"``); ``scale_and_translate`` is a separable product of weight
matrices (linear, cubic and Lanczos kernels, with antialiasing);
``crop_images`` and ``pad_images`` are a slice and a zero pad.

Each resampling op is a :class:`Function` whose ``forward`` builds its
sampling plan from its raw arguments (so a replayed step with new transforms
samples anew) and whose ``backward`` scatters the gradient back to the images
with the same weights. Transforms, coordinates and points are not
differentiated.

Example:
    >>> import chainrule as cr
    >>> img = np.arange(9.0, dtype="float32").reshape(3, 3, 1)
    >>> cr.ops.image.pad_images(img, 1, 1, target_height=5, target_width=5).shape
    (5, 5, 1)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.conv import normalize_data_format

__all__ = ["affine_transform", "map_coordinates", "perspective_transform", "elastic_transform",
           "crop_images", "pad_images", "scale_and_translate", "compute_homography_matrix"]

_INTERPOLATIONS = ("nearest", "bilinear")
_AFFINE_FILL_MODES = ("constant", "nearest", "wrap", "reflect")
_MAP_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_SCALE_METHODS = ("linear", "bilinear", "trilinear", "triangle", "cubic", "bicubic", "tricubic",
                  "lanczos3", "lanczos5")


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def _raw(x: Any) -> np.ndarray:
    """The array of an argument that parameterises an op (not a batch)."""
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _choice(value: Any, allowed: tuple, name: str, what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what}: {name} must be one of {', '.join(map(repr, allowed))}. "
                         f"Received: {name}={value!r}")
    return value


def _images_rank(shape: tuple, what: str) -> bool:
    """True for a single image (rank 3); raise unless rank 3 or 4."""
    if len(shape) not in (3, 4):
        raise ValueError(f"{what}: images must have rank 3 (height, width, channels) or 4 "
                         f"(batch, height, width, channels). Received: images of shape {shape}")
    return len(shape) == 3


def _float(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else np.dtype(backend.floatx())


def _out_cast(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integer images come back rounded to their dtype, as Keras returns them."""
    return y if dtype.kind == "f" else np.round(y).astype(dtype)


# -- map_coordinates's sampling rules ---------------------------------------------------------


def _fix_index(index: np.ndarray, size: int, mode: str) -> tuple:
    """``(safe index, valid)``: an integer index outside ``[0, size)`` mapped by ``mode``."""
    if mode == "constant":
        return np.clip(index, 0, size - 1), (index >= 0) & (index < size)
    valid = np.ones(index.shape, dtype=bool)
    if mode == "nearest":
        return np.clip(index, 0, size - 1), valid
    if mode == "wrap":
        return np.mod(index, size), valid
    if size == 1:
        return np.zeros_like(index), valid

    def mirror(i: np.ndarray, n: int) -> np.ndarray:  # a triangular wave of half-period n - 1
        s = n - 1
        return np.abs(np.mod(i + s, 2 * s) - s)

    if mode == "mirror":  # c d c b | a b c d | c b a b
        return mirror(index, size), valid
    return (mirror(2 * index + 1, 2 * size + 1) - 1) // 2, valid  # d c b a | a b c d | d c b a


def _axis_nodes(coord: np.ndarray, order: int) -> list:
    """``[(integer index, weight)]``: the one or two neighbours of ``coord`` on one axis."""
    if order == 0:
        return [(np.round(coord).astype(np.int64), np.ones_like(coord))]
    lower = np.floor(coord)
    upper_w = coord - lower
    index = lower.astype(np.int64)
    return [(index, 1.0 - upper_w), (index + 1, upper_w)]


def map_plan(coords: list, sizes: tuple, strides: tuple, order: int, mode: str,
             base: Any = 0) -> tuple:
    """Where ``map_coordinates`` reads: ``(index, weight, fill)`` over the corners.

    Args:
        coords: one float array per sampled axis, all of the output's shape.
        sizes: the input's size along those axes.
        strides: the flat-index step of each axis.
        order: 0 (nearest, rounding half to even) or 1 (linear).
        mode: the fill mode (see :func:`map_coordinates`).
        base: a flat offset added to every index (e.g. the image's start in a batch).

    Returns:
        ``index`` and ``weight`` of shape ``(corners, *out)`` (a weight of 0 where a
        corner reads outside with ``"constant"``) and ``fill``, the weight of the
        reads outside (they read ``fill_value``).
    """
    per_axis = []
    for c, size in zip(coords, sizes):
        per_axis.append([(*_fix_index(i, size, mode), w) for i, w in _axis_nodes(c, order)])
    indices, weights, fill = [], [], 0.0
    for corner in itertools.product(*per_axis):
        flat, valid, weight = base, True, 1.0
        for (index, ok, w), stride in zip(corner, strides):
            flat = flat + index * stride
            valid = valid & ok
            weight = weight * w
        indices.append(np.broadcast_to(flat, coords[0].shape))
        weights.append(np.where(valid, weight, 0.0))
        fill = fill + np.where(valid, 0.0, weight)
    return np.stack(indices), np.stack(weights), np.broadcast_to(fill, coords[0].shape)


class MapCoordinates(Function):
    """Sample an array at coordinates (``(rank, *out)``); differentiable w.r.t. the array."""

    def __init__(self, order: int, fill_mode: str, fill_value: float) -> None:
        self.order, self.fill_mode, self.fill_value = order, fill_mode, fill_value

    def forward(self, x, coordinates):
        c = np.asarray(coordinates, dtype=np.float64)
        strides = tuple(int(np.prod(x.shape[d + 1:])) for d in range(x.ndim))
        self.index, weight, fill = map_plan(list(c), x.shape, strides, self.order,
                                            self.fill_mode)
        self.in_shape, self.in_dtype = x.shape, x.dtype
        dt = _float(x.dtype)
        self.weight = weight.astype(dt)
        y = (x.reshape(-1).astype(dt, copy=False)[self.index] * self.weight).sum(axis=0)
        if self.fill_value:
            y = y + (self.fill_value * fill).astype(dt)
        return _out_cast(y, x.dtype)

    def backward(self, gy):
        g = np.bincount(self.index.reshape(-1), weights=(self.weight * gy[None]).reshape(-1),
                        minlength=int(np.prod(self.in_shape)))
        return g.reshape(self.in_shape).astype(gy.dtype), None


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0) -> Tensor:
    """Sample ``inputs`` at ``coordinates`` (Keras's ``ops.image.map_coordinates``).

    Output element ``j`` reads ``inputs`` at the point ``coordinates[:, j]``, with
    its nearest neighbour (``order=0``, rounding half to even) or linearly
    between its ``2 ** rank`` neighbours (``order=1``). A neighbour outside the
    array is read by ``fill_mode``: ``"constant"`` (``fill_value``),
    ``"nearest"`` (a a | a b c d | d d), ``"wrap"`` (c d | a b c d | a b),
    ``"mirror"`` (c b | a b c d | c b) or ``"reflect"`` (b a | a b c d | d c).

    Args:
        inputs: an array of any rank.
        coordinates: shape ``(inputs.ndim, *out)``.
        order: 0 or 1.
        fill_mode: see above (default ``"constant"``).
        fill_value: the value read outside with ``"constant"``.

    Returns:
        Shape ``coordinates.shape[1:]``, the dtype of ``inputs``. Differentiable
        with respect to ``inputs`` (not the coordinates).

    Example:
        >>> import chainrule as cr
        >>> x = np.arange(4.0, dtype="float32")
        >>> cr.ops.image.map_coordinates(x, [[0.5, 2.25, -1.0]], order=1).numpy()
        array([0.5 , 2.25, 0.  ], dtype=float32)
    """
    what = "image.map_coordinates"
    in_shape, c_shape = _shape(inputs), _shape(coordinates)
    if len(c_shape) < 2:
        raise ValueError(f"{what}: coordinates must have rank 2 or more: (inputs.ndim, "
                         f"*output_shape). Received: coordinates of shape {c_shape}")
    if c_shape[0] != len(in_shape):
        raise ValueError(f"{what}: the first axis of coordinates must be the rank of inputs "
                         f"({len(in_shape)}). Received: coordinates of shape {c_shape} for "
                         f"inputs of shape {in_shape}")
    if order not in (0, 1) or isinstance(order, bool):
        raise ValueError(f"{what}: order must be 0 (nearest) or 1 (linear). "
                         f"Received: order={order!r}")
    _choice(fill_mode, _MAP_FILL_MODES, "fill_mode", what)
    return MapCoordinates(int(order), fill_mode, float(fill_value))(inputs, coordinates)


# -- projective warps (TensorFlow's rules) ----------------------------------------------------


class _ProjectiveWarp(Function):
    """Warp images by ``(n, 8)`` matrices computed from the op's other (raw) inputs."""

    def __init__(self, interpolation: str, fill_mode: str, fill_value: float,
                 channels_first: bool, unbatched: bool) -> None:
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.channels_first, self.unbatched = channels_first, unbatched

    def _matrices(self, *args) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _to_nhwc(self, x):
        x = x[None] if self.unbatched else x
        return np.transpose(x, (0, 2, 3, 1)) if self.channels_first else x

    def _from_nhwc(self, y):
        y = np.transpose(y, (0, 3, 1, 2)) if self.channels_first else y
        return y[0] if self.unbatched else y

    def forward(self, x, *args):
        from chainrule.ops import _image_ops  # noqa: PLC0415

        xs = self._to_nhwc(x)
        n, h, w, _ = xs.shape
        m = np.asarray(self._matrices(*args), dtype=np.float64).reshape(-1, 8)
        if len(m) == 1:
            m = np.repeat(m, n, axis=0)
        if len(m) != n:
            raise ValueError(f"image transform: one transform per image or one for all. "
                             f"Received: {len(m)} transforms for {n} images")
        plan = _image_ops.sampling_plan(_image_ops.affine_coordinates(m, (h, w)), (h, w),
                                        self.interpolation, self.fill_mode)
        self.warp = _image_ops.Warp(plan, (h, w), self.fill_value)
        self.nargs = len(args)
        return self._from_nhwc(_out_cast(self.warp.forward(xs), x.dtype))

    def backward(self, gy):
        gx = self.warp.backward(self._to_nhwc(gy))[0]
        return (self._from_nhwc(gx),) + (None,) * self.nargs


class AffineTransform(_ProjectiveWarp):
    """:class:`_ProjectiveWarp` by given ``[a0, a1, a2, b0, b1, b2, c0, c1]`` rows."""

    def _matrices(self, transform):
        return transform


class PerspectiveTransform(_ProjectiveWarp):
    """:class:`_ProjectiveWarp` by the homography taking ``end_points`` to ``start_points``."""

    def _matrices(self, start_points, end_points):
        return compute_homography_matrix(start_points, end_points)


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0,
                     data_format: str | None = None) -> Tensor:
    """Warp images by projective transforms (Keras's ``ops.image.affine_transform``).

    A transform ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps the output pixel
    ``(x, y)`` to the input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``
    with ``k = c0 x + c1 y + 1``, read with TensorFlow's
    ``ImageProjectiveTransformV3`` rules.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``
            (channels first with ``data_format="channels_first"``).
        transform: ``(8,)`` (for every image) or ``(batch, 8)``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"constant"`` (default), ``"nearest"``, ``"wrap"`` or ``"reflect"``.
        fill_value: the value read outside with ``"constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the
            global image data format).

    Returns:
        The warped images, shaped as ``images``; differentiable w.r.t. ``images``.

    Example:
        >>> import chainrule as cr
        >>> img = np.arange(4.0, dtype="float32").reshape(2, 2, 1)
        >>> shift = [1, 0, -1, 0, 1, 0, 0, 0]  # x reads x - 1: one pixel to the right
        >>> cr.ops.image.affine_transform(img, shift).numpy()[..., 0]
        array([[0., 0.],
               [0., 2.]], dtype=float32)
    """
    what = "image.affine_transform"
    _choice(interpolation, _INTERPOLATIONS, "interpolation", what)
    _choice(fill_mode, _AFFINE_FILL_MODES, "fill_mode", what)
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    unbatched = _images_rank(_shape(images), what)
    t_shape = _shape(transform)
    if len(t_shape) not in (1, 2) or t_shape[-1] != 8:
        raise ValueError(f"{what}: transform must have shape (8,) or (batch, 8). "
                         f"Received: transform of shape {t_shape}")
    return AffineTransform(interpolation, fill_mode, float(fill_value), channels_first,
                           unbatched)(images, transform)


def compute_homography_matrix(start_points: Any, end_points: Any) -> np.ndarray:
    """The ``(n, 8)`` projective transforms that take each ``end_points`` to ``start_points``.

    Solves the 8 linear equations of four point pairs ``(n, 4, 2)`` (``(x, y)``
    each), in float64.

    Example:
        >>> pts = np.array([[[0, 0], [3, 0], [0, 3], [3, 3]]], dtype="float32")
        >>> compute_homography_matrix(pts, pts + 1).round(6) + 0.0
        array([[ 1.,  0., -1.,  0.,  1., -1.,  0.,  0.]])
    """
    s = np.asarray(start_points, dtype=np.float64).reshape(-1, 4, 2)
    e = np.asarray(end_points, dtype=np.float64).reshape(-1, 4, 2)
    n = len(s)
    a = np.zeros((n, 8, 8))
    ex, ey, sx, sy = e[..., 0], e[..., 1], s[..., 0], s[..., 1]
    a[:, 0::2, 0], a[:, 0::2, 1], a[:, 0::2, 2] = ex, ey, 1.0
    a[:, 1::2, 3], a[:, 1::2, 4], a[:, 1::2, 5] = ex, ey, 1.0
    a[:, 0::2, 6], a[:, 0::2, 7] = -sx * ex, -sx * ey
    a[:, 1::2, 6], a[:, 1::2, 7] = -sy * ex, -sy * ey
    b = s.reshape(n, 8)
    return np.linalg.solve(a, b[..., None])[..., 0]


def perspective_transform(images: Any, start_points: Any, end_points: Any,
                          interpolation: str = "bilinear", fill_value: float = 0,
                          data_format: str | None = None) -> Tensor:
    """Warp images so four points move to four others (Keras's ``perspective_transform``).

    The output at each ``end_points`` corner reads the input at the matching
    ``start_points`` corner; points between follow the homography through
    them. Points outside read ``fill_value``.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``.
        start_points: ``(4, 2)`` or ``(batch, 4, 2)`` ``(x, y)`` points in the input.
        end_points: the same shape: where they land in the output.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value outside the input.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The warped images; differentiable w.r.t. ``images``.

    Example:
        >>> import chainrule as cr
        >>> img = np.arange(16.0, dtype="float32").reshape(4, 4, 1)
        >>> pts = [[0, 0], [3, 0], [0, 3], [3, 3]]
        >>> cr.ops.image.perspective_transform(img, pts, pts).numpy()[..., 0][0]
        array([0., 1., 2., 3.], dtype=float32)
    """
    what = "image.perspective_transform"
    _choice(interpolation, _INTERPOLATIONS, "interpolation", what)
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    unbatched = _images_rank(_shape(images), what)
    for name, pts in (("start_points", start_points), ("end_points", end_points)):
        shape = _shape(pts)
        if len(shape) not in (2, 3) or shape[-2:] != (4, 2):
            raise ValueError(f"{what}: {name} must have shape (4, 2) or (batch, 4, 2). "
                             f"Received: {name} of shape {shape}")
    if _shape(start_points) != _shape(end_points):
        raise ValueError(f"{what}: start_points and end_points must have the same shape. "
                         f"Received: start_points of shape {_shape(start_points)}, "
                         f"end_points of shape {_shape(end_points)}")
    return PerspectiveTransform(interpolation, "constant", float(fill_value), channels_first,
                                unbatched)(images, start_points, end_points)


# -- elastic deformation ----------------------------------------------------------------------


def _gaussian_blur_2d(field: np.ndarray, sigma: float) -> np.ndarray:
    """Blur ``(n, h, w)`` with Keras's kernel (size ``int(6 sigma) | 1``), zero padded."""
    if sigma <= 0:
        return field
    size = int(6 * sigma) | 1
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    lo = (size - 1) // 2
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (lo, size - 1 - lo)
        p = np.pad(field, pad)
        n = field.shape[axis]
        field = sum(k[j] * np.take(p, np.arange(j, j + n), axis=axis) for j in range(size))
    return field


def elastic_coordinates(rng: np.random.Generator, shape: tuple, alpha: float, sigma: float,
                        apply: Any = None) -> tuple:
    """Keras's elastic displacement: ``(y, x)`` sampling points of shape ``(n, h, w)``.

    Each pixel moves by ``alpha`` times a standard normal field scaled by
    ``sigma`` and blurred by a Gaussian of width ``sigma``; images where
    ``apply`` is False do not move.
    """
    n, h, w = shape
    dx = _gaussian_blur_2d(rng.standard_normal((n, h, w)) * sigma, sigma)
    dy = _gaussian_blur_2d(rng.standard_normal((n, h, w)) * sigma, sigma)
    if apply is not None:
        dx, dy = dx * apply[:, None, None], dy * apply[:, None, None]
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    return ys + alpha * dy, xs + alpha * dx


def elastic_warp_plan(y: np.ndarray, x: np.ndarray, hw: tuple, order: int,
                      fill_mode: str) -> tuple:
    """A :class:`Warp` plan that reads ``(n, h, w)`` images at points ``(y, x)``."""
    n = y.shape[0]
    h, w = hw
    base = (np.arange(n) * (h * w))[:, None, None]
    return map_plan([y, x], (h, w), (w, 1), order, fill_mode, base)


class ElasticTransform(_ProjectiveWarp):
    """Random elastic deformation, drawn in ``forward`` (a replay draws a new field)."""

    def __init__(self, alpha: float, sigma: float, interpolation: str, fill_mode: str,
                 fill_value: float, channels_first: bool, unbatched: bool, seed: Any) -> None:
        super().__init__(interpolation, fill_mode, fill_value, channels_first, unbatched)
        self.alpha, self.sigma, self.seed = alpha, sigma, seed

    def forward(self, x):
        from chainrule.ops import _image_ops  # noqa: PLC0415

        xs = self._to_nhwc(x)
        n, h, w, _ = xs.shape
        if isinstance(self.seed, np.random.Generator):
            rng = self.seed
        elif self.seed is None:
            rng = backend.rng()
        else:  # a fixed integer seed draws the same field at every call, as in Keras
            rng = np.random.default_rng(self.seed)
        y, xx = elastic_coordinates(rng, (n, h, w), self.alpha, self.sigma)
        plan = elastic_warp_plan(y, xx, (h, w), int(self.interpolation == "bilinear"),
                                 self.fill_mode)
        self.warp = _image_ops.Warp(plan, (h, w), self.fill_value)
        self.nargs = 0
        return self._from_nhwc(_out_cast(self.warp.forward(xs), x.dtype))


def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0,
                      interpolation: str = "bilinear", fill_mode: str = "reflect",
                      fill_value: float = 0.0, seed: Any = None,
                      data_format: str | None = None) -> Tensor:
    """Deform images by a random smooth displacement field (Keras's ``elastic_transform``).

    Each pixel reads the input at its own position plus ``alpha`` times a
    displacement: standard normal noise scaled by ``sigma`` and blurred by a
    Gaussian of standard deviation ``sigma`` (kernel size ``int(6 sigma) | 1``),
    one field per image, read with :func:`map_coordinates`'s ``fill_mode``.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``.
        alpha: the displacement's scale (default 20).
        sigma: the smoothing's standard deviation (default 5).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"constant"``, ``"nearest"``, ``"wrap"``
            or ``"mirror"``.
        fill_value: the value outside with ``"constant"``.
        seed: None (chainrule's generator), an int (the same field at every call)
            or a ``numpy.random.Generator``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The deformed images; differentiable w.r.t. ``images``.

    Example:
        >>> import chainrule as cr
        >>> x = np.random.rand(2, 16, 16, 3).astype("float32")
        >>> cr.ops.image.elastic_transform(x, alpha=2.0, sigma=1.0, seed=1).shape
        (2, 16, 16, 3)
    """
    what = "image.elastic_transform"
    _choice(interpolation, _INTERPOLATIONS, "interpolation", what)
    _choice(fill_mode, _MAP_FILL_MODES, "fill_mode", what)
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    unbatched = _images_rank(_shape(images), what)
    for name, v in (("alpha", alpha), ("sigma", sigma)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or v < 0:
            raise ValueError(f"{what}: {name} must be a non-negative number. "
                             f"Received: {name}={v!r}")
    if seed is not None and not isinstance(seed, np.random.Generator) and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"{what}: seed must be None, a non-negative int or a NumPy "
                         f"Generator. Received: seed={seed!r}")
    return ElasticTransform(float(alpha), float(sigma), interpolation, fill_mode,
                            float(fill_value), channels_first, unbatched, seed)(images)


# -- crops and pads ---------------------------------------------------------------------------


def _two_of_three(a: Any, b: Any, target: Any, names: tuple, what: str) -> None:
    values = (a, b, target)
    if values.count(None) != 1:
        raise ValueError(f"{what}: give exactly two of {', '.join(names)}. Received: "
                         + ", ".join(f"{n}={v!r}" for n, v in zip(names, values)))
    for n, v in zip(names, values):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < 0):
            raise ValueError(f"{what}: {n} must be a non-negative integer. Received: {n}={v!r}")


def _hw_axes(shape: tuple, channels_first: bool) -> tuple:
    return (len(shape) - 2, len(shape) - 1) if channels_first else (len(shape) - 3,
                                                                     len(shape) - 2)


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None,
               target_height: int | None = None, target_width: int | None = None,
               data_format: str | None = None) -> Tensor:
    """Pad images with zeros (Keras's ``ops.image.pad_images``).

    Give two of ``top_padding``, ``bottom_padding``, ``target_height`` and two of
    ``left_padding``, ``right_padding``, ``target_width``.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``.
        top_padding, left_padding, bottom_padding, right_padding: rows/columns of zeros.
        target_height, target_width: the output's size.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The padded images; differentiable.

    Example:
        >>> import chainrule as cr
        >>> img = np.ones((2, 2, 1), dtype="float32")
        >>> cr.ops.image.pad_images(img, 1, 0, 0, 1).numpy()[..., 0]
        array([[0., 0., 0.],
               [1., 1., 0.],
               [1., 1., 0.]], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415

    what = "image.pad_images"
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    _images_rank(shape, what)
    _two_of_three(top_padding, bottom_padding, target_height,
                  ("top_padding", "bottom_padding", "target_height"), what)
    _two_of_three(left_padding, right_padding, target_width,
                  ("left_padding", "right_padding", "target_width"), what)
    ha, wa = _hw_axes(shape, channels_first)
    h, w = shape[ha], shape[wa]
    top = target_height - h - bottom_padding if top_padding is None else top_padding
    bottom = target_height - h - top if bottom_padding is None else bottom_padding
    left = target_width - w - right_padding if left_padding is None else left_padding
    right = target_width - w - left if right_padding is None else right_padding
    for name, v in (("top_padding", top), ("bottom_padding", bottom),
                    ("left_padding", left), ("right_padding", right)):
        if v < 0:
            raise ValueError(f"{what}: the target size is smaller than the images, which "
                             f"leaves {name} < 0. Received: images of shape {shape}, "
                             f"{name}={v}")
    pad = [(0, 0)] * len(shape)
    pad[ha], pad[wa] = (int(top), int(bottom)), (int(left), int(right))
    return ops.pad(images, pad)


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> Tensor:
    """Crop images (Keras's ``ops.image.crop_images``).

    Give two of ``top_cropping``, ``bottom_cropping``, ``target_height`` and two
    of ``left_cropping``, ``right_cropping``, ``target_width``.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``.
        top_cropping, left_cropping, bottom_cropping, right_cropping: rows/columns removed.
        target_height, target_width: the output's size.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The cropped images; differentiable.

    Example:
        >>> import chainrule as cr
        >>> img = np.arange(9.0, dtype="float32").reshape(3, 3, 1)
        >>> cr.ops.image.crop_images(img, 1, 1, target_height=2, target_width=1).numpy()[..., 0]
        array([[4.],
               [7.]], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415

    what = "image.crop_images"
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    _images_rank(shape, what)
    _two_of_three(top_cropping, bottom_cropping, target_height,
                  ("top_cropping", "bottom_cropping", "target_height"), what)
    _two_of_three(left_cropping, right_cropping, target_width,
                  ("left_cropping", "right_cropping", "target_width"), what)
    ha, wa = _hw_axes(shape, channels_first)
    h, w = shape[ha], shape[wa]
    top = h - target_height - bottom_cropping if top_cropping is None else top_cropping
    th = h - top - bottom_cropping if target_height is None else target_height
    left = w - target_width - right_cropping if left_cropping is None else left_cropping
    tw = w - left - right_cropping if target_width is None else target_width
    for name, v in (("top_cropping", top), ("target_height", th), ("left_cropping", left),
                    ("target_width", tw)):
        if v < 0:
            raise ValueError(f"{what}: the crop does not fit the images and leaves {name} "
                             f"< 0. Received: images of shape {shape}, {name}={v}")
    if top + th > h or left + tw > w:
        raise ValueError(f"{what}: the crop reaches past the images. Received: images of "
                         f"shape {shape}, a crop of ({th}, {tw}) from ({top}, {left})")
    index = [slice(None)] * len(shape)
    index[ha], index[wa] = slice(int(top), int(top + th)), slice(int(left), int(left + tw))
    x = images if isinstance(images, Tensor) else ops.convert_to_tensor(images)
    return x[tuple(index)]


# -- scale_and_translate ----------------------------------------------------------------------


def _kernel(method: str):
    if method in ("linear", "bilinear", "trilinear", "triangle"):
        return lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    if method in ("cubic", "bicubic", "tricubic"):
        def cubic(x):  # Keys's cubic, a = -0.5
            out = ((1.5 * x - 2.5) * x) * x + 1.0
            out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
            return np.where(x >= 2.0, 0.0, out)
        return cubic
    radius = 3.0 if method == "lanczos3" else 5.0

    def lanczos(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > 1e-3, y / np.where(x != 0, np.pi ** 2 * x ** 2, 1), 1.0)
        return np.where(x > radius, 0.0, out)
    return lanczos


def scale_weights(in_size: int, out_size: int, scale: float, translation: float,
                  method: str, antialias: bool) -> np.ndarray:
    """The ``(in_size, out_size)`` resampling matrix of one axis (JAX's ``scale_and_translate``).

    Output ``j`` samples the input at ``(j + 0.5 - translation) / scale - 0.5``
    with the method's kernel, stretched by ``1 / scale`` when antialiasing a
    downscale; each column is normalised and is zero where the sample falls
    outside ``[-0.5, in_size - 0.5]``.
    """
    inv = 1.0 / scale
    kscale = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) * inv - translation * inv - 0.5
    x = np.abs(sample[None, :] - np.arange(in_size)[:, None]) / kscale
    wts = _kernel(method)(x)
    total = wts.sum(axis=0, keepdims=True)
    wts = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
                   wts / np.where(total != 0, total, 1), 0.0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[None, :], wts, 0.0)


class ScaleAndTranslate(Function):
    """Contract each spatial axis with its resampling matrix; backward by the transposes."""

    def __init__(self, mats: list, dims: list) -> None:
        self.mats, self.dims = mats, dims

    def forward(self, x):
        self.in_dtype = x.dtype
        y = x.astype(_float(x.dtype), copy=False)
        for m, d in zip(self.mats, self.dims):
            y = np.moveaxis(np.tensordot(y, m.astype(y.dtype), axes=(d, 0)), -1, d)
        if x.dtype.kind != "f":
            y = np.clip(np.round(y), x.min(), x.max()).astype(x.dtype) if x.size else \
                y.astype(x.dtype)
        return y

    def backward(self, gy):
        g = gy
        for m, d in zip(reversed(self.mats), reversed(self.dims)):
            g = np.moveaxis(np.tensordot(g, m.T.astype(g.dtype), axes=(d, 0)), -1, d)
        return (g,)


def scale_and_translate(images: Any, output_shape: Any, scale: Any, translation: Any,
                        spatial_dims: Any, method: str, antialias: bool = True) -> Tensor:
    """Resample along ``spatial_dims`` with a scale and a translation (Keras's op).

    Along each axis in ``spatial_dims``, output ``j`` samples the input at
    ``(j + 0.5 - translation) / scale - 0.5``, weighted by ``method``'s kernel
    (widened by ``1 / scale`` when ``antialias`` and downscaling).

    Args:
        images: an array of any rank.
        output_shape: the full output shape (the axes outside ``spatial_dims``
            keep their size).
        scale: one scale per spatial axis.
        translation: one translation per spatial axis.
        spatial_dims: the axes to resample.
        method: ``"linear"``/``"bilinear"``/``"trilinear"``/``"triangle"``,
            ``"cubic"``/``"bicubic"``/``"tricubic"``, ``"lanczos3"`` or ``"lanczos5"``.
        antialias: widen the kernel when downscaling (default True).

    Returns:
        Shape ``output_shape``; differentiable w.r.t. ``images``.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([0.0, 1.0, 2.0, 3.0], dtype="float32")
        >>> cr.ops.image.scale_and_translate(x, (2,), [0.5], [0.0], (0,), "linear",
        ...                               antialias=False).numpy()
        array([0.5, 2.5], dtype=float32)
    """
    what = "image.scale_and_translate"
    _choice(method, _SCALE_METHODS, "method", what)
    shape = _shape(images)
    try:
        dims = [int(d) % len(shape) for d in spatial_dims]
        out = tuple(int(s) for s in output_shape)
    except (TypeError, ZeroDivisionError):
        raise ValueError(f"{what}: spatial_dims and output_shape must be sequences of ints. "
                         f"Received: spatial_dims={spatial_dims!r}, "
                         f"output_shape={output_shape!r}") from None
    if len(out) != len(shape) or any(out[d] != shape[d] for d in range(len(shape))
                                     if d not in dims):
        raise ValueError(f"{what}: output_shape must have the rank of images and change only "
                         f"the spatial_dims. Received: output_shape={out} for images of shape "
                         f"{shape} and spatial_dims={tuple(dims)}")
    scale = np.asarray(_raw(scale), dtype=np.float64).reshape(-1)
    translation = np.asarray(_raw(translation), dtype=np.float64).reshape(-1)
    if len(scale) != len(dims) or len(translation) != len(dims):
        raise ValueError(f"{what}: scale and translation need one value per spatial dim "
                         f"({len(dims)}). Received: scale={scale.tolist()}, "
                         f"translation={translation.tolist()}")
    if np.any(scale <= 0):
        raise ValueError(f"{what}: scale must be positive. Received: scale={scale.tolist()}")
    mats = [scale_weights(shape[d], out[d], s, t, method, bool(antialias))
            for d, s, t in zip(dims, scale, translation)]
    return ScaleAndTranslate(mats, dims)(images)


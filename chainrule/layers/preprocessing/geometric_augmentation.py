"""Keras 3's geometric and erasing augmentation layers: ``RandomShear``, ``RandomPerspective``,
``RandomElasticTransform`` and ``RandomErasing``.

Like the other random image layers, they change their input only while
training (``training=True``, also the default of a direct call, as in Keras)
and return it unchanged in inference. Every draw happens inside an op's
forward pass, so a captured training step draws new transforms at each
replay. A layer with a ``seed`` owns a generator; without one it draws from
chainrule's seeded generator. Images are ``(batch, height, width, channels)``
or one image without the batch axis; ``data_format="channels_first"`` takes
channels before height and width.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Function
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import check_choice
from chainrule.ops import _image_ops
from chainrule.ops.image_transforms import (
    compute_homography_matrix,
    elastic_coordinates,
    elastic_warp_plan,
)

__all__ = ["RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing"]


def factor_range(factor: Any, name: str, layer: str, bounds: tuple = (0.0, 1.0),
                 symmetric: bool = False) -> tuple:
    """``(lower, upper)`` from a number or a pair of numbers in ``bounds`` (Keras's rules).

    A number ``f`` means ``(-f, f)`` when ``symmetric`` (``RandomShear``), else
    ``(max(-f, low), f)``; a pair is sorted.

    Example:
        >>> factor_range(0.3, "factor", "RandomPerspective")
        (0.0, 0.3)
    """
    lo_b, hi_b = bounds

    def bad() -> ValueError:
        return ValueError(f"{layer}: {name} must be a number or a pair of numbers in "
                          f"[{lo_b:g}, {hi_b:g}]. Received: {name}={factor!r}")

    def number(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(number(v) for v in factor):
            raise bad()
        lo, hi = sorted(float(v) for v in factor)
        if lo < lo_b or hi > hi_b:
            raise bad()
        return lo, hi
    if not number(factor) or not lo_b <= float(factor) <= hi_b:
        raise bad()
    f = abs(float(factor))
    return (-f, f) if symmetric else (max(-f, lo_b), f)


def plain(value: Any) -> Any:
    """A factor as JSON keeps it (a pair as a list)."""
    return list(value) if isinstance(value, tuple) else value


def image_data_format(data_format: Any, layer: str) -> str:
    """``data_format`` checked; None means the global ``image_data_format``."""
    if data_format is None:
        from chainrule.backend.settings import image_data_format as default  # noqa: PLC0415

        data_format = default()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


def check_seed(seed: Any, layer: str) -> Any:
    if seed is not None and (isinstance(seed, bool) or not isinstance(
            seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"{layer}: seed must be None or a non-negative integer. "
                         f"Received: seed={seed!r}")
    return seed


def value_range_pair(value_range: Any, layer: str) -> tuple:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range) \
            or value_range[0] > value_range[1]:
        raise ValueError(f"{layer}: value_range must be a pair of numbers (low, high) with "
                         f"low <= high. Received: value_range={value_range!r}")
    return float(value_range[0]), float(value_range[1])


class ImageAugmentationLayer(Layer):
    """The life cycle: identity unless training, a generator of its own with a seed,
    rank-3 images batched and channels-first images turned channels-last around
    :meth:`augment` (which takes and returns ``(batch, height, width, channels)``)."""

    def __init__(self, seed: Any = None, data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.seed = check_seed(seed, name)
        self.data_format = image_data_format(data_format, name)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def to_batch(self, x: Any) -> tuple:
        if x.ndim not in (3, 4):
            raise ValueError(f'{type(self).__name__} layer "{self.name}" expects images of '
                             "rank 4 (batch, height, width, channels) or rank 3 (one image). "
                             f"Received: inputs of shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            x = ops.cast(x, self.compute_dtype or "float32")
        single = x.ndim == 3
        if single:
            x = ops.expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        return x, single

    def from_batch(self, y: Any, single: bool) -> Any:
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, 3, 1, 2))
        return ops.squeeze(y, 0) if single else y

    def call(self, inputs: Any, training: Any = True) -> Any:
        if training is not None and not training:
            return inputs
        x, single = self.to_batch(inputs)
        return self.from_batch(self.augment(x), single)

    def augment(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class RandomShear(ImageAugmentationLayer):
    """Shear each image by a random amount while training (Keras's ``RandomShear``).

    The output pixel ``(x, y)`` reads the input at ``(x + sx·y, sy·x + y)``
    (a shear about the top-left corner, as in Keras), ``sx`` drawn from
    ``x_factor``'s range and ``sy`` from ``y_factor``'s, both negated together
    with probability 1/2.

    Args:
        x_factor: a number ``f`` in [0, 1] (``sx`` in ``[-f, f]``) or a pair.
        y_factor: the same for ``sy``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments (``name``, ...).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomShear(0.2, 0.2, seed=1)(np.ones((2, 8, 8, 3))).shape
        (2, 8, 8, 3)
    """

    def __init__(self, x_factor: Any = 0.0, y_factor: Any = 0.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, data_format: Any = None,
                 seed: Any = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.x_factor, self.y_factor = x_factor, y_factor
        self._x = factor_range(x_factor, "x_factor", "RandomShear", symmetric=True)
        self._y = factor_range(y_factor, "y_factor", "RandomShear", symmetric=True)
        self.interpolation = check_choice(interpolation, ("bilinear", "nearest"),
                                          "interpolation", "RandomShear")
        self.fill_mode = check_choice(fill_mode, ("reflect", "wrap", "constant", "nearest"),
                                      "fill_mode", "RandomShear")
        self.fill_value = float(fill_value)
        self._draw_fn = self.draw  # one object, so two traced steps configure the op alike

    @staticmethod
    def shear_matrices(shear: np.ndarray) -> np.ndarray:
        """``(n, 8)`` transforms of shears ``(n, 2)`` = ``(sx, sy)`` (Keras's matrix)."""
        n = len(shear)
        one, z = np.ones(n), np.zeros(n)
        return np.stack([one, shear[:, 0], z, shear[:, 1], one, z, z, z], axis=1)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        sign = np.where(rng.uniform(size=n) > 0.5, -1.0, 1.0)
        sy = rng.uniform(self._y[0], self._y[1], size=n)
        sx = rng.uniform(self._x[0], self._x[1], size=n)
        return self.shear_matrices(np.stack([sx, sy], axis=1) * sign[:, None])

    def augment(self, x: Any) -> Any:
        return _image_ops.affine_warp(x, self._draw_fn, self.interpolation, self.fill_mode,
                                      self.fill_value, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"x_factor": plain(self.x_factor), "y_factor": plain(self.y_factor),
                       "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


class RandomPerspective(ImageAugmentationLayer):
    """Warp each image by a random perspective while training (Keras's ``RandomPerspective``).

    Each image is warped with a probability drawn from ``factor``'s range: its
    four corners move by up to ``scale / 2`` times their coordinates, and the
    homography through the moved corners resamples it (``fill_value`` outside).

    Args:
        factor: a number ``f`` in [0, 1] (the probability is drawn in ``[0, f]``)
            or a pair.
        scale: how far the corners move, in [0, 1] (default 1).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value outside the input.
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomPerspective(seed=1)(np.ones((2, 8, 8, 3))).shape
        (2, 8, 8, 3)
    """

    def __init__(self, factor: Any = 1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, "factor", "RandomPerspective")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or \
                not 0.0 <= scale <= 1.0:
            raise ValueError(f"RandomPerspective: scale must be a number in [0, 1]. "
                             f"Received: scale={scale!r}")
        self.scale = float(scale)
        self.interpolation = check_choice(interpolation, ("bilinear", "nearest"),
                                          "interpolation", "RandomPerspective")
        self.fill_value = float(fill_value)
        self._draw_fn = self.draw

    @staticmethod
    def corners(h: int, w: int) -> np.ndarray:
        """The ``(4, 2)`` corners ``(x, y)``: top left, top right, bottom left, bottom right."""
        return np.array([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0]])

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        probability = rng.uniform(self.factor[0], self.factor[1], size=n)
        apply = rng.uniform(size=n) < probability
        move = rng.uniform(-0.5 * self.scale, 0.5 * self.scale, size=(n, 4, 2))
        start = np.broadcast_to(self.corners(h, w), (n, 4, 2))
        end = start + start * move
        m = compute_homography_matrix(start, end)
        identity = np.array([1.0, 0, 0, 0, 1.0, 0, 0, 0])
        return np.where(apply[:, None], m, identity)

    def augment(self, x: Any) -> Any:
        return _image_ops.affine_warp(x, self._draw_fn, self.interpolation, "constant",
                                      self.fill_value, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": self.scale,
                       "interpolation": self.interpolation, "fill_value": self.fill_value})
        return config


class RandomElasticOp(Function):
    """Keras's random elastic deformation of ``(n, h, w, c)`` images, then a clip.

    ``forward`` draws which images move (a probability from ``factor``), one
    distortion ``d`` from ``scale`` for the batch, and a displacement field of
    ``alpha = 0.1 d max(h, w)``, ``sigma = 0.05 d min(h, w)`` per moved image.
    """

    def __init__(self, layer: "RandomElasticTransform") -> None:
        self.layer = layer

    def forward(self, x):
        layer = self.layer
        rng = layer._rng or backend.rng()
        n, h, w, _ = x.shape
        probability = rng.uniform(layer.factor[0], layer.factor[1], size=n)
        apply = rng.uniform(size=n) < probability
        d = rng.uniform(layer.scale[0], layer.scale[1])
        alpha, sigma = max(h, w) * 0.1 * d, min(h, w) * 0.05 * d
        y, xx = elastic_coordinates(rng, (n, h, w), alpha, sigma, apply)
        plan = elastic_warp_plan(y, xx, (h, w), int(layer.interpolation == "bilinear"),
                                 layer.fill_mode)
        self.warp = _image_ops.Warp(plan, (h, w), layer.fill_value)
        out = self.warp.forward(x)
        lo, hi = layer.value_range
        self.inside = (out >= lo) & (out <= hi)
        return np.clip(out, lo, hi)

    def backward(self, gy):
        return self.warp.backward(gy * self.inside)


class RandomElasticTransform(ImageAugmentationLayer):
    """Deform images by random smooth displacement fields while training (Keras's layer).

    Each image moves with a probability drawn from ``factor``'s range; a
    distortion ``d`` is drawn from ``scale``'s range for the batch, and a moved
    image reads the input at each pixel plus ``alpha`` times a Gaussian-blurred
    normal field (``alpha = 0.1 d max(h, w)``, blur ``sigma = 0.05 d min(h, w)``),
    with ``fill_mode``. The result is clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [0, 1] (probability in ``[0, f]``) or a pair.
        scale: a number or pair in [0, 1]: the distortion's range.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"constant"``, ``"nearest"``, ``"wrap"``
            or ``"mirror"``.
        fill_value: the value outside with ``"constant"``.
        value_range: the images' range (default ``(0, 255)``).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomElasticTransform(seed=1)(np.ones((2, 16, 16, 3))).shape
        (2, 16, 16, 3)
    """

    def __init__(self, factor: Any = 1.0, scale: Any = 1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0,
                 value_range: Any = (0, 255), seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = "RandomElasticTransform"
        self.factor = factor_range(factor, "factor", name)
        self.scale = factor_range(scale, "scale", name)
        self.interpolation = check_choice(interpolation, ("bilinear", "nearest"),
                                          "interpolation", name)
        self.fill_mode = check_choice(fill_mode, ("reflect", "constant", "nearest", "wrap",
                                                  "mirror"), "fill_mode", name)
        self.fill_value = float(fill_value)
        self.value_range = value_range_pair(value_range, name)

    def augment(self, x: Any) -> Any:
        if self.scale[1] == 0 or self.factor[1] == 0:  # Keras skips the layer then
            return x
        return RandomElasticOp(self)(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": list(self.scale),
                       "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "value_range": list(self.value_range)})
        return config


def box_masks(rng: np.random.Generator, n: int, h: int, w: int, ratio_x: np.ndarray,
              ratio_y: np.ndarray) -> tuple:
    """Keras's random boxes: ``(masks (n, h, w), box areas (n,))``.

    A box spans ``ratio * length`` pixels along each axis at a uniform
    position; the mask holds the pixel centres ``p`` with ``start <= p < end``.
    """
    len_x, len_y = ratio_x * w, ratio_y * h
    x0 = rng.uniform(size=n) * (w - len_x)
    y0 = rng.uniform(size=n) * (h - len_y)
    gx, gy = np.arange(w)[None, None, :], np.arange(h)[None, :, None]
    masks = ((gx >= x0[:, None, None]) & (gx < (x0 + len_x)[:, None, None])
             & (gy >= y0[:, None, None]) & (gy < (y0 + len_y)[:, None, None]))
    return masks, len_x * len_y


class RandomErasingOp(Function):
    """Replace a random box of each chosen image with the fill values (drawn in ``forward``)."""

    def __init__(self, layer: "RandomErasing") -> None:
        self.layer = layer

    def forward(self, x):
        layer = self.layer
        rng = layer._rng or backend.rng()
        n, h, w, c = x.shape
        ratios = np.sqrt(rng.uniform(layer.scale[0], layer.scale[1], size=(n, 2)))
        masks, _ = box_masks(rng, n, h, w, ratios[:, 0], ratios[:, 1])
        probability = rng.uniform(layer.factor[0], layer.factor[1], size=n)
        apply = rng.uniform(size=n) < probability
        lo, hi = layer.value_range
        if layer.fill_value is None:
            fill = rng.standard_normal(x.shape) * hi
        else:
            fill = np.broadcast_to(np.asarray(layer.fill_value, dtype=np.float64), x.shape)
        fill = np.clip(fill, lo, hi).astype(x.dtype)
        self.erased = (masks & apply[:, None, None])[..., None]
        return np.where(self.erased, fill, x)

    def backward(self, gy):
        return (np.where(self.erased, 0, gy),)


class RandomErasing(ImageAugmentationLayer):
    """Erase a random box of each image while training (Keras's ``RandomErasing``).

    Each image is erased with a probability drawn from ``factor``'s range; the
    box's width and height are ``sqrt(s)`` times the image's (``s`` drawn from
    ``scale`` for each side) at a uniform position, and its pixels take
    ``fill_value`` (clipped to ``value_range``; None: normal noise times
    ``value_range[1]``, clipped).

    Args:
        factor: a number ``f`` in [0, 1] (probability in ``[0, f]``) or a pair.
        scale: a number or pair in [0, 1] (default ``(0.02, 0.33)``).
        fill_value: None (noise), a number, or three numbers (one per channel).
        value_range: the images' range (default ``(0, 255)``).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=0)
        >>> float(layer(np.ones((1, 4, 4, 1))).numpy().max())
        0.0
    """

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None,
                 value_range: Any = (0, 255), seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = "RandomErasing"
        self.factor = factor_range(factor, "factor", name)
        self.scale = factor_range(scale, "scale", name)
        number = (int, float, np.integer, np.floating)
        ok = fill_value is None or (isinstance(fill_value, number)
                                    and not isinstance(fill_value, bool)) or (
            isinstance(fill_value, (tuple, list)) and len(fill_value) == 3
            and all(isinstance(v, number) and not isinstance(v, bool) for v in fill_value))
        if not ok:
            raise ValueError(f"{name}: fill_value must be None, a number or three numbers "
                             f"(one per channel). Received: fill_value={fill_value!r}")
        self.fill_value = list(fill_value) if isinstance(fill_value, tuple) else fill_value
        self.value_range = value_range_pair(value_range, name)

    def augment(self, x: Any) -> Any:
        if isinstance(self.fill_value, list) and x.shape[-1] != 3:
            raise ValueError(f'RandomErasing layer "{self.name}": a fill_value of three '
                             f"numbers needs 3 channels. Received: inputs with "
                             f"{x.shape[-1]} channels")
        return RandomErasingOp(self)(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": list(self.scale),
                       "fill_value": self.fill_value, "value_range": list(self.value_range)})
        return config

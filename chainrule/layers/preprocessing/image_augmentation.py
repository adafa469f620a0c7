"""Random image augmentation: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomContrast``, ``RandomBrightness`` (channels last or first:
channels-first images are transposed to channels last around the same transform).

They change images only while training (``training=True``, which is also
the default of a direct call, as in Keras); in inference (``predict``,
``evaluate``) they return their input. The random draws happen inside the
ops, so a captured training step draws new transforms at every replay. Each
layer with a ``seed`` has its own generator; without one, chainrule's seeded
generator is used (``chainrule.utils.set_random_seed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import ops
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import check_choice
from chainrule.layers.preprocessing.image_preprocessing import (
    channels_last_batch,
    check_data_format,
    from_channels_last,
)
from chainrule.ops import _image_ops

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
           "RandomBrightness"]


def _factor_pair(factor: Any, name: str, layer: str, bounds: tuple = (-1.0, 1.0),
                 open_low: bool = False) -> tuple:
    """``(lower, upper)`` from a number ``f`` (``(-f, f)``, clipped to ``bounds``) or a pair."""
    def bad() -> ValueError:
        low = "(" if open_low else "["
        return ValueError(f"{layer}: {name} must be a number or a pair of numbers in "
                          f"{low}{bounds[0]}, {bounds[1]}]. Received: {name}={factor!r}")

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(isinstance(f, (int, float)) and not isinstance(f, bool)
                                       for f in factor):
            raise bad()
        lo, hi = sorted(float(f) for f in factor)
        if lo > bounds[1] or hi < bounds[0] or (open_low and lo <= bounds[0]) or (
                open_low and hi > bounds[1]):
            raise bad()
        return lo, hi
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise bad()
    f = float(factor)
    if f < bounds[0] or f > bounds[1] or (open_low and f <= bounds[0]):
        raise bad()
    f = abs(f)
    return max(-f, bounds[0]), f


def _plain(factor: Any) -> Any:
    """A factor as JSON keeps it (a pair as a list)."""
    return list(factor) if isinstance(factor, tuple) else factor


class _RandomImageLayer(Layer):
    """The shared life cycle: identity unless training; a generator of its own with a seed."""

    def __init__(self, seed: Any = None, data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or a non-negative "
                             f"integer. Received: seed={seed!r}")
        self.seed = seed
        self.data_format = check_data_format(data_format, type(self).__name__)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, inputs: Any, training: Any = True) -> Any:
        if training is False or (training is not None and not training):
            return inputs
        x, single = channels_last_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        return from_channels_last(self._augment(x), single, self)

    def _augment(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class _RandomWarpLayer(_RandomImageLayer):
    """A random affine transform per image, resampled with Keras's fill modes."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.fill_mode = check_choice(fill_mode, ("reflect", "wrap", "constant", "nearest"),
                                      "fill_mode", name)
        self.interpolation = check_choice(interpolation, ("bilinear", "nearest"),
                                          "interpolation", name)
        self.fill_value = float(fill_value)
        self._draw_fn = self.draw  # one object, so two traced steps configure the op alike

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        """``(n, 8)`` transform matrices for a batch of ``n`` images of ``h`` by ``w``."""
        raise NotImplementedError  # pragma: no cover

    def _augment(self, x: Any) -> Any:
        return _image_ops.affine_warp(x, self._draw_fn, self.interpolation, self.fill_mode,
                                self.fill_value, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


class RandomRotation(_RandomWarpLayer):
    """Rotate each image by a random angle while training (Keras's ``RandomRotation``).

    Args:
        factor: a fraction of a full turn (2π): ``0.1`` draws angles in
            ``[-36°, 36°]``; a pair ``(lower, upper)`` draws in
            ``[lower·360°, upper·360°]``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: a seed for this layer's own generator.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (images ``(batch, channels,
            height, width)``, transformed as channels last); None: the global
            :func:`chainrule.config.image_data_format`.
        **kwargs: layer arguments (``name``, ...).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.RandomRotation(0.25, seed=1)
        >>> layer(np.ones((2, 8, 8, 3)), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: Any = None, fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.factor = _factor_pair(factor, "factor", "RandomRotation")

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        degrees = rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=n)
        return _image_ops.rotation_matrices(degrees * (math.pi / 180.0), h, w)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = list(self.factor)
        return config


class _HeightWidthWarpLayer(_RandomWarpLayer):
    """A warp drawn from a ``height_factor`` and a ``width_factor`` (zoom, translation)."""

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height_factor": _plain(self.height_factor),
                       "width_factor": _plain(self.width_factor)})
        return config


class RandomZoom(_HeightWidthWarpLayer):
    """Zoom each image in or out by a random factor while training (Keras's ``RandomZoom``).

    Args:
        height_factor: ``f`` draws vertical zooms in ``[1 - f, 1 + f]`` (a pair:
            ``[1 + lower, 1 + upper]``); positive values zoom out, as in Keras.
        width_factor: the same horizontally (default: keep the aspect ratio).
        fill_mode, interpolation, seed, fill_value, data_format: as in
            :class:`RandomRotation`.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomZoom(0.2, seed=1)(np.ones((2, 8, 8, 1))).shape
        (2, 8, 8, 1)
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: Any = None, fill_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height = _factor_pair(height_factor, "height_factor", "RandomZoom",
                                    open_low=True)
        self._width = None if width_factor is None else _factor_pair(
            width_factor, "width_factor", "RandomZoom", open_low=True)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        zy = rng.uniform(1.0 + self._height[0], 1.0 + self._height[1], size=n)
        zx = zy if self._width is None else rng.uniform(1.0 + self._width[0],
                                                        1.0 + self._width[1], size=n)
        z = np.zeros(n)
        return np.stack([zx, z, (w - 1) / 2.0 * (1 - zx), z, zy, (h - 1) / 2.0 * (1 - zy), z, z],
                        axis=1)


class RandomTranslation(_HeightWidthWarpLayer):
    """Shift each image by a random fraction of its size while training.

    Args:
        height_factor: ``f`` shifts vertically by up to ``f·height`` either way
            (a pair: ``[lower·height, upper·height]``).
        width_factor: the same horizontally.
        fill_mode, interpolation, seed, fill_value, data_format: as in
            :class:`RandomRotation`.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomTranslation(0.1, 0.1, seed=1)(np.ones((2, 8, 8, 1))).shape
        (2, 8, 8, 1)
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: Any = None, fill_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._height = _factor_pair(height_factor, "height_factor", "RandomTranslation",
                                    open_low=True)
        self._width = _factor_pair(width_factor, "width_factor", "RandomTranslation",
                                   open_low=True)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        ty = rng.uniform(self._height[0], self._height[1], size=n) * h
        tx = rng.uniform(self._width[0], self._width[1], size=n) * w
        one, z = np.ones(n), np.zeros(n)
        return np.stack([one, z, -tx, z, one, -ty, z, z], axis=1)


class RandomFlip(_RandomImageLayer):
    """Flip each image with probability 1/2 while training (Keras's ``RandomFlip``).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``
            (default; one draw flips both ways).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"`` (None: the global
            :func:`chainrule.config.image_data_format`).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> cr.layers.RandomFlip("horizontal")(x, training=False).numpy().ravel()
        array([0., 1., 2., 3.], dtype=float32)
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.mode = check_choice(mode, ("horizontal", "vertical", "horizontal_and_vertical"),
                                 "mode", "RandomFlip")

    def _augment(self, x: Any) -> Any:
        return _image_ops.RandomFlipOp("horizontal" in self.mode, "vertical" in self.mode,
                                 self._rng)(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config


def _value_range(value_range: Any, layer: str) -> tuple:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range):
        raise ValueError(f"{layer}: value_range must be a pair of numbers (low, high). "
                         f"Received: value_range={value_range!r}")
    lo, hi = sorted(float(v) for v in value_range)
    return lo, hi


class _RandomColorLayer(_RandomImageLayer):
    """A random change of pixel values by a ``factor`` pair, clipped to ``value_range``."""

    _FACTOR_BOUNDS: tuple = (-1.0, 1.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = _factor_pair(factor, "factor", name, bounds=self._FACTOR_BOUNDS)
        self.value_range = _value_range(value_range, name)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config


class RandomContrast(_RandomColorLayer):
    """Scale each image's contrast by a random factor while training (Keras's layer).

    Each channel becomes ``(x - mean) * f + mean`` (``mean`` over the image's
    pixels), clipped to ``value_range``. Keras 3 reads a single ``factor=f``
    as ``(0, f)``, so ``f`` is drawn in ``[1, 1 + f]``; a pair
    ``(lower, upper)`` draws in ``[1 - lower, 1 + upper]``.

    Args:
        factor: a number in [0, 1] or a pair.
        value_range: the images' range (default ``(0, 255)``).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"`` (None: the global
            :func:`chainrule.config.image_data_format`).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomContrast(0.5, seed=1)(np.ones((2, 4, 4, 3))).shape
        (2, 4, 4, 3)
    """

    _FACTOR_BOUNDS = (0.0, 1.0)

    def _augment(self, x: Any) -> Any:
        return _image_ops.RandomContrastOp(self.factor[0], self.factor[1], self.value_range,
                                     self._rng)(x)


class RandomBrightness(_RandomColorLayer):
    """Add a random brightness shift to each image while training (Keras's layer).

    The shift is drawn in ``[lower, upper]`` times the width of ``value_range``
    (``factor=f`` means ``(-f, f)``), added to every pixel, and the result is
    clipped to ``value_range``.

    Args:
        factor: a number in [-1, 1] or a pair.
        value_range: the images' range (default ``(0, 255)``).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"`` (None: the global
            :func:`chainrule.config.image_data_format`).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RandomBrightness(0.2, seed=1)(np.ones((2, 4, 4, 3))).shape
        (2, 4, 4, 3)
    """

    def _augment(self, x: Any) -> Any:
        return _image_ops.RandomBrightnessOp(self.factor[0], self.factor[1], self.value_range,
                                       self._rng)(x)


"""Colour and intensity augmentation (Keras 3's layers of the same names).

``RandomGrayscale``, ``RandomHue``, ``RandomSaturation``, ``RandomColorDegeneration``,
``RandomColorJitter``, ``RandomSharpness``, ``RandomInvert``, ``RandomPosterization``,
``AutoContrast``, ``Equalization``, ``Solarization`` and ``RandomGaussianBlur``.

Each layer works as Keras's does: it draws its random factors per image (a
``(batch, k)`` table, :class:`DrawPerImage`, the only random op, drawn inside
``forward`` so a captured training step draws new factors at every replay) and
then transforms the images with ordinary ops (:mod:`chainrule.ops.image`'s colour
conversions, ``where``, ``clip``, ...). Like Keras's layers they change images only
while training (the default of a direct call) and return their input in inference,
except ``AutoContrast``, which Keras applies always. Images are channels last or,
with ``data_format="channels_first"``, channels first; batched or single.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Function, Tensor
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import positive_int
from chainrule.layers.preprocessing.image_augmentation import _factor_pair, _plain
from chainrule.layers.preprocessing.image_preprocessing import as_batch
from chainrule.ops import _image_ops, image_color
from chainrule.ops.conv import normalize_data_format

__all__ = ["RandomGrayscale", "RandomHue", "RandomSaturation", "RandomColorDegeneration",
           "RandomColorJitter", "RandomSharpness", "RandomInvert", "RandomPosterization",
           "AutoContrast", "Equalization", "Solarization", "RandomGaussianBlur",
           "DrawPerImage"]

_EPSILON = 1e-7  # Keras's backend epsilon, in RandomSaturation's factor / (1 - factor)


class DrawPerImage(Function):
    """One row of random numbers per image: ``draw(rng, batch) -> (batch, k)``.

    The draw happens in ``forward`` (from the layer's generator, or chainrule's seeded
    one), so a replayed training step draws anew. Its output carries no gradient.
    """

    differentiable = False

    def __init__(self, draw: Callable, rng: Any) -> None:
        self.draw, self.rng = draw, rng

    def forward(self, x):
        table = np.asarray(self.draw(self.rng or backend.rng(), x.shape[0]), dtype=np.float64)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(backend.floatx())
        return backend.as_array(table.reshape(x.shape[0], -1), dtype)


def _value_range(value_range: Any, layer: str) -> tuple:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in value_range) or value_range[0] == value_range[1]:
        raise ValueError(f"{layer}: value_range must be a pair of two different numbers "
                         f"(low, high). Received: value_range={value_range!r}")
    lo, hi = sorted(float(v) for v in value_range)
    return lo, hi


def _rescale(x: Any, source: tuple, target: tuple) -> Any:
    """Map ``source`` onto ``target`` linearly (Keras's ``_transform_value_range``)."""
    if tuple(source) == tuple(target):
        return x
    return (x - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


def _column(params: Any, j: int) -> Tensor:
    """Column ``j`` of a ``(batch, k)`` table, shaped ``(batch, 1, 1, 1)`` for images."""
    return ops.reshape(ops.getitem(params, (slice(None), j)), (-1, 1, 1, 1))


def _plane(x: Any, c: int) -> Tensor:
    return ops.getitem(x, (Ellipsis, c))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                      bool)


class _ColorLayer(Layer):
    """The shared life cycle: a draw per image, then a transform of channels-last batches.

    Subclasses set ``_draw(rng, n) -> (n, k)`` (or None when nothing is random) and
    ``_transform(x, params)``; ``_RGB`` says whether the layer needs 3 channels and
    ``_IN_INFERENCE`` whether it also changes images outside training.
    """

    _RGB = False
    _IN_INFERENCE = False
    _draw: Any = None

    def __init__(self, seed: Any = None, data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{name}: seed must be None or a non-negative integer. "
                             f"Received: seed={seed!r}")
        self.seed = seed
        if data_format is None:
            from chainrule.backend.settings import image_data_format  # noqa: PLC0415

            data_format = image_data_format()
        self.data_format = normalize_data_format(data_format, name)
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def _check_channels(self, shape: tuple) -> None:
        axis = -3 if self.data_format == "channels_first" else -1
        if self._RGB and shape[axis] != 3:
            raise ValueError(f'{type(self).__name__} layer "{self.name}" expects RGB images '
                             f"with 3 channels on axis {axis} ({self.data_format}). "
                             f"Received: inputs of shape {shape}")

    def call(self, inputs: Any, training: Any = True) -> Any:
        if not self._IN_INFERENCE and (training is False or (
                training is not None and not training)):
            return inputs
        x, single = as_batch(inputs, self)
        self._check_channels(tuple(inputs.shape))
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or backend.floatx())
        first = self.data_format == "channels_first"
        if first:
            x = ops.transpose(x, (0, 2, 3, 1))
        params = DrawPerImage(self._draw, self._rng)(x) if self._draw is not None else None
        y = self._transform(x, params)
        if first:
            y = ops.transpose(y, (0, 3, 1, 2))
        return ops.reshape(y, tuple(y.shape[1:])) if single else y

    def _transform(self, x: Any, params: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        if "seed" in self._config_keys:
            config["seed"] = self.seed
        return config

    _config_keys: tuple = ("seed",)


class _FactorLayer(_ColorLayer):
    """A ``factor`` pair (Keras's ``_set_factor`` within ``_BOUNDS``) and a ``value_range``."""

    _BOUNDS: tuple = (-1.0, 1.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: Any = None,
                 seed: Any = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        self.factor = _factor_pair(factor, "factor", name, bounds=self._BOUNDS)
        self.value_range = _value_range(value_range, name)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.factor[0], self.factor[1], size=n)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config


# -- the colour transforms (channels last), shared by the single layers and RandomColorJitter --


def adjust_saturation(x: Any, factor: Any, value_range: tuple) -> Tensor:
    """Scale the HSV saturation by ``factor`` (per image), clipped to ``value_range`` as Keras."""
    hsv = image_color.rgb_to_hsv(x)
    s = ops.clip(_plane(hsv, 1) * ops.squeeze(factor, -1), value_range[0], value_range[1])
    return image_color.hsv_to_rgb(ops.stack([_plane(hsv, 0), s, _plane(hsv, 2)], axis=-1))


def adjust_hue(x: Any, delta: Any, value_range: tuple) -> Tensor:
    """Rotate the hue by ``delta`` turns (per image), wrapping into ``[0, 1]`` as Keras."""
    hsv = image_color.rgb_to_hsv(_rescale(x, value_range, (0.0, 1.0)))
    h = _plane(hsv, 0) + ops.squeeze(delta, -1)
    h = ops.where(h > 1.0, h - 1.0, h)
    h = ops.where(h < 0.0, h + 1.0, h)
    rgb = image_color.hsv_to_rgb(ops.stack([h, _plane(hsv, 1), _plane(hsv, 2)], axis=-1))
    return _rescale(ops.clip(rgb, 0.0, 1.0), (0.0, 1.0), value_range)


def _draw_saturation(factor: tuple) -> Callable:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        f = rng.uniform(factor[0], factor[1], size=n).astype(np.float32)
        return f / (np.float32(1.0) - f + np.float32(_EPSILON))
    return draw


def _draw_hue(factor: tuple) -> Callable:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        sign = np.where(rng.uniform(size=n) > 0.5, -1.0, 1.0)
        return sign * rng.uniform(factor[0], factor[1], size=n) * 0.5
    return draw


class RandomGrayscale(_ColorLayer):
    """Turn each image to grayscale with probability ``factor`` while training.

    The converted images keep their channels, all set to the luma
    :func:`chainrule.ops.image.rgb_to_grayscale`.

    Args:
        factor: the probability, in ``[0, 1]`` (default 0.5).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)`` (1 channel passes as is).

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[255.0, 0.0, 0.0]]]], dtype="float32")
        >>> cr.layers.RandomGrayscale(factor=1.0)(x).numpy().round(2).ravel()
        array([76.22, 76.22, 76.22], dtype=float32)
    """

    def __init__(self, factor: float = 0.5, data_format: Any = None, seed: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not _number(factor) or not 0 <= factor <= 1:
            raise ValueError(f"RandomGrayscale: factor must be a number in [0, 1]. "
                             f"Received: factor={factor!r}")
        self.factor = float(factor)

    def _check_channels(self, shape: tuple) -> None:
        axis = -3 if self.data_format == "channels_first" else -1
        if shape[axis] not in (1, 3):
            raise ValueError(f'RandomGrayscale layer "{self.name}" expects RGB (3 channels) '
                             f"or grayscale (1 channel) images on axis {axis}. Received: "
                             f"inputs of shape {shape}")

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(size=n) < self.factor

    def _transform(self, x: Any, params: Any) -> Any:
        return ops.where(_column(params, 0) > 0.5, image_color.rgb_to_grayscale(x), x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomHue(_FactorLayer):
    """Rotate each image's hue by a random amount while training (Keras's ``RandomHue``).

    The hue turns by ``±f / 2`` with ``f`` drawn in ``factor``'s range and the sign
    drawn with even odds (``factor=f`` means ``[0, f]``); the images are read in
    ``value_range``, converted to HSV and back, and clipped.

    Args:
        factor: a number in ``[0, 1]`` or a pair.
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3))
        >>> cr.layers.RandomHue(0.5, seed=1)(x).shape
        (2, 4, 4, 3)
    """

    _RGB = True
    _BOUNDS = (0.0, 1.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: Any = None,
                 seed: Any = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self._draw = _draw_hue(self.factor)

    def _transform(self, x: Any, params: Any) -> Any:
        return adjust_hue(x, _column(params, 0), self.value_range)


class RandomSaturation(_FactorLayer):
    """Scale each image's saturation by a random factor while training (Keras's layer).

    ``f`` drawn in ``factor``'s range becomes the multiplier ``f / (1 - f)``:
    ``0.5`` keeps the image, ``0`` makes it gray, ``1`` fully saturated. As in Keras,
    ``factor=f`` means ``[-f, f]`` (negative draws give gray images), the images are
    converted to HSV as they are (no rescaling to ``[0, 1]``) and the scaled
    saturation is clipped to ``value_range``.

    Args:
        factor: a number in ``[-1, 1]`` or a pair.
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[200.0, 100.0, 50.0]]]], dtype="float32")
        >>> cr.layers.RandomSaturation((0.5, 0.5))(x).numpy().round(2).ravel()
        array([200., 100.,  50.], dtype=float32)
    """

    _RGB = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: Any = None,
                 seed: Any = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self._draw = _draw_saturation(self.factor)

    def _transform(self, x: Any, params: Any) -> Any:
        return adjust_saturation(x, _column(params, 0), self.value_range)


class RandomColorDegeneration(_FactorLayer):
    """Blend each image towards its grayscale version by a random amount while training.

    ``x + f * (gray - x)``, clipped to ``value_range``, with ``f`` drawn in
    ``factor``'s range (``factor=f`` means ``[-f, f]``, as Keras reads it).

    Args:
        factor: a number in ``[-1, 1]`` or a pair.
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[255.0, 0.0, 0.0]]]], dtype="float32")
        >>> cr.layers.RandomColorDegeneration((1.0, 1.0))(x).numpy().round(2).ravel()
        array([76.22, 76.22, 76.22], dtype=float32)
    """

    _RGB = True

    def _transform(self, x: Any, params: Any) -> Any:
        y = x + _column(params, 0) * (image_color.rgb_to_grayscale(x) - x)
        return ops.clip(y, self.value_range[0], self.value_range[1])


class RandomSharpness(_FactorLayer):
    """Sharpen or blur each image by a random amount while training (Keras's layer).

    The image is smoothed with the 3×3 kernel ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13``
    (zero padding) and blended: ``x + (1 - 2f) * (smoothed - x)``, clipped to
    ``value_range``; ``f = 0.5`` keeps the image, ``0`` gives the smoothed one and ``1``
    sharpens. ``factor=f`` means ``[0, f]``.

    Args:
        factor: a number in ``[0, 1]`` or a pair.
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.full((1, 3, 3, 1), 13.0, dtype="float32")
        >>> float(cr.layers.RandomSharpness((0.0, 0.0))(x).numpy()[0, 1, 1, 0])
        13.0
    """

    _BOUNDS = (0.0, 1.0)

    def _transform(self, x: Any, params: Any) -> Any:
        a, b = 1.0 / 13.0, 5.0 / 13.0
        smoothed = image_color.Filter2D([[a, a, a], [a, b, a], [a, a, a]])(x)
        y = x + (1.0 - _column(params, 0) * 2.0) * (smoothed - x)
        return ops.clip(y, self.value_range[0], self.value_range[1])


class RandomInvert(_FactorLayer):
    """Invert images (``high - x``) at random while training (Keras's ``RandomInvert``).

    Each image draws a probability ``p`` in ``factor``'s range and is inverted when a
    uniform draw falls below it; the default ``factor=1.0`` (the range ``[0, 1]``)
    inverts half the images on average, ``(1.0, 1.0)`` inverts all.

    Args:
        factor: a number in ``[0, 1]`` or a pair (default 1.0).
        value_range: the images' range (default ``(0, 255)``); inverted values are
            ``value_range[1] - x``.
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[0.0, 100.0, 255.0]]]], dtype="float32")
        >>> cr.layers.RandomInvert((1.0, 1.0))(x).numpy().ravel()
        array([255., 155.,   0.], dtype=float32)
    """

    _BOUNDS = (0.0, 1.0)

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: Any = None,
                 data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = rng.uniform(self.factor[0], self.factor[1], size=n)
        return rng.uniform(size=n) < p

    def _transform(self, x: Any, params: Any) -> Any:
        return ops.where(_column(params, 0) > 0.5, self.value_range[1] - x, x)


class RandomPosterization(_ColorLayer):
    """Keep only the top ``bits`` bits of each 8-bit value, ``bits`` random per image.

    The images are read in ``value_range`` as values 0..255, truncated to integers,
    and the low ``8 - bits`` bits cleared; ``bits`` is drawn from ``[lower, upper)``
    (Keras's ``randint``) or is ``lower`` when both are equal. ``factor=f`` means
    ``(1, f)``. The result carries no gradient.

    Args:
        factor: an integer in ``[1, 8]`` or a pair of them.
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[0.0, 100.0, 255.0]]]], dtype="float32")
        >>> cr.layers.RandomPosterization((2, 2))(x).numpy().ravel()
        array([  0.,  64., 192.], dtype=float32)
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: Any = None,
                 seed: Any = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        pair = factor if isinstance(factor, (tuple, list)) else (1, factor)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
                _number(f) and float(f) == int(f) and 1 <= f <= 8 for f in pair):
            raise ValueError(f"RandomPosterization: factor must be an integer in [1, 8] or a "
                             f"pair of them. Received: factor={factor!r}")
        self.factor = tuple(sorted(int(f) for f in pair))
        self.value_range = _value_range(value_range, "RandomPosterization")

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        lo, hi = self.factor
        bits = rng.integers(lo, hi, size=n) if lo != hi else np.full(n, lo)
        return 2.0 ** (8 - bits)  # the step between the values kept

    def _transform(self, x: Any, params: Any) -> Any:
        step = _column(params, 0)
        v = ops.floor(ops.clip(_rescale(x, self.value_range, (0.0, 255.0)), 0.0, 255.0))
        return _rescale(ops.floor(v / step) * step, (0.0, 255.0), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config


class AutoContrast(_ColorLayer):
    """Stretch each image's channels to fill ``value_range`` (Keras's ``AutoContrast``).

    Each channel's minimum maps to the low end and its maximum to the high end;
    constant channels stay as they are. Deterministic, and, as in Keras, applied in
    inference too.

    Args:
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[50.0], [100.0], [150.0]]]], dtype="float32")
        >>> cr.layers.AutoContrast()(x).numpy().ravel()
        array([  0. , 127.5, 255. ], dtype=float32)
    """

    _IN_INFERENCE = True
    _config_keys = ()

    def __init__(self, value_range: Any = (0, 255), data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = _value_range(value_range, "AutoContrast")

    def _transform(self, x: Any, params: Any) -> Any:
        y = _rescale(x, self.value_range, (0.0, 255.0))
        low = ops.min(y, axis=(1, 2), keepdims=True)
        high = ops.max(y, axis=(1, 2), keepdims=True)
        spread = high - low
        scale = 255.0 / ops.where(spread > 0, spread, 1.0)
        y = ops.clip(y * scale + (-low * scale), 0.0, 255.0)
        return ops.where(spread > 0, _rescale(y, (0.0, 255.0), self.value_range), x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["value_range"] = list(self.value_range)
        return config


class Equalize(Function):
    """Histogram equalisation of each channel over a whole batch ``(n, h, w, c)`` (Keras's).

    Values are binned in ``bins`` bins of ``[0, 255]``; each channel maps through the
    rounded, rescaled cumulative histogram (a channel filling at most one bin is
    kept). Piecewise constant, so it carries no gradient.
    """

    differentiable = False

    def __init__(self, bins: int, value_range: tuple) -> None:
        self.bins, self.value_range = bins, value_range

    def forward(self, x):
        lo, hi = self.value_range
        f32 = np.float32
        out = np.empty_like(x)
        for c in range(x.shape[-1]):
            ch = x[..., c].astype(np.float32)
            ch = ch * f32(255.0 / (hi - lo)) + f32(-lo * 255.0 / (hi - lo))
            index = np.clip((ch * f32(self.bins - 1) / f32(255.0)).astype(np.int32), 0,
                            self.bins - 1)
            hist = np.bincount(index.ravel(), minlength=self.bins)
            if np.count_nonzero(hist) > 1:
                cdf = np.cumsum(hist)
                cdf_min = cdf[np.nonzero(cdf)[0][0]]
                denominator = (cdf[-1] - cdf_min) or 1
                table = np.clip(np.round((cdf - cdf_min) * 255 / denominator), 0, 255)
                at = np.clip(ch / f32(255.0) * f32(self.bins - 1), 0, self.bins - 1)
                ch = table[at.astype(np.int32)]
            out[..., c] = ch * ((hi - lo) / 255.0) + lo
        return out


class Equalization(_ColorLayer):
    """Equalise the histogram of each channel while training (Keras's ``Equalization``).

    As in Keras, the histogram of a channel is counted over the whole batch. The
    output carries no gradient.

    Args:
        value_range: the images' range (default ``(0, 255)``).
        bins: the number of histogram bins (default 256).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[10.0], [20.0], [30.0], [40.0]]]], dtype="float32")
        >>> cr.layers.Equalization()(x).numpy().ravel()
        array([  0.,  85., 170., 255.], dtype=float32)
    """

    _config_keys = ()

    def __init__(self, value_range: Any = (0, 255), bins: int = 256, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.bins = positive_int(bins, "bins", "Equalization")
        self.value_range = _value_range(value_range, "Equalization")

    def _transform(self, x: Any, params: Any) -> Any:
        return Equalize(self.bins, self.value_range)(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"bins": self.bins, "value_range": list(self.value_range)})
        return config


def _solarization_factor(factor: Any, name: str) -> tuple:
    ok = _number(factor) and 0 <= factor <= 1 or isinstance(factor, (tuple, list)) and len(
        factor) == 2 and all(_number(f) and 0 <= f <= 1 for f in factor)
    if not ok:
        raise ValueError(f"Solarization: {name} must be a number in [0, 1] or a pair of them. "
                         f"Received: {name}={factor!r}")
    if isinstance(factor, (tuple, list)):
        return tuple(sorted(float(f) for f in factor))
    return 0.0, float(factor)


class Solarization(_ColorLayer):
    """Invert the values above a random threshold while training (Keras's ``Solarization``).

    On the 0..255 scale each image adds a random ``addition`` (clipped to 0..255) and
    every value not below a random ``threshold`` becomes ``255 - value``. As in Keras,
    the draws are uniform in ``[lower, upper * 255]`` of each factor (a number ``f``
    means ``(0, f)``); ``threshold_factor=0`` (the default) inverts every value.

    Args:
        addition_factor: a number in ``[0, 1]`` or a pair (default 0).
        threshold_factor: a number in ``[0, 1]`` or a pair (default 0).
        value_range: the images' range (default ``(0, 255)``).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.array([[[[0.0, 100.0, 255.0]]]], dtype="float32")
        >>> cr.layers.Solarization()(x).numpy().ravel()
        array([255., 155.,   0.], dtype=float32)
    """

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0,
                 value_range: Any = (0, 255), seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.addition_factor = _solarization_factor(addition_factor, "addition_factor")
        self.threshold_factor = _solarization_factor(threshold_factor, "threshold_factor")
        self.value_range = _value_range(value_range, "Solarization")

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        (a0, a1), (t0, t1) = self.addition_factor, self.threshold_factor
        return np.stack([rng.uniform(a0, a1 * 255.0, size=n),
                         rng.uniform(t0, t1 * 255.0, size=n)], axis=1)

    def _transform(self, x: Any, params: Any) -> Any:
        y = _rescale(x, self.value_range, (0.0, 255.0))
        y = ops.clip(y + _column(params, 0), 0.0, 255.0)
        y = ops.where(y < _column(params, 1), y, 255.0 - y)
        return _rescale(y, (0.0, 255.0), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range),
                       "addition_factor": list(self.addition_factor),
                       "threshold_factor": list(self.threshold_factor)})
        return config


def _kernel_size(kernel_size: Any) -> tuple:
    pair = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
    if len(pair) != 2 or not all(_number(k) and float(k) == int(k) and k > 0 and int(k) % 2
                                 for k in pair):
        raise ValueError(f"RandomGaussianBlur: kernel_size must be an odd positive integer or a "
                         f"pair of them. Received: kernel_size={kernel_size!r}")
    return int(pair[0]), int(pair[1])


class RandomGaussianBlur(_FactorLayer):
    """Blur images with a random Gaussian at random while training (Keras's layer).

    Each image is blurred when a uniform draw falls below a probability drawn in
    ``factor``'s range (default ``1.0``: ``[0, 1]``, half the images on average); the
    batch shares one ``sigma`` pair drawn in ``sigma``'s range (plus 1e-6), used as in
    :func:`chainrule.ops.image.gaussian_blur`. The result is clipped to ``value_range``.

    Args:
        factor: a number in ``[0, 1]`` or a pair (default 1.0).
        kernel_size: an odd integer or a pair of them (default 3).
        sigma: a number in ``[0, 1]`` (``[0, sigma]``) or a pair (default 1.0).
        value_range: the images' range (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.zeros((1, 5, 5, 1), "float32"); x[0, 2, 2] = 100.0
        >>> y = cr.layers.RandomGaussianBlur((1.0, 1.0), sigma=(0.5, 0.5))(x)
        >>> round(float(y.numpy().sum()), 3)
        100.0
    """

    _BOUNDS = (0.0, 1.0)

    def __init__(self, factor: Any = 1.0, kernel_size: Any = 3, sigma: Any = 1.0,
                 value_range: Any = (0, 255), data_format: Any = None, seed: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self.kernel_size = _kernel_size(kernel_size)
        self.sigma = _factor_pair(sigma, "sigma", "RandomGaussianBlur", bounds=(0.0, 1.0))

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = rng.uniform(self.factor[0], self.factor[1], size=n)
        apply = rng.uniform(size=n) < p
        sigma = rng.uniform(self.sigma[0], self.sigma[1], size=2).astype(np.float32) + \
            np.float32(1e-6)
        return np.column_stack([apply, np.tile(sigma, (n, 1))])

    def _transform(self, x: Any, params: Any) -> Any:
        sigma = ops.getitem(params, (0, slice(1, 3)))
        blurred = image_color.blur(x, self.kernel_size, sigma)
        y = ops.where(_column(params, 0) > 0.5, blurred, x)
        return ops.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"kernel_size": list(self.kernel_size), "sigma": list(self.sigma)})
        return config


class RandomColorJitter(_ColorLayer):
    """Random brightness, contrast, saturation and hue, in that order, while training.

    Each factor set applies the matching layer's change (:class:`RandomBrightness`,
    :class:`RandomContrast`, :class:`RandomSaturation`, :class:`RandomHue`) with its
    own draws per image; a factor left as None skips that change.

    Args:
        value_range: the images' range (default ``(0, 255)``).
        brightness_factor: as ``RandomBrightness``'s ``factor`` (in ``[-1, 1]``).
        contrast_factor: as ``RandomContrast``'s ``factor`` (in ``[0, 1]``).
        saturation_factor: as :class:`RandomSaturation`'s ``factor``.
        hue_factor: as :class:`RandomHue`'s ``factor``.
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> x = np.full((1, 2, 2, 3), 100.0, dtype="float32")
        >>> jitter = cr.layers.RandomColorJitter(brightness_factor=(0.1, 0.1))
        >>> jitter(x).numpy()[0, 0, 0]
        array([125.5, 125.5, 125.5], dtype=float32)
    """

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None,
                 contrast_factor: Any = None, saturation_factor: Any = None,
                 hue_factor: Any = None, seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = "RandomColorJitter"
        self.value_range = _value_range(value_range, name)
        self.brightness_factor = _plain(brightness_factor)
        self.contrast_factor = _plain(contrast_factor)
        self.saturation_factor = _plain(saturation_factor)
        self.hue_factor = _plain(hue_factor)

        def pair(factor: Any, arg: str, bounds: tuple) -> Any:
            return None if factor is None else _factor_pair(factor, arg, name, bounds=bounds)

        self._brightness = pair(brightness_factor, "brightness_factor", (-1.0, 1.0))
        self._contrast = pair(contrast_factor, "contrast_factor", (0.0, 1.0))
        self._saturation = pair(saturation_factor, "saturation_factor", (-1.0, 1.0))
        self._hue = pair(hue_factor, "hue_factor", (0.0, 1.0))
        self._RGB = self._saturation is not None or self._hue is not None

    def _transform(self, x: Any, params: Any) -> Any:
        if self._brightness is not None:
            x = _image_ops.RandomBrightnessOp(*self._brightness, self.value_range, self._rng)(x)
        if self._contrast is not None:
            x = _image_ops.RandomContrastOp(*self._contrast, self.value_range, self._rng)(x)
        if self._saturation is not None:
            f = DrawPerImage(_draw_saturation(self._saturation), self._rng)(x)
            x = adjust_saturation(x, _column(f, 0), self.value_range)
        if self._hue is not None:
            delta = DrawPerImage(_draw_hue(self._hue), self._rng)(x)
            x = adjust_hue(x, _column(delta, 0), self.value_range)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range),
                       "brightness_factor": self.brightness_factor,
                       "contrast_factor": self.contrast_factor,
                       "saturation_factor": self.saturation_factor,
                       "hue_factor": self.hue_factor})
        return config

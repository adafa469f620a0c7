"""``Resizing`` and ``CenterCrop``: deterministic image resizing and cropping (channels last or
first)."""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import check_choice, positive_int
from chainrule.ops._image_ops import _aspect_crop, resize  # noqa: F401  (the layers' names)

__all__ = ["Resizing", "CenterCrop", "check_data_format", "as_batch", "channels_last_batch",
           "from_channels_last"]


def check_data_format(data_format: Any, layer: str) -> str:
    """``"channels_last"`` or ``"channels_first"``, checked (None: the global
    ``image_data_format``), as the augmentation layers read it."""
    from chainrule.layers.preprocessing.geometric_augmentation import (  # noqa: PLC0415
        image_data_format,
    )

    return image_data_format(data_format, layer)


def as_batch(inputs: Any, layer: Any) -> tuple:
    """``(images of rank 4, whether a single image of rank 3 was given)``."""
    if inputs.ndim == 3:
        return ops.reshape(inputs, (1,) + tuple(inputs.shape)), True
    if inputs.ndim != 4:
        first = getattr(layer, "data_format", None) == "channels_first"
        layout = "channels, height, width" if first else "height, width, channels"
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}" expects images of shape '
                         f"(batch, {layout}) or ({layout}). "
                         f"Received: inputs of shape {tuple(inputs.shape)}")
    return inputs, False


def channels_last_batch(inputs: Any, layer: Any) -> tuple:
    """:func:`as_batch`, then channels-first images (``layer.data_format``) turned channels
    last: ``(images (batch, height, width, channels), whether one image was given)``."""
    x, single = as_batch(inputs, layer)
    if layer.data_format == "channels_first":
        x = ops.transpose(x, (0, 2, 3, 1))
    return x, single


def from_channels_last(y: Any, single: bool, layer: Any) -> Any:
    """Undo :func:`channels_last_batch` on the result ``y``."""
    if layer.data_format == "channels_first":
        y = ops.transpose(y, (0, 3, 1, 2))
    return _unbatch(y, single)


def _unbatch(x: Any, single: bool) -> Any:
    return ops.reshape(x, tuple(x.shape[1:])) if single else x


class Resizing(Layer):
    """Resize images to ``(height, width)`` (Keras's ``Resizing``; TensorFlow's arithmetic).

    Bilinear and nearest resizing use half-pixel centres without antialiasing,
    as ``tf.image.resize`` does, so the outputs match Keras's.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        crop_to_aspect_ratio: crop the centred window of the output's aspect
            ratio before resizing (no distortion).
        pad_to_aspect_ratio: pad with ``fill_value`` to the output's aspect
            ratio before resizing (no distortion, nothing cut).
        fill_mode: ``"constant"`` (the padding's mode).
        fill_value: the padding's value.
        data_format: ``"channels_last"`` (images ``(..., height, width, channels)``) or
            ``"channels_first"`` (``(..., channels, height, width)``); None: the global
            :func:`chainrule.config.image_data_format`.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, h, w, channels)`` or ``(h, w, channels)`` (channels first:
        ``(batch, channels, h, w)`` or ``(channels, h, w)``).

    Output shape:
        ``(batch, height, width, channels)`` (or without the batch; channels first:
        ``(batch, channels, height, width)``).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.Resizing(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].numpy()
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = positive_int(height, "height", "Resizing")
        self.width = positive_int(width, "width", "Resizing")
        self.interpolation = check_choice(interpolation, ("bilinear", "nearest"),
                                          "interpolation", "Resizing")
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Resizing: only one of pad_to_aspect_ratio and "
                             "crop_to_aspect_ratio can be True. Received: "
                             "pad_to_aspect_ratio=True and crop_to_aspect_ratio=True")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = check_choice(fill_mode, ("constant",), "fill_mode", "Resizing")
        self.fill_value = float(fill_value)
        self.data_format = check_data_format(data_format, "Resizing")

    def call(self, inputs: Any, training: Any = None) -> Any:
        x, single = channels_last_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        y = resize(x, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio,
                   self.pad_to_aspect_ratio, self.fill_value)
        return from_channels_last(y, single, self)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "data_format": self.data_format})
        return config


class CenterCrop(Layer):
    """Crop the central ``(height, width)`` window of each image (Keras's ``CenterCrop``).

    An image smaller than the window in either direction is instead cropped
    to the window's aspect ratio and resized to it (bilinear), as Keras does.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` (images ``(..., height, width, channels)``) or
            ``"channels_first"`` (``(..., channels, height, width)``); None: the global
            :func:`chainrule.config.image_data_format`.
        **kwargs: layer arguments (``name``, ...).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].numpy()
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height: int, width: int, data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.height = positive_int(height, "height", "CenterCrop")
        self.width = positive_int(width, "width", "CenterCrop")
        self.data_format = check_data_format(data_format, "CenterCrop")

    def call(self, inputs: Any, training: Any = None) -> Any:
        x, single = channels_last_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        h, w = int(x.shape[1]), int(x.shape[2])
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            y = ops.getitem(x, (slice(None), slice(top, top + self.height),
                                slice(left, left + self.width)))
        else:
            y = resize(x, self.height, self.width, "bilinear", True)
        return from_channels_last(y, single, self)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config

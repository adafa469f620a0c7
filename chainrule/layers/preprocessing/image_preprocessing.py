"""``Resizing`` and ``CenterCrop``: deterministic image resizing and cropping (channels last)."""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import check_choice, positive_int
from chainrule.ops._image_ops import _aspect_crop, resize  # noqa: F401  (the layers' names)

__all__ = ["Resizing", "CenterCrop", "check_data_format", "as_batch"]


def check_data_format(data_format: Any, layer: str) -> str:
    """chainrule's image layers are channels-last, Keras's default (None: the global
    ``image_data_format``, which must then be channels-last too)."""
    if data_format is None:
        from chainrule.backend.settings import image_data_format  # noqa: PLC0415

        data_format = image_data_format()
    if data_format != "channels_last":
        raise ValueError(f"{layer}: chainrule's image layers take channels-last images "
                         f"(batch, height, width, channels). Received: "
                         f"data_format={data_format!r}")
    return "channels_last"


def as_batch(inputs: Any, layer: Any) -> tuple:
    """``(images of rank 4, whether a single image of rank 3 was given)``."""
    if inputs.ndim == 3:
        return ops.reshape(inputs, (1,) + tuple(inputs.shape)), True
    if inputs.ndim != 4:
        raise ValueError(f'{type(layer).__name__} layer "{layer.name}" expects images of shape '
                         "(batch, height, width, channels) or (height, width, channels). "
                         f"Received: inputs of shape {tuple(inputs.shape)}")
    return inputs, False


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
        data_format: must be None or ``"channels_last"``.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, h, w, channels)`` or ``(h, w, channels)``.

    Output shape:
        ``(batch, height, width, channels)`` (or without the batch).

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
        x, single = as_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        y = resize(x, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio,
                   self.pad_to_aspect_ratio, self.fill_value)
        return _unbatch(y, single)

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
        data_format: must be None or ``"channels_last"``.
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
        x, single = as_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        h, w = int(x.shape[1]), int(x.shape[2])
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            y = ops.getitem(x, (slice(None), slice(top, top + self.height),
                                slice(left, left + self.width)))
        else:
            y = resize(x, self.height, self.width, "bilinear", True)
        return _unbatch(y, single)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config

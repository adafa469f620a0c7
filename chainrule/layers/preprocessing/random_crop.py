"""``RandomCrop``: crop a random ``(height, width)`` window of a batch of images while training."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Function, Tensor
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import positive_int
from chainrule.layers.preprocessing.image_preprocessing import (
    _aspect_crop,
    channels_last_batch,
    check_data_format,
    from_channels_last,
    resize,
)

__all__ = ["RandomCrop", "random_crop"]


class RandomCropOp(Function):
    """One random ``(height, width)`` window for the whole batch, drawn in ``forward``.

    The gradient goes back into the window (zeros elsewhere).
    """

    def __init__(self, height: int, width: int, rng: Any) -> None:
        self.height, self.width, self.rng = height, width, rng

    def forward(self, x):
        rng = self.rng or backend.rng()
        self.in_shape = x.shape
        self.top = int(rng.integers(0, x.shape[1] - self.height + 1))
        self.left = int(rng.integers(0, x.shape[2] - self.width + 1))
        return x[:, self.top:self.top + self.height, self.left:self.left + self.width].copy()

    def backward(self, gy):
        g = backend.xp.zeros(self.in_shape, dtype=gy.dtype)
        g[:, self.top:self.top + self.height, self.left:self.left + self.width] = gy
        return (g,)


def random_crop(images: Any, height: int, width: int, rng: Any = None) -> Tensor:
    """Crop one random ``(height, width)`` window from a batch of images (the same for all).

    Args:
        images: ``(n, h, w, c)`` with ``h >= height`` and ``w >= width``.
        height, width: the window's size.
        rng: optional ``numpy.random.Generator`` (default: chainrule's).

    Returns:
        ``(n, height, width, c)``, differentiable with respect to ``images``.

    Example:
        >>> import chainrule as cr
        >>> random_crop(cr.Tensor(np.zeros((2, 5, 5, 1))), 3, 2).shape
        (2, 3, 2, 1)
    """
    shape = tuple(getattr(images, "shape", ()))
    if len(shape) != 4 or shape[1] < height or shape[2] < width:
        raise ValueError(f"random_crop: images must be (n, h, w, c) with h >= {height} and "
                         f"w >= {width}. Received: images of shape {shape}")
    return RandomCropOp(int(height), int(width), rng)(images)


class RandomCrop(Layer):
    """Crop a random ``(height, width)`` window of the images while training (Keras 3).

    While training, one window position is drawn per batch (every image of the
    batch is cropped at the same place), uniformly among the positions that
    fit. An image not larger than the window in both directions is instead
    cropped around its centre towards the window's aspect ratio and resized
    (bilinear) to ``(height, width)``, as Keras does. In inference (``training``
    false: ``predict``, ``evaluate``) the images pass unchanged, as in Keras 3.

    Args:
        height, width: the output size.
        seed: optional seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"`` (``(..., channels,
            height, width)``); None: the global :func:`chainrule.config.image_data_format`.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, h, w, channels)`` or ``(h, w, channels)`` (channels first:
        ``(batch, channels, h, w)`` or ``(channels, h, w)``).

    Output shape:
        ``(batch, height, width, channels)`` while training (or without the batch;
        channels first: ``(batch, channels, height, width)``).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.RandomCrop(2, 3, seed=0)
        >>> layer(np.ones((4, 5, 6, 3)), training=True).shape
        (4, 2, 3, 3)
        >>> layer(np.ones((4, 5, 6, 3)), training=False).shape
        (4, 5, 6, 3)
    """

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: Any = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.height = positive_int(height, "height", "RandomCrop")
        self.width = positive_int(width, "width", "RandomCrop")
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (int, np.integer)) or seed < 0):
            raise ValueError("RandomCrop: seed must be None or a non-negative integer. "
                             f"Received: seed={seed!r}")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(int(seed))
        self.data_format = check_data_format(data_format, "RandomCrop")

    def call(self, inputs: Any, training: Any = True) -> Any:
        if not training:
            return inputs
        x, single = channels_last_batch(inputs, self)
        if x.dtype.kind != "f":
            x = ops.cast(x, self.dtype or "float32")
        h, w = int(x.shape[1]), int(x.shape[2])
        if h > self.height and w > self.width:
            y = random_crop(x, self.height, self.width, self._rng)
        else:  # Keras: start at the centred aspect-ratio window, take the size, then resize
            top, left, _, _ = _aspect_crop(h, w, self.height, self.width)
            y = ops.getitem(x, (slice(None), slice(top, top + self.height),
                                slice(left, left + self.width)))
            if tuple(y.shape[1:3]) != (self.height, self.width):
                y = resize(y, self.height, self.width, "bilinear")
        return from_channels_last(y, single, self)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape with height and width replaced by the window's."""
        out = list(input_shape)
        if self.data_format == "channels_first":
            out[-2], out[-1] = self.height, self.width
        else:
            out[-3], out[-2] = self.height, self.width
        return tuple(out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "seed": self.seed,
                       "data_format": self.data_format})
        return config

"""``ContrastLimitedAdaptiveHistogramEqualization`` (CLAHE), Keras 3's layer of that name.

The image is cut into ``tile_grid_size`` tiles (the last row and column of tiles
completed by mirroring the image, NumPy's ``"symmetric"`` padding); each tile's
256-bin histogram is clipped at ``clip_limit * pixels / 256`` with the excess spread
evenly over the bins, and its normalised cumulative histogram maps a pixel's value
bin to ``[0, 255]``; each pixel interpolates bilinearly between the maps of the four
tiles around it. All of it is Keras's arithmetic in float32, in one op
(:class:`Clahe`). Like Keras's layer (whose histogram goes through an integer cast),
the output carries no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Function
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing.color_augmentation import _value_range
from chainrule.layers.preprocessing.image_preprocessing import as_batch
from chainrule.layers.preprocessing.max_num_bounding_boxes import keep_integer_dtypes
from chainrule.ops.conv import normalize_data_format

__all__ = ["ContrastLimitedAdaptiveHistogramEqualization", "Clahe"]

_F32 = np.float32


def _tile_grid(value: Any) -> tuple:
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in value)
    if not ok:
        raise ValueError("ContrastLimitedAdaptiveHistogramEqualization: tile_grid_size must be "
                         "a pair of integers >= 1 (rows, columns of tiles). Received: "
                         f"tile_grid_size={value!r}")
    return int(value[0]), int(value[1])


class Clahe(Function):
    """CLAHE of channels-last batches ``(n, h, w, c)`` whose values span ``value_range``.

    Returns float32 (the caller casts to the input's dtype, as Keras does). Piecewise
    constant in the pixel values (histogram bins): no gradient.
    """

    differentiable = False

    def __init__(self, value_range: tuple, clip_limit: float, tile_grid_size: tuple) -> None:
        self.value_range, self.clip_limit = value_range, clip_limit
        self.tile_grid_size = tile_grid_size

    def forward(self, x):
        lo, hi = (_F32(v) for v in self.value_range)
        rescale = self.value_range != (0.0, 255.0)
        images = x.astype(_F32)
        if rescale:
            images = (images - lo) / (hi - lo) * _F32(255.0) + _F32(0.0)
        n, h, w, c = images.shape
        gh, gw = self.tile_grid_size
        th, tw = -(-h // gh), -(-w // gw)
        hp, wp = th * gh, tw * gw
        if (hp, wp) != (h, w):
            images = np.pad(images, ((0, 0), (0, hp - h), (0, wp - w), (0, 0)),
                            mode="symmetric")
        # the histogram of each tile: bins = clip(int(value), 0, 255) (a cast truncates)
        bins = np.clip(images.astype(np.int32), 0, 255)
        tiles = bins.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
        offsets = np.arange(n * gh * gw * c).reshape(n, gh, gw, c, 1) * 256
        hists = np.bincount((tiles.reshape(n, gh, gw, c, th * tw) + offsets).ravel(),
                            minlength=n * gh * gw * c * 256)
        hists = hists.reshape(n, gh, gw, c, 256).astype(_F32)
        area = _F32(th * tw)
        if self.clip_limit > 0:
            limit = _F32(self.clip_limit * (th * tw) / 256.0)
            clipped = np.clip(hists, _F32(0), limit)
            excess = np.sum(hists - clipped, axis=-1, keepdims=True)
            hists = clipped + excess / _F32(256.0)
        cdf = np.cumsum(hists, axis=-1, dtype=_F32)
        cdf_min = np.min(cdf, axis=-1, keepdims=True)
        denominator = area - cdf_min
        denominator = np.where(denominator == 0, _F32(1), denominator)
        table = np.clip((cdf - cdf_min) * _F32(255.0) / denominator, _F32(0), _F32(255))
        # one more tile of the same map on every side, then bilinear weights per pixel
        table = np.pad(table, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")

        def axis_weights(size: int, tile: int, grid: int) -> tuple:
            t = (np.arange(size, dtype=_F32) - _F32(tile / 2.0)) / _F32(tile) + _F32(1.0)
            i0 = np.floor(t)
            wt = t - i0
            i1 = np.clip(i0 + 1, 0, grid + 1).astype(np.int64)
            return np.clip(i0, 0, grid + 1).astype(np.int64), i1, wt

        y0, y1, wy = axis_weights(hp, th, gh)
        x0, x1, wx = axis_weights(wp, tw, gw)
        b = np.arange(n)[:, None, None, None]
        ch = np.arange(c)[None, None, None, :]
        v = bins  # the clipped int32 pixel values (the same bins as the histogram)
        ya, yb = y0[None, :, None, None], y1[None, :, None, None]
        xa, xb = x0[None, None, :, None], x1[None, None, :, None]
        wy, wx = wy[None, :, None, None], wx[None, None, :, None]
        top = table[b, ya, xa, ch, v] * (_F32(1.0) - wx) + table[b, ya, xb, ch, v] * wx
        bottom = table[b, yb, xa, ch, v] * (_F32(1.0) - wx) + table[b, yb, xb, ch, v] * wx
        result = (top * (_F32(1.0) - wy) + bottom * wy)[:, :h, :w]
        if rescale:
            result = (result - _F32(0.0)) / _F32(255.0) * (hi - lo) + lo
        return result.astype(_F32, copy=False)


class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """Contrast limited adaptive histogram equalisation (Keras's layer of that name).

    Equalises the histogram of each tile of each channel, limiting the contrast gain
    (``clip_limit``), and blends neighbouring tiles bilinearly (see the module's
    description). Applied in training and inference alike, as in Keras. The output
    has the input's dtype (an integer input is truncated back to integers, as
    Keras's cast does) and carries no gradient: Keras's layer defines none either
    (its histogram goes through an integer cast).

    Args:
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).
        clip_limit: the contrast limit; 0 or less turns clipping off (plain adaptive
            equalisation). Default 4.0.
        tile_grid_size: ``(rows, columns)`` of tiles (default ``(8, 8)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, height, width, channels)`` or ``(height, width, channels)``
        (channels first with ``data_format="channels_first"``).

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(
        ...     clip_limit=0.0, tile_grid_size=(1, 1))
        >>> x = np.array([[[[10.0], [20.0], [30.0], [40.0]]]], dtype="float32")
        >>> layer(x).numpy().ravel()
        array([ 63.75, 127.5 , 191.25, 255.  ], dtype=float32)
    """

    def __init__(self, value_range: Any = (0, 255), clip_limit: float = 4.0,
                 tile_grid_size: Any = (8, 8), data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        name = "ContrastLimitedAdaptiveHistogramEqualization"
        self.value_range = _value_range(value_range, name)
        if isinstance(clip_limit, bool) or not isinstance(clip_limit, (int, float, np.integer,
                                                                       np.floating)):
            raise ValueError(f"{name}: clip_limit must be a number. Received: "
                             f"clip_limit={clip_limit!r}")
        self.clip_limit = float(clip_limit)
        self.tile_grid_size = _tile_grid(tile_grid_size)
        if data_format is None:
            from chainrule.backend.settings import image_data_format  # noqa: PLC0415

            data_format = image_data_format()
        self.data_format = normalize_data_format(data_format, name)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(keep_integer_dtypes(inputs), *args, **kwargs)

    def call(self, inputs: Any, training: Any = None) -> Any:
        x, single = as_batch(inputs, self)
        dtype = x.dtype
        first = self.data_format == "channels_first"
        if first:
            x = ops.transpose(x, (0, 2, 3, 1))
        y = Clahe(self.value_range, self.clip_limit, self.tile_grid_size)(x)
        if y.dtype != dtype:
            y = ops.cast(y, dtype)
        if first:
            y = ops.transpose(y, (0, 3, 1, 2))
        return ops.reshape(y, tuple(y.shape[1:])) if single else y

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "value_range": list(self.value_range),
                       "clip_limit": self.clip_limit,
                       "tile_grid_size": list(self.tile_grid_size)})
        return config

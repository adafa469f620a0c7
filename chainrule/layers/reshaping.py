"""Reshaping layers: padding, cropping, upsampling, spatial dropout, Permute, RepeatVector, Rescaling.

Each computes with ops (``ops.pad``, slicing, ``ops.repeat``, ``ops.transpose``,
``ops.dropout``), so models built from them are captured for replay like any
other. Image layers take ``data_format="channels_last"`` (the default) or
``"channels_first"`` where Keras offers it.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.layers.core import Dropout

__all__ = [
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D",
    "UpSampling2D", "SpatialDropout1D", "SpatialDropout2D", "Permute", "RepeatVector",
    "Rescaling", "ZeroPadding3D", "Cropping3D", "UpSampling3D",
    "SpatialDropout3D",
]

_LAYOUT = {
    3: "(batch, steps, channels)",
    4: {"channels_last": "(batch, height, width, channels)",
        "channels_first": "(batch, channels, height, width)"},
    5: {"channels_last": "(batch, depth, height, width, channels)",
        "channels_first": "(batch, channels, depth, height, width)"},
}


def _data_format(value: Any, layer: str) -> str:
    if value is None:  # the global image_data_format (Keras's default for None)
        from chainrule.backend.settings import image_data_format  # noqa: PLC0415

        return image_data_format()
    if value not in ("channels_last", "channels_first"):
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(str(value), ["channels_last", "channels_first"], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first'."
                         f"{hint} Received: data_format={value!r}")
    return value


def _nonneg_pair(value: Any, name: str, layer: str, positive: bool = False) -> tuple:
    """An int or a pair of ints as a pair, checked (``standardize_tuple`` of Keras)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    low = 1 if positive else 0
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low
            for v in pair):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{layer}: {name} must be a {kind} int or a tuple of 2 {kind} ints. "
                         f"Received: {name}={value!r}")
    return (int(pair[0]), int(pair[1]))


_PAIRS_FORMS = {
    2: "a tuple of 2 ints (symmetric height, width) or a tuple of 2 tuples of 2 ints "
       "((top, bottom), (left, right))",
    3: "a tuple of 3 ints (symmetric depth, height, width) or a tuple of 3 tuples of 2 ints",
}


def _pairs(value: Any, name: str, layer: str, n: int) -> tuple:
    """``int``, ``n`` symmetric ints or ``n`` ``(before, after)`` pairs, as ``n`` pairs."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (_nonneg_pair(value, name, layer),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise ValueError(f"{layer}: {name} must be an int, {_PAIRS_FORMS[n]}. Received: "
                         f"{name}={value!r}")
    order = ("1st", "2nd", "3rd")
    return tuple(_nonneg_pair(v, f"{order[i]} entry of {name}", layer)
                 for i, v in enumerate(value))


def _rank_error(layer: Layer, rank: int, shape: Sequence[Any]) -> ValueError:
    """The error for an input of the wrong rank, naming the layer and the layout it expects."""
    layout = _LAYOUT[rank]
    if isinstance(layout, dict):
        layout = layout[getattr(layer, "data_format", "channels_last")]
    hint = " Add a channel axis: x[..., None]." if len(shape) == rank - 1 else ""
    return ValueError(
        f'Layer "{layer.name}" ({type(layer).__name__}) expects {rank}-D input {layout}, '
        f"received shape {tuple(shape)}.{hint} Received: inputs of shape {tuple(shape)}")


class _Spatial(Layer):
    """Layers for inputs of one rank: the check that names the layer and the expected layout."""

    _rank = 3
    data_format = "channels_last"

    def _rank_error(self, shape: Sequence[Any]) -> ValueError:
        return _rank_error(self, self._rank, shape)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != self._rank:
            raise self._rank_error(input_shape)
        self.built = True

    def _check(self, inputs: Any) -> None:
        if inputs.ndim != self._rank:
            raise self._rank_error(inputs.shape)

    def _spatial_axes(self) -> tuple:
        n = self._rank - 2
        return tuple(range(2, 2 + n)) if self.data_format == "channels_first" else tuple(
            range(1, 1 + n))


class _ZeroPadding(_Spatial):
    """Zero padding of the spatial axes, for any rank; ``self.padding`` holds the widths."""

    def _pads(self) -> tuple:
        """One ``(before, after)`` pair per spatial axis (1-D layers keep a single pair)."""
        return (self.padding,) if self._rank == 3 else self.padding

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the padding added to the spatial axes."""
        if len(input_shape) != self._rank:
            raise self._rank_error(input_shape)
        out = list(input_shape)
        for ax, p in zip(self._spatial_axes(), self._pads()):
            if out[ax] is not None:
                out[ax] += sum(p)
        return tuple(out)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check(inputs)
        widths = [(0, 0)] * self._rank
        for ax, p in zip(self._spatial_axes(), self._pads()):
            widths[ax] = p
        return ops.pad(inputs, tuple(widths))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"padding": [list(p) for p in self._pads()] if self._rank > 3
                       else list(self.padding), "data_format": self.data_format})
        return config


class _Cropping(_Spatial):
    """Cropping of the spatial axes, for any rank; ``self.cropping`` holds the amounts."""

    def _crops(self) -> tuple:
        """One ``(start, end)`` pair per spatial axis (1-D layers keep a single pair)."""
        return (self.cropping,) if self._rank == 3 else self.cropping

    def _too_much(self, shape: Sequence[Any]) -> ValueError:
        return ValueError(
            f'Layer "{self.name}" ({type(self).__name__}): cropping {self.cropping} is not '
            f"smaller than the spatial size of the input of shape {tuple(shape)}. Received: "
            f"cropping={self.cropping}")

    def _sizes(self, shape: Sequence[Any]) -> list:
        out = list(shape)
        for ax, c in zip(self._spatial_axes(), self._crops()):
            if out[ax] is None:
                continue
            out[ax] -= sum(c)
            if out[ax] <= 0:
                raise self._too_much(shape)
        return out

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the cropping removed from the spatial axes."""
        if len(input_shape) != self._rank:
            raise self._rank_error(input_shape)
        return tuple(self._sizes(input_shape))

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(tuple(input_shape))
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check(inputs)
        self._sizes(inputs.shape)
        key = [slice(None)] * self._rank
        for ax, (a, b) in zip(self._spatial_axes(), self._crops()):
            key[ax] = slice(a, inputs.shape[ax] - b)
        return inputs[tuple(key)]


class _UpSampling(_Spatial):
    """Nearest-neighbour upsampling of the spatial axes, for any rank; ``self.size``: factors."""

    def _factors(self) -> tuple:
        """One factor per spatial axis (1-D layers keep a single int)."""
        return (self.size,) if self._rank == 3 else self.size

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input shape with the spatial axes multiplied by ``size``."""
        if len(input_shape) != self._rank:
            raise self._rank_error(input_shape)
        out = list(input_shape)
        for ax, f in zip(self._spatial_axes(), self._factors()):
            if out[ax] is not None:
                out[ax] *= f
        return tuple(out)

    def _repeat(self, inputs: Tensor) -> Tensor:
        x = inputs
        for ax, f in zip(self._spatial_axes(), self._factors()):
            x = ops.repeat(x, f, axis=ax)
        return x

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check(inputs)
        return self._repeat(inputs)


class ZeroPadding1D(_ZeroPadding):
    """Pad the steps axis of a sequence with zeros.

    Args:
        padding: an int (both sides) or ``(before, after)``.
        data_format: ``"channels_last"`` (default: ``(batch, steps, channels)``)
            or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, before + steps + after, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.ZeroPadding1D(2)(np.ones((1, 3, 4))).shape
        (1, 7, 4)
    """

    def __init__(self, padding: int | Sequence[int] = 1, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "ZeroPadding1D")
        self.padding = _nonneg_pair(padding, "padding", "ZeroPadding1D")



class ZeroPadding2D(_ZeroPadding):
    """Pad the height and width of images with zeros.

    Args:
        padding: an int (all sides), ``(sym_height, sym_width)``, or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, top + height + bottom, left + width + right, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 3, 3, 2))).shape
        (1, 4, 7, 2)
    """

    _rank = 4

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "ZeroPadding2D")
        self.padding = _pairs(padding, "padding", "ZeroPadding2D", 2)



class Cropping1D(_Cropping):
    """Crop the steps axis of a sequence.

    Args:
        cropping: an int (both ends) or ``(start, end)``: steps removed.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, steps - start - end, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Cropping1D((1, 2))(np.ones((1, 5, 3))).shape
        (1, 2, 3)
    """

    def __init__(self, cropping: int | Sequence[int] = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _nonneg_pair(cropping, "cropping", "Cropping1D")

    def _too_much(self, shape: Sequence[Any]) -> ValueError:
        return ValueError(
            f'Layer "{self.name}" (Cropping1D): cropping {self.cropping} removes all of the '
            f"{shape[1]} steps of the input of shape {tuple(shape)}. Received: "
            f"cropping={self.cropping}")

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config


class Cropping2D(_Cropping):
    """Crop the height and width of images.

    Args:
        cropping: an int (all sides), ``(sym_height, sym_width)``, or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, height - top - bottom, width - left - right, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Cropping2D(((1, 1), (0, 2)))(np.ones((1, 5, 5, 3))).shape
        (1, 3, 3, 3)
    """

    _rank = 4

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "Cropping2D")
        self.cropping = _pairs(cropping, "cropping", "Cropping2D", 2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"cropping": [list(c) for c in self.cropping],
                       "data_format": self.data_format})
        return config


class UpSampling1D(_UpSampling):
    """Repeat each step ``size`` times.

    Args:
        size: the upsampling factor (a positive int).
        **kwargs: layer arguments.

    Input shape:
        ``(batch, steps, features)``.

    Output shape:
        ``(batch, steps * size, features)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.UpSampling1D(2)(np.array([[[1.0], [2.0]]]))[0, :, 0]
        Tensor([1., 1., 2., 2.], dtype=float32)
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"UpSampling1D: size must be a positive integer. Received: "
                             f"size={size!r}")
        self.size = int(size)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size
        return config


def _bilinear_matrix(n: int, factor: int, dtype: Any) -> np.ndarray:
    """The ``(n * factor, n)`` matrix of bilinear upsampling with half-pixel centres."""
    m = n * factor
    src = (np.arange(m) + 0.5) / factor - 0.5
    src = np.clip(src, 0, n - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = src - lo
    mat = np.zeros((m, n))
    np.add.at(mat, (np.arange(m), lo), 1 - w)
    np.add.at(mat, (np.arange(m), hi), w)
    return backend.as_array(mat, dtype)  # on the active backend, as the inputs


class UpSampling2D(_UpSampling):
    """Upsample images by integer factors: nearest neighbour (repeat) or bilinear.

    Args:
        size: an int or ``(rows, cols)``, the factors.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"`` (half-pixel
            centres, as TensorFlow's ``resize``).
        **kwargs: layer arguments.

    Input shape:
        ``(batch, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, height * rows, width * cols, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.UpSampling2D((2, 3))(np.ones((1, 2, 2, 1))).shape
        (1, 4, 6, 1)
    """

    _rank = 4

    def __init__(self, size: int | Sequence[int] = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "UpSampling2D")
        self.size = _nonneg_pair(size, "size", "UpSampling2D", positive=True)
        modes = ("nearest", "bilinear")
        if not isinstance(interpolation, str) or interpolation.lower() not in modes:
            raise ValueError("UpSampling2D: interpolation must be 'nearest' or 'bilinear'. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation.lower()

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check(inputs)
        if self.interpolation == "nearest":
            return self._repeat(inputs)
        # separable: rows then columns, each one matrix product with a constant matrix
        x = inputs if self.data_format == "channels_first" else ops.transpose(
            inputs, (0, 3, 1, 2))
        dt = x.dtype
        mh = _bilinear_matrix(x.shape[2], self.size[0], dt)
        mw = _bilinear_matrix(x.shape[3], self.size[1], dt).T.copy()
        x = ops.matmul(ops.matmul(mh, x), mw)
        return x if self.data_format == "channels_first" else ops.transpose(x, (0, 2, 3, 1))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


class SpatialDropout1D(Dropout):
    """Dropout of whole channels: one keep-or-drop draw per (sample, channel), shared over steps.

    The mask is drawn inside the dropout op (as ``Dropout``), so a captured
    step draws a new one at every replay.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        seed: optional seed for this layer's own generator.
        **kwargs: ``name``, ``dtype``.

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> y = cr.layers.SpatialDropout1D(0.5, seed=1)(np.ones((2, 4, 3)), training=True)
        >>> bool((y.numpy() == y.numpy()[:, :1, :]).all())
        True
    """

    _rank = 3

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)

    def _noise_shape(self) -> tuple:
        return (None, 1, None)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim != self._rank:
            raise _rank_error(self, self._rank, inputs.shape)
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, self._noise_shape(), self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


class SpatialDropout2D(SpatialDropout1D):
    """Dropout of whole feature maps: one draw per (sample, channel), shared over height and width.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional seed for this layer's own generator.
        **kwargs: ``name``, ``dtype``.

    Input shape:
        ``(batch, height, width, channels)`` (channels last).

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> y = cr.layers.SpatialDropout2D(0.5, seed=1)(np.ones((2, 3, 3, 4)), training=True)
        >>> bool((y.numpy() == y.numpy()[:, :1, :1, :]).all())
        True
    """

    _rank = 4

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _data_format(data_format, "SpatialDropout2D")

    def _noise_shape(self) -> tuple:
        if self.data_format == "channels_first":
            return (None, None, 1, 1)
        return (None, 1, 1, None)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout3D(SpatialDropout1D):
    """Dropout of whole 3-D feature maps: one draw per (sample, channel), shared over the volume.

    Args:
        rate: the fraction of channels to drop, in [0, 1).
        data_format: ``"channels_last"`` or ``"channels_first"``; None takes
            ``config.image_data_format()``.
        seed: optional seed for this layer's own generator.
        **kwargs: ``name``, ``dtype``.

    Input shape:
        ``(batch, depth, height, width, channels)`` (channels last) or
        ``(batch, channels, depth, height, width)``.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> y = cr.layers.SpatialDropout3D(0.5, seed=1)(np.ones((2, 2, 3, 3, 4)), training=True)
        >>> bool((y.numpy() == y.numpy()[:, :1, :1, :1, :]).all())
        True
    """

    _rank = 5

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _data_format(data_format, "SpatialDropout3D")

    def _noise_shape(self) -> tuple:
        if self.data_format == "channels_first":
            return (None, None, 1, 1, 1)
        return (None, 1, 1, 1, None)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Permute(Layer):
    """Permute the axes of each sample (the batch axis stays first).

    Args:
        dims: a permutation of ``1..rank-1``, e.g. ``(2, 1)`` swaps the two
            axes of a sequence.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, d1, ..., dn)`` with ``n == len(dims)``.

    Output shape:
        ``(batch, d[dims[0]], ..., d[dims[-1]])``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Permute((2, 1))(np.zeros((2, 3, 5))).shape
        (2, 5, 3)
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            dims_t = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            dims_t = ()
        if not dims_t or sorted(dims_t) != list(range(1, len(dims_t) + 1)):
            raise ValueError("Permute: dims must be a permutation of 1..n (the batch axis 0 "
                             f"stays first). Received: dims={dims!r}")
        self.dims = dims_t

    def _check_rank(self, shape: Sequence[Any]) -> None:
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f'Layer "{self.name}" (Permute) with dims={self.dims} expects '
                f"{len(self.dims) + 1}-D input, received shape {tuple(shape)}. Received: "
                f"inputs of shape {tuple(shape)}")

    def build(self, input_shape: Any) -> None:
        self._check_rank(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The batch axis, then the input's axes in the order of ``dims``."""
        self._check_rank(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check_rank(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """Repeat each input vector ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Args:
        n: the number of repetitions (a positive int).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.RepeatVector(3)(np.zeros((2, 4))).shape
        (2, 3, 4)
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"RepeatVector: n must be an integer. Received: n={n!r}")
        if n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer. Received: n={n}")
        self.n = int(n)

    def _check_rank(self, shape: Sequence[Any]) -> None:
        if len(shape) != 2:
            raise ValueError(
                f'Layer "{self.name}" (RepeatVector) expects 2-D input (batch, features), '
                f"received shape {tuple(shape)}. Received: inputs of shape {tuple(shape)}")

    def build(self, input_shape: Any) -> None:
        self._check_rank(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, n, features)``."""
        self._check_rank(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check_rank(inputs.shape)
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config


def _plain(v: Any) -> Any:
    """A number or a list of numbers, as JSON holds them."""
    return np.asarray(v).tolist() if isinstance(v, (np.ndarray, list, tuple)) else float(v)


class Rescaling(Layer):
    """Rescale inputs: ``inputs * scale + offset`` (e.g. ``Rescaling(1 / 255)`` for pixels).

    Args:
        scale: a number, or one per channel (a list broadcast against the last axis).
        offset: a number, or one per channel (default 0).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]]))
        Tensor([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, v in (("scale", scale), ("offset", offset)):
            arr = np.asarray(v) if not isinstance(v, Tensor) else v.numpy()
            if arr.dtype.kind not in "iuf" or arr.ndim > 1:
                raise ValueError(f"Rescaling: {name} must be a number or a list of numbers. "
                                 f"Received: {name}={v!r}")
        self.scale = scale.numpy().tolist() if isinstance(scale, Tensor) else scale
        self.offset = offset.numpy().tolist() if isinstance(offset, Tensor) else offset

    def _const(self, v: Any, dtype: Any) -> Any:
        arr = np.asarray(v, dtype=dtype)
        return backend.as_array(arr, dtype) if arr.ndim else dtype.type(arr)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        dt = np.dtype(inputs.dtype)
        y = ops.multiply(inputs, self._const(self.scale, dt))
        off = np.asarray(self.offset)
        if off.ndim == 0 and float(off) == 0.0:
            return y
        return ops.add(y, self._const(self.offset, dt))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": _plain(self.scale), "offset": _plain(self.offset)})
        return config


# -- volumes: 3-D padding, cropping and upsampling -----------------------------------------


class ZeroPadding3D(_ZeroPadding):
    """Pad the depth, height and width of volumes with zeros.

    Args:
        padding: an int (all sides), ``(sym_depth, sym_height, sym_width)``, or
            ``((front, back), (top, bottom), (left, right))``. Default 1 on every side.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, depth, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, depth + front + back, height + top + bottom, width + left + right,
        channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.ZeroPadding3D((1, 0, 2))(np.ones((1, 2, 2, 2, 3))).shape
        (1, 4, 2, 6, 3)
    """

    _rank = 5

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "ZeroPadding3D")
        self.padding = _pairs(padding, "padding", "ZeroPadding3D", 3)



class Cropping3D(_Cropping):
    """Crop the depth, height and width of volumes.

    Args:
        cropping: an int (all sides), ``(sym_depth, sym_height, sym_width)``, or
            ``((front, back), (top, bottom), (left, right))``. Default 1 on every side.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, depth, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, depth - front - back, height - top - bottom, width - left - right,
        channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Cropping3D(((1, 1), (0, 1), (2, 0)))(np.ones((1, 4, 4, 4, 2))).shape
        (1, 2, 3, 2, 2)
    """

    _rank = 5

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)),
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "Cropping3D")
        self.cropping = _pairs(cropping, "cropping", "Cropping3D", 3)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"cropping": [list(c) for c in self.cropping],
                       "data_format": self.data_format})
        return config


class UpSampling3D(_UpSampling):
    """Repeat each voxel ``size`` times along depth, height and width (nearest neighbour).

    Args:
        size: an int or ``(d, h, w)``, the factors (default ``(2, 2, 2)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, depth, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, depth * d, height * h, width * w, channels)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.UpSampling3D((1, 2, 3))(np.ones((1, 2, 2, 2, 1))).shape
        (1, 2, 4, 6, 1)
    """

    _rank = 5

    def __init__(self, size: int | Sequence[int] = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, "UpSampling3D")
        triple = (size,) * 3 if isinstance(size, (int, np.integer)) else size
        if not isinstance(triple, (tuple, list)) or len(triple) != 3 or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                for v in triple):
            raise ValueError("UpSampling3D: size must be a positive int or a tuple of 3 "
                             f"positive ints. Received: size={size!r}")
        self.size = tuple(int(v) for v in triple)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format})
        return config

"""Pooling layers: max and average pooling over windows, and global pooling (Keras's names).

Each layer is a thin wrapper around one op (:func:`chainrule.ops.max_pool`,
:func:`chainrule.ops.average_pool`, :func:`chainrule.ops.mean`, :func:`chainrule.ops.max`)
that checks its input once, when it is built, with an error naming the layer.
"""

from __future__ import annotations

from typing import Any, Sequence

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.backend.settings import image_data_format
from chainrule.layers.convolutional import (
    ShapedLayer,
    channels_of,
    rank_error,
    spatial_of,
    window_error,
)
from chainrule.ops.conv import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)
from chainrule.ops.pooling import AveragePool, MaxPool

__all__ = [
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPool3D",
]


class BasePooling(ShapedLayer):
    """Pooling over windows of ``pool_size`` (the base of the Max/AveragePooling layers).

    Args:
        rank: the number of spatial axes.
        pool_size: an int or ``rank`` ints.
        strides: an int or ``rank`` ints; default ``pool_size``.
        padding: ``"valid"`` or ``"same"``, any case.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    _op: Any = None

    def __init__(self, rank: int, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} layer {self.name!r}"
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size", owner)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, rank, "strides", owner))
        self.padding = normalize_padding(padding, ("valid", "same"), owner)
        self.data_format = normalize_data_format(  # None: the global image_data_format
            image_data_format() if data_format is None else data_format, owner)

    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, shape)
        if any(o is not None and o <= 0 for o in self._spatial_out(shape)):
            raise window_error(self, "pool_size", self.pool_size, shape, self.padding)
        return shape

    def _spatial_out(self, shape: Sequence[Any]) -> tuple:
        return tuple(conv_output_length(n, k, s, 1, self.padding) for n, k, s in zip(
            spatial_of(shape, self.data_format), self.pool_size, self.strides))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The output shape for ``input_shape`` (batch first; ``None`` sizes stay ``None``)."""
        shape = self._check_shape(input_shape)
        out = self._spatial_out(shape)
        c = channels_of(shape, self.data_format)
        return (shape[0], c) + out if self.data_format == "channels_first" else (
            (shape[0],) + out + (c,))

    def build(self, input_shape: Any) -> None:
        self._check_shape(input_shape)
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, inputs.shape)
        return self._op(self.pool_size, self.strides, self.padding,
                        self.data_format == "channels_first")(inputs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config

    @classmethod
    def from_config(cls, config: dict) -> "BasePooling":
        config = dict(config)
        for key in ("pool_size", "strides"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        return cls(**config)


_POOL_DOC = """{kind} pooling over {what} (Keras's ``{name}``).

    Args:
        pool_size: {pool_doc}; default {default}.
        strides: {pool_doc}; default ``pool_size``.
        padding: ``"valid"`` (default) or ``"same"``{same_note}.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        ``{layout}`` (or channels first).

    Output shape:
        Each spatial axis ``(size - pool) // stride + 1`` (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``); the channels unchanged.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.{name}()(np.zeros({example})).shape
        {result}
    """


def _doc(kind, rank, name, same_note):
    what = {1: "time steps", 2: "images", 3: "volumes"}[rank]
    layout = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
              3: "(batch, depth, height, width, channels)"}[rank]
    example = {1: "(2, 7, 3)", 2: "(2, 28, 28, 8)", 3: "(1, 4, 4, 4, 2)"}[rank]
    result = {1: "(2, 3, 3)", 2: "(2, 14, 14, 8)", 3: "(1, 2, 2, 2, 2)"}[rank]
    default = "2" if rank == 1 else "(" + ", ".join(["2"] * rank) + ")"
    pool_doc = "an int" if rank == 1 else f"an int or {rank} ints"
    return _POOL_DOC.format(kind=kind, what=what, name=name, pool_doc=pool_doc, default=default,
                            same_note=same_note, layout=layout, example=example, result=result)


_MAX_SAME = " (padded with ``-inf``)"
_AVG_SAME = " (each window's mean counts only its real pixels)"


class MaxPooling1D(BasePooling):
    __doc__ = _doc("Max", 1, "MaxPooling1D", _MAX_SAME)
    _op = MaxPool

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    __doc__ = _doc("Max", 2, "MaxPooling2D", _MAX_SAME)
    _op = MaxPool

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    __doc__ = _doc("Max", 3, "MaxPooling3D", _MAX_SAME)
    _op = MaxPool

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    __doc__ = _doc("Average", 1, "AveragePooling1D", _AVG_SAME)
    _op = AveragePool

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    __doc__ = _doc("Average", 2, "AveragePooling2D", _AVG_SAME)
    _op = AveragePool

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling):
    __doc__ = _doc("Average", 3, "AveragePooling3D", _AVG_SAME)
    _op = AveragePool

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class BaseGlobalPooling(ShapedLayer):
    """The mean or maximum over all spatial axes (the base of the Global*Pooling layers).

    Args:
        rank: the number of spatial axes.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with size 1.
    """

    _reduce: Any = None

    def __init__(self, rank: int, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = normalize_data_format(
            image_data_format() if data_format is None else data_format,
            f"{type(self).__name__} layer {self.name!r}")
        self.keepdims = bool(keepdims)

    def _axes(self) -> tuple:
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, shape)
        return shape

    def build(self, input_shape: Any) -> None:
        self._check_shape(input_shape)
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, channels)``, or with ``keepdims`` the spatial axes as 1s."""
        shape = self._check_shape(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        if inputs.ndim != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, inputs.shape)
        return type(self)._reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


_GLOBAL_DOC = """The {kind} over all {what} of each channel (Keras's ``{name}``).

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes, with size 1; default False.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        ``{layout}`` (or channels first).

    Output shape:
        ``(batch, channels)``, or with ``keepdims`` the input's rank with 1s.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.{name}()(np.ones({example})).shape
        {result}
    """


def _gdoc(kind, rank, name):
    what = {1: "time steps", 2: "pixels", 3: "voxels"}[rank]
    layout = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
              3: "(batch, depth, height, width, channels)"}[rank]
    example = {1: "(2, 7, 3)", 2: "(2, 5, 5, 8)", 3: "(1, 2, 3, 4, 2)"}[rank]
    result = {1: "(2, 3)", 2: "(2, 8)", 3: "(1, 2)"}[rank]
    return _GLOBAL_DOC.format(kind=kind, what=what, name=name, layout=layout, example=example,
                              result=result)


class GlobalAveragePooling1D(BaseGlobalPooling):
    __doc__ = _gdoc("mean", 1, "GlobalAveragePooling1D").rstrip() + """

    With a time-step mask (``Embedding(mask_zero=True)`` before it, or ``mask=``), the
    mean is over the unmasked steps only, as in Keras; the output carries no mask.

    Example:
        >>> x = np.arange(12.0, dtype="float32").reshape(1, 4, 3)
        >>> mask = np.array([[True, True, False, False]])
        >>> cr.layers.GlobalAveragePooling1D()(x, mask=mask).numpy()
        array([[1.5, 2.5, 3.5]], dtype=float32)
    """
    _reduce = staticmethod(ops.mean)
    supports_masking = True

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(1, data_format, keepdims, **kwargs)

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        if mask is None:
            return super().call(inputs, training=training)
        if inputs.ndim != 3:
            raise rank_error(self, 1, self.data_format, inputs.shape)
        channels_last = self.data_format == "channels_last"
        steps = 1 if channels_last else 2
        keep = ops.expand_dims(ops.cast(mask, "bool"), 2 if channels_last else 1)
        total = ops.sum(ops.where(keep, inputs, 0.0), axis=steps, keepdims=self.keepdims)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=steps, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """None: the time axis the mask described is pooled away."""
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    __doc__ = _gdoc("mean", 2, "GlobalAveragePooling2D")
    _reduce = staticmethod(ops.mean)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    __doc__ = _gdoc("mean", 3, "GlobalAveragePooling3D")
    _reduce = staticmethod(ops.mean)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(3, data_format, keepdims, **kwargs)


class GlobalMaxPooling1D(BaseGlobalPooling):
    __doc__ = _gdoc("maximum", 1, "GlobalMaxPooling1D")
    _reduce = staticmethod(ops.max)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(1, data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    __doc__ = _gdoc("maximum", 2, "GlobalMaxPooling2D")
    _reduce = staticmethod(ops.max)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    __doc__ = _gdoc("maximum", 3, "GlobalMaxPooling3D")
    _reduce = staticmethod(ops.max)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(3, data_format, keepdims, **kwargs)


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)

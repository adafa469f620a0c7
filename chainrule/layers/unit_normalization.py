"""``UnitNormalization`` (L2 norm 1 along axes) and ``RMSNormalization`` (Keras 3.9+)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer

__all__ = ["UnitNormalization", "RMSNormalization"]


def _axis_arg(axis: Any, layer: str) -> Any:
    """An int, or a list of ints (Keras keeps a tuple as a list)."""
    def is_int(a: Any) -> bool:
        return isinstance(a, (int, np.integer)) and not isinstance(a, bool)

    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise TypeError(f"{layer}: axis must be an int or a non-empty list/tuple of ints. "
                    f"Received: axis={axis!r}")


def _positive_axes(axis: Any, rank: int, layer: Layer, shape: Sequence[Any]) -> tuple:
    """The axes as sorted non-negative ints, or the error naming the layer."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}): axis {a} is out '
                             f"of bounds for an input of shape {tuple(shape)}. Received: "
                             f"axis={axis}")
    return tuple(sorted({a % rank for a in axes}))


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm along ``axis``: ``x / max(||x||, 1e-12)``.

    Args:
        axis: the axis or axes to normalise across (default -1, the features).
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.UnitNormalization()(np.array([[3.0, 4.0], [0.0, 0.0]])).numpy().tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """

    supports_masking = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axis_arg(axis, "UnitNormalization")

    def build(self, input_shape: Any) -> None:
        _positive_axes(self.axis, len(input_shape), self, input_shape)
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        axes = _positive_axes(self.axis, inputs.ndim, self, inputs.shape)
        return ops.normalize(inputs, axis=axes, order=2, epsilon=1e-12)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape (after checking ``axis`` against it)."""
        _positive_axes(self.axis, len(input_shape), self, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class RMSNormalization(Layer):
    """Root-mean-square normalisation: ``x * rsqrt(mean(x², axis) + epsilon) * scale``.

    Unlike ``LayerNormalization`` it neither subtracts the mean nor adds an
    offset (Zhang & Sennrich, 2019); ``scale`` (initialised to ones) is learned.

    Args:
        axis: the axis or axes to normalise across (default -1).
        epsilon: added to the mean square (default 1e-6).
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Weights:
        ``scale`` of shape ``(input_shape[a] for a in sorted(axis))``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.RMSNormalization()
        >>> layer(np.array([[1.0, 1.0, 1.0, 1.0], [2.0, -2.0, 2.0, -2.0]])).numpy().round(3)
        array([[ 1.,  1.,  1.,  1.],
               [ 1., -1.,  1., -1.]], dtype=float32)
        >>> layer.scale.shape
        (4,)
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-6,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axis_arg(axis, "RMSNormalization")
        if isinstance(epsilon, bool) or not isinstance(
                epsilon, (int, float, np.integer, np.floating)) or not 0 <= epsilon < np.inf:
            raise ValueError("RMSNormalization: epsilon must be a non-negative number. "
                             f"Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.scale: Any = None

    def build(self, input_shape: Any) -> None:
        axes = _positive_axes(self.axis, len(input_shape), self, input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f'Layer "{self.name}" (RMSNormalization) needs the sizes of the '
                             f"normalised axes {list(axes)} to be known. Received: "
                             f"input_shape={tuple(input_shape)}")
        self.scale = self.add_weight(tuple(int(d) for d in shape), "ones", name="scale")
        # Keras keeps the axes as a sorted list once built (and so in the config)
        self.axis = [self.axis] if isinstance(self.axis, int) else sorted(self.axis)
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        axes = _positive_axes(self.axis, inputs.ndim, self, inputs.shape)
        want = tuple(inputs.shape[a] for a in axes)
        if want != tuple(self.scale.shape):
            raise ValueError(f'Layer "{self.name}" (RMSNormalization) was built for axes of '
                             f"sizes {tuple(self.scale.shape)}. Received: inputs of shape "
                             f"{tuple(inputs.shape)}")
        x = inputs if inputs.dtype.kind == "f" else ops.cast(inputs, "float32")
        inv_rms = ops.rsqrt(ops.mean(ops.square(x), axis=axes, keepdims=True) + self.epsilon)
        scale = self.scale
        if axes != tuple(range(x.ndim - len(axes), x.ndim)):  # not the trailing axes
            scale = ops.reshape(scale, tuple(x.shape[i] if i in axes else 1
                                             for i in range(x.ndim)))
        return x * inv_rms * scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape (after checking ``axis`` against it)."""
        _positive_axes(self.axis, len(input_shape), self, input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config

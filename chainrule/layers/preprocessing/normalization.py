"""``Normalization``: shift and scale features by a mean and variance learned with ``adapt``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.layers.base import Layer, touch_structure
from chainrule.layers.preprocessing._utils import adapt_batches, is_single_batch

__all__ = ["Normalization"]


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), epsilon)`` per feature (Keras's ``Normalization``).

    The mean and variance come from the constructor, or from :meth:`adapt`
    on data; an adapted layer keeps them as its non-trainable weights
    ``mean``, ``variance`` and ``count`` (saved with the model), as Keras does.

    Args:
        axis: the axis or axes that keep their own statistics (default the
            last: one mean per feature); ``None`` for one mean over everything.
        mean: a fixed mean (broadcast over the kept axes); needs ``variance``.
        variance: a fixed variance, of ``mean``'s shape.
        invert: apply the inverse, ``mean + x * max(sqrt(variance), epsilon)``.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        Any; the kept axes must have a known size.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.Normalization()
        >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> layer(np.array([[1.0, 20.0]])).numpy()
        array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis is None:
            axes: tuple = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axes = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axes = tuple(int(a) for a in axis)
        else:
            raise ValueError("Normalization: axis must be an integer, a tuple of integers or "
                             f"None. Received: axis={axis!r}")
        self.axis = axes
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: when setting values directly, both mean and "
                             f"variance must be set. Received: mean={mean!r} and "
                             f"variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("Normalization: mean and variance must have the same shape. "
                                 f"Received: mean of shape {np.shape(mean)} and variance of "
                                 f"shape {np.shape(variance)}")
            if np.ndim(mean) > len(axes):
                raise ValueError(
                    f"Normalization: the rank of mean must be at most the number of axes "
                    f"({len(axes)}). Received: mean of shape {np.shape(mean)} for "
                    f"axis={axes}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.mean: Any = None
        self.variance: Any = None
        self._keep_axis: tuple = ()
        self._reduce_axis: tuple = ()
        self._broadcast_shape: tuple = ()
        self._stat_shape: tuple = ()

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f'Normalization layer "{self.name}": all axis values must be in [-ndim, ndim). '
                f"Received: axis={self.axis} for inputs of shape {shape}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        for d in keep:
            if shape[d] is None:
                raise ValueError(
                    f'Normalization layer "{self.name}": the axes to keep must have a known '
                    f"size. Received: axis={self.axis} and input_shape={shape}")
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(int(shape[d]) if d in keep else 1 for d in range(ndim))
        self._stat_shape = tuple(int(shape[d]) for d in keep)
        self._build_input_shape = shape
        if self.input_mean is None:
            self.mean = self.add_weight(self._stat_shape, "zeros", trainable=False, name="mean")
            self.variance = self.add_weight(self._stat_shape, "ones", trainable=False,
                                            name="variance")
            self.count = self.add_weight((), "zeros", dtype="int64", trainable=False,
                                         name="count")
        else:
            dt = self.dtype or backend.floatx()
            self.mean = self._fixed(self.input_mean, ndim, dt)
            self.variance = self._fixed(self.input_variance, ndim, dt)
        self.built = True

    def _fixed(self, value: Any, ndim: int, dtype: str) -> Any:
        """A fixed mean or variance broadcast to the shape the call uses."""
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim:
            expanded = [1] * ndim
            for i in range(1, arr.ndim + 1):
                expanded[self._keep_axis[-i]] = arr.shape[-i]
            arr = arr.reshape(expanded)
        return backend.as_array(np.broadcast_to(arr, self._broadcast_shape).astype(dtype))

    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        """Learn the mean and variance of ``data`` (Keras's formula, batch by batch).

        An array is reduced in one pass; an iterable of batches (or an array
        with ``batch_size``) is combined batch after batch as Keras does: with
        weights ``w = n_batch / n_total``, the new mean is ``(1 - w) m + w
        m_batch`` and the variance ``(1 - w) (v + (m - m_new)^2) + w (v_batch +
        (m_batch - m_new)^2)``.

        Args:
            data: an array, or an iterable of batches (``(x, y)`` pairs give ``x``).
            batch_size: read an array in batches of this many rows.
            steps: read at most this many batches.

        Raises:
            ValueError: for empty data, or data whose kept axes differ from
                the ones the layer was built for.
        """
        batches = adapt_batches(data, f'Normalization layer "{self.name}"', steps, batch_size,
                                lists_are_data=False)  # Keras: a list is a list of batches
        if batch_size is None and is_single_batch(data, lists_are_data=False):
            batch = np.asarray(next(batches), dtype=np.float64)
            self._adapt_check(batch.shape)
            total_mean = batch.mean(axis=self._reduce_axis)
            total_var = batch.var(axis=self._reduce_axis)
        else:
            total_mean = total_var = None
            total = 0
            for batch in batches:
                batch = np.asarray(batch, dtype=np.float64)
                self._adapt_check(batch.shape)
                if total_mean is None:
                    total_mean = np.zeros(self._stat_shape)
                    total_var = np.zeros(self._stat_shape)
                axes = self._reduce_axis
                b_mean, b_var = batch.mean(axis=axes), batch.var(axis=axes)
                total += math.prod(batch.shape[d] for d in axes) if axes else 1
                w = (math.prod(batch.shape[d] for d in axes) if axes else 1) / total
                new_mean = total_mean * (1 - w) + b_mean * w
                total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                    b_var + (b_mean - new_mean) ** 2) * w
                total_mean = new_mean
        self.mean.assign(np.asarray(total_mean).astype(self.mean.dtype))
        self.variance.assign(np.asarray(total_var).astype(self.variance.dtype))
        touch_structure()

    def _adapt_check(self, shape: tuple) -> None:
        label = f'Normalization layer "{self.name}"'
        if self.input_mean is not None:
            raise ValueError(f"{label} was given a fixed mean and variance; it cannot be "
                             f"adapted. Received: mean={self.input_mean!r}")
        if not self.built:
            self.build((None,) + tuple(shape[1:]) if len(shape) > 1 else tuple(shape))
            self._build_shape = (None,) + tuple(shape[1:]) if len(shape) > 1 else tuple(shape)
            return
        built = self._build_input_shape
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError(
                f"{label} was built for inputs of shape {tuple(built)}, but adapt() received "
                f"data of an incompatible shape. Received: data of shape {tuple(shape)}")

    def call(self, inputs: Any, training: Any = None) -> Any:
        if inputs.dtype.kind != "f":
            inputs = ops.cast(inputs, self.dtype or backend.floatx())
        mean, variance = self.mean, self.variance
        if self.input_mean is None:
            mean = ops.reshape(mean, self._broadcast_shape)
            variance = ops.reshape(variance, self._broadcast_shape)
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, scale))
        return ops.divide(ops.subtract(inputs, mean), scale)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": list(self.axis),
            "invert": self.invert,
            "mean": None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
            "variance": None if self.input_variance is None else np.asarray(
                self.input_variance).tolist(),
        })
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Normalization":
        config = dict(config)
        if isinstance(config.get("axis"), list):
            config["axis"] = tuple(config["axis"])
        return cls(**config)


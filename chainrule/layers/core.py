"""Core layers: Input, Dense, Flatten, Activation, Dropout, Reshape, LeakyReLU, ReLU, Softmax."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import (
    KerasTensor,
    Layer,
    Node,
    activity_penalty,
    shape_fits,
    unique_name,
    warn_deprecated,
)

__all__ = [
    "InputLayer", "Input", "Dense", "Flatten", "Activation", "Dropout", "Reshape",
    "LeakyReLU", "ReLU", "Softmax",
]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _shape_tuple(shape: Any, name: str) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not all(
        d is None or (isinstance(d, (int, np.integer)) and d >= 0) for d in shape
    ):
        raise ValueError(f"{name} must be a tuple of non-negative integers or None. "
                         f"Received: {name}={shape!r}")
    return tuple(None if d is None else int(d) for d in shape)


class InputLayer(Layer):
    """The entry point of a functional model; holds the shape of one batch.

    Args:
        shape: shape of one sample (without the batch), e.g. ``(784,)``.
        batch_size: optional fixed batch size.
        dtype: the input's dtype (default floatx).
        batch_shape: the full shape including the batch, instead of ``shape``.
        name: the layer's name (default ``input_layer``, numbered).
    """

    def __init__(self, shape: Sequence[int] | None = None, batch_size: int | None = None,
                 dtype: Any = None, batch_shape: Sequence[Any] | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("sparse", None)
        kwargs.pop("ragged", None)
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        if dtype is None:  # Keras: an input's dtype is floatx, whatever the dtype policy
            self.dtype = None
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs shape= (the shape of one sample). "
                                 "Received: shape=None")
            batch_shape = (batch_size,) + _shape_tuple(shape, "shape")
        self._batch_input_shape = _shape_tuple(batch_shape, "batch_shape")
        self.built = True
        self._output_shape = self._batch_input_shape
        kt = KerasTensor(self._batch_input_shape, dtype=self.dtype or backend.floatx(),
                         name=self.name)
        node = Node(self, [], [kt], {})
        kt.node = node
        self._inbound_nodes.append(node)
        self.output_tensor = kt

    def call(self, inputs: Any, training: Any = None) -> Any:
        return inputs

    def get_config(self) -> dict:
        """``batch_shape``, ``dtype`` (a name, floatx when none was given, as Keras writes
        an input's) and ``name``."""
        return {"batch_shape": list(self._batch_input_shape),
                "dtype": self.dtype or backend.floatx(), "name": self.name}


def Input(shape: Sequence[int] | None = None, batch_size: int | None = None,  # noqa: N802
          dtype: Any = None, name: str | None = None,
          batch_shape: Sequence[Any] | None = None, **kwargs: Any) -> KerasTensor:
    """Create a symbolic input for the Functional API.

    Args:
        shape: shape of one sample, e.g. ``(784,)`` (the batch is ``None``).
        batch_size: optional fixed batch size.
        dtype: the input's dtype.
        name: a name for the input.
        batch_shape: the full shape including the batch, instead of ``shape``.

    Returns:
        A :class:`KerasTensor` to call layers on.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input(shape=(4,))
        >>> y = cr.layers.Dense(2)(x)
        >>> model = cr.models.Model(x, y)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape, **kwargs)
    return layer.output_tensor


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)``.

    Args:
        units: the number of outputs.
        activation: name or function (default: linear).
        use_bias: whether to add a bias.
        kernel_initializer: default ``'glorot_uniform'``.
        bias_initializer: default ``'zeros'``.
        kernel_regularizer: optional penalty on the kernel.
        bias_regularizer: optional penalty on the bias.
        activity_regularizer: optional penalty on the output.
        kernel_constraint: optional constraint (a name, a Constraint or a function)
            applied to the kernel after updates.
        bias_constraint: optional constraint applied to the bias after updates.
        **kwargs: layer arguments (``name``, ``input_shape``, ``input_dim``...).
            The Keras 1 spelling ``init='uniform'`` is accepted as
            ``kernel_initializer`` with a DeprecationWarning.

    Input shape:
        ``(batch, ..., input_dim)``.

    Output shape:
        ``(batch, ..., units)``.

    Weights:
        ``kernel`` of shape ``(input_dim, units)`` then ``bias`` of shape ``(units,)``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.Dense(3, input_dim=2, activation="sigmoid")
        >>> layer(np.ones((4, 2))).shape
        (4, 3)
    """

    supports_masking = True  # passes a time-step mask on (Keras)

    def __init__(self, units: int | None = None, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        from chainrule import activations, constraints, initializers, regularizers  # noqa: PLC0415

        if "init" in kwargs:
            warn_deprecated("Dense(init=...)", "Dense(kernel_initializer=...)")
            kernel_initializer = kwargs.pop("init")
        if "output_dim" in kwargs:
            warn_deprecated("Dense(output_dim=...)", "Dense(units=...)")
            units = kwargs.pop("output_dim")
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel: Any = None
        self.bias: Any = None

    def build(self, input_shape: Any) -> None:
        in_dim = input_shape[-1] if len(input_shape) else None
        if in_dim is None:
            raise ValueError(
                f"The last dimension of the input to Dense layer {self.name!r} must be known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight((int(in_dim), self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        if getattr(inputs, "ndim", 1) == 0:
            raise ValueError(f"Dense layer {self.name!r} needs inputs with at least 1 dimension. "
                             f"Received: a scalar")

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        """Dense's check of a model's input: the last dimension must be the kernel's first.

        Inputs with more than two dimensions are refused with a hint to add a
        ``Flatten`` (the usual mistake of a first model on images).

        Args:
            shape: the batch's shape.
            declared: the model's declared input shape, or None.

        Returns:
            A ``ValueError`` naming the layer, or None.
        """
        if self.kernel is None:
            return super().incompatible_input(shape, declared)
        got = (None,) + tuple(shape[1:])
        if declared is not None:
            return None if shape_fits(declared, shape) else incompatible_input_error(
                self, 0, self.kernel.shape[0], got)
        if shape[-1] != self.kernel.shape[0] or len(shape) > 2:
            return incompatible_input_error(self, 0, self.kernel.shape[0], got)
        return None

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        kernel = self.kernel
        if inputs.shape[-1] != kernel.shape[0]:
            raise incompatible_input_error(self, 0, kernel.shape[0], inputs.shape)
        y = ops.linear(inputs, kernel, self.bias) if self.bias is not None else ops.linear(inputs, kernel)
        if self.activation is not None:
            y = self.activation(y)
        if self.activity_regularizer is not None:
            self._losses = [activity_penalty(self.activity_regularizer, y)]
        return y

    def get_config(self) -> dict:
        from chainrule import activations, constraints, regularizers  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize_initializer(self.kernel_initializer),
            "bias_initializer": _serialize_initializer(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer)
            if self.kernel_regularizer is not None else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer)
            if self.bias_regularizer is not None else None,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer)
            if self.activity_regularizer is not None else None,
        })
        config.update(constraints.layer_config(self, ("kernel_constraint", "bias_constraint")))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Dense":
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        config = constraints.from_layer_config(config)
        for key in ("kernel_initializer", "bias_initializer"):
            if isinstance(config.get(key), dict):
                config[key] = initializers.deserialize(config[key])
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            if isinstance(config.get(key), dict):
                config[key] = regularizers.deserialize(config[key])
        return cls(**config)


def _serialize_initializer(init: Any) -> Any:
    """Serialize an initializer; a plain function is stored by its name."""
    from chainrule import initializers  # noqa: PLC0415

    if init is None:  # Keras 3 keeps None: add_weight's default for the dtype
        return None
    if isinstance(init, initializers.Initializer):
        return initializers.serialize(init)
    return getattr(init, "__name__", repr(init))


def incompatible_input_error(layer: Layer, index: int, expected: int, shape: Sequence[Any]) -> ValueError:
    """The learner-facing error for an input whose last dimension does not fit the layer."""
    shape = tuple(shape)
    hint = ""
    if len(shape) > 2 and int(np.prod([d for d in shape[1:] if d is not None])) == expected:
        hint = " Did you forget a Flatten layer?"
    elif len(shape) > 2:
        hint = " The input has more than 2 dimensions: did you forget a Flatten layer?"
    return ValueError(
        f'Input {index} of layer "{layer.name}" is incompatible with the layer: expected last '
        f"dimension {expected}, received shape {shape}.{hint} Received: inputs of shape {shape}"
    )


class Flatten(Layer):
    """Flatten each sample to a vector: ``(batch, d1, d2, ...) -> (batch, d1*d2*...)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``. With
            ``"channels_first"`` the channel axis (axis 1) is moved last before flattening, so
            the result matches a channels-last model's ordering (as Keras does).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Flatten()(np.zeros((2, 28, 28))).shape
        (2, 784)
        >>> x = np.arange(8.0).reshape(1, 2, 4)
        >>> cr.layers.Flatten(data_format="channels_first")(x).numpy()[0, :4].tolist()
        [0.0, 4.0, 1.0, 5.0]
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        from chainrule.ops.conv import normalize_data_format  # noqa: PLC0415

        super().__init__(**kwargs)
        from chainrule.backend.settings import image_data_format  # noqa: PLC0415

        self.data_format = normalize_data_format(  # None: the global image_data_format
            image_data_format() if data_format is None else data_format, f"Flatten {self.name!r}")

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim == 2:
            return inputs
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0, *range(2, inputs.ndim), 1))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Activation(Layer):
    """Apply an activation function, e.g. ``Activation('relu')``."""

    supports_masking = True  # passes a time-step mask on (Keras)

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        from chainrule import activations  # noqa: PLC0415

        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict:
        from chainrule import activations  # noqa: PLC0415

        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of the inputs while training (scaled by 1/(1-rate)).

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: optional shape of the mask (broadcast to the input).
        seed: optional seed for this layer's own generator.
    """

    supports_masking = True  # passes a time-step mask on (Keras)

    def __init__(self, rate: float, noise_shape: Sequence[int] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"rate must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, self.noise_shape, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one dimension may be -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (int(target_shape),)
        if not isinstance(target_shape, (tuple, list)) or sum(1 for d in target_shape if d == -1) > 1:
            raise ValueError("target_shape must be a tuple of integers with at most one -1. "
                             f"Received: target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        n = inputs.shape[0]
        per = int(np.prod(inputs.shape[1:]))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if (-1 not in self.target_shape and known != per) or (known == 0 or per % known):
            raise ValueError(
                f"Reshape layer {self.name!r} cannot reshape samples of shape "
                f"{tuple(inputs.shape[1:])} ({per} values) into {self.target_shape}. "
                f"Received: target_shape={self.target_shape}"
            )
        return ops.reshape(inputs, (n,) + self.target_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class LeakyReLU(Layer):
    """``x`` where positive, ``negative_slope * x`` elsewhere (Keras's default slope 0.3).

    The Keras 2 spelling ``alpha=`` is accepted with a DeprecationWarning.
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            warn_deprecated("LeakyReLU(alpha=...)", "LeakyReLU(negative_slope=...)")
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if not isinstance(negative_slope, (int, float)) or negative_slope < 0:
            raise ValueError("negative_slope must be a non-negative number. "
                             f"Received: negative_slope={negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ReLU(Layer):
    """Rectified linear unit with optional ``max_value``, ``negative_slope`` and ``threshold``."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value must be non-negative. Received: max_value={max_value}")
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be non-negative. Received: negative_slope={negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if self.negative_slope == 0 and self.threshold == 0 and self.max_value is None:
            return ops.relu(inputs)
        return ops.relu_ext(inputs, self.max_value, self.negative_slope, self.threshold)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class Softmax(Layer):
    """Softmax along ``axis`` (default the last)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config

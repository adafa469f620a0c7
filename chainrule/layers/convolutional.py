"""Convolution layers: Conv1D, Conv2D and Conv3D (Keras's arguments, defaults and weights).

One base class holds the life cycle (arguments checked in ``__init__``, the kernel
``(*kernel_size, channels // groups, filters)`` then the bias made in ``build``, the
input checked there with an error naming the layer and the shapes); the computation
is one op, :func:`chainrule.ops.conv` with the bias, then the activation.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.autograd.engine import Tensor
from chainrule.backend.settings import image_data_format
from chainrule.layers.base import KerasTensor, Layer, Node, activity_penalty, shape_fits
from chainrule.ops.conv import (
    Conv,
    ConvTranspose,
    conv_output_length,
    conv_transpose_output_length,
    depthwise_conv,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    separable_conv,
)

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
           "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D",
           "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
           "SeparableConvolution2D"]

_AXES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def expected_layout(rank: int, data_format: str) -> str:
    """``(batch, height, width, channels)`` and the like, for error messages."""
    axes = ("batch",) + _AXES.get(rank, tuple(f"dim{i + 1}" for i in range(rank)))
    return "(" + ", ".join(axes[:1] + ("channels",) + axes[1:] if data_format == "channels_first"
                           else axes + ("channels",)) + ")"


def rank_error(layer: Layer, rank: int, data_format: str, shape: Sequence[Any]) -> ValueError:
    """Wrong-rank input: names the layer and the shapes, with ``x[..., None]`` where it fits."""
    shape = tuple(shape)
    want = rank + 2
    hint = ""
    if len(shape) == want - 1:
        hint = (" Add a channel axis: x[..., None]." if data_format == "channels_last"
                else " Add a channel axis: x[:, None].")
    return ValueError(
        f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
        f"{type(layer).__name__} expects {want}-D input {expected_layout(rank, data_format)}, "
        f"received shape {shape}.{hint} Received: inputs of shape {shape}")


def window_error(layer: Layer, what: str, window: tuple, shape: tuple, padding: str
                 ) -> ValueError:
    """A kernel or pool window larger than the (padded) input."""
    return ValueError(
        f'Layer "{layer.name}" ({type(layer).__name__}): the {what} {window} is larger than '
        f"the input's spatial size with padding {padding!r}, so the output would be empty. "
        f"Use a smaller {what}, padding='same', or a larger input. Received: input_shape="
        f"{shape}")


def spatial_of(shape: Sequence[Any], data_format: str) -> tuple:
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def channels_of(shape: Sequence[Any], data_format: str) -> Any:
    return shape[1] if data_format == "channels_first" else shape[-1]


def _serialize_or_none(obj: Any, serializer: Any) -> Any:
    return None if obj is None else serializer(obj)


class ShapedLayer(Layer):
    """A layer whose output shape follows from its configuration (``compute_output_shape``).

    A symbolic call whose input has unknown spatial sizes (``Input((None, 3))`` for
    sequences of any length) is answered from ``compute_output_shape`` instead of a dry
    run on a batch of size-1 axes, which a kernel wider than 1 could not take.
    """

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(inputs, KerasTensor) or None not in inputs.shape[1:]:
            return super()._symbolic_call(inputs, *args, **kwargs)
        if not self.built:
            self._maybe_build(inputs)
        out = KerasTensor((None,) + tuple(self.compute_output_shape(inputs.shape))[1:],
                          dtype=inputs.dtype, name=self.name)
        node = Node(self, [inputs], [out], kwargs)
        out.node = node
        self._inbound_nodes.append(node)
        self._output_shape = out.shape
        return out


class BaseConv(ShapedLayer):
    """The N-D convolution layer (the base of Conv1D, Conv2D and Conv3D).

    Args:
        rank: the number of spatial axes.
        filters: the number of output channels.
        kernel_size: an int or ``rank`` ints.
        strides: an int or ``rank`` ints (``> 1`` excludes ``dilation_rate > 1``).
        padding: ``"valid"``, ``"same"`` (and ``"causal"`` for Conv1D), any case.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or ``rank`` ints.
        groups: split the channels into this many groups, each convolved with
            ``filters // groups`` filters.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint:
            as for :class:`~chainrule.layers.Dense`.
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        from chainrule import activations, initializers, regularizers  # noqa: PLC0415

        super().__init__(**kwargs)
        owner = f"{type(self).__name__} layer {self.name!r}"
        self.rank = rank
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{owner}: invalid value for argument `filters`: expected a "
                             f"positive integer. Received: filters={filters!r}")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{owner}: the number of groups must be a positive integer. "
                             f"Received: groups={groups!r}")
        if filters % groups:
            raise ValueError(f"{owner}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups}, filters={filters}")
        self.filters, self.groups = int(filters), int(groups)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: `strides > 1` is not supported together with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = normalize_padding(
            padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"), owner)
        self.data_format = normalize_data_format(  # None: the global image_data_format
            image_data_format() if data_format is None else data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        from chainrule import constraints  # noqa: PLC0415

        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel: Any = None
        self.bias: Any = None

    # -- shapes ------------------------------------------------------------------------
    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, shape)
        channels = channels_of(shape, self.data_format)
        if channels is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the channel axis of '
                             f"the input must be known. Received: input_shape={shape}")
        if channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the input\'s {channels} channels '
                f"cannot be split evenly into groups={self.groups}. Received: groups="
                f"{self.groups}, input_shape={shape}")
        out = self._spatial_out(shape)
        if any(o is not None and o <= 0 for o in out):
            span = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise window_error(self, "kernel" if span == self.kernel_size else
                               "dilated kernel", span, shape, self.padding)
        return shape

    def _spatial_out(self, shape: Sequence[Any]) -> tuple:
        return tuple(conv_output_length(n, k, s, d, self.padding) for n, k, s, d in zip(
            spatial_of(shape, self.data_format), self.kernel_size, self.strides,
            self.dilation_rate))

    def _out_channels(self, channels: int) -> int:
        return self.filters

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The output shape for ``input_shape`` (batch first; ``None`` sizes stay ``None``).

        Raises:
            ValueError: naming the layer, for an input it cannot take.
        """
        shape = self._check_shape(input_shape)
        out = self._spatial_out(shape)
        f = self._out_channels(int(channels_of(shape, self.data_format)))
        if self.data_format == "channels_first":
            return (shape[0], f) + out
        return (shape[0],) + out + (f,)

    def build(self, input_shape: Any) -> None:
        shape = self._check_shape(input_shape)
        self._make_weights(int(channels_of(shape, self.data_format)))
        self.built = True

    def _make_weights(self, channels: int) -> None:
        self.kernel = self.add_weight(
            self.kernel_size + (channels // self.groups, self.filters), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            name="kernel")
        self._make_bias(self.filters)

    def _make_bias(self, size: int) -> None:
        """The ``(size,)`` bias every convolution makes when ``use_bias`` (Keras's order: last)."""
        if self.use_bias:
            self.bias = self.add_weight((size,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")

    def _rank_then_shape(self, shape: Sequence[Any], declared: Sequence[Any] | None
                         ) -> ValueError | None:
        """The rank (with the channel-axis hint), then :class:`Layer`'s shape check."""
        if len(shape) != self.rank + 2:
            return rank_error(self, self.rank, self.data_format, (None,) + tuple(shape[1:]))
        return Layer.incompatible_input(self, shape, declared)

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        """A model's first-layer check: the rank (with the channel-axis hint), then the shape.

        Args:
            shape: the batch's shape.
            declared: the model's declared input shape, or None.

        Returns:
            A ``ValueError`` naming the layer, or None.
        """
        if len(shape) != self.rank + 2:
            return rank_error(self, self.rank, self.data_format, (None,) + tuple(shape[1:]))
        want = self.weights[0].shape[-2] * self.groups if self.weights else None
        if want is not None and declared is None:
            c = channels_of(shape, self.data_format)
            if c != want:
                got = (None,) + tuple(shape[1:])
                return ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                    f"{want} channels, received shape {got}. Received: inputs of shape {got}")
        if declared is not None and not shape_fits(declared, shape):
            return super().incompatible_input(shape, declared)
        return None

    # -- computing ---------------------------------------------------------------------
    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, inputs.shape)
        y = self._convolve(inputs)
        if self.activation is not None:
            y = self.activation(y)
        if self.activity_regularizer is not None:
            self._losses = [activity_penalty(self.activity_regularizer, y)]
        return y

    def _convolve(self, inputs: Tensor) -> Tensor:
        if type(self).convolution_op is not BaseConv.convolution_op:  # a subclass's own op
            y = self.convolution_op(inputs, self.kernel)
            if self.bias is None:
                return y
            from chainrule import ops  # noqa: PLC0415

            shape = ((1, -1) + (1,) * self.rank if self.data_format == "channels_first"
                     else (-1,))
            return ops.add(y, ops.reshape(self.bias, shape))
        fn = Conv(self.strides, self.padding, self.dilation_rate,
                  self.data_format == "channels_first")
        return fn(inputs, self.kernel) if self.bias is None else fn(inputs, self.kernel, self.bias)

    def convolution_op(self, inputs: Any, kernel: Any) -> Tensor:
        """The layer's convolution of ``inputs`` with ``kernel``, without bias or activation.

        Keras's hook on ``Conv1D``/``Conv2D``/``Conv3D``: a subclass that overrides it
        changes the operation the layer computes (``call`` then adds the bias and applies
        the activation), and a subclass's own ``call`` may call it with another kernel
        (a standardized one, say). Write an override with ``chainrule.ops``.

        Args:
            inputs: the input batch, ``(batch, *spatial, channels)`` (channels last).
            kernel: a kernel of the layer's kernel shape.

        Returns:
            The convolution, with the layer's strides, padding and dilation.

        Example:
            >>> import numpy as np
            >>> import chainrule as cr
            >>> layer = cr.layers.Conv2D(2, 3)
            >>> x = np.ones((1, 5, 5, 1), "float32")
            >>> y = layer(x)
            >>> layer.convolution_op(x, layer.kernel).shape
            (1, 3, 3, 2)
        """
        fn = Conv(self.strides, self.padding, self.dilation_rate,
                  self.data_format == "channels_first")
        return fn(inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs)), kernel)

    # -- configuration -----------------------------------------------------------------
    def get_config(self) -> dict:
        from chainrule import activations, constraints, regularizers  # noqa: PLC0415
        from chainrule.layers.core import _serialize_initializer  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize_initializer(self.kernel_initializer),
            "bias_initializer": _serialize_initializer(self.bias_initializer),
            "kernel_regularizer": _serialize_or_none(self.kernel_regularizer,
                                                     regularizers.serialize),
            "bias_regularizer": _serialize_or_none(self.bias_regularizer, regularizers.serialize),
            "activity_regularizer": _serialize_or_none(self.activity_regularizer,
                                                       regularizers.serialize),
        })
        config.update(constraints.layer_config(self, ("kernel_constraint", "bias_constraint")))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "BaseConv":
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        config = constraints.from_layer_config(config)
        for key, value in config.items():
            if key.endswith("_initializer") and isinstance(value, dict):
                config[key] = initializers.deserialize(value)
            elif key.endswith("_regularizer") and isinstance(value, dict):
                config[key] = regularizers.deserialize(value)
        for key in ("kernel_size", "strides", "dilation_rate", "output_padding"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        return cls(**config)


class Conv1D(BaseConv):
    """1-D convolution over time steps (Keras's ``Conv1D``).

    Args:
        filters: the number of output channels.
        kernel_size: an int (or a tuple of one).
        strides: an int; default 1.
        padding: ``"valid"`` (default), ``"same"`` or ``"causal"`` (the output at
            step ``t`` sees only steps ``<= t``: WaveNet's dilated causal convolutions).
        data_format: ``"channels_last"`` (default: ``(batch, steps, channels)``) or
            ``"channels_first"``.
        dilation_rate: an int; default 1.
        groups: channel groups; default 1.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint:
            as for :class:`~chainrule.layers.Dense`.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        ``(batch, steps, channels)`` (or ``(batch, channels, steps)``).

    Output shape:
        ``(batch, new_steps, filters)`` (or ``(batch, filters, new_steps)``).

    Weights:
        ``kernel`` of shape ``(kernel_size, channels // groups, filters)``, then ``bias``
        of shape ``(filters,)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
        >>> layer(np.zeros((2, 10, 3))).shape
        (2, 10, 4)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution over images (Keras's ``Conv2D``).

    Args:
        filters: the number of output channels.
        kernel_size: an int or ``(kh, kw)``.
        strides: an int or ``(sh, sw)``; default 1.
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default: ``(batch, height, width, channels)``)
            or ``"channels_first"``.
        dilation_rate: an int or ``(dh, dw)``; default 1.
        groups: channel groups; default 1.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint:
            as for :class:`~chainrule.layers.Dense`.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        ``(batch, height, width, channels)`` (or ``(batch, channels, height, width)``).

    Output shape:
        ``(batch, new_height, new_width, filters)`` (or channels first).

    Weights:
        ``kernel`` of shape ``(kh, kw, channels // groups, filters)``, then ``bias`` of
        shape ``(filters,)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.Conv2D(32, 3, activation="relu")
        >>> layer(np.zeros((2, 28, 28, 1))).shape
        (2, 26, 26, 32)
        >>> layer.count_params()
        320
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv3D(BaseConv):
    """3-D convolution over volumes (Keras's ``Conv3D``); arguments as for :class:`Conv2D`.

    Input shape:
        ``(batch, depth, height, width, channels)`` (or channels first).

    Weights:
        ``kernel`` of shape ``(kd, kh, kw, channels // groups, filters)``, then ``bias``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.Conv3D(2, 2)(np.zeros((1, 3, 4, 5, 1))).shape
        (1, 2, 3, 4, 2)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1, 1), groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D


class BaseConvTranspose(BaseConv):
    """The N-D transposed convolution layer (the base of Conv1DTranspose ... Conv3DTranspose).

    Arguments as for :class:`BaseConv` without ``groups``, plus ``output_padding``: None
    (inferred) or, per axis, extra rows at the end of the output (each below its stride).
    The kernel is ``(*kernel_size, filters, channels)``.
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            owner = f"{type(self).__name__} layer {self.name!r}"
            self.output_padding = normalize_tuple(output_padding, rank, "output_padding", owner,
                                                  allow_zero=True)
            if any(o >= st for o, st in zip(self.output_padding, self.strides)):
                raise ValueError(f"{owner}: every value of `output_padding` must be smaller than "
                                 f"the stride {self.strides}. Received: output_padding="
                                 f"{output_padding!r}")

    def _spatial_out(self, shape: Sequence[Any]) -> tuple:
        op = self.output_padding or (None,) * self.rank
        return tuple(conv_transpose_output_length(n, k, s, d, self.padding, o)
                     for n, k, s, d, o in zip(spatial_of(shape, self.data_format),
                                              self.kernel_size, self.strides,
                                              self.dilation_rate, op))

    def _make_weights(self, channels: int) -> None:
        self.kernel = self.add_weight(
            self.kernel_size + (self.filters, channels), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            name="kernel")
        self._make_bias(self.filters)

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        return self._rank_then_shape(shape, declared)

    def _convolve(self, inputs: Tensor) -> Tensor:
        fn = ConvTranspose(self.strides, self.padding, self.dilation_rate, self.output_padding,
                           self.data_format == "channels_first")
        return fn(inputs, self.kernel) if self.bias is None else fn(inputs, self.kernel, self.bias)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution (Keras's ``Conv1DTranspose``), e.g. to upsample sequences.

    Input shape ``(batch, steps, channels)``; output ``(batch, new_steps, filters)`` with
    ``new_steps = steps * strides`` (``"same"``) or ``steps * strides + max(kernel_size -
    strides, 0)`` (``"valid"``). Weights: ``kernel`` ``(kernel_size, filters, channels)``,
    then ``bias`` ``(filters,)``. Other arguments as for :class:`Conv1D` (no ``groups``),
    plus ``output_padding``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.Conv1DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 5, 3))).shape
        (2, 10, 4)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution (Keras's ``Conv2DTranspose``): a learned upsampling.

    Input shape ``(batch, height, width, channels)``; output ``(batch, new_height,
    new_width, filters)``, each axis ``size * stride`` (``"same"``) or ``size * stride +
    max(k - stride, 0)`` (``"valid"``). Weights: ``kernel`` ``(kh, kw, filters, channels)``,
    then ``bias`` ``(filters,)``. Other arguments as for :class:`Conv2D` (no ``groups``),
    plus ``output_padding``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.Conv2DTranspose(8, 3, strides=2, padding="same")
        >>> layer(np.zeros((2, 7, 7, 16))).shape, layer.kernel.shape
        ((2, 14, 14, 8), (3, 3, 8, 16))
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = (1, 1),
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution (Keras's ``Conv3DTranspose``); as :class:`Conv2DTranspose`.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.Conv3DTranspose(2, 2, strides=2)(np.zeros((1, 2, 2, 2, 3))).shape
        (1, 4, 4, 4, 2)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1, 1),
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = (1, 1, 1),
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


def _check_depth_multiplier(layer: Layer, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{type(layer).__name__} layer {layer.name!r}: `depth_multiplier` must "
                         f"be a positive integer. Received: depth_multiplier={value!r}")
    return int(value)


class BaseDepthwiseConv(BaseConv):
    """Each input channel convolved on its own with ``depth_multiplier`` filters.

    The kernel (named ``kernel``, as in Keras) is ``(*kernel_size, channels,
    depth_multiplier)``; the output has ``channels * depth_multiplier`` channels.
    """

    def __init__(self, rank: int, depth_multiplier: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(rank, 1, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _check_depth_multiplier(self, depth_multiplier)

    def _out_channels(self, channels: int) -> int:
        return channels * self.depth_multiplier

    def _make_weights(self, channels: int) -> None:
        self.kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            name="kernel")
        self._make_bias(channels * self.depth_multiplier)

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        return self._rank_then_shape(shape, declared)

    def _convolve(self, inputs: Tensor) -> Tensor:
        return depthwise_conv(inputs, self.kernel, self.strides, self.padding, self.data_format,
                              self.dilation_rate, bias=self.bias)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        config["depth_multiplier"] = self.depth_multiplier
        for part in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{part}"] = config.pop(f"kernel_{part}")
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution (Keras's ``DepthwiseConv1D``).

    Input ``(batch, steps, channels)``; output ``(batch, new_steps, channels *
    depth_multiplier)``. Weights: ``kernel`` ``(kernel_size, channels, depth_multiplier)``,
    then ``bias``. Other arguments as for :class:`Conv1D`, with ``depthwise_initializer``,
    ``depthwise_regularizer`` and ``depthwise_constraint`` for the kernel's.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.DepthwiseConv1D(3, depth_multiplier=2)(np.zeros((2, 8, 4))).shape
        (2, 6, 8)
    """

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution (Keras's ``DepthwiseConv2D``): MobileNet's spatial filter.

    Input ``(batch, height, width, channels)``; output ``(batch, new_height, new_width,
    channels * depth_multiplier)``. Weights: ``kernel`` ``(kh, kw, channels,
    depth_multiplier)``, then ``bias``. Other arguments as for :class:`Conv2D`, with
    ``depthwise_initializer``, ``depthwise_regularizer`` and ``depthwise_constraint``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.DepthwiseConv2D(3, padding="same")
        >>> layer(np.zeros((2, 8, 8, 16))).shape, layer.count_params()
        ((2, 8, 8, 16), 160)
    """

    def __init__(self, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = (1, 1), activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class BaseSeparableConv(BaseConv):
    """A depthwise convolution, then a pointwise (1×1) one mixing the channels.

    Weights: ``depthwise_kernel`` ``(*kernel_size, channels, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, ..., 1, channels * depth_multiplier, filters)``, ``bias``.
    """

    def __init__(self, rank: int, depth_multiplier: int, filters: int, kernel_size: Any,
                 strides: Any = 1, padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _check_depth_multiplier(self, depth_multiplier)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_kernel: Any = None
        self.pointwise_kernel: Any = None

    def _make_weights(self, channels: int) -> None:
        mid = channels * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
            name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (mid, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint,
            name="pointwise_kernel")
        self._make_bias(self.filters)

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        return self._rank_then_shape(shape, declared)

    def _convolve(self, inputs: Tensor) -> Tensor:
        return separable_conv(inputs, self.depthwise_kernel, self.pointwise_kernel, self.strides,
                              self.padding, self.data_format, self.dilation_rate, bias=self.bias)

    def get_config(self) -> dict:
        from chainrule import constraints, regularizers  # noqa: PLC0415
        from chainrule.layers.core import _serialize_initializer  # noqa: PLC0415

        config = super().get_config()
        del config["groups"]
        config["depth_multiplier"] = self.depth_multiplier
        for part in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{part}"] = config.pop(f"kernel_{part}")
        config["pointwise_initializer"] = _serialize_initializer(self.pointwise_initializer)
        config["pointwise_regularizer"] = _serialize_or_none(self.pointwise_regularizer,
                                                             regularizers.serialize)
        config.update(constraints.layer_config(self, ("pointwise_constraint",)))
        return config


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution (Keras's ``SeparableConv1D``).

    Arguments as for :class:`Conv1D` (no ``groups``), plus ``depth_multiplier`` and the
    ``depthwise_*``/``pointwise_*`` initializers, regularizers and constraints.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.SeparableConv1D(5, 3)
        >>> layer(np.zeros((2, 8, 4))).shape, [w.shape for w in layer.weights]
        ((2, 6, 5), [(3, 4, 1), (1, 4, 5), (5,)])
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2-D separable convolution (Keras's ``SeparableConv2D``): Xception's building block.

    Arguments as for :class:`Conv2D` (no ``groups``), plus ``depth_multiplier`` and the
    ``depthwise_*``/``pointwise_*`` initializers, regularizers and constraints.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.SeparableConv2D(8, 3, padding="same")
        >>> layer(np.zeros((2, 6, 6, 4))).shape, layer.count_params()
        ((2, 6, 6, 8), 76)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), depth_multiplier: int = 1, activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

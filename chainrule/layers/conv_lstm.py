"""Convolutional LSTM layers: ``ConvLSTM1D``, ``ConvLSTM2D`` and ``ConvLSTM3D`` (Keras 3's).

An LSTM whose input and recurrent transformations are convolutions (Shi et al., 2015):
every time step is a frame (a sequence, an image or a volume), and the states ``h`` and
``c`` are feature maps. With Keras's gates ``i, f, c, o`` stacked on the kernels' last
axis,

``z = conv(x_t, W) + b + conv(h, R)`` (the recurrent convolution always ``'same'``,
stride 1), ``i, f, o = recurrent_activation(z_i, z_f, z_o)``,
``c = f * c_prev + i * activation(z_c)``, ``h = o * activation(c)``.

Everything is composed from ops (:class:`chainrule.ops.conv.Conv`, elementwise ops and
activations), so the gradient is the ops' own and a captured step replays it. The
input convolution of all the steps is one call on the ``(batch * time)`` frames (it does
not depend on the state); each step then adds one convolution of the state.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.backend.scoping import nested_path
from chainrule.layers.base import activity_penalty
from chainrule.layers.rnn import RNN, _Cell, _deserialize, _ser_reg, _states_list
from chainrule.ops.conv import (
    Conv,
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)

__all__ = ["ConvLSTMCell", "ConvLSTM", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_AXES = {1: ("rows",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}
_GATES = 4


def _layout(rank: int, data_format: str) -> str:
    """``(batch, time, rows, cols, channels)`` and the like, for error messages."""
    spatial = _AXES[rank]
    axes = (("channels",) + spatial if data_format == "channels_first"
            else spatial + ("channels",))
    return "(" + ", ".join(("batch", "time") + axes) + ")"


def _rank_error(layer: Any, shape: Sequence[Any]) -> ValueError:
    """A sequence of frames of the wrong rank: names the layer and the expected layout."""
    shape = tuple(shape)
    rank, fmt = layer.rank, layer.data_format
    want = rank + 3
    hint = ""
    if len(shape) == want - 1:
        channel = "x[..., None]" if fmt == "channels_last" else "x[:, :, None]"
        hint = (f" Add a channel axis to one-channel frames ({channel}), or a time axis to "
                "single frames (x[:, None]).")
    return ValueError(
        f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
        f"{type(layer).__name__} expects {want}-D input {_layout(rank, fmt)}, received shape "
        f"{shape}.{hint} Received: inputs of shape {shape}")


class ConvLSTMCell(_Cell):
    """One step of a convolutional LSTM (the cell of :class:`ConvLSTM`; Keras's ``ConvLSTMCell``).

    Args:
        rank: the number of spatial axes of a frame (1, 2 or 3).
        filters: the number of feature maps of the states (and the output).
        kernel_size: an int or ``rank`` ints, for the input and the recurrent kernels.
        strides: an int or ``rank`` ints (the input convolution only; ``> 1`` excludes
            ``dilation_rate > 1``).
        padding: ``"valid"`` (default) or ``"same"`` for the input convolution (also
            ``"causal"`` when ``rank`` is 1); the recurrent one is always ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or ``rank`` ints (the input convolution only).
        activation: default ``'tanh'``; recurrent_activation: default ``'sigmoid'``.
        use_bias: add the ``(4 * filters,)`` bias (default True).
        kernel_initializer, recurrent_initializer (default ``'orthogonal'``),
            bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint:
            as in Keras.
        unit_forget_bias: initialize the forget gate's bias to 1 (default True).
        dropout, recurrent_dropout: rates of the four masks (one per gate) on the input
            and on the state ``h`` (inside a ``ConvLSTM`` layer, drawn once per sequence).
        seed: optional seed of the dropout masks.

    Weights:
        ``kernel (*kernel_size, channels, 4*filters)``, ``recurrent_kernel (*kernel_size,
        filters, 4*filters)``, ``bias (4*filters,)``, gates in the order i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.layers.conv_lstm import ConvLSTMCell
        >>> cell = ConvLSTMCell(2, filters=3, kernel_size=3, padding="same")
        >>> h0 = np.zeros((1, 5, 5, 3), "float32")
        >>> h, (h2, c) = cell(np.ones((1, 5, 5, 2), "float32"), [h0, h0])
        >>> h.shape, cell.recurrent_kernel.shape
        ((1, 5, 5, 3), (3, 3, 3, 12))
    """

    gates = _GATES

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        if isinstance(rank, bool) or rank not in (1, 2, 3):
            raise ValueError("ConvLSTMCell: rank must be 1, 2 or 3 (the number of spatial axes "
                             f"of a frame). Received: rank={rank!r}")
        owner = f"{kwargs.get('name') or 'ConvLSTMCell'}"
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{owner}: invalid value for argument `filters`: expected a "
                             f"positive integer. Received: filters={filters!r}")
        super().__init__(int(filters), activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.rank = int(rank)
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: `strides > 1` is not supported together with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = normalize_padding(
            padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"), owner)
        self.data_format = normalize_data_format(data_format, owner)
        self.unit_forget_bias = bool(unit_forget_bias)

    # -- shapes ----------------------------------------------------------------------
    @property
    def state_size(self) -> list:
        """``[filters, filters]``: the channels of ``h`` and ``c`` (their frames follow the input)."""
        return [self.filters, self.filters]

    @property
    def output_size(self) -> int:
        """The channels of one step's output."""
        return self.filters

    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def state_shape(self, frame_shape: Sequence[Any]) -> tuple:
        """The shape of ``h`` (and ``c``) for one step's input of ``frame_shape`` (batch first).

        Args:
            frame_shape: ``(batch, *spatial, channels)`` (or channels first).

        Returns:
            ``(batch, *out_spatial, filters)`` (or channels first), where the input
            convolution's padding, strides and dilation decide ``out_spatial``.
        """
        first = self.data_format == "channels_first"
        spatial = tuple(frame_shape[2:]) if first else tuple(frame_shape[1:-1])
        out = tuple(conv_output_length(n, k, s, d, self.padding) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))
        return ((frame_shape[0], self.filters) + out if first
                else (frame_shape[0],) + out + (self.filters,))

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        first = self.data_format == "channels_first"
        if len(shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" (ConvLSTMCell) expects one frame per step of '
                f"{self.rank + 2}-D shape. Received: input_shape={shape}")
        spatial = shape[2:] if first else shape[1:-1]
        channels = shape[1] if first else shape[-1]
        if None in spatial:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial "
                             f"dimensions. Received: input_shape={shape}")
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found None. "
                             f"Received: input_shape={shape}")
        out = self.state_shape(shape)
        if any(o <= 0 for o in (out[2:] if first else out[1:-1])):
            span = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ValueError(
                f'Layer "{self.name}": the kernel {span} is larger than the frames '
                f"{tuple(spatial)} with padding {self.padding!r}, so the output would be empty. "
                f"Use a smaller kernel, padding='same', or larger frames. Received: "
                f"input_shape={shape}")
        n = _GATES * self.filters
        self.kernel = self.add_weight(self.kernel_size + (int(channels), n),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight(
            self.kernel_size + (self.filters, n), self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
            name="recurrent_kernel")
        if self.use_bias:
            self.bias = self.add_weight((n,), self._bias_initializer(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        self.built = True

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, f = self.bias_initializer, self.filters

        def forget_ones(shape: Any, dtype: Any = None) -> Any:
            parts = [np.asarray(init((f,), dtype=dtype)), np.ones((f,), dtype=dtype),
                     np.asarray(init((2 * f,), dtype=dtype))]
            return np.concatenate(parts).astype(dtype)

        return forget_ones

    # -- the maths, once ---------------------------------------------------------------
    def _gate(self, z: Any, g: int) -> Any:
        """Gate ``g`` (0..3: i, f, c, o) of pre-activations with ``4 * filters`` channels."""
        f = self.filters
        index: tuple = (slice(None), slice(g * f, (g + 1) * f)) if \
            self.data_format == "channels_first" else (Ellipsis, slice(g * f, (g + 1) * f))
        return ops.getitem(z, index)

    def convolve(self, x: Any, recurrent: bool = False) -> Tensor:
        """The pre-activations of the four gates from frames ``x`` (``4 * filters`` channels).

        Args:
            x: a batch of frames, or a list of four (one per gate, as dropout makes them).
            recurrent: convolve the state ``h`` with ``recurrent_kernel`` (``'same'``,
                stride 1, no bias) instead of the input with ``kernel`` and ``bias``.

        Returns:
            ``conv(x, kernel) + bias``; with four inputs, gate ``g``'s channels come from
            input ``g`` and the kernel's (and bias's) gate ``g``.
        """
        first = self.data_format == "channels_first"
        if recurrent:
            fn = lambda: Conv((1,) * self.rank, "same", (1,) * self.rank, first)  # noqa: E731
            kernel, bias = self.recurrent_kernel, None
        else:
            fn = lambda: Conv(self.strides, self.padding, self.dilation_rate, first)  # noqa: E731
            kernel, bias = self.kernel, self.bias
        if not isinstance(x, (list, tuple)):
            return fn()(x, kernel) if bias is None else fn()(x, kernel, bias)
        f = self.filters
        parts = []
        for g, xg in enumerate(x):
            k = ops.getitem(kernel, (Ellipsis, slice(g * f, (g + 1) * f)))
            if bias is None:
                parts.append(fn()(xg, k))
            else:
                parts.append(fn()(xg, k, ops.getitem(bias, slice(g * f, (g + 1) * f))))
        return ops.concatenate(parts, axis=self._channel_axis)

    def step(self, zx: Any, h: Any, c: Any) -> tuple:
        """One step from the input's pre-activations ``zx`` and the previous states.

        Args:
            zx: ``convolve(x_t)``, with ``4 * filters`` channels.
            h: the previous output (a list of four with recurrent dropout), or None
                for a zero state (its convolution is zero and is skipped).
            c: the previous cell state, or None for zeros.

        Returns:
            ``(h, c)``, the new states.
        """
        z = zx if h is None else zx + self.convolve(h, recurrent=True)
        ra, act = self.recurrent_activation, self.activation
        i, f = ra(self._gate(z, 0)), ra(self._gate(z, 1))
        g, o = act(self._gate(z, 2)), ra(self._gate(z, 3))
        c = i * g if c is None else f * c + i * g
        return o * act(c), c

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        h_prev, c_prev = states[0], states[1]
        on = bool(training)
        x: Any = inputs
        if on and 0 < self.dropout < 1:
            x = [ops.dropout(inputs, self.dropout, rng=self._rng) for _ in range(_GATES)]
        h: Any = h_prev
        if on and 0 < self.recurrent_dropout < 1:
            ones = ops.ones_like(h_prev)
            h = [h_prev * ops.dropout(ones, self.recurrent_dropout, rng=self._rng)
                 for _ in range(_GATES)]
        h, c = self.step(self.convolve(x), h, c_prev)
        return h, [h, c]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(output shape, [h shape, c shape])`` for one step's input shape."""
        out = self.state_shape(tuple(input_shape))
        return out, [out, out]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("units", None)
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": self.dilation_rate, "unit_forget_bias": self.unit_forget_bias,
        })
        return config

    @classmethod
    def from_config(cls, config: dict) -> "ConvLSTMCell":
        return cls(**_deserialize(dict(config)))


# Keras's order of the arguments in a ConvLSTM layer's config (after the RNN ones)
_CONFIG_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout", "seed")

# what a ConvLSTM layer reads through from its cell (Keras's properties)
_FROM_CELL = frozenset(_CONFIG_KEYS) - {"activity_regularizer", "seed"} | {"rank"}


class ConvLSTM(RNN):
    """The N-D convolutional LSTM layer (the base of ConvLSTM1D, ConvLSTM2D and ConvLSTM3D).

    Args:
        rank: the number of spatial axes of a frame (1, 2 or 3).
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
            recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
            dropout, recurrent_dropout, seed: see :class:`ConvLSTMCell`.
        activity_regularizer: a penalty on the returned tensors.
        return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask: see :class:`~chainrule.layers.RNN`.

    Call arguments:
        inputs: ``(batch, time, *spatial, channels)`` (or ``(batch, time, channels,
            *spatial)``).
        initial_state: optional ``[h, c]``, each of the state's shape.
        mask: optional booleans ``(batch, time)`` (or one per output position,
            ``(batch, time, *out_spatial)``, as ``Masking`` makes them): a masked step
            keeps the previous states and output.
        training: whether dropout is active.

    Stateful layers keep their states beside the weights and update them after each
    batch, so such a model trains on the tape (as stateful ``LSTM``), not the captured step.

    Example:
        >>> import numpy as np
        >>> layer = ConvLSTM(rank=1, filters=2, kernel_size=3, return_state=True)
        >>> [t.shape for t in layer(np.zeros((4, 5, 9, 1), "float32"))]
        [(4, 7, 2), (4, 7, 2), (4, 7, 2)]
    """

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        cell = ConvLSTMCell(
            rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Keras's ConvLSTM layers expose their cell's arguments (layer.filters, layer.padding)
        if name in _FROM_CELL and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- shapes --------------------------------------------------------------------------
    def _frame_shape(self, shape: Sequence[Any]) -> tuple:
        return (shape[0],) + tuple(shape[2:])

    def _check_rank(self, shape: Sequence[Any]) -> tuple:
        shape = tuple(shape)
        if len(shape) != self.rank + 3:
            raise _rank_error(self, shape)
        return shape

    def _check_input(self, inputs: Any) -> None:
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        self._check_rank(inputs.shape)

    def incompatible_input(self, shape: Any, declared: Any = None) -> ValueError | None:
        """A model's first-layer check: the rank (with hints), then the channels and shape.

        Args:
            shape: the batch's shape.
            declared: the model's declared input shape, or None.

        Returns:
            A ``ValueError`` naming the layer, or None.
        """
        shape = tuple(shape)
        if len(shape) != self.rank + 3:
            return _rank_error(self, (None,) + shape[1:])
        if self.cell.built and declared is None:
            want = self.cell.kernel.shape[-2]
            got = shape[2] if self.data_format == "channels_first" else shape[-1]
            if got != want:
                seen = (None,) + shape[1:]
                return ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                    f"{want} channels, received shape {seen}. Received: inputs of shape {seen}")
        from chainrule.layers.base import Layer  # noqa: PLC0415

        return Layer.incompatible_input(self, shape, declared)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape (a list of three with ``return_state``) for ``input_shape``."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                         (list, tuple)):
            input_shape = input_shape[0]
        shape = self._check_rank(input_shape)
        state = self.cell.state_shape(self._frame_shape(shape))
        out = (state[0], shape[1]) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                         (list, tuple)):
            input_shape = input_shape[0]
        shape = self._check_rank(input_shape)
        first = self.data_format == "channels_first"
        if None in (shape[3:] if first else shape[2:-1]):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): ConvLSTM layers only support '
                "static input shapes for the spatial dimensions (the time axis may be None). "
                f"Received: input_shape={shape}")
        if (shape[2] if first else shape[-1]) is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the channel axis of the input '
                f"must be known. Received: input_shape={shape}")
        if self.stateful:
            if shape[0] is None:
                raise ValueError(
                    f'Layer "{self.name}" is stateful, so it needs a fixed batch size: pass '
                    "batch_size=... to Input. Received: input_shape=" f"{shape}")
            self._expected_batch = int(shape[0])
        if not self.cell.built:
            self.cell.build(self._frame_shape(shape))
            self.cell.built = True
            for v in self.cell._variables:  # Keras's paths: conv_lstm2d/conv_lstm_cell/kernel
                v.path = nested_path(self.name, v.path)  # after any open name_scope
        self.built = True

    def _initial_states(self, x: Tensor, initial_state: Any) -> list:
        states = _states_list(initial_state)
        batch = x.shape[0]
        shape = self.cell.state_shape(self._frame_shape(x.shape))
        if self.stateful:
            if batch != self._expected_batch:
                raise ValueError(
                    f'Layer "{self.name}" is stateful with batch size {self._expected_batch}; '
                    f"every batch must have that size. Received: a batch of {batch}")
            if self._state_vars is None:
                from chainrule.layers.base import Variable  # noqa: PLC0415

                self._state_vars = [Variable(np.zeros(shape, x.dtype), name="rnn_state",
                                             trainable=False) for _ in range(2)]
            if not states:
                states = list(self._state_vars)
        if states and len(states) != 2:
            raise ValueError(
                f'Layer "{self.name}" has 2 states (h and c), but initial_state has '
                f"{len(states)}. Received: initial_state of length {len(states)}")
        out = []
        for s in states:
            t = s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype=x.dtype))
            if tuple(t.shape) != shape:
                raise ValueError(
                    f'Layer "{self.name}" expects initial states of shape {shape}. '
                    f"Received: initial_state of shape {tuple(t.shape)}")
            out.append(t)
        return out

    # -- computing -----------------------------------------------------------------------
    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        if isinstance(sequences, (list, tuple)):  # [sequences, *initial states]
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
            if mask is None:
                mask = getattr(sequences, "_keras_mask", None)
        self._check_rank(sequences.shape)
        states = self._initial_states(sequences, initial_state)
        output, final = self._run(sequences, states, mask, bool(training))
        if self.stateful:
            for v, s in zip(self._state_vars, final):
                v.assign(s.data)
        outs = [output] + list(final) if self.return_state else [output]
        if self._activity is not None:  # on every returned tensor, as Keras 3
            self._losses = [activity_penalty(self._activity, o) for o in outs]
        return outs if self.return_state else output

    def _step_mask(self, mask: Any, x: Tensor, state_shape: tuple) -> Any:
        """The mask as a bool Tensor whose step ``t`` broadcasts against the states."""
        if not isinstance(mask, Tensor):
            mask = Tensor(np.asarray(getattr(mask, "data", mask)).astype(bool))
        elif mask.dtype != np.bool_:
            mask = ops.cast(mask, "bool")
        lead = tuple(mask.shape[:2])
        rest = tuple(mask.shape[2:]) + (1,) * (len(state_shape) - mask.ndim + 1)
        fits = lead == tuple(x.shape[:2]) and len(rest) == len(state_shape) - 1 and all(
            a in (1, b) for a, b in zip(rest, state_shape[1:]))
        if not fits:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) takes a mask of shape (batch, '
                f"time) = {tuple(x.shape[:2])}, or one value per output position "
                f"(batch, time, *spatial) matching its states {state_shape}. Received: mask of "
                f"shape {tuple(mask.shape)}")
        return mask, rest

    def _run(self, x: Tensor, states: list, mask: Any, training: bool) -> tuple:
        cell = self.cell
        batch, steps = x.shape[0], x.shape[1]
        frames = tuple(x.shape[2:])
        state_shape = cell.state_shape((batch,) + frames)
        # the input convolution of every step at once: it does not depend on the state
        rate = cell.dropout if training and 0 < cell.dropout < 1 else 0.0
        if rate:  # four masks (one per gate), each the same at every step of a sequence
            flat: Any = [ops.reshape(ops.dropout(x, rate, noise_shape=(batch, 1) + frames,
                                                 rng=cell._rng), (batch * steps,) + frames)
                         for _ in range(_GATES)]
        else:
            flat = ops.reshape(x, (batch * steps,) + frames)
        zx = cell.convolve(flat)
        zx = ops.reshape(zx, (batch, steps) + tuple(zx.shape[1:]))
        zero_start = not states
        if zero_start:
            zeros = Tensor(np.zeros(state_shape, x.dtype))
            states = [zeros, zeros]
        h, c = states
        rec_rate = cell.recurrent_dropout if training and 0 < cell.recurrent_dropout < 1 else 0.0
        rec_masks = None
        if rec_rate:
            ones = Tensor(np.ones(state_shape, x.dtype))
            rec_masks = [ops.dropout(ones, rec_rate, rng=cell._rng) for _ in range(_GATES)]
        if mask is not None:
            mask, rest = self._step_mask(mask, x, state_shape)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs: list = []
        prev = None
        for n, t in enumerate(order):
            first = zero_start and n == 0
            h_in: Any = None if first else (
                [h * m for m in rec_masks] if rec_masks is not None else h)
            h_new, c_new = cell.step(ops.getitem(zx, (slice(None), t)), h_in,
                                     None if first else c)
            out = h_new
            if mask is not None:
                keep = ops.getitem(mask, (slice(None), t))
                keep = ops.reshape(keep, (batch,) + rest)
                if prev is None:
                    prev = out * 0.0
                out = ops.where(keep, out, prev)
                h_new = ops.where(keep, h_new, h)
                c_new = ops.where(keep, c_new, c)
                prev = out
                if self.zero_output_for_mask:
                    out = ops.where(keep, out, out * 0.0)
            outputs.append(out)
            h, c = h_new, c_new
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return output, [h, c]

    # -- configuration -------------------------------------------------------------------
    def get_config(self) -> dict:
        config = RNN.get_config(self)
        cell_config = self.cell.get_config()
        for key in _CONFIG_KEYS:
            if key == "activity_regularizer":
                config[key] = _ser_reg(self._activity)
            else:
                config[key] = cell_config[key]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Any:
        return cls(**_deserialize(dict(config)))


def _rank_layer(rank: int) -> Any:
    """The ``__init__`` of ConvLSTM{rank}D: Keras's signature with the rank fixed."""

    def __init__(self: Any, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs: Any) -> None:
        ConvLSTM.__init__(
            self, rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful, **kwargs)

    return __init__


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM: a sequence of 1-D signals (Keras's ``ConvLSTM1D``).

    Args:
        filters: the number of output channels (the states' too).
        kernel_size: an int (or a tuple of one).
        strides, padding (``"valid"``, ``"same"`` or ``"causal"``), data_format,
            dilation_rate: of the input convolution; the recurrent one is ``"same"``.
        Other arguments: see :class:`ConvLSTM` and :class:`ConvLSTMCell` (Keras's
            defaults: ``activation='tanh'``, ``recurrent_activation='sigmoid'``,
            ``recurrent_initializer='orthogonal'``, ``unit_forget_bias=True``).

    Input shape:
        ``(batch, time, rows, channels)`` (or ``(batch, time, channels, rows)``).

    Output shape:
        ``(batch, new_rows, filters)``; ``(batch, time, new_rows, filters)`` with
        ``return_sequences``; with ``return_state`` the list ``[output, h, c]``.

    Weights:
        ``kernel (k, channels, 4*filters)``, ``recurrent_kernel (k, filters,
        4*filters)``, ``bias (4*filters,)``; gates i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.ConvLSTM1D(4, 3, return_sequences=True)
        >>> layer(np.zeros((2, 5, 10, 3), "float32")).shape
        (2, 5, 8, 4)
        >>> layer.count_params()
        352
    """

    __init__ = _rank_layer(1)


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM: a sequence of images, e.g. video frames (Keras's ``ConvLSTM2D``).

    Args:
        filters: the number of output channels (the states' too).
        kernel_size: an int or ``(kh, kw)``.
        strides, padding (``"valid"`` or ``"same"``), data_format, dilation_rate: of the
            input convolution; the recurrent one is ``"same"``.
        Other arguments: see :class:`ConvLSTM` and :class:`ConvLSTMCell` (Keras's
            defaults: ``activation='tanh'``, ``recurrent_activation='sigmoid'``,
            ``recurrent_initializer='orthogonal'``, ``unit_forget_bias=True``).

    Input shape:
        ``(batch, time, rows, cols, channels)`` (or ``(batch, time, channels, rows,
        cols)``).

    Output shape:
        ``(batch, new_rows, new_cols, filters)``; ``(batch, time, new_rows, new_cols,
        filters)`` with ``return_sequences``; with ``return_state`` ``[output, h, c]``.

    Weights:
        ``kernel (kh, kw, channels, 4*filters)``, ``recurrent_kernel (kh, kw, filters,
        4*filters)``, ``bias (4*filters,)``; gates i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True)
        >>> layer(np.zeros((2, 6, 16, 16, 1), "float32")).shape
        (2, 6, 16, 16, 8)
        >>> [w.shape for w in layer.weights]
        [(3, 3, 1, 32), (3, 3, 8, 32), (32,)]
    """

    __init__ = _rank_layer(2)


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM: a sequence of volumes (Keras's ``ConvLSTM3D``).

    Args:
        filters: the number of output channels (the states' too).
        kernel_size: an int or ``(kd, kh, kw)``.
        strides, padding (``"valid"`` or ``"same"``), data_format, dilation_rate: of the
            input convolution; the recurrent one is ``"same"``.
        Other arguments: see :class:`ConvLSTM` and :class:`ConvLSTMCell`.

    Input shape:
        ``(batch, time, depth, rows, cols, channels)`` (or channels before depth).

    Output shape:
        ``(batch, new_depth, new_rows, new_cols, filters)``; with ``return_sequences``
        the time axis after the batch; with ``return_state`` ``[output, h, c]``.

    Weights:
        ``kernel (kd, kh, kw, channels, 4*filters)``, ``recurrent_kernel (kd, kh, kw,
        filters, 4*filters)``, ``bias (4*filters,)``; gates i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.ConvLSTM3D(2, 3, padding="same")(np.zeros((1, 3, 4, 4, 4, 1))).shape
        (1, 4, 4, 4, 2)
    """

    __init__ = _rank_layer(3)

"""Recurrent layers with Keras 3's names, arguments, defaults and weight layouts.

``SimpleRNN``, ``LSTM`` and ``GRU`` are ``RNN`` layers around their cells. When
a built-in cell's activations are among :data:`chainrule.ops.rnn.RECURRENT_ACTIVATIONS`,
the layer runs the whole sequence as one op (:mod:`chainrule.ops.rnn`: the input
projection of all steps as one product, backpropagation through time as the
forward loop's mirror); any other cell, a user's own included, runs step by step
through ops (``RNN(cell)``), and a captured step replays either.

Also here: ``Bidirectional``, ``TimeDistributed`` and ``Masking``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Function, Tensor
from chainrule.backend.scoping import nested_path
from chainrule.layers import serialization
from chainrule.layers.base import KerasTensor, Layer, activity_penalty, call_arguments
from chainrule.layers.wrapper import Wrapper
from chainrule.ops import rnn as rnn_ops

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "RNN", "SimpleRNN", "LSTM", "GRU",
           "Bidirectional", "TimeDistributed", "Masking"]


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _rate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


def _activation_name(fn: Any) -> str | None:
    """The name of a chainrule activation the whole-sequence ops compute, else None."""
    from chainrule import activations  # noqa: PLC0415

    name = getattr(fn, "__name__", None)
    if name in rnn_ops.RECURRENT_ACTIVATIONS and getattr(activations, name, None) is fn:
        return name
    return None


def _ser_init(init: Any) -> Any:
    from chainrule.layers.core import _serialize_initializer  # noqa: PLC0415

    return _serialize_initializer(init)


def _ser_reg(reg: Any) -> Any:
    from chainrule import regularizers  # noqa: PLC0415

    return regularizers.serialize(reg) if reg is not None else None


# -- cells -------------------------------------------------------------------------------


class _Cell(Layer):
    """What the built-in cells share: arguments, weights and the per-step dropout."""

    gates = 1
    _name = "cell"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 **kwargs: Any) -> None:
        from chainrule import activations, initializers, regularizers  # noqa: PLC0415

        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        self.units = _positive(units, "units")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        from chainrule import constraints  # noqa: PLC0415

        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.kernel: Any = None
        self.recurrent_kernel: Any = None
        self.bias: Any = None

    @property
    def state_size(self) -> Any:
        """The size of the state (LSTM: ``[units, units]`` for h and c)."""
        return self.units

    @property
    def output_size(self) -> int:
        """The size of one step's output."""
        return self.units

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        n = self.gates * self.units
        self.kernel = self.add_weight((int(input_shape[-1]), n), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight(
            (self.units, n), self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint, name="recurrent_kernel")
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        self.built = True

    def _fused_activations(self) -> tuple | None:
        a, r = _activation_name(self.activation), _activation_name(self.recurrent_activation)
        return None if a is None or r is None else (a, r)

    def _drop(self, x: Any, rate: float, training: Any) -> Any:
        # step by step a fresh mask per call (the whole-sequence op keeps one per sequence)
        if training and rate > 0:
            return ops.dropout(x, rate, rng=self._rng)
        return x

    def get_config(self) -> dict:
        from chainrule import activations, constraints  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _ser_init(self.kernel_initializer),
            "recurrent_initializer": _ser_init(self.recurrent_initializer),
            "bias_initializer": _ser_init(self.bias_initializer),
            "kernel_regularizer": _ser_reg(self.kernel_regularizer),
            "recurrent_regularizer": _ser_reg(self.recurrent_regularizer),
            "bias_regularizer": _ser_reg(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        })
        config.update(constraints.layer_config(
            self, ("kernel_constraint", "recurrent_constraint", "bias_constraint")))
        if self.gates > 1:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Any:
        return cls(**_deserialize(config))


def _deserialize(config: dict) -> dict:
    from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

    config = constraints.from_layer_config(config)
    for key, value in list(config.items()):
        if isinstance(value, dict) and key.endswith("_initializer"):
            config[key] = initializers.deserialize(value)
        elif isinstance(value, dict) and key.endswith("_regularizer"):
            config[key] = regularizers.deserialize(value)
    return config


class SimpleRNNCell(_Cell):
    """One step of a fully connected RNN: ``h = activation(x W + h_prev R + b)``.

    Args:
        units: the state size.
        activation: default ``'tanh'``.
        use_bias, kernel_initializer, recurrent_initializer (default
            ``'orthogonal'``), bias_initializer, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint: as in Keras.
        dropout, recurrent_dropout: rates for the inputs and the state (inside
            ``SimpleRNN`` one mask per sequence, the same at every step).
        seed: optional seed of the dropout masks.

    Weights:
        ``kernel (input_dim, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cell = cr.layers.SimpleRNNCell(4)
        >>> h, states = cell(np.ones((2, 3)), [np.zeros((2, 4), "float32")])
        >>> h.shape
        (2, 4)
    """

    gates = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 **kwargs: Any) -> None:
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x = self._drop(inputs, self.dropout, training)
        hr = self._drop(h_prev, self.recurrent_dropout, training)
        z = ops.linear(x, self.kernel, self.bias) if self.bias is not None else ops.linear(
            x, self.kernel)
        h = self.activation(z + ops.matmul(hr, self.recurrent_kernel))
        return h, [h]


class LSTMCell(_Cell):
    """One LSTM step, Keras's gates ``i, f, c, o`` in one kernel.

    ``c = f * c_prev + i * activation(x W_c + h R_c + b_c)``, ``h = o * activation(c)``,
    with ``i, f, o = recurrent_activation(x W + h R + b)``.

    Args:
        units: the state size.
        activation: default ``'tanh'``; recurrent_activation: default ``'sigmoid'``.
        unit_forget_bias: initialize the forget gate's bias to 1 (Keras's default True).
        Other arguments: as :class:`SimpleRNNCell`.

    Weights:
        ``kernel (input_dim, 4*units)``, ``recurrent_kernel (units, 4*units)``,
        ``bias (4*units,)``, gates in the order i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cell = cr.layers.LSTMCell(2)
        >>> h, (h2, c) = cell(np.ones((1, 3)), [np.zeros((1, 2), "float32")] * 2)
        >>> cell.kernel.shape, c.shape
        ((3, 8), (1, 2))
    """

    gates = 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> Any:
        """``[units, units]``: the states h and c."""
        return [self.units, self.units]

    def _bias_initializer(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape: Any, dtype: Any = None) -> Any:
            parts = [np.asarray(init((u,), dtype=dtype)), np.ones((u,), dtype=dtype),
                     np.asarray(init((2 * u,), dtype=dtype))]
            return np.concatenate(parts).astype(dtype)

        return forget_ones

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        h_prev, c_prev = states[0], states[1]
        u = self.units
        x = self._drop(inputs, self.dropout, training)
        hr = self._drop(h_prev, self.recurrent_dropout, training)
        z = ops.linear(x, self.kernel, self.bias) if self.bias is not None else ops.linear(
            x, self.kernel)
        z = z + ops.matmul(hr, self.recurrent_kernel)
        ra, act = self.recurrent_activation, self.activation
        i = ra(ops.getitem(z, (slice(None), slice(0, u))))
        f = ra(ops.getitem(z, (slice(None), slice(u, 2 * u))))
        g = act(ops.getitem(z, (slice(None), slice(2 * u, 3 * u))))
        o = ra(ops.getitem(z, (slice(None), slice(3 * u, 4 * u))))
        c = f * c_prev + i * g
        h = o * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_Cell):
    """One GRU step, Keras's gates ``z, r, h``: ``h = z * h_prev + (1 - z) * hh``.

    Args:
        units: the state size.
        activation: default ``'tanh'``; recurrent_activation: default ``'sigmoid'``.
        reset_after: apply the reset gate after the recurrent product (Keras 3's
            default True, with separate input and recurrent biases).
        Other arguments: as :class:`SimpleRNNCell`.

    Weights:
        ``kernel (input_dim, 3*units)``, ``recurrent_kernel (units, 3*units)``,
        ``bias (2, 3*units)`` with ``reset_after``, else ``(3*units,)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cell = cr.layers.GRUCell(2)
        >>> h, _ = cell(np.ones((1, 3)), [np.zeros((1, 2), "float32")])
        >>> cell.bias.shape
        (2, 6)
    """

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        n = 3 * self.units
        return (2, n) if self.reset_after else (n,)

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        x = self._drop(inputs, self.dropout, training)
        hr = self._drop(h_prev, self.recurrent_dropout, training)
        b_in = b_rec = None
        if self.bias is not None:
            if self.reset_after:
                b_in, b_rec = ops.getitem(self.bias, 0), ops.getitem(self.bias, 1)
            else:
                b_in = self.bias
        mx = ops.linear(x, self.kernel, b_in) if b_in is not None else ops.linear(x, self.kernel)

        def cols(t: Any, a: int, b: int) -> Any:
            return ops.getitem(t, (slice(None), slice(a * u, b * u)))

        R = self.recurrent_kernel
        if self.reset_after:
            mi = ops.matmul(hr, R)
            if b_rec is not None:
                mi = mi + b_rec
            z = self.recurrent_activation(cols(mx, 0, 1) + cols(mi, 0, 1))
            r = self.recurrent_activation(cols(mx, 1, 2) + cols(mi, 1, 2))
            hh = self.activation(cols(mx, 2, 3) + r * cols(mi, 2, 3))
        else:
            mi = ops.matmul(hr, ops.getitem(R, (slice(None), slice(0, 2 * u))))
            z = self.recurrent_activation(cols(mx, 0, 1) + cols(mi, 0, 1))
            r = self.recurrent_activation(cols(mx, 1, 2) + cols(mi, 1, 2))
            hh = self.activation(cols(mx, 2, 3) + ops.matmul(
                r * hr, ops.getitem(R, (slice(None), slice(2 * u, 3 * u)))))
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


_FUSED_OPS = {SimpleRNNCell: rnn_ops.SimpleRNN, LSTMCell: rnn_ops.LSTM, GRUCell: rnn_ops.GRU}


# -- the RNN layer -----------------------------------------------------------------------


def _sequence_error(layer: Layer, shape: Any) -> ValueError:
    shape = tuple(shape)
    hint = " For token ids, add an Embedding layer first." if len(shape) == 2 else ""
    return ValueError(
        f"{type(layer).__name__} expects 3-D input (batch, timesteps, features), received shape "
        f"{shape}.{hint} Received: inputs of shape {shape} for layer \"{layer.name}\"")


def _states_list(states: Any) -> list:
    if states is None:
        return []
    if isinstance(states, (list, tuple)):
        return list(states)
    return [states]


class _Flip(Function):
    """``x[:, ::-1]``: reverse the time axis (its own inverse is its gradient)."""

    def forward(self, x):
        return np.ascontiguousarray(x[:, ::-1])

    def backward(self, gy):
        return (np.ascontiguousarray(gy[:, ::-1]),)


class RNN(Layer):
    """Run a cell over the time axis: Keras's ``RNN`` layer (also a user's own cell).

    The cell is a layer with ``state_size`` (an int or a list of ints) and
    ``call(inputs, states[, training])`` returning ``(output, new_states)``. The
    built-in cells run the whole sequence as one op; other cells step by step.

    Args:
        cell: the cell.
        return_sequences: return every step's output ``(batch, timesteps, units)``
            instead of the last one's ``(batch, units)``.
        return_state: also return the final states (a list ``[output, *states]``).
        go_backwards: process the sequence last step first (outputs in that order).
        stateful: the final states of a batch are the initial states of the next
            one (needs a fixed batch size; ``reset_states()`` zeroes them).
        unroll: accepted for Keras compatibility (the loop is always the same).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        initial_state: optional list of initial states (default zeros).
        mask: optional ``(batch, timesteps)`` booleans; masked steps carry the
            previous state and output (passed automatically from ``Embedding(mask_zero=True)``
            or ``Masking``).
        training: whether dropout is active.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.RNN(cr.layers.LSTMCell(4), return_sequences=True)
        >>> layer(np.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    supports_masking = True

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        self._activity = kwargs.pop("activity_regularizer", None)
        super().__init__(**kwargs)
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise ValueError(
                "RNN needs a cell: a layer with a `state_size` attribute and "
                "call(inputs, states) returning (output, new_states). Received: "
                f"cell={cell!r}")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._state_vars: list | None = None
        if self._activity is not None:
            from chainrule import regularizers  # noqa: PLC0415

            self._activity = regularizers.get(self._activity)

    @property
    def activity_regularizer(self) -> Any:
        """The penalty on the layer's output, or None."""
        return self._activity

    @property
    def state_size(self) -> list:
        """The cell's state sizes, as a list."""
        s = self.cell.state_size
        return list(s) if isinstance(s, (list, tuple)) else [s]

    @property
    def states(self) -> list | None:
        """The stateful layer's current states (Variables), None when not stateful."""
        return self._state_vars

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        states = _states_list(kwargs.get("initial_state"))
        if states and any(isinstance(t, KerasTensor) for t in [inputs, *states]):
            # symbolic initial states (an encoder's states feeding a decoder) become inputs
            # of the call, so the functional graph knows where they come from
            kwargs.pop("initial_state")
            return Layer.__call__(self, [inputs, *states], *args, **kwargs)
        return Layer.__call__(self, inputs, *args, **kwargs)

    def _check_input(self, inputs: Any) -> None:
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        if len(inputs.shape) != 3:
            raise _sequence_error(self, inputs.shape)

    def incompatible_input(self, shape: Any, declared: Any = None) -> ValueError | None:
        """A recurrent layer needs ``(batch, timesteps, features)``."""
        if len(shape) != 3:
            return _sequence_error(self, shape)
        return super().incompatible_input(shape, declared)

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise _sequence_error(self, input_shape)
        if input_shape[-1] is None:
            raise ValueError(f'The last dimension of the input to layer "{self.name}" must be '
                             f"known. Received: input_shape={tuple(input_shape)}")
        if self.stateful:
            batch = input_shape[0]
            if batch is None:
                raise ValueError(
                    f'Layer "{self.name}" is stateful, so it needs a fixed batch size: pass '
                    "batch_size=... to Input (or batch_input_shape=(batch, timesteps, "
                    "features) to the layer). Received: input_shape="
                    f"{tuple(input_shape)}")
            self._expected_batch = int(batch)
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[-1]))
            self.cell.built = True
            for v in self.cell._variables:  # Keras's paths: lstm/lstm_cell/kernel
                v.path = nested_path(self.name, v.path)  # after any open name_scope
        self.built = True

    def reset_states(self, states: Any = None) -> None:
        """Zero a stateful layer's states (or set them to ``states``)."""
        if not self.stateful:
            raise AttributeError(f'Layer "{self.name}" is not stateful: reset_states() needs '
                                 "stateful=True. Received: stateful=False")
        if self._state_vars is None:
            return
        values = _states_list(states) or [np.zeros(v.shape, v.dtype) for v in self._state_vars]
        for v, s in zip(self._state_vars, values):
            v.assign(np.asarray(s, dtype=v.dtype))

    reset_state = reset_states

    def _initial_states(self, x: Tensor, initial_state: Any) -> list:
        states = _states_list(initial_state)
        batch = x.shape[0]
        if self.stateful:
            if batch != self._expected_batch:
                raise ValueError(
                    f'Layer "{self.name}" is stateful with batch size {self._expected_batch}; '
                    f"every batch must have that size. Received: a batch of {batch}")
            if self._state_vars is None:
                from chainrule.layers.base import Variable  # noqa: PLC0415

                self._state_vars = [Variable(np.zeros((batch, d), x.dtype), name="rnn_state",
                                             trainable=False) for d in self.state_size]
            if not states:
                states = list(self._state_vars)
        if states and len(states) != len(self.state_size):
            raise ValueError(
                f'Layer "{self.name}" has {len(self.state_size)} states, but initial_state has '
                f"{len(states)}. Received: initial_state of length {len(states)}")
        out = []
        for s, d in zip(states, self.state_size):
            t = s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype=x.dtype))
            if tuple(t.shape) != (batch, d):
                raise ValueError(
                    f'Layer "{self.name}" expects initial states of shape {(batch, d)}. '
                    f"Received: initial_state of shape {tuple(t.shape)}")
            out.append(t)
        return out

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        if isinstance(sequences, (list, tuple)):  # [sequences, *initial states]
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
            if mask is None:
                mask = getattr(sequences, "_keras_mask", None)
        if sequences.ndim != 3:
            raise _sequence_error(self, sequences.shape)
        states = self._initial_states(sequences, initial_state)
        fused = self._fused_op(training)
        if fused is not None:
            result = self._run_fused(fused, sequences, states, mask)
        else:
            result = self._run_steps(sequences, states, mask, training)
        output, final = result
        if self.stateful:
            for v, s in zip(self._state_vars, final):
                v.assign(s.data)
        outs = [output] + list(final) if self.return_state else [output]
        if self._activity is not None:  # on every returned tensor, as Keras 3
            self._losses = [activity_penalty(self._activity, o) for o in outs]
        return outs if self.return_state else output

    # -- the whole-sequence op ---------------------------------------------------------
    def _fused_op(self, training: Any) -> Any:
        cell = self.cell
        op_cls = _FUSED_OPS.get(type(cell))
        if op_cls is None:
            return None
        acts = cell._fused_activations()
        if acts is None:
            return None
        on = bool(training)
        return op_cls(
            cell.units, acts[0], acts[1], self.go_backwards, self.return_sequences,
            self.return_state or self.stateful, self.zero_output_for_mask,
            cell.dropout if on and cell.dropout < 1 else 0.0,
            cell.recurrent_dropout if on and cell.recurrent_dropout < 1 else 0.0, cell._rng,
            getattr(cell, "reset_after", True))

    def _run_fused(self, op: Any, x: Tensor, states: list, mask: Any) -> tuple:
        cell = self.cell
        h0 = states[0] if states else None
        c0 = states[1] if len(states) > 1 else None
        y = op(x, cell.kernel, cell.recurrent_kernel, cell.bias, h0, c0, mask)
        n = len(self.state_size)
        if not op.return_state:
            return y, []
        k = x.shape[1] if self.return_sequences else 1
        out = ops.getitem(y, (slice(None), slice(0, k))) if self.return_sequences else \
            ops.getitem(y, (slice(None), 0))
        final = [ops.getitem(y, (slice(None), k + j)) for j in range(n)]
        return out, final

    # -- step by step (any cell) ---------------------------------------------------------------
    def _run_steps(self, x: Tensor, states: list, mask: Any, training: Any) -> tuple:
        cell = self.cell
        batch, steps = x.shape[0], x.shape[1]
        if not states:
            states = [Tensor(np.zeros((batch, d), x.dtype)) for d in self.state_size]
        kwargs = {"training": training} if "training" in call_arguments(cell) else {}
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs: list = []
        prev = None
        for t in order:
            xt = ops.getitem(x, (slice(None), t))
            out, new = cell(xt, states, **kwargs)
            new = _states_list(new)
            if mask is not None:
                keep = ops.expand_dims(ops.getitem(mask, (slice(None), t)), -1)
                if prev is None:
                    prev = out * 0.0
                out = ops.where(keep, out, prev)
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
                prev = out
                if self.zero_output_for_mask:
                    out = ops.where(keep, out, out * 0.0)
            outputs.append(out)
            states = new
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return output, states

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input's mask when returning sequences, else None (states have no mask)."""
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self.state_size)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._rnn_config())
        if type(self) is RNN:
            config["cell"] = serialization.serialize(self.cell)
        return config

    def _rnn_config(self) -> dict:
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "RNN":
        config = dict(config)
        cell = serialization.deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)


class _CellRNN(RNN):
    """SimpleRNN, LSTM and GRU: an RNN whose cell is made from the layer's own arguments."""

    _cell_cls: Any = None
    _cell_name = "cell"

    def __init__(self, units: int, *, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        base = {k: kwargs.pop(k) for k in list(kwargs) if k in _LAYER_KWARGS}
        kwargs.pop("use_cudnn", None)
        cell_dtype = base.get("dtype")
        cell = self._cell_cls(units, name=self._cell_name, dtype=cell_dtype,
                              trainable=base.get("trainable", True), **kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **base)

    def __getattr__(self, name: str) -> Any:
        # Keras's layers expose their cell's arguments and weights (layer.units, layer.kernel)
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is None or not hasattr(cell, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(cell, name)

    def get_config(self) -> dict:
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = _ser_reg(self._activity)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Any:
        return cls(**_deserialize(config))


_LAYER_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size",
                 "input_dim", "weights", "input_length", "autocast")


class SimpleRNN(_CellRNN):
    """A fully connected RNN whose output is fed back: ``h_t = tanh(x_t W + h_{t-1} R + b)``.

    Args:
        units: the state (and output) size.
        activation: default ``'tanh'``.
        use_bias, kernel_initializer, recurrent_initializer (default ``'orthogonal'``),
            bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed:
            as in Keras (see :class:`SimpleRNNCell`).
        return_sequences, return_state, go_backwards, stateful, unroll: see :class:`RNN`.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences``.

    Weights:
        ``kernel (features, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.SimpleRNN(4)(np.ones((2, 5, 3))).shape
        (2, 4)
    """

    _cell_cls = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)


class LSTM(_CellRNN):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997) with Keras's layout.

    Args:
        units: the state (and output) size.
        activation: default ``'tanh'``; recurrent_activation: default ``'sigmoid'``.
        unit_forget_bias: forget-gate bias initialized to 1 (default True).
        Other arguments: as :class:`SimpleRNN`.

    Input shape:
        ``(batch, timesteps, features)``.

    Output shape:
        ``(batch, units)`` or ``(batch, timesteps, units)``; with ``return_state``
        the list ``[output, h, c]``.

    Weights:
        ``kernel (features, 4*units)``, ``recurrent_kernel (units, 4*units)``,
        ``bias (4*units,)``, gates i, f, c, o.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> out, h, c = cr.layers.LSTM(4, return_state=True)(np.ones((2, 5, 3)))
        >>> out.shape, c.shape
        ((2, 4), (2, 4))
    """

    _cell_cls = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, unit_forget_bias=unit_forget_bias, **kwargs)


class GRU(_CellRNN):
    """Gated recurrent unit (Cho et al., 2014) with Keras's layout.

    Args:
        units: the state (and output) size.
        activation: default ``'tanh'``; recurrent_activation: default ``'sigmoid'``.
        reset_after: Keras 3's default True (bias ``(2, 3*units)``); False for the
            original formulation (bias ``(3*units,)``).
        Other arguments: as :class:`SimpleRNN`.

    Weights:
        ``kernel (features, 3*units)``, ``recurrent_kernel (units, 3*units)``,
        ``bias``; gates z, r, h.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.GRU(4, return_sequences=True)(np.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    _cell_cls = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         use_bias=use_bias, reset_after=reset_after, **kwargs)


# -- wrappers ------------------------------------------------------------------------------


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy backwards, and merge their outputs.

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN`` or ``RNN``).
        merge_mode: ``'concat'`` (default), ``'sum'``, ``'mul'``, ``'ave'`` or None
            (a list of the two outputs).
        backward_layer: optional layer for the backward direction (default: a copy
            of ``layer`` with ``go_backwards`` flipped).

    Output shape:
        as the layer's, the last axis doubled with ``'concat'``. The backward
        sequence is flipped back to the input's order.

    Weights:
        the forward layer's, then the backward layer's.

    Raises:
        ValueError: when ``layer`` is not recurrent, or for an unknown merge_mode.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.Bidirectional(cr.layers.LSTM(4))(np.ones((2, 5, 3))).shape
        (2, 8)
    """

    supports_masking = True

    def __init__(self, layer: Any, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any) -> None:
        if not isinstance(layer, RNN):
            raise ValueError(
                "Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN or RNN: one with "
                "return_sequences, return_state and go_backwards). Received: layer="
                f"{layer!r} of type {type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError("merge_mode must be one of 'concat', 'sum', 'mul', 'ave' or None. "
                             f"Received: merge_mode={merge_mode!r}")
        if backward_layer is not None and not isinstance(backward_layer, RNN):
            raise ValueError("backward_layer must be a recurrent layer. Received: "
                             f"backward_layer of type {type(backward_layer).__name__}")
        super().__init__(**kwargs)
        from chainrule import constraints  # noqa: PLC0415

        with constraints._objects_in_configs():  # a plain-function constraint is copied as is
            config, back_config = layer.get_config(), layer.get_config()
        config["name"] = "forward_" + layer.name.removeprefix("forward_")
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = back_config
            config["go_backwards"] = not layer.go_backwards
            config["name"] = "backward_" + layer.name.removeprefix("backward_")
            backward_layer = type(layer).from_config(config)
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different go_backwards values. "
                f"Received: forward_layer.go_backwards={layer.go_backwards}, "
                f"backward_layer.go_backwards={backward_layer.go_backwards}")
        self.backward_layer = backward_layer
        for sub in (self.forward_layer, self.backward_layer):
            if sub.return_sequences != self.forward_layer.return_sequences or \
                    sub.return_state != self.forward_layer.return_state:
                raise ValueError("Forward and backward layers must agree on return_sequences "
                                 "and return_state. Received: backward_layer with "
                                 f"return_sequences={sub.return_sequences}")
            sub.zero_output_for_mask = sub.return_sequences  # as Keras
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        if weights is not None:
            self._initial_weights = weights

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(input_shape))
                sub.built = True
                sub._build_shape = tuple(input_shape)
        self.built = True

    __call__ = RNN.__call__  # symbolic initial states become inputs of the call

    def _check_input(self, inputs: Any) -> None:
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        if type(self.forward_layer)._check_input is not RNN._check_input:
            self.forward_layer._check_input(inputs)  # its own rank (ConvLSTM2D: 5-D frames)
        elif len(inputs.shape) != 3:
            raise _sequence_error(self, inputs.shape)

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: Any = None) -> Any:
        if isinstance(sequences, (list, tuple)):  # [sequences, *initial states]
            sequences, initial_state = sequences[0], list(sequences[1:]) or initial_state
            if mask is None:
                mask = getattr(sequences, "_keras_mask", None)
        fw_state = bw_state = None
        if initial_state is not None:
            states = _states_list(initial_state)
            half = len(states) // 2
            fw_state, bw_state = states[:half], states[half:]
        kw: dict = {"training": training}
        if mask is not None:
            kw["mask"] = mask
        y = self.forward_layer(sequences, initial_state=fw_state, **kw)
        y_rev = self.backward_layer(sequences, initial_state=bw_state, **kw)
        states: list = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = _Flip()(y_rev)
        if self.merge_mode == "concat":
            out: Any = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input's mask when returning sequences, else None."""
        out = mask if self.return_sequences else None
        if self.merge_mode is None:
            out = [out, out]
        if self.return_state:
            n = 2 * len(self.forward_layer.state_size)
            return (out if isinstance(out, list) else [out]) + [None] * n
        return out

    def reset_states(self) -> None:
        """Zero both directions' states (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialization.serialize(self.forward_layer)
        config["backward_layer"] = serialization.serialize(self.backward_layer)
        config["merge_mode"] = self.merge_mode
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Bidirectional":
        config = dict(config)
        layer = serialization.deserialize(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = serialization.deserialize(backward, custom_objects)
        out = cls(layer, backward_layer=backward, **config)
        out.forward_layer.name = layer.name  # keep the saved names (weights are matched by them)
        return out


class TimeDistributed(Wrapper):
    """Apply a layer to every time step: ``(batch, timesteps, ...)`` as ``batch * timesteps`` samples.

    Args:
        layer: the layer applied to each step (its weights are shared across steps).

    Input shape:
        ``(batch, timesteps, ...)`` (at least 3-D).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.TimeDistributed(cr.layers.Dense(2))(np.ones((4, 5, 3))).shape
        (4, 5, 2)
    """

    supports_masking = True

    def _check_input(self, inputs: Any) -> None:
        if len(inputs.shape) < 3:
            raise ValueError(
                f'TimeDistributed layer "{self.name}" expects input of at least 3 dimensions '
                f"(batch, timesteps, ...). Received: inputs of shape {tuple(inputs.shape)}")

    def build(self, input_shape: Any) -> None:
        if len(input_shape) < 3:
            raise ValueError(
                f'TimeDistributed layer "{self.name}" expects input of at least 3 dimensions '
                f"(batch, timesteps, ...). Received: input_shape={tuple(input_shape)}")
        if not self.layer.built:
            inner = (None,) + tuple(input_shape[2:])
            self.layer.build(inner)
            self.layer.built = True
            self.layer._build_shape = inner
        self.built = True

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        b, t = inputs.shape[0], inputs.shape[1]
        flat = ops.reshape(inputs, (b * t,) + tuple(inputs.shape[2:]))
        kwargs = {"training": training} if "training" in call_arguments(self.layer) else {}
        y = self.layer(flat, **kwargs)
        return ops.reshape(y, (b, t) + tuple(y.shape[1:]))


class _ValueMask(Function):
    """``any(x != value, axis=-1)``: the time steps that are not all padding."""

    differentiable = False

    def __init__(self, value: float) -> None:
        self.value = value

    def forward(self, x):
        return np.any(x != self.value, axis=-1)

    def backward(self, gy):  # pragma: no cover - not differentiable
        return (None,)


class Masking(Layer):
    """Mark time steps whose features all equal ``mask_value`` as padding.

    The output is the input with those steps zeroed, and carries a mask that
    recurrent layers use to skip them (and the loss, for sequence outputs).

    Args:
        mask_value: the padding value (default 0.0).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> x = np.array([[[1.0], [0.0], [2.0]]])
        >>> cr.layers.Masking()(x)._keras_mask.numpy().tolist()
        [[True, False, True]]
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"mask_value must be a number. Received: mask_value={mask_value!r}")
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """True for the steps with at least one feature other than ``mask_value``."""
        return _ValueMask(self.mask_value)(inputs)

    def call(self, inputs: Any) -> Any:
        keep = ops.cast(_ValueMask(self.mask_value)(inputs), inputs.dtype)
        return inputs * ops.expand_dims(keep, -1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


"""Backpropagation through time, measured: how much of the error reaches each time step.

:func:`gradient_through_time` runs a model on one batch on the tape and returns,
for every recurrent layer, the norm of the gradient of the loss with respect to
the layer's input at each time step, ``‖∂E/∂x_t‖``. Going back one step multiplies
the gradient by the layer's recurrent Jacobian, so over 50 steps a SimpleRNN whose
tanh saturates sends almost nothing back to the first steps, while an LSTM's cell
state (its forget gate) carries it. :class:`chainrule.callbacks.GradientMonitor`
records the same measure during training (``over="time"``), and
:func:`chainrule.plot.gradient_flow` draws both (``over="time"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule import backend, ops

__all__ = ["gradient_through_time", "recurrent_layers"]


def recurrent_layers(model: Any) -> list:
    """The recurrent layers of ``model`` (``SimpleRNN``, ``LSTM``, ``GRU``, ``RNN``, and the
    two directions inside a ``Bidirectional``), in the order the model tracks them.

    Args:
        model: a model or layer.

    Returns:
        A list of layers (empty when there is none).

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Input((5, 2)), cr.layers.LSTM(3, name="lstm")])
        >>> [layer.name for layer in recurrent_layers(model)]
        ['lstm']
    """
    from chainrule.layers.base import layer_tree  # noqa: PLC0415
    from chainrule.layers.rnn import RNN  # noqa: PLC0415

    return [layer for layer in layer_tree(model) if isinstance(layer, RNN)]


@contextlib.contextmanager
def _inputs_of(layers: list) -> Iterator[dict]:
    """Record the sequence each layer's ``call`` receives (``{layer name: [Tensor, ...]}``)."""
    seen: dict = {layer.name: [] for layer in layers}
    saved = []
    for layer in layers:
        own = layer.__dict__.get("call")
        original = layer.call

        def call(sequences: Any, *args: Any, _orig: Any = original, _name: str = layer.name,
                 **kwargs: Any) -> Any:
            # a reshape to the same shape: this layer's own tensor, so two layers reading one
            # sequence (the directions of a Bidirectional) each get their own gradient
            first = sequences[0] if isinstance(sequences, (list, tuple)) else sequences
            seq = ops.reshape(first, tuple(first.shape))
            seq._keras_mask = getattr(first, "_keras_mask", None)  # call may read it there
            sequences = [seq, *sequences[1:]] if first is not sequences else seq
            seen[_name].append(seq)
            return _orig(sequences, *args, **kwargs)

        saved.append((layer, own))
        object.__setattr__(layer, "call", call)  # not Layer.__setattr__: no structure change
    try:
        yield seen
    finally:
        for layer, own in saved:
            if own is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)


def gradient_through_time(model: Any, x: Any, y: Any, loss: Any = None,
                          training: bool = False) -> dict:
    """``‖∂E/∂x_t‖`` at every time step of every recurrent layer's input, for one batch.

    The model runs on the tape (an ordinary call, nothing is trained and the
    weights' ``.grad`` are left as they were); the loss ``E`` of the batch is
    differentiated back to the sequence each recurrent layer receives, and the
    gradient's norm over the features is averaged over the batch. A curve falling
    steeply from the last step to the first is a gradient vanishing through time.

    Args:
        model: a built model with at least one recurrent layer.
        x: one batch of inputs, ``(batch, timesteps, features)`` (token ids for a
            model that starts with an ``Embedding``).
        y: the batch's targets.
        loss: a loss (name, function or ``Loss``); default: the compiled loss (with the
            output's mask, as in training).
        training: run the layers in training mode (dropout on).

    Returns:
        ``{layer name: array of shape (timesteps,)}`` (float64), one entry per
        recurrent layer, input side first; index ``t`` is the gradient reaching
        the input of step ``t`` (in the input's order, also for ``go_backwards``).

    Raises:
        ValueError: for a model without a recurrent layer, or without a loss.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.utils.set_random_seed(0)
        >>> model = cr.Sequential([cr.layers.Input((6, 1)),
        ...                        cr.layers.SimpleRNN(4, name="simple_rnn"), cr.layers.Dense(1)])
        >>> x, y = np.ones((2, 6, 1), "float32"), np.zeros((2, 1), "float32")
        >>> g = gradient_through_time(model, x, y, loss="mse")
        >>> list(g), g["simple_rnn"].shape
        (['simple_rnn'], (6,))
    """
    from chainrule.autograd.engine import Tensor  # noqa: PLC0415
    from chainrule.models.compile_utils import _get_loss  # noqa: PLC0415

    layers = recurrent_layers(model)
    if not layers:
        raise ValueError(f"gradient_through_time() needs a model with a recurrent layer "
                         f"(SimpleRNN, LSTM, GRU, RNN). Received: model {model.name!r} without one")
    if loss is None and not getattr(model, "compiled", False):
        raise ValueError("gradient_through_time() needs a loss: compile the model or pass "
                         "loss=... (e.g. 'mse'). Received: loss=None and an uncompiled model")
    xs = [np.asarray(backend.to_numpy(getattr(a, "data", a)))
          for a in (x if isinstance(x, (list, tuple)) else [x])]
    # float inputs require grad: a recurrent first layer's input gets its gradient too
    feeds = [Tensor(backend.as_array(a)) if a.dtype.kind in "iub" else
             Tensor(backend.as_array(a.astype(backend.floatx())), requires_grad=True) for a in xs]
    ys = [np.asarray(backend.to_numpy(getattr(a, "data", a)))
          for a in (y if isinstance(y, (list, tuple)) else [y])]
    weights = list(getattr(model, "trainable_weights", []))
    kept = [w.grad for w in weights]
    try:
        with _inputs_of(layers) as seen:
            out = model(feeds[0] if len(feeds) == 1 else feeds, training=training)
        preds = list(out) if isinstance(out, (list, tuple)) else [out]
        targets = [Tensor(backend.as_array(a)) for a in ys]
        if loss is None:
            value = model._compute_loss(targets, preds, None)[0]
        else:
            value = _get_loss(loss)(targets[0], preds[0])  # a function becomes a mean loss
        value.backward()
        result = {}
        for layer in layers:
            norms = None
            for seq in seen[layer.name]:
                g = seq.grad
                g = np.zeros(seq.shape) if g is None else np.asarray(backend.to_numpy(g),
                                                                      dtype=np.float64)
                n = np.sqrt(np.sum(g * g, axis=tuple(range(2, g.ndim)))).mean(axis=0)
                norms = n if norms is None else norms + n  # a layer called twice: both calls
            if norms is not None:
                result[layer.name] = norms
        return result
    finally:
        for w, g in zip(weights, kept):
            w.grad = g

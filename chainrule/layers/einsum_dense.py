"""EinsumDense: a dense layer whose product is any einsum of the input with its kernel."""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.layers.core import _serialize_initializer

__all__ = ["EinsumDense"]

_FORMS = (  # (pattern on the equation with "..." written as "0", whether "..." leads)
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


def einsum_weight_shapes(equation: str, bias_axes: str | None, input_shape: Sequence[Any],
                         output_shape: Any, layer: str = "einsum_dense") -> tuple:
    """The kernel and bias shapes an EinsumDense equation asks for, as Keras 3 works them out.

    Each kernel letter takes its size from the output shape when the output has that letter,
    else from the input. The bias spans the output from its first biased letter on, with 1
    for unbiased letters (and for axes an ellipsis at the right end stands for).

    Args:
        equation: ``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``.
        bias_axes: output letters that get a bias, or None.
        input_shape: the input's shape, batch first.
        output_shape: the output's shape without the batch (an int for one axis).
        layer: the layer's name, for errors.

    Returns:
        ``(kernel_shape, bias_shape or None, full_output_shape, input_axes, output_axes)``:
        the kernel's axes that are summed over (its fan in) and that reach the output.

    Raises:
        ValueError: for an equation of another form, letters that match nothing, or sizes
            the input and ``output_shape`` disagree on.

    Example:
        >>> einsum_weight_shapes("abc,cde->abde", "de", (None, 5, 8), (None, 2, 4))[:2]
        ([8, 2, 4], [2, 4])
    """
    spec = re.sub(r"\.\.\.", "0", str(equation).replace(" ", ""))
    found = next(((m, lead) for m, lead in ((p.match(spec), lead) for p, lead in _FORMS) if m),
                 None)
    if found is None:
        raise ValueError(
            f"EinsumDense layer {layer!r}: the equation must have the form 'X,Y->Z', "
            f"'...X,Y->...Z' or 'X...,Y->Z...' (one input, one kernel). "
            f"Received: equation={equation!r}")
    match, left = found
    in_spec, w_spec, out_spec = match.groups()
    input_shape = list(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided and "0" not in spec):
        raise ValueError(
            f"EinsumDense layer {layer!r}: the equation {equation!r} expects inputs of rank "
            f"{len(in_spec)}. Received: input_shape={tuple(input_shape)}")
    out = [output_shape] if isinstance(output_shape, (int, np.integer)) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided and left:  # the batch is the first elided axis; the others follow it
        out[1:1] = input_shape[1:elided]
        in_at = {c: i + elided for i, c in enumerate(in_spec)}
        out_at = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        if elided:
            out.extend(input_shape[len(input_shape) - elided:])
        in_at = {c: i for i, c in enumerate(in_spec)}
        out_at = {c: i for i, c in enumerate(out_spec)}
    if len(out) < len(out_spec) + (elided if left else 0):
        raise ValueError(
            f"EinsumDense layer {layer!r}: output_shape must give the {len(out_spec) - 1} "
            f"output axes after the batch in {out_spec!r}. Received: "
            f"output_shape={output_shape!r}")
    for c in in_spec:
        if c in out_at and out[out_at[c]] is not None and out[out_at[c]] != input_shape[in_at[c]]:
            raise ValueError(
                f"EinsumDense layer {layer!r}: the input and output_shape disagree on the size "
                f"of {c!r} ({input_shape[in_at[c]]} vs {out[out_at[c]]}). Received: "
                f"input_shape={tuple(input_shape)}, output_shape={output_shape!r}")
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"EinsumDense layer {layer!r}: output letter {c!r} is in neither the input nor "
                f"the kernel. Received: equation={equation!r}")
    kernel, in_axes, out_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_at:
            kernel.append(out[out_at[c]])
            out_axes.append(i)
        elif c in in_at:
            kernel.append(input_shape[in_at[c]])
            in_axes.append(i)
        else:
            raise ValueError(
                f"EinsumDense layer {layer!r}: kernel letter {c!r} is in neither the input nor "
                f"the output. Received: equation={equation!r}")
    if any(d is None for d in kernel):
        raise ValueError(
            f"EinsumDense layer {layer!r}: the kernel's sizes must be known; give them in "
            f"output_shape or the input's shape. Received: input_shape={tuple(input_shape)}, "
            f"output_shape={output_shape!r}")
    bias = None
    if bias_axes is not None:
        bad = [c for c in bias_axes if c not in out_spec]
        if bad or not bias_axes:
            raise ValueError(
                f"EinsumDense layer {layer!r}: bias_axes must be letters of the output "
                f"{out_spec!r}. Received: bias_axes={bias_axes!r}")
        skip = elided if left else 0
        first = min(out_spec.find(c) for c in bias_axes)
        bias = [out[i + skip] if c in bias_axes else 1
                for i, c in enumerate(out_spec) if i >= first]
        if not left:
            bias += [1] * elided
    return kernel, bias, out, in_axes, out_axes


class EinsumDense(Layer):
    """A dense layer written as an einsum: ``activation(einsum(equation, inputs, kernel) + bias)``.

    The kernel's shape follows from the equation: each kernel letter takes its size from
    ``output_shape`` when the output has it, else from the input (Keras 3's rules).

    Args:
        equation: ``"ab,bc->ac"`` (a Dense), ``"abc,cde->abde"`` (a projection into heads),
            ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``.
        output_shape: the output's shape without the batch (``None`` for sizes the input
            gives); an int for a single axis.
        activation: name or function (default linear).
        bias_axes: the output letters that get a bias (default: no bias).
        kernel_initializer: default ``"glorot_uniform"`` (fans counted over the summed and
            the output axes of the kernel, as Keras 3 does).
        bias_initializer: default ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints applied after updates.
        **kwargs: layer arguments (``name``, ``dtype``...).

    Input shape:
        what the equation's input term describes, batch first.

    Output shape:
        ``(batch,) + output_shape`` (with the input's sizes where ``output_shape`` has None).

    Weights:
        ``kernel`` then ``bias`` (when ``bias_axes`` is given).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4),
        ...                               bias_axes="de")
        >>> layer(np.ones((3, 5, 8))).shape
        (3, 5, 2, 4)
        >>> [w.shape for w in layer.get_weights()]
        [(8, 2, 4), (2, 4)]
    """

    def __init__(self, equation: str, output_shape: Any, activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        from chainrule import activations, constraints, initializers, regularizers  # noqa: PLC0415

        for key, ok in (("lora_rank", None), ("lora_alpha", None),
                        ("quantization_config", None), ("gptq_unpacked_column_size", None)):
            if kwargs.get(key, ok) != ok:
                raise ValueError(f"EinsumDense does not support {key} (quantization and LoRA "
                                 f"are not part of chainrule). Received: {key}={kwargs[key]!r}")
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense layer {self.name!r}: equation must be a string. "
                             f"Received: equation={equation!r}")
        if isinstance(output_shape, (int, np.integer)) and not isinstance(output_shape, bool):
            output_shape = (int(output_shape),)
        if not isinstance(output_shape, (list, tuple)) or not all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                              and d > 0) for d in output_shape):
            raise ValueError(
                f"EinsumDense layer {self.name!r}: output_shape must be an int or a tuple of "
                f"positive ints and None. Received: output_shape={output_shape!r}")
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise ValueError(f"EinsumDense layer {self.name!r}: bias_axes must be a string of "
                             f"output letters or None. Received: bias_axes={bias_axes!r}")
        self.equation = equation
        self.partial_output_shape = tuple(None if d is None else int(d) for d in output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel: Any = None
        self.bias: Any = None
        self.full_output_shape: tuple | None = None

    def build(self, input_shape: Any) -> None:
        from chainrule import initializers  # noqa: PLC0415

        kernel, bias, out, in_axes, out_axes = einsum_weight_shapes(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape,
            self.name)
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            # Keras 3 counts the fans over the kernel's summed and output axes
            init = type(init).from_config({**init.get_config(), "input_axes": in_axes,
                                           "output_axes": out_axes})
        self.kernel = self.add_weight(tuple(kernel), init, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        if bias is not None:
            self.bias = self.add_weight(tuple(bias), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        self.full_output_shape = tuple(out)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The output shape for ``input_shape`` (batch first), as the equation gives it."""
        return tuple(einsum_weight_shapes(self.equation, self.bias_axes, tuple(input_shape),
                                          self.partial_output_shape, self.name)[2])

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        y = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        if self.activation is not None:
            y = self.activation(y)
        if self.activity_regularizer is not None:
            self._losses = [self.activity_regularizer(y)]
        return y

    def get_config(self) -> dict:
        from chainrule import activations, constraints, regularizers  # noqa: PLC0415

        def reg(r: Any) -> Any:
            return None if r is None else regularizers.serialize(r)

        config = super().get_config()
        config.update({
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": _serialize_initializer(self.kernel_initializer),
            "bias_initializer": _serialize_initializer(self.bias_initializer),
            "kernel_regularizer": reg(self.kernel_regularizer),
            "bias_regularizer": reg(self.bias_regularizer),
            "activity_regularizer": reg(self.activity_regularizer),
        })
        config.update(constraints.layer_config(self, ("kernel_constraint", "bias_constraint")))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "EinsumDense":
        return cls(**deserialize_weight_settings(config))


def deserialize_weight_settings(config: dict) -> dict:
    """A layer config with its initializer, regularizer and constraint entries as objects.

    Example:
        >>> deserialize_weight_settings({"kernel_regularizer": {"class_name": "L2",
        ...                              "config": {"l2": 0.5}}})["kernel_regularizer"].l2
        0.5
    """
    from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

    config = constraints.from_layer_config(config)
    for key in ("kernel_initializer", "bias_initializer"):
        if isinstance(config.get(key), dict):
            config[key] = initializers.deserialize(config[key])
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        if isinstance(config.get(key), dict):
            config[key] = regularizers.deserialize(config[key])
    return config

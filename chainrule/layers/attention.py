"""Attention layers: MultiHeadAttention, GroupQueryAttention, Attention (Luong) and
AdditiveAttention (Bahdanau)."""

from __future__ import annotations

import math
import string
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import (
    POSITIONAL_TENSORS,
    KerasTensor,
    Layer,
    _dummy_like,
    _float_dtype,
    _to_tensor,
)
from chainrule.layers.core import _serialize_initializer
from chainrule.layers.einsum_dense import EinsumDense, deserialize_weight_settings

__all__ = ["MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention", "Attention",
           "AdditiveAttention"]

#: What a masked attention logit becomes before the softmax (Keras 3's Softmax layer).
MASKED_LOGIT = -1e9


def _as_tensor(x: Any, layer: Layer) -> Any:
    """An input as a Tensor of the layer's float dtype (as ``Layer.__call__`` converts the first)."""
    return x if isinstance(x, Tensor) else _to_tensor(x, _float_dtype(layer.dtype))


def _as_mask(mask: Any) -> Any:
    """A mask (booleans or numbers, true/above 0.5 = attend) as a boolean Tensor."""
    if mask is None:
        return None
    mask = mask if isinstance(mask, Tensor) else ops.convert_to_tensor(np.asarray(mask))
    if mask.dtype != np.bool_:
        mask = ops.greater(mask, 0.5) if mask.dtype.kind == "f" else ops.cast(mask, "bool")
    return mask


def _and(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else ops.logical_and(a, b)


def _letters(i: int) -> str:
    return string.ascii_lowercase[i]


def projection_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """The einsum of a projection in multi-head attention: free axes kept, bound axes summed.

    Returns:
        ``(equation, bias_axes, output_rank)``.

    Example:
        >>> projection_equation(2, 1, 2)
        ('abc,cde->abde', 'de', 4)
    """
    free = "".join(_letters(i) for i in range(free_dims))
    bound = "".join(_letters(free_dims + i) for i in range(bound_dims))
    out = "".join(_letters(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, free_dims + output_dims


def attention_equations(rank: int, attn_axes: Sequence[int]) -> tuple[str, str, int]:
    """The einsums of the scores and of their combination with the values.

    Projected tensors have shape ``(batch, <other axes>, <attention axes>, heads, channels)``;
    the scores ``(batch, <other axes>, heads, <query attention axes>, <key attention axes>)``.

    Returns:
        ``(dot_product_equation, combine_equation, scores_rank)``.

    Example:
        >>> attention_equations(4, (1,))
        ('aecd,abcd->acbe', 'acbe,aecd->abcd', 4)
    """
    target = "".join(_letters(i) for i in range(rank))
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, extra = "", rank
    for i in range(rank):
        if i in batch or i == rank - 1:
            source += target[i]
        else:
            source += _letters(extra)
            extra += 1
    product = ("".join(target[i] for i in batch) + "".join(target[i] for i in attn_axes)
               + "".join(source[i] for i in attn_axes))
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _positive_int(value: Any, name: str, what: str, allow_none: bool = False) -> Any:
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what}: {name} must be a positive integer"
                         f"{' or None' if allow_none else ''}. Received: {name}={value!r}")
    return int(value)


def _shape_list(shape: Any) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017) with Keras 3's weights and numbers.

    ``query``, ``key`` and ``value`` are projected into ``num_heads`` heads by
    :class:`EinsumDense` sublayers ``query``, ``key`` and ``value``; each head's scores
    ``query . key / sqrt(key_dim)`` are softmaxed over the attention axes (masked positions
    get -1e9 first), applied to the values, and the heads are projected back by the
    sublayer ``attention_output``.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities while training.
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (default: the query's last dimension).
        attention_axes: the axes attended over (default: all but batch, heads and features).
        sliding_window: optional: each query position attends only to key positions less
            than this far away.
        flash_attention: accepted for Keras compatibility; only False/None (no fused kernel).
        kernel_initializer, bias_initializer: the projections' initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints.
        use_gate: add a sigmoid gate ``gate`` projected from the query (Keras 3's gated
            attention).
        seed: seed of the attention dropout.
        **kwargs: layer arguments (``name``, ``dtype``...).

    Call arguments:
        query: ``(batch, T, dim)``.
        value: ``(batch, S, dim_v)``.
        key: optional ``(batch, S, dim_k)`` (default ``value``).
        query_mask, value_mask, key_mask: optional ``(batch, T)``/``(batch, S)`` masks;
            default the inputs' Keras masks (e.g. from ``Embedding(mask_zero=True)``).
        attention_mask: optional boolean ``(batch, T, S)`` (1: attend), broadcast over heads.
        return_attention_scores: also return the scores ``(batch, heads, T, S)``.
        training: apply the dropout.
        use_causal_mask: position ``i`` attends only to positions ``<= i``.

    Weights:
        ``query/kernel (dim, heads, key_dim)``, ``query/bias (heads, key_dim)``, the same for
        ``key`` and ``value`` (``value_dim``), then ``attention_output/kernel
        (heads, value_dim, dim)`` and ``attention_output/bias (dim,)``.

    Example:
        >>> import chainrule as cr
        >>> mha = cr.layers.MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.ones((3, 5, 8), "float32")
        >>> out, scores = mha(x, x, return_attention_scores=True)
        >>> out.shape, scores.shape
        ((3, 5, 8), (3, 2, 5, 5))
    """

    supports_masking = True  # the output keeps the query's mask

    def __init__(self, num_heads: int, key_dim: int | None = None, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, sliding_window: int | None = None,
                 flash_attention: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        what = self._what()
        self._num_heads = _positive_int(num_heads, "num_heads", what)
        self._num_kv_heads = self._num_heads  # fewer in grouped-query attention
        self._key_dim = _positive_int(key_dim, "key_dim", what)
        self._value_dim = _positive_int(value_dim, "value_dim", what, allow_none=True) \
            or self._key_dim
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            if not isinstance(output_shape, (list, tuple)) or not all(
                    isinstance(d, (int, np.integer)) and d > 0 for d in output_shape):
                raise ValueError(f"{what}: output_shape must be an int or a tuple of positive "
                                 f"ints. Received: output_shape={output_shape!r}")
            output_shape = tuple(int(d) for d in output_shape)
        self._output_shape_arg = output_shape or None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"{what}: attention_axes must be an int, list or tuple. "
                             f"Received: attention_axes={attention_axes!r}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._init_settings(dropout, use_bias, sliding_window, flash_attention,
                            kernel_initializer, bias_initializer, kernel_regularizer,
                            bias_regularizer, activity_regularizer, kernel_constraint,
                            bias_constraint, use_gate, seed)

    def _init_settings(self, dropout: Any, use_bias: Any, sliding_window: Any,
                       flash_attention: Any, kernel_initializer: Any, bias_initializer: Any,
                       kernel_regularizer: Any, bias_regularizer: Any,
                       activity_regularizer: Any, kernel_constraint: Any,
                       bias_constraint: Any, use_gate: Any, seed: Any) -> None:
        """Check and keep the arguments every multi-head attention layer shares."""
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        what = self._what()
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"{what}: dropout must be a number in [0, 1). "
                             f"Received: dropout={dropout!r}")
        if flash_attention:
            raise ValueError(f"{what}: flash attention is not available in chainrule (no fused "
                             f"kernel). Received: flash_attention={flash_attention!r}")
        self._dropout = float(dropout)
        self._use_bias = bool(use_bias)
        self._use_gate = bool(use_gate)
        self._sliding_window = _positive_int(sliding_window, "sliding_window", what,
                                             allow_none=True)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._query_dense: Any = None
        self._key_dense: Any = None
        self._value_dense: Any = None
        self._gate_dense: Any = None
        self._output_dense: Any = None
        self._shapes: dict | None = None

    # Keras's read-only properties
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def _what(self) -> str:
        return f"{type(self).__name__} layer {self.name!r}"

    def _sublayer_kwargs(self) -> dict:
        def fresh(init: Any) -> Any:  # a copy each: an initializer is not shared
            return type(init).from_config(init.get_config()) if hasattr(init, "get_config") \
                else init

        return {"kernel_initializer": fresh(self._kernel_initializer),
                "bias_initializer": fresh(self._bias_initializer),
                "kernel_regularizer": self._kernel_regularizer,
                "bias_regularizer": self._bias_regularizer,
                "activity_regularizer": self._activity_regularizer,
                "kernel_constraint": self._kernel_constraint,
                "bias_constraint": self._bias_constraint, "dtype": self.dtype}

    def _projection(self, rank: int, bound: int, known: Sequence[int], name: str,
                    activation: Any = None) -> EinsumDense:
        equation, bias_axes, out_rank = projection_equation(rank - 1, bound, len(known))
        return EinsumDense(equation, output_shape=[None] * (out_rank - 1 - len(known))
                           + list(known), bias_axes=bias_axes if self._use_bias else None,
                           activation=activation, name=name, **self._sublayer_kwargs())

    def _input_shapes(self, query_shape: Any, value_shape: Any = None,
                      key_shape: Any = None) -> tuple:
        """``(query_shape, value_shape, key_shape)`` as tuples, checked (defaults: self-attention,
        key = value); ``build([query_shape, value_shape])`` (one list) is accepted too."""
        if value_shape is None and isinstance(query_shape, (list, tuple)) and query_shape \
                and isinstance(query_shape[0], (list, tuple)):
            shapes = list(query_shape) + [None] * (3 - len(query_shape))
            query_shape, value_shape, key_shape = shapes[:3]
        query_shape = _shape_list(query_shape)
        value_shape = query_shape if value_shape is None else _shape_list(value_shape)
        key_shape = value_shape if key_shape is None else _shape_list(key_shape)
        what = self._what()
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise ValueError(
                f"{what}: query and value must be sequences of the same rank, at least 3 "
                "(batch, positions..., features). Received: "
                f"query_shape={query_shape}, value_shape={value_shape}")
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"{what}: all dimensions of value and key but the last must be equal. "
                f"Received: value_shape={value_shape}, key_shape={key_shape}")
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(f"{what}: the last dimension of {name} must be known. "
                                 f"Received: {name}_shape={shape}")
        return query_shape, value_shape, key_shape

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Create the projections for the given input shapes (batch first).

        ``build([query_shape, value_shape])`` (one list) is accepted too; without
        ``value_shape`` the layer is built for self-attention on ``query_shape``.
        """
        query_shape, value_shape, key_shape = self._input_shapes(query_shape, value_shape,
                                                                 key_shape)
        what = self._what()
        rank = len(query_shape)
        heads = self._num_heads
        self._query_dense = self._projection(rank, 1, [heads, self._key_dim], "query")
        self._query_dense.build(query_shape)
        kv_heads = self._num_kv_heads
        self._key_dense = self._projection(rank, 1, [kv_heads, self._key_dim], "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = self._projection(rank, 1, [heads, self._value_dim], "gate",
                                                activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._projection(rank, 1, [kv_heads, self._value_dim], "value")
        self._value_dense.build(value_shape)
        proj_rank = rank + 1
        axes = self._attention_axes
        axes = tuple(range(1, proj_rank - 2)) if axes is None else tuple(
            a if a >= 0 else proj_rank - 1 + a for a in axes)
        if not axes or any(not 1 <= a < proj_rank - 2 for a in axes) or len(set(axes)) < len(axes):
            raise ValueError(
                f"{what}: attention_axes must be distinct axes between the batch and the "
                f"features of the inputs (1 to {rank - 2}). Received: "
                f"attention_axes={self._attention_axes!r}")
        self._attention_axes = axes
        self._dot_equation, self._combine_equation, scores_rank = attention_equations(
            proj_rank, axes)
        self._norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        out_shape = self._output_shape_arg or (query_shape[-1],)
        self._output_dense = self._projection(rank, 2, list(out_shape), "attention_output")
        self._output_dense.build(query_shape[:-1] + (heads, self._value_dim))
        self._shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape != value_shape:
            self._shapes["key_shape"] = key_shape
        self.built = True
        self._build_shape = query_shape

    def get_build_config(self) -> dict | None:
        """Keras 3's build config: ``{"shapes_dict": {"query_shape": ..., "value_shape": ...}}``."""
        if not self.built or self._shapes is None:
            return None
        return {"shapes_dict": {k: list(v) for k, v in self._shapes.items()}}

    def build_from_config(self, config: dict | None) -> None:
        """Build from :meth:`get_build_config`'s output (or ``{"input_shape": ...}``)."""
        if not config:
            return
        shapes = config.get("shapes_dict") if isinstance(config, dict) else None
        if isinstance(shapes, dict) and "query_shape" in shapes:
            self.build(shapes["query_shape"], shapes.get("value_shape"), shapes.get("key_shape"))
        elif isinstance(config, dict) and "input_shape" in config:
            self.build(config["input_shape"])
        else:
            raise ValueError(f"{self._what()}: build_from_config expects Keras's "
                             f"{{'shapes_dict': {{'query_shape': ..., 'value_shape': ...}}}}. "
                             f"Received: config={config!r:.200}")

    def __call__(self, query: Any = None, value: Any = None, key: Any = None,
                 **kwargs: Any) -> Any:
        if query is None or value is None:
            raise ValueError(f"{self._what()} must be called with a query and a value, e.g. "
                             "mha(query, value). Received: "
                             f"query={'None' if query is None else 'a tensor'}, "
                             f"value={'None' if value is None else 'a tensor'}")
        if not self.built:
            self.build(np.shape(query) if not hasattr(query, "shape") else query.shape,
                       value.shape if hasattr(value, "shape") else np.shape(value),
                       None if key is None else (key.shape if hasattr(key, "shape")
                                                 else np.shape(key)))
        args = (value,) if key is None else (value, key)
        return super().__call__(query, *args, **kwargs)

    def _unknown_sizes(self, inputs: Any, args: tuple, kwargs: dict, shapes: list) -> list:
        args = tuple(_dummy_like(a, unknown=2) if isinstance(a, KerasTensor) else a for a in args)
        kwargs = {k: v for k, v in kwargs.items() if k != POSITIONAL_TENSORS}
        return super()._unknown_sizes(inputs, args, kwargs, shapes)

    def _check_inputs(self, query: Any, value: Any, key: Any) -> None:
        shapes = self._shapes or {}
        for name, x, built in (("query", query, shapes.get("query_shape")),
                               ("value", value, shapes.get("value_shape")),
                               ("key", key, shapes.get("key_shape", shapes.get("value_shape")))):
            if built is None:
                continue
            if x.ndim != len(built) or x.shape[-1] != built[-1]:
                raise ValueError(
                    f"{self._what()} was built for {name} of shape {built} (last dimension "
                    f"{built[-1]}), but is called on a {name} of shape {tuple(x.shape)}. "
                    f"Received: {name}.shape={tuple(x.shape)}")
        if value.shape[:-1] != key.shape[:-1]:
            raise ValueError(f"{self._what()}: key and value must have the same shape but the "
                             f"last dimension. Received: value.shape={tuple(value.shape)}, "
                             f"key.shape={tuple(key.shape)}")
        if query.shape[0] != value.shape[0]:
            raise ValueError(f"{self._what()}: query and value must have the same batch size. "
                             f"Received: query.shape={tuple(query.shape)}, "
                             f"value.shape={tuple(value.shape)}")

    def _check_attention_mask(self, mask: Any, query: Any, value: Any) -> None:
        """``mask`` must broadcast to the scores without their heads axis: ``(batch, T, S)``."""
        source, target = self._dot_equation.split("->")[0].split(",")
        product = self._dot_equation.split("->")[1]
        sizes = dict(zip(source, tuple(value.shape[:-1]) + (self._num_heads, self._key_dim)))
        sizes.update(zip(target, tuple(query.shape[:-1]) + (self._num_heads, self._key_dim)))
        want = [sizes[c] for c in product]
        del want[len(want) - 2 * len(self._attention_axes) - 1]  # the heads axis
        if mask.ndim > len(want) or any(
                m != 1 and m != w for m, w in zip(mask.shape[::-1], want[::-1])):
            raise ValueError(
                f"{self._what()}: attention_mask must have shape {tuple(want)} (batch, query "
                "positions, key positions), or one that broadcasts to it; 1 where a query "
                f"position may attend to a key position. Received: "
                f"attention_mask.shape={tuple(mask.shape)}")

    def _positions_mask(self, query: Any, value: Any, band: bool) -> Any:
        """The causal (``band=False``) or sliding-window mask, shape ``(1, T, S)``."""
        t, s = int(query.shape[1]), int(value.shape[1])
        rows = np.arange(t).reshape(1, t, 1)
        cols = np.arange(s).reshape(1, 1, s)
        keep = np.abs(rows - cols) < self._sliding_window if band else rows >= cols
        return ops.convert_to_tensor(keep)  # a constant of the shapes, not of the batch

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None,
             value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, training: Any = None,
             use_causal_mask: bool = False) -> Any:
        query, value = _as_tensor(query, self), _as_tensor(value, self)
        key = value if key is None else _as_tensor(key, self)
        self._check_inputs(query, value, key)
        # masks: the inputs' Keras masks unless given (Keras fills query_mask & co. so)
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key is not value:
            key_mask = getattr(key, "_keras_mask", None)
        mask = None
        if query_mask is not None:
            mask = ops.expand_dims(_as_mask(query_mask), -1)
        for m in (value_mask, key_mask):
            if m is not None:
                mask = _and(mask, ops.expand_dims(_as_mask(m), -2))
        if use_causal_mask:
            mask = _and(mask, self._positions_mask(query, value, band=False))
        if self._sliding_window is not None:
            mask = _and(mask, self._positions_mask(query, value, band=True))
        if attention_mask is not None:
            attention_mask = _as_mask(attention_mask)
            self._check_attention_mask(attention_mask, query, value)
            mask = _and(attention_mask, mask)
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        output, scores = self._compute_attention(q, k, v, mask, training,
                                                 return_attention_scores)
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(self, query: Any, key: Any, value: Any, attention_mask: Any = None,
                           training: Any = None, return_attention_scores: bool = False
                           ) -> tuple:
        """Scaled dot-product attention of projected ``(batch, T, heads, key_dim)`` tensors
        (key and value with ``num_key_value_heads`` heads in grouped-query attention).

        Returns:
            ``(output (batch, T, heads, value_dim), probabilities (batch, heads, T, S))``.
        """
        if self._num_kv_heads != self._num_heads:  # grouped query: each key/value head serves
            repeats = self._num_heads // self._num_kv_heads  # that many query heads in a row
            key = ops.repeat(key, repeats, axis=-2)
            value = ops.repeat(value, repeats, axis=-2)
        query = query * self._inverse_sqrt_key_dim
        scores = ops.einsum(self._dot_equation, key, query)
        probs = self._masked_softmax(scores, attention_mask, zero_masked=(
            self._dropout > 0 or return_attention_scores or query.ndim != 4))
        used = probs
        if training and self._dropout > 0:
            used = ops.dropout(probs, self._dropout, None, self._rng)
        return ops.einsum(self._combine_equation, used, value), probs

    def _masked_softmax(self, scores: Any, mask: Any = None, zero_masked: bool = True) -> Any:
        """Softmax over the attention axes; masked scores count as -1e9.

        Rows masked entirely come out as zeros when ``zero_masked`` (Keras's Softmax layer,
        used when the scores are returned, with dropout or several attention axes) and as
        the uniform average otherwise (Keras's fused dot-product attention).
        """
        if mask is None:
            return ops.softmax(scores, axis=self._norm_axes)
        n = len(self._attention_axes)
        while mask.ndim < scores.ndim:  # broadcast over the heads (and other batch axes)
            mask = ops.expand_dims(mask, -2 * n - 1)
        if mask.ndim > scores.ndim or any(
                m != 1 and m != s for m, s in zip(mask.shape[::-1], scores.shape[::-1])):
            raise ValueError(
                f"{self._what()}: the attention mask (with the query/value masks and the "
                f"causal mask) does not fit the attention scores of shape {tuple(scores.shape)} "
                "(batch, heads, T, S); attention_mask should have shape (batch, T, S). "
                f"Received: attention_mask of shape {tuple(mask.shape)} after adding the "
                "heads axis")
        probs = ops.softmax(ops.where(mask, scores, MASKED_LOGIT), axis=self._norm_axes)
        return ops.where(mask, probs, 0.0) if zero_masked else probs

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None,
                             key_shape: Any = None) -> tuple:
        """``query_shape`` with its last axis replaced by ``output_shape`` (or kept)."""
        query_shape = tuple(query_shape)
        if self._output_shape_arg:
            return query_shape[:-1] + tuple(self._output_shape_arg)
        return query_shape

    def _settings_config(self) -> dict:
        """The config entries every multi-head attention layer shares (Keras's keys)."""
        from chainrule import constraints, regularizers  # noqa: PLC0415

        def reg(r: Any) -> Any:
            return None if r is None else regularizers.serialize(r)

        config = {
            "use_bias": self._use_bias, "use_gate": self._use_gate,
            "sliding_window": self._sliding_window, "dropout": self._dropout,
            "kernel_initializer": _serialize_initializer(self._kernel_initializer),
            "bias_initializer": _serialize_initializer(self._bias_initializer),
            "kernel_regularizer": reg(self._kernel_regularizer),
            "bias_regularizer": reg(self._bias_regularizer),
            "activity_regularizer": reg(self._activity_regularizer),
        }
        held = SimpleNamespace(name=self.name, kernel_constraint=self._kernel_constraint,
                               bias_constraint=self._bias_constraint)
        config.update(constraints.layer_config(held, ("kernel_constraint", "bias_constraint")))
        config["seed"] = self.seed
        return config

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_heads": self._num_heads, "key_dim": self._key_dim,
            "value_dim": self._value_dim, "output_shape": self._output_shape_arg,
            "attention_axes": None if self._attention_axes is None
            else list(self._attention_axes),
        })
        config.update(self._settings_config())
        return config

    @classmethod
    def from_config(cls, config: dict) -> "MultiHeadAttention":
        return cls(**deserialize_weight_settings(config))


class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention (Ainslie et al., 2023), Keras 3's ``GroupQueryAttention``.

    Multi-head attention whose key and value have ``num_key_value_heads`` heads, each shared
    by ``num_query_heads // num_key_value_heads`` consecutive query heads (the projected key
    and value are repeated along the heads axis by ``ops.repeat``). One key/value head is
    multi-query attention; as many as the query heads is :class:`MultiHeadAttention`. The
    output has the query's shape.

    Args:
        head_dim: the size of each head (query, key and value).
        num_query_heads: the number of query heads.
        num_key_value_heads: the number of key and value heads; it must divide
            ``num_query_heads``.
        dropout: dropout rate on the attention probabilities while training.
        use_bias: whether the projections have biases.
        sliding_window: optional: each query position attends only to key positions less
            than this far away.
        flash_attention: accepted for Keras compatibility; only False/None (no fused kernel).
        kernel_initializer, bias_initializer: the projections' initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
        kernel_constraint, bias_constraint: optional constraints.
        use_gate: add a sigmoid gate ``gate`` projected from the query.
        seed: seed of the attention dropout.
        **kwargs: layer arguments (``name``, ``dtype``...).

    Call arguments:
        query: ``(batch, T, dim)``.
        value: ``(batch, S, dim)``.
        key: optional ``(batch, S, dim_k)`` (default ``value``).
        query_mask, value_mask, key_mask: optional masks, default the inputs' Keras masks.
        attention_mask: optional boolean ``(batch, T, S)`` (1: attend), broadcast over heads.
        return_attention_scores: also return the scores ``(batch, num_query_heads, T, S)``.
        training: apply the dropout.
        use_causal_mask: position ``i`` attends only to positions ``<= i``.

    Weights (Keras's names, shapes and order):
        ``query/kernel (dim, num_query_heads, head_dim)``, ``query/bias (num_query_heads,
        head_dim)``, ``key/kernel (dim_k, num_key_value_heads, head_dim)``, ``key/bias``,
        (``gate/kernel``, ``gate/bias`` with ``use_gate``), ``value/kernel``, ``value/bias``,
        ``attention_output/kernel (num_query_heads, head_dim, dim)``,
        ``attention_output/bias (dim,)``.

    Example:
        >>> import chainrule as cr
        >>> gqa = cr.layers.GroupQueryAttention(head_dim=4, num_query_heads=4,
        ...                                     num_key_value_heads=2)
        >>> x = np.ones((3, 5, 8), "float32")
        >>> out, scores = gqa(x, x, return_attention_scores=True)
        >>> out.shape, scores.shape, gqa.key_dense.kernel.shape
        ((3, 5, 8), (3, 4, 5, 5), (8, 2, 4))
    """

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int,
                 dropout: float = 0.0, use_bias: bool = True, sliding_window: int | None = None,
                 flash_attention: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, **kwargs: Any) -> None:
        Layer.__init__(self, **kwargs)  # MultiHeadAttention's own arguments do not apply
        what = self._what()
        self._key_dim = self._value_dim = _positive_int(head_dim, "head_dim", what)
        self._num_heads = _positive_int(num_query_heads, "num_query_heads", what)
        self._num_kv_heads = _positive_int(num_key_value_heads, "num_key_value_heads", what)
        if self._num_heads % self._num_kv_heads:
            raise ValueError(
                f"{what}: num_query_heads must be divisible by num_key_value_heads (each key/"
                "value head serves a group of query heads). Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        self._output_shape_arg = None
        self._attention_axes = None
        self._init_settings(dropout, use_bias, sliding_window, flash_attention,
                            kernel_initializer, bias_initializer, kernel_regularizer,
                            bias_regularizer, activity_regularizer, kernel_constraint,
                            bias_constraint, use_gate, seed)

    # Keras's attributes
    head_dim = property(lambda self: self._key_dim)
    num_query_heads = property(lambda self: self._num_heads)
    num_key_value_heads = property(lambda self: self._num_kv_heads)
    num_repeats = property(lambda self: self._num_heads // self._num_kv_heads)
    use_gate = property(lambda self: self._use_gate)
    sliding_window = property(lambda self: self._sliding_window)

    def _what(self) -> str:
        return f"GroupQueryAttention layer {self.name!r}"

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        """Create the projections for ``(batch, positions, features)`` inputs."""
        shapes = self._input_shapes(query_shape, value_shape, key_shape)
        if len(shapes[0]) != 3:
            raise ValueError(
                f"{self._what()}: query, value and key must have rank 3 (batch, positions, "
                f"features). Received: query_shape={shapes[0]}, value_shape={shapes[1]}")
        super().build(*shapes)

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None,
                             key_shape: Any = None) -> tuple:
        """``query_shape``; as in Keras, query and value must have the same last dimension."""
        if value_shape is not None and query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f"{self._what()}: the last dimension of query_shape and value_shape must be "
                f"equal. Received: query_shape={tuple(query_shape)}, "
                f"value_shape={tuple(value_shape)}")
        return tuple(query_shape)

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        config.update({"head_dim": self._key_dim, "num_query_heads": self._num_heads,
                       "num_key_value_heads": self._num_kv_heads})
        config.update(self._settings_config())
        return config


GroupQueryAttention = GroupedQueryAttention  # the name Keras 3 exports


class Attention(Layer):
    """Dot-product attention (Luong-style): ``softmax(query . key) . value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` (``query . key``) or ``"concat"``
            (``concat_score_weight * sum(tanh(query + key))``).
        dropout: dropout rate on the attention distribution while training.
        seed: seed of that dropout.
        **kwargs: layer arguments.

    Call arguments:
        inputs: ``[query (batch, Tq, dim), value (batch, Tv, dim)]`` or
            ``[query, value, key (batch, Tv, dim)]`` (default key: value).
        mask: optional ``[query_mask (batch, Tq), value_mask (batch, Tv)]``; default the
            inputs' Keras masks.
        training: apply the dropout.
        return_attention_scores: also return the distribution ``(batch, Tq, Tv)``.
        use_causal_mask: position ``i`` attends only to positions ``<= i``.

    Output shape:
        ``(batch, Tq, dim)``.

    Example:
        >>> import chainrule as cr
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> cr.layers.Attention()([q, v]).shape
        (2, 3, 4)
    """

    supports_masking = True

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: score_mode must be "
                             f"'dot' or 'concat'. Received: score_mode={score_mode!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: dropout must be a "
                             f"number in [0, 1). Received: dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.scale: Any = None
        self.concat_score_weight: Any = None

    def _what(self) -> str:
        return f"{type(self).__name__} layer {self.name!r}"

    def _validate(self, inputs: Any, mask: Any = None) -> None:
        """Check ``[query, value(, key)]`` (tensors, or shapes when building) and the mask."""
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3 or any(
                isinstance(x, (int, np.integer)) or x is None for x in inputs):
            if isinstance(inputs, (list, tuple)) and any(
                    isinstance(x, (int, np.integer)) or x is None for x in inputs):
                got = f"one input of shape {tuple(inputs)}"  # build's single shape
            elif isinstance(inputs, (list, tuple)):
                got = f"a list of {len(inputs)}"
            else:
                got = f"one input of shape {tuple(getattr(inputs, 'shape', ()))}"
            raise ValueError(f"{self._what()} must be called on a list [query, value] or "
                             f"[query, value, key]. Received: inputs={got}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not
                                 2 <= len(mask) <= 3):
            raise ValueError(f"{self._what()}: mask must be a list [query_mask, value_mask]. "
                             f"Received: mask of type {type(mask).__name__}")
        shapes = [tuple(x) if isinstance(x, (list, tuple)) else tuple(x.shape) for x in inputs]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        if len(q) < 2 or len(v) != len(q) or len(k) != len(q):
            raise ValueError(f"{self._what()}: query, value and key must have the same rank "
                             f"(batch, positions, dim). Received: shapes {shapes}")
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(f"{self._what()}: query and key must have the same last dimension "
                             f"(their scores are dot products). Received: query.shape={q}, "
                             f"key.shape={k}")
        if v[-2] is not None and k[-2] is not None and v[-2] != k[-2]:
            raise ValueError(f"{self._what()}: value and key must have the same number of "
                             f"positions. Received: value.shape={v}, key.shape={k}")

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")
        self.built = True

    def _calculate_scores(self, query: Any, key: Any) -> Any:
        """Scores ``(batch, Tq, Tv)`` of each query position against each key position."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            return scores * self.scale if self.scale is not None else scores
        pair = ops.expand_dims(query, -2) + ops.expand_dims(key, -3)
        if self.scale is not None:
            pair = self.scale * pair
        return self.concat_score_weight * ops.sum(ops.tanh(pair), axis=-1)

    def _input_masks(self, inputs: Any, mask: Any) -> tuple:
        if mask is None:
            mask = [getattr(x, "_keras_mask", None) for x in inputs]
        return _as_mask(mask[0]), _as_mask(mask[1])

    def call(self, inputs: Any, mask: Any = None, training: Any = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        self._validate(inputs, mask)
        inputs = [_as_tensor(x, self) for x in inputs]
        q_mask, v_mask = self._input_masks(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        scores = self._calculate_scores(q, k)
        keep = None if v_mask is None else ops.expand_dims(v_mask, -2)  # (batch, 1, Tv)
        if use_causal_mask:
            tq, tv = int(scores.shape[-2]), int(scores.shape[-1])
            causal = ops.convert_to_tensor(np.tril(np.ones((1, tq, tv), bool)))  # shapes only
            keep = _and(keep, causal)
        if keep is not None:
            scores = ops.where(keep, scores, scores - 1e9)
        weights = ops.softmax(scores, axis=-1)
        used = weights
        if training and self.dropout > 0:
            used = ops.dropout(weights, self.dropout, None, self._rng)
        output = ops.matmul(used, v)
        if q_mask is not None:
            output = ops.where(ops.expand_dims(q_mask, -1), output, 0.0)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (the output has the query's positions)."""
        if mask is None and isinstance(inputs, (list, tuple)) and inputs:
            return getattr(inputs[0], "_keras_mask", None)
        if mask is None or mask[0] is None:
            return None
        return _as_mask(mask[0])

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``query_shape[:-1] + (value_shape[-1],)``."""
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style): scores ``sum(scale * tanh(query + key))``.

    Args:
        use_scale: learn a ``scale`` vector of the inputs' last dimension (default True).
        dropout: dropout rate on the attention distribution while training.
        **kwargs: layer arguments (``seed``, ``name``...).

    Call arguments: as :class:`Attention`.

    Example:
        >>> import chainrule as cr
        >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
        >>> layer = cr.layers.AdditiveAttention()
        >>> layer([q, v]).shape, layer.get_weights()[0].shape
        ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._validate(input_shape)
        dim = input_shape[0][-1]
        if self.use_scale:
            if dim is None:
                raise ValueError(f"{self._what()}: the query's last dimension must be known. "
                                 f"Received: input_shape={input_shape}")
            self.scale = self.add_weight((int(dim),), "glorot_uniform", name="scale")
        self.built = True

    def _calculate_scores(self, query: Any, key: Any) -> Any:
        pair = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))
        if self.scale is not None:
            pair = self.scale * pair
        return ops.sum(pair, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config

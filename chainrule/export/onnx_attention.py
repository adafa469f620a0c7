"""ONNX converters of EinsumDense and the attention layers (MultiHeadAttention,
GroupQueryAttention, Attention, AdditiveAttention), inference only.

Projections are ONNX ``Einsum`` nodes on the layers' own equations; masks (an
``attention_mask`` or ``mask=[query_mask, value_mask]`` given as model inputs or
computed in the graph, ``use_causal_mask``, ``sliding_window``) are combined as the
layers combine them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.export.onnx_export import OnnxGraph, UnsupportedLayerError
from chainrule.export.onnx_ops import softmax_axes

__all__ = ["ATTENTION_CONVERTERS", "emit_einsum_dense"]


def _unsupported(layer: Any, what: str, received: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f'Layer "{layer.name}" ({type(layer).__name__}) cannot be exported to ONNX: {what}. '
        f"Received: {received}")


def emit_einsum_dense(g: OnnxGraph, layer: Any, x: str) -> str:
    """``activation(einsum(equation, x, kernel) + bias)`` of an EinsumDense layer."""
    from chainrule.export.onnx_layers import emit_activation  # noqa: PLC0415

    kernel = np.asarray(layer.kernel.numpy(), np.float32)
    y = g.node("Einsum", [x, g.const(kernel, f"{layer.name}/kernel")], layer.name,
               equation=layer.equation)
    if layer.bias is not None:
        y = g.node("Add", [y, g.const(np.asarray(layer.bias.numpy(), np.float32),
                                      f"{layer.name}/bias")], layer.name)
    if layer.activation is not None:
        y = emit_activation(g, layer, layer.activation, y)
    return y


def _einsum_dense(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                  out_shapes: list) -> list:
    return [emit_einsum_dense(g, layer, g.node("Cast", [inputs[0]], layer.name, to=1))]


def _as_bool(g: OnnxGraph, name: str, mask: str) -> str:
    """A mask (booleans or numbers, above 0.5 = attend) as booleans."""
    as_float = g.node("Cast", [mask], name, to=1)
    return g.node("Greater", [as_float, g.const(np.float32(0.5), "half")], name)


def _and(g: OnnxGraph, name: str, a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else g.node("And", [a, b], name)


def _positions(g: OnnxGraph, name: str, query: str, value: str, axis: int) -> tuple:
    """``(rows (T, 1), cols (S,))``: the positions along ``axis`` of the query and value."""
    def arange(x: str) -> str:
        n = g.node("Gather", [g.node("Shape", [x], name),
                              g.const(np.array(axis, np.int64), "axis", np.int64)], name, axis=0)
        return g.node("Range", [g.const(np.array(0, np.int64), "zero", np.int64), n,
                                g.const(np.array(1, np.int64), "one", np.int64)], name)
    rows = g.node("Unsqueeze", [arange(query), g.ints([1], "axes")], name)
    return rows, arange(value)


def _causal(g: OnnxGraph, name: str, query: str, value: str, axis: int) -> str:
    """``(1, T, S)``: query position ``i`` sees key positions up to ``i``."""
    rows, cols = _positions(g, name, query, value, axis)
    keep = g.node("GreaterOrEqual", [rows, cols], name)
    return g.node("Unsqueeze", [keep, g.ints([0], "axes")], name)


def _band(g: OnnxGraph, name: str, query: str, value: str, window: int) -> str:
    rows, cols = _positions(g, name, query, value, 1)
    dist = g.node("Abs", [g.node("Sub", [rows, cols], name)], name)
    keep = g.node("Less", [dist, g.const(np.array(window, np.int64), "window", np.int64)], name)
    return g.node("Unsqueeze", [keep, g.ints([0], "axes")], name)


def _mha(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list,
         call_kwargs: dict | None = None, dtypes: tuple | None = None) -> list:
    kw = dict(call_kwargs or {})
    name = layer.name
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    if kw.get("key") is not None:
        key = kw.pop("key")[0]
    rank = len(shapes[0])
    unknown = sorted(k for k, v in kw.items() if v is not None and v is not False and k not in (
        "attention_mask", "query_mask", "value_mask", "key_mask", "use_causal_mask",
        "return_attention_scores"))
    if unknown:
        raise _unsupported(layer, "it is exported with attention_mask, query_mask, value_mask, "
                           "key_mask, use_causal_mask and return_attention_scores",
                           f"call arguments {unknown}")
    query = g.node("Cast", [query], name, to=1)
    value = g.node("Cast", [value], name, to=1)
    key = g.node("Cast", [key], name, to=1) if key != inputs[1] else value
    # the mask: (batch, T, S)-like, booleans; as MultiHeadAttention.call combines them
    mask = None
    if kw.get("query_mask") is not None:
        mask = g.node("Unsqueeze", [_as_bool(g, name, kw["query_mask"][0]),
                                    g.ints([-1], "axes")], name)
    for m in ("value_mask", "key_mask"):
        if kw.get(m) is not None:
            mask = _and(g, name, mask, g.node("Unsqueeze", [_as_bool(g, name, kw[m][0]),
                                                            g.ints([-2], "axes")], name))
    if kw.get("use_causal_mask"):
        if rank != 3:
            raise _unsupported(layer, "use_causal_mask is exported for inputs of rank 3 "
                               "(batch, positions, features)", f"query of shape {shapes[0]}")
        mask = _and(g, name, mask, _causal(g, name, query, value, 1))
    if layer._sliding_window is not None:
        mask = _and(g, name, mask, _band(g, name, query, value, int(layer._sliding_window)))
    if kw.get("attention_mask") is not None:
        mask = _and(g, name, _as_bool(g, name, kw["attention_mask"][0]), mask)
    q = emit_einsum_dense(g, layer._query_dense, query)
    k = emit_einsum_dense(g, layer._key_dense, key)
    v = emit_einsum_dense(g, layer._value_dense, value)
    gate = emit_einsum_dense(g, layer._gate_dense, query) if layer._use_gate else None
    if layer._num_kv_heads != layer._num_heads:  # each key/value head serves `repeats` heads
        repeats = layer._num_heads // layer._num_kv_heads

        def repeat(x: str) -> str:
            y = g.node("Unsqueeze", [x, g.ints([-2], "axes")], name)  # (b, S, kv, 1, d)
            y = g.node("Expand", [y, g.ints([1, 1, 1, repeats, 1], "expand")], name)
            return g.node("Reshape", [y, g.ints([0, 0, layer._num_heads, -1])], name)
        k, v = repeat(k), repeat(v)
    q = g.node("Mul", [q, g.const(np.float32(layer._inverse_sqrt_key_dim), "scale")], name)
    scores = g.node("Einsum", [k, q], name, equation=layer._dot_equation)
    norm_axes = [int(a) for a in layer._norm_axes]
    return_scores = bool(kw.get("return_attention_scores"))
    if mask is None:
        probs = softmax_axes(g, name, scores, norm_axes)
    else:
        n = len(layer._attention_axes)
        scores_rank = len(layer._dot_equation.split("->")[1])
        mask = _expand_mask(g, name, mask, kw, rank, n, scores_rank, layer)
        masked = g.node("Where", [mask, scores, g.const(np.float32(-1e9), "masked")], name)
        probs = softmax_axes(g, name, masked, norm_axes)
        zero_masked = layer._dropout > 0 or return_scores or rank + 1 != 4
        if zero_masked:
            probs = g.node("Where", [mask, probs, g.const(np.float32(0.0), "zero")], name)
    out = g.node("Einsum", [probs, v], name, equation=layer._combine_equation)
    if gate is not None:
        out = g.node("Mul", [out, gate], name)
    out = emit_einsum_dense(g, layer._output_dense, out)
    return [out, probs] if return_scores else [out]


def _mask_rank(kw: dict, rank: int, n: int, causal_or_band: bool) -> int:
    """The rank of the combined mask, as MultiHeadAttention.call builds it."""
    ranks = []
    if kw.get("query_mask") is not None:
        ranks.append(len(kw["query_mask"][1]) + 1)
    for m in ("value_mask", "key_mask"):
        if kw.get(m) is not None:
            ranks.append(len(kw[m][1]) + 1)
    if causal_or_band:
        ranks.append(3)
    if kw.get("attention_mask") is not None:
        ranks.append(len(kw["attention_mask"][1]))
    return max(ranks)


def _expand_mask(g: OnnxGraph, name: str, mask: str, kw: dict, rank: int, n: int,
                 scores_rank: int, layer: Any) -> str:
    m_rank = _mask_rank(kw, rank, n, bool(kw.get("use_causal_mask"))
                        or layer._sliding_window is not None)
    while m_rank < scores_rank:  # new axes before the attention axes (the heads axis first)
        mask = g.node("Unsqueeze", [mask, g.ints([-2 * n - 1], "axes")], name)
        m_rank += 1
    return mask


_mha.takes_call_arguments = True  # type: ignore[attr-defined]


def _dot_attention(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list,
                   call_kwargs: dict | None = None, dtypes: tuple | None = None) -> list:
    kw = dict(call_kwargs or {})
    name = layer.name
    q, v = (g.node("Cast", [x], name, to=1) for x in inputs[:2])
    k = g.node("Cast", [inputs[2]], name, to=1) if len(inputs) > 2 else v
    masks = kw.get("mask")
    q_mask = v_mask = None
    if masks is not None:
        if not isinstance(masks, list) or len(masks) < 2:
            raise _unsupported(layer, "mask is exported as a list [query_mask, value_mask] of "
                               "model tensors", f"mask={masks!r}")
        q_mask = _as_bool(g, name, masks[0][0])
        v_mask = _as_bool(g, name, masks[1][0])
    if type(layer).__name__ == "AdditiveAttention":
        pair = g.node("Tanh", [g.node("Add", [
            g.node("Unsqueeze", [q, g.ints([-2], "axes")], name),
            g.node("Unsqueeze", [k, g.ints([-3], "axes")], name)], name)], name)
        if layer.scale is not None:
            pair = g.node("Mul", [pair, g.const(layer.scale.numpy(), f"{name}/scale")], name)
        scores = g.node("ReduceSum", [pair, g.ints([-1], "axes")], name, keepdims=0)
    elif layer.score_mode == "dot":
        scores = g.node("MatMul", [q, g.node("Transpose", [k], name, perm=[
            *range(len(shapes[0]) - 2), len(shapes[0]) - 1, len(shapes[0]) - 2])], name)
        if layer.scale is not None:
            scores = g.node("Mul", [scores, g.const(layer.scale.numpy(), f"{name}/scale")],
                            name)
    else:  # concat
        pair = g.node("Add", [g.node("Unsqueeze", [q, g.ints([-2], "axes")], name),
                              g.node("Unsqueeze", [k, g.ints([-3], "axes")], name)], name)
        if layer.scale is not None:
            pair = g.node("Mul", [pair, g.const(layer.scale.numpy(), f"{name}/scale")], name)
        scores = g.node("Mul", [g.const(layer.concat_score_weight.numpy(),
                                        f"{name}/concat_score_weight"),
                                g.node("ReduceSum", [g.node("Tanh", [pair], name),
                                                     g.ints([-1], "axes")], name, keepdims=0)],
                        name)
    keep = None if v_mask is None else g.node("Unsqueeze", [v_mask, g.ints([-2], "axes")], name)
    if kw.get("use_causal_mask"):
        if len(shapes[0]) != 3:
            raise _unsupported(layer, "use_causal_mask is exported for inputs of rank 3",
                               f"query of shape {shapes[0]}")
        keep = _and(g, name, keep, _causal(g, name, q, v, 1))
    if keep is not None:
        scores = g.node("Where", [keep, scores, g.node("Sub", [
            scores, g.const(np.float32(1e9), "big")], name)], name)
    weights = g.node("Softmax", [scores], name, axis=-1)
    out = g.node("MatMul", [weights, v], name)
    if q_mask is not None:
        out = g.node("Where", [g.node("Unsqueeze", [q_mask, g.ints([-1], "axes")], name), out,
                               g.const(np.float32(0.0), "zero")], name)
    return [out, weights] if kw.get("return_attention_scores") else [out]


_dot_attention.takes_call_arguments = True  # type: ignore[attr-defined]

ATTENTION_CONVERTERS: dict[str, Callable] = {
    "EinsumDense": _einsum_dense,
    "MultiHeadAttention": _mha,
    "GroupedQueryAttention": _mha,
    "GroupQueryAttention": _mha,
    "Attention": _dot_attention,
    "AdditiveAttention": _dot_attention,
}
"""Converters of EinsumDense and the attention layers, by class name."""

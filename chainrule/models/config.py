"""Model and layer configurations: JSON-serializable descriptions and their safe inverse.

Rebuilding from a config only ever instantiates chainrule's own registered
classes or classes the caller passes in ``custom_objects``: nothing named in a
config is imported or called.
"""

from __future__ import annotations

import collections
from typing import Any

from chainrule.layers.base import KEYWORD_TENSORS, POSITIONAL_TENSORS, split_keyword_tensors

__all__ = ["layer_to_config", "layer_from_config", "functional_config", "functional_from_config",
           "layer_registry"]


def layer_registry() -> dict:
    """Map class names to chainrule's built-in layer and model classes."""
    from chainrule import models  # noqa: F401, PLC0415  (the model classes register on import)
    from chainrule.layers.serialization import registered_layer_classes  # noqa: PLC0415

    return registered_layer_classes()


def layer_to_config(layer: Any) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}``."""
    from chainrule.layers.serialization import serialize  # noqa: PLC0415

    return serialize(layer)


def layer_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """Instantiate a layer from :func:`layer_to_config`'s output.

    Raises:
        ValueError: for a malformed config or an unknown class name.
    """
    from chainrule.layers.serialization import deserialize  # noqa: PLC0415

    return deserialize(config, custom_objects)


def functional_config(model: Any) -> dict:
    """Describe a functional model: its layers, which tensors feed each call, its inputs/outputs.

    Every node of the graph is written, the ops recorded on symbolic tensors included
    (``model.operations``, as Keras 3's config lists its graph operations).
    """
    node_index: dict = {}
    for layer in model.operations:
        for i, node in enumerate(layer._inbound_nodes):
            node_index[id(node)] = (layer.name, i)
    layers = []
    # An input that is a layer's output (a graph cut there) is written as an InputLayer of
    # its shape and dtype, named "<tensor>CLONE", as Keras 3 writes it
    cut: dict = {}
    for t in model.inputs:
        if id(t.node) not in node_index and id(t) not in cut:
            from chainrule.layers.core import InputLayer  # noqa: PLC0415

            clone = InputLayer(batch_shape=t.shape, dtype=t.dtype, name=f"{t.name}CLONE")
            cut[id(t)] = [clone.name, 0, 0]
            entry = layer_to_config(clone)
            entry["name"], entry["inbound_nodes"] = clone.name, []
            layers.append(entry)
    in_model = {id(n) for n in model._nodes}
    for layer in model.operations:
        inbound, positional, keywords, by_keyword = [], [], [], []
        for node in layer._inbound_nodes:
            if id(node) not in in_model:
                continue
            inbound.append([cut.get(id(t)) or [*node_index[id(t.node)], t.node.outputs.index(t)]
                            for t in node.inputs])
            positional.append(int(node.kwargs.get(POSITIONAL_TENSORS, 0)))
            keywords.append(_call_keywords(node.kwargs, layer.name))
            by_keyword.append([[k, n] for k, n in node.kwargs.get(KEYWORD_TENSORS, ())])
        entry = layer_to_config(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        if any(positional):  # layer(targets, logits): the last n inputs are positional arguments
            entry["positional_tensors"] = positional
        if any(keywords):  # layer(q, v, use_causal_mask=True): constant keyword arguments
            entry["call_kwargs"] = keywords
        if any(by_keyword):  # layer(x, mask=m): the last inputs, by keyword ([name, n]: n
            entry["keyword_tensors"] = by_keyword  # tensors in a list, -1: one tensor)
        layers.append(entry)

    def ref(t: Any) -> list:
        return cut.get(id(t)) or [*node_index[id(t.node)], t.node.outputs.index(t)]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": [ref(t) for t in model.inputs],
            "output_layers": [ref(t) for t in model.outputs]}


def functional_from_config(cls: type, config: dict, custom_objects: dict | None = None) -> Any:
    """Rebuild a functional model from :func:`functional_config`'s output."""
    created: dict = {}
    tensors: dict = {}
    for entry in config["layers"]:
        layer = layer_from_config(entry, custom_objects)
        created[entry["name"]] = layer
        if type(layer).__name__ == "InputLayer":
            tensors[(entry["name"], 0, 0)] = layer.output_tensor
    # Make each call once its inputs exist and the layer's earlier calls are made, in an
    # order found in one pass (Kahn's algorithm over calls): a config listing its layers
    # in any order, output first included, is rebuilt in time proportional to its size,
    # and a shared layer whose later call takes its own earlier output (a tied embedding
    # used again as the output projection) is rebuilt call by call, as Keras does.
    pending = [e for e in config["layers"] if e.get("inbound_nodes")]
    waiting: dict = {}  # tensor reference -> the calls (entry, k) that wait for it
    missing: dict = {}  # (entry, k) -> references not yet produced (+1 for the call before)
    ready: collections.deque = collections.deque()
    for i, entry in enumerate(pending):
        for k, call in enumerate(entry["inbound_nodes"]):
            refs = {tuple(r) for r in call} - tensors.keys()
            missing[(i, k)] = len(refs) + (k > 0)
            for r in refs:
                waiting.setdefault(r, []).append((i, k))
            if not missing[(i, k)]:
                ready.append((i, k))

    def produced(slot: tuple) -> None:
        missing[slot] -= 1
        if missing[slot] == 0:
            ready.append(slot)

    done = 0
    while ready:
        i, k = ready.popleft()
        entry = pending[i]
        layer = created[entry["name"]]
        positional = entry.get("positional_tensors") or [0] * len(entry["inbound_nodes"])
        by_keyword = entry.get("keyword_tensors") or []
        call = entry["inbound_nodes"][k]
        args = [tensors[tuple(r)] for r in call]
        tensor_kw, args = split_keyword_tensors(
            {KEYWORD_TENSORS: _keyword_layout(by_keyword[k] if k < len(by_keyword) else [],
                                              len(args), entry)}, args)
        n = int(positional[k]) if k < len(positional) else 0
        if not 0 <= n < len(args):
            n = 0
        head, extra = args[:len(args) - n], args[len(args) - n:]
        keywords = entry.get("call_kwargs") or []
        kw = keywords[k] if k < len(keywords) and isinstance(keywords[k], dict) else {}
        out = layer(head[0] if len(head) == 1 else head, *extra, **_checked_keywords(kw, entry),
                    **tensor_kw)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for j, o in enumerate(outs):
            key = (entry["name"], k, j)
            tensors[key] = o
            for slot in waiting.pop(key, ()):
                produced(slot)
        if k + 1 < len(entry["inbound_nodes"]):
            produced((i, k + 1))
        done += 1
    if done < len(missing):
        stuck = list(dict.fromkeys(pending[i]["name"] for (i, _), m in missing.items() if m > 0))
        raise ValueError("Invalid functional config: layers "
                         f"{stuck} have inputs that are never produced.")

    def get(r: list) -> Any:
        key = tuple(r)
        if key not in tensors:
            raise ValueError(f"Invalid functional config: unknown tensor reference {r}.")
        return tensors[key]

    inputs = [get(r) for r in config["input_layers"]]
    outputs = [get(r) for r in config["output_layers"]]
    return cls(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
               name=config.get("name"))


_NOT_SAVED = ("mask", POSITIONAL_TENSORS, KEYWORD_TENSORS)  # masks come with the inputs


def _call_keywords(kwargs: dict, layer: str) -> dict:
    """A node's constant keyword arguments (``use_causal_mask=True``), as JSON values.

    ``mask`` is left out (masks come with the inputs) and ``training`` is kept only
    when given explicitly (``base(x, training=False)`` keeps a frozen base in inference
    mode after loading); so is anything that is not a plain number, string, bool,
    None or a list of them (a tensor passed by keyword cannot be saved in this form).
    """
    def plain(v: Any) -> bool:
        if v is None or isinstance(v, (bool, int, float, str)):
            return True
        return isinstance(v, (list, tuple)) and all(plain(x) for x in v)

    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()
            if k not in _NOT_SAVED and plain(v) and not (k == "training" and v is None)}


def _keyword_layout(layout: Any, n_inputs: int, entry: dict) -> tuple:
    """A saved ``keyword_tensors`` item (``[[name, n], ...]``), checked against the call."""
    out = []
    for item in layout if isinstance(layout, list) else [None]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], int) and not isinstance(item[1], bool)
                and item[1] >= -1 and item[0] not in _NOT_SAVED[1:]):
            raise ValueError(f"Invalid functional config: layer {entry.get('name')!r} has an "
                             f"invalid keyword_tensors entry. Received: {layout!r:.80}")
        out.append((item[0], item[1]))
    if sum(1 if n < 0 else n for _, n in out) >= n_inputs:
        raise ValueError(f"Invalid functional config: layer {entry.get('name')!r} passes more "
                         f"tensors by keyword than it has inputs. Received: {layout!r:.80}")
    return tuple(out)


def _checked_keywords(kw: dict, entry: dict) -> dict:
    """The saved keyword arguments of one call, checked to be plain values with string keys."""
    out = {}
    for k, v in kw.items():
        if not isinstance(k, str) or k in _NOT_SAVED or isinstance(v, dict):
            raise ValueError(f"Invalid functional config: layer {entry.get('name')!r} has a "
                             f"call keyword argument that cannot be restored. Received: {k!r}")
        out[k] = v
    return out

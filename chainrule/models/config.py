"""Model and layer configurations: JSON-serializable descriptions and their safe inverse.

Rebuilding from a config only ever instantiates chainrule's own registered
classes or classes the caller passes in ``custom_objects``: nothing named in a
config is imported or called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["layer_to_config", "layer_from_config", "functional_config", "functional_from_config",
           "layer_registry"]


def layer_registry() -> dict:
    """Map class names to chainrule's built-in layer and model classes."""
    from chainrule import layers, models  # noqa: PLC0415

    table = {name: getattr(layers, name) for name in layers.__all__
             if isinstance(getattr(layers, name), type)}
    table.update({"Sequential": models.Sequential, "Model": models.Model,
                  "Functional": models.Model})
    return table


def layer_to_config(layer: Any) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}`` (and a registered class's key).

    A class registered with ``register_keras_serializable`` also gets its
    ``"registered_name"``, so it loads without ``custom_objects``.
    """
    from chainrule._registry import get_registered_name  # noqa: PLC0415

    config = {"class_name": type(layer).__name__, "config": layer.get_config()}
    registered = get_registered_name(type(layer))
    if registered != type(layer).__name__:
        config["registered_name"] = registered
    return config


def _resolve_class(class_name: Any, custom_objects: dict | None,
                   registered_name: Any = None) -> type:
    from chainrule._registry import get_registered_object, unknown_name_error  # noqa: PLC0415

    for name in (class_name, registered_name):  # custom_objects, a scope, registered classes
        custom = get_registered_object(name, custom_objects)
        if isinstance(custom, type):
            return custom
    table = layer_registry()
    if custom_objects:
        table.update({k: v for k, v in custom_objects.items() if isinstance(v, type)})
    if not isinstance(class_name, str) or class_name not in table:
        raise unknown_name_error("layer class", class_name, list(table))
    return table[class_name]


def layer_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """Instantiate a layer from :func:`layer_to_config`'s output.

    Raises:
        ValueError: for a malformed config or an unknown class name.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("A layer config must be a dict with 'class_name' and 'config'. "
                         f"Received: {type(config).__name__}")
    cls = _resolve_class(config["class_name"], custom_objects, config.get("registered_name"))
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"A layer's 'config' must be a dict. Received: {type(inner).__name__}")
    if hasattr(cls, "from_config"):
        try:
            return cls.from_config(inner, custom_objects) if _takes_custom(cls) else cls.from_config(inner)
        except TypeError as e:
            raise ValueError(f"Invalid config for layer class {config['class_name']!r}: {e}") from None
    return cls(**inner)  # pragma: no cover


def _takes_custom(cls: type) -> bool:
    import inspect  # noqa: PLC0415

    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def functional_config(model: Any) -> dict:
    """Describe a functional model: its layers, which tensors feed each call, its inputs/outputs."""
    node_index: dict = {}
    for layer in model.layers:
        for i, node in enumerate(layer._inbound_nodes):
            node_index[id(node)] = (layer.name, i)
    layers = []
    for layer in model.layers:
        inbound = []
        for node in layer._inbound_nodes:
            if id(node) not in {id(n) for n in model._nodes}:
                continue
            inbound.append([[*node_index[id(t.node)], t.node.outputs.index(t)] for t in node.inputs])
        entry = layer_to_config(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layers.append(entry)

    def ref(t: Any) -> list:
        return [*node_index[id(t.node)], t.node.outputs.index(t)]

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
    pending = [e for e in config["layers"] if e.get("inbound_nodes")]
    for _ in range(len(pending) + 1):
        progressed = False
        for entry in list(pending):
            ready = all(all(tuple(r) in tensors for r in call) for call in entry["inbound_nodes"])
            if not ready:
                continue
            layer = created[entry["name"]]
            for k, call in enumerate(entry["inbound_nodes"]):
                args = [tensors[tuple(r)] for r in call]
                out = layer(args[0] if len(args) == 1 else args)
                outs = out if isinstance(out, (list, tuple)) else [out]
                for j, o in enumerate(outs):
                    tensors[(entry["name"], k, j)] = o
            pending.remove(entry)
            progressed = True
        if not pending or not progressed:
            break
    if pending:
        raise ValueError("Invalid functional config: layers "
                         f"{[e['name'] for e in pending]} have inputs that are never produced.")

    def get(r: list) -> Any:
        key = tuple(r)
        if key not in tensors:
            raise ValueError(f"Invalid functional config: unknown tensor reference {r}.")
        return tensors[key]

    inputs = [get(r) for r in config["input_layers"]]
    outputs = [get(r) for r in config["output_layers"]]
    return cls(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
               name=config.get("name"))

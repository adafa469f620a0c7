"""``.keras`` files as Keras 3 writes them: read them into chainrule, and write them for Keras.

A Keras 3 ``.keras`` file is a zip of ``config.json`` (the model's config, each
layer as ``{"module", "class_name", "config", "registered_name", ...}``),
``model.weights.h5`` (the HDF5 layout of :mod:`chainrule.saving.keras_h5`) and
``metadata.json``. chainrule's own archive holds ``model.weights.npz`` instead;
:func:`is_keras_zip` tells them apart by their members.

Reading maps each Keras class to chainrule's class of the same name through
:func:`keras_layer_table` (a layer added to ``chainrule.layers`` is covered by
that alone; :data:`RENAMED` and :data:`IGNORED_KEYS` hold the exceptions), so
nothing named in the file is imported and no code from it runs: a ``Lambda``
layer or a class chainrule lacks is refused with an error naming the class and
where it appears. Ops of a functional graph (``x * 2.0``, ``ops.mean``), which Keras writes
as entries of its operation classes (``Multiply``, ``Mean``), are read into and written from
``OpLayer``s through the table of :mod:`chainrule.saving.keras_ops`. Sizes are bounded as for chainrule's own archives. h5py is
an optional dependency (``pip install "chainrule[h5]"``).
"""

from __future__ import annotations

import datetime
import inspect
import json
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

from chainrule import backend
from chainrule._registry import custom_object_scope
from chainrule.layers.base import KEYWORD_TENSORS, split_keyword_tensors
from chainrule.saving.archive import DEFAULT_LIMITS, Limits, read_json
from chainrule.saving.errors import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
)
from chainrule.saving.keras_h5 import (
    HDF5_SIGNATURE,
    _open_h5,
    assign_pairs,
    damaged_file_errors,
    h5_datasets,
    read_keras_layout,
    require_h5py,
    restore_h5_optimizer,
    write_h5_bytes,
)
from chainrule.saving.keras_ops import is_op_entry, op_entry_spec, op_layer_entry

__all__ = ["IGNORED_KEYS", "KERAS_LAYOUT_VERSION", "RENAMED", "from_keras_config", "is_keras_zip",
           "keras_layer_table", "load_keras_model", "save_keras_model", "to_keras_config"]

#: The Keras version whose ``.keras`` layout chainrule writes (recorded in metadata.json).
KERAS_LAYOUT_VERSION = "3.15.1"
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
#: The format of ``date_saved`` in metadata.json (Keras's saving_lib).
KERAS_DATE_FORMAT = "%Y-%m-%d@%H:%M:%S"

#: Keras class name -> chainrule class name, where they differ.
RENAMED: dict[str, str] = {"Functional": "Functional"}

#: Keras config keys chainrule's layers do not take, and the values with which they change
#: nothing (dropped then; any other value is refused, naming the layer and the key).
IGNORED_KEYS: dict[str, tuple] = {
    "quantization_config": (None,), "optional": (False,), "sparse": (False,),
    "ragged": (False,), "lora_rank": (None,), "lora_alpha": (None,), "lora_enabled": (False,),
    "synchronized": (False,), "renorm": (False,), "renorm_clipping": (None,),
    "renorm_momentum": (0.99,), "activity_regularizer": (None,), "embeddings_constraint": (None,),
    "kernel_constraint": (None,), "bias_constraint": (None,), "beta_constraint": (None,),
    "gamma_constraint": (None,), "recurrent_constraint": (None,), "build_config": (),
    "shared_object_id": (), "time_major": (False,), "implementation": (),
}
#: chainrule class name -> the name Keras 3 exports and writes, where they differ.
KERAS_EXPORTED: dict[str, str] = {"GroupedQueryAttention": "GroupQueryAttention"}
#: chainrule config keys Keras 3's class of the same name does not take, dropped when writing.
KERAS_UNKNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "SpatialDropout1D": ("trainable",), "SpatialDropout2D": ("trainable",),
    "SpatialDropout3D": ("trainable",),
}
# Layers whose whole point is code: never rebuilt from a file.
_CODE_LAYERS = ("Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "JaxLayer",
                "FlaxLayer")
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


def keras_layer_table(custom_objects: Mapping[str, Any] | None = None) -> dict[str, type]:
    """Keras layer class name -> chainrule class: every layer in ``chainrule.layers``, the models,
    :data:`RENAMED`, and the classes in ``custom_objects``.

    Example:
        >>> keras_layer_table()["Dense"].__module__
        'chainrule.layers.core'
    """
    from chainrule.layers.serialization import registered_layer_classes  # noqa: PLC0415

    table = dict(registered_layer_classes())  # the models register on import, as the layers
    for keras_name, ours in RENAMED.items():
        if ours in table:
            table[keras_name] = table[ours]
    for k, v in (custom_objects or {}).items():
        if isinstance(v, type):
            table[k] = v
    return table


def is_keras_zip(names: list[str]) -> bool:
    """Whether zip member names are those of a Keras 3 ``.keras`` file (not chainrule's own).

    Example:
        >>> is_keras_zip(["metadata.json", "config.json", "model.weights.h5"])
        True
        >>> is_keras_zip(["config.json", "model.weights.npz"])
        False
    """
    return "config.json" in names and "model.weights.h5" in names and (
        "model.weights.npz" not in names)


# --------------------------------------------------------------------------- Keras -> chainrule


def _plain(value: Any) -> Any:
    """A dtype policy dict becomes its name; Keras's bookkeeping keys are dropped."""
    if isinstance(value, dict):
        if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(
                value.get("config"), dict):
            return value["config"].get("name")
        return {k: _plain(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_layer_spec(value: Any, table: Mapping[str, type]) -> bool:
    return isinstance(value, dict) and isinstance(value.get("config"), dict) and (
        value.get("class_name") in table or value.get("class_name") in _CODE_LAYERS or (
            value.get("module") or "").startswith("keras.layers"))


def _layer_spec(entry: Any, where: str, table: Mapping[str, type], src: str) -> dict:
    """chainrule's ``{"class_name", "config"}`` for one Keras layer entry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) or (
            not isinstance(entry.get("config"), dict)):
        raise InvalidArchiveError(f"{src}: {where} is not a layer config (a dict with "
                                  f"'class_name' and 'config'). Received: {entry!r:.120}")
    name = entry["class_name"]
    label = f"{where} ({name} {entry['config'].get('name')!r})"
    if name in _CODE_LAYERS:
        raise UnsafeFileError(
            f"{src}: {label} is a {name} layer, which holds Python code; chainrule never runs "
            "code from a file. Rebuild that part of the model with chainrule layers and load "
            f"the weights with load_weights. Received: class_name={name!r}")
    registered = entry.get("registered_name")
    if name in _MODEL_CLASSES:
        return _model_spec(entry, label, table, src)
    if name not in table:
        hint = f" (registered as {registered!r})" if registered not in (None, name) else ""
        known = sorted(n for n in table if n not in ("Layer", "Model", "Functional"))
        raise UnsafeFileError(
            f"{src}: {label}: chainrule has no layer class {name!r}{hint}. Pass "
            f"custom_objects={{{name!r}: YourLayer}} with an equivalent chainrule layer. "
            f"Known layers: {known[:80]}. Received: class_name={name!r}")
    cls = table[name]
    config = _plain(entry["config"])
    for key, value in list(config.items()):
        if _is_layer_spec(value, table):
            config[key] = _layer_spec(value, f"{label}.{key}", table, src)
        elif isinstance(value, list) and value and all(_is_layer_spec(v, table) for v in value):
            config[key] = [_layer_spec(v, f"{label}.{key}[{i}]", table, src)
                           for i, v in enumerate(value)]
    accepted = _init_params(cls)
    for key in list(config):
        if key in accepted or key not in IGNORED_KEYS:
            continue
        if not IGNORED_KEYS[key] or config[key] in IGNORED_KEYS[key]:
            del config[key]
        else:
            raise InvalidArchiveError(
                f"{src}: {label} sets {key}={config[key]!r}, which chainrule's {name} does not "
                f"support. Received: {key}={config[key]!r:.80}")
    return {"class_name": name if cls.__name__ == name else cls.__name__, "config": config}


def _init_params(cls: type) -> set[str]:
    try:
        return set(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        return set()


def _ref(value: Any, where: str, src: str) -> list:
    """``[layer, node, tensor]`` of a Keras ``__keras_tensor__`` (or a Keras 2 history list)."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        value = (value.get("config") or {}).get("keras_history")
    if (isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:3])):
        return [value[0], value[1], value[2]]
    raise InvalidArchiveError(f"{src}: {where}: invalid tensor reference. Received: {value!r:.120}")


def _contains_tensor(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__" or any(
            _contains_tensor(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_tensor(v) for v in value)
    return False


def _plain_value(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, list) and all(_plain_value(v) for v in value)


def _call_parameters(cls: Any) -> set | None:
    """The keyword arguments ``cls.call`` takes (None: any, it takes ``**kwargs``)."""
    try:
        params = inspect.signature(cls.call).parameters
    except (TypeError, ValueError, AttributeError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return {n for n, p in params.items() if n != "self" and p.kind is not p.VAR_POSITIONAL}


def _node_call(node: Any, where: str, src: str) -> tuple[list, int, dict, list]:
    """One call of a layer: its tensor references, how many are further positional arguments,
    its constant keyword arguments and the ``[name, n]`` of the tensors passed by keyword
    (``layer(x, mask=m)``: the last references; ``n`` tensors in a list, -1 for one)."""
    if isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        return [_ref(r, where, src) for r in node], 0, {}, []
    if not isinstance(node, dict) or not isinstance(node.get("args", []), list):
        raise InvalidArchiveError(f"{src}: {where}: invalid inbound node. Received: {node!r:.120}")
    args, kwargs = node.get("args", []), node.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise InvalidArchiveError(f"{src}: {where}: invalid keyword arguments. "
                                  f"Received: {kwargs!r:.80}")
    constants: dict = {}
    layout: list = []
    by_keyword: list = []
    for key, value in kwargs.items():
        single = isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"
        if single or (isinstance(value, list) and value and all(
                isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"
                for v in value)):
            layout.append([key, -1 if single else len(value)])
            by_keyword.extend(_ref(v, where, src) for v in ([value] if single else value))
        elif key in ("mask", "training") and value is None:
            continue  # (Keras writes the defaults of some calls)
        elif key.startswith("_") or _contains_tensor(value) or not _plain_value(value):
            raise InvalidArchiveError(
                f"{src}: {where} is called with the keyword argument {key}={value!r:.60}, "
                "which chainrule's functional configs cannot express (a tensor, a list of "
                "tensors or a plain value: number, string, bool, None or a list of them). "
                f"Received: {key}={value!r:.60}")
        else:
            constants[key] = value
    if not args:
        raise InvalidArchiveError(f"{src}: {where}: a call without inputs. Received: {node!r:.80}")
    head = args[0]
    refs = [_ref(r, where, src) for r in head] if isinstance(head, list) and head and (
        not isinstance(head[0], str)) else [_ref(head, where, src)]
    extra = [_ref(a, where, src) for a in args[1:]]
    return refs + extra + by_keyword, len(extra), constants, layout


def _refs(value: Any, where: str, src: str) -> list:
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [_ref(value, where, src)]
    if isinstance(value, list):
        return [_ref(v, where, src) for v in value]
    raise InvalidArchiveError(f"{src}: {where}: invalid tensor list. Received: {value!r:.120}")


def _model_spec(entry: dict, where: str, table: Mapping[str, type], src: str) -> dict:
    name = entry.get("class_name")
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise UnsafeFileError(
            f"{src}: {where} is a {name} model without a layer list (a subclassed Keras model, "
            "whose code is not in the file); chainrule rebuilds Sequential and functional models "
            f"only. Received: class_name={name!r}")
    layers = config["layers"]
    if name == "Sequential":
        out = {"name": config.get("name"), "trainable": config.get("trainable", True),
               "layers": [_layer_spec(e, f"{where} layers[{i}]", table, src)
                          for i, e in enumerate(layers)]}
        shape = config.get("build_input_shape")
        first = layers[0].get("class_name") if layers and isinstance(layers[0], dict) else None
        if first != "InputLayer" and isinstance(shape, list):
            out["batch_input_shape"] = shape
        return {"class_name": "Sequential", "config": out}
    entries = []
    for i, e in enumerate(layers):
        label = f"{where} layers[{i}]"
        if is_op_entry(e):  # a graph operation (x * 2.0, ops.mean(...)): an OpLayer here
            entries.append(op_entry_spec(e, label, src))
            continue
        spec = _layer_spec(e, label, table, src)
        calls, positional, constants, by_keyword = [], [], [], []
        takes = _call_parameters(table.get(e.get("class_name")))
        for k, node in enumerate(e.get("inbound_nodes") or []):
            where_call = f"{label} ({e.get('class_name')}) call {k}"
            refs, n, kw, layout = _node_call(node, where_call, src)
            for key in [*kw, *(name for name, _ in layout)]:
                if takes is not None and key not in takes:
                    raise InvalidArchiveError(
                        f"{src}: {where_call} is called with the keyword argument "
                        f"{key}={(node.get('kwargs') or {}).get(key)!r:.60}, which chainrule's "
                        f"{e.get('class_name')} does not take (its call takes {sorted(takes)}). "
                        f"Received: {key}={(node.get('kwargs') or {}).get(key)!r:.60}")
            calls.append(refs)
            positional.append(n)
            constants.append(kw)
            by_keyword.append(layout)
        spec["name"] = e.get("name", spec["config"].get("name"))
        spec["inbound_nodes"] = calls
        if any(positional):
            spec["positional_tensors"] = positional
        if any(constants):  # layer(q, v, use_causal_mask=True)
            spec["call_kwargs"] = constants
        if any(by_keyword):  # layer(x, mask=m)
            spec["keyword_tensors"] = by_keyword
        entries.append(spec)
    out = {"name": config.get("name"), "trainable": config.get("trainable", True),
           "layers": entries,
           "input_layers": _refs(config.get("input_layers"), f"{where} input_layers", src),
           "output_layers": _refs(config.get("output_layers"), f"{where} output_layers", src)}
    return {"class_name": "Functional", "config": out}


def from_keras_config(config: Any, custom_objects: Mapping[str, Any] | None = None,
                      source: str = "config.json") -> dict:
    """chainrule's ``{"class_name", "config"}`` for a Keras 3 model config (``config.json``).

    Args:
        config: the parsed ``config.json`` of a Keras ``.keras`` file.
        custom_objects: ``{"KerasClassName": chainrule class}`` for further layers.
        source: the file's name, for messages.

    Returns:
        A spec :func:`chainrule.layers.serialization.deserialize` rebuilds.

    Raises:
        UnsafeFileError: for a layer that holds code (``Lambda``) or that
            chainrule lacks, naming its class and where it appears.
        InvalidArchiveError: for a malformed config or an unsupported setting.

    Example:
        >>> spec = from_keras_config({"class_name": "Sequential", "config": {"layers": [
        ...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}},
        ...     {"class_name": "Dense", "config": {"units": 2, "quantization_config": None}}]}})
        >>> [layer["config"] for layer in spec["config"]["layers"]][1]
        {'units': 2}
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise InvalidArchiveError(f"{source}: config.json lacks the model's class_name. "
                                  f"Received: {type(config).__name__}")
    try:
        return _model_spec(config, "the model", keras_layer_table(custom_objects), source)
    except ArchiveError:
        raise
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as e:
        raise InvalidArchiveError(f"{source}: config.json is malformed ({type(e).__name__}: "
                                  f"{str(e)[:200]}). Received: class_name="
                                  f"{config.get('class_name')!r:.40}") from None


# --------------------------------------------------------------------------- loading


def _read_keras_zip(path: str, limits: Limits) -> tuple[dict, dict, bytes]:
    from chainrule.saving.api import _open_reader  # noqa: PLC0415

    f, reader = _open_reader(path, "Keras model archive", limits)
    src = repr(path)
    with f, reader:
        names = reader.names
        unexpected = [n for n in names if n not in KERAS_MEMBERS]
        if unexpected:
            raise UnsafeFileError(
                f"{src} holds members {unexpected[:10]} besides {list(KERAS_MEMBERS)}; chainrule "
                "reads Keras archives without assets (e.g. lookup-layer vocabularies). "
                f"Received: members {names[:10]}")
        config = read_json(reader, "config.json")
        metadata = read_json(reader, "metadata.json") if "metadata.json" in names else {}
        weights = reader.read("model.weights.h5")
    if not isinstance(metadata, dict):
        metadata = {}
    version = metadata.get("keras_version")
    if isinstance(version, str) and not version.startswith("3."):
        raise InvalidArchiveError(f"{src} was written by Keras {version!r:.20}; chainrule reads "
                                  f"the Keras 3 layout. Received: keras_version={version!r:.20}")
    return config, metadata, weights


def _keras_compile(model: Any, cc: Any, custom_objects: Any, src: str) -> None:
    if not isinstance(cc, dict) or not cc.get("optimizer") or cc.get("loss") is None:
        return
    settings = {k: cc.get(k) for k in ("optimizer", "loss", "loss_weights", "metrics",
                                        "weighted_metrics")}
    _compile_or_warn(model, settings, custom_objects, src)


def _compile_or_warn(model: Any, settings: dict, custom_objects: Any, src: str) -> None:
    """Compile ``model`` with the settings a Keras file gives; a warning, not an error, when
    they cannot be restored (Keras too loads the model uncompiled then)."""
    from chainrule.saving.api import _compile_from_config  # noqa: PLC0415

    try:
        _compile_from_config(model, settings, custom_objects)
    except Exception as e:  # noqa: BLE001 - Keras too loads the model uncompiled then
        warnings.warn(f"{src}: the model was loaded uncompiled; its compile settings could not "
                      f"be restored ({type(e).__name__}: {str(e)[:300]}).", stacklevel=4)


def _rebuild_within_budget(spec: dict, custom_objects: Any, src: str,
                           datasets: Mapping[str, Any], config_name: str, config_desc: str,
                           input_shape: list | None = None) -> Any:
    """Instantiate the model ``spec`` describes (built for ``input_shape`` when given and
    not built by its config), allocating nothing until a shape-only pass has shown that its
    weights fit the budget the file's ``datasets`` allow.

    The random state is restored afterwards: rebuilding draws initial weights, loading must
    not. ``config_name`` (where the config came from) and ``config_desc`` name it in errors.

    Raises:
        UnsafeFileError: for weights beyond the budget.
        ArchiveError: for anything else the config causes.
    """
    from chainrule.layers import ShapeOnlyScope, WeightBudgetError  # noqa: PLC0415
    from chainrule.saving.api import (  # noqa: PLC0415
        _as_archive_error,
        _deserialize_model,
        _weight_budget,
    )

    rng_state = backend.get_random_state()
    try:
        with ShapeOnlyScope(max_bytes=_weight_budget(datasets)):
            probe = _deserialize_model(spec, custom_objects, src)
            if not probe.built and input_shape is not None:
                probe.compute_weight_shapes(tuple(input_shape))
        model = _deserialize_model(spec, custom_objects, src)
        if not model.built and input_shape is not None:
            model.build(tuple(input_shape))
    except WeightBudgetError as e:
        raise UnsafeFileError(
            f"{src}: {config_name} asks layer {e.weight.layer!r} for a weight of shape "
            f"{e.weight.shape}; the model would allocate more than {e.max_bytes} bytes, "
            "implausibly many for the weights in the file. Nothing was allocated. "
            f"Received: shape={e.weight.shape}") from None
    except ArchiveError:
        raise
    except Exception as e:  # noqa: BLE001 - anything a file can cause becomes an ArchiveError
        raise _as_archive_error(e, src, f"rebuilding the model from {config_desc}") from None
    finally:
        backend.set_random_state(rng_state)
    return model


def load_keras_model(path: str, custom_objects: Mapping[str, Any] | None = None,
                     compile: bool = True, limits: Limits | None = None) -> Any:  # noqa: A002
    """Load a ``.keras`` file written by Keras 3 into a chainrule model.

    :func:`chainrule.models.load_model` calls this for a zip whose members are
    Keras's (``model.weights.h5``); use that.

    Args:
        path: the ``.keras`` file.
        custom_objects: ``{"KerasClassName": chainrule class}`` for further layers.
        compile: compile the model with the file's compile settings when
            chainrule knows them (else a warning, and the model loads uncompiled),
            and restore the optimizer's variables (``keras_h5.OPTIMIZER_SLOTS``).
        limits: bounds on declared sizes.

    Returns:
        The model, its weights loaded.

    Raises:
        ImportError: without h5py.
        UnsafeFileError: for a ``Lambda`` or unknown layer, or sizes beyond the limits.
        InvalidArchiveError: for a damaged or inconsistent file.
        WeightMismatchError: when the weights do not fit the rebuilt model.

    Example (it runs when h5py is installed):
        >>> import importlib.util, os, tempfile
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2, name="d")])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_keras_model(m, path)
        >>> not has_h5py or load_keras_model(path).layers[0].name == "d"
        True
    """
    from chainrule.saving.api import _check_names, _check_plausible_sizes  # noqa: PLC0415

    limits = limits or DEFAULT_LIMITS
    src = repr(path)
    config, _, weights = _read_keras_zip(path, limits)
    if not weights.startswith(HDF5_SIGNATURE):
        raise InvalidArchiveError(f"{src}: its member 'model.weights.h5' is not an HDF5 file. "
                                  f"Received: first bytes {weights[:8]!r}")
    custom = dict(custom_objects) if isinstance(custom_objects, Mapping) else None
    spec = from_keras_config(config, custom, src)  # refuses what cannot be rebuilt, before h5py
    require_h5py()
    with custom_object_scope(custom), damaged_file_errors(src), _open_h5(
            weights, f"{src} member 'model.weights.h5'") as h5:
        datasets = h5_datasets(h5, src, limits)  # declared sizes checked, nothing read
        _check_names(spec, src)
        _check_plausible_sizes(spec["config"], datasets, src)
        build = config.get("build_config")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        model = _rebuild_within_budget(spec, custom, src, datasets, "config.json",
                                       "Keras's config", shape if isinstance(shape, list) else None)
        try:
            pairs = read_keras_layout(h5, model, src, limits)
        except WeightMismatchError as e:  # the file's config and weights disagree
            raise InvalidArchiveError(str(e)) from None
        if compile:
            _keras_compile(model, config.get("compile_config"), custom, src)
        assign_pairs(pairs)
        if compile:
            restore_h5_optimizer(h5, model, src)
    return model


# --------------------------------------------------------------------------- chainrule -> Keras


def _keras_value(value: Any) -> Any:
    """chainrule's nested configs with Keras's module names."""
    if isinstance(value, dict):
        out = {k: _keras_value(v) for k, v in value.items()}
        module = out.get("module")
        if isinstance(module, str) and module.startswith("chainrule."):
            out["module"] = "keras." + module.split(".", 1)[1]
        if "class_name" in out and "config" in out and "module" not in out:
            out = {"module": "keras.layers", **out, "registered_name": None}
        return out
    if isinstance(value, list):
        return [_keras_value(v) for v in value]
    return value


def _policy(dtype: Any) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": str(dtype)},
            "registered_name": None}


def _keras_layer(layer: Any) -> dict:
    from chainrule.layers.serialization import serialize  # noqa: PLC0415

    if type(layer).__name__ in _MODEL_CLASSES or callable(getattr(layer, "compile", None)):
        return _keras_model(layer)
    spec = serialize(layer)
    config = _keras_value(spec["config"])
    if type(layer).__name__ == "InputLayer":
        config = {"batch_shape": config.get("batch_shape"), "dtype": config.get("dtype"),
                  "sparse": False, "ragged": False, "name": layer.name}
    elif config.get("dtype") is None or isinstance(config.get("dtype"), str):
        config["dtype"] = _policy(config.get("dtype") or layer.dtype or backend.floatx())
    for key in KERAS_UNKNOWN_KEYS.get(spec["class_name"], ()):
        config.pop(key, None)
    if "activity_regularizer" in config and config["activity_regularizer"] is None:
        del config["activity_regularizer"]  # Keras writes it only when set
    return {"module": "keras.layers",
            "class_name": KERAS_EXPORTED.get(spec["class_name"], spec["class_name"]),
            "config": config, "registered_name": None}


def _keras_tensor(t: Any, ref: list) -> dict:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None if d is None else int(d) for d in t.shape],
                       "dtype": str(t.dtype), "keras_history": list(ref)}}


def _keras_model(model: Any) -> dict:
    from chainrule.layers import InputLayer, OpLayer  # noqa: PLC0415

    name = type(model).__name__
    if name == "Sequential":
        layers = [_keras_layer(la) for la in model.layers]
        shape = model._declared_input_shape()
        if shape is None and model.built:  # built by build(...) or a call on data
            shape = getattr(model, "_build_shape", None)
        if shape is None:
            raise ValueError(f"Model {model.name!r} has no declared input shape, so Keras could "
                             "not rebuild it. Start it with an Input(shape=...). Received: an "
                             "unbuilt Sequential")
        dtype = model.inputs[0].dtype if getattr(model, "inputs", None) else "float32"
        first = _keras_layer(InputLayer(batch_shape=tuple(shape), dtype=str(dtype),
                                        name=f"{model.name}_input"))
        config = {"name": model.name, "trainable": model.trainable, "dtype": _policy("float32"),
                  "layers": [first, *layers], "build_input_shape": list(shape)}
        return {"module": "keras", "class_name": "Sequential", "config": config,
                "registered_name": None, "build_config": {"input_shape": list(shape)}}
    if not getattr(model, "_functional", False):
        raise ValueError(f"Model {model.name!r} is a subclassed {name}; Keras's .keras format "
                         "holds Sequential and functional models only. Received: class "
                         f"{name}")
    tensors: dict = {}
    for layer in model.operations:  # every graph node, in the order of get_config's layers
        for k, node in enumerate(layer._inbound_nodes):
            for j, t in enumerate(node.outputs):
                tensors[(layer.name, k, j)] = t
    base = model.get_config()
    entries = []
    for layer, entry in zip(model.operations, base["layers"]):
        if isinstance(layer, OpLayer):  # Keras's own operation class, not a layer
            call = entry["inbound_nodes"][0]
            entries.append(op_layer_entry(
                layer, lambda i, call=call: _keras_tensor(tensors[tuple(call[i])], call[i])))
            continue
        out = _keras_layer(layer)
        out["name"] = layer.name
        nodes = []
        calls = entry["inbound_nodes"]
        positional = entry.get("positional_tensors") or [0] * len(calls)
        constants = entry.get("call_kwargs") or [{}] * len(calls)
        by_keyword = entry.get("keyword_tensors") or [[]] * len(calls)
        for call, n, kw, layout in zip(calls, positional, constants, by_keyword):
            args = [_keras_tensor(tensors[tuple(r)], r) for r in call]
            tensor_kw, args = split_keyword_tensors(
                {KEYWORD_TENSORS: tuple((k, m) for k, m in layout)}, args)
            head, extra = args[:len(args) - n], args[len(args) - n:]
            nodes.append({"args": [head[0] if len(head) == 1 else head, *extra],
                          "kwargs": {**kw, **tensor_kw}})
        out["inbound_nodes"] = nodes
        entries.append(out)

    def refs(items: list) -> list:
        return list(items[0]) if len(items) == 1 else [list(r) for r in items]

    config = {"name": model.name, "trainable": model.trainable, "layers": entries,
              "input_layers": refs(base["input_layers"]),
              "output_layers": refs(base["output_layers"])}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional", "build_config": {"input_shape": None}}


def to_keras_config(model: Any, include_optimizer: bool = True) -> dict:
    """The ``config.json`` Keras 3 reads for a chainrule Sequential or functional model.

    Args:
        model: a built Sequential or functional model.
        include_optimizer: add the compile settings.

    Returns:
        A JSON-serializable dict.

    Example:
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2, name="d")])
        >>> [la["class_name"] for la in to_keras_config(m)["config"]["layers"]]
        ['InputLayer', 'Dense']
    """
    from chainrule.saving.api import compile_config  # noqa: PLC0415

    out = _keras_model(model)
    cc = compile_config(model) if include_optimizer else None
    if cc is not None:
        cc = _keras_value(cc)
        cc.update({"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False})
    out["compile_config"] = cc
    return out


def _keras_metadata() -> dict[str, str]:
    """metadata.json as Keras 3 writes it: its version and the local save time in its format
    (Keras's ``KerasFileEditor`` reads both keys)."""
    return {"keras_version": KERAS_LAYOUT_VERSION,
            "date_saved": datetime.datetime.now().strftime(KERAS_DATE_FORMAT)}


def save_keras_model(model: Any, path: str, overwrite: bool = True,
                     include_optimizer: bool = True) -> None:
    """Write ``model`` as a ``.keras`` file in Keras 3's own layout (atomically).

    ``model.save(path, format="keras")`` calls this. Keras 3 loads the file
    with ``keras.saving.load_model``; chainrule loads it too.

    Args:
        model: a built Sequential or functional model.
        path: the destination, ending in ``.keras``.
        overwrite: replace an existing file.
        include_optimizer: add the compile settings and the optimizer's variables.

    Raises:
        ImportError: without h5py.
        ValueError: for a subclassed model or one without a declared input shape, or
            for an op Keras 3 has no operation class for (``keras_ops.KERAS_OPS``).

    Example (it runs when h5py is installed):
        >>> import importlib.util, os, tempfile, zipfile
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_keras_model(m, path)
        >>> not has_h5py or sorted(zipfile.ZipFile(path).namelist()) == [
        ...     'config.json', 'metadata.json', 'model.weights.h5']
        True
    """
    from chainrule.saving.api import _ZIP_DATE, _to_json  # noqa: PLC0415
    from chainrule.saving.atomic import atomic_write  # noqa: PLC0415

    require_h5py()
    config = _to_json(to_keras_config(model, include_optimizer), "Keras model config")
    metadata = json.dumps(_keras_metadata()).encode("utf-8")
    weights = write_h5_bytes(model, include_optimizer)
    with atomic_write(path, overwrite=overwrite) as f, zipfile.ZipFile(f, "w") as zf:
        for member, data, method in (("metadata.json", metadata, zipfile.ZIP_DEFLATED),
                                     ("config.json", config, zipfile.ZIP_DEFLATED),
                                     ("model.weights.h5", weights, zipfile.ZIP_STORED)):
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = method
            zf.writestr(info, data)


def zip_member_names(path: str) -> list[str] | None:
    """The member names of a zip file, or None when ``path`` is no zip (nothing else read).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> _ = open(path, "w").write("hello")
        >>> zip_member_names(path) is None
        True
    """
    with open(path, "rb") as fh:
        if not fh.read(4).startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return None
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()[:DEFAULT_LIMITS.max_members]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None  # chainrule's own reader then says what is wrong with it

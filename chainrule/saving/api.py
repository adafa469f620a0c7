"""``save_model``/``load_model`` and ``save_weights``/``load_weights``.

A model archive (``.keras``) is a zip file with three members (or four):

* ``config.json``: the format marker and chainrule's version, the model's class
  and ``get_config()``, how to build it, and the compile settings (optimizer,
  loss, loss weights and metrics, serialized by their own modules);
* ``model.weights.npz``: every weight as a ``.npy`` array, keyed by its stable
  path (``dense/kernel``), in ``model.weights`` order;
* ``optimizer.npz``: ``optimizer.get_state()``, when the model is compiled.
* ``own_variables.npz``: only when a layer overrides ``save_own_variables``,
  what it put in its store (``load_model`` gives it back to ``load_own_variables``).
  Layers overriding ``get_build_config`` have their build configs in
  ``config.json`` under ``layer_build_configs``.

Loading never runs code from the file: no pickle, no ``eval``, no import of a
module named in it. Classes are looked up in chainrule's registries and in
``custom_objects`` only. Every write is atomic.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._registry import custom_object_scope, get_registered_name
from chainrule.saving.archive import (
    DEFAULT_LIMITS,
    Limits,
    SafeZipReader,
    check_member_name,
    looks_like_pickle,
    open_npz_bytes,
    read_json,
    read_npz,
    write_npz,
)
from chainrule.saving.atomic import atomic_write
from chainrule.saving.errors import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "load_weights", "save_model", "save_weights"]

#: The marker in ``config.json`` that says a zip file is a chainrule model archive.
FORMAT = "chainrule.model"
#: The archive layout's version; files from a newer layout are refused with a clear message.
FORMAT_VERSION = 1

CONFIG_MEMBER = "config.json"
WEIGHTS_MEMBER = "model.weights.npz"
OPTIMIZER_MEMBER = "optimizer.npz"
#: What layers overriding ``save_own_variables`` put in their store, keyed ``<i>_<layer>/<key>``
#: (``i``: the layer's place in ``layer_tree(model)``); written only when some layer overrides it.
OWN_VARIABLES_MEMBER = "own_variables.npz"
_MODEL_MEMBERS = (CONFIG_MEMBER, WEIGHTS_MEMBER, OPTIMIZER_MEMBER, OWN_VARIABLES_MEMBER)
_SCALAR_STATE = ("iterations", "learning_rate")
# Config keys holding a shape; their product bounds what rebuilding may allocate.
_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape", "target_shape", "noise_shape")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so saving the same model twice gives the same bytes


# --------------------------------------------------------------------------- paths


def _fspath(filepath: Any, name: str = "filepath") -> str:
    """``filepath`` as a ``str`` path; bytes, non-paths and NUL characters are refused.

    Args:
        filepath: the path given by the user.
        name: the argument's name, for messages.

    Raises:
        TypeError: for anything but a ``str`` or ``os.PathLike`` giving a ``str``.
        ValueError: for a path containing a NUL character.
    """
    try:
        path = os.fspath(filepath)
    except TypeError:
        raise TypeError(f"{name} must be a path (str or os.PathLike). Received: "
                        f"{name}={filepath!r} of type {type(filepath).__name__}") from None
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a str path, not bytes (decode it, e.g. with "
                        f"os.fsdecode). Received: {name}={filepath!r}")
    if "\x00" in path:
        raise ValueError(f"{name} must not contain a NUL character. Received: {name}={path!r}")
    return path


def _check_extension(path: str, suffix: str, what: str) -> None:
    if path.endswith(suffix):
        return
    if suffix == ".keras":
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension (chainrule's "
            "zip archive of a JSON config and .npz weights), or `.h5` for Keras's legacy HDF5 "
            "layout (the h5 extra); TensorFlow SavedModel directories are not written by "
            f"chainrule. Received: filepath={path}"
        )
    raise ValueError(f"The filename must end in `{suffix}` ({what}). Received: filepath={path}")


def _require_file(path: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No file found at {path!r}. Check the path and the current directory "
            f"({os.getcwd()!r}). Received: filepath={path!r}"
        )
    if os.path.isdir(path):
        raise InvalidArchiveError(
            f"{path!r} is a directory (a TensorFlow SavedModel?), not a chainrule model "
            f"archive: chainrule reads the .keras files it writes. Received: filepath={path!r}"
        )


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _open_regular(path: str) -> Any:
    """Open ``path`` for reading only if it is a regular file, without ever blocking.

    The file is opened non-blocking and checked with ``fstat`` on the open
    descriptor (no race between a check and the open): a FIFO, a socket or a
    device is refused at once instead of waiting for a writer in ``open()``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise InvalidArchiveError(
                f"{path!r} is not a regular file (a socket or a FIFO): chainrule reads saved "
                f"models and weights from regular files only. Received: filepath={path!r}"
            ) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _FILE_KINDS if test(mode)), "not a regular file")
            raise InvalidArchiveError(
                f"{path!r} is {kind}, not a regular file: chainrule reads saved models and "
                f"weights from regular files only. Received: filepath={path!r}"
            )
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _not_a_zip(path: str, head: bytes, expected: str) -> InvalidArchiveError:
    src = repr(path)
    if looks_like_pickle(head):
        hint = ("it is a Python pickle; chainrule never loads pickles, because unpickling can "
                "run arbitrary code")
    elif head.startswith(b"\x89HDF"):
        hint = ("it is an HDF5 file, but not a Keras model file chainrule can read: Keras's "
                ".h5 model files (with a model_config attribute) load when h5py, the h5 extra, "
                "is installed, and weights files load with model.load_weights(...)")
    elif head.startswith(b"\x93NUMPY"):
        hint = "it is a single .npy array, not a zip archive"
    elif not head:
        hint = "the file is empty"
    else:
        hint = "it is not a zip file"
    return InvalidArchiveError(f"{src} is not a {expected}: {hint}. Received: filepath={path!r}")


def _open_reader(path: str, expected: str, limits: Limits) -> tuple[Any, SafeZipReader]:
    _require_file(path)
    f = _open_regular(path)  # closed by the caller, or here on error
    try:
        head = f.read(8)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise _not_a_zip(path, head, expected)
        f.seek(0)
        return f, SafeZipReader(f, repr(path), limits, what=expected)
    except BaseException:
        f.close()
        raise


# --------------------------------------------------------------------------- weights


def weight_items(model: Any) -> list[tuple[str, Any]]:
    """``(key, variable)`` for every weight, keys unique: the path, ``#k`` added to repeats.

    Args:
        model: a built model or layer.

    Returns:
        The pairs in ``model.weights`` order.

    Example:
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Dense(2, input_dim=3, name="d")])
        >>> [k for k, _ in weight_items(m)]
        ['d/kernel', 'd/bias']
    """
    variables = model.weights
    paths = [str(getattr(v, "path", None) or getattr(v, "name", None) or "variable")
             for v in variables]
    return list(zip(_unique_keys(paths), variables))


def _weight_arrays(model: Any) -> list[tuple[str, np.ndarray]]:
    items = []
    for key, var in weight_items(model):
        try:
            check_member_name(f"{key}.npy", "the model")
        except UnsafeFileError:
            raise ValueError(
                f"Cannot save weight {key!r}: its layer name would make an unsafe file name "
                "(absolute path, '..', backslash, ':' or control characters). Rename the layer. "
                f"Received: weight path {key!r}"
            ) from None
        items.append((key, np.asarray(backend.to_numpy(var.data), order="C")))  # keeps 0-d
    return items


def _split_key(key: str) -> tuple[str, str]:
    layer, _, weight = key.rpartition("/")
    return (layer or key), (weight if layer else key)


def _layers_of(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(_split_key(k)[0] for k in keys))


def assign_weights(model: Any, arrays: Mapping[str, np.ndarray], source: str,
                   skip_mismatch: bool = False) -> list[str]:
    """Copy saved arrays into a model's weights, matched by layer name and weight shape.

    Weights are matched by key (``layer/weight``). When no key matches at all and
    the counts agree (layers renamed, e.g. a subclassed model rebuilt in a new
    process), they are matched by order instead. Everything is checked before
    anything is assigned, so a failed load leaves the model unchanged.

    Args:
        model: the (built) model.
        arrays: ``{key: array}`` as read from a file.
        source: the file's name, for messages.
        skip_mismatch: skip (with a warning) weights whose shape differs and
            layers missing on either side, instead of raising.

    Returns:
        The keys that were skipped.

    Raises:
        WeightMismatchError: naming the layer, the weight and both shapes.
    """
    todo, skipped = _plan_assignment(weight_items(model), arrays, source, skip_mismatch)
    for var, value in todo:
        var.assign(value)
    return skipped


def _plan_assignment(pairs: list, arrays: Mapping[str, np.ndarray], source: str,
                     skip_mismatch: bool) -> tuple[list, list[str]]:
    """Match ``(key, weight)`` pairs (anything with a ``.shape``) to saved arrays; see
    :func:`assign_weights`. Returns ``(weight, array)`` pairs to assign and the skipped keys."""
    keys = [k for k, _ in pairs]
    file_keys = list(arrays)
    skipped: list[str] = []
    if pairs and not set(keys) & set(file_keys) and len(file_keys) == len(pairs):
        matches = [(fk, k, v) for fk, (k, v) in zip(file_keys, pairs)]
    else:
        key_set = set(keys)
        missing = [k for k in keys if k not in arrays]
        extra = [k for k in file_keys if k not in key_set]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"it has no weights for {missing} (layers {_layers_of(missing)} of "
                             "the model)")
            if extra:
                parts.append(f"it holds weights {extra} for layers {_layers_of(extra)} that the "
                             "model does not have")
            message = (f"{source} does not match the model: {'; '.join(parts)}. The model's "
                       f"layers with weights: {_layers_of(keys)}; the file's: "
                       f"{_layers_of(file_keys)}.")
            if not skip_mismatch:
                raise WeightMismatchError(
                    f"{message} Pass skip_mismatch=True to load the weights that match. "
                    f"Received: filepath={source}"
                )
            warnings.warn(f"{message} Skipping them (skip_mismatch=True).", stacklevel=4)
            skipped += missing + extra
        matches = [(k, k, v) for k, v in pairs if k in arrays]
    todo = []
    for fk, key, var in matches:
        value = arrays[fk]
        want, got = tuple(var.shape), tuple(value.shape)
        if want != got:
            layer, weight = _split_key(key)
            message = (f'Layer "{layer}" weight "{weight}" has shape {want} in the model but '
                       f"{got} in {source}")
            if not skip_mismatch:
                raise WeightMismatchError(
                    f"{message}. Was the file saved from a model with other layer sizes? Pass "
                    f"skip_mismatch=True to skip it. Received: {fk!r} of shape {got}"
                )
            warnings.warn(f"{message}; skipping it (skip_mismatch=True).", stacklevel=4)
            skipped.append(fk)
            continue
        todo.append((var, value))
    return todo, skipped


# --------------------------------------------------------------------------- compile settings


def _serialize_loss(loss: Any) -> Any:
    from chainrule import losses

    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Mapping):
        return {"per_output": {str(k): _serialize_loss(v) for k, v in loss.items()}}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    return losses.serialize(loss)


def _deserialize_loss(spec: Any, custom_objects: Mapping[str, Any] | None) -> Any:
    from chainrule import losses

    if spec is None or isinstance(spec, str):
        if isinstance(spec, str) and custom_objects and spec in custom_objects:
            return custom_objects[spec]
        return spec
    if isinstance(spec, list):
        return [_deserialize_loss(v, custom_objects) for v in spec]
    if isinstance(spec, dict) and set(spec) == {"per_output"} and isinstance(spec["per_output"], dict):
        return {k: _deserialize_loss(v, custom_objects) for k, v in spec["per_output"].items()}
    if isinstance(spec, dict):
        return losses.deserialize(spec, custom_objects=dict(custom_objects or {}))
    raise InvalidArchiveError(f"Invalid loss in the compile settings. Received: {spec!r:.100}")


def _serialize_metrics(spec: Any) -> Any:
    from chainrule import metrics

    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        return {"per_output": {str(k): _serialize_metrics(v) for k, v in spec.items()}}
    if isinstance(spec, (list, tuple)):
        return [_serialize_metrics(v) for v in spec]
    return metrics.serialize(spec)


def _deserialize_metrics(spec: Any, custom_objects: Mapping[str, Any] | None) -> Any:
    from chainrule import metrics

    if spec is None or isinstance(spec, str):
        if isinstance(spec, str) and custom_objects and spec in custom_objects:
            return custom_objects[spec]
        return spec
    if isinstance(spec, list):
        return [_deserialize_metrics(v, custom_objects) for v in spec]
    if isinstance(spec, dict) and set(spec) == {"per_output"} and isinstance(spec["per_output"], dict):
        return {k: _deserialize_metrics(v, custom_objects) for k, v in spec["per_output"].items()}
    if isinstance(spec, dict):
        return metrics.deserialize(spec, custom_objects=dict(custom_objects or {}))
    raise InvalidArchiveError(f"Invalid metric in the compile settings. Received: {spec!r:.100}")


def compile_config(model: Any) -> dict | None:
    """The arguments ``model.compile`` was called with, JSON-serializable (None if not compiled).

    A loss or metric that cannot be serialized (a lambda) gives a warning and
    None: the model then loads uncompiled.
    """
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    from chainrule import optimizers

    metrics, weighted = model._metric_specs or (None, None)
    try:
        return {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": _serialize_loss(model.loss),
            "loss_weights": None if model._loss_weights is None else list(model._loss_weights),
            "metrics": _serialize_metrics(metrics),
            "weighted_metrics": _serialize_metrics(weighted),
        }
    except (TypeError, ValueError) as e:
        warnings.warn(
            f"The compile settings of model {model.name!r} cannot be saved ({e}); the model is "
            "saved without them and loads uncompiled. Use named losses and metrics (or Loss and "
            "Metric objects) instead of lambdas to keep them.",
            stacklevel=3,
        )
        return None


def _compile_from_config(model: Any, cc: Any, custom_objects: Mapping[str, Any] | None) -> None:
    from chainrule import optimizers

    if not isinstance(cc, dict) or "optimizer" not in cc or "loss" not in cc:
        raise InvalidArchiveError("Invalid compile settings in config.json. Received: "
                                  f"{type(cc).__name__}")
    optimizer = optimizers.deserialize(cc["optimizer"], custom_objects=custom_objects)
    model.compile(
        optimizer=optimizer,
        loss=_deserialize_loss(cc["loss"], custom_objects),
        loss_weights=cc.get("loss_weights"),
        metrics=_deserialize_metrics(cc.get("metrics"), custom_objects),
        weighted_metrics=_deserialize_metrics(cc.get("weighted_metrics"), custom_objects),
    )


def restore_optimizer_state(model: Any, state: Mapping[str, np.ndarray],
                            source: str | None = None) -> None:
    """Put a saved ``optimizer.get_state()`` back, building the optimizer for the model first.

    The optimizer is built on the model's trainable variables in the order the
    training loop uses, so the ``<slot>/<i>`` entries land on the same weights.
    A state with only scalars from a never-used optimizer is a fresh optimizer:
    nothing to restore. Every value is checked before anything is restored
    (see ``Optimizer.set_state``).

    Args:
        model: the compiled model.
        state: the saved state.
        source: the file it was read from; a state that does not fit or holds
            values no training produces then raises ``InvalidArchiveError``
            naming the file and the key.

    Raises:
        ValueError: naming the key, when the state does not fit
            (``InvalidArchiveError`` with ``source``).
    """
    if source is None:
        _restore_optimizer_state(model, state)
        return
    try:
        _restore_optimizer_state(model, state)
    except ValueError as e:
        if isinstance(e, ArchiveError):
            raise
        raise InvalidArchiveError(f"{source} member {OPTIMIZER_MEMBER!r}: {e}") from None


def _restore_optimizer_state(model: Any, state: Mapping[str, np.ndarray]) -> None:
    from chainrule.optimizers.base import _check_state_values

    optimizer = model.optimizer
    _check_state_values(state)  # before anything is built or restored
    scalars_only = all(k in _SCALAR_STATE for k in state)
    it = state.get("iterations")
    iterations = int(np.asarray(it).reshape(-1)[0]) if it is not None and np.size(it) == 1 else 0
    if scalars_only and iterations == 0 and not optimizer.built:
        return
    if not optimizer.built:
        optimizer.build(model._trainable_vars())
    optimizer.set_state(dict(state))


# --------------------------------------------------------------------------- model config


def _build_input_shape(model: Any) -> list | None:
    shape = getattr(model, "_build_shape", None)
    if shape is None or not isinstance(shape, tuple) or not shape:
        return None
    if any(isinstance(d, (tuple, list)) for d in shape):
        return None
    return [None] + [None if d is None else int(d) for d in shape[1:]]


def model_config(model: Any, include_optimizer: bool = True) -> dict:
    """The content of ``config.json`` for ``model`` (see the module docstring)."""
    from chainrule._version import __version__

    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "build_config": {"input_shape": _build_input_shape(model)},
        "compile_config": compile_config(model) if include_optimizer else None,
    }
    registered = get_registered_name(type(model))
    if registered != type(model).__name__:  # registered with register_keras_serializable
        config["registered_name"] = registered
    build_configs = _layer_build_configs(model)
    if build_configs:  # layers overriding get_build_config/build_from_config
        config["layer_build_configs"] = build_configs
    return config


def _overrides(layer: Any, method: str) -> bool:
    """Whether ``layer``'s class overrides the :class:`Layer` default of ``method``."""
    from chainrule.layers import Layer

    return getattr(type(layer), method, None) is not getattr(Layer, method)


def _hook_key(index: int, layer: Any) -> str:
    return f"{index}_{layer.name}"


def _hooked_layers(model: Any, *methods: str) -> list[tuple[str, Any]]:
    """``(key, layer)`` for each layer of ``model`` whose class overrides one of ``methods``."""
    from chainrule.layers.base import layer_tree

    return [(_hook_key(i, layer), layer) for i, layer in enumerate(layer_tree(model))
            if any(_overrides(layer, m) for m in methods)]


class _HookedLookup:
    """The rebuilt model's hooked layers by the key a saved file uses for them.

    Files key a layer by its index in the layer tree (every layer counted) and its
    name. A model can be rebuilt with an ``InputLayer`` its original did not have
    (a ``Sequential`` built by ``fit`` gets one from its saved input shape), which
    shifts the indexes after it; so the index counted without input layers, and a
    name no other hooked layer has, find the layer too.
    """

    def __init__(self, model: Any, *methods: str) -> None:
        from chainrule.layers.base import layer_tree
        from chainrule.layers.core import InputLayer

        tree = layer_tree(model)
        hooked = [layer for layer in tree if any(_overrides(layer, m) for m in methods)]
        ids = {id(layer) for layer in hooked}
        no_inputs = [layer for layer in tree if not isinstance(layer, InputLayer)]
        self.keys = {_hook_key(i, layer): layer for i, layer in enumerate(no_inputs)
                     if id(layer) in ids}
        self.keys.update({_hook_key(i, layer): layer for i, layer in enumerate(tree)
                          if id(layer) in ids})  # the key as saved wins
        by_name: dict[str, list] = {}
        for layer in hooked:
            by_name.setdefault(layer.name, []).append(layer)
        self.unique = {name: group[0] for name, group in by_name.items() if len(group) == 1}

    def get(self, key: str) -> Any:
        """The layer saved under ``key``, or None."""
        layer = self.keys.get(key)
        if layer is None:
            index, _, name = key.partition("_")
            if index.isdigit():
                layer = self.unique.get(name)
        return layer


def _layer_build_configs(model: Any) -> dict:
    """``get_build_config()`` of the layers that override the build hooks (built ones only)."""
    out = {}
    for key, layer in _hooked_layers(model, "get_build_config", "build_from_config"):
        if getattr(layer, "built", False):
            cfg = layer.get_build_config()
            if cfg is not None:
                out[key] = cfg
    return out


def _own_variable_arrays(model: Any) -> list[tuple[str, np.ndarray]]:
    """What the layers overriding ``save_own_variables`` put in their stores."""
    items = []
    for prefix, layer in _hooked_layers(model, "save_own_variables"):
        store: dict = {}
        layer.save_own_variables(store)
        for key, value in store.items():
            arr = np.asarray(backend.to_numpy(value.data if hasattr(value, "data") else value))
            name = f"{prefix}/{key}"
            try:
                check_member_name(f"{name}.npy", "the model")
            except UnsafeFileError:
                raise ValueError(f"Cannot save {name!r} from {layer.name!r}.save_own_variables: "
                                 f"it would make an unsafe file name. Received: key {key!r}"
                                 ) from None
            items.append((name, np.ascontiguousarray(arr)))
    return items


def _apply_build_configs(model: Any, configs: Any, source: str) -> None:
    """Call ``build_from_config`` on the rebuilt layers a saved ``layer_build_configs`` names."""
    if not configs:
        return
    if not isinstance(configs, dict):
        raise InvalidArchiveError(f"{source}: layer_build_configs must be a dict. Received: "
                                  f"{type(configs).__name__}")
    layers = _HookedLookup(model, "get_build_config", "build_from_config")
    for key, cfg in configs.items():
        layer = layers.get(key)
        if layer is None:
            raise InvalidArchiveError(f"{source}: layer_build_configs names a layer {key!r} the "
                                      f"rebuilt model does not have. Received: {sorted(configs)}")
        if not layer.built:
            layer.build_from_config(cfg)


def _load_own_variables(model: Any, arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Call ``load_own_variables`` on the layers whose stores were saved."""
    stores: dict[str, dict] = {}
    for name, arr in arrays.items():
        prefix, _, key = name.partition("/")
        stores.setdefault(prefix, {})[key] = arr
    layers = _HookedLookup(model, "save_own_variables", "load_own_variables")
    for prefix, store in stores.items():
        layer = layers.get(prefix)
        if layer is None:
            raise InvalidArchiveError(f"{source}: {OWN_VARIABLES_MEMBER} holds variables of a "
                                      f"layer {prefix!r} the rebuilt model does not have. "
                                      f"Received: {sorted(stores)[:10]}")
        layer.load_own_variables(store)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _to_json(config: dict, what: str) -> bytes:
    try:
        return json.dumps(config, default=_json_default, indent=1).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"The {what} cannot be written as JSON ({e}). Give custom layers a "
                        "get_config() returning numbers, strings, lists and dicts only.") from None


def _walk_dicts(root: Any) -> Iterator[dict]:
    """Every dict in a JSON value, iteratively (a deep file cannot exhaust the stack)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_names(arch: Any, source: str) -> None:
    for d in _walk_dicts(arch):
        for key in ("class_name", "registered_name"):
            name = d.get(key)
            if name is None:
                continue
            if not isinstance(name, str) or "." in name or ":" in name or name.startswith("__"):
                raise UnsafeFileError(
                    f"{source} names {key}={name!r}, which is not a chainrule class. Loading "
                    "only instantiates chainrule's registered classes and those passed in "
                    f"custom_objects; nothing named in a file is imported. Received: "
                    f"{key}={name!r}"
                )


def _check_plausible_sizes(arch: Any, arrays: Mapping[str, np.ndarray], source: str,
                           limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse configs whose shapes would make rebuilding run on absurdly large samples.

    Every shape in the config may describe at most ``limits.sample_budget``
    (by default ``max(4 * weight values in the file, 2**22)``) values per
    sample. (The weights the config implies are checked by
    :func:`_check_implied_weights`.)
    """
    total = sum(int(a.size) for a in arrays.values())
    shape_cap = limits.sample_budget(total)
    for d in _walk_dicts(arch):
        for key in _SHAPE_KEYS + ("input_dim",):
            value = d.get(key)
            dims = value if isinstance(value, list) else [value] if isinstance(value, int) else []
            product = 1
            for v in dims:
                if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                    product *= v
            if product > shape_cap:
                raise UnsafeFileError(
                    f"{source} declares {key}={value!r} ({product} values per sample), "
                    f"implausibly large for a model with {total} weight values. Received: "
                    f"{key}={value!r}"
                )


def _weight_budget(arrays: Mapping[str, np.ndarray], limits: Limits = DEFAULT_LIMITS) -> int:
    """The bytes of weights a config may make rebuilding allocate (``Limits.build_budget``).

    By default 8 per saved value, at least 32 MiB and at most 16 GiB.
    """
    return limits.build_budget(sum(int(a.size) for a in arrays.values()))


def _layer_config_text(arch: Any, layer: str) -> str:
    """``Name(key=value, ...)``: the scalar settings of a layer's entry in config.json."""
    for d in _walk_dicts(arch):
        inner = d.get("config")
        if isinstance(inner, dict) and inner.get("name") == layer and isinstance(
                d.get("class_name"), str):
            items = [f"{k}={v!r}" for k, v in inner.items()
                     if k not in ("name", "trainable", "dtype") and (
                         isinstance(v, (bool, int, float, str)) or (
                             isinstance(v, list) and len(v) <= 8 and all(
                                 x is None or isinstance(x, (int, float)) for x in v)))]
            return f"layer {layer!r}: {d['class_name']}({', '.join(items)})"[:300]
    return f"layer {layer!r}"


def _shape_mismatch(weight: Any, saved: np.ndarray, arch: Any, source: str) -> InvalidArchiveError:
    return InvalidArchiveError(
        f"{source}: layer {weight.layer!r} weight {weight.name!r} has shape {weight.shape} by "
        f"its config in config.json but shape {tuple(saved.shape)} in the saved weights. "
        f"Received: {_layer_config_text(arch, weight.layer)}"
    )


def _unique_keys(paths: list[str]) -> list[str]:
    """The keys weights are saved under: their paths, ``#k`` added to repeats."""
    seen: dict[str, int] = {}
    out = []
    for base in paths:
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else f"{base}#{k}")
    return out


def _check_build_shape(shape: Any, arrays: Mapping[str, np.ndarray], source: str,
                       limits: Limits = DEFAULT_LIMITS) -> None:
    """A build input shape from a file: a list of positive integers (or None), bounded."""
    if not isinstance(shape, list) or len(shape) > limits.max_ndim or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 2**62)
        for d in shape
    ):
        raise InvalidArchiveError(f"{source}: invalid build input shape: each dimension must be "
                                  "a positive integer or None. "
                                  f"Received: input_shape={shape!r:.80}")
    _check_plausible_sizes({"input_shape": shape}, arrays, source, limits)


#: Input shapes tried on a model saved unbuilt (its input rank unknown): what it would create
#: for one feature of each rank bounds what its first build may allocate.
_PROBE_SHAPES = ((None, 1), (None, 8, 1), (None, 8, 8, 1), (None, 8, 8, 8, 1))


def _probe_unbuilt(probe: Any) -> None:
    """The weights an unbuilt model would create for the smallest inputs of each rank.

    Run inside the budget's ``ShapeOnlyScope``: a config whose first build would pass
    the budget whatever the input (``Dense(2**40)``) raises there. A rank the model
    cannot take is skipped.
    """
    from chainrule.layers import WeightBudgetError

    for shape in _PROBE_SHAPES:
        try:
            probe.compute_weight_shapes(shape)
        except WeightBudgetError:
            raise
        except Exception:  # noqa: BLE001, S112 - not an input this model takes
            continue


def _check_implied_weights(spec: dict, shape: Any, arrays: Mapping[str, np.ndarray],
                           custom_objects: Any, source: str,
                           limits: Limits = DEFAULT_LIMITS, build_configs: Any = None) -> None:
    """Ask the model the config describes which weights it will create, allocating none of them.

    The model is instantiated from its config in a ``ShapeOnlyScope`` (layers
    built on the way, and the model's ``compute_weight_shapes``, allocate and
    initialize nothing) whose budget of :func:`_weight_budget` bytes is checked
    before each weight. Then every implied weight must be in the file, with
    the same shape.
    """
    from chainrule.layers import ShapeOnlyScope, WeightBudgetError

    arch = spec["config"]
    try:
        with ShapeOnlyScope(max_bytes=_weight_budget(arrays, limits)):
            probe = _deserialize_model(spec, custom_objects, source)
            _apply_build_configs(probe, build_configs, source)
            if not probe.built and shape is None:
                _probe_unbuilt(probe)  # built at its first call: bound that too
                return
            if not probe.built:
                _check_build_shape(shape, arrays, source, limits)
            implied = probe.compute_weight_shapes(None if probe.built else tuple(shape))
    except WeightBudgetError as e:
        saved = arrays.get(e.weight.path)
        if saved is not None and tuple(saved.shape) != e.weight.shape:
            raise _shape_mismatch(e.weight, saved, arch, source) from None
        total = sum(int(a.size) for a in arrays.values())
        raise UnsafeFileError(
            f"{source}: config.json asks layer {e.weight.layer!r} for a weight {e.weight.name!r} "
            f"of shape {e.weight.shape} ({e.weight.dtype}); with the weights before it the "
            f"model would take {e.total} bytes (a zero-sized dimension counted as 1), "
            f"implausibly many for a file holding {total} weight values (the budget is "
            f"{e.max_bytes} bytes; pass limits=Limits(min_build_bytes=...) to raise it). "
            f"Nothing was allocated. Received: {_layer_config_text(arch, e.weight.layer)}"
        ) from None
    keys = _unique_keys([w.path for w in implied])
    file_keys = list(arrays)
    if implied and not set(keys) & set(file_keys) and len(file_keys) == len(keys):
        pairs = list(zip(file_keys, implied))  # renamed layers: matched by order, as when assigning
    else:
        pairs = list(zip(keys, implied))
    missing: dict[str, list[str]] = {}
    for key, weight in pairs:
        saved = arrays.get(key)
        if saved is None:
            missing.setdefault(weight.layer, []).append(weight.name)
        elif tuple(saved.shape) != weight.shape:
            raise _shape_mismatch(weight, saved, arch, source)
    if missing:
        listed = "; ".join(f"layer {layer!r} has no saved {', '.join(names)}"
                           for layer, names in missing.items())
        raise InvalidArchiveError(
            f"{source}: {listed}, although the model is built. Received: saved weights "
            f"{file_keys[:10]}"
        )


def _deserialize_model(spec: dict, custom_objects: Any, source: str) -> Any:
    """Instantiate the model ``{"class_name", "config"}`` describes; refuse anything else."""
    from chainrule.layers import Layer
    from chainrule.layers.serialization import deserialize

    model = deserialize(spec, custom_objects)
    if not (isinstance(model, Layer) and callable(getattr(model, "compile", None))):
        raise InvalidArchiveError(f"{source}: config.json describes a {type(model).__name__}, "
                                  f"not a model. Received: class_name={spec['class_name']!r}")
    return model


def _rebuild(config: dict, arrays: Mapping[str, np.ndarray], custom_objects: Any,
             source: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    class_name, arch = config.get("class_name"), config.get("config")
    if not isinstance(class_name, str) or not isinstance(arch, dict):
        raise InvalidArchiveError(f"{source}: config.json lacks the model's class_name and config. "
                                  f"Received: class_name={class_name!r:.80}")
    spec = {"class_name": class_name, "config": arch,
            "registered_name": config.get("registered_name")}
    _check_names(spec, source)
    _check_plausible_sizes(arch, arrays, source, limits)
    build = config.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    rng_state = backend.get_random_state()  # rebuilding draws initial weights; loading must not
    try:
        build_configs = config.get("layer_build_configs")
        _check_implied_weights(spec, shape, arrays, custom_objects, source, limits,
                               build_configs)
        model = _deserialize_model(spec, custom_objects, source)
        _apply_build_configs(model, build_configs, source)
        if not model.built and shape is not None:
            model.build(tuple(shape))
    finally:
        backend.set_random_state(rng_state)
    return model


def _as_archive_error(e: BaseException, source: str, doing: str) -> ArchiveError:
    if isinstance(e, ArchiveError):
        return e
    text = str(e)
    if isinstance(e, ValueError) and text.startswith("Unknown "):
        return UnsafeFileError(
            f"{source}: {text} Loading only uses chainrule's registered classes and functions "
            "and those passed in custom_objects (a subclassed model or a custom layer, loss or "
            "metric must be passed as custom_objects={'Name': Name})."
        )
    return InvalidArchiveError(f"{source}: {doing} failed ({type(e).__name__}: {text[:500]})")


# --------------------------------------------------------------------------- public API


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               zipped: bool | None = None, include_optimizer: bool = True,
               format: str = "chainrule") -> None:  # noqa: A002
    """Save a model's architecture, weights, compile settings and optimizer state.

    The file is a zip archive (``.keras``) of ``config.json``,
    ``model.weights.npz`` and ``optimizer.npz``; nothing in it is pickled. The
    write is atomic: a crash mid-save leaves any previous file intact.

    Args:
        model: the model (Sequential, functional or subclassed).
        filepath: a path ending in ``.keras``; or in ``.h5``/``.hdf5`` for Keras's legacy
            HDF5 layout (tf.keras 2's ``model.save("m.h5")``; needs the ``h5`` extra).
        overwrite: replace an existing file; if False, raise ``FileExistsError``.
        zipped: accepted for Keras compatibility; the archive is always zipped.
        include_optimizer: save the compile settings and optimizer state.
        format: ``"chainrule"`` (the default: chainrule's archive) or ``"keras"``:
            Keras 3's own ``.keras`` layout (HDF5 weights; needs the ``h5`` extra),
            which Keras 3 loads too (see ``docs/interop.md``).

    Raises:
        ValueError: for another extension.
        FileExistsError: if the file exists and ``overwrite`` is False.
        TypeError: if a config cannot be written as JSON.

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> save_model(model, path)
        >>> load_model(path).get_weights()[0].shape
        (2, 1)
    """
    path = _fspath(filepath)
    if path.endswith((".h5", ".hdf5")):  # Keras's legacy HDF5 layout (keras_legacy_h5.py)
        from chainrule.saving.keras_legacy_h5 import save_legacy_model

        save_legacy_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
        return
    _check_extension(path, ".keras", "a chainrule model archive")
    if format not in ("chainrule", "keras"):
        raise ValueError(f"format must be 'chainrule' or 'keras'. Received: format={format!r}")
    if format == "keras":  # Keras 3's own layout, for Keras (chainrule/saving/keras_archive.py)
        from chainrule.saving.keras_archive import save_keras_model

        save_keras_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
        return
    if zipped is False:
        raise ValueError("chainrule writes zipped .keras archives only. Received: zipped=False")
    config = _to_json(model_config(model, include_optimizer), "model config")
    weights = _weight_arrays(model)
    own = _own_variable_arrays(model)
    state = None
    if include_optimizer and getattr(model, "compiled", False) and model.optimizer is not None:
        state = model.optimizer.get_state()
    with atomic_write(path, overwrite=overwrite) as f, zipfile.ZipFile(f, "w") as zf:
        info = zipfile.ZipInfo(CONFIG_MEMBER, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, config)
        _write_npz_member(zf, WEIGHTS_MEMBER, weights)
        if own:
            _write_npz_member(zf, OWN_VARIABLES_MEMBER, own)
        if state is not None:
            _write_npz_member(zf, OPTIMIZER_MEMBER, sorted(state.items()))


def _write_npz_member(zf: zipfile.ZipFile, name: str, arrays: Any) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    with zf.open(info, "w", force_zip64=True) as stream:
        write_npz(stream, arrays)


def _read_model_archive(path: str, limits: Limits) -> tuple[dict, dict, dict | None, dict]:
    f, reader = _open_reader(path, "chainrule model archive", limits)
    src = repr(path)
    with f, reader:
        names = reader.names
        if CONFIG_MEMBER not in names:
            if names and all(n.endswith(".npy") for n in names):
                raise InvalidArchiveError(
                    f"{src} is not a chainrule model archive: it holds only arrays (a weights "
                    "file? load it with model.load_weights(...)). Received: filepath="
                    f"{path!r}")
            raise InvalidArchiveError(f"{src} is not a chainrule model archive: it has no "
                                      f"config.json. Received: members {names[:10]}")
        if "model.weights.h5" in names:
            raise InvalidArchiveError(
                f"{src} is not a chainrule model archive: it is a Keras archive with HDF5 "
                "weights (model.weights.h5). chainrule reads the archives it writes. "
                f"Received: filepath={path!r}")
        unexpected = [n for n in names if n not in _MODEL_MEMBERS]
        if unexpected:
            raise UnsafeFileError(f"{src} contains unexpected members {unexpected[:10]}; a "
                                  f"chainrule model archive holds only {list(_MODEL_MEMBERS)}. "
                                  f"Received: members {names[:10]}")
        config = read_json(reader, CONFIG_MEMBER)
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise InvalidArchiveError(
                f"{src} is not a chainrule model archive: its config.json lacks the format "
                f"marker {FORMAT!r}. Received: filepath={path!r}")
        version = config.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidArchiveError(f"{src}: invalid format_version. Received: "
                                      f"format_version={version!r:.40}")
        if version > FORMAT_VERSION:
            raise InvalidArchiveError(
                f"{src} was written by a newer chainrule ({config.get('chainrule_version')!r:.40},"
                f" format version {version}); this one reads format version {FORMAT_VERSION}. "
                f"Upgrade chainrule. Received: format_version={version}")
        weights: dict = {}
        if WEIGHTS_MEMBER in names:
            weights = open_npz_bytes(reader.read(WEIGHTS_MEMBER),
                                     f"{src} member {WEIGHTS_MEMBER!r}", limits)
        state = None
        if OPTIMIZER_MEMBER in names:
            state = open_npz_bytes(reader.read(OPTIMIZER_MEMBER),
                                   f"{src} member {OPTIMIZER_MEMBER!r}", limits)
        own: dict = {}
        if OWN_VARIABLES_MEMBER in names:
            own = open_npz_bytes(reader.read(OWN_VARIABLES_MEMBER),
                                 f"{src} member {OWN_VARIABLES_MEMBER!r}", limits)
    return config, weights, state, own


def load_model(filepath: str | os.PathLike, custom_objects: Mapping[str, Any] | None = None,
               compile: bool = True, safe_mode: bool = True,
               limits: Limits | None = None) -> Any:
    """Load a model saved by :func:`save_model` (``model.save``).

    The model is rebuilt from its config, its weights are loaded, and (with
    ``compile=True``) it is compiled as it was and its optimizer state is
    restored, so ``predict`` gives bit-identical outputs and training continues
    exactly as the original would have. Loading does not change chainrule's
    random state.

    Nothing in the file is executed: there is no pickle, no ``eval`` and no
    import of a name found in the file. Classes come from chainrule's
    registries and from ``custom_objects`` only, so a subclassed model (and any
    custom layer, loss or metric) must be passed in ``custom_objects``, be
    registered with :func:`~chainrule.saving.register_keras_serializable` or be
    known in a :class:`~chainrule.saving.custom_object_scope`.

    Args:
        filepath: the ``.keras`` file: chainrule's, or one Keras 3 wrote; or a legacy
            Keras ``.h5`` model file (Keras's files need the ``h5`` extra; see
            ``docs/interop.md``).
        custom_objects: ``{"Name": class_or_function}`` for your own classes.
        compile: compile the model with the saved settings (when there are any).
        safe_mode: accepted for Keras compatibility. chainrule never runs code
            from a file, whatever its value.
        limits: bounds on declared sizes (default :data:`~chainrule.saving.archive.DEFAULT_LIMITS`).

    Returns:
        The model.

    Raises:
        FileNotFoundError: if there is no such file.
        InvalidArchiveError: if it is not a chainrule model archive, or is damaged.
        UnsafeFileError: if it holds pickles, object or string arrays, unsafe
            member names, sizes beyond the limits, or names classes that are
            neither registered nor in ``custom_objects``.

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> model.save(path)
        >>> load_model(path).optimizer.get_config()["name"]
        'adam'
    """
    path = _fspath(filepath)
    if custom_objects is not None and not isinstance(custom_objects, Mapping):
        raise TypeError("custom_objects must be a dict mapping names to classes or functions, "
                        "e.g. {'MyLayer': MyLayer}. Received: custom_objects of type "
                        f"{type(custom_objects).__name__}")
    limits = limits or DEFAULT_LIMITS
    src = repr(path)
    if os.path.isfile(path):  # a .keras file written by Keras 3 (chainrule/saving/keras_archive.py)
        from chainrule.saving.keras_archive import is_keras_zip, load_keras_model, zip_member_names

        if is_keras_zip(zip_member_names(path) or []):
            return load_keras_model(path, custom_objects, compile=compile, limits=limits)
        from chainrule.saving.keras_legacy_h5 import is_legacy_h5, load_legacy_model

        if is_legacy_h5(path):  # model.save("m.h5") by tf.keras 2 (or Keras 3's legacy writer)
            return load_legacy_model(path, custom_objects, compile=compile, limits=limits)
    config, weights, state, own = _read_model_archive(path, limits)
    # Nested configs (a layer's activation or initializer) find custom_objects through the scope.
    with custom_object_scope(custom_objects if isinstance(custom_objects, Mapping) else None):
        try:
            model = _rebuild(config, weights, custom_objects, src, limits)
        except Exception as e:  # noqa: BLE001 - anything a file can cause becomes an ArchiveError
            raise _as_archive_error(e, src, "rebuilding the model from its config") from None
        try:
            assign_weights(model, weights, src)
            _load_own_variables(model, own, src)
        except Exception as e:  # noqa: BLE001
            raise _as_archive_error(e, src, "loading the weights into the rebuilt model") from None
        cc = config.get("compile_config")
        if compile and cc is not None:
            try:
                _compile_from_config(model, cc, custom_objects)
                if state is not None:
                    restore_optimizer_state(model, state, src)
            except Exception as e:  # noqa: BLE001
                raise _as_archive_error(e, src, "restoring the compile settings") from None
    return model


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Save every weight of a model to a ``.weights.npz`` file (atomically).

    The file is a plain NumPy ``.npz`` archive (no pickle) keyed by weight path
    (``dense/kernel``), so ``np.load(path)`` reads it too.

    Args:
        model: a built model.
        filepath: a path ending in ``.weights.npz``, or in ``.weights.h5`` for Keras 3's
            HDF5 layout (Keras loads it; needs the ``h5`` extra).
        overwrite: replace an existing file; if False, raise ``FileExistsError``.

    Raises:
        ValueError: for another extension, or an unbuilt model.
        ImportError: for ``.weights.h5`` without h5py.

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2, name="out")])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.weights.npz")
        >>> save_weights(model, path)
        >>> sorted(np.load(path).files)
        ['out/bias', 'out/kernel']
    """
    path = _fspath(filepath)
    if path.endswith(".weights.h5"):  # Keras 3's HDF5 layout (chainrule/saving/keras_h5.py)
        from chainrule.saving.keras_h5 import save_h5_weights

        save_h5_weights(model, path, overwrite=overwrite)
        return
    _check_extension(path, ".weights.npz", "chainrule's weights format")
    _require_weights_to_save(model)
    arrays = _weight_arrays(model)
    with atomic_write(path, overwrite=overwrite) as f:
        write_npz(f, arrays)


def _require_weights_to_save(model: Any) -> None:
    """Refuse to save an unbuilt model's (absent) weights, saying how to build it."""
    if not getattr(model, "built", True) and not model.weights:
        raise ValueError(
            f"Model {getattr(model, 'name', '')!r} is not built yet, so it has no weights to "
            "save. Build it first (give the first layer input_shape=..., call it on data, or "
            "call model.build(input_shape)). Received: an unbuilt model"
        )


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False,
                 limits: Limits | None = None) -> None:
    """Load weights saved by :func:`save_weights` (or from a ``.keras`` model archive).

    Weights are matched by layer name and weight name; when no name matches
    at all but the count does (renamed layers), by order. Shapes must agree.

    Args:
        model: the model to load into (built, or buildable from the archive).
        filepath: a ``.weights.npz`` file or a ``.keras`` archive; or Keras 3's
            ``.weights.h5`` or ``.keras`` files (need the ``h5`` extra).
        skip_mismatch: skip, with a warning, weights that are missing, extra or
            of another shape, instead of raising.
        limits: bounds on declared sizes.

    Raises:
        FileNotFoundError: if there is no such file.
        WeightMismatchError: naming the layer, the weight and both shapes.
        InvalidArchiveError, UnsafeFileError: for files that are not weights files
            or are damaged or unsafe.

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> a = cr.Sequential([cr.layers.Dense(1, input_dim=2, name="out")])
        >>> b = cr.Sequential([cr.layers.Dense(1, input_dim=2, name="out")])
        >>> path = os.path.join(tempfile.mkdtemp(), "a.weights.npz")
        >>> a.save_weights(path); load_weights(b, path)
        >>> bool((a.get_weights()[0] == b.get_weights()[0]).all())
        True
    """
    path = _fspath(filepath)
    limits = limits or DEFAULT_LIMITS
    src = repr(path)
    if os.path.isfile(path):  # Keras's HDF5 weights, or a Keras-written .keras (keras_h5.py)
        from chainrule.saving.keras_archive import is_keras_zip, zip_member_names
        from chainrule.saving.keras_h5 import HDF5_SIGNATURE, load_h5_weights

        with open(path, "rb") as head_file:
            is_h5 = head_file.read(8) == HDF5_SIGNATURE
        if is_h5 or path.endswith(".h5"):
            return load_h5_weights(model, path, src, skip_mismatch=skip_mismatch, limits=limits)
        if is_keras_zip(zip_member_names(path) or []):
            from chainrule.saving.keras_archive import _read_keras_zip

            return load_h5_weights(model, _read_keras_zip(path, limits)[2], src,
                                   skip_mismatch=skip_mismatch, limits=limits, optimizer=False)
    f, reader = _open_reader(path, "chainrule weights file", limits)
    build_shape = None
    with f, reader:
        is_model_archive = CONFIG_MEMBER in reader.names
        if not is_model_archive:
            arrays = read_npz(f, src, limits)
    if is_model_archive:
        config, arrays, _, _ = _read_model_archive(path, limits)
        build = config.get("build_config")
        build_shape = build.get("input_shape") if isinstance(build, dict) else None
    if not model.built:
        if build_shape is not None:
            _build_for_weights(model, build_shape, arrays, src, limits, skip_mismatch)
        else:
            raise ValueError(
                f"Model {model.name!r} is not built, so its weights do not exist yet. Build it "
                "first (call it on a batch of data or call model.build(input_shape)). "
                f"Received: filepath={path!r}"
            )
    assign_weights(model, arrays, src, skip_mismatch=skip_mismatch)


def _build_for_weights(model: Any, shape: list, arrays: Mapping[str, np.ndarray], source: str,
                       limits: Limits, skip_mismatch: bool) -> None:
    """Build an unbuilt model for the input shape a file gives, only if its weights will fit.

    The shape is checked (positive integers, bounded), then the weights the model
    would create for it are computed without allocating any (within the build
    budget) and matched against the file's: a file that does not fit raises
    before the model is touched, so a failed ``load_weights`` leaves it unbuilt.
    """
    from chainrule.layers import ShapeOnlyScope, WeightBudgetError

    _check_build_shape(shape, arrays, source, limits)
    try:
        with ShapeOnlyScope(max_bytes=_weight_budget(arrays, limits)):
            implied = model.compute_weight_shapes(tuple(shape))
    except WeightBudgetError as e:
        raise UnsafeFileError(
            f"{source}: its build input shape {shape} would make model {model.name!r} create "
            f"{e.total} bytes of weights, more than the {e.max_bytes} allowed for the file. "
            f"Nothing was allocated. Received: input_shape={shape}"
        ) from None
    keyed = list(zip(_unique_keys([w.path for w in implied]), implied))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # assign_weights warns once, after the build
        _plan_assignment(keyed, arrays, source, skip_mismatch)
    model.build(tuple(shape))


def read_weights(filepath: str | os.PathLike, limits: Limits | None = None) -> dict[str, np.ndarray]:
    """Read a ``.weights.npz`` file safely into ``{key: array}`` (for inspection).

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.npz")
        >>> cr.Sequential([cr.layers.Dense(1, input_dim=2, name="d")]).save_weights(path)
        >>> list(read_weights(path))
        ['d/kernel', 'd/bias']
    """
    path = _fspath(filepath)
    _require_file(path)
    with _open_regular(path) as f:
        head = f.read(8)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise _not_a_zip(path, head, "chainrule weights file")
        f.seek(0)
        return read_npz(f, repr(path), limits or DEFAULT_LIMITS)


"""Keras's legacy whole-model HDF5 files (``model.save("m.h5")`` in tf.keras 2, and Keras 3's
legacy writer), and their weights-only form (``model.save_weights("w.h5")`` in tf.keras 2).

Layout: the file's ``model_config`` attribute is the model's config as JSON text
(``training_config`` the compile settings); the group ``model_weights`` (the file's root
for a weights-only file) lists its layers in the attribute ``layer_names``, and each
layer's group lists its weights, in the layer's weight order, in ``weight_names``.
Weights are matched to the model's layers that have weights, in order, as Keras does.

Attributes are parsed as data (JSON with ``json.loads``), every dataset's declared size
is checked before anything is read, and configs go through the same table as
``.keras`` files (:mod:`chainrule.saving.keras_archive`): nothing from a file runs.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._registry import custom_object_scope
from chainrule.saving.archive import DEFAULT_LIMITS, Limits
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
    require_h5py,
)

__all__ = ["is_legacy_h5", "legacy_pairs", "load_legacy_model", "save_legacy_model"]


def is_legacy_h5(path: str) -> bool:
    """Whether ``path`` is an HDF5 file with a Keras ``model_config`` attribute.

    False when h5py is not installed or the file is no readable HDF5 file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.h5")
        >>> _ = open(path, "w").write("hello")
        >>> is_legacy_h5(path)
        False
    """
    with open(path, "rb") as fh:
        if fh.read(8) != HDF5_SIGNATURE:
            return False
    try:
        import h5py  # noqa: PLC0415
    except ImportError:
        return False
    try:
        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs
    except (OSError, ValueError, RuntimeError, KeyError):
        return False


def _attr_text(obj: Any, key: str, src: str, limits: Limits) -> str | None:
    value = obj.attrs.get(key)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise InvalidArchiveError(f"{src}: the attribute {key!r} is not text. "
                                  f"Received: {type(value).__name__}")
    if len(value) > limits.max_json_bytes:
        raise UnsafeFileError(f"{src}: the attribute {key!r} holds {len(value)} characters, more "
                              f"than the limit of {limits.max_json_bytes}. "
                              f"Received: {len(value)} characters")
    return value


def _attr_json(obj: Any, key: str, src: str, limits: Limits) -> Any:
    text = _attr_text(obj, key, src, limits)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidArchiveError(f"{src}: the attribute {key!r} is not valid JSON. "
                                  f"Received: {text[:80]!r}") from None


def _attr_names(group: Any, key: str, src: str, limits: Limits) -> list[str]:
    value = group.attrs.get(key)
    if value is None:  # Keras splits a long list into key0, key1, ... (64 KB per attribute)
        chunks = []
        while f"{key}{len(chunks)}" in group.attrs and len(chunks) < limits.max_members:
            chunks.append(np.asarray(group.attrs[f"{key}{len(chunks)}"]).reshape(-1))
        if not chunks:
            return []
        value = np.concatenate(chunks)
    items = np.asarray(value).reshape(-1)
    if items.size > limits.max_members:
        raise UnsafeFileError(f"{src}: {group.name} lists {items.size} {key}. "
                              f"Received: {items.size} names")
    out = []
    for item in items.tolist():
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        if not isinstance(item, str):
            raise InvalidArchiveError(f"{src}: {group.name} attribute {key!r} holds a "
                                      f"{type(item).__name__}, not names. Received: {item!r:.40}")
        out.append(item)
    return out


def legacy_pairs(f: Any, model: Any, src: str, limits: Limits,
                 skip_mismatch: bool = False) -> list[tuple[Any, Any]]:
    """Match a legacy Keras HDF5 file's weights to ``model``: ``[(variable, dataset)]``, checked.

    Raises:
        WeightMismatchError: for other layer counts or shapes.
        InvalidArchiveError: when the file has no ``layer_names``.
    """
    datasets = h5_datasets(f, src, limits)  # declared sizes checked, nothing read
    root = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in root.attrs:
        raise InvalidArchiveError(
            f"{src} is not a Keras weights file: it has neither Keras 3's 'layers'/'vars' "
            f"groups nor tf.keras's 'layer_names' attribute. Received: top-level groups "
            f"{sorted(f)[:10]}")
    prefix = root.name.strip("/")
    file_layers = []
    for name in _attr_names(root, "layer_names", src, limits):
        group = root.get(name)
        if group is None:
            raise InvalidArchiveError(f"{src}: layer {name!r} is listed but has no group. "
                                      f"Received: layer_names entry {name!r}")
        keys = []
        for w in _attr_names(group, "weight_names", src, limits):
            key = "/".join(p for p in (prefix, name, w) if p)
            if key not in datasets:
                raise InvalidArchiveError(f"{src}: layer {name!r} lists weight {w!r}, which is "
                                          f"not a dataset in its group. Received: {w!r}")
            keys.append(key)
        if keys:
            file_layers.append((name, keys))
    model_layers = [la for la in model.layers if la.weights]
    problems = []
    if len(file_layers) != len(model_layers):
        problems.append(f"{src} holds weights for {len(file_layers)} layers "
                        f"{[n for n, _ in file_layers][:10]} but the model has "
                        f"{len(model_layers)} layers with weights "
                        f"{[la.name for la in model_layers][:10]}")
    pairs = []
    for (name, keys), layer in zip(file_layers, model_layers):
        weights = [w for w in layer.weights if w.trainable] + [
            w for w in layer.weights if not w.trainable]
        if len(keys) != len(weights):
            problems.append(f"layer {layer.name!r} has {len(weights)} weights in the model but "
                            f"layer {name!r} has {len(keys)} in {src}")
            continue
        for var, key in zip(weights, keys):
            ds = datasets[key]
            if tuple(ds.shape) != tuple(var.shape):
                problems.append(f'Layer "{layer.name}" weight "{var.name}" has shape '
                                f"{tuple(var.shape)} in the model but {tuple(ds.shape)} in "
                                f"{src} ({key})")
                continue
            pairs.append((var, ds))
    if problems:
        message = "; ".join(problems[:10])
        if not skip_mismatch:
            raise WeightMismatchError(f"{message}. Pass skip_mismatch=True to load the weights "
                                      f"that match. Received: filepath={src}")
        warnings.warn(f"{message}. Skipping them (skip_mismatch=True).", stacklevel=3)
    return pairs


def _legacy_compile(model: Any, tc: Any, custom_objects: Any, src: str) -> None:
    from chainrule.saving.api import _compile_from_config  # noqa: PLC0415

    if not isinstance(tc, dict) or not tc.get("optimizer_config") or tc.get("loss") is None:
        return
    metrics = tc.get("metrics")
    if isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list):
        metrics = metrics[0]  # tf.keras 2 wrote one list per output
    settings = {"optimizer": tc["optimizer_config"], "loss": tc["loss"],
                "loss_weights": tc.get("loss_weights"), "metrics": metrics,
                "weighted_metrics": tc.get("weighted_metrics")}
    try:
        _compile_from_config(model, settings, custom_objects)
    except Exception as e:  # noqa: BLE001 - Keras too loads the model uncompiled then
        warnings.warn(f"{src}: the model was loaded uncompiled; its compile settings could not "
                      f"be restored ({type(e).__name__}: {str(e)[:300]}).", stacklevel=3)


def load_legacy_model(path: str, custom_objects: Mapping[str, Any] | None = None,
                      compile: bool = True, limits: Limits | None = None) -> Any:  # noqa: A002
    """Load a legacy Keras HDF5 model file (``model.save("m.h5")``) into a chainrule model.

    :func:`chainrule.models.load_model` calls this for an HDF5 file with a
    ``model_config`` attribute; use that. The optimizer's variables are not
    restored (the compile settings are, when chainrule knows them).

    Raises:
        UnsafeFileError: for a ``Lambda`` or unknown layer, or sizes beyond the limits.
        InvalidArchiveError: for a damaged or inconsistent file.

    Example (it runs when h5py is installed):
        >>> import importlib.util, os, tempfile
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2, name="d")])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_legacy_model(m, path)
        >>> not has_h5py or load_legacy_model(path).layers[0].name == "d"
        True
    """
    from chainrule.layers import ShapeOnlyScope, WeightBudgetError  # noqa: PLC0415
    from chainrule.saving.api import (  # noqa: PLC0415
        _as_archive_error,
        _check_names,
        _check_plausible_sizes,
        _deserialize_model,
        _weight_budget,
    )
    from chainrule.saving.keras_archive import from_keras_config  # noqa: PLC0415

    limits = limits or DEFAULT_LIMITS
    src = repr(path)
    custom = dict(custom_objects) if isinstance(custom_objects, Mapping) else None
    with custom_object_scope(custom), damaged_file_errors(src), _open_h5(path, src) as f:
        datasets = h5_datasets(f, src, limits)
        config = _attr_json(f, "model_config", src, limits)
        spec = from_keras_config(config, custom, src)
        _check_names(spec, src)
        _check_plausible_sizes(spec["config"], datasets, src)
        rng_state = backend.get_random_state()
        try:
            with ShapeOnlyScope(max_bytes=_weight_budget(datasets)):
                _deserialize_model(spec, custom, src)
            model = _deserialize_model(spec, custom, src)
        except WeightBudgetError as e:
            raise UnsafeFileError(
                f"{src}: model_config asks layer {e.weight.layer!r} for a weight of shape "
                f"{e.weight.shape}; the model would allocate more than {e.max_bytes} bytes, "
                "implausibly many for the weights in the file. Nothing was allocated. "
                f"Received: shape={e.weight.shape}") from None
        except ArchiveError:
            raise
        except Exception as e:  # noqa: BLE001 - anything a file can cause becomes an ArchiveError
            raise _as_archive_error(e, src, "rebuilding the model from its config") from None
        finally:
            backend.set_random_state(rng_state)
        if not model.built:
            raise InvalidArchiveError(f"{src}: the model in model_config has no input shape, so "
                                      "its weights cannot be matched. Received: an unbuilt model")
        try:
            pairs = legacy_pairs(f, model, src, limits)
        except WeightMismatchError as e:
            raise InvalidArchiveError(str(e)) from None
        if compile:
            _legacy_compile(model, _attr_json(f, "training_config", src, limits), custom, src)
        assign_pairs(pairs)
    return model


def _strip_layer_keys(config: dict) -> dict:
    """Keras's legacy configs: the model's own layer entries carry no ``module``,
    ``registered_name`` or ``build_config`` (nested layer configs keep theirs)."""
    inner = dict(config["config"])
    inner["layers"] = [{k: v for k, v in entry.items()
                        if k not in ("module", "registered_name", "build_config")}
                       for entry in inner["layers"]]
    return {"class_name": config["class_name"], "config": inner}


def save_legacy_model(model: Any, path: str, overwrite: bool = True,
                      include_optimizer: bool = True) -> None:
    """Write ``model`` as a legacy Keras HDF5 model file (``model.save("m.h5")``), atomically.

    The layout is the one tf.keras 2 and Keras 3's legacy writer use: the
    ``model_config`` and ``training_config`` attributes (JSON) and the
    ``model_weights`` group; Keras 3 loads it with ``keras.saving.load_model``.
    The optimizer's variables are not written (Keras then starts the optimizer
    afresh). Prefer ``.keras`` files: this layout is kept for old tools.

    Args:
        model: a built Sequential or functional model.
        path: the destination (``.h5`` or ``.hdf5``).
        overwrite: replace an existing file.
        include_optimizer: write the compile settings.

    Raises:
        ImportError: without h5py.

    Example (it runs when h5py is installed):
        >>> import importlib.util, os, tempfile
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_legacy_model(m, path)
        >>> not has_h5py or is_legacy_h5(path)
        True
    """
    from chainrule.saving.atomic import atomic_write  # noqa: PLC0415
    from chainrule.saving.keras_archive import KERAS_LAYOUT_VERSION, to_keras_config  # noqa: PLC0415

    h5py = require_h5py()
    full = to_keras_config(model, include_optimizer)
    config = _strip_layer_keys({"class_name": full["class_name"], "config": full["config"]})
    cc = full.get("compile_config")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["keras_version"] = KERAS_LAYOUT_VERSION
        f.attrs["backend"] = "numpy"
        f.attrs["model_config"] = json.dumps(config)
        if cc:
            training = {k: cc.get(k) for k in ("loss", "metrics", "weighted_metrics",
                                               "loss_weights")}
            opt = cc["optimizer"]
            training["optimizer_config"] = {"class_name": opt["class_name"],
                                            "config": opt["config"]}
            f.attrs["training_config"] = json.dumps(training)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [la.name.encode("utf8") for la in model.layers]
        group.attrs["backend"] = b"numpy"
        group.attrs["keras_version"] = KERAS_LAYOUT_VERSION.encode("utf8")
        for layer in sorted(model.layers, key=lambda la: la.name):
            weights = [w for w in layer.weights if w.trainable] + [
                w for w in layer.weights if not w.trainable]
            sub = group.create_group(layer.name)
            sub.attrs["weight_names"] = [str(w.path).encode("utf8") for w in weights]
            for w in weights:
                sub.create_dataset(str(w.path), data=np.asarray(
                    backend.to_numpy(w.data), order="C"))  # 0-d stays 0-d
        group.create_group("top_level_model_weights").attrs["weight_names"] = np.array(
            [], dtype="S1")
    with atomic_write(path, overwrite=overwrite) as out:
        out.write(buffer.getvalue())

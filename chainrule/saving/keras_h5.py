"""Keras 3's HDF5 weights layout (``.weights.h5``, and ``model.weights.h5`` in a ``.keras`` zip).

Keras 3 stores a model's state in groups that follow its objects, not their
names: the model's layers live in ``layers/<class_in_snake_case>`` (``dense``,
``dense_1``, ... in layer order), each object's own variables are the datasets
``vars/0``, ``vars/1``, ... of its ``vars`` group (whose ``name`` attribute is
the object's name), nested objects follow their attribute (``layers/lstm/cell``,
``layers/bidirectional/forward_layer``), and the optimizer's variables are in
``optimizer/vars``. This module maps a chainrule model onto that layout, so
files go both ways between chainrule and Keras 3.

Reading is bounded as for chainrule's own archives: every dataset's declared
shape and dtype are checked against the weight it is meant for, and the
declared sizes against the limits, before any value is read. Attributes are
read as data; nothing from a file is executed. h5py is an optional
dependency: ``pip install "chainrule[h5]"``.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.saving.archive import DEFAULT_LIMITS, Limits
from chainrule.saving.errors import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
)

__all__ = ["HDF5_SIGNATURE", "damaged_file_errors", "keras_layout", "load_h5_weights", "require_h5py", "save_h5_weights",
           "snake_case", "write_h5_bytes"]

#: The first bytes of every HDF5 file (without a user block).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Nested objects whose variables Keras 3 keeps under an attribute's name, by chainrule class.
# Adding a wrapper layer is one entry here: ``class name -> layer -> [(attribute, child)]``.
NESTED: dict[str, Callable[[Any], list[tuple[str, Any]]]] = {
    "SimpleRNN": lambda layer: [("cell", layer.cell)],
    "LSTM": lambda layer: [("cell", layer.cell)],
    "GRU": lambda layer: [("cell", layer.cell)],
    "RNN": lambda layer: [("cell", layer.cell)],
    "Bidirectional": lambda layer: [("backward_layer", layer.backward_layer),
                                    ("forward_layer", layer.forward_layer)],
    "TimeDistributed": lambda layer: [("layer", layer.layer)],
    "MultiHeadAttention": lambda layer: [  # Keras walks its public properties, sorted
        (attr, getattr(layer, f"_{attr}")) for attr in
        ("gate_dense", "key_dense", "output_dense", "query_dense", "value_dense")
        if getattr(layer, f"_{attr}", None) is not None],
    "GroupedQueryAttention": lambda layer: [  # Keras walks its private attributes, sorted
        (f"_{attr}", getattr(layer, f"_{attr}")) for attr in
        ("gate_dense", "key_dense", "output_dense", "query_dense", "value_dense")
        if getattr(layer, f"_{attr}", None) is not None],
}

# Optimizer variables after ``iterations`` and ``learning_rate``, in Keras 3's order: each
# inner list is created variable by variable, its slots interleaved (Adam: m0, v0, m1, v1 ...).
OPTIMIZER_SLOTS: dict[str, list[list[str]]] = {
    "SGD": [["momentum"]],
    "Adam": [["momentum", "velocity"], ["velocity_hat"]],
    "AdamW": [["momentum", "velocity"], ["velocity_hat"]],
    "RMSprop": [["velocity"], ["momentum"], ["average_gradient"]],
    "Adagrad": [["accumulator"]],
    "Adadelta": [["accumulated_grad", "accumulated_delta_var"]],
    "Adamax": [["momentum", "norm"]],
    "Ftrl": [["accumulator", "linear"]],
    "Lion": [["momentum"]],
    "Lamb": [["momentum", "velocity"]],
}

_NUMERIC_KINDS = "biuf"


def require_h5py() -> Any:
    """Import h5py, or raise an ImportError saying which extra brings it.

    Returns:
        The ``h5py`` module.

    Example:
        >>> try:
        ...     h5py = require_h5py()
        ... except ImportError:  # the message names the extra
        ...     h5py = None
        >>> h5py is None or h5py.__name__ == "h5py"
        True
    """
    try:
        import h5py  # noqa: PLC0415
    except ImportError:
        raise ImportError(
            "Keras's HDF5 files (.weights.h5, .h5, and .keras files written by Keras) need h5py, "
            "an optional dependency: pip install \"chainrule[h5]\" (or pip install h5py). "
            "chainrule's own formats (.keras archives, .weights.npz) need only NumPy. "
            "Received: h5py is not installed"
        ) from None
    return h5py


def snake_case(name: str) -> str:
    """Keras's group name for a class: ``BatchNormalization`` -> ``batch_normalization``.

    Example:
        >>> snake_case("BatchNormalization"), snake_case("LSTM"), snake_case("Conv2D")
        ('batch_normalization', 'lstm', 'conv2d')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_layer(value: Any) -> bool:
    from chainrule.layers import Layer  # noqa: PLC0415

    return isinstance(value, Layer)


def _attribute_children(obj: Any) -> list[tuple[str, Any]]:
    """Layers held in attributes of a layer or subclassed model of your own, as Keras walks
    them: by attribute name, private names last, lists and dicts as containers; the
    attributes every chainrule layer or model has are not walked."""
    from chainrule.layers import Layer, ShapeOnlyScope  # noqa: PLC0415
    from chainrule.models import Model  # noqa: PLC0415

    base = Model if isinstance(obj, Model) else Layer
    skip = _BASE_ATTRIBUTES.get(base)
    if skip is None:
        with ShapeOnlyScope():  # gives back the default name the bare instance takes
            skip = _BASE_ATTRIBUTES[base] = set(vars(base()))
    out = []
    for attr in sorted(vars(obj), key=lambda a: f"~{a}" if a.startswith("_") else a):
        value = getattr(obj, attr)
        if attr in skip:
            continue
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)) and value and all(_is_layer(v) for v in value):
            out.append((attr, list(value)))
        elif _is_layer(value):
            out.append((attr, value))
    return out


_BASE_ATTRIBUTES: dict[type, set[str]] = {}


def _children(obj: Any) -> list[tuple[str, Any]]:
    make = NESTED.get(type(obj).__name__)
    if make is not None:
        return make(obj)
    from chainrule.models import Sequential  # noqa: PLC0415

    if isinstance(obj, Sequential) or getattr(obj, "_functional", False):
        return [("layers", list(obj.layers))]
    return _attribute_children(obj)


def _own_variables(obj: Any, children: list[tuple[str, Any]]) -> list[Any]:
    nested: set[int] = set()
    for _, child in children:
        for c in child if isinstance(child, list) else [child]:
            nested.update(id(w) for w in c.weights)
    # a layer's own variables: those of no child, and any child's it tracks itself (as Keras
    # 3 saves a SpectralNormalization's kernel with the wrapper and with the wrapped layer)
    tracked = {id(w) for w in vars(obj).get("_variables", ())}
    own = [w for w in obj.weights if id(w) not in nested or id(w) in tracked]
    return [w for w in own if w.trainable] + [w for w in own if not w.trainable]


def keras_layout(model: Any) -> list[tuple[str, str, list[Any]]]:
    """Where Keras 3 keeps each object's variables: ``(vars group path, object name, variables)``.

    Args:
        model: a built chainrule model (or layer).

    Returns:
        One entry per object, in Keras's order, including objects without variables.

    Example:
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Dense(2, input_dim=3, name="a"),
        ...                    cr.layers.Dense(1, name="b")], name="m")
        >>> [(p, n, [w.name for w in v]) for p, n, v in keras_layout(m)]
        [('vars', 'm', []), ('layers/dense/vars', 'a', ['kernel', 'bias']), \
('layers/dense_1/vars', 'b', ['kernel', 'bias'])]
    """
    out: list[tuple[str, str, list[Any]]] = []
    visited: set[int] = set()

    def visit(obj: Any, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        children = _children(obj)
        out.append((f"{path}/vars" if path else "vars", str(obj.name),
                    _own_variables(obj, children)))
        for attr, child in children:
            sub = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                used: dict[str, int] = {}
                for item in child:
                    base = snake_case(type(item).__name__)
                    if base in used:
                        used[base] += 1
                        base = f"{base}_{used[base]}"
                    else:
                        used[base] = 0
                    visit(item, f"{sub}/{base}")
            else:
                visit(child, sub)

    visit(model, "")
    return out


def _optimizer_arrays(model: Any) -> tuple[str, list[np.ndarray]] | None:
    """The optimizer's variables in Keras's order, or None when they cannot be written."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(model, "compiled", False):
        return None  # (an unbuilt optimizer has its iterations and learning rate, as in Keras)
    slots = OPTIMIZER_SLOTS.get(type(opt).__name__)
    state = opt.get_state()
    if slots is None or "learning_rate" not in state:
        return None
    n = len(model.trainable_weights)
    arrays = [np.asarray(state["iterations"], dtype=np.int64),
              np.asarray(state["learning_rate"], dtype=np.float32)]
    used = {"iterations", "learning_rate"}
    for group in slots:
        for i in range(n):
            for slot in group:
                key = f"{slot}/{i}"
                if key in state:
                    arrays.append(np.asarray(state[key]))
                    used.add(key)
    if set(state) - used:  # state Keras has no place for (e.g. an option Keras lacks)
        return None
    return str(opt.name), arrays


def write_h5_bytes(model: Any, include_optimizer: bool = True) -> bytes:
    """The bytes of a Keras 3 ``.weights.h5`` file holding ``model``'s weights.

    Args:
        model: a built model.
        include_optimizer: also write the optimizer's variables, as Keras does for
            a compiled model, for the optimizers in :data:`OPTIMIZER_SLOTS` (others
            are left out: Keras then starts its optimizer afresh).

    Returns:
        The HDF5 file's content.
    """
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for path, name, variables in keras_layout(model):
            group = f.create_group(path)
            group.attrs["name"] = name
            for i, var in enumerate(variables):
                value = np.asarray(backend.to_numpy(var.data), order="C")  # 0-d stays 0-d
                group.create_dataset(str(i), data=value)
        opt = _optimizer_arrays(model) if include_optimizer else None
        if opt is not None:
            group = f.create_group("optimizer/vars")
            group.attrs["name"] = opt[0]
            for i, value in enumerate(opt[1]):
                group.create_dataset(str(i), data=value)
    return buffer.getvalue()


def save_h5_weights(model: Any, path: str, overwrite: bool = True) -> None:
    """Write ``model``'s weights to ``path`` in Keras 3's ``.weights.h5`` layout (atomically).

    ``model.save_weights("w.weights.h5")`` calls this.

    Args:
        model: a built model.
        path: the destination.
        overwrite: replace an existing file.

    Raises:
        ImportError: without h5py.
        ValueError: for an unbuilt model.

    Example (it checks the file when h5py is installed):
        >>> import importlib.util, os, tempfile
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((2,)), cr.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_h5_weights(m, path)
        >>> not has_h5py or sorted(read_h5_arrays(path, "m")) == [
        ...     'layers/dense/vars/0', 'layers/dense/vars/1']
        True"""
    from chainrule.saving.api import _require_weights_to_save  # noqa: PLC0415
    from chainrule.saving.atomic import atomic_write  # noqa: PLC0415

    _require_weights_to_save(model)
    data = write_h5_bytes(model)
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)


# --------------------------------------------------------------------------- reading


@contextlib.contextmanager
def damaged_file_errors(name: str) -> Iterator[None]:
    """Turn what the HDF5 library raises on a damaged file into an :class:`InvalidArchiveError`.

    Example:
        >>> with damaged_file_errors("'w.weights.h5'"):
        ...     raise RuntimeError("bad heap free list")
        Traceback (most recent call last):
        ...
        chainrule.saving.errors.InvalidArchiveError: 'w.weights.h5' is damaged: reading it as \
HDF5 failed (RuntimeError: bad heap free list). Received: filepath='w.weights.h5'
    """
    try:
        yield
    except (ArchiveError, WeightMismatchError, ImportError):
        raise
    except (OSError, RuntimeError, KeyError, IndexError, UnicodeDecodeError, ValueError,
            TypeError, OverflowError) as e:
        raise InvalidArchiveError(
            f"{name} is damaged: reading it as HDF5 failed ({type(e).__name__}: "
            f"{str(e)[:200]}). Received: filepath={name}") from None


def _open_h5(source: Any, name: str) -> Any:
    """Open an HDF5 file (a path or bytes) for reading; the archive error if it is not one."""
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:8])
        fileobj: Any = io.BytesIO(source)
    else:
        with open(source, "rb") as fh:
            head = fh.read(8)
        fileobj = source
    if head != HDF5_SIGNATURE:
        raise InvalidArchiveError(
            f"{name} is not a Keras HDF5 weights file: it does not start with the HDF5 "
            f"signature. Received: first bytes {head!r}")
    h5py = require_h5py()
    try:
        return h5py.File(fileobj, "r")
    except (OSError, ValueError) as e:
        raise InvalidArchiveError(f"{name} is not a readable HDF5 file ({e}). "
                                  f"Received: {name}") from None


def h5_datasets(f: Any, name: str, limits: Limits) -> dict[str, Any]:
    """``{path: dataset}`` of every dataset, their declared sizes checked, none read.

    Raises:
        UnsafeFileError: for a non-numeric dtype, too many dimensions or
            datasets, or a declared size beyond the limits.
    """
    h5py = require_h5py()
    found: dict[str, Any] = {}
    total = 0
    stack = [("", f)]
    while stack:
        prefix, group = stack.pop()
        for key in group:
            if len(found) + len(stack) > limits.max_members:
                raise UnsafeFileError(f"{name} holds more than {limits.max_members} objects. "
                                      f"Received: {len(found)} datasets so far")
            obj = group.get(key, getlink=True)
            if not isinstance(obj, h5py.HardLink):
                raise UnsafeFileError(f"{name}: {prefix}{key} is a link ({type(obj).__name__}); "
                                      f"Keras weights files hold none. Received: {prefix}{key}")
            item = group[key]
            path = f"{prefix}{key}"
            if isinstance(item, h5py.Group):
                stack.append((path + "/", item))
                continue
            if not isinstance(item, h5py.Dataset):
                raise UnsafeFileError(f"{name}: {path} is neither a group nor a dataset. "
                                      f"Received: {type(item).__name__}")
            dtype = item.dtype
            if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
                raise UnsafeFileError(f"{name}: dataset {path} has dtype {dtype}; weights are "
                                      f"numbers. Received: dtype={dtype}")
            if len(item.shape) > limits.max_ndim:
                raise UnsafeFileError(f"{name}: dataset {path} has {len(item.shape)} dimensions. "
                                      f"Received: shape={item.shape}")
            nbytes = int(np.prod(item.shape, dtype=object)) * dtype.itemsize
            total += nbytes
            if nbytes > limits.max_member_bytes or total > limits.max_member_bytes:
                raise UnsafeFileError(
                    f"{name}: dataset {path} declares shape {item.shape} ({dtype}), {nbytes} "
                    f"bytes ({total} with the datasets before it), beyond the limit of "
                    f"{limits.max_member_bytes} bytes. Nothing was read. Received: "
                    f"shape={item.shape}")
            found[path] = item
    return found


def _group_name(f: Any, path: str) -> str | None:
    group = f.get(path)
    if group is None:
        return None
    value = group.attrs.get("name")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def read_keras_layout(f: Any, model: Any, name: str, limits: Limits,
                      skip_mismatch: bool = False) -> list[tuple[Any, Any]]:
    """Match an open Keras weights file to ``model``: ``[(variable, dataset)]``, all checked.

    Every variable Keras's layout gives the model must be in the file with the
    same shape (unless ``skip_mismatch``); the file may hold no layer variables
    the model lacks. Nothing is read from the datasets.

    Raises:
        WeightMismatchError: naming the layer, the weight and both shapes.
        InvalidArchiveError: when the file is no Keras weights file.
    """
    datasets = h5_datasets(f, name, limits)
    if "vars" not in f and "layers" not in f:
        raise InvalidArchiveError(
            f"{name} is not a Keras 3 weights file: it has neither a 'layers' nor a 'vars' "
            f"group (a tf.keras 2 .h5 file?). Received: top-level groups {sorted(f)[:10]}")
    layout = keras_layout(model)
    pairs: list[tuple[Any, Any]] = []
    claimed: set[str] = set()
    problems: list[str] = []
    for path, obj_name, variables in layout:
        saved = sorted((k for k in datasets if k.rpartition("/")[0] == path),
                       key=lambda k: int(k.rpartition("/")[2]) if k.rpartition("/")[2].isdigit()
                       else -1)
        claimed.update(saved)
        where = f"{path[:-5] or 'the model'} (layer {obj_name!r})"
        if len(saved) != len(variables):
            problems.append(f"{where} has {len(variables)} variables in the model but "
                            f"{len(saved)} in {name}")
            continue
        _pair_same_shapes(variables, saved, datasets, obj_name, name, pairs, problems)
    extra = sorted({k.rpartition("/")[0] for k in datasets if k not in claimed
                    and not k.startswith("optimizer/")})
    if extra:
        names = [f"{p} ({_group_name(f, p)!r})" for p in extra[:10]]
        problems.append(f"{name} holds variables in {names} that the model does not have")
    _report_mismatches(problems, name, skip_mismatch,
                      "Keras matches weights by layer order and class, as it saved them. ")
    return pairs


def _pair_same_shapes(variables: list, keys: list[str], datasets: Mapping[str, Any],
                     layer: str, name: str, pairs: list, problems: list[str]) -> None:
    """Pair ``variables`` with the datasets at ``keys``, in order, into ``pairs``.

    A pair whose shapes differ is left out and described in ``problems``
    (naming ``layer``, the weight, both shapes and the file ``name``).
    """
    for var, key in zip(variables, keys):
        ds = datasets[key]
        if tuple(ds.shape) != tuple(var.shape):
            problems.append(f'Layer "{layer}" weight "{var.name}" has shape '
                            f"{tuple(var.shape)} in the model but {tuple(ds.shape)} in "
                            f"{name} ({key})")
            continue
        pairs.append((var, ds))


def _report_mismatches(problems: list[str], name: str, skip_mismatch: bool,
                      hint: str = "") -> None:
    """Raise :class:`WeightMismatchError` listing ``problems`` (``hint`` after them), or warn
    and go on under ``skip_mismatch``; nothing when there are none."""
    if not problems:
        return
    message = "; ".join(problems[:10])
    if not skip_mismatch:
        raise WeightMismatchError(
            f"{message}. {hint}Pass skip_mismatch=True to load the weights that match. "
            f"Received: filepath={name}")
    warnings.warn(f"{message}. Skipping them (skip_mismatch=True).", stacklevel=4)


def restore_h5_optimizer(f: Any, model: Any, name: str) -> None:
    """Restore the optimizer variables in ``optimizer/vars`` into ``model``'s optimizer.

    Only for a compiled model whose optimizer's layout Keras 3 shares
    (:data:`OPTIMIZER_SLOTS`); a state that does not fit gives a warning and
    leaves the optimizer as it was, as Keras does.
    """
    opt = getattr(model, "optimizer", None)
    group = f.get("optimizer/vars")
    if opt is None or group is None or not getattr(model, "compiled", False):
        return
    values = [group[k] for k in sorted((k for k in group if k.isdigit()), key=int)]
    slots = OPTIMIZER_SLOTS.get(type(opt).__name__)
    if slots is None or len(values) < 2:
        warnings.warn(f"The optimizer variables in {name} were not restored: chainrule knows "
                      f"Keras's layout for {sorted(OPTIMIZER_SLOTS)} only. Received: "
                      f"{type(opt).__name__}", stacklevel=3)
        return
    if len(values) > 2 and not opt.built:
        opt.build(model._trainable_vars())
    present = set(opt.get_state()) if opt.built else {"iterations", "learning_rate"}
    names = ["iterations", "learning_rate"]
    n = len(model._trainable_vars())
    for grp in slots:
        for i in range(n):
            names += [f"{slot}/{i}" for slot in grp if f"{slot}/{i}" in present]
    if len(names) != len(values) or any(v.dtype.kind not in _NUMERIC_KINDS for v in values):
        warnings.warn(f"The optimizer variables in {name} were not restored: the file holds "
                      f"{len(values)} variables, the model's {type(opt).__name__} "
                      f"{len(names)}. Received: {len(values)} variables", stacklevel=3)
        return
    state = {key: np.asarray(ds[()]) for key, ds in zip(names, values)}
    state["iterations"] = state["iterations"].astype(np.int64)
    state["learning_rate"] = state["learning_rate"].astype(np.float64)
    current = opt.get_state().get("learning_rate")
    if current is not None and np.float32(current) == np.float32(state["learning_rate"]):
        state["learning_rate"] = current  # Keras keeps it in float32: keep the exact value
    try:
        opt.set_state(state)
    except (ValueError, TypeError) as e:
        warnings.warn(f"The optimizer variables in {name} were not restored ({e}).",
                      stacklevel=3)


def assign_pairs(pairs: list[tuple[Any, Any]]) -> None:
    """Read each matched dataset and assign it to its variable (after every check passed).

    Args:
        pairs: ``[(variable, dataset)]`` from :func:`read_keras_layout`; any array-like
            indexable with ``[()]`` works.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> m = cr.Sequential([cr.layers.Input((2,)), cr.layers.Dense(1)])
        >>> assign_pairs([(m.weights[1], np.array([0.5], "float32"))])
        >>> m.weights[1].numpy().tolist()
        [0.5]
    """
    values = [(var, np.asarray(ds[()])) for var, ds in pairs]
    for var, value in values:
        var.assign(value.astype(np.dtype(str(var.dtype)), copy=False)
                   if value.dtype != np.dtype(str(var.dtype)) else value)


def load_h5_weights(model: Any, source: Any, name: str, skip_mismatch: bool = False,
                    limits: Limits | None = None, optimizer: bool = True) -> None:
    """Load a Keras 3 ``.weights.h5`` file (a path or bytes) into a built ``model``.

    ``model.load_weights("w.weights.h5")`` calls this; it also reads tf.keras 2's
    weights-only ``.h5`` layout (``layer_names``/``weight_names``).

    Args:
        model: the built chainrule model.
        source: a path, or the file's bytes.
        name: the file's name, for messages.
        skip_mismatch: skip, with a warning, what does not match.
        limits: bounds on declared sizes.
        optimizer: also restore the optimizer's variables when the model is
            compiled with an optimizer whose layout is known (:data:`OPTIMIZER_SLOTS`).

    Raises:
        WeightMismatchError, InvalidArchiveError, UnsafeFileError: see
            :func:`read_keras_layout` and :func:`h5_datasets`.

    Example (it runs when h5py is installed):
        >>> import importlib.util, os, tempfile
        >>> import numpy as np
        >>> import chainrule as cr
        >>> a = cr.Sequential([cr.layers.Input((2,)), cr.layers.Dense(1)])
        >>> b = cr.Sequential([cr.layers.Input((2,)), cr.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "a.weights.h5")
        >>> has_h5py = importlib.util.find_spec("h5py") is not None
        >>> if has_h5py:
        ...     save_h5_weights(a, path)
        ...     load_h5_weights(b, path, "'a.weights.h5'")
        >>> not has_h5py or bool(np.array_equal(a.get_weights()[0], b.get_weights()[0]))
        True
    """
    limits = limits or DEFAULT_LIMITS
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so its weights do not exist yet. Build it "
            "first (call it on a batch of data or call model.build(input_shape)). "
            f"Received: filepath={name}")
    with damaged_file_errors(name), _open_h5(source, name) as f:
        if "layers" not in f and "vars" not in f and (
                "model_weights" in f or "layer_names" in f.attrs):  # tf.keras 2's layout
            from chainrule.saving.keras_legacy_h5 import legacy_pairs  # noqa: PLC0415

            assign_pairs(legacy_pairs(f, model, name, limits, skip_mismatch))
            return
        pairs = read_keras_layout(f, model, name, limits, skip_mismatch)
        assign_pairs(pairs)
        if optimizer:
            restore_h5_optimizer(f, model, name)


def read_h5_arrays(source: Any, name: str, limits: Limits | None = None
                   ) -> Mapping[str, tuple[tuple[int, ...], str]]:
    """``{dataset path: (shape, dtype)}`` of a Keras weights file, nothing read (for inspection).

    Args:
        source: a path, or the file's bytes.
        name: the file's name, for messages.
        limits: bounds on declared sizes.

    Example:
        >>> read_h5_arrays(b"not HDF5", "'x.h5'")
        Traceback (most recent call last):
        ...
        chainrule.saving.errors.InvalidArchiveError: 'x.h5' is not a Keras HDF5 weights file: \
it does not start with the HDF5 signature. Received: first bytes b'not HDF5'
    """
    with damaged_file_errors(name), _open_h5(source, name) as f:
        return {k: (tuple(d.shape), str(d.dtype))
                for k, d in h5_datasets(f, name, limits or DEFAULT_LIMITS).items()}

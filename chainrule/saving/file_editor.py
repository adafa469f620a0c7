"""``KerasFileEditor``: inspect and edit the weights of a saved model file (Keras 3's API).

It opens chainrule's ``.keras`` archives and ``.weights.npz`` files, and, with the
``h5`` extra (h5py), Keras 3's ``.keras`` archives and ``.weights.h5`` files. The
weights become a nested dict, :attr:`KerasFileEditor.weights_dict`, one level per
``/`` of their keys: chainrule's ``{"dense": {"kernel": ..., "bias": ...}}``,
Keras's ``{"layers": {"dense": {"vars": {"0": ..., "1": ...}}}}``. Objects (a
layer) and weights can be renamed, deleted and added, and the result saved as a
weights file (:meth:`KerasFileEditor.save`). Files are read with the same checks
as :func:`~chainrule.saving.load_model`; nothing in them is executed.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> import chainrule as cr
    >>> folder = tempfile.mkdtemp()
    >>> model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2, name="d")])
    >>> model.save(os.path.join(folder, "m.keras"))
    >>> editor = cr.saving.KerasFileEditor(os.path.join(folder, "m.keras"))
    >>> editor.rename_object("d", "out")
    >>> editor.add_weights("out", {"scale": np.ones(2, "float32")})
    >>> sorted(editor.weights_dict["out"])
    ['bias', 'kernel', 'scale']
    >>> editor.save(os.path.join(folder, "edited.weights.npz"))
    >>> sorted(cr.saving.read_weights(os.path.join(folder, "edited.weights.npz")))
    ['out/bias', 'out/kernel', 'out/scale']
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable, Mapping

import numpy as np

# the file formats' readers and writers load when an editor is first made (saving's
# formats load lazily)
__all__ = ["KerasFileEditor"]

_SUFFIXES = (".keras", ".weights.npz", ".weights.h5")


def _nest(flat: Mapping[str, np.ndarray]) -> dict:
    """``{"a/b/c": x}`` -> ``{"a": {"b": {"c": x}}}`` (key order kept)."""
    root: dict = {}
    for key, value in flat.items():
        node = root
        parts = key.split("/")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return root


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, path + "/"))
        else:
            out[path] = np.asarray(value)
    return out


def _read_h5_weights(source: Any, name: str) -> dict[str, np.ndarray]:
    from chainrule.saving.archive import DEFAULT_LIMITS
    from chainrule.saving.keras_h5 import _open_h5, damaged_file_errors, h5_datasets

    with damaged_file_errors(name):
        f = _open_h5(source, name)
        try:
            found = h5_datasets(f, name, DEFAULT_LIMITS)
            return {k: np.asarray(found[k][()]) for k in sorted(found)}
        finally:
            f.close()


class KerasFileEditor:
    """Inspect and edit the weights of a ``.keras``, ``.weights.npz`` or ``.weights.h5`` file.

    Args:
        filepath: the file. chainrule's ``.keras`` archives and
            ``.weights.npz`` files need nothing more; Keras 3's ``.keras``
            archives and ``.weights.h5`` files need h5py (the ``h5`` extra).

    Attributes:
        weights_dict: the weights as a nested dict (see the module's text).
        config: the model's config from a ``.keras`` archive (None for a
            weights file).
        metadata: Keras's ``metadata.json`` from a Keras archive (None otherwise).
        format: ``"chainrule"`` or ``"keras"``: whose layout the keys follow.

    Raises:
        ValueError: for another file extension.
        FileNotFoundError: when there is no such file.
        chainrule.saving.ArchiveError: for a damaged or unsafe file.

    Example:
        >>> import os, tempfile
        >>> import chainrule as cr
        >>> path = os.path.join(tempfile.mkdtemp(), "m.weights.npz")
        >>> cr.Sequential([cr.Input((2,)), cr.layers.Dense(1, name="d")]).save_weights(path)
        >>> editor = KerasFileEditor(path)
        >>> editor.summary()
        Weights structure
          > d
              ├─ kernel: shape=(2, 1), dtype=float32
              └─ bias: shape=(1,), dtype=float32
    """

    def __init__(self, filepath: str | os.PathLike) -> None:
        from chainrule.saving.api import _fspath, _open_reader, _require_file, read_weights
        from chainrule.saving.archive import DEFAULT_LIMITS, open_npz_bytes, read_json
        from chainrule.saving.keras_archive import _read_keras_zip, is_keras_zip

        path = _fspath(filepath)
        if not path.endswith(_SUFFIXES):
            raise ValueError("Invalid filename: expected a `.keras`, `.weights.npz` or "
                             f"`.weights.h5` extension. Received: filepath={path!r}")
        _require_file(path)
        self.filepath = path
        self.config: Any = None
        self.metadata: Any = None
        if path.endswith(".weights.npz"):
            self.format, flat = "chainrule", read_weights(path)
        elif path.endswith(".weights.h5"):
            self.format, flat = "keras", _read_h5_weights(path, repr(path))
        else:
            f, reader = _open_reader(path, "model archive", DEFAULT_LIMITS)
            with f, reader:
                names = reader.names
            if is_keras_zip(names):
                self.config, self.metadata, h5 = _read_keras_zip(path, DEFAULT_LIMITS)
                self.format, flat = "keras", _read_h5_weights(h5, repr(path))
            else:
                from chainrule.saving.api import CONFIG_MEMBER, WEIGHTS_MEMBER

                f, reader = _open_reader(path, "chainrule model archive", DEFAULT_LIMITS)
                with f, reader:
                    self.config = read_json(reader, CONFIG_MEMBER)
                    flat = (open_npz_bytes(reader.read(WEIGHTS_MEMBER), repr(path))
                            if WEIGHTS_MEMBER in reader.names else {})
                self.format = "chainrule"
        self.weights_dict: dict = _nest(flat)

    # -- looking ----------------------------------------------------------------------------
    def summary(self) -> None:
        """Print the weight structure: objects and, for each weight, its shape and dtype."""
        print("Weights structure")
        self._print(self.weights_dict, "  ")

    def _print(self, d: Mapping[str, Any], prefix: str, first: bool = True) -> None:
        items = list(d.items())
        for i, (key, value) in enumerate(items):
            last = i == len(items) - 1
            connector = "> " if first and i == 0 and prefix == "  " else (
                "└─ " if last else "├─ ")
            if isinstance(value, dict):
                print(f"{prefix}{connector}{key}")
                self._print(value, prefix + ("    " if last else "│   "), first=False)
            else:
                print(f"{prefix}{connector}{key}: shape={tuple(value.shape)}, "
                      f"dtype={value.dtype}")

    def compare(self, reference_model: Any) -> dict:
        """Compare the file's weights with a model's: same keys, same shapes.

        The model's weights are keyed in the file's layout (chainrule's paths,
        or Keras's ``layers/<name>/vars/<i>`` for a Keras file).

        Args:
            reference_model: a built model.

        Returns:
            ``{"status": "success" or "error", "error_count": n, "match_count": m}``;
            each mismatch is printed.
        """
        expected = self._model_weights(reference_model)
        have = _flatten(self.weights_dict)
        errors = matches = 0
        for key, shape in expected.items():
            if key not in have:
                print(f"Weight {key!r} (shape {shape}) of the model is missing from the file")
                errors += 1
            elif tuple(have[key].shape) != shape:
                print(f"Weight {key!r} has shape {tuple(have[key].shape)} in the file and "
                      f"{shape} in the model")
                errors += 1
            else:
                matches += 1
        for key in have:
            if key not in expected:
                print(f"Weight {key!r} of the file is not in the model")
                errors += 1
        return {"status": "error" if errors else "success", "error_count": errors,
                "match_count": matches}

    def _model_weights(self, model: Any) -> dict[str, tuple]:
        if self.format == "keras":
            from chainrule.saving.keras_h5 import keras_layout

            return {f"{path}/{i}": tuple(int(d) for d in v.shape)
                    for path, _, variables in keras_layout(model)
                    for i, v in enumerate(variables)}
        from chainrule.saving.api import weight_items

        return {k: tuple(int(d) for d in v.shape) for k, v in weight_items(model)}

    # -- editing ----------------------------------------------------------------------------
    def _edit_object(self, edit: Callable[[dict, str], None], source_name: str,
                     target_name: str | None = None) -> None:
        if not isinstance(source_name, str) or not source_name:
            raise ValueError("The object name must be a non-empty string (a name or a path "
                             f"such as 'layers/dense'). Received: {source_name!r}")
        if target_name is not None and (not isinstance(target_name, str) or not target_name
                                        or "/" in target_name):
            raise ValueError("Argument `new_name` should be a leaf name, not a full path "
                             f"name. Received: new_name={target_name!r}")
        if "/" in source_name:
            node: Any = self.weights_dict
            parts = source_name.split("/")
            for p in parts[:-1]:
                if not isinstance(node, dict) or p not in node:
                    raise ValueError(f"Path {source_name!r} not found in the file. "
                                     f"Received: {source_name!r}")
                node = node[p]
            if not isinstance(node, dict) or parts[-1] not in node:
                raise ValueError(f"Path {source_name!r} not found in the file. "
                                 f"Received: {source_name!r}")
            edit(node, parts[-1])
            return
        holders = []

        def find(d: dict) -> None:
            for value in d.values():
                if isinstance(value, dict):
                    find(value)
            if source_name in d:
                holders.append(d)

        find(self.weights_dict)
        if len(holders) > 1:
            raise ValueError(f"Name {source_name!r} occurs {len(holders)} times in the file; "
                             f"pass its full path. Received: {source_name!r}")
        if not holders:
            raise ValueError(f"Name {source_name!r} does not appear in the file; summary() "
                             f"lists its objects. Received: {source_name!r}")
        edit(holders[0], source_name)

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (a layer): ``object_name`` is a name or a path, ``new_name`` a name.

        Raises:
            ValueError: when the object is not found, its name is not unique,
                or ``new_name`` is a path.
        """
        def rename(d: dict, name: str) -> None:
            if new_name in d and new_name != name:
                raise ValueError(f"Cannot rename {object_name!r}: {new_name!r} already exists "
                                 f"beside it. Received: new_name={new_name!r}")
            d[new_name] = d.pop(name)

        self._edit_object(rename, object_name, new_name)

    def delete_object(self, object_name: str) -> None:
        """Remove an object (a layer) and its weights, by name or path."""
        self._edit_object(lambda d, name: d.pop(name), object_name)

    def add_object(self, object_path: str, weights: Mapping[str, Any]) -> None:
        """Add an object: ``weights`` maps weight names to arrays (``{"kernel": k, ...}``).

        Args:
            object_path: the object's name, or its full path (whose parents must exist).
            weights: the new object's weights.

        Raises:
            ValueError: when ``weights`` is not a dict or the parent path does not exist.
        """
        weights = self._check_weights(weights)
        if not isinstance(object_path, str) or not object_path:
            raise ValueError("Argument `object_path` must be a non-empty string. Received: "
                             f"object_path={object_path!r}")
        node: Any = self.weights_dict
        parts = object_path.split("/")
        for p in parts[:-1]:
            if not isinstance(node, dict) or p not in node:
                raise ValueError(f"Path {'/'.join(parts[:-1])!r} not found in the file. "
                                 f"Received: object_path={object_path!r}")
            node = node[p]
        node[parts[-1]] = weights

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove one weight of an object.

        Raises:
            ValueError: when the object or the weight is not found.
        """
        def delete(d: dict, name: str) -> None:
            if not isinstance(d[name], dict) or weight_name not in d[name]:
                found = list(d[name]) if isinstance(d[name], dict) else []
                raise ValueError(f"Weight {weight_name!r} not found in object {object_name!r}; "
                                 f"it holds {found}. Received: weight_name={weight_name!r}")
            d[name].pop(weight_name)

        self._edit_object(delete, object_name)

    def add_weights(self, object_name: str, weights: Mapping[str, Any]) -> None:
        """Add weights (``{"name": array}``) to an existing object (replacing same-named ones)."""
        weights = self._check_weights(weights)

        def add(d: dict, name: str) -> None:
            if not isinstance(d[name], dict):
                raise ValueError(f"{object_name!r} is a weight, not an object. "
                                 f"Received: object_name={object_name!r}")
            d[name].update(weights)

        self._edit_object(add, object_name)

    @staticmethod
    def _check_weights(weights: Any) -> dict:
        if not isinstance(weights, dict):
            raise ValueError("Argument `weights` should be a dict where keys are weight names "
                             "and values are NumPy arrays. Received: type(weights)="
                             f"{type(weights).__name__}")
        out = {}
        for key, value in weights.items():
            if not isinstance(key, str) or not key or "/" in key:
                raise ValueError("Argument `weights` must be keyed by weight names (strings "
                                 f"without '/'). Received: key {key!r}")
            arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
            if arr.dtype.kind not in "biuf":
                raise ValueError(f"Weight {key!r} must be numbers. Received: dtype={arr.dtype}")
            out[key] = arr
        return out

    # -- writing ----------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike) -> None:
        """Write the edited weights: ``.weights.npz`` (chainrule's format, keys joined with
        ``/``) or ``.weights.h5`` (Keras's HDF5 layout, one group per level; needs h5py).

        Raises:
            ValueError: for another extension.
        """
        from chainrule.saving.api import _fspath
        from chainrule.saving.archive import write_npz
        from chainrule.saving.atomic import atomic_write

        path = _fspath(filepath)
        flat = _flatten(self.weights_dict)
        if path.endswith(".weights.npz"):
            with atomic_write(path) as f:
                write_npz(f, flat)
        elif path.endswith(".weights.h5"):
            from chainrule.saving.keras_h5 import require_h5py

            h5py = require_h5py()
            buf = io.BytesIO()
            with h5py.File(buf, "w") as h5:
                for key, value in flat.items():
                    h5.create_dataset(key, data=value)
            with atomic_write(path) as f:
                f.write(buf.getvalue())
        else:
            raise ValueError("Invalid `filepath` argument: expected a `.weights.npz` or "
                             f"`.weights.h5` extension. Received: filepath={path!r}")

    def resave_weights(self, filepath: str | os.PathLike) -> None:
        """The same as :meth:`save`."""
        self.save(filepath)

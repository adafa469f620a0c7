"""Saving and loading models, weights and training checkpoints, safely.

* :func:`save_model` / :func:`load_model`: the whole model in one ``.keras``
  zip archive (JSON config, ``.npz`` weights, optimizer state).
* :func:`save_weights` / :func:`load_weights`: weights alone (``.weights.npz``).
* Keras's own files, with the ``h5`` extra (h5py): ``.weights.h5`` weights,
  ``.keras`` archives written by Keras 3 (read by :func:`load_model`; written
  with ``save_model(..., format="keras")``) and tf.keras 2's ``.h5`` files, in
  both directions. See ``docs/interop.md``.
* :class:`~chainrule.callbacks.ModelCheckpoint` and
  :class:`~chainrule.callbacks.BackupAndRestore`: callbacks that save during
  ``fit`` and resume an interrupted run exactly. They live in
  :mod:`chainrule.callbacks`, which builds on this package; they are reachable
  here too, as ``chainrule.saving.ModelCheckpoint`` and
  ``chainrule.saving.BackupAndRestore`` (loaded when first named).
* :func:`register_keras_serializable`, :class:`custom_object_scope` and
  :func:`get_custom_objects`: make your own classes and functions known by
  name, for good or within a ``with`` block, besides ``custom_objects``.

Nothing is ever unpickled, evaluated or imported from a file, and every file
is written atomically. See ``docs/saving.md``.

Example:
    >>> import os, tempfile
    >>> import chainrule as cr
    >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> cr.saving.save_model(model, path)
    >>> cr.saving.load_model(path).count_params()
    3
"""

from chainrule import _lazy  # noqa: E402
from chainrule._registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from chainrule.saving.atomic import atomic_write
from chainrule.saving.errors import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
)
from chainrule.saving.serialization import deserialize_keras_object, serialize_keras_object

# The model files' reader and writer load when first used; the checkpoint callbacks are
# names here, not uses: saving never calls them (they call it)
_lazy.attach(
    globals(),
    {
        ".api": [
            "FORMAT", "FORMAT_VERSION", "load_model", "load_weights", "read_weights", "save_model",
            "save_weights",
        ],
        ".archive": ["DEFAULT_LIMITS", "Limits"],
        "chainrule.callbacks.model_checkpoint": ["ModelCheckpoint"],
        "chainrule.callbacks.backup_and_restore": ["BackupAndRestore"],
    },
)

# Keras 3's keras.saving.KerasFileEditor (its file readers load when an editor is made)
from chainrule.saving.file_editor import KerasFileEditor  # noqa: E402

__all__ = [
    "DEFAULT_LIMITS",
    "FORMAT",
    "FORMAT_VERSION",
    "ArchiveError",
    "CustomObjectScope",
    "InvalidArchiveError",
    "Limits",
    "UnsafeFileError",
    "WeightMismatchError",
    "atomic_write",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "read_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
    "deserialize_keras_object",
]
__all__ += ["KerasFileEditor"]

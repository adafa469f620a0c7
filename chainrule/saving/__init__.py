"""Saving and loading models, weights and training checkpoints, safely.

* :func:`save_model` / :func:`load_model`: the whole model in one ``.keras``
  zip archive (JSON config, ``.npz`` weights, optimizer state).
* :func:`save_weights` / :func:`load_weights`: weights alone (``.weights.npz``).
* :class:`~chainrule.callbacks.ModelCheckpoint` and
  :class:`~chainrule.callbacks.BackupAndRestore`: callbacks that save during
  ``fit`` and resume an interrupted run exactly. They live in
  :mod:`chainrule.callbacks`, which builds on this package; ``import chainrule``
  makes them reachable here too, as ``chainrule.saving.ModelCheckpoint`` and
  ``chainrule.saving.BackupAndRestore``.

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

from chainrule.saving.api import (
    FORMAT,
    FORMAT_VERSION,
    load_model,
    load_weights,
    read_weights,
    save_model,
    save_weights,
)
from chainrule.saving.archive import DEFAULT_LIMITS, Limits
from chainrule.saving.atomic import atomic_write
from chainrule.saving.errors import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FORMAT",
    "FORMAT_VERSION",
    "ArchiveError",
    "InvalidArchiveError",
    "Limits",
    "UnsafeFileError",
    "WeightMismatchError",
    "atomic_write",
    "load_model",
    "load_weights",
    "read_weights",
    "save_model",
    "save_weights",
]

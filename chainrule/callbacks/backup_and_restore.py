"""BackupAndRestore: back up the training state every epoch, and resume an interrupted `fit`.

The backup is written through :mod:`chainrule.saving`, atomically: a crash
during a save leaves the previous backup intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import random as _pyrandom
import zipfile
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.callbacks._utils import BatchCounter, check_save_freq
from chainrule.callbacks.callback import Callback, Logs
from chainrule.layers.base import layer_tree
from chainrule.saving.api import (
    OPTIMIZER_MEMBER,
    WEIGHTS_MEMBER,
    _open_reader,
    _weight_arrays,
    _write_npz_member,
    assign_weights,
    restore_optimizer_state,
)
from chainrule.saving.archive import DEFAULT_LIMITS, open_npz_bytes, read_json
from chainrule.saving.atomic import atomic_write
from chainrule.saving.errors import InvalidArchiveError, UnsafeFileError

__all__ = ["BackupAndRestore"]


_BACKUP_FILE = "training_state.zip"
_STATE_MEMBER = "state.json"
_BACKUP_FORMAT = "chainrule.backup"


def _layer_generators(model: Any) -> list[tuple[str, np.random.Generator]]:
    """Layers with their own seeded generator (``Dropout(seed=...)``), in model order."""
    return [(layer.name, layer._rng) for layer in layer_tree(model)
            if isinstance(getattr(layer, "_rng", None), np.random.Generator)]


def _random_states(model: Any) -> dict:
    legacy = np.random.get_state()
    py = _pyrandom.getstate()
    return {
        "chainrule": backend.get_random_state(),
        "layers": [[name, g.bit_generator.state] for name, g in _layer_generators(model)],
        "numpy_global": [legacy[0], legacy[1].tolist(), int(legacy[2]), int(legacy[3]),
                         float(legacy[4])],
        "python": [py[0], list(py[1]), py[2]],
    }


def _match_layer_states(model: Any, saved: Any) -> list[tuple[np.random.Generator, dict]]:
    """Pair saved layer generator states with the model's generators: by name, else by order."""
    gens = _layer_generators(model)
    if not isinstance(saved, list) or not all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], dict)
        for e in saved
    ):
        raise ValueError("the layers' generator states are malformed")
    names = {name: state for name, state in saved}
    if all(name in names for name, _ in gens):
        pairs = [(g, names[name]) for name, g in gens]
    elif len(saved) == len(gens):  # layers renamed (the same script run again in one process)
        pairs = [(g, state) for (_, g), (_, state) in zip(gens, saved)]
    else:
        raise ValueError(f"the backup has {len(saved)} layer generators, the model {len(gens)}")
    for g, state in pairs:
        if state.get("bit_generator") != type(g.bit_generator).__name__:
            raise ValueError("a layer's generator is of another kind")
    return pairs


def _restore_random_states(model: Any, states: Any, source: str) -> None:
    if not isinstance(states, dict):
        raise InvalidArchiveError(f"{source}: invalid random states in {_STATE_MEMBER}.")
    try:
        pcg = states["chainrule"]
        if not (isinstance(pcg, dict) and pcg.get("bit_generator") == "PCG64"):
            raise ValueError("chainrule's generator state is not a PCG64 state")
        layer_pairs = _match_layer_states(model, states.get("layers", []))
        legacy = states.get("numpy_global")
        if legacy is not None:
            key = np.asarray(legacy[1], dtype=np.int64)
            if legacy[0] != "MT19937" or key.shape != (624,) or key.min() < 0 or key.max() >= 2**32:
                raise ValueError("NumPy's global generator state is not an MT19937 state")
            legacy_state = ("MT19937", key.astype(np.uint32), int(legacy[2]), int(legacy[3]),
                            float(legacy[4]))
        py = states.get("python")
        if py is not None:
            py_state = (int(py[0]), tuple(int(v) for v in py[1]), py[2])
        # Everything parsed: apply (each setter validates its own state too).
        backend.set_random_state(pcg)
        for gen, state in layer_pairs:
            gen.bit_generator.state = state
        if legacy is not None:
            np.random.set_state(legacy_state)
        if py is not None:
            _pyrandom.setstate(py_state)
    except (KeyError, IndexError, TypeError, ValueError, OverflowError) as e:
        raise InvalidArchiveError(f"{source}: invalid random state ({type(e).__name__}: "
                                  f"{e}).") from None


class BackupAndRestore(Callback):
    """Back up the training state every epoch; resume an interrupted ``fit`` exactly.

    At the end of every epoch the callback writes, atomically, one file
    ``training_state.zip`` in ``backup_dir`` holding the model's weights, the
    optimizer's state, the number of epochs done, the random states
    (chainrule's generator, the generators of layers seeded on their own,
    NumPy's global one and Python's ``random``) and the history so far. When
    ``fit`` starts again with the same script (after a crash, a ``kill -9``, a
    preempted machine), ``on_train_begin`` restores all of it and training
    continues with the next epoch: with ``save_freq="epoch"`` the final weights
    are bit-for-bit those of an uninterrupted run, and ``history`` holds every
    epoch. When ``fit`` completes, the file is deleted (``delete_checkpoint``).

    With an integer ``save_freq`` the state is also saved every that many
    batches; a run resumed from such a save restarts the interrupted epoch from
    its beginning with the weights of that batch (as Keras does), which is not
    bit-identical to an uninterrupted run.

    Args:
        backup_dir: the directory for the backup file; use it for nothing else.
        save_freq: ``"epoch"``, or an integer number of batches.
        delete_checkpoint: delete the backup when training completes.

    Raises:
        ValueError: for an empty ``backup_dir`` or a bad ``save_freq``.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> backup = BackupAndRestore(tempfile.mkdtemp())
        >>> history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=3, verbose=0,
        ...                     callbacks=[backup])
        >>> len(history.history["loss"])
        3
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: "
                             f"backup_dir={backup_dir!r}")
        from chainrule.saving.api import _fspath  # noqa: PLC0415

        self.backup_dir = _fspath(backup_dir, "backup_dir")
        if os.path.exists(self.backup_dir) and not os.path.isdir(self.backup_dir):
            raise ValueError(
                f"backup_dir must be a directory (the backup is written inside it), but "
                f"{self.backup_dir!r} is a file. Choose a folder used for nothing else. "
                f"Received: backup_dir={backup_dir!r}"
            )
        self.save_freq = check_save_freq(save_freq)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._counter = None if self.save_freq == "epoch" else BatchCounter(self.save_freq)
        self._current_epoch = 0
        self._history: dict[str, list] = {}

    @property
    def backup_path(self) -> str:
        """The path of the backup file."""
        return os.path.join(self.backup_dir, _BACKUP_FILE)

    # -- restoring ---------------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Restores the last backup, if any, and tells ``fit`` which epoch to start from.

        Raises:
            ValueError: if the model is not built, or the backup does not fit it.
        """
        self._current_epoch = 0
        self._history = {}
        if self._counter is not None:
            self._counter = BatchCounter(self.save_freq)
        if not os.path.exists(self.backup_path):
            return
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you call "
                f"`fit()`. Model {self.model.name!r} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data. Received: an unbuilt model"
            )
        epoch, history, states, weights, opt_state, saved_optimizer = self._read_backup()
        src = repr(self.backup_path)
        optimizer = getattr(self.model, "optimizer", None)
        if opt_state is not None and optimizer is not None:
            self._check_same_optimizer(saved_optimizer, optimizer)
        assign_weights(self.model, weights, src)
        if opt_state is not None and optimizer is not None:
            try:
                restore_optimizer_state(self.model, opt_state, src)
            except ValueError as e:
                raise ValueError(
                    f"The backup in {self.backup_dir!r} does not fit the model's optimizer "
                    f"{type(optimizer).__name__!r} ({e}). Delete the folder {self.backup_dir!r} "
                    "to start training over, or compile the model with the optimizer and "
                    "settings it was saved with to resume. Received: optimizer="
                    f"{type(optimizer).__name__}"
                ) from None
        _restore_random_states(self.model, states, src)
        self._current_epoch = epoch
        self._history = history
        model_history = getattr(self.model, "history", None)
        if model_history is not None and hasattr(model_history, "history"):
            model_history.history = {k: list(v) for k, v in history.items()}
        self.model._initial_epoch = epoch

    def _check_same_optimizer(self, saved: Any, optimizer: Any) -> None:
        """The optimizer the backup was made with must be the model's (class, slots)."""
        if not isinstance(saved, dict):
            return  # a backup from before optimizers were recorded: set_state decides
        now = _optimizer_summary(optimizer)
        differs = [f"{k} {saved.get(k)!r} in the backup, {now[k]!r} now" for k in now
                   if k in saved and saved.get(k) != now[k]]
        if differs:
            raise ValueError(
                f"The backup in {self.backup_dir!r} was saved while training with another "
                f"optimizer: {'; '.join(differs)}. Its state cannot be restored into this one. "
                f"Delete the folder {self.backup_dir!r} to start training over, or compile the "
                f"model with the optimizer it was saved with to resume. Received: optimizer="
                f"{now['class_name']}"
            )

    def _read_backup(self) -> tuple:
        path = self.backup_path
        src = repr(path)
        f, reader = _open_reader(path, "chainrule training backup", DEFAULT_LIMITS)
        with f, reader:
            names = reader.names
            allowed = (_STATE_MEMBER, WEIGHTS_MEMBER, OPTIMIZER_MEMBER)
            unexpected = [n for n in names if n not in allowed]
            if unexpected or _STATE_MEMBER not in names or WEIGHTS_MEMBER not in names:
                raise UnsafeFileError(f"{src} is not a chainrule training backup: it holds "
                                      f"{names[:10]}, expected {list(allowed)}.")
            state = read_json(reader, _STATE_MEMBER)
            weights = open_npz_bytes(reader.read(WEIGHTS_MEMBER), f"{src} {WEIGHTS_MEMBER}")
            opt_state = None
            if OPTIMIZER_MEMBER in names:
                opt_state = open_npz_bytes(reader.read(OPTIMIZER_MEMBER),
                                           f"{src} {OPTIMIZER_MEMBER}")
        if not isinstance(state, dict) or state.get("format") != _BACKUP_FORMAT:
            raise InvalidArchiveError(f"{src} is not a chainrule training backup (no format "
                                      "marker in state.json).")
        epoch = state.get("epoch")
        history = state.get("history")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise InvalidArchiveError(f"{src}: invalid epoch count. Received: epoch={epoch!r:.40}")
        if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list) for k, v in history.items()
        ):
            raise InvalidArchiveError(f"{src}: invalid history in {_STATE_MEMBER}.")
        return (epoch, history, state.get("random_states"), weights, opt_state,
                state.get("optimizer"))

    # -- saving ------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Records the epoch's logs and, with ``save_freq="epoch"``, writes the backup."""
        self._current_epoch = epoch + 1
        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(_jsonable(value))
        if self._counter is not None:
            self._counter.last = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """With an integer ``save_freq``, writes the backup every that many batches."""
        if self._counter is not None and self._counter.step(batch):
            self._save()

    def _save(self) -> None:
        from chainrule.distribute import is_chief  # noqa: PLC0415

        if not is_chief():  # data-parallel training: process 0 writes the backup
            return
        if not os.path.isdir(self.backup_dir):
            os.makedirs(self.backup_dir, exist_ok=True)
        model = self.model
        state = {
            "format": _BACKUP_FORMAT,
            "format_version": 1,
            "epoch": self._current_epoch,
            "history": self._history,
            "random_states": _random_states(model),
        }
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            state["optimizer"] = _optimizer_summary(optimizer)
        payload = json.dumps(state).encode("utf-8")
        weights = _weight_arrays(model)
        opt_state = optimizer.get_state() if optimizer is not None else None
        with atomic_write(self.backup_path) as f, zipfile.ZipFile(f, "w") as zf:
            info = zipfile.ZipInfo(_STATE_MEMBER, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, payload)
            _write_npz_member(zf, WEIGHTS_MEMBER, weights)
            if opt_state is not None:
                _write_npz_member(zf, OPTIMIZER_MEMBER, sorted(opt_state.items()))

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Deletes the backup when training completed (all epochs, or stopped by a callback).

        A run that ends with an error (e.g. ``on_nan='raise'``) keeps its backup.
        """
        epochs = (self.params or {}).get("epochs")
        completed = bool(getattr(self.model, "stop_training", False)) or (
            epochs is not None and self._current_epoch >= epochs
        )
        from chainrule.distribute import is_chief  # noqa: PLC0415

        if not (self.delete_checkpoint and completed) or not is_chief():
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.backup_path)
        with contextlib.suppress(OSError):  # only if empty: the directory may hold other files
            os.rmdir(self.backup_dir)


def _optimizer_summary(optimizer: Any) -> dict:
    """What a backup records of its optimizer, to refuse restoring into another one."""
    return {"class_name": type(optimizer).__name__}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value

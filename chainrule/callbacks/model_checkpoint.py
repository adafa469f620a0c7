"""ModelCheckpoint: save the model or its weights during training, with Keras 3 semantics.

The model's own ``save``/``save_weights`` write the files, atomically: a crash
during a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import string
import warnings

import numpy as np

from chainrule.callbacks._utils import BatchCounter, check_save_freq, print_message
from chainrule.callbacks.callback import Logs
from chainrule.callbacks.monitor_callback import _MonitorCallback

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(_MonitorCallback):
    """Save the model or its weights during training, every epoch or the best one only.

    ``filepath`` may contain ``str.format`` fields filled with ``epoch``
    (1-based), ``batch`` (with an integer ``save_freq``) and the epoch logs:
    ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"`` gives ``ckpt/03-0.41.keras``.
    Missing directories are created; writes are atomic.

    Args:
        filepath: where to save: ending in ``.keras`` (the whole model) or, with
            ``save_weights_only=True``, in ``.weights.npz`` or ``.weights.h5`` (Keras
            3's HDF5 layout; needs the ``h5`` extra).
        monitor: the metric to compare for ``save_best_only`` (``"val_loss"``).
        verbose: 1 prints a line for each save (and each non-improvement).
        save_best_only: save only when ``monitor`` improves on the best so far.
        save_weights_only: save ``model.save_weights`` instead of ``model.save``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (maximize accuracy-like names).
        save_freq: ``"epoch"``, or an integer: save every this many batches.
        initial_value_threshold: the "best" value to beat at first (default
            ``inf`` for ``min`` and ``-inf`` for ``max``).

    Raises:
        ValueError: for a filepath with the wrong extension, or a bad ``save_freq``.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import chainrule as cr
        >>> folder = tempfile.mkdtemp()
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> ckpt = ModelCheckpoint(os.path.join(folder, "m-{epoch:02d}.keras"), monitor="loss")
        >>> _ = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0,
        ...               callbacks=[ckpt])
        >>> sorted(os.listdir(folder))
        ['m-01.keras', 'm-02.keras']
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, 0)
        from chainrule.saving.api import _fspath  # noqa: PLC0415

        self.filepath = _fspath(filepath)
        self._check_fields()
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = check_save_freq(save_freq)
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = -np.inf if self.monitor_op is np.greater else np.inf
        self._counter = None if self.save_freq == "epoch" else BatchCounter(self.save_freq)
        self._current_epoch = 0
        if self.save_weights_only:
            if self.filepath.endswith(".weights.h5"):  # Keras 3's HDF5 layout: needs h5py
                from chainrule.saving.keras_h5 import require_h5py  # noqa: PLC0415

                require_h5py()
            elif not self.filepath.endswith(".weights.npz"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.npz` (chainrule's weights format) or "
                    "`.weights.h5` (Keras's, with the h5 extra). "
                    f"Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith(".keras"):
            raise ValueError(
                "The filepath provided must end in `.keras` (chainrule's model format; HDF5 "
                "`.h5` is not written). Received: "
                f"filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remembers the epoch, for saves at batch ends."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Saves every ``save_freq`` batches when ``save_freq`` is an integer."""
        if self._counter is not None and self._counter.step(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Saves at the end of the epoch when ``save_freq="epoch"``."""
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save(self, epoch: int, logs: Logs, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_message(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        if self._is_improvement(float(current), self.best):
            if self.verbose > 0:
                print_message(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{float(current):.5f}, saving model to {filepath}"
                )
            self.best = float(current)
            return True
        if self.verbose > 0:
            print_message(
                f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}"
            )
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs | None) -> None:
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        from chainrule.distribute import is_chief  # noqa: PLC0415

        if not is_chief():  # data-parallel training: process 0 writes the files
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_message(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _format_error(self, e: BaseException, keys: list) -> KeyError:
        return KeyError(
            f'Failed to format this callback filepath: "{self.filepath}". Reason: '
            f"{type(e).__name__}: {e}. The fields available are {keys}. Received: "
            f"filepath={self.filepath}"
        )

    def _check_fields(self) -> None:
        """Refuse, at creation, format fields no epoch can fill.

        The fields are filled with numbers (``epoch``, ``batch`` and the logs), so a
        positional field (``{}``), an attribute (``{epoch.real}``) or an index
        (``{epoch[0]}``) can never be, nor can a malformed string (``{epoch``).
        """
        keys = ["epoch", "batch", "<the epoch logs>"]
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.filepath) if f is not None]
        except ValueError as e:
            raise self._format_error(e, keys) from None
        for field in fields:
            if field == "" or field.isdigit() or any(c in field for c in ".[]!"):
                reason = ValueError(f"the field {{{field}}} cannot be filled: fields are names "
                                    "of numbers (epoch, batch, a log such as val_loss)")
                raise self._format_error(reason, keys)

    def _get_file_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as e:
            keys = ["epoch"] + (["batch"] if batch is not None else []) + sorted(logs)
            raise self._format_error(e, keys) from None

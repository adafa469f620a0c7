"""TensorBoard: write the run's scalars and histograms as event files TensorBoard reads.

The files follow Keras 3's layout, so a ``logs/`` folder written by chainrule
looks in TensorBoard like one written by Keras::

    log_dir/train/events.out.tfevents...        epoch_loss, epoch_accuracy, epoch_learning_rate,
                                                batch_loss..., sequential/dense/kernel/histogram...,
                                                keras (the model's config, for the graph tab)
    log_dir/validation/events.out.tfevents...   epoch_loss, epoch_accuracy...,
                                                evaluation_loss_vs_iterations...

Writing uses the ``tensorboard`` package only (its event-file writer and
summary protos; no TensorFlow): ``pip install chainrule[tensorboard]``.
"""

from __future__ import annotations

import numbers
import os
import time
import types
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.callbacks.callback import Callback, Logs
from chainrule.callbacks.gradient_monitor import _layers_of, _norm

__all__ = ["TensorBoard"]

_INSTALL = "pip install chainrule[tensorboard]"


def _summary_tools() -> Any:
    """The ``tensorboard`` modules that build and write summaries (imported on first use)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: PLC0415
        from tensorboard.plugins.histogram.summary_v2 import histogram_pb  # noqa: PLC0415
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb  # noqa: PLC0415
        from tensorboard.summary.writer.event_file_writer import (  # noqa: PLC0415
            EventFileWriter,
        )
        from tensorboard.util import tensor_util  # noqa: PLC0415
    except ImportError as err:
        raise ImportError(
            "The TensorBoard callback writes its files with the `tensorboard` package, which is "
            f"not installed. Install it with `{_INSTALL}`. Received: {err}"
        ) from None
    return event_pb2, summary_pb2, histogram_pb, scalar_pb, EventFileWriter, tensor_util


def _is_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


class TensorBoard(Callback):
    """Writes the metrics, learning rate, histograms and gradient flow of a run for TensorBoard.

    The same arguments and the same files as Keras 3's ``keras.callbacks.TensorBoard``:
    per epoch, every log key ``k`` as the scalar ``epoch_k`` at step ``epoch``
    (training keys and the learning rate in ``log_dir/train``, ``val_k`` as
    ``epoch_k`` in ``log_dir/validation``); with ``update_freq`` ``'batch'`` or
    an integer ``n``, every ``n``-th training batch's logs as ``batch_k`` at the
    global batch number (from 1); after each validation,
    ``evaluation_k_vs_iterations`` at the optimizer's iteration count.
    Then run ``tensorboard --logdir log_dir``.

    chainrule also writes what its :class:`GradientMonitor` measures: every
    epoch, the norm of each layer's gradient (all its trainable weights
    together, from the epoch's last batch) as ``gradient_norm/<layer>`` in
    ``train/``; and with ``histogram_freq``, a histogram of each trainable
    weight's last gradient as ``<model>/<layer>/<weight>/gradient_histogram``
    next to Keras's ``<model>/<layer>/<weight>/histogram`` (e.g.
    ``sequential/dense/kernel/histogram``).

    Unlike Keras, an integer ``update_freq`` does not hide epoch summaries:
    Keras writes an epoch's scalars and histograms only when the global batch
    number at its end is a multiple of ``update_freq``; chainrule writes every
    epoch.

    Args:
        log_dir: Folder of the event files (created if needed; its ``train/``
            and ``validation/`` subfolders hold them).
        histogram_freq: Every this many epochs, write histograms of the
            weights (and of their gradients). 0 writes none.
        write_graph: Write the model's architecture (its JSON config, tag
            ``keras``), which TensorBoard's graph tab draws.
        write_images: Keras writes weights as images; chainrule does not
            (it would need an image encoder), so only False is accepted.
        write_steps_per_second: Also write training steps per second
            (``epoch_steps_per_second``, and per batch ``batch_steps_per_second``).
        update_freq: ``'epoch'``, ``'batch'`` (same as 1) or a positive
            integer ``n``: also write the batch logs every ``n`` batches.
        profile_batch: Profiling is not available (as in Keras on its NumPy
            backend): only 0 is accepted.
        embeddings_freq: Embedding projections are not written: only 0.
        embeddings_metadata: Accepted for Keras compatibility; must be None.
        gradient_norms: Write ``gradient_norm/<layer>`` every epoch
            (chainrule only; default True).

    Raises:
        ValueError: for a bad argument, at construction.
        OSError: at ``on_train_begin`` when ``log_dir`` cannot be written.
        ImportError: at ``on_train_begin`` when ``tensorboard`` is not installed.

    Example:
        >>> tb = TensorBoard(log_dir="logs", histogram_freq=1, update_freq="batch")
        >>> tb.update_freq
        1
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int | tuple = 0, embeddings_freq: int = 0,
                 embeddings_metadata: Any = None, gradient_norms: bool = True) -> None:
        super().__init__()
        try:
            self.log_dir = os.fspath(log_dir)
        except TypeError:
            raise TypeError(f"log_dir must be a path. Received: log_dir={log_dir!r}") from None
        if isinstance(self.log_dir, bytes):
            self.log_dir = os.fsdecode(self.log_dir)
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, numbers.Integral) \
                or histogram_freq < 0:
            raise ValueError("histogram_freq must be a non-negative integer (0: no histograms). "
                             f"Received: histogram_freq={histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
                isinstance(update_freq, bool) or not isinstance(update_freq, numbers.Integral)
                or update_freq < 1):
            raise ValueError("update_freq must be 'epoch', 'batch' or a positive integer. "
                             f"Received: update_freq={update_freq!r}")
        if write_images:
            raise ValueError("write_images=True is not supported: chainrule writes weight "
                             "histograms (histogram_freq) but not weight images. "
                             f"Received: write_images={write_images!r}")
        if profile_batch not in (0, "0", (0, 0), [0, 0]):
            raise ValueError("Profiling is not available in chainrule (as with Keras's NumPy "
                             f"backend). Received: profile_batch={profile_batch!r} (must be 0)")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError("Embedding projections are not written by chainrule's TensorBoard "
                             f"callback. Received: embeddings_freq={embeddings_freq!r}, "
                             f"embeddings_metadata={embeddings_metadata!r}")
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = False
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq: str | int = update_freq if update_freq == "epoch" else int(update_freq)
        self.profile_batch = 0
        self.embeddings_freq = 0
        self.embeddings_metadata = None
        self.gradient_norms = bool(gradient_norms)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict[str, Any] = {}
        self._tools: Any = None
        if self.update_freq == "epoch" and not self.write_steps_per_second:
            # Nothing to write per batch: with the base class's no-op batch hooks the training
            # loop sees no batch callback and skips building the batch logs (a quarter of a
            # small model's step time).
            self.on_train_batch_begin = types.MethodType(Callback.on_train_batch_begin, self)
            self.on_train_batch_end = types.MethodType(Callback.on_train_batch_end, self)
        self._global_train_batch = 0
        self._batch_start = 0.0
        self._epoch_start = 0.0
        self._epoch_batches = 0

    # -- writing ---------------------------------------------------------------------------------
    def _writer(self, which: str) -> Any:
        """The writer of ``'train'`` or ``'validation'``, made (with its folder) on first use."""
        writer = self._writers.get(which)
        if writer is None and not _is_chief():  # data-parallel training: process 0 writes
            if self._tools is None:
                self._tools = _summary_tools()
            writer = self._writers[which] = _NullWriter()
        if writer is None:
            folder = self._train_dir if which == "train" else self._val_dir
            try:
                os.makedirs(folder, exist_ok=True)
                probe = os.path.join(folder, ".chainrule_write_test")
                with open(probe, "wb"):
                    pass
                os.remove(probe)
            except OSError as err:
                raise OSError(
                    f"TensorBoard cannot write its event files to {folder!r}: "
                    f"{err.strerror or err}. Pass a log_dir you can write to. "
                    f"Received: log_dir={self.log_dir!r}") from err
            if self._tools is None:
                self._tools = _summary_tools()
            writer = self._tools[4](folder)
            self._writers[which] = writer
        return writer

    def _write(self, which: str, summary: Any, step: int) -> None:
        writer = self._writer(which)  # loads the tools on first use
        writer.add_event(self._tools[0].Event(wall_time=time.time(), step=int(step),
                                              summary=summary))

    def _scalar(self, which: str, tag: str, value: Any, step: int) -> None:
        self._writer(which)
        self._write(which, self._tools[3](tag, float(value)), step)

    def _histogram(self, tag: str, values: Any, step: int) -> None:
        data = np.asarray(backend.to_numpy(values), dtype=np.float64).ravel()
        self._writer("train")
        self._write("train", self._tools[2](tag, data), step)

    def _write_model_graph(self) -> None:
        """The model's JSON config as Keras writes it: tag ``keras``, plugin ``graph_keras_model``."""
        to_json = getattr(self.model, "to_json", None)
        if to_json is None:
            return
        try:
            text = to_json()
        except Exception:  # noqa: BLE001 - as Keras: a model that cannot be serialized is skipped
            return
        _, summary_pb2, _, _, _, tensor_util = self._tools
        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        summary = summary_pb2.Summary()
        summary.value.add(tag="keras", metadata=metadata,
                          tensor=tensor_util.make_tensor_proto(text.encode("utf-8")))
        self._write("train", summary, 0)

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks -----------------------------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Open the ``train`` writer (checking ``log_dir``) and write the model's graph."""
        self._close()
        self._global_train_batch = 0
        self._writer("train")
        if self.write_graph:
            self._write_model_graph()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Count the batch (global batch numbers start at 1, as in Keras)."""
        self._global_train_batch += 1
        self._epoch_batches += 1
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Write the batch logs every ``update_freq`` batches."""
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start
            if elapsed > 0:
                self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            if _is_number(value):
                self._scalar("train", "batch_" + name, value, step)

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Write the evaluation results against the optimizer's iteration count."""
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        if iterations is None or not logs:
            return
        for name, value in logs.items():
            if _is_number(value):
                self._scalar("validation", f"evaluation_{name}_vs_iterations", value,
                             int(iterations))
        if "validation" in self._writers:
            self._writers["validation"].flush()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the epoch's scalars, gradient norms and (every ``histogram_freq``) histograms."""
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in train:
            try:
                train["learning_rate"] = float(optimizer.learning_rate)
            except (TypeError, ValueError, AttributeError):
                pass
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            if elapsed > 0:
                train["steps_per_second"] = self._epoch_batches / elapsed
        for name, value in train.items():
            if _is_number(value):
                self._scalar("train", "epoch_" + name, value, epoch)
        for name, value in val.items():
            if _is_number(value):
                self._scalar("validation", "epoch_" + name, value, epoch)
        if self.gradient_norms:
            self._log_gradient_norms(epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_gradient_norms(self, epoch: int) -> None:
        """Per layer, the norm of the gradients the last training step left on its weights."""
        for layer in _layers_of(self.model):
            grads = [v.grad for v in getattr(layer, "trainable_weights", [])
                     if v.requires_grad and v.grad is not None]
            if grads:
                value = float(np.sqrt(sum(_norm(g) ** 2 for g in grads)))
                self._scalar("train", f"gradient_norm/{layer.name}", value, epoch)

    def _log_histograms(self, epoch: int) -> None:
        # Keras 3 tags a weight by its variable path under the model: "sequential/dense/kernel"
        model_name = getattr(self.model, "name", None)
        for layer in getattr(self.model, "layers", []):
            for weight in getattr(layer, "weights", []):
                path = getattr(weight, "path", None) or f"{layer.name}/{weight.name}"
                if model_name:
                    path = f"{model_name}/{path}"
                self._histogram(f"{path}/histogram", weight.data, epoch)
                grad = getattr(weight, "grad", None)
                if grad is not None:
                    self._histogram(f"{path}/gradient_histogram", grad, epoch)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Flush and close the event files."""
        self._close()


def _is_chief() -> bool:
    from chainrule.distribute import is_chief  # noqa: PLC0415

    return is_chief()


class _NullWriter:
    """The event writer of a data-parallel process other than process 0: writes nothing."""

    def add_event(self, event: Any) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

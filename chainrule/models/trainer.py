"""compile / fit / evaluate / predict: Keras's training API on chainrule's engine.

Everything a user passes is checked once, before the first step; the step
itself is forward → loss → backward → optimizer update → metric update, with
nothing else in it.
"""

from __future__ import annotations

import itertools
import math
import signal
import sys
import threading
import time
import warnings
import weakref
from typing import Any, Sequence

import numpy as np

from chainrule import _blas, backend, parallel
from chainrule.autograd import capture
from chainrule.autograd.engine import no_grad
from chainrule.distribute import _state as _dist
from chainrule.models import data as data_lib
from chainrule.models.compile_utils import CompileMixin, MeanTracker
from chainrule.models.custom_steps import StepMethods

__all__ = ["Trainer"]

_FIT_KWARGS = ("nb_epoch",)


def _resolve_verbose(verbose: Any, name: str = "verbose") -> int:
    if verbose == "auto":
        stream = sys.stdout
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        return 1 if tty or _in_notebook() else 2
    if isinstance(verbose, bool) or not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
        raise ValueError(f"{name} must be 0, 1, 2 or 'auto'. Received: {name}={verbose!r}")
    return int(verbose) if _dist.is_chief() else 0  # data-parallel: process 0 prints


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


class _AtomicSteps:
    """Makes each step of a loop atomic with respect to Ctrl-C (``SIGINT``).

    A step updates every weight, the optimizer's state, ``iterations`` and the
    metrics; a ``KeyboardInterrupt`` raised in its middle would leave a model
    that no step produced. While the loop runs, a ``SIGINT`` that arrives inside
    a step (between :meth:`begin` and :meth:`end`) is recorded and delivered by
    :meth:`end`, right after the step completes, to the handler that was there
    before (Python's default raises ``KeyboardInterrupt``); one that arrives
    between steps is delivered when the next step begins (or the loop ends), so
    it is never raised inside a finalizer, where Python would swallow it. The handler is installed only in the
    main thread (the only one Python delivers signals to) and only when the
    current handler is a Python callable; the previous one is put back on exit.
    Nested loops (``fit``'s validation) nest correctly.
    """

    __slots__ = ("previous", "installed", "in_step", "pending")

    def __init__(self) -> None:
        self.previous: Any = None
        self.installed = False
        self.in_step = False
        self.pending: tuple | None = None

    def __enter__(self) -> _AtomicSteps:
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            previous = signal.getsignal(signal.SIGINT)
        except (ValueError, OSError):  # pragma: no cover - no signals here
            return self
        if not callable(previous):  # SIG_IGN, SIG_DFL or a handler not set from Python
            return self
        try:
            signal.signal(signal.SIGINT, self._handle)
        except (ValueError, OSError):  # pragma: no cover - e.g. an embedded interpreter
            return self
        self.previous, self.installed = previous, True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        # Recorded, never raised from here: Python runs this handler wherever the main thread
        # is, and a KeyboardInterrupt raised inside a finalizer or a weakref callback (the
        # garbage collector runs them between any two bytecodes) would be swallowed. It is
        # delivered by begin() (before the next step), end() (after this one) or __exit__.
        self.pending = (signum, frame)

    def _deliver(self) -> None:
        if self.pending is not None:
            signum, frame = self.pending
            self.pending = None
            self.previous(signum, frame)

    def begin(self) -> None:
        self._deliver()  # a Ctrl-C that came between steps stops the loop before this one
        self.in_step = True

    def end(self) -> None:
        self.in_step = False
        self._deliver()

    def __exit__(self, *exc: object) -> None:
        self.in_step = False
        if not self.installed:
            return
        self.installed = False
        if signal.getsignal(signal.SIGINT) == self._handle:
            signal.signal(signal.SIGINT, self.previous)
        if exc[0] is None:
            self._deliver()


#: One lock per model for the state that evaluate, fit and the *_on_batch calls share
#: (the loss tracker and the metrics): concurrent calls on one model take turns.
_STATE_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STATE_LOCKS_GUARD = threading.Lock()


def _state_lock(model: Any) -> Any:
    lock = _STATE_LOCKS.get(model)
    if lock is None:
        with _STATE_LOCKS_GUARD:
            lock = _STATE_LOCKS.get(model)
            if lock is None:
                lock = _STATE_LOCKS[model] = threading.RLock()
    return lock


class _OnBatchThreads:
    """The thread counts of the ``*_on_batch`` calls follow the machine's load.

    ``fit`` and ``predict`` keep one :class:`chainrule._blas.LoadAdaptiveThreads` for the
    whole loop. A program calling ``train_on_batch`` thousands of times (a GAN's two
    models, a reinforcement-learning agent) runs its own code between the steps, so here
    the measured load and the chosen count persist across calls, process-wide (the load is
    the machine's, so two models alternating share one measurement), while the counts are
    lowered only for the duration of each call: the outermost ``*_on_batch`` call in
    progress applies the chosen count on entry and puts back the counts it found (BLAS and
    :func:`chainrule.parallel.set_thread_limit`) when it returns, also after an exception.
    Between calls the user's own NumPy code runs on the counts it configured.

    The load is looked at (Linux's ``/proc/stat``, as :mod:`chainrule._blas`) at most every
    :data:`chainrule._blas.CHECK_INTERVAL` seconds, on entry to a call; the count chosen is
    ``min(configured, max(1, round(cpus - others)))`` where ``others`` is the cores other
    processes used since the last look. A call that finds at most one thread configured,
    or ``CHAINRULE_ADAPTIVE_THREADS=0``, or one CPU, changes nothing.

    Args:
        sampler_factory: makes the load sampler (see :func:`chainrule._blas.proc_stat_sampler`);
            returns None where the load cannot be seen.
        cpus: how many CPUs this process may run on (default: its affinity).
    """

    def __init__(self, sampler_factory: Any = None, cpus: int | None = None) -> None:
        self._factory = sampler_factory or _blas.proc_stat_sampler
        self._cpus = cpus
        self._sampler: Any = None
        self._made = False
        self._last: tuple = (0.0, 0.0, 0.0)
        self._due = 0.0
        self.free: int | None = None  # the cores left free at the last look (None: not yet)
        self.others = 0.0  # cores other processes used in the last window
        self._depth = 0
        self._restore: tuple | None = None  # (blas counts, thread limit) to put back
        self._lock = threading.Lock()

    def _look(self) -> None:
        """Measure the load if a look is due (the first look comes after ``FIRST_CHECK``)."""
        now = time.perf_counter()
        if not self._made:
            self._made = True
            if self._cpus is None:
                self._cpus = len(_blas._cpus())
            self._sampler = self._factory() if self._cpus > 1 else None
            if self._sampler is not None:
                self._last = self._sampler()
                self._due = now + min(_blas.CHECK_INTERVAL, _blas.FIRST_CHECK)
                seen = _blas._last_seen  # a recent fit's look
                if seen is not None and now - seen[0] <= _blas.REMEMBER and seen[1] == self._cpus:
                    self.free = seen[2]
            return
        if self._sampler is None or now < self._due:
            return
        sample = self._sampler()
        busy, own, wall = (a - b for a, b in zip(sample, self._last))
        self._last, self._due = sample, now + _blas.CHECK_INTERVAL
        if wall <= 0:
            return
        self.others = max(0.0, busy - own) / wall
        self.free = max(1, int(self._cpus - self.others + 0.5))
        _blas._last_seen = (time.perf_counter(), self._cpus, self.free)

    def enter(self) -> None:
        """Start a call: the outermost one lowers the counts to the cores left free."""
        with self._lock:
            self._depth += 1
            if self._depth > 1 or not _blas._enabled():
                return
            libs = _blas._blas_libraries()
            blas = [lib.num_threads for lib in libs]
            own, limit = parallel.get_num_threads(), parallel._limit
            if max([own, *blas]) <= 1:
                return
            self._look()
            free = self.free
            if free is None or free >= max([own, *blas]):
                return
            self._restore = (blas, limit)
            _blas._set_blas_threads([min(n, free) for n in blas])
            if free < own:
                parallel.set_thread_limit(free)

    def exit(self) -> None:
        """End a call: the outermost one puts back the counts it found."""
        with self._lock:
            self._depth -= 1
            if self._depth or self._restore is None:
                return
            blas, limit = self._restore
            self._restore = None
            _blas._set_blas_threads(blas)
            parallel.set_thread_limit(limit)


#: The one adapter of every model's ``*_on_batch`` calls (see :class:`_OnBatchThreads`).
_ON_BATCH_THREADS = _OnBatchThreads()


class Trainer(StepMethods, CompileMixin):
    """Mixin giving models Keras's ``compile``, ``fit``, ``evaluate`` and ``predict``."""

    def __init__(self) -> None:
        self.optimizer: Any = None
        self.loss: Any = None
        self.compiled = False
        self.stop_training = False
        self.history: Any = None
        self._loss_fns: list = []
        self._loss_weights: list | None = None
        self._metric_specs: Any = None
        self._metrics: list | None = None  # per output: list of metric objects
        self._loss_tracker = MeanTracker("loss")
        self._output_loss_trackers: list = []
        self._jit_compile: Any = "auto"
        self._steps: Any = None  # the StepFactory (chainrule.models.step), made on first use

    # -- the step ------------------------------------------------------------------
    def _trainable_vars(self) -> list:
        if self._train_vars is None:
            self._train_vars = [v for v in self.trainable_weights if v.requires_grad]
        return self._train_vars

    def _step_factory(self) -> Any:
        if self._steps is None:
            from chainrule.models.step import StepFactory  # noqa: PLC0415

            self._steps = StepFactory(self)
        return self._steps

    def _forward(self, xb: list, training: bool) -> list:
        x = xb[0] if len(xb) == 1 else xb
        out = self(x, training=training)
        return out if isinstance(out, (list, tuple)) else [out]

    def _train_batch(self, xb: list, yb: list | None, swb: list | None,
                     skip_nonfinite: bool = False) -> float:
        """One training step (a user's ``train_step``, or the built-in one); returns the loss."""
        if self._overrides("train_step"):
            return self._custom_batch("train_step", xb, yb, swb)
        return self._builtin_train_batch(xb, yb, swb, skip_nonfinite)

    def _builtin_train_batch(self, xb: list, yb: list | None, swb: list | None,
                             skip_nonfinite: bool) -> float:
        """One training step (see chainrule.models.step); returns the batch loss.

        With ``skip_nonfinite``, a batch whose loss is NaN or infinite leaves the
        weights and the optimizer untouched (``fit``'s ``on_nan`` keeps the last
        good weights this way, without copying them every step).
        """
        value, preds, per_output = self._step_factory().train(xb, yb or [], swb, skip_nonfinite)
        self._track_losses(value, per_output, len(xb[0]))
        if yb:
            self._update_metrics(yb, preds, swb)
        return value

    def _step_skipped(self) -> bool:
        """Whether the built-in step just run was not applied (non-finite loss or gradients)."""
        steps = self._steps
        return steps is not None and steps.skipped and not self._overrides("train_step")

    def _test_batch(self, xb: list, yb: list | None, swb: list | None) -> None:
        if self._overrides("test_step"):
            self._custom_batch("test_step", xb, yb, swb)
            return
        self._builtin_test_batch(xb, yb, swb)

    def _builtin_test_batch(self, xb: list, yb: list | None, swb: list | None) -> None:
        value, preds, per_output = self._step_factory().test(xb, yb or [], swb)
        self._track_losses(value, per_output, len(xb[0]))
        if yb:
            self._update_metrics(yb, preds, swb)

    # -- input preparation -----------------------------------------------------------
    def _prepare(self, x: Any, y: Any, sample_weight: Any, allow_nonfinite: bool,
                 need_y: bool = True) -> tuple:
        if x is None:
            raise ValueError("x is required: pass the training inputs. Received: x=None")
        xs = data_lib.to_arrays(x, "x", strings=self._reads_text(), keys=self._input_keys())
        ys = (data_lib.to_arrays(y, "y", float_default=False, keys=self._output_keys())
              if y is not None else None)
        if need_y and ys is None and any(fn is not None for fn in self._loss_fns):
            raise ValueError("y is required for training and evaluation with array inputs "
                             "(or pass a generator of (x, y) batches). Received: y=None")
        if ys is not None and len(ys) == 1 and self._num_outputs() > 1:
            raise ValueError(f"The model has {self._num_outputs()} outputs; pass y as a list of "
                             f"{self._num_outputs()} arrays. Received: one y array")
        sws = None
        if sample_weight is not None:
            sws = data_lib.to_arrays(sample_weight, "sample_weight")
        data_lib.check_lengths(xs, ys, sws)
        if not allow_nonfinite:
            data_lib.check_finite(xs, "x")
            if ys is not None:
                data_lib.check_finite(ys, "y")
        self._match_input_rank(xs)
        self._check_input_shapes(xs)
        return xs, ys, sws

    def _match_input_rank(self, xs: list) -> None:
        """Give x a last axis of 1 where the model declares one and x lacks it, and drop a
        last axis of 1 the model does not declare (as Keras's functional models do).

        ``fit(df["Horsepower"], y)`` on ``Normalization(input_shape=[1])``: a vector of
        samples for a model whose inputs are ``(None, 1)``.
        """
        if getattr(self, "_functional", False):
            declared = [kt.shape for kt in self.inputs]
        else:
            shape = self._declared_input_shape() if hasattr(self, "_declared_input_shape") else None
            declared = [shape] if shape is not None else []
        for i, (want, a) in enumerate(zip(declared, xs)):
            if len(want) >= 2 and want[-1] == 1 and a.ndim == len(want) - 1:
                xs[i] = a[..., None]
            elif len(want) >= 2 and a.ndim == len(want) + 1 and a.shape[-1] == 1:
                xs[i] = a[..., 0]

    def _check_input_shapes(self, xs: list) -> None:
        """Check x against the first layer before any step, naming the layer."""

        if getattr(self, "_functional", False):
            for kt, a in zip(self.inputs, xs):
                want = kt.shape[1:]
                got = a.shape[1:]
                if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
                    first = next((n.layer for n in self._nodes if kt in n.inputs), kt.node.layer)
                    raise ValueError(
                        f'Input of layer "{first.name}" is incompatible with the model: expected '
                        f"shape {kt.shape}, received shape {(None,) + tuple(got)}. Received: x of "
                        f"shape {a.shape}"
                    )
            return
        layers = getattr(self, "_stack", None)
        if not layers:
            return
        declared = self._declared_input_shape() if hasattr(self, "_declared_input_shape") else None
        err = layers[0].incompatible_input(tuple(xs[0].shape), declared)
        if err is not None:
            raise err

    def _input_keys(self) -> list | None:
        """The names a dict ``x`` is matched by (as Keras): the keys of the dict the
        functional model was built with, else its ``Input`` names; None for other models."""
        if not getattr(self, "_functional", False):
            return None
        nested = self._nested_inputs
        return list(nested) if isinstance(nested, dict) else [t.name for t in self.inputs]

    def _output_keys(self) -> list | None:
        """The names a dict ``y`` is matched by (as Keras): the keys of a functional model's
        dict outputs, else its output layers' names; None for other models."""
        if not getattr(self, "_functional", False):
            return None
        nested = self._nested_outputs
        return list(nested) if isinstance(nested, dict) else self._output_names()

    def _reads_text(self) -> bool:
        """Whether the model reads text: a layer that takes strings, or a string ``Input``."""
        from chainrule.layers.base import layer_tree  # noqa: PLC0415

        return any(getattr(layer, "_takes_strings", False) or layer.dtype == "string"
                   for layer in layer_tree(self))

    def _check_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(
                f"You must compile the model before calling {what}(): call "
                f"model.compile(optimizer=..., loss=...) first. Received: model "
                f"{getattr(self, 'name', '')!r}, not compiled"
            )

    def _check_targets(self, ys: list, xs: list) -> None:
        """Check labels against the losses with one forward pass on a few samples."""
        from chainrule import losses as losses_lib  # noqa: PLC0415

        checker = getattr(losses_lib, "check_targets", None)
        if checker is None or ys is None:  # no targets: the model adds its own loss
            return
        if all(fn is None for fn in self._loss_fns):  # no compiled loss: nothing to check
            return  # (and a model whose train_step does the work may have no call())
        from chainrule.layers import base as layers_base  # noqa: PLC0415

        # The output shapes for inputs of these shapes, from one forward pass on two samples,
        # kept until the model's structure changes (so every batch of a generator is checked
        # for the cost of one pass over its labels).
        key = (layers_base._STRUCTURE[0], id(self._loss_fns),
               tuple((a.shape[1:], a.dtype.str) for a in xs))
        cache = self.__dict__.setdefault("_target_shape_cache", {})
        shapes = cache.get(key)
        if shapes is None:
            with no_grad():
                preds = self._forward([a[:2] for a in xs], training=False)
            shapes = [tuple(p.data.shape) for p in preds]
            if len(cache) >= 16:
                cache.clear()
            cache[key] = shapes
        for fn, y, shape in zip(self._loss_fns, ys, shapes):
            if fn is not None:
                checker(fn, y, shape)

    # -- fit -------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Sequence[Any] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: Any = True,
            class_weight: dict | None = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1,
            allow_nonfinite: bool = False, on_nan: str | None = None, **kwargs: Any) -> Any:
        """Train the model for a number of epochs.

        ``batch_size=len(x)`` is batch gradient descent (one update per epoch),
        ``batch_size=1`` is stochastic gradient descent, anything between is
        mini-batch; an epoch is ``ceil(len(x) / batch_size)`` iterations (the
        last, partial batch is used).

        Args:
            x: inputs (array, nested list, pandas object, list of arrays for several
                inputs), or a generator/iterable of ``(x, y)`` or ``(x, y, sample_weight)``.
            y: targets (same length as ``x``).
            batch_size: samples per update (default 32).
            epochs: passes over the data (``nb_epoch`` is accepted, deprecated).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, ``'auto'``
                (1 on a terminal, 2 otherwise).
            callbacks: list of ``Callback`` objects.
            validation_split: fraction of the data (the last samples) held out.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sw_val)``.
            shuffle: reshuffle the training data every epoch.
            class_weight: ``{class: weight}`` multiplying each sample's loss.
            sample_weight: one weight per sample.
            initial_epoch: epoch to start from (for resuming).
            steps_per_epoch: batches per epoch (for generators, or fewer than a full pass).
            validation_steps: batches of validation per epoch (generators).
            validation_batch_size: batch size for validation (default ``batch_size``).
            validation_freq: validate every this many epochs.
            allow_nonfinite: accept NaN/inf in ``x``/``y`` (an error by default).
            on_nan: when the loss becomes NaN/inf: ``'raise'`` (the default: an error
                naming the epoch and batch; the last good weights are kept), ``'stop'``
                (stop training, keep the last good weights) or ``'ignore'``. When a
                ``TerminateOnNaN`` callback is given and ``on_nan`` is not, the callback
                decides, as in Keras.

        Returns:
            A ``History`` whose ``.history`` maps ``loss``, each metric and their
            ``val_`` versions to a list of per-epoch values (also ``model.history``).

        Raises:
            ValueError: if the model is not compiled (as in Keras 3), and for bad
                arguments, naming them (TypeError for unknown keywords).
        """
        if "nb_epoch" in kwargs:
            from chainrule.layers.base import warn_deprecated  # noqa: PLC0415

            warn_deprecated("fit(nb_epoch=...)", "fit(epochs=...)")
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments: {sorted(kwargs)}. "
                            f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}")
        self._check_compiled("fit")
        on_nan = _check_fit_arguments(epochs, initial_epoch, on_nan, callbacks, shuffle,
                                      steps_per_epoch, validation_freq)
        epochs, steps_per_epoch = _apply_debug_caps(epochs, steps_per_epoch)
        if validation_data is not None or validation_split:
            validation_steps = _apply_debug_caps(None, validation_steps)[1]
        verbose = _resolve_verbose(verbose)
        batch_size = data_lib.check_batch_size(batch_size)
        with _state_lock(self), _AtomicSteps() as atomic:
            return self._fit(x, y, batch_size, epochs, verbose, callbacks, validation_split,
                             validation_data, shuffle, class_weight, sample_weight,
                             initial_epoch, steps_per_epoch, validation_steps,
                             validation_batch_size, validation_freq, allow_nonfinite, on_nan,
                             atomic)

    def _fit(self, x: Any, y: Any, batch_size: int, epochs: int, verbose: int, callbacks: Any,
             validation_split: Any, validation_data: Any, shuffle: Any, class_weight: Any,
             sample_weight: Any, initial_epoch: int, steps_per_epoch: Any, validation_steps: Any,
             validation_batch_size: Any, validation_freq: int, allow_nonfinite: bool,
             on_nan: str, atomic: _AtomicSteps) -> Any:
        """``fit`` after its scalar arguments are checked, holding the model's state lock."""
        train, steps, val = self._fit_data(x, y, sample_weight, class_weight, batch_size, shuffle,
                                           steps_per_epoch, validation_split, validation_data,
                                           allow_nonfinite)
        val_batch = data_lib.check_batch_size(validation_batch_size, batch_size)

        from chainrule.callbacks import CallbackList  # noqa: PLC0415

        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        self._train_vars = None
        if self._trainable_vars():
            atomic.begin()  # repacking the weights and making the slots: whole or not at all
            try:
                self._step_factory().pack(self._trainable_vars())  # one flat buffer, then slots
                self.optimizer.build(self._trainable_vars())  # slots for every variable up front
            finally:
                atomic.end()
        dist = _dist.active()  # data-parallel (chainrule.distribute): shard, broadcast, reduce
        if dist is not None:
            train = dist.begin_fit(self, train, steps, val, cbs)
        cbs.on_train_begin()
        start = max(initial_epoch, getattr(self, "_initial_epoch", None) or 0)
        self._initial_epoch = None  # set in on_train_begin by a resuming callback (BackupAndRestore)
        epoch_logs: dict = {}
        # thread counts that follow the machine's load: see chainrule/_blas.py
        with _blas.adapt_threads_to_load() as threads:
            for epoch in range(start, epochs):
                self._reset_metrics()
                cbs.on_epoch_begin(epoch)
                self._train_epoch(train, steps, cbs, epoch, on_nan, epoch_logs, threads, atomic)
                epoch_logs = self._logs() if dist is None else dist.global_logs(self)
                if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                    val_logs = self._run_evaluation(val, val_batch, validation_steps, cbs,
                                                    threads=threads, atomic=atomic)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        cbs.on_train_end(epoch_logs)
        return self.history

    def _fit_data(self, x: Any, y: Any, sample_weight: Any, class_weight: Any, batch_size: int,
                  shuffle: Any, steps_per_epoch: Any, validation_split: Any,
                  validation_data: Any, allow_nonfinite: bool) -> tuple:
        """Checked training batches, steps per epoch and validation data for ``fit``."""
        generator = data_lib.is_batch_iterable(x)
        val = None
        if generator:
            if y is not None:
                raise ValueError("When x is a generator or iterable of batches, y must be None "
                                 "(the batches carry the targets). Received: y of type "
                                 f"{type(y).__name__}")
            source = data_lib.as_batch_source(x, shuffle)
            if not self.built:  # build from the first batch, before the weights are packed
                first, source = data_lib.peek_batch(source)
                if first is not None:
                    first_xs = data_lib.first_inputs(first, self._reads_text(),
                                                     self._input_keys())
                    if first_xs is not None:
                        self._match_input_rank(first_xs)
                    self._ensure_built(first_xs)
            train = _IterableBatches(source, steps_per_epoch, self._reads_text(),
                                     self._input_keys(), self._match_input_rank,
                                     self._output_keys())
            steps = steps_per_epoch if steps_per_epoch is not None else data_lib.num_batches(x)
        else:
            xs, ys, sws = self._prepare(x, y, sample_weight, allow_nonfinite)
            if class_weight is not None:
                sws = _apply_class_weight(class_weight, ys, sws)
            if validation_data is None and validation_split:
                xs, ys, sws, vx, vy, vsw = data_lib.split_validation(xs, ys, sws, validation_split)
                val = (vx, vy, vsw)
            elif validation_split:
                data_lib.split_validation(xs, ys, sws, validation_split)  # validates the value
            self._ensure_built(xs)
            self._check_targets(ys, xs)
            train = data_lib.ArrayBatches(xs, ys, sws, batch_size, shuffle)
            steps = train.steps if steps_per_epoch is None else min(steps_per_epoch, train.steps)
        if validation_data is not None:
            val = self._prepare_validation(validation_data, allow_nonfinite)
            if not data_lib.is_batch_iterable(val):
                self._ensure_built(val[0])
                self._check_targets(val[1], val[0])  # the same checks as the training labels
        return train, steps, val

    def _train_epoch(self, train: Any, steps: Any, cbs: Any, epoch: int, on_nan: str,
                     epoch_logs: dict, threads: Any, atomic: _AtomicSteps) -> None:
        """One epoch of training steps (a non-finite loss raises, or stops training)."""
        skip_nonfinite = on_nan != "ignore"
        logs: dict = {}
        batches = train.epoch()
        check = isinstance(train, _IterableBatches)  # arrays were checked whole, up front
        want_batch_logs = bool(cbs._train_batch_end)  # logs cost; build them only if read
        for step, (xb, yb, swb) in enumerate(batches):
            if steps is not None and step >= steps:
                break
            if check:
                if step == 0 and xb[0].ndim > 1:
                    self._ensure_built(xb)
                self._check_targets(yb, xb)
            cbs.on_train_batch_begin(step)
            atomic.begin()
            try:
                value = self._train_batch(xb, yb, swb, skip_nonfinite)
            finally:
                atomic.end()  # a Ctrl-C during the step is delivered here, after it
            threads.step()
            if skip_nonfinite and (not math.isfinite(value) or self._step_skipped()):
                # the step was not applied: the weights are those before this batch
                if on_nan == "raise":
                    cbs.on_train_end(epoch_logs)
                    raise FloatingPointError(_nan_message(epoch, step, value))
                warnings.warn(_nan_message(epoch, step, value), RuntimeWarning, stacklevel=3)
                self.stop_training = True
                break
            if want_batch_logs:
                logs = self._logs()
            cbs.on_train_batch_end(step, logs)
            if self.stop_training:
                break

    def _ensure_built(self, xs: list) -> None:
        if self.built:
            return
        if xs[0].ndim == 1 and xs[0].dtype.kind != "U":  # one string per sample is fine
            raise ValueError(
                f"x has shape {xs[0].shape}: each sample needs a feature axis, so the model "
                "cannot tell how many inputs it has. For one feature per sample use "
                f"x.reshape(-1, 1). Received: x of shape {xs[0].shape}"
            )
        shapes = [(None,) + tuple(a.shape[1:]) for a in xs]
        self.build(shapes[0] if len(shapes) == 1 else shapes)

    def _prepare_validation(self, validation_data: Any, allow_nonfinite: bool) -> Any:
        if data_lib.is_batch_iterable(validation_data):
            return data_lib.as_batch_source(validation_data)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                             f"sample_weight_val). Received: validation_data of type "
                             f"{type(validation_data).__name__}")
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        return self._prepare(vx, vy, vsw, allow_nonfinite)

    def _run_evaluation(self, data: Any, batch_size: int, steps: int | None, cbs: Any,
                        threads: Any = None, atomic: _AtomicSteps | None = None) -> dict:
        """The test loop of ``evaluate`` and of ``fit``'s validation (which passes its ``threads``)."""
        if threads is None or atomic is None:
            with _state_lock(self), _AtomicSteps() as own_atomic, \
                    _blas.adapt_threads_to_load() as own:
                return self._run_evaluation(data, batch_size, steps, cbs, threads or own,
                                            atomic or own_atomic)
        self._reset_metrics()
        check = data_lib.is_batch_iterable(data)
        if check:
            batches: Any = _IterableBatches(data, steps, self._reads_text(), self._input_keys(),
                                            self._match_input_rank, self._output_keys()).epoch()
            n_steps = steps
        else:
            xs, ys, sws = data
            src = data_lib.ArrayBatches(xs, ys, sws, batch_size, False)
            batches, n_steps = src.epoch(), src.steps if steps is None else min(steps, src.steps)
        dist = _dist.active()  # data-parallel: this process's shard of every batch
        if dist is not None:
            batches = dist.shard_evaluation(src if not data_lib.is_batch_iterable(data) else
                                            _IterableBatches(data, steps, keys=self._input_keys(),
                                                             adjust=self._match_input_rank,
                                                             y_keys=self._output_keys()))
        cbs.on_test_begin()
        logs: dict = {}
        want_batch_logs = bool(cbs._test_batch_end)  # logs cost; build them only if read
        with capture.inference_pass():  # the weights stay: see capture.inference_pass
            for step, (xb, yb, swb) in enumerate(batches):
                if n_steps is not None and step >= n_steps:
                    break
                if check:
                    if step == 0 and xb[0].ndim > 1:
                        self._ensure_built(xb)
                    self._check_targets(yb, xb)
                cbs.on_test_batch_begin(step)
                atomic.begin()
                try:
                    self._test_batch(xb, yb, swb)
                finally:
                    atomic.end()  # a Ctrl-C during the step is delivered here, after it
                threads.step()
                if want_batch_logs:
                    logs = self._logs()
                cbs.on_test_batch_end(step, logs)
        logs = self._logs() if dist is None else dist.global_logs(self)
        cbs.on_test_end(logs)
        return logs

    # -- evaluate / predict ------------------------------------------------------------------
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Sequence[Any] | None = None, return_dict: bool = False,
                 allow_nonfinite: bool = False, **kwargs: Any) -> Any:
        """Compute the loss and metrics on data, in batches, without training.

        Args:
            x, y, sample_weight: as in :meth:`fit` (or a generator of batches as x).
            batch_size: default 32.
            verbose: 0, 1, 2 or ``'auto'``; ``verbose=2`` prints
                ``313/313 - 0s - loss: 0.4513 - accuracy: 0.8429``.
            steps: number of batches (generators).
            callbacks: callbacks receiving the ``on_test_*`` hooks.
            return_dict: return ``{name: value}``.

        Returns:
            The scalar loss when there are no metrics, else ``[loss, *metrics]``
            (or a dict with ``return_dict=True``).
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments: {sorted(kwargs)}. "
                            f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}")
        self._check_compiled("evaluate")
        verbose = _resolve_verbose(verbose)
        steps = _apply_debug_caps(None, steps)[1]
        batch_size = data_lib.check_batch_size(batch_size)
        if data_lib.is_batch_iterable(x):
            data: Any = data_lib.as_batch_source(x)
            n_steps = steps if steps is not None else data_lib.num_batches(x)
        else:
            xs, ys, sws = self._prepare(x, y, sample_weight, allow_nonfinite)
            self._ensure_built(xs)
            self._check_targets(ys, xs)
            data = (xs, ys, sws)
            n_steps = math.ceil(len(xs[0]) / batch_size) if steps is None else steps
        from chainrule.callbacks import CallbackList  # noqa: PLC0415

        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=n_steps)
        logs = self._run_evaluation(data, batch_size, steps, cbs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Sequence[Any] | None = None) -> Any:
        """Compute the outputs for ``x`` in batches; returns NumPy arrays.

        Args:
            x: inputs, or a generator/iterable of input batches.
            batch_size: default 32.
            verbose: 0, 1, 2 or ``'auto'``.
            steps: number of batches (generators).
            callbacks: callbacks receiving the ``on_predict_*`` hooks.

        Returns:
            A NumPy array of shape ``(len(x), ...)`` (a list for several outputs).

        Raises:
            ValueError: if the model cannot be built from ``x``.
        """
        steps = _apply_debug_caps(None, steps)[1]
        verbose = _resolve_verbose(verbose)
        batch_size = data_lib.check_batch_size(batch_size)
        dist = _dist.active()  # data-parallel: each process predicts its share, all get all
        if dist is not None and not dist._predicting:
            return dist.predict(self, x, batch_size, verbose, callbacks)
        if data_lib.is_batch_iterable(x):
            batches: Any = (b[0] if isinstance(b, tuple) else b
                            for b in data_lib.as_batch_source(x))
            text, keys = self._reads_text(), self._input_keys()
            batches = (data_lib.to_arrays(b, "x", strings=text, keys=keys) if isinstance(b, dict)
                       else [data_lib.to_array(b, "x", strings=text)] if not isinstance(
                b, (list, tuple)) else [data_lib.to_array(v, "x", strings=text) for v in b]
                for b in batches)
            batches = (self._match_input_rank(b) or b for b in batches)
            n_steps = steps if steps is not None else data_lib.num_batches(x)
        else:
            xs = data_lib.to_arrays(x, "x", strings=self._reads_text(), keys=self._input_keys())
            data_lib.check_lengths(xs, None)
            self._match_input_rank(xs)
            self._check_input_shapes(xs)
            self._ensure_built(xs)
            src = data_lib.ArrayBatches(xs, None, None, batch_size, False)
            batches = (b[0] for b in src.epoch())
            n_steps = src.steps if steps is None else min(steps, src.steps)
        from chainrule.callbacks import CallbackList  # noqa: PLC0415

        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=n_steps)
        cbs.on_predict_begin()
        outs: list = []
        with _AtomicSteps() as atomic, _blas.adapt_threads_to_load() as threads, \
                capture.inference_pass():
            for step, xb in enumerate(batches):
                if n_steps is not None and step >= n_steps:
                    break
                cbs.on_predict_batch_begin(step)
                atomic.begin()
                try:
                    outs.append([backend.to_numpy(p) for p in self._predict_batch(xb)])
                finally:
                    atomic.end()
                threads.step()
                # As Keras: the batch's predictions under "outputs" (one array, or a list).
                cbs.on_predict_batch_end(
                    step, {"outputs": outs[-1][0] if len(outs[-1]) == 1 else list(outs[-1])})
        cbs.on_predict_end()
        if not outs:
            raise ValueError("predict() received no batches. Received: empty x")
        # batches joined on the batch axis; an output of one value per batch (``ops.sum``
        # over everything) gives one value per batch, as Keras stacks them
        result = [np.stack(parts) if parts[0].ndim == 0 else np.concatenate(parts, axis=0)
                  for parts in ([o[i] for o in outs] for i in range(len(outs[0])))]
        if isinstance(getattr(self, "_nested_outputs", None), dict):
            return dict(zip(self._nested_outputs, result))  # a model of dict outputs, as Keras
        return result[0] if len(result) == 1 else result

    # -- single batches ---------------------------------------------------------------------
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False) -> Any:
        """One gradient update on one batch; returns the loss (and metrics) of that batch.

        The step is the one ``fit`` runs: from the third call with the same batch shapes
        it replays the captured program (see :mod:`chainrule.models.step`). While the call
        runs, the thread counts follow the machine's load; they are back as configured
        when it returns (see :class:`_OnBatchThreads`).

        Args:
            x, y, sample_weight: one batch, as in :meth:`fit`.
            class_weight: ``{class: weight}``, as in :meth:`fit`.
            return_dict: return ``{name: value}``.

        Returns:
            The scalar loss when there are no metrics, else ``[loss, *metrics]``
            (or a dict with ``return_dict=True``).
        """
        self._check_compiled("train_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, False)
        if class_weight is not None:
            sws = _apply_class_weight(class_weight, ys, sws)
        self._ensure_built(xs)
        self._check_targets(ys, xs)  # the same label checks as fit's
        with _state_lock(self), _AtomicSteps() as atomic:
            self._train_vars = None
            self._reset_metrics()
            atomic.begin()
            _ON_BATCH_THREADS.enter()
            try:
                self._train_batch(xs, ys, sws)
            finally:
                _ON_BATCH_THREADS.exit()
                atomic.end()
            return self._batch_result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """The loss (and metrics) of one batch, without updating weights.

        The step is the one ``evaluate`` runs (captured and replayed as there); the thread
        counts follow the load only while the call runs (see :meth:`train_on_batch`).

        Args:
            x, y, sample_weight: one batch, as in :meth:`evaluate`.
            return_dict: return ``{name: value}``.

        Returns:
            As :meth:`evaluate`.
        """
        self._check_compiled("test_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, False)
        self._ensure_built(xs)
        self._check_targets(ys, xs)  # the same label checks as fit's
        with _state_lock(self), _AtomicSteps() as atomic:
            self._reset_metrics()
            atomic.begin()
            _ON_BATCH_THREADS.enter()
            try:
                self._test_batch(xs, ys, sws)
            finally:
                _ON_BATCH_THREADS.exit()
                atomic.end()
            return self._batch_result(return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch, as NumPy: the step ``predict`` runs.

        From the third call with the same input shapes (or after ``predict`` on batches of
        that shape) it replays the captured forward program, with the same outputs as
        ``predict(x, batch_size=len(x))`` and as the layers on the tape; the capture is
        dropped on the same changes as ``predict``'s. A model's own ``predict_step`` is
        called instead when it defines one. The thread counts follow the load only while
        the call runs (see :meth:`train_on_batch`).

        Args:
            x: one batch of inputs (an array, a list of arrays, or a dict by input name).

        Returns:
            A NumPy array (a list of them for several outputs, a dict for dict outputs).

        Raises:
            ValueError: if ``x`` does not fit the model's inputs.

        Example:
            >>> import numpy as np, chainrule as cr
            >>> model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
            >>> model.predict_on_batch(np.ones((4, 3), "float32")).shape
            (4, 2)
        """
        xs = data_lib.to_arrays(x, "x", strings=self._reads_text(), keys=self._input_keys())
        data_lib.check_lengths(xs, None)
        self._match_input_rank(xs)
        self._check_input_shapes(xs)
        self._ensure_built(xs)
        _ON_BATCH_THREADS.enter()
        try:
            result = [backend.to_numpy(p) for p in self._predict_batch(xs)]
        finally:
            _ON_BATCH_THREADS.exit()
        if isinstance(getattr(self, "_nested_outputs", None), dict):
            return dict(zip(self._nested_outputs, result))
        return result[0] if len(result) == 1 else result

    def _batch_result(self, return_dict: bool) -> Any:
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


class _IterableBatches:
    """Batches from a user's generator or iterable of ``(x, y[, sample_weight])``."""

    def __init__(self, source: Any, steps: int | None, strings: bool = False,
                 keys: list | None = None, adjust: Any = None,
                 y_keys: list | None = None) -> None:
        self.source, self.steps = source, steps
        self.adjust = adjust  # the model's _match_input_rank (x without a declared last axis 1)
        self.y_keys = y_keys  # the model's output names: dict targets are read in their order
        self.strings = strings  # the model reads text: text batches pass
        self.keys = keys  # the model's input names: dict batches are read in their order

    def epoch(self) -> Any:
        src = self.source
        if hasattr(src, "__next__") and not hasattr(src, "__len__"):
            it = src  # a generator: keep consuming it across epochs
        else:
            it = iter(src)
        if self.steps is not None:  # stop before drawing a batch the epoch will not use
            it = itertools.islice(it, self.steps)
        for batch in it:
            if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
                raise ValueError("A batch generator must yield (x, y) or (x, y, sample_weight) "
                                 f"tuples. Received: a batch of type {type(batch).__name__}")
            xs = data_lib.to_arrays(batch[0], "x", strings=self.strings, keys=self.keys)
            if self.adjust is not None:
                self.adjust(xs)
            ys = data_lib.to_arrays(batch[1], "y", float_default=False, keys=self.y_keys)
            sws = data_lib.to_arrays(batch[2], "sample_weight") if len(batch) == 3 else None
            data_lib.check_lengths(xs, ys, sws)
            yield xs, ys, sws


def _apply_class_weight(class_weight: dict, ys: list, sws: list | None) -> list:
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class: weight}}. "
                         f"Received: class_weight={class_weight!r}")
    for cls, w in class_weight.items():
        if isinstance(cls, bool) or not isinstance(cls, (int, np.integer)):
            raise ValueError(
                "class_weight keys must be class indices (integers 0, 1, ...). "
                f"Received: class_weight={class_weight!r}"
            )
        if isinstance(w, bool) or not isinstance(w, (int, float, np.number)) or not math.isfinite(w) or w < 0:
            raise ValueError(
                "class_weight values must be finite, non-negative numbers. "
                f"Received: class_weight={class_weight!r}"
            )
    y = ys[0]
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    weights = np.ones(len(y), dtype=np.float64)
    for cls, w in class_weight.items():
        weights[labels == int(cls)] = float(w)
    if sws is not None and sws[0] is not None:
        weights = weights * sws[0]
    return [weights.astype(backend.floatx())]


def _nan_message(epoch: int, step: int, value: float) -> str:
    what = (f"The loss became {value}" if not math.isfinite(value) else
            f"The gradients became NaN or infinite (the loss was {value})")
    return (
        f"{what} at epoch {epoch + 1}, batch {step + 1}; training stopped and "
        "the weights from before this batch were kept. Likely causes: a learning rate that is "
        "too large, unscaled inputs (scale them to about [0, 1] or standardize them), or the "
        "log of zero in a hand-written loss. Pass on_nan='stop' to stop quietly or "
        "on_nan='ignore' to continue."
    )


def _apply_debug_caps(epochs: Any, steps: Any) -> tuple[Any, Any]:
    """Keras's debugging caps (``config.set_max_epochs``, ``config.set_max_steps_per_epoch``):
    fewer epochs, fewer steps per epoch, each with a warning as Keras gives."""
    from chainrule.backend import settings  # noqa: PLC0415

    cap = settings.max_epochs()
    if epochs is not None and cap and cap < epochs:
        warnings.warn(f"Limiting epochs to {cap}", stacklevel=3)
        epochs = cap
    cap = settings.max_steps_per_epoch()
    if cap and (not steps or cap < steps):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        steps = cap
    return epochs, steps


def _check_fit_arguments(epochs: Any, initial_epoch: Any, on_nan: Any, callbacks: Any,
                         shuffle: Any, steps_per_epoch: Any, validation_freq: Any) -> str:
    """Check ``fit``'s scalar arguments, naming the bad one; returns the ``on_nan`` to use."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer. Received: epochs={epochs!r}")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(f"initial_epoch must be a non-negative integer. "
                         f"Received: initial_epoch={initial_epoch!r}")
    if on_nan is None:
        from chainrule.callbacks import TerminateOnNaN  # noqa: PLC0415

        terminate = any(isinstance(c, TerminateOnNaN) for c in (callbacks or []))
        on_nan = "ignore" if terminate else "raise"
    if on_nan not in ("raise", "stop", "ignore"):
        raise ValueError(f"on_nan must be 'raise', 'stop' or 'ignore'. Received: on_nan={on_nan!r}")
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"shuffle must be True, False or 'batch'. Received: shuffle={shuffle!r}")
    if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or not isinstance(
            steps_per_epoch, (int, np.integer)) or steps_per_epoch <= 0):
        raise ValueError(f"steps_per_epoch must be a positive integer. "
                         f"Received: steps_per_epoch={steps_per_epoch!r}")
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, (int, np.integer)) or validation_freq < 1:
        raise ValueError(f"validation_freq must be a positive integer. "
                         f"Received: validation_freq={validation_freq!r}")

    return on_nan

"""Data-parallel training across processes: one model per process, one global batch per step.

Every process (an MPI *rank*) holds a full copy of the model. ``fit`` splits
each global batch of ``batch_size`` samples into one contiguous shard per
process; each process computes the gradients of its shard, the gradients are
summed across processes weighted by shard size (one allreduce over the flat
gradient buffer), and every process applies the same update, so the weights
stay bit-identical. See ``docs/distribute.md``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.callbacks.callback import Callback
from chainrule.distribute import _state

__all__ = ["DataParallel", "MPICommunicator", "shard_bounds"]

_EXTRA = "pip install 'chainrule[mpi]' (mpi4py and an MPI library such as the mpich wheel)"


class MPICommunicator:
    """The collectives :class:`DataParallel` needs, over one MPI communicator (mpi4py).

    A different transport (for instance NCCL for CuPy arrays on GPUs) is a class
    with the same attributes and methods passed as ``DataParallel(communicator=...)``.

    Args:
        comm: an ``mpi4py.MPI.Comm`` (default ``MPI.COMM_WORLD``).

    Attributes:
        rank: this process's index, 0 to ``size - 1``.
        size: the number of processes.

    Example:
        >>> comm = MPICommunicator()  # doctest: +SKIP
        >>> comm.size  # doctest: +SKIP
        1
    """

    def __init__(self, comm: Any = None) -> None:
        from mpi4py import MPI  # noqa: PLC0415

        self._mpi = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = int(self.comm.Get_rank())
        self.size = int(self.comm.Get_size())

    def allreduce_sum(self, arrays: list, ordered: bool = False) -> None:
        """Sum each contiguous 1-D array across processes, in place.

        Args:
            arrays: the arrays (one collective each, all in flight together).
            ordered: sum the processes' arrays in rank order (0 + 1 + 2 ...) on
                every process: the same bits whatever the MPI library's
                algorithm, at the cost of gathering every process's array.
        """
        MPI = self._mpi
        if ordered:
            for a in arrays:
                parts = np.empty((self.size,) + a.shape, dtype=a.dtype)
                self.comm.Allgather(a, parts)
                a[...] = parts[0]
                for p in parts[1:]:
                    a += p
            return
        reqs = [self.comm.Iallreduce(MPI.IN_PLACE, a, op=MPI.SUM) for a in arrays]
        MPI.Request.Waitall(reqs)

    def bcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process."""
        return self.comm.bcast(obj, root=0)

    def allgather(self, obj: Any) -> list:
        """Every process's ``obj``, in rank order, on every process."""
        return self.comm.allgather(obj)

    def abort(self, code: int = 1) -> None:
        """Stop every process of the job."""
        self.comm.Abort(code)


def _install_abort_hook(comm: Any) -> None:
    """An uncaught exception in one process stops all of them (no process waits forever)."""
    previous = sys.excepthook
    if getattr(previous, "_chainrule_abort", False):
        return

    def hook(etype: Any, value: Any, tb: Any) -> None:
        try:
            previous(etype, value, tb)
            sys.stderr.write(
                f"chainrule.distribute: process {comm.rank} of {comm.size} raised "
                f"{etype.__name__}: {value}. Stopping all {comm.size} processes.\n")
            sys.stderr.flush()
            sys.stdout.flush()
            time.sleep(0.5)  # let mpiexec forward the message before the job is torn down
        finally:
            comm.abort(1)

    hook._chainrule_abort = True  # type: ignore[attr-defined]
    sys.excepthook = hook


class DataParallel:
    """Data parallelism across processes started by ``mpiexec -n N python train.py``.

    Set it with :func:`set_distribution` before building the model. In ``fit``:
    process 0's weights, optimizer state and random state are broadcast; each
    process takes its contiguous shard of every global batch (``batch_size`` is
    the global batch); the gradients are averaged, weighted by shard size, with
    one allreduce over the flat gradient buffer per step; every process applies
    the same update. History, ``evaluate`` results and epoch logs are global;
    only process 0 prints and writes callback files; ``predict`` returns every
    sample's output, in order, on every process. In one process (no ``mpiexec``)
    training is ordinary training.

    Args:
        communicator: the collectives to use (default :class:`MPICommunicator`
            over ``MPI.COMM_WORLD``).
        reduction: ``'sum'`` (MPI's allreduce) or ``'ordered'`` (gather and sum
            in rank order on every process: bit-for-bit the same result with any
            MPI library; costs N times the gradient memory).

    Attributes:
        process_id: this process's rank.
        num_processes: the number of processes.
        allreduce_seconds: time spent in the gradient allreduce so far.
        allreduce_calls: the number of gradient allreduces so far.

    Raises:
        ImportError: when mpi4py is not installed (it names the ``mpi`` extra).
        ValueError: for a bad ``reduction``.

    Example:
        >>> import chainrule
        >>> dist = chainrule.distribute.DataParallel()  # doctest: +SKIP
        >>> chainrule.distribute.set_distribution(dist)  # doctest: +SKIP
        >>> dist.num_processes  # doctest: +SKIP
        1
    """

    def __init__(self, communicator: Any = None, reduction: str = "sum") -> None:
        if reduction not in ("sum", "ordered"):
            raise ValueError(f"reduction must be 'sum' or 'ordered'. Received: reduction={reduction!r}")
        if communicator is None:
            try:
                import mpi4py  # noqa: F401, PLC0415
            except ImportError as e:
                raise ImportError(
                    f"DataParallel needs mpi4py and an MPI library: {_EXTRA}. "
                    f"Received: {e}") from e
            communicator = MPICommunicator()
        self.communicator = communicator
        self.reduction = reduction
        self.process_id = int(communicator.rank)
        self.num_processes = int(communicator.size)
        self.allreduce_seconds = 0.0
        self.allreduce_calls = 0
        self._predicting = False
        if self.num_processes > 1:
            _install_abort_hook(communicator)

    def __repr__(self) -> str:
        return (f"DataParallel(process_id={self.process_id}, num_processes={self.num_processes}, "
                f"reduction={self.reduction!r})")

    # -- sharding ---------------------------------------------------------------------------
    def shard_bounds(self, n: int) -> tuple:
        """This process's rows ``[lo, hi)`` of a global batch of ``n`` samples.

        See :func:`shard_bounds`.
        """
        return shard_bounds(n, self.process_id, self.num_processes)

    def _generator_error(self, what: str) -> ValueError:
        return ValueError(
            f"DataParallel cannot shard a generator or iterable of batches passed as {what}: "
            "each process would draw its own batches. Pass arrays or a PyDataset (indexed "
            "batches every process can read alike), or shard the data per process yourself "
            f"(e.g. x[process_id::num_processes]) and train without DataParallel. Received: "
            f"a batch iterable as {what} with {self.num_processes} processes")

    # -- fit -----------------------------------------------------------------------------------
    def begin_fit(self, model: Any, train: Any, steps: Any, val: Any, cbs: Any) -> Any:
        """Check the run, broadcast process 0's state and return the sharded batches (``fit``)."""
        from chainrule.models import data as data_lib  # noqa: PLC0415

        p = self.num_processes
        pydataset = isinstance(getattr(train, "source", None), data_lib._PyDatasetEpochs)
        if not isinstance(train, data_lib.ArrayBatches) and not pydataset:
            raise self._generator_error("x")
        if val is not None and data_lib.is_batch_iterable(val) and not isinstance(
                val, data_lib._PyDatasetEpochs):
            raise self._generator_error("validation_data")
        if model._overrides("train_step"):
            raise ValueError(
                f"DataParallel trains with the built-in step; model {model.name!r} overrides "
                "train_step, whose gradients it cannot reduce. Train it in one process. "
                "Received: a train_step override")
        if pydataset:  # every process reads the same batches of its copy and takes its shard
            counts = [int(v) for v in self.communicator.allgather(int(steps or 0))]
            if len(set(counts)) > 1:
                listed = ", ".join(f"process {r}: {n} batches" for r, n in enumerate(counts))
                raise ValueError(
                    "Every process must pass the same PyDataset to fit (each takes its shard "
                    f"of every batch), but the number of batches differs: {listed}. "
                    f"Received: {counts}")
            return self._start(model, train, cbs)
        bs = train.batch_size
        if bs < p:
            raise ValueError(
                f"batch_size is the global batch, split across the {p} processes, so it must be "
                f"at least the number of processes. Received: batch_size={bs} with {p} processes")
        self._check_lengths(int(train.n), "fit", "training data")
        last = train.n - (train.steps - 1) * bs
        if steps == train.steps and last < p:
            raise ValueError(
                f"The last batch of an epoch has {last} samples ({train.n} samples, batch_size="
                f"{bs}), fewer than the {p} processes: every process needs a sample of every "
                f"batch. Choose a batch_size for which len(x) % batch_size is 0 or at least {p}. "
                f"Received: batch_size={bs} with {p} processes")
        return self._start(model, train, cbs)

    def _check_lengths(self, n: int, call: str, what: str) -> None:
        lengths = [int(v) for v in self.communicator.allgather(n)]
        if len(set(lengths)) > 1:
            listed = ", ".join(f"process {r}: {k} samples" for r, k in enumerate(lengths))
            raise ValueError(
                f"Every process must pass the same {what} to {call} (each takes its shard "
                f"of every global batch), but the lengths differ: {listed}. Received: "
                f"lengths {lengths}")

    def _start(self, model: Any, train: Any, cbs: Any) -> Any:
        self.broadcast_state(model)
        factory = model._step_factory()
        reducer = _GradientReducer(self)
        factory.gradient_reducer = reducer
        cbs.callbacks.insert(0, _DistributedFit(self, factory))
        cbs.callbacks[0].set_model(model)
        cbs._refresh()
        return _ShardedBatches(train, self, reducer)

    def broadcast_state(self, model: Any) -> None:
        """Give every process process 0's weights, optimizer state and random state.

        Raises:
            ValueError: on every process, when a process's model has other weight
                shapes or dtypes than process 0's.
        """
        comm = self.communicator
        mine = [(getattr(w, "path", "?"), tuple(w.shape), str(w.dtype)) for w in model.weights]
        everyone = comm.allgather(mine)
        ref = [(s, d) for _, s, d in everyone[0]]
        for r, theirs in enumerate(everyone[1:], start=1):
            if [(s, d) for _, s, d in theirs] == ref:
                continue
            if len(theirs) != len(ref):
                detail = f"{len(theirs)} weights, process 0's model has {len(ref)}"
            else:
                i = next(i for i, (t, o) in enumerate(zip(theirs, everyone[0])) if t[1:] != o[1:])
                detail = (f"weight {i} ({theirs[i][0]!r}) has shape {theirs[i][1]} "
                          f"{theirs[i][2]}, process 0's ({everyone[0][i][0]!r}) has "
                          f"{everyone[0][i][1]} {everyone[0][i][2]}")
            raise ValueError(
                f"Every process must build the same model, but process {r}'s model differs "
                f"from process 0's: {detail}. Received: a different model on process {r}")
        weights = comm.bcast(model.get_weights() if comm.rank == 0 else None)
        if comm.rank != 0:
            model.set_weights(weights)
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            state = comm.bcast(opt.get_state() if comm.rank == 0 else None)
            if comm.rank != 0:
                opt.set_state(state)
        rng = comm.bcast(backend.get_random_state() if comm.rank == 0 else None)
        backend.set_random_state(rng)

    # -- evaluation and prediction -----------------------------------------------------------
    def shard_evaluation(self, src: Any) -> Any:
        """This process's shards of the evaluation batches of ``src`` (with an ``epoch()``)."""
        from chainrule.models import data as data_lib  # noqa: PLC0415

        source = getattr(src, "source", None)
        if source is not None and not isinstance(source, data_lib._PyDatasetEpochs):
            raise self._generator_error("x")
        if source is None:
            self._check_lengths(int(src.n), "evaluate", "data")
        return _ShardedBatches(src, self, None).epoch()

    def global_logs(self, model: Any) -> dict:
        """The model's logs with the loss trackers and metric states summed over processes.

        A metric's state is what its ``reset_state`` sets to zero (totals, counts,
        confusion matrices, ``add_variable`` variables); each process's own state
        is kept: the sums are used for these logs only.
        """
        from chainrule.layers.base import tracked_metrics  # noqa: PLC0415

        holders: list = [model._loss_tracker, *model._output_loss_trackers]
        seen: set = set()
        for m in [m for objs in model._metrics or [] for m, _ in objs] + list(
                tracked_metrics(model)):
            if id(m) not in seen:
                seen.add(id(m))
                holders.append(m)
        slots = [(h, k) for h in holders for k in _state_attributes(h)]
        local = [_get(h, k) for h, k in slots]
        arrays = [np.asarray(backend.to_numpy(v), dtype=np.float64).ravel() for v in local]
        vec = np.concatenate(arrays) if arrays else np.zeros(0)
        self.communicator.allreduce_sum([vec], ordered=True)
        try:
            k = 0
            for (h, name), v, a in zip(slots, local, arrays):
                _set(h, name, v, vec[k:k + a.size])
                k += a.size
            return model._logs()
        finally:
            for (h, name), v in zip(slots, local):
                _set(h, name, v, None)

    def predict(self, model: Any, x: Any, batch_size: int, verbose: Any, callbacks: Any) -> Any:
        """Each process predicts its contiguous share of ``x``; all get every output in order."""
        from chainrule.models import data as data_lib  # noqa: PLC0415

        if data_lib.is_batch_iterable(x):
            raise self._generator_error("x")
        xs = data_lib.to_arrays(x, "x")
        data_lib.check_lengths(xs, None)
        self._check_lengths(len(xs[0]), "predict", "x")
        lo, hi = self.shard_bounds(len(xs[0]))
        local = None
        if hi > lo:
            self._predicting = True
            try:
                local = model.predict([a[lo:hi] for a in xs] if len(xs) > 1 else xs[0][lo:hi],
                                      batch_size=-(-batch_size // self.num_processes),
                                      verbose=verbose, callbacks=callbacks)
            finally:
                self._predicting = False
        parts = [p for p in self.communicator.allgather(local) if p is not None]
        if isinstance(parts[0], list):
            return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
        return np.concatenate(parts)


def shard_bounds(n: int, process_id: int, num_processes: int) -> tuple:
    """The rows ``[lo, hi)`` of a global batch of ``n`` samples that process ``process_id`` takes.

    Shards are contiguous and in rank order; their sizes differ by at most one,
    the larger ones first (so process 0's shard is never empty).

    Args:
        n: the global batch's size.
        process_id: the process's rank, 0 to ``num_processes - 1``.
        num_processes: the number of processes.

    Returns:
        ``(lo, hi)``.

    Example:
        >>> [shard_bounds(5, r, 2) for r in range(2)]
        [(0, 3), (3, 5)]
    """
    base, extra = divmod(int(n), int(num_processes))
    lo = process_id * base + min(process_id, extra)
    return lo, lo + base + (1 if process_id < extra else 0)


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, np.number)):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind in "iuf"


def _get(holder: Any, name: Any) -> Any:
    if isinstance(name, int):  # a variable made with add_variable
        return backend.to_numpy(holder.variables[name].data).copy()
    value = getattr(holder, name)
    return value.copy() if isinstance(value, np.ndarray) else value


def _set(holder: Any, name: Any, local: Any, summed: Any) -> None:
    """Put the summed values (or, with None, the process's own ``local`` value) back."""
    if summed is None:
        value = local
    elif isinstance(local, np.ndarray):
        value = summed.reshape(local.shape).astype(local.dtype)
    else:
        value = type(local)(summed[0])
    if isinstance(name, int):
        holder.variables[name].assign(value)
    else:
        setattr(holder, name, value)


def _state_attributes(holder: Any) -> list:
    """The names of a metric's summable state: numbers its ``reset_state`` makes zero."""
    import copy  # noqa: PLC0415

    fresh = copy.deepcopy(holder)
    fresh.reset_state()
    names: list = []
    for name, value in vars(holder).items() if hasattr(holder, "__dict__") else ():
        reset = getattr(fresh, name, None)
        if _numeric(value) and _numeric(reset) and not np.any(reset):
            names.append(name)
    for name in getattr(holder, "__slots__", ()):
        if _numeric(getattr(holder, name, None)) and not np.any(getattr(fresh, name)):
            names.append(name)
    names += list(range(len(getattr(holder, "variables", []) or [])))
    return names


class _ShardedBatches:
    """This process's shard of every global batch of an ``ArrayBatches``."""

    def __init__(self, source: Any, dist: DataParallel, reducer: Any) -> None:
        self.source, self.dist, self.reducer = source, dist, reducer
        self.steps = source.steps

    def _global_batches(self) -> Any:
        """The source's batches; a shuffled ``ArrayBatches`` gathers only this process's rows."""
        src = self.source
        if not (getattr(src, "shuffle", None) is True and getattr(src, "_dev", True) is False):
            yield from src.epoch()
            return
        # the permutation ArrayBatches.epoch draws (the same generator and call), whose rows
        # are gathered per shard instead of per global batch
        perm = (src.rng or backend.rng()).permutation(src.n)
        bs = src.batch_size
        for k in range(src.steps):
            idx = perm[k * bs:(k + 1) * bs]
            n = len(idx)
            lo, hi = self.dist.shard_bounds(n)
            yield n, idx[lo:hi]

    def epoch(self) -> Any:
        bounds, p = self.dist.shard_bounds, self.dist.num_processes
        src = self.source
        for batch in self._global_batches():
            if len(batch) == 2:  # (global size, this process's row indices)
                n, idx = batch
                if self.reducer is not None:
                    self.reducer.weight = len(idx) / n
                elif len(idx) == 0:
                    continue

                def take(arrays: Any, idx: Any = idx) -> Any:
                    return None if arrays is None else [
                        None if a is None else np.take(a, idx, axis=0) for a in arrays]

                yield take(src.xs), take(src.ys), take(src.sws)
                continue
            xb, yb, swb = batch
            n = len(xb[0])
            lo, hi = bounds(n)
            if self.reducer is not None:
                if n < p:  # a PyDataset's batch (arrays are checked before the first step)
                    raise ValueError(
                        f"A training batch has {n} samples, fewer than the {p} processes: "
                        "every process needs a sample of every batch. Received: a batch of "
                        f"{n} samples with {p} processes")
                self.reducer.weight = (hi - lo) / n
            elif hi == lo:
                continue  # evaluation: nothing of this batch here (no collective per batch)
            yield ([a[lo:hi] for a in xb], None if yb is None else [a[lo:hi] for a in yb],
                   None if swb is None else [None if a is None else a[lo:hi] for a in swb])


class _GradientReducer:
    """Called by the step factory between the gradients and the optimizer update.

    Scales this process's gradients by its share of the global batch and sums
    them across processes (one allreduce per dtype of the flat gradient buffer,
    with the 1-element loss in flight alongside); returns the global loss.
    """

    def __init__(self, dist: DataParallel) -> None:
        self.dist = dist
        self.weight = 1.0

    def _reduce(self, grads: list, value: float) -> float:
        w = self.weight
        if w != 1.0:
            for g in grads:
                g *= g.dtype.type(w)
        loss = np.array([value * w], dtype=np.float64)
        dist = self.dist
        t0 = time.perf_counter()
        dist.communicator.allreduce_sum(list(grads) + [loss], ordered=dist.reduction == "ordered")
        dist.allreduce_seconds += time.perf_counter() - t0
        dist.allreduce_calls += 1
        return float(loss[0])

    def reduce_flat(self, buf: Any, value: float) -> float:
        """Reduce a flat buffer's gradients in place; returns the global loss."""
        return self._reduce(list(buf.grad.values()), value)

    def reduce_taped(self, variables: list, value: float) -> float:
        """Reduce the ``.grad`` of ``variables`` (a taped step) in place; returns the global loss."""
        present = [v for v in variables if v.grad is not None]
        groups: dict = {}
        for v in present:
            groups.setdefault(np.dtype(v.grad.dtype), []).append(v)
        flats = {dt: np.concatenate([np.ravel(v.grad) for v in vs]) for dt, vs in groups.items()}
        loss = self._reduce(list(flats.values()), value)
        for dt, vs in groups.items():
            k = 0
            for v in vs:
                n = int(np.size(v.grad))
                v.grad = flats[dt][k:k + n].reshape(np.shape(v.grad))
                k += n
        return loss


class _DistributedFit(Callback):
    """fit's own first callback under DataParallel: keeps non-trainable state identical."""

    def __init__(self, dist: DataParallel, factory: Any) -> None:
        super().__init__()
        self.dist, self.factory = dist, factory

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        # state a layer updates in its forward pass (BatchNormalization's moving statistics)
        # follows each process's shard: process 0's is kept, before checkpoints are written
        weights = self.model.non_trainable_weights
        if weights:
            values = self.dist.communicator.bcast(
                [backend.to_numpy(w.data) for w in weights] if self.dist.process_id == 0 else None)
            if self.dist.process_id != 0:
                for w, v in zip(weights, values):
                    w.assign(v)

    def on_train_end(self, logs: Any = None) -> None:
        self.factory.gradient_reducer = None


def set_distribution(value: DataParallel | None) -> None:
    """Set the distribution ``fit``, ``evaluate`` and ``predict`` use (None: one process).

    Args:
        value: a :class:`DataParallel`, or None to train in this process alone.

    Raises:
        TypeError: for anything else.

    Example:
        >>> set_distribution(None)
        >>> distribution() is None
        True
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError("set_distribution expects a DataParallel or None. "
                        f"Received: {type(value).__name__}")
    _state._current[0] = value


def distribution() -> DataParallel | None:
    """The distribution set with :func:`set_distribution` (None when there is none).

    Example:
        >>> distribution() is None
        True
    """
    return _state._current[0]

"""Turning what users pass to ``fit``/``evaluate``/``predict`` into batches.

Everything is checked once here, at the boundary, so the training step itself
validates nothing: arrays, nested lists and pandas objects become contiguous
arrays; generators and iterables of ``(x, y)`` batches pass through.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from chainrule import backend
from chainrule.utils.py_dataset import PyDataset, py_dataset_epoch, standardize_py_batch

__all__ = ["to_arrays", "check_batch_size", "check_lengths", "split_validation", "is_batch_iterable",
           "check_finite", "ArrayBatches",
           # PyDataset and other sources of batches
           "as_batch_source", "num_batches", "py_dataset_epoch", "standardize_py_batch", "peek_batch",
           "first_inputs"]


def _is_pandas(x: Any) -> bool:
    return type(x).__module__.startswith("pandas") and hasattr(x, "to_numpy")


def to_array(x: Any, name: str, float_default: bool = True, strings: bool = False) -> np.ndarray:
    """Convert one input to a NumPy array, with a clear error for non-numeric data.

    Args:
        x: an array, nested list, pandas DataFrame/Series, or a Tensor.
        name: the argument's name for messages (``x``, ``y``...).
        float_default: convert floats to :func:`chainrule.config.floatx`.
        strings: accept text (str, bytes, or objects that are all str), returned
            as a ``str`` array: for models whose layers read text (StringLookup,
            TextVectorization, Hashing).

    Returns:
        A NumPy array.
    """
    from chainrule.autograd.engine import Tensor  # noqa: PLC0415

    if isinstance(x, Tensor):
        x = x.numpy()
    if _is_pandas(x):
        x = x.to_numpy()
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray:
        x = np.asarray(x)  # a subclass (e.g. a dataset's tensor-like batch) as a plain array
    if not isinstance(x, np.ndarray):
        if backend.get_backend() == "cupy" and hasattr(x, "__cuda_array_interface__"):
            x = backend.to_numpy(x)
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"{name} must be an array of numbers (or a nested list of equal-length rows). "
                f"Received: {name} that NumPy cannot convert ({e})"
            ) from None
    if strings and x.dtype.kind not in "biuf" and _is_text(x):
        return x if x.dtype.kind == "U" else _as_text(x)
    if x.dtype.kind not in "biuf":
        sample = x.reshape(-1)[:3].tolist() if x.size else []
        raise TypeError(
            f"{name} must contain numbers, but it has dtype {x.dtype} (e.g. {sample}). Convert "
            f"strings or objects to numbers first (e.g. with np.asarray(..., dtype='float32') "
            f"or chainrule.utils.to_categorical for labels). Received: {name} with dtype {x.dtype}"
        )
    if x.dtype.kind == "f" and float_default and x.dtype != np.dtype(backend.floatx()):
        x = x.astype(backend.floatx())
    elif x.dtype.kind == "b" and float_default:
        x = x.astype(backend.floatx())
    return x


def _is_text(x: np.ndarray) -> bool:
    if x.dtype.kind in "US":
        return True
    return x.dtype.kind == "O" and all(isinstance(v, (str, bytes)) for v in x.reshape(-1))


def _as_text(x: np.ndarray) -> np.ndarray:
    flat = [v.decode("utf-8") if isinstance(v, bytes) else v for v in x.reshape(-1).tolist()]
    return np.array(flat, dtype=str).reshape(x.shape)


def to_arrays(data: Any, name: str, float_default: bool = True,
              strings: bool = False, keys: list | None = None) -> list | None:
    """Convert ``x`` (an array, or a list/tuple/dict of arrays for several inputs) to a list.

    ``strings=True`` accepts text arrays (see :func:`to_array`). ``keys``: the
    model's input names; a dict holding them all is read in that order (Keras
    matches dict inputs by name), other dicts in their own order.
    """
    if data is None:
        return None
    if isinstance(data, dict) and keys and set(keys) <= set(data):
        return [to_array(data[k], f"{name}[{k!r}]", float_default, strings) for k in keys]
    if isinstance(data, dict):
        return [to_array(v, f"{name}[{k!r}]", float_default, strings) for k, v in data.items()]
    if isinstance(data, (list, tuple)) and data and all(
        isinstance(v, np.ndarray) or _is_pandas(v) for v in data
    ):
        return [to_array(v, f"{name}[{i}]", float_default, strings) for i, v in enumerate(data)]
    return [to_array(data, name, float_default, strings)]


def check_batch_size(batch_size: Any, default: int = 32) -> int:
    """Validate ``batch_size`` (None → default)."""
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(
            "batch_size must be a positive integer (1 is stochastic gradient descent, len(x) is "
            f"batch gradient descent). Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


def check_lengths(xs: list, ys: list | None, sws: list | None = None) -> int:
    """Check every array has the same number of samples; return it."""
    n = len(xs[0]) if xs[0].ndim else 0
    if xs[0].ndim == 0:
        raise ValueError("x must have a sample axis (at least 1 dimension). Received: a scalar x")
    for i, a in enumerate(xs[1:], 1):
        if len(a) != n:
            raise ValueError(f"All inputs must have the same number of samples. Received: x[0] "
                             f"with {n} samples and x[{i}] with {len(a)}")
    for i, a in enumerate(ys or []):
        if a.ndim == 0 or len(a) != n:
            yname = "y" if len(ys) == 1 else f"y[{i}]"
            got = "a scalar" if a.ndim == 0 else f"{len(a)} samples"
            raise ValueError(
                f"x and {yname} must have the same number of samples. Received: x with {n} "
                f"samples and {yname} with {got}"
            )
    for a in sws or []:
        if a is not None and (a.ndim == 0 or len(a) != n):
            raise ValueError(f"sample_weight must have one weight per sample. Received: "
                             f"sample_weight of shape {a.shape} for {n} samples")
        if a is not None and a.dtype.kind == "f" and not np.isfinite(a).all():
            # A NaN weight makes the loss NaN; say so here rather than blame the learning rate.
            bad = ~np.isfinite(a)
            count = int(bad.sum())
            raise ValueError(
                f"sample_weight contains {count} NaN or infinite value(s), first at index(es) "
                f"{[tuple(p) for p in np.argwhere(bad)[:3].tolist()]}; every weight must be a "
                f"finite number. Received: sample_weight with {count} non-finite values"
            )
    if n == 0:
        raise ValueError("x is empty: there are no samples to use. Received: x with 0 samples")
    return n


def check_finite(arrays: list, name: str) -> None:
    """Raise a ValueError saying how many NaN/inf values an array has, and where."""
    for i, a in enumerate(arrays):
        if a.dtype.kind != "f":
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            if backend.all_finite(a):  # one read of the data, no mask: the common case
                continue
        bad = ~np.isfinite(a)
        count = int(bad.sum())
        if count:
            first = np.argwhere(bad)[:3].tolist()
            label = name if len(arrays) == 1 else f"{name}[{i}]"
            raise ValueError(
                f"{label} contains {count} NaN or infinite value(s), first at index(es) "
                f"{[tuple(p) for p in first]}. Clean or impute them, or pass "
                f"allow_nonfinite=True to train anyway. Received: {label} with {count} "
                "non-finite values"
            )


def split_validation(xs: list, ys: list, sws: list | None, validation_split: Any) -> tuple:
    """Keras's ``validation_split``: the last fraction of samples, taken before shuffling."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or not (
        0 <= validation_split < 1
    ):
        raise ValueError("validation_split must be a number in [0, 1). "
                         f"Received: validation_split={validation_split!r}")
    n = len(xs[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if validation_split > 0 and (split_at == 0 or split_at == n):
        side = "training" if split_at == 0 else "validation"
        raise ValueError(
            f"validation_split={validation_split} leaves no {side} samples out of {n} "
            f"({split_at} for training, {n - split_at} for validation); choose a split that "
            f"leaves both non-empty. Received: validation_split={validation_split}"
        )

    def cut(arrs: list | None, a: int | None, b: int | None) -> list | None:
        return None if arrs is None else [None if v is None else v[a:b] for v in arrs]

    return (cut(xs, None, split_at), cut(ys, None, split_at), cut(sws, None, split_at),
            cut(xs, split_at, None), cut(ys, split_at, None), cut(sws, split_at, None))


def is_batch_iterable(x: Any) -> bool:
    """True for generators/iterables that yield batches (not arrays, lists or pandas objects)."""
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or _is_pandas(x):
        return False
    from chainrule.autograd.engine import Tensor  # noqa: PLC0415

    if isinstance(x, Tensor) or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


class ArrayBatches:
    """Batches of in-memory arrays: one shuffled contiguous copy per epoch, batches as slices.

    Args:
        xs, ys, sws: lists of arrays (``ys``/``sws`` may be None).
        batch_size: samples per batch; the last, partial batch is used.
        shuffle: reshuffle every epoch (``'batch'`` shuffles whole batches).
        rng: the generator to draw permutations from.
    """

    def __init__(self, xs: list, ys: list | None, sws: list | None, batch_size: int,
                 shuffle: Any = False, rng: Any = None) -> None:
        self.xs, self.ys, self.sws = xs, ys, sws
        self.n = len(xs[0])
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self.steps = math.ceil(self.n / batch_size)
        self._dev = backend.get_backend() != "numpy"

    def epoch(self) -> Iterator[tuple]:
        """Yield ``(x_batch_list, y_batch_list, sw_batch_list)`` for one epoch.

        Shuffling draws one permutation per epoch and gathers each batch's rows
        when the batch is needed: the same batches as shuffling a full copy, but
        without allocating (and page-faulting) a copy of the whole data set every
        epoch, and each batch is still in cache when the step reads it.
        """
        xs, ys, sws = self.xs, self.ys, self.sws
        if self.shuffle is True or self.shuffle == "true":
            perm = (self.rng or backend.rng()).permutation(self.n)
            if not self._dev:
                return self._gathered(perm)
            xs = [np.take(a, perm, axis=0) for a in xs]
            ys = None if ys is None else [np.take(a, perm, axis=0) for a in ys]
            sws = None if sws is None else [None if a is None else np.take(a, perm, axis=0) for a in sws]
        elif self.shuffle == "batch":
            order = (self.rng or backend.rng()).permutation(self.steps)
            return self._batches(xs, ys, sws, order)
        if self._dev:  # one transfer per epoch, not per batch
            xs = [backend.as_array(a) for a in xs]
            ys = None if ys is None else [backend.as_array(a) for a in ys]
        return self._batches(xs, ys, sws, range(self.steps))

    def _gathered(self, perm: np.ndarray) -> Iterator[tuple]:
        xs, ys, sws, bs = self.xs, self.ys, self.sws, self.batch_size
        for k in range(self.steps):
            idx = perm[k * bs:(k + 1) * bs]
            # ndarray.take: np.take's gather without its Python layer
            yield ([a.take(idx, axis=0) for a in xs],
                   None if ys is None else [a.take(idx, axis=0) for a in ys],
                   None if sws is None else [None if a is None else a.take(idx, axis=0) for a in sws])

    def _batches(self, xs: list, ys: list | None, sws: list | None, order: Sequence[int]) -> Iterator[tuple]:
        bs = self.batch_size
        for k in order:
            s = slice(k * bs, (k + 1) * bs)
            yield ([a[s] for a in xs], None if ys is None else [a[s] for a in ys],
                   None if sws is None else [None if a is None else a[s] for a in sws])


# -- PyDataset and other sources of batches (keras.utils.PyDataset semantics) ----------------


class _PyDatasetEpochs:
    """A ``PyDataset`` seen by the trainer: each ``iter()`` is one (shuffled) epoch."""

    def __init__(self, dataset: Any, shuffle: Any) -> None:
        self.dataset, self.shuffle = dataset, shuffle

    def __iter__(self) -> Iterator[tuple]:
        return py_dataset_epoch(self.dataset, self.shuffle)

    def peek(self) -> tuple:
        """Batch 0, outside any epoch (no hooks called)."""
        self.dataset._settings()
        return standardize_py_batch(self.dataset, 0, self.dataset[0])


def as_batch_source(x: Any, shuffle: Any = False) -> Any:
    """What the trainer iterates for ``x``: a PyDataset's epochs (shuffled as ``fit`` asks), else x."""

    if isinstance(x, PyDataset):
        return _PyDatasetEpochs(x, shuffle)
    return x


def num_batches(x: Any) -> int | None:
    """Batches per epoch of a batch source, when it knows (``PyDataset``, ``len()``), else None."""

    if isinstance(x, PyDataset):
        return x.num_batches
    if hasattr(x, "__len__") and not hasattr(x, "__next__"):
        try:
            return int(len(x))
        except (TypeError, ValueError):  # e.g. a tf.data.Dataset of unknown length
            return None
    return None


class _Prepended:
    """A one-shot iterator with one batch put back in front (after a peek)."""

    def __init__(self, first: Any, rest: Any) -> None:
        self.first, self.rest = [first], rest

    def __iter__(self) -> "_Prepended":
        return self

    def __next__(self) -> Any:
        if self.first:
            return self.first.pop()
        return next(self.rest)


def peek_batch(source: Any) -> tuple[Any, Any]:
    """Return ``(first batch, source)`` without losing the batch.

    A re-iterable source (a ``PyDataset``, a DataLoader) is iterated once more
    later, so it is returned as it is; a one-shot iterator (a generator) is
    returned with the batch put back in front. The first batch of an empty
    source is None. The trainer uses this to build an unbuilt model from the
    first batch before its weights are packed and the optimizer is built.
    """
    if isinstance(source, _PyDatasetEpochs):
        return source.peek(), source
    if hasattr(source, "__next__"):
        try:
            first = next(source)
        except StopIteration:
            return None, source
        return first, _Prepended(first, source)
    for first in source:
        return first, source
    return None, source


def first_inputs(batch: Any, strings: bool = False, keys: list | None = None) -> list | None:
    """The ``x`` arrays of a peeked batch (``(x, ...)`` tuple or bare ``x``), or None.

    ``strings=True`` accepts text arrays (a model that reads text).
    """
    if batch is None:
        return None
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    return to_arrays(x, "x", strings=strings, keys=keys)

"""Datasets of batches that ``fit`` consumes, and Keras's ``split_dataset``.

Keras's dataset utilities return ``tf.data.Dataset`` objects; chainrule's
return a :class:`BatchDataset`: an iterable whose every pass is one epoch of
batches (tuples of NumPy arrays), with ``len()`` (the number of batches) and
the ``tf.data`` methods Keras programs call on them (``map``, ``batch``,
``unbatch``, ``shuffle``, ``take``, ``skip``, ``prefetch``, ``cache``,
``cardinality``, ``as_numpy_iterator``). Samples are read when a batch is
needed, so a folder of images is never all in memory.

Example:
    >>> import numpy as np
    >>> ds = BatchDataset.from_arrays((np.arange(10), np.arange(10) % 2), batch_size=4)
    >>> [x.tolist() for x, y in ds]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> len(left), len(right)
    (8, 2)
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from typing import Any, Callable, Iterator

import numpy as np

from chainrule import backend

__all__ = ["BatchDataset", "TensorLikeArray", "split_dataset"]

Fetch = Callable[[np.ndarray], tuple]


class TensorLikeArray(np.ndarray):
    """A NumPy array that also answers ``.numpy()``, as the tensors ``tf.data`` yields do.

    Keras tutorials write ``images[i].numpy().astype("uint8")`` on dataset
    batches; the batches of a :class:`BatchDataset` are these arrays, so that
    code runs. Everything else is plain NumPy.
    """

    def numpy(self) -> np.ndarray:
        """Return the values as a plain ``numpy.ndarray``."""
        return np.asarray(self)

    def __getitem__(self, key: Any) -> Any:
        # An element (``y[0]``) stays tensor-like, as a tf.Tensor's does: ``y[0].numpy()``.
        out = super().__getitem__(key)
        return out if isinstance(out, np.ndarray) else np.asarray(out).view(TensorLikeArray)

    def __hash__(self) -> int:
        # An element hashes as its value (``set(y.ravel())``), as a NumPy scalar does.
        if self.ndim:
            raise TypeError("unhashable type: 'TensorLikeArray' (an array of more than one value)")
        return hash(self.item())


def _tensor_like(value: Any) -> Any:
    return value.view(TensorLikeArray) if isinstance(value, np.ndarray) else value


def _rows(part: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` of one component: an array, or a dict of arrays (as ``tf.data``)."""
    if isinstance(part, dict):
        return {k: _tensor_like(v[idx]) for k, v in part.items()}
    return _tensor_like(part[idx])


def _first_row(part: Any) -> Any:
    if isinstance(part, dict):
        return {k: _tensor_like(np.asarray(v[0])) for k, v in part.items()}
    return _tensor_like(np.asarray(part[0]))


def _check_batch_size(batch_size: Any) -> int | None:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or (
        batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer or None. "
                         f"Received: batch_size={batch_size!r}")
    return int(batch_size)


class BatchDataset:
    """An iterable of batches: each ``iter()`` is one epoch (reshuffled when ``shuffle``).

    Build one with :meth:`from_arrays`, or from the ``*_dataset_from_*``
    utilities. Elements are tuples of arrays (``(x, y)``), or a bare array
    when the dataset has one component (``x`` only).

    Args:
        size: number of samples.
        fetch: a function from an array of sample indices to a tuple of
            arrays with one row per index.
        batch_size: samples per batch, or None to yield single samples.
        shuffle: draw a new sample order every epoch.
        seed: seed of those orders (None: chainrule's generator, see
            ``utils.set_random_seed``).
        single: the elements are ``fetch(...)[0]`` instead of tuples.
    """

    def __init__(self, size: int, fetch: Fetch, batch_size: int | None = None,
                 shuffle: bool = False, seed: int | None = None, single: bool = False) -> None:
        self._size, self._fetch = int(size), fetch
        self._batch_size = _check_batch_size(batch_size)
        self._shuffle, self._seed, self._single = bool(shuffle), seed, single
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.class_names: list[str] | None = None
        self.file_paths: list[str] | None = None

    @classmethod
    def from_arrays(cls, arrays: Any, batch_size: int | None = None, shuffle: bool = False,
                    seed: int | None = None) -> "BatchDataset":
        """A dataset of the rows of ``arrays`` (an array, or a tuple of arrays of equal length).

        A component may also be a dict of arrays (as ``tf.data``'s
        ``from_tensor_slices((dict(df), labels))``): its elements are dicts of rows.

        Args:
            arrays: one array (elements are its rows), a dict of arrays, or a tuple/list of them.
            batch_size: rows per batch, or None for single rows.
            shuffle: reshuffle the rows every epoch.
            seed: seed of the shuffling.

        Returns:
            A :class:`BatchDataset`.

        Raises:
            ValueError: arrays of different lengths.
        """
        single = not isinstance(arrays, (tuple, list))
        parts = [{k: np.asarray(v) for k, v in a.items()} if isinstance(a, dict)
                 else np.asarray(a) for a in ((arrays,) if single else arrays)]
        lengths = [len(v) for a in parts for v in (a.values() if isinstance(a, dict) else [a])]
        if len(set(lengths)) != 1:
            raise ValueError("All arrays must have the same number of rows. "
                             f"Received: arrays with lengths {lengths}")
        return cls(lengths[0], lambda idx: tuple(_rows(a, idx) for a in parts), batch_size,
                   shuffle, seed, single)

    # -- iteration -------------------------------------------------------------------------
    def _order(self) -> np.ndarray:
        if not self._shuffle:
            return np.arange(self._size)
        return (self._rng or backend.rng()).permutation(self._size)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self._batch_size is None:
            for i in order:
                parts = self._fetch(np.array([i]))
                element = tuple(_first_row(p) for p in parts)
                yield element[0] if self._single else element
            return
        bs = self._batch_size
        for k in range(len(self)):
            parts = tuple(p if isinstance(p, dict) else _tensor_like(p)
                          for p in self._fetch(order[k * bs:(k + 1) * bs]))
            yield parts[0] if self._single else parts

    def __len__(self) -> int:
        if self._batch_size is None:
            return self._size
        return math.ceil(self._size / self._batch_size)

    def cardinality(self) -> int:
        """The number of elements (batches, or samples when unbatched)."""
        return len(self)

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterate one epoch (the elements already are NumPy arrays)."""
        return iter(self)

    # -- tf.data's methods -----------------------------------------------------------------
    def batch(self, batch_size: int, drop_remainder: bool = False) -> "BatchDataset | _Derived":
        """Group elements into batches of ``batch_size``."""
        batch_size = _check_batch_size(batch_size)
        if self._batch_size is None and not drop_remainder:
            out = BatchDataset(self._size, self._fetch, batch_size, self._shuffle, self._seed,
                               self._single)
            out.class_names, out.file_paths = self.class_names, self.file_paths
            return out
        return _Batched(self, batch_size, drop_remainder)

    def unbatch(self) -> "BatchDataset | _Derived":
        """Split batches back into single elements."""
        if self._batch_size is None:
            return self
        out = BatchDataset(self._size, self._fetch, None, self._shuffle, self._seed, self._single)
        out.class_names, out.file_paths = self.class_names, self.file_paths
        return out

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True) -> "BatchDataset":
        """Visit the samples in a new random order every epoch (a full shuffle)."""
        out = BatchDataset(self._size, self._fetch, self._batch_size, True,
                           seed if seed is not None else self._seed, self._single)
        out.class_names, out.file_paths = self.class_names, self.file_paths
        return out

    def map(self, fn: Callable, num_parallel_calls: Any = None,
            deterministic: Any = None) -> "_Derived":
        """Apply ``fn`` to every element (``fn(x, y)`` for a tuple element, as tf.data)."""
        return _Mapped(self, fn)

    def take(self, count: int) -> "_Derived":
        """The first ``count`` elements of each epoch."""
        return _Sliced(self, 0, count)

    def skip(self, count: int) -> "_Derived":
        """All but the first ``count`` elements of each epoch."""
        return _Sliced(self, count, None)

    def prefetch(self, buffer_size: Any = None) -> "BatchDataset":
        """Accepted for tf.data code; batches are read when needed."""
        return self

    def cache(self, filename: str = "") -> "BatchDataset":
        """Accepted for tf.data code; samples are read again every epoch."""
        return self

    def repeat(self, count: int | None = None) -> "_Derived":
        """Repeat the epochs ``count`` times (None: endlessly; use ``steps_per_epoch``)."""
        return _Repeated(self, count)


class _Derived(BatchDataset):
    """A dataset computed from another one, element by element."""

    def __init__(self, parent: Any) -> None:  # noqa: D107 - no BatchDataset state of its own
        self.parent = parent
        self.class_names = getattr(parent, "class_names", None)
        self.file_paths = getattr(parent, "file_paths", None)

    def __len__(self) -> int:
        return len(self.parent)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> "_Derived":
        return _Batched(self, _check_batch_size(batch_size), drop_remainder)

    def unbatch(self) -> "_Derived":
        return _Unbatched(self)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True) -> "_Derived":
        return _Shuffled(self, seed)


class _Mapped(_Derived):
    def __init__(self, parent: Any, fn: Callable) -> None:
        super().__init__(parent)
        self.fn = fn

    def __iter__(self) -> Iterator[Any]:
        for element in self.parent:
            yield self.fn(*element) if isinstance(element, tuple) else self.fn(element)


class _Sliced(_Derived):
    def __init__(self, parent: Any, start: int, stop: int | None) -> None:
        super().__init__(parent)
        self.start, self.stop = start, stop

    def __iter__(self) -> Iterator[Any]:
        return itertools.islice(iter(self.parent), self.start, self.stop)

    def __len__(self) -> int:
        n = len(self.parent)
        stop = n if self.stop is None or self.stop < 0 else min(self.stop, n)
        return max(0, stop - min(self.start, n))


class _Repeated(_Derived):
    def __init__(self, parent: Any, count: int | None) -> None:
        super().__init__(parent)
        self.count = count

    def __iter__(self) -> Iterator[Any]:
        for _ in itertools.count() if self.count is None else range(self.count):
            yield from self.parent

    def __len__(self) -> int:
        if self.count is None:
            raise TypeError("An endlessly repeated dataset has no length.")
        return len(self.parent) * self.count


def _stack(elements: list) -> Any:
    if isinstance(elements[0], tuple):
        return tuple(_stack([e[i] for e in elements]) for i in range(len(elements[0])))
    if isinstance(elements[0], dict):
        return {k: _stack([e[k] for e in elements]) for k in elements[0]}
    return _tensor_like(np.stack(elements))


class _Batched(_Derived):
    def __init__(self, parent: Any, batch_size: int, drop_remainder: bool) -> None:
        super().__init__(parent)
        self.batch_size, self.drop_remainder = batch_size, drop_remainder

    def __iter__(self) -> Iterator[Any]:
        it = iter(self.parent)
        while chunk := list(itertools.islice(it, self.batch_size)):
            if len(chunk) < self.batch_size and self.drop_remainder:
                return
            yield _stack(chunk)

    def __len__(self) -> int:
        n = len(self.parent)
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)


class _Unbatched(_Derived):
    def __iter__(self) -> Iterator[Any]:
        for element in self.parent:
            if isinstance(element, tuple):
                yield from zip(*element)
            else:
                yield from element

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Shuffled(_Derived):
    def __init__(self, parent: Any, seed: int | None) -> None:
        super().__init__(parent)
        self.rng = np.random.default_rng(seed) if seed is not None else None

    def __iter__(self) -> Iterator[Any]:
        elements = list(self.parent)
        for i in (self.rng or backend.rng()).permutation(len(elements)):
            yield elements[i]


# -- split_dataset ---------------------------------------------------------------------------


def _split_sizes(left: Any, right: Any, total: int) -> tuple[int, int]:
    """Keras's rules for ``left_size``/``right_size`` (fractions or counts)."""
    for name, value in (("left_size", left), ("right_size", right)):
        if value is not None and type(value) not in (int, float):
            raise TypeError(f"{name} must be an int, a float or None. "
                            f"Received: {name}={value!r} of type {type(value).__name__}")
    if left is None and right is None:
        raise ValueError("At least one of left_size or right_size must be given. "
                         "Received: left_size=None and right_size=None")
    for name, value in (("left_size", left), ("right_size", right)):
        if (type(value) is int and not 0 < value < total) or (
            type(value) is float and not 0 < value < 1
        ):
            raise ValueError(f"{name} must be a positive integer below {total} (the number of "
                             f"samples) or a fraction in (0, 1). Received: {name}={value!r}")
    if type(left) is float and type(right) is float and left + right > 1:
        raise ValueError("left_size + right_size must be at most 1. "
                         f"Received: left_size={left!r}, right_size={right!r}")
    n_left = round(left * total) if type(left) is float else left
    n_right = round(right * total) if type(right) is float else right
    if n_left is None:
        n_left = total - n_right
    if n_right is None:
        n_right = total - n_left
    if n_left + n_right > total or n_left == 0 or n_right == 0:
        raise ValueError(
            f"The split of {total} samples into {n_left} and {n_right} leaves a side empty or "
            f"needs more samples than there are. Received: left_size={left!r}, "
            f"right_size={right!r}"
        )
    return int(n_left), int(n_right)


def split_dataset(dataset: Any, left_size: int | float | None = None,
                  right_size: int | float | None = None, shuffle: bool = False,
                  seed: int | None = None) -> tuple[BatchDataset, BatchDataset]:
    """Split a dataset into a left and a right part, as ``keras.utils.split_dataset``.

    A float size is a fraction of the samples (rounded), an int a number of
    samples; the missing size takes the rest. The left part is the first
    samples, the right part the last. With ``shuffle``, the samples are first
    shuffled with Python's ``random.Random(seed)`` (Keras's permutation for the
    same seed).

    Args:
        dataset: an array, a tuple/list of arrays of equal length, or a
            :class:`BatchDataset` (a batched one is split by samples and both
            parts are batched the same way).
        left_size: the size of the left part.
        right_size: the size of the right part.
        shuffle: shuffle before splitting.
        seed: the seed of that shuffle.

    Returns:
        ``(left, right)``: two :class:`BatchDataset` of single samples (or of
        batches, when ``dataset`` was batched).

    Raises:
        TypeError: sizes that are not numbers, or a ``dataset`` of another kind.
        ValueError: sizes out of range or that leave a side empty.

    Example:
        >>> import numpy as np
        >>> left, right = split_dataset((np.arange(5), np.arange(5) * 10), right_size=2)
        >>> [int(y) for _, y in right]
        [30, 40]
    """
    batch_size = None
    if isinstance(dataset, BatchDataset):
        batch_size = dataset._batch_size if type(dataset) is BatchDataset else None
        elements = list(dataset.unbatch())
        if not elements:
            raise ValueError("dataset is empty. Received: a dataset with 0 samples")
        single = not isinstance(elements[0], tuple)
        arrays: Any = np.stack(elements) if single else tuple(
            np.stack([e[i] for e in elements]) for i in range(len(elements[0])))
    elif isinstance(dataset, tuple) or (
        isinstance(dataset, list) and dataset and all(isinstance(a, np.ndarray) for a in dataset)
    ):
        arrays = tuple(np.asarray(a) for a in dataset)
        if not arrays or any(a.ndim == 0 for a in arrays):
            raise ValueError("dataset must hold arrays with a sample axis. "
                             f"Received: dataset={dataset!r}")
    elif isinstance(dataset, (np.ndarray, list)):
        arrays = np.asarray(dataset)
        if arrays.ndim == 0:
            raise ValueError(f"dataset must have a sample axis. Received: dataset={dataset!r}")
    else:
        raise TypeError("dataset must be an array, a tuple of arrays or a BatchDataset. "
                        f"Received: dataset of type {type(dataset).__name__}")
    total = len(arrays[0]) if isinstance(arrays, tuple) else len(arrays)
    if isinstance(arrays, tuple) and any(len(a) != total for a in arrays):
        raise ValueError("All arrays must have the same number of samples. "
                         f"Received: lengths {[len(a) for a in arrays]}")
    order = list(range(total))
    if shuffle:
        random.Random(seed if seed is not None else random.randint(0, 10**6)).shuffle(order)
    n_left, n_right = _split_sizes(left_size, right_size, total)
    index = np.asarray(order)
    parts = []
    for idx in (index[:n_left], index[total - n_right:]):
        chosen = tuple(a[idx] for a in arrays) if isinstance(arrays, tuple) else arrays[idx]
        parts.append(BatchDataset.from_arrays(chosen, batch_size=batch_size))
    return parts[0], parts[1]

"""``PyDataset`` (and its old name ``Sequence``): batches computed by Python code, for ``fit``.

Subclass it, return the number of batches from ``__len__`` (or the
``num_batches`` property; None for an endless dataset, with
``steps_per_epoch``) and batch ``index`` from ``__getitem__`` as ``x``,
``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``. ``fit``, ``evaluate`` and
``predict`` take it like arrays. As in Keras, ``fit(..., shuffle=True)`` (the
default) visits the batches in a new random order each epoch (drawn from
chainrule's generator, see ``utils.set_random_seed``), ``on_epoch_begin`` and
``on_epoch_end`` are called around every epoch, and ``workers > 1`` computes
the next ``max_queue_size`` batches ahead in threads while the model trains
(``use_multiprocessing=True`` uses threads too: see docs/datasets.md).

Example:
    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x = np.arange(10, dtype="float32").reshape(-1, 1)
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, index):
    ...         x = self.x[index * 4:(index + 1) * 4]
    ...         return x, x ** 2
    >>> [len(x) for x, y in Squares()]
    [4, 4, 2]
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Iterator

import numpy as np

from chainrule import backend

__all__ = ["PyDataset", "Sequence", "py_dataset_epoch", "standardize_py_batch"]


def _check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


class PyDataset:
    """Base class of a dataset whose batches a Python method computes (Keras's ``PyDataset``).

    Args:
        workers: threads computing batches ahead of the training step (1: none,
            batches are computed when needed).
        use_multiprocessing: accepted for Keras code; batches are computed in
            threads either way (a NumPy batch is mostly computed with the GIL
            released, and threads need no pickling of the dataset).
        max_queue_size: how many batches may be computed ahead.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self._workers = _check_count("workers", workers, 0)
        if not isinstance(use_multiprocessing, bool):
            raise ValueError(f"use_multiprocessing must be True or False. "
                             f"Received: use_multiprocessing={use_multiprocessing!r}")
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = _check_count("max_queue_size", max_queue_size, 1)

    def _settings(self) -> tuple[int, bool, int]:
        if not hasattr(self, "_workers"):
            warnings.warn(
                f"{type(self).__name__} should call super().__init__(**kwargs) in its "
                "constructor; **kwargs can include workers, use_multiprocessing and "
                "max_queue_size.",
                UserWarning,
                stacklevel=4,
            )
            self._workers, self._use_multiprocessing, self._max_queue_size = 1, False, 10
        return self._workers, self._use_multiprocessing, self._max_queue_size

    @property
    def workers(self) -> int:
        """Threads computing batches ahead (1: none)."""
        return self._settings()[0]

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = _check_count("workers", value, 0)

    @property
    def use_multiprocessing(self) -> bool:
        """Accepted for Keras code; batches are computed in threads."""
        return self._settings()[1]

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self) -> int:
        """How many batches may be computed ahead."""
        return self._settings()[2]

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = _check_count("max_queue_size", value, 1)

    def __getitem__(self, index: int) -> Any:
        """Return batch ``index``: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    @property
    def num_batches(self) -> int | None:
        """The number of batches: ``len(self)``; None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must define __len__ (or the num_batches property; "
            "None for an endless dataset)."
        )

    def on_epoch_begin(self) -> None:
        """Called before the first batch of every epoch."""

    def on_epoch_end(self) -> None:
        """Called after the last batch of every epoch (e.g. to reshuffle samples)."""

    def __iter__(self):
        """Yield every batch of one epoch in order, checked (see the module notes)."""
        return py_dataset_epoch(self, shuffle=False)


def _describe_batch(batch: Any) -> str:
    if isinstance(batch, tuple):
        return f"a tuple of {len(batch)} items"
    text = repr(batch)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(batch).__name__} {text}"


def standardize_py_batch(dataset: Any, index: int, batch: Any) -> tuple:
    """Check one ``PyDataset`` batch and return it as ``(x,)``, ``(x, y)`` or ``(x, y, w)``.

    Raises:
        ValueError: naming the dataset, the index and what ``__getitem__`` returned.
    """
    if isinstance(batch, (dict, np.ndarray)) or (
        hasattr(batch, "__array__") and not isinstance(batch, (list, tuple))
    ):
        return (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    ok = isinstance(batch, tuple) and len(batch) in (1, 2, 3) and batch[0] is not None and not any(
        isinstance(part, (str, bytes)) for part in batch
    )
    if not ok:
        raise ValueError(
            f"{type(dataset).__name__}.__getitem__({index}) must return x, (x,), (x, y) or "
            "(x, y, sample_weight) with arrays for x, y and sample_weight. "
            f"Received: {_describe_batch(batch)}"
        )
    return batch


def py_dataset_epoch(dataset: Any, shuffle: Any = False, rng: Any = None) -> Iterator[tuple]:
    """One epoch of a ``PyDataset``: hooks, batch order, threads ahead, checked batches."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415
    from itertools import count  # noqa: PLC0415

    workers, _, queue_size = dataset._settings()
    total = dataset.num_batches
    if total is None:
        order: Any = count()
    else:
        order = np.arange(int(total))
        if shuffle is True or shuffle == "batch":
            order = (rng or backend.rng()).permutation(order)
        order = order.tolist()
    dataset.on_epoch_begin()
    try:
        if workers <= 1:
            for index in order:
                yield standardize_py_batch(dataset, index, dataset[index])
            return
        from collections import deque  # noqa: PLC0415

        pool = ThreadPoolExecutor(max_workers=workers)
        pending: deque = deque()
        indices = iter(order)
        try:
            for index in indices:
                pending.append((index, pool.submit(dataset.__getitem__, index)))
                if len(pending) >= queue_size:
                    break
            while pending:
                index, future = pending.popleft()
                nxt = next(indices, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(dataset.__getitem__, nxt)))
                yield standardize_py_batch(dataset, index, future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        dataset.on_epoch_end()


#: Keras's old name for :class:`PyDataset`.
Sequence = PyDataset

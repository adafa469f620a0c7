"""``timeseries_dataset_from_array``: sliding windows over a series, as Keras makes them.

Example:
    >>> import numpy as np
    >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
    >>> next(iter(ds)).tolist()
    [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from chainrule.utils.dataset_utils import BatchDataset

__all__ = ["timeseries_dataset_from_array"]


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> BatchDataset:
    """Windows of ``sequence_length`` steps over ``data``, with Keras's indexing.

    Window ``i`` starts at ``start_index + i * sequence_stride`` and takes every
    ``sampling_rate``-th step; its target is ``targets[start_index + i *
    sequence_stride]`` (the target of the window's first step: shift
    ``targets`` to predict a later step). Windows stop before ``end_index``.
    With ``shuffle``, the window order is drawn once with
    ``np.random.RandomState(seed)`` (Keras's order) and the windows are
    reshuffled every epoch.

    Args:
        data: array of shape (steps, ...) (a list or array).
        targets: array with one target per step, or None (windows only).
        sequence_length: steps per window.
        sequence_stride: steps between the starts of successive windows.
        sampling_rate: take every ``sampling_rate``-th step inside a window.
        batch_size: windows per batch (None: single windows).
        shuffle: shuffle the windows.
        seed: seed of the shuffling.
        start_index: first step used (default 0).
        end_index: steps from this index on are not used (default: the end).

    Returns:
        A :class:`BatchDataset` of ``(windows, targets)`` batches (or windows
        only), windows of shape (batch, sequence_length, ...).

    Raises:
        ValueError: non-positive lengths, strides or rates; start/end indices
            out of range.

    Example:
        >>> import numpy as np
        >>> x = np.arange(10)
        >>> ds = timeseries_dataset_from_array(x[:-3], x[3:], sequence_length=3, batch_size=2)
        >>> w, t = next(iter(ds))
        >>> w.tolist(), t.tolist()
        ([[0, 1, 2], [1, 2, 3]], [3, 4])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"data must have a time axis. Received: data of shape {data.shape}")
    n = len(data)
    sequence_length = _positive("sequence_length", sequence_length)
    sequence_stride = _positive("sequence_stride", sequence_stride)
    sampling_rate = _positive("sampling_rate", sampling_rate)
    if sampling_rate >= n:
        raise ValueError(f"sampling_rate must be below the length of data ({n}). "
                         f"Received: sampling_rate={sampling_rate}")
    if sequence_stride >= n:
        raise ValueError(f"sequence_stride must be below the length of data ({n}). "
                         f"Received: sequence_stride={sequence_stride}")
    if start_index is not None and not (isinstance(start_index, numbers.Integral)
                                        and 0 <= start_index < n):
        raise ValueError(f"start_index must be an integer in [0, {n}). "
                         f"Received: start_index={start_index!r}")
    if end_index is not None and not (
        isinstance(end_index, numbers.Integral) and 0 < end_index < n
        and (not start_index or end_index > start_index)
    ):
        raise ValueError(f"end_index must be an integer in (start_index, {n}). "
                         f"Received: start_index={start_index!r}, end_index={end_index!r}")
    start = 0 if start_index is None else int(start_index)
    end = n if end_index is None else int(end_index)
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise ValueError("targets must have one entry per step. "
                             f"Received: targets of shape {targets.shape}")
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        rng = np.random.RandomState(seed if seed is not None else np.random.randint(10**6))
        rng.shuffle(starts)
    window = np.arange(sequence_length) * sampling_rate
    series = data[start:end]
    labels = None if targets is None else targets[start:end]

    def fetch(idx: np.ndarray) -> tuple:
        first = starts[idx]
        windows = series[first[:, None] + window]
        return (windows,) if labels is None else (windows, labels[first])

    return BatchDataset(len(starts), fetch, batch_size, shuffle=shuffle, seed=seed,
                        single=labels is None)

"""Padding lists of sequences to one length (``keras.utils.pad_sequences``).

Example:
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

__all__ = ["pad_sequences"]


def _check_side(name: str, value: Any) -> None:
    if not isinstance(value, str) or value not in ("pre", "post"):
        raise ValueError(f'{name} must be "pre" or "post". Received: {name}={value!r}')


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or truncate) sequences to one length, as ``keras.utils.pad_sequences``.

    Sequences shorter than ``maxlen`` are filled with ``value`` before
    (``padding="pre"``) or after (``"post"``) their items; longer ones lose
    items at the start (``truncating="pre"``) or at the end (``"post"``). The
    items may themselves be arrays of one common shape (e.g. feature vectors).

    Args:
        sequences: a list (anything with ``len``) of sequences: lists, tuples or
            arrays; they may have different lengths, and may be empty.
        maxlen: the length of the result's time axis; None pads to the longest
            sequence.
        dtype: type of the result (``object`` or a string type for strings).
        padding: ``"pre"`` or ``"post"``: where to add ``value``.
        truncating: ``"pre"`` or ``"post"``: where to cut sequences longer
            than ``maxlen``.
        value: the padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen) + item_shape``.

    Raises:
        ValueError: when ``sequences`` is not a list of sequences, items differ
            in shape, ``maxlen`` is negative or not an integer, ``padding`` or
            ``truncating`` is not "pre"/"post", or ``value`` is a string for a
            numeric ``dtype``.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post")
        array([[1, 2],
               [4, 0]], dtype=int32)
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(
            "sequences must be a list of sequences. "
            f"Received: sequences of type {type(sequences).__name__}"
        )
    _check_side("padding", padding)
    _check_side("truncating", truncating)
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 0
    ):
        raise ValueError(f"maxlen must be a non-negative integer or None. Received: maxlen={maxlen!r}")
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a NumPy type. Received: dtype={dtype!r}") from None
    if isinstance(value, str) and out_dtype.kind not in "OUS":
        raise ValueError(
            f"value is a string but dtype {out_dtype} is numeric; use dtype=object for "
            f"strings of any length. Received: value={value!r}, dtype={dtype!r}"
        )

    lengths = []
    item_shape: tuple[int, ...] | None = None  # from the first non-empty sequence, as Keras
    for i, seq in enumerate(sequences):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise ValueError(
                f"sequences must be a list of sequences; sequences[{i}] is not one. "
                f"Received: sequences[{i}]={seq!r}"
            )
        lengths.append(len(seq))
        if item_shape is None and len(seq):
            item_shape = np.asarray(seq, dtype=object if out_dtype.kind == "O" else None).shape[1:]
    item_shape = item_shape or ()
    width = int(max(lengths, default=0) if maxlen is None else maxlen)

    result = np.full((len(lengths), width) + item_shape, value, dtype=out_dtype)
    if width == 0:
        return result
    for i, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = seq[-width:] if truncating == "pre" else seq[:width]
        try:
            kept = np.asarray(kept, dtype=out_dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"sequences[{i}] cannot be converted to {out_dtype} ({e}). "
                f"Received: sequences[{i}] of type {type(seq).__name__}"
            ) from None
        if kept.shape[1:] != item_shape:
            raise ValueError(
                f"Every item of every sequence must have the shape {item_shape} of the items "
                f"of the first non-empty sequence. Received: sequences[{i}] with items of "
                f"shape {kept.shape[1:]}"
            )
        if padding == "post":
            result[i, : len(kept)] = kept
        else:
            result[i, width - len(kept) :] = kept
    return result

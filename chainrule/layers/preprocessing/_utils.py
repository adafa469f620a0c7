"""What the preprocessing layers share: argument checks and reading ``adapt``'s data."""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Sequence

import numpy as np

from chainrule.autograd.engine import Tensor

__all__ = ["check_choice", "adapt_batches", "is_single_batch", "to_numpy", "positive_int",
           "keep_integers"]


def check_choice(value: Any, allowed: Sequence[str], arg: str, layer: str) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise naming the argument.

    Raises:
        ValueError: ``Unknown output_mode for layer StringLookup: 'int8'. Did you
            mean 'int'? Known: ... Received: output_mode='int8'``.

    Example:
        >>> check_choice("count", ("int", "count"), "output_mode", "CategoryEncoding")
        'count'
    """
    if isinstance(value, str) and value in allowed:
        return value
    import difflib  # noqa: PLC0415  (loads only for a wrong name)

    close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown {arg} for layer {layer}: {value!r}.{hint} Known: "
                     f"{', '.join(repr(a) for a in allowed)}. Received: {arg}={value!r}")


def positive_int(value: Any, arg: str, layer: str, minimum: int = 1,
                 allow_none: bool = False) -> Any:
    """``value`` as an int >= ``minimum`` (or None when allowed), else a ValueError naming it."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{layer}: {arg} must be an integer >= {minimum}"
                         f"{' or None' if allow_none else ''}. Received: {arg}={value!r}")
    return int(value)


def to_numpy(x: Any) -> np.ndarray:
    """A batch (Tensor, array, list, pandas object) as a NumPy array."""
    if isinstance(x, Tensor):
        x = x.data
    if hasattr(x, "to_numpy") and type(x).__module__.startswith("pandas"):
        x = x.to_numpy()
    from chainrule import backend  # noqa: PLC0415

    return np.asarray(backend.to_numpy(x) if not isinstance(x, (np.ndarray, list, tuple, str))
                      else x)


def is_single_batch(data: Any, lists_are_data: bool = True) -> bool:
    """Whether ``adapt`` reads ``data`` as one array (else as an iterable of batches)."""
    return isinstance(data, (np.ndarray, Tensor)) or hasattr(data, "__array__") or (
        lists_are_data and isinstance(data, (list, tuple))) or (
        type(data).__module__.startswith("pandas"))


def _first_of(batch: Any) -> Any:
    """The inputs of a batch that is ``(x, y)`` or ``(x, y, sample_weight)``."""
    if isinstance(batch, tuple) and len(batch) in (2, 3):
        return batch[0]
    return batch


def adapt_batches(data: Any, layer: str, steps: Any = None, batch_size: Any = None,
                  lists_are_data: bool = True) -> Iterator[np.ndarray]:
    """The batches of ``adapt``'s ``data``: one array, or each batch of an iterable.

    Arrays, Tensors and (when ``lists_are_data``) lists and tuples are one
    batch — or batches of ``batch_size`` rows when it is given; anything else
    iterable (a generator, a ``PyDataset``, a dataset of ``(x, y)`` pairs)
    yields its batches, at most ``steps`` of them. An empty input is an error.

    Raises:
        ValueError: naming the layer, for no data at all.
        TypeError: for something that is neither an array nor iterable.
    """
    if data is None:
        raise ValueError(f"{layer}.adapt() needs data to learn from. Received: data=None")
    if is_single_batch(data, lists_are_data):
        arr = to_numpy(data)
        if arr.size == 0:
            raise ValueError(f"{layer}.adapt() received empty data: there is nothing to learn "
                             f"from. Received: data of shape {arr.shape}")
        if batch_size is None:
            yield arr
            return
        n = len(arr) if arr.ndim else 1
        for i, start in enumerate(range(0, n, int(batch_size))):
            if steps is not None and i >= steps:
                return
            yield arr[start:start + int(batch_size)]
        return
    if not hasattr(data, "__iter__") and not hasattr(data, "__getitem__"):
        raise TypeError(f"{layer}.adapt() expects an array or an iterable of batches. "
                        f"Received: data of type {type(data).__name__}")
    it: Any = iter(data)
    if steps is not None:
        it = itertools.islice(it, int(steps))
    first = next(it, None)
    if first is None:
        raise ValueError(f"{layer}.adapt() received an empty iterable (no batches). Received: "
                         f"data of type {type(data).__name__} with no batches")
    for batch in itertools.chain([first], it):
        arr = to_numpy(_first_of(batch))
        yield arr


def keep_integers(inputs: Any) -> Any:
    """An integer or text array as a Tensor the layer reads exactly.

    A layer call would make integers floatx: lookups and hashing of integer ids
    must see them exactly, also above 2**24. Text held as objects (str or bytes,
    as datasets of files give it) becomes a ``str`` array.
    """
    if isinstance(inputs, (np.ndarray, list, tuple)) and not isinstance(inputs, Tensor):
        arr = np.asarray(inputs) if not isinstance(inputs, np.ndarray) else inputs
        if arr.dtype.kind in "iu":
            return Tensor(np.asarray(arr))
        if arr.dtype.kind in "OSU":  # a list of strings is one input, not several
            from chainrule.layers.preprocessing._ops import as_strings  # noqa: PLC0415

            return Tensor(np.asarray(as_strings(arr)))
    return inputs

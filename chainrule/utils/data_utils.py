"""Helpers that prepare arrays for training: one-hot labels, normalization, splits.

``to_categorical`` and ``normalize`` behave as ``keras.utils.to_categorical`` and
``keras.utils.normalize``; ``train_test_split`` follows scikit-learn's function of
the same name and can also carve out a validation set (train / validation /
test, as the lessons teach).

Example:
    >>> import numpy as np
    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.datasets.toys import _generator

__all__ = ["normalize", "to_categorical", "train_test_split"]


def _as_host_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a NumPy array, or raise a ValueError that names ``name``."""
    try:
        return backend.to_numpy(value)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"{name} must be an array or a rectangular nested list ({e}). "
            f"Received: {name} of type {type(value).__name__}"
        ) from None


def _summary(array: np.ndarray) -> str:
    return f"array of shape {array.shape} and dtype {array.dtype}"


def to_categorical(x: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """Convert integer class labels to one-hot rows.

    A trailing dimension of size 1 is dropped first, so labels of shape (n, 1)
    give (n, num_classes), as in Keras.

    Args:
        x: class labels: integers (or integral floats) in ``[0, num_classes)``, of
            any shape.
        num_classes: number of classes; defaults to ``max(x) + 1``.
        dtype: type of the result.

    Returns:
        An array of shape ``x.shape + (num_classes,)`` (after dropping a trailing
        1) with a 1 at each label's index and 0 elsewhere.

    Raises:
        ValueError: for labels that are negative, not integers, or not below
            ``num_classes``, and for an invalid ``num_classes``.
        TypeError: for a non-numeric ``x`` or an unknown ``dtype``.

    Example:
        >>> to_categorical([[1], [0]], num_classes=3)
        array([[0., 1., 0.],
               [1., 0., 0.]], dtype=float32)
    """
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy type name. Received: dtype={dtype!r}") from None
    if num_classes is not None and (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, numbers.Integral)
        or num_classes < 1
    ):
        raise ValueError(
            f"num_classes must be a positive integer or None. Received: num_classes={num_classes!r}"
        )
    labels = _as_host_array("x", x)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"x must hold integer class labels. Received: x with dtype {labels.dtype}")
    flat = labels.reshape(-1)
    if labels.dtype.kind == "f" and flat.size:
        bad = ~np.isfinite(flat) | (flat != np.floor(flat))
        if bad.any():
            raise ValueError(
                "x must hold integer class labels; found the non-integer value "
                f"{flat[bad][0].item()!r}. Received: x={_summary(labels)}"
            )
    if flat.size == 0 and num_classes is None:
        raise ValueError(
            "num_classes cannot be inferred from empty labels; pass it. "
            f"Received: x={_summary(labels)}, num_classes=None"
        )
    if flat.size:
        low, high = flat.min(), flat.max()
        if low < 0:
            raise ValueError(
                "x must hold non-negative class indices. "
                f"Received: x with values from {low} to {high}"
            )
        if num_classes is not None and high >= num_classes:
            raise ValueError(
                "x must hold class indices in [0, num_classes). "
                f"Received: x with values from {low} to {high}, num_classes={num_classes}"
            )
        if num_classes is None:
            num_classes = int(high) + 1
    num_classes = int(num_classes)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    index = flat.astype(np.int64)
    result = np.zeros((index.size, num_classes), dtype=out_dtype)
    result[np.arange(index.size), index] = 1
    return result.reshape(shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: float = 2) -> np.ndarray:
    """Scale vectors along ``axis`` to unit norm (``keras.utils.normalize``).

    Vectors whose norm is 0 are left as they are (all zeros).

    Args:
        x: an array with at least one dimension.
        axis: the axis along which each vector lies.
        order: the norm: 2 for Euclidean (L2), 1 for L1, ``numpy.inf`` for max.

    Returns:
        An array of the shape of ``x``; float inputs keep their dtype, integer
        inputs become ``backend.floatx()``.

    Raises:
        ValueError: for a 0-d ``x``, an axis out of range or a non-positive
            ``order``.
        TypeError: for a non-numeric ``x``.

    Example:
        >>> normalize([[3.0, 4.0], [0.0, 0.0]])
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    array = _as_host_array("x", x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"x must be numeric. Received: x with dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"x must have at least one dimension. Received: x={_summary(array)}")
    if (
        isinstance(axis, bool)
        or not isinstance(axis, numbers.Integral)
        or not -array.ndim <= axis < array.ndim
    ):
        raise ValueError(
            f"axis must be an integer in [{-array.ndim}, {array.ndim}) for an input of shape "
            f"{array.shape}. Received: axis={axis!r}"
        )
    if (
        isinstance(order, bool)
        or not isinstance(order, numbers.Real)
        or math.isnan(order)
        or order <= 0
    ):
        raise ValueError(
            f"order must be a positive number (2 for L2, 1 for L1, inf for max). "
            f"Received: order={order!r}"
        )
    if array.dtype.kind != "f":
        array = array.astype(backend.floatx())
    norm = np.linalg.norm(array, ord=order, axis=int(axis), keepdims=True)
    norm[norm == 0] = 1
    return array / norm.astype(array.dtype, copy=False)


def _split_count(name: str, size: Any, n: int) -> int:
    """Turn a split size (a fraction or a count) into a number of samples."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(
            f"{name} must be a fraction in (0, 1) or a number of samples. Received: {name}={size!r}"
        )
    if isinstance(size, numbers.Integral):
        if not 1 <= size < n:
            raise ValueError(
                f"{name}, as a number of samples, must be in [1, {n}) for {n} samples. "
                f"Received: {name}={size!r}"
            )
        return int(size)
    if not 0 < size < 1:  # also rejects nan
        raise ValueError(f"{name} must be in (0, 1). Received: {name}={size!r}")
    # Rounded up, as scikit-learn does; round() first so 0.07 * 100 gives 7, not 8.
    return math.ceil(round(float(size) * n, 9))


def _allocate(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainders)."""
    quota = counts * (total / counts.sum())
    base = np.minimum(np.floor(quota).astype(np.int64), counts)
    rest = total - int(base.sum())
    if rest > 0:
        # Largest fractional part first; ties broken at random, not by class order.
        order = np.lexsort((rng.random(len(counts)), -(quota - base)))
        for c in order:
            if rest == 0:
                break
            if base[c] < counts[c]:
                base[c] += 1
                rest -= 1
    return base


def _take(array: Any, index: np.ndarray) -> Any:
    if hasattr(array, "iloc"):  # pandas DataFrame / Series: keep the type
        return array.iloc[index]
    return array[index]


def train_test_split(
    *arrays: Any,
    test_size: float = 0.25,
    validation_size: float | None = None,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    stratify: Any = None,
) -> list[Any]:
    """Split arrays into training and test sets, and optionally a validation set.

    The training set is for fitting, the validation set for choosing between
    models and settings, and the test set for measuring the final model once.

    A fractional size is rounded up to whole samples (``ceil(size * n)``); an
    integer size is a number of samples. The training set gets the rest.

    Args:
        *arrays: arrays (or lists, or pandas objects) with the same first
            dimension.
        test_size: fraction in (0, 1) or number of samples for the test set.
        validation_size: fraction in (0, 1) or number of samples for a
            validation set; None for no validation set.
        shuffle: shuffle before splitting. Without shuffling the training set is
            the first samples, then validation, then test.
        seed: integer seed, a ``numpy.random.Generator``, or None for chainrule's
            generator (see ``chainrule.utils.set_random_seed``).
        stratify: class labels, one per sample; every split then keeps the class
            proportions (needs ``shuffle=True``).

    Returns:
        A list with, for each input array in order, its training and test parts
        (``x_train, x_test, y_train, y_test``), or its training, validation and
        test parts when ``validation_size`` is given
        (``x_train, x_val, x_test, y_train, y_val, y_test``).

    Raises:
        ValueError: for no arrays, arrays of different lengths, sizes out of
            range, or sizes that leave a split empty.
        TypeError: for sizes that are not numbers or a non-boolean ``shuffle``.

    Example:
        >>> import numpy as np
        >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
        >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.4, shuffle=False)
        >>> y_train.tolist(), y_test.tolist()
        ([0, 1, 2], [3, 4])
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array. Received: no arrays")
    data = []
    for i, array in enumerate(arrays):
        if not hasattr(array, "iloc") and not backend.is_array(array):
            array = _as_host_array(f"arrays[{i}]", array)
        if getattr(array, "ndim", 1) == 0:
            raise ValueError(
                f"arrays[{i}] must have at least one dimension (one entry per sample). "
                f"Received: arrays[{i}] of shape ()"
            )
        data.append(array)
    lengths = [len(a) for a in data]
    if len(set(lengths)) > 1:
        raise ValueError(
            "All arrays must have the same number of samples. "
            f"Received: arrays with lengths {lengths}"
        )
    n = lengths[0]
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False. Received: shuffle={shuffle!r}")

    n_test = _split_count("test_size", test_size, n)
    n_val = 0 if validation_size is None else _split_count("validation_size", validation_size, n)
    received = f"test_size={test_size!r}" + (
        f", validation_size={validation_size!r}" if validation_size is not None else ""
    )
    if (
        validation_size is not None
        and not isinstance(test_size, numbers.Integral)
        and not isinstance(validation_size, numbers.Integral)
        and test_size + validation_size >= 1
    ):
        raise ValueError(
            f"test_size + validation_size must be below 1, leaving samples to train on. "
            f"Received: {received}"
        )
    n_train = n - n_test - n_val
    empty = [
        what
        for what, count in (("training", n_train), ("test", n_test), ("validation", n_val))
        if count < 1 and (what != "validation" or validation_size is not None)
    ]
    if empty:
        given = f"{n_test} go to test" + (f" and {n_val} to validation" if n_val else "")
        hint = "smaller sizes" if empty[0] == "training" else f"a larger {empty[0]} size"
        raise ValueError(
            f"The split leaves the {empty[0]} set empty: of {n} samples, {given}. Use {hint} "
            f"or more samples. Received: n_samples={n}, {received}"
        )

    if stratify is not None:
        if not shuffle:
            raise ValueError(
                "stratify needs shuffle=True: a stratified split draws each class's samples "
                "at random. Received: shuffle=False"
            )
        labels = _as_host_array("stratify", stratify)
        if labels.ndim == 0 or len(labels) != n:
            raise ValueError(
                f"stratify must hold one label per sample ({n}). "
                f"Received: stratify={_summary(labels)}"
            )
        labels = labels.reshape(n, -1)
        _, class_of = np.unique(labels, axis=0, return_inverse=True)
        class_of = class_of.reshape(-1)
        counts = np.bincount(class_of)
        if counts.min() < 2:
            raise ValueError(
                "stratify: every class needs at least 2 samples to appear in both splits; "
                f"the smallest class has {int(counts.min())}. Received: stratify with "
                f"{len(counts)} classes of sizes {counts.tolist()}"
            )
        rng = _generator(seed)
        test_per_class = _allocate(counts, n_test, rng)
        val_per_class = _allocate(counts - test_per_class, n_val, rng) if n_val else 0 * counts
        parts: tuple[list, list, list] = ([], [], [])
        for c in range(len(counts)):
            members = rng.permutation(np.flatnonzero(class_of == c))
            t, v = test_per_class[c], val_per_class[c]
            parts[2].append(members[:t])
            parts[1].append(members[t : t + v])
            parts[0].append(members[t + v :])
        train_idx, val_idx, test_idx = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        order = _generator(seed).permutation(n) if shuffle else np.arange(n)
        train_idx = order[:n_train]
        val_idx = order[n_train : n_train + n_val]
        test_idx = order[n_train + n_val :]

    result = []
    for array in data:
        result.append(_take(array, train_idx))
        if validation_size is not None:
            result.append(_take(array, val_idx))
        result.append(_take(array, test_idx))
    return result

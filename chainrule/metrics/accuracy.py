"""Accuracy metrics: how often predictions match labels.

Each metric has a function form returning one value per sample (1.0 for a
match, 0.0 otherwise) and a class that averages it over batches. The classes
use private ``_*_matches`` helpers that return boolean arrays, so a training
batch costs one comparison and one count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.metrics._utils import (
    align_ranks,
    check_broadcastable,
    check_positive_int,
    to_numpy,
)
from chainrule.metrics.base import MeanMetricWrapper

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


def _check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"threshold must be a number. Received: threshold={threshold!r}")
    return float(threshold)


def _floatx(matches: np.ndarray) -> np.ndarray:
    return matches.astype(backend.floatx())


# --- element-wise accuracies ------------------------------------------------------------------


def _accuracy_matches(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = align_ranks(to_numpy(y_true), to_numpy(y_pred))
    check_broadcastable("accuracy", y_true, y_pred)  # Keras compares after broadcasting
    return y_true == y_pred


def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return 1.0 where ``y_pred`` equals ``y_true`` exactly, 0.0 elsewhere.

    Args:
        y_true: labels.
        y_pred: predicted labels, the same shape as ``y_true`` or one that
            broadcasts against it (a trailing axis of size 1 may be missing on
            one of them).

    Returns:
        An array of ``floatx`` with the shape of the aligned inputs.

    Example:
        >>> accuracy([1, 2, 3, 4], [0, 2, 3, 4])
        array([0., 1., 1., 1.], dtype=float32)
    """
    return _floatx(_accuracy_matches(y_true, y_pred))


def _binary_matches(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    y_true, y_pred = align_ranks(to_numpy(y_true), to_numpy(y_pred))
    check_broadcastable("binary_accuracy", y_true, y_pred)  # Keras compares after broadcasting
    return (y_pred > threshold) == y_true


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """Return 1.0 where ``y_pred > threshold`` agrees with the 0/1 label, 0.0 elsewhere.

    Args:
        y_true: 0/1 labels, shape ``(batch,)`` or ``(batch, d)``.
        y_pred: probabilities of the same shape or one that broadcasts against
            it (a trailing axis of size 1 may be missing on one of them); one
            probability per sample against several labels judges each label.
        threshold: predictions strictly above it count as 1. Use 0.0 for logits.

    Returns:
        An array of ``floatx`` with the shape of the aligned inputs.

    Example:
        >>> binary_accuracy([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]).ravel()
        array([1., 1., 1., 0.], dtype=float32)
    """
    return _floatx(_binary_matches(y_true, y_pred, _check_threshold(threshold)))


# --- categorical accuracies -------------------------------------------------------------------


def _check_class_axis(kind: str, y_pred: np.ndarray) -> None:
    if y_pred.ndim < 2:
        raise ValueError(
            f"{kind} expects predictions with a class axis, shape (batch, num_classes). "
            f"Received: y_pred.shape={y_pred.shape}"
        )


def _check_one_hot(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    _check_class_axis(kind, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{kind} expects one-hot labels of the same shape as the predictions, received "
            f"labels of shape {y_true.shape} for predictions of shape {y_pred.shape}. "
            f"For integer class labels use 'sparse_{kind}', or one-hot encode them "
            "with to_categorical."
        )


def _sparse_labels(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return integer labels of shape ``y_pred.shape[:-1]``, or raise naming both shapes."""
    _check_class_axis(f"sparse_{kind}", y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        if y_true.ndim == y_pred.ndim and y_true.shape == y_pred.shape:
            raise ValueError(
                f"sparse_{kind} expects integer class labels of shape (batch,) or (batch, 1), "
                f"received one-hot labels of shape {y_true.shape} for predictions of shape "
                f"{y_pred.shape}. Use '{kind}' for one-hot labels, or pass y.argmax(-1)."
            )
        raise ValueError(
            f"sparse_{kind} expects integer class labels of shape {y_pred.shape[:-1]} for "
            f"predictions of shape {y_pred.shape}. Received: y_true.shape={y_true.shape}"
        )
    return y_true


def _categorical_matches(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    _check_one_hot("categorical_accuracy", y_true, y_pred)
    return y_true.argmax(-1) == y_pred.argmax(-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return 1.0 where the arg-max of ``y_pred`` is the one-hot label's class.

    Args:
        y_true: one-hot labels, shape ``(batch, num_classes)``.
        y_pred: scores or probabilities of the same shape.

    Returns:
        An array of ``floatx`` of shape ``(batch,)``.

    Raises:
        ValueError: for labels that are not one-hot (integer labels).

    Example:
        >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        array([0., 1.], dtype=float32)
    """
    return _floatx(_categorical_matches(y_true, y_pred))


def _sparse_categorical_matches(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    y_true = _sparse_labels("categorical_accuracy", y_true, y_pred)
    return y_true == y_pred.argmax(-1)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return 1.0 where the arg-max of ``y_pred`` equals the integer label.

    Args:
        y_true: integer class labels, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: scores or probabilities, shape ``(batch, num_classes)``.

    Returns:
        An array of ``floatx`` of shape ``(batch,)``.

    Raises:
        ValueError: for one-hot labels, naming both shapes.

    Example:
        >>> sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        array([0., 1.], dtype=float32)
    """
    return _floatx(_sparse_categorical_matches(y_true, y_pred))


def _in_top_k(targets: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """True where the target's score is at least the k-th largest score (ties count in)."""
    num_classes = y_pred.shape[-1]
    scores = y_pred.reshape(-1, num_classes)
    targets = targets.reshape(-1).astype(np.intp, copy=False)
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(
            f"Class labels must be in [0, {num_classes}) for predictions of shape "
            f"{y_pred.shape}. Received labels in [{targets.min()}, {targets.max()}]"
        )
    k = min(k, num_classes)
    kth = np.partition(scores, num_classes - k, axis=-1)[:, num_classes - k]
    return scores[np.arange(scores.shape[0]), targets] >= kth


def _top_k_matches(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    _check_one_hot("top_k_categorical_accuracy", y_true, y_pred)
    targets = y_true.argmax(-1)
    return _in_top_k(targets, y_pred, k).reshape(targets.shape)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """Return 1.0 where the one-hot label's class is among the ``k`` highest scores.

    A class tied with the k-th highest score counts as in the top k (as in Keras).

    Args:
        y_true: one-hot labels, shape ``(batch, num_classes)``.
        y_pred: scores or probabilities of the same shape.
        k: how many of the highest scores to look at.

    Returns:
        An array of ``floatx`` of shape ``(batch,)``.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]],
        ...                            [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)
        array([0., 1.], dtype=float32)
    """
    return _floatx(_top_k_matches(y_true, y_pred, check_positive_int("k", k)))


def _sparse_top_k_matches(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> np.ndarray:
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if from_sorted_ids:
        # y_pred holds the ids of the top classes, best first.
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        if y_true.size != ids.shape[0]:
            raise ValueError(
                f"sparse_top_k_categorical_accuracy expects one label per row of y_pred. "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        return np.any(ids == y_true.reshape(-1, 1), axis=1).reshape(y_true.shape)
    labels = _sparse_labels("top_k_categorical_accuracy", y_true, y_pred)
    return _in_top_k(labels, y_pred, k).reshape(y_true.shape)


def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> np.ndarray:
    """Return 1.0 where the integer label is among the ``k`` highest scores.

    Args:
        y_true: integer class labels, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: scores of shape ``(batch, num_classes)``; or, with
            ``from_sorted_ids=True``, the ids of the top classes, best first.
        k: how many of the highest scores to look at.
        from_sorted_ids: whether ``y_pred`` holds sorted class ids.

    Returns:
        An array of ``floatx`` with the shape of ``y_true``.

    Example:
        >>> sparse_top_k_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)
        array([0., 1.], dtype=float32)
    """
    return _floatx(
        _sparse_top_k_matches(y_true, y_pred, check_positive_int("k", k), from_sorted_ids)
    )


# --- classes ----------------------------------------------------------------------------------


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    This compares values, it does not threshold or take an arg-max: for
    probabilities use ``BinaryAccuracy`` or ``CategoricalAccuracy`` (or the string
    ``'accuracy'`` in ``compile``, which picks one from the shapes).

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = Accuracy()
        >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
        >>> m.result()
        0.75
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(_accuracy_matches, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype'}``."""
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 labels.

    Args:
        name: the metric's name.
        dtype: the float type of results.
        threshold: predictions strictly above it count as 1 (use 0.0 for logits).

    Example:
        >>> m = BinaryAccuracy()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
        >>> m.result()
        0.75
        >>> m.reset_state()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
        ...                sample_weight=[1, 0, 0, 1])
        >>> m.result()
        0.5
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        threshold = _check_threshold(threshold)
        super().__init__(_binary_matches, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype', 'threshold'}``."""
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions is the one-hot label's class.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = CategoricalAccuracy()
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        ...                sample_weight=[0.7, 0.3])
        >>> round(m.result(), 6)
        0.3
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_categorical_matches, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype'}``."""
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions equals the integer label.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = SparseCategoricalAccuracy()
        >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(_sparse_categorical_matches, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype'}``."""
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores to look at.
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = TopKCategoricalAccuracy(k=1)
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        k = check_positive_int("k", k)
        super().__init__(_top_k_matches, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype', 'k'}``."""
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores to look at.
        name: the metric's name.
        dtype: the float type of results.
        from_sorted_ids: ``y_pred`` holds the ids of the top classes, best first.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1)
        >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        k = check_positive_int("k", k)
        super().__init__(
            _sparse_top_k_matches,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=bool(from_sorted_ids),
        )
        self.k = k
        self.from_sorted_ids = bool(from_sorted_ids)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype', 'k'}`` (and ``from_sorted_ids`` when set)."""
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config

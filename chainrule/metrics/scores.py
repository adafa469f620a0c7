"""F-scores, the R² score and intersection-over-union metrics (Keras's ``f_score_metrics``,
``R2Score`` and ``iou_metrics``).

Each keeps its running statistics in variables made with
:meth:`~chainrule.metrics.Metric.add_variable` (per-class counts, a confusion
matrix), in float64, and computes its value from them in ``result``.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from chainrule.metrics._utils import check_positive_int, float_array, to_numpy
from chainrule.metrics.base import Metric

__all__ = [
    "BinaryIoU",
    "F1Score",
    "FBetaScore",
    "IoU",
    "MeanIoU",
    "OneHotIoU",
    "OneHotMeanIoU",
    "R2Score",
]

_EPSILON = 1e-7  # Keras's backend.epsilon(), used by these metrics' divisions


def _weights(sample_weight: Any, n: int, name: str) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    sw = float_array(sample_weight).reshape(-1) if np.ndim(sample_weight) else np.full(
        n, float(sample_weight))
    if sw.shape[0] != n:
        raise ValueError(f"{name}: sample_weight needs one weight per sample ({n}). "
                         f"Received: sample_weight of shape {np.shape(sample_weight)}")
    return sw


class FBetaScore(Metric):
    """The F-beta score per class (or averaged): ``(1 + β²)·P·R / (β²·P + R)``.

    Labels are one-hot or multi-hot, shape ``(batch, classes)``.

    Args:
        average: None (one score per class), ``'micro'`` (from the counts summed
            over classes), ``'macro'`` (the mean of the class scores) or
            ``'weighted'`` (weighted by each class's count of true labels).
        beta: the weight of recall relative to precision (> 0).
        threshold: predictions above it count as positive; None: the largest
            prediction of each row is the positive one.
        name: the metric's name.
        dtype: the float type of results.

    Example (Keras's documented numbers):
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
        >>> [round(float(v), 4) for v in m.result()]
        [0.3846, 0.9091, 0.8333]
    """

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score",
                 dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("average must be None, 'micro', 'macro' or 'weighted'. "
                             f"Received: average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"beta must be a number greater than 0. Received: beta={beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(
                threshold, (int, float)) or not 0 < threshold <= 1):
            raise ValueError("threshold must be None or a number in (0, 1]. "
                             f"Received: threshold={threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._built_classes: int | None = None

    def _build(self, num_classes: int) -> None:
        self.true_positives = self.add_variable((num_classes,), name="true_positives",
                                                dtype="float64")
        self.false_positives = self.add_variable((num_classes,), name="false_positives",
                                                 dtype="float64")
        self.false_negatives = self.add_variable((num_classes,), name="false_negatives",
                                                 dtype="float64")
        self.intermediate_weights = self.add_variable((num_classes,), dtype="float64",
                                                      name="intermediate_weights")
        self._built_classes = num_classes

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the true/false positives and false negatives of one batch, per class.

        Args:
            y_true: one-hot or multi-hot labels, ``(batch, classes)``.
            y_pred: scores, ``(batch, classes)``.
            sample_weight: None, or one weight per sample.

        Raises:
            ValueError: for inputs that are not 2-D of the same shape.
        """
        y_true, y_pred = float_array(y_true), float_array(y_pred)
        if y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name} expects y_true and y_pred of the same shape "
                             f"(batch, classes). Received: y_true.shape={y_true.shape}, "
                             f"y_pred.shape={y_pred.shape}")
        if self._built_classes is None:
            self._build(y_pred.shape[-1])
        elif y_pred.shape[-1] != self._built_classes:
            raise ValueError(f"{self.name} was built for {self._built_classes} classes. "
                             f"Received: y_pred.shape={y_pred.shape}")
        if self.threshold is None:
            pred = (y_pred >= y_pred.max(axis=-1, keepdims=True)).astype(np.float64)
        else:
            pred = (y_pred > self.threshold).astype(np.float64)
        sw = _weights(sample_weight, len(y_true), self.name)[:, None]
        self.true_positives.assign_add((pred * y_true * sw).sum(axis=0))
        self.false_positives.assign_add((pred * (1 - y_true) * sw).sum(axis=0))
        self.false_negatives.assign_add(((1 - pred) * y_true * sw).sum(axis=0))
        self.intermediate_weights.assign_add((y_true * sw).sum(axis=0))

    def result(self) -> Any:
        """The score: an array with one value per class, or a float when averaged."""
        if self._built_classes is None:
            return 0.0
        tp, fp, fn = (v.numpy() for v in (self.true_positives, self.false_positives,
                                          self.false_negatives))
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            w = self.intermediate_weights.numpy()
            return float((score * w / (w.sum() + _EPSILON)).sum())
        if self.average is not None:
            return float(np.mean(score))
        return score.astype(self.dtype)

    def reset_state(self) -> None:
        """Set every count back to zero."""
        for v in self.variables:
            v.assign(np.zeros(v.shape))

    def get_config(self) -> dict:
        """Return name, dtype, average, beta and threshold."""
        return {"name": self.name, "dtype": self.dtype, "average": self.average,
                "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score, the harmonic mean of precision and recall (:class:`FBetaScore`, β = 1).

    Example (Keras's documented numbers):
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
        >>> [round(float(v), 4) for v in m.result()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """Return name, dtype, average and threshold."""
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """The coefficient of determination R² = 1 − SS_res / SS_tot, per output then aggregated.

    Args:
        class_aggregation: ``'uniform_average'`` (the mean over outputs),
            ``'variance_weighted_average'`` (weighted by each output's variance)
            or None (one score per output).
        num_regressors: the number of independent regressors, for the adjusted R²
            (0: plain R²).
        name: the metric's name.
        dtype: the float type of results.

    Example (Keras's documented numbers):
        >>> m = R2Score()
        >>> m.update_state(np.array([[1], [4], [3]]), np.array([[2], [4], [4]]))
        >>> round(m.result(), 5)
        0.57143
    """

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError("class_aggregation must be None, 'uniform_average' or "
                             "'variance_weighted_average'. Received: "
                             f"class_aggregation={class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(
                num_regressors, (int, np.integer)) or num_regressors < 0:
            raise ValueError("num_regressors must be a non-negative integer. "
                             f"Received: num_regressors={num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        self._outputs: int | None = None

    def _build(self, n: int) -> None:
        for name in ("squared_sum", "sum", "total_mse", "count"):
            setattr(self, name, self.add_variable((n,), name=name, dtype="float64"))
        self.num_samples = self.add_variable((), name="num_samples", dtype="float64")
        self._outputs = n

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch's sums.

        Args:
            y_true: targets, ``(batch,)`` or ``(batch, outputs)``.
            y_pred: predictions of the same shape.
            sample_weight: None, or one weight per sample.

        Raises:
            ValueError: when the shapes differ or the number of outputs changes.
        """
        y_true, y_pred = float_array(y_true), float_array(y_pred)
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        if y_true.shape != y_pred.shape or y_true.ndim != 2:
            raise ValueError(f"{self.name} expects y_true and y_pred of the same shape "
                             f"(batch, outputs). Received: y_true.shape={y_true.shape}, "
                             f"y_pred.shape={y_pred.shape}")
        if self._outputs is None:
            self._build(y_true.shape[1])
        elif y_true.shape[1] != self._outputs:
            raise ValueError(f"{self.name} was built for {self._outputs} outputs. "
                             f"Received: y_true.shape={y_true.shape}")
        sw = _weights(sample_weight, len(y_true), self.name)[:, None]
        weighted = y_true * sw
        self.sum.assign_add(weighted.sum(axis=0))
        self.squared_sum.assign_add((y_true * weighted).sum(axis=0))
        self.total_mse.assign_add(((y_true - y_pred) ** 2 * sw).sum(axis=0))
        self.count.assign_add(np.broadcast_to(sw, y_true.shape).sum(axis=0))
        self.num_samples.assign_add(float(y_true.size))  # Keras counts every value

    def result(self) -> Any:
        """R² (a float, or an array per output with ``class_aggregation=None``)."""
        if self._outputs is None:
            return 0.0
        total_sum, count = self.sum.numpy(), self.count.numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total_sum / count
            total = self.squared_sum.numpy() - total_sum * mean
            raw = 1 - self.total_mse.numpy() / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2: Any = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            r2 = float(np.sum(total * raw) / np.sum(total))
        else:
            r2 = raw
        p, n = self.num_regressors, float(self.num_samples.numpy())
        if p:
            if p > n - 1:
                warnings.warn("More independent predictors than data points; the adjusted "
                              "R2 score is not defined and the plain one is returned.",
                              UserWarning, stacklevel=2)
            elif p == n - 1:
                warnings.warn("As many independent predictors as data points - 1; the "
                              "adjusted R2 score is not defined and the plain one is returned.",
                              UserWarning, stacklevel=2)
            else:
                r2 = 1 - (1 - r2) * (n - 1) / (n - p - 1)
        return r2

    def reset_state(self) -> None:
        """Set every sum back to zero."""
        for v in self.variables:
            v.assign(np.zeros(v.shape))

    def get_config(self) -> dict:
        """Return name, dtype, class_aggregation and num_regressors."""
        return {"name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class _IoUBase(Metric):
    """A confusion matrix of class ids accumulated over batches (rows: true, columns: predicted)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_positive_int("num_classes", num_classes)
        if ignore_class is not None and (isinstance(ignore_class, bool) or not isinstance(
                ignore_class, (int, np.integer))):
            raise ValueError(f"ignore_class must be None or a class id. "
                             f"Received: ignore_class={ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.sparse_y_true, self.sparse_y_pred = bool(sparse_y_true), bool(sparse_y_pred)
        self.axis = int(axis)
        self.total_cm = self.add_variable((self.num_classes, self.num_classes),
                                          name="total_confusion_matrix", dtype="float64")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch to the confusion matrix.

        Args:
            y_true: class ids (or one-hot with ``sparse_y_true=False``).
            y_pred: class ids (or scores with ``sparse_y_pred=False``).
            sample_weight: None, or weights of ``y_true``'s shape.

        Raises:
            ValueError: for class ids outside ``[0, num_classes)`` or sizes that differ.
        """
        y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        t = np.asarray(y_true, dtype=np.float64).reshape(-1).astype(np.int64)
        p = np.asarray(y_pred, dtype=np.float64).reshape(-1).astype(np.int64)
        if t.shape != p.shape:
            raise ValueError(f"{self.name} expects as many predictions as labels. Received: "
                             f"y_true with {t.size} values, y_pred with {p.size}")
        sw = _weights(sample_weight, t.size, self.name)
        if self.ignore_class is not None:
            keep = t != self.ignore_class
            t, p, sw = t[keep], p[keep], sw[keep]
        n = self.num_classes
        outside = [f"{what} values {sorted({int(v) for v in a[(a < 0) | (a >= n)]})[:5]}"
                   for what, a in (("y_true", t), ("y_pred", p)) if ((a < 0) | (a >= n)).any()]
        if outside:
            raise ValueError(f"{self.name}: class ids must be in [0, {n}). Received: "
                             + " and ".join(outside))
        cm = np.zeros((n, n))
        np.add.at(cm, (t, p), sw)
        self.total_cm.assign_add(cm)

    def reset_state(self) -> None:
        """Set the confusion matrix back to zeros."""
        self.total_cm.assign(np.zeros((self.num_classes, self.num_classes)))

    def _iou(self, target_class_ids: Sequence[int]) -> float:
        cm = self.total_cm.numpy()
        tp = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - tp
        ids = np.asarray(target_class_ids, dtype=np.int64)
        tp, denominator = tp[ids], denominator[ids]
        valid = float(np.sum(denominator > 1e-9))
        iou = tp / (denominator + _EPSILON)
        return float(np.sum(iou) / (valid + _EPSILON))

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def _target_ids(target_class_ids: Any, num_classes: int) -> list[int]:
    try:
        ids = [int(i) for i in target_class_ids]
    except (TypeError, ValueError):
        ids = None
    if not ids or any(not 0 <= i < num_classes for i in ids):
        raise ValueError(f"target_class_ids must be a non-empty list of class ids in "
                         f"[0, {num_classes}). Received: target_class_ids={target_class_ids!r}")
    return ids


class IoU(_IoUBase):
    """Intersection over union, ``TP / (TP + FP + FN)``, averaged over the target classes.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: the metric's name.
        dtype: the float type of results.
        ignore_class: a class id whose labels are left out.
        sparse_y_true: labels are class ids (False: one-hot along ``axis``).
        sparse_y_pred: predictions are class ids (False: scores along ``axis``).
        axis: the class axis of one-hot labels or scores.

    Example (Keras's documented numbers):
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(m.result(), 5)
        0.33333
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        self.target_class_ids = _target_ids(target_class_ids, self.num_classes)

    def result(self) -> float:
        """The mean IoU of the target classes (classes never seen are left out)."""
        return self._iou(self.target_class_ids)

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        return {**super().get_config(), "target_class_ids": self.target_class_ids}


class MeanIoU(_IoUBase):
    """The IoU averaged over all classes (see :class:`IoU`).

    Example (Keras's documented numbers):
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
        >>> round(m.result(), 5)
        0.2381
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def result(self) -> float:
        """The mean IoU over the classes (classes never seen are left out)."""
        return self._iou(range(self.num_classes))


class BinaryIoU(IoU):
    """IoU for binary labels and probabilities: predictions at or above ``threshold`` are 1.

    Args:
        target_class_ids: which of the classes 0 and 1 to average.
        threshold: the probability from which a prediction counts as class 1.
        name: the metric's name.
        dtype: the float type of results.

    Example (Keras's documented numbers):
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(m.result(), 5)
        0.33333
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Threshold the probabilities, then add the batch (see :meth:`IoU.update_state`)."""
        pred = (float_array(y_pred) >= self.threshold).astype(np.float64)
        super().update_state(float_array(y_true), pred, sample_weight)

    def get_config(self) -> dict:
        """Return name, dtype, target_class_ids and threshold."""
        return {"name": self.name, "dtype": self.dtype,
                "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels and class scores (arg-max along ``axis``).

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state(np.eye(3)[[0, 0, 1, 2]], np.eye(3)[[0, 1, 1, 2]])
        >>> round(m.result(), 4)
        0.75
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels and class scores (arg-max along ``axis``).

    Example:
        >>> m = OneHotMeanIoU(num_classes=2)
        >>> m.update_state(np.eye(2)[[0, 0, 1, 1]], np.eye(2)[[0, 1, 0, 1]])
        >>> round(m.result(), 5)
        0.33333
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        """Return the constructor arguments."""
        config = super().get_config()
        del config["sparse_y_true"]
        return config

"""Confusion-matrix metrics: true/false positive/negative counts, precision, recall, AUC.

A prediction counts as positive at threshold ``t`` when ``y_pred > t``
(strictly); a label counts as positive when it is non-zero. Counts are
weighted by ``sample_weight`` and accumulated over batches as float64 arrays
with one entry per threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.metrics._utils import (
    align_ranks,
    broadcast_weight,
    check_positive_int,
    check_same_shape,
    divide_no_nan,
    float_array,
)
from chainrule.metrics.base import Metric

__all__ = [
    "AUC",
    "FalseNegatives",
    "FalsePositives",
    "Precision",
    "Recall",
    "TrueNegatives",
    "TruePositives",
]

#: The threshold used with ``top_k``: every kept prediction is above it (Keras's NEG_INF).
NEG_INF = -1e10


def _parse_thresholds(thresholds: Any, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    if not values:
        raise ValueError(f"thresholds must not be empty. Received: thresholds={thresholds!r}")
    for t in values:
        if isinstance(t, bool) or not isinstance(t, (int, float, np.number)) or not 0 <= t <= 1:
            raise ValueError(
                f"thresholds must be numbers in [0, 1]. Received: thresholds={thresholds!r}"
            )
    return [float(t) for t in values]


def _check_class_id(class_id: Any) -> int | None:
    if class_id is None:
        return None
    if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0:
        raise ValueError(
            f"class_id must be None or a non-negative integer. Received: class_id={class_id!r}"
        )
    return int(class_id)


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` largest values of the last axis; set the others to ``NEG_INF``."""
    if k >= x.shape[-1]:
        return x
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, x, NEG_INF)


def _prepare(
    kind: str,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    top_k: int | None = None,
    class_id: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Align labels, predictions and weights (Keras's rules); apply ``top_k`` and ``class_id``.

    Returns:
        ``(positive, y_pred, weight)``: a boolean array of positive labels, the
        predictions, and the weights broadcast to their shape (or None).
    """
    y_pred, y_true = align_ranks(float_array(y_pred), float_array(y_true))
    check_same_shape(kind, y_true, y_pred)
    if sample_weight is not None:
        sample_weight = float_array(sample_weight)[..., None]
        _, sample_weight = align_ranks(y_true, sample_weight, expand_rank_1=False)
        sample_weight = broadcast_weight(sample_weight, y_pred.shape)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(
                f"{kind} with class_id expects predictions of shape (batch, num_classes). "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        if class_id >= y_pred.shape[-1]:
            raise ValueError(
                f"class_id must be less than the number of classes, {y_pred.shape[-1]}. "
                f"Received: class_id={class_id}"
            )
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        if sample_weight is not None:
            sample_weight = sample_weight[..., class_id]
    return y_true != 0, y_pred, sample_weight


def _confusion_counts(
    positive: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Weighted ``(tp, fp, total_positive, total_negative)`` at each threshold.

    One ``(num_thresholds, batch)`` comparison and two matrix-vector products;
    used for the short threshold lists of precision, recall and the counts.
    """
    positive = positive.ravel()
    above = y_pred.ravel()[None, :] > thresholds[:, None]
    if weight is None:  # counting booleans is several times cheaper than weighting
        tp = (above & positive).sum(axis=1, dtype=np.float64)
        fp = above.sum(axis=1, dtype=np.float64) - tp
        n_pos = float(np.count_nonzero(positive))
        return tp, fp, n_pos, float(positive.size) - n_pos
    weight = weight.ravel()
    w_pos = np.where(positive, weight, 0.0)
    w_neg = weight - w_pos
    above = above.astype(np.float64)
    return above @ w_pos, above @ w_neg, float(w_pos.sum()), float(w_neg.sum())


class _ThresholdMetric(Metric):
    """Shared state handling for metrics that count at a list of thresholds."""

    _counts: tuple[str, ...] = ()

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else check_positive_int("top_k", top_k)
        self.class_id = _check_class_id(class_id)
        default = 0.5 if self.top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default)
        self._thr = np.asarray(self.thresholds, dtype=self.dtype)
        self.reset_state()

    def reset_state(self) -> None:
        """Set every count back to 0."""
        for count in self._counts:
            setattr(self, count, np.zeros(len(self.thresholds)))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the weighted counts of one batch.

        Args:
            y_true: labels (non-zero is positive), the shape of ``y_pred``.
            y_pred: predictions, typically probabilities in ``[0, 1]``.
            sample_weight: None, a scalar, one weight per sample, or weights of
                the shape of ``y_pred``.
        """
        positive, y_pred, weight = _prepare(
            self.name, y_true, y_pred, sample_weight, self.top_k, self.class_id
        )
        y_pred = y_pred.astype(self.dtype, copy=False)
        tp, fp, n_pos, n_neg = _confusion_counts(positive, y_pred, weight, self._thr)
        values = {
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": n_pos - tp,
            "true_negatives": n_neg - fp,
        }
        for count in self._counts:
            setattr(self, count, getattr(self, count) + values[count])

    def _output(self, value: np.ndarray) -> Any:
        return float(value[0]) if len(self.thresholds) == 1 else value.astype(self.dtype)

    def get_config(self) -> dict:
        """Return name, dtype, thresholds, top_k and class_id."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class _ConditionCount(_ThresholdMetric):
    """A single weighted count of the confusion matrix."""

    _count = ""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> Any:
        """Return the count (a float for one threshold, an array for several)."""
        return self._output(getattr(self, self._count))

    def get_config(self) -> dict:
        """Return name, dtype and thresholds."""
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted number of positive labels predicted above the threshold.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; default 0.5.
        name: the metric's name.
        dtype: the float type of array results.

    Example:
        >>> m = TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> m.result()
        2.0
    """

    _counts = ("true_positives",)
    _count = "true_positives"


class FalsePositives(_ConditionCount):
    """The weighted number of negative labels predicted above the threshold.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; default 0.5.
        name: the metric's name.
        dtype: the float type of array results.

    Example:
        >>> m = FalsePositives()
        >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1])
        >>> m.result()
        2.0
    """

    _counts = ("false_positives",)
    _count = "false_positives"


class TrueNegatives(_ConditionCount):
    """The weighted number of negative labels predicted at or below the threshold.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; default 0.5.
        name: the metric's name.
        dtype: the float type of array results.

    Example:
        >>> m = TrueNegatives()
        >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 0])
        >>> m.result()
        2.0
    """

    _counts = ("true_negatives",)
    _count = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The weighted number of positive labels predicted at or below the threshold.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; default 0.5.
        name: the metric's name.
        dtype: the float type of array results.

    Example:
        >>> m = FalseNegatives()
        >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0])
        >>> m.result()
        2.0
    """

    _counts = ("false_negatives",)
    _count = "false_negatives"


class Precision(_ThresholdMetric):
    """``tp / (tp + fp)``: the fraction of positive predictions that are right.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; predictions
            strictly above a threshold are positive. Default 0.5 (or every kept
            prediction when ``top_k`` is set). Use 0 with logits. With a list,
            :meth:`result` returns one value per threshold.
        top_k: only the ``k`` highest predictions of each sample can be positive.
        class_id: compute the metric for this class (last axis) only.
        name: the metric's name. Defaults to ``'precision'``.
        dtype: the float type of array results.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 6)
        0.666667
    """

    _counts = ("true_positives", "false_positives")

    def result(self) -> Any:
        """Return the precision so far (0.0 where nothing was predicted positive)."""
        tp = self.true_positives
        return self._output(divide_no_nan(tp, tp + self.false_positives))


class Recall(_ThresholdMetric):
    """``tp / (tp + fn)``: the fraction of positive labels that are found.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; predictions
            strictly above a threshold are positive. Default 0.5 (or every kept
            prediction when ``top_k`` is set). Use 0 with logits. With a list,
            :meth:`result` returns one value per threshold.
        top_k: only the ``k`` highest predictions of each sample can be positive.
        class_id: compute the metric for this class (last axis) only.
        name: the metric's name. Defaults to ``'recall'``.
        dtype: the float type of array results.

    Example:
        >>> m = Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 6)
        0.666667
    """

    _counts = ("true_positives", "false_negatives")

    def result(self) -> Any:
        """Return the recall so far (0.0 where there was no positive label)."""
        tp = self.true_positives
        return self._output(divide_no_nan(tp, tp + self.false_negatives))


_CURVES = ("ROC", "PR", "PRGAIN")
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _evenly_spaced(thresholds: np.ndarray) -> bool:
    """Keras's test for thresholds ``i / (n - 1)`` (within epsilon), which allow bucketing."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated on fixed thresholds.

    Predictions (clipped to ``[0, 1]``) are counted into ``num_thresholds``
    buckets: thresholds ``i / (num_thresholds - 1)``, the first moved to
    ``-epsilon`` and the last to ``1 + epsilon`` so that 0 and 1 fall inside.
    :meth:`result` sums the curve over the thresholds as Keras does: the
    trapezoid rule for ``'interpolation'`` on ROC, Davis & Goadrich's
    interpolation of the counts for PR, the lower or upper Riemann sum for
    ``'minoring'`` or ``'majoring'``.

    Args:
        num_thresholds: the number of thresholds, an integer > 1.
        curve: ``'ROC'`` (default), ``'PR'`` or ``'PRGAIN'``.
        summation_method: ``'interpolation'`` (default), ``'minoring'`` or ``'majoring'``.
        name: the metric's name. Defaults to ``'auc'``.
        dtype: the float type in which predictions are compared with thresholds.
        thresholds: optional explicit thresholds in ``[0, 1]``; replaces
            ``num_thresholds`` (the end points ``-epsilon`` and ``1 + epsilon`` are added).
        multi_label: compute one AUC per label (last axis) and average them,
            instead of flattening the labels into one curve.
        num_labels: the number of labels when ``multi_label`` (else read from
            the first batch).
        label_weights: non-negative weights per label: of each label's AUC in
            the average when ``multi_label``, of each label's points otherwise.
        from_logits: apply a sigmoid to the predictions first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Sequence[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if not isinstance(curve, str) or curve.upper() not in _CURVES:
            raise ValueError(
                f"curve must be one of 'ROC', 'PR', 'PRGAIN'. Received: curve={curve!r}"
            )
        if not isinstance(summation_method, str) or summation_method.lower() not in _SUMMATIONS:
            raise ValueError(
                "summation_method must be one of 'interpolation', 'majoring', 'minoring'. "
                f"Received: summation_method={summation_method!r}"
            )
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self._init_from_thresholds = thresholds is not None
        eps = backend.epsilon()
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced(np.array([0.0, *inner, 1.0]))
        else:
            if (
                isinstance(num_thresholds, bool)
                or not isinstance(num_thresholds, (int, np.integer))
                or num_thresholds <= 1
            ):
                raise ValueError(
                    "num_thresholds must be an integer greater than 1. "
                    f"Received: num_thresholds={num_thresholds!r}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - eps, *inner, 1.0 + eps])
        self._thr = self._thresholds.astype(self.dtype)

        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError(
                "num_labels is only used with multi_label=True. "
                f"Received: num_labels={num_labels!r}"
            )
        self.num_labels = (
            None if num_labels is None else check_positive_int("num_labels", num_labels)
        )
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64)
            if label_weights.ndim != 1 or np.any(label_weights < 0):
                raise ValueError(
                    "label_weights must be a 1-D list of non-negative weights, one per label. "
                    f"Received: label_weights={label_weights.tolist()!r}"
                )
        self.label_weights = label_weights
        self.from_logits = bool(from_logits)
        self._num_labels = self.num_labels
        self.true_positives = self.false_positives = None
        self.true_negatives = self.false_negatives = None
        if not self.multi_label or self.num_labels is not None:
            self.reset_state()

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, end points included."""
        return self._thresholds.tolist()

    def reset_state(self) -> None:
        """Set the four counts back to 0 (they are created at the first batch for
        ``multi_label`` without ``num_labels``)."""
        if self.multi_label and self._num_labels is None:
            return
        shape = (
            (self.num_thresholds, self._num_labels) if self.multi_label else (self.num_thresholds,)
        )
        self.true_positives = np.zeros(shape)
        self.false_positives = np.zeros(shape)
        self.true_negatives = np.zeros(shape)
        self.false_negatives = np.zeros(shape)

    def _bucket(self, y_pred: np.ndarray) -> np.ndarray:
        """Return how many thresholds each prediction is strictly above (0..num_thresholds)."""
        t = self.num_thresholds
        if self._evenly:
            # Keras's bucketing: the prediction p exceeds thresholds 0..ceil(p (t-1)) - 1.
            scaled = np.ceil(y_pred * self._thr.dtype.type(t - 1))
            return np.maximum(scaled.astype(np.intp), 1)
        return np.searchsorted(self._thr, y_pred, side="left")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the weighted confusion counts of one batch at every threshold.

        Args:
            y_true: labels (non-zero is positive), the shape of ``y_pred``.
            y_pred: probabilities (or logits with ``from_logits=True``).
            sample_weight: None, a scalar, one weight per sample, or weights of
                the shape of ``y_pred``.
        """
        positive, y_pred, weight = _prepare(self.name, y_true, y_pred, sample_weight)
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid without overflow
        y_pred = np.clip(y_pred.astype(self.dtype, copy=False), 0.0, 1.0)
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(
                    "AUC with multi_label=True expects predictions of shape (batch, num_labels). "
                    f"Received: y_pred.shape={y_pred.shape}"
                )
            if self._num_labels is None:
                self._num_labels = y_pred.shape[1]
                self.reset_state()
            elif y_pred.shape[1] != self._num_labels:
                raise ValueError(
                    f"AUC with multi_label=True was built for {self._num_labels} labels. "
                    f"Received: y_pred.shape={y_pred.shape}"
                )
        if weight is None:
            weight = np.ones(y_pred.shape)
        if self.label_weights is not None and not self.multi_label:
            if y_pred.shape[-1:] != self.label_weights.shape:
                raise ValueError(
                    f"label_weights has {self.label_weights.shape[0]} entries but the "
                    f"predictions have shape {y_pred.shape}: pass one weight per label (last axis)."
                )
            weight = weight * self.label_weights
        w_pos = np.where(positive, weight, 0.0)
        w_neg = weight - w_pos
        buckets = self._bucket(y_pred)
        n_bins = self.num_thresholds + 1
        if self.multi_label:
            labels = y_pred.shape[1]
            buckets = (buckets + n_bins * np.arange(labels)).ravel()
            hist_shape = (labels, n_bins)
        else:
            labels = 1
            buckets = buckets.ravel()
            hist_shape = (n_bins,)

        def above(w: np.ndarray) -> np.ndarray:
            # hist[..., b]: weight of predictions above exactly b thresholds; the count at
            # threshold j is the weight above more than j thresholds (a reversed cumsum).
            hist = np.bincount(buckets, weights=w.ravel(), minlength=n_bins * labels)
            suffix = np.cumsum(hist.reshape(hist_shape)[..., ::-1], axis=-1)[..., ::-1]
            return suffix[..., 1:].T

        tp, fp = above(w_pos), above(w_neg)
        axis = 0 if self.multi_label else None
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += w_pos.sum(axis=axis) - tp
        self.true_negatives += w_neg.sum(axis=axis) - fp

    def _reduce_labels(self, per_threshold: np.ndarray) -> float:
        by_label = per_threshold.sum(axis=0)
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def interpolate_pr_auc(self) -> float:
        """PR-AUC with the precision interpolated between thresholds (Davis & Goadrich, 2006).

        Within each interval the true positives ``TP`` and the predicted
        positives ``P = TP + FP`` are taken to vary linearly, so the precision
        ``TP / P`` follows ``(TP_A + slope (P - P_A)) / P``, whose integral over
        the recall has the closed form used here.

        Returns:
            The area under the interpolated precision-recall curve.
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increment = divide_no_nan(
            slope * (dtp + intercept * np.log(ratio)),
            np.maximum(tp[1:] + fn[1:], 0),
        )
        return self._reduce_labels(increment)

    def result(self) -> float:
        """Return the area under the curve over every batch since the last reset."""
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN: precision and recall gains (Flach & Kull, 2015)
            scale = divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._reduce_labels((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        """Return the constructor arguments (``thresholds`` only when given)."""
        config = {
            "name": self.name,
            "dtype": self.dtype,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

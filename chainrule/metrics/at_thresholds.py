"""One rate at the best threshold where another reaches a bound (Keras's
``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall``,
``RecallAtPrecision``).

The four confusion counts are accumulated at ``num_thresholds`` evenly spaced
thresholds in ``[0, 1]`` (a prediction counts at the thresholds it is strictly
above, bucketed as Keras does); ``result`` returns the largest value of the
dependent rate over the thresholds where the constrained rate is at least the
bound, or 0 when no threshold satisfies it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.metrics._utils import divide_no_nan
from chainrule.metrics.base import Metric
from chainrule.metrics.confusion import _check_class_id, _prepare

__all__ = ["PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
           "SpecificityAtSensitivity"]


class _AtThreshold(Metric):
    _bound_name = "value"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{self._bound_name} must be a number in [0, 1]. "
                             f"Received: {self._bound_name}={value!r}")
        if isinstance(num_thresholds, bool) or not isinstance(
                num_thresholds, (int, np.integer)) or num_thresholds <= 0:
            raise ValueError("num_thresholds must be a positive integer. "
                             f"Received: num_thresholds={num_thresholds!r}")
        self.value = float(value)
        self.num_thresholds = int(num_thresholds)
        self.class_id = _check_class_id(class_id)
        if self.num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        for count in ("true_positives", "true_negatives", "false_positives",
                      "false_negatives"):
            setattr(self, count, self.add_variable((self.num_thresholds,), name=count,
                                                   dtype="float64"))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the weighted confusion counts of one batch at every threshold.

        Args:
            y_true: labels (non-zero is positive), the shape of ``y_pred``.
            y_pred: probabilities in ``[0, 1]``.
            sample_weight: None, one weight per sample, or weights of ``y_pred``'s shape.
        """
        positive, y_pred, weight = _prepare(self.name, y_true, y_pred, sample_weight,
                                            None, self.class_id)
        y_pred = np.clip(y_pred.astype(self.dtype, copy=False), 0.0, 1.0).ravel()
        positive = positive.ravel()
        weight = np.ones(y_pred.shape) if weight is None else weight.ravel()
        t = self.num_thresholds
        if t == 1:
            above = (y_pred > 0.5).astype(np.intp)  # above threshold 0 or none
        else:
            # Keras's bucketing: p is above thresholds 0 .. ceil(p (t - 1)) - 1
            above = np.ceil(y_pred * y_pred.dtype.type(t - 1)).astype(np.intp)
        w_pos = np.where(positive, weight, 0.0)
        w_neg = weight - w_pos

        def counts(w: np.ndarray) -> np.ndarray:
            hist = np.bincount(above, weights=w, minlength=t + 1)
            return np.cumsum(hist[::-1])[::-1][1:]  # the weight above more than j thresholds

        tp, fp = counts(w_pos), counts(w_neg)
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.false_negatives.assign_add(w_pos.sum() - tp)
        self.true_negatives.assign_add(w_neg.sum() - fp)

    def _rates(self) -> dict:
        tp, tn, fp, fn = (v.numpy() for v in (self.true_positives, self.true_negatives,
                                              self.false_positives, self.false_negatives))
        return {"sensitivity": divide_no_nan(tp, tp + fn),
                "specificity": divide_no_nan(tn, tn + fp),
                "precision": divide_no_nan(tp, tp + fp)}

    def _max_where(self, constrained: np.ndarray, dependent: np.ndarray) -> float:
        feasible = constrained >= self.value
        return float(np.max(np.where(feasible, dependent, 0.0))) if feasible.any() else 0.0

    def reset_state(self) -> None:
        """Set every count back to 0."""
        for v in self.variables:
            v.assign(np.zeros(v.shape))

    def get_config(self) -> dict:
        """Return name, dtype, the bound, num_thresholds and class_id."""
        return {"name": self.name, "dtype": self.dtype, self._bound_name: self.value,
                "num_thresholds": self.num_thresholds, "class_id": self.class_id}


class SensitivityAtSpecificity(_AtThreshold):
    """The best sensitivity (recall) among the thresholds whose specificity is >= ``specificity``.

    Args:
        specificity: the bound, in ``[0, 1]``.
        num_thresholds: evenly spaced thresholds in ``[0, 1]`` (default 200).
        class_id: compute it for this class of multi-class predictions.
        name: the metric's name.
        dtype: the float type of results.

    Example (Keras's documented numbers):
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> m.result()
        0.5
    """

    _bound_name = "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        """The sensitivity at the best threshold meeting the specificity bound."""
        r = self._rates()
        return self._max_where(r["specificity"], r["sensitivity"])


class SpecificityAtSensitivity(_AtThreshold):
    """The best specificity among the thresholds whose sensitivity is >= ``sensitivity``.

    Example (Keras's documented numbers):
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> round(m.result(), 5)
        0.66667
    """

    _bound_name = "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        """The specificity at the best threshold meeting the sensitivity bound."""
        r = self._rates()
        return self._max_where(r["sensitivity"], r["specificity"])


class PrecisionAtRecall(_AtThreshold):
    """The best precision among the thresholds whose recall is >= ``recall``.

    Example (Keras's documented numbers):
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> m.result()
        0.5
    """

    _bound_name = "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        """The precision at the best threshold meeting the recall bound."""
        r = self._rates()
        return self._max_where(r["sensitivity"], r["precision"])


class RecallAtPrecision(_AtThreshold):
    """The best recall among the thresholds whose precision is >= ``precision``.

    Example (Keras's documented numbers):
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.5
    """

    _bound_name = "precision"

    def __init__(self, precision: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self) -> float:
        """The recall at the best threshold meeting the precision bound."""
        r = self._rates()
        return self._max_where(r["precision"], r["sensitivity"])

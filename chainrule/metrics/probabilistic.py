"""Metrics that average a loss over samples: cross-entropies, KL divergence, Poisson, hinges,
log-cosh and cosine similarity (Keras's ``probabilistic_metrics`` and ``hinge_metrics``).

Each is the running mean over samples of the loss function of the same name in
:mod:`chainrule.losses`, so the maths is written once: a metric calls the loss
function (without recording gradients) and averages its per-sample values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import losses as _losses
from chainrule.autograd.engine import no_grad
from chainrule.metrics._utils import to_numpy
from chainrule.metrics.base import MeanMetricWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
]


def _per_sample(loss_fn: Any, y_true: Any, y_pred: Any, **kwargs: Any) -> np.ndarray:
    with no_grad():
        return to_numpy(loss_fn(to_numpy(y_true), to_numpy(y_pred), **kwargs))


def _cosine(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    # the loss is the negative similarity (Keras's sign convention for minimizing)
    return -_per_sample(_losses.cosine_similarity, y_true, y_pred, axis=axis)


class _LossMetric(MeanMetricWrapper):
    """The running mean of one of chainrule's loss functions (config: name, dtype, options)."""

    _loss: Any = None

    def __init__(self, name: str, dtype: Any = None, **options: Any) -> None:
        loss = type(self)._loss
        super().__init__(lambda t, p, **kw: _per_sample(loss, t, p, **kw), name=name,
                         dtype=dtype, **options)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype', ...options}``."""
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> _LossMetric:
        """Create the metric from :meth:`get_config`'s output."""
        return cls(**config)


class BinaryCrossentropy(_LossMetric):
    """The mean binary cross-entropy between labels and predicted probabilities.

    Args:
        name: the metric's name (the history key).
        dtype: the float type of results.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: squeeze the labels towards 0.5 by this amount.

    Example (Keras's documented numbers):
        >>> m = BinaryCrossentropy()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        0.81492
    """

    _loss = staticmethod(_losses.binary_crossentropy)

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(name=name, dtype=dtype, from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing))


class CategoricalCrossentropy(_LossMetric):
    """The mean cross-entropy between one-hot labels and predicted class probabilities.

    Args:
        name: the metric's name.
        dtype: the float type of results.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: spread this much of each label's mass over the classes.
        axis: the class axis.

    Example (Keras's documented numbers):
        >>> m = CategoricalCrossentropy()
        >>> m.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(m.result(), 4)
        1.1769
    """

    _loss = staticmethod(_losses.categorical_crossentropy)

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1) -> None:
        super().__init__(name=name, dtype=dtype, from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing), axis=int(axis))


class SparseCategoricalCrossentropy(_LossMetric):
    """The mean cross-entropy between integer class labels and predicted class probabilities.

    Args:
        name: the metric's name.
        dtype: the float type of results.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis.

    Example (Keras's documented numbers):
        >>> m = SparseCategoricalCrossentropy()
        >>> m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(m.result(), 4)
        1.1769
    """

    _loss = staticmethod(_losses.sparse_categorical_crossentropy)

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(name=name, dtype=dtype, from_logits=bool(from_logits), axis=int(axis))


class KLDivergence(_LossMetric):
    """The mean Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``.

    Example (Keras's documented numbers):
        >>> m = KLDivergence()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        0.45814
    """

    _loss = staticmethod(_losses.kl_divergence)

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class Poisson(_LossMetric):
    """The mean Poisson deviance term ``y_pred - y_true * log(y_pred)``.

    Example (Keras's documented numbers):
        >>> m = Poisson()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(m.result(), 4)
        0.5
    """

    _loss = staticmethod(_losses.poisson)

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class Hinge(_LossMetric):
    """The mean hinge loss ``max(1 - y_true * y_pred, 0)`` (labels -1/1, or 0/1 converted).

    Example (Keras's documented numbers):
        >>> m = Hinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 4)
        1.3
    """

    _loss = staticmethod(_losses.hinge)

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_LossMetric):
    """The mean squared hinge loss ``max(1 - y_true * y_pred, 0) ** 2``.

    Example (Keras's documented numbers):
        >>> m = SquaredHinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 4)
        1.86
    """

    _loss = staticmethod(_losses.squared_hinge)

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_LossMetric):
    """The mean categorical hinge loss ``max(neg - pos + 1, 0)``.

    Example (Keras's documented numbers):
        >>> m = CategoricalHinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 4)
        1.4
    """

    _loss = staticmethod(_losses.categorical_hinge)

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class LogCoshError(_LossMetric):
    """The mean of ``log(cosh(y_pred - y_true))`` over the last axis.

    Example (Keras's documented numbers):
        >>> m = LogCoshError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(m.result(), 4)
        0.1084
    """

    _loss = staticmethod(_losses.log_cosh)

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between labels and predictions (1: same direction).

    Args:
        name: the metric's name.
        dtype: the float type of results.
        axis: the axis along which the similarity is computed.

    Example (Keras's documented numbers):
        >>> m = CosineSimilarity(axis=1)
        >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        >>> round(m.result(), 4)
        0.5
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(_cosine, name=name, dtype=dtype, axis=int(axis))

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype', 'axis'}``."""
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> CosineSimilarity:
        """Create the metric from :meth:`get_config`'s output."""
        return cls(**config)

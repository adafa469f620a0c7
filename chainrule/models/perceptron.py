"""Rosenblatt's single-layer perceptron (seed 002 §1): step activation, perceptron learning rule.

The perceptron computes ``y = 1 if w·x + b > 0 else 0`` and learns by nudging
its weights toward each misclassified sample:

    w += learning_rate · (t − y) · x,    b += learning_rate · (t − y)

On linearly separable data (AND, NAND, OR) the rule provably stops making
mistakes after finitely many updates, and :meth:`Perceptron.fit` stops there.
On data no straight line separates (XOR) it never does; ``fit`` then stops
after ``max_epochs`` and warns with a :class:`ConvergenceWarning` instead of
looping forever.

Example:
    >>> import numpy as np
    >>> from chainrule.models.perceptron import Perceptron
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> p = Perceptron().fit(x, [0, 0, 0, 1])   # the AND gate
    >>> p.predict(x).tolist(), p.converged_
    ([0, 0, 0, 1], True)
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

__all__ = ["Perceptron", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """Warned when an iterative learner stops at its limit without converging.

    The perceptron warns it on data that is not linearly separable, such as XOR.
    """


def _check_positive_real(name: str, value: Any) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name} must be a positive finite number. Received: {name}={value!r}")
    return float(value)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _as_features(x: Any, name: str = "x", n_features: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array of shape (samples, features). "
                        f"Received: {name} of type {type(x).__name__}") from None
    if arr.ndim == 1 and n_features is not None and arr.size == n_features:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (samples, features). "
                         f"Received: {name} of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one sample. Received: {name} of shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or infinity. Received: {name} with "
                         f"{int((~np.isfinite(arr)).sum())} non-finite values")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} features, as the data the perceptron "
                         f"was fitted on. Received: {name} of shape {arr.shape}")
    return arr


def _as_labels(y: Any, n: int) -> np.ndarray:
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"y must be an array of 0/1 labels. Received: y of type "
                        f"{type(y).__name__}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"y must be a 1-D array of 0/1 labels, one per sample (the perceptron has "
                         f"one output). Received: y of shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"x and y must have the same number of samples. Received: {n} samples "
                         f"in x and {arr.shape[0]} in y")
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        shown = np.unique(arr[bad])[:5].tolist()
        raise ValueError(f"y must contain only the labels 0 and 1 (the step function's outputs). "
                         f"Received: y with values {shown}")
    return arr.astype(np.int64)


class Perceptron:
    """Rosenblatt's perceptron: a step function of a weighted sum, trained by the perceptron rule.

    Args:
        learning_rate: the step ``η`` of the rule ``w += η (t − y) x`` (> 0).
        max_epochs: the most passes over the data; ``fit`` stops earlier as
            soon as one epoch makes no mistake.
        shuffle: visit the samples in a new random order each epoch.
        seed: seed for the shuffling (``None``: NumPy's global generator,
            which :func:`chainrule.utils.set_random_seed` seeds).

    Attributes:
        weights_: the learned weights, shape ``(features,)`` (float64).
        bias_: the learned bias (a float).
        errors_: misclassified samples in each epoch, a list of ints; it ends
            with 0 when the perceptron converged.
        n_epochs_: epochs run.
        converged_: whether the last epoch made no mistake.

    Input shape:
        ``(samples, features)``; labels ``(samples,)`` of 0 and 1.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        >>> p = Perceptron(learning_rate=0.1).fit(x, [0, 1, 1, 1])   # OR
        >>> p.score(x, [0, 1, 1, 1])
        1.0
    """

    def __init__(self, learning_rate: float = 0.1, max_epochs: int = 100, shuffle: bool = False,
                 seed: int | None = None) -> None:
        self.learning_rate = _check_positive_real("learning_rate", learning_rate)
        self.max_epochs = _check_positive_int("max_epochs", max_epochs)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False. Received: shuffle={shuffle!r}")
        self.shuffle = bool(shuffle)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
        self.seed = seed
        self.weights_: np.ndarray | None = None
        self.bias_: float = 0.0
        self.errors_: list[int] = []
        self.n_epochs_ = 0
        self.converged_ = False

    def __repr__(self) -> str:
        return (f"Perceptron(learning_rate={self.learning_rate}, max_epochs={self.max_epochs}, "
                f"shuffle={self.shuffle}, seed={self.seed})")

    def fit(self, x: Any, y: Any) -> Perceptron:
        """Learn weights and bias with the perceptron rule, starting from zeros.

        Args:
            x: inputs, shape ``(samples, features)``.
            y: labels 0/1, shape ``(samples,)`` (or ``(samples, 1)``).

        Returns:
            The perceptron itself, fitted.

        Raises:
            ValueError: for labels other than 0/1, mismatched lengths, non-2-D
                or non-finite inputs.

        Warns:
            ConvergenceWarning: when ``max_epochs`` ran out with mistakes left
                (the data is not linearly separable, or more epochs are needed).
        """
        xs = _as_features(x)
        ts = _as_labels(y, len(xs))
        rng = np.random.default_rng(self.seed) if self.seed is not None else np.random
        w = np.zeros(xs.shape[1])
        b = 0.0
        self.errors_ = []
        self.converged_ = False
        order = np.arange(len(xs))
        for _ in range(self.max_epochs):
            if self.shuffle:
                order = rng.permutation(len(xs))
            errors = 0
            for i in order:
                out = 1 if float(xs[i] @ w) + b > 0 else 0
                update = self.learning_rate * (ts[i] - out)
                if update:
                    w += update * xs[i]
                    b += update
                    errors += 1
            self.errors_.append(errors)
            if errors == 0:
                self.converged_ = True
                break
        self.weights_, self.bias_ = w, float(b)
        self.n_epochs_ = len(self.errors_)
        if not self.converged_:
            warnings.warn(ConvergenceWarning(
                f"The perceptron did not converge in {self.max_epochs} epochs: it still "
                f"misclassified {self.errors_[-1]} of the {len(xs)} samples during the last "
                "epoch. A single perceptron can only "
                "separate classes with a straight line (a hyperplane); data such as XOR is not "
                "linearly separable and needs a hidden layer (e.g. Sequential([Dense(2, "
                "activation='tanh'), Dense(1, activation='sigmoid')])). "
                f"Received: max_epochs={self.max_epochs}"), stacklevel=2)
        return self

    def _check_fitted(self, what: str) -> None:
        if self.weights_ is None:
            raise RuntimeError(f"This Perceptron is not fitted yet: call fit(x, y) before {what}().")

    def decision_function(self, x: Any) -> np.ndarray:
        """The weighted sums ``x @ weights_ + bias_`` (positive means class 1).

        Args:
            x: inputs, shape ``(samples, features)``.

        Returns:
            A float64 array of shape ``(samples,)``.
        """
        self._check_fitted("decision_function")
        xs = _as_features(x, n_features=len(self.weights_))
        return xs @ self.weights_ + self.bias_

    def predict(self, x: Any) -> np.ndarray:
        """The step function of the weighted sums: 1 where ``w·x + b > 0``, else 0.

        Args:
            x: inputs, shape ``(samples, features)``.

        Returns:
            An int64 array of 0/1 of shape ``(samples,)``.
        """
        self._check_fitted("predict")
        return (self.decision_function(x) > 0).astype(np.int64)

    def score(self, x: Any, y: Any) -> float:
        """The accuracy of :meth:`predict` on ``(x, y)``, between 0 and 1.

        Args:
            x: inputs, shape ``(samples, features)``.
            y: labels 0/1, shape ``(samples,)``.

        Returns:
            The fraction of samples classified correctly.
        """
        self._check_fitted("score")
        pred = self.predict(x)
        ts = _as_labels(y, len(pred))
        return float((pred == ts).mean())

    def get_weights(self) -> list[np.ndarray]:
        """The weights in Keras's Dense layout: ``[kernel (features, 1), bias (1,)]``."""
        self._check_fitted("get_weights")
        return [self.weights_.reshape(-1, 1).copy(), np.array([self.bias_])]

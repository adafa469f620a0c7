"""scikit-learn estimators around chainrule models (Keras 3's ``keras.wrappers``).

``SKLearnClassifier``, ``SKLearnRegressor`` and ``SKLearnTransformer`` make a
chainrule model a scikit-learn estimator: ``fit``/``predict``/``score``
(``transform``), ``get_params``/``set_params``, ``sklearn.base.clone``, so it
works in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``. They need
scikit-learn: ``pip install chainrule[sklearn]``.

The constructor is Keras 3's: ``model`` is a compiled model (cloned, with the
same compile settings, before every ``fit``) or a callable ``model(X=..., y=...,
**model_kwargs)`` returning a compiled model; ``fit_kwargs`` go to
``model.fit``. Hyperparameters of the model are searched through
``model_kwargs``, e.g. ``GridSearchCV(est, {"model_kwargs": [{"lr": 0.1},
{"lr": 0.01}]})``.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # the classes exist, and say how to install scikit-learn when used
    sklearn = None

    class BaseEstimator:  # type: ignore[no-redef]
        """Stand-in base class where scikit-learn is not installed."""

    class ClassifierMixin:  # type: ignore[no-redef]
        """Stand-in where scikit-learn is not installed."""

    class RegressorMixin:  # type: ignore[no-redef]
        """Stand-in where scikit-learn is not installed."""

    class TransformerMixin:  # type: ignore[no-redef]
        """Stand-in where scikit-learn is not installed."""


__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def _require_sklearn(name: str) -> None:
    if sklearn is None:
        raise ImportError(f"{name} needs scikit-learn, which is not installed. Install it with "
                          "`pip install chainrule[sklearn]`. Received: scikit-learn missing")


def _is_model(obj: Any) -> bool:
    from chainrule.models import Model  # noqa: PLC0415

    return isinstance(obj, Model)


def _check_model(model: Any, owner: str, where: str) -> None:
    if not _is_model(model):
        raise TypeError(f"{owner}: {where} must be a chainrule Model. Received: "
                        f"{type(model).__name__} {model!r:.80}")
    if not getattr(model, "compiled", False):
        raise ValueError(f"{owner}: {where} must be compiled (call model.compile(optimizer=..., "
                         f"loss=...) before wrapping it). Received: uncompiled model "
                         f"{model.name!r}")


def _copy_compiled(model: Any, with_weights: bool) -> Any:
    """A new model of the same architecture, compiled with the same settings."""
    from chainrule.models import clone_model  # noqa: PLC0415
    from chainrule.saving import api  # noqa: PLC0415

    clone = clone_model(model)
    if with_weights and model.built:
        clone.set_weights(model.get_weights())
    config = api.compile_config(model)
    if config is not None:  # fresh optimizer and metric objects, from the settings
        api._compile_from_config(clone, config, None)
    else:  # a lambda loss or metric: reuse the objects themselves
        metrics, weighted = model._metric_specs or (None, None)
        optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        clone.compile(optimizer=optimizer, loss=model.loss,
                      loss_weights=model._loss_weights, metrics=metrics,
                      weighted_metrics=weighted)
    return clone


class _SavedModel:
    """A model inside a pickle: the bytes of its ``.keras`` archive (chainrule's own format)."""

    def __init__(self, model: Any) -> None:
        from chainrule import saving  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            saving.save_model(model, path)
            with open(path, "rb") as f:
                self.data = f.read()

    def load(self) -> Any:
        from chainrule import saving  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            with open(path, "wb") as f:
                f.write(self.data)
            return saving.load_model(path)


class SKLBase(BaseEstimator):
    """The parts the three estimators share (Keras 3's ``SKLBase``).

    Args:
        model: a compiled chainrule ``Model``, or a callable
            ``model(X=X, y=y, **model_kwargs)`` returning one (``X`` and ``y``
            are the validated training arrays; the classifier passes ``y``
            one-hot encoded). A model instance is cloned with its compile
            settings before every ``fit``, unless ``warm_start=True``.
        warm_start: reuse the weights of the previous ``fit`` (a given model
            instance is then trained itself, not a clone).
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit`` (``epochs``,
            ``batch_size``, ``verbose``...); those given to ``fit`` itself win.

    Attributes:
        model_: the fitted model.
        history_: the fit's ``History.history`` dict (``{"loss": [...], ...}``).
        n_features_in_: the number of input features seen in ``fit``.
    """

    def __init__(self, model: Any, warm_start: bool = False,
                 model_kwargs: dict | None = None, fit_kwargs: dict | None = None) -> None:
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True  # weight initialization and shuffling draw random numbers
        tags.target_tags.multi_output = True  # y of shape (n_samples, n_outputs) is accepted
        return tags

    def __sklearn_clone__(self) -> Any:
        """An unfitted estimator with the same parameters (``sklearn.base.clone``).

        A model instance is shared
        with the clone (``fit`` trains a copy of it, never the instance itself),
        or copied when ``warm_start=True`` (then ``fit`` trains the instance).
        """
        params = self.get_params(deep=False)
        if params["warm_start"] and _is_model(params["model"]):
            params["model"] = _copy_compiled(params["model"], with_weights=True)
        for key in ("model_kwargs", "fit_kwargs"):
            if isinstance(params[key], dict):
                params[key] = dict(params[key])
        return type(self)(**params)

    def __getstate__(self) -> dict:
        # chainrule models are pickled as their saved archive (GridSearchCV(n_jobs=...) pickles)
        state = dict(super().__getstate__())  # a copy: the estimator keeps its model
        for key in ("model", "model_"):
            if _is_model(state.get(key)):
                state[key] = _SavedModel(state[key])
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        for key in ("model", "model_"):
            if isinstance(state.get(key), _SavedModel):
                state[key] = state[key].load()
        super().__setstate__(state)

    def _get_model(self, X: np.ndarray, y: np.ndarray) -> Any:
        owner = type(self).__name__
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if _is_model(self.model):
            _check_model(self.model, owner, "model")
            return self.model if self.warm_start else _copy_compiled(self.model, False)
        if not callable(self.model):
            raise TypeError(f"{owner}: model must be a compiled chainrule Model or a callable "
                            f"returning one. Received: model={self.model!r:.80}")
        if self.model_kwargs is not None and not isinstance(self.model_kwargs, dict):
            raise TypeError(f"{owner}: model_kwargs must be a dict or None. Received: "
                            f"model_kwargs={self.model_kwargs!r:.80}")
        built = self.model(X=X, y=y, **(self.model_kwargs or {}))
        _check_model(built, owner, "the model returned by model(X=..., y=...)")
        return built

    def _fit_kwargs(self, sample_weight: Any, kwargs: dict) -> dict:
        if self.fit_kwargs is not None and not isinstance(self.fit_kwargs, dict):
            raise TypeError(f"{type(self).__name__}: fit_kwargs must be a dict or None. "
                            f"Received: fit_kwargs={self.fit_kwargs!r:.80}")
        merged = dict(self.fit_kwargs or {})  # never changes the parameter itself
        merged.update(kwargs)
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if sw.size and (np.all(sw == 0) or np.any(sw < 0)):
                raise ValueError(f"{type(self).__name__}: sample_weight must be non-negative and "
                                 "not all zero (nothing to train on). Received: sample_weight "
                                 f"with min {sw.min()} and max {sw.max()}")
            merged["sample_weight"] = sw
        return merged

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> Any:
        """Validate the data, build (or clone) the model and train it.

        Args:
            X: array-like of shape ``(n_samples, n_features)``.
            y: array-like of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``.
            sample_weight: optional weights of shape ``(n_samples,)``.
            **kwargs: more arguments for ``model.fit`` (they win over ``fit_kwargs``).

        Returns:
            self.
        """
        X, y = validate_data(self, X, y, reset=True, **self._y_validation())
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        history = model.fit(X, y, **self._fit_kwargs(sample_weight, kwargs))
        self.history_ = dict(getattr(history, "history", {}) or {})
        self.model_ = model
        return self

    def _y_validation(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        """Regression targets: 1-D ``y`` becomes a column (undone in ``predict``)."""
        type_of_target(y, raise_unknown=True)
        if reset:
            self._y_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        if self._y_ndim == 1 and y.ndim == 2 and y.shape[1] == 1:
            return y[:, 0]
        return y

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions, in the shape of the training targets.

        Args:
            X: array-like of shape ``(n_samples, n_features)``.

        Returns:
            An array of shape ``(n_samples,)`` (or ``(n_samples, n_outputs)``).
        """
        return self._reverse_process_target(self._predict_raw(X))


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a chainrule model (Keras 3's ``SKLearnClassifier``).

    The labels (any type: integers, strings) are one-hot encoded over the
    sorted ``classes_``, so the model ends in ``n_classes`` units (softmax)
    and is compiled with ``categorical_crossentropy``; ``predict`` returns the
    class of the largest output, ``predict_proba`` the outputs.

    Args:
        model: a compiled chainrule ``Model``, or a callable
            ``model(X=X, y=y_one_hot, **model_kwargs)`` returning one.
        warm_start: reuse the weights of the previous ``fit``.
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit``.

    Attributes:
        classes_: the class labels, sorted, shape ``(n_classes,)``.
        model_: the fitted model.
        history_: the fit's history dict.
        n_features_in_: the number of input features.

    Raises:
        ValueError: in ``fit``, for continuous or 2-D (multilabel) targets, a
            single class, or an uncompiled model.
        TypeError: in ``fit``, when ``model`` is neither a model nor a callable.
    """

    def _y_validation(self) -> dict:
        return {}

    def _process_target(self, y: np.ndarray, reset: bool = False) -> np.ndarray:
        check_classification_targets(y)  # y is 1-D here: validate_data refused 2-D labels
        if reset:
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError("SKLearnClassifier needs at least 2 classes in y to train, "
                                 f"one class was found. Received: y with the single class "
                                 f"{classes[0]!r}")
            self.classes_ = classes
        index = np.searchsorted(self.classes_, y)
        return np.eye(len(self.classes_), dtype=np.float32)[index]

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(y, axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model's outputs: class probabilities of shape ``(n_samples, n_classes)``.

        Args:
            X: array-like of shape ``(n_samples, n_features)``.

        Returns:
            The model's output for ``X`` (columns in the order of ``classes_``).
        """
        return self._predict_raw(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # a few epochs of a tiny model in the checks
        tags.target_tags.multi_output = False  # one label per sample
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a chainrule model (Keras 3's ``SKLearnRegressor``).

    A 1-D target is given to the model as a column ``(n_samples, 1)`` and
    ``predict`` returns it 1-D again; a 2-D target stays as it is. Predictions
    are float64 (the model's floatx output, widened), as scikit-learn expects
    of regressors.

    Args:
        model: a compiled chainrule ``Model``, or a callable
            ``model(X=X, y=y, **model_kwargs)`` returning one.
        warm_start: reuse the weights of the previous ``fit``.
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit``.

    Attributes:
        model_: the fitted model.
        history_: the fit's history dict.
        n_features_in_: the number of input features.
    """

    def _reverse_process_target(self, y: np.ndarray) -> np.ndarray:
        return super()._reverse_process_target(y).astype(np.float64, copy=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A scikit-learn transformer around a chainrule model (Keras 3's ``SKLearnTransformer``).

    ``fit`` trains the model on ``(X, y)`` like the regressor; ``transform``
    returns the model's outputs, e.g. learned features for a later step of a
    ``Pipeline``.

    Args:
        model: a compiled chainrule ``Model``, or a callable
            ``model(X=X, y=y, **model_kwargs)`` returning one.
        warm_start: reuse the weights of the previous ``fit``.
        model_kwargs: keyword arguments for a callable ``model``.
        fit_kwargs: keyword arguments for ``model.fit``.

    Attributes:
        model_: the fitted model.
        history_: the fit's history dict.
        n_features_in_: the number of input features.
    """

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for ``X``.

        Args:
            X: array-like of shape ``(n_samples, n_features)``.

        Returns:
            An array of shape ``(n_samples, n_outputs)``.
        """
        return self._predict_raw(X)

    def __sklearn_tags__(self) -> Any:
        from chainrule import backend  # noqa: PLC0415

        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = [backend.floatx()]  # the model computes in floatx
        return tags


# The examples run only where scikit-learn is installed (the docstring tests import every module).
_EXAMPLES = {
    SKLearnClassifier: '''
    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> def build(X, y, units=8):
        ...     model = cr.Sequential([cr.layers.Dense(units, activation="relu",
        ...                                            input_dim=X.shape[1]),
        ...                            cr.layers.Dense(y.shape[1], activation="softmax")])
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> X = np.random.default_rng(0).normal(size=(40, 3))
        >>> y = np.where(X[:, 0] > 0, "pos", "neg")
        >>> clf = SKLearnClassifier(build, model_kwargs={"units": 4},
        ...                         fit_kwargs={"epochs": 2, "verbose": 0}).fit(X, y)
        >>> clf.classes_.tolist(), clf.predict(X[:3]).shape, clf.n_features_in_
        (['neg', 'pos'], (3,), 3)
''',
    SKLearnRegressor: '''
    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> reg = SKLearnRegressor(model, fit_kwargs={"epochs": 1, "verbose": 0})
        >>> reg.fit(X, X @ [1.0, -2.0]).predict(X).shape
        (20,)
''',
    SKLearnTransformer: '''
    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(2, input_dim=3)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> X = np.random.default_rng(0).normal(size=(10, 3))
        >>> SKLearnTransformer(model, fit_kwargs={"verbose": 0}).fit(X, X[:, :2]).transform(X).shape
        (10, 2)
''',
}
if sklearn is not None:
    for _cls, _example in _EXAMPLES.items():
        _cls.__doc__ = (_cls.__doc__ or "").rstrip() + "\n" + _example

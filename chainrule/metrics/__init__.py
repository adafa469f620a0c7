"""Metrics: stateful measures of a model's quality, with Keras's names and semantics.

A metric accumulates over batches (``update_state``), reports the value so far
(``result``) and starts over at each epoch (``reset_state``). ``model.compile``
accepts metrics as objects or as the strings Keras accepts; a metric made from
a string is named exactly as written, because that name is the key of the
training history (``metrics=['acc']`` gives ``history.history['acc']``).

``compile`` turns ``'accuracy'``/``'acc'`` into the right accuracy with
:func:`resolve_accuracy`, from the shapes of the labels and predictions, and
every other identifier into a metric object with :func:`resolve`.

Example:
    >>> from chainrule import metrics
    >>> m = metrics.get("mse")
    >>> m.update_state([[0.0], [1.0]], [[0.5], [1.0]])
    >>> m.name, m.result()
    ('mse', 0.125)
    >>> metrics.resolve_accuracy("acc", "binary_crossentropy", (32, 1), (32, 1))
    <BinaryAccuracy name=acc>
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._registry import Registry
from chainrule.losses import (  # Keras 3 exports the loss functions under keras.metrics too
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from chainrule.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from chainrule.metrics.at_thresholds import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from chainrule.metrics.base import Mean, MeanMetricWrapper, Metric, Sum, _snake_case
from chainrule.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from chainrule.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from chainrule.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from chainrule.metrics.regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from chainrule.metrics.scores import (
    BinaryIoU,
    F1Score,
    FBetaScore,
    IoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
    R2Score,
)

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "BinaryIoU",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "ConcordanceCorrelation",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "IoU",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanIoU",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "OneHotIoU",
    "OneHotMeanIoU",
    "PearsonCorrelation",
    "Poisson",
    "Precision",
    "PrecisionAtRecall",
    "R2Score",
    "Recall",
    "RecallAtPrecision",
    "RootMeanSquaredError",
    "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SpecificityAtSensitivity",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "categorical_hinge",
    "concordance_correlation",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "pearson_correlation",
    "poisson",
    "resolve",
    "resolve_accuracy",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
]

#: Metric classes by name, for config dicts and class-name strings ('BinaryAccuracy').
_CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Metric,
        Mean,
        Sum,
        MeanMetricWrapper,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        TopKCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        RootMeanSquaredError,
        TruePositives,
        FalsePositives,
        TrueNegatives,
        FalseNegatives,
        Precision,
        Recall,
        AUC,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        KLDivergence,
        Poisson,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        LogCoshError,
        CosineSimilarity,
        R2Score,
        F1Score,
        FBetaScore,
        IoU,
        MeanIoU,
        BinaryIoU,
        OneHotIoU,
        OneHotMeanIoU,
        PearsonCorrelation,
        ConcordanceCorrelation,
        PrecisionAtRecall,
        RecallAtPrecision,
        SensitivityAtSpecificity,
        SpecificityAtSensitivity,
    )
}

#: The metric names ``compile`` accepts as strings (lower case), with Keras's aliases.
_NAMES: dict[str, type[Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "true_positives": TruePositives,
    "false_positives": FalsePositives,
    "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
    # Keras 3's snake-case class names and its 'bce' alias (the loss-like metrics)
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence,
    "poisson": Poisson,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "log_cosh_error": LogCoshError,
    "cosine_similarity": CosineSimilarity,
    "r2_score": R2Score,
    "f1_score": F1Score,
    "f_beta_score": FBetaScore,
    "pearson_correlation": PearsonCorrelation,
    "concordance_correlation": ConcordanceCorrelation,
}

#: The per-sample metric functions, by name (for MeanMetricWrapper configs).
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        accuracy,
        binary_accuracy,
        categorical_accuracy,
        sparse_categorical_accuracy,
        top_k_categorical_accuracy,
        sparse_top_k_categorical_accuracy,
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        pearson_correlation,
        concordance_correlation,
        binary_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
        hinge,
        squared_hinge,
        categorical_hinge,
        huber,
        kl_divergence,
        log_cosh,
        poisson,
    )
}


_METRICS = Registry(
    kind="metric",
    module="chainrule.metrics",
    base=Metric,
    classes=_CLASSES,
    abstract=(Metric, MeanMetricWrapper),  # abstract, or needs a function
    names=_NAMES,
    make=lambda cls, name: cls(name=name),  # named exactly as written: the history key
    functions=_FUNCTIONS,
    function_kind="metric function",
    function_registered_name="function",
    lambdas=True,
    get_error=(
        TypeError,
        "Could not interpret metric identifier: expected a name, a Metric, a Metric class, "
        "a config dict or a function. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize expects a Metric or a metric function. Received: metric={value!r}",
    ),
)


def _function_by_name(name: str, custom_objects: dict | None = None) -> Callable[..., Any]:
    return _METRICS.function(name, custom_objects)


def serialize(metric: Metric | Callable[..., Any]) -> dict:
    """Return a JSON-serializable description of a metric (Keras's layout).

    Args:
        metric: a Metric, or one of chainrule's metric functions.

    Returns:
        ``{'module', 'class_name', 'config', 'registered_name'}``.

    Raises:
        TypeError: for anything else.

    Example:
        >>> serialize(BinaryAccuracy(threshold=0.7))["config"]
        {'name': 'binary_accuracy', 'dtype': 'float32', 'threshold': 0.7}
    """
    return _METRICS.serialize(metric)


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Any:
    """Rebuild a metric from the output of :func:`serialize` (or a name).

    Args:
        config: a dict with ``'class_name'`` and ``'config'``, or a metric name.
        custom_objects: optional ``{name: class or function}`` for user metrics.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new Metric (with a fresh state), or a metric function.

    Raises:
        ValueError: for unknown class names, with close matches.
        TypeError: for a config that is not a dict or a string.

    Example:
        >>> deserialize({"class_name": "Precision", "config": {"thresholds": 0.3}})
        <Precision name=precision>
    """
    return _METRICS.deserialize(config, custom_objects)


def get(identifier: Any) -> Any:
    """Return the metric an identifier stands for.

    Args:
        identifier: a name or alias (``'acc'``, ``'mse'``, ``'auc'``, a class name
            such as ``'BinaryAccuracy'``), a Metric instance (returned as is), a
            Metric class (instantiated), a config dict (deserialized), a function
            (returned as is), or None.

    Returns:
        A Metric, named exactly as the string when made from one; a function;
        or None.

    Raises:
        ValueError: for unknown names, with close matches and the known names.
        TypeError: for identifiers of any other type.

    Example:
        >>> get("acc")
        <Accuracy name=acc>
        >>> get("acuracy")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown metric: 'acuracy'. Did you mean 'accuracy'... Known: acc, ...
    """
    return _METRICS.get(identifier)


def _last_dim(shape: tuple) -> Any:
    return shape[-1] if shape else None


def resolve_accuracy(name: str, loss: Any, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
    """Turn ``'accuracy'``/``'acc'`` into the accuracy that fits the data, as Keras 3 does.

    Keras 3 (``compile_utils.get_metric``) decides from the shapes alone:

    - predictions with last dimension 1 → :class:`BinaryAccuracy`;
    - labels of lower rank than the predictions, or labels with last
      dimension 1 against predictions with more → :class:`SparseCategoricalAccuracy`;
    - otherwise (one-hot labels) → :class:`CategoricalAccuracy`.

    One deviation: rank-1 predictions of shape ``(batch,)`` give
    :class:`BinaryAccuracy` (Keras picks categorical accuracy there, which would
    take an arg-max over the whole batch).

    Args:
        name: the name the user wrote (``'accuracy'``, ``'acc'``, any case); the
            metric keeps it, so the history key is exactly that name.
        loss: the compiled loss. Accepted so callers can pass what they know;
            as in Keras 3 it does not change the choice.
        y_true_shape: shape of the labels of a batch, e.g. ``(32,)`` or ``(32, 10)``.
        y_pred_shape: shape of the predictions of a batch, e.g. ``(32, 10)``.

    Returns:
        A BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy named ``name``.

    Raises:
        ValueError: when ``name`` is not 'accuracy' or 'acc', or a shape is empty.

    Example:
        >>> resolve_accuracy("accuracy", "sparse_categorical_crossentropy", (32,), (32, 10))
        <SparseCategoricalAccuracy name=accuracy>
        >>> resolve_accuracy("acc", "categorical_crossentropy", (32, 10), (32, 10))
        <CategoricalAccuracy name=acc>
    """
    del loss  # Keras 3 chooses from the shapes only.
    if not isinstance(name, str) or name.lower() not in ("accuracy", "acc"):
        raise ValueError(f"resolve_accuracy resolves 'accuracy' or 'acc'. Received: name={name!r}")
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if not y_pred_shape:
        raise ValueError(
            "resolve_accuracy needs the shape of a batch of predictions, e.g. (32, 10). "
            f"Received: y_pred_shape={y_pred_shape}"
        )
    y_t_last, y_p_last = _last_dim(y_true_shape), _last_dim(y_pred_shape)
    is_binary = y_p_last == 1 or len(y_pred_shape) == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_t_last == 1 and y_p_last is not None and y_p_last > 1
    )
    if is_binary:
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def resolve(
    identifier: Any,
    loss: Any = None,
    y_true_shape: tuple | None = None,
    y_pred_shape: tuple | None = None,
) -> Metric:
    """Turn one entry of ``compile(metrics=[...])`` into a Metric (Keras's ``get_metric``).

    ``'accuracy'``/``'acc'`` go through :func:`resolve_accuracy` when the shapes
    are known; other strings through :func:`get`; plain functions are wrapped in
    a :class:`MeanMetricWrapper` named after the function.

    Args:
        identifier: a name, Metric, Metric class, config dict or function.
        loss: the compiled loss (passed on to :func:`resolve_accuracy`).
        y_true_shape: shape of a batch of labels.
        y_pred_shape: shape of a batch of predictions.

    Returns:
        A Metric whose ``name`` is the history key.

    Raises:
        ValueError: for None or an unknown name.
        TypeError: for identifiers of any other type.

    Example:
        >>> resolve("acc", "binary_crossentropy", (8, 1), (8, 1))
        <BinaryAccuracy name=acc>
        >>> resolve(mean_absolute_error)
        <MeanMetricWrapper name=mean_absolute_error>
    """
    if identifier is None:
        raise ValueError("Expected a metric. Received: identifier=None")
    if (
        isinstance(identifier, str)
        and identifier.lower() in ("accuracy", "acc")
        and y_true_shape is not None
        and y_pred_shape is not None
    ):
        return resolve_accuracy(identifier, loss, y_true_shape, y_pred_shape)
    metric = get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(
            metric, name=_snake_case(getattr(metric, "__name__", "")) or None
        )
    return metric

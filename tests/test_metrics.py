"""Tests for chainrule.metrics: golden values by hand or by independent NumPy references."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from chainrule import backend, metrics
from chainrule.metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    FalseNegatives,
    FalsePositives,
    Mean,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanMetricWrapper,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Metric,
    Precision,
    Recall,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    Sum,
    TopKCategoricalAccuracy,
    TrueNegatives,
    TruePositives,
)


def raises(exc: type, message: str):
    """pytest.raises matching the whole message literally."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --------------------------------------------------------------------------- Mean, Sum, wrapper


def test_mean_unweighted_and_weighted_over_batches():
    m = Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.update_state([10.0, 20.0], sample_weight=[3.0, 1.0])
    # (1 + 3 + 5 + 7 + 30 + 20) / (4 + 4)
    assert m.result() == pytest.approx(66 / 8)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state([1.0, 2.0], sample_weight=[0.0, 0.0])
    assert m.result() == 0.0  # no weight: 0, not nan


def test_mean_averages_extra_axes_per_sample():
    values = np.array([[1.0, 3.0], [5.0, 7.0], [0.0, 2.0]])
    m = Mean()
    m.update_state(values)
    assert m.result() == pytest.approx(values.mean())
    assert m.count == 3
    m.reset_state()
    m.update_state(values, sample_weight=[1.0, 0.0, 2.0])
    # per-sample means 2, 6, 1 weighted 1, 0, 2
    assert m.result() == pytest.approx((2 + 0 + 2) / 3)


def test_mean_with_sample_weight_column_and_scalar():
    m = Mean()
    m.update_state([1.0, 2.0, 3.0], sample_weight=[[1.0], [1.0], [2.0]])
    assert m.result() == pytest.approx(9 / 4)
    m.reset_state()
    m.update_state([1.0, 2.0, 3.0], sample_weight=2.0)  # Keras: the batch mean, weight 2
    assert m.result() == pytest.approx(2.0)
    assert m.count == 2.0


def test_mean_result_is_python_float():
    m = Mean()
    m.update_state(np.array([True, False, True]))
    assert type(m.result()) is float
    assert m.result() == pytest.approx(2 / 3)


def test_sum_weighted():
    m = Sum()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    m.update_state(np.array([[1.0, 2.0]]))
    assert m.result() == 7.0
    m.reset_state()
    assert m.result() == 0.0


def test_sample_weight_that_does_not_broadcast_names_both_shapes():
    with raises(
        ValueError,
        "sample_weight must be broadcastable to the shape of the values it weights, (4,): "
        "pass one weight per sample, shape (batch,). Received: sample_weight.shape=(3,)",
    ):
        Mean().update_state([1.0, 2.0, 3.0, 4.0], sample_weight=[1.0, 2.0, 3.0])


def test_mean_metric_wrapper_passes_kwargs_and_names_after_function():
    def within(y_true, y_pred, tol):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)) <= tol

    m = MeanMetricWrapper(within, tol=0.5)
    assert m.name == "within"
    m.update_state([0.0, 1.0, 2.0], [0.2, 1.9, 2.5])
    assert m.result() == pytest.approx(2 / 3)
    assert m([0.0], [3.0]) == pytest.approx(2 / 4)  # __call__ updates and returns


def test_mean_metric_wrapper_rejects_non_callable():
    with raises(TypeError, "fn must be a function of (y_true, y_pred). Received: fn=3"):
        MeanMetricWrapper(3)


def test_metric_base_class_requires_methods():
    m = Metric(name="custom")
    with pytest.raises(NotImplementedError):
        m.update_state([1], [1])
    with pytest.raises(NotImplementedError):
        m.result()
    assert repr(m) == "<Metric name=custom>"


def test_default_names_are_snake_case_class_names():
    assert Precision().name == "precision"
    assert Recall().name == "recall"
    assert AUC().name == "auc"
    assert TruePositives().name == "true_positives"
    assert Accuracy().name == "accuracy"
    assert RootMeanSquaredError().name == "root_mean_squared_error"


def test_dtype_default_and_validation():
    assert Mean().dtype == backend.floatx()
    assert Mean(dtype="float64").dtype == "float64"
    with raises(ValueError, "dtype must be a floating-point type. Received: dtype='int32'"):
        Mean(dtype="int32")


def test_name_must_be_a_string():
    with raises(
        TypeError,
        "name must be a string (pass other arguments by keyword, e.g. "
        "BinaryAccuracy(threshold=0.7)). Received: name=0.7",
    ):
        BinaryAccuracy(0.7)


# --------------------------------------------------------------------------- accuracy functions


def test_accuracy_function_values_shape_and_dtype():
    out = metrics.accuracy([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert out.dtype == np.dtype(backend.floatx())
    assert out.ravel().tolist() == [0.0, 1.0, 1.0, 1.0]


def test_binary_accuracy_function_thresholds_strictly():
    y_true = np.array([1, 1, 0, 0, 1])
    y_pred = np.array([0.98, 0.5, 0.5, 0.6, 0.51])
    assert metrics.binary_accuracy(y_true, y_pred).tolist() == [1, 0, 1, 0, 1]
    assert metrics.binary_accuracy(y_true, y_pred, threshold=0.55).tolist() == [1, 0, 1, 0, 0]


def test_binary_accuracy_aligns_column_and_flat_shapes():
    y_pred = np.array([[0.9], [0.2], [0.7]], dtype=np.float32)
    out = metrics.binary_accuracy(np.array([1, 0, 0]), y_pred)
    assert out.shape == (3, 1)
    assert out.ravel().tolist() == [1.0, 1.0, 0.0]


def test_categorical_accuracy_function():
    out = metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert out.shape == (2,)
    assert out.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("labels", [[2, 1], [[2], [1]], np.array([2.0, 1.0])])
def test_sparse_categorical_accuracy_function_label_layouts(labels):
    out = metrics.sparse_categorical_accuracy(labels, [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert out.shape == (2,)
    assert out.tolist() == [0.0, 1.0]


def _reference_in_top_k(labels, scores, k):
    # Independent reference: the label is in the top k when fewer than k scores beat it.
    return np.array([np.sum(s > s[t]) < k for t, s in zip(labels, scores)], dtype=float)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 12])
def test_top_k_functions_match_reference(rng, k):
    scores = rng.random((50, 8)).astype(np.float32)
    scores[0, :] = 0.5  # ties with the k-th score count as in the top k
    labels = rng.integers(0, 8, 50)
    one_hot = np.eye(8)[labels]
    expected = _reference_in_top_k(labels, scores, k)
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(one_hot, scores, k=k), expected
    )
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(labels, scores, k=k), expected
    )


def test_sparse_top_k_from_sorted_ids():
    out = metrics.sparse_top_k_categorical_accuracy(
        [2, 1], [[1, 0, 3], [1, 2, 3]], k=1, from_sorted_ids=True
    )
    assert out.tolist() == [0.0, 1.0]
    out = metrics.sparse_top_k_categorical_accuracy(
        [2, 1], [[1, 0, 3], [1, 2, 3]], k=2, from_sorted_ids=True
    )
    assert out.tolist() == [0.0, 1.0]


def test_top_k_sequence_predictions_keep_label_shape(rng):
    scores = rng.random((4, 3, 5))
    labels = rng.integers(0, 5, (4, 3))
    out = metrics.sparse_top_k_categorical_accuracy(labels, scores, k=2)
    assert out.shape == (4, 3)
    expected = _reference_in_top_k(labels.ravel(), scores.reshape(-1, 5), 2).reshape(4, 3)
    np.testing.assert_array_equal(out, expected)


# --------------------------------------------------------------------------- accuracy classes


def test_binary_accuracy_class_keras_examples():
    m = BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert m.result() == 0.75
    m.reset_state()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert m.result() == 0.5


def test_accuracy_classes_accumulate_weighted_batches(rng):
    # Three batches of sparse labels with weights; reference: one weighted mean over all samples.
    m = SparseCategoricalAccuracy()
    all_hits, all_w = [], []
    for size in (7, 16, 5):
        y_pred = rng.random((size, 4)).astype(np.float32)
        y_true = rng.integers(0, 4, (size, 1))
        w = rng.random(size)
        m.update_state(y_true, y_pred, sample_weight=w)
        all_hits.append(y_pred.argmax(1) == y_true[:, 0])
        all_w.append(w)
    hits, w = np.concatenate(all_hits), np.concatenate(all_w)
    assert m.result() == pytest.approx(float(np.sum(hits * w) / np.sum(w)), rel=1e-12)


def test_categorical_and_sparse_agree(rng):
    y_pred = rng.random((40, 6))
    labels = rng.integers(0, 6, 40)
    cat, sparse = CategoricalAccuracy(), SparseCategoricalAccuracy()
    cat.update_state(np.eye(6)[labels], y_pred)
    sparse.update_state(labels, y_pred)
    assert cat.result() == sparse.result() == pytest.approx(np.mean(y_pred.argmax(1) == labels))


def test_categorical_accuracy_weighted_keras_example():
    m = CategoricalAccuracy()
    m.update_state(
        [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3]
    )
    assert m.result() == pytest.approx(0.3)


def test_top_k_classes():
    m = TopKCategoricalAccuracy(k=1)
    m.update_state(
        [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3]
    )
    assert m.result() == pytest.approx(0.3)
    m = SparseTopKCategoricalAccuracy(k=2)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == 1.0
    assert TopKCategoricalAccuracy().k == 5


def test_accuracy_class_compares_values():
    m = Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert m.result() == 0.5


def test_accepts_any_float_dtype_and_tensor_like_inputs():
    class TensorLike:
        def __init__(self, data):
            self.data = np.asarray(data)

        def numpy(self):
            return self.data

    for dtype in (np.float16, np.float32, np.float64):
        m = SparseCategoricalAccuracy()
        m.update_state(
            TensorLike([0, 2]),
            TensorLike(np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], dtype=dtype)),
        )
        assert m.result() == 1.0


# --------------------------------------------------------------------------- accuracy errors


def test_sparse_accuracy_with_one_hot_labels_names_both_shapes():
    with raises(
        ValueError,
        "sparse_categorical_accuracy expects integer class labels of shape (batch,) or "
        "(batch, 1), received one-hot labels of shape (4, 3) for predictions of shape (4, 3). "
        "Use 'categorical_accuracy' for one-hot labels, or pass y.argmax(-1).",
    ):
        SparseCategoricalAccuracy().update_state(np.eye(3)[[0, 1, 2, 0]], np.ones((4, 3)))


def test_sparse_accuracy_with_wrong_batch_size():
    with raises(
        ValueError,
        "sparse_categorical_accuracy expects integer class labels of shape (4,) for "
        "predictions of shape (4, 3). Received: y_true.shape=(5,)",
    ):
        metrics.sparse_categorical_accuracy([0, 1, 2, 0, 1], np.ones((4, 3)))


def test_categorical_accuracy_with_integer_labels_names_both_shapes():
    with raises(
        ValueError,
        "categorical_accuracy expects one-hot labels of the same shape as the predictions, "
        "received labels of shape (4,) for predictions of shape (4, 3). For integer class "
        "labels use 'sparse_categorical_accuracy', or one-hot encode them with to_categorical.",
    ):
        CategoricalAccuracy().update_state([0, 1, 2, 0], np.ones((4, 3)))


def test_categorical_accuracy_needs_a_class_axis():
    with raises(
        ValueError,
        "categorical_accuracy expects predictions with a class axis, shape (batch, num_classes). "
        "Received: y_pred.shape=(4,)",
    ):
        metrics.categorical_accuracy([0, 1, 0, 0], [0.1, 0.2, 0.3, 0.4])


def test_binary_accuracy_shape_mismatch():
    with raises(
        ValueError,
        "binary_accuracy expects y_true and y_pred of the same shape or of shapes that "
        "broadcast together (a trailing axis of size 1 may be missing on one of them). "
        "Received: y_true.shape=(4,), y_pred.shape=(4, 2)",
    ):
        BinaryAccuracy().update_state([0, 1, 0, 1], np.ones((4, 2)))


def test_top_k_label_out_of_range():
    with raises(
        ValueError,
        "Class labels must be in [0, 3) for predictions of shape (2, 3). Received labels in [0, 3]",
    ):
        metrics.sparse_top_k_categorical_accuracy([0, 3], np.ones((2, 3)), k=1)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_top_k_k_must_be_positive(k):
    with raises(ValueError, f"k must be a positive integer. Received: k={k!r}"):
        TopKCategoricalAccuracy(k=k)


def test_binary_accuracy_threshold_type():
    with raises(TypeError, "threshold must be a number. Received: threshold='high'"):
        BinaryAccuracy(threshold="high")


# --------------------------------------------------------------------------- regression


def test_mse_mae_keras_examples():
    y_true, y_pred = [[0, 1], [0, 0]], [[1, 1], [0, 0]]
    mse, mae = MeanSquaredError(), MeanAbsoluteError()
    mse.update_state(y_true, y_pred)
    mae.update_state(y_true, y_pred, sample_weight=[1, 0])
    assert mse.result() == 0.25
    assert mae.result() == 0.5


def test_regression_metrics_accumulate_against_reference(rng):
    batches = [(rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.random(n)) for n in (4, 9, 2)]
    mse, mae, rmse = MeanSquaredError(), MeanAbsoluteError(), RootMeanSquaredError()
    for y, p, w in batches:
        for m in (mse, mae, rmse):
            m.update_state(y, p, sample_weight=w)
    y = np.concatenate([b[0] for b in batches])
    p = np.concatenate([b[1] for b in batches])
    w = np.concatenate([b[2] for b in batches])
    per_sample_sq = ((y - p) ** 2).mean(axis=1)
    per_sample_abs = np.abs(y - p).mean(axis=1)
    expected_mse = np.sum(per_sample_sq * w) / np.sum(w)
    assert mse.result() == pytest.approx(expected_mse, rel=1e-12)
    assert mae.result() == pytest.approx(np.sum(per_sample_abs * w) / np.sum(w), rel=1e-12)
    # RMSE is the root of the accumulated mean, not the mean of per-batch roots.
    assert rmse.result() == pytest.approx(math.sqrt(expected_mse), rel=1e-12)


def test_rmse_keras_examples():
    m = RootMeanSquaredError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert m.result() == 0.5
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
    assert m.result() == pytest.approx(math.sqrt(0.5))


def test_mape_and_msle_keras_examples():
    m = MeanAbsolutePercentageError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    assert m.result() == pytest.approx(250000000.0)  # |0 - 1| / epsilon, as Keras
    m = MeanSquaredLogarithmicError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    # one element (log 2 - log(1 + eps))^2 out of four
    assert m.result() == pytest.approx((math.log(2) - math.log1p(1e-7)) ** 2 / 4)


def test_regression_column_labels_align_with_flat_targets():
    m = MeanSquaredError()
    m.update_state(np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [1.0]], dtype=np.float32))
    assert m.count == 3
    assert m.result() == pytest.approx((0.25 + 0 + 4) / 3)


def test_regression_shape_mismatch():
    with raises(
        ValueError,
        "mean_squared_error expects y_true and y_pred of the same shape or of shapes that "
        "broadcast together (a trailing axis of size 1 may be missing on one of them). "
        "Received: y_true.shape=(3,), y_pred.shape=(3, 2)",
    ):
        MeanSquaredError().update_state([1.0, 2.0, 3.0], np.ones((3, 2)))


# --------------------------------------------------------------------------- confusion counts


def _reference_counts(y_true, y_pred, threshold, w=None):
    y_true = np.asarray(y_true).ravel() != 0
    y_pred = np.asarray(y_pred, dtype=np.float32).ravel()
    w = np.ones(y_true.size) if w is None else np.asarray(w, dtype=float).ravel()
    pos_pred = y_pred > np.float32(threshold)
    tp = sum(wi for yi, pi, wi in zip(y_true, pos_pred, w) if yi and pi)
    fp = sum(wi for yi, pi, wi in zip(y_true, pos_pred, w) if not yi and pi)
    fn = sum(wi for yi, pi, wi in zip(y_true, pos_pred, w) if yi and not pi)
    tn = sum(wi for yi, pi, wi in zip(y_true, pos_pred, w) if not yi and not pi)
    return tp, fp, tn, fn


def test_precision_recall_keras_examples():
    p, r = Precision(), Recall()
    for m in (p, r):
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert p.result() == pytest.approx(2 / 3)
    assert r.result() == pytest.approx(2 / 3)
    p.reset_state()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert p.result() == 1.0


def test_confusion_counts_over_weighted_batches_match_reference(rng):
    metrics_ = [
        TruePositives(),
        FalsePositives(),
        TrueNegatives(),
        FalseNegatives(),
        Precision(),
        Recall(),
    ]
    ys, ps, ws = [], [], []
    for n in (10, 3, 25):
        y = rng.integers(0, 2, (n, 1))
        p = rng.random((n, 1)).astype(np.float32)
        w = rng.random(n)
        for m in metrics_:
            m.update_state(y, p, sample_weight=w)
        ys.append(y), ps.append(p), ws.append(w)
    tp, fp, tn, fn = _reference_counts(
        np.concatenate(ys), np.concatenate(ps), 0.5, np.concatenate(ws)
    )
    results = [m.result() for m in metrics_]
    assert results == pytest.approx([tp, fp, tn, fn, tp / (tp + fp), tp / (tp + fn)], rel=1e-12)


def test_precision_recall_several_thresholds_return_arrays(rng):
    y = rng.integers(0, 2, 60)
    p = rng.random(60).astype(np.float32)
    thresholds = [0.9, 0.1, 0.5]  # order kept
    prec, rec = Precision(thresholds=thresholds), Recall(thresholds=thresholds)
    prec.update_state(y, p)
    rec.update_state(y, p)
    expected_p, expected_r = [], []
    for t in thresholds:
        tp, fp, _, fn = _reference_counts(y, p, t)
        expected_p.append(tp / (tp + fp) if tp + fp else 0.0)
        expected_r.append(tp / (tp + fn))
    assert isinstance(prec.result(), np.ndarray)
    np.testing.assert_allclose(prec.result(), expected_p, rtol=1e-6)
    np.testing.assert_allclose(rec.result(), expected_r, rtol=1e-6)


def test_precision_is_zero_without_positive_predictions():
    m = Precision()
    m.update_state([1, 1], [0.1, 0.2])
    assert m.result() == 0.0


def test_precision_top_k_keras_examples():
    m = Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = Precision(top_k=4)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.5


def test_precision_recall_class_id():
    y_true = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    y_pred = np.array([[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    p, r = Precision(class_id=1), Recall(class_id=1)
    p.update_state(y_true, y_pred)
    r.update_state(y_true, y_pred)
    # class 1: predicted positive in rows 0 and 1 (row 0 right); labelled in rows 0 and 2
    assert p.result() == 0.5
    assert r.result() == 0.5
    with raises(
        ValueError,
        "class_id must be less than the number of classes, 3. Received: class_id=3",
    ):
        Precision(class_id=3).update_state(y_true, y_pred)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"thresholds": 1.5}, "thresholds must be numbers in [0, 1]. Received: thresholds=1.5"),
        (
            {"thresholds": [0.2, -1]},
            "thresholds must be numbers in [0, 1]. Received: thresholds=[0.2, -1]",
        ),
        ({"thresholds": []}, "thresholds must not be empty. Received: thresholds=[]"),
        ({"top_k": 0}, "top_k must be a positive integer. Received: top_k=0"),
        (
            {"class_id": -2},
            "class_id must be None or a non-negative integer. Received: class_id=-2",
        ),
    ],
)
def test_precision_argument_errors(kwargs, message):
    with raises(ValueError, message):
        Precision(**kwargs)


# --------------------------------------------------------------------------- AUC


def _reference_auc(y_true, y_pred, thresholds, w=None, curve="ROC", method="interpolation"):
    """Confusion counts by direct comparison at each threshold, then a Riemann sum."""
    y_pred = np.clip(np.asarray(y_pred, dtype=np.float32), 0, 1)
    counts = np.array(
        [_reference_counts(y_true, y_pred, t, w) for t in np.asarray(thresholds, np.float32)]
    )
    tp, fp, tn, fn = counts.T

    def ratio(a, b):
        return np.array([x / y if y else 0.0 for x, y in zip(a, b)])

    if curve == "ROC":
        x, y = ratio(fp, fp + tn), ratio(tp, tp + fn)
    else:
        x, y = ratio(tp, tp + fn), ratio(tp, tp + fp)
    total = 0.0
    for i in range(len(x) - 1):
        if method == "interpolation":
            height = (y[i] + y[i + 1]) / 2
        elif method == "minoring":
            height = min(y[i], y[i + 1])
        else:
            height = max(y[i], y[i + 1])
        total += (x[i] - x[i + 1]) * height
    return total


def _exact_roc_auc(y_true, y_pred):
    """The probability that a positive scores above a negative (ties count half)."""
    pos = y_pred[y_true == 1]
    neg = y_pred[y_true == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


KERAS_Y_TRUE = np.array([0, 0, 1, 1])
KERAS_Y_PRED = np.array([0, 0.5, 0.3, 0.9], dtype=np.float32)
KERAS_W = [1, 2, 3, 4]


def test_auc_thresholds():
    m = AUC(num_thresholds=3)
    assert m.thresholds == pytest.approx([-1e-7, 0.5, 1 + 1e-7])
    m = AUC(num_thresholds=2, thresholds=[0.5, 0.3])
    assert m.num_thresholds == 4
    assert m.thresholds == pytest.approx([-1e-7, 0.3, 0.5, 1 + 1e-7])


def test_auc_hand_computed_unweighted():
    # thresholds (-eps, 0.5, 1+eps): tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2], tn = [0, 2, 2]
    m = AUC(num_thresholds=3)
    m.update_state(KERAS_Y_TRUE, KERAS_Y_PRED)
    np.testing.assert_array_equal(m.true_positives, [2, 1, 0])
    np.testing.assert_array_equal(m.false_positives, [2, 0, 0])
    np.testing.assert_array_equal(m.false_negatives, [0, 1, 2])
    np.testing.assert_array_equal(m.true_negatives, [0, 2, 2])
    # recall [1, 0.5, 0] over fp rate [1, 0, 0]: one trapezoid of width 1, heights 1 and 0.5
    assert m.result() == pytest.approx(0.75)


@pytest.mark.parametrize(
    "curve, method, expected",
    [
        # tp = [7, 4, 0], fp = [3, 0, 0], fn = [0, 3, 7], tn = [0, 3, 3]
        ("ROC", "interpolation", (1 + 4 / 7) / 2),
        ("ROC", "majoring", 1.0),
        ("ROC", "minoring", 4 / 7),
        # precision [0.7, 1, 0] over recall [1, 4/7, 0]
        ("PR", "majoring", 3 / 7 * 1 + 4 / 7 * 1),
        ("PR", "minoring", 3 / 7 * 0.7 + 4 / 7 * 0),
        # Davis & Goadrich: P = [10, 4, 0], dTP = [3, 4], dP = [6, 4], slope = [0.5, 1],
        # intercept = [2, 0], P ratio = [2.5, 1]
        ("PR", "interpolation", (0.5 * (3 + 2 * math.log(2.5)) + 4) / 7),
        # gains: recall [1, 0, 0], precision [0, 1, 1]
        ("PRGAIN", "interpolation", 0.5),
        ("PRGAIN", "majoring", 1.0),
        ("PRGAIN", "minoring", 0.0),
    ],
)
def test_auc_hand_computed_weighted(curve, method, expected):
    m = AUC(num_thresholds=3, curve=curve, summation_method=method)
    m.update_state(KERAS_Y_TRUE, KERAS_Y_PRED, sample_weight=KERAS_W)
    np.testing.assert_array_equal(m.true_positives, [7, 4, 0])
    assert m.result() == pytest.approx(expected, abs=1e-12)


def test_auc_keras_sample_weight_example():
    m = AUC(num_thresholds=3)
    m.update_state(KERAS_Y_TRUE, KERAS_Y_PRED, sample_weight=[1, 0, 0, 1])
    assert m.result() == 1.0


# PR with 'interpolation' has its own closed form, tested by hand above.
@pytest.mark.parametrize(
    "curve, method",
    [
        ("ROC", "interpolation"),
        ("ROC", "minoring"),
        ("ROC", "majoring"),
        ("PR", "minoring"),
        ("PR", "majoring"),
    ],
)
@pytest.mark.parametrize("num_thresholds", [7, 200])
def test_auc_matches_direct_riemann_sum_over_batches(rng, curve, method, num_thresholds):
    m = AUC(num_thresholds=num_thresholds, curve=curve, summation_method=method)
    y = rng.integers(0, 2, 300)
    p = rng.random(300).astype(np.float32)
    w = rng.random(300)
    for start in range(0, 300, 64):  # several batches
        sl = slice(start, start + 64)
        m.update_state(y[sl, None], p[sl, None], sample_weight=w[sl])
    expected = _reference_auc(y, p, m.thresholds, w, curve=curve, method=method)
    assert m.result() == pytest.approx(expected, abs=1e-9)


def test_auc_manual_thresholds_match_direct_sum(rng):
    thresholds = [0.05, 0.2, 0.33, 0.8, 0.81]
    m = AUC(thresholds=thresholds)
    y = rng.integers(0, 2, 100)
    p = rng.random(100).astype(np.float32)
    m.update_state(y, p)
    assert m.result() == pytest.approx(_reference_auc(y, p, m.thresholds), abs=1e-12)


def test_auc_approaches_exact_roc_auc(rng):
    y = rng.integers(0, 2, 2000)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1).astype(np.float32)
    m = AUC(num_thresholds=2000)
    m.update_state(y, p)
    assert m.result() == pytest.approx(_exact_roc_auc(y, p), abs=2e-3)


def test_auc_perfect_and_clipping():
    m = AUC()
    m.update_state([0, 0, 1, 1], [-3.0, 0.0, 1.0, 7.0])  # outside [0, 1] is clipped
    assert m.result() == pytest.approx(1.0)
    m = AUC()
    assert m.result() == 0.0  # before any batch


def test_auc_from_logits_equals_probabilities():
    logits = np.array([-2.0, 0.3, -0.1, 2.5])
    probs = 1 / (1 + np.exp(-logits))
    a, b = AUC(from_logits=True), AUC()
    a.update_state(KERAS_Y_TRUE, logits)
    b.update_state(KERAS_Y_TRUE, probs)
    assert a.result() == pytest.approx(b.result())


def test_auc_multi_label_averages_per_label_auc(rng):
    y = rng.integers(0, 2, (80, 3))
    p = rng.random((80, 3)).astype(np.float32)
    m = AUC(num_thresholds=50, multi_label=True)
    m.update_state(y[:30], p[:30])
    m.update_state(y[30:], p[30:])
    per_label = [_reference_auc(y[:, j], p[:, j], m.thresholds) for j in range(3)]
    assert m.result() == pytest.approx(np.mean(per_label), abs=1e-12)
    weighted = AUC(num_thresholds=50, multi_label=True, num_labels=3, label_weights=[1, 0, 3])
    weighted.update_state(y, p)
    assert weighted.result() == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, abs=1e-12)


def test_auc_flat_label_weights_weight_points(rng):
    y = rng.integers(0, 2, (40, 2))
    p = rng.random((40, 2)).astype(np.float32)
    m = AUC(num_thresholds=20, label_weights=[2.0, 0.5])
    m.update_state(y, p)
    w = np.broadcast_to([2.0, 0.5], (40, 2))
    assert m.result() == pytest.approx(_reference_auc(y, p, m.thresholds, w), abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"num_thresholds": 1},
            "num_thresholds must be an integer greater than 1. Received: num_thresholds=1",
        ),
        ({"curve": "XY"}, "curve must be one of 'ROC', 'PR', 'PRGAIN'. Received: curve='XY'"),
        (
            {"summation_method": "left"},
            (
                "summation_method must be one of 'interpolation', 'majoring', 'minoring'. "
                "Received: summation_method='left'"
            ),
        ),
        (
            {"num_labels": 3},
            "num_labels is only used with multi_label=True. Received: num_labels=3",
        ),
        (
            {"label_weights": [1, -1]},
            (
                "label_weights must be a 1-D list of non-negative weights, one per label. "
                "Received: label_weights=[1.0, -1.0]"
            ),
        ),
        (
            {"thresholds": [0.5, 2]},
            "thresholds must be numbers in [0, 1]. Received: thresholds=[0.5, 2]",
        ),
    ],
)
def test_auc_argument_errors(kwargs, message):
    with raises(ValueError, message):
        AUC(**kwargs)


def test_auc_multi_label_shape_errors():
    m = AUC(multi_label=True)
    with raises(
        ValueError,
        "AUC with multi_label=True expects predictions of shape (batch, num_labels). "
        "Received: y_pred.shape=(4,)",
    ):
        m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    m.update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with raises(
        ValueError,
        "AUC with multi_label=True was built for 3 labels. Received: y_pred.shape=(2, 2)",
    ):
        m.update_state(np.zeros((2, 2)), np.zeros((2, 2)))


def test_auc_update_is_bucketed_not_quadratic(rng):
    # 200 thresholds x 100k predictions would be 20M comparisons; bucketing needs O(n).
    m = AUC()
    y = rng.integers(0, 2, 100_000)
    p = rng.random(100_000).astype(np.float32)
    m.update_state(y, p)
    assert m.true_positives[0] == y.sum()
    assert 0.45 < m.result() < 0.55


# --------------------------------------------------------------------------- config round trips


ROUND_TRIP = [
    Mean(name="m"),
    Sum(dtype="float64"),
    Accuracy(name="acc"),
    BinaryAccuracy(threshold=0.3),
    CategoricalAccuracy(),
    SparseCategoricalAccuracy(name="sca"),
    TopKCategoricalAccuracy(k=3),
    SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
    MeanSquaredError(name="mse"),
    MeanAbsoluteError(),
    MeanAbsolutePercentageError(),
    MeanSquaredLogarithmicError(),
    RootMeanSquaredError(),
    TruePositives(thresholds=[0.2, 0.6]),
    FalseNegatives(),
    Precision(thresholds=0.7, class_id=1),
    Recall(top_k=2),
    AUC(
        num_thresholds=17,
        curve="PR",
        summation_method="majoring",
        multi_label=True,
        num_labels=2,
        label_weights=[1.0, 2.0],
    ),
    AUC(thresholds=[0.25, 0.75], from_logits=True),
    MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.2),
]


@pytest.mark.parametrize("metric", ROUND_TRIP, ids=lambda m: type(m).__name__)
def test_get_config_from_config_and_serialize_round_trip(metric):
    config = metric.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(metric).from_config(config)
    assert type(clone) is type(metric)
    assert clone.get_config() == config
    restored = metrics.deserialize(json.loads(json.dumps(metrics.serialize(metric))))
    assert type(restored) is type(metric)
    assert restored.get_config() == config


def test_wrapper_config_round_trip_computes_the_same():
    m = MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.2)
    clone = metrics.deserialize(metrics.serialize(m))
    for x in (m, clone):
        x.update_state([1, 0, 1], [0.3, 0.1, 0.1])
    assert m.result() == clone.result() == pytest.approx(2 / 3)


def test_wrapper_custom_function_needs_custom_objects():
    def my_metric(y_true, y_pred):
        return np.asarray(y_pred)

    config = metrics.serialize(MeanMetricWrapper(my_metric))
    with pytest.raises(ValueError, match=r"^Unknown metric function: 'my_metric'\."):
        metrics.deserialize(config)
    restored = metrics.deserialize(config, custom_objects={"my_metric": my_metric})
    assert restored._fn is my_metric


def test_serialize_functions_and_unknown_classes():
    config = metrics.serialize(metrics.categorical_accuracy)
    assert config["class_name"] == "function"
    assert metrics.deserialize(config) is metrics.categorical_accuracy
    with pytest.raises(
        ValueError, match=r"^Unknown metric class: 'Precisoin'\. Did you mean 'Precision'"
    ):
        metrics.deserialize({"class_name": "Precisoin", "config": {}})
    with raises(TypeError, "serialize expects a Metric or a metric function. Received: metric=3"):
        metrics.serialize(3)
    with raises(
        TypeError,
        "deserialize expects a dict with 'class_name' and 'config' keys. Received: config=[1]",
    ):
        metrics.deserialize([1])


def test_state_is_fresh_after_from_config():
    m = Precision()
    m.update_state([1, 0], [0.9, 0.9])
    clone = Precision.from_config(m.get_config())
    assert clone.result() == 0.0


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    "name, cls",
    [
        ("accuracy", Accuracy),
        ("acc", Accuracy),
        ("binary_accuracy", BinaryAccuracy),
        ("categorical_accuracy", CategoricalAccuracy),
        ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
        ("top_k_categorical_accuracy", TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", SparseTopKCategoricalAccuracy),
        ("mse", MeanSquaredError),
        ("mean_squared_error", MeanSquaredError),
        ("mae", MeanAbsoluteError),
        ("mean_absolute_error", MeanAbsoluteError),
        ("rmse", RootMeanSquaredError),
        ("root_mean_squared_error", RootMeanSquaredError),
        ("mape", MeanAbsolutePercentageError),
        ("msle", MeanSquaredLogarithmicError),
        ("precision", Precision),
        ("recall", Recall),
        ("auc", AUC),
        ("MSE", MeanSquaredError),
        ("BinaryAccuracy", BinaryAccuracy),
        ("AUC", AUC),
    ],
)
def test_get_by_name_keeps_the_name_written(name, cls):
    metric = metrics.get(name)
    assert type(metric) is cls
    assert metric.name == name


def test_get_other_identifiers():
    m = Recall()
    assert metrics.get(m) is m
    assert metrics.get(None) is None
    assert type(metrics.get(Precision)) is Precision
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    made = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.9}})
    assert made.threshold == 0.9
    with raises(
        TypeError,
        "Could not interpret metric identifier: expected a name, a Metric, a Metric class, "
        "a config dict or a function. Received: identifier=3",
    ):
        metrics.get(3)


def test_unknown_metric_name_suggests_and_lists_known_names():
    with pytest.raises(ValueError) as info:
        metrics.get("acuracy")
    message = str(info.value)
    assert message.startswith("Unknown metric: 'acuracy'. Did you mean 'accuracy'")
    assert "Known: acc, accuracy, auc, bce, binary_accuracy," in message
    assert message.endswith("true_positives.")


# --------------------------------------------------------------------------- accuracy resolution


@pytest.mark.parametrize(
    "y_true_shape, y_pred_shape, loss, cls",
    [
        ((32, 1), (32, 1), "binary_crossentropy", BinaryAccuracy),
        ((32,), (32, 1), "binary_crossentropy", BinaryAccuracy),
        ((32,), (32,), "mse", BinaryAccuracy),  # rank-1 predictions: see resolve_accuracy
        ((32,), (32, 10), "sparse_categorical_crossentropy", SparseCategoricalAccuracy),
        ((32, 1), (32, 10), "sparse_categorical_crossentropy", SparseCategoricalAccuracy),
        ((32, 10), (32, 10), "categorical_crossentropy", CategoricalAccuracy),
        ((32, 5), (32, 5), "binary_crossentropy", CategoricalAccuracy),  # Keras 3: shapes decide
        ((None, 20), (None, 20, 7), None, SparseCategoricalAccuracy),
    ],
)
def test_resolve_accuracy_follows_keras_shapes(y_true_shape, y_pred_shape, loss, cls):
    for name in ("accuracy", "acc", "Accuracy"):
        metric = metrics.resolve_accuracy(name, loss, y_true_shape, y_pred_shape)
        assert type(metric) is cls
        assert metric.name == name


def test_resolve_accuracy_errors():
    with raises(ValueError, "resolve_accuracy resolves 'accuracy' or 'acc'. Received: name='mse'"):
        metrics.resolve_accuracy("mse", None, (2,), (2, 1))
    with raises(
        ValueError,
        "resolve_accuracy needs the shape of a batch of predictions, e.g. (32, 10). "
        "Received: y_pred_shape=()",
    ):
        metrics.resolve_accuracy("acc", None, (2,), ())


def test_resolve_compile_entries():
    assert type(metrics.resolve("acc", "sparse_categorical_crossentropy", (8,), (8, 3))) is (
        SparseCategoricalAccuracy
    )
    assert type(metrics.resolve("accuracy")) is Accuracy  # shapes unknown: plain accuracy
    mse = metrics.resolve("mse", "mse", (8, 1), (8, 1))
    assert (type(mse), mse.name) == (MeanSquaredError, "mse")
    wrapped = metrics.resolve(metrics.mean_absolute_error)
    assert (type(wrapped), wrapped.name) == (MeanMetricWrapper, "mean_absolute_error")
    wrapped.update_state([[1.0], [2.0]], [[0.0], [2.0]])
    assert wrapped.result() == 0.5
    auc = AUC(name="my_auc")
    assert metrics.resolve(auc) is auc
    with raises(ValueError, "Expected a metric. Received: identifier=None"):
        metrics.resolve(None)


def test_resolved_accuracy_trains_like_keras_history_keys():
    # A sparse-label batch through the resolved metric, as fit would run it.
    acc = metrics.resolve("acc", None, (4,), (4, 3))
    acc.update_state(
        np.array([0, 1, 2, 2]),
        np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8]]),
    )
    assert {acc.name: acc.result()} == {"acc": 0.75}

"""The metrics added for Keras 3 parity: loss-like metrics, F-scores, R2Score and IoU.

Each is compared with Keras 3's own results on the same arrays (recorded by
tools/keras_metrics_reference.py into tests/fixtures/keras_metrics.json) and
with an independent NumPy computation in float64.
"""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "keras_metrics.json")
                     .read_text())
DATA = {k: np.asarray(v) for k, v in FIXTURE["data"].items()}


def _feed(case: dict) -> object:
    metric = getattr(metrics, case["class"])(**case["kwargs"])
    yt, yp = DATA[case["y_true"]], DATA[case["y_pred"]]
    metric.update_state(yt[0], yp[0])
    first = metric.result()
    metric.update_state(yt[1], yp[1], sample_weight=DATA["sw"] if case["weighted"] else None)
    return metric, first


@pytest.mark.parametrize("case_id", sorted(FIXTURE["cases"]))
def test_metric_matches_keras(case_id):
    case = FIXTURE["cases"][case_id]
    metric, first = _feed(case)
    np.testing.assert_allclose(np.asarray(first, dtype=np.float64), case["first"],
                               rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(np.asarray(metric.result(), dtype=np.float64), case["result"],
                               rtol=2e-5, atol=2e-6)
    # Keras makes default names unique (``mean_io_u_1``); chainrule keeps the class's name
    assert metric.name == re.sub(r"_\d+$", "", case["name"])


@pytest.mark.parametrize("case_id", sorted(FIXTURE["cases"]))
def test_metric_reset_and_config_round_trip(case_id):
    case = FIXTURE["cases"][case_id]
    metric, _ = _feed(case)
    metric.reset_state()
    again, _ = _feed(case)
    clone = metrics.deserialize(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    yt, yp = DATA[case["y_true"]], DATA[case["y_pred"]]
    for m in (metric, clone):
        m.update_state(yt[0], yp[0])
        m.update_state(yt[1], yp[1], sample_weight=DATA["sw"] if case["weighted"] else None)
    np.testing.assert_array_equal(np.asarray(metric.result()), np.asarray(again.result()))
    np.testing.assert_array_equal(np.asarray(clone.result()), np.asarray(again.result()))


# -- independent NumPy references (float64) ------------------------------------------------------

def _weighted_mean(per_sample: list, weights: list) -> float:
    v = np.concatenate(per_sample)
    w = np.concatenate(weights)
    return float((v * w).sum() / w.sum())


def test_crossentropy_metrics_against_numpy():
    t, p, sw = DATA["onehot"], DATA["probs"], DATA["sw"]
    eps = 1e-7
    pc = np.clip(p, eps, 1 - eps)
    per = [-(t[i] * np.log(pc[i])).sum(-1) for i in range(2)]
    ref = _weighted_mean(per, [np.ones(6), sw])
    m = metrics.CategoricalCrossentropy()
    m.update_state(t[0], p[0])
    m.update_state(t[1], p[1], sample_weight=sw)
    assert m.result() == pytest.approx(ref, rel=1e-5)
    s = metrics.SparseCategoricalCrossentropy()
    s.update_state(DATA["labels"][0], p[0])
    s.update_state(DATA["labels"][1], p[1], sample_weight=sw)
    assert s.result() == pytest.approx(ref, rel=1e-5)

    bt, bp = DATA["binary"], np.clip(DATA["bprob"], eps, 1 - eps)
    per = [-(bt[i] * np.log(bp[i]) + (1 - bt[i]) * np.log(1 - bp[i])).mean(-1) for i in range(2)]
    b = metrics.BinaryCrossentropy()
    b.update_state(bt[0], bp[0])
    b.update_state(bt[1], bp[1], sample_weight=sw)
    assert b.result() == pytest.approx(_weighted_mean(per, [np.ones(6), sw]), rel=1e-5)


def test_regression_like_metrics_against_numpy():
    t, p = DATA["reg_true"][0], DATA["reg_pred"][0]
    d = p - t
    cases = {
        metrics.LogCoshError(): np.log(np.cosh(d)).mean(-1).mean(),
        metrics.CosineSimilarity(): ((t / np.linalg.norm(t, axis=-1, keepdims=True))
                                     * (p / np.linalg.norm(p, axis=-1, keepdims=True))).sum(-1)
                                    .mean(),
        metrics.Hinge(): np.maximum(1 - (2 * DATA["binary"][0] - 1) * p, 0).mean(-1).mean(),
    }
    for m, ref in cases.items():
        m.update_state(DATA["binary"][0] if isinstance(m, metrics.Hinge) else t, p)
        assert m.result() == pytest.approx(ref, rel=1e-5), m.name


def test_r2_score_against_numpy():
    t, p = DATA["reg_true"].reshape(-1, 2), DATA["reg_pred"].reshape(-1, 2)
    ss_res = ((t - p) ** 2).sum(0)
    ss_tot = ((t - t.mean(0)) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    m = metrics.R2Score(class_aggregation=None)
    m.update_state(DATA["reg_true"][0], DATA["reg_pred"][0])
    m.update_state(DATA["reg_true"][1], DATA["reg_pred"][1])
    np.testing.assert_allclose(m.result(), raw, rtol=1e-10)
    n, k = t.size, 3  # Keras counts values, not rows
    adj = metrics.R2Score(num_regressors=k)
    adj.update_state(t, p)
    assert adj.result() == pytest.approx(1 - (1 - raw.mean()) * (n - 1) / (n - k - 1), rel=1e-10)


def test_f1_against_numpy():
    t, p = DATA["multi"].reshape(-1, 3), DATA["probs"].reshape(-1, 3)
    pred = p > 0.3
    tp = (pred & (t == 1)).sum(0)
    fp = (pred & (t == 0)).sum(0)
    fn = (~pred & (t == 1)).sum(0)
    f1 = 2 * tp / (2 * tp + fp + fn)
    m = metrics.F1Score(threshold=0.3)
    m.update_state(t, p)
    np.testing.assert_allclose(m.result(), f1, rtol=1e-5)
    macro = metrics.F1Score(threshold=0.3, average="macro")
    macro.update_state(t, p)
    assert macro.result() == pytest.approx(f1.mean(), rel=1e-5)


def test_mean_iou_against_numpy():
    t, p = DATA["seg_true"].reshape(-1), DATA["seg_pred"].reshape(-1)
    ious = []
    for c in range(3):
        inter = np.sum((t == c) & (p == c))
        union = np.sum((t == c) | (p == c))
        ious.append(inter / union)
    m = metrics.MeanIoU(num_classes=3)
    m.update_state(DATA["seg_true"], DATA["seg_pred"])
    assert m.result() == pytest.approx(np.mean(ious), rel=1e-6)
    one = metrics.IoU(num_classes=3, target_class_ids=[2])
    one.update_state(t, p)
    assert one.result() == pytest.approx(ious[2], rel=1e-6)


# -- Keras's documented examples -------------------------------------------------------------------

def test_keras_docstring_numbers():
    m = metrics.BinaryCrossentropy()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert m.result() == pytest.approx(0.81492424, rel=1e-5)
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], sample_weight=[1, 0])
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], sample_weight=[1, 0])
    assert m.result() == pytest.approx(0.9162905, rel=1e-5)
    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert m.result() == pytest.approx(0.23809525, rel=1e-6)
    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert m.result() == pytest.approx(0.17361112, rel=1e-6)
    m = metrics.R2Score()
    m.update_state(np.array([[1], [4], [3]]), np.array([[2], [4], [4]]))
    assert m.result() == pytest.approx(0.57142854, rel=1e-6)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
                   np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    np.testing.assert_allclose(m.result(), [0.5, 0.8, 0.6666667], rtol=1e-6)


# -- names, compile strings, errors ---------------------------------------------------------------

@pytest.mark.parametrize("spec, cls", [
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
    ("kl_divergence", metrics.KLDivergence), ("r2_score", metrics.R2Score),
    ("f1_score", metrics.F1Score), ("CategoricalHinge", metrics.CategoricalHinge),
    ("LogCoshError", metrics.LogCoshError),
])
def test_string_identifiers_name_the_history_key(spec, cls):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = np.eye(2)[rng.integers(0, 2, 16)].astype("float32")
    model = cr.Sequential([cr.layers.Dense(2, input_dim=3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy",
                  metrics=[spec, cls(name="custom_name")])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert spec in history.history and "custom_name" in history.history
    assert isinstance(metrics.get(spec), cls)


@pytest.mark.parametrize("make, match", [
    (lambda: metrics.F1Score(average="mean"), r"average must be .*Received: average='mean'"),
    (lambda: metrics.FBetaScore(beta=0), r"beta must be .*Received: beta=0"),
    (lambda: metrics.F1Score(threshold=1.5), r"threshold must be .*Received: threshold=1.5"),
    (lambda: metrics.R2Score(class_aggregation="x"), r"Received: class_aggregation='x'"),
    (lambda: metrics.R2Score(num_regressors=-1), r"Received: num_regressors=-1"),
    (lambda: metrics.MeanIoU(num_classes=0), r"Received: num_classes=0"),
    (lambda: metrics.IoU(num_classes=2, target_class_ids=[2]),
     r"target_class_ids .*Received: target_class_ids=\[2\]"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_name_the_metric():
    with pytest.raises(ValueError, match=r"mean_io_u: class ids must be in \[0, 2\)"):
        metrics.MeanIoU(num_classes=2).update_state([0, 3], [0, 1])
    with pytest.raises(ValueError, match=r"f1_score expects .*Received: y_true.shape=\(2,\)"):
        metrics.F1Score().update_state([0, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"r2_score was built for 2 outputs"):
        m = metrics.R2Score()
        m.update_state(np.zeros((3, 2)), np.zeros((3, 2)))
        m.update_state(np.zeros((3, 1)), np.zeros((3, 1)))


def test_rate_at_bound_metrics_against_numpy():
    t, p = DATA["binary"].reshape(-1), DATA["bprob"].reshape(-1)
    thresholds = np.linspace(0, 1, 11)
    pos = t == 1
    best_sens, best_prec = 0.0, 0.0
    for thr in thresholds:
        pred = p > thr
        tp, fp = np.sum(pred & pos), np.sum(pred & ~pos)
        fn, tn = np.sum(~pred & pos), np.sum(~pred & ~pos)
        spec = tn / (tn + fp) if tn + fp else 0.0
        sens = tp / (tp + fn) if tp + fn else 0.0
        prec = tp / (tp + fp) if tp + fp else 0.0
        if spec >= 0.7:
            best_sens = max(best_sens, sens)
        if sens >= 0.3:
            best_prec = max(best_prec, prec)
    m = metrics.SensitivityAtSpecificity(0.7, num_thresholds=11)
    m.update_state(t, p)
    assert m.result() == pytest.approx(best_sens, rel=1e-12)
    m = metrics.PrecisionAtRecall(0.3, num_thresholds=11)
    m.update_state(t, p)
    assert m.result() == pytest.approx(best_prec, rel=1e-12)


def test_correlations_against_numpy():
    t, p = DATA["reg_true"][0], DATA["reg_pred"][0]
    ref = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)])
    m = metrics.PearsonCorrelation()
    m.update_state(t, p)
    assert m.result() == pytest.approx(ref, rel=1e-10)
    np.testing.assert_allclose(metrics.pearson_correlation(t.T, p.T, axis=0),
                               [np.corrcoef(a, b)[0, 1] for a, b in zip(t, p)], rtol=1e-10)


@pytest.mark.parametrize("make, match", [
    (lambda: metrics.PrecisionAtRecall(1.5), r"recall must be a number in \[0, 1\]\. "
                                             r"Received: recall=1\.5"),
    (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0),
     r"num_thresholds must be a positive integer\. Received: num_thresholds=0"),
])
def test_rate_at_bound_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_keras_metrics_namespace_exports_the_loss_functions():
    for name in ("binary_crossentropy", "categorical_crossentropy", "hinge", "squared_hinge",
                 "categorical_hinge", "kl_divergence", "poisson", "log_cosh", "huber",
                 "sparse_categorical_crossentropy"):
        assert getattr(metrics, name) is getattr(cr.losses, name)
    wrapped = metrics.MeanMetricWrapper(metrics.hinge)
    assert metrics.deserialize(metrics.serialize(wrapped))._fn is metrics.hinge


def test_f1_score_by_name_in_compile_logs_its_one_class_result():
    # keras: metrics=["f1_score"] with one sigmoid output; its result has shape (1,)
    import chainrule as cr

    rng = np.random.default_rng(0)
    x = rng.random((8, 3)).astype(np.float32)
    y = np.array([[1], [0], [1], [1], [0], [0], [1], [0]], np.float32)
    model = cr.models.Sequential([cr.Input((3,)), cr.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["f1_score"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert isinstance(history.history["f1_score"][0], float)
    f1 = cr.metrics.F1Score(threshold=None)  # the compiled metric's default
    f1.update_state(y, model.predict(x, verbose=0))
    value = model.evaluate(x, y, verbose=0, return_dict=True)["f1_score"]
    assert value == pytest.approx(float(np.asarray(f1.result()).reshape(-1)[0]))

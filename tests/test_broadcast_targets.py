"""Targets whose shape broadcasts against the predictions, as Keras 3 computes them.

Keras 3's elementwise losses and metrics (regression errors, hinge, Poisson,
Kullback-Leibler, cosine) squeeze or add a trailing axis of length 1 and then
broadcast: targets ``(batch, 5)`` against a ``(batch, 1)`` output average the 5
errors of each sample. The reference numbers come from Keras 3 itself
(tools/keras_fixtures_broadcast.py writes tests/fixtures/broadcast_keras.json).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses
from chainrule.gradcheck import check_gradients

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "broadcast_keras.json")
with open(FIXTURE, encoding="utf-8") as f:
    REF = json.load(f)
ARRAYS = {k: np.asarray(v) for k, v in REF["arrays"].items()}
SW = ARRAYS["sw"]

# Keras's function forms of these five skip the rank alignment, so a rank-1 y_true against a
# (batch, 1) y_pred broadcasts to (batch, batch) there (their Loss classes align first);
# chainrule aligns in both forms (docs/differences.md)
UNALIGNED_IN_KERAS = {"hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson"}


def arr(shape, dtype="float32"):
    return ARRAYS["x" + "_".join(map(str, shape))].astype(dtype)


def case_id(c):
    extra = "".join(f"-{k}={c[k]}" for k in ("reduction", "weighted") if k in c)
    return f"{c.get('fn') or c['class']}-{c['y_true']}-vs-{c['y_pred']}{extra}"


FUNCTION_CASES = [c for c in REF["functions"]
                  if not (c["fn"] in UNALIGNED_IN_KERAS and c["y_true"] == [6])]


def test_fixture_records_keras_3():
    assert REF["keras"].startswith("3.")
    assert len(REF["functions"]) == 96 and len(REF["classes"]) == 176


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=case_id)
def test_loss_function_matches_keras(case):
    fn = getattr(losses, case["fn"])
    y_true, y_pred = arr(case["y_true"]), arr(case["y_pred"])
    if case["value"] is None:  # Keras refuses: chainrule names both shapes
        with pytest.raises(ValueError) as e:
            fn(y_true, y_pred)
        assert str(e.value) == (
            f"{case['fn']}: y_true and y_pred must have the same shape or shapes that broadcast "
            "together (after a trailing axis of length 1 is squeezed or added). "
            f"Received: y_true.shape={tuple(case['y_true'])}, "
            f"y_pred.shape={tuple(case['y_pred'])}"
        )
        return
    out = fn(y_true, y_pred).numpy()
    np.testing.assert_allclose(out, case["value"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(UNALIGNED_IN_KERAS))
def test_rank_one_targets_align_in_the_function_form_too(name):
    """(6,) against (6, 1): chainrule aligns to (6, 1) as Keras's Loss classes do."""
    y_true, y_pred = arr([6]), arr([6, 1])
    out = getattr(losses, name)(y_true, y_pred).numpy()
    expected = getattr(losses, name)(y_true[:, None], y_pred).numpy()
    assert out.shape == (6,)
    np.testing.assert_array_equal(out, expected)
    klass = {"hinge": "Hinge", "squared_hinge": "SquaredHinge", "categorical_hinge": None,
             "kl_divergence": "KLDivergence", "poisson": "Poisson"}[name]
    t, p = y_true.astype(np.float64)[:, None], y_pred.astype(np.float64)
    ref = {"hinge": lambda: np.maximum(1 - t * p, 0)[:, 0],
           "squared_hinge": lambda: np.maximum(1 - t * p, 0)[:, 0] ** 2,
           "categorical_hinge": lambda: np.maximum((1 - t) * p - t * p + 1, 0)[:, 0],
           "kl_divergence": lambda: (np.clip(t, 1e-7, 1) * np.log(
               np.clip(t, 1e-7, 1) / np.clip(p, 1e-7, 1)))[:, 0],
           "poisson": lambda: (p - t * np.log(p + 1e-7))[:, 0]}[name]()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    if klass is not None:
        np.testing.assert_allclose(float(getattr(losses, klass)()(y_true, y_pred)),
                                   ref.mean(), rtol=1e-5)


@pytest.mark.parametrize("case", REF["classes"], ids=case_id)
def test_loss_class_matches_keras(case):
    loss = getattr(losses, case["class"])(reduction=case["reduction"])
    sw = SW if case["weighted"] else None
    out = loss(arr(case["y_true"]), arr(case["y_pred"]), sample_weight=sw).numpy()
    np.testing.assert_allclose(out, case["value"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", REF["metrics"], ids=case_id)
def test_metric_matches_keras(case):
    metric = getattr(cr.metrics, case["class"])()
    y_true, y_pred = arr(case["y_true"], "float64"), arr(case["y_pred"], "float64")
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(case["first"], rel=1e-5)
    metric.update_state(y_true[::-1], y_pred, sample_weight=SW)
    assert float(metric.result()) == pytest.approx(case["result"], rel=1e-5)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error",
                                  "mean_absolute_percentage_error",
                                  "mean_squared_logarithmic_error"])
def test_regression_metric_function_refuses_shapes_that_do_not_broadcast(name):
    with pytest.raises(ValueError) as e:
        getattr(cr.metrics.regression, name)(np.ones((6, 5)), np.ones((3, 1)))
    assert str(e.value) == (
        f"{name} expects y_true and y_pred of the same shape or of shapes that broadcast "
        "together (a trailing axis of size 1 may be missing on one of them). Received: "
        "y_true.shape=(6, 5), y_pred.shape=(3, 1)"
    )


def test_root_mean_squared_error_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"root_mean_squared_error expects .* Received: "
                                         r"y_true\.shape=\(6, 5\), y_pred\.shape=\(6, 2\)"):
        cr.metrics.RootMeanSquaredError().update_state(np.ones((6, 5)), np.ones((6, 2)))


def test_cross_entropies_still_need_the_same_shape():
    """Keras refuses these too (its backend's binary/categorical cross-entropy checks)."""
    for name in ("binary_crossentropy", "categorical_crossentropy"):
        with pytest.raises(ValueError) as e:
            getattr(losses, name)(np.full((6, 5), 0.5), np.full((6, 1), 0.5))
        assert str(e.value) == (
            f"{name}: y_true and y_pred must have the same shape. "
            "Received: y_true.shape=(6, 5), y_pred.shape=(6, 1)"
        )


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "huber",
                                  "log_cosh", "cosine_similarity", "poisson"])
def test_broadcast_gradients(name):
    rng = np.random.default_rng(0)
    t = rng.uniform(0.5, 2.0, size=(4, 5))
    p = rng.uniform(0.5, 2.0, size=(4, 1))
    fn = getattr(losses, name)
    assert check_gradients(lambda a, b: fn(a, b), t, p)
    assert check_gradients(lambda a, b: fn(b, a), p, t)  # (4, 1) targets, (4, 5) predictions


def test_check_targets_accepts_what_broadcasts_and_names_what_does_not():
    losses.check_targets("mse", np.zeros((32, 10)), (2, 1))
    losses.check_targets(losses.Hinge(), np.zeros((32, 10)), (2, 1))
    with pytest.raises(ValueError) as e:
        losses.check_targets("mae", np.zeros((32, 3)), (2, 2))
    assert str(e.value) == (
        "mean_absolute_error: y_true and y_pred must have the same shape or shapes that "
        "broadcast together (after a trailing axis of length 1 is squeezed or added). "
        "Received: y_true.shape=(32, 3), y_pred.shape=(32, 2)"
    )


def test_fit_a_one_unit_output_to_ten_targets_per_sample():
    """The Keras serialization guide's case: Dense(1) trained on (n, 10) targets with MSE.

    One SGD step from known weights equals the NumPy gradient of the broadcast loss,
    and the step is captured (replayed on raw arrays) like any other.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 10)).astype("float32")
    sw = rng.uniform(0.5, 1.5, size=8).astype("float32")
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
    model.compile(optimizer=cr.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    w0, b0 = (v.astype(np.float64) for v in model.get_weights())
    model.fit(x, y, batch_size=8, epochs=1, sample_weight=sw, verbose=0)
    # the NumPy gradient of mean_i sw_i * mean_j (x_i w + b - y_ij)^2
    err = (x @ w0 + b0) - y  # (8, 10)
    g_pred = (2.0 * err.mean(axis=1, keepdims=True)) * sw[:, None] / 8
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.1 * x.T @ g_pred, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1, b0 - 0.1 * g_pred.sum(0), rtol=1e-5, atol=1e-6)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert any(e.program is not None for k, e in model._steps.entries.items() if k[0] == "train")
    res = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0).astype(np.float64)
    assert res["loss"] == pytest.approx(((pred - y) ** 2).mean(), rel=1e-5)
    assert res["mae"] == pytest.approx(np.abs(pred - y).mean(), rel=1e-5)


def test_fit_refuses_targets_that_do_not_broadcast():
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true and y_pred must have the "
                                         r"same shape or shapes that broadcast together .*"
                                         r"Received: y_true\.shape=\(8, 3\), "
                                         r"y_pred\.shape=\(8, 2\)"):
        model.fit(np.zeros((8, 3)), np.zeros((8, 3)), verbose=0)


def _masked_model():
    masked = REF["masked"]
    inp = cr.Input((4,))
    out = cr.layers.Dense(1)(cr.layers.Embedding(7, 2, mask_zero=True)(inp))
    model = cr.Model(inp, out)
    model.compile(loss="mse", metrics=["mae"])
    model.set_weights([np.asarray(w, dtype="float32") for w in masked["weights"]])
    return model, np.asarray(masked["tokens"]), np.asarray(masked["targets"])


def test_masked_sequence_output_against_wider_targets_matches_keras():
    """(6, 4, 1) predictions, (6, 4, 3) targets, padding steps masked out of loss and metric."""
    masked = REF["masked"]
    model, tokens, targets = _masked_model()
    np.testing.assert_allclose(model.predict(tokens, verbose=0), masked["pred"], rtol=1e-6)
    res = model.evaluate(tokens, targets, batch_size=6, verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(masked["evaluate"]["loss"], rel=1e-5)
    assert res["mae"] == pytest.approx(masked["evaluate"]["mae"], rel=1e-5)
    res = model.evaluate(tokens, targets, batch_size=6, verbose=0, return_dict=True,
                         sample_weight=np.asarray(masked["step_weights"]))
    # Keras weighs the loss by the step weights; its compiled metrics take no weights
    assert res["loss"] == pytest.approx(masked["evaluate_weighted"]["loss"], rel=1e-5)
    assert res["mae"] == pytest.approx(masked["evaluate_weighted"]["mae"], rel=1e-5)
    # the same numbers, independently: padding steps neither count nor weigh
    pred = np.asarray(masked["pred"], dtype=np.float64)
    valid = tokens != 0
    per_step = ((pred - targets) ** 2).mean(-1)
    assert res["loss"] == pytest.approx(
        (per_step * np.asarray(masked["step_weights"]))[valid].sum() / valid.sum(), rel=1e-5)


def test_binary_accuracy_and_accuracy_compare_after_broadcasting():
    """Keras 3's (binary_)accuracy align ranks, then compare every label with the prediction."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=(8, 10)).astype("float32")
    probs = rng.random((8, 1)).astype("float32")
    m = cr.metrics.BinaryAccuracy()
    m.update_state(labels, probs)
    assert float(m.result()) == pytest.approx(((probs > 0.5) == labels).mean())
    np.testing.assert_array_equal(cr.metrics.binary_accuracy(labels, probs),
                                  ((probs > 0.5) == labels).astype("float32"))
    classes = rng.integers(0, 3, size=(8, 4))
    guess = rng.integers(0, 3, size=(8, 1))
    np.testing.assert_array_equal(cr.metrics.accuracy(classes, guess),
                                  (classes == guess).astype("float32"))
    with pytest.raises(ValueError, match=r"accuracy expects y_true and y_pred of the same shape "
                                         r"or of shapes that broadcast together"):
        cr.metrics.accuracy(np.zeros((8, 4)), np.zeros((8, 3)))

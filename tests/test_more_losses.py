"""Focal cross-entropies, Dice and Tversky against Keras 3's recorded numbers.

The fixture ``tests/fixtures/more_api_keras.npz`` comes from
``tools/keras_fixtures_more_api.py``; no Keras is imported here.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses
from chainrule.gradcheck import check_gradients

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "more_api_keras.npz")
K = np.load(FIXTURE)
META = json.loads(str(K["meta"]))
CASES = {name: (cls, kw, key) for name, cls, kw, key in META["losses"]}
TRUE_KEY = {"bin_prob": "bin_true", "bin_logit": "bin_true", "cat_prob": "cat_true",
            "cat_logit": "cat_true", "seg": "seg_true"}


def _inputs(name):
    key = CASES[name][2]
    return K[f"in_{TRUE_KEY[key]}"], K[f"in_{key}"]


def _make(name, **extra):
    cls, kw, _ = CASES[name]
    return getattr(losses, cls)(**kw, **extra)


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_gradient_match_keras(name):
    y_true, y_pred = _inputs(name)
    p = cr.Tensor(y_pred, requires_grad=True)
    value = _make(name)(y_true, p)
    value.backward()
    assert value.numpy().dtype == np.float32
    np.testing.assert_allclose(value.numpy(), K[f"loss_{name}"], rtol=1e-6)
    expected = K[f"loss_{name}_grad"]
    np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("name", list(CASES))
def test_sum_reduction_with_sample_weight_matches_keras(name):
    y_true, y_pred = _inputs(name)
    sw = np.linspace(0.5, 1.5, y_true.shape[0]).astype("float32")
    got = _make(name, reduction="sum")(y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(got.numpy(), K[f"loss_{name}_sum_weighted"], rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_function_form_matches_keras(name):
    y_true, y_pred = _inputs(name)
    loss = _make(name)
    fn = losses.get(loss.name)
    assert fn is getattr(losses, loss.name)
    got = fn(y_true, y_pred, **CASES[name][1])
    np.testing.assert_allclose(got.numpy(), K[f"loss_{name}_fn"], rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_config_is_keras_config_and_round_trips(name):
    loss = _make(name)
    config = loss.get_config()
    keras = META["configs"][f"loss_{name}"]
    assert list(config) == list(keras)
    # JSON stores tuples as lists
    assert json.loads(json.dumps(config)) == keras
    for again in (losses.deserialize(losses.serialize(loss)),
                  losses.deserialize(json.loads(json.dumps(losses.serialize(loss)))),
                  type(loss).from_config(config)):
        assert type(again) is type(loss) and again.get_config() == config


@pytest.mark.parametrize("cls, fn", [
    (losses.BinaryFocalCrossentropy, losses.binary_focal_crossentropy),
    (losses.CategoricalFocalCrossentropy, losses.categorical_focal_crossentropy),
    (losses.Dice, losses.dice),
    (losses.Tversky, losses.tversky),
])
def test_get_by_name(cls, fn):
    assert losses.get(fn.__name__) is fn
    assert isinstance(losses.get(cls.__name__), cls)
    assert losses.serialize(fn)["config"] == fn.__name__
    assert cls().name == fn.__name__


def _np_bce(t, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def test_binary_focal_by_hand_in_float64():
    t = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    p = np.array([[0.9, 0.2, 0.3], [0.6, 0.05, 0.999]])
    p_t = t * p + (1 - t) * (1 - p)
    w = t * 0.3 + (1 - t) * 0.7
    expected = (w * (1 - p_t) ** 1.5 * _np_bce(t, p)).mean(-1)
    got = losses.binary_focal_crossentropy(t, p, apply_class_balancing=True, alpha=0.3,
                                           gamma=1.5)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_categorical_focal_by_hand_in_float64():
    t = np.eye(3)[[0, 2]]
    p = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])
    alpha = np.array([0.5, 1.0, 2.0])
    expected = (-alpha * (1 - p) ** 2 * t * np.log(p)).sum(-1)
    got = losses.categorical_focal_crossentropy(t, p, alpha=list(alpha))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_dice_and_tversky_by_hand_in_float64():
    t = np.array([[1.0, 1.0, 0.0, 0.0]])
    p = np.array([[0.8, 0.4, 0.3, 0.0]])
    inter = (t * p).sum()
    assert float(losses.dice(t, p)) == pytest.approx(1 - 2 * inter / (t.sum() + p.sum() + 1e-7))
    missed, alarms = ((1 - p) * t).sum(), (p * (1 - t)).sum()
    expected = 1 - inter / (inter + 0.8 * missed + 0.2 * alarms + 1e-7)
    assert float(losses.tversky(t, p, alpha=0.8, beta=0.2)) == pytest.approx(expected)
    # alpha = beta = 0.5 is the Dice loss
    assert float(losses.tversky(t, p)) == pytest.approx(float(losses.dice(t, p)), rel=1e-6)


def test_gamma_zero_is_the_plain_cross_entropy():
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.7, 0.4], [0.1, 0.8]])
    np.testing.assert_allclose(
        losses.binary_focal_crossentropy(t, p, gamma=0).numpy(),
        losses.binary_crossentropy(t, p).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        losses.categorical_focal_crossentropy(t, p, gamma=0, alpha=1.0).numpy(),
        losses.categorical_crossentropy(t, p).numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn, kw, logits", [
    (losses.binary_focal_crossentropy, {}, False),
    (losses.binary_focal_crossentropy, {"from_logits": True, "label_smoothing": 0.1,
                                        "apply_class_balancing": True, "gamma": 1.5}, True),
    (losses.categorical_focal_crossentropy, {"alpha": [0.2, 0.3, 0.5]}, False),
    (losses.categorical_focal_crossentropy, {"from_logits": True, "gamma": 3.0}, True),
    (losses.dice, {"axis": 1}, False),
    (losses.tversky, {"alpha": 0.3, "beta": 0.9}, False),
])
def test_gradients_float64(fn, kw, logits):
    rng = np.random.default_rng(1)
    t = np.eye(3)[[0, 2, 1, 1]]
    p = rng.standard_normal((4, 3)) if logits else rng.uniform(0.1, 0.9, (4, 3))
    result = check_gradients(lambda a: fn(t, a, **kw), p)
    assert result.ok, str(result)


def test_a_sigmoid_output_is_used_through_its_logits():
    # as Keras on TensorFlow: the cross-entropy part comes from the logits behind a sigmoid
    z = cr.Tensor(np.array([[30.0, -30.0, 0.5]], dtype="float32"), requires_grad=True)
    t = np.array([[0.0, 1.0, 1.0]], dtype="float32")
    from_sigmoid = losses.binary_focal_crossentropy(t, cr.ops.sigmoid(z), gamma=0.0)
    from_logits = losses.binary_focal_crossentropy(t, z, gamma=0.0, from_logits=True)
    np.testing.assert_allclose(from_sigmoid.numpy(), from_logits.numpy(), rtol=1e-6)
    assert float(from_logits.numpy()[0]) > 20  # clipped probabilities give at most 16.1 each


def test_dice_axis_list_from_json_works():
    loss = losses.deserialize({"class_name": "Dice", "config": {"axis": [1, 2]}})
    assert loss.axis == (1, 2)
    y_true, y_pred = _inputs("dice_axis")
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), K["loss_dice_axis"], rtol=1e-6)


def test_fit_with_focal_loss_by_name_is_captured():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    weights = None
    for jit in ("auto", False):
        cr.utils.set_random_seed(0)
        model = cr.Sequential([cr.layers.Input((4,)), cr.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adamax", loss="binary_focal_crossentropy", jit_compile=jit)
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        if weights is None:
            assert [e for k, e in model._steps.entries.items() if e.program is not None]
            weights = model.get_weights()
        else:
            for a, b in zip(weights, model.get_weights()):
                np.testing.assert_array_equal(a, b)


def test_categorical_focal_warns_for_one_class():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_focal_crossentropy([[1.0]], [[0.7]])
    assert any(issubclass(w.category, SyntaxWarning) for w in caught)


@pytest.mark.parametrize("make, message", [
    (lambda: losses.BinaryFocalCrossentropy(gamma=-0.5),
     "gamma must be a number >= 0. Received: gamma=-0.5"),
    (lambda: losses.CategoricalFocalCrossentropy(gamma=float("nan")),
     "gamma must be a number >= 0. Received: gamma=nan"),
    (lambda: losses.binary_focal_crossentropy([[1.0]], [[0.5]], gamma=-1),
     "gamma must be a number >= 0. Received: gamma=-1"),
    (lambda: losses.CategoricalFocalCrossentropy(alpha=-1.0),
     "alpha must be a number >= 0 or a list of them (one per class). Received: alpha=-1.0"),
    (lambda: losses.BinaryFocalCrossentropy(label_smoothing=2),
     "label_smoothing must be a number in [0, 1]. Received: label_smoothing=2"),
    (lambda: losses.binary_focal_crossentropy([[1.0, 0.0]], [[0.5]]),
     "binary_focal_crossentropy: y_true and y_pred must have the same shape. "
     "Received: y_true.shape=(1, 2), y_pred.shape=(1, 1)"),
    (lambda: losses.categorical_focal_crossentropy([0, 2], [[0.5, 0.2, 0.3], [0.1, 0.1, 0.8]]),
     "categorical_focal_crossentropy expects one-hot labels of shape (2, 3), received integer "
     "class labels. Convert them with chainrule.utils.to_categorical(y, num_classes=3). "
     "Received: y_true.shape=(2,)"),
    (lambda: losses.tversky([[1.0]], [[0.5]], beta=-1),
     "tversky: beta must be a number >= 0. Received: beta=-1"),
    (lambda: losses.dice([[1.0]], [[0.5]], axis="rows"),
     "dice: axis must be None, an integer or a tuple of integers"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value) or str(err.value).startswith(message)
    assert "Received: " in str(err.value)


@pytest.mark.parametrize("name", list(CASES))
def test_keras_serialized_loss_loads(name):
    cls = CASES[name][0]
    keras_dict = {"module": "keras.losses", "class_name": cls,
                  "config": META["configs"][f"loss_{name}"], "registered_name": None}
    loss = losses.deserialize(keras_dict)
    assert type(loss) is getattr(losses, cls)
    y_true, y_pred = _inputs(name)
    np.testing.assert_allclose(loss(y_true, y_pred).numpy(), K[f"loss_{name}"], rtol=1e-6)

"""celu, glu, hard_shrink, hard_tanh, soft_shrink, sparse_plus, sparsemax, squareplus,
tanh_shrink and threshold: Keras 3's values, float64 gradient checks, names and layers.

The fixture ``tests/fixtures/more_api_keras.npz`` comes from
``tools/keras_fixtures_more_api.py``; no Keras is imported here.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations, ops
from chainrule.gradcheck import check_gradients

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "more_api_keras.npz")
K = np.load(FIXTURE)
META = json.loads(str(K["meta"]))
CASES = {name: (fn, kw, key) for name, fn, kw, key in META["activations"]}
NAMES = ["celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparsemax",
         "squareplus", "tanh_shrink", "threshold"]


@pytest.mark.parametrize("name", [n for n in CASES if n != "sparsemax"])
def test_values_match_keras(name):
    fn, kw, key = CASES[name]
    x = K[f"in_{key}"]
    for f in (getattr(activations, fn), getattr(ops, fn)):
        y = f(x, **kw).numpy()
        assert y.dtype == np.float32 and y.shape == K[f"act_{name}"].shape
        np.testing.assert_allclose(y, K[f"act_{name}"], rtol=1e-6, atol=1e-7)


def _sparsemax_reference(z):
    """Martins & Astudillo (2016), Algorithm 1, row by row in float64."""
    out = np.zeros_like(z, dtype=np.float64)
    for i, row in enumerate(np.asarray(z, dtype=np.float64)):
        s = np.sort(row)[::-1]
        k = max(j for j in range(1, len(s) + 1) if 1 + j * s[j - 1] > s[:j].sum())
        out[i] = np.maximum(row - (s[:k].sum() - 1) / k, 0)
    return out


def test_sparsemax_is_the_projection_onto_the_simplex():
    rng = np.random.default_rng(3)
    x = np.concatenate([K["in_rows"], rng.standard_normal((20, 5)).astype("float32")], axis=0)
    y = ops.sparsemax(x).numpy()
    ref = _sparsemax_reference(x)
    # float32 rounding of x - tau for inputs up to 12: an ulp there is 1e-6
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=2e-6)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    assert (y >= 0).all()
    # along another axis
    z = rng.standard_normal((4, 5))
    np.testing.assert_allclose(ops.sparsemax(z, axis=0).numpy(), _sparsemax_reference(z.T).T,
                               rtol=1e-12)


def test_sparsemax_agrees_with_keras_where_keras_is_right():
    # Keras 3.15 sums every cumulative sum of the support into the threshold, which is the
    # right threshold only for a support of one element (fixed upstream after 3.15); on
    # those rows the recorded numbers are the projection and must agree
    x, keras = K["in_rows"], K["act_sparsemax"]
    ours = ops.sparsemax(x).numpy()
    one = (ours > 0).sum(-1) == 1
    assert one.any() and (~one).any()
    np.testing.assert_allclose(ours[one], keras[one], rtol=1e-6)
    assert not np.allclose(keras[~one].sum(-1), 1.0)  # the recorded rows show the bug


@pytest.mark.parametrize("fn, kw, shape", [
    ("celu", {}, (3, 4)),
    ("celu", {"alpha": 0.4}, (3, 4)),
    ("glu", {}, (3, 6)),
    ("glu", {"axis": 0}, (4, 3)),
    ("hard_shrink", {"threshold": 0.3}, (3, 4)),
    ("hard_tanh", {}, (3, 4)),
    ("soft_shrink", {"threshold": 0.3}, (3, 4)),
    ("sparse_plus", {}, (3, 4)),
    ("sparsemax", {}, (3, 5)),
    ("sparsemax", {"axis": 0}, (5, 3)),
    ("squareplus", {}, (3, 4)),
    ("squareplus", {"b": 0.5}, (3, 4)),
    ("tanh_shrink", {}, (3, 4)),
    ("threshold", {"threshold": 0.2, "default_value": 3.0}, (3, 4)),
])
def test_gradients_float64(fn, kw, shape):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.5, 2.5, shape)
    # keep clear of the kinks (|x| = threshold, +-1, 0) where a difference quotient straddles
    for kink in (0.0, 1.0, -1.0, 0.3, -0.3, 0.2):
        x = np.where(np.abs(x - kink) < 0.02, x + 0.05, x)
    if fn == "sparsemax":
        x = rng.standard_normal(shape) * 0.6
    result = check_gradients(lambda a: getattr(ops, fn)(a, **kw), x, eps=1e-5)
    assert result.ok, str(result)


def test_sparsemax_backward_is_the_closed_form():
    x = np.array([[0.1, 1.1, 0.2, -2.0]])
    t = cr.Tensor(x, requires_grad=True)
    y = ops.sparsemax(t)
    gy = np.array([[1.0, 2.0, 4.0, 8.0]])
    ops.sum(y * gy).backward()
    mask = y.numpy() > 0
    expected = np.where(mask, gy - (gy * mask).sum() / mask.sum(), 0.0)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12)


def test_formulas_by_hand_in_float64():
    x = np.array([-2.0, -1.0, -0.25, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(ops.celu(x, alpha=2.0).numpy(),
                               np.maximum(x, 0) + 2.0 * np.expm1(np.minimum(x, 0) / 2.0))
    np.testing.assert_allclose(ops.sparse_plus(x).numpy(),
                               [0.0, 0.0, 0.140625, 0.25, 0.5625, 1.0, 3.0])
    np.testing.assert_allclose(ops.squareplus(x, b=2).numpy(), (x + np.sqrt(x * x + 2)) / 2)
    np.testing.assert_allclose(ops.tanh_shrink(x).numpy(), x - np.tanh(x))
    np.testing.assert_array_equal(ops.hard_tanh(x).numpy(), np.clip(x, -1, 1))
    np.testing.assert_array_equal(ops.soft_shrink(x).numpy(),
                                  [-1.5, -0.5, 0.0, 0.0, 0.0, 0.5, 2.5])
    np.testing.assert_array_equal(ops.hard_shrink(x).numpy(), [-2, -1, 0, 0, 0, 1, 3])
    np.testing.assert_array_equal(ops.threshold(x, 0.0, 7.0).numpy(), [7, 7, 7, 7, 0.5, 1, 3])
    g = ops.glu(np.array([[2.0, -1.0, 0.0, 3.0]])).numpy()
    np.testing.assert_allclose(g, [[2.0 * 0.5, -1.0 / (1 + np.exp(-3.0))]])


def test_squareplus_with_b_zero_is_relu():
    x = np.array([-2.0, 0.0, 3.0])
    t = cr.Tensor(x, requires_grad=True)
    y = ops.squareplus(t, b=0)
    ops.sum(y).backward()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(t.grad, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("name", NAMES)
def test_get_and_serialize_by_name(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn
    assert activations.serialize(fn) == name
    assert activations.deserialize({"class_name": "function", "config": name}) is fn


@pytest.mark.parametrize("name", [n for n in NAMES if n != "threshold"])
def test_dense_layer_by_name_saves_loads_and_replays(tmp_path, name):
    # threshold has no defaults (as in Keras), so it cannot be a layer's activation by name
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    units = 4 if name == "glu" else 3
    model = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(units, activation=name),
                           cr.layers.Dense(1)])
    model.compile(optimizer="lion", loss="mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert [e for e in model._steps.entries.values() if e.program is not None]
    model.save(tmp_path / "m.keras")
    loaded = cr.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].activation is getattr(activations, name)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_ops_on_symbolic_inputs_build_a_functional_model(tmp_path):
    inputs = cr.layers.Input((6,))
    outputs = ops.sparsemax(ops.glu(inputs), axis=-1)
    outputs = ops.threshold(ops.celu(outputs, alpha=0.5), 0.1, -1.0)
    model = cr.Model(inputs, outputs)
    assert model.output_shape == (None, 3)
    x = np.random.default_rng(0).standard_normal((2, 6)).astype("float32")
    expected = ops.threshold(ops.celu(ops.sparsemax(ops.glu(x)), alpha=0.5), 0.1, -1.0).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    model.save(tmp_path / "ops.keras")
    loaded = cr.saving.load_model(tmp_path / "ops.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("call, message", [
    (lambda: ops.glu(np.zeros((2, 5))), "glu: the size of axis -1 must be even"),
    (lambda: ops.glu(np.zeros((2, 4)), axis=2), "glu: `axis` 2 is out of range"),
    (lambda: ops.sparsemax(np.zeros(3), axis=1.5), "sparsemax: `axis` must be an integer"),
    (lambda: ops.celu(np.zeros(3), alpha="a"), "celu: `alpha` must be a nonzero number"),
    (lambda: ops.hard_shrink(np.zeros(3), threshold=None),
     "hard_shrink: `threshold` must be a real number"),
    (lambda: ops.soft_shrink(np.zeros(3), threshold=float("inf")),
     "soft_shrink: `threshold` must be a real number"),
    (lambda: ops.threshold(np.zeros(3), 0.0, "x"),
     "threshold: `default_value` must be a real number"),
    (lambda: ops.squareplus(np.zeros(3), b=-0.1), "squareplus: `b` must be a number >= 0"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(message)
    assert "Received: " in str(err.value)

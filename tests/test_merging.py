"""Merging layers: values, Keras's broadcasting and shapes, errors naming both shapes,
functional models with several inputs (residual blocks), save/load, capture, Keras's numbers."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L

rng = np.random.default_rng(0)
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "norm_keras.npz")


def r(*shape):
    return rng.standard_normal(shape).astype("float32")


a, b, c = r(4, 3), r(4, 3), r(4, 3)

VALUES = [
    (L.Add, [a, b, c], a + b + c),
    (L.Subtract, [a, b], a - b),
    (L.Multiply, [a, b, c], a * b * c),
    (L.Average, [a, b, c], (a + b + c) / 3),
    (L.Maximum, [a, b, c], np.maximum(np.maximum(a, b), c)),
    (L.Minimum, [a, b, c], np.minimum(np.minimum(a, b), c)),
]


@pytest.mark.parametrize("cls,inputs,ref", VALUES, ids=[v[0].__name__ for v in VALUES])
def test_elementwise_values(cls, inputs, ref):
    np.testing.assert_allclose(cls()(inputs).numpy(), ref, rtol=1e-6)


def test_functional_forms_match_the_layers():
    for fn, cls in [(L.add, L.Add), (L.subtract, L.Subtract), (L.multiply, L.Multiply),
                    (L.average, L.Average), (L.maximum, L.Maximum), (L.minimum, L.Minimum)]:
        np.testing.assert_array_equal(fn([a, b], name=f"f_{fn.__name__}").numpy(),
                                      cls()([a, b]).numpy())
    np.testing.assert_array_equal(L.concatenate([a, b], axis=0).numpy(),
                                  np.concatenate([a, b], 0))
    np.testing.assert_allclose(L.dot([a, b], axes=1).numpy(), (a * b).sum(1, keepdims=True),
                               rtol=1e-6)


def test_keras_broadcasting_and_output_shapes():
    x3 = r(4, 5, 3)
    out = L.Add()([a, x3])  # rank 2 gets an axis after the batch: (4, 1, 3)
    np.testing.assert_allclose(out.numpy(), a[:, None, :] + x3, rtol=1e-6)
    assert L.Add().compute_output_shape([(None, 3), (None, 5, 3)]) == (None, 5, 3)
    assert L.Multiply().compute_output_shape([(8, 1, 3), (None, 4, 1)]) == (8, 4, 3)
    assert L.Concatenate(axis=1).compute_output_shape([(None, 2, 3), (None, 4, 3)]) == (
        None, 6, 3)
    assert L.Concatenate().compute_output_shape([(None, 3), (None, None)]) == (None, None)


@pytest.mark.parametrize("axes,s1,s2", [
    (1, (2, 3), (2, 3)), ([1, 2], (2, 3, 5), (2, 7, 3)), (2, (2, 3, 4), (2, 5, 4)),
    ([3, 1], (2, 3, 4, 5), (2, 5, 6)), (-1, (2, 4), (2, 3, 4)), ([1, 1], (2, 4, 3), (2, 4)),
])
def test_dot_matches_numpy_and_its_output_shape(axes, s1, s2):
    x, y = r(*s1), r(*s2)
    out = L.Dot(axes=axes)([x, y]).numpy()
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    a1, a2 = a1 % len(s1), a2 % len(s2)
    ref = np.stack([np.tensordot(x[i], y[i], axes=(a1 - 1, a2 - 1)) for i in range(2)])
    if ref.ndim == 1:
        ref = ref[:, None]
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert L.Dot(axes=axes).compute_output_shape([(None,) + s1[1:], (None,) + s2[1:]]) == (
        (None,) + out.shape[1:])


def test_dot_normalize_is_the_cosine():
    out = L.Dot(axes=1, normalize=True)([a, b]).numpy()
    ref = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(out[:, 0], ref, rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda: L.Add(name="m")([np.zeros((2, 3)), np.zeros((2, 4))]),
     r'Layer "m" \(Add\) cannot merge inputs of shapes \(2, 3\) and \(2, 4\)'),
    (lambda: L.Add(name="m")([np.zeros((2, 3)), np.zeros((5, 3))]), "different batch sizes"),
    (lambda: L.Subtract(name="m")([a, b, c]), "exactly 2 inputs"),
    (lambda: L.Add(name="m")(a), "list of inputs"),
    (lambda: L.Concatenate(name="m")([np.zeros((2, 3)), np.zeros((2, 4, 1))]),
     r"matching shapes except for the concatenation axis.*\(2, 3\), \(2, 4, 1\)"),
    (lambda: L.Concatenate(axis=0, name="m")([np.zeros((2, 3)), np.zeros((2, 4))]),
     "matching shapes"),
    (lambda: L.Dot(axes=1, name="m")([np.zeros((2, 3)), np.zeros((2, 4))]),
     r"cannot contract axis 1 of shape \(2, 3\) with axis 1 of shape \(2, 4\)"),
    (lambda: L.Dot(axes=0, name="m")([a, b]), "batch axis"),
])
def test_errors_name_the_layer_and_the_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_symbolic_merge_error_at_model_construction():
    x, y = L.Input((3,)), L.Input((4,))
    with pytest.raises(ValueError, match=r"\(None, 3\) and \(None, 4\)"):
        L.add([x, y])
    with pytest.raises(ValueError, match="axes"):
        L.Dot(axes=[1, 2, 3])
    with pytest.raises(TypeError, match="axis"):
        L.Concatenate(axis="1")


def residual(lib):
    """The model of tools/keras_fixtures_norm.py (residual block, every merge)."""
    Ls = lib.layers
    a = Ls.Input((8,), name="a")
    b = Ls.Input((1, 8), name="b")
    h = Ls.Dense(8, activation="relu", name="h")(a)
    h2 = Ls.Dense(8, name="h2")(h)
    r_ = Ls.add([a, h2], name="res")
    s = Ls.Subtract(name="sub")([r_, h])
    mul = Ls.multiply([s, Ls.Reshape((8,), name="flat_b")(b)], name="mul")
    av = Ls.average([r_, s, mul], name="avg")
    mx = Ls.maximum([r_, s], name="max")
    mn = Ls.Minimum(name="min")([r_, s])
    d = Ls.Dot(axes=1, name="dot")([r_, s])
    dn = Ls.dot([r_, h], axes=1, normalize=True, name="cos")
    c = Ls.concatenate([av, mx, mn, d, dn], name="cat")
    bc = Ls.Add(name="bcast")([b, Ls.Reshape((1, 8), name="r3")(h)])
    out = Ls.Dense(2, name="out")(Ls.concatenate([c, Ls.Flatten(name="fl")(bc)], name="cat2"))
    return lib.Model([a, b], out)


def fixture():
    data = np.load(FIXTURE)
    return data, json.loads(str(data["meta"]))


def set_flat(model, flat):
    ws, i = [], 0
    for w in model.get_weights():
        ws.append(flat[i:i + w.size].reshape(w.shape))
        i += w.size
    model.set_weights(ws)


def test_residual_model_matches_keras_predict_and_two_epochs_of_adam():
    data, meta = fixture()
    cr.utils.clear_session()
    model = residual(cr)
    assert {la.name: list(la.output_shape[1:]) for la in model.layers} == meta["residual_shapes"]
    set_flat(model, data["residual/w0"])
    x = [data["residual/xa"], data["residual/xb"]]
    np.testing.assert_allclose(model.predict(x, verbose=0), data["residual/pred0"], rtol=1e-4,
                               atol=1e-5)
    model.compile(optimizer=cr.optimizers.Adam(0.01), loss="mse")
    h = model.fit(x, data["residual/y"], batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], meta["histories"]["residual"], rtol=1e-4)
    flat = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(flat, data["residual/w1"], rtol=1e-4, atol=1e-5)


def trained_residual(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = residual(cr)
    model.compile("adam", "mse", jit_compile=jit)
    data = np.random.default_rng(5)
    x = [data.standard_normal((32, 8)).astype("float32"),
         data.standard_normal((32, 1, 8)).astype("float32")]
    y = data.standard_normal((32, 2)).astype("float32")
    h = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    return model, h.history, x


def test_residual_model_is_captured_bit_identically_and_saves(tmp_path):
    fast = trained_residual(True)
    slow = trained_residual(False)
    assert any(e.program is not None for e in fast[0]._steps.entries.values())
    for u, v in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    assert fast[1] == slow[1]
    model, x = fast[0], fast[2]
    path = tmp_path / "res.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [type(la).__name__ for la in loaded.layers] == [type(la).__name__
                                                           for la in model.layers]


@pytest.mark.parametrize("cls", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                                 "Concatenate", "Dot"])
def test_config_keys_are_keras_and_round_trip(cls):
    _, meta = fixture()
    layer = getattr(L, cls)(**({"axes": 1} if cls == "Dot" else {}))
    config = layer.get_config()
    ours = set(config) - {"name", "dtype"}
    assert set(meta["configs"][cls]) <= ours <= set(meta["configs"][cls]) | {"trainable"}
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_merge_layers_have_no_weights():
    layer = L.Concatenate()
    layer([a, b])
    assert layer.weights == [] and layer.count_params() == 0

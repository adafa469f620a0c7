"""keras.layers.Lambda: a function of tensors as a layer."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import UnsafeFileError

L = cr.layers
RNG = np.random.default_rng(0)


@cr.saving.register_keras_serializable(package="test_lambda")
def scaled_square(x, factor=1.0):
    return factor * cr.ops.square(x)


def test_forward_arguments_and_symbolic_shape():
    layer = L.Lambda(scaled_square, arguments={"factor": 3.0})
    x = RNG.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)), 3.0 * x**2, rtol=1e-6)
    inp = cr.Input((6, 2))
    out = L.Lambda(lambda t: cr.ops.sum(t, axis=1))(inp)
    assert out.shape == (None, 2)


def test_gradient_flows_through_the_function_and_training_replays():
    # d/dW of sum((xW)^2) through a Lambda equals the NumPy derivative 2 x^T (xW)
    dense = L.Dense(3, use_bias=False, kernel_initializer="ones")
    inp = cr.Input((2,))
    model = cr.Model(inp, L.Lambda(cr.ops.square)(dense(inp)))
    x = np.array([[1.0, 2.0], [3.0, -1.0]], "float32")
    with cr.enable_grad():
        y = model(x)
        cr.ops.sum(y).backward()
    kernel = np.ones((2, 3), "float32")
    np.testing.assert_allclose(np.asarray(dense.kernel.grad), 2 * x.T @ (x @ kernel), rtol=1e-6)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)  # raises if not capturable
    h = model.fit(x, np.zeros((2, 3), "float32"), epochs=4, verbose=0).history["loss"]
    assert h[-1] < h[0]
    assert any(e.program is not None for e in model._steps.entries.values())


def test_mask_and_training_are_passed_when_the_function_names_them():
    seen = {}

    def fn(x, mask=None, training=None):
        seen["mask"], seen["training"] = mask, training
        return x

    inp = cr.Input((3,), dtype="int32")
    h = L.Embedding(5, 2, mask_zero=True)(inp)
    model = cr.Model(inp, L.Lambda(fn, mask=lambda x, m: m)(h))
    model(np.array([[1, 2, 0]]), training=True)
    assert seen["training"] is True
    assert np.asarray(seen["mask"]).tolist() == [[True, True, False]]


def test_registered_function_round_trips_and_a_python_lambda_is_refused(tmp_path):
    model = cr.Sequential([cr.Input((3,)), L.Lambda(scaled_square, arguments={"factor": 2.0}),
                           L.Dense(2)])
    model.save(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].function is scaled_square
    assert loaded.layers[0].arguments == {"factor": 2.0}
    x = RNG.normal(size=(3, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    anonymous = cr.Sequential([cr.Input((3,)), L.Lambda(lambda t: t * 2)])
    with pytest.raises(ValueError, match=r"never stores code.*Received: function="):
        anonymous.save(tmp_path / "a.keras")
    assert not (tmp_path / "a.keras").exists()


def test_an_unregistered_named_function_loads_from_custom_objects(tmp_path):
    def plus_one(x):
        return x + 1.0

    model = cr.Sequential([cr.Input((2,)), L.Lambda(plus_one)])
    model.save(tmp_path / "p.keras")
    with pytest.raises(UnsafeFileError):
        cr.models.load_model(tmp_path / "p.keras")
    loaded = cr.models.load_model(tmp_path / "p.keras", custom_objects={"plus_one": plus_one})
    assert loaded.predict(np.zeros((1, 2)), verbose=0).tolist() == [[1.0, 1.0]]

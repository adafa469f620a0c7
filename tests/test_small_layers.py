"""Keras 3's small layers: noise, PReLU/ELU/Identity, unit and RMS normalization, 3-D
padding/cropping/upsampling, RandomCrop, StackedRNNCells, Wrapper and InputSpec.

Parity numbers come from tests/fixtures/small_layers_keras.npz, written by
tools/keras_fixtures_small_layers.py with Keras 3 (the versions are in the file);
the random layers are checked by their statistics and their seeded reproducibility.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients
from chainrule.layers.preprocessing.random_crop import random_crop
from chainrule.ops import noise as noise_ops

L = cr.layers
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small_layers_keras.npz")
DATA = np.load(FIXTURE)
SPEC = json.loads(bytes(DATA["spec"]).decode())
CASES = {c["name"]: c for c in SPEC["cases"]}
STACKED = {c["name"]: c for c in SPEC["stacked"]}


def close(a, b, rtol=1e-4, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


@pytest.fixture(autouse=True)
def _fresh():
    cr.utils.clear_session()


def _build(spec_layers):
    return [getattr(L, cls)(**kw) for cls, kw in spec_layers]


# -- parity with Keras 3 ------------------------------------------------------------------

def test_fixture_records_the_keras_versions():
    assert SPEC["keras"].startswith("3.") and SPEC["tensorflow"]


def _run_case(name):
    """The case's layers, built and given Keras's weights, and their output on its input."""
    case = CASES[name]
    layers = _build(case["layers"])
    weights = [DATA[f"{name}/w{i}"] for i in range(case["n_weights"])]
    y = DATA[f"{name}/x"]
    for layer in layers:
        if not layer.built:
            layer.build(y.shape)
            layer.built = True
        n = len(layer.weights)
        if n:
            assert [tuple(w.shape) for w in layer.weights] == [w.shape for w in weights[:n]]
            layer.set_weights(weights[:n])
            weights = weights[n:]
        y = layer(y, **case["call"])
    return layers, y


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_weights_same_outputs_as_keras(name):
    _, y = _run_case(name)
    close(y.numpy() if hasattr(y, "numpy") else y, DATA[f"{name}/y"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_keys_are_keras(name):
    layers, _ = _run_case(name)
    for layer, keras_config in zip(layers, CASES[name]["configs"]):
        ours = layer.get_config()
        theirs = {k for k in keras_config if k not in ("dtype", "name", "trainable")}
        assert theirs <= set(ours), f"missing {theirs - set(ours)}"
        for key in theirs:
            if key == "seed":
                continue  # Keras draws a seed when given none
            mine, keras_value = ours[key], keras_config[key]
            if isinstance(mine, dict):  # a serialized initializer
                assert mine["class_name"] == keras_value["class_name"]
            else:
                assert json.loads(json.dumps(mine)) == json.loads(json.dumps(keras_value)), key


@pytest.mark.parametrize("name", sorted(STACKED))
def test_stacked_cells_in_an_rnn_match_keras(name):
    case = STACKED[name]
    cells = L.StackedRNNCells(_build(case["cells"]))
    rnn = L.RNN(cells, **case["rnn"])
    x = DATA[f"{name}/x"]
    rnn.build(x.shape)
    weights = [DATA[f"{name}/w{i}"] for i in range(case["n_weights"])]
    assert [tuple(w.shape) for w in rnn.weights] == [w.shape for w in weights]
    rnn.set_weights(weights)
    out = rnn(x)
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == case["n_outputs"]  # Keras nests the states per cell; we list them flat
    for i, o in enumerate(outs):
        close(o.numpy(), DATA[f"{name}/y{i}"])


def test_activity_regularization_loss_matches_keras():
    layer = L.ActivityRegularization(**SPEC["activity"])
    layer(DATA["activity/x"])
    (loss,) = layer.losses
    close(loss.numpy(), DATA["activity/loss"])


def _trained_model():
    spec = SPEC["trained"]
    model = cr.Sequential([L.Input((6,))] + _build(spec["layers"]))
    model.set_weights([DATA[f"trained/w0_{i}"] for i in range(spec["n_weights"])])
    model.compile(optimizer=cr.optimizers.SGD(spec["lr"]), loss="mse")
    return model, spec


def test_training_through_fit_matches_keras():
    model, spec = _trained_model()
    hist = model.fit(DATA["trained/x"], DATA["trained/y"], batch_size=spec["batch_size"],
                     epochs=spec["epochs"], shuffle=False, verbose=0)
    close(hist.history["loss"], spec["loss"], rtol=1e-4)
    for i, w in enumerate(model.get_weights()):
        close(w, DATA[f"trained/w1_{i}"], rtol=1e-4, atol=1e-5)
    close(model.predict(DATA["trained/x"], verbose=0), DATA["trained/pred"], atol=1e-5)
    assert programs(model), "the model should train with the captured step"


# -- the random layers: statistics and seeds ----------------------------------------------

X_BIG = np.random.default_rng(3).standard_normal((200, 300)).astype("float32")


def test_gaussian_noise_statistics():
    y = L.GaussianNoise(0.3, seed=1)(X_BIG, training=True).numpy()
    noise = y - X_BIG
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.3) < 0.005


def test_gaussian_dropout_statistics():
    ones = np.ones((200, 300), "float32")
    y = L.GaussianDropout(0.2, seed=1)(ones, training=True).numpy()
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_alpha_dropout_keeps_mean_and_variance(rate):
    y = L.AlphaDropout(rate, seed=2)(X_BIG, training=True).numpy()
    assert abs(y.mean() - X_BIG.mean()) < 0.02
    assert abs(y.var() - X_BIG.var()) < 0.03
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    dropped = np.isclose(y, a * alpha_p - a * alpha_p * rate, atol=1e-5)
    assert abs(dropped.mean() - rate) < 0.01


def test_alpha_dropout_noise_shape_shares_the_mask():
    x = np.random.default_rng(0).standard_normal((4, 6, 5)).astype("float32")
    layer = L.AlphaDropout(0.5, noise_shape=(None, 1, 5), seed=0)
    y = layer(x, training=True).numpy()
    assert y.shape == x.shape
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((0.5) * (1 + 0.5 * alpha_p ** 2)) ** -0.5
    fill = a * alpha_p - a * alpha_p * 0.5
    dropped = np.isclose(y, fill, atol=1e-5)
    assert (dropped == dropped[:, :1]).all()  # the same mask along the shared axis


@pytest.mark.parametrize("make", [lambda: L.GaussianNoise(0.2, seed=5),
                                  lambda: L.GaussianDropout(0.3, seed=5),
                                  lambda: L.AlphaDropout(0.3, seed=5),
                                  lambda: L.RandomCrop(3, 3, seed=5)])
def test_seeded_noise_is_reproducible_and_fresh_per_call(make):
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 2)).astype("float32")
    a, b = make(), make()
    ya1, yb1 = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(ya1, yb1)  # the same seed, the same draws
    frames = [a(x, training=True).numpy() for _ in range(4)]
    assert any(not np.array_equal(ya1, f) for f in frames)  # fresh noise at each call


@pytest.mark.parametrize("layer", [L.GaussianNoise(0.2), L.GaussianDropout(0.3),
                                   L.AlphaDropout(0.3), L.ActivityRegularization(0.1)])
def test_noise_layers_are_the_identity_in_inference(layer):
    x = X_BIG[:8]
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_global_seed_drives_unseeded_noise():
    def draw():
        cr.utils.set_random_seed(11)
        return L.GaussianNoise(0.5)(X_BIG[:4], training=True).numpy()
    np.testing.assert_array_equal(draw(), draw())


def test_random_crop_windows_are_uniform_and_inside():
    x = np.arange(8 * 9, dtype="float32").reshape(1, 8, 9, 1)
    layer = L.RandomCrop(5, 4, seed=0)
    corners = set()
    for _ in range(300):
        y = layer(x, training=True).numpy()[0, :, :, 0]
        top, left = divmod(int(y[0, 0]), 9)
        np.testing.assert_array_equal(y, x[0, top:top + 5, left:left + 4, 0])
        corners.add((top, left))
    assert corners == {(t, s) for t in range(4) for s in range(6)}


def test_random_crop_unbatched_and_integer_images():
    img = np.arange(6 * 7 * 3).reshape(6, 7, 3).astype("uint8")
    y = L.RandomCrop(4, 5, seed=1)(img, training=True)
    assert y.shape == (4, 5, 3) and y.dtype == np.float32
    assert L.RandomCrop(4, 5).compute_output_shape((None, 6, 7, 3)) == (None, 4, 5, 3)


# -- the new ops: float64 gradient checks ------------------------------------------------

RAW = np.random.default_rng(0).standard_normal((3, 4, 5))


@pytest.mark.parametrize("fn", [
    lambda a: noise_ops.gaussian_noise(a, 0.3, np.random.default_rng(1)),
    lambda a: noise_ops.gaussian_dropout(a, 0.4, np.random.default_rng(1)),
    lambda a: noise_ops.alpha_dropout(a, 0.3, rng=np.random.default_rng(1)),
    lambda a: noise_ops.alpha_dropout(a, 0.5, (None, 1, 5), np.random.default_rng(1)),
    lambda a: random_crop(cr.ops.reshape(a, (3, 4, 5, 1)), 2, 3, np.random.default_rng(1)),
], ids=["gaussian_noise", "gaussian_dropout", "alpha_dropout", "alpha_dropout_shared",
        "random_crop"])
def test_new_ops_gradients(fn):
    result = check_gradients(fn, RAW)
    assert result.ok, str(result)


def test_noise_ops_in_float64_keep_the_dtype():
    x = cr.Tensor(RAW)
    for y in (noise_ops.gaussian_noise(x, 0.1), noise_ops.gaussian_dropout(x, 0.1),
              noise_ops.alpha_dropout(x, 0.1)):
        assert y.dtype == np.float64


# -- layers whose numbers NumPy checks directly ------------------------------------------

def test_prelu_gradient_reaches_a_shared_alpha():
    layer = L.PReLU(alpha_initializer=cr.initializers.Constant(0.5), shared_axes=[1, 2])
    x = cr.Tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype("float32"))
    y = layer(x)
    cr.ops.sum(y).backward()
    xd = x.numpy()
    expected = np.minimum(xd, 0).sum(axis=(0, 1, 2)).reshape(1, 1, 2)
    close(layer.alpha.grad, expected)


def test_rms_normalization_on_leading_axes_broadcasts_the_scale():
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")
    layer = L.RMSNormalization(axis=[0, 1])
    layer.build(x.shape)
    scale = np.random.default_rng(2).uniform(0.5, 1.5, (2, 3)).astype("float32")
    layer.set_weights([scale])
    expected = x / np.sqrt((x ** 2).mean(axis=(0, 1), keepdims=True) + 1e-6) * scale[..., None]
    close(layer(x).numpy(), expected)


def test_unit_normalization_of_zeros_is_zero_and_finite_gradient():
    x = cr.Tensor(np.zeros((2, 3), "float32"), requires_grad=True)
    y = L.UnitNormalization()(x)
    cr.ops.sum(y).backward()
    assert np.isfinite(x.grad).all() and (y.numpy() == 0).all()


# -- config round trips, saving, weights -------------------------------------------------

ROUND_TRIP = [
    lambda: L.GaussianNoise(0.25, seed=3), lambda: L.GaussianDropout(0.4),
    lambda: L.AlphaDropout(0.2, noise_shape=(None, 1, 4), seed=1),
    lambda: L.ActivityRegularization(l1=0.1, l2=0.2),
    lambda: L.PReLU(alpha_initializer="ones", alpha_regularizer="l2",
                    alpha_constraint="non_neg", shared_axes=[1]),
    lambda: L.ELU(alpha=0.3), lambda: L.Identity(), lambda: L.UnitNormalization(axis=[1, 2]),
    lambda: L.RMSNormalization(axis=-1, epsilon=1e-3), lambda: L.RandomCrop(2, 3, seed=4),
    lambda: L.UpSampling3D((1, 2, 3), data_format="channels_first"),
    lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), lambda: L.Cropping3D(2),
    lambda: L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)]),
    lambda: L.TimeDistributed(L.Dense(2)),
]


@pytest.mark.parametrize("make", ROUND_TRIP, ids=lambda m: type(m()).__name__)
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    json.dumps(config)
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    restored = cr.layers.serialization.deserialize(cr.layers.serialization.serialize(layer))
    assert type(restored) is type(layer)


def test_wrapper_subclass_round_trip_and_weights():
    class Doubled(L.Wrapper):
        def call(self, inputs, training=None):
            return 2.0 * self.layer(inputs)

    w = Doubled(L.Dense(2, kernel_initializer="ones", name="inner"))
    assert w(np.ones((1, 3), "float32")).numpy().tolist() == [[6.0, 6.0]]
    assert [v.name for v in w.weights] == ["kernel", "bias"]
    again = Doubled.from_config(w.get_config())
    assert isinstance(again.layer, L.Dense) and again.layer.units == 2
    with pytest.raises(NotImplementedError, match="Wrapper is a base class"):
        L.Wrapper(L.Dense(2))(np.ones((1, 3)))


@pytest.mark.parametrize("shape,shared,alpha", [((None, 5, 3), [1], (1, 3)),
                                                ((None, 4, 4, 2), [1, 2], (1, 1, 2)),
                                                ((None, 3), None, (3,))])
def test_prelu_weight_shapes(shape, shared, alpha):
    layer = L.PReLU(shared_axes=shared)
    assert [(w.name, w.shape) for w in layer.compute_weight_shapes(shape)] == [("alpha", alpha)]


def test_saved_model_with_the_new_layers_loads(tmp_path):
    model = cr.Sequential([
        L.Input((4, 4, 4, 2)), L.ZeroPadding3D(1), L.Cropping3D(1), L.UpSampling3D((1, 1, 2)),
        L.Reshape((16, 16)), L.PReLU(shared_axes=[1], name="prelu"), L.RMSNormalization(),
        L.GaussianNoise(0.1), L.AlphaDropout(0.1), L.GaussianDropout(0.1), L.Identity(),
        L.ActivityRegularization(0.01), L.RNN(L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])),
        L.Dense(3), L.ELU(), L.UnitNormalization()])
    model.get_layer("prelu").set_weights([np.full((1, 16), 0.2, "float32")])
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 4, 2)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    again = cr.models.load_model(path)
    assert [type(layer).__name__ for layer in again.layers] == [
        type(layer).__name__ for layer in model.layers]
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


def test_random_crop_in_a_model_crops_in_fit_and_passes_images_in_predict():
    # Keras 3's RandomCrop returns its input unchanged in inference
    model = cr.Sequential([L.Input((6, 6, 1)), L.RandomCrop(4, 4, seed=0),
                           L.GlobalAveragePooling2D()])
    x = np.random.default_rng(0).standard_normal((3, 6, 6, 1)).astype("float32")
    close(model.predict(x, verbose=0), x.mean(axis=(1, 2)))
    y = model(x, training=True).numpy()
    assert y.shape == (3, 1) and not np.allclose(y, x.mean(axis=(1, 2)))


def test_a_keras_written_archive_with_the_new_layers_loads_and_predicts_as_keras():
    pytest.importorskip("h5py")  # Keras's .keras files hold their weights in HDF5
    path = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files",
                        "small_layers.keras")
    model = cr.models.load_model(path)
    assert "StackedRNNCells" in type(model.layers[11].cell).__name__
    close(model.predict(DATA["archive/x"], verbose=0), DATA["archive/y"], atol=1e-5)


# -- InputSpec ----------------------------------------------------------------------------

def test_input_spec_keras_signature_and_repr():
    spec = L.InputSpec(dtype="float32", shape=(None, 3), axes={1: 3})
    assert spec.ndim == 2 and spec.shape == (None, 3)
    assert repr(spec) == "InputSpec(dtype=float32, shape=(None, 3), ndim=2, axes={1: 3})"
    assert L.InputSpec.from_config(spec.get_config()).get_config() == spec.get_config()
    with pytest.raises(TypeError, match="axes must be a dict with integer keys"):
        L.InputSpec(axes={"a": 1})
    with pytest.raises(ValueError, match="axis 3 is greater than the largest allowed axis 1"):
        L.InputSpec(ndim=2, axes={3: 1})


class _Spec(L.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec


@pytest.mark.parametrize("spec,x,message", [
    (L.InputSpec(ndim=2), np.zeros((2, 3, 1)), "expected ndim=2, found ndim=3"),
    (L.InputSpec(max_ndim=2), np.zeros((2, 3, 1)), "expected max_ndim=2, found ndim=3"),
    (L.InputSpec(min_ndim=3), np.zeros((2, 3)), "expected min_ndim=3, found ndim=2"),
    (L.InputSpec(dtype="int32"), np.zeros((2, 3), "float32"),
     "expected dtype=int32, found dtype=float32"),
    (L.InputSpec(axes={-1: 4}), np.zeros((2, 3)), "expected axis -1 of the input shape to "
                                                   "have value 4"),
    (L.InputSpec(shape=(None, 4)), np.zeros((2, 3)),
     r"expected shape=\(None, 4\), found shape=\(2, 3\)"),
    ([L.InputSpec(), L.InputSpec()], np.zeros((2, 3)), "expects 2 input"),
])
def test_input_spec_checks_each_call(spec, x, message):
    layer = _Spec(spec, name="checked")
    with pytest.raises(ValueError, match=message) as info:
        layer(x)
    assert '"checked"' in str(info.value) and "Received: " in str(info.value)


def test_input_spec_accepts_matching_inputs_and_symbolic_calls():
    layer = _Spec(L.InputSpec(ndim=3, axes={-1: 4}, allow_last_axis_squeeze=True))
    assert layer(np.zeros((2, 5, 4))).shape == (2, 5, 4)
    assert layer(L.Input((7, 4))).shape == (None, 7, 4)
    with pytest.raises(ValueError, match="expected axis -1"):
        layer(L.Input((7, 5)))


def test_prelu_sets_keras_input_spec():
    layer = L.PReLU(shared_axes=[1])
    layer(np.zeros((2, 4, 3), "float32"))
    assert repr(layer.input_spec) == "InputSpec(ndim=3, axes={2: 3})"
    assert layer(np.zeros((2, 9, 3), "float32")).shape == (2, 9, 3)  # the shared axis may vary
    with pytest.raises(ValueError, match="expected axis 2 of the input shape to have value 3"):
        layer(np.zeros((2, 4, 5), "float32"))


# -- each layer in a model trained through fit, with the captured step -------------------

def programs(model, mode="train"):
    return [e.program for k, e in model._steps.entries.items() if k[0] == mode
            and e.program is not None]


def _model(kind):
    if kind == "stacked":
        return cr.Sequential([L.Input((5, 3)), L.RNN(L.StackedRNNCells(
            [L.LSTMCell(4), L.GRUCell(3)])), L.Dense(2)]), (5, 3)
    if kind == "volume":
        return cr.Sequential([L.Input((3, 3, 3, 2)), L.ZeroPadding3D(1), L.Cropping3D(
            ((1, 0), (0, 1), (1, 1))), L.UpSampling3D((1, 2, 1)), L.Flatten(),
            L.Dense(2)]), (3, 3, 3, 2)
    if kind == "image":
        return cr.Sequential([L.Input((6, 6, 1)), L.Conv2D(2, 3), L.RandomCrop(3, 3, seed=0),
                              L.GlobalAveragePooling2D(), L.Dense(2)]), (6, 6, 1)
    body = {"gaussian_noise": [L.GaussianNoise(0.2, seed=0)],
            "gaussian_dropout": [L.GaussianDropout(0.3)],
            "alpha_dropout": [L.AlphaDropout(0.2, seed=1)],
            "activity_regularization": [L.ActivityRegularization(0.01, 0.01)],
            "prelu": [L.PReLU()], "elu": [L.ELU(0.5)], "identity": [L.Identity()],
            "unit_normalization": [L.UnitNormalization()],
            "rms_normalization": [L.RMSNormalization()]}[kind]
    return cr.Sequential([L.Input((6,)), L.Dense(5), *body, L.Dense(2)]), (6,)


KINDS = ["gaussian_noise", "gaussian_dropout", "alpha_dropout", "activity_regularization",
         "prelu", "elu", "identity", "unit_normalization", "rms_normalization", "stacked",
         "volume", "image"]


def _fit(kind, jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model, shape = _model(kind)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40,) + shape).astype("float32")
    y = rng.standard_normal((40, 2)).astype("float32")
    model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
    hist = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return model, hist.history


@pytest.mark.parametrize("kind", KINDS)
def test_layer_trains_with_the_captured_step_bit_identical_to_the_tape(kind):
    fast = _fit(kind, True)  # jit_compile=True raises when a model cannot be captured
    assert programs(fast[0]), "the model should be captured"
    slow = _fit(kind, False)
    assert slow[0]._steps.entries == {}
    for u, v in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    assert fast[1] == slow[1]


def test_noise_is_active_in_fit_and_not_in_predict():
    def trained(noise):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([L.Input((4,)), L.Dense(3), noise, L.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(0).standard_normal((16, 4)).astype("float32")
        model.fit(x, x[:, :1], batch_size=8, epochs=1, shuffle=False, verbose=0)
        return model, x

    plain, x = trained(L.Identity())
    for noise in (L.GaussianNoise(0.5), L.GaussianDropout(0.5), L.AlphaDropout(0.5)):
        noisy, _ = trained(noise)
        assert not np.allclose(plain.get_weights()[-2], noisy.get_weights()[-2])
        # predict: the noise layer is the identity, so the same weights give the same outputs
        noisy.set_weights(plain.get_weights())
        np.testing.assert_array_equal(noisy.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_stacked_cells_equal_one_rnn_per_cell_with_initial_states():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    h0, c0, g0 = (rng.standard_normal((3, n)).astype("float32") for n in (4, 4, 3))
    stacked = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_sequences=True,
                    return_state=True)
    out, h, c, g = stacked(x, initial_state=[h0, c0, g0])
    first = L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True)
    second = L.RNN(L.GRUCell(3), return_sequences=True, return_state=True)
    first.build(x.shape)
    second.build((3, 5, 4))
    first.set_weights(stacked.get_weights()[:3])
    second.set_weights(stacked.get_weights()[3:])
    mid, h1, c1 = first(x, initial_state=[h0, c0])
    out2, g2 = second(mid, initial_state=[g0])
    for a, b in ((out, out2), (h, h1), (c, c1), (g, g2)):
        close(a.numpy(), b.numpy(), rtol=1e-5)


def test_input_spec_is_also_at_the_top_level_as_keras_InputSpec():
    assert cr.InputSpec is cr.layers.InputSpec
    assert "InputSpec" in cr.__all__


def test_time_distributed_is_a_wrapper_as_in_keras_and_bidirectional_is_not():
    # Keras 3: class TimeDistributed(Wrapper), class Bidirectional(Layer)
    assert issubclass(L.TimeDistributed, L.Wrapper)
    assert not issubclass(L.Bidirectional, L.Wrapper)

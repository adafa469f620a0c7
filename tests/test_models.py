"""Models and layers: Keras's structure, naming, weights, summary and errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Activation, Dense, Dropout, Flatten, Input, LeakyReLU, Reshape, Softmax
from chainrule.models import Model, Sequential


@pytest.fixture(autouse=True)
def fresh_names():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    yield


SEED_SUMMARY = """Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
flatten (Flatten)            (None, 784)               0         
_________________________________________________________________
dense (Dense)                (None, 10)                7850      
=================================================================
Total params: 7,850
Trainable params: 7,850
Non-trainable params: 0
_________________________________________________________________
"""


def test_seed_fashion_mnist_summary_is_keras_table(capsys):
    model = Sequential()
    model.add(Flatten(input_shape=(28, 28)))
    model.add(Dense(10, activation="softmax"))
    model.summary()
    assert capsys.readouterr().out == SEED_SUMMARY
    assert model.count_params() == 7850


def test_default_names_are_numbered_like_keras():
    a, b, c = Dense(1), Dense(1), Flatten()
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "flatten")
    s1, s2 = Sequential(), Sequential()
    assert (s1.name, s2.name) == ("sequential", "sequential_1")
    cr.utils.clear_session()
    assert Dense(1).name == "dense"


def test_seed_regression_model_weights_layout():
    model = Sequential()
    model.add(Dense(3, input_dim=2, activation="sigmoid"))
    model.add(Dense(1, activation="sigmoid"))
    assert [w.shape for w in model.get_weights()] == [(2, 3), (3,), (3, 1), (1,)]
    kernel = model.get_weights()[0]
    limit = np.sqrt(6 / (2 + 3))  # glorot_uniform
    assert np.all(np.abs(kernel) <= limit) and np.all(model.get_weights()[1] == 0)


def test_set_weights_round_trip_and_errors():
    model = Sequential([Dense(2, input_dim=3), Dense(1)])
    new = [np.full(w.shape, i + 1.0, dtype=np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"Layer .dense. expects 2 weights \(\(3, 2\), \(2,\)\), but received 4"):
        model.layers[0].set_weights(new)
    bad = list(new)
    bad[0] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"'dense/kernel' has shape \(3, 2\).*\(4, 2\)"):
        model.set_weights(bad)


def test_dense_forward_is_x_at_kernel_plus_bias():
    layer = Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="zeros")
    x = np.array([[1.0, -3.0], [2.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(layer(x).numpy(), [[0.0, 0.0], [3.0, 3.0]])


def test_trainable_flag_freezes_weights():
    model = Sequential([Dense(2, input_dim=3), Dense(1)])
    assert len(model.trainable_weights) == 4
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 2


def test_functional_model_with_two_inputs_and_outputs():
    a = Input(shape=(3,), name="a")
    b = Input(shape=(2,), name="b")
    h = Dense(4, activation="tanh")(a)
    g = Dense(4)(b)
    merged = cr.layers.Activation("relu")(h)
    out1 = Dense(1, name="out1")(merged)
    out2 = Dense(2, name="out2")(g)
    model = Model([a, b], [out1, out2])
    p1, p2 = model.predict([np.ones((5, 3)), np.ones((5, 2))], verbose=0)
    assert p1.shape == (5, 1) and p2.shape == (5, 2)
    # Keras's order: by decreasing depth, so b (depth 2) comes after a's Dense
    assert [type(la).__name__ for la in model.layers] == [
        "InputLayer", "Dense", "InputLayer", "Activation", "Dense", "Dense", "Dense"]
    names = [la.name for la in model.layers]
    assert (names[0], names[2], names[-2:]) == ("a", "b", ["out1", "out2"])
    assert [t.name for t in model.inputs] == ["a", "b"]


def test_subclassed_model_tracks_layers():
    class TwoLayer(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(4, activation="relu")
            self.out = Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayer()
    y = model.predict(np.ones((3, 5)), verbose=0)
    assert y.shape == (3, 1)
    assert len(model.trainable_weights) == 4
    assert model.name == "two_layer"


def test_sequential_add_pop_and_layers():
    model = Sequential([Dense(4, input_dim=2), Dense(3), Dense(1)])
    assert len(model.layers) == 3
    popped = model.pop()
    assert popped.units == 1 and len(model.layers) == 2
    with pytest.raises(TypeError, match="expects a Layer instance"):
        model.add("dense")


def test_layer_output_shapes():
    assert Flatten()(np.zeros((2, 3, 4))).shape == (2, 12)
    assert Reshape((2, 6))(np.zeros((3, 12))).shape == (3, 2, 6)
    assert Reshape((-1, 3))(np.zeros((3, 12))).shape == (3, 4, 3)
    s = Softmax()(np.array([[1.0, 1.0]], dtype=np.float32)).numpy()
    np.testing.assert_allclose(s, [[0.5, 0.5]])
    np.testing.assert_allclose(LeakyReLU()(np.array([[-1.0, 2.0]])).numpy(), [[-0.3, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(Activation("step")(np.array([[-1.0, 2.0]])).numpy(), [[0.0, 1.0]])


def test_dropout_only_while_training_and_keeps_expectation():
    layer = Dropout(0.5, seed=1)
    x = np.ones((1000, 10), dtype=np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.05


def test_layer_argument_errors():
    with pytest.raises(ValueError, match=r"units must be a positive integer. Received: units=-3"):
        Dense(-3)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Dense"):
        Dense(3, unitz=4)
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\). Received: rate=1.5"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="Unknown activation"):
        Dense(3, activation="relux")


def test_wrong_feature_size_names_layer_and_suggests_flatten():
    model = Sequential([Dense(10, input_shape=(784,), activation="softmax")])
    with pytest.raises(ValueError, match=r'layer "dense".*expected last dimension 784, received '
                                         r"shape \(None, 28, 28\)\. Did you forget a Flatten layer\?"):
        model.predict(np.zeros((4, 28, 28)), verbose=0)


def test_legacy_init_uniform_is_keras1_uniform():
    with pytest.warns(DeprecationWarning, match="kernel_initializer"):
        layer = Dense(50, input_dim=40, init="uniform")
    layer(np.zeros((1, 40)))
    k = layer.get_weights()[0]
    assert np.all(np.abs(k) <= 0.05) and np.abs(k).max() > 0.04


def test_get_config_round_trip_sequential():
    model = Sequential([Dense(4, input_dim=3, activation="relu"), Dropout(0.2), Dense(2, activation="softmax")])
    clone = Sequential.from_config(model.get_config())
    assert [type(la).__name__ for la in clone.layers] == ["Dense", "Dropout", "Dense"]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert clone.layers[0].get_config()["activation"] == "relu"


def test_get_config_round_trip_functional():
    a = Input(shape=(3,))
    h = Dense(4, activation="tanh")(a)
    out = Dense(2)(h)
    model = Model(a, out)
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_default_layer_names_follow_keras_snake_case():
    from chainrule.layers.base import to_snake_case

    assert to_snake_case("Dense") == "dense"
    assert to_snake_case("InputLayer") == "input_layer"
    assert to_snake_case("ZeroPadding2D") == "zero_padding2d"
    assert to_snake_case("Conv2DTranspose") == "conv2d_transpose"
    assert to_snake_case("GlobalAveragePooling1D") == "global_average_pooling1d"


def _two_input_model():
    a = Input(shape=(2,), name="a")
    b = Input(shape=(3,), name="b")
    out = Dense(1, name="out")(cr.layers.concatenate([a, cr.layers.Dense(2)(b)]))
    return Model([a, b], out)


def test_dict_inputs_are_matched_to_named_inputs_not_by_order():
    # Keras matches a dict x to the Inputs by name, whatever the dict's order
    model = _two_input_model()
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")
    want = model.predict([a, b], verbose=0)
    np.testing.assert_array_equal(model.predict({"b": b, "a": a}, verbose=0), want)
    np.testing.assert_array_equal(model({"b": b, "a": a}).numpy(), want)
    model.compile(optimizer="sgd", loss="mse")
    ds = cr.utils.BatchDataset.from_arrays(({"b": b, "a": a}, np.zeros((6, 1))), batch_size=3)
    assert np.isfinite(model.fit(ds, epochs=1, verbose=0).history["loss"][0])
    np.testing.assert_allclose(model.evaluate({"b": b, "a": a}, np.zeros((6, 1)), verbose=0),
                               model.evaluate([a, b], np.zeros((6, 1)), verbose=0), rtol=1e-6)
    # a model built on a dict of inputs reads a dict by its own keys
    inputs = {"x": Input(shape=(2,), name="first"), "y": Input(shape=(3,), name="second")}
    keyed = Model(inputs, model([inputs["x"], inputs["y"]]))
    np.testing.assert_allclose(keyed.predict({"y": b, "x": a}, verbose=0),
                               model.predict([a, b], verbose=0), rtol=1e-6)


def test_dataset_batches_get_the_declared_last_axis_of_one():
    # a dataset of (batch,) columns for Inputs of shape (1,), as Keras's structured-data example
    x = Input(shape=(1,), name="x")
    model = Model(x, Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    ds = cr.utils.BatchDataset.from_arrays(({"x": np.arange(8.0)}, np.arange(8.0)), batch_size=4)
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2
    assert model.predict(ds.map(lambda x, y: x), verbose=0).shape == (8, 1)


def test_dict_outputs_predict_a_dict_and_every_output_trains():
    x = Input(shape=(3,), name="x")
    h = Dense(4)(x)
    model = Model(x, {"priority": Dense(1, name="priority")(h),
                      "department": Dense(4, name="department")(h)})
    model.compile(optimizer="sgd",
                  loss={"priority": "mse",
                        "department": cr.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2})
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(8, 3)).astype("float32")
    yp, yd = rng.normal(size=(8, 1)), np.eye(4)[rng.integers(0, 4, 8)]
    pred = model.predict(xs, verbose=0)
    assert isinstance(pred, dict) and list(pred) == ["priority", "department"]
    assert pred["priority"].shape == (8, 1) and pred["department"].shape == (8, 4)
    # y as a dict in another order is matched by output name
    logs = model.evaluate(xs, {"department": yd, "priority": yp}, verbose=0, return_dict=True)
    want_p = np.mean((pred["priority"] - yp) ** 2)
    z = pred["department"] - pred["department"].max(1, keepdims=True)
    want_d = np.mean(-(yd * (z - np.log(np.exp(z).sum(1, keepdims=True)))).sum(1))
    np.testing.assert_allclose(logs["priority_loss"], want_p, rtol=1e-5)
    np.testing.assert_allclose(logs["department_loss"], want_d, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], want_p + 0.2 * want_d, rtol=1e-5)
    hist = model.fit(xs, {"department": yd, "priority": yp}, epochs=2, verbose=0).history
    assert all(v > 0 for v in hist["department_loss"])


def test_functional_model_input_and_output_keep_their_structure():
    model = _two_input_model()
    assert model.input == model.inputs and model.output is model.outputs[0]
    inner = [layer.output for layer in model.layers]
    assert len(Model(model.input, inner).outputs) == len(model.layers)


def test_summary_of_an_unbuilt_model_lists_its_layers_as_keras_3_does():
    lines = []
    model = cr.Sequential([cr.layers.Dense(2, name="a"), cr.layers.Dense(1, name="b")])
    model.summary(print_fn=lines.append)
    rows = [line for line in lines if line.startswith(("a (Dense)", "b (Dense)"))]
    assert [r.split() for r in rows] == [["a", "(Dense)", "?", "0", "(unbuilt)"],
                                         ["b", "(Dense)", "?", "0", "(unbuilt)"]]
    assert "Total params: 0" in lines
    model.build((None, 3))
    lines.clear()
    model.summary(print_fn=lines.append)
    assert "Total params: 11" in lines and not any("unbuilt" in line for line in lines)


def test_a_float64_layer_takes_numpy_input_at_float64():
    """Keras casts a layer's float inputs to its dtype: a float64 array must not be rounded
    through float32 on its way into a float64 layer."""
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer = Dense(1, dtype="float64")
    out = layer(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), x @ layer.kernel.numpy() + layer.bias.numpy())
    assert Dense(1)(x).dtype == np.float32  # a floatx layer still takes floatx


def test_shared_layer_fed_its_own_output_rebuilds_from_config(tmp_path):
    # a layer's second call takes (through another layer) its first call's output: the
    # config is rebuilt call by call, as Keras does, not layer by layer
    emb = cr.layers.ReversibleEmbedding(20, 8, name="emb")
    x = Input((5,), dtype="int32")
    h = Dense(8, name="mix")(emb(x))
    model = Model(x, emb(h, reverse=True))
    tokens = np.random.default_rng(0).integers(0, 20, (2, 5))
    want = model.predict(tokens, verbose=0)
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(tokens, verbose=0), want)
    model.save(tmp_path / "tied.keras")
    loaded = cr.saving.load_model(tmp_path / "tied.keras")
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0), want)
    d = Dense(3, name="twice")
    a = Input((3,))
    twice = Model(a, d(cr.layers.Activation("tanh")(d(a))))
    rebuilt = Model.from_config(twice.get_config())
    assert [len(la._inbound_nodes) for la in rebuilt.layers if la.name == "twice"] == [2]


def test_config_whose_calls_wait_on_each_other_names_the_layers():
    a = Input((3,), name="a")
    d = Dense(3, name="d")
    model = Model(a, d(d(a)))
    config = model.get_config()
    entry = next(e for e in config["layers"] if e["name"] == "d")
    entry["inbound_nodes"][0] = [["d", 1, 0]]  # the first call waits on the second
    with pytest.raises(ValueError, match=r"layers \['d'\] have inputs that are never produced"):
        Model.from_config(config)


def test_input_shape_as_keras():
    x, a = Input((4,)), Input((3,))
    y = Dense(2)(x)
    assert Model(x, y).input_shape == (None, 4)
    assert Model([x, a], [y, a]).input_shape == [(None, 4), (None, 3)]
    assert Sequential([Input((4,)), Dense(2)]).input_shape == (None, 4)
    seq = Sequential([Dense(2)])
    with pytest.raises(AttributeError, match=r"has no defined input shape yet.*Received: an "
                                             r"unbuilt Sequential"):
        _ = seq.input_shape
    seq(np.zeros((3, 5), "float32"))
    assert seq.input_shape == (None, 5)


def test_sequential_config_names_its_dtype_policy_as_keras():
    seq = Sequential([Input((4,)), Dense(2)], name="s")
    config = seq.get_config()
    assert list(config)[:3] == ["name", "trainable", "dtype"]
    assert config["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "float32"}, "registered_name": None}
    assert Sequential.from_config(config).get_config() == config

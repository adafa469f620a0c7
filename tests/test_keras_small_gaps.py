"""Keras 3 names filled outside ops: initializer aliases, metric functions, activations, Config."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

INIT = cr.initializers


@pytest.mark.parametrize("alias,cls", [
    ("zeros", "Zeros"), ("ones", "Ones"), ("constant", "Constant"), ("identity", "Identity"),
    ("IdentityInitializer", "Identity"), ("orthogonal", "Orthogonal"),
    ("OrthogonalInitializer", "Orthogonal"), ("random_normal", "RandomNormal"),
    ("random_uniform", "RandomUniform"), ("truncated_normal", "TruncatedNormal"),
    ("variance_scaling", "VarianceScaling"), ("glorot_uniform", "GlorotUniform"),
    ("glorot_normal", "GlorotNormal"), ("he_uniform", "HeUniform"), ("he_normal", "HeNormal"),
    ("lecun_uniform", "LecunUniform"), ("lecun_normal", "LecunNormal"),
])
def test_initializer_aliases_are_the_classes(alias, cls):
    assert getattr(INIT, alias) is getattr(INIT, cls) and alias in INIT.__all__
    if alias.islower():
        assert type(INIT.get(alias)) is getattr(INIT, cls)


def test_initializer_alias_draws_like_the_class():
    a = INIT.glorot_uniform(seed=3)((4, 5))
    b = INIT.GlorotUniform(seed=3)((4, 5))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(INIT.constant(2.0)((2,))), [2.0, 2.0])


def test_focal_crossentropy_functions_in_metrics():
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    y_pred = np.array([[0.3, 0.7], [0.6, 0.4]])
    got = np.asarray(cr.metrics.binary_focal_crossentropy(y_true, y_pred, gamma=2.0))
    # Keras: mean over the last axis of -(y (1-p)^g log p + (1-y) p^g log(1-p))
    p = np.clip(y_pred, 1e-7, 1 - 1e-7)
    ref = -(y_true * (1 - p) ** 2 * np.log(p) + (1 - y_true) * p ** 2 * np.log(1 - p))
    np.testing.assert_allclose(got, ref.mean(-1), rtol=1e-5)
    assert cr.metrics.categorical_focal_crossentropy is cr.losses.categorical_focal_crossentropy


def test_sparse_sigmoid_values_and_gradient():
    x = np.array([-3.0, -1.5, -0.5, 0.0, 0.25, 0.9, 1.5, 4.0])
    ref = np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1)))
    np.testing.assert_allclose(np.asarray(cr.activations.sparse_sigmoid(cr.Tensor(x))), ref)
    assert cr.activations.get("sparse_sigmoid") is cr.activations.sparse_sigmoid
    result = check_gradients(cr.activations.sparse_sigmoid, x)  # no point on a kink
    assert result.ok, str(result)
    layer = cr.layers.Dense(2, activation="sparse_sigmoid")
    assert cr.layers.Dense.from_config(layer.get_config()).activation is \
        cr.activations.sparse_sigmoid


def test_config_container():
    c = cr.utils.Config(learning_rate=0.1, momentum=0.9)
    c.use_ema = True
    c["seed"] = 123
    assert c.seed == 123 and c["learning_rate"] == 0.1 and "use_ema" in c and len(c) == 4
    assert list(c) == ["learning_rate", "momentum", "seed", "use_ema"]
    assert list(c.keys()) == ["learning_rate", "momentum", "use_ema", "seed"]
    assert c.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "seed": 123}
    assert c.to_json() == '{"learning_rate": 0.1, "momentum": 0.9, "use_ema": true, "seed": 123}'
    assert c.get("nope", 5) == 5 and c.pop("seed") == 123
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        c.momentun  # noqa: B018
    c.freeze()
    assert c.frozen
    for change in (lambda: setattr(c, "x", 1), lambda: c.update(a=1),
                   lambda: c.__setitem__("x", 1), lambda: c.__delitem__("momentum")):
        with pytest.raises(ValueError, match="frozen"):
            change()
    c.unfreeze()
    del c["momentum"]
    assert pickle.loads(pickle.dumps(c)).as_dict() == c.as_dict()


def test_spatial_dropout3d_drops_whole_channels():
    x = np.ones((4, 2, 3, 3, 6), "float32")
    y = np.asarray(cr.layers.SpatialDropout3D(0.5, seed=2)(x, training=True))
    assert np.array_equal(y, np.broadcast_to(y[:, :1, :1, :1, :], y.shape))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.0 in y and 2.0 in y
    yf = np.asarray(cr.layers.SpatialDropout3D(0.5, data_format="channels_first", seed=2)(
        x, training=True))
    assert np.array_equal(yf, np.broadcast_to(yf[:, :, :1, :1, :1], yf.shape))
    assert np.array_equal(np.asarray(cr.layers.SpatialDropout3D(0.5)(x)), x)
    with pytest.raises(ValueError, match=r"expects 5-D input"):
        cr.layers.SpatialDropout3D(0.5)(np.ones((2, 3, 3, 4)), training=True)


def test_spatial_dropout3d_model_is_captured():
    model = cr.Sequential([cr.Input((2, 2, 2, 3)), cr.layers.SpatialDropout3D(0.3, seed=0),
                           cr.layers.Flatten(), cr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.random.default_rng(0).normal(size=(16, 2, 2, 2, 3)).astype("float32")
    model.fit(x, x.sum(axis=(1, 2, 3, 4))[:, None], batch_size=4, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())


def test_layers_serialize_round_trip():
    layer = cr.layers.Dense(3, activation="relu", name="d")
    config = cr.layers.serialize(layer)
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    again = cr.layers.deserialize(config)
    assert type(again) is cr.layers.Dense and again.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="Unknown layer class"):
        cr.layers.deserialize({"class_name": "Dence", "config": {}})


def test_pipeline_trains_by_default_and_follows_the_model_mode():
    x = np.arange(2 * 3 * 4 * 1, dtype="float32").reshape(2, 3, 4, 1)
    pipe = cr.layers.Pipeline([cr.layers.RandomFlip("horizontal", seed=1),
                               cr.layers.Rescaling(2.0)])
    flips = [np.asarray(pipe(x)) for _ in range(6)]
    # augmented when called directly (training=True): each sample as is or flipped
    assert any(not np.array_equal(f, 2 * x) for f in flips)
    for f in flips:
        for i in range(2):
            assert np.array_equal(f[i], 2 * x[i]) or np.array_equal(f[i], 2 * x[i, :, ::-1])
    np.testing.assert_array_equal(np.asarray(pipe(x, training=False)), 2 * x)
    model = cr.Sequential([cr.Input((3, 4, 1)), pipe])
    np.testing.assert_array_equal(model.predict(x, verbose=0), 2 * x)  # inference mode


def test_pipeline_weights_config_and_saving(tmp_path):
    pipe = cr.layers.Pipeline([cr.layers.Dense(3), cr.layers.Dense(2)], name="pipe")
    model = cr.Sequential([cr.Input((4,)), pipe])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    model.fit(x, x[:, :2], batch_size=4, epochs=2, verbose=0)
    assert len(pipe.weights) == 4 and pipe.layers[0].kernel.shape == (4, 3)
    assert any(e.program is not None for e in model._steps.entries.values())
    model.save(tmp_path / "p.keras")
    again = cr.models.load_model(tmp_path / "p.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    config = cr.layers.serialize(pipe)
    assert [c["class_name"] for c in config["config"]["layers"]] == ["Dense", "Dense"]
    with pytest.raises(ValueError, match=r"layers must be a list of layers"):
        cr.layers.Pipeline("dense")
    with pytest.raises(ValueError, match=r"must contain a `layers` key"):
        cr.layers.Pipeline.from_config({"name": "p"})


def _fixture(name):
    import json
    import os

    with open(os.path.join(os.path.dirname(__file__), "fixtures", name), encoding="utf-8") as f:
        return json.load(f)


def test_hashed_crossing_matches_keras():
    data = _fixture("hashed_crossing.json")  # tools/keras_fixtures_hashed_crossing.py
    assert data["keras"].startswith("3.")
    for case in data["cases"]:
        feats = tuple(np.array(f, dtype=object if t == "string" else t)
                      for f, t in zip(case["features"], case["dtypes"]))
        layer = cr.layers.HashedCrossing(case["num_bins"])
        out = layer(feats)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(np.asarray(out), case["output"])
        hot = np.asarray(cr.layers.HashedCrossing(case["num_bins"], output_mode="one_hot")(
            tuple(f[:, None] for f in feats))) if case["num_bins"] < 100 else None
        if hot is not None:
            np.testing.assert_array_equal(hot, np.eye(case["num_bins"])[case["output"]])


def test_hashed_crossing_shapes_config_and_errors(tmp_path):
    layer = cr.layers.HashedCrossing(5)
    assert int(np.asarray(layer((np.array("A"), np.array(101))))) == 1  # Keras's example
    assert tuple(layer((np.array([["A"]]), np.array([[101]]))).shape) == (1, 1)
    assert cr.layers.deserialize(cr.layers.serialize(layer)).get_config() == layer.get_config()
    a, b = cr.Input((1,), dtype="string"), cr.Input((1,), dtype="int64")
    model = cr.Model([a, b], cr.layers.Dense(1)(
        cr.layers.HashedCrossing(7, output_mode="one_hot")((a, b))))
    xs = [np.array([["A"], ["B"], ["C"]]), np.array([[1], [2], [3]])]
    model.save(tmp_path / "hc.keras")
    again = cr.models.load_model(tmp_path / "hc.keras")
    np.testing.assert_array_equal(again.predict(xs, verbose=0), model.predict(xs, verbose=0))
    for bad, match in [((np.array([1.5]), np.array([1])), "integer or string dtype"),
                       ((np.array([1, 2]), np.array([1])), "equal shapes"),
                       ((np.ones((2, 2), int), np.ones((2, 2), int)), "should have shape"),
                       (np.array([1, 2]), "at least two inputs")]:
        with pytest.raises(ValueError, match=match):
            layer(bad)
    with pytest.raises(ValueError, match=r"Received: output_mode='multi_hot'"):
        cr.layers.HashedCrossing(5, output_mode="multi_hot")
    with pytest.raises(ValueError, match=r"Received: num_bins=0"):
        cr.layers.HashedCrossing(0)


def test_categorical_generalized_cross_entropy_values_and_gradient():
    yt = np.array([0, 1, 2])
    yp = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    fn = cr.losses.categorical_generalized_cross_entropy
    ref = (1 - np.array([0.7, 0.5, 0.8]) ** 0.3) / 0.3
    np.testing.assert_allclose(np.asarray(fn(yt, yp, q=0.3)), ref, rtol=1e-6)
    # Keras 3.15's numbers (q=0.5): per sample and through the class
    np.testing.assert_allclose(np.asarray(fn(yt, yp.astype("float32"), q=0.5)),
                               [0.32667994, 0.58578646, 0.21114564], rtol=1e-6)
    loss = cr.losses.CategoricalGeneralizedCrossEntropy(q=0.5)
    assert float(loss(yt, yp)) == pytest.approx(0.37453735, rel=1e-6)
    assert float(loss(yt[:, None], yp)) == pytest.approx(0.37453735, rel=1e-6)
    result = check_gradients(lambda p: fn(yt, p, q=0.4), yp)
    assert result.ok, str(result)
    again = cr.losses.deserialize(cr.losses.serialize(loss))
    assert type(again) is type(loss) and again.q == 0.5
    assert cr.losses.get("categorical_generalized_cross_entropy") is fn
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"q must be in the interval \(0, 1\)\. "
                                             rf"Received: q={bad!r}"):
            cr.losses.CategoricalGeneralizedCrossEntropy(q=bad)


def test_generalized_cross_entropy_trains_captured():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = cr.Sequential([cr.Input((4,)), cr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss=cr.losses.CategoricalGeneralizedCrossEntropy(0.7),
                  jit_compile=True)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert any(e.program is not None for e in model._steps.entries.values())

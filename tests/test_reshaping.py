"""Reshaping layers: Keras 3's recorded outputs and output shapes, configs, errors naming the
layer and the shape, spatial dropout's shared masks, gradients and replay."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L
from chainrule.gradcheck import check_gradients

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "norm_keras.npz")


def fixture():
    data = np.load(FIXTURE)
    return data, json.loads(str(data["meta"]))


def cases():
    return [c for c in fixture()[1]["reshaping"] if not c["class"].startswith("SpatialDropout")]


@pytest.mark.parametrize("case", cases(), ids=[c["name"] for c in cases()])
def test_outputs_and_output_shapes_match_keras(case):
    data, _ = fixture()
    layer = getattr(L, case["class"])(**case["kwargs"])
    x = data[f"reshape/{case['name']}/x"]
    np.testing.assert_allclose(layer(x).numpy(), data[f"reshape/{case['name']}/y"], rtol=1e-5,
                               atol=1e-6)
    shape = (None,) + x.shape[1:]
    assert list(layer.compute_output_shape(shape)) == case["output_shape"]


@pytest.mark.parametrize("case", fixture()[1]["reshaping"],
                         ids=[c["name"] for c in fixture()[1]["reshaping"]])
def test_config_keys_are_keras_and_round_trip(case):
    _, meta = fixture()
    layer = getattr(L, case["class"])(**case["kwargs"])
    config = layer.get_config()
    ours = set(config) - {"name", "dtype"}
    assert set(meta["configs"][case["class"]]) <= ours
    assert ours - set(meta["configs"][case["class"]]) <= {"trainable"}
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


def test_spatial_dropout_shares_the_mask_over_the_spatial_axes():
    cr.utils.set_random_seed(0)
    x = np.ones((8, 5, 6), dtype="float32")
    y = L.SpatialDropout1D(0.5)(x, training=True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert (y == y[:, :1, :]).all()
    x4 = np.ones((8, 3, 4, 6), dtype="float32")
    y4 = L.SpatialDropout2D(0.5)(x4, training=True).numpy()
    assert (y4 == y4[:, :1, :1, :]).all() and set(np.unique(y4)) == {0.0, 2.0}
    yf = L.SpatialDropout2D(0.5, data_format="channels_first")(x4, training=True).numpy()
    assert (yf == yf[:, :, :1, :1]).all()
    np.testing.assert_array_equal(L.SpatialDropout1D(0.5)(x).numpy(), x)  # inference


def test_spatial_dropout_draws_a_new_mask_at_every_replayed_step():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Input((4, 3)), L.SpatialDropout1D(0.5), L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse", jit_compile=True)
    x = np.ones((8, 4, 3), dtype="float32")
    y = np.zeros((8, 1), dtype="float32")
    losses = [model.train_on_batch(x, y) for _ in range(6)]
    assert any(e.program is not None for e in model._steps.entries.values())
    assert len(set(np.round(losses, 6))) > 2  # masks differ from step to step


GRADS = [
    ("zero_padding_2d", lambda x: L.ZeroPadding2D(((1, 0), (2, 1)))(x), (2, 3, 3, 2)),
    ("cropping_2d", lambda x: L.Cropping2D(((1, 0), (0, 2)))(x), (2, 4, 5, 2)),
    ("cropping_1d", lambda x: L.Cropping1D((1, 1))(x), (2, 4, 2)),
    ("up_sampling_1d", lambda x: L.UpSampling1D(2)(x), (2, 3, 2)),
    ("up_sampling_2d", lambda x: L.UpSampling2D((2, 3))(x), (2, 2, 2, 1)),
    ("up_sampling_2d_bilinear", lambda x: L.UpSampling2D(2, interpolation="bilinear")(x),
     (1, 3, 2, 2)),
    ("permute", lambda x: L.Permute((2, 1))(x), (2, 3, 4)),
    ("repeat_vector", lambda x: L.RepeatVector(3)(x), (2, 4)),
    ("rescaling", lambda x: L.Rescaling([1.0, 2.0], offset=0.5)(x), (3, 2)),
]


@pytest.mark.parametrize("name,fn,shape", GRADS, ids=[g[0] for g in GRADS])
def test_gradients(name, fn, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    result = check_gradients(fn, x, tolerance=1e-6)
    assert result.ok, str(result)


@pytest.mark.parametrize("layer,shape,match", [
    (lambda: L.ZeroPadding2D(name="zp"), (32, 28, 28),
     r'"zp" \(ZeroPadding2D\) expects 4-D input \(batch, height, width, channels\), received '
     r"shape \(32, 28, 28\). Add a channel axis"),
    (lambda: L.Cropping1D(name="c"), (2, 3, 4, 5), "expects 3-D input"),
    (lambda: L.Cropping1D((2, 2), name="c"), (2, 4, 3), "removes all"),
    (lambda: L.Cropping2D(2, name="c"), (2, 4, 9, 1), "not smaller"),
    (lambda: L.UpSampling2D(data_format="channels_first", name="u"), (2, 3, 4),
     r"\(batch, channels, height, width\)"),
    (lambda: L.Permute((2, 1), name="p"), (2, 3), "expects 3-D input"),
    (lambda: L.RepeatVector(2, name="rv"), (2, 3, 4), "expects 2-D input"),
    (lambda: L.SpatialDropout2D(0.1, name="sd"), (2, 3, 4), "expects 4-D input"),
])
def test_wrong_inputs_name_the_layer_and_the_shape(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(np.zeros(shape, dtype="float32"))


@pytest.mark.parametrize("make,match", [
    (lambda: L.ZeroPadding2D(padding=(1, 2, 3)), "padding"),
    (lambda: L.ZeroPadding1D(padding=-1), "non-negative"),
    (lambda: L.Cropping2D(cropping=((1, 2), (1,))), "2nd entry of cropping"),
    (lambda: L.UpSampling1D(size=0), "positive"),
    (lambda: L.UpSampling2D(size=(0, 2)), "positive"),
    (lambda: L.UpSampling2D(interpolation="bicubic"), "interpolation"),
    (lambda: L.ZeroPadding2D(data_format="channel_last"), "Did you mean 'channels_last'"),
    (lambda: L.Permute((1, 3)), "permutation"),
    (lambda: L.RepeatVector(0), "positive"),
    (lambda: L.Rescaling("x"), "scale"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_repeat_vector_rejects_a_float():
    with pytest.raises(TypeError, match="integer"):
        L.RepeatVector(2.5)


def test_model_of_reshaping_layers_replays_bit_identically_and_saves(tmp_path):
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([
            L.Input((12,)), L.Dense(12), L.Reshape((3, 2, 2)), L.ZeroPadding2D(1),
            L.Cropping2D(((1, 0), (0, 1))), L.UpSampling2D(2), L.SpatialDropout2D(0.2),
            L.Permute((3, 1, 2)), L.Reshape((2, -1)), L.ZeroPadding1D(1), L.Cropping1D((0, 1)),
            L.UpSampling1D(2), L.Flatten(), L.RepeatVector(2), L.Flatten(), L.Rescaling(0.5, 1.0),
            L.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        data = np.random.default_rng(3)
        x = data.standard_normal((32, 12)).astype("float32")
        y = data.standard_normal((32, 1)).astype("float32")
        h = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model, h.history, x

    fast, slow = run(True), run(False)
    for u, v in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    assert fast[1] == slow[1]
    path = tmp_path / "r.keras"
    fast[0].save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(fast[0].predict(fast[2], verbose=0),
                                  loaded.predict(fast[2], verbose=0))

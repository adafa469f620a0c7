"""Colour augmentation layers and colour ops (ops.image): Keras's numbers, draws, life cycle.

Deterministic settings are compared with Keras 3 (tests/fixtures/keras_color_aug.npz,
recorded by tools/keras_color_aug_fixtures.py, which also stores the settings); random
settings are checked by their structure (one factor per image, ranges, seeds) against
NumPy computations here.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

L = cr.layers
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_color_aug.npz")
KERAS = np.load(FIXTURE)
SPEC = json.loads(str(KERAS["spec"]))
RNG = np.random.default_rng(0)
GRAY = np.array([0.2989, 0.5870, 0.1140])


def _kwargs(kw: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}


def _close(actual, expected, scale):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale)


def _images(n=8, h=6, w=5, scale=255.0, channels=3):
    return RNG.uniform(0, scale, size=(n, h, w, channels)).astype("float32")


def test_fixture_records_keras_3():
    assert str(KERAS["keras_version"]).startswith("3.")
    assert str(KERAS["backend"]) == "tensorflow"


# -- Keras's numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPEC["layers"]))
def test_layer_matches_keras(name):
    cls, kw, training = SPEC["layers"][name]
    x, ref = KERAS[f"{name}__x"], KERAS[f"{name}__y"]
    y = getattr(L, cls)(**_kwargs(kw))(x, training=training).numpy()
    assert y.shape == ref.shape and y.dtype == np.float32
    _close(y, ref, float(np.abs(ref).max()))


@pytest.mark.parametrize("name", sorted(SPEC["ops"]))
def test_op_matches_keras(name):
    op, kw = SPEC["ops"][name]
    x, ref = KERAS[f"{name}__x"], KERAS[f"{name}__y"]
    y = getattr(cr.ops.image, op)(x, **_kwargs(kw)).numpy()
    assert y.shape == ref.shape
    _close(y, ref, 1.0)


@pytest.mark.parametrize("name", sorted(SPEC["transforms"]))
def test_given_draws_match_keras_transform_images(name):
    """Keras's transform_images with a given transformation = our transform with that table."""
    cls, kw, given = SPEC["transforms"][name]
    x, ref = KERAS[f"{name}__x"], KERAS[f"{name}__y"]
    layer = getattr(L, cls)(**_kwargs(kw))
    if cls == "RandomHue":
        params = np.asarray(given["factor"], "float32")[:, None]
    else:  # Solarization: (additions, thresholds) per image
        params = np.stack([np.ravel(given["additions"]), np.ravel(given["thresholds"])],
                          axis=1).astype("float32")
    y = layer._transform(cr.ops.convert_to_tensor(x), cr.ops.convert_to_tensor(params))
    _close(y.numpy(), ref, float(layer.value_range[1]))


def test_hsv_round_trip_and_known_colours():
    rgb = RNG.uniform(size=(3, 4, 4, 3)).astype("float32")
    back = cr.ops.image.hsv_to_rgb(cr.ops.image.rgb_to_hsv(rgb)).numpy()
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    colours = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], "float32")
    hsv = cr.ops.image.rgb_to_hsv(colours[None]).numpy()[0]
    np.testing.assert_allclose(hsv, [[0, 1, 1], [1 / 3, 1, 1], [2 / 3, 1, 1], [0, 0, 0.5]],
                               atol=1e-7)


def test_grayscale_is_the_luma_and_blur_keeps_the_mass():
    x = RNG.uniform(size=(2, 3, 4, 3))
    np.testing.assert_allclose(cr.ops.image.rgb_to_grayscale(x).numpy()[..., 0], x @ GRAY)
    one = np.ones((1, 4, 4, 1), "float32")
    np.testing.assert_array_equal(cr.ops.image.rgb_to_grayscale(one).numpy(), one)
    img = np.zeros((9, 9, 2))
    img[4, 4] = 1.0
    out = cr.ops.image.gaussian_blur(img, 5, 1.2).numpy()
    np.testing.assert_allclose(out.sum(axis=(0, 1)), [1.0, 1.0])
    t = np.arange(5) - 2.0
    k = np.exp(-0.5 * (t / 1.2) ** 2)
    np.testing.assert_allclose(out[2:7, 2:7, 0], np.outer(k, k) / k.sum() ** 2, rtol=1e-12)


# -- gradients (float64) -----------------------------------------------------------------------


def _smooth_rgb(shape):
    """Colours away from the kinks of the HSV maps (distinct channels, no grays)."""
    x = RNG.uniform(0.1, 0.9, size=shape)
    x[..., 0] += 0.05  # keep channel orders strict
    return x


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_rgb_to_grayscale_gradient(data_format):
    x = _smooth_rgb((2, 3, 3, 3))
    assert check_gradients(lambda t: cr.ops.image.rgb_to_grayscale(t, data_format), x)


def test_rgb_to_hsv_gradient():
    x = _smooth_rgb((2, 3, 4, 3))
    assert check_gradients(lambda t: cr.ops.image.rgb_to_hsv(t), x, tolerance=1e-5)


def test_hsv_to_rgb_gradient():
    hsv = RNG.uniform(0.05, 0.95, size=(2, 3, 4, 3))
    hsv[..., 0] = RNG.choice([0.08, 0.25, 0.41, 0.58, 0.75, 0.91], size=(2, 3, 4))
    assert check_gradients(lambda t: cr.ops.image.hsv_to_rgb(t, "channels_last"), hsv,
                           tolerance=1e-5)


@pytest.mark.parametrize("kw", [{}, {"kernel_size": (5, 3), "sigma": (0.7, 1.3)},
                                {"kernel_size": 4, "data_format": "channels_first"}])
def test_gaussian_blur_gradient(kw):
    x = RNG.normal(size=(2, 2, 6, 5) if kw.get("data_format") else (2, 6, 5, 2))
    assert check_gradients(lambda t: cr.ops.image.gaussian_blur(t, **kw), x)


def test_filter2d_gradient_with_an_uneven_kernel():
    from chainrule.ops.image_color import Filter2D

    kernel = RNG.normal(size=(3, 2))
    assert check_gradients(lambda t: Filter2D(kernel)(t), RNG.normal(size=(2, 5, 4, 2)))


# -- random draws: structure, ranges, seeds ----------------------------------------------------


def test_grayscale_draws_whole_images():
    x = _images(n=400, h=2, w=2)
    y = L.RandomGrayscale(0.3, seed=1)(x).numpy()
    gray = np.repeat((x @ GRAY.astype("float32"))[..., None], 3, -1)
    turned = np.isclose(y, gray, rtol=1e-6).all(axis=(1, 2, 3))
    kept = (y == x).all(axis=(1, 2, 3))
    assert (turned ^ kept).all()
    assert 0.22 < turned.mean() < 0.38


def test_hue_shift_is_one_signed_draw_per_image():
    x = RNG.uniform(0.2, 0.8, size=(64, 3, 3, 3)).astype("float32")
    y = L.RandomHue((0.2, 0.6), value_range=(0, 1), seed=3)(x).numpy()
    h0 = cr.ops.image.rgb_to_hsv(x).numpy()[..., 0]
    h1 = cr.ops.image.rgb_to_hsv(y).numpy()[..., 0]
    d = (h1 - h0 + 0.5) % 1.0 - 0.5  # the turn, in [-0.5, 0.5)
    assert np.allclose(d, d[:, :1, :1], atol=1e-4)
    mag = np.abs(d[:, 0, 0])
    assert (mag > 0.1 - 1e-4).all() and (mag < 0.3 + 1e-4).all()
    assert 0.3 < (d[:, 0, 0] > 0).mean() < 0.7


def test_saturation_scale_is_one_draw_per_image():
    x = RNG.uniform(0.2, 0.8, size=(32, 3, 3, 3)).astype("float32")
    y = L.RandomSaturation((0.2, 0.4), value_range=(0, 1), seed=0)(x).numpy()
    s0 = cr.ops.image.rgb_to_hsv(x).numpy()[..., 1]
    s1 = cr.ops.image.rgb_to_hsv(y).numpy()[..., 1]
    ratio = s1 / s0
    assert np.allclose(ratio, ratio[:, :1, :1], rtol=1e-4)
    r = ratio[:, 0, 0]
    assert (r >= 0.2 / 0.8 - 1e-4).all() and (r <= 0.4 / 0.6 + 1e-4).all()


def test_degeneration_blend_is_one_draw_per_image():
    x = _images(n=32)
    y = L.RandomColorDegeneration((0.1, 0.3), seed=0)(x).numpy()
    gray = (x.astype("float64") @ GRAY)[..., None]
    apart = np.abs(gray - x) > 5.0  # the blend is measurable there
    f = np.where(apart, (y - x) / np.where(apart, gray - x, 1.0), np.nan)
    per_image = np.nanmedian(f.reshape(32, -1), axis=1)
    spread = np.abs(f - per_image[:, None, None, None])[apart]
    assert spread.max() < 1e-3
    assert (per_image > 0.1 - 1e-3).all() and (per_image < 0.3 + 1e-3).all()


def test_invert_blur_and_posterization_act_per_image():
    x = _images(n=300, h=4, w=4)
    y = L.RandomInvert(seed=0)(x).numpy()  # factor 1.0: probability drawn in [0, 1]
    inverted = (y == 255 - x).all(axis=(1, 2, 3))
    assert (inverted ^ (y == x).all(axis=(1, 2, 3))).all() and 0.4 < inverted.mean() < 0.6
    y = L.RandomGaussianBlur(seed=0)(x).numpy()
    kept = (y == x).all(axis=(1, 2, 3))
    assert 0.4 < kept.mean() < 0.6
    y = L.RandomPosterization((2, 5), seed=0)(x).numpy()
    steps = [np.all(img % 2 ** (8 - b) == 0) for img in y for b in (2, 3, 4)]
    assert np.reshape(steps, (-1, 3)).any(axis=1).all()
    coarse = np.array([np.all(img % 64 == 0) for img in y])  # 2 bits kept
    assert 0.2 < coarse.mean() < 0.5  # bits drawn from 2, 3, 4


def test_sharpness_solarization_and_jitter_stay_in_range():
    x = _images(n=16, scale=1.0)
    for layer in (L.RandomSharpness(1.0, value_range=(0, 1), seed=0),
                  L.Solarization(0.3, 0.7, value_range=(0, 1), seed=0),
                  L.RandomColorJitter((0, 1), 0.3, 0.5, 0.8, 0.4, seed=0),
                  L.RandomGaussianBlur(0.5, 5, (0.2, 0.9), (0, 1), seed=0)):
        y = layer(x).numpy()
        assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0, layer.name
        assert not np.allclose(y, x), layer.name


@pytest.mark.parametrize("make", [
    lambda s: L.RandomGrayscale(seed=s), lambda s: L.RandomHue(0.5, seed=s),
    lambda s: L.RandomSaturation(0.5, seed=s), lambda s: L.RandomColorDegeneration(0.5, seed=s),
    lambda s: L.RandomColorJitter(brightness_factor=0.2, hue_factor=0.3, seed=s),
    lambda s: L.RandomSharpness(0.9, seed=s), lambda s: L.RandomInvert(seed=s),
    lambda s: L.RandomPosterization(6, seed=s), lambda s: L.Solarization(0.5, 0.5, seed=s),
    lambda s: L.RandomGaussianBlur(seed=s)])
def test_seed_reproduces_and_calls_draw_anew(make):
    x = _images(n=16)
    a, b = make(7), make(7)
    ya1, ya2, yb1 = a(x).numpy(), a(x).numpy(), b(x).numpy()
    np.testing.assert_array_equal(ya1, yb1)
    assert not np.array_equal(ya1, ya2)


ALL = [
    lambda: L.RandomGrayscale(), lambda: L.RandomHue(0.4), lambda: L.RandomSaturation(0.4),
    lambda: L.RandomColorDegeneration(0.4),
    lambda: L.RandomColorJitter(brightness_factor=0.1, contrast_factor=0.2,
                                saturation_factor=0.3, hue_factor=0.2),
    lambda: L.RandomSharpness(0.4), lambda: L.RandomInvert(), lambda: L.RandomPosterization(4),
    lambda: L.AutoContrast(), lambda: L.Equalization(), lambda: L.Solarization(0.2, 0.5),
    lambda: L.RandomGaussianBlur(),
]


@pytest.mark.parametrize("make", ALL)
def test_inference_is_the_identity_except_autocontrast(make):
    layer = make()
    x = _images(n=2)
    y = layer(x, training=False).numpy()
    if isinstance(layer, L.AutoContrast):  # Keras applies it in inference too
        np.testing.assert_allclose(y, layer(x, training=True).numpy())
        assert not np.allclose(y, x)
    else:
        np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("make", ALL)
def test_unbatched_channels_first_and_integer_images(make):
    layer = make()
    x = RNG.integers(0, 256, size=(5, 4, 3)).astype("uint8")
    y = layer(x)
    assert y.shape == (5, 4, 3) and y.dtype == np.float32
    first = type(layer).from_config({**layer.get_config(), "data_format": "channels_first"})
    xf = _images(n=2)
    if isinstance(layer, (L.AutoContrast, L.Equalization)):  # deterministic
        np.testing.assert_allclose(first(np.moveaxis(xf, -1, 1)).numpy(),
                                   np.moveaxis(layer(xf).numpy(), -1, 1), rtol=1e-6)
    assert first(np.moveaxis(xf, -1, 1)).shape == (2, 3, 6, 5)


def test_channels_first_equals_channels_last_with_one_seed():
    x = _images(n=4)
    for cls, kw in [("RandomHue", {"factor": 0.5}), ("RandomSaturation", {"factor": 0.8}),
                    ("RandomSharpness", {"factor": 1.0}), ("RandomGaussianBlur", {}),
                    ("RandomColorJitter", {"brightness_factor": 0.3, "hue_factor": 0.4})]:
        last = getattr(L, cls)(seed=5, **kw)(x).numpy()
        first = getattr(L, cls)(seed=5, data_format="channels_first", **kw)(
            np.moveaxis(x, -1, 1)).numpy()
        np.testing.assert_allclose(np.moveaxis(first, 1, -1), last, rtol=1e-5, atol=1e-3)


# -- configs, saving, training -----------------------------------------------------------------


@pytest.mark.parametrize("make", ALL)
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    again = type(layer).from_config(config)
    assert again.get_config() == config
    json.dumps(config)


def test_config_keys_are_keras_names():
    keys = set(L.RandomGaussianBlur(seed=1).get_config())
    assert {"factor", "kernel_size", "sigma", "value_range", "seed", "data_format"} <= keys
    keys = set(L.Solarization().get_config())
    assert {"addition_factor", "threshold_factor", "value_range", "seed"} <= keys
    keys = set(L.RandomColorJitter().get_config())
    assert {"value_range", "brightness_factor", "contrast_factor", "saturation_factor",
            "hue_factor", "seed"} <= keys
    assert set(L.Equalization().get_config()) >= {"bins", "value_range"}
    assert "seed" not in L.AutoContrast().get_config()
    assert L.RandomInvert().get_config()["factor"] == [0.0, 1.0]  # Keras's reading of 1.0
    assert L.RandomColorDegeneration(0.3).get_config()["factor"] == [-0.3, 0.3]
    assert L.RandomPosterization(5).get_config()["factor"] == [1, 5]


def _model():
    return cr.Sequential([L.Input(shape=(6, 5, 3)), L.RandomGrayscale(0.2, seed=1),
                          L.RandomHue(0.2, seed=2), L.RandomSaturation(0.7, seed=3),
                          L.RandomColorDegeneration(0.3, seed=4),
                          L.RandomColorJitter(brightness_factor=0.1, contrast_factor=0.1,
                                              seed=5),
                          L.RandomSharpness(0.6, seed=6), L.RandomInvert(0.3, seed=7),
                          L.RandomPosterization((6, 8), seed=8), L.Solarization(0.1, 0.9),
                          L.RandomGaussianBlur(0.5, seed=9), L.Equalization(),
                          L.AutoContrast(), L.Rescaling(1 / 255), L.Flatten(),
                          L.Dense(2, activation="softmax")])


def test_model_trains_captured_and_saves(tmp_path):
    from tests.test_step import programs

    cr.utils.set_random_seed(0)
    x = _images(n=16)
    y = np.arange(16) % 2
    model = _model()
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert programs(model)
    # inference: only AutoContrast (and the rest of the head) act
    flat = L.Flatten()(L.AutoContrast()(x) / 255.0).numpy()
    w, b = model.layers[-1].get_weights()
    p = np.exp(flat @ w + b)
    np.testing.assert_allclose(model.predict(x, verbose=0), p / p.sum(1, keepdims=True),
                               rtol=1e-5)
    path = str(tmp_path / "aug.keras")
    model.save(path)
    again = cr.saving.load_model(path)
    assert [type(la).__name__ for la in again.layers] == [
        type(la).__name__ for la in model.layers]
    assert [la.get_config() for la in again.layers[:-3]] == [
        la.get_config() for la in model.layers[:-3]]
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_captured_training_matches_the_tape():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        x = np.random.default_rng(1).uniform(0, 1, size=(8, 4, 4, 3)).astype("float32")
        model = cr.Sequential([L.Input(shape=(4, 4, 3)),
                               L.RandomHue(0.3, value_range=(0, 1)),
                               L.RandomGaussianBlur(0.5, value_range=(0, 1)),
                               L.Solarization(0.2, 0.8, value_range=(0, 1)),
                               L.Flatten(), L.Dense(2)])
        model.compile("sgd", cr.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        model.fit(x, np.arange(8) % 2, batch_size=2, epochs=2, verbose=0, shuffle=False)
        return model

    from tests.test_step import programs

    fast, slow = run("auto"), run(False)
    assert programs(fast) and not slow._steps.entries
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_random_layers_pass_gradients_to_earlier_layers():
    """Inside a model (after a Dense), the colour layers' ops carry gradients back."""
    x = cr.Tensor(RNG.uniform(0.2, 0.8, size=(2, 3, 3, 3)), requires_grad=True)
    for layer in (L.RandomHue((0.3, 0.3), value_range=(0, 1)),
                  L.RandomSaturation((0.3, 0.3), value_range=(0, 1)),
                  L.RandomColorDegeneration((0.5, 0.5), value_range=(0, 1)),
                  L.RandomSharpness((0.8, 0.8), value_range=(0, 1)),
                  L.RandomGaussianBlur((1.0, 1.0), sigma=(0.5, 0.5), value_range=(0, 1))):
        x.grad = None
        cr.ops.sum(layer(x) ** 2).backward()
        assert x.grad is not None and np.abs(np.asarray(x.grad)).sum() > 0, layer.name


# -- bad input -----------------------------------------------------------------------------------


def test_rgb_layers_reject_other_channel_counts():
    with pytest.raises(ValueError, match=r"expects RGB images with 3 channels.*Received: "
                                         r"inputs of shape \(2, 4, 4, 4\)$"):
        L.RandomHue(0.2)(np.ones((2, 4, 4, 4), "float32"))
    with pytest.raises(ValueError, match=r"RandomGrayscale .*Received: inputs of shape"):
        L.RandomGrayscale()(np.ones((2, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match=r"rgb_to_hsv: images must have 3 channels"):
        cr.ops.image.rgb_to_hsv(np.ones((4, 4, 1)))
    L.RandomColorJitter(brightness_factor=0.1)(np.ones((2, 4, 4, 1), "float32"))  # no RGB need

"""Adaptive pooling, STFT initializer, STFTSpectrogram, MelSpectrogram, SpectralNormalization and
ReversibleEmbedding: Keras 3's numbers (tests/fixtures/keras_spectral.npz, written by
tools/keras_spectral_fixtures.py), configs, saving, and training with the captured step."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import initializers
from chainrule.gradcheck import check_gradients
from chainrule.layers.preprocessing.spectrogram import linear_to_mel_weight_matrix
from chainrule.ops.power_iteration import assign_spectral_normalization

L = cr.layers
FIXTURE = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_spectral.npz"))
SPEC = json.loads(str(FIXTURE["spec"]))
KERAS_CONFIGS = json.loads(str(FIXTURE["configs"]))


def close(actual, expected, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol)


def test_fixture_records_its_versions():
    versions = json.loads(str(FIXTURE["versions"]))
    assert versions["keras"].startswith("3.") and versions["tensorflow"]


# -- Keras's numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", SPEC["adaptive"], ids=[c[0] for c in SPEC["adaptive"]])
def test_adaptive_pooling_matches_keras(case):
    name, cls, size, fmt, keras_size = case
    layer = getattr(L, cls)(size, data_format=fmt)
    x = FIXTURE[f"adaptive/{name}/x"]
    y = layer(x)
    close(y.numpy(), FIXTURE[f"adaptive/{name}/y"])
    assert tuple(layer.compute_output_shape(x.shape)) == y.shape
    assert list(layer.get_config()["output_size"]) == keras_size


@pytest.mark.parametrize("case", SPEC["stft_init"], ids=[c[0] for c in SPEC["stft_init"]])
def test_stft_initializer_matches_keras(case):
    name, side, window, scaling, shape = case
    init = initializers.STFT(side, None if window is None else "hann", scaling,
                             periodic=window == "hann_periodic")
    close(init(tuple(shape)), FIXTURE[f"stft_init/{name}"], atol=2e-6)


@pytest.mark.parametrize("case", SPEC["stft"], ids=[c[0] for c in SPEC["stft"]])
def test_stft_spectrogram_matches_keras(case):
    name, kwargs, perturbed, names = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-power-of-two fft_length warns, as in Keras
        layer = L.STFTSpectrogram(**kwargs)
    x = FIXTURE[f"stft/{name}/x"]
    layer.build(x.shape)
    assert [w.name for w in layer.weights] == names
    keras_weights = [FIXTURE[f"stft/{name}/w/{n}"] for n in names]
    if not perturbed:  # the initializer (SciPy's named window) gives Keras's kernels
        for w, k in zip(layer.weights, keras_weights):
            close(w.numpy(), k, atol=2e-6)
    layer.set_weights(keras_weights)
    y = layer(x)
    expected = FIXTURE[f"stft/{name}/y"]
    assert y.shape == expected.shape == tuple(layer.compute_output_shape(x.shape))
    close(y.numpy(), expected, atol=2e-5)


@pytest.mark.parametrize("case", SPEC["mel"], ids=[c[0] for c in SPEC["mel"]])
def test_mel_spectrogram_matches_keras(case):
    name, kwargs, keras_shape = case
    layer = L.MelSpectrogram(**kwargs)
    x = FIXTURE[f"mel/{name}/x"]
    y = layer(x)
    close(y.numpy(), FIXTURE[f"mel/{name}/y"], rtol=1e-5, atol=1e-5 if "power_to_db" in kwargs
          else 2e-4)  # decibels: 1e-5 relative to the largest, about 20 dB
    assert tuple(layer.compute_output_shape(x.shape)) == tuple(keras_shape) == y.shape


@pytest.mark.parametrize("case", SPEC["spectral"], ids=[c[0] for c in SPEC["spectral"]])
def test_spectral_normalization_matches_keras(case):
    name, cls, kwargs, iters, names, trainable = case
    layer = L.SpectralNormalization(getattr(L, cls)(**kwargs), power_iterations=iters)
    x = FIXTURE[f"spectral/{name}/x"]
    layer.build(x.shape)
    assert [w.name for w in layer.weights] == names
    assert [w.trainable for w in layer.weights] == trainable
    layer.set_weights([FIXTURE[f"spectral/{name}/w0/{n}"] for n in names])
    floats = cls != "Embedding"  # Keras casts an Embedding's output to the ids' int dtype
    y = layer(x, training=False)
    if floats:
        close(y.numpy(), FIXTURE[f"spectral/{name}/y_infer"])
    for step in (1, 2):
        y = layer(x, training=True)
        if floats:
            close(y.numpy(), FIXTURE[f"spectral/{name}/y_train{step}"])
        for w, n in zip(layer.weights, names):
            close(w.numpy(), FIXTURE[f"spectral/{name}/w{step}/{n}"])


@pytest.mark.parametrize("case", SPEC["reversible"], ids=[c[0] for c in SPEC["reversible"]])
def test_reversible_embedding_matches_keras(case):
    name, kwargs, names, keras_keys = case
    layer = L.ReversibleEmbedding(**kwargs)
    layer.build()
    assert [w.name for w in layer.weights] == names
    assert set(keras_keys) - set(layer.get_config()) <= {"quantization_config", "dtype",
                                                          "activity_regularizer"}
    layer.set_weights([FIXTURE[f"reversible/{name}/w/{n}"] for n in names])
    ids = FIXTURE[f"reversible/{name}/ids"]
    y = layer(ids)
    close(y.numpy(), FIXTURE[f"reversible/{name}/y"])
    assert (getattr(y, "_keras_mask", None) is not None) == kwargs.get("mask_zero", False)
    logits = layer(FIXTURE[f"reversible/{name}/h"], reverse=True)
    close(logits.numpy(), FIXTURE[f"reversible/{name}/logits"])
    assert getattr(logits, "_keras_mask", None) is None
    assert logits.shape == tuple(layer.compute_output_shape((2, 3, kwargs["output_dim"]),
                                                            reverse=True))


# -- independent NumPy checks ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hann", "hamming", "blackman", "bartlett", "triang", "boxcar",
                                  "cosine", "han", "rect"])
@pytest.mark.parametrize("length", [1, 2, 7, 8])
@pytest.mark.parametrize("periodic", [False, True])
def test_windows_are_scipys(name, length, periodic):
    signal = pytest.importorskip("scipy.signal")
    expected = signal.get_window(name, length, fftbins=periodic)
    np.testing.assert_allclose(initializers.get_window(name, length, periodic), expected,
                               atol=1e-12)


def test_stft_spectrogram_is_the_windowed_dft_of_each_frame():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 30, 2))
    layer = L.STFTSpectrogram(mode="stft", frame_length=8, frame_step=4, window="hamming",
                              scaling=None, dtype="float64")
    y = layer(x).numpy()  # (batch, frames, channels * 2 * bins)
    win = initializers.get_window("hamming", 8)
    frames = np.stack([x[:, i:i + 8] for i in range(0, 23, 4)], axis=1)  # (2, 6, 8, 2)
    spectrum = np.fft.rfft(frames * win[None, None, :, None], n=8, axis=2)
    expected = np.concatenate([spectrum.real, spectrum.imag], axis=2)  # (2, 6, 10, 2)
    expected = np.transpose(expected, (0, 1, 3, 2)).reshape(2, 6, 20)
    np.testing.assert_allclose(y, expected, atol=1e-10)


def test_stft_spectrogram_gradients_are_numerical_ones_in_float64():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 20, 1)) + 0.5
    for mode in ("log", "magnitude", "psd", "angle", "stft"):
        layer = L.STFTSpectrogram(mode=mode, frame_length=6, frame_step=3, fft_length=8,
                                  dtype="float64")
        result = check_gradients(lambda xt, layer=layer: layer(xt), x, tolerance=1e-5)
        assert result.ok, (mode, str(result))


def test_mel_filter_bank_is_triangles_on_the_mel_scale():
    m = linear_to_mel_weight_matrix(6, 33, 8000, 100.0, 3500.0)
    assert m.shape == (33, 6) and m[0].sum() == 0.0 and 0.9 < m.max() <= 1.0
    mel = 1127.0 * np.log(1.0 + np.linspace(0, 4000, 33) / 700.0)
    edges = np.linspace(1127.0 * np.log(1 + 100 / 700), 1127.0 * np.log(1 + 3500 / 700), 8)
    j = 2
    rising = (mel - edges[j]) / (edges[j + 1] - edges[j])
    falling = (edges[j + 2] - mel) / (edges[j + 2] - edges[j + 1])
    np.testing.assert_allclose(m[1:, j], np.clip(np.minimum(rising, falling), 0, None)[1:])


def test_spectral_normalization_reaches_spectral_norm_one():
    rng = np.random.default_rng(5)
    kernel = cr.layers.Variable(rng.standard_normal((6, 4)), dtype="float64")
    u = cr.layers.Variable(rng.standard_normal((1, 4)), dtype="float64", trainable=False)
    sigma = np.linalg.svd(kernel.numpy(), compute_uv=False)[0]
    before = kernel.numpy()
    assign_spectral_normalization(kernel, u, power_iterations=50)
    np.testing.assert_allclose(kernel.numpy(), before / sigma, rtol=1e-8)
    right = np.linalg.svd(before)[2][0]
    np.testing.assert_allclose(np.abs(u.numpy()[0]), np.abs(right), atol=1e-8)
    zero = cr.layers.Variable(np.zeros((3, 2)))
    u2 = cr.layers.Variable([[0.3, 0.4]], trainable=False)
    assign_spectral_normalization(zero, u2)
    assert not zero.numpy().any() and u2.numpy().tolist() == [[0.30000001192092896,
                                                              0.4000000059604645]]


def test_spectral_normalization_gradient_is_the_wrapped_layers():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4))
    layer = L.SpectralNormalization(L.Dense(2, dtype="float64"), dtype="float64")
    layer(x, training=True)  # normalizes once; then the kernel is a plain weight
    result = check_gradients(lambda t: layer(t, training=False), x)
    assert result.ok, str(result)


# -- configs and saving ------------------------------------------------------------------------


def _layers():
    return [
        (L.AdaptiveAveragePooling2D((3, 2)), (2, 7, 5, 2)),
        (L.AdaptiveMaxPooling1D(4, data_format="channels_first"), (2, 3, 9)),
        (L.AdaptiveMaxPooling3D(2), (1, 4, 5, 6, 2)),
        (L.STFTSpectrogram(mode="psd", frame_length=8, frame_step=4, window="hamming",
                           padding="same", expand_dims=True), (2, 32, 2)),
        (L.STFTSpectrogram(mode="real", frame_length=8, window=list(np.hanning(8))), (1, 24, 1)),
        (L.MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=6,
                          sampling_rate=4000), (2, 64)),
        (L.SpectralNormalization(L.Dense(3), power_iterations=2), (2, 5)),
        (L.ReversibleEmbedding(9, 4, tie_weights=False, logit_soft_cap=3.0), (2, 3)),
    ]


@pytest.mark.parametrize("index", range(8))
def test_config_round_trip(index):
    layer, shape = _layers()[index]
    x = np.random.default_rng(index).random(shape).astype("float32")
    if isinstance(layer, L.ReversibleEmbedding):
        x = (x * 9).astype("int32")
    y = layer(x)
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    close(clone(x).numpy(), y.numpy())


@pytest.mark.parametrize("kind", ["stft", "mel", "adaptive", "spectral", "stft_init"])
def test_config_keys_are_keras(kind):
    ours = {
        "stft": lambda: L.STFTSpectrogram(frame_length=8, window=None).get_config(),
        "mel": lambda: L.MelSpectrogram().get_config(),
        "adaptive": lambda: L.AdaptiveMaxPooling2D(3).get_config(),
        "spectral": lambda: L.SpectralNormalization(L.Dense(2)).get_config(),
        "stft_init": lambda: initializers.STFT(window=None).get_config(),
    }[kind]()
    keras = KERAS_CONFIGS[kind]
    assert set(keras) - set(ours) <= {"dtype"}
    for key, value in keras.items():
        if key not in ("name", "dtype", "layer"):
            assert ours[key] == (tuple(value) if isinstance(value, list) else value), key


def test_layers_load_from_keras_configs():
    for kind, cls in (("stft", L.STFTSpectrogram), ("mel", L.MelSpectrogram),
                      ("adaptive", L.AdaptiveMaxPooling2D)):
        config = dict(KERAS_CONFIGS[kind])
        config.pop("dtype")
        assert isinstance(cls.from_config(config), cls)
    init = initializers.deserialize({"class_name": "STFTInitializer",
                                     "config": KERAS_CONFIGS["stft_init"]})
    assert isinstance(init, initializers.STFT) and init.window is None
    assert initializers.STFTInitializer is initializers.stft is initializers.STFT
    assert isinstance(initializers.get("stft"), initializers.STFT)


def test_model_of_all_of_them_saves_and_loads(tmp_path):
    cr.utils.set_random_seed(1)
    ids = L.Input((6,), dtype="int32")
    # (a functional model that calls one layer twice, as emb(h, reverse=True) after emb(ids),
    # does not reload in chainrule yet: its config keeps neither the second call's place nor
    # its keyword arguments)
    h = L.ReversibleEmbedding(11, 4, tie_weights=False, logit_soft_cap=2.0)(ids)
    h = L.SpectralNormalization(L.Dense(4, activation="tanh"))(h)
    pooled = L.AdaptiveAveragePooling1D(3)(h)
    text = cr.Model(ids, L.Dense(2)(L.Flatten()(pooled)))
    audio_in = L.Input((64, 1))
    s = L.STFTSpectrogram(mode="log", frame_length=16, frame_step=8)(audio_in)
    s = L.AdaptiveMaxPooling1D(2)(s)
    audio = cr.Model(audio_in, L.Flatten()(s))
    mel_in = L.Input((96,))
    mel = cr.Model(mel_in, L.MelSpectrogram(fft_length=32, sequence_stride=16, num_mel_bins=5,
                                            sampling_rate=8000)(mel_in))
    rng = np.random.default_rng(2)
    inputs = [rng.integers(1, 11, (2, 6)), rng.standard_normal((2, 64, 1)).astype("float32"),
              rng.standard_normal((2, 96)).astype("float32")]
    for i, model in enumerate((text, audio, mel)):
        path = str(tmp_path / f"m{i}.keras")
        model.save(path)
        loaded = cr.saving.load_model(path)
        assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
        np.testing.assert_array_equal(loaded.predict(inputs[i], verbose=0),
                                      model.predict(inputs[i], verbose=0))


# -- training: the captured step replays these layers ----------------------------------------


def _programs(model):
    return [e.program for k, e in model._steps.entries.items() if k[0] == "train"
            and e.program is not None]


def _train(build, x, y, loss, jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer="adam", loss=loss, jit_compile=jit)
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False)
    return model, history.history


def _audio_model():
    return cr.Sequential([
        L.Input((32, 2)),
        L.STFTSpectrogram(mode="log", frame_length=8, frame_step=4, fft_length=8),
        L.AdaptiveAveragePooling1D(3),
        L.Flatten(), L.Dense(2)])


def _image_model():
    return cr.Sequential([
        L.Input((9, 7, 1)), L.SpectralNormalization(L.Conv2D(3, 3, activation="relu")),
        L.AdaptiveMaxPooling2D((2, 3)), L.Flatten(), L.Dense(2)])


def _mel_model():
    return cr.Sequential([
        L.Input((64,)),
        L.MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=4, sampling_rate=4000),
        L.Flatten(), L.SpectralNormalization(L.Dense(8, activation="relu")), L.Dense(2)])


def _language_model():
    ids = L.Input((5,), dtype="int32")
    emb = L.ReversibleEmbedding(12, 6, logit_soft_cap=5.0)
    h = L.Dense(6, activation="tanh")(emb(ids))
    return cr.Model(ids, emb(h, reverse=True))


def _data(name):
    rng = np.random.default_rng(9)
    if name == "language":
        x = rng.integers(0, 12, (12, 5))
        return x, np.roll(x, -1, axis=1), cr.losses.SparseCategoricalCrossentropy(
            from_logits=True)
    shape = {"audio": (12, 32, 2), "image": (12, 9, 7, 1), "mel": (12, 64)}[name]
    return rng.standard_normal(shape).astype("float32"), rng.standard_normal((12, 2)).astype(
        "float32"), "mse"


@pytest.mark.parametrize("name, build", [("audio", _audio_model), ("image", _image_model),
                                         ("mel", _mel_model), ("language", _language_model)])
def test_models_train_with_the_captured_step_as_on_the_tape(name, build):
    x, y, loss = _data(name)
    fast, fast_history = _train(build, x, y, loss, "auto")
    assert _programs(fast), "the model should be captured"
    slow, slow_history = _train(build, x, y, loss, False)
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert fast_history == slow_history
    assert fast_history["loss"][-1] < fast_history["loss"][0]
    _train(build, x, y, loss, True)  # jit_compile=True raises when a step cannot be captured


def test_spectral_normalization_updates_its_state_in_every_replayed_step():
    x, y, loss = _data("image")
    model, _ = _train(_image_model, x, y, loss, True)
    sn = model.layers[0]
    u = sn.vector_u.numpy()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert not np.array_equal(u, sn.vector_u.numpy())
    matrix = sn.kernel.numpy().reshape(-1, 3)
    # one power-iteration step per training call: the norm is close to 1 after the last update
    assert 0.8 < np.linalg.svd(matrix, compute_uv=False)[0] < 1.25


def test_a_keras_file_of_these_layers_loads_and_predicts_as_keras():
    """tests/fixtures/keras_files/spectral.keras: written by Keras 3 (the fixture script)."""
    path = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files", "spectral.keras")
    model = cr.saving.load_model(path)
    xs = [FIXTURE[f"file/x{k}"] for k in range(3)]
    close(model.predict(xs, verbose=0), FIXTURE["file/y"], rtol=1e-5, atol=1e-5)
    sn = [layer for layer in model.layers if isinstance(layer, L.SpectralNormalization)][0]
    assert [w.name for w in sn.weights] == ["kernel", "vector_u", "bias"]

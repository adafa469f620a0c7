"""Record Keras 3's numbers for the adaptive pooling layers, the STFT initializer,
STFTSpectrogram, MelSpectrogram, SpectralNormalization and ReversibleEmbedding.

Each case builds the layer in Keras 3 (TensorFlow backend), sets its weights to
fixed values where it has any, runs a small fixed input and records the input,
the weights (names in Keras's order), the output and, for SpectralNormalization,
the kernel and ``vector_u`` after each of two training-mode calls. Everything
goes to ``tests/fixtures/keras_spectral.npz`` with the versions of Keras and
TensorFlow; ``tests/test_spectral_layers.py`` rebuilds the same layers in
chainrule from the recorded specifications and compares (it never imports
Keras). Windows are passed to Keras as arrays (symmetric or periodic Hann
written out here), since Keras asks SciPy for windows given by name. Run it in
the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_spectral_fixtures.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_spectral.npz")
ARCHIVE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_files",
                       "spectral.keras")


def hann(n: int, periodic: bool) -> np.ndarray:
    """SciPy's ``get_window('hann', n, fftbins=periodic)``."""
    m = n if periodic else n - 1
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / m)


ADAPTIVE = [  # (name, class, input shape, output_size, data_format)
    ("avg1d", "AdaptiveAveragePooling1D", (2, 7, 3), 3, "channels_last"),
    ("max1d", "AdaptiveMaxPooling1D", (2, 7, 3), 3, "channels_last"),
    ("avg1d_up", "AdaptiveAveragePooling1D", (1, 3, 2), 5, "channels_last"),
    ("avg2d", "AdaptiveAveragePooling2D", (2, 7, 5, 2), (3, 2), "channels_last"),
    ("max2d", "AdaptiveMaxPooling2D", (2, 7, 5, 2), (3, 2), "channels_last"),
    ("avg2d_first", "AdaptiveAveragePooling2D", (2, 2, 7, 5), (4, 3), "channels_first"),
    ("max2d_first", "AdaptiveMaxPooling2D", (2, 2, 7, 5), 4, "channels_first"),
    ("avg3d", "AdaptiveAveragePooling3D", (1, 5, 6, 7, 2), (2, 3, 4), "channels_last"),
    ("max3d", "AdaptiveMaxPooling3D", (1, 5, 6, 7, 2), (2, 3, 4), "channels_last"),
    ("max3d_first", "AdaptiveMaxPooling3D", (1, 2, 5, 4, 3), 2, "channels_first"),
]

STFT_INIT = [  # (name, side, window ("hann"/"hann_periodic"/None), scaling, shape)
    ("real_density", "real", "hann", "density", (8, 1, 9)),
    ("imag_spectrum", "imag", "hann_periodic", "spectrum", (8, 1, 5)),
    ("real_none", "real", None, None, (6, 1, 4)),
    ("imag_noscale", "imag", "hann", None, (8, 1, 9)),
]

STFT_LAYER = [  # (name, input shape, kwargs, perturb weights)
    ("log", (2, 40, 2), {"mode": "log", "frame_length": 8, "frame_step": 4,
                         "fft_length": 16}, False),
    ("magnitude_same", (2, 37, 1), {"mode": "magnitude", "frame_length": 8, "frame_step": 3,
                                    "fft_length": 8, "padding": "same"}, True),
    ("psd", (2, 32, 2), {"mode": "psd", "frame_length": 8, "fft_length": 16}, False),
    ("real", (1, 32, 2), {"mode": "real", "frame_length": 8, "frame_step": 4,
                          "scaling": "spectrum"}, True),
    ("imag", (1, 32, 2), {"mode": "imag", "frame_length": 8, "frame_step": 4,
                          "periodic": True}, False),
    ("angle", (2, 30, 1), {"mode": "angle", "frame_length": 6, "frame_step": 3,
                           "fft_length": 8}, False),
    ("stft_expand", (2, 32, 3), {"mode": "stft", "frame_length": 8, "frame_step": 4,
                                 "expand_dims": True}, True),
    ("log_first", (2, 2, 40), {"mode": "log", "frame_length": 8, "frame_step": 4,
                               "data_format": "channels_first"}, False),
    ("mag_first_expand", (2, 3, 33), {"mode": "magnitude", "frame_length": 8,
                                      "frame_step": 4, "padding": "same",
                                      "data_format": "channels_first",
                                      "expand_dims": True}, True),
    ("log_no_window", (1, 24, 1), {"mode": "log", "frame_length": 8, "frame_step": 8,
                                   "window": None, "scaling": None}, False),
]

MEL = [  # (name, input shape, kwargs)
    ("db", (2, 200), {"fft_length": 64, "sequence_stride": 16, "num_mel_bins": 10,
                      "sampling_rate": 8000}),
    ("power", (2, 150), {"fft_length": 32, "sequence_stride": 8, "sequence_length": 24,
                         "num_mel_bins": 6, "sampling_rate": 4000, "power_to_db": False,
                         "min_freq": 50.0, "max_freq": 1800.0, "mag_exp": 1.0}),
    ("db_options", (3, 128), {"fft_length": 32, "sequence_stride": 16, "num_mel_bins": 8,
                              "sampling_rate": 16000, "top_db": 40.0, "ref_power": 2.0,
                              "min_power": 1e-6}),
    ("single", (100,), {"fft_length": 32, "sequence_stride": 10, "num_mel_bins": 5,
                        "sampling_rate": 8000}),
]

SPECTRAL = [  # (name, input shape, inner class, inner kwargs, power_iterations)
    ("dense", (4, 5), "Dense", {"units": 3}, 1),
    ("dense_iter3", (4, 5), "Dense", {"units": 3}, 3),
    ("conv2d", (2, 5, 5, 2), "Conv2D", {"filters": 3, "kernel_size": 3}, 1),
    ("embedding", (3, 4), "Embedding", {"input_dim": 6, "output_dim": 3}, 2),
]

REVERSIBLE = [  # (name, kwargs)
    ("tied", {"input_dim": 7, "output_dim": 4}),
    ("untied_cap", {"input_dim": 7, "output_dim": 4, "tie_weights": False,
                    "logit_soft_cap": 2.0}),
    ("tied_mask", {"input_dim": 5, "output_dim": 3, "mask_zero": True, "logit_soft_cap": 0.5}),
]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(7)
    out: dict[str, np.ndarray] = {}
    spec: dict[str, list] = {"adaptive": [], "stft_init": [], "stft": [], "mel": [],
                             "spectral": [], "reversible": []}

    for name, cls, shape, size, fmt in ADAPTIVE:
        x = rng.standard_normal(shape).astype("float32")
        layer = getattr(keras.layers, cls)(size, data_format=fmt)
        out[f"adaptive/{name}/x"] = x
        out[f"adaptive/{name}/y"] = keras.ops.convert_to_numpy(layer(x))
        spec["adaptive"].append([name, cls, size, fmt, layer.get_config()["output_size"]])

    for name, side, window, scaling, shape in STFT_INIT:
        win = None if window is None else hann(shape[0], window == "hann_periodic")
        init = keras.initializers.STFT(side, win, scaling)
        out[f"stft_init/{name}"] = keras.ops.convert_to_numpy(init(shape, "float32"))
        spec["stft_init"].append([name, side, window, scaling, list(shape)])

    for name, shape, kwargs, perturb in STFT_LAYER:
        kw = dict(kwargs)
        window = kw.get("window", "hann")
        if window == "hann":  # Keras reads named windows from SciPy: give the values
            kw["window"] = hann(kw["frame_length"], kw.get("periodic", False))
        layer = keras.layers.STFTSpectrogram(**kw)
        x = rng.standard_normal(shape).astype("float32")
        layer.build(shape)
        if perturb:
            for w in layer.weights:
                w.assign(keras.ops.convert_to_numpy(w) + 0.05 * rng.standard_normal(w.shape))
        y = keras.ops.convert_to_numpy(layer(x))
        assert tuple(layer.compute_output_shape(shape)) == y.shape, name
        out[f"stft/{name}/x"] = x
        for w in layer.weights:
            out[f"stft/{name}/w/{w.name}"] = keras.ops.convert_to_numpy(w)
        out[f"stft/{name}/y"] = y
        spec["stft"].append([name, kwargs, perturb, [w.name for w in layer.weights]])

    for name, shape, kwargs in MEL:
        layer = keras.layers.MelSpectrogram(**kwargs)
        x = rng.standard_normal(shape).astype("float32")
        out[f"mel/{name}/x"] = x
        out[f"mel/{name}/y"] = keras.ops.convert_to_numpy(layer(x))
        spec["mel"].append([name, kwargs, list(layer.compute_output_shape(shape))])

    for name, shape, cls, kwargs, iters in SPECTRAL:
        inner = getattr(keras.layers, cls)(**kwargs)
        layer = keras.layers.SpectralNormalization(inner, power_iterations=iters)
        if cls == "Embedding":
            x = rng.integers(0, kwargs["input_dim"], shape).astype("int32")
        else:
            x = rng.standard_normal(shape).astype("float32")
        layer.build(shape)
        for w in layer.weights:
            w.assign(rng.standard_normal(w.shape).astype("float32"))
        out[f"spectral/{name}/x"] = x
        names = [w.path.split("/")[-1] for w in layer.weights]
        for w, n in zip(layer.weights, names):
            out[f"spectral/{name}/w0/{n}"] = keras.ops.convert_to_numpy(w)
        out[f"spectral/{name}/y_infer"] = keras.ops.convert_to_numpy(layer(x, training=False))
        for step in (1, 2):
            y = layer(x, training=True)
            out[f"spectral/{name}/y_train{step}"] = keras.ops.convert_to_numpy(y)
            for w, n in zip(layer.weights, names):
                out[f"spectral/{name}/w{step}/{n}"] = keras.ops.convert_to_numpy(w)
        spec["spectral"].append([name, cls, kwargs, iters, names,
                                 [w.trainable for w in layer.weights]])

    for name, kwargs in REVERSIBLE:
        layer = keras.layers.ReversibleEmbedding(**kwargs)
        layer.build()
        for w in layer.weights:
            w.assign(rng.standard_normal(w.shape).astype("float32"))
        ids = rng.integers(0, kwargs["input_dim"], (2, 3)).astype("int32")
        ids[0, -1] = 0
        h = rng.standard_normal((2, 3, kwargs["output_dim"])).astype("float32")
        out[f"reversible/{name}/ids"] = ids
        out[f"reversible/{name}/h"] = h
        for w in layer.weights:
            out[f"reversible/{name}/w/{w.name}"] = keras.ops.convert_to_numpy(w)
        out[f"reversible/{name}/y"] = keras.ops.convert_to_numpy(layer(ids))
        out[f"reversible/{name}/logits"] = keras.ops.convert_to_numpy(layer(h, reverse=True))
        spec["reversible"].append([name, kwargs, [w.name for w in layer.weights],
                                   sorted(layer.get_config())])

    # a model of the layers with weights, saved by Keras, for chainrule to load
    keras.utils.set_random_seed(3)
    audio = keras.Input((32, 2))
    a = keras.layers.STFTSpectrogram(mode="log", frame_length=8, frame_step=4,
                                     window=None)(audio)
    a = keras.layers.Flatten()(keras.layers.AdaptiveAveragePooling1D(3)(a))
    ids = keras.Input((5,), dtype="int32")
    t = keras.layers.ReversibleEmbedding(9, 4, tie_weights=False)(ids)
    t = keras.layers.Flatten()(keras.layers.AdaptiveMaxPooling1D(2)(t))
    sound = keras.Input((64,))
    m = keras.layers.Flatten()(keras.layers.MelSpectrogram(
        fft_length=32, sequence_stride=16, num_mel_bins=4, sampling_rate=8000)(sound))
    merged = keras.layers.Concatenate()([a, t, m])
    y = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=2)(merged)
    model = keras.Model([audio, ids, sound], y)
    for w in model.weights:
        w.assign(keras.ops.convert_to_numpy(w) + 0.1 * rng.standard_normal(w.shape))
    xs = [rng.standard_normal((2, 32, 2)).astype("float32"),
          rng.integers(0, 9, (2, 5)).astype("int32"),
          rng.standard_normal((2, 64)).astype("float32")]
    for k, x in enumerate(xs):
        out[f"file/x{k}"] = x
    out["file/y"] = keras.ops.convert_to_numpy(model.predict(xs, verbose=0))
    out["file/weights"] = np.array(json.dumps([w.path for w in model.weights]))
    model.save(ARCHIVE)
    print(f"wrote {ARCHIVE}: {os.path.getsize(ARCHIVE)} bytes")

    configs = {
        "stft": keras.layers.STFTSpectrogram(frame_length=8, window=None).get_config(),
        "mel": keras.layers.MelSpectrogram().get_config(),
        "adaptive": keras.layers.AdaptiveMaxPooling2D(3).get_config(),
        "spectral": keras.layers.SpectralNormalization(keras.layers.Dense(2)).get_config(),
        "stft_init": keras.initializers.STFT(window=None).get_config(),
    }
    out["spec"] = np.array(json.dumps(spec, default=_jsonable))
    out["configs"] = np.array(json.dumps(configs, default=_jsonable))
    out["versions"] = np.array(json.dumps({"keras": keras.__version__,
                                           "tensorflow": tf.__version__}))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes, {len(out)} arrays")


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


if __name__ == "__main__":
    main()

"""Record Keras 3 behaviour for chainrule's compatibility tests (tests/test_kcompat.py).

Writes tests/fixtures/keras_kcompat.json with the Keras and TensorFlow versions and:

- ``dtype``: for a set of layers, the ``dtype`` entry of ``get_config()`` and its position
  among the config's keys;
- ``metadata``: the keys of the ``metadata.json`` Keras writes into a ``.keras`` file, and
  its ``date_saved`` value (to check the format);
- ``images``: image preprocessing layers, with arguments that make them deterministic,
  applied to a small channels-first batch (``data_format="channels_first"``): the input
  and each layer's output.

Run with an environment that has Keras 3 on TensorFlow:
``python tools/keras_fixtures_kcompat.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_kcompat.json")

# (label, class name, constructor kwargs): the same spellings build chainrule's layer
DTYPE_LAYERS = [
    ("dense", "Dense", {"units": 2}),
    ("dense64", "Dense", {"units": 2, "dtype": "float64"}),
    ("dense16", "Dense", {"units": 2, "dtype": "float16"}),
    ("embedding", "Embedding", {"input_dim": 3, "output_dim": 2}),
    ("hashing", "Hashing", {"num_bins": 3}),
    ("conv", "Conv2D", {"filters": 2, "kernel_size": 3}),
    ("lstm", "LSTM", {"units": 2}),
    ("batchnorm", "BatchNormalization", {}),
    ("rescaling", "Rescaling", {"scale": 0.5}),
    ("dropout", "Dropout", {"rate": 0.1}),
    ("string_lookup", "StringLookup", {}),
    ("category_encoding", "CategoryEncoding", {"num_tokens": 3}),
    ("resizing", "Resizing", {"height": 2, "width": 2}),
]


def record_dtype() -> dict:
    out = {}
    for label, cls, kwargs in DTYPE_LAYERS:
        config = getattr(keras.layers, cls)(**kwargs).get_config()
        out[label] = {"class_name": cls, "kwargs": kwargs, "dtype": config["dtype"],
                      "position": list(config).index("dtype")}
    bi = keras.layers.Bidirectional(keras.layers.LSTM(2)).get_config()
    out["bidirectional_inner"] = {"dtype": bi["layer"]["config"]["dtype"]}
    for label, kwargs in (("input_layer", {}), ("input_layer_int", {"dtype": "int32"})):
        config = keras.layers.InputLayer(shape=(2,), **kwargs).get_config()
        out[label] = {"input_kwargs": kwargs, "dtype": config["dtype"]}
    return out


def record_metadata() -> dict:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = os.path.join(tempfile.mkdtemp(), "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("metadata.json"))
    return {"keys": list(meta), "date_saved": meta["date_saved"],
            "keras_version": meta["keras_version"]}


# (label, class name, constructor kwargs, training): deterministic with these arguments (a
# factor range of one value, or an image smaller than RandomCrop's window)
IMAGE_LAYERS = [
    ("resizing_bilinear", "Resizing", {"height": 3, "width": 4}, False),
    ("resizing_nearest", "Resizing", {"height": 7, "width": 3, "interpolation": "nearest"},
     False),
    ("resizing_crop", "Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
     False),
    ("resizing_pad", "Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True,
                                  "fill_value": 1.0}, False),
    ("center_crop", "CenterCrop", {"height": 3, "width": 4}, False),
    ("center_crop_up", "CenterCrop", {"height": 6, "width": 9}, False),
    ("random_crop_small", "RandomCrop", {"height": 6, "width": 9}, True),
    ("rotation", "RandomRotation", {"factor": (0.1, 0.1), "fill_mode": "constant"}, True),
    ("rotation_reflect", "RandomRotation", {"factor": (-0.25, -0.25)}, True),
    ("zoom", "RandomZoom", {"height_factor": (-0.3, -0.3), "width_factor": (0.2, 0.2)}, True),
    ("translation", "RandomTranslation", {"height_factor": (0.2, 0.2),
                                          "width_factor": (-0.25, -0.25),
                                          "fill_mode": "nearest"}, True),
    ("brightness", "RandomBrightness", {"factor": (0.1, 0.1)}, True),
    ("inference_flip", "RandomFlip", {}, False),
]


def record_images() -> dict:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (2, 3, 5, 7)).astype("float32")  # channels first
    out = {"input": x.tolist(), "layers": {}}
    for label, cls, kwargs, training in IMAGE_LAYERS:
        layer = getattr(keras.layers, cls)(**kwargs, data_format="channels_first")
        y = np.asarray(layer(x, training=training))
        out["layers"][label] = {"class_name": cls, "kwargs": kwargs, "training": training,
                                "output": y.tolist()}
    return out


def main() -> None:
    out = {"keras": keras.__version__, "tensorflow": tf.__version__,
           "dtype": record_dtype(), "metadata": record_metadata(), "images": record_images()}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()

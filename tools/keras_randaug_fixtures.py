"""Record Keras 3's RandAugment and AugMix, for tests/test_rand_augment.py.

Both layers are random, so what is recorded is what Keras lets one fix: the config keys
and defaults of each, and outputs of Keras's ``transform_images`` with a transformation
whose choices are fixed: RandAugment's ``layer_idxes`` set to the deterministic
operations (auto-contrast, equalization), and AugMix's chains made of those operations
with given mixing weights. Needs Keras 3 and TensorFlow, so it runs in the benchmark
environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_randaug_fixtures.py

It writes ``tests/fixtures/keras_randaug.npz`` (with the Keras and TensorFlow versions).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_randaug.npz")

#: RandAugment runs: name -> (keyword arguments, layer_idxes, input range)
RAND = {
    "ra_ac_eq": ({}, [9, 10], 255),
    "ra_eq_ac": ({"num_ops": 2}, [10, 9], 255),
    "ra_ac_01": ({"value_range": (0, 1), "num_ops": 1}, [9], 1),
    "ra_eq_eq_eq": ({"num_ops": 3}, [10, 10, 10], 255),
}
#: AugMix runs: name -> (keyword arguments, chains of operation names, weights, m, range)
MIX = {
    "am_basic": ({"all_ops": False}, [["auto_contrast"], ["equalization", "auto_contrast"], []],
                 [0.2, 0.3, 0.5], 0.4, 255),
    "am_all_01": ({"value_range": (0, 1), "num_chains": 2},
                  [["equalization"], ["auto_contrast", "equalization"]], [0.7, 0.3], 0.25, 1),
}


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.8, (2, 6, 7, 3)).astype("float32")
    arrays = {"input": base}
    settings = {"rand": {}, "mix": {}}
    for name, (kwargs, idxes, top) in RAND.items():
        layer = keras.layers.RandAugment(**kwargs)
        x = base * top
        t = layer.get_random_transformation(x, training=True)
        t["layer_idxes"] = tf.constant(idxes, dtype="int32")
        arrays[name] = np.asarray(layer.transform_images(tf.constant(x), t, training=True))
        settings["rand"][name] = [kwargs, idxes, top]
    for name, (kwargs, chains, weights, m, top) in MIX.items():
        layer = keras.layers.AugMix(**kwargs)
        x = base * top
        t = {"chain_mixing_weights": tf.constant(weights, "float32"),
             "weight_sample": tf.constant(m, "float32"),
             "chain_transforms": [[{"layer_name": op, "transformation": None} for op in chain]
                                  for chain in chains]}
        arrays[name] = np.asarray(layer.transform_images(tf.constant(x), t, training=True))
        settings["mix"][name] = [kwargs, chains, weights, m, top]
    configs = {}
    for cls in ("RandAugment", "AugMix"):
        config = getattr(keras.layers, cls)().get_config()
        configs[cls] = {k: v for k, v in config.items() if k not in ("name", "dtype")}
    settings["configs"] = configs
    settings["versions"] = {"keras": keras.__version__, "tensorflow": tf.__version__}
    np.savez_compressed(OUT, settings=np.array(json.dumps(settings)), **arrays)
    print(json.dumps(settings, indent=1))


if __name__ == "__main__":
    main()

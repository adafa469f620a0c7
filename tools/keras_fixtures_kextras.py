"""Record Keras 3's ``ops.image.sobel_edges`` and ``ops.image.ssim`` (and the layers and
distillation pieces tested next to them), for tests/test_kextras.py.

Needs Keras 3 and TensorFlow, so it runs in the benchmark environment, not in the test
suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_kextras.py

It writes ``tests/fixtures/keras_kextras.npz`` (inputs, Keras's outputs, JSON configs as
strings, and the Keras and TensorFlow versions). Every input comes from a seeded NumPy
generator, so the tests rebuild nothing random themselves: they read the inputs here.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_kextras.npz")

#: name -> (shape, data_format) of the sobel_edges cases
SOBEL = {
    "sobel_last": ((2, 5, 6, 3), "channels_last"),
    "sobel_first": ((1, 2, 4, 5), "channels_first"),
    "sobel_tiny": ((1, 2, 2, 1), "channels_last"),
}
#: name -> (shape, keyword arguments of ssim)
SSIM = {
    "ssim_default": ((2, 16, 14, 3), {}),
    "ssim_small": ((13, 12, 2), {"filter_size": 5, "filter_sigma": 0.8, "max_val": 2.0}),
    "ssim_first": ((2, 2, 9, 10), {"filter_size": 3, "k1": 0.05, "k2": 0.1,
                                   "data_format": "channels_first"}),
}


def image_ops(rng: np.random.Generator, out: dict) -> None:
    from keras import ops

    for name, (shape, fmt) in SOBEL.items():
        x = rng.standard_normal(shape).astype("float32")
        out[f"{name}_x"] = x
        out[f"{name}_y"] = np.asarray(ops.image.sobel_edges(x, data_format=fmt))
    for name, (shape, kwargs) in SSIM.items():
        a = rng.random(shape).astype("float32")
        b = np.clip(a + 0.2 * rng.standard_normal(shape), 0, 1).astype("float32")
        out[f"{name}_a"], out[f"{name}_b"] = a, b
        out[f"{name}_y"] = np.asarray(ops.image.ssim(a, b, **kwargs))


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(20261130)
    out: dict = {"keras_version": np.array(keras.__version__),
                 "tensorflow_version": np.array(tf.__version__)}
    image_ops(rng, out)
    for section in SECTIONS:
        section(rng, out)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}: {len(out)} arrays")


#: name -> (shape, dtype, keyword arguments of ContrastLimitedAdaptiveHistogramEqualization)
CLAHE = {
    "clahe_default": ((2, 20, 18, 3), "float32", {}),
    "clahe_unit_range": ((1, 9, 12, 2), "float32", {"value_range": (0, 1), "clip_limit": 2.0,
                                                    "tile_grid_size": (3, 2)}),
    "clahe_no_clip": ((11, 7, 1), "float32", {"clip_limit": 0.0, "tile_grid_size": (2, 3)}),
    "clahe_first": ((1, 2, 10, 10), "float32", {"tile_grid_size": (4, 4),
                                                "data_format": "channels_first"}),
    "clahe_uint8": ((1, 16, 16, 3), "uint8", {"tile_grid_size": (2, 2), "clip_limit": 1.5}),
}


def layers(rng: np.random.Generator, out: dict) -> None:
    import keras
    import tensorflow as tf

    for name, (shape, dtype, kwargs) in CLAHE.items():
        high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
        x = rng.random(shape) * high
        # a narrow band in one corner gives the contrast limit something to clip
        x[..., : shape[-3] // 2, : shape[-2] // 2, :] *= 0.1
        x = x.astype(dtype)
        layer = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
        out[f"{name}_x"] = x
        out[f"{name}_y"] = np.asarray(layer(tf.constant(x)))
        out[f"{name}_config"] = np.array(json.dumps(layer.get_config()))
    layer = keras.layers.MaxNumBoundingBoxes(3, fill_value=-2, bounding_box_format="xyxy")
    out["maxnum_config"] = np.array(json.dumps(layer.get_config()))
    for name, n in (("maxnum_cut", 5), ("maxnum_pad", 2)):
        boxes = rng.random((2, n, 4)).astype("float32")
        labels = rng.integers(0, 9, (2, n)).astype("int32")
        got = layer({"images": np.zeros((2, 4, 4, 3), "float32"),
                     "bounding_boxes": {"boxes": boxes, "labels": labels}})
        out[f"{name}_boxes"], out[f"{name}_labels"] = boxes, labels
        out[f"{name}_boxes_y"] = np.asarray(got["bounding_boxes"]["boxes"])
        out[f"{name}_labels_y"] = np.asarray(got["bounding_boxes"]["labels"])


def _pair(keras, seed: int) -> tuple:
    """A small functional teacher and student with named hidden layers of equal width."""
    keras.utils.set_random_seed(seed)
    ti = keras.Input((4,), name="teacher_in")
    th = keras.layers.Dense(6, activation="relu", name="t_hidden")(ti)
    teacher = keras.Model(ti, keras.layers.Dense(3, name="t_out")(th), name="teacher")
    si = keras.Input((4,), name="student_in")
    sh = keras.layers.Dense(6, activation="tanh", name="s_hidden")(si)
    student = keras.Model(si, keras.layers.Dense(3, name="s_out")(sh), name="student")
    return teacher, student


#: name -> (student_loss_weight, targets "sparse" or "onehot", distillation setup)
DISTILL = {
    "distill_logits": (0.5, "sparse", "logits"),
    "distill_mixed": (0.3, "onehot", "mixed"),
    "distill_no_student": (0.0, "sparse", "feature_final"),
}


def _weights(out: dict, key: str, weights: list) -> None:
    """A list of arrays as ``key_0``, ``key_1``, ... (no object arrays: no pickles)."""
    for i, w in enumerate(weights):
        out[f"{key}_{i}"] = w


def distillation(rng: np.random.Generator, out: dict) -> None:
    import keras
    from keras import distillation as kd

    x = rng.standard_normal((16, 4)).astype("float32")
    labels = rng.integers(0, 3, 16)
    out["distill_x"], out["distill_labels"] = x, labels
    for i, (name, (weight, targets, setup)) in enumerate(DISTILL.items()):
        teacher, student = _pair(keras, 10 + i)
        _weights(out, f"{name}_teacher_weights", teacher.get_weights())
        _weights(out, f"{name}_student_weights", student.get_weights())
        if setup == "logits":
            losses, loss_weights = kd.LogitsDistillation(temperature=2.0), None
            student_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        elif setup == "mixed":
            losses = [kd.LogitsDistillation(temperature=3.0, loss=keras.losses.KLDivergence()),
                      kd.FeatureDistillation(loss="mse", teacher_layer_name="t_hidden",
                                             student_layer_name="s_hidden")]
            loss_weights, student_loss = [1.0, 0.5], "mse"
        else:
            losses, loss_weights = [kd.FeatureDistillation(loss="cosine_similarity")], None
            student_loss = "sparse_categorical_crossentropy"
        distiller = kd.Distiller(teacher, student, losses, distillation_loss_weights=loss_weights,
                                 student_loss_weight=weight)
        distiller.compile(optimizer=keras.optimizers.SGD(0.1), loss=student_loss,
                          metrics=["mae"] if targets == "onehot" else None)
        y = np.eye(3, dtype="float32")[labels] if targets == "onehot" else labels
        history = distiller.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        out[f"{name}_history"] = np.array(json.dumps(history.history))
        _weights(out, f"{name}_trained", student.get_weights())
        out[f"{name}_evaluate"] = np.array(json.dumps(
            distiller.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)))
        out[f"{name}_predict"] = distiller.predict(x[:5], verbose=0)
        out[f"{name}_config"] = np.array(json.dumps(distiller.get_config()))
        out[f"{name}_metrics_names"] = np.array(json.dumps([m.name for m in distiller.metrics]))


#: path -> policy name of the DTypePolicyMap cases, and the paths looked up
POLICY_MAP = {"encoder/dense": "float64", "encoder/.*": "float16", "decoder": "float64"}
POLICY_LOOKUPS = ["encoder/dense", "encoder/norm", "decoder", "decoder/dense", "encoder"]


def dtype_policies(rng: np.random.Generator, out: dict) -> None:
    from keras import dtype_policies as dp

    for name, default in (("policy_map_default", "float32"), ("policy_map_global", None)):
        policy_map = dp.DTypePolicyMap(default_policy=default)
        for path, policy in POLICY_MAP.items():
            policy_map[path] = dp.DTypePolicy(policy)
        out[f"{name}_lookups"] = np.array(json.dumps(
            [policy_map[p].name for p in POLICY_LOOKUPS]))  # before get_config renames them
        out[f"{name}_name"] = np.array(policy_map.name)
        out[f"{name}_serialized"] = np.array(json.dumps(dp.serialize(policy_map)))


#: the later sections (layers, distillation, dtype policies), each ``f(rng, out)``
SECTIONS: list = [layers, distillation, dtype_policies]

if __name__ == "__main__":
    main()

"""Record Keras 3's geometric ``ops.image`` functions and augmentation layers, for
tests/test_geometric_augmentation.py.

Records, on small fixed inputs, the outputs of ``affine_transform`` (every
interpolation and fill mode, batched and single transforms, channels first),
``map_coordinates`` (orders 0 and 1, every fill mode), ``perspective_transform``,
``crop_images``, ``pad_images`` and ``scale_and_translate`` (every kernel, with and
without antialiasing); the layers where Keras is deterministic: ``RandomShear`` and
``RandomPerspective`` applying given transformations (``transform_images``),
``RandomErasing`` erasing the whole image; and each layer's ``get_config`` keys.
Needs Keras 3 and TensorFlow, so it runs in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_geom_aug_fixtures.py

It writes ``tests/fixtures/keras_geom_aug.npz`` (with the Keras and TensorFlow versions).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_geom_aug.npz")

#: name -> (transform, keyword arguments); images are IMAGES (2, 6, 7, 2)
AFFINE = {
    "rotate_bilinear_constant": ([[0.9, -0.3, 1.2, 0.35, 0.95, -0.7, 0.0, 0.0],
                                  [1.1, 0.2, -0.6, -0.1, 0.8, 0.9, 0.0, 0.0]],
                                 {"fill_value": 0.5}),
    "shift_nearest_nearest": ([1.0, 0.0, 1.7, 0.0, 1.0, -2.2, 0.0, 0.0],
                              {"interpolation": "nearest", "fill_mode": "nearest"}),
    "zoom_bilinear_reflect": ([1.6, 0.1, -2.1, 0.0, 1.4, -1.3, 0.0, 0.0],
                              {"fill_mode": "reflect"}),
    "shear_bilinear_wrap": ([1.0, 0.45, -1.0, 0.3, 1.0, 0.6, 0.0, 0.0], {"fill_mode": "wrap"}),
    "projective_bilinear_constant": ([1.05, 0.1, 0.3, -0.05, 0.9, 0.4, 0.02, -0.03], {}),
}
#: (order, fill_mode) of map_coordinates. TensorFlow's "mirror" reads past the edge and its
#: "reflect" mirrors below 0, so those two are tested against their documented patterns instead
MAP_COORDS = [(order, mode) for order in (0, 1) for mode in ("constant", "nearest", "wrap")]
#: name -> (input shape, output shape, scale, translation, spatial dims, method, antialias)
SCALES = {
    "linear_up": ((2, 5, 6, 1), (2, 8, 9, 1), (1.6, 1.5), (0.3, -0.4), (1, 2), "linear", True),
    "linear_down_aa": ((1, 9, 8, 2), (1, 4, 5, 2), (0.45, 0.6), (0.2, 0.1), (1, 2),
                       "bilinear", True),
    "linear_down": ((1, 9, 8, 2), (1, 4, 5, 2), (0.45, 0.6), (0.2, 0.1), (1, 2), "linear",
                    False),
    "cubic_down_aa": ((1, 9, 8, 1), (1, 5, 4, 1), (0.55, 0.5), (0.0, 0.3), (1, 2), "cubic",
                      True),
    "lanczos3_up": ((1, 5, 6, 1), (1, 7, 6, 1), (1.4,), (-0.2,), (1,), "lanczos3", True),
    "lanczos5_down": ((1, 7, 11, 1), (1, 7, 6, 1), (0.55,), (0.1,), (2,), "lanczos5", True),
}
PAD = {
    "pad_sides": ((2, 4, 5, 3), {"top_padding": 1, "left_padding": 2, "bottom_padding": 0,
                                 "right_padding": 1}),
    "pad_target": ((4, 5, 3), {"top_padding": 2, "left_padding": 1, "target_height": 7,
                               "target_width": 8}),
    "pad_first": ((2, 3, 4, 5), {"bottom_padding": 1, "right_padding": 2, "target_height": 6,
                                 "target_width": 8, "data_format": "channels_first"}),
}
CROP = {
    "crop_sides": ((2, 6, 7, 3), {"top_cropping": 1, "left_cropping": 2, "bottom_cropping": 2,
                                  "right_cropping": 1}),
    "crop_target": ((6, 7, 3), {"top_cropping": 2, "left_cropping": 1, "target_height": 3,
                                "target_width": 4}),
    "crop_first": ((2, 3, 6, 7), {"bottom_cropping": 1, "right_cropping": 2,
                                  "target_height": 4, "target_width": 4,
                                  "data_format": "channels_first"}),
}


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(7)
    out: dict = {"versions": np.array(f"keras {keras.__version__}, "
                                      f"tensorflow {tf.__version__}")}
    images = rng.uniform(0, 10, size=(2, 6, 7, 2)).astype("float32")
    out["images"] = images
    for name, (transform, kwargs) in AFFINE.items():
        t = np.asarray(transform, dtype="float32")
        out[f"affine/{name}/transform"] = t
        out[f"affine/{name}"] = keras.ops.convert_to_numpy(
            keras.ops.image.affine_transform(images, t, **kwargs))
    t = np.asarray(AFFINE["rotate_bilinear_constant"][0], dtype="float32")
    out["affine/channels_first"] = keras.ops.convert_to_numpy(keras.ops.image.affine_transform(
        images.transpose(0, 3, 1, 2), t, data_format="channels_first"))
    out["affine/unbatched"] = keras.ops.convert_to_numpy(keras.ops.image.affine_transform(
        images[0], t[0], fill_mode="reflect"))

    # map_coordinates: points inside, on and outside the edges (no exact halves)
    map_input = rng.uniform(-3, 3, size=(4, 5)).astype("float32")
    coords = np.stack([rng.uniform(-2.6, 5.6, size=(3, 6)),
                       rng.uniform(-2.6, 6.6, size=(3, 6))]).astype("float32")
    coords[:, 0, :3] = [[0.0, 3.0, 1.25], [0.0, 4.0, 2.75]]
    out["map/input"], out["map/coords"] = map_input, coords
    for order, mode in MAP_COORDS:
        out[f"map/{order}/{mode}"] = keras.ops.convert_to_numpy(keras.ops.image.map_coordinates(
            map_input, coords, order=order, fill_mode=mode, fill_value=-1.5))

    start = np.array([[[0, 0], [6, 0], [0, 5], [6, 5]],
                      [[0.5, 0.2], [5.6, 0.4], [0.3, 4.7], [6, 5]]], dtype="float32")
    end = np.array([[[1.0, 0.5], [5.5, 0.2], [0.4, 4.2], [6.2, 5.3]],
                    [[0, 0], [6, 0], [0, 5], [6, 5]]], dtype="float32")
    out["perspective/start"], out["perspective/end"] = start, end
    for interp in ("bilinear", "nearest"):
        out[f"perspective/{interp}"] = keras.ops.convert_to_numpy(
            keras.ops.image.perspective_transform(images, start, end, interpolation=interp,
                                                  fill_value=2.0))
    out["perspective/unbatched_first"] = keras.ops.convert_to_numpy(
        keras.ops.image.perspective_transform(images[0].transpose(2, 0, 1), start[0], end[0],
                                              data_format="channels_first"))

    for name, (shape, kwargs) in PAD.items():
        x = rng.uniform(size=shape).astype("float32")
        out[f"pad/{name}/input"] = x
        out[f"pad/{name}"] = keras.ops.convert_to_numpy(keras.ops.image.pad_images(x, **kwargs))
    for name, (shape, kwargs) in CROP.items():
        x = rng.uniform(size=shape).astype("float32")
        out[f"crop/{name}/input"] = x
        out[f"crop/{name}"] = keras.ops.convert_to_numpy(keras.ops.image.crop_images(x,
                                                                                     **kwargs))
    for name, (shape, oshape, scale, trans, dims, method, aa) in SCALES.items():
        x = rng.uniform(size=shape).astype("float32")
        out[f"scale/{name}/input"] = x
        out[f"scale/{name}"] = keras.ops.convert_to_numpy(keras.ops.image.scale_and_translate(
            x, oshape, np.asarray(scale, "float32"), np.asarray(trans, "float32"), dims,
            method, antialias=aa))

    # layers with given transformations (Keras's deterministic path)
    shear = np.array([[0.3, -0.2], [-0.15, 0.4]], dtype="float32")
    out["layer/shear/factors"] = shear
    for mode in ("reflect", "constant"):
        layer = keras.layers.RandomShear(0.5, 0.5, fill_mode=mode, fill_value=1.0)
        out[f"layer/shear/{mode}"] = keras.ops.convert_to_numpy(layer.transform_images(
            images, {"shear_factor": shear, "input_shape": images.shape}))
    layer = keras.layers.RandomPerspective(fill_value=3.0)
    out["layer/perspective"] = keras.ops.convert_to_numpy(layer.transform_images(
        images, {"apply_perspective": np.array([True, False]), "start_points": start,
                 "end_points": end, "input_shape": images.shape}))
    layer = keras.layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=300,
                                       value_range=(0, 255))
    out["layer/erasing_all"] = keras.ops.convert_to_numpy(layer(images * 30, training=True))

    configs = {name: sorted(getattr(keras.layers, name)().get_config()) for name in ("RandomShear", "RandomPerspective", "RandomElasticTransform",
                     "RandomErasing", "MixUp", "CutMix")}
    out["config_keys"] = np.array(json.dumps(configs))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()

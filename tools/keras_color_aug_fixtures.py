"""Record Keras 3's colour augmentation layers and colour ops, for
tests/test_color_augmentation.py.

Every layer runs in a deterministic setting (factor ranges that collapse to one value,
probability 1, thresholds of 0, or Keras's ``transform_images`` with a given
transformation for the draws a collapsed range cannot fix, such as ``RandomHue``'s random
sign), and ``ops.image.rgb_to_grayscale``/``rgb_to_hsv``/``hsv_to_rgb``/``gaussian_blur``
run on small fixed inputs. The settings are stored with the results (as JSON), so the
tests build the same layers from them. Needs Keras 3 and TensorFlow, so it runs in the
benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_color_aug_fixtures.py

It writes ``tests/fixtures/keras_color_aug.npz`` (with the Keras and TensorFlow versions).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_color_aug.npz")

CL, CF = (2, 5, 6, 3), (2, 3, 5, 6)
#: name -> (layer, keyword arguments, input shape, input range, training)
LAYERS = {
    "grayscale": ("RandomGrayscale", {"factor": 1.0}, CL, 255, True),
    "grayscale_cf": ("RandomGrayscale", {"factor": 1.0, "data_format": "channels_first"},
                     CF, 255, True),
    "grayscale_none": ("RandomGrayscale", {"factor": 0.0}, CL, 255, True),
    "saturation": ("RandomSaturation", {"factor": (0.3, 0.3)}, CL, 255, True),
    "saturation_01": ("RandomSaturation", {"factor": (0.8, 0.8), "value_range": (0, 1)},
                      CL, 1, True),
    "saturation_cf": ("RandomSaturation", {"factor": (0.7, 0.7),
                                           "data_format": "channels_first"}, CF, 255, True),
    "hue_zero": ("RandomHue", {"factor": (0.0, 0.0)}, CL, 255, True),
    "degeneration": ("RandomColorDegeneration", {"factor": (0.4, 0.4)}, CL, 255, True),
    "degeneration_unbatched": ("RandomColorDegeneration",
                               {"factor": (0.6, 0.6), "value_range": (0, 1)},
                               (5, 6, 3), 1, True),
    "sharpness": ("RandomSharpness", {"factor": (0.2, 0.2)}, CL, 255, True),
    "sharpness_cf": ("RandomSharpness", {"factor": (0.9, 0.9), "value_range": (0, 1),
                                         "data_format": "channels_first"}, CF, 1, True),
    "invert": ("RandomInvert", {"factor": (1.0, 1.0)}, CL, 255, True),
    "invert_01": ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (0, 1)}, CL, 1, True),
    "invert_never": ("RandomInvert", {"factor": (0.0, 0.0)}, CL, 255, True),
    "posterization": ("RandomPosterization", {"factor": (3, 3)}, CL, 255, True),
    "posterization_01": ("RandomPosterization", {"factor": (5, 5), "value_range": (0, 1)},
                         CL, 1, True),
    "autocontrast": ("AutoContrast", {}, CL, 255, True),
    "autocontrast_01": ("AutoContrast", {"value_range": (0, 1)}, CL, 1, True),
    "autocontrast_inference": ("AutoContrast", {}, CL, 255, False),
    "equalization": ("Equalization", {}, CL, 255, True),
    "equalization_bins": ("Equalization", {"bins": 16, "value_range": (0, 1)}, CL, 1, True),
    "equalization_cf": ("Equalization", {"data_format": "channels_first"}, CF, 255, True),
    "solarization": ("Solarization", {}, CL, 255, True),
    "solarization_01": ("Solarization", {"value_range": (0, 1)}, CL, 1, True),
    "blur": ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.5, 0.5)},
             CL, 255, True),
    "blur_5_cf": ("RandomGaussianBlur", {"factor": (1.0, 1.0), "kernel_size": 5,
                                         "sigma": (0.8, 0.8), "value_range": (0, 1),
                                         "data_format": "channels_first"}, CF, 1, True),
    "blur_never": ("RandomGaussianBlur", {"factor": (0.0, 0.0)}, CL, 255, True),
    "jitter": ("RandomColorJitter", {"brightness_factor": (0.1, 0.1),
                                     "contrast_factor": (-0.2, 0.2),
                                     "saturation_factor": (0.6, 0.6)}, CL, 255, True),
}
#: name -> (layer, keyword arguments, input range, transformation given to transform_images)
TRANSFORMS = {
    "hue_delta": ("RandomHue", {"factor": 0.5}, 255, {"factor": [0.15, -0.3]}),
    "hue_delta_01": ("RandomHue", {"factor": 0.5, "value_range": (0, 1)}, 1,
                     {"factor": [-0.05, 0.45]}),
    "solarize_given": ("Solarization", {}, 255,
                       {"additions": [[[[20.0]]], [[[0.0]]]],
                        "thresholds": [[[[128.0]]], [[[60.0]]]]}),
}
#: name -> (op, keyword arguments, input shape)
OPS = {
    "rgb_to_hsv": ("rgb_to_hsv", {}, (2, 4, 5, 3)),
    "rgb_to_hsv_cf": ("rgb_to_hsv", {"data_format": "channels_first"}, (2, 3, 4, 5)),
    "hsv_to_rgb": ("hsv_to_rgb", {}, (2, 4, 5, 3)),
    "hsv_to_rgb_unbatched": ("hsv_to_rgb", {}, (4, 5, 3)),
    "rgb_to_grayscale": ("rgb_to_grayscale", {}, (2, 4, 5, 3)),
    "rgb_to_grayscale_cf": ("rgb_to_grayscale", {"data_format": "channels_first"},
                            (3, 4, 5)),
    "gaussian_blur": ("gaussian_blur", {}, (2, 6, 7, 2)),
    "gaussian_blur_rect": ("gaussian_blur", {"kernel_size": (5, 3), "sigma": (0.7, 1.3)},
                           (1, 8, 7, 1)),
    "gaussian_blur_cf": ("gaussian_blur", {"kernel_size": (5, 5), "sigma": (1.5, 0.6),
                                           "data_format": "channels_first"}, (1, 2, 7, 6)),
}


def _images(rng: np.random.Generator, shape: tuple, scale: float) -> np.ndarray:
    x = rng.uniform(0.05, 0.9, size=shape)
    flat = x.reshape(-1, shape[-1]) if shape[-1] == 3 else None
    if flat is not None:  # a few grays and pure colours (hue edge cases)
        flat[0] = flat[0, 0]
        flat[1] = [flat[1, 0], 0.0, 0.0]
        flat[2] = [0.0, flat[2, 1], flat[2, 1]]
    return (x * scale).astype("float32")


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rec: dict = {"keras_version": np.array(keras.__version__),
                 "tf_version": np.array(tf.__version__),
                 "backend": np.array(keras.backend.backend())}
    spec: dict = {"layers": {}, "transforms": {}, "ops": {}}
    for name, (cls, kwargs, shape, scale, training) in LAYERS.items():
        x = _images(rng, shape, scale)
        if name.startswith("autocontrast"):
            x[0, ..., 1] = 40.0 * scale / 255  # a constant channel stays as it is
        layer = getattr(keras.layers, cls)(**kwargs)
        rec[f"{name}__x"] = x
        rec[f"{name}__y"] = np.asarray(layer(x, training=training))
        spec["layers"][name] = [cls, kwargs, training]
    for name, (cls, kwargs, scale, transformation) in TRANSFORMS.items():
        x = _images(rng, CL, scale)
        layer = getattr(keras.layers, cls)(**kwargs)
        given = {k: tf.constant(np.asarray(v, "float32")) for k, v in transformation.items()}
        rec[f"{name}__x"] = x
        rec[f"{name}__y"] = np.asarray(layer.transform_images(tf.constant(x), given))
        spec["transforms"][name] = [cls, kwargs, transformation]
    for name, (op, kwargs, shape) in OPS.items():
        x = rng.uniform(0.0, 1.0, size=shape).astype("float32")
        if op == "rgb_to_hsv":
            x.reshape(-1)[:6] = [0.3, 0.3, 0.3, 0.0, 0.0, 0.0]  # a gray and black
        rec[f"{name}__x"] = x
        rec[f"{name}__y"] = np.asarray(getattr(keras.ops.image, op)(x, **kwargs))
        spec["ops"][name] = [op, kwargs]
    rec["spec"] = np.array(json.dumps(spec))
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()

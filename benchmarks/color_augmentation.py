"""Time the colour augmentation layers on a batch of images: chainrule against Keras 3.

Each layer runs on 32 RGB images of 64×64 (values 0..255) while training; the two
frameworks alternate call by call and the minimum of the repeats is reported, with
chainrule's time over Keras's (TensorFlow backend, eager). Run it in the benchmark
environment with the tree to measure on ``PYTHONPATH``:

    flock /work/bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        PYTHONPATH=. benchmarks/.venv/bin/python benchmarks/color_augmentation.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

#: layer name -> keyword arguments (the same in both frameworks)
LAYERS = {
    "RandomGrayscale": {"factor": 0.5},
    "RandomHue": {"factor": 0.5},
    "RandomSaturation": {"factor": 0.5},
    "RandomColorDegeneration": {"factor": 0.5},
    "RandomColorJitter": {"brightness_factor": 0.2, "contrast_factor": 0.2,
                          "saturation_factor": 0.5, "hue_factor": 0.2},
    "RandomSharpness": {"factor": 0.5},
    "RandomInvert": {},
    "RandomPosterization": {"factor": (2, 6)},
    "AutoContrast": {},
    "Equalization": {},
    "Solarization": {"addition_factor": 0.2, "threshold_factor": 0.5},
    "RandomGaussianBlur": {"kernel_size": 5},
}


def _best(layer, x, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        layer(x, training=True)
        best = min(best, time.perf_counter() - t)
    return best


def main(repeats: int = 15) -> None:
    import keras

    import chainrule as cr

    x = np.random.default_rng(0).uniform(0, 255, size=(32, 64, 64, 3)).astype("float32")
    print(f"{'layer':26s} {'chainrule ms':>12s} {'keras ms':>9s} {'ratio':>6s}")
    for name, kw in LAYERS.items():
        ours = getattr(cr.layers, name)(seed=1, **kw) if name not in (
            "AutoContrast", "Equalization") else getattr(cr.layers, name)(**kw)
        theirs = getattr(keras.layers, name)(seed=1, **kw) if name not in (
            "AutoContrast", "Equalization") else getattr(keras.layers, name)(**kw)
        ours(x, training=True), theirs(x, training=True)  # warm up
        ta, tb = float("inf"), float("inf")
        for _ in range(repeats):  # interleaved
            ta, tb = min(ta, _best(ours, x, 1)), min(tb, _best(theirs, x, 1))
        print(f"{name:26s} {ta * 1e3:12.2f} {tb * 1e3:9.2f} {ta / tb:6.2f}")


if __name__ == "__main__":
    main()

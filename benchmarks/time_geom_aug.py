"""Time one training-mode call of each geometric/mixing augmentation layer.

Images of shape (32, 64, 64, 3) float32; prints the minimum wall and CPU time of 5 calls
after a warm-up. Run it once per framework, interleaved, under the shared lock:

    flock /work/bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        benchmarks/.venv/bin/python benchmarks/time_geom_aug.py chainrule   # or keras
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

LAYERS = ["RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing",
          "MixUp", "CutMix"]


def main(which: str) -> None:
    if which == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras as lib
    else:
        import chainrule as lib
    x = np.random.default_rng(0).uniform(0, 255, size=(32, 64, 64, 3)).astype("float32")
    for name in LAYERS:
        kwargs = {"x_factor": 0.2, "y_factor": 0.2} if name == "RandomShear" else {}
        layer = getattr(lib.layers, name)(seed=1, **kwargs)
        layer(x, training=True)
        wall = cpu = float("inf")
        for _ in range(5):
            t, c = time.perf_counter(), time.process_time()
            np.asarray(layer(x, training=True))
            wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
        print(f"{which:9s} {name:24s} wall {wall * 1e3:7.1f} ms  cpu {cpu * 1e3:7.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "chainrule")

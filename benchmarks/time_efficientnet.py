"""Time EfficientNetB0 or EfficientNetV2B0 (random weights) on 128x128 images: one inference
batch (``predict_on_batch``) and one training step of the whole model (``train_on_batch``,
SGD, sparse categorical cross-entropy), batch 4 float32.

Prints the minimum wall and CPU time of ``repeats`` calls after two warm-ups (chainrule
replays its recorded training step from the third call on). Run it once per framework,
interleaved, under the shared lock:

    flock /work/bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        benchmarks/.venv/bin/python benchmarks/time_efficientnet.py chainrule EfficientNetB0
        # or keras; or EfficientNetV2B0
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np


def best_of(fn, repeats: int) -> tuple[float, float]:
    wall = cpu = float("inf")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def main(which: str, name: str, batch: int = 4, size: int = 128, repeats: int = 3) -> None:
    if which == "keras":
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras as lib
    else:
        import chainrule as lib
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(batch, size, size, 3)).astype("float32")
    y = rng.integers(0, 10, batch)
    model = getattr(lib.applications, name)(weights=None, input_shape=(size, size, 3),
                                             classes=10)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    for _ in range(2):
        model.predict_on_batch(x)
    wall, cpu = best_of(lambda: model.predict_on_batch(x), repeats)
    print(f"{which:9s} {name:17s} predict wall {wall * 1e3:8.1f} ms  cpu {cpu * 1e3:8.1f} ms")
    for _ in range(2):
        model.train_on_batch(x, y)
    wall, cpu = best_of(lambda: model.train_on_batch(x, y), repeats)
    print(f"{which:9s} {name:17s} train   wall {wall * 1e3:8.1f} ms  cpu {cpu * 1e3:8.1f} ms")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "chainrule",
         sys.argv[2] if len(sys.argv) > 2 else "EfficientNetB0")

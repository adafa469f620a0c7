"""Inference time of DenseNet121, InceptionV3, Xception and InceptionResNetV2: chainrule
against Keras 3 (TensorFlow), the same weights in both, at the models' default image sizes.

Each model is built in both frameworks with ``weights=None``; Keras gets chainrule's
weights (the same order, as Keras's ImageNet files), so the outputs must agree, which the
script checks. Calls alternate between the frameworks; the minimum of ``--repeats`` calls
of ``model.predict`` (wall and CPU time) is reported after a warm-up call.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=. \\
        benchmarks/.venv/bin/python benchmarks/applications_appsdense.py --batch 4
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

MODELS = [("DenseNet121", 224), ("InceptionV3", 299), ("Xception", 299),
          ("InceptionResNetV2", 299)]


def timed_pair(fa, fb, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(min wall, min CPU) of ``fa`` and of ``fb``, their calls alternating."""
    fa(), fb()  # warm-up (a captured program, TensorFlow's graph)
    times: list[list[tuple[float, float]]] = [[], []]
    for _ in range(repeats):
        for i, fn in enumerate((fa, fb)):
            w, c = time.perf_counter(), time.process_time()
            fn()
            times[i].append((time.perf_counter() - w, time.process_time() - c))
    return tuple((min(t[0] for t in ts), min(t[1] for t in ts)) for ts in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(m for m, _ in MODELS))
    args = parser.parse_args()
    import keras
    import tensorflow as tf

    import chainrule as cr

    print(f"keras {keras.__version__}, tensorflow {tf.__version__}, batch {args.batch}")
    print("| model | image | chainrule | Keras | chainrule / Keras | max abs diff |")
    print("|---|--:|--:|--:|--:|--:|")
    wanted = args.models.split(",")
    for name, size in MODELS:
        if name not in wanted:
            continue
        ours = getattr(cr.applications, name)(weights=None)
        theirs = getattr(keras.applications, name)(weights=None)
        theirs.set_weights(ours.get_weights())
        x = np.random.default_rng(0).uniform(-1, 1, (args.batch, size, size, 3)).astype("float32")
        diff = float(np.abs(ours.predict(x, verbose=0) - theirs.predict(x, verbose=0)).max())
        a, b = timed_pair(lambda m=ours, x=x: m.predict(x, batch_size=args.batch, verbose=0),
                          lambda m=theirs, x=x: m.predict(x, batch_size=args.batch, verbose=0),
                          args.repeats)
        print(f"| {name} | {size} | {a[0] * 1e3:.0f} ms (CPU {a[1] * 1e3:.0f}) | "
              f"{b[0] * 1e3:.0f} ms (CPU {b[1] * 1e3:.0f}) | {a[0] / b[0]:.2f} | {diff:.1e} |")


if __name__ == "__main__":
    main()

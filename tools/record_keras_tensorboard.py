"""Record the folders, tags, plugins and steps of Keras 3's TensorBoard callback.

Trains a tiny model in Keras 3 (TensorFlow backend) with
``keras.callbacks.TensorBoard(histogram_freq=1, update_freq=2,
write_steps_per_second=True)`` and validation data, reads the event files back
with TensorBoard's own ``EventAccumulator`` and writes, per folder, every tag
with its plugin and steps (read raw with ``EventFileLoader``) into ``tests/fixtures/keras_tensorboard_tags.json``
(values are not recorded: they depend on Keras's random initialization).
tests/test_tensorboard.py runs the same configuration in chainrule and
compares; it never imports Keras. Run it in the benchmark environment (with
the ``tensorboard`` package importable):

    benchmarks/.venv/bin/python tools/record_keras_tensorboard.py
"""

from __future__ import annotations

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                   "keras_tensorboard_tags.json")

# The run both frameworks make: 48 samples of 4 features, 3 batches of 16 per epoch, 2 epochs.
RUN = {"samples": 48, "features": 4, "batch_size": 16, "epochs": 2, "validation_samples": 8,
       "callback": {"histogram_freq": 1, "update_freq": 2, "write_steps_per_second": True}}


def read_tags(folder: str) -> dict:
    """Every summary of every event file in ``folder``, read raw (no purging of steps)."""
    from tensorboard.backend.event_processing import event_file_loader

    tags: dict = {}
    for name in sorted(os.listdir(folder)):
        if ".tfevents." not in name:
            continue
        for event in event_file_loader.EventFileLoader(os.path.join(folder, name)).Load():
            for value in event.summary.value:
                entry = tags.setdefault(value.tag, {"plugin": value.metadata.plugin_data
                                                    .plugin_name, "steps": []})
                entry["steps"].append(int(event.step))
    return tags


def main() -> None:
    import keras
    import tensorboard
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(RUN["samples"], RUN["features"])).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((RUN["features"],)),
                              keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    log_dir = tempfile.mkdtemp()
    n_val = RUN["validation_samples"]
    model.fit(x, y, batch_size=RUN["batch_size"], epochs=RUN["epochs"], verbose=0,
              validation_data=(x[:n_val], y[:n_val]),
              callbacks=[keras.callbacks.TensorBoard(log_dir, **RUN["callback"])])
    folders = sorted(os.listdir(log_dir))
    record = {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "tensorboard": tensorboard.__version__},
        "run": RUN,
        "folders": folders,
        "tags": {folder: read_tags(os.path.join(log_dir, folder)) for folder in folders},
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Record Keras 3's file order, labels and splits for folder, time-series and split datasets.

Builds a small folder tree (the paths are stored in the fixture so the tests can
rebuild it), runs Keras's ``image_dataset_from_directory`` /
``text_dataset_from_directory`` with seeds, ``timeseries_dataset_from_array``
(unshuffled) and ``split_dataset`` (shuffled with a seed), and writes what they
returned to tests/fixtures/keras_directory_datasets.json. Run with an
environment that has Keras 3 and TensorFlow:

    python tools/record_directory_datasets.py
"""

from __future__ import annotations

import json
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_directory_datasets.json")

IMAGES = ["b/x1.png", "b/a/z.jpg", "a/3.png", "a/10.png", "a/2.PNG", "c/q.png", "c/r/s/t.png",
          "c/0.png", "a/sub/1.png", "b/y.png", ".hidden/h.png", "b/note.txt"]
TEXTS = ["neg/1.txt", "neg/2.txt", "neg/b/3.txt", "pos/9.txt", "pos/10.txt", "pos/a.txt",
         "pos/readme.md"]


def rel(paths, root):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in paths]


def main():
    record = {"keras": keras.__version__, "tensorflow": tf.__version__, "images": IMAGES,
              "texts": TEXTS, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        img_root, txt_root = os.path.join(tmp, "img"), os.path.join(tmp, "txt")
        for name in IMAGES:
            path = os.path.join(img_root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:  # never decoded: only the listing is recorded
                f.write("x")
        for name in TEXTS:
            path = os.path.join(txt_root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").write(name)
        for kwargs in [{"seed": 11}, {"seed": 3, "shuffle": False},
                       {"seed": 5, "validation_split": 0.25, "subset": "training"},
                       {"seed": 5, "validation_split": 0.25, "subset": "validation"},
                       {"seed": 7, "class_names": ["c", "a"]}]:
            ds = keras.utils.image_dataset_from_directory(img_root, image_size=(4, 4),
                                                          verbose=False, **kwargs)
            record["cases"].append({"kind": "image", "kwargs": kwargs,
                                    "file_paths": rel(ds.file_paths, img_root),
                                    "class_names": ds.class_names})
        # Keras's text datasets keep no file_paths: record the listing its function makes
        from keras.src.utils import dataset_utils  # noqa: PLC0415

        for kwargs in [{"seed": 2}, {"seed": 9, "validation_split": 0.4, "subset": "training"}]:
            paths, _, names = dataset_utils.index_directory(
                txt_root, "inferred", formats=(".txt",), shuffle=True, seed=kwargs["seed"],
                verbose=False)
            paths, _ = dataset_utils.get_training_or_validation_split(
                paths, None, kwargs.get("validation_split"), kwargs.get("subset"))
            record["cases"].append({"kind": "text", "kwargs": kwargs,
                                    "file_paths": rel(paths, txt_root), "class_names": names})
    data = np.arange(40).reshape(20, 2)
    for kwargs in [{"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2,
                    "batch_size": 3, "start_index": 1, "end_index": 19},
                   {"sequence_length": 5, "batch_size": 4}]:
        ds = keras.utils.timeseries_dataset_from_array(data, np.arange(100, 120), **kwargs)
        xs, ys = zip(*[(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds])
        record["cases"].append({"kind": "timeseries", "kwargs": kwargs, "x": xs, "y": ys})
    for kwargs in [{"left_size": 0.6, "shuffle": True, "seed": 4},
                   {"right_size": 3, "shuffle": True, "seed": 8}]:
        left, right = keras.utils.split_dataset(np.arange(12), **kwargs)
        record["cases"].append({"kind": "split", "kwargs": kwargs,
                                "left": [int(v) for v in left.as_numpy_iterator()],
                                "right": [int(v) for v in right.as_numpy_iterator()]})
    with open(OUT, "w") as f:
        json.dump(record, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()

"""Record what Keras's imdb/reuters/boston_housing loaders return on small files of Keras's format.

Writes tests/fixtures/keras_sequence_datasets.npz: small ``imdb.npz``,
``reuters.npz`` and ``boston_housing.npz`` payloads (object arrays of lists of ints,
written by NumPy exactly as Keras's files are), and, for several argument sets,
the sequences and labels Keras's own ``load_data`` returns for them (its download
step is pointed at the small files). Run with an environment that has Keras 3:

    python tools/record_sequence_datasets.py
"""

from __future__ import annotations

import io
import json
import os
import tempfile

import keras
import numpy as np
from keras.src.datasets import boston_housing, imdb, reuters

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_sequence_datasets.npz")

IMDB_ARGS = [
    {},
    {"num_words": 50},
    {"num_words": 60, "skip_top": 5, "maxlen": 25},
    {"oov_char": None, "num_words": 40, "seed": 7},
    {"start_char": None, "index_from": 0, "maxlen": 30},
    {"start_char": None, "index_from": 2, "skip_top": 3},
]
REUTERS_ARGS = [
    {},
    {"num_words": 50, "test_split": 0.3},
    {"maxlen": 20, "skip_top": 4, "seed": 1},
    {"oov_char": None, "num_words": 30, "start_char": None},
]
BOSTON_ARGS = [{}, {"test_split": 0.5, "seed": 3}]


def ragged(rng, n, low=1, high=40, vocab=120):
    seqs = np.empty(n, dtype=object)
    seqs[:] = [rng.integers(0, vocab, size=rng.integers(low, high)).tolist() for _ in range(n)]
    return seqs


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def main():
    rng = np.random.default_rng(2024)
    files = {
        "imdb": npz_bytes(x_train=ragged(rng, 30), y_train=rng.integers(0, 2, 30),
                          x_test=ragged(rng, 20), y_test=rng.integers(0, 2, 20)),
        "reuters": npz_bytes(x=ragged(rng, 40), y=rng.integers(0, 46, 40)),
        "boston_housing": npz_bytes(x=rng.random((25, 13)), y=rng.random(25) * 50),
    }
    record = {"keras": keras.__version__, "numpy": np.__version__, "cases": []}
    arrays = {f"file_{k}": np.frombuffer(v, dtype=np.uint8) for k, v in files.items()}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, data in files.items():
            paths[name] = os.path.join(tmp, name + ".npz")
            with open(paths[name], "wb") as f:
                f.write(data)
        for module, args_list in ((imdb, IMDB_ARGS), (reuters, REUTERS_ARGS),
                                  (boston_housing, BOSTON_ARGS)):
            name = module.__name__.rsplit(".", 1)[1]
            module.get_file = lambda *a, _p=paths[name], **k: _p
            for i, args in enumerate(args_list):
                (xa, ya), (xb, yb) = module.load_data(**args)
                key = f"{name}_{i}"
                record["cases"].append({"dataset": name, "args": args, "key": key})
                if xa.dtype == object:
                    record[key] = {"x_train": [list(map(int, s)) for s in xa],
                                   "x_test": [list(map(int, s)) for s in xb]}
                else:
                    arrays[f"{key}_x_train"], arrays[f"{key}_x_test"] = xa, xb
                arrays[f"{key}_y_train"], arrays[f"{key}_y_test"] = np.asarray(ya), np.asarray(yb)
    arrays["record"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    np.savez_compressed(OUT, **arrays)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()

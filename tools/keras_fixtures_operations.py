"""Record how Keras 3 lists the ops of a functional model (layers, operations, summary).

Builds, in Keras 3 (TensorFlow backend), the functional model of
``tests/test_functional_operations.py`` (a Dense, ``x * 2.0``, ``ops.mean``, a
Concatenate and a Dense) and records ``model.layers``' and ``model.operations``'
names, ``get_layer(index=...)`` for every index, what ``get_layer(name=...)``
answers for an op's name, the summary's rows (name, class, connections) and
the config's entries, plus the class Keras records for a list of ops, into
``tests/fixtures/operations_keras.json``. The tests compare chainrule with it
and never import Keras. Run it in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_operations.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ["COLUMNS"] = "250"  # the summary table unclipped

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "operations_keras.json")

# op name in chainrule.ops -> a call of it on a symbolic tensor (Keras spells abs as absolute)
CALLS = {
    "multiply": lambda x: x * 2.0,
    "true_divide": lambda x: x / 2.0,
    "getitem": lambda x: x[:, 0],
    "abs": abs,
    "expand_dims": lambda x: ops.expand_dims(x, -1),
    "log1p": ops.log1p,
    "layer_normalization": lambda x: ops.layer_normalization(x),
    "swish": ops.swish,
    "top_k": lambda x: ops.top_k(x, 1)[0],
    "mean": lambda x: ops.mean(x, axis=-1),
    "matmul": lambda x: x @ keras.Input((3, 2)),
}


def _example() -> keras.Model:
    keras.utils.clear_session()
    inp = keras.Input((4,))
    x = layers.Dense(3)(inp)
    y = x * 2.0
    z = ops.mean(y, axis=-1, keepdims=True)
    out = layers.Dense(1)(layers.Concatenate()([y, z]))
    return keras.Model(inp, out)


def main() -> None:
    model = _example()
    by_index = {}
    for i in range(-len(model.layers), len(model.layers) + 1):
        try:
            by_index[str(i)] = model.get_layer(index=i).name
        except (ValueError, IndexError) as e:
            by_index[str(i)] = type(e).__name__
    by_name = {}
    for op in model.operations:
        try:
            by_name[op.name] = model.get_layer(op.name).name
        except ValueError as e:
            by_name[op.name] = type(e).__name__
    rows = []
    model.summary(print_fn=lambda text, **kwargs: rows.append(text), line_length=150)
    summary = [line for line in "\n".join(rows).splitlines() if line.startswith("│")]
    config = model.get_config()["layers"]
    x = keras.Input((4, 3))
    classes = {}
    for name, call in CALLS.items():
        op = call(x)._keras_history[0]
        classes[name] = {"name": op.name.rstrip("_0123456789"), "class": type(op).__name__}
    record = {
        "keras": keras.__version__, "tensorflow": tf.__version__,
        "layers": [la.name for la in model.layers],
        "operations": [op.name for op in model.operations],
        "get_layer_index": by_index, "get_layer_name": by_name,
        "summary_rows": [[cell.strip() for cell in line.strip("│").split("│")]
                         for line in summary],
        "config_layers": [[e["name"], e["class_name"], e["module"]] for e in config],
        "has_operations": {"functional": hasattr(model, "operations"),
                           "sequential": hasattr(keras.Sequential([keras.Input((3,)),
                                                                   layers.Dense(2)]),
                                                 "operations")},
        "op_classes": classes,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Record the order in which Keras 3 lists a functional model's layers and weights.

Keras lists a functional model's operations by decreasing depth (the longest path
from the operation to an output), ties broken by the order a depth-first walk from
the outputs first meets them; ``get_weights()`` and legacy ``.h5`` weight files
follow that order. Each case below is a small graph written as data (so the test
builds the same graph in chainrule without Keras): ``inputs`` are ``[name, dim]``,
``steps`` are ``[name, class, kwargs, input names]`` (an ``add``/``concatenate``
step takes several inputs; ``"op:multiply"`` records ``x * 2.0``), ``outputs`` are
step names. Run it in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_layer_order.py

Writes tests/fixtures/keras_layer_order.json, and for the branched cases in ``LEGACY``
Keras's legacy whole-model HDF5 file (``keras_layer_order_<case>.h5``) and Keras 3's
weights file (``keras_layer_order_<case>.weights.h5``), both matched to a model's layers by
position, with the model's output on a fixed input.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
OUT = os.path.join(FIXTURES, "keras_layer_order.json")
LEGACY = ("resnet_block", "inception", "late_input")

CASES = {
    "shortcut": {
        "inputs": [["x", 4]],
        "steps": [["short", "Dense", {"units": 3}, ["x"]],
                  ["long1", "Dense", {"units": 5}, ["x"]],
                  ["long2", "Dense", {"units": 3}, ["long1"]],
                  ["add", "Add", {}, ["short", "long2"]]],
        "outputs": ["add"]},
    "shortcut_first_branch_long": {
        "inputs": [["x", 4]],
        "steps": [["long1", "Dense", {"units": 5}, ["x"]],
                  ["long2", "Dense", {"units": 3}, ["long1"]],
                  ["short", "Dense", {"units": 3}, ["x"]],
                  ["add", "Add", {}, ["long2", "short"]]],
        "outputs": ["add"]},
    "late_input": {
        "inputs": [["a", 4], ["b", 2]],
        "steps": [["da", "Dense", {"units": 3}, ["a"]],
                  ["da2", "Dense", {"units": 3}, ["da"]],
                  ["cat", "Concatenate", {}, ["da2", "b"]],
                  ["head", "Dense", {"units": 2}, ["cat"]]],
        "outputs": ["head"]},
    "inception": {
        "inputs": [["x", 6]],
        "steps": [["b1", "Dense", {"units": 2}, ["x"]],
                  ["b2a", "Dense", {"units": 3}, ["x"]],
                  ["b2b", "Dense", {"units": 2}, ["b2a"]],
                  ["b3a", "Dense", {"units": 4}, ["x"]],
                  ["b3b", "Dense", {"units": 3}, ["b3a"]],
                  ["b3c", "Dense", {"units": 2}, ["b3b"]],
                  ["cat", "Concatenate", {}, ["b1", "b2b", "b3c"]],
                  ["top", "Dense", {"units": 2}, ["cat"]]],
        "outputs": ["top"]},
    "resnet_block": {
        "inputs": [["x", 4]],
        "steps": [["stem", "Dense", {"units": 6}, ["x"]],
                  ["c1", "Dense", {"units": 5}, ["stem"]],
                  ["bn1", "BatchNormalization", {}, ["c1"]],
                  ["c2", "Dense", {"units": 7}, ["bn1"]],
                  ["bn2", "BatchNormalization", {}, ["c2"]],
                  ["c0", "Dense", {"units": 7}, ["stem"]],
                  ["bn0", "BatchNormalization", {}, ["c0"]],
                  ["add", "Add", {}, ["bn0", "bn2"]],
                  ["c3", "Dense", {"units": 7}, ["add"]],
                  ["bn3", "BatchNormalization", {}, ["c3"]],
                  ["add2", "Add", {}, ["add", "bn3"]]],
        "outputs": ["add2"]},
    "two_outputs": {
        "inputs": [["x", 4]],
        "steps": [["d1", "Dense", {"units": 3}, ["x"]],
                  ["out1", "Dense", {"units": 2}, ["d1"]],
                  ["d2", "Dense", {"units": 3}, ["d1"]],
                  ["out2", "Dense", {"units": 2}, ["d2"]]],
        "outputs": ["out1", "out2"]},
    "with_op": {
        "inputs": [["x", 4]],
        "steps": [["d1", "Dense", {"units": 3}, ["x"]],
                  ["twice", "op:multiply", {}, ["d1"]],
                  ["d2", "Dense", {"units": 3}, ["x"]],
                  ["add", "Add", {}, ["twice", "d2"]]],
        "outputs": ["add"]},
    "unused_input": {
        "inputs": [["a", 4], ["b", 3]],
        "steps": [["d1", "Dense", {"units": 3}, ["a"]],
                  ["d2", "Dense", {"units": 2}, ["d1"]]],
        "outputs": ["d2"]},
    "two_inputs_deep_second": {
        "inputs": [["a", 4], ["b", 3]],
        "steps": [["da", "Dense", {"units": 3}, ["a"]],
                  ["db1", "Dense", {"units": 3}, ["b"]],
                  ["db2", "Dense", {"units": 3}, ["db1"]],
                  ["db3", "Dense", {"units": 3}, ["db2"]],
                  ["add", "Add", {}, ["da", "db3"]]],
        "outputs": ["add"]},
}


def build(case: dict) -> keras.Model:
    """Build one case's functional model in Keras."""
    tensors = {name: keras.Input((dim,), name=name) for name, dim in case["inputs"]}
    for name, cls, kwargs, ins in case["steps"]:
        args = [tensors[i] for i in ins]
        if cls == "op:multiply":
            tensors[name] = args[0] * 2.0
            continue
        layer = getattr(keras.layers, cls)(name=name, **kwargs)
        tensors[name] = layer(args if len(args) > 1 else args[0])
    inputs = [tensors[name] for name, _ in case["inputs"]]
    outputs = [tensors[name] for name in case["outputs"]]
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0])


def fill(model: keras.Model) -> None:
    """Weight k: 0.1 * sin(arange(size) * 0.7 + k), plus 1.5 for a moving variance."""
    values = []
    for k, w in enumerate(model.weights):
        v = 0.1 * np.sin(np.arange(int(np.prod(w.shape))) * 0.7 + k).reshape(w.shape)
        values.append((v + 1.5 if w.path.endswith("moving_variance") else v).astype("float32"))
    model.set_weights(values)


def probe(case: dict) -> list:
    """The fixed input of a case: one (2, dim) array per input."""
    return [np.cos(np.arange(2 * dim) * 0.3 + i).reshape(2, dim).astype("float32")
            for i, (_, dim) in enumerate(case["inputs"])]


def main() -> None:
    """Build every case and write what Keras lists."""
    out = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
           "cases": {}}
    for key, case in CASES.items():
        keras.utils.clear_session()
        model = build(case)
        if key in LEGACY:
            fill(model)
            model.save(os.path.join(FIXTURES, f"keras_layer_order_{key}.h5"))
            model.save_weights(os.path.join(FIXTURES, f"keras_layer_order_{key}.weights.h5"))
            x = probe(case)
            pred = model.predict(x if len(x) > 1 else x[0], verbose=0)
            case = dict(case, legacy_output=np.asarray(pred).tolist())
        out["cases"][key] = dict(
            case,
            layers=[la.name for la in model.layers],
            operations=[op.name for op in model.operations],
            weights=[[w.path, list(w.shape)] for w in model.weights],
        )
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()

"""A functional model lists its layers, operations and weights in Keras 3's order.

Reference: tests/fixtures/keras_layer_order.json, recorded from Keras 3 by
tools/keras_fixtures_layer_order.py (each case's graph is stored as data there and
built here the same way).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_layer_order.json")
with open(FIXTURE) as _f:
    KERAS = json.load(_f)


def build(case: dict) -> cr.Model:
    """Build one recorded case's graph in chainrule, as the tool built it in Keras."""
    tensors = {name: cr.layers.Input((dim,), name=name) for name, dim in case["inputs"]}
    for name, cls, kwargs, ins in case["steps"]:
        args = [tensors[i] for i in ins]
        if cls == "op:multiply":
            tensors[name] = args[0] * 2.0
            continue
        layer = getattr(cr.layers, cls)(name=name, **kwargs)
        tensors[name] = layer(args if len(args) > 1 else args[0])
    inputs = [tensors[name] for name, _ in case["inputs"]]
    outputs = [tensors[name] for name in case["outputs"]]
    return cr.Model(inputs, outputs if len(outputs) > 1 else outputs[0])


@pytest.mark.parametrize("key", sorted(KERAS["cases"]))
def test_layers_operations_and_weights_in_keras_order(key):
    case = KERAS["cases"][key]
    cr.utils.clear_session()
    model = build(case)
    assert [la.name for la in model.layers] == case["layers"]
    assert [op.name for op in model.operations] == case["operations"]
    assert [[w.path, list(w.shape)] for w in model.weights] == case["weights"]
    assert [list(a.shape) for a in model.get_weights()] == [s for _, s in case["weights"]]


def test_keras_order_leaves_evaluation_and_inputs_alone():
    # the listing changes, not what the model computes nor the order of its inputs
    case = KERAS["cases"]["two_inputs_deep_second"]
    model = build(case)
    assert [t.name for t in model.inputs] == ["a", "b"]
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    w = {la.name: la.get_weights() for la in model.layers if la.weights}
    want = (a @ w["da"][0] + w["da"][1]) + (
        ((b @ w["db1"][0] + w["db1"][1]) @ w["db2"][0] + w["db2"][1]) @ w["db3"][0] + w["db3"][1])
    np.testing.assert_allclose(model.predict([a, b], verbose=0), want, rtol=1e-5, atol=1e-6)


def test_set_weights_in_keras_order_round_trips_through_a_config():
    # get_weights() of a branched model, in Keras's order, sets a rebuilt model's weights
    model = build(KERAS["cases"]["resnet_block"])
    rng = np.random.default_rng(1)
    model.set_weights([np.abs(rng.normal(size=a.shape)).astype("float32") + 0.1
                       for a in model.get_weights()])
    clone = cr.Model.from_config(model.get_config())
    assert [la.name for la in clone.layers] == [la.name for la in model.layers]
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def _probe(case: dict) -> list:
    # the tool's fixed input: one (2, dim) array per input
    return [np.cos(np.arange(2 * dim) * 0.3 + i).reshape(2, dim).astype("float32")
            for i, (_, dim) in enumerate(case["inputs"])]


@pytest.mark.parametrize("key", ["resnet_block", "inception", "late_input"])
def test_keras_legacy_h5_of_a_branched_model_loads_by_position(key):
    # Keras's legacy HDF5 files match weights to layers by position, in Keras's order
    pytest.importorskip("h5py")
    case = KERAS["cases"][key]
    path = os.path.join(os.path.dirname(__file__), "fixtures", f"keras_layer_order_{key}.h5")
    x = _probe(case)
    x = x if len(x) > 1 else x[0]
    model = build(case)
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), case["legacy_output"],
                               rtol=1e-5, atol=1e-6)
    whole = cr.saving.load_model(path)
    assert [la.name for la in whole.layers] == case["layers"]
    np.testing.assert_allclose(whole.predict(x, verbose=0), case["legacy_output"],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("key", ["resnet_block", "inception", "late_input"])
def test_keras_weights_h5_of_a_branched_model_loads_by_position(key):
    # Keras 3's .weights.h5 names its groups layers/dense, layers/dense_1, ... in layer order
    pytest.importorskip("h5py")
    case = KERAS["cases"][key]
    path = os.path.join(os.path.dirname(__file__), "fixtures",
                        f"keras_layer_order_{key}.weights.h5")
    x = _probe(case)
    model = build(case)
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x if len(x) > 1 else x[0], verbose=0),
                               case["legacy_output"], rtol=1e-5, atol=1e-6)

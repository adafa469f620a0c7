"""Ops on symbolic tensors are graph operations, not layers (Keras 3's ``Functional.layers``).

The names, indices, summary rows and op classes expected here were recorded from Keras 3
by ``tools/keras_fixtures_operations.py`` into ``tests/fixtures/operations_keras.json``
(same program: ``m.layers``, ``m.operations``, ``m.get_layer(...)``, ``m.summary()``).
"""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers, ops
from chainrule.layers import OpLayer

with open(os.path.join(os.path.dirname(__file__), "fixtures", "operations_keras.json"),
          encoding="utf-8") as _f:
    KERAS = json.load(_f)
LAYERS = KERAS["layers"]  # input_layer, dense, concatenate, dense_1
OPERATIONS = KERAS["operations"]  # ... with multiply and mean between them
X = np.random.default_rng(0).standard_normal((24, 4)).astype(np.float32)
T = np.random.default_rng(1).standard_normal((24, 1)).astype(np.float32)


def keras_example():
    """The program of the Keras 3 comparison: two ops between layers."""
    cr.utils.clear_session()
    cr.utils.set_random_seed(3)
    inp = cr.Input((4,))
    x = layers.Dense(3)(inp)
    y = x * 2.0
    z = ops.mean(y, axis=-1, keepdims=True)
    out = layers.Dense(1)(layers.Concatenate()([y, z]))
    return cr.Model(inp, out)


def test_layers_list_layers_only_and_operations_every_node():
    model = keras_example()
    assert [la.name for la in model.layers] == LAYERS
    assert [op.name for op in model.operations] == OPERATIONS
    assert [type(op).__name__ for op in model.operations if op not in model.layers] == [
        "OpLayer", "OpLayer"]
    assert len(model.layers) == 4
    # op layers hold no weights: the model's weights are its layers'
    assert [w.shape for w in model.weights] == [(4, 3), (3,), (4, 1), (1,)]
    assert len(model.trainable_weights) == 4 and model.count_params() == 20


def test_get_layer_counts_and_names_layers_only():
    model = keras_example()
    for index, expected in KERAS["get_layer_index"].items():
        if expected == "ValueError":
            with pytest.raises(ValueError, match=rf"the model has 4 layers .*Received: "
                                                 rf"index={index}$"):
                model.get_layer(index=int(index))
        else:
            assert model.get_layer(index=int(index)).name == expected
    with pytest.raises(ValueError, match=r"Received: index=-5$"):
        model.get_layer(index=-5)  # (an IndexError in Keras 3.15.1)
    # Keras 3 does not find an op by name either: it is not a layer
    for name, expected in KERAS["get_layer_name"].items():
        if expected == "ValueError":
            with pytest.raises(ValueError, match=rf"No such layer: '{name}'. Existing layers: "
                                                 r"\['input_layer', 'dense', 'concatenate', "
                                                 r"'dense_1'\]"):
                model.get_layer(name)
        else:
            assert model.get_layer(name).name == expected
    assert [n for n, e in KERAS["get_layer_name"].items() if e == "ValueError"] == [
        "multiply", "mean"]
    with pytest.raises(ValueError, match=r"Received: name=None, index=None$"):
        model.get_layer()
    with pytest.raises(ValueError, match=r"only a layer name or a layer index\. "
                                         r"Received: index=1, name='dense'$"):
        model.get_layer("dense", 1)


def test_operations_exists_on_functional_models_only():
    seq = cr.Sequential([cr.Input((3,)), layers.Dense(2)])
    assert KERAS["has_operations"] == {"functional": True, "sequential": False}
    assert not hasattr(seq, "operations")  # as in Keras 3
    with pytest.raises(AttributeError, match=r"only a functional model .*Received: model"):
        seq.operations  # noqa: B018
    inp = cr.Input((3,), name="x")
    plain = cr.Model(inp, layers.Dense(2, name="d")(inp))
    assert [op.name for op in plain.operations] == [la.name for la in plain.layers] == ["x", "d"]
    assert plain.operations is not plain.operations  # a copy, as Keras returns


def _summary_rows(lines):
    """``[name (Class), shape, params, connections]`` per row of chainrule's summary table."""
    rows, body = [], False
    for line in lines:
        if line.startswith("="):
            body = not body
            continue
        if not body or line.startswith("_"):
            continue
        cells = line.split("  ")
        cells = [c.strip() for c in cells if c.strip()]
        if line[:1].isalpha():
            rows.append(cells + [[]] if len(cells) == 3 else cells[:3] + [[cells[3]]])
        else:  # a further connection of the row above
            rows[-1][3].append(cells[0])
    return rows


def test_summary_lists_the_ops_as_rows_with_keras_op_classes():
    model = keras_example()
    lines = []
    model.summary(print_fn=lines.append)
    rows = _summary_rows(lines)
    assert len(rows) == len(KERAS["summary_rows"]) == 6
    for ours, theirs in zip(rows, KERAS["summary_rows"]):
        name, shape, params, connected = theirs
        assert ours[0] == name  # "multiply (Multiply)", "mean (Mean)"
        assert ours[2] == params
        assert ", ".join(ours[3]) == ("" if connected == "-" else connected)
        if not name.endswith("(InputLayer)"):  # chainrule writes an input's shape [(None, 4)]
            assert ours[1] == shape
    assert any("Total params: 20" in line for line in lines)
    # layer_range may start or end at an op, as Keras's range runs over the operations
    some = []
    model.summary(print_fn=some.append, layer_range=["multiply", "concatenate"])
    assert [row[0].split()[0] for row in _summary_rows(some)] == [
        "multiply", "mean", "concatenate"]


# the same calls as tools/keras_fixtures_operations.py makes in Keras
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
    "matmul": lambda x: x @ cr.Input((3, 2)),
}


@pytest.mark.parametrize("function", sorted(KERAS["op_classes"]))
def test_op_names_and_classes_follow_keras(function):
    cr.utils.clear_session()
    expected = KERAS["op_classes"][function]
    op = CALLS[function](cr.Input((4, 3))).node.layer
    assert op.name == expected["name"]  # ops.abs records Keras's "absolute"
    assert op.operation_class_name == expected["class"]
    assert OpLayer(function).operation_class_name == expected["class"]


def test_config_lists_every_node_and_round_trips():
    model = keras_example()
    config = json.loads(json.dumps(model.get_config()))
    entries = config["layers"]
    assert [e["name"] for e in entries] == OPERATIONS == [e[0] for e in KERAS["config_layers"]]
    assert [e["config"].get("function") for e in entries[2:4]] == ["multiply", "mean"]
    rebuilt = cr.Model.from_config(config)
    assert [la.name for la in rebuilt.layers] == LAYERS
    assert [op.name for op in rebuilt.operations] == OPERATIONS


def test_save_and_load_keep_the_ops_and_predict_bit_identically(tmp_path):
    model = keras_example()
    expected = model.predict(X, verbose=0)
    path = tmp_path / "ops.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    assert [la.name for la in loaded.layers] == LAYERS
    assert [op.name for op in loaded.operations] == OPERATIONS
    assert loaded.get_layer(index=2).name == "concatenate"
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), expected)
    clone = cr.models.clone_model(model)
    assert [type(op).__name__ for op in clone.operations] == [
        type(op).__name__ for op in model.operations]
    assert len(clone.layers) == 4


def test_keras_format_config_keeps_every_node_with_its_inputs():
    from chainrule.saving.keras_archive import to_keras_config

    model = keras_example()
    entries = to_keras_config(model)["config"]["layers"]
    assert [e["name"] for e in entries] == OPERATIONS
    history = [[a["config"]["keras_history"] for a in node["args"]]
               for node in entries[3]["inbound_nodes"]]
    assert history == [[["multiply", 0, 0]]]  # the mean reads the multiply


def test_plot_model_graph_draws_the_ops():
    from chainrule.utils.model_visualization import model_graph

    nodes, edges = model_graph(keras_example())
    assert [n.name for n in nodes] == OPERATIONS
    assert (1, 2) in edges and (2, 3) in edges and (2, 4) in edges and (3, 4) in edges


def _fit(jit, freeze):
    model = keras_example()
    for layer in model.layers[:freeze]:  # a Keras program's freezing loop: ops are not counted
        layer.trainable = False
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    history = model.fit(X, T, batch_size=8, epochs=2, verbose=0).history
    return model, history


@pytest.mark.parametrize("freeze", [0, 2])
def test_training_is_captured_and_bit_identical_to_the_tape(freeze):
    fast, h_fast = _fit(True, freeze)
    assert [e for k, e in fast._steps.entries.items()
            if k[0] == "train" and e.program is not None], "the step should be captured"
    slow, h_slow = _fit(False, freeze)
    assert slow._steps.entries == {}
    assert h_fast == h_slow
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    frozen = keras_example()  # same seed: the first Dense starts from the same weights
    if freeze:  # model.layers[:2] is the input and the first Dense, which did not move
        np.testing.assert_array_equal(fast.layers[1].get_weights()[0],
                                      frozen.layers[1].get_weights()[0])
        assert len(fast.trainable_weights) == 2
    else:
        assert not np.array_equal(fast.layers[1].get_weights()[0],
                                   frozen.layers[1].get_weights()[0])


def test_feature_maps_run_the_ops_between_layers():
    from chainrule.plot.conv import _apply_until

    cr.utils.clear_session()
    inp = cr.Input((6, 6, 1))
    first = layers.Conv2D(2, 3)
    second = layers.Conv2D(3, 2)
    model = cr.Model(inp, second(ops.relu(first(inp)) * 0.5))
    image = np.random.default_rng(4).standard_normal((1, 6, 6, 1)).astype(np.float32)
    got = _apply_until(model, second, cr.Tensor(image))
    np.testing.assert_array_equal(np.asarray(got.numpy()), model.predict(image, verbose=0))


def test_backprop_explainer_sees_the_ops_it_cannot_explain():
    from chainrule.explain import backprop

    cr.utils.clear_session()
    inp = cr.Input((2,))
    model = cr.Model(inp, layers.Dense(1)(layers.Dense(2, activation="sigmoid")(inp) * 2.0))
    # model.layers holds Dense layers only, but the multiply between them is in the graph
    assert [type(la).__name__ for la in model.layers[1:]] == ["Dense", "Dense"]
    with pytest.raises(TypeError, match=r"Received: layer 'multiply' of type OpLayer"):
        backprop(model, [[0.1, 0.2]], [[0.5]])


def test_predict_of_a_scalar_output_gives_one_value_per_batch_as_keras():
    # Keras 3.15: Model(inp, ops.sum(Dense(3)(inp))).predict(10 samples, batch_size=4) has
    # shape (3,): the sums of the batches of 4, 4 and 2
    inp = cr.Input((4,))
    dense = cr.layers.Dense(3)
    m = cr.Model(inp, cr.ops.sum(dense(inp)))
    x = np.ones((10, 4), "float32")
    out = m.predict(x, batch_size=4, verbose=0)
    per_sample = dense(x[:1]).numpy().sum()
    np.testing.assert_allclose(out, [4 * per_sample, 4 * per_sample, 2 * per_sample], rtol=1e-5)


def test_a_declared_batch_size_stays_known_through_the_graph_as_keras():
    # Keras 3.15: Dense(3)(Input((4,), batch_size=5)).shape == (5, 3)
    inp = cr.Input((4,), batch_size=5)
    h = layers.Dense(3)(inp)
    assert h.shape == (5, 3)
    assert layers.Dense(2)(cr.Input((4,))).shape == (None, 2)
    y = ops.broadcast_to(ops.expand_dims(h, 1), (5, 2, 3))  # needs the known batch size
    assert y.shape == (5, 2, 3)
    assert cr.Model(inp, y).predict(np.ones((5, 4), "float32"), verbose=0).shape == (5, 2, 3)

"""Model utilities: clone_model, plot_model, custom-object helpers, get_layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers, ops

X = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")


class Pair(layers.Layer):
    """A two-input layer (adds its inputs), to make a branching graph."""

    def call(self, inputs):
        a, b = inputs
        return a + b


def branching():
    cr.utils.clear_session()
    inp = layers.Input((4,), name="x")
    a = layers.Dense(3, activation="relu", name="a")(inp)
    b = layers.Dense(3, name="b")(inp)
    s = Pair(name="sum")([a, b])
    out = layers.Dense(1, activation="sigmoid", name="out")(s)
    return cr.Model(inp, out, name="branchy")


def test_clone_sequential_has_fresh_weights_and_same_config():
    cr.utils.set_random_seed(0)
    model = cr.Sequential([layers.Input((4,)), layers.Dense(5, activation="tanh", name="h"),
                           layers.Dense(2, name="o")], name="seq")
    clone = cr.models.clone_model(model)
    assert clone is not model and clone.name == "seq"
    assert [la.name for la in clone.layers] == ["h", "o"]
    assert [la.get_config() for la in clone.layers] == [la.get_config() for la in model.layers]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    assert not clone.compiled


def test_clone_functional_keeps_the_graph():
    model = branching()
    clone = cr.models.clone_model(model)
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [la.name for la in clone.layers] == [la.name for la in model.layers]
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    # a clone_function returning the layer itself shares it, weights included
    shared = cr.models.clone_model(model, clone_function=lambda la: la)
    assert shared.get_layer("a") is model.get_layer("a")
    # new inputs
    inp = layers.Input((4,), name="new_input")
    on_new = cr.models.clone_model(model, input_tensors=inp)
    assert on_new.inputs[0] is inp
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    cr.models.clone_model(model, call_function=call_function)
    assert sorted(calls) == ["a", "b", "out", "sum"] and calls[-2:] == ["sum", "out"]


def test_clone_nested_recursive_and_subclassed():
    inner = cr.Sequential([layers.Dense(3, input_dim=4, name="inner_dense")], name="inner")
    inp = layers.Input((4,))
    outer = cr.Model(inp, layers.Dense(1, name="head")(inner(inp)))
    seen = []

    def clone_fn(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    cr.models.clone_model(outer, clone_function=clone_fn, recursive=True)
    assert seen == ["inner_dense", "head"]

    class Sub(cr.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    clone = cr.models.clone_model(Sub(units=7))
    assert isinstance(clone, Sub) and clone.units == 7

    class NoArgs(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    assert isinstance(cr.models.clone_model(NoArgs()), NoArgs)


def test_clone_model_errors():
    with pytest.raises(ValueError, match=r"clone_model expects a Model.*Received: model of type "
                                         r"Dense"):
        cr.models.clone_model(layers.Dense(2))
    model = branching()
    with pytest.raises(ValueError, match=r"input_tensors must be 1 Input tensor"):
        cr.models.clone_model(model, input_tensors=[layers.Input((4,)), layers.Input((4,))])
    with pytest.raises(ValueError, match=r"clone_function must be a function"):
        cr.models.clone_model(model, clone_function=3)

    class Sub(cr.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match=r"supported for Sequential and functional models only"):
        cr.models.clone_model(Sub(), clone_function=lambda la: la)
    seq = cr.Sequential([layers.Dense(1, input_dim=2)])
    with pytest.raises(ValueError, match=r"call_function is supported for functional models"):
        cr.models.clone_model(seq, call_function=lambda la, *a: la(*a))
    with pytest.raises(TypeError, match=r"unexpected keyword arguments"):
        cr.models.clone_model(seq, copy_weights=True)


def test_plot_model_draws_and_saves(tmp_path):
    pytest.importorskip("matplotlib")
    model = branching()
    layers_, edges = cr.utils.model_visualization.model_graph(model)
    names = [la.name for la in layers_]
    assert names == ["x", "a", "b", "sum", "out"]
    assert sorted((names[i], names[j]) for i, j in edges) == [
        ("a", "sum"), ("b", "sum"), ("sum", "out"), ("x", "a"), ("x", "b")]
    for name, kwargs in [("tb.png", {}), ("lr.svg", {"rankdir": "LR"}),
                         ("full.pdf", {"show_shapes": True, "show_dtype": True,
                                       "show_layer_names": True, "show_trainable": True,
                                       "show_layer_activations": True})]:
        fig = cr.utils.plot_model(model, to_file=tmp_path / name, **kwargs)
        assert (tmp_path / name).stat().st_size > 1000
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert len([t for t in texts if t]) == 5  # one box per layer
        assert len([t for t in texts if not t]) == 5  # one arrow per edge
    full = [t.get_text() for t in fig.axes[0].texts]
    assert "a (Dense)\nInput shape: (None, 4)\nOutput shape: (None, 3)\ndtype: float32\n" \
           "Activation: relu\nTrainable: Y" in full
    seq = cr.Sequential([layers.Input((3,)), layers.Dense(2)])
    assert cr.utils.plot_model(seq, to_file=None).axes


def test_plot_model_errors():
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"needs a built model.*Received: an unbuilt model"):
        cr.utils.plot_model(cr.Sequential([layers.Dense(2)]), to_file=None)
    model = branching()
    with pytest.raises(ValueError, match=r"rankdir must be 'TB' or 'LR'. Received: rankdir='BT'"):
        cr.utils.plot_model(model, to_file=None, rankdir="BT")
    with pytest.raises(TypeError, match=r"unexpected keyword arguments: \['subgraph'\]"):
        cr.utils.plot_model(model, to_file=None, subgraph=True)


def test_custom_objects_helpers_are_one_registry():
    assert cr.saving.get_custom_objects is cr.utils.get_custom_objects
    assert cr.saving.custom_object_scope is cr.utils.custom_object_scope

    @cr.saving.register_keras_serializable(package="tests_model_utils")
    class Doubler(layers.Layer):
        def call(self, x):
            return ops.multiply(x, 2.0) if hasattr(ops, "multiply") else x * 2.0

    assert cr.saving.get_registered_name(Doubler) == "tests_model_utils>Doubler"
    inp = layers.Input((4,))
    model = cr.Model(inp, Doubler()(inp))
    clone = cr.models.model_from_json(model.to_json())
    np.testing.assert_allclose(clone.predict(X, verbose=0), 2 * X)


def test_get_layer_and_summary():
    model = branching()
    assert model.get_layer("sum").name == "sum"
    assert model.get_layer(index=-1).name == "out"
    with pytest.raises(ValueError, match=r"No such layer: 'nope'"):
        model.get_layer("nope")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "sum (Pair)" in text and "Connected to" in text and "Total params: 34" in text


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3, activation="tanh", name="d"),
    lambda: cr.losses.Huber(delta=0.5),
    lambda: cr.metrics.F1Score(average="macro", threshold=0.4),
    lambda: cr.optimizers.Adam(0.01),
    lambda: cr.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9),
    lambda: cr.initializers.get("he_normal"),
    lambda: cr.regularizers.L2(0.1),
])
def test_serialize_keras_object_round_trips_every_kind(make):
    obj = make()
    config = cr.saving.serialize_keras_object(obj)
    json.dumps(config)
    again = cr.saving.deserialize_keras_object(config)
    assert type(again) is type(obj) and again is not obj
    assert again.get_config() == obj.get_config()


def test_serialize_keras_object_functions_plain_data_and_keras_modules():
    S, D = cr.saving.serialize_keras_object, cr.saving.deserialize_keras_object
    assert S(cr.activations.relu) == "relu" and D("relu") is cr.activations.relu
    assert S((1, [2.5, None], {"a": "b"})) == [1, [2.5, None], {"a": "b"}]
    keras_style = {"module": "keras.layers", "class_name": "Dense",
                   "config": {"units": 2, "name": "k"}, "registered_name": None}
    assert D(keras_style).units == 2

    def my_act(x):
        return x

    assert D("my_act", custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match=r"no registry knows class 'Nope'.*"
                                         r"Received: class_name='Nope'"):
        D({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match=r"Received: an object of type object"):
        S(object())


def test_layer_holding_a_layer_saves_with_serialize_keras_object(tmp_path):
    @cr.saving.register_keras_serializable(package="tests_model_utils")
    class Wrapper(layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

        def get_config(self):
            return {**super().get_config(),
                    "inner": cr.saving.serialize_keras_object(self.inner)}

        @classmethod
        def from_config(cls, config):
            config = dict(config)
            config["inner"] = cr.saving.deserialize_keras_object(config["inner"])
            return cls(**config)

    inp = layers.Input((4,))
    model = cr.Model(inp, Wrapper(layers.Dense(2, name="inner_dense"))(inp))
    path = tmp_path / "wrapped.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_summary_show_trainable_and_layer_range():
    model = branching()
    model.get_layer("a").trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True, expand_nested=True)
    assert lines[2].rstrip().endswith("Trainable")
    row_a = next(line for line in lines if line.startswith("a (Dense)"))
    row_b = next(line for line in lines if line.startswith("b (Dense)"))
    assert row_a.rstrip().endswith("N") and row_b.rstrip().endswith("Y")
    # as Keras 3.15: "-" for a layer without weights (here the merge "sum")
    row_sum = next(line for line in lines if line.startswith("sum ("))
    assert row_sum.rstrip().endswith("-")
    lines = []
    model.summary(print_fn=lines.append, layer_range=["b", "sum"])
    listed = [line.split(" ")[0] for line in lines[4:] if " (" in line]
    assert listed == ["b", "sum"]
    with pytest.raises(ValueError, match=r"layer_range must be \[first, last\].*"
                                         r"Received: layer_range=\['b', 'zzz'\]"):
        model.summary(layer_range=["b", "zzz"])


def test_summary_expand_nested_lists_a_nested_models_layers_as_keras():
    # Keras 3.15: each nested layer under its model's row, prefixed "   └ " per level
    inner = cr.Sequential([layers.Input((4,)), layers.Dense(3, name="d1"),
                           cr.Sequential([layers.Dense(2, name="d2")], name="deep")],
                          name="inner")
    x = layers.Input((4,), name="x")
    model = cr.Model(x, layers.Dense(2, name="head")(inner(x)), name="outer")
    lines = []
    model.summary(print_fn=lines.append, expand_nested=True, show_trainable=True)
    names = [line[:line.index(")") + 1] for line in lines[4:] if " (" in line and ":" not in line]
    assert names == ["x (InputLayer)", "inner (Sequential)", "   └ d1 (Dense)",
                     "   └ deep (Sequential)", "      └ d2 (Dense)", "head (Dense)"]
    d1 = next(line for line in lines if "└ d1 (Dense)" in line)
    assert d1.split()[-2:] == ["15", "Y"]  # its own parameters and trainable flag
    assert any(line.startswith("Total params: 29") for line in lines)  # counted once
    lines = []
    model.summary(print_fn=lines.append)
    assert not any("└" in line for line in lines)


def test_keras_tensor_helpers_and_namespace_exports(tmp_path):
    cr.utils.clear_session()
    a, b = layers.Input((2,), name="a"), layers.Input((2,), name="b")
    y = Pair()([layers.Dense(2)(a), b])
    assert [t.name for t in cr.utils.get_source_inputs(y)] == ["a", "b"]
    assert cr.utils.get_source_inputs(a) == [a]
    assert cr.utils.is_keras_tensor(y) and not cr.utils.is_keras_tensor(X)
    with pytest.raises(ValueError, match=r"Received: tensor of type ndarray"):
        cr.utils.get_source_inputs(X)
    assert cr.utils.serialize_keras_object is cr.saving.serialize_keras_object
    model = cr.Sequential([layers.Dense(1, input_dim=2)])
    cr.models.save_model(model, tmp_path / "m.keras")
    assert cr.models.load_model(tmp_path / "m.keras").count_params() == 3

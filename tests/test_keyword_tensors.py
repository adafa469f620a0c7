"""Symbolic tensors passed by keyword in a functional graph (``layer(x, mask=m)``,
``mha(q, v, attention_mask=m)``): inputs of the node as in Keras 3, run, trained on the
captured step, saved and loaded in chainrule's format and in Keras's (against a file Keras 3
wrote, tools/keras_fixtures_op_gaps.py)."""

import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr

L = cr.layers
HERE = os.path.dirname(__file__)
DATA = np.load(os.path.join(HERE, "fixtures", "ops_gaps_keras.npz"))
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_op_gaps", os.path.join(HERE, "..", "tools", "keras_fixtures_op_gaps.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

SHAPES = [((4, 8), "float32"), ((5, 8), "float32"), ((4, 5), "bool"), ((5, 2), "float32"),
          ((5,), "bool")]


def _model():
    inputs = [L.Input(s, dtype=d) for s, d in SHAPES]
    return cr.Model(inputs, tool.keyword_model(L, inputs))


def _eager(model, data):
    q, v, am, x, m = data
    mha, rnn = model.get_layer("mha"), model.get_layer("rnn")
    return [mha(q, v, attention_mask=am, use_causal_mask=True).numpy(), rnn(x, mask=m).numpy()]


def test_keyword_tensors_are_node_inputs_and_reach_the_call():
    model = _model()
    data = tool.keyword_inputs(np.random.default_rng(5))
    got = model.predict(data, verbose=0)
    for a, b in zip(got, _eager(model, data)):
        np.testing.assert_array_equal(a, b)
    # the rnn's mask mattered: the first sequence's output ignores its last two steps
    rnn = model.get_layer("rnn")
    np.testing.assert_allclose(got[1][0], rnn(data[3][:1, :3]).numpy()[0], rtol=1e-6)
    config = model.get_config()
    entries = {e["name"]: e for e in config["layers"]}
    assert entries["mha"]["keyword_tensors"] == [[["attention_mask", -1]]]
    assert entries["mha"]["call_kwargs"] == [{"use_causal_mask": True}]
    assert entries["rnn"]["keyword_tensors"] == [[["mask", -1]]]


def test_a_list_of_tensors_by_keyword():
    q, v = L.Input((3, 4)), L.Input((5, 4))
    qm, vm = L.Input((3,), dtype="bool"), L.Input((5,), dtype="bool")
    att = L.Attention(name="att")
    model = cr.Model([q, v, qm, vm], att([q, v], mask=[qm, vm]))
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(2, 3, 4)).astype("float32"),
            rng.normal(size=(2, 5, 4)).astype("float32"),
            np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 1, 1, 0, 0]] * 2, bool)]
    want = att(data[:2], mask=data[2:]).numpy()
    np.testing.assert_array_equal(model.predict(data, verbose=0), want)
    again = cr.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(data, verbose=0), want)


def test_own_format_round_trip(tmp_path):
    model = _model()
    data = tool.keyword_inputs(np.random.default_rng(5))
    model.save(tmp_path / "m.keras")
    again = cr.saving.load_model(tmp_path / "m.keras")
    for a, b in zip(again.predict(data, verbose=0), model.predict(data, verbose=0)):
        np.testing.assert_array_equal(a, b)


def test_keras_written_file_loads_and_predicts_like_keras(tmp_path):
    pytest.importorskip("h5py", reason="Keras's .keras files need h5py (the h5 extra)")
    model = cr.saving.load_model(os.path.join(HERE, "fixtures", "keras_files",
                                              "keyword_tensors.keras"))
    data = tool.keyword_inputs(np.random.default_rng(5))
    got = model.predict(data, verbose=0)
    for i, y in enumerate(got):
        np.testing.assert_allclose(y, DATA[f"keyword/y{i}"], rtol=1e-5, atol=1e-6)
    # written back in Keras's format: the tensors and constants by keyword, as Keras writes
    model.save(tmp_path / "again.keras", format="keras")
    config = cr.saving.keras_archive.to_keras_config(model)
    (mha,) = [e for e in config["config"]["layers"] if e["name"] == "mha"]
    kwargs = mha["inbound_nodes"][0]["kwargs"]
    assert kwargs["use_causal_mask"] is True
    assert kwargs["attention_mask"]["class_name"] == "__keras_tensor__"
    again = cr.saving.load_model(tmp_path / "again.keras")
    for a, b in zip(again.predict(data, verbose=0), got):
        np.testing.assert_array_equal(a, b)


def _train(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = _model()
    out = L.Concatenate()([L.Flatten()(model.outputs[0]), model.outputs[1]])
    model = cr.Model(model.inputs, L.Dense(1)(out))
    data = tool.keyword_inputs(np.random.default_rng(5))
    data = [np.concatenate([d] * 4) for d in data]
    y = np.random.default_rng(1).normal(size=(12, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    hist = model.fit(data, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    return model, hist.history["loss"]


def test_trains_on_the_captured_step_as_on_the_tape():
    fast, fast_loss = _train(True)
    assert any(e.program is not None for e in fast._steps.entries.values())
    slow, slow_loss = _train(False)
    assert fast_loss == slow_loss and fast_loss[-1] < fast_loss[0]
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)

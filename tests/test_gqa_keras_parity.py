"""GroupQueryAttention: Keras 3's recorded numbers (tools/keras_fixtures_gqa.py) and files,
an independent NumPy computation, and training through the captured step.

Each case gets Keras's weights (``set_weights(keras_layer.get_weights())``) and must give
Keras's outputs within 1e-5 relative, on Keras's fused path (no scores returned: a query
position masked entirely averages the values) and on its softmax path (scores returned:
that row is zeros).
"""

import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "fixtures", "gqa_keras.npz")
FILES = os.path.join(HERE, "fixtures", "keras_files")
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_gqa", os.path.join(HERE, "..", "tools", "keras_fixtures_gqa.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

DATA = np.load(FIXTURE)
L = cr.layers


def _get(prefix, part):
    n = len([k for k in DATA.files if k.startswith(f"{prefix}/{part}/")])
    return [DATA[f"{prefix}/{part}/{i}"] for i in range(n)]


def _close(got, want, what):
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6, err_msg=what)


def test_fixture_records_versions():
    assert str(DATA["keras_version"]).startswith("3.")
    assert str(DATA["backend"]) == "tensorflow"


@pytest.mark.parametrize("name", list(tool.CASES))
def test_matches_keras(name):
    args, call = tool.CASES[name]
    layer = L.GroupQueryAttention(**args)
    inputs = [DATA[f"{name}/in/{k}"] for k in ("query", "value", "key")
              if f"{name}/in/{k}" in DATA.files]
    kwargs = dict(call)
    if kwargs.get("attention_mask"):
        kwargs["attention_mask"] = DATA[f"{name}/in/attention_mask"]
    layer(*inputs, **kwargs)
    weights = _get(name, "w")
    assert [tuple(w.shape) for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)
    fused, out, scores = _get(name, "out")
    _close(layer(*inputs, **kwargs), fused, f"{name}: output (fused path)")
    got_out, got_scores = layer(*inputs, return_attention_scores=True, **kwargs)
    _close(got_out, out, f"{name}: output (softmax path)")
    _close(got_scores, scores, f"{name}: scores")


def test_masked_row_differs_between_keras_paths():
    # the fixture holds a query position that may attend to nothing: the two paths differ
    # there (Keras's own behaviour), and chainrule follows each
    fused, out, scores = _get("gqa_cross_mask", "out")
    assert not np.allclose(fused[1, 2], out[1, 2])
    assert np.all(scores[1, :, 2] == 0)


def _numpy_gqa(x, weights, q_heads, kv_heads, head_dim):
    """Grouped-query self-attention written independently in NumPy (float64)."""
    wq, bq, wk, bk, wv, bv, wo, bo = [w.astype(np.float64) for w in weights]
    x = x.astype(np.float64)
    q = np.einsum("btm,muh->btuh", x, wq) + bq
    k = np.einsum("btm,mvh->btvh", x, wk) + bk
    v = np.einsum("btm,mvh->btvh", x, wv) + bv
    group = q_heads // kv_heads
    out = np.zeros(q.shape)
    for head in range(q_heads):
        kv = head // group  # query heads 0..group-1 share key/value head 0, and so on
        s = np.einsum("bqh,bkh->bqk", q[:, :, head], k[:, :, kv]) / np.sqrt(head_dim)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out[:, :, head] = np.einsum("bqk,bkh->bqh", p, v[:, :, kv])
    return np.einsum("btuh,uhm->btm", out, wo) + bo


def test_matches_an_independent_numpy_computation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6, 10)).astype("float32")
    layer = L.GroupQueryAttention(head_dim=4, num_query_heads=6, num_key_value_heads=2,
                                  bias_initializer="random_normal", dtype="float64")
    out = layer(x, x)
    want = _numpy_gqa(x, layer.get_weights(), 6, 2, 4)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-10, atol=1e-12)


def test_as_many_key_value_heads_is_multi_head_attention():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    gqa = L.GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=2)
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)
    gqa(x, x), mha(x, x)
    mha.set_weights(gqa.get_weights())
    np.testing.assert_array_equal(np.asarray(gqa(x, x, use_causal_mask=True)),
                                  np.asarray(mha(x, x, use_causal_mask=True)))


def test_config_round_trip_and_keras_keys():
    layer = L.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2,
                                  dropout=0.1, use_bias=False, kernel_regularizer="l2",
                                  kernel_constraint="non_neg", seed=3, name="g")
    config = layer.get_config()
    assert set(config) == {
        "name", "trainable", "dtype", "head_dim", "num_query_heads", "num_key_value_heads",
        "use_bias", "use_gate", "sliding_window", "dropout", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint", "seed"} - ({"dtype"} - set(config))
    clone = L.GroupQueryAttention.from_config(config)
    assert clone.get_config() == config
    assert (clone.head_dim, clone.num_query_heads, clone.num_key_value_heads,
            clone.num_repeats) == (2, 4, 2, 2)
    x = np.ones((2, 3, 4), "float32")
    clone(x, x)
    assert [w.name for w in clone.weights] == ["kernel"] * 4
    assert clone.losses  # the kernel regularizer reaches each projection


def test_keras_files_load():
    pytest.importorskip("h5py", reason="Keras's files are HDF5 (the h5 extra)")
    x = DATA["model/x"]
    loaded = cr.saving.load_model(os.path.join(FILES, "gqa_model.keras"))
    gqa = loaded.get_layer("gqa")
    assert isinstance(gqa, L.GroupQueryAttention)
    assert (gqa.num_query_heads, gqa.num_key_value_heads) == (tool.Q_HEADS, tool.KV_HEADS)
    _close(loaded.predict(x, verbose=0), DATA["model/pred"], ".keras")
    inp = L.Input((tool.T, tool.D))
    model = cr.Model(inp, tool.model_block(L, inp))
    model.load_weights(os.path.join(FILES, "gqa_model.weights.h5"))
    _close(model.predict(x, verbose=0), DATA["model/pred"], ".weights.h5")


def test_files_written_have_keras_layout(tmp_path):
    h5py = pytest.importorskip("h5py", reason="Keras's files are HDF5 (the h5 extra)")
    inp = L.Input((tool.T, tool.D))
    model = cr.Model(inp, tool.model_block(L, inp))
    model.save_weights(tmp_path / "m.weights.h5")

    def datasets(path):
        names = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: names.__setitem__(name, obj.shape)
                         if isinstance(obj, h5py.Dataset) and name.startswith("layers/")
                         else None)
        return names

    ours = datasets(tmp_path / "m.weights.h5")
    assert ours == datasets(os.path.join(FILES, "gqa_model.weights.h5"))
    assert "layers/grouped_query_attention/_query_dense/vars/0" in ours
    model.save(tmp_path / "m.keras", format="keras")
    config = cr.saving.keras_archive.to_keras_config(model)
    (entry,) = [e for e in config["config"]["layers"] if e["config"]["name"] == "gqa"]
    assert entry["class_name"] == "GroupQueryAttention"  # the name Keras 3 loads
    again = cr.saving.load_model(tmp_path / "m.keras")
    x = DATA["model/x"]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def _train(jit, dropout=0.0):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5, 8)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("float32").reshape(-1, 1)
    inp = L.Input((5, 8))
    att = L.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2,
                                dropout=dropout, seed=1)(inp, inp, use_causal_mask=True)
    out = L.Dense(1, activation="sigmoid")(L.GlobalAveragePooling1D()(L.Add()([inp, att])))
    model = cr.Model(inp, out)
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit)
    hist = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    return model, hist.history["loss"]


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_captured_step_replays_and_equals_the_tape(dropout):
    fast, fast_loss = _train(True, dropout)
    assert any(e.program is not None for e in fast._steps.entries.values())
    slow, slow_loss = _train(False, dropout)
    assert slow._steps.entries == {}
    assert fast_loss == slow_loss
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert fast_loss[-1] < fast_loss[0]


def test_repeat_of_heads_gradient():
    # the op that shares a key/value head among query heads: float64 gradient check
    from chainrule.gradcheck import check_gradients

    x = np.random.default_rng(4).normal(size=(2, 3, 2, 4))
    assert check_gradients(lambda t: cr.ops.repeat(t, 3, axis=-2), x)


def test_flash_attention_false_is_accepted_and_true_refused():
    layer = L.GroupQueryAttention(2, 4, 2, flash_attention=False)
    x = np.ones((1, 3, 4), "float32")
    assert layer(x, x).shape == (1, 3, 4)
    with pytest.raises(ValueError, match=r"GroupQueryAttention layer '.*': flash attention is not "
                                         r"available in chainrule .*Received: "
                                         r"flash_attention=True$"):
        L.GroupQueryAttention(2, 4, 2, flash_attention=True)

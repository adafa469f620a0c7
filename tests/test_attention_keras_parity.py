"""Attention layers against Keras 3's recorded numbers (tools/keras_fixtures_attention.py).

Each layer gets Keras's weights (``set_weights(keras_layer.get_weights())``) and must give
Keras's outputs; a small Transformer block starts from Keras's initial weights and must
give Keras's loss history and weights after two epochs of Adam with ``shuffle=False``, and
its replay by the captured step must equal the tape bit for bit.
"""

import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "fixtures", "attention_keras.npz")
FILES = os.path.join(HERE, "fixtures", "keras_files")
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_attention", os.path.join(HERE, "..", "tools", "keras_fixtures_attention.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

DATA = np.load(FIXTURE)
L = cr.layers


def _get(prefix, part):
    n = len([k for k in DATA.files if k.startswith(f"{prefix}/{part}/")])
    return [DATA[f"{prefix}/{part}/{i}"] for i in range(n)]


def _in(prefix, name):
    return DATA[f"{prefix}/in/{name}"]


def _close(got, want, what):
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5, err_msg=what)


def _set(layer, prefix):
    weights = _get(prefix, "w")
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in weights]
    layer.set_weights(weights)


def test_fixture_records_versions():
    assert str(DATA["keras_version"]).startswith("3.")
    assert str(DATA["backend"]) == "tensorflow"


@pytest.mark.parametrize("name,equation,output_shape,bias_axes", [
    ("ed_heads", "abc,cde->abde", (None, 2, 3), "de"),
    ("ed_left", "...b,bc->...c", 6, "c"),
    ("ed_right", "ab...,bc->ac...", (3, None), "c"),
    ("ed_relu_nobias", "ab,bc->ac", 4, None),
])
def test_einsum_dense_matches_keras(name, equation, output_shape, bias_axes):
    layer = L.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes,
                          activation="relu" if bias_axes is None else None)
    x = _in(name, "x")
    layer.build(x.shape)
    _set(layer, name)
    out = layer(x)
    _close(out, _get(name, "out")[0], name)
    shape = layer.compute_output_shape((None,) + x.shape[1:])  # Keras's: None stays None
    assert all(a in (None, b) for a, b in zip(shape[1:], out.shape[1:]))


def test_mha_self_attention_with_scores_matches_keras():
    name = "mha_self_scores"
    x = _in(name, "query")
    mha = L.MultiHeadAttention(2, 4)
    mha(x, x)
    _set(mha, name)
    out, scores = mha(x, x, return_attention_scores=True)
    want = _get(name, "out")
    _close(out, want[0], "output")
    _close(scores, want[1], "scores")
    _close(mha(x, x), want[2], "output without scores")


def test_mha_cross_attention_with_attention_mask_matches_keras():
    name = "mha_cross_mask"
    q, v, k, m = (_in(name, s) for s in ("query", "value", "key", "attention_mask"))
    mha = L.MultiHeadAttention(3, 4, value_dim=3, output_shape=10)
    mha(q, v, k)
    _set(mha, name)
    want = _get(name, "out")
    assert mha.query_dense.kernel.shape == (6, 3, 4)
    assert mha.output_dense.kernel.shape == (3, 3, 10)
    # a query position whose mask is all False: the fused path averages all values,
    # the path returning scores gives zeros (as Keras does on each path)
    _close(mha(q, v, k, attention_mask=m), want[0], "output")
    out, scores = mha(q, v, k, attention_mask=m, return_attention_scores=True)
    _close(out, want[1], "output with scores")
    _close(scores, want[2], "scores")
    assert np.all(scores.numpy()[1, :, 2] == 0)


def test_mha_causal_mask_matches_keras():
    name = "mha_causal"
    x, m = _in(name, "query"), _in(name, "attention_mask")
    mha = L.MultiHeadAttention(2, 3)
    mha(x, x)
    _set(mha, name)
    want = _get(name, "out")
    _close(mha(x, x, use_causal_mask=True), want[0], "causal")
    out, scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    _close(out, want[1], "causal with scores")
    _close(scores, want[2], "causal scores")
    assert np.all(np.triu(scores.numpy()[0, 0], 1) == 0)
    _close(mha(x, x, use_causal_mask=True, attention_mask=m), want[3], "causal and mask")


def test_mha_value_mask_matches_keras_and_keras_masks_are_used():
    name = "mha_value_mask"
    q, v, vm = _in(name, "query"), _in(name, "value"), _in(name, "value_mask")
    mha = L.MultiHeadAttention(2, 4, use_bias=False)
    mha(q, v)
    _set(mha, name)
    assert len(mha.get_weights()) == 4
    want = _get(name, "out")
    _close(mha(q, v, value_mask=vm), want[0], "value mask")
    out, scores = mha(q, v, value_mask=vm, return_attention_scores=True)
    _close(out, want[1], "value mask with scores")
    _close(scores, want[2], "scores")
    # the same mask carried by the value tensor (as Embedding(mask_zero=True) leaves it)
    vt = cr.Tensor(v)
    vt._keras_mask = cr.Tensor(vm)
    _close(mha(q, vt), want[0], "Keras mask of the value")


def test_mha_two_attention_axes_match_keras():
    name = "mha_axes12"
    x = _in(name, "query")
    mha = L.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    mha(x, x)
    _set(mha, name)
    out, scores = mha(x, x, return_attention_scores=True)
    want = _get(name, "out")
    assert scores.shape == (2, 2, 3, 4, 3, 4)
    _close(out, want[0], "output")
    _close(scores, want[1], "scores")


@pytest.mark.parametrize("name,make,kwargs", [
    ("att_dot", lambda: L.Attention(), {}),
    ("att_scale_masks", lambda: L.Attention(use_scale=True), {"masks": True}),
    ("att_concat_causal", lambda: L.Attention(use_scale=True, score_mode="concat"),
     {"use_causal_mask": True}),
    ("add_att", lambda: L.AdditiveAttention(), {"masks": True}),
    ("add_att_noscale_causal", lambda: L.AdditiveAttention(use_scale=False),
     {"use_causal_mask": True}),
])
def test_attention_and_additive_attention_match_keras(name, make, kwargs):
    q, v, k = (_in(name, s) for s in ("query", "value", "key"))
    layer = make()
    if kwargs.pop("masks", False):
        kwargs["mask"] = [_in(name, "q_mask"), _in(name, "v_mask")]
    layer([q, v, k])
    _set(layer, name)
    out, scores = layer([q, v, k], return_attention_scores=True, **kwargs)
    want = _get(name, "out")
    _close(out, want[0], "output")
    _close(scores, want[1], "scores")


def _block_model():
    cr.utils.set_random_seed(0)
    inp = L.Input((tool.T, tool.D))
    model = cr.models.Model(inp, tool.transformer_block(L, inp))
    model.set_weights(_get("block", "w0"))
    return model


def test_transformer_block_trains_as_keras():
    model = _block_model()
    x, y = DATA["block/x"], DATA["block/y"]
    _close(model.predict(x, verbose=0), DATA["block/pred0"], "predict before training")
    model.compile(optimizer=cr.optimizers.Adam(tool.LR), loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=tool.EPOCHS, batch_size=tool.BATCH, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], DATA["block/loss"], rtol=1e-4)
    for i, (w, want) in enumerate(zip(model.get_weights(), _get("block", "w1"))):
        if i == 3:  # the key projection's bias: its gradient is zero in exact arithmetic
            # (a softmax ignores what is added to all its logits), so Adam, which divides by
            # the gradient's size, moves it by rounding noise only: both stay near zero
            assert np.abs(w).max() < 1e-3 and np.abs(want).max() < 1e-3
            continue
        np.testing.assert_allclose(w, want, rtol=1e-3, atol=1e-5, err_msg=f"weight {i}")
    _close(model.predict(x, verbose=0), DATA["block/pred1"], "predict after training")


def test_transformer_block_captured_replay_is_bit_identical_to_the_tape():
    x, y = DATA["block/x"], DATA["block/y"]
    results = []
    for jit in (True, False):
        model = _block_model()
        model.compile(optimizer=cr.optimizers.Adam(tool.LR), loss="binary_crossentropy",
                      jit_compile=jit)
        hist = model.fit(x, y, epochs=3, batch_size=tool.BATCH, shuffle=False, verbose=0)
        programs = [e.program for e in model._steps.entries.values()]
        assert any(p is not None for p in programs) == jit
        results.append((hist.history["loss"], model.get_weights()))
    (l1, w1), (l2, w2) = results
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_keras_weights_file_and_keras_archive_load():
    pytest.importorskip("h5py", reason="Keras's files are HDF5 (the h5 extra)")
    x = DATA["block/x"]
    model = _block_model()
    model.load_weights(os.path.join(FILES, "transformer_block.weights.h5"))
    _close(model.predict(x, verbose=0), DATA["block/pred1"], ".weights.h5")
    loaded = cr.saving.load_model(os.path.join(FILES, "transformer_block.keras"))
    _close(loaded.predict(x, verbose=0), DATA["block/pred1"], ".keras")
    mha = loaded.get_layer("mha")
    assert isinstance(mha, L.MultiHeadAttention) and mha.num_heads == tool.HEADS


def test_weights_file_written_has_keras_layout(tmp_path):
    h5py = pytest.importorskip("h5py", reason="Keras's files are HDF5 (the h5 extra)")
    model = _block_model()
    model.save_weights(tmp_path / "block.weights.h5")

    def datasets(path):
        names = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: names.__setitem__(name, obj.shape)
                         if isinstance(obj, h5py.Dataset) and name.startswith("layers/")
                         else None)
        return names

    ours = datasets(tmp_path / "block.weights.h5")
    keras = datasets(os.path.join(FILES, "transformer_block.weights.h5"))
    assert ours == keras
    assert "layers/multi_head_attention/query_dense/vars/0" in ours

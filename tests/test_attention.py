"""Attention layers: gradients, masks, configs, saving, symbolic use and replay.

Keras's numbers are checked in test_attention_keras_parity.py; here each claim is checked
against an independent NumPy computation or a property of the maths.
"""

import json
import os
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

L = cr.layers
HERE = os.path.dirname(__file__)
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seeded():
    cr.utils.set_random_seed(0)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_mha(layer, q, v, k=None, mask=None):
    """Multi-head attention written out in NumPy from the layer's weights (rank-3 inputs)."""
    k = v if k is None else k
    w = {x.path: x.numpy().astype(np.float64) for x in layer.weights}

    def proj(x, name):
        y = np.einsum("btd,dnh->btnh", x, w[f"{name}/kernel"])
        return y + w[f"{name}/bias"] if f"{name}/bias" in w else y

    qp, kp, vp = proj(q, "query"), proj(k, "key"), proj(v, "value")
    logits = np.einsum("btnh,bsnh->bnts", qp, kp) / np.sqrt(layer.key_dim)
    if mask is not None:
        logits = np.where(mask[:, None], logits, -1e9)
    probs = _softmax(logits)
    if mask is not None:
        probs = np.where(mask[:, None], probs, 0.0)
    ctx = np.einsum("bnts,bsnh->btnh", probs, vp)
    out = np.einsum("btnh,nhd->btd", ctx, w["attention_output/kernel"])
    return out + w.get("attention_output/bias", 0.0), probs


def test_mha_equals_a_numpy_transcription_with_a_mask():
    q, v, k = RNG.normal(size=(2, 3, 5)), RNG.normal(size=(2, 4, 6)), RNG.normal(size=(2, 4, 7))
    mask = RNG.random((2, 3, 4)) > 0.4
    mha = L.MultiHeadAttention(2, 3, value_dim=2, dtype="float64")
    out, scores = mha(q, v, k, attention_mask=mask, return_attention_scores=True)
    want_out, want_scores = numpy_mha(mha, q, v, k, mask)
    np.testing.assert_allclose(scores.numpy(), want_scores, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-10, atol=1e-12)
    assert [tuple(x.shape) for x in mha.get_weights()] == [
        (5, 2, 3), (2, 3), (7, 2, 3), (2, 3), (6, 2, 2), (2, 2), (2, 2, 5), (5,)]


@pytest.mark.parametrize("kwargs", [
    {}, {"use_causal_mask": True}, {"attention_mask": "random"}, {"value_mask": "random"}])
def test_mha_gradients_float64(kwargs):
    q, v = RNG.normal(size=(2, 4, 5)), RNG.normal(size=(2, 4, 6))
    if kwargs.get("attention_mask") == "random":
        mask = RNG.random((2, 4, 4)) > 0.3
        mask[:, :, 0] = True
        kwargs = {"attention_mask": mask}
    if kwargs.get("value_mask") == "random":
        kwargs = {"value_mask": np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)}
    cr.utils.set_random_seed(0)
    mha = L.MultiHeadAttention(2, 3, dtype="float64")
    mha(q, v)
    # relative errors of central differences reach ~1e-6 on the smallest entries
    result = check_gradients(lambda a, b: mha(a, b, **kwargs), q, v, tolerance=1e-5)
    assert result.ok, str(result)
    # the weights' gradients: central differences on a few entries of each
    for var in mha.weights:
        var.grad = None  # the check above accumulated into them
    x = cr.Tensor(q)
    loss = cr.ops.sum(mha(x, cr.Tensor(v), **kwargs) ** 2)
    loss.backward()
    for var in mha.weights:
        flat = var.numpy().ravel()
        for i in (0, flat.size // 2, flat.size - 1):
            def value(delta, i=i, var=var):
                arr = var.numpy().copy().ravel()
                arr[i] += delta
                var.assign(arr.reshape(var.shape))
                out = float(np.sum(mha(q, v, **kwargs).numpy() ** 2))
                arr[i] -= delta
                var.assign(arr.reshape(var.shape))
                return out
            numeric = (value(1e-6) - value(-1e-6)) / 2e-6
            analytic = var.grad.ravel()[i]
            assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), (var.path, i)


@pytest.mark.parametrize("make", [
    lambda: L.Attention(dtype="float64"), lambda: L.Attention(score_mode="concat",
                                                              dtype="float64"),
    lambda: L.AdditiveAttention(dtype="float64")])
def test_attention_gradients_float64(make):
    q, v, k = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4)), RNG.normal(size=(2, 5, 4))
    layer = make()
    mask = [np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 1, 1, 0, 0]] * 2, bool)]
    result = check_gradients(lambda a, b, c: layer([a, b, c], mask=mask, use_causal_mask=True),
                             q, v, k)
    assert result.ok, str(result)


def test_attention_matches_numpy_with_masks():
    q, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    out, scores = L.Attention(dtype="float64")([q, v], mask=[q_mask, v_mask],
                                               return_attention_scores=True)
    logits = np.where(v_mask[:, None], q @ v.transpose(0, 2, 1), -np.inf)
    want_scores = _softmax(logits)
    np.testing.assert_allclose(scores.numpy(), want_scores, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), (want_scores @ v) * q_mask[..., None], atol=1e-12)


def test_masks_from_embedding_reach_multi_head_attention():
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    inp = L.Input((5,), dtype="int32")
    emb = L.Embedding(8, 6, mask_zero=True, name="emb")(inp)
    mha = L.MultiHeadAttention(2, 3, name="mha")
    model = cr.Model(inp, mha(emb, emb))
    out = model.predict(ids, verbose=0)
    x = model.get_layer("emb")(ids).numpy()
    m = ids > 0
    mask = m[:, :, None] & m[:, None, :]  # query mask and value mask
    want = mha(x, x, attention_mask=mask).numpy()
    np.testing.assert_allclose(out[m], want[m], rtol=1e-5, atol=1e-6)
    unmasked = mha(x, x).numpy()
    assert not np.allclose(out[0, :3], unmasked[0, :3])


def test_config_round_trip_and_keras_config_keys():
    mha = L.MultiHeadAttention(3, 4, value_dim=2, dropout=0.1, output_shape=7,
                               attention_axes=1, kernel_regularizer="l2",
                               kernel_constraint="non_neg", name="m")
    config = mha.get_config()
    again = L.MultiHeadAttention.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    with zipfile.ZipFile(os.path.join(HERE, "fixtures", "keras_files",
                                      "transformer_block.keras")) as z:
        keras_config = json.loads(z.read("config.json"))
    keras_mha = next(la for la in keras_config["config"]["layers"]
                     if la["class_name"] == "MultiHeadAttention")["config"]
    assert set(keras_mha) - {"dtype"} == set(config) - {"dtype"}
    keras_mha = {k: v for k, v in keras_mha.items() if k != "dtype"}  # a Keras DTypePolicy
    rebuilt = L.MultiHeadAttention.from_config(keras_mha)
    assert (rebuilt.num_heads, rebuilt.key_dim, rebuilt.attention_axes) == (2, 4, (1,))
    for layer in (L.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d", activation="relu"),
                  L.Attention(use_scale=True, score_mode="concat", dropout=0.2),
                  L.AdditiveAttention(use_scale=False)):
        config = layer.get_config()
        assert type(layer).from_config(json.loads(json.dumps(config))).get_config() == config
    assert "score_mode" not in L.AdditiveAttention().get_config()


def _transformer_model(dropout=0.0, length=6):
    inp = L.Input((length, 8))
    att = L.MultiHeadAttention(2, 4, dropout=dropout, name="mha")(inp, inp)
    x = L.LayerNormalization()(L.Add()([inp, att]))
    x = L.GlobalAveragePooling1D()(x)
    return cr.Model(inp, L.Dense(1)(x))


def test_save_and_load_a_model_with_multi_head_attention(tmp_path):
    cr.utils.set_random_seed(0)
    model = _transformer_model()
    x = RNG.normal(size=(4, 6, 8)).astype("float32")
    want = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    assert loaded.get_layer("mha").get_build_config() == {
        "shapes_dict": {"query_shape": [None, 6, 8], "value_shape": [None, 6, 8]}}
    pytest.importorskip("h5py")
    model.save_weights(tmp_path / "m.weights.h5")
    cr.utils.set_random_seed(1)
    other = _transformer_model()
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), want)


def test_symbolic_shapes_and_unknown_lengths():
    inp = L.Input((None, 8))
    out, scores = L.MultiHeadAttention(2, 4, output_shape=(3,))(inp, inp,
                                                                  return_attention_scores=True)
    assert out.shape == (None, None, 3)
    assert scores.shape == (None, 2, None, None)
    model = cr.Model(inp, out)
    assert model.predict(np.ones((2, 7, 8)), verbose=0).shape == (2, 7, 3)
    q, v = L.Input((4, 6)), L.Input((5, 3))
    att = L.Attention()([q, L.Dense(6)(v)])
    assert att.shape == (None, 4, 6)
    shapes = L.MultiHeadAttention(2, 4, name="m").compute_weight_shapes([(None, 4, 6),
                                                                         (None, 5, 3)])
    assert [w.shape for w in shapes] == [(6, 2, 4), (2, 4), (3, 2, 4), (2, 4), (3, 2, 4),
                                         (2, 4), (2, 4, 6), (6,)]


def test_dropout_only_while_training_and_training_is_captured():
    cr.utils.set_random_seed(0)
    mha = L.MultiHeadAttention(2, 4, dropout=0.5, seed=3)
    x = RNG.normal(size=(2, 5, 8)).astype("float32")
    a, b = mha(x, x).numpy(), mha(x, x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(mha(x, x, training=True).numpy(), a)
    model = _transformer_model(dropout=0.3)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    y = RNG.normal(size=(8, 1)).astype("float32")
    hist = model.fit(RNG.normal(size=(8, 6, 8)).astype("float32"), y, epochs=3, batch_size=4,
                     verbose=0)
    assert all(np.isfinite(hist.history["loss"]))
    assert any(e.program is not None for e in model._steps.entries.values())


def test_use_gate_and_sliding_window():
    x = RNG.normal(size=(2, 6, 8))
    mha = L.MultiHeadAttention(2, 4, use_gate=True, sliding_window=2, dtype="float64")
    out, scores = mha(x, x, return_attention_scores=True)
    assert [w.path for w in mha.weights][4:6] == ["gate/kernel", "gate/bias"]
    band = np.abs(np.arange(6)[:, None] - np.arange(6)[None]) < 2
    assert np.all(scores.numpy()[:, :, ~band] == 0)
    result = check_gradients(lambda a: mha(a, a), x)
    assert result.ok, str(result)


def test_einsum_dense_is_a_dense_for_ab_bc():
    x = RNG.normal(size=(4, 3)).astype("float32")
    layer = L.EinsumDense("ab,bc->ac", output_shape=5, bias_axes="c")
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, x @ kernel + bias, rtol=1e-6)
    layer = L.EinsumDense("...b,bc->...c", 2, bias_axes="c", dtype="float64")
    result = check_gradients(layer, RNG.normal(size=(2, 3, 4)))
    assert result.ok, str(result)


class _PositionalEmbedding(L.Layer):
    """keras-io's English-to-Spanish PositionalEmbedding (tokens + positions, a padding mask)."""

    def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.position_embeddings = L.Embedding(input_dim=sequence_length, output_dim=embed_dim)

    def call(self, inputs):
        positions = cr.ops.arange(0, cr.ops.shape(inputs)[-1], 1)
        return self.token_embeddings(inputs) + self.position_embeddings(positions)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return cr.ops.not_equal(inputs, 0)


class _Decoder(L.Layer):
    """keras-io's TransformerDecoder: causal self-attention, then attention to the encoder."""

    def __init__(self, embed_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.attention_1 = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.attention_2 = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.norm_1, self.norm_2 = L.LayerNormalization(), L.LayerNormalization()

    def call(self, inputs, encoder_outputs, mask=None):
        padding_mask = None
        if mask is not None:
            padding_mask = cr.ops.cast(cr.ops.expand_dims(mask, 1), "int32")
        out_1 = self.norm_1(inputs + self.attention_1(query=inputs, value=inputs, key=inputs,
                                                      use_causal_mask=True,
                                                      attention_mask=padding_mask))
        # the encoder's outputs carry their padding mask (Keras masks): it masks the keys
        out_2 = self.attention_2(query=out_1, value=encoder_outputs, key=encoder_outputs)
        return self.norm_2(out_1 + out_2)


def test_an_encoder_decoder_with_masks_trains_captured_as_on_the_tape():
    rng = np.random.default_rng(0)
    src = rng.integers(1, 9, size=(16, 5))
    src[::2, 3:] = 0  # padding
    tgt = rng.integers(1, 9, size=(16, 4))
    y = (src[:, :1] + tgt[:, :1]) % 2

    def build():
        cr.utils.set_random_seed(0)
        enc_in, dec_in = L.Input((5,), dtype="int64"), L.Input((4,), dtype="int64")
        enc = _PositionalEmbedding(5, 9, 6)(enc_in)
        enc = L.MultiHeadAttention(2, 6)(enc, enc)
        dec = _Decoder(6, 2)(_PositionalEmbedding(4, 9, 6)(dec_in), enc)
        out = L.Dense(1, activation="sigmoid")(L.GlobalAveragePooling1D()(dec))
        return cr.Model([enc_in, dec_in], out)

    results = []
    for jit in (True, False):
        model = build()
        model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit)
        hist = model.fit([src, tgt], y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        assert any(e.program is not None for e in model._steps.entries.values()) == jit
        results.append((hist.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0] and results[0][0][-1] < results[0][0][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_attention_takes_the_keras_masks_of_its_inputs_in_a_model():
    ids_q = np.array([[1, 2, 0], [3, 4, 5]])
    ids_v = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0]])
    q_in, v_in = L.Input((3,), dtype="int32"), L.Input((5,), dtype="int32")
    emb = L.Embedding(8, 4, mask_zero=True, name="emb")
    att = L.AdditiveAttention(name="att")
    model = cr.Model([q_in, v_in], att([emb(q_in), emb(v_in)]))
    out = model.predict([ids_q, ids_v], verbose=0)
    q, v = emb(ids_q).numpy(), emb(ids_v).numpy()
    want = att([q, v], mask=[ids_q > 0, ids_v > 0]).numpy()
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-7)
    assert np.all(out[0, 2] == 0)  # a masked query position gives zeros


def test_a_saved_functional_model_keeps_use_causal_mask(tmp_path):
    inp = L.Input((5, 8))
    model = cr.Model(inp, L.MultiHeadAttention(2, 4)(inp, inp, use_causal_mask=True))
    x = RNG.normal(size=(2, 5, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(cr.models.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("equation,shapes", [
    ("aecd,abcd->acbe", [(2, 5, 3, 4), (2, 6, 3, 4)]),  # attention scores
    ("acbe,aecd->abcd", [(2, 3, 6, 5), (2, 5, 3, 4)]),  # scores applied to values
    ("abc,cde->abde", [(2, 5, 6), (6, 3, 4)]),  # projection into heads
    ("abcd,cde->abe", [(2, 5, 3, 4), (3, 4, 6)]),  # projection out of heads
    ("abc,abde->cde", [(2, 5, 6), (2, 5, 3, 4)]),  # a kernel's gradient
    ("abx,bc->ac", [(3, 4, 2), (4, 5)]),  # a letter of one operand alone is summed first
    ("i,i->", [(5,), (5,)]), ("bij,bj->bi", [(2, 3, 4), (2, 4)]),
    ("ij,jk->ik", [(1, 4), (4, 1)]), ("ij,ij->ij", [(2, 3), (2, 3)]),  # no letter summed
    ("ii,ij->j", [(3, 3), (3, 2)]),  # a repeated letter (np.einsum's own loop)
])
def test_einsum_two_operands_equal_numpy_einsum_and_check_gradients(equation, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s) for s in shapes]
    got = cr.ops.einsum(equation, *[cr.Tensor(a) for a in arrays]).numpy()
    np.testing.assert_allclose(got, np.einsum(equation, *arrays), rtol=1e-12, atol=1e-12)
    # linear in each operand: central differences are exact for any step but for rounding
    result = check_gradients(lambda *xs: cr.ops.einsum(equation, *xs), *arrays, eps=1e-2)
    assert result.ok, str(result)


def test_a_saved_functional_model_keeps_an_explicit_training_false(tmp_path):
    # fine-tuning: a base called with training=False stays in inference mode after loading
    inp = L.Input((6,))
    base = cr.Sequential([L.Input((6,)), L.Dropout(0.5, name="drop")])
    model = cr.Model(inp, L.Dense(2)(base(inp, training=False)))
    model.save(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras")
    x = np.ones((4, 6), "float32")
    np.testing.assert_array_equal(loaded(x, training=True).numpy(), loaded(x).numpy())
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())

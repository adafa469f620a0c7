"""ONNX export of EinsumDense, the attention layers, recorded ops and small layers.

Each model gets random weights, is exported, and ONNX Runtime's output is compared with
chainrule's ``predict`` (float32, 1e-5) at two batch sizes from one file.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export tests need `pip install chainrule[onnx]`")
ort = pytest.importorskip("onnxruntime",
                          reason="ONNX export tests need onnxruntime (`chainrule[onnx]`)")

import chainrule as cr  # noqa: E402
from chainrule.export import UnsupportedLayerError, export_onnx  # noqa: E402

L = cr.layers
BATCHES = (2, 5)


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for v in model.weights:
        v.assign(rng.normal(0.0, 0.5, v.shape).astype("float32"))
    return model


def check(model, make_inputs, tmp_path, atol=1e-5):
    """Export once; at each batch size ONNX Runtime equals predict to ``atol``."""
    path = tmp_path / "model.onnx"
    proto = export_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for b in BATCHES:
        xs = make_inputs(b)
        got = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})
        ref = model.predict(xs if len(xs) > 1 else xs[0], verbose=0, batch_size=b)
        ref = ref if isinstance(ref, list) else [ref]
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, np.asarray(r), rtol=1e-5, atol=atol)
    return proto


def normals(*shapes, seed=1):
    def make(b):
        rng = np.random.default_rng(seed + b)
        return [rng.normal(size=(b,) + s).astype("float32") for s in shapes]
    return make


def with_masks(shapes, mask_shapes, seed=1):
    """Random float inputs, then random 0/1 masks (float32) with no row masked entirely."""
    def make(b):
        rng = np.random.default_rng(seed + b)
        xs = [rng.normal(size=(b,) + s).astype("float32") for s in shapes]
        for s in mask_shapes:
            m = (rng.random((b,) + s) > 0.4).astype("float32")
            m[..., 0] = 1.0
            xs.append(m)
        return xs
    return make


def functional(inputs, outputs, seed=0):
    return randomize(cr.Model(inputs, outputs), seed)


# -- EinsumDense ----------------------------------------------------------------------------
@pytest.mark.parametrize("equation,out_shape,bias_axes,in_shape", [
    ("ab,bc->ac", (4,), "c", (3,)),
    ("abc,cd->abd", (None, 5), "d", (4, 3)),
    ("abc,cde->abde", (None, 2, 3), "de", (4, 3)),
    ("abcd,cde->abe", (None, 4), None, (6, 2, 5)),
    ("...b,bc->...c", (4,), "c", (2, 3, 3)),
])
def test_einsum_dense(tmp_path, equation, out_shape, bias_axes, in_shape):
    x = L.Input(in_shape)
    y = L.EinsumDense(equation, output_shape=out_shape, bias_axes=bias_axes,
                      activation="tanh")(x)
    check(functional(x, y), normals(in_shape), tmp_path)


# -- MultiHeadAttention ---------------------------------------------------------------------
def test_mha_self_attention(tmp_path):
    x = L.Input((6, 8))
    y = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    check(functional(x, y), normals((6, 8)), tmp_path)


def test_mha_cross_attention_key_value_scores_and_output_shape(tmp_path):
    q, v, k = L.Input((5, 8)), L.Input((7, 6)), L.Input((7, 3))
    out, scores = L.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, output_shape=(2, 5),
                                       use_bias=False)(q, v, key=k,
                                                       return_attention_scores=True)
    check(functional([q, v, k], [out, scores]), normals((5, 8), (7, 6), (7, 3)), tmp_path)


def test_mha_attention_mask_and_causal(tmp_path):
    q, v, m = L.Input((5, 8)), L.Input((7, 8)), L.Input((5, 7))
    y = L.MultiHeadAttention(num_heads=2, key_dim=4)(q, v, attention_mask=m,
                                                     use_causal_mask=True)
    check(functional([q, v, m], y), with_masks([(5, 8), (7, 8)], [(5, 7)]), tmp_path)


def test_mha_causal_self_attention_with_scores(tmp_path):
    x = L.Input((6, 8))
    y, s = L.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.2)(
        x, x, use_causal_mask=True, return_attention_scores=True)
    check(functional(x, [y, s]), normals((6, 8)), tmp_path)


def test_mha_mask_computed_in_the_graph(tmp_path):
    ids = L.Input((6,), dtype="int32")
    x = L.Embedding(10, 8)(ids)
    keep = cr.ops.not_equal(ids, 0)  # padding id 0 is not attended to
    mask = cr.ops.logical_and(cr.ops.expand_dims(keep, 1), cr.ops.expand_dims(keep, 2))
    y = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, attention_mask=mask)

    def make(b):
        a = np.random.default_rng(b).integers(1, 10, (b, 6)).astype("int32")
        a[:, 4:] = 0
        return [a]
    check(functional(ids, y), make, tmp_path)


def test_mha_several_attention_axes(tmp_path):
    x = L.Input((3, 4, 6))
    y = L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))(x, x)
    check(functional(x, y), normals((3, 4, 6)), tmp_path)


def test_group_query_attention(tmp_path):
    q, v = L.Input((5, 8)), L.Input((4, 8))
    layer = getattr(L, "GroupQueryAttention", None) or L.GroupedQueryAttention
    y = layer(head_dim=4, num_query_heads=4, num_key_value_heads=2)(q, v)
    check(functional([q, v], y), normals((5, 8), (4, 8)), tmp_path)


def test_group_query_attention_causal(tmp_path):
    x = L.Input((5, 8))
    y = L.GroupedQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=1)(
        x, x, use_causal_mask=True)
    check(functional(x, y), normals((5, 8)), tmp_path)


# -- Attention / AdditiveAttention ----------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"use_scale": True}, {"score_mode": "concat"},
                                    {"score_mode": "concat", "use_scale": True}])
@pytest.mark.parametrize("causal", [False, True])
def test_dot_attention(tmp_path, kwargs, causal):
    q, v, k = L.Input((4, 6)), L.Input((5, 6)), L.Input((5, 6))
    y = L.Attention(**kwargs)([q, v, k], use_causal_mask=causal)
    check(functional([q, v, k], y), normals((4, 6), (5, 6), (5, 6)), tmp_path)


@pytest.mark.parametrize("use_scale", [False, True])
def test_additive_attention_with_masks_and_scores(tmp_path, use_scale):
    q, v, qm, vm = L.Input((4, 6)), L.Input((5, 6)), L.Input((4,)), L.Input((5,))
    out, w = L.AdditiveAttention(use_scale=use_scale)([q, v], mask=[qm, vm],
                                                      return_attention_scores=True)
    check(functional([q, v, qm, vm], [out, w]), with_masks([(4, 6), (5, 6)], [(4,), (5,)]),
          tmp_path)


# -- recorded ops ---------------------------------------------------------------------------
def test_recorded_ops(tmp_path):
    x, z = L.Input((3, 4)), L.Input((3, 4))
    ops = cr.ops
    a = ops.mean(x, axis=1)                                    # (b, 4)
    b = ops.sum(x * 2.0 - 1.0, axis=-1, keepdims=True) / 3.0   # (b, 3, 1)
    c = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, 12))     # (b, 12)
    d = ops.concatenate([ops.exp(-ops.abs(x)), ops.log(ops.abs(z) + 1.0),
                         ops.sqrt(ops.abs(x))], axis=-1)       # (b, 3, 12)
    e = ops.squeeze(ops.expand_dims(ops.max(x, axis=1), 1), 1) + ops.min(z, axis=1)
    f = ops.matmul(ops.softmax(x, axis=-1), ops.transpose(z, (0, 2, 1)))  # (b, 3, 3)
    g = x[:, 1:, ::2] + z[:, -2:, 0:4:2]                       # (b, 2, 2)
    h = ops.where(x > 0.0, ops.relu(x), ops.sigmoid(z)) * ops.tanh(z)
    i = ops.clip(ops.power(x, 2.0), 0.1, 2.0) + ops.maximum(x, z) - ops.minimum(x, 0.5)
    j = ops.cast(ops.greater(x, z), "float32") + x[..., 0:1] + x[:, 0][:, None] * 0.0
    k = ops.mean(ops.square(x), axis=None)
    outs = [a, b, c, d, e, f, g, h, i, j, ops.expand_dims(k, 0) + ops.zeros_like(a)]
    check(functional([x, z], outs), normals((3, 4), (3, 4)), tmp_path)


def test_unsupported_op_is_named(tmp_path):
    x = L.Input((3, 4))
    model = cr.Model(x, cr.ops.cumsum(x, axis=1))
    with pytest.raises(UnsupportedLayerError, match=r"ops\.cumsum.*Received: ops\.cumsum"):
        export_onnx(model, tmp_path / "m.onnx")


# -- small layers ---------------------------------------------------------------------------
@pytest.mark.parametrize("make_layer,shape", [
    (lambda: L.GaussianNoise(0.5), (4,)),
    (lambda: L.GaussianDropout(0.3), (4,)),
    (lambda: L.AlphaDropout(0.3), (4,)),
    (lambda: L.ActivityRegularization(l1=0.1), (4,)),
    (lambda: L.SpatialDropout3D(0.3), (2, 3, 2, 4)),
    (lambda: L.Identity(), (4,)),
    (lambda: L.PReLU(), (3, 4)),
    (lambda: L.PReLU(shared_axes=[1]), (3, 4)),
    (lambda: L.ELU(alpha=0.7), (4,)),
    (lambda: L.UnitNormalization(), (3, 4)),
    (lambda: L.UnitNormalization(axis=[1, 2]), (3, 4)),
    (lambda: L.RMSNormalization(), (3, 4)),
    (lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), (2, 3, 2, 4)),
    (lambda: L.ZeroPadding3D(1, data_format="channels_first"), (2, 3, 2, 4)),
    (lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1))), (3, 3, 4, 2)),
    (lambda: L.UpSampling3D((2, 1, 3)), (2, 3, 2, 4)),
    (lambda: L.AdaptiveAveragePooling1D(3), (7, 2)),
    (lambda: L.AdaptiveMaxPooling1D(4), (7, 2)),
    (lambda: L.AdaptiveAveragePooling2D((2, 3)), (5, 7, 2)),
    (lambda: L.AdaptiveMaxPooling2D(2, data_format="channels_first"), (2, 5, 5)),
    (lambda: L.AdaptiveAveragePooling3D(2), (3, 4, 5, 2)),
    (lambda: L.AdaptiveMaxPooling3D((1, 2, 2)), (3, 4, 5, 2)),
])
def test_small_layers(tmp_path, make_layer, shape):
    model = randomize(cr.Sequential([L.Input(shape), make_layer()]))
    check(model, normals(shape), tmp_path)


# -- the keras-io Transformer text classifier -----------------------------------------------
def transformer_classifier(maxlen=8, vocab=20, embed_dim=8, num_heads=2, ff_dim=16):
    """keras-io's "Text classification with Transformer", written as a functional model:
    token + position embeddings, one Transformer block, average pooling, a small head."""
    ids = L.Input((maxlen,), dtype="int32")
    tokens = L.Embedding(vocab, embed_dim)(ids)
    positions = ids * 0 + np.arange(maxlen, dtype="int32")  # 0 .. maxlen-1 for each sample
    x = tokens + L.Embedding(maxlen, embed_dim)(positions)
    attn = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)(x, x)
    attn = L.Dropout(0.1)(attn)
    out1 = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attn]))
    ffn = L.Dense(embed_dim)(L.Dense(ff_dim, activation="relu")(out1))
    ffn = L.Dropout(0.1)(ffn)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([out1, ffn]))
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    x = L.Dense(20, activation="relu")(x)
    x = L.Dropout(0.1)(x)
    return cr.Model(ids, L.Dense(2, activation="softmax")(x))


def test_transformer_text_classifier(tmp_path):
    model = randomize(transformer_classifier())

    def make(b):
        return [np.random.default_rng(b).integers(0, 20, (b, 8)).astype("int32")]
    check(model, make, tmp_path)


def test_transformer_with_mask_zero_is_refused_naming_the_embedding(tmp_path):
    ids = L.Input((6,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True, name="tokens")(ids)
    x = L.MultiHeadAttention(num_heads=2, key_dim=2)(x, x)
    model = cr.Model(ids, L.GlobalAveragePooling1D()(x))
    with pytest.raises(UnsupportedLayerError,
                       match=r'Layer "tokens" \(Embedding\) cannot be exported.*mask_zero=True'):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_a_mask_passed_to_global_average_pooling_is_refused(tmp_path):
    x, m = L.Input((5, 3)), L.Input((5,))
    model = cr.Model([x, m], L.GlobalAveragePooling1D(name="gap")(x, mask=m))
    with pytest.raises(UnsupportedLayerError, match=r'Layer "gap" .*masks are not exported.*'
                                                    r"Received: a mask argument"):
        export_onnx(model, tmp_path / "m.onnx")


def test_mha_query_and_value_masks(tmp_path):
    q, v, qm, vm = L.Input((5, 8)), L.Input((7, 8)), L.Input((5,)), L.Input((7,))
    y = L.MultiHeadAttention(num_heads=2, key_dim=4)(q, v, query_mask=qm, value_mask=vm)
    check(functional([q, v, qm, vm], y), with_masks([(5, 8), (7, 8)], [(5,), (7,)]), tmp_path)


def test_group_query_attention_sliding_window_and_mask(tmp_path):
    x, m = L.Input((6, 8)), L.Input((6, 6))
    y = L.GroupedQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=1,
                                sliding_window=2)(x, x, attention_mask=m)
    check(functional([x, m], y), with_masks([(6, 8)], [(6, 6)]), tmp_path)


def test_mha_dynamic_sequence_length_with_causal_mask(tmp_path):
    x = L.Input((None, 8))
    y = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    model = functional(x, y)
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx", verbose=False)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for t in (3, 7):
        a = np.random.default_rng(t).normal(size=(2, t, 8)).astype("float32")
        np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: a})[0],
                                   model.predict(a, verbose=0), rtol=1e-5, atol=1e-5)

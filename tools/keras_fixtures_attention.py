"""Record Keras 3's numbers for the attention layers, for tests/test_attention_keras_parity.py.

Keras 3 (TensorFlow backend) records, for EinsumDense, MultiHeadAttention (self- and
cross-attention, an attention mask, a causal mask, value masks, several attention axes),
Attention and AdditiveAttention: the inputs, the weights (``get_weights()``) and the
outputs; and for a small Transformer block (MultiHeadAttention, residual adds,
LayerNormalization, a feed-forward pair of Dense layers) its initial weights, the data,
and after two epochs of Adam with ``shuffle=False`` its weights and loss history. It also
saves that model as ``.keras`` and ``.weights.h5`` files for the loading test. Needs Keras
3 and TensorFlow, so it runs in the benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_attention.py

It writes ``tests/fixtures/attention_keras.npz`` (with the Keras and TensorFlow versions)
and ``tests/fixtures/keras_files/transformer_block.{keras,weights.h5}``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "attention_keras.npz")
FILES = os.path.join(HERE, "..", "tests", "fixtures", "keras_files")

# Transformer block: sizes and training settings (the test reads them from here too)
N, T, D, HEADS, KEY_DIM, FF = 16, 6, 8, 2, 4, 12
EPOCHS, BATCH, LR = 2, 4, 0.01


def transformer_block(layers, inputs):
    """The block, written once with a layers namespace (Keras's or chainrule's)."""
    att = layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM, name="mha")(inputs, inputs)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln1")(layers.Add()([inputs, att]))
    ff = layers.Dense(FF, activation="relu", name="ff1")(x)
    ff = layers.Dense(D, name="ff2")(ff)
    x = layers.LayerNormalization(epsilon=1e-6, name="ln2")(layers.Add()([x, ff]))
    x = layers.GlobalAveragePooling1D()(x)
    return layers.Dense(1, activation="sigmoid", name="head")(x)


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rec: dict = {"keras_version": np.array(keras.__version__),
                 "tf_version": np.array(tf.__version__),
                 "backend": np.array(keras.backend.backend())}
    keras.utils.set_random_seed(1)

    def put(prefix, layer, outputs, **inputs):
        for k, v in inputs.items():
            rec[f"{prefix}/in/{k}"] = np.asarray(v)
        for i, w in enumerate(layer.get_weights()):
            rec[f"{prefix}/w/{i}"] = w
        outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for i, o in enumerate(outs):
            rec[f"{prefix}/out/{i}"] = np.asarray(o)

    def f32(*shape):
        return rng.normal(size=shape).astype("float32")

    # EinsumDense, three equation forms
    for name, eq, out_shape, bias, x in (
            ("ed_heads", "abc,cde->abde", (None, 2, 3), "de", f32(2, 4, 5)),
            ("ed_left", "...b,bc->...c", 6, "c", f32(2, 3, 4, 5)),
            ("ed_right", "ab...,bc->ac...", (3, None), "c", f32(2, 5, 4)),
            ("ed_relu_nobias", "ab,bc->ac", 4, None, f32(3, 5))):
        layer = keras.layers.EinsumDense(eq, output_shape=out_shape, bias_axes=bias,
                                         activation="relu" if bias is None else None)
        put(name, layer, layer(x), x=x)

    q, v, k = f32(2, 4, 6), f32(2, 5, 8), f32(2, 5, 7)
    x = f32(2, 5, 8)
    mask = rng.random((2, 4, 5)) > 0.3
    mask[1, 2] = False  # a query position that may attend to nothing
    self_mask = rng.random((2, 5, 5)) > 0.3
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)

    mha = keras.layers.MultiHeadAttention(2, 4)
    out = mha(x, x, return_attention_scores=True)
    put("mha_self_scores", mha, out, query=x)
    rec["mha_self_scores/out/2"] = np.asarray(mha(x, x))  # the fused path, same weights

    mha = keras.layers.MultiHeadAttention(3, 4, value_dim=3, output_shape=10)
    put("mha_cross_mask", mha, [mha(q, v, k, attention_mask=mask),
                                *mha(q, v, k, attention_mask=mask, return_attention_scores=True)],
        query=q, value=v, key=k, attention_mask=mask)

    mha = keras.layers.MultiHeadAttention(2, 3)
    put("mha_causal", mha, [mha(x, x, use_causal_mask=True),
                            *mha(x, x, use_causal_mask=True, return_attention_scores=True),
                            mha(x, x, use_causal_mask=True, attention_mask=self_mask)],
        query=x, attention_mask=self_mask)

    mha = keras.layers.MultiHeadAttention(2, 4, use_bias=False)
    put("mha_value_mask", mha, [mha(q, v, value_mask=value_mask),
                                *mha(q, v, value_mask=value_mask, return_attention_scores=True)],
        query=q, value=v, value_mask=value_mask)

    x4 = f32(2, 3, 4, 5)
    mha = keras.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    put("mha_axes12", mha, mha(x4, x4, return_attention_scores=True), query=x4)

    # Attention / AdditiveAttention
    qa, va, ka = f32(2, 3, 4), f32(2, 5, 4), f32(2, 5, 4)
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0], [1, 0, 1, 1, 1]], bool)
    for name, layer, kwargs in (
            ("att_dot", keras.layers.Attention(), {}),
            ("att_scale_masks", keras.layers.Attention(use_scale=True),
             {"mask": [q_mask, v_mask]}),
            ("att_concat_causal", keras.layers.Attention(use_scale=True, score_mode="concat"),
             {"use_causal_mask": True}),
            ("add_att", keras.layers.AdditiveAttention(), {"mask": [q_mask, v_mask]}),
            ("add_att_noscale_causal", keras.layers.AdditiveAttention(use_scale=False),
             {"use_causal_mask": True})):
        out = layer([qa, va, ka], return_attention_scores=True, **kwargs)
        if name.endswith("scale_masks") or name == "add_att":
            layer.set_weights([w + 0.5 for w in layer.get_weights()])  # not the initial values
            out = layer([qa, va, ka], return_attention_scores=True, **kwargs)
        put(name, layer, out, query=qa, value=va, key=ka, q_mask=q_mask, v_mask=v_mask)

    # the Transformer block, two epochs of Adam
    keras.utils.set_random_seed(2)
    inp = keras.Input((T, D))
    model = keras.Model(inp, transformer_block(keras.layers, inp))
    data = rng.normal(size=(N, T, D)).astype("float32")
    target = (data[:, :, 0].mean(axis=1) > 0).astype("float32").reshape(-1, 1)
    model.compile(optimizer=keras.optimizers.Adam(LR), loss="binary_crossentropy")
    rec["block/x"], rec["block/y"] = data, target
    for i, w in enumerate(model.get_weights()):
        rec[f"block/w0/{i}"] = w
    rec["block/pred0"] = model.predict(data, verbose=0)
    hist = model.fit(data, target, epochs=EPOCHS, batch_size=BATCH, shuffle=False, verbose=0)
    rec["block/loss"] = np.array(hist.history["loss"])
    for i, w in enumerate(model.get_weights()):
        rec[f"block/w1/{i}"] = w
    rec["block/pred1"] = model.predict(data, verbose=0)
    os.makedirs(FILES, exist_ok=True)
    model.save(os.path.join(FILES, "transformer_block.keras"))
    model.save_weights(os.path.join(FILES, "transformer_block.weights.h5"))
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT}: {len(rec)} arrays, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()

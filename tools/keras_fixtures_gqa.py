"""Record Keras 3's numbers for GroupQueryAttention, for tests/test_gqa_keras_parity.py.

Keras 3 (TensorFlow backend) records, for ``keras.layers.GroupQueryAttention`` in several
settings (self- and cross-attention, grouped and multi-query heads, an attention mask with a
query position that may attend to nothing, a causal mask, no biases, a gate and a sliding
window): the inputs, the weights (``get_weights()``) and the outputs, with and without
``return_attention_scores`` (Keras takes its fused dot-product path without). It also
saves a small functional model holding the layer as ``.keras`` and ``.weights.h5`` files,
with its predictions, for the loading test. Needs Keras 3 and TensorFlow, so it runs in the
benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_gqa.py

With chainrule importable (``PYTHONPATH=.``) it also checks the other direction: Keras
loads the ``.keras`` and ``.weights.h5`` files chainrule writes for that model and predicts
the same numbers (it only prints the result; nothing of it is recorded).

It writes ``tests/fixtures/gqa_keras.npz`` (with the Keras and TensorFlow versions) and
``tests/fixtures/keras_files/gqa_model.{keras,weights.h5}``.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "gqa_keras.npz")
FILES = os.path.join(HERE, "..", "tests", "fixtures", "keras_files")

# The saved model: sizes (the test reads them from here too)
T, D, HEAD_DIM, Q_HEADS, KV_HEADS = 5, 8, 3, 4, 2

#: name -> (layer arguments, call keyword arguments other than the inputs)
CASES = {
    "gqa_self": ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2}, {}),
    "gqa_cross_mask": ({"head_dim": 2, "num_query_heads": 6, "num_key_value_heads": 3},
                       {"attention_mask": True}),
    "mqa_causal_nobias": ({"head_dim": 4, "num_query_heads": 2, "num_key_value_heads": 1,
                           "use_bias": False}, {"use_causal_mask": True}),
    "gqa_gate_window": ({"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 1,
                         "use_gate": True, "sliding_window": 2}, {}),
}


def model_block(layers, inputs):
    """The saved model, written once with a layers namespace (Keras's or chainrule's)."""
    att = layers.GroupQueryAttention(head_dim=HEAD_DIM, num_query_heads=Q_HEADS,
                                     num_key_value_heads=KV_HEADS, name="gqa")(inputs, inputs)
    x = layers.GlobalAveragePooling1D()(layers.Add()([inputs, att]))
    return layers.Dense(1, name="head")(x)


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rec: dict = {"keras_version": np.array(keras.__version__),
                 "tf_version": np.array(tf.__version__),
                 "backend": np.array(keras.backend.backend())}
    keras.utils.set_random_seed(3)

    def f32(*shape):
        return rng.normal(size=shape).astype("float32")

    q, v, k = f32(2, 4, 8), f32(2, 6, 8), f32(2, 6, 7)
    x = f32(2, 5, 8)
    mask = rng.random((2, 4, 6)) > 0.3
    mask[1, 2] = False  # a query position that may attend to nothing
    for name, (args, call) in CASES.items():
        layer = keras.layers.GroupQueryAttention(**args)
        cross = name.startswith("gqa_cross")
        inputs = (q, v, k) if cross else (x, x)
        kwargs = dict(call)
        if kwargs.get("attention_mask"):
            kwargs["attention_mask"] = mask
            rec[f"{name}/in/attention_mask"] = mask
        fused = layer(*inputs, **kwargs)
        layer.set_weights([w + rng.normal(scale=0.1, size=w.shape).astype("float32")
                           for w in layer.get_weights()])  # biases not zero
        fused = layer(*inputs, **kwargs)
        out, scores = layer(*inputs, return_attention_scores=True, **kwargs)
        for key, value in zip(("query", "value", "key"), inputs):
            rec[f"{name}/in/{key}"] = value
        for i, w in enumerate(layer.get_weights()):
            rec[f"{name}/w/{i}"] = w
        for i, o in enumerate((fused, out, scores)):
            rec[f"{name}/out/{i}"] = np.asarray(o)
        rec[f"{name}/config/use_gate"] = np.array(layer.get_config()["use_gate"])

    # the saved model
    inp = keras.Input((T, D))
    model = keras.Model(inp, model_block(keras.layers, inp))
    model.set_weights([w + rng.normal(scale=0.1, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    data = f32(6, T, D)
    rec["model/x"] = data
    for i, w in enumerate(model.get_weights()):
        rec[f"model/w/{i}"] = w
    rec["model/pred"] = model.predict(data, verbose=0)
    os.makedirs(FILES, exist_ok=True)
    model.save(os.path.join(FILES, "gqa_model.keras"))
    model.save_weights(os.path.join(FILES, "gqa_model.weights.h5"))
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT}: {len(rec)} arrays, {os.path.getsize(OUT)} bytes")
    check_chainrule_files(keras, rec)


def check_chainrule_files(keras, rec) -> None:
    """Keras loads the files chainrule writes for the saved model (when chainrule imports)."""
    try:
        import chainrule as cr
    except ImportError:
        print("chainrule not importable: the chainrule -> Keras check is skipped")
        return
    n = len([key for key in rec if key.startswith("model/w/")])
    inp = cr.layers.Input((T, D))
    ours = cr.Model(inp, model_block(cr.layers, inp))
    ours.set_weights([rec[f"model/w/{i}"] for i in range(n)])
    with tempfile.TemporaryDirectory() as tmp:
        ours.save(os.path.join(tmp, "ours.keras"), format="keras")
        ours.save_weights(os.path.join(tmp, "ours.weights.h5"))
        loaded = keras.saving.load_model(os.path.join(tmp, "ours.keras"))
        inp = keras.Input((T, D))
        fresh = keras.Model(inp, model_block(keras.layers, inp))
        fresh.load_weights(os.path.join(tmp, "ours.weights.h5"))
        for what, m in ((".keras", loaded), (".weights.h5", fresh)):
            got = m.predict(rec["model/x"], verbose=0)
            err = float(np.max(np.abs(got - rec["model/pred"])))
            print(f"Keras loads chainrule's {what}: max abs difference {err:.2e}")
            assert err < 1e-5, what


if __name__ == "__main__":
    main()

"""Record how Keras 3 passes time-step masks through normalization and merging layers.

Writes tests/fixtures/masks_keras.npz (with the Keras and TensorFlow versions) for
tests/test_masks_through_layers.py:

- ``seq_*``: Embedding(mask_zero=True) -> LSTM(return_sequences=True) ->
  LayerNormalization -> BatchNormalization -> Dense(2), compiled with MSE and MAE:
  its weights, predictions, ``evaluate`` results, and the weights after one SGD step
  (BatchNormalization's batch statistics then come from the unmasked steps only);
- ``<merge>_*`` for Add, Subtract, Multiply, Average, Maximum, Minimum,
  Concatenate (features) and Concatenate (axis=1): two masked Embedding branches
  merged, then Dense(1): the merged output and its mask in eager mode, the model's
  weights, predictions and ``evaluate`` results.

It needs Keras 3 and TensorFlow, so it runs in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_masks.py
"""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "masks_keras.npz"
MERGES = {
    "add": ("Add", {}), "subtract": ("Subtract", {}), "multiply": ("Multiply", {}),
    "average": ("Average", {}), "maximum": ("Maximum", {}), "minimum": ("Minimum", {}),
    "concat": ("Concatenate", {}), "concat_time": ("Concatenate", {"axis": 1}),
}


def tokens(rng, lengths, steps=5, vocab=8):
    out = rng.integers(1, vocab, size=(len(lengths), steps))
    for i, n in enumerate(lengths):
        out[i, n:] = 0
    return out


def main() -> None:
    import keras
    import tensorflow as tf
    from keras import layers

    rng = np.random.default_rng(5)
    rec: dict[str, np.ndarray] = {"keras": np.array(keras.__version__),
                                  "tensorflow": np.array(tf.__version__)}

    # -- a masked sequence through LSTM, LayerNormalization and BatchNormalization
    keras.utils.set_random_seed(1)
    x = tokens(rng, [5, 3, 1, 4, 2, 5])
    y = rng.normal(size=(6, 5, 2)).round(3)
    inp = keras.Input((5,))
    h = layers.Embedding(8, 4, mask_zero=True)(inp)
    h = layers.LSTM(3, return_sequences=True)(h)
    h = layers.LayerNormalization()(h)
    h = layers.BatchNormalization(momentum=0.5)(h)
    out = layers.Dense(2)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    rec["seq_x"], rec["seq_y"] = x, y
    for i, w in enumerate(model.get_weights()):
        rec[f"seq_w{i}"] = w
    rec["seq_pred"] = model.predict(x, verbose=0)
    ev = model.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)
    rec["seq_eval"] = np.array([ev["loss"], ev["mae"]])
    loss = model.train_on_batch(x, y)
    rec["seq_step_loss"] = np.array(float(np.asarray(loss if np.ndim(loss) == 0 else loss[0])))
    for i, w in enumerate(model.get_weights()):
        rec[f"seq_after{i}"] = w

    # -- two masked branches merged
    a = tokens(rng, [4, 2, 0, 5, 3, 1])
    b = tokens(rng, [1, 5, 2, 0, 3, 4])
    rec["merge_a"], rec["merge_b"] = a, b
    for key, (cls, kwargs) in MERGES.items():
        keras.utils.set_random_seed(2)
        ia, ib = keras.Input((5,)), keras.Input((5,))
        ea, eb = layers.Embedding(8, 3, mask_zero=True), layers.Embedding(8, 3, mask_zero=True)
        merge = getattr(layers, cls)(**kwargs)
        head = layers.Dense(1)
        m = keras.Model([ia, ib], head(merge([ea(ia), eb(ib)])))
        m.compile(loss="mse", metrics=["mae"])
        merged = merge([ea(a), eb(b)])  # eager: the output and its mask
        steps = 10 if key == "concat_time" else 5
        target = rng.normal(size=(6, steps, 1)).round(3)
        rec[f"{key}_out"] = np.asarray(merged)
        mask = getattr(merged, "_keras_mask", None)
        rec[f"{key}_mask"] = np.asarray(mask) if mask is not None else np.array([])
        rec[f"{key}_y"] = target
        for i, w in enumerate(m.get_weights()):
            rec[f"{key}_w{i}"] = w
        rec[f"{key}_pred"] = m.predict([a, b], verbose=0)
        ev = m.evaluate([a, b], target, batch_size=6, verbose=0, return_dict=True)
        rec[f"{key}_eval"] = np.array([ev["loss"], ev["mae"]])

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT} ({len(rec)} arrays, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

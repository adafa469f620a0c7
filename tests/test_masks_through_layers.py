"""Time-step masks through normalization and merging layers, as Keras 3 passes them.

Normalization layers pass their input's mask on (BatchNormalization in training takes its
batch statistics over the unmasked steps); merging layers combine their inputs' masks
(Keras 3: the logical or; Concatenate concatenates them along its axis; Dot drops them).
Reference numbers: Keras 3 itself (tools/keras_fixtures_masks.py writes
tests/fixtures/masks_keras.npz), and independent NumPy computations.
"""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "masks_keras.npz")
R = dict(np.load(FIXTURE))
MERGES = {
    "add": ("Add", {}), "subtract": ("Subtract", {}), "multiply": ("Multiply", {}),
    "average": ("Average", {}), "maximum": ("Maximum", {}), "minimum": ("Minimum", {}),
    "concat": ("Concatenate", {}), "concat_time": ("Concatenate", {"axis": 1}),
}


def weights(prefix):
    out = []
    while f"{prefix}{len(out)}" in R:
        out.append(R[f"{prefix}{len(out)}"])
    return out


def seq_model(jit="auto"):
    inp = cr.Input((5,))
    h = layers.Embedding(8, 4, mask_zero=True)(inp)
    h = layers.LSTM(3, return_sequences=True)(h)
    h = layers.LayerNormalization()(h)
    h = layers.BatchNormalization(momentum=0.5)(h)
    model = cr.Model(inp, layers.Dense(2)(h))
    model.compile(optimizer=cr.optimizers.SGD(0.1), loss="mse", metrics=["mae"],
                  jit_compile=jit)
    model.set_weights(weights("seq_w"))
    return model


def merge_model(key):
    cls, kwargs = MERGES[key]
    ia, ib = cr.Input((5,)), cr.Input((5,))
    ea, eb = layers.Embedding(8, 3, mask_zero=True), layers.Embedding(8, 3, mask_zero=True)
    merge = getattr(layers, cls)(**kwargs)
    model = cr.Model([ia, ib], layers.Dense(1)(merge([ea(ia), eb(ib)])))
    model.compile(optimizer=cr.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    model.set_weights(weights(f"{key}_w"))
    return model, ea, eb, merge


def test_fixture_records_keras_3():
    assert str(R["keras"]).startswith("3.")


@pytest.mark.parametrize("cls", ["LayerNormalization", "BatchNormalization",
                                 "GroupNormalization"])
@pytest.mark.parametrize("training", [False, True])
def test_normalization_layers_pass_the_mask_on(cls, training):
    x = cr.Tensor(np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32"))
    x._keras_mask = cr.Tensor(np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool))
    kwargs = {"groups": 2} if cls == "GroupNormalization" else {}
    y = getattr(layers, cls)(**kwargs)(x, training=training)
    np.testing.assert_array_equal(y._keras_mask.numpy(), x._keras_mask.numpy())


def test_batch_normalization_training_takes_moments_over_unmasked_steps():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 2)).astype(np.float64)
    x[0, 2:] = 50.0  # padding steps far from the rest: they must not count
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0]], bool)
    bn = layers.BatchNormalization(momentum=0.25, epsilon=1e-3, dtype="float64")
    y = bn(x, training=True, mask=mask).numpy()
    kept = x[mask]  # (steps kept, 2)
    mean, var = kept.mean(0), kept.var(0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.75 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.25 + 0.75 * var, rtol=1e-6)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-6)
    assert not np.allclose(mean, x.reshape(-1, 2).mean(0))  # the mask mattered
    # inference ignores the mask (the moving statistics), as Keras
    np.testing.assert_array_equal(bn(x, training=False, mask=mask).numpy(),
                                  bn(x, training=False).numpy())


def test_batch_normalization_mask_of_the_wrong_rank_is_refused():
    bn = layers.BatchNormalization(name="bn")
    with pytest.raises(ValueError, match=r'Layer "bn": the mask should have one dimension less '
                                         r"than the inputs\. Received: mask\.shape=\(3, 4, 2\), "
                                         r"inputs\.shape=\(3, 4, 2\)"):
        bn(np.zeros((3, 4, 2)), training=True, mask=np.ones((3, 4, 2), bool))


def test_masked_sequence_through_lstm_and_normalization_matches_keras():
    model = seq_model()
    x, y = R["seq_x"], R["seq_y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), R["seq_pred"], atol=1e-6)
    res = model.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)
    np.testing.assert_allclose([res["loss"], res["mae"]], R["seq_eval"], rtol=1e-5)
    # the masked loss, independently: padding steps count in neither
    pred = model.predict(x, verbose=0).astype(np.float64)
    keep = x != 0
    assert res["loss"] == pytest.approx(((pred - y) ** 2).mean(-1)[keep].mean(), rel=1e-5)
    assert res["mae"] == pytest.approx(np.abs(pred - y).mean(-1)[keep].mean(), rel=1e-5)
    # one SGD step: the gradients and the masked batch statistics of BatchNormalization
    loss = model.train_on_batch(x, y)
    assert float(np.ravel(loss)[0]) == pytest.approx(float(R["seq_step_loss"]), rel=1e-5)
    for got, want in zip(model.get_weights(), weights("seq_after")):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


def test_masked_sequence_model_replays_bit_identically_to_the_tape():
    x, y = R["seq_x"], R["seq_y"]
    runs = []
    for jit in ("auto", False):
        cr.utils.set_random_seed(0)
        model = seq_model(jit)
        h = model.fit(np.concatenate([x] * 4), np.concatenate([y] * 4), batch_size=6,
                      epochs=2, shuffle=False, verbose=0)
        runs.append((model, h.history))
    (fast, hf), (slow, hs) = runs
    assert [e for k, e in fast._steps.entries.items() if k[0] == "train" and e.program]
    assert slow._steps.entries == {}
    for u, v in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert hf == hs


@pytest.mark.parametrize("key", list(MERGES))
def test_merged_masks_and_values_match_keras(key):
    model, ea, eb, merge = merge_model(key)
    a, b = R["merge_a"], R["merge_b"]
    merged = merge([ea(a), eb(b)])
    np.testing.assert_allclose(merged.numpy(), R[f"{key}_out"], atol=1e-7)
    np.testing.assert_array_equal(merged._keras_mask.numpy(), R[f"{key}_mask"])
    np.testing.assert_allclose(model.predict([a, b], verbose=0), R[f"{key}_pred"], atol=1e-6)
    res = model.evaluate([a, b], R[f"{key}_y"], batch_size=6, verbose=0, return_dict=True)
    np.testing.assert_allclose([res["loss"], res["mae"]], R[f"{key}_eval"], rtol=1e-5)


def test_adding_two_masked_branches_masks_the_loss_where_both_are_padding():
    model, *_ = merge_model("add")
    a, b, y = R["merge_a"], R["merge_b"], R["add_y"]
    pred = model.predict([a, b], verbose=0).astype(np.float64)
    keep = (a != 0) | (b != 0)
    assert not keep.all()  # some steps are padding in both branches
    res = model.evaluate([a, b], y, batch_size=6, verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(((pred - y) ** 2)[..., 0][keep].mean(), rel=1e-5)
    assert res["mae"] == pytest.approx(np.abs(pred - y)[..., 0][keep].mean(), rel=1e-5)
    model.fit([a, b], y, batch_size=3, epochs=2, verbose=0)
    assert any(e.program is not None for k, e in model._steps.entries.items() if k[0] == "train")


def test_merge_rules_by_hand():
    x1 = cr.Tensor(np.arange(8, dtype="float32").reshape(1, 4, 2))
    x2 = cr.Tensor(np.full((1, 4, 2), 3.0, "float32"))
    x1._keras_mask = cr.Tensor(np.array([[1, 1, 0, 0]], bool))
    x2._keras_mask = cr.Tensor(np.array([[1, 0, 1, 0]], bool))
    assert layers.Add()([x1, x2])._keras_mask.numpy().tolist() == [[True, True, True, False]]
    # a masked-out step counts as 1 in a product, and steps no input keeps are 0
    np.testing.assert_array_equal(layers.Multiply()([x1, x2]).numpy()[0],
                                  [[0, 3], [2, 3], [3, 3], [0, 0]])
    # a masked-out step takes the other input's value in a maximum
    np.testing.assert_array_equal(layers.Maximum()([x1, x2]).numpy()[0],
                                  [[3, 3], [2, 3], [3, 3], [6, 7]])
    plain = cr.Tensor(np.zeros((1, 4, 2), "float32"))
    assert layers.Add()([x1, plain])._keras_mask is None  # an input without a mask
    assert layers.Concatenate()([x1, plain])._keras_mask.numpy().all()
    both = layers.Concatenate(axis=1)([x1, x2])._keras_mask.numpy().tolist()
    assert both == [[True, True, False, False, True, False, True, False]]
    assert layers.Dot(axes=-1)([x1, x2])._keras_mask is None


# -- GlobalAveragePooling1D averages the unmasked time steps only (Keras 3) --


def test_global_average_pooling_1d_means_the_unmasked_steps_of_an_embedding():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    inputs = cr.Input((5,), dtype="int64")
    pooled = cr.layers.GlobalAveragePooling1D()(
        cr.layers.Embedding(10, 3, mask_zero=True)(inputs))
    model = cr.Model(inputs, pooled)
    table = model.layers[1].get_weights()[0]
    tokens = np.array([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0], [4, 5, 6, 7, 8]])
    expected = np.stack([table[[1, 2]].mean(0), table[3], table[4:9].mean(0)])
    np.testing.assert_allclose(model.predict(tokens, verbose=0), expected, rtol=1e-6)
    assert getattr(model(tokens), "_keras_mask", None) is None  # the time axis is gone


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_takes_an_explicit_mask(data_format):
    x = np.arange(24.0, dtype="float32").reshape(2, 4, 3)
    mask = np.array([[True, True, False, False], [False, True, True, True]])
    expected = np.stack([x[0, :2].mean(0), x[1, 1:].mean(0)])
    layer = cr.layers.GlobalAveragePooling1D(data_format=data_format, keepdims=True)
    data = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    out = layer(data, mask=mask).numpy()
    want = expected[:, None, :] if data_format == "channels_last" else expected[:, :, None]
    np.testing.assert_allclose(out, want, rtol=1e-6)


def test_a_masked_average_pooling_model_trains_captured_as_on_the_tape():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        inputs = cr.Input((6,), dtype="int64")
        h = cr.layers.Embedding(20, 4, mask_zero=True)(inputs)
        h = cr.layers.GlobalAveragePooling1D()(h)
        model = cr.Model(inputs, cr.layers.Dense(2, activation="softmax")(h))
        model.compile("adam", "sparse_categorical_crossentropy", jit_compile=jit)
        rng = np.random.default_rng(0)
        tokens = rng.integers(0, 20, (64, 6)) * (rng.random((64, 6)) < 0.7)
        model.fit(tokens, rng.integers(0, 2, 64), batch_size=16, epochs=2, verbose=0)
        return model
    captured, taped = run(True), run(False)
    assert [k for k, e in captured._steps.entries.items() if e.program is not None]
    for a, b in zip(captured.get_weights(), taped.get_weights()):
        np.testing.assert_array_equal(a, b)

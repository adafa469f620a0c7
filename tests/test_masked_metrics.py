"""Compiled metrics skip masked time steps (Keras's MeanMetricWrapper applies the output's mask)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L

N, T, V, C = 12, 6, 7, 3


def data(seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, V, (N, T))
    lengths = rng.integers(1, T + 1, N)
    for i, n in enumerate(lengths):
        ids[i, n:] = 0  # right padding, a different amount per sequence
    y = rng.integers(0, C, (N, T))
    sw = rng.uniform(0.5, 2.0, N).astype("float32")
    return ids, y, sw


def make(jit, metrics=("accuracy", "sparse_categorical_crossentropy"), weighted=None):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Embedding(V, 4, mask_zero=True),
                           L.LSTM(5, return_sequences=True), L.Dense(C, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=list(metrics),
                  weighted_metrics=weighted, jit_compile=jit)
    return model


def numpy_metrics(pred, ids, y, sw=None):
    """Accuracy and cross-entropy over the valid steps only (weighted by sequence)."""
    valid = (ids != 0).astype(np.float64)
    w = valid if sw is None else valid * sw[:, None]
    acc = (pred.argmax(-1) == y).astype(np.float64)
    p = np.clip(np.take_along_axis(pred, y[..., None], -1)[..., 0].astype(np.float64),
                1e-7, 1 - 1e-7)
    ce = -np.log(p)
    return (acc * w).sum() / w.sum(), (ce * w).sum() / w.sum()


def programs(model, mode):
    return [e for k, e in model._steps.entries.items() if k[0] == mode and e.program is not None]


@pytest.mark.parametrize("jit", ["auto", False])
def test_evaluate_metrics_count_only_valid_steps(jit):
    ids, y, _ = data()
    model = make(jit)
    model.fit(ids, y, epochs=2, batch_size=4, verbose=0)
    pred = model.predict(ids, verbose=0)
    acc, ce = numpy_metrics(pred, ids, y)
    for _ in range(2):  # the second evaluation replays every batch where captured
        res = model.evaluate(ids, y, batch_size=4, verbose=0, return_dict=True)
        assert res["accuracy"] == pytest.approx(acc, abs=1e-6)
        assert res["sparse_categorical_crossentropy"] == pytest.approx(ce, rel=1e-5)
    if jit == "auto":
        assert programs(model, "test") and programs(model, "train")
        assert all(e.masked == (0,) for e in programs(model, "test"))
    else:
        assert model._steps.entries == {}
    # counting every step would give another value: the test can tell
    all_acc = (pred.argmax(-1) == y).mean()
    assert abs(all_acc - acc) > 1e-3


def test_weighted_metrics_multiply_the_mask_by_the_sample_weights():
    ids, y, sw = data(1)
    model = make("auto", metrics=(), weighted=["accuracy"])
    model.fit(ids, y, epochs=1, batch_size=4, verbose=0)
    pred = model.predict(ids, verbose=0)
    acc, _ = numpy_metrics(pred, ids, y, sw)
    for _ in range(2):
        res = model.evaluate(ids, y, sample_weight=sw, batch_size=4, verbose=0, return_dict=True)
        assert res["accuracy"] == pytest.approx(acc, abs=1e-6)
    assert programs(model, "test")


def test_training_metrics_are_masked_and_equal_on_replay_and_tape():
    ids, y, _ = data(2)
    hist = {}
    for jit in ("auto", False):
        model = make(jit)
        hist[jit] = model.fit(ids, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history
        assert bool(programs(model, "train")) == (jit == "auto")
    assert hist["auto"] == hist[False]
    # one full batch: the metric is that of the predictions before the update
    model = make("auto")
    pred = model.predict(ids, verbose=0)
    acc, ce = numpy_metrics(pred, ids, y)
    h = model.fit(ids, y, epochs=1, batch_size=N, verbose=0).history
    assert h["accuracy"][0] == pytest.approx(acc, abs=1e-6)
    assert h["sparse_categorical_crossentropy"][0] == pytest.approx(ce, rel=1e-5)


def test_unmasked_models_return_no_masks_from_the_step():
    ids, y, _ = data(3)
    cr.utils.clear_session()
    model = cr.Sequential([L.Embedding(V, 4), L.LSTM(5, return_sequences=True),
                           L.Dense(C, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(ids, y, epochs=2, batch_size=4, verbose=0)
    assert programs(model, "train") and all(e.masked == () for e in programs(model, "train"))
    pred = model.predict(ids, verbose=0)
    res = model.evaluate(ids, y, batch_size=N, verbose=0, return_dict=True)
    assert res["accuracy"] == pytest.approx((pred.argmax(-1) == y).mean(), abs=1e-6)


# -- ignore_class: the ignored labels are counted in ops, so a captured step replays them ------


def train_ignore(jit, y, sw=None, reduction="sum_over_batch_size", epochs=2, act="softmax",
                 ignore_class=-1):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    x = np.random.default_rng(5).standard_normal((len(y), 4)).astype("float32")
    model = cr.Sequential([L.Input((4,)), L.Dense(6, activation="tanh"),
                           L.Dense(C, activation=act)])
    loss = cr.losses.SparseCategoricalCrossentropy(ignore_class=ignore_class, reduction=reduction)
    model.compile("adam", loss, jit_compile=jit)
    hist = model.fit(x, y, sample_weight=sw, epochs=epochs, batch_size=4, shuffle=False,
                     verbose=0)
    return model, hist.history["loss"], model.get_weights()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_ignore_class_trains_bit_identically_on_replay_and_tape(reduction):
    rng = np.random.default_rng(4)
    y = rng.integers(0, C, 20)
    # the first two batches alike (nothing ignored), then 1, 3, 2 ignored labels per batch
    y[4:8] = y[:4]
    y[[8, 12, 13, 14, 16, 19]] = -1
    sw = rng.uniform(0.5, 2.0, 20).astype("float32") if reduction != "sum" else None
    fast = train_ignore(True, y, sw, reduction)
    assert programs(fast[0], "train")
    slow = train_ignore(False, y, sw, reduction)
    assert slow[0]._steps.entries == {}
    assert fast[1] == slow[1]
    for a, b in zip(fast[2], slow[2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ignore_class", [None, -1])
def test_probabilities_not_from_a_softmax_pick_each_batch_s_labels_on_replay(ignore_class):
    # sigmoid outputs: the loss renormalizes and picks the labels' entries (no fused op)
    y = np.random.default_rng(6).integers(0, C, 16)
    y[4:8] = y[:4]  # the two traced batches alike, the later ones not
    if ignore_class is not None:
        y[[9, 13, 14]] = ignore_class
    fast = train_ignore(True, y, act="sigmoid", ignore_class=ignore_class)
    assert programs(fast[0], "train")
    slow = train_ignore(False, y, act="sigmoid", ignore_class=ignore_class)
    assert fast[1] == slow[1]
    for a, b in zip(fast[2], slow[2]):
        np.testing.assert_array_equal(a, b)


def test_ignore_class_loss_is_the_mean_over_labels_not_ignored():
    y = np.array([0, 2, -1, 1, -1, -1, 0, 1])
    model = train_ignore(True, y, epochs=1)[0]
    x = np.random.default_rng(5).standard_normal((len(y), 4)).astype("float32")
    p = model.predict(x, verbose=0).astype(np.float64)
    for _ in range(3):  # traced, traced, then replayed
        for lo in (0, 4):
            xb, yb = x[lo:lo + 4], y[lo:lo + 4]
            keep = yb != -1
            want = -np.log(p[lo:lo + 4][keep, yb[keep]]).mean()
            got = model.evaluate(xb, yb, batch_size=4, verbose=0)
            assert got == pytest.approx(want, rel=1e-5)
    assert programs(model, "test")


def test_divide_no_nan_gradient_and_zero_divisor():
    from chainrule.gradcheck import check_gradients
    from chainrule.losses import _DivideNoNan

    result = check_gradients(lambda a, b: _DivideNoNan()(a, b), np.array(1.5), np.array(-0.7))
    assert result, str(result)
    zero = _DivideNoNan()(cr.Tensor(np.array(2.0)), cr.Tensor(np.array(0.0)))
    assert float(zero.data) == 0.0


def test_only_the_masked_output_of_a_two_output_model_is_masked():
    ids, y, _ = data(7)
    y2 = np.random.default_rng(8).standard_normal((N, 1)).astype("float32")
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    inp = L.Input((T,), dtype="int32")
    emb = L.Embedding(V, 4, mask_zero=True)(inp)
    seq = L.Dense(C, activation="softmax", name="seq")(L.LSTM(5, return_sequences=True)(emb))
    last = L.Dense(1, name="last")(L.GRU(3)(emb))
    model = cr.Model(inp, [seq, last])
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"],
                  metrics={"seq": ["accuracy"], "last": ["mae"]})
    model.fit(ids, [y, y2], epochs=1, batch_size=4, verbose=0)
    p_seq, p_last = model.predict(ids, verbose=0)
    acc, _ = numpy_metrics(p_seq, ids, y)
    for _ in range(2):
        res = model.evaluate(ids, [y, y2], batch_size=4, verbose=0, return_dict=True)
        assert res["seq_accuracy"] == pytest.approx(acc, abs=1e-6)
        assert res["last_mae"] == pytest.approx(np.abs(p_last - y2).mean(), rel=1e-5)
    assert all(e.masked == (0,) for e in programs(model, "test"))

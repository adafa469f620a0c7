"""compile/fit/evaluate/predict: batching semantics, golden numbers, output and errors."""

import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Dense
from chainrule.models import Sequential


@pytest.fixture(autouse=True)
def fresh():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    yield


def linear_data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    return x, y


def sgd_reference(x, y, batch_size, epochs, lr):
    """Mini-batch gradient descent on MSE by hand (float64), the batches in order."""
    w = np.zeros((3, 1))
    b = np.zeros(1)
    for _ in range(epochs):
        for s in range(0, len(x), batch_size):
            xb, yb = x[s:s + batch_size].astype(np.float64), y[s:s + batch_size].astype(np.float64)
            err = xb @ w + b - yb
            gw = 2.0 * xb.T @ err / err.size
            gb = 2.0 * err.sum(0) / err.size
            w -= lr * gw
            b -= lr * gb
    return w, b


@pytest.mark.parametrize("batch_size,updates", [(10, 1), (1, 10), (4, 3)])
def test_batch_stochastic_and_minibatch_gradient_descent(batch_size, updates):
    """batch_size=len(x) is batch GD, 1 is SGD, between is mini-batch; last partial batch used."""
    x, y = linear_data()
    model = Sequential([Dense(1, input_dim=3, kernel_initializer="zeros")])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.fit(x, y, batch_size=batch_size, epochs=3, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 3 * updates
    w, b = sgd_reference(x, y, batch_size, 3, 0.05)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-5, atol=1e-6)


def test_epoch_is_ceil_n_over_batch_size():
    x = np.zeros((2000, 3), dtype=np.float32)
    y = np.zeros((2000, 1), dtype=np.float32)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=200, epochs=1, verbose=0)
    assert model.optimizer.iterations == 10


def make_study_sleep(n=1000, seed=0):
    return cr.datasets.make_study_sleep(n, seed=seed)


def test_seed_003_regression_runs_as_written():
    X, y = make_study_sleep()
    model = Sequential()
    model.add(Dense(3, input_dim=2, activation="sigmoid"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    results = model.fit(X, y, epochs=50, verbose=0)
    assert list(results.history.keys()) == ["loss", "mae", "mse"]
    assert model.history is results
    assert len(results.history["loss"]) == 50
    np.testing.assert_allclose(results.history["loss"], results.history["mse"], rtol=1e-5)
    assert results.history["loss"][-1] < results.history["loss"][0]


def test_progress_output_one_line_per_epoch_when_not_a_terminal(capsys):
    X, y = make_study_sleep(100)
    model = Sequential([Dense(3, input_dim=2, activation="sigmoid"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    model.fit(X, y, epochs=3, verbose=1)
    out = capsys.readouterr().out
    lines = out.strip().split("\n")
    assert lines[0] == "Epoch 1/3" and lines[2] == "Epoch 2/3" and len(lines) == 6
    pattern = (r"^4/4 \[==============================\] - \d+s \d+(us|ms)/step - loss: \d\.\d{4} "
               r"- mae: \d\.\d{4} - mse: \d\.\d{4}$")
    assert re.match(pattern, lines[1]), lines[1]
    assert "\r" not in out


def test_verbose_2_and_evaluate_format(capsys):
    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Sequential([Dense(2, input_dim=4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().split("\n")
    assert out[0] == "Epoch 1/2"
    assert re.match(r"^2/2 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}$", out[1]), out[1]
    loss, acc = model.evaluate(x, y, verbose=2)
    line = capsys.readouterr().out.strip()
    assert re.match(r"^2/2 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}$", line), line
    assert f"loss: {loss:.4f}" in line and f"accuracy: {acc:.4f}" in line


def test_history_keys_follow_user_names_and_validation():
    x = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(1, input_dim=4, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    h = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert list(h.history) == ["loss", "acc", "val_loss", "val_acc"]
    h = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert set(h.history) == {"loss", "acc", "val_loss", "val_acc"}


def test_validation_split_takes_last_samples_before_shuffling():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.zeros((10, 1), dtype=np.float32)
    model = Sequential([Dense(1, input_dim=1, kernel_initializer="ones")])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=1e-9), loss="mse")
    h = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0)
    # validation on x = 8, 9 with w = 1, b = 0: mean of 64 and 81
    assert h.history["val_loss"][0] == pytest.approx(72.5, rel=1e-5)


def test_evaluate_returns_scalar_list_or_dict():
    x, y = linear_data(20)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    res = model.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 2
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["loss", "mae"]
    pred = model.predict(x, verbose=0)
    assert d["loss"] == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)
    assert d["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)


def test_predict_is_batched_numpy_float32():
    x, _ = linear_data(70)
    model = Sequential([Dense(2, input_dim=3, activation="softmax")])
    p = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(p, np.ndarray) and p.shape == (70, 2) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), p, rtol=1e-6)


def test_train_and_test_on_batch():
    x, y = linear_data(8)
    model = Sequential([Dense(1, input_dim=3, kernel_initializer="zeros")])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    before = model.test_on_batch(x, y)
    loss, mae = model.train_on_batch(x, y)
    assert loss == pytest.approx(before[0]) and mae == pytest.approx(float(np.mean(np.abs(y))), rel=1e-6)
    after = model.test_on_batch(x, y)
    assert after[0] < before[0]
    assert model.optimizer.iterations == 1


def test_fit_accepts_nested_lists_and_generators():
    model = Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit([[0.0, 1.0], [1.0, 0.0]], [[1.0], [0.0]], epochs=1, verbose=0)

    def batches():
        rng = np.random.default_rng(1)
        while True:
            x = rng.standard_normal((8, 2)).astype(np.float32)
            yield x, x.sum(1, keepdims=True)

    h = model.fit(batches(), steps_per_epoch=5, epochs=2, verbose=0)
    assert model.optimizer.iterations == 1 + 10
    assert len(h.history["loss"]) == 2


def test_fit_accepts_pandas():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0]})
    y = pd.Series([1.0, 0.0, 1.0])
    model = Sequential([Dense(1, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(df, y, epochs=1, verbose=0)


def test_class_weight_scales_sample_losses():
    x = np.array([[1.0], [1.0]], dtype=np.float32)
    y = np.array([0, 1])
    def run(class_weight):
        cr.utils.set_random_seed(0)
        m = Sequential([Dense(2, input_dim=1, activation="softmax", kernel_initializer="zeros")])
        m.compile(optimizer=cr.optimizers.SGD(learning_rate=1.0), loss="sparse_categorical_crossentropy")
        m.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0, class_weight=class_weight)
        return m.get_weights()[1]
    np.testing.assert_allclose(run(None), [0.0, 0.0], atol=1e-7)
    # class 1 weighted 3x: gradient on the bias = mean of (p - y) * w = ((0.5)*1 + (-0.5)*3)/2
    np.testing.assert_allclose(run({0: 1.0, 1: 3.0}), [-0.5, 0.5], rtol=1e-6)


def test_early_stopping_and_callbacks_integrate():
    x, y = linear_data(40)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=1e-12), loss="mse")
    stop = cr.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1.0)
    h = model.fit(x, y, epochs=20, callbacks=[stop], verbose=0)
    assert len(h.history["loss"]) == 2
    seen = []
    cb = cr.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    model.fit(x, y, epochs=1, batch_size=10, callbacks=[cb], verbose=0)
    assert len(seen) == 4


def test_initial_epoch_and_nb_epoch_legacy():
    x, y = linear_data(10)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    h = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4]
    with pytest.warns(DeprecationWarning, match="epochs"):
        h = model.fit(x, y, nb_epoch=2, verbose=0)
    assert len(h.history["loss"]) == 2


# -- bad input ---------------------------------------------------------------------------------

@pytest.fixture
def compiled():
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_fit_before_compile():
    model = Sequential([Dense(1, input_dim=3)])
    with pytest.raises(ValueError, match=r"compile the model before calling fit\(\)"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"before calling evaluate\(\)"):
        model.evaluate(np.zeros((2, 3)), np.zeros((2, 1)))


@pytest.mark.parametrize("kwargs,err,pattern", [
    (dict(batch_size=0), ValueError, r"batch_size must be a positive integer.*Received: batch_size=0"),
    (dict(batch_size=2.5), ValueError, r"Received: batch_size=2.5"),
    (dict(epochs=-1), ValueError, r"Received: epochs=-1"),
    (dict(validation_split=1.5), ValueError, r"Received: validation_split=1.5"),
    (dict(validation_split=0.95), ValueError, r"leaves no training samples out of 10"),
    (dict(verbose=3), ValueError, r"Received: verbose=3"),
    (dict(shuffle="yes"), ValueError, r"Received: shuffle='yes'"),
    (dict(epochz=3), TypeError, r"unexpected keyword arguments: \['epochz'\]"),
])
def test_fit_argument_errors(compiled, kwargs, err, pattern):
    with pytest.raises(err, match=pattern):
        compiled.fit(np.zeros((10, 3)), np.zeros((10, 1)), **{"verbose": 0, **kwargs})


def test_data_errors(compiled):
    with pytest.raises(ValueError, match=r"x with 10 samples and y with 9 samples"):
        compiled.fit(np.zeros((10, 3)), np.zeros((9, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"x is empty"):
        compiled.fit(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0)
    with pytest.raises(TypeError, match=r"x must contain numbers.*dtype <U1"):
        compiled.fit(np.array([["a", "b", "c"]]), np.zeros((1, 1)), verbose=0)
    x = np.zeros((10, 3))
    x[2, 1] = np.nan
    x[5, 0] = np.inf
    with pytest.raises(ValueError, match=r"x contains 2 NaN or infinite value\(s\), first at index\(es\) \[\(2, 1\), \(5, 0\)\]"):
        compiled.fit(x, np.zeros((10, 1)), verbose=0)
    compiled.fit(np.nan_to_num(x, posinf=0.0), np.zeros((10, 1)), verbose=0)
    with pytest.raises(ValueError, match=r'layer "dense".*expected last dimension 3.*\(None, 5\)'):
        compiled.fit(np.zeros((10, 5)), np.zeros((10, 1)), verbose=0)


def test_unknown_names_suggest_close_matches():
    model = Sequential([Dense(1, input_dim=3)])
    with pytest.raises(ValueError, match=r"Unknown loss: 'msee'. Did you mean 'mse'"):
        model.compile(optimizer="sgd", loss="msee")
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adma'. Did you mean 'adam'"):
        model.compile(optimizer="adma", loss="mse")
    with pytest.raises(ValueError, match=r"Unknown metric: 'acuracy'"):
        model.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])


def test_nan_loss_stops_with_message_and_keeps_last_good_weights():
    x = np.ones((4, 1), dtype=np.float32) * 1e3
    y = np.ones((4, 1), dtype=np.float32)
    model = Sequential([Dense(1, input_dim=1)])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=1e30), loss="mse")
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch \d+.*learning rate"):
        model.fit(x, y, batch_size=1, epochs=1, verbose=0, shuffle=False)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    with pytest.warns(RuntimeWarning, match="The loss became"):
        model.fit(x, y, batch_size=1, epochs=3, verbose=0, on_nan="stop")
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_nan_batch_is_not_applied_weights_equal_those_before_it():
    # batch 2 of 4 holds a NaN: on_nan='stop' keeps exactly the weights (and optimizer
    # step count) after batches 0 and 1, as training on those two batches alone gives
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    x_bad = x.copy()
    x_bad[5, 1] = np.nan

    def run(xs, ys, **kwargs):
        cr.utils.set_random_seed(3)
        model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1)])
        model.compile(optimizer=cr.optimizers.Adam(0.01), loss="mse", **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(xs, ys, batch_size=2, epochs=1, verbose=0, shuffle=False,
                      allow_nonfinite=True, on_nan="stop")
        return model

    for jit in (True, False):
        bad = run(x_bad, y, jit_compile=jit)
        good = run(x[:4], y[:4], jit_compile=jit)
        assert bad.stop_training
        assert bad.optimizer.iterations == good.optimizer.iterations == 2
        for wb, wg in zip(bad.get_weights(), good.get_weights()):
            np.testing.assert_array_equal(wb, wg)


def test_shuffled_batches_follow_one_permutation_per_epoch():
    from chainrule.models.data import ArrayBatches

    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    sw = np.linspace(0, 1, 10)
    batches = ArrayBatches([x], [y], [sw], batch_size=4, shuffle=True, rng=np.random.default_rng(7))
    expected_rng = np.random.default_rng(7)
    for _ in range(2):
        perm = expected_rng.permutation(10)
        got = list(batches.epoch())
        assert [len(b[0][0]) for b in got] == [4, 4, 2]  # the last, partial batch is used
        np.testing.assert_array_equal(np.concatenate([b[0][0] for b in got]), x[perm])
        np.testing.assert_array_equal(np.concatenate([b[1][0] for b in got]), y[perm])
        np.testing.assert_array_equal(np.concatenate([b[2][0] for b in got]), sw[perm])
        assert all(b[0][0].flags.c_contiguous for b in got)

"""The captured Dense-stack step computes what the autograd step computes."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Activation, Dense, Dropout, Flatten
from chainrule.models import Sequential
from chainrule.models.fast_step import build_fast_step

rng = np.random.default_rng(0)
X = rng.standard_normal((50, 3, 4)).astype(np.float32)

CASES = {
    "scce_softmax": ("sparse_categorical_crossentropy", "softmax", rng.integers(0, 3, 50)),
    "scce_labels_n1": ("sparse_categorical_crossentropy", "softmax", rng.integers(0, 3, (50, 1))),
    "cce_softmax": ("categorical_crossentropy", "softmax", np.eye(3, dtype=np.float32)[rng.integers(0, 3, 50)]),
    "bce_sigmoid": ("binary_crossentropy", "sigmoid", (rng.random((50, 3)) > 0.5).astype(np.float32)),
    "mse_linear": ("mse", None, rng.standard_normal((50, 3)).astype(np.float32)),
    "mse_sigmoid": ("mse", "sigmoid", rng.random((50, 3)).astype(np.float32)),
    "mae_tanh": ("mae", "tanh", rng.standard_normal((50, 3)).astype(np.float32)),
}


def train(jit, loss, act, y, hidden="relu", dropout=False, optimizer="adam", epochs=3):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    layers = [Flatten(input_shape=(3, 4)), Dense(8, activation=hidden)]
    if dropout:
        layers.append(Dropout(0.3))
    layers += [Dense(6, activation="tanh"), Dense(3), Activation(act) if act else Activation("linear")]
    model = Sequential(layers)
    metrics = ["accuracy"] if loss.startswith("sparse") else ["mae"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit)
    h = model.fit(X, y, batch_size=16, epochs=epochs, verbose=0)
    return model, h.history


@pytest.mark.parametrize("case", list(CASES))
def test_captured_step_matches_autograd_step(case):
    loss, act, y = CASES[case]
    fast, hf = train("auto", loss, act, y)
    assert fast._fast_step is not None, "the model should qualify for the captured step"
    slow, hs = train(False, loss, act, y)
    assert slow._fast_step is None
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    for key in hs:
        np.testing.assert_allclose(hf[key], hs[key], rtol=1e-5)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "linear"])
def test_captured_step_with_dropout_and_hidden_activations(hidden):
    loss, act, y = CASES["scce_softmax"]
    fast, hf = train("auto", loss, act, y, hidden=hidden, dropout=True, optimizer="sgd")
    slow, hs = train(False, loss, act, y, hidden=hidden, dropout=True, optimizer="sgd")
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_models_outside_the_captured_set_use_the_autograd_step():
    cr.utils.clear_session()
    reg = Sequential([Dense(2, input_dim=3, kernel_regularizer="l2")])
    reg.compile(optimizer="sgd", loss="mse")
    assert build_fast_step(reg) is None
    logits = Sequential([Dense(2, input_dim=3)])
    logits.compile(optimizer="sgd", loss=cr.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert build_fast_step(logits) is None
    x = cr.layers.Input(shape=(3,))
    functional = cr.Model(x, Dense(1)(x))
    functional.compile(optimizer="sgd", loss="mse")
    assert build_fast_step(functional) is None


def test_extreme_logits_stay_finite_in_captured_step():
    cr.utils.clear_session()
    model = Sequential([Dense(2, input_dim=1, activation="softmax", kernel_initializer="ones")])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
    x = np.array([[1000.0], [-1000.0]], dtype=np.float32)
    model.layers[0].set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    h = model.fit(x, np.array([1, 0]), epochs=1, verbose=0)
    assert model._fast_step is not None
    assert h.history["loss"][0] == pytest.approx(2000.0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


@pytest.mark.parametrize("act", ["softmax", "sigmoid", "tanh", "linear", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_captured_predict_is_bit_identical_to_layers_forward(act, dtype, monkeypatch):
    from chainrule.models.fast_step import FastDenseStep

    calls = []
    forward = FastDenseStep.forward
    monkeypatch.setattr(FastDenseStep, "forward", lambda self, *a: (calls.append(1), forward(self, *a))[1])
    cr.utils.clear_session()
    cr.utils.set_random_seed(1)
    model = Sequential([Flatten(input_shape=(3, 4)), Dense(7, activation="relu"), Dropout(0.5),
                        Dense(5, activation="sigmoid", kernel_regularizer="l2"),
                        Dense(3), Activation(act)])
    x = (X * 3).astype(dtype)
    fast = model.predict(x, batch_size=16, verbose=0)  # never compiled: jit_compile 'auto'
    assert len(calls) == 4  # 50 samples in batches of 16
    model.compile(loss="mse", jit_compile=False)
    slow = model.predict(x, batch_size=16, verbose=0)
    assert len(calls) == 4
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("case", list(CASES))
def test_captured_evaluate_matches_layers_forward_and_loss(case, monkeypatch):
    from chainrule.models.fast_step import FastDenseStep

    calls = []
    evaluate = FastDenseStep.evaluate
    monkeypatch.setattr(FastDenseStep, "evaluate", lambda self, *a: (calls.append(1), evaluate(self, *a))[1])
    loss, act, y = CASES[case]
    model, _ = train("auto", loss, act, y, dropout=True, epochs=1)
    fast = model.evaluate(X, y, batch_size=16, verbose=0, return_dict=True)
    assert len(calls) == 4  # 50 samples in batches of 16
    model.compile(optimizer="adam", loss=loss, metrics=list(fast)[1:], jit_compile=False)
    slow = model.evaluate(X, y, batch_size=16, verbose=0, return_dict=True)
    assert len(calls) == 4 and list(fast) == list(slow)
    for key in fast:
        np.testing.assert_allclose(fast[key], slow[key], rtol=1e-6, atol=1e-7)


def test_validation_in_fit_uses_the_captured_evaluation():
    loss, act, y = CASES["scce_softmax"]
    histories = []
    for jit in ("auto", False):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = Sequential([Flatten(input_shape=(3, 4)), Dense(8, activation="relu"), Dense(3, activation=act)])
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], jit_compile=jit)
        histories.append(model.fit(X[:40], y[:40], validation_data=(X[40:], y[40:]), batch_size=8,
                                   epochs=2, verbose=0).history)
    for key in ("val_loss", "val_accuracy"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-5)

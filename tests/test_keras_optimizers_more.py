"""Adafactor: Keras 3's update, checked against a NumPy transcription and Keras's numbers."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Variable

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "adafactor_keras.npz")


def _rms(x):
    return np.sqrt(np.mean(np.square(x)))


def reference_adafactor(ws, grads_per_step, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                        epsilon_2=1e-3, clip_threshold=1.0):
    """keras/src/optimizers/adafactor.py's update_step, transcribed to NumPy."""
    ws = [w.copy() for w in ws]
    r = [np.zeros(w.shape[:-1]) if w.ndim >= 2 else 0.0 for w in ws]
    c = [np.zeros(w.shape[:-2] + w.shape[-1:]) if w.ndim >= 2 else 0.0 for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for step, grads in enumerate(grads_per_step, start=1):
        for i, (w, g) in enumerate(zip(ws, grads)):
            rho = min(learning_rate, 1 / math.sqrt(step))
            alpha = max(epsilon_2, _rms(w)) * rho
            g2 = g ** 2 + epsilon_1
            beta = 1 - step ** beta_2_decay
            if w.ndim >= 2:
                r[i] = beta * r[i] + (1 - beta) * g2.mean(axis=-1)
                c[i] = beta * c[i] + (1 - beta) * g2.mean(axis=-2)
                v[i] = (r[i] / r[i].mean(axis=-1, keepdims=True))[..., None] * c[i][..., None, :]
            else:
                v[i] = beta * v[i] + (1 - beta) * g2
            u = g / np.sqrt(v[i])
            u = u / max(1.0, _rms(u) / clip_threshold)
            ws[i] = w - alpha * u
    return ws


@pytest.mark.parametrize("kwargs", [{}, {"learning_rate": 0.3, "clip_threshold": 0.5},
                                    {"learning_rate": 2.0, "beta_2_decay": -0.5,
                                     "epsilon_2": 0.1}])
def test_adafactor_matches_the_transcription(kwargs):
    rng = np.random.default_rng(1)
    shapes = [(), (5,), (3, 4), (2, 3, 4)]
    w0 = [rng.normal(size=s) for s in shapes]
    steps = [[rng.normal(size=s) for s in shapes] for _ in range(6)]
    variables = [Variable(w.copy(), name=f"w{i}") for i, w in enumerate(w0)]
    opt = cr.optimizers.Adafactor(**kwargs)
    for grads in steps:
        opt.apply(grads, variables)
    for got, want in zip(variables, reference_adafactor(w0, steps, **kwargs)):
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-14)


def test_adafactor_is_keras_bit_for_bit_in_float32():
    data = np.load(FIXTURE)  # tools/keras_fixtures_adafactor.py
    assert str(data["keras"]).startswith("3.")
    variables = [Variable(data[f"w0_{i}"].copy(), name=f"w{i}") for i in range(3)]
    opt = cr.optimizers.Adafactor(learning_rate=0.1)
    for k in range(5):
        opt.apply([data[f"g{k}_{i}"] for i in range(3)], variables)
    for i, v in enumerate(variables):
        np.testing.assert_array_equal(v.data, data[f"w5_{i}"])


def test_adafactor_state_config_and_fit():
    opt = cr.optimizers.get("adafactor")
    assert isinstance(opt, cr.optimizers.Adafactor)
    again = cr.optimizers.deserialize(cr.optimizers.serialize(
        cr.optimizers.Adafactor(learning_rate=0.01, clip_threshold=2.0)))
    assert again.clip_threshold == 2.0 and again.get_config()["beta_2_decay"] == -0.8
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], "float32")
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4), cr.layers.Dense(1)])
    model.compile(optimizer=cr.optimizers.Adafactor(learning_rate=0.1), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the factored state is part of get_state / set_state
    state = model.optimizer.get_state()
    assert state["r/0"].shape == (3,) and state["c/0"].shape == (4,)
    assert state["velocity/0"].shape == (3, 4) and state["r/1"].shape == ()
    twin = cr.optimizers.Adafactor(learning_rate=0.1)
    twin.build(model.trainable_weights)
    twin.set_state(state)
    np.testing.assert_array_equal(twin.get_state()["r/0"], state["r/0"])
    with pytest.raises(ValueError, match=r"beta_2_decay.*Received: beta_2_decay=0\.5"):
        cr.optimizers.Adafactor(beta_2_decay=0.5)
    with pytest.raises(ValueError, match=r"clip_threshold.*Received: clip_threshold=0"):
        cr.optimizers.Adafactor(clip_threshold=0)

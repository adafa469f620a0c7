"""examples/sequence_lessons.py: the gradient reaching each time step, checked by finite
differences, and the lesson it prints (SimpleRNN's gradient vanishes once tanh saturates;
LSTM's decay is set by its forget gate, not by the inputs)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

_spec = importlib.util.spec_from_file_location(
    "sequence_lessons", Path(__file__).resolve().parents[1] / "examples" / "sequence_lessons.py")
lessons = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lessons)


@pytest.fixture
def float64():
    cr.config.set_floatx("float64")
    yield
    cr.config.set_floatx("float32")


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_gradient_through_time_matches_finite_differences(kind, float64):
    cr.utils.set_random_seed(0)
    model = lessons.build(kind, steps=4, units=3)
    x, y = lessons.make_data(6, 4)
    x = x.astype("float64")
    got = lessons.gradient_through_time(model, x, y)
    loss = cr.losses.BinaryCrossentropy()
    eps = 1e-6
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (float(loss(y, model(up))) - float(loss(y, model(down)))) / (2 * eps)
    np.testing.assert_allclose(got, np.linalg.norm(grad, axis=2).mean(axis=0), rtol=1e-5,
                               atol=1e-12)


def _first_over_last(kind, scale):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    x, y = lessons.make_data(64, 50)
    g = lessons.gradient_through_time(lessons.build(kind, 50), x * scale, y)
    return g[0] / g[-1]


def test_saturation_makes_simple_rnn_gradient_vanish_but_not_lstm():
    simple = _first_over_last("SimpleRNN", 1), _first_over_last("SimpleRNN", 4)
    lstm = _first_over_last("LSTM", 1), _first_over_last("LSTM", 4)
    assert simple[1] < 1e-4 * simple[0]
    assert simple[1] < 1e-3 * lstm[1]
    assert 0.1 < lstm[1] / lstm[0] < 10

"""Stateful custom Metric subclasses written as in Keras 3 (add_variable, assign_add, ...)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops


class BinaryTruePositives(cr.metrics.Metric):
    """The Keras 3 guide's custom metric: a count kept in a variable."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros",
                                                name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(bool)
        y_pred = np.asarray(y_pred) > 0.5
        values = (y_true & y_pred).astype("float32")
        if sample_weight is not None:
            values = values * np.broadcast_to(np.asarray(sample_weight, "float32").reshape(
                -1, *([1] * (values.ndim - 1))), values.shape)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives


class MeanOfSquares(cr.metrics.Metric):
    """Two variables, one of them a vector, updated with assign and assign_sub."""

    def __init__(self, name="mean_of_squares", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_weight(shape=(2,), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="ones", name="count")

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype="float32")
        self.total.assign(self.total.numpy() + (values ** 2).sum(axis=0))
        self.count.assign_add(len(values))
        self.count.assign_sub(0.0)

    def result(self):
        return self.total.numpy() / (self.count.numpy() - 1)


def test_custom_metric_with_variables():
    m = BinaryTruePositives()
    assert [v.name for v in m.variables] == ["true_positives"]
    assert not m.variables[0].trainable
    m.update_state([1, 1, 0, 1], [0.9, 0.2, 0.8, 0.7])
    assert float(m.result().numpy()) == 2.0
    m.update_state([1, 1], [0.9, 0.9], sample_weight=[0.5, 0.25])
    assert float(m.result().numpy()) == 2.75
    m.reset_state()  # the default: every variable back to zeros
    assert float(m.result().numpy()) == 0.0
    s = MeanOfSquares()
    s.update_state([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(s.result(), [5.0, 10.0])
    assert s.variables[1].path == "mean_of_squares/count"


def test_custom_metric_in_fit_is_reset_each_epoch_and_logged_as_a_float():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Dense(1, input_dim=3, activation="sigmoid")])
    model.compile(optimizer=cr.optimizers.SGD(1e-9), loss="binary_crossentropy",
                  metrics=[BinaryTruePositives(), BinaryTruePositives(name="tp")])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    pred = model.predict(x, verbose=0)
    expected = float(np.sum((y > 0.5) & (pred > 0.5)))
    assert history["binary_true_positives"] == pytest.approx([expected] * 2)
    assert history["tp"] == history["binary_true_positives"]
    assert isinstance(history["tp"][0], float)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert result["tp"] == pytest.approx(expected)


def test_metric_variable_errors():
    m = BinaryTruePositives()
    with pytest.raises(ValueError, match=r"Cannot assign_add a value of shape \(3,\) to variable "
                                         r"'binary_true_positives/true_positives' of shape \(\)"):
        m.true_positives.assign_add(np.ones(3))
    with pytest.raises(ValueError, match=r"aggregation must be .*Received: aggregation='max'"):
        m.add_variable(shape=(), aggregation="max")

    class NoState(cr.metrics.Metric):
        def update_state(self, *args, **kwargs):
            pass

        def result(self):
            return 0.0

    with pytest.raises(NotImplementedError, match=r"NoState must implement reset_state\(\)"):
        NoState().reset_state()

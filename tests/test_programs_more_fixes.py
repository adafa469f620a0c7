"""What the programs in tests/programs_more/ found missing in chainrule, each fix tested alone.

- ``fit(x, y)`` on a model compiled without a loss, whose ``train_step`` does all the work and
  which has no ``call`` (keras-io's GAN): no forward pass to check the targets.
- An output compiled with loss None has no ``<output>_loss`` in the logs, and with a single
  output left with a loss there are no per-output losses at all (Keras 3's keys).
- ``metrics=[None, None, ["mae"]]``: one entry per output, None for an output without metrics.
"""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers


class _CountingTrainStep(cr.Model):
    """A model with no ``call``: its train_step updates one weight from the batch."""

    def __init__(self):
        super().__init__()
        self.w = self.add_weight(shape=(), initializer="zeros", name="w")
        self.batches = []
        self.built = True

    def compile(self, optimizer):
        super().compile()
        self.opt = optimizer

    def train_step(self, data):
        x, y = data
        self.batches.append((np.asarray(x).shape, np.asarray(y).shape))
        self.zero_grad()
        loss = cr.ops.mean(cr.ops.square(cr.ops.convert_to_tensor(x) - self.w))
        loss.backward()
        with cr.no_grad():
            self.opt.apply([self.w.grad], [self.w])
        return {"loss": loss}


def test_fit_runs_a_train_step_of_a_model_without_call():
    model = _CountingTrainStep()
    model.compile(cr.optimizers.SGD(0.1))
    x = np.full((8, 3), 2.0, "float32")
    history = model.fit(x, x, batch_size=4, epochs=2, verbose=0)
    assert model.batches == [((4, 3), (4, 3))] * 4
    assert float(model.w.numpy()) > 0.5  # moved towards 2
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0]


def test_fit_of_a_model_without_call_and_with_a_compiled_loss_still_says_so():
    model = _CountingTrainStep()
    cr.Model.compile(model, optimizer="sgd", loss="mse")  # a loss: the targets are checked
    with pytest.raises(NotImplementedError, match="has no call"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 3)), verbose=0)


def _three_outputs():
    cr.utils.set_random_seed(0)
    i = cr.Input(shape=(4,), name="i")
    return cr.Model(i, [layers.Dense(1, name=n)(i) for n in "abc"])


def _fit_logs(model, **compile_kwargs):
    model.compile(optimizer="sgd", **compile_kwargs)
    rng = np.random.default_rng(0)
    x = rng.random((64, 4))
    ys = [rng.random((64, 1)) for _ in range(3)]
    history = model.fit(x, ys, batch_size=32, epochs=1, verbose=0)
    return {k: v[0] for k, v in history.history.items()}, model.evaluate(x, ys, verbose=0,
                                                                          return_dict=True)


def test_per_output_losses_are_logged_for_the_outputs_with_a_loss():
    model = _three_outputs()
    logs, results = _fit_logs(model, loss=["mse", "mse", "mse"], loss_weights=[2.0, 1.0, 1.0])
    assert sorted(logs) == ["a_loss", "b_loss", "c_loss", "loss"]
    logs, results = _fit_logs(model, loss=[None, "mse", "mse"])
    assert sorted(logs) == ["b_loss", "c_loss", "loss"]  # Keras 3: no a_loss
    assert sorted(results) == ["b_loss", "c_loss", "loss"]
    assert model.metrics_names == ["loss", "b_loss", "c_loss"]
    assert results["loss"] == pytest.approx(results["b_loss"] + results["c_loss"], rel=1e-6)
    logs, results = _fit_logs(model, loss={"c": "mse"})
    assert sorted(logs) == ["loss"]  # one loss left: no per-output entries


def test_per_output_metric_list_may_hold_none():
    model = _three_outputs()
    logs, results = _fit_logs(model, loss=[None, None, "mse"], metrics=[None, None, ["mae"]])
    assert sorted(logs) == sorted(results) == ["c_mae", "loss"]
    assert math.isfinite(results["c_mae"])
    x = np.random.default_rng(1).random((16, 4))
    pred = model.predict(x, verbose=0)[2]
    logs = model.evaluate(x, [np.zeros((16, 1))] * 3, verbose=0, return_dict=True)
    assert logs["c_mae"] == pytest.approx(np.abs(pred).mean(), rel=1e-5)
    # lists of lists, with one list per output, as before
    logs, _ = _fit_logs(model, loss="mse", metrics=[["mae"], [], ["mse"]])
    assert sorted(logs) == ["a_loss", "a_mae", "b_loss", "c_loss", "c_mse", "loss"]

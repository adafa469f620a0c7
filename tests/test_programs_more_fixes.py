"""What the programs in tests/programs_more/ found missing in chainrule, each fix tested alone.

- ``fit(x, y)`` on a model compiled without a loss, whose ``train_step`` does all the work and
  which has no ``call`` (keras-io's GAN): no forward pass to check the targets.
- An output compiled with loss None has no ``<output>_loss`` in the logs, and with a single
  output left with a loss there are no per-output losses at all (Keras 3's keys).
- ``metrics=[None, None, ["mae"]]``: one entry per output, None for an output without metrics.
- An overridden ``compute_loss`` gets the batch's ``x`` (keras-io's Distiller runs its teacher
  on it) and ``training`` where its signature takes it.
- A functional model called directly on arrays matches their rank to its ``Input``s, as Keras
  does: ``embedding_network(x)`` with MNIST's ``(n, 28, 28)`` for ``Input((28, 28, 1))``; and
  ``fit``/``predict`` drop a trailing axis of 1 the ``Input`` does not declare.
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


def test_a_flat_metric_list_with_one_entry_per_output_is_per_output_as_keras_3():
    # Keras 3.15: metrics=["mae", "mse"] on two outputs gives a_mae and b_mse (not both
    # metrics to each output); [None, "mae"] leaves the first output without metrics
    x = layers.Input((4,))
    model = cr.Model(x, [layers.Dense(1, name="a")(x), layers.Dense(1, name="b")(x)])
    data = np.random.default_rng(0).random((16, 4))
    y = [data[:, :1], data[:, 1:2]]
    for metrics, keys in ((["mae", "mse"], ["a_loss", "a_mae", "b_loss", "b_mse", "loss"]),
                          ([None, "mae"], ["a_loss", "b_loss", "b_mae", "loss"]),
                          # another length: each metric for every output (tf.keras 2;
                          # Keras 3 raises)
                          (["mae"], ["a_loss", "a_mae", "b_loss", "b_mae", "loss"])):
        model.compile("sgd", "mse", metrics=metrics)
        history = model.fit(data, y, epochs=1, batch_size=8, verbose=0)
        assert sorted(history.history) == keys, metrics


class _XLoss(cr.Model):
    """``compute_loss`` adds a penalty computed from ``x`` itself; records what it was given."""

    def __init__(self, takes_training):
        super().__init__()
        self.dense = layers.Dense(1)
        self.seen = []
        self.takes_training = takes_training

    def call(self, x):
        return self.dense(x)

    def _loss(self, x, y, y_pred, training):
        self.seen.append((tuple(x.shape), training))
        return cr.ops.mean(cr.ops.square(y - y_pred)) + cr.ops.mean(x) * 0.5


class _XLossWithTraining(_XLoss):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self._loss(x, y, y_pred, training)


class _XLossWithoutTraining(_XLoss):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        return self._loss(x, y, y_pred, None)


@pytest.mark.parametrize("cls, modes", [(_XLossWithTraining, (True, False)),
                                        (_XLossWithoutTraining, (None, None))])
def test_overridden_compute_loss_gets_the_inputs(cls, modes):
    cr.utils.set_random_seed(0)
    model = cls(takes_training=modes[0] is not None)
    model.compile(optimizer="sgd", metrics=["mae"])
    x = np.full((8, 3), 2.0, "float32")
    y = np.zeros((8, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert model.seen and all(s == ((4, 3), modes[0]) for s in model.seen)
    model.seen.clear()
    pred = model.predict(x, verbose=0)
    results = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert model.seen[0] == ((8, 3), modes[1])
    # the penalty from x (mean 2.0, times 0.5) is in the evaluated loss
    assert results["loss"] == pytest.approx(float(np.mean(pred ** 2)) + 1.0, rel=1e-5)


def test_functional_call_matches_the_input_rank():
    cr.utils.set_random_seed(0)
    i = cr.Input((6, 6, 1))
    model = cr.Model(i, layers.Flatten()(layers.Conv2D(2, 3)(i)))
    x = np.random.default_rng(0).random((3, 6, 6)).astype("float32")
    expected = np.asarray(model(x[..., None]))
    np.testing.assert_array_equal(np.asarray(model(x)), expected)  # axis added
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    j = cr.Input((4,))
    dense = cr.Model(j, layers.Dense(2)(j))
    v = np.random.default_rng(1).random((3, 4)).astype("float32")
    expected = np.asarray(dense(v))
    np.testing.assert_array_equal(np.asarray(dense(v[..., None])), expected)  # axis dropped
    np.testing.assert_array_equal(dense.predict(v[..., None], verbose=0), expected)
    dense.compile(optimizer="sgd", loss="mse")
    history = dense.fit(v[..., None], np.zeros((3, 2)), verbose=0)
    assert math.isfinite(history.history["loss"][0])
    # a gradient flows through the added axis
    t = cr.Tensor(x, requires_grad=True)
    cr.ops.sum(model(t)).backward()
    assert t.grad is not None and t.grad.shape == (3, 6, 6)
    # other ranks are left to the layers, which say what they expected
    with pytest.raises(ValueError, match="Conv2D|conv2d|expected"):
        model(x.reshape(3, 36))


class _DoubledKernelConv(layers.Conv2D):
    def convolution_op(self, inputs, kernel):
        return cr.ops.conv(inputs, kernel * 2.0, strides=self.strides, padding=self.padding,
                           data_format=self.data_format)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_convolution_op_override_is_what_the_layer_computes(data_format):
    cr.utils.set_random_seed(0)
    plain = layers.Conv2D(3, 2, activation="relu", data_format=data_format)
    doubled = _DoubledKernelConv(3, 2, activation="relu", data_format=data_format)
    shape = (2, 5, 5, 4) if data_format == "channels_last" else (2, 4, 5, 5)
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    plain(x)
    doubled(x)
    kernel, bias = plain.get_weights()
    doubled.set_weights([kernel, bias + 0.5])
    plain.set_weights([kernel * 2.0, bias + 0.5])
    np.testing.assert_allclose(np.asarray(doubled(x)), np.asarray(plain(x)), rtol=1e-5,
                               atol=1e-6)
    # the built-in op without bias or activation, callable from a subclass's own call
    no_bias = np.asarray(plain.convolution_op(x, plain.kernel))
    axis = (1, -1, 1, 1) if data_format == "channels_first" else (-1,)
    np.testing.assert_allclose(np.maximum(no_bias + (bias + 0.5).reshape(axis), 0),
                               np.asarray(plain(x)), rtol=1e-5, atol=1e-6)


def test_conv_convolution_op_override_trains_on_the_captured_step():
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.Input((6, 6, 1)), _DoubledKernelConv(2, 3), layers.Flatten(),
                           layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    rng = np.random.default_rng(0)
    history = model.fit(rng.random((16, 6, 6, 1)), rng.random((16, 1)), batch_size=4,
                        epochs=2, verbose=0)
    train = [e for k, e in model._steps.entries.items() if k[0] == "train"]
    assert train and all(e.program is not None for e in train)
    assert all(math.isfinite(v) for v in history.history["loss"])

"""Overriding train_step / test_step / predict_step in a subclassed Model (Keras 3)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers, ops

RNG = np.random.default_rng(5)
X = RNG.normal(size=(64, 3)).astype("float32")
W_TRUE = np.array([[1.0], [-2.0], [0.5]], dtype="float32")
Y = X @ W_TRUE + 0.1


class TorchStyle(cr.Model):
    """The Keras 3 guide's custom train_step, written as with the PyTorch backend."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1)

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        loss.backward()
        weights = self.trainable_weights
        self.optimizer.apply([w.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class OwnTrackers(cr.Model):
    """The guide's 'lower-level' example: no compiled loss, Metric attributes, `metrics`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1)
        self.loss_tracker = cr.metrics.Mean(name="loss")
        self.mae_metric = cr.metrics.MeanAbsoluteError(name="mae")

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = ops.mean(ops.square(y_pred - y))
        loss.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss.numpy())
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(ops.mean(ops.square(y_pred - y)).numpy())
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def make(cls, **compile_kwargs):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cls()
    model.compile(**compile_kwargs)
    return model


def test_torch_style_train_step_matches_the_builtin_step():
    custom = make(TorchStyle, optimizer=cr.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    h = custom.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    assert sorted(h) == ["loss", "mae"]

    class Builtin(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    builtin = make(Builtin, optimizer=cr.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    hb = builtin.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h["loss"], hb["loss"], rtol=1e-5)
    np.testing.assert_allclose(h["mae"], hb["mae"], rtol=1e-5)
    # a custom train_step runs on the tape: nothing captured for training
    assert [k for k in custom._steps.entries if k[0] == "train"] == []


def test_own_trackers_reset_each_epoch_and_evaluate_uses_test_step():
    model = make(OwnTrackers, optimizer=cr.optimizers.SGD(0.1))  # no loss: train_step has it
    h = model.fit(X, Y, epochs=2, batch_size=64, validation_data=(X, Y), verbose=0).history
    assert sorted(h) == ["loss", "mae", "val_loss", "val_mae"]
    # one batch per epoch: each epoch's value is that batch's alone (the trackers were reset)
    pred = model.predict(X, verbose=0)
    mse, mae = float(np.mean((pred - Y) ** 2)), float(np.mean(np.abs(pred - Y)))
    assert h["val_loss"][-1] == pytest.approx(mse, rel=1e-5)
    assert h["val_mae"][-1] == pytest.approx(mae, rel=1e-5)
    assert model.evaluate(X, Y, verbose=0, return_dict=True) == pytest.approx(
        {"loss": mse, "mae": mae}, rel=1e-5)
    assert h["loss"][0] > h["loss"][1]


def test_data_without_targets_is_x_itself():
    seen = []

    class AutoEncoder(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            seen.append(type(data))
            recon = self(data, training=True)
            loss = ops.mean(ops.square(recon - data))
            loss.backward()
            self.optimizer.apply([w.grad for w in self.trainable_weights],
                                 self.trainable_weights)
            return {"reconstruction_loss": loss}

    model = make(AutoEncoder, optimizer="adam")
    h = model.fit(X, epochs=2, batch_size=32, verbose=0).history
    assert set(seen) == {cr.Tensor}
    assert list(h) == ["reconstruction_loss"] and len(h["reconstruction_loss"]) == 2


def test_super_train_step_and_predict_step():
    class Scaled(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            return super().train_step((x * 2.0, y))

        def predict_step(self, data):
            return super().predict_step(data) + 100.0

    model = make(Scaled, optimizer="sgd", loss="mse")
    h = model.fit(X, Y, epochs=2, batch_size=16, verbose=0).history
    assert list(h) == ["loss"]
    plain = model(X).numpy()
    np.testing.assert_allclose(model.predict(X, verbose=0), plain + 100.0, rtol=1e-6)


def test_grads_do_not_accumulate_between_steps():
    grads = []

    class Recorder(TorchStyle):
        def train_step(self, data):
            out = TorchStyle.train_step(self, data)
            grads.append(self.dense.kernel.grad.copy())
            return out

    model = make(Recorder, optimizer=cr.optimizers.SGD(1e-12), loss="mse")
    model.fit(X[:16], Y[:16], epochs=2, batch_size=16, verbose=0)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)  # the same gradient, not twice it


def test_unsupported_uses_give_clear_errors():
    model = make(TorchStyle, optimizer="sgd", loss="mse", jit_compile=True)
    with pytest.raises(ValueError, match=r"cannot be captured for replay: it overrides "
                                         r"train_step.*Received: jit_compile=True"):
        model.fit(X, Y, epochs=1, verbose=0)

    class NoDict(TorchStyle):
        def train_step(self, data):
            TorchStyle.train_step(self, data)
            return 1.0

    model = make(NoDict, optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"train_step must return a dict .*Received: a value of "
                                        r"type float"):
        model.fit(X, Y, epochs=1, verbose=0)


def test_unpack_x_y_sample_weight():
    assert cr.utils.unpack_x_y_sample_weight((1, 2, 3)) == (1, 2, 3)
    assert cr.utils.unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert cr.utils.pack_x_y_sample_weight(1, 2) == (1, 2)
    with pytest.raises(ValueError, match=r"Received: a tuple of 4 items"):
        cr.utils.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_overridden_compute_loss_is_used_by_the_builtin_step():
    class Weighted(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            base = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            return base + 0.5 * ops.mean(ops.abs(y_pred - y))

    def run(jit):
        model = make(Weighted, optimizer=cr.optimizers.SGD(0.05), loss="mse", jit_compile=jit)
        h = model.fit(X, Y, epochs=2, batch_size=16, verbose=0).history
        return model, h

    fast, h_fast = run("auto")
    slow, h_slow = run(False)
    assert [k for k, e in fast._steps.entries.items() if e.program is not None]
    assert h_fast == h_slow
    pred = fast.predict(X, verbose=0)
    expected = float(np.mean((pred - Y) ** 2) + 0.5 * np.mean(np.abs(pred - Y)))
    assert fast.evaluate(X, Y, batch_size=64, verbose=0) == pytest.approx(expected, rel=1e-5)

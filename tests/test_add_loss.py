"""Layer.add_loss, layer/model losses and Metric attributes tracked by layers (Keras 3)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers, ops

RNG = np.random.default_rng(3)
X = RNG.normal(size=(48, 4)).astype("float32")
Y = (X[:, :1] + 0.5 * X[:, 1:2] > 0).astype("float32")


class ActivityPenalty(layers.Layer):
    """keras-io's ActivityRegularizationLayer: adds rate * sum(x²) with add_loss."""

    def __init__(self, rate: float = 1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(ops.square(inputs)))
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class Twice(layers.Layer):
    """Calls one sublayer twice: both of its losses count."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = ActivityPenalty(1.0)

    def call(self, x):
        return self.inner(self.inner(x))


def functional(rate=1e-2, loss="binary_crossentropy", jit="auto", seed=0):
    cr.utils.clear_session()
    cr.utils.set_random_seed(seed)
    inp = layers.Input((4,))
    h = layers.Dense(8, activation="tanh", kernel_regularizer="l2")(inp)
    h = ActivityPenalty(rate, name="penalty")(h)
    out = layers.Dense(1, activation="sigmoid")(h)
    model = cr.Model(inp, out)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], jit_compile=jit)
    return model


def programs(model, mode="train"):
    return [e.program for k, e in model._steps.entries.items() if k[0] == mode
            and e.program is not None]


def test_layer_losses_are_collected_per_outermost_call():
    layer = ActivityPenalty(0.5)
    x = np.ones((2, 3), dtype="float32")
    layer(x)
    assert len(layer.losses) == 1
    assert float(layer.losses[0].numpy()) == pytest.approx(0.5 * 6)
    layer(2 * x)  # a new outermost call starts afresh
    assert len(layer.losses) == 1
    assert float(layer.losses[0].numpy()) == pytest.approx(0.5 * 24)
    twice = Twice()
    twice(x)
    assert [float(v.numpy()) for v in twice.losses] == [6.0, 6.0]
    assert len(twice.inner.losses) == 2


def test_model_losses_list_added_activity_and_weight_penalties():
    cr.utils.clear_session()
    inp = layers.Input((4,))
    h = layers.Dense(3, kernel_regularizer=cr.regularizers.L2(0.1),
                     activity_regularizer=cr.regularizers.L1(0.01))(inp)
    out = ActivityPenalty(0.2)(h)
    model = cr.Model(inp, out)
    y = model(X[:5])
    kernel = model.layers[1].kernel.numpy()
    values = sorted(float(v.numpy()) for v in model.losses)
    # Keras 3 divides a layer's activity penalty by the batch size (5 here)
    expected = sorted([0.01 * np.abs(y.numpy()).sum() / 5, 0.2 * (y.numpy() ** 2).sum(),
                       0.1 * (kernel ** 2).sum()])
    np.testing.assert_allclose(values, expected, rtol=1e-5)
    model.layers[1].trainable = False  # Keras 3 counts the penalties of trainable weights only
    model(X[:5])
    assert len(model.losses) == 2


def test_added_loss_is_summed_into_the_training_and_evaluation_loss():
    model = functional(rate=0.05)
    model.fit(X, Y, epochs=1, batch_size=48, verbose=0)
    compiled = cr.losses.binary_crossentropy(Y, model.predict(X, verbose=0))
    compiled = float(np.mean(compiled.numpy()))
    hidden = model.layers[1]
    h = np.tanh(X @ hidden.kernel.numpy() + hidden.bias.numpy())
    penalty = 0.05 * float((h.astype(np.float64) ** 2).sum())
    l2 = 0.01 * float((hidden.kernel.numpy().astype(np.float64) ** 2).sum())
    loss = model.evaluate(X, Y, batch_size=48, verbose=0)[0]
    assert loss == pytest.approx(compiled + penalty + l2, rel=1e-5)


def test_captured_step_recomputes_the_added_loss_bit_identically():
    fast = functional(jit="auto")
    h_fast = fast.fit(X, Y, epochs=3, batch_size=16, verbose=0).history
    assert programs(fast), "a model with add_loss computed by ops should be captured"
    slow = functional(jit=False)
    h_slow = slow.fit(X, Y, epochs=3, batch_size=16, verbose=0).history
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h_fast == h_slow
    # and the penalty matters: without it the weights differ
    plain = functional(rate=0.0, jit=False)
    plain.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    assert not np.array_equal(plain.get_weights()[0], slow.get_weights()[0])


def test_compile_without_loss_when_layers_add_it():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)

    class Endpoint(layers.Layer):
        """keras-io's LogisticEndpoint: the loss is computed inside the model."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.loss_fn = cr.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits):
            self.add_loss(self.loss_fn(targets, logits))
            return ops.sigmoid(logits)

    class Model(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.end = Endpoint()

        def call(self, data):
            x, t = data
            return self.end(t, self.dense(x))

    model = Model()
    model.compile(optimizer=cr.optimizers.SGD(0.5))  # no loss argument, as in the Keras guide
    first = model.fit([X, Y], epochs=1, batch_size=48, verbose=0).history["loss"][0]
    last = model.fit([X, Y], epochs=20, batch_size=48, verbose=0).history["loss"][-1]
    assert last < first
    # evaluate without targets: the loss is the one the layer adds
    logits = model.dense(X).numpy()
    expected = float(np.mean(np.maximum(logits, 0) - logits * Y + np.log1p(np.exp(-np.abs(
        logits)))))
    assert model.evaluate([X, Y], batch_size=48, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_no_loss_at_all_is_an_error():
    class Plain(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    model = Plain()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"No loss to compute for model .*compile\(\) was given "
                                         r"no loss .*Received: loss=None"):
        model.fit(X, epochs=1, verbose=0)
    builtin = cr.Sequential([layers.Dense(1, input_dim=4)])
    with pytest.raises(ValueError, match=r"compile\(\) needs a loss"):
        builtin.compile(optimizer="sgd")


def test_add_loss_rejects_what_is_not_a_tensor():
    class Bad(layers.Layer):
        def call(self, x):
            self.add_loss("penalty")
            return x

    with pytest.raises(ValueError, match=r"add_loss\(\) of layer 'bad' takes a tensor.*"
                                         r"Received: loss of type str"):
        Bad(name="bad")(X)
    layer = layers.Layer()
    layer.add_loss(0.25)  # numbers are accepted, as constants
    assert float(layer.losses[0].numpy()) == 0.25


def test_symbolic_calls_leave_no_losses():
    cr.utils.clear_session()
    inp = layers.Input((4,))
    penalty = ActivityPenalty()
    model = cr.Model(inp, penalty(inp))
    assert model.losses == []
    model(X[:2])
    assert len(model.losses) == 1


def test_metric_attributes_are_tracked_and_logged():
    class MeanActivation(layers.Layer):
        """A layer that tracks a Metric (Keras 3's replacement for add_metric)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.activation_mean = cr.metrics.Mean(name="activation_mean")

        def call(self, x):
            self.activation_mean.update_state(x)
            return x

    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    inp = layers.Input((4,))
    tracked = MeanActivation()
    out = layers.Dense(1, activation="sigmoid")(tracked(inp))
    model = cr.Model(inp, out)
    model.compile("sgd", "binary_crossentropy")
    assert tracked.activation_mean in model.metrics
    assert tracked.metrics == [tracked.activation_mean]
    history = model.fit(X, Y, epochs=2, batch_size=48, verbose=0).history
    assert history["activation_mean"] == pytest.approx([float(X.mean())] * 2, rel=1e-5)
    # the model reads tensor values in call: it trains on the tape, not captured
    assert programs(model) == []


def test_keras_guide_vae_adds_its_kl_loss_in_a_subclassed_model():
    """The 'Making new layers and models via subclassing' guide's end-to-end example
    (its Sampling layer's random draw replaced by the mean, to keep the test deterministic)."""

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=2, intermediate_dim=8, **kwargs):
            super().__init__(**kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_mean(x), self.dense_log_var(x)

    class VariationalAutoEncoder(cr.Model):
        def __init__(self, original_dim, **kwargs):
            super().__init__(**kwargs)
            self.encoder = Encoder()
            self.decoder = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            z_mean, z_log_var = self.encoder(inputs)
            reconstructed = self.decoder(z_mean)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    x = (RNG.random((64, 6)) > 0.5).astype("float32")

    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(1)
        vae = VariationalAutoEncoder(6)
        vae.compile(cr.optimizers.Adam(1e-2), loss=cr.losses.MeanSquaredError(),
                    jit_compile=jit)
        history = vae.fit(x, x, epochs=3, batch_size=16, verbose=0).history
        return vae, history

    fast, h_fast = run("auto")
    slow, h_slow = run(False)
    assert programs(fast)
    assert h_fast == h_slow
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(fast.losses) == 1 and "loss" in fast.metrics_names


def test_symbolic_calls_of_nested_layers_leave_no_losses():
    cr.utils.clear_session()
    inp = layers.Input((4,))
    twice = Twice()
    model = cr.Model(inp, twice(inp))
    assert model.losses == [] and twice.inner.losses == []
    assert twice.compute_output_shape((None, 4)) == (None, 4)
    assert twice.inner.losses == []


class LogisticEndpoint(layers.Layer):
    """The 'Training & evaluation with built-in methods' guide's endpoint layer."""

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.loss_fn = cr.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)
        return ops.softmax(logits)


def test_keras_guide_logistic_endpoint_with_two_tensor_arguments(tmp_path):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    inputs = layers.Input(shape=(3,), name="inputs")
    targets = layers.Input(shape=(10,), name="targets")
    logits = layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = cr.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((3, 3)), "targets": rng.random((3, 10))}
    history = model.fit(data, verbose=0, epochs=3)
    assert len(history.history["loss"]) == 3
    assert programs(model), "the endpoint's loss is computed by ops: captured"
    # the loss is the endpoint's binary cross-entropy on the logits
    dense = model.layers[1] if model.layers[1].name != "targets" else model.layers[2]
    z = data["inputs"] @ dense.kernel.numpy() + dense.bias.numpy()
    t = data["targets"]
    expected = float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))
    assert model.evaluate(data, verbose=0) == pytest.approx(expected, rel=1e-5)
    # the graph, with its two-argument call, saves, loads and clones
    path = tmp_path / "endpoint.keras"
    model.save(path)
    loaded = cr.models.load_model(path, custom_objects={"LogisticEndpoint": LogisticEndpoint})
    x = [data["inputs"], data["targets"]]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(data, verbose=0) == pytest.approx(expected, rel=1e-5)
    clone = cr.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))

"""``training=...`` written into a functional graph wins over the model's own mode (Keras):
``base_model(x, training=False)`` keeps a nested model's BatchNormalization in inference mode
while the outer model trains (the transfer-learning recipe)."""

import numpy as np

import chainrule as cr

L = cr.layers


def model_with_base_in_inference_mode():
    base_in = cr.Input((4,))
    base_out = L.BatchNormalization(name="bn")(L.Dense(6, name="d")(base_in))
    base = cr.Model(base_in, base_out, name="base")
    inputs = cr.Input((4,))
    x = base(inputs, training=False)
    outputs = L.Dense(1)(x)
    model = cr.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model, base


def test_nested_base_called_with_training_false_keeps_its_moving_statistics():
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.random((64, 4))).astype("float32")  # far from the moments (0, 1)
    y = rng.random((64, 1)).astype("float32")
    model, base = model_with_base_in_inference_mode()
    bn = base.get_layer("bn")
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(6, "float32"))
    np.testing.assert_array_equal(bn.moving_variance.numpy(), np.ones(6, "float32"))
    assert all(np.isfinite(history.history["loss"]))
    # the base is trainable: its Dense kernel and BatchNormalization gamma did train
    assert not np.allclose(bn.gamma.numpy(), 1.0)
    # inference-mode BatchNormalization: outputs use the moving moments, not the batch's
    kernel, bias = base.get_layer("d").get_weights()
    h = x @ kernel + bias
    expected_base = bn.gamma.numpy() * h / np.sqrt(1.0 + bn.epsilon) + bn.beta.numpy()
    np.testing.assert_allclose(np.asarray(base(x)), expected_base, rtol=1e-5, atol=1e-5)


def test_without_an_explicit_training_argument_the_base_follows_the_model():
    rng = np.random.default_rng(1)
    x = (3.0 + rng.random((32, 4))).astype("float32")
    base_in = cr.Input((4,))
    base = cr.Model(base_in, L.BatchNormalization(name="bn")(base_in))
    inputs = cr.Input((4,))
    model = cr.Model(inputs, L.Dense(1)(base(inputs)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((32, 1), "float32"), batch_size=8, epochs=1, verbose=0)
    assert np.all(base.get_layer("bn").moving_mean.numpy() > 0.1)  # trained in training mode


def test_explicit_training_true_in_the_graph_keeps_dropout_on_in_predict():
    inputs = cr.Input((200,))
    model = cr.Model(inputs, L.Dropout(0.5)(inputs, training=True))
    out = model.predict(np.ones((4, 200), "float32"), verbose=0)
    assert (out == 0).mean() > 0.2  # Keras: an explicit training=True is always on

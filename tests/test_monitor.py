"""GradientMonitor: what it records, when, and the vanishing gradient it makes visible."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import Callback
from chainrule.datasets import make_moons
from chainrule.explain import GradientMonitor


def deep_model(activation, initializer, depth=10, width=16):
    layers = [cr.layers.Dense(width, activation=activation, kernel_initializer=initializer,
                              input_dim=2)]
    for _ in range(depth - 2):
        layers.append(cr.layers.Dense(width, activation=activation, kernel_initializer=initializer))
    layers.append(cr.layers.Dense(1, activation="sigmoid"))
    model = cr.models.Sequential(layers)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


@pytest.fixture(scope="module")
def moons():
    return make_moons(256, noise=0.1, seed=0)


def test_is_a_callback():
    assert issubclass(GradientMonitor, Callback)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_sigmoid_network_loses_gradient_and_relu_does_not(moons, seed):
    x, y = moons
    ratios = {}
    for activation, init in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        cr.utils.set_random_seed(seed)
        model = deep_model(activation, init)
        monitor = GradientMonitor()
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[monitor])
        g = monitor.grad_norms()
        assert g.shape == (2, 10) and np.all(np.isfinite(g)) and np.all(g > 0)
        ratios[activation] = g[-1, 0] / g[-1, -1]
    # ten sigmoid layers: every one multiplies the gradient by at most 0.25 on the way back
    assert ratios["sigmoid"] < 1e-3
    # ReLU with He initialization keeps the gradient's size through the layers
    assert ratios["relu"] > 5e-2
    assert ratios["relu"] / ratios["sigmoid"] > 1e2


def test_default_records_once_per_epoch_at_the_last_batch(moons):
    x, y = moons
    cr.utils.set_random_seed(0)
    model = deep_model("tanh", "glorot_uniform", depth=3, width=4)
    monitor = GradientMonitor()
    model.fit(x, y, epochs=3, batch_size=100, verbose=0, callbacks=[monitor])  # 3 batches/epoch
    h = monitor.history
    assert h["step"] == [2, 5, 8] and h["epoch"] == [0, 1, 2]
    assert monitor.layer_names == [la.name for la in model.layers]
    assert monitor.weight_names == [v.path for v in model.trainable_weights]
    for key in ("grad_norm", "weight_mean", "weight_std", "weight_norm"):
        assert set(h[key]) == set(monitor.weight_names)
        assert all(len(v) == 3 for v in h[key].values())
    assert monitor.grad_norms("kernel").shape == (3, 3)
    assert monitor.grad_norms("bias").shape == (3, 3)
    assert monitor.weight_stats("weight_std").shape == (3, 3)
    all_norm = monitor.grad_norms("all")
    assert np.all(all_norm >= monitor.grad_norms("kernel") - 1e-12)
    assert "first/last layer gradient ratio" in monitor.summary()


def test_every_n_batches(moons):
    x, y = moons
    cr.utils.set_random_seed(0)
    model = deep_model("relu", "he_normal", depth=2, width=4)
    monitor = GradientMonitor(every=2)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[monitor])  # 4 batches/epoch
    assert monitor.history["step"] == [1, 3, 5, 7]
    assert monitor.history["epoch"] == [0, 0, 1, 1]


def test_recorded_norm_is_the_gradient_of_the_step(moons):
    x, y = moons
    x, y = x[:64], y[:64]
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(3, activation="sigmoid", input_dim=2),
                                  cr.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    # the gradient at the initial weights, computed by hand with the engine
    p = model(x.astype("float32"))
    t = cr.Tensor(y.reshape(-1, 1).astype("float32"))
    eps = 1e-7
    pc = cr.ops.clip(p, eps, 1 - eps)
    loss = -cr.ops.mean(t * cr.ops.log(pc) + (1 - t) * cr.ops.log(1 - pc))
    loss.backward()
    expected = [float(np.linalg.norm(v.grad)) for v in model.trainable_weights]
    for v in model.trainable_weights:
        v.grad = None
    monitor = GradientMonitor(every=1)
    model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0, callbacks=[monitor])
    got = [monitor.history["grad_norm"][name][0] for name in monitor.weight_names]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    # weight statistics are of the weights after the step
    kernel = model.layers[0].kernel.numpy()
    assert monitor.history["weight_norm"][monitor.weight_names[0]][0] == pytest.approx(
        float(np.linalg.norm(kernel)), rel=1e-6)


def test_activation_statistics(moons):
    x, y = moons
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(8, activation="relu", input_dim=2),
                                  cr.layers.Dense(8, activation="tanh"),
                                  cr.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    monitor = GradientMonitor(activation_data=x, max_samples=50)
    assert monitor.activation_data.shape == (50, 2)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[monitor])
    zeros = monitor.activation_stats("activation_zero_fraction")
    assert zeros.shape == (2, 3)
    assert 0.0 < zeros[-1, 0] < 1.0  # ReLU outputs exact zeros for negative inputs
    assert zeros[-1, 1] == 0.0
    sat = monitor.activation_stats("activation_saturated_fraction")
    assert sat[-1, 0] == 0.0 and 0.0 <= sat[-1, 1] <= 1.0
    # the mean is that of the layer's output on the sample
    with cr.no_grad():
        h = model.layers[0](cr.Tensor(x[:50]))
    assert monitor.activation_stats("activation_mean")[-1, 0] == pytest.approx(
        float(np.mean(h.numpy())), rel=1e-6)
    assert monitor.history["activation_epoch"] == [0, 1]


def test_errors():
    with pytest.raises(ValueError, match=r"Received: every=0"):
        GradientMonitor(every=0)
    with pytest.raises(ValueError, match=r"Received: max_samples=0"):
        GradientMonitor(max_samples=0)
    with pytest.raises(ValueError, match=r"Received: activation_data of shape \(3,\)"):
        GradientMonitor(activation_data=np.zeros(3))
    monitor = GradientMonitor()
    with pytest.raises(ValueError, match="Received: activation_data=None"):
        monitor.activation_stats()
    with pytest.raises(ValueError, match="Received: weight='gamma'"):
        monitor.grad_norms("gamma")
    assert "nothing recorded yet" in monitor.summary()


def test_exported_from_callbacks():
    import chainrule.callbacks

    assert chainrule.callbacks.GradientMonitor is GradientMonitor

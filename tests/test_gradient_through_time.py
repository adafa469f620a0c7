"""The gradient reaching each time step: explain.gradient_through_time, GradientMonitor(over='time')
and plot.gradient_flow(over='time')."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L
from chainrule.explain import GradientMonitor, gradient_through_time


@pytest.fixture
def float64():
    cr.config.set_floatx("float64")
    yield
    cr.config.set_floatx("float32")


def stacked(steps=5):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Input((steps, 2)), L.SimpleRNN(3, return_sequences=True),
                           L.LSTM(3), L.Dense(1)])
    model.compile("sgd", "mse")
    return model


def numeric_norms(f, x, eps=1e-6):
    """‖∂f/∂x_t‖ over the features, averaged over the batch, by central differences."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (f(up) - f(down)) / (2 * eps)
    return np.linalg.norm(grad, axis=2).mean(axis=0)


def test_matches_finite_differences_for_every_recurrent_layer(float64):
    model = stacked()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 2))
    y = rng.standard_normal((3, 1))
    got = gradient_through_time(model, x, y)
    assert list(got) == ["simple_rnn", "lstm"]
    mse = cr.losses.MeanSquaredError()
    rnn, lstm, dense = model.layers

    def from_input(a):
        return float(mse(y, model(a)).data)

    def from_hidden(h):  # the loss as a function of the LSTM's input sequence
        return float(mse(y, dense(lstm(h))).data)

    np.testing.assert_allclose(got["simple_rnn"], numeric_norms(from_input, x), rtol=1e-6,
                               atol=1e-12)
    h = rnn(x).data.copy()
    np.testing.assert_allclose(got["lstm"], numeric_norms(from_hidden, h), rtol=1e-6,
                               atol=1e-12)


def test_masked_steps_get_no_gradient_and_weights_keep_their_grad():
    cr.utils.clear_session()
    cr.utils.set_random_seed(1)
    model = cr.Sequential([L.Embedding(5, 3, mask_zero=True), L.GRU(4), L.Dense(1)])
    model.compile("adam", "mse")
    ids = np.array([[1, 2, 3, 0, 0], [4, 1, 0, 0, 0]])
    y = np.ones((2, 1), "float32")
    model.fit(ids, y, epochs=1, verbose=0)
    before = [None if w.grad is None else np.array(w.grad) for w in model.trainable_weights]
    g = gradient_through_time(model, ids, y)["gru"]
    assert g.shape == (5,)
    assert np.all(g[:2] > 0) and np.all(g[3:] == 0)
    for w, b in zip(model.trainable_weights, before):
        if b is None:
            assert w.grad is None
        else:
            np.testing.assert_array_equal(w.grad, b)


def test_errors():
    model = cr.Sequential([L.Input((3,)), L.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="recurrent layer.*Received"):
        gradient_through_time(model, np.ones((1, 3)), np.ones((1, 1)))
    rnn = cr.Sequential([L.Input((4, 1)), L.SimpleRNN(2)])
    with pytest.raises(ValueError, match="needs a loss.*Received: loss=None"):
        gradient_through_time(rnn, np.ones((1, 4, 1)), np.ones((1, 2)))
    assert gradient_through_time(rnn, np.ones((1, 4, 1)), np.ones((1, 2)), loss="mse")[
        "simple_rnn"].shape == (4,)


def test_monitor_over_time_records_what_explain_measures():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (32, 10, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")[:, None]
    model = cr.Sequential([L.Input((10, 1)), L.LSTM(4), L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    monitor = GradientMonitor(over="time", time_data=(x[:16], y[:16]))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[monitor])
    norms = monitor.time_grad_norms()
    assert norms.shape == (3, 10) and monitor.time_layers == ["lstm"]
    np.testing.assert_allclose(norms[-1], gradient_through_time(model, x[:16], y[:16])["lstm"],
                               rtol=1e-6)
    assert monitor.grad_norms().shape == (3, 2)  # the per-layer record goes on as before
    assert "through time, lstm" in monitor.summary()


def test_monitor_over_time_errors():
    with pytest.raises(ValueError, match="over must be.*Received: over='steps'"):
        GradientMonitor(over="steps")
    with pytest.raises(ValueError, match="time_data=\\(x, y\\).*Received"):
        GradientMonitor(over="time")
    with pytest.raises(ValueError, match="over='time' only"):
        GradientMonitor(time_data=(np.ones((2, 3, 1)), np.ones(2)))
    with pytest.raises(ValueError, match="one target per sample"):
        GradientMonitor(over="time", time_data=(np.ones((2, 3, 1)), np.ones(3)))
    with pytest.raises(ValueError, match="over='time'.*Received: over='layers'"):
        GradientMonitor().time_grad_norms()
    model = cr.Sequential([L.Input((3,)), L.Dense(1)])
    model.compile("sgd", "mse")
    monitor = GradientMonitor(over="time", time_data=(np.ones((2, 3)), np.ones((2, 1))))
    with pytest.raises(ValueError, match="recurrent layer"):
        model.fit(np.ones((2, 3)), np.ones((2, 1)), verbose=0, callbacks=[monitor])


def test_plot_gradient_flow_over_time(tmp_path):
    pytest.importorskip("matplotlib")
    from chainrule import plot

    x = np.random.default_rng(3).uniform(-1, 1, (16, 8, 1)).astype("float32")
    y = np.zeros((16, 1), "float32")
    results, monitors = {}, {}
    for kind in ("SimpleRNN", "LSTM"):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([L.Input((8, 1)), getattr(L, kind)(3), L.Dense(1)])
        model.compile("sgd", "mse")
        monitors[kind] = GradientMonitor(every=1, over="time", time_data=(x, y))
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[monitors[kind]])
        results[kind] = gradient_through_time(model, x, y)
    fig = plot.gradient_flow(results, over="time", path=tmp_path / "time.png")
    assert (tmp_path / "time.png").stat().st_size > 0
    assert [ax.get_title() for ax in fig.axes] == ["Gradient reaching each time step"]
    curve = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(curve, results["SimpleRNN"]["simple_rnn"])
    fig = plot.gradient_flow(monitors, over="time")
    assert [ax.get_title() for ax in fig.axes] == ["Gradient reaching each time step",
                                                   "First and last step during training"]
    assert len(fig.axes[1].lines) == 4  # t = 0 and the last step, per run
    fig = plot.gradient_flow(monitors["LSTM"], over="time")
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(TypeError, match="over='time'"):
        plot.gradient_flow(GradientMonitor(), over="time")
    with pytest.raises(ValueError, match="over must be"):
        plot.gradient_flow(monitors, over="steps")
    with pytest.raises(ValueError, match="recorded nothing"):
        plot.gradient_flow(GradientMonitor(over="time", time_data=(x, y)), over="time")


def test_each_direction_of_a_bidirectional_layer_gets_its_own_gradient(float64):
    cr.utils.clear_session()
    cr.utils.set_random_seed(2)
    bi = L.Bidirectional(L.SimpleRNN(2))
    model = cr.Sequential([L.Input((4, 2)), bi, L.Dense(1)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 1))
    got = gradient_through_time(model, x, y)
    fwd, bwd = bi.forward_layer, bi.backward_layer
    assert list(got) == [fwd.name, bwd.name]
    mse, dense = cr.losses.MeanSquaredError(), model.layers[-1]

    def through(fwd_in, bwd_in):
        return float(mse(y, dense(cr.ops.concatenate([fwd(fwd_in), bwd(bwd_in)], -1))).data)

    assert through(x, x) == pytest.approx(float(mse(y, model(x)).data), rel=1e-12)
    np.testing.assert_allclose(got[fwd.name], numeric_norms(lambda a: through(a, x), x),
                               rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(got[bwd.name], numeric_norms(lambda a: through(x, a), x),
                               rtol=1e-6, atol=1e-12)


def test_a_decoder_with_initial_states_keeps_its_mask():
    cr.utils.clear_session()
    cr.utils.set_random_seed(3)
    enc_in, dec_in = L.Input((4,), dtype="int32"), L.Input((5,), dtype="int32")
    _, h, c = L.LSTM(3, return_state=True, name="enc")(L.Embedding(6, 2)(enc_in))
    dec = L.LSTM(3, name="dec")(L.Embedding(6, 2, mask_zero=True)(dec_in), initial_state=[h, c])
    model = cr.Model([enc_in, dec_in], L.Dense(1)(dec))
    model.compile("sgd", "mse")
    ids = np.array([[1, 2, 3, 4], [2, 3, 4, 5]])
    dec_ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 0, 0]])
    g = gradient_through_time(model, [ids, dec_ids], np.ones((2, 1)))
    assert list(g) == ["enc", "dec"]
    assert np.all(g["dec"][:2] > 0) and np.all(g["dec"][3:] == 0) and np.all(g["enc"] > 0)

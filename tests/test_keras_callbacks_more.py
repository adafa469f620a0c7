"""SwapEMAWeights and RemoteMonitor (Keras 3 callbacks); no network: the sender is faked."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import remote_monitor

X = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
Y = X @ np.array([[1.0], [-2.0]], "float32")


def _model(use_ema=True):
    model = cr.Sequential([cr.Input((2,)), cr.layers.Dense(1)])
    model.compile(optimizer=cr.optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=0.9),
                  loss="mse")
    return model


def test_swap_ema_weights_evaluates_with_the_averages():
    model = _model()
    at_test = []
    spy = cr.callbacks.LambdaCallback(
        on_test_begin=lambda logs: at_test.append(
            (model.get_weights()[0].copy(), model.optimizer._averages[0].copy())))
    history = model.fit(X, Y, batch_size=4, epochs=2, verbose=0, validation_data=(X, Y),
                        callbacks=[cr.callbacks.SwapEMAWeights(), spy])
    avg = model.optimizer._averages[0]
    # during validation the model held the averages (and the averages the trained weights)
    (w_test, a_test) = at_test[-1]
    np.testing.assert_array_equal(w_test, avg)
    np.testing.assert_array_equal(a_test, model.get_weights()[0])
    assert not np.array_equal(model.get_weights()[0], avg)  # restored after validation
    # the validation loss is the averaged model's loss
    trained = [w.copy() for w in model.get_weights()]
    model.set_weights([model.optimizer._averages[0], model.optimizer._averages[1]])
    ema_loss = model.evaluate(X, Y, verbose=0)
    model.set_weights(trained)
    assert history.history["val_loss"][-1] == pytest.approx(ema_loss, rel=1e-5)
    # evaluate and predict alone swap and swap back
    before = [w.copy() for w in model.get_weights()]
    swap = cr.callbacks.SwapEMAWeights()
    out = model.predict(X, verbose=0, callbacks=[swap])
    model.set_weights([model.optimizer._averages[0], model.optimizer._averages[1]])
    np.testing.assert_allclose(out, model.predict(X, verbose=0), rtol=1e-6)
    model.set_weights(before)
    model.evaluate(X, Y, verbose=0, callbacks=[swap])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_swap_on_epoch_keeps_the_averages_after_training():
    model = _model()
    seen = []
    spy = cr.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()[0].copy()))
    model.fit(X, Y, batch_size=4, epochs=3, verbose=0,
              callbacks=[cr.callbacks.SwapEMAWeights(swap_on_epoch=True), spy])
    np.testing.assert_array_equal(model.get_weights()[0], model.optimizer._averages[0])
    np.testing.assert_array_equal(seen[-1], model.get_weights()[0])


def test_swap_ema_weights_needs_use_ema():
    with pytest.raises(ValueError, match=r"use_ema=True.*Received: use_ema=False"):
        _model(use_ema=False).fit(X, Y, verbose=0, validation_data=(X, Y),
                                  callbacks=[cr.callbacks.SwapEMAWeights()])


def test_remote_monitor_posts_a_form(monkeypatch):
    sent = []
    monkeypatch.setattr(remote_monitor, "_post",
                        lambda url, body, headers, timeout: sent.append((url, body, headers)))
    model = _model(use_ema=False)
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[
        cr.callbacks.RemoteMonitor(root="http://monitor.example", headers={"X-Key": "k"})])
    assert len(sent) == 2
    url, body, headers = sent[1]
    assert url == "http://monitor.example/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Key"] == "k"
    data = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert data["epoch"] == 1 and isinstance(data["loss"], float)


def test_remote_monitor_posts_json_and_warns_when_unreachable(monkeypatch):
    sent = []
    monkeypatch.setattr(remote_monitor, "_post",
                        lambda url, body, headers, timeout: sent.append((body, headers)))
    cb = cr.callbacks.RemoteMonitor(send_as_json=True, path="/e")
    cb.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(0.25)})
    body, headers = sent[0]
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"epoch": 3, "loss": 0.5, "acc": 0.25}

    def refuse(*args):
        raise urllib.error.URLError("refused")

    monkeypatch.setattr(remote_monitor, "_post", refuse)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server at "
                                         "http://localhost:9000"):
        cr.callbacks.RemoteMonitor().on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match=r"Received: root='ftp://x'"):
        cr.callbacks.RemoteMonitor(root="ftp://x")

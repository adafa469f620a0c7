"""Sequence models against Keras 3's recorded numbers (tools/keras_fixtures_rnn.py).

Each model is built from the same spec of Keras layer names with chainrule's
layers, starts from Keras's initial weights, and must give Keras's ``predict``
and, after two epochs of Adam with ``shuffle=False``, Keras's loss history and
weights. Then the same training replayed by the captured step must equal the
tape bit for bit.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import chainrule as cr

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "fixtures", "rnn_keras.npz")
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_rnn", os.path.join(HERE, "..", "tools", "keras_fixtures_rnn.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

DATA = np.load(FIXTURE)


def _model(name):
    cr.utils.set_random_seed(0)
    model = tool.build(cr, name)
    n = len([k for k in DATA.files if k.startswith(f"{name}/w0_")])
    model.set_weights([DATA[f"{name}/w0_{j}"] for j in range(n)])
    return model, n


def test_fixture_records_versions():
    versions = json.loads(str(DATA["versions"]))
    assert versions["keras"].startswith("3.")


@pytest.mark.parametrize("name", list(tool.MODELS))
def test_predict_and_two_epochs_of_adam_match_keras(name):
    model, n = _model(name)
    x, y = DATA[f"{name}/x"], DATA[f"{name}/y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), DATA[f"{name}/pred0"],
                               rtol=1e-4, atol=1e-6)
    loss = tool.MODELS[name][3]
    model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.01), loss=loss)
    hist = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], DATA[f"{name}/loss"], rtol=1e-4)
    for j, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, DATA[f"{name}/w2_{j}"], rtol=1e-3, atol=1e-5,
                                   err_msg=f"{name} weight {j}")


@pytest.mark.parametrize("name", list(tool.MODELS))
def test_captured_replay_is_bit_identical_to_the_tape(name):
    x, y = DATA[f"{name}/x"], DATA[f"{name}/y"]
    loss = tool.MODELS[name][3]
    results = []
    for jit in (True, False):
        model, _ = _model(name)
        model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.01), loss=loss,
                      jit_compile=jit)
        hist = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        if jit:
            assert any(e.program is not None for e in model._steps.entries.values())
        results.append((hist.history["loss"], model.get_weights(), model.predict(x, verbose=0)))
    (l1, w1, p1), (l2, w2, p2) = results
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p1, p2)

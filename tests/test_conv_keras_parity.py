"""Convnets against Keras 3's recorded numbers (tools/keras_fixtures_conv.py).

The same models, built by Keras names, start from Keras's initial weights
(``set_weights``) and must give Keras's ``predict`` (relative 1e-4, float32) and,
after two epochs of Adam with ``shuffle=False``, Keras's weights and loss history.
"""

import json
import os

import numpy as np
import pytest

import chainrule as cr

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "conv_keras.npz")
DATA = np.load(FIXTURE, allow_pickle=False)
META = json.loads(DATA["meta"].tobytes().decode())


def x_of(name):
    return DATA[f"{name}/x"].astype(np.float32)  # stored as float16: the values are exact


def build(name):
    """The model by Keras names: a stack of ``(class, kwargs)`` or a graph of
    ``(name, class, kwargs, input names)`` (as tools/keras_fixtures_conv.py builds it)."""
    shape, layers, _, _ = META["models"][name]
    cr.utils.clear_session()
    if len(layers[0]) == 2:
        return cr.Sequential([cr.layers.Input(tuple(shape))] + [
            getattr(cr.layers, cls)(**kwargs) for cls, kwargs in layers])
    tensors = {"input": cr.layers.Input(tuple(shape))}
    for lname, cls, kwargs, inputs in layers:
        args = [tensors[i] for i in inputs]
        tensors[lname] = getattr(cr.layers, cls)(name=lname, **kwargs)(
            args[0] if len(args) == 1 else args)
    return cr.Model(tensors["input"], tensors[layers[-1][0]])


def weights(name, kind):
    n = sum(1 for k in DATA.files if k.startswith(f"{name}/{kind}_"))
    return [DATA[f"{name}/{kind}_{i}"] for i in range(n)]


def trained(name, jit):
    _, _, loss, lr = META["models"][name]
    model = build(name)
    model.set_weights(weights(name, "initial"))
    model.compile(optimizer=cr.optimizers.Adam(lr), loss=loss, jit_compile=jit)
    history = model.fit(x_of(name), DATA[f"{name}/y"], batch_size=META["batch_size"],
                        epochs=META["epochs"], shuffle=False, verbose=0)
    return model, history.history["loss"]


def test_fixture_records_its_versions():
    assert META["keras"].startswith("3.") and META["tensorflow"]
    assert set(META["models"]) >= {"cnn2d", "causal1d", "strides_same"}


@pytest.mark.parametrize("name", sorted(META["models"]))
def test_predict_matches_keras(name):
    model = build(name)
    model.set_weights(weights(name, "initial"))
    pred = model.predict(x_of(name), batch_size=META["batch_size"], verbose=0)
    np.testing.assert_allclose(pred, DATA[f"{name}/pred"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(META["models"]))
def test_two_epochs_of_adam_match_keras(name):
    model, loss = trained(name, True)
    np.testing.assert_allclose(loss, DATA[f"{name}/loss"], rtol=1e-5)
    for got, want in zip(model.get_weights(), weights(name, "trained")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(META["models"]))
def test_captured_training_is_bit_identical_to_the_tape(name):
    fast, fast_loss = trained(name, True)  # jit_compile=True: raises unless captured
    assert any(e.program is not None for k, e in fast._steps.entries.items() if k[0] == "train")
    slow, slow_loss = trained(name, False)
    assert fast_loss == slow_loss
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)

"""A Sequential model that starts with an Input has symbolic ``inputs``/``outputs`` and
layers whose ``output`` chains back to that Input (Keras's feature-extraction idiom)."""

import numpy as np
import pytest

import chainrule as cr

L = cr.layers


def test_feature_extractor_from_layer_outputs_matches_the_layers():
    seq = cr.Sequential([cr.Input((3,)), L.Dense(4, activation="relu", name="a"),
                         L.Dense(5, name="b"), L.Dense(2, name="c")])
    extractor = cr.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    x = np.random.default_rng(0).random((6, 3)).astype("float32")
    a, b, c = (np.asarray(t) for t in extractor(x))
    np.testing.assert_allclose(a, np.asarray(seq.get_layer("a")(x)), rtol=1e-6)
    np.testing.assert_allclose(b, np.asarray(seq.get_layer("b")(a)), rtol=1e-6)
    np.testing.assert_allclose(c, seq.predict(x, verbose=0), rtol=1e-6)
    # get_layer(...).output in the middle of the stack, as the Keras guide does
    middle = cr.Model(seq.inputs, seq.get_layer("b").output)
    np.testing.assert_allclose(np.asarray(middle(x)), b, rtol=1e-6)
    assert seq.inputs[0] is seq.inputs[0] and seq.outputs[0].shape == (None, 2)


def test_layers_added_one_by_one_chain_and_pop_keeps_the_chain():
    seq = cr.Sequential()
    seq.add(cr.Input((3,)))
    seq.add(L.Dense(4))
    seq.add(L.Dense(6))
    assert seq.layers[1].input is seq.layers[0].output  # not a detached placeholder
    seq.pop()
    seq.add(L.Dense(7))
    assert seq.outputs[0].shape == (None, 7)
    whole = cr.Model(seq.inputs, seq.outputs[0])
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(np.asarray(whole(x)), seq.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: cr.Sequential([L.Dense(2)]),  # no input shape at all
    lambda: cr.Sequential([cr.Input((3,))]),  # no layers
])
def test_no_symbolic_ends_without_an_input_and_layers(make):
    seq = make()
    for which in ("inputs", "outputs"):
        with pytest.raises(AttributeError, match=rf"has no defined {which} yet.*Received: "):
            getattr(seq, which)

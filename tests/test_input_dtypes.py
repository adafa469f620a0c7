"""Inputs reach the layers in their declared dtype: integer token ids stay exact."""

import numpy as np

import chainrule as cr
from chainrule import layers


def test_declared_integer_inputs_keep_large_token_ids_exact():
    # ids above 2**24 are not representable in float32: an Input declared int64 feeds them as
    # integers (as Keras converts inputs to their Input's dtype), so each id picks its own row
    cr.utils.set_random_seed(0)
    big = 2**25
    inp = cr.Input((2,), dtype="int64")
    emb = layers.Embedding(big + 4, 3)
    model = cr.Model(inp, layers.Flatten()(emb(inp)))
    model.compile("sgd", "mse")
    x = np.array([[big + 1, big + 3]] * 4)
    table = emb.get_weights()[0]
    want = np.concatenate([table[big + 1], table[big + 3]])
    for out in (model.predict(x, verbose=0), model(x).numpy()):
        np.testing.assert_array_equal(out[0], want)
    assert not np.array_equal(table[big + 1], table[big])  # the rows differ: the test can fail
    model.fit(x, np.zeros((4, 6), np.float32), epochs=1, verbose=0)  # trains on the same ids
    after = emb.get_weights()[0]
    changed = np.flatnonzero((after != table).any(axis=1))
    assert changed.tolist() == [big + 1, big + 3]


def test_undeclared_integer_inputs_are_fed_as_floatx():
    model = cr.models.Sequential([layers.Dense(1, input_shape=(2,))])
    assert model._step_factory().feeds([np.array([[1, 2]])])[0].dtype == np.float32


def test_the_step_factory_says_whether_an_input_is_declared_integer():
    ids = cr.Input((3,), dtype="int32")
    m = cr.Model(ids, layers.Embedding(10, 2)(ids))
    assert m._step_factory().declares_integers()
    assert m._step_factory().feeds([np.array([[1.0, 2.0, 3.0]])])[0].dtype == np.int32
    dense = cr.Sequential([cr.Input((3,)), layers.Dense(1)])
    assert not dense._step_factory().declares_integers()

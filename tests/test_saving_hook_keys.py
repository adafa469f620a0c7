"""The saving hooks find their layers in a model rebuilt with an InputLayer its original lacked.

A Sequential without an ``Input``, built by ``fit``, is rebuilt from its saved input shape with
an ``InputLayer`` in front; the hooks' stores (keyed by layer index and name) still reach their
layers, and a name shared by two hooked layers is not guessed.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import api
from chainrule.saving.errors import InvalidArchiveError


class Shifted(cr.layers.Dense):
    """A Dense adding a vector it saves through its own store (the Keras guide's layer)."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.shift = np.arange(units, dtype="float32")

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["shift"] = self.shift

    def load_own_variables(self, store):
        self.shift = np.array(store["shift"])
        for i, v in enumerate(self.weights):
            v.assign(store[str(i)])

    def call(self, x):
        return super().call(x) + self.shift


def test_sequential_built_by_fit_round_trips_its_own_variables(tmp_path):
    model = cr.Sequential([Shifted(2, name="shifted")])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    model.fit(x, np.zeros((8, 2)), verbose=0)
    model.layers[0].shift = np.array([5.0, -5.0], dtype="float32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = cr.models.load_model(path, custom_objects={"Shifted": Shifted})
    np.testing.assert_array_equal(restored.layers[0].shift, [5.0, -5.0])
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saved_keys_win_and_shared_names_are_not_guessed():
    model = cr.Sequential([cr.Input((3,)), Shifted(2, name="a"), Shifted(2, name="b")])
    lookup = api._HookedLookup(model, "save_own_variables")
    a, b = model.layers
    # the tree is [model, InputLayer, a, b]: saved keys, keys without the InputLayer, names
    assert lookup.get("2_a") is a and lookup.get("3_b") is b
    assert lookup.get("1_a") is a and lookup.get("2_b") is b
    assert lookup.get("9_b") is b
    assert lookup.get("b") is None and lookup.get("x_b") is None
    twins = cr.Sequential([cr.Input((3,)), cr.Sequential([Shifted(2, name="t")], name="s1"),
                           cr.Sequential([Shifted(2, name="t")], name="s2")])
    assert api._HookedLookup(twins, "save_own_variables").get("9_t") is None


def test_a_store_for_a_layer_that_is_not_there_is_still_refused(tmp_path):
    model = cr.Sequential([cr.Input((3,)), Shifted(2, name="shifted")])
    with pytest.raises(InvalidArchiveError, match=r"holds variables of a layer '1_gone' the "
                                                  r"rebuilt model does not have"):
        api._load_own_variables(model, {"1_gone/shift": np.zeros(2)}, "'m.keras'")

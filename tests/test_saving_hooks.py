"""save_model/load_model call Layer.save_own_variables/load_own_variables and
get_build_config/build_from_config (Keras 3's saving hooks)."""
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving.errors import InvalidArchiveError


class WithExtra(cr.layers.Dense):
    """Saves a value that is no weight of the layer through its own store."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.extra = np.zeros(3)
        self.seen_store = None

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["extra"] = self.extra

    def load_own_variables(self, store):
        self.seen_store = sorted(store)
        self.extra = np.array(store["extra"])
        for i, v in enumerate(self.weights):
            v.assign(store[str(i)])


class CustomBuild(cr.layers.Layer):
    """A layer whose build needs an argument beyond the input shape."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape, layer_init="zeros"):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
        self.layer_init = layer_init
        self._shape = input_shape
        self.built = True

    def call(self, x):
        return cr.ops.matmul(x, self.w)

    def get_config(self):
        return dict(units=self.units, **super().get_config())

    def get_build_config(self):
        return {"input_shape": self._shape, "layer_init": self.layer_init}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


CUSTOM = {"WithExtra": WithExtra, "CustomBuild": CustomBuild}


def test_default_hooks_round_trip_own_weights():
    layer = cr.layers.Dense(2)
    layer.build((None, 3))
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (3, 2)
    other = cr.layers.Dense(2)
    other.build_from_config(layer.get_build_config() or {"input_shape": [None, 3]})
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.kernel.numpy(), layer.kernel.numpy())
    with pytest.raises(ValueError, match="expected 2 variables.*Received"):
        other.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match="input_shape.*Received"):
        other.build_from_config({"shape": (3,)})


def test_overridden_save_own_variables_is_saved_and_loaded(tmp_path):
    model = cr.Sequential([cr.Input((3,)), WithExtra(2, name="we")])
    model.layers[0].extra = np.array([1.0, 2.0, 3.0])
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = cr.models.load_model(path, custom_objects=CUSTOM)
    layer = restored.layers[0]
    assert layer.seen_store == ["0", "1", "extra"]
    np.testing.assert_array_equal(layer.extra, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(layer.kernel.numpy(), model.layers[0].kernel.numpy())


def test_plain_models_write_no_extra_member(tmp_path):
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert "own_variables.npz" not in zipfile.ZipFile(path).namelist()


def test_build_from_config_is_used_on_load(tmp_path):
    layer = CustomBuild(4, name="cb")
    layer.build((8,), layer_init="ones")
    model = cr.Sequential([layer, cr.layers.Dense(1)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = cr.models.load_model(path, custom_objects=CUSTOM)
    got = restored.layers[0]
    assert got.built and got.layer_init == "ones"
    np.testing.assert_array_equal(got.w.numpy(), np.ones((8, 4)))


def test_variable_attribute_round_trips(tmp_path):
    class Shift(cr.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.shift = cr.Variable(np.full((units,), 7.0), name="shift", dtype="float32")

        def call(self, x):
            return super().call(x) + self.shift

    model = cr.Sequential([cr.Input((3,)), Shift(2, name="s")])
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = cr.models.load_model(path, custom_objects={"Shift": Shift})
    np.testing.assert_array_equal(restored.layers[0].shift.numpy(), [7.0, 7.0])
    x = np.random.rand(4, 3).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_build_configs_naming_unknown_layers_are_refused(tmp_path):
    layer = CustomBuild(4, name="cb")
    layer.build((8,))
    model = cr.Sequential([layer])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with pytest.raises(InvalidArchiveError, match="does not have"):
        cr.models.load_model(path, custom_objects={"CustomBuild": cr.layers.Dense})

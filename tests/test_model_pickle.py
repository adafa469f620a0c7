"""Models pickle and deep-copy as their ``.keras`` archive, as Keras 3's ``Model.__reduce__``."""

import copy
import pickle

import numpy as np

import chainrule as cr

L = cr.layers
RNG = np.random.default_rng(0)
X = RNG.random((32, 4)).astype("float32")
Y = RNG.integers(0, 3, size=32)


def trained_functional():
    inputs = cr.Input((4,))
    h = L.Dense(8, activation="relu", name="hidden")(inputs)
    h = L.BatchNormalization()(h)
    outputs = L.Dense(3, activation="softmax")(h)
    model = cr.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    return model


def test_pickled_model_predicts_and_trains_on_as_the_original():
    model = trained_functional()
    again = pickle.loads(pickle.dumps(model))
    assert again is not model and type(again) is type(model)
    assert [w.name for w in again.weights] == [w.name for w in model.weights]
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)  # non-trainable BatchNormalization moments too
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))
    # compile settings and the optimizer's state came along: training continues identically
    assert int(again.optimizer.iterations) == int(model.optimizer.iterations) == 8
    h1 = model.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    h2 = again.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    assert h1 == h2
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_deepcopy_is_independent_of_the_original():
    model = cr.Sequential([cr.Input((4,)), L.Dense(3)])
    twin = copy.deepcopy(model)
    before = model.get_weights()
    twin.set_weights([w + 1 for w in twin.get_weights()])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    # a model inside a container is copied too
    box = copy.deepcopy({"model": model})
    np.testing.assert_array_equal(box["model"].predict(X, verbose=0), model.predict(X, verbose=0))


@cr.saving.register_keras_serializable(package="PickleTest")
class Doubler(cr.Model):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = L.Dense(units)

    def call(self, inputs):
        return 2.0 * self.dense(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_registered_subclassed_model_pickles():
    model = Doubler(units=3)
    expected = model.predict(X, verbose=0)
    again = pickle.loads(pickle.dumps(model))
    assert isinstance(again, Doubler) and again.units == 3
    np.testing.assert_array_equal(again.predict(X, verbose=0), expected)


def test_unbuilt_model_pickles():
    model = cr.Sequential([L.Dense(2, name="d")])
    again = pickle.loads(pickle.dumps(model))
    assert not again.built and [layer.name for layer in again.layers] == ["d"]
    assert again.predict(X, verbose=0).shape == (32, 2)

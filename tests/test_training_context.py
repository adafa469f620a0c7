"""The training mode reaches layers called inside a custom layer, as Keras 3's call context."""

import numpy as np

import chainrule as cr
from chainrule import layers


class Probe(layers.Layer):
    """Records the ``training`` value each call receives."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def call(self, x, training=None):
        self.seen.append(training)
        return x


class Block(layers.Layer):
    """keras-io's custom blocks call their sublayers without passing ``training`` on."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.probe = Probe()
        self.drop = layers.Dropout(0.5, seed=1)
        self.dense = layers.Dense(3)

    def call(self, x):
        return self.dense(self.drop(self.probe(x)))


def model():
    cr.utils.set_random_seed(0)
    inp = cr.Input((20,))
    block = Block()
    return cr.Model(inp, block(inp)), block


X = np.ones((8, 20), np.float32)
Y = np.zeros((8, 3), np.float32)


def test_fit_trains_the_sublayers_of_a_layer_whose_call_has_no_training_argument():
    m, block = model()
    m.compile("sgd", "mse", jit_compile=False)  # every step runs the layers' Python
    block.probe.seen.clear()
    m.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    # the labels check runs one inference pass first; then each of the 2 steps trains
    assert block.probe.seen == [False, True, True]
    block.probe.seen.clear()
    m.predict(X, verbose=0)
    assert block.probe.seen and all(t is False for t in block.probe.seen)


def test_the_dropout_inside_is_active_in_training_only():
    m, block = model()
    h = lambda training: block.drop(X, training=training)  # noqa: E731
    assert (h(True).numpy() == 0).any() and not (h(False).numpy() == 0).any()
    # through the outer call: the mode given to the model reaches the Dropout inside
    trained = m(X, training=True).numpy()
    inferred = m(X, training=False).numpy()
    assert not np.allclose(trained, inferred)
    np.testing.assert_array_equal(inferred, m(X).numpy())  # no mode given: inference


def test_an_explicit_mode_inside_wins_over_the_callers():
    probe = Probe()

    class Frozen(layers.Layer):
        def call(self, x):
            return probe(x, training=False)  # e.g. a frozen base called with training=False

    inp = cr.Input((20,))
    m = cr.Model(inp, layers.Dense(2)(Frozen()(inp)))
    m.compile("sgd", "mse", jit_compile=False)
    probe.seen.clear()
    m.fit(X, np.zeros((8, 2), np.float32), batch_size=4, epochs=1, verbose=0)
    assert probe.seen and all(t is False for t in probe.seen)

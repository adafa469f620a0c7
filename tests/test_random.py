"""chainrule.random: Keras 3's seed rules, distributions, and fresh draws in a captured step."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule import random as crr
from chainrule.gradcheck import check_gradients
from chainrule.layers import Dense, Layer
from chainrule.models import Sequential

SAMPLERS = {
    "normal": lambda seed: crr.normal((4, 3), seed=seed),
    "uniform": lambda seed: crr.uniform((4, 3), seed=seed),
    "randint": lambda seed: crr.randint((4, 3), 0, 10, seed=seed),
    "truncated_normal": lambda seed: crr.truncated_normal((4, 3), seed=seed),
    "gamma": lambda seed: crr.gamma((4, 3), 2.0, seed=seed),
    "beta": lambda seed: crr.beta((4, 3), 2.0, 3.0, seed=seed),
    "binomial": lambda seed: crr.binomial((4, 3), 10, 0.3, seed=seed),
    "categorical": lambda seed: crr.categorical(cr.Tensor(np.zeros((2, 5))), 6, seed=seed),
    "dropout": lambda seed: crr.dropout(cr.Tensor(np.ones((4, 3))), 0.5, seed=seed),
    "shuffle": lambda seed: crr.shuffle(cr.Tensor(np.arange(12.0).reshape(6, 2)), seed=seed),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_seed_rules(name):
    draw = SAMPLERS[name]
    # an int seed: the same numbers at every call
    np.testing.assert_array_equal(draw(5).numpy(), draw(5).numpy())
    # a SeedGenerator: new numbers each call, the same sequence from the same seed
    g1, g2 = crr.SeedGenerator(3), crr.SeedGenerator(3)
    a = [draw(g1).numpy() for _ in range(3)]
    b = [draw(g2).numpy() for _ in range(3)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert any(not np.array_equal(a[0], x) for x in a[1:])
    # no seed: the global generator, reproducible after set_random_seed
    cr.utils.set_random_seed(11)
    first = [draw(None).numpy() for _ in range(2)]
    cr.utils.set_random_seed(11)
    again = [draw(None).numpy() for _ in range(2)]
    for u, v in zip(first, again):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(first[0], first[1]) or name == "categorical"


def test_numbers_follow_keras_numpy_backend_seeding():
    # Keras's NumPy backend draws with np.random.default_rng([seed, counter]) (uint32)
    want = np.random.default_rng(np.array([42, 0], np.uint32)).normal(size=(3,)).astype(np.float32)
    np.testing.assert_array_equal(crr.normal((3,), seed=42).numpy(), want)
    g = crr.SeedGenerator(42)
    crr.normal((3,), seed=g)
    want1 = np.random.default_rng(np.array([42, 1], np.uint32)).normal(size=(3,)).astype(np.float32)
    np.testing.assert_array_equal(crr.normal((3,), seed=g).numpy(), want1)
    np.testing.assert_array_equal(g.state.numpy(), [42, 2])


def test_distributions_have_the_right_moments_ranges_and_dtypes():
    n = 40000
    x = crr.normal((n,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert x.dtype == np.float32 and abs(x.mean() - 2) < 0.1 and abs(x.std() - 3) < 0.1
    u = crr.uniform((n,), -1.0, 3.0, dtype="float64", seed=1).numpy()
    assert u.dtype == np.float64 and u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    i = crr.randint((n,), -2, 3, seed=1).numpy()
    assert i.dtype == np.int32 and set(np.unique(i)) == {-2, -1, 0, 1, 2}
    t = crr.truncated_normal((n,), mean=1.0, stddev=0.5, seed=1).numpy()
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1) < 0.02
    gm = crr.gamma((n,), 3.0, seed=1).numpy()
    assert abs(gm.mean() - 3) < 0.1
    bt = crr.beta((n,), 2.0, 6.0, seed=1).numpy()
    assert abs(bt.mean() - 0.25) < 0.01
    bn = crr.binomial((n,), 10, 0.3, seed=1).numpy()
    assert abs(bn.mean() - 3) < 0.1
    c = crr.categorical(cr.Tensor(np.log([[0.2, 0.8], [0.9, 0.1]])), 20000, seed=1).numpy()
    assert c.shape == (2, 20000) and c.dtype == np.int32
    assert abs(c[0].mean() - 0.8) < 0.02 and abs(c[1].mean() - 0.1) < 0.02


def test_dropout_and_shuffle():
    y = crr.dropout(cr.Tensor(np.ones((100, 50), np.float32)), 0.3, seed=2).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.03
    y = crr.dropout(cr.Tensor(np.ones((4, 6))), 0.5, noise_shape=(None, 1), seed=2).numpy()
    assert all(len(set(row)) == 1 for row in y)  # one decision per row
    np.testing.assert_array_equal(crr.dropout(cr.Tensor(np.ones(3)), 1.0).numpy(), 0.0)
    np.testing.assert_array_equal(crr.dropout(np.ones(3), 0.0).numpy(), 1.0)
    x = np.arange(12.0).reshape(4, 3)
    s = crr.shuffle(cr.Tensor(x), axis=1, seed=4).numpy()
    assert sorted(map(tuple, s.T.tolist())) == sorted(map(tuple, x.T.tolist()))  # columns move
    # gradients follow the kept elements and the shuffled slices back
    assert check_gradients(lambda a: crr.dropout(a, 0.5, seed=9), np.ones((3, 4))).ok
    assert check_gradients(lambda a: crr.shuffle(a, seed=9), np.arange(8.0).reshape(4, 2)).ok


def test_seed_generator_config_and_errors():
    g = crr.SeedGenerator(7, name="noise_seed")
    assert g.get_config() == {"seed": 7, "name": "noise_seed"}
    h = crr.SeedGenerator.from_config(g.get_config())
    np.testing.assert_array_equal(crr.uniform((3,), seed=g).numpy(),
                                  crr.uniform((3,), seed=h).numpy())
    cr.utils.set_random_seed(0)
    a = crr.SeedGenerator()
    cr.utils.set_random_seed(0)
    b = crr.SeedGenerator()
    np.testing.assert_array_equal(a.state.numpy(), b.state.numpy())
    cases = [
        (lambda: crr.SeedGenerator("x"), r"seed` must be an integer\. Received: seed='x'"),
        (lambda: crr.normal((2,), seed=1.5), r"integer or an instance of `SeedGenerator`"),
        (lambda: crr.normal((2, -1)), r"normal: shape must be .* Received: shape=\(2, -1\)"),
        (lambda: crr.normal((2,), dtype="int32"), r"dtype must be a float type"),
        (lambda: crr.randint((2,), 3, 3), r"maxval must be greater than minval"),
        (lambda: crr.dropout(cr.Tensor([1.0]), 1.5), r"rate must be a number in \[0, 1\]"),
        (lambda: crr.categorical(cr.Tensor([1.0, 2.0]), 2), r"logits must have shape"),
        (lambda: crr.binomial((2,), 3, 1.5), r"probabilities must be in \[0, 1\]"),
        (lambda: crr.shuffle(cr.Tensor([1.0]), axis=2), r"shuffle: axis out of range"),
    ]
    for fn, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            fn()


# -- a layer that draws in call: captured, with fresh noise each step, as on the tape ----------


class GaussianNoiseLayer(Layer):
    """Adds ``random.normal`` noise in training (a user's layer, as Keras guides write it)."""

    def __init__(self, stddev, seed=None, kind="normal", **kwargs):
        super().__init__(**kwargs)
        self.stddev, self.kind = stddev, kind
        self.seed_generator = None if seed is None else crr.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        if self.kind == "dropout":
            return crr.dropout(x, 0.4 if self.stddev else 0.0, seed=self.seed_generator)
        noise = crr.normal(ops.shape(x), stddev=self.stddev, seed=self.seed_generator)
        return x + noise


def _noisy_model(jit, seed, kind="normal"):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input(shape=(4,)), Dense(6, activation="tanh"),
                        GaussianNoiseLayer(0.5, seed=seed, kind=kind), Dense(2)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
    return model


@pytest.mark.parametrize("seed,kind", [(None, "normal"), (123, "normal"), (None, "dropout"),
                                       (7, "dropout")])
def test_layer_drawing_in_call_replays_fresh_noise_like_the_tape(seed, kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 4)).astype(np.float32)
    y = rng.standard_normal((48, 2)).astype(np.float32)
    fast = _noisy_model("auto", seed, kind)
    hf = fast.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    programs = [e.program for k, e in fast._steps.entries.items()
                if k[0] == "train" and e.program is not None]
    assert programs, "the noisy layer should be captured"
    slow = _noisy_model(False, seed, kind)
    hs = slow.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hf.history == hs.history
    # the noise differs from step to step: without it, training differs
    quiet = _noisy_model(False, seed, kind)
    quiet.layers[1].stddev = 0.0
    quiet.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    assert not np.array_equal(quiet.get_weights()[0], fast.get_weights()[0])


def test_replayed_noise_is_new_at_every_step():
    calls, draws = [], []

    class Probe(Layer):
        def call(self, x, training=None):
            if not training:
                return x
            calls.append(1)
            return x + crr.normal(ops.shape(x), seed=gen)

    gen = crr.SeedGenerator(5)
    cr.utils.clear_session()
    model = Sequential([cr.Input(shape=(3,)), Probe(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.zeros((8, 3), np.float32)
    y = np.zeros((8, 1), np.float32)
    for _ in range(5):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        draws.append(int(gen.state.numpy()[1]))
    assert draws == [1, 2, 3, 4, 5]  # one draw per step, replayed steps included
    assert len(calls) == 2  # the layer's Python ran for the two traced steps only

"""Weight constraints: the maths against NumPy and Keras's documented numbers, the registry,
saving and loading layers that carry them, and training with them (captured step and tape)."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import constraints
from chainrule.layers import (
    LSTM,
    BatchNormalization,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Embedding,
    Flatten,
    SeparableConv2D,
)
from chainrule.models import Sequential

EPS = 1e-7


def example_array():
    rng = np.random.default_rng(3537)
    a = rng.random((20, 30)) * 100.0 - 50.0
    a[0, 0] = 0.0
    return a


def np_norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


# -- the maths ---------------------------------------------------------------------------------

def test_max_norm_matches_the_keras_test_numbers():
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]]).T
    target = np.array([[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0],
                       [2.0 / np.sqrt(3)] * 3]).T
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(x), target, rtol=1e-6)


def test_non_neg_matches_the_keras_docstring():
    np.testing.assert_array_equal(constraints.NonNeg()(np.array([-1.0, 1.0])), [0.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_max_norm_is_exactly_the_numpy_formula(axis):
    w = example_array()
    ax = tuple(axis) if isinstance(axis, list) else axis
    n = np_norms(w, ax)
    want = w * (np.clip(n, 0, 3.0) / (EPS + n))
    np.testing.assert_array_equal(constraints.MaxNorm(3.0, axis=axis)(w), want)
    assert np.all(np_norms(constraints.MaxNorm(3.0, axis=axis)(w), ax) <= 3.0 + 1e-9)


@pytest.mark.parametrize("axis", [0, 1])
def test_unit_norm_is_exactly_the_numpy_formula(axis):
    w = example_array()
    out = constraints.UnitNorm(axis=axis)(w)
    np.testing.assert_array_equal(out, w / (EPS + np_norms(w, axis)))
    np.testing.assert_allclose(np.sqrt(np.sum(out**2, axis=axis)), 1.0, rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, 0.3])
def test_min_max_norm_is_exactly_the_numpy_formula(rate):
    w = example_array() / 500.0  # norms on both sides of the bounds
    n = np_norms(w, 0)
    desired = rate * np.clip(n, 0.2, 0.5) + (1 - rate) * n
    out = constraints.MinMaxNorm(0.2, 0.5, rate=rate)(w)
    np.testing.assert_array_equal(out, w * (desired / (EPS + n)))
    if rate == 1.0:
        got = np.sqrt(np.sum(out**2, axis=0))
        assert np.all(got >= 0.2 - 1e-6) and np.all(got <= 0.5 + 1e-6)


def test_zero_column_stays_zero_thanks_to_epsilon():
    w = np.zeros((3, 2))
    for c in (constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(0.5, 1.0)):
        np.testing.assert_array_equal(c(w), w)


def test_dtype_and_kind_are_kept():
    w32 = np.ones((2, 2), dtype=np.float32) * 3
    assert constraints.MaxNorm(1.0)(w32).dtype == np.float32
    t = cr.Tensor(np.array([[3.0], [4.0]]))
    out = constraints.UnitNorm()(t)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.numpy(), [[0.6], [0.8]], rtol=1e-6)


def test_base_constraint_is_the_identity():
    x = np.array([1.0, 2.0, 3.0])
    assert constraints.Constraint()(x) is x
    assert constraints.Constraint().get_config() == {}
    assert isinstance(constraints.Constraint.from_config({}), constraints.Constraint)


def test_bad_axis_is_a_clear_error():
    with pytest.raises(ValueError, match=r"axis.*Received: axis='rows'"):
        constraints.MaxNorm(axis="rows")


# -- registry ----------------------------------------------------------------------------------

def test_aliases_and_names():
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    for name, cls in [("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
                      ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm),
                      ("min_max_norm", constraints.MinMaxNorm)]:
        assert type(constraints.get(name)) is cls
    assert constraints.get(None) is None
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg


def test_get_errors():
    with pytest.raises(ValueError, match="Did you mean 'max_norm'"):
        constraints.get("max_nrm")
    with pytest.raises(TypeError, match="Received: identifier=3"):
        constraints.get(3)


@pytest.mark.parametrize("c", [constraints.MaxNorm(3.0, axis=[0, 1, 2]), constraints.NonNeg(),
                               constraints.UnitNorm(axis=1),
                               constraints.MinMaxNorm(0.5, 2.0, 0.7, 1)])
def test_serialize_round_trip(c):
    config = constraints.serialize(c)
    assert config["class_name"] == type(c).__name__
    back = constraints.deserialize(config)
    assert type(back) is type(c) and back.get_config() == c.get_config()
    assert type(constraints.get(config)) is type(c)


def test_plain_function_cannot_be_serialized_unless_registered():
    def clip(w):
        return np.clip(w, -1, 1)

    with pytest.raises(TypeError, match="Received: constraint="):
        constraints.serialize(clip)


def test_a_config_never_names_arbitrary_code():
    with pytest.raises(ValueError, match="Unknown constraint"):
        constraints.deserialize({"class_name": "function", "config": "os.system"})
    with pytest.raises(ValueError, match="Unknown constraint class"):
        constraints.deserialize({"class_name": "Popen", "config": {}})


@cr.saving.register_keras_serializable(package="tests_constraints")
class Clip(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return np.clip(getattr(w, "data", w), -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


@cr.saving.register_keras_serializable(package="tests_constraints")
def halve(w):
    return getattr(w, "data", w) * 0.5


def test_registered_class_and_function_round_trip():
    back = constraints.deserialize(constraints.serialize(Clip(0.3)))
    assert type(back) is Clip and back.limit == 0.3
    config = constraints.serialize(halve)
    assert config["registered_name"] == "tests_constraints>halve"
    assert constraints.deserialize(config) is halve


# -- layers: config, save and load -------------------------------------------------------------

def roundtrip(model, tmp_path, x):
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    return loaded


CASES = {
    "dense": (lambda: Dense(3, kernel_constraint=constraints.MaxNorm(1.5),
                            bias_constraint="non_neg"), (4,),
              ["kernel_constraint", "bias_constraint"]),
    "conv2d": (lambda: Conv2D(2, 3, kernel_constraint=constraints.MaxNorm(1.0, axis=[0, 1, 2]),
                              bias_constraint=constraints.NonNeg()), (5, 5, 2),
               ["kernel_constraint", "bias_constraint"]),
    "batchnorm": (lambda: BatchNormalization(gamma_constraint=constraints.UnitNorm(),
                                             beta_constraint=Clip(0.5)), (4,),
                  ["gamma_constraint", "beta_constraint"]),
    "lstm": (lambda: LSTM(3, kernel_constraint=constraints.MaxNorm(2.0),
                          recurrent_constraint=constraints.UnitNorm(),
                          bias_constraint=constraints.MinMaxNorm(0.0, 1.0, 0.5)), (4, 2),
             ["kernel_constraint", "recurrent_constraint", "bias_constraint"]),
    "embedding": (lambda: Embedding(10, 3, embeddings_constraint=constraints.MaxNorm(1.0, axis=1)),
                  (4,), ["embeddings_constraint"]),
    "depthwise": (lambda: DepthwiseConv2D(3, depthwise_constraint="non_neg"), (5, 5, 2),
                  ["depthwise_constraint"]),
    "separable": (lambda: SeparableConv2D(2, 3, depthwise_constraint=constraints.MaxNorm(),
                                          pointwise_constraint=constraints.UnitNorm(axis=2)),
                  (5, 5, 2), ["depthwise_constraint", "pointwise_constraint"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_layer_with_constraints_saves_and_loads(case, tmp_path):
    make, shape, keys = CASES[case]
    layer = make()
    config = layer.get_config()
    for key in keys:
        assert config[key]["module"] in ("chainrule.constraints", "builtins") or \
            config[key]["registered_name"]
    again = type(layer).from_config(config).get_config()
    for key in keys:
        assert again[key] == config[key]
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input(shape), layer])
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 10, (2,) + shape) if case == "embedding"
         else rng.standard_normal((2,) + shape).astype("float32"))
    loaded = roundtrip(model, tmp_path, x)
    reloaded = loaded.layers[-1].get_config()
    for key in keys:
        assert reloaded[key] == config[key]


def test_saving_a_plain_function_constraint_names_the_layer_and_argument(tmp_path):
    model = Sequential([cr.Input((4,)), Dense(2, kernel_constraint=lambda w: w, name="head")])
    model.predict(np.zeros((1, 4)), verbose=0)  # works in memory
    with pytest.raises(ValueError, match=r'"head".*kernel_constraint.*Received: kernel_constraint='):
        model.save(tmp_path / "m.keras")


def test_registered_function_constraint_is_saved_by_name(tmp_path):
    model = Sequential([cr.Input((4,)), Dense(2, kernel_constraint=halve)])
    loaded = roundtrip(model, tmp_path, np.ones((1, 4), "float32"))
    assert loaded.layers[-1].kernel_constraint is halve


# -- training ----------------------------------------------------------------------------------

X = np.random.default_rng(1).standard_normal((64, 6)).astype("float32") * 2
Y = np.random.default_rng(2).standard_normal((64, 1)).astype("float32") * 3


def train(jit, constraint_factory, optimizer="sgd"):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input((6,)), Flatten(),
                        Dense(16, activation="relu", kernel_constraint=constraint_factory()),
                        Dense(1, kernel_constraint=constraint_factory())])
    model.compile(optimizer=cr.optimizers.get({"class_name": optimizer,
                                               "config": {"learning_rate": 0.01}}),
                  loss="mse", jit_compile=jit)
    model.fit(X, Y, batch_size=16, epochs=3, verbose=0)
    return model


def programs(model):
    return [e.program for k, e in model._steps.entries.items() if k[0] == "train"
            and e.program is not None]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_max_norm_training_is_bounded_and_identical_captured_and_on_the_tape(optimizer):
    fast = train("auto", lambda: constraints.MaxNorm(0.5), optimizer)
    assert programs(fast), "the model should be captured"
    slow = train(False, lambda: constraints.MaxNorm(0.5), optimizer)
    assert slow._steps.entries == {}
    for layer in (fast.layers[1], fast.layers[2], slow.layers[1], slow.layers[2]):
        norms = np.sqrt(np.sum(np.asarray(layer.kernel.numpy()) ** 2, axis=0))
        assert np.all(norms <= 0.5 + 1e-6)
    for u, v in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(u, v)
    free = train("auto", lambda: None, optimizer)  # the constraint did bind
    assert np.max(np.sqrt(np.sum(free.layers[1].kernel.numpy() ** 2, axis=0))) > 0.5


def test_trained_and_reloaded_model_keeps_training_identically(tmp_path):
    model = train("auto", lambda: constraints.MaxNorm(0.5))
    model.save(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras")
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    loaded.fit(X, Y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for u, v in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_constraints_apply_to_large_weights_updated_in_parallel_parts():
    from chainrule import parallel
    from chainrule.layers import Variable

    big = Variable(np.full((1 << 18, 2), 3.0), name="big")  # large enough to be split in parts
    big.constraint = constraints.MaxNorm(1.0)
    small = Variable(np.full((4, 2), 3.0), name="small")
    small.constraint = constraints.NonNeg()
    opt = cr.optimizers.SGD(learning_rate=1.0)
    parallel.set_num_threads(2)
    try:
        opt.apply([np.zeros_like(big.data), np.full((4, 2), 5.0)], [big, small])
    finally:
        parallel.set_num_threads(None)
    assert np.all(np.sqrt(np.sum(big.data**2, axis=0)) <= 1.0 + 1e-6)
    np.testing.assert_array_equal(small.data, 0.0)


def test_add_weight_takes_a_constraint_name_as_keras_does():
    class Scale(cr.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((3,), "ones", constraint="non_neg", name="w")

    layer = Scale()
    layer.build((None, 3))
    assert type(layer.w.constraint) is constraints.NonNeg


# -- Keras 3's numbers (tests/fixtures/constraints_keras.npz, tools/keras_fixtures_constraints.py)

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "constraints_keras.npz")
KERAS_CASES = json.loads(str(FIXTURE["meta"]))["cases"]


@pytest.mark.parametrize("case", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_each_constraint_matches_keras(case):
    name, cls, kw, key = case
    w = FIXTURE[f"in_{key}"]
    got = getattr(constraints, cls)(**kw)(w)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, FIXTURE[f"out_{name}"], rtol=1e-6, atol=1e-7)


def test_training_with_max_norm_and_unit_norm_matches_keras():
    cr.utils.clear_session()
    model = Sequential([cr.Input((6,)),
                        Dense(4, activation="tanh", kernel_constraint=constraints.MaxNorm(0.5)),
                        Dense(1, kernel_constraint=constraints.UnitNorm())])
    model.set_weights([FIXTURE[f"train_init_{i}"] for i in range(4)])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=0.1), loss="mse")
    h = model.fit(FIXTURE["train_x"], FIXTURE["train_y"], batch_size=8, epochs=2, shuffle=False,
                  verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, FIXTURE[f"train_final_{i}"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.history["loss"], FIXTURE["train_loss"], rtol=1e-4)


def test_unregistered_constraint_class_loads_with_custom_objects(tmp_path):
    class Halve(constraints.Constraint):
        def __call__(self, w):
            return getattr(w, "data", w) * 0.5

    model = Sequential([cr.Input((3,)), Dense(2, kernel_constraint=Halve())])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown constraint class: 'Halve'"):
        cr.models.load_model(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras", custom_objects={"Halve": Halve})
    assert type(loaded.layers[-1].kernel_constraint) is Halve


def test_plain_function_constraint_is_copied_by_bidirectional_in_memory(tmp_path):
    def clip(w):
        return np.clip(getattr(w, "data", w), -0.1, 0.1)

    bi = cr.layers.Bidirectional(LSTM(2, kernel_constraint=clip))
    assert bi.forward_layer.cell.kernel_constraint is clip
    assert bi.backward_layer.cell.kernel_constraint is clip
    model = Sequential([cr.Input((3, 2)), bi, Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    assert np.abs(bi.forward_layer.cell.kernel.numpy()).max() <= 0.1
    with pytest.raises(ValueError, match="kernel_constraint"):
        model.save(tmp_path / "m.keras")
    # with a Constraint object, the copies are equal objects and the model saves
    bi = cr.layers.Bidirectional(LSTM(2, kernel_constraint=constraints.MaxNorm(0.3)))
    assert bi.backward_layer.cell.kernel_constraint.get_config() == {"max_value": 0.3, "axis": 0}
    roundtrip(Sequential([cr.Input((3, 2)), bi]), tmp_path, np.ones((1, 3, 2), "float32"))

"""Tests for chainrule.initializers: formulas, statistics, seeding, registry and errors."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import types

import numpy as np
import pytest

from chainrule import backend, initializers
from chainrule.initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    compute_fans,
)

#: The standard deviation of a standard normal truncated to [-2, 2].
TRUNC_STD = 0.87962566103423978


def raises(exc: type, message: str):
    """pytest.raises matching the whole message literally."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


BACKENDS = ["numpy"] + (["cupy"] if importlib.util.find_spec("cupy") else [])


@pytest.fixture(params=BACKENDS, autouse=True)
def each_backend(request):
    """Run every test on each installed backend; restore backend, floatx and the generator."""
    name, floatx, state = backend.get_backend(), backend.floatx(), backend.get_random_state()
    backend.set_backend(request.param)
    yield request.param
    backend.set_backend(name)
    backend.set_floatx(floatx)
    backend.set_random_state(state)


def host(x) -> np.ndarray:
    assert backend.is_array(x), f"expected a backend array, got {type(x)}"
    return backend.to_numpy(x)


# --------------------------------------------------------------------------- fans


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((784, 10), (784, 10)),
        ((5, 16, 32), (80, 160)),  # Conv1D: kernel 5, 16 -> 32 channels
        ((3, 3, 16, 32), (144, 288)),  # Conv2D
        ((2, 3, 3, 4, 8), (72, 144)),  # Conv3D
    ],
)
def test_compute_fans_as_keras(shape, fans):
    assert compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert compute_fans((4, 5, 6), input_axes=[0, 1], output_axes=[2]) == (20, 6)
    with raises(
        ValueError,
        "input_axes and output_axes must be axes of the shape (4, 5). "
        "Received: input_axes=[3], output_axes=[1]",
    ):
        compute_fans((4, 5), input_axes=[3], output_axes=[1])


# --------------------------------------------------------------------------- variance scaling


def test_glorot_uniform_bounds_exactly():
    for shape in [(784, 10), (3, 3, 16, 32)]:
        fan_in, fan_out = compute_fans(shape)
        limit = math.sqrt(6 / (fan_in + fan_out))
        w = host(GlorotUniform(seed=3)(shape, dtype="float64"))
        assert w.shape == shape
        assert np.abs(w).max() <= limit
        assert np.abs(w).max() > 0.99 * limit  # the bound is reached, not a narrower one
        assert w.min() < -0.99 * limit
        # U(-a, a) has standard deviation a / sqrt(3)
        assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.03)
        assert abs(w.mean()) < 0.03 * limit


# (initializer, variance as a function of (fan_in, fan_out), distribution)
FAMILY = [
    (GlorotUniform(), lambda i, o: 2 / (i + o), "uniform"),
    (GlorotNormal(), lambda i, o: 2 / (i + o), "truncated_normal"),
    (HeUniform(), lambda i, o: 2 / i, "uniform"),
    (HeNormal(), lambda i, o: 2 / i, "truncated_normal"),
    (LecunUniform(), lambda i, o: 1 / i, "uniform"),
    (LecunNormal(), lambda i, o: 1 / i, "truncated_normal"),
    (
        VarianceScaling(scale=3.0, mode="fan_out", distribution="uniform"),
        lambda i, o: 3 / o,
        "uniform",
    ),
    (
        VarianceScaling(scale=0.5, mode="fan_avg", distribution="untruncated_normal"),
        lambda i, o: 0.5 / ((i + o) / 2),
        "untruncated_normal",
    ),
    (
        VarianceScaling(scale=2.0, mode="fan_in", distribution="normal"),
        lambda i, o: 2 / i,
        "truncated_normal",
    ),
]


@pytest.mark.parametrize("init, variance, distribution", FAMILY,  # ids without addresses
                         ids=lambda x: "variance" if isinstance(x, types.FunctionType)
                         else repr(x)[:40])
def test_variance_scaling_family_statistics(init, variance, distribution):
    backend.set_random_seed(11)
    shape = (500, 300)
    fan_in, fan_out = compute_fans(shape)
    target = variance(fan_in, fan_out)
    w = host(init(shape, dtype="float64"))
    assert w.var() == pytest.approx(target, rel=0.03)
    assert abs(w.mean()) < 0.02 * math.sqrt(target)
    if distribution == "uniform":
        assert np.abs(w).max() <= math.sqrt(3 * target)
    elif distribution == "truncated_normal":
        # stddev before truncation is sqrt(variance) / 0.8796; values stop at two of them
        assert np.abs(w).max() <= 2 * math.sqrt(target) / TRUNC_STD
        assert np.abs(w).max() > 1.95 * math.sqrt(target) / TRUNC_STD
    else:
        assert np.abs(w).max() > 3 * math.sqrt(target)  # untruncated: tails present


def test_variance_scaling_small_and_empty_shapes():
    # one input unit: variance scale / 1, so the uniform bound sqrt(3 * scale) is reached
    w = host(VarianceScaling(scale=1.0, distribution="uniform", seed=0)((1, 20000)))
    assert np.abs(w).max() <= math.sqrt(3) and np.abs(w).max() > 0.99 * math.sqrt(3)
    w = host(VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=0)((0, 4)))
    assert w.shape == (0, 4)
    w = host(VarianceScaling(scale=0.25, distribution="uniform", seed=0)(()))
    assert w.shape == () and abs(float(w)) <= math.sqrt(3 * 0.25)


# --------------------------------------------------------------------------- plain random


def test_random_uniform_bounds_and_defaults():
    init = RandomUniform()
    assert (init.minval, init.maxval) == (-0.05, 0.05)
    w = host(RandomUniform(minval=2.0, maxval=3.0, seed=1)((20000,)))
    assert w.min() >= 2.0 and w.max() <= 3.0
    assert w.mean() == pytest.approx(2.5, abs=0.01)
    assert w.std() == pytest.approx(1 / math.sqrt(12), rel=0.03)


def test_random_normal_moments():
    init = RandomNormal()
    assert (init.mean, init.stddev) == (0.0, 0.05)
    w = host(RandomNormal(mean=1.5, stddev=0.2, seed=2)((40000,), dtype="float64"))
    assert w.mean() == pytest.approx(1.5, abs=0.005)
    assert w.std() == pytest.approx(0.2, rel=0.02)


def test_truncated_normal_bounds_and_std():
    init = TruncatedNormal()
    assert (init.mean, init.stddev) == (0.0, 0.05)
    w = host(TruncatedNormal(mean=-1.0, stddev=0.5, seed=4)((200, 200), dtype="float64"))
    assert w.min() >= -1.0 - 2 * 0.5 and w.max() <= -1.0 + 2 * 0.5
    assert w.min() < -1.95 and w.max() > -0.05  # the whole interval is used
    assert w.mean() == pytest.approx(-1.0, abs=0.01)
    assert w.std() == pytest.approx(0.5 * TRUNC_STD, rel=0.02)


def test_legacy_uniform_and_normal_names():
    uniform = initializers.get("uniform")
    assert type(uniform) is RandomUniform
    assert (uniform.minval, uniform.maxval) == (-0.05, 0.05)
    w = host(uniform((5000,)))
    assert w.min() >= -0.05 and w.max() <= 0.05
    normal = initializers.get("normal")
    assert type(normal) is RandomNormal
    assert (normal.mean, normal.stddev) == (0.0, 0.05)


# --------------------------------------------------------------------------- seeding


SEEDABLE = [
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    RandomUniform,
    RandomNormal,
    TruncatedNormal,
    VarianceScaling,
    Orthogonal,
]


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda c: c.__name__)
def test_seeded_initializers_are_reproducible(cls):
    a = host(cls(seed=7)((6, 5)))
    np.testing.assert_array_equal(a, host(cls(seed=7)((6, 5))))  # another instance
    init = cls(seed=7)
    backend.rng().random(10)  # shared draws in between do not matter
    np.testing.assert_array_equal(host(init((6, 5))), host(init((6, 5))))
    assert not np.array_equal(a, host(cls(seed=8)((6, 5))))


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda c: c.__name__)
def test_unseeded_initializers_follow_the_shared_generator(cls):
    backend.set_random_seed(42)
    first, second = host(cls()((4, 4))), host(cls()((4, 4)))
    assert not np.array_equal(first, second)  # the generator moves on
    backend.set_random_seed(42)
    np.testing.assert_array_equal(first, host(cls()((4, 4))))


def test_seeded_draw_leaves_the_shared_generator_alone():
    backend.set_random_seed(5)
    expected = backend.rng().random(3)
    backend.set_random_seed(5)
    GlorotUniform(seed=1)((100, 100))
    np.testing.assert_array_equal(backend.rng().random(3), expected)


def test_same_seed_same_values_in_every_float_type():
    w64 = host(HeNormal(seed=3)((10, 10), dtype="float64"))
    w32 = host(HeNormal(seed=3)((10, 10), dtype="float32"))
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


# --------------------------------------------------------------------------- dtypes and shapes


def test_default_dtype_follows_floatx():
    assert host(GlorotUniform()((3, 2))).dtype == np.float32
    backend.set_floatx("float64")
    assert host(GlorotUniform()((3, 2))).dtype == np.float64
    assert host(Zeros()((3,))).dtype == np.float64


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", np.float32])
def test_requested_float_dtypes(dtype):
    for init in (GlorotUniform(), TruncatedNormal(), Ones(), Constant(2.0), Orthogonal()):
        assert host(init((3, 3), dtype=dtype)).dtype == np.dtype(dtype)


def test_constant_initializers_accept_integer_dtypes():
    assert host(Zeros()((2,), dtype="int32")).tolist() == [0, 0]
    assert host(Constant(3)((2,), dtype="int64")).tolist() == [3, 3]


def test_random_initializers_reject_integer_dtypes():
    with raises(
        ValueError,
        "dtype must be a floating-point type for random values. Received: dtype='int32'",
    ):
        GlorotUniform()((2, 2), dtype="int32")


def test_shape_forms():
    assert host(Ones()(3)).shape == (3,)
    assert host(Ones()([2, 3])).shape == (2, 3)
    assert host(Ones()(np.array([2, 1]))).shape == (2, 1)


@pytest.mark.parametrize("shape", [(-1, 3), "ab", (2.5,), None])
def test_bad_shapes(shape):
    with raises(
        ValueError, f"shape must be a tuple of non-negative integers. Received: shape={shape!r}"
    ):
        GlorotUniform()(shape)


def test_bad_dtype_name():
    with raises(ValueError, "dtype must be a NumPy dtype or its name. Received: dtype='floaty'"):
        Zeros()((2,), dtype="floaty")


# --------------------------------------------------------------------------- deterministic ones


def test_zeros_ones_constant():
    assert host(Zeros()((2, 2))).tolist() == [[0, 0], [0, 0]]
    assert host(Ones()((2,))).tolist() == [1, 1]
    assert host(Constant(0.5)((2, 2))).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert host(Constant([1.0, 2.0])((2, 2))).tolist() == [[1, 2], [1, 2]]
    assert Constant().value == 0.0


def test_constant_errors():
    with raises(
        ValueError,
        "Constant value of shape (3,) cannot fill an array of shape (2, 2). Received: shape=(2, 2)",
    ):
        Constant([1.0, 2.0, 3.0])((2, 2))
    with raises(TypeError, "value must be a number or an array of numbers. Received: value='x'"):
        Constant("x")


def test_identity():
    assert host(Identity()((3, 3))).tolist() == np.eye(3).tolist()
    assert host(Identity(gain=0.5)((2, 3))).tolist() == [[0.5, 0, 0], [0, 0.5, 0]]
    with raises(
        ValueError,
        "Identity can only initialize 2-D matrices. Received: shape=(2, 2, 2) of rank 3",
    ):
        Identity()((2, 2, 2))


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (2, 3, 4)])
def test_orthogonal(shape):
    w = host(Orthogonal(gain=2.0, seed=0)(shape, dtype="float64"))
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1]) / 2.0
    if flat.shape[0] >= flat.shape[1]:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-12)
    else:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-12)


def test_orthogonal_needs_rank_two():
    with raises(
        ValueError, "Orthogonal needs a shape of rank 2 or more. Received: shape=(4,) of rank 1"
    ):
        Orthogonal()((4,))


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    "make, exc, message",
    [
        (
            lambda: RandomNormal(stddev=-1),
            ValueError,
            "stddev must be positive. Received: stddev=-1",
        ),
        (
            lambda: TruncatedNormal(stddev=0),
            ValueError,
            "stddev must be positive. Received: stddev=0",
        ),
        (lambda: RandomNormal(mean="a"), TypeError, "mean must be a number. Received: mean='a'"),
        (
            lambda: RandomUniform(minval=1, maxval=0),
            ValueError,
            "maxval must be greater than or equal to minval. Received: minval=1, maxval=0",
        ),
        (lambda: VarianceScaling(scale=0), ValueError, "scale must be positive. Received: scale=0"),
        (
            lambda: VarianceScaling(mode="fan_sum"),
            ValueError,
            "mode must be one of 'fan_in', 'fan_out', 'fan_avg'. Received: mode='fan_sum'",
        ),
        (
            lambda: VarianceScaling(distribution="gamma"),
            ValueError,
            (
                "distribution must be one of 'truncated_normal', 'untruncated_normal', "
                "'uniform'. Received: distribution='gamma'"
            ),
        ),
        (
            lambda: GlorotUniform(seed=-1),
            ValueError,
            "seed must be None or a non-negative integer. Received: seed=-1",
        ),
        (
            lambda: HeNormal(seed=1.5),
            TypeError,
            "seed must be None or a non-negative integer. Received: seed=1.5",
        ),
        (lambda: Identity(gain=None), TypeError, "gain must be a number. Received: gain=None"),
    ],
)
def test_argument_errors(make, exc, message):
    with raises(exc, message):
        make()


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    "name, cls",
    [
        ("glorot_uniform", GlorotUniform),
        ("glorot_normal", GlorotNormal),
        ("he_uniform", HeUniform),
        ("he_normal", HeNormal),
        ("lecun_uniform", LecunUniform),
        ("lecun_normal", LecunNormal),
        ("random_uniform", RandomUniform),
        ("random_normal", RandomNormal),
        ("truncated_normal", TruncatedNormal),
        ("variance_scaling", VarianceScaling),
        ("zeros", Zeros),
        ("zero", Zeros),
        ("ones", Ones),
        ("one", Ones),
        ("constant", Constant),
        ("identity", Identity),
        ("orthogonal", Orthogonal),
        ("GlorotUniform", GlorotUniform),
        ("Glorot_Uniform", GlorotUniform),
        ("OrthogonalInitializer", Orthogonal),
    ],
)
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_other_identifiers():
    init = HeNormal(seed=1)
    assert initializers.get(init) is init
    assert initializers.get(None) is None
    assert type(initializers.get(Zeros)) is Zeros

    def fn(shape, dtype=None):
        return backend.xp.full(shape, 7.0)

    assert initializers.get(fn) is fn
    made = initializers.get({"class_name": "RandomNormal", "config": {"stddev": 0.3, "seed": 2}})
    assert (type(made), made.stddev, made.seed) == (RandomNormal, 0.3, 2)
    with raises(
        TypeError,
        "Could not interpret initializer identifier: expected a name, an Initializer, a config "
        "dict, a function or an array. Received: identifier=3",
    ):
        initializers.get(3)


def test_get_array_identifier_returns_copies():
    values = np.arange(6.0).reshape(2, 3)
    init = initializers.get(values)
    w = init((2, 3))
    assert host(w).tolist() == values.tolist()
    host(w)[0, 0] = 99.0
    assert values[0, 0] == 0.0
    with raises(
        ValueError,
        "An array used as initializer must have the requested shape (2, 3). Received: shape=(3, 2)",
    ):
        init((3, 2))


def test_unknown_name_suggests_close_names():
    with pytest.raises(ValueError) as info:
        initializers.get("glorot_unifrom")
    message = str(info.value)
    assert message.startswith(
        "Unknown initializer: 'glorot_unifrom'. Did you mean 'glorot_uniform'"
    )
    assert "Known: constant, glorot_normal, glorot_uniform," in message


ALL = [
    Zeros(),
    Ones(),
    Constant(0.25),
    Constant([[1.0, 2.0]]),
    Identity(gain=3.0),
    RandomUniform(-1.0, 2.0, seed=3),
    RandomNormal(0.5, 2.0, seed=4),
    TruncatedNormal(stddev=0.1),
    VarianceScaling(2.0, "fan_out", "uniform", seed=5),
    VarianceScaling(seed=6, input_axes=[0], output_axes=[1]),
    GlorotUniform(seed=7),
    GlorotNormal(),
    HeUniform(seed=8),
    HeNormal(),
    LecunUniform(),
    LecunNormal(seed=9),
    Orthogonal(gain=0.5, seed=10),
]


@pytest.mark.parametrize("init", ALL, ids=repr)
def test_config_and_serialization_round_trip(init):
    config = init.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(init).from_config(config)
    assert clone.get_config() == config
    restored = initializers.deserialize(json.loads(json.dumps(initializers.serialize(init))))
    assert type(restored) is type(init)
    assert restored.get_config() == config
    if getattr(init, "seed", 0) is not None:  # deterministic or seeded: identical values
        np.testing.assert_array_equal(host(init((2, 2))), host(restored((2, 2))))


def test_keras_configs_load():
    assert GlorotUniform().get_config() == {"seed": None}
    keras_config = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": 3, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }
    init = initializers.deserialize(keras_config)
    np.testing.assert_array_equal(host(init((3, 3))), host(GlorotUniform(seed=3)((3, 3))))


def test_serialization_errors():
    with raises(TypeError, "serialize expects an Initializer. Received: initializer='zeros'"):
        initializers.serialize("zeros")
    with pytest.raises(
        ValueError,
        match=r"^Unknown initializer class: 'GlorotUnifrom'\. Did you mean 'GlorotUniform'",
    ):
        initializers.deserialize({"class_name": "GlorotUnifrom", "config": {}})
    with raises(
        TypeError,
        "deserialize expects a dict with 'class_name' and 'config' keys. Received: config=[]",
    ):
        initializers.deserialize([])


def test_custom_initializer_subclass():
    class Twos(Initializer):
        def __call__(self, shape, dtype=None):
            return Constant(2.0)(shape, dtype)

    restored = initializers.deserialize(
        initializers.serialize(Twos()), custom_objects={"Twos": Twos}
    )
    assert host(restored((2,))).tolist() == [2.0, 2.0]
    with pytest.raises(NotImplementedError):
        Initializer()((2,))

"""chainrule.activations: values against NumPy formulas (float64), Keras 3's documented
examples, a gradient check for every activation, and the registry."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import activations
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(7)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def away_from(*kinks, shape=(3, 4), low=-4.0, high=4.0):
    """Random inputs at least 0.05 from every kink (where the derivative jumps)."""
    x = rng.uniform(low, high, size=shape)
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x[near] = k + 0.1
    return x


def sig(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0.0, x)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


_erf = np.vectorize(math.erf)

# name -> (function on Tensors, NumPy reference, kinks to avoid in gradient checks)
CASES = {
    "linear": (activations.linear, lambda x: x, ()),
    "sigmoid": (activations.sigmoid, sig, ()),
    "tanh": (activations.tanh, np.tanh, ()),
    "relu": (activations.relu, lambda x: np.maximum(x, 0), (0,)),
    "relu_slope": (lambda x: activations.relu(x, negative_slope=0.3),
                   lambda x: np.where(x > 0, x, 0.3 * x), (0,)),
    "relu_max": (lambda x: activations.relu(x, max_value=2.5),
                 lambda x: np.clip(x, 0, 2.5), (0, 2.5)),
    "relu_threshold": (lambda x: activations.relu(x, threshold=1.0),
                       lambda x: np.where(x > 1.0, x, 0.0), (1.0,)),
    "relu_all": (lambda x: activations.relu(x, negative_slope=0.5, max_value=3.0, threshold=1.0),
                 lambda x: np.where(x > 1.0, np.minimum(x, 3.0), 0.5 * (x - 1.0)), (1.0, 3.0)),
    "relu_slope_max": (lambda x: activations.relu(x, negative_slope=0.1, max_value=6.0),
                       lambda x: np.where(x > 0, np.minimum(x, 6.0), 0.1 * x), (0, 6.0)),
    "leaky_relu": (activations.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), (0,)),
    "leaky_relu_slope": (lambda x: activations.leaky_relu(x, negative_slope=0.01),
                         lambda x: np.where(x > 0, x, 0.01 * x), (0,)),
    "relu6": (activations.relu6, lambda x: np.clip(x, 0, 6), (0, 6)),
    "elu": (activations.elu, lambda x: np.where(x > 0, x, np.expm1(x)), (0,)),
    "elu_alpha": (lambda x: activations.elu(x, alpha=0.5),
                  lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), (0,)),
    "selu": (activations.selu,
             lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), (0,)),
    "softplus": (activations.softplus, softplus, ()),
    "softsign": (activations.softsign, lambda x: x / (1 + np.abs(x)), (0,)),
    "gelu": (activations.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), ()),
    "gelu_approximate": (
        lambda x: activations.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))), ()),
    "silu": (activations.silu, lambda x: x * sig(x), ()),
    "swish": (activations.swish, lambda x: x * sig(x), ()),
    "hard_sigmoid": (activations.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3, 3)),
    "hard_silu": (activations.hard_silu, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), (-3, 3)),
    "log_sigmoid": (activations.log_sigmoid, lambda x: -softplus(-x), ()),
    "exponential": (activations.exponential, np.exp, ()),
    "mish": (activations.mish, lambda x: x * np.tanh(softplus(x)), ()),
    "softmax": (activations.softmax, softmax, ()),
    "softmax_axis0": (lambda x: activations.softmax(x, axis=0), lambda x: softmax(x, 0), ()),
    "log_softmax": (activations.log_softmax, lambda x: np.log(softmax(x)), ()),
    "log_softmax_axis0": (lambda x: activations.log_softmax(x, axis=0),
                          lambda x: np.log(softmax(x, 0)), ()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_formula(name):
    fn, ref, kinks = CASES[name]
    x = away_from(*kinks)
    got = fn(cr.Tensor(x))
    assert got.shape == x.shape
    np.testing.assert_allclose(np.asarray(got.data), ref(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients(name):
    fn, _, kinks = CASES[name]
    x = away_from(*kinks)
    r = check_gradients(fn, x)
    assert r.ok, str(r)


def test_step_is_the_perceptron_step_with_zero_gradient():
    x = cr.Tensor(np.array([-1.0, 0.0, 0.5, 3.0]), requires_grad=True)
    y = activations.step(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(4))


def test_keras_documented_relu_examples():
    x = cr.Tensor(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]))
    np.testing.assert_array_equal(activations.relu(x).data, [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, negative_slope=0.5).data,
                                  [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(x, max_value=5.0).data, [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(x, threshold=5.0).data, [0, 0, 0, 0, 10])


def test_accepts_arrays_and_lists_and_keeps_float32():
    out = activations.relu([[-1.0, 2.0]])
    assert isinstance(out, cr.Tensor) and out.dtype == np.float32
    assert activations.softmax(np.zeros((1, 4), dtype=np.float32)).dtype == np.float32
    np.testing.assert_allclose(activations.mish(np.array([1.0])).data, [0.8650983882673103])
    assert activations.linear(3.0) == 3.0  # the identity returns its input unchanged


def test_softmax_rows_sum_to_one_and_carry_logits():
    x = cr.Tensor(rng.normal(size=(5, 3)) * 50, requires_grad=True)
    y = activations.softmax(x)
    np.testing.assert_allclose(y.data.sum(-1), np.ones(5), rtol=1e-12)
    assert y._logits is x  # lets categorical_crossentropy use the fused op
    assert activations.sigmoid(x)._logits is x


def test_stable_for_large_inputs():
    x = np.array([-1000.0, 1000.0])
    for name in ("sigmoid", "softplus", "log_sigmoid", "mish", "silu", "softmax", "log_softmax"):
        out = getattr(activations, name)(cr.Tensor(x)).data
        assert np.all(np.isfinite(out)), name
    np.testing.assert_allclose(activations.log_sigmoid(cr.Tensor(x)).data, [-1000.0, 0.0])


def test_axis_validation():
    with pytest.raises(TypeError) as e:
        activations.softmax(cr.Tensor(np.zeros((2, 2))), axis=1.5)
    assert str(e.value) == "softmax: axis must be an integer. Received: axis=1.5"
    with pytest.raises(TypeError) as e:
        activations.log_softmax(cr.Tensor(np.zeros((2, 2))), axis=None)
    assert str(e.value) == "log_softmax: axis must be an integer. Received: axis=None"


NAMES = [
    "linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "relu6", "softmax", "log_softmax",
    "elu", "selu", "softplus", "softsign", "gelu", "silu", "hard_sigmoid", "hard_silu",
    "log_sigmoid", "exponential", "mish",
]


@pytest.mark.parametrize("name", NAMES)
def test_registry_round_trip(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn
    assert activations.get(name.upper()) is fn
    assert activations.serialize(fn) == name
    assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.deserialize({"class_name": "function", "config": name}) is fn
    doc = fn.__doc__ or ""
    assert any(w in doc for w in ("f'(x)", "derivative", "Jacobian"))  # learners read them


def test_get_other_identifiers_and_aliases():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.serialize(activations.swish) == "silu"

    def my_act(x):
        return x * 2

    assert activations.get(my_act) is my_act
    assert activations.serialize(my_act) == "my_act"
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    assert activations.deserialize({"class_name": "relu"}) is activations.relu


def test_registry_errors():
    with pytest.raises(ValueError) as e:
        activations.get("rleu")
    assert str(e.value).startswith("Unknown activation: 'rleu'. Did you mean 'relu'")
    assert "Known: celu, elu, exponential, gelu," in str(e.value)
    with pytest.raises(TypeError) as e:
        activations.get(3)
    assert str(e.value) == (
        "Could not interpret activation identifier: expected None, a name, a config dict or a "
        "function. Received: identifier=3"
    )
    with pytest.raises(ValueError) as e:
        activations.serialize(lambda x: x)
    assert str(e.value).startswith(
        "Only named functions can be serialized as activations; define the function with `def` "
        "instead of a lambda. Received: activation=<function"
    )
    with pytest.raises(TypeError) as e:
        activations.deserialize(5)
    assert str(e.value) == (
        "deserialize expects an activation name or a dict with 'class_name' and 'config'. "
        "Received: config=5"
    )

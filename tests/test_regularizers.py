"""chainrule.regularizers: penalties against NumPy (float64), Keras 3's documented numbers,
gradient checks, validation messages, and the registry."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import regularizers
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(3)


def away_from_zero(*shape):
    x = rng.uniform(-2.0, 2.0, size=shape)
    x[np.abs(x) < 0.05] = 0.1  # |x| has a kink at 0
    return x


def np_orthogonal(w, factor, mode):
    v = w if mode == "rows" else w.T
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    g = u @ u.T
    n = g.shape[0]
    off = np.abs(g[~np.eye(n, dtype=bool)]).sum()
    return factor * 0.5 * off / (n * (n - 1) / 2)


CASES = [
    (regularizers.L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
    (regularizers.L2(0.2), lambda w: 0.2 * (w**2).sum()),
    (regularizers.L1L2(l1=0.1, l2=0.05), lambda w: 0.1 * np.abs(w).sum() + 0.05 * (w**2).sum()),
    (regularizers.L1L2(l1=0.1), lambda w: 0.1 * np.abs(w).sum()),
    (regularizers.L1L2(l2=0.1), lambda w: 0.1 * (w**2).sum()),
    (regularizers.OrthogonalRegularizer(0.5), lambda w: np_orthogonal(w, 0.5, "rows")),
    (regularizers.OrthogonalRegularizer(0.5, mode="columns"),
     lambda w: np_orthogonal(w, 0.5, "columns")),
]


@pytest.mark.parametrize("reg, ref", CASES, ids=[repr(reg) for reg, _ in CASES])
def test_penalty_and_gradient(reg, ref):
    w = away_from_zero(4, 3)
    got = reg(cr.Tensor(w))
    assert got.shape == () and got.dtype == np.float64
    assert float(got) == pytest.approx(ref(w), rel=1e-12)
    r = check_gradients(reg, w)
    assert r.ok, str(r)


def test_keras_documented_numbers():
    ones = cr.Tensor(np.ones((5, 5), dtype=np.float32))
    assert float(regularizers.L2(2.0)(ones)) == 50.0
    assert float(regularizers.L1(0.01)(ones * 2.0)) == pytest.approx(0.5)
    assert regularizers.L2(2.0)(ones).dtype == np.float32


def test_gradients_are_the_textbook_ones():
    w = cr.Tensor(np.array([[1.5, -2.0], [0.5, -0.25]]), requires_grad=True)
    regularizers.L1L2(l1=0.1, l2=0.3)(w).backward()
    np.testing.assert_allclose(w.grad, 0.1 * np.sign(w.data) + 2 * 0.3 * w.data, rtol=1e-12)


def test_zero_penalty_and_defaults():
    w = cr.Tensor(np.ones((2, 2)))
    zero = regularizers.L1L2()(w)
    assert float(zero) == 0.0 and zero.dtype == np.float64
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1(None).l1 == 0.01 and regularizers.L2(None).l2 == 0.01
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    assert float(regularizers.OrthogonalRegularizer(1.0)(cr.Tensor(np.eye(3)))) == 0.0
    # one row has no pairs: no penalty (rather than 0 / 0)
    assert float(regularizers.OrthogonalRegularizer(1.0)(cr.Tensor(np.ones((1, 4))))) == 0.0
    assert regularizers.Regularizer()(w) == 0.0
    assert float(regularizers.L2(0.5)([[1.0, 2.0]])) == 2.5  # plain arrays work too


def test_aliases_are_the_classes():
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: regularizers.L2(-1),
         "Invalid value for argument l2: expected a non-negative float. Received: l2=-1"),
        (lambda: regularizers.L1(-0.5),
         "Invalid value for argument l1: expected a non-negative float. Received: l1=-0.5"),
        (lambda: regularizers.L1L2(l1=0.1, l2=float("nan")),
         "Invalid value for argument l2: expected a non-negative float. Received: l2=nan"),
        (lambda: regularizers.L1L2(l1=float("inf")),
         "Invalid value for argument l1: expected a non-negative float. Received: l1=inf"),
        (lambda: regularizers.L2("0.1"),
         "Invalid value for argument l2: expected a non-negative float. Received: l2='0.1'"),
        (lambda: regularizers.L1(True),
         "Invalid value for argument l1: expected a non-negative float. Received: l1=True"),
        (lambda: regularizers.OrthogonalRegularizer(factor=-2),
         "Invalid value for argument factor: expected a non-negative float. Received: factor=-2"),
        (lambda: regularizers.OrthogonalRegularizer(mode="diagonal"),
         "Invalid value for argument mode: expected 'rows' or 'columns'. Received: mode='diagonal'"),
    ],
)
def test_validation_messages(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert str(e.value) == message


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError) as e:
        regularizers.OrthogonalRegularizer()(cr.Tensor(np.ones(3)))
    assert str(e.value) == (
        "OrthogonalRegularizer needs a 2-D weight (a Dense kernel). Received: a weight of shape (3,)"
    )


@pytest.mark.parametrize(
    "reg",
    [regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4),
     regularizers.OrthogonalRegularizer(0.05, "columns")],
    ids=repr,
)
def test_serialize_round_trip(reg):
    config = json.loads(json.dumps(regularizers.serialize(reg)))
    assert config["module"] == "chainrule.regularizers"
    assert config["class_name"] == type(reg).__name__
    back = regularizers.deserialize(config)
    assert type(back) is type(reg) and back.get_config() == reg.get_config()
    assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()
    assert regularizers.get(config).get_config() == reg.get_config()
    w = away_from_zero(3, 3)
    assert float(back(cr.Tensor(w))) == float(reg(cr.Tensor(w)))


@pytest.mark.parametrize(
    "name, cls, config",
    [
        ("l1", regularizers.L1, {"l1": 0.01}),
        ("l2", regularizers.L2, {"l2": 0.01}),
        ("L1", regularizers.L1, {"l1": 0.01}),
        ("L2", regularizers.L2, {"l2": 0.01}),
        ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),  # as Keras documents the string
        ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("l1l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("orthogonal_regularizer", regularizers.OrthogonalRegularizer,
         {"factor": 0.01, "mode": "rows"}),
        ("OrthogonalRegularizer", regularizers.OrthogonalRegularizer,
         {"factor": 0.01, "mode": "rows"}),
    ],
)
def test_get_by_name(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config
    assert regularizers.deserialize(name).get_config() == config


def test_get_other_identifiers():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)

    def my_reg(w):
        return 0.1 * cr.ops.sum(w)

    assert regularizers.get(my_reg) is my_reg
    with pytest.raises(TypeError) as e:
        regularizers.get(0.1)
    assert str(e.value) == (
        "Could not interpret regularizer identifier: expected None, a name, a config dict, a "
        "Regularizer or a function. Received: identifier=0.1"
    )


def test_registry_errors():
    with pytest.raises(ValueError) as e:
        regularizers.get("l22")
    assert str(e.value) == (
        "Unknown regularizer: 'l22'. Did you mean 'l2'? "
        "Known: l1, l1_l2, l1l2, l2, orthogonal_regularizer."
    )
    with pytest.raises(ValueError) as e:
        regularizers.deserialize({"class_name": "L3", "config": {}})
    assert str(e.value).startswith("Unknown regularizer class: 'L3'.")
    with pytest.raises(TypeError) as e:
        regularizers.serialize(lambda w: w)
    assert str(e.value).startswith("serialize expects a Regularizer")
    with pytest.raises(TypeError) as e:
        regularizers.deserialize(3)
    assert str(e.value) == (
        "deserialize expects a dict with 'class_name' and 'config' keys. Received: config=3"
    )
    with pytest.raises(NotImplementedError) as e:
        regularizers.Regularizer().get_config()
    assert str(e.value) == "Regularizer does not implement get_config()"


def test_custom_regularizer_round_trip():
    class Half(regularizers.Regularizer):
        def __init__(self, scale=0.5):
            self.scale = scale

        def __call__(self, x):
            return self.scale * cr.ops.sum(x)

        def get_config(self):
            return {"scale": self.scale}

    config = regularizers.serialize(Half(0.25))
    back = regularizers.deserialize(config, custom_objects={"Half": Half})
    assert isinstance(back, Half) and back.scale == 0.25
    assert repr(back) == "Half(scale=0.25)"


@pytest.mark.parametrize("batch", [1, 5])
def test_activity_penalty_is_divided_by_the_batch_size_as_keras_3(batch):
    # Keras 3.15: Dense(3, activity_regularizer=L1(0.01), kernel_initializer="ones") on ones
    # of shape (5, 4) has losses [0.12]: 0.01 * sum(|y|) / 5 (each of the 15 outputs is 4)
    x = np.ones((batch, 4), np.float32)
    dense = cr.layers.Dense(3, activity_regularizer=cr.regularizers.L1(0.01),
                            kernel_initializer="ones")
    dense(x)
    np.testing.assert_allclose(float(dense.losses[0]), 0.12, rtol=1e-6)
    conv = cr.layers.Conv1D(2, 1, activity_regularizer=cr.regularizers.L2(0.5),
                            kernel_initializer="ones", use_bias=False)
    y = conv(np.ones((batch, 3, 1), np.float32)).numpy()
    np.testing.assert_allclose(float(conv.losses[0]), 0.5 * (y ** 2).sum() / batch, rtol=1e-6)


def test_recurrent_activity_penalty_is_on_every_returned_tensor_divided_by_the_batch():
    # Keras 3: the penalty of each output in the flattened outputs (sequence and states)
    x = np.ones((4, 3, 2), np.float32)
    lstm = cr.layers.LSTM(2, return_state=True, activity_regularizer=cr.regularizers.L2(0.1))
    out, h, c = lstm(x)
    want = [0.1 * (t.numpy().astype(np.float64) ** 2).sum() / 4 for t in (out, h, c)]
    np.testing.assert_allclose([float(v) for v in lstm.losses], want, rtol=1e-5)

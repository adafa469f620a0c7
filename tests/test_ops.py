"""Every op: forward value against NumPy and a float64 numerical gradient check."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(0)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


# (name, fn on tensors, inputs, numpy reference on arrays)
CASES = [
    ("add_broadcast", lambda a, b: a + b, [r(3, 4), r(4)], lambda a, b: a + b),
    ("add_scalar_left", lambda a: 2.0 + a, [r(3)], lambda a: 2.0 + a),
    ("sub_broadcast", lambda a, b: a - b, [r(3, 1), r(1, 4)], lambda a, b: a - b),
    ("rsub", lambda a: 1.0 - a, [r(3)], lambda a: 1.0 - a),
    ("mul_broadcast", lambda a, b: a * b, [r(2, 3, 4), r(3, 1)], lambda a, b: a * b),
    ("div", lambda a, b: a / b, [r(3, 4), pos(4)], lambda a, b: a / b),
    ("rdiv", lambda a: 1.0 / a, [pos(3)], lambda a: 1.0 / a),
    ("pow_scalar", lambda a: a**3, [r(3, 2)], lambda a: a**3),
    ("pow_tensor", lambda a, b: a**b, [pos(3), r(3)], lambda a, b: a**b),
    ("neg", lambda a: -a, [r(3)], lambda a: -a),
    ("matmul_2d", lambda a, b: a @ b, [r(3, 4), r(4, 5)], lambda a, b: a @ b),
    ("matmul_batched", lambda a, b: a @ b, [r(2, 3, 4), r(4, 5)], lambda a, b: a @ b),
    ("matmul_vec_right", lambda a, b: ops.matmul(a, b), [r(3, 4), r(4)], lambda a, b: a @ b),
    ("matmul_vec_left", lambda a, b: ops.matmul(a, b), [r(4), r(4, 2)], lambda a, b: a @ b),
    ("matmul_vec_vec", lambda a, b: ops.matmul(a, b), [r(4), r(4)], lambda a, b: a @ b),
    ("sum_all", lambda a: ops.sum(a), [r(3, 4)], lambda a: a.sum()),
    ("sum_axis", lambda a: ops.sum(a, axis=1), [r(3, 4)], lambda a: a.sum(1)),
    ("sum_keepdims", lambda a: ops.sum(a, axis=(0, 2), keepdims=True), [r(2, 3, 4)],
     lambda a: a.sum((0, 2), keepdims=True)),
    ("mean_all", lambda a: ops.mean(a), [r(3, 4)], lambda a: a.mean()),
    ("mean_axis_neg", lambda a: ops.mean(a, axis=-1), [r(3, 4)], lambda a: a.mean(-1)),
    ("max_axis", lambda a: ops.max(a, axis=0), [r(5, 3)], lambda a: a.max(0)),
    ("max_keepdims", lambda a: ops.max(a, axis=1, keepdims=True), [r(3, 5)],
     lambda a: a.max(1, keepdims=True)),
    ("max_all", lambda a: ops.max(a), [r(3, 5)], lambda a: a.max()),
    ("min_axis", lambda a: ops.min(a, axis=1), [r(3, 5)], lambda a: a.min(1)),
    ("reshape", lambda a: ops.reshape(a, (4, 3)), [r(3, 4)], lambda a: a.reshape(4, 3)),
    ("reshape_method", lambda a: a.reshape(-1), [r(3, 4)], lambda a: a.reshape(-1)),
    ("transpose", lambda a: ops.transpose(a), [r(3, 4)], lambda a: a.T),
    ("transpose_axes", lambda a: ops.transpose(a, (1, 2, 0)), [r(2, 3, 4)],
     lambda a: a.transpose(1, 2, 0)),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), [r(2, 3), r(2, 2)],
     lambda a, b: np.concatenate([a, b], 1)),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [r(2, 3), r(2, 3)],
     lambda a, b: np.stack([a, b], 1)),
    ("getitem_slice", lambda a: a[1:, ::2], [r(3, 4)], lambda a: a[1:, ::2]),
    ("getitem_int", lambda a: a[1], [r(3, 4)], lambda a: a[1]),
    ("getitem_fancy_repeat", lambda a: a[np.array([0, 0, 2])], [r(3, 4)],
     lambda a: a[np.array([0, 0, 2])]),
    ("exp", lambda a: ops.exp(a), [r(3, 4)], np.exp),
    ("log", lambda a: ops.log(a), [pos(3, 4)], np.log),
    ("log1p", lambda a: ops.log1p(a), [pos(3)], np.log1p),
    ("sqrt", lambda a: ops.sqrt(a), [pos(3, 4)], np.sqrt),
    ("square", lambda a: ops.square(a), [r(3)], np.square),
    ("abs", lambda a: ops.abs(a), [r(3, 4)], np.abs),
    ("tanh", lambda a: ops.tanh(a), [r(3, 4)], np.tanh),
    ("sigmoid", lambda a: ops.sigmoid(a), [r(3, 4)], lambda a: 1 / (1 + np.exp(-a))),
    ("relu", lambda a: ops.relu(a), [r(3, 4)], lambda a: np.maximum(a, 0)),
    ("leaky_relu", lambda a: ops.leaky_relu(a, 0.1), [r(3, 4)],
     lambda a: np.where(a > 0, a, 0.1 * a)),
    ("softmax", lambda a: ops.softmax(a), [r(3, 4)],
     lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True)),
    ("softmax_axis0", lambda a: ops.softmax(a, axis=0), [r(3, 4)],
     lambda a: np.exp(a) / np.exp(a).sum(0, keepdims=True)),
    ("log_softmax", lambda a: ops.log_softmax(a), [r(3, 4)],
     lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True))),
    ("logsumexp", lambda a: ops.logsumexp(a, axis=1), [r(3, 4)],
     lambda a: np.log(np.exp(a).sum(1))),
    ("clip", lambda a: ops.clip(a, -1.0, 1.0), [r(4, 4)], lambda a: np.clip(a, -1, 1)),
    ("maximum", lambda a, b: ops.maximum(a, b), [r(3, 4), r(4)], np.maximum),
    ("minimum", lambda a, b: ops.minimum(a, b), [r(3, 4), r(3, 1)], np.minimum),
    ("where", lambda a, b: ops.where(np.array([True, False, True]), a, b), [r(2, 3), r(3)],
     lambda a, b: np.where(np.array([True, False, True]), a, b)),
    ("where_tensor_condition", lambda a, b: ops.where(a > 0.1, a, b), [r(2, 3), r(3)],
     lambda a, b: np.where(a > 0.1, a, b)),
    ("relu_ext", lambda a: ops.relu_ext(a, max_value=0.8, negative_slope=0.3, threshold=0.2),
     [r(4, 5)], lambda a: np.minimum(np.where(a >= 0.2, a, 0.3 * (a - 0.2)), 0.8)),
    ("dropout_rate_0", lambda a: ops.dropout(a, 0.0), [r(3, 4)], lambda a: a),
    ("mean_squared_difference", lambda a, b: ops.mean_squared_difference(a, b),
     [r(3, 4), r(3, 4)], lambda a, b: ((a - b) ** 2).mean(-1)),
    ("elu", lambda a: ops.elu(a), [r(3, 4)], lambda a: np.where(a > 0, a, np.expm1(a))),
    ("selu", lambda a: ops.selu(a), [r(3, 4)],
     lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a))),
    ("softplus", lambda a: ops.softplus(a), [r(3, 4)], lambda a: np.log1p(np.exp(a))),
    ("softsign", lambda a: ops.softsign(a), [r(3, 4)], lambda a: a / (1 + np.abs(a))),
    ("gelu", lambda a: ops.gelu(a, approximate=False), [r(3, 4)], None),
    ("gelu_tanh", lambda a: ops.gelu(a, approximate=True), [r(3, 4)],
     lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))),
    ("swish", lambda a: ops.swish(a), [r(3, 4)], lambda a: a / (1 + np.exp(-a))),
    ("linear", lambda x, w, b: ops.linear(x, w, b), [r(5, 4), r(4, 3), r(3)],
     lambda x, w, b: x @ w + b),
    ("linear_nobias_3d", lambda x, w: ops.linear(x, w), [r(2, 5, 4), r(4, 3)],
     lambda x, w: x @ w),
    ("softmax_ce_sparse", lambda z: ops.softmax_cross_entropy(z, np.array([0, 3, 1])), [r(3, 4)],
     lambda z: -np.log(np.exp(z) / np.exp(z).sum(-1, keepdims=True))[np.arange(3), [0, 3, 1]]),
    ("softmax_ce_soft", lambda z, y: ops.softmax_cross_entropy(z, y), [r(3, 4), pos(3, 4)],
     lambda z, y: -(y * (z - np.log(np.exp(z).sum(-1, keepdims=True)))).sum(-1)),
    ("sigmoid_bce", lambda z, t: ops.sigmoid_binary_cross_entropy(z, t),
     [r(3, 4), rng.uniform(0, 1, (3, 4))],
     lambda z, t: -(t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-z))))),
    ("cast", lambda a: ops.cast(a, np.float32) * 1.0, [r(3)], None),
    ("broadcast_to", lambda a: ops.broadcast_to(a, (3, 4)), [r(1, 4)],
     lambda a: np.broadcast_to(a, (3, 4))),
    ("expand_squeeze", lambda a: ops.squeeze(ops.expand_dims(a, 1), 1) * 2.0, [r(3, 4)],
     lambda a: a * 2),
    ("flatten", lambda a: ops.flatten(a), [r(2, 3, 4)], lambda a: a.reshape(2, -1)),
    ("composition", lambda x, w: ops.mean(ops.tanh(x @ w) ** 2 + ops.exp(-ops.abs(x @ w))),
     [r(4, 3), r(3, 2)], lambda x, w: np.mean(np.tanh(x @ w) ** 2 + np.exp(-np.abs(x @ w)))),
]


@pytest.mark.parametrize("name,fn,inputs,ref", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient(name, fn, inputs, ref):
    if ref is not None:
        got = fn(*[cr.Tensor(x) for x in inputs]).numpy()
        np.testing.assert_allclose(got, ref(*inputs), rtol=1e-10, atol=1e-12)
    # cast goes through float32: a linear map, so a large step resolves it
    eps, tol = (1e-2, 1e-4) if name == "cast" else (1e-6, 1e-6)
    result = check_gradients(fn, *inputs, eps=eps, tolerance=tol)
    assert result.ok, f"{name}:\n{result}"


def test_gelu_matches_erf_definition():
    import math

    x = np.linspace(-3, 3, 13)
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(ops.gelu(cr.Tensor(x), approximate=False).numpy(), expected, rtol=1e-12)


def test_step_is_binary_with_zero_gradient():
    x = cr.Tensor(np.array([-1.0, 0.0, 0.5]), requires_grad=True)
    y = ops.step(x)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 1.0])
    ops.sum(y * 3.0).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_max_ties_share_gradient():
    x = cr.Tensor(np.array([[1.0, 3.0, 3.0]]), requires_grad=True)
    ops.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5]])


def test_comparisons_return_boolean_tensors_without_grad():
    a = cr.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for got, want in [
        (a < 2, [True, False, False]), (a <= 2, [True, True, False]),
        (a > 2, [False, False, True]), (a >= 2, [False, True, True]),
        (a == 2, [False, True, False]), (a != 2, [True, False, True]),
    ]:
        assert not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want)


def test_fused_losses_are_finite_for_extreme_logits():
    z = cr.Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), requires_grad=True)
    ce = ops.softmax_cross_entropy(z, np.array([1, 1]))
    np.testing.assert_allclose(ce.numpy(), [2000.0, 0.0])
    ce.sum().backward()
    np.testing.assert_allclose(z.grad, [[1.0, -1.0], [0.0, 0.0]])
    b = cr.Tensor(np.array([1000.0, -1000.0, 1000.0]), requires_grad=True)
    bce = ops.sigmoid_binary_cross_entropy(b, np.array([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(bce.numpy(), [1000.0, 1000.0, 0.0])
    bce.sum().backward()
    np.testing.assert_allclose(b.grad, [1.0, -1.0, 0.0])
    assert np.all(np.isfinite(z.grad)) and np.all(np.isfinite(b.grad))


def test_softmax_ce_gradient_is_p_minus_y():
    z = np.array([[0.5, -1.0, 2.0]])
    t = cr.Tensor(z, requires_grad=True)
    ops.softmax_cross_entropy(t, np.array([2])).sum().backward()
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(t.grad, p - np.array([[0.0, 0.0, 1.0]]), rtol=1e-12)


def test_gradcheck_detects_a_wrong_gradient():
    class BadSquare(cr.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return (3 * self.x * gy,)  # wrong on purpose

    result = check_gradients(lambda a: BadSquare()(a), np.array([1.0, 2.0]))
    assert not result.ok
    assert "MISMATCH" in str(result)
    # |3x - 2x| / max(|3x|, |2x|) = 1/3
    assert result.max_rel_errors[0] == pytest.approx(1 / 3, rel=1e-6)


def test_mean_squared_difference_is_the_three_ops_bit_for_bit():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((5, 6)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    x1, x2 = cr.Tensor(a, requires_grad=True), cr.Tensor(a, requires_grad=True)
    fused = ops.mean(ops.mean_squared_difference(x1, b))
    plain = ops.mean(ops.mean(ops.square(x2 - b), axis=-1))
    fused.backward()
    plain.backward()
    assert fused.data == plain.data
    np.testing.assert_array_equal(x1.grad, x2.grad)
    with pytest.raises(ValueError, match=r"need the same shape\. Received: shapes \(5, 6\) and \(6,\)"):
        ops.mean_squared_difference(a, b[0])


@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_with_its_mean_is_the_two_ops_bit_for_bit(sparse):
    from chainrule.ops.nn import SoftmaxCrossEntropy

    rng = np.random.default_rng(3)
    z = rng.standard_normal((7, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 7)
    t = labels if sparse else np.eye(4, dtype=np.float32)[labels]
    a, b = cr.Tensor(z, requires_grad=True), cr.Tensor(z, requires_grad=True)
    fused = SoftmaxCrossEntropy(mean=True)(a, cr.Tensor(t))
    plain = ops.mean(ops.softmax_cross_entropy(b, t))
    fused.backward()
    plain.backward()
    assert fused.data == plain.data and fused.data.dtype == plain.data.dtype
    np.testing.assert_array_equal(a.grad, b.grad)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus",
                                  "softsign", "gelu", "swish", "hard_sigmoid", "softmax",
                                  "log_softmax"])
def test_activations_take_python_numbers_and_lists_as_keras_ops_do(name):
    fn = getattr(ops, name)
    from_list = fn([0.5, -1.0])
    from_tensor = fn(cr.Tensor(np.array([0.5, -1.0], dtype=np.float32)))
    assert from_list.dtype == np.float32  # Python floats become floatx
    np.testing.assert_array_equal(from_list.numpy(), from_tensor.numpy())
    if name not in ("softmax", "log_softmax"):
        np.testing.assert_array_equal(fn(0.5).numpy(), from_tensor.numpy()[0])

"""ops.jvp: exact forward-mode products, against Keras 3 (tools/keras_scopes_fixtures.py) and
analytic Jacobians written out in NumPy."""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_scopes.npz"))


def test_matches_keras_mlp():
    a = REF["a"]
    p, t = ops.jvp(lambda x: ops.tanh(ops.matmul(a, x)), (REF["x"],), (REF["t"],))
    np.testing.assert_allclose(p.numpy(), REF["mlp_out"], rtol=1e-12)
    np.testing.assert_allclose(t.numpy(), REF["mlp_tangent"], rtol=1e-10)


def test_matches_keras_two_arguments():
    def two(x, y):
        return ops.sum(ops.square(x)) * ops.softmax(y, axis=-1)

    p, t = ops.jvp(two, (REF["x"], REF["y"]), (REF["t"], REF["ty"]))
    np.testing.assert_allclose(p.numpy(), REF["two_out"], rtol=1e-12)
    np.testing.assert_allclose(t.numpy(), REF["two_tangent"], rtol=1e-10)


def test_matches_keras_scalar_sin():
    p, t = ops.jvp(ops.sin, (np.float64(0.1),), (np.float64(0.2),))
    np.testing.assert_allclose(p.numpy(), REF["sin_out"], rtol=1e-14)
    np.testing.assert_allclose(t.numpy(), REF["sin_tangent"], rtol=1e-14)


def test_analytic_matrix_functions():
    rng = np.random.default_rng(3)
    x, tx = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    w, tw = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    # d(x @ w) = dx @ w + x @ dw ; d exp(u) = exp(u) du
    p, t = ops.jvp(lambda x, w: ops.exp(ops.matmul(x, w)), [x, w], [tx, tw])
    np.testing.assert_allclose(t.numpy(), np.exp(x @ w) * (tx @ w + x @ tw), rtol=1e-12)
    # d log(sum(x^2)) = 2 <x, dx> / sum(x^2)
    p, t = ops.jvp(lambda x: ops.log(ops.sum(x * x)), (x,), (tx,))
    np.testing.assert_allclose(float(t.numpy()), 2 * np.sum(x * tx) / np.sum(x * x),
                               rtol=1e-12)


def test_nested_structures_and_aux():
    x = {"a": np.array([1.0, 2.0]), "b": [np.array(3.0)]}
    tx = {"a": np.array([0.5, -1.0]), "b": [np.array(2.0)]}

    def f(d):
        return {"prod": d["a"] * d["b"][0], "sq": d["b"][0] ** 2}, "aux-value"

    p, t, aux = ops.jvp(f, (x,), (tx,), has_aux=True)
    assert aux == "aux-value" and set(t) == {"prod", "sq"}
    np.testing.assert_allclose(t["prod"].numpy(), tx["a"] * 3.0 + x["a"] * 2.0)
    np.testing.assert_allclose(float(t["sq"].numpy()), 2 * 3.0 * 2.0)
    np.testing.assert_allclose(p["prod"].numpy(), [3.0, 6.0])


def test_constants_and_dtypes():
    x = np.array([1.0, 2.0], "float32")
    # an integer primal is a constant; an output not depending on the primals has tangent 0
    p, t = ops.jvp(lambda x, n: (x * n, ops.ones((2,))), (x, np.array(3)),
                   (np.ones(2), np.array(5)))
    np.testing.assert_allclose(t[0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(t[1].numpy(), [0.0, 0.0])
    assert t[0].dtype == p[0].dtype and ops.jvp(ops.sin, (x,), (x,))[1].dtype == np.float32


def test_linearity_in_the_tangent():
    rng = np.random.default_rng(5)
    x, t1, t2 = (rng.standard_normal(4) for _ in range(3))

    def f(x):
        return ops.sigmoid(x) * ops.cumsum(x)

    a = ops.jvp(f, (x,), (t1,))[1].numpy()
    b = ops.jvp(f, (x,), (t2,))[1].numpy()
    c = ops.jvp(f, (x,), (2 * t1 - 3 * t2,))[1].numpy()
    np.testing.assert_allclose(c, 2 * a - 3 * b, rtol=1e-10, atol=1e-12)


def test_namespaces():
    assert cr.ops.linalg.jvp is ops.jvp and "jvp" in ops.__all__


def test_bad_input():
    with pytest.raises(TypeError, match=r"`fun` must be callable\. Received: fun=3$"):
        ops.jvp(3, (1.0,), (1.0,))
    with pytest.raises(TypeError, match=r"`primals` must be a tuple or a list .*Received: "
                                        r"primals of type float$"):
        ops.jvp(ops.sin, 1.0, (1.0,))
    with pytest.raises(ValueError, match=r"structure of `primals`\. Received: primals tuple "
                                         r"of 2 leaves and tangents tuple of 1 leaves$"):
        ops.jvp(ops.add, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"tangent 0 must have the shape of its primal \(2,\)\. "
                                         r"Received: tangent of shape \(3,\)$"):
        ops.jvp(ops.sin, (np.ones(2),), (np.ones(3),))
    with pytest.raises(TypeError, match=r"has_aux=True, `fun` must return a pair .*Received: "
                                        r"Tensor result$"):
        ops.jvp(ops.sin, (np.ones(2),), (np.ones(2),), has_aux=True)
    inputs = cr.Input((2,))
    with pytest.raises(ValueError, match=r"KerasTensors .*Received: symbolic primals"):
        ops.jvp(ops.sin, (inputs,), (inputs,))

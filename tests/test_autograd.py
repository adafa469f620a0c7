"""The engine's contract: accumulation, broadcasting, deep graphs, no_grad, errors."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops


def test_backward_fills_leaves_and_intermediates():
    x = cr.Tensor([[1.0, 2.0]], requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()
    y.backward()
    np.testing.assert_allclose(h.grad, [[6.0, 12.0]])
    np.testing.assert_allclose(x.grad, [[18.0, 36.0]])
    assert y.grad == 1.0


def test_gradients_accumulate_until_zero_grad():
    w = cr.Tensor([1.0, -1.0], requires_grad=True)
    (w * 2.0).sum().backward()
    (w * 2.0).sum().backward()
    np.testing.assert_allclose(w.grad, [4.0, 4.0])
    w.zero_grad()
    assert w.grad is None
    (w * 5.0).sum().backward()
    np.testing.assert_allclose(w.grad, [5.0, 5.0])


def test_diamond_graph_sums_paths():
    x = cr.Tensor(3.0, requires_grad=True)
    a = x * 2.0
    y = a * a + a  # dy/dx = (2a + 1) * 2 = 26
    y.backward()
    assert float(x.grad) == pytest.approx(26.0)


def test_broadcasting_is_undone_in_gradients():
    b = cr.Tensor(np.zeros((1, 3)), requires_grad=True)
    x = cr.Tensor(np.ones((4, 2, 3)))
    (x + b).sum().backward()
    assert b.grad.shape == (1, 3)
    np.testing.assert_allclose(b.grad, np.full((1, 3), 8.0))


def test_chain_of_ten_thousand_ops_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = cr.Tensor(np.float64(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert float(x.grad) == pytest.approx(1.0001**10_000, rel=1e-9)


def test_no_grad_records_nothing_and_restores():
    w = cr.Tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = w * 2.0
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.creator is None

    @cr.no_grad()
    def f(t):
        return t * 3.0

    assert not f(w).requires_grad


def test_tensor_basics():
    t = cr.Tensor([[1, 2], [3, 4]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.size == 4 and len(t) == 2
    assert t.dtype == np.int64
    f = cr.Tensor([1.5, 2.5])
    assert f.dtype == np.float32  # floatx by default
    assert isinstance(f.numpy(), np.ndarray)
    assert cr.Tensor(np.float64(2.0)).item() == 2.0
    assert "requires_grad=True" in repr(cr.Tensor([1.0], requires_grad=True))


def test_floatx_policy_applies_to_new_tensors():
    cr.config.set_floatx("float64")
    try:
        assert cr.Tensor([1.0]).dtype == np.float64
    finally:
        cr.config.set_floatx("float32")
    assert cr.Tensor([1.0]).dtype == np.float32
    with pytest.raises(ValueError, match=r"Received: value='float8'"):
        cr.config.set_floatx("float8")


def test_backward_errors_are_explicit():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.Tensor([1.0]).backward()
    v = cr.Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"scalar .* Received: tensor of shape \(2,\)"):
        v.backward()
    with pytest.raises(ValueError, match=r"Received: grad of shape \(3,\)"):
        v.backward(np.ones(3))
    v.backward(np.array([1.0, 1.0]))


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="Only floating-point tensors"):
        cr.Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="must be numeric"):
        cr.Tensor(["a", "b"])


def test_shape_errors_name_the_op_and_shapes():
    a = cr.Tensor(np.ones((32, 784)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(32, 784\) and \(28, 10\) are not aligned \(784 != 28\)"):
        ops.matmul(a, cr.Tensor(np.ones((28, 10))))
    with pytest.raises(ValueError, match=r"add: incompatible shapes \(3,\) and \(4,\)"):
        cr.Tensor(np.ones(3)) + cr.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .* \(2, 3\)"):
        ops.reshape(cr.Tensor(np.ones(5)), (2, 3))
    with pytest.raises(ValueError, match=r"linear: shapes \(2, 5\) and \(4, 3\)"):
        ops.linear(cr.Tensor(np.ones((2, 5))), cr.Tensor(np.ones((4, 3))))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        ops.softmax_cross_entropy(cr.Tensor(np.ones((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        ops.sum(cr.Tensor(np.ones((2, 3))), axis=2)


def test_first_layer_input_gets_no_gradient_computed():
    x = cr.Tensor(np.ones((2, 3)))  # data, requires_grad=False
    w = cr.Tensor(np.ones((3, 4)), requires_grad=True)
    ops.linear(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad, np.full((3, 4), 2.0))


def test_numpy_array_on_the_left_dispatches_to_tensor():
    t = cr.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([1.0, 1.0]) * t
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(t.grad, [1.0, 1.0])


def test_no_grad_is_per_thread():
    import threading

    inside, release = threading.Event(), threading.Event()

    def other():
        with cr.no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    try:
        assert cr.is_grad_enabled()  # the other thread's no_grad is its own
        w = cr.Tensor(np.ones(2), requires_grad=True)
        assert (w * 2).requires_grad
    finally:
        release.set()
        t.join()
    assert cr.is_grad_enabled()


def test_a_one_element_tensor_has_a_truth_value_and_an_int_as_eager_keras_tensors():
    t = cr.Tensor([1.0, 2.0, 4.0])
    assert bool(t.sum() > 6) and not bool(t.sum() > 7)
    assert int(cr.Tensor(3.0)) == 3 and int(t[2]) == 4
    with pytest.raises(ValueError, match="more than one element is ambiguous"):
        bool(t > 0)


def test_a_step_that_branches_on_a_tensor_value_stays_on_the_tape():
    class Branchy(cr.layers.Layer):
        def call(self, x):
            return x * 2 if cr.ops.sum(x) > 0 else x  # Python control flow on a value

    model = cr.Sequential([cr.layers.Input((3,)), Branchy(), cr.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=True)
    with pytest.raises(ValueError, match="cannot be captured"):
        model.fit(np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), batch_size=4,
                  epochs=1, verbose=0)


def test_comparisons_with_objects_that_opt_out_of_ufuncs_are_left_to_them():
    t = cr.Tensor(np.float32(0.1))
    assert t == pytest.approx(0.1)
    assert not (t != pytest.approx(0.1))
    assert (cr.Tensor([1.0, 2.0]) == cr.Tensor([1.0, 3.0])).numpy().tolist() == [True, False]

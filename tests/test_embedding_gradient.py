"""The embedding op's gradient: repeated ids summed in their order in the batch, exactly as
``np.add.at`` sums them (ids seen once, twice and many times, preallocated output buffer)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import rnn


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("vocab", [3, 50, 5000])
def test_gradient_equals_add_at_bit_for_bit(dtype, vocab):
    rng = np.random.default_rng(vocab)
    ids = rng.integers(0, vocab, (16, 40))
    ids[0, :7] = 1  # one id many times
    table = cr.Tensor(rng.normal(size=(vocab, 6)).astype(dtype), requires_grad=True)
    g = rng.normal(size=(16, 40, 6)).astype(dtype)
    cr.ops.sum(cr.ops.multiply(rnn.embedding(ids, table), g)).backward()
    want = np.zeros((vocab, 6), dtype)
    np.add.at(want, ids.ravel(), g.reshape(-1, 6))
    assert table.grad.dtype == want.dtype
    assert table.grad.tobytes() == want.tobytes()


def test_gradient_into_a_reused_buffer_is_cleared():
    op = rnn.Embedding("emb")
    op.needs = (False, True)
    table = np.ones((5, 2))
    buf = np.full((5, 2), 7.0)
    op.grad_out = {1: buf}
    op.forward(np.array([[0, 3, 3]]), table)
    _, grad = op.backward(np.ones((1, 3, 2)))
    assert grad is buf
    np.testing.assert_array_equal(grad, [[1, 1], [0, 0], [0, 0], [2, 2], [0, 0]])

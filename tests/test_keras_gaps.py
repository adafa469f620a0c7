"""Small Keras 3 behaviours real programs rely on: iterating a tensor."""

import numpy as np
import pytest

import chainrule as cr


def test_iterating_a_tensor_gives_its_rows_and_their_gradients():
    x = cr.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, cr.Tensor) for r in rows)
    np.testing.assert_array_equal(rows[2].numpy(), [4.0, 5.0])
    cr.ops.sum(rows[0] * 2.0 + rows[2]).backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_iterating_a_scalar_tensor_is_refused():
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor\. Received: "):
        iter(cr.Tensor(1.0))

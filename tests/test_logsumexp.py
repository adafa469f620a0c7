"""``ops.logsumexp`` as one op: Keras's values on -inf slices, gradients, and capture."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients


@pytest.mark.parametrize("axis, keepdims", [(1, False), (0, True), (None, False),
                                            ((0, 2), False), (-1, True)])
def test_values_and_float64_gradients(axis, keepdims):
    x = np.random.default_rng(3).standard_normal((3, 4, 2)) * 30  # large: needs the shift
    want = np.log(np.sum(np.exp(x - x.max()), axis=axis, keepdims=keepdims)) + x.max()
    np.testing.assert_allclose(ops.logsumexp(x, axis=axis, keepdims=keepdims).numpy(), want,
                               rtol=1e-12)
    assert check_gradients(lambda a: ops.logsumexp(a, axis=axis, keepdims=keepdims), x / 30).ok


def test_a_slice_of_minus_infinity_gives_minus_infinity_and_inf_gives_inf():
    x = np.array([[0.0, 0.0], [-np.inf, -np.inf], [np.inf, 1.0]])
    out = ops.logsumexp(x, axis=1).numpy()
    np.testing.assert_allclose(out[0], np.log(2.0))
    assert out[1] == -np.inf and out[2] == np.inf


def test_a_model_whose_layer_uses_logsumexp_is_captured_and_trains_as_on_the_tape():
    class SoftPool(cr.layers.Layer):
        def call(self, x):
            return ops.logsumexp(x, axis=-1, keepdims=True)

    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([cr.Input((5,)), cr.layers.Dense(8), SoftPool(),
                               cr.layers.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        rng = np.random.default_rng(1)
        model.fit(rng.standard_normal((64, 5)), rng.standard_normal((64, 1)), batch_size=16,
                  epochs=2, verbose=0)
        return model

    captured, taped = run(True), run(False)
    assert any(e.program is not None for e in captured._steps.entries.values())
    for a, b in zip(captured.get_weights(), taped.get_weights()):
        np.testing.assert_array_equal(a, b)

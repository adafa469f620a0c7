"""ops.pad, ops.repeat and ops.tile: NumPy's values, float64 gradient checks, clear errors."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


CASES = [
    ("pad_constant", lambda x: ops.pad(x, ((1, 0), (2, 1))), [r(3, 4)],
     lambda x: np.pad(x, ((1, 0), (2, 1)))),
    ("pad_constant_value", lambda x: ops.pad(x, 2, constant_values=1.5), [r(2, 3)],
     lambda x: np.pad(x, 2, constant_values=1.5)),
    ("pad_pair_all_axes", lambda x: ops.pad(x, (1, 2)), [r(2, 3, 2)],
     lambda x: np.pad(x, (1, 2))),
    ("pad_one_pair", lambda x: ops.pad(x, ((0, 1),)), [r(2, 3)],
     lambda x: np.pad(x, ((0, 1),))),
    ("pad_reflect", lambda x: ops.pad(x, ((1, 2), (2, 1)), mode="reflect"), [r(4, 4)],
     lambda x: np.pad(x, ((1, 2), (2, 1)), mode="reflect")),
    ("pad_symmetric", lambda x: ops.pad(x, ((2, 3), (0, 1)), mode="symmetric"), [r(3, 4)],
     lambda x: np.pad(x, ((2, 3), (0, 1)), mode="symmetric")),
    ("pad_wrap", lambda x: ops.pad(x, 2, mode="wrap"), [r(3, 4)],
     lambda x: np.pad(x, 2, mode="wrap")),
    ("pad_circular", lambda x: ops.pad(x, 1, mode="circular"), [r(3, 4)],
     lambda x: np.pad(x, 1, mode="wrap")),
    ("pad_edge", lambda x: ops.pad(x, (1, 3), mode="edge"), [r(3, 4)],
     lambda x: np.pad(x, (1, 3), mode="edge")),
    ("repeat_int", lambda x: ops.repeat(x, 3, axis=1), [r(2, 3, 2)],
     lambda x: np.repeat(x, 3, axis=1)),
    ("repeat_flat", lambda x: ops.repeat(x, 2), [r(2, 3)], lambda x: np.repeat(x, 2)),
    ("repeat_per_element", lambda x: ops.repeat(x, [2, 0, 1], axis=-1), [r(2, 3)],
     lambda x: np.repeat(x, [2, 0, 1], axis=-1)),
    ("repeat_zero", lambda x: ops.repeat(x, 0, axis=0), [r(2, 3)],
     lambda x: np.repeat(x, 0, axis=0)),
    ("tile", lambda x: ops.tile(x, (2, 1, 3)), [r(2, 3)], lambda x: np.tile(x, (2, 1, 3))),
    ("tile_int", lambda x: ops.tile(x, 2), [r(2, 3)], lambda x: np.tile(x, 2)),
    ("tile_fewer", lambda x: ops.tile(x, (3,)), [r(2, 2, 3)], lambda x: np.tile(x, (3,))),
]


@pytest.mark.parametrize("name,fn,inputs,ref", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_numpy(name, fn, inputs, ref):
    out = fn(*[cr.Tensor(a) for a in inputs])
    np.testing.assert_array_equal(out.data, ref(*inputs))


@pytest.mark.parametrize("name,fn,inputs,ref", [c for c in CASES if c[0] != "repeat_zero"],
                         ids=[c[0] for c in CASES if c[0] != "repeat_zero"])
def test_gradients(name, fn, inputs, ref):
    result = check_gradients(fn, *inputs, tolerance=1e-6)
    assert result.ok, str(result)


def test_zero_repeats_give_zero_gradient():
    x = cr.Tensor(r(2, 3), requires_grad=True)
    ops.sum(ops.repeat(x, [1, 0, 2], axis=1) * 2.0).backward()
    np.testing.assert_array_equal(x.grad, [[2, 0, 4], [2, 0, 4]])


@pytest.mark.parametrize("call,match", [
    (lambda x: ops.pad(x, -1), "non-negative"),
    (lambda x: ops.pad(x, ((1, 1), (1, 1), (1, 1))), "pad_width"),
    (lambda x: ops.pad(x, 1.5), "pad_width"),
    (lambda x: ops.pad(x, 1, mode="reflekt"), "Did you mean 'reflect'"),
    (lambda x: ops.pad(x, 1, mode="median"), "unknown mode"),
    (lambda x: ops.pad(x, 1, mode="edge", constant_values=2), "constant_values"),
    (lambda x: ops.repeat(x, -1), "repeats"),
    (lambda x: ops.repeat(x, [1, 2], axis=1), "repeats"),
    (lambda x: ops.repeat(x, 2, axis=2), "axis out of range"),
    (lambda x: ops.tile(x, (1.5, 2)), "repeats"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(cr.Tensor(np.zeros((2, 3))))


def test_pad_reflect_refuses_an_empty_axis():
    with pytest.raises(ValueError, match="empty axis"):
        ops.pad(cr.Tensor(np.zeros((0, 3))), 1, mode="reflect")


def test_used_in_a_captured_step():
    class Padded(cr.layers.Layer):
        def call(self, x):
            return ops.tile(ops.repeat(ops.pad(x, ((0, 0), (1, 1)), mode="reflect"), 2, axis=1),
                            (1, 2))

    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Input((3,)), Padded(), cr.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=True)
    x, y = r(32, 3).astype("float32"), r(32, 1).astype("float32")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())

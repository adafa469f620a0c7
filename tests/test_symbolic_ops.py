"""Ops and operators on KerasTensors build functional models (Keras 3's symbolic ops)."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.layers import Dense, Input, OpLayer

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4, 6)).astype(np.float32)
Y = rng.standard_normal((5, 4, 6)).astype(np.float32)
W = rng.standard_normal((6, 3)).astype(np.float32)


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name: (symbolic function of (x, y), the same in NumPy, Keras's output shape)
CASES = {
    "add_scalar": (lambda x, y: x + 1, lambda x, y: x + 1, (None, 4, 6)),
    "radd_sub_mul": (lambda x, y: 2.0 - x * y + 1, lambda x, y: 2.0 - x * y + 1, (None, 4, 6)),
    "abs_rpow_rsub": (lambda x, y: 2.0 ** abs(x) - 1.0 / (x * x + 1),
                      lambda x, y: 2.0 ** np.abs(x) - 1.0 / (x * x + 1), (None, 4, 6)),
    "div_pow_neg": (lambda x, y: -(x / 2.0) ** 2, lambda x, y: -((x / 2.0) ** 2), (None, 4, 6)),
    "compare": (lambda x, y: ops.cast(x > y, "float32") + ops.cast(x <= 0.5, "float32"),
                lambda x, y: (x > y).astype(np.float32) + (x <= 0.5).astype(np.float32),
                (None, 4, 6)),
    "exp_abs_sqrt": (lambda x, y: ops.exp(ops.sqrt(ops.abs(x))),
                     lambda x, y: np.exp(np.sqrt(np.abs(x))), (None, 4, 6)),
    "mean_keepdims": (lambda x, y: ops.mean(ops.square(x), axis=-1, keepdims=True),
                      lambda x, y: np.mean(x ** 2, axis=-1, keepdims=True), (None, 4, 1)),
    "sum_axes": (lambda x, y: ops.sum(x, axis=(1, 2)), lambda x, y: x.sum(axis=(1, 2)), (None,)),
    "max_axis1": (lambda x, y: ops.max(x, axis=1), lambda x, y: x.max(axis=1), (None, 6)),
    "mean_all": (lambda x, y: ops.mean(x), lambda x, y: np.mean(x), ()),
    "reshape": (lambda x, y: ops.reshape(x, (-1, 24)), lambda x, y: x.reshape(-1, 24),
                (None, 24)),
    "transpose": (lambda x, y: ops.transpose(x, (0, 2, 1)),
                  lambda x, y: x.transpose(0, 2, 1), (None, 6, 4)),
    "concatenate": (lambda x, y: ops.concatenate([x, y, x], axis=-1),
                    lambda x, y: np.concatenate([x, y, x], axis=-1), (None, 4, 18)),
    "stack": (lambda x, y: ops.stack((x, y), axis=1), lambda x, y: np.stack((x, y), axis=1),
              (None, 2, 4, 6)),
    "getitem": (lambda x, y: x[:, 0], lambda x, y: x[:, 0], (None, 6)),
    "getitem_slices": (lambda x, y: x[:, 1:3, ::2], lambda x, y: x[:, 1:3, ::2], (None, 2, 3)),
    "getitem_ellipsis": (lambda x, y: x[..., -1], lambda x, y: x[..., -1], (None, 4)),
    "matmul_const": (lambda x, y: x @ W, lambda x, y: x @ W, (None, 4, 3)),
    "ops_matmul": (lambda x, y: ops.matmul(x, W), lambda x, y: x @ W, (None, 4, 3)),
    "softmax": (lambda x, y: ops.softmax(x, axis=-1), lambda x, y: _softmax(x), (None, 4, 6)),
    "maximum_where": (lambda x, y: ops.where(x > 0, ops.maximum(x, y), y),
                      lambda x, y: np.where(x > 0, np.maximum(x, y), y), (None, 4, 6)),
}


def build(case):
    fn, _, _ = CASES[case]
    x, y = Input((4, 6)), Input((4, 6))
    return cr.Model([x, y], fn(x, y))


@pytest.mark.parametrize("case", list(CASES))
def test_ops_on_inputs_make_a_model_that_computes_the_op(case):
    _, ref, shape = CASES[case]
    model = build(case)
    assert model.output_shape == shape
    assert model.output.shape == shape
    if shape == ():  # a scalar (no batch axis): called directly, as predict() batches
        out = model([X, Y]).numpy()
    else:
        out = model.predict([X, Y], verbose=0)
    np.testing.assert_allclose(out, ref(X, Y), rtol=1e-5, atol=1e-6)
    # graph operations, not layers (Keras 3): in model.operations only
    assert any(isinstance(op, OpLayer) for op in model.operations)
    assert not any(isinstance(layer, OpLayer) for layer in model.layers)


@pytest.mark.parametrize("case", ["mean_keepdims", "concatenate", "getitem_slices",
                                  "matmul_const", "stack", "sum_axes"])
def test_op_layers_save_load_and_clone(case, tmp_path):
    model = build(case)
    expected = model.predict([X, Y], verbose=0)
    config = json.loads(json.dumps(model.get_config()))
    rebuilt = cr.Model.from_config(config)
    np.testing.assert_array_equal(rebuilt.predict([X, Y], verbose=0), expected)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict([X, Y], verbose=0), expected)
    clone = cr.models.clone_model(model)
    np.testing.assert_array_equal(clone.predict([X, Y], verbose=0), expected)
    assert [type(la).__name__ for la in clone.operations] == [
        type(la).__name__ for la in model.operations]


def test_one_hot_on_integer_inputs():
    ids = Input((3,), dtype="int32")
    model = cr.Model(ids, ops.one_hot(ids, 5))
    assert model.output_shape == (None, 3, 5)
    data = np.array([[0, 4, 2], [1, 1, 3]])
    np.testing.assert_array_equal(model.predict(data, verbose=0), np.eye(5)[data])


def test_shape_queries_answer_statically():
    x = Input((4, 6))
    assert ops.shape(x) == (None, 4, 6)
    assert ops.ndim(x) == 3
    assert x.shape == (None, 4, 6)


def test_summary_lists_the_op_layers_named_after_the_ops():
    cr.utils.clear_session()
    x = Input((6,))
    h = Dense(4)(x)
    model = cr.Model(x, ops.mean(ops.square(h), axis=-1, keepdims=True) + x[:, :1])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name in ("square (Square)", "mean (Mean)", "get_item (GetItem)", "add (Add)"):
        assert name in text, text
    assert model.output_shape == (None, 1)


def test_op_with_an_unsaveable_argument_fails_at_save_time_naming_the_op(tmp_path):
    x = Input((3,))
    model = cr.Model(x, ops.dropout(x, 0.5, rng=np.random.default_rng(0)))
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 3)
    with pytest.raises(ValueError, match=r"ops\.dropout.*Received: an argument of type Generator"):
        model.get_config()
    with pytest.raises(ValueError, match=r"op layer 'dropout.*ops\.dropout"):
        model.save(tmp_path / "bad.keras")
    assert cr.Model(x, ops.dropout(x, 0.5)).get_config()  # without the generator it saves


def test_a_saved_function_name_must_be_an_op():
    with pytest.raises(ValueError, match="Received: function='__import__'"):
        OpLayer("__import__")
    with pytest.raises(ValueError, match="Received: function='shape'"):
        OpLayer("shape")


def test_tensor_and_keras_tensor_mix_dispatches_to_a_constant_argument():
    x = Input((2,))
    out = cr.Tensor(np.array([1.0, 2.0], np.float32)) * x
    model = cr.Model(x, out)
    np.testing.assert_array_equal(model.predict(np.ones((3, 2)), verbose=0),
                                  np.tile([1.0, 2.0], (3, 1)))
    json.dumps(model.get_config())


def test_a_shape_mismatch_fails_when_the_graph_is_built():
    with pytest.raises(ValueError):
        ops.matmul(Input((4,)), np.ones((3, 2), np.float32))


def _trained(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(1)
    x = Input((6,))
    h = Dense(8, activation="tanh")(x)
    h = h - ops.mean(h, axis=-1, keepdims=True)
    h = ops.concatenate([ops.relu(h), ops.relu(-h), h[:, :2] @ W[:2]], axis=-1)
    out = Dense(3)(h * 0.5 + 1.0)
    model = cr.Model(x, ops.softmax(out))
    model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
    data = np.random.default_rng(2).standard_normal((40, 6)).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[np.random.default_rng(3).integers(0, 3, 40)]
    history = model.fit(data, labels, batch_size=16, epochs=3, verbose=0).history
    return model, history


def test_training_through_op_layers_is_captured_and_bit_identical_to_the_tape():
    fast, h_fast = _trained(True)
    assert [e for k, e in fast._steps.entries.items() if k[0] == "train"
            and e.program is not None], "the step should be captured"
    slow, h_slow = _trained(False)
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h_fast == h_slow


def test_an_op_that_returns_no_tensor_on_symbolic_inputs_is_refused(monkeypatch):
    from chainrule.ops.symbolic import RAW_OPS

    monkeypatch.setitem(RAW_OPS, "abs", lambda x: 3)
    with pytest.raises(TypeError, match=r"'abs' .*Received: an output of type int"):
        ops.abs(Input((2,)))


def test_ops_returning_several_tensors_give_several_keras_tensors():
    x = Input((4, 6))
    parts = ops.split(x, 2, axis=-1)
    assert [p.shape for p in parts] == [(None, 4, 3), (None, 4, 3)]
    model = cr.Model(x, ops.concatenate([parts[1], parts[0]], axis=-1))
    np.testing.assert_array_equal(model.predict(X, verbose=0),
                                  np.concatenate([X[..., 3:], X[..., :3]], axis=-1))

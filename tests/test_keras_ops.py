"""Keras 3's ops: every function against NumPy, float64 gradient checks, replay in a layer."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.layers import Dense, Layer
from chainrule.models import Sequential

rng = np.random.default_rng(1)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def sm(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


IDX = np.array([2, 0, 0, 1])
TIDX = np.array([[1, 0], [2, 2], [0, 1]])
ONEHOT = np.eye(4)[[0, 3, 1]]
EPS = 1e-7

# (name, fn on Tensors, inputs, NumPy reference on arrays) — differentiable ops
DIFF = [
    ("sin", ops.sin, [r(3, 4)], np.sin),
    ("cos", ops.cos, [r(3, 4)], np.cos),
    ("tan", ops.tan, [r(3, 4, low=-1, high=1)], np.tan),
    ("arctan", ops.arctan, [r(3, 4)], np.arctan),
    ("sinh", ops.sinh, [r(3, 4)], np.sinh),
    ("cosh", ops.cosh, [r(3, 4)], np.cosh),
    ("log2", ops.log2, [pos(3, 4)], np.log2),
    ("log10", ops.log10, [pos(3, 4)], np.log10),
    ("expm1", ops.expm1, [r(3, 4)], np.expm1),
    ("reciprocal", ops.reciprocal, [pos(3, 4)], lambda a: 1 / a),
    ("rsqrt", ops.rsqrt, [pos(3, 4)], lambda a: 1 / np.sqrt(a)),
    ("true_divide", ops.true_divide, [r(3, 4), pos(4)], np.true_divide),
    ("mod", ops.mod, [r(3, 4, low=-5, high=5) + 0.013, pos(4)], np.mod),
    ("nan_to_num", ops.nan_to_num, [r(3, 4)], np.nan_to_num),
    ("relu6", ops.relu6, [r(3, 4, low=-3, high=9)], lambda a: np.clip(a, 0, 6)),
    ("leaky_relu", lambda a: ops.leaky_relu(a, negative_slope=0.3), [r(3, 4)],
     lambda a: np.where(a > 0, a, 0.3 * a)),
    ("absolute", ops.absolute, [r(3, 4)], np.abs),
    ("square", ops.square, [r(3, 4)], np.square),
    ("log", ops.log, [pos(3, 4)], np.log),
    ("exp", ops.exp, [r(3, 4)], np.exp),
    ("clip_keras_names", lambda a: ops.clip(a, x_min=-1.0, x_max=1.0), [r(3, 4)],
     lambda a: np.clip(a, -1, 1)),
    ("maximum", ops.maximum, [r(3, 4), r(4)], np.maximum),
    ("minimum", ops.minimum, [r(3, 4), r(3, 1)], np.minimum),
    ("prod_axis", lambda a: ops.prod(a, axis=1), [r(3, 4)], lambda a: a.prod(1)),
    ("prod_with_zero", lambda a: ops.prod(a * np.array([1.0, 0.0, 1.0]), axis=1), [r(2, 3)],
     lambda a: (a * np.array([1.0, 0.0, 1.0])).prod(1)),
    ("prod_all_keepdims", lambda a: ops.prod(a, keepdims=True), [r(2, 3)],
     lambda a: a.prod(keepdims=True)),
    ("var", lambda a: ops.var(a, axis=0), [r(5, 3)], lambda a: a.var(0)),
    ("std_keepdims", lambda a: ops.std(a, axis=-1, keepdims=True), [r(3, 5)],
     lambda a: a.std(-1, keepdims=True)),
    ("var_all", ops.var, [r(3, 4)], np.var),
    ("mean", lambda a: ops.mean(a, axis=(0, 1)), [r(2, 3, 4)], lambda a: a.mean((0, 1))),
    ("sum", lambda a: ops.sum(a, axis=1, keepdims=True), [r(2, 3)],
     lambda a: a.sum(1, keepdims=True)),
    ("max_initial", lambda a: ops.max(a, axis=1, initial=0.5), [r(3, 4)],
     lambda a: a.max(1, initial=0.5)),
    ("min_initial", lambda a: ops.min(a, axis=0, initial=-0.5), [r(3, 4)],
     lambda a: a.min(0, initial=-0.5)),
    ("logsumexp", lambda a: ops.logsumexp(a, axis=-1), [r(3, 4)],
     lambda a: np.log(np.exp(a).sum(-1))),
    ("cumsum_axis", lambda a: ops.cumsum(a, axis=1), [r(3, 4)], lambda a: np.cumsum(a, 1)),
    ("cumsum_flat", ops.cumsum, [r(3, 4)], np.cumsum),
    ("cumprod_axis", lambda a: ops.cumprod(a, axis=0), [pos(3, 4)], lambda a: np.cumprod(a, 0)),
    ("norm_vector", lambda a: ops.norm(a, axis=-1), [r(3, 4)],
     lambda a: np.linalg.norm(a, axis=-1)),
    ("norm_all", ops.norm, [r(2, 3, 4)], lambda a: np.linalg.norm(a.ravel())),
    ("norm_1", lambda a: ops.norm(a, ord=1, axis=0), [r(3, 4)],
     lambda a: np.linalg.norm(a, ord=1, axis=0)),
    ("norm_inf", lambda a: ops.norm(a, ord=np.inf, axis=1), [r(3, 4)],
     lambda a: np.linalg.norm(a, ord=np.inf, axis=1)),
    ("norm_p3", lambda a: ops.norm(a, ord=3, axis=1, keepdims=True), [r(3, 4)],
     lambda a: np.linalg.norm(a, ord=3, axis=1, keepdims=True)),
    ("norm_fro", lambda a: ops.norm(a, ord="fro", axis=(1, 2)), [r(2, 3, 4)],
     lambda a: np.linalg.norm(a, ord="fro", axis=(1, 2))),
    ("norm_matrix_1", lambda a: ops.norm(a, ord=1), [r(3, 4)],
     lambda a: np.linalg.norm(a, ord=1)),
    ("norm_matrix_inf", lambda a: ops.norm(a, ord=np.inf, axis=(0, 1), keepdims=True),
     [r(3, 4)], lambda a: np.linalg.norm(a, ord=np.inf, axis=(0, 1), keepdims=True)),
    ("normalize", lambda a: ops.normalize(a, axis=-1), [r(3, 4)],
     lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)),
    ("normalize_l1", lambda a: ops.normalize(a, axis=0, order=1), [r(3, 4)],
     lambda a: a / np.abs(a).sum(0, keepdims=True)),
    ("dot_vv", ops.dot, [r(4), r(4)], np.dot),
    ("dot_mm", ops.dot, [r(3, 4), r(4, 2)], np.dot),
    ("dot_nd", ops.dot, [r(2, 3, 4), r(5, 4, 2)], np.dot),
    ("dot_scalar", ops.dot, [r(3), np.array(1.5)], np.dot),
    ("einsum_matmul", lambda a, b: ops.einsum("ij,jk->ik", a, b), [r(3, 4), r(4, 2)],
     lambda a, b: np.einsum("ij,jk->ik", a, b)),
    ("einsum_batched", lambda a, b: ops.einsum("bij,bjk->bik", a, b), [r(2, 3, 4), r(2, 4, 2)],
     lambda a, b: np.einsum("bij,bjk->bik", a, b)),
    ("einsum_ellipsis_broadcast", lambda a, b: ops.einsum("...ij,...j->...i", a, b),
     [r(2, 3, 4), r(1, 4)], lambda a, b: np.einsum("...ij,...j->...i", a, b)),
    ("einsum_implicit", lambda a, b: ops.einsum("ij,kj", a, b), [r(3, 4), r(2, 4)],
     lambda a, b: np.einsum("ij,kj", a, b)),
    ("einsum_trace", lambda a: ops.einsum("ii", a), [r(3, 3)], lambda a: np.einsum("ii", a)),
    ("einsum_diag", lambda a: ops.einsum("ii->i", a), [r(3, 3)],
     lambda a: np.einsum("ii->i", a)),
    ("einsum_sum_out", lambda a, b: ops.einsum("ij,k->i", a, b), [r(3, 4), r(2)],
     lambda a, b: np.einsum("ij,k->i", a, b)),
    ("einsum_three", lambda a, b, c: ops.einsum("ij,jk,kl->il", a, b, c),
     [r(2, 3), r(3, 4), r(4, 2)], lambda a, b, c: a @ b @ c),
    ("tensordot_int", lambda a, b: ops.tensordot(a, b, 2), [r(2, 3, 4), r(3, 4, 5)],
     lambda a, b: np.tensordot(a, b, 2)),
    ("tensordot_axes", lambda a, b: ops.tensordot(a, b, axes=([0, 2], [2, 0])),
     [r(2, 3, 4), r(4, 5, 2)], lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0]))),
    ("outer", ops.outer, [r(3), r(2, 2)], np.outer),
    ("reshape_shape_tuple", lambda a: ops.reshape(a, (ops.shape(a)[0], -1)), [r(2, 3, 4)],
     lambda a: a.reshape(2, -1)),
    ("expand_dims_tuple", lambda a: ops.expand_dims(a, (0, -1)), [r(2, 3)],
     lambda a: np.expand_dims(a, (0, -1))),
    ("squeeze_tuple", lambda a: ops.squeeze(a, (0, 2)), [r(1, 3, 1)],
     lambda a: np.squeeze(a, (0, 2))),
    ("transpose", lambda a: ops.transpose(a, (2, 0, 1)), [r(2, 3, 4)],
     lambda a: a.transpose(2, 0, 1)),
    ("stack", lambda a, b: ops.stack([a, b], axis=-1), [r(2, 3), r(2, 3)],
     lambda a, b: np.stack([a, b], -1)),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=0), [r(2, 3), r(1, 3)],
     lambda a, b: np.concatenate([a, b], 0)),
    ("split", lambda a: ops.split(a, 2, axis=1)[1] * 2.0, [r(3, 4)],
     lambda a: np.split(a, 2, axis=1)[1] * 2),
    ("split_indices", lambda a: ops.concatenate(ops.split(a, [1, 3])[::-1]), [r(4, 2)],
     lambda a: np.concatenate(np.split(a, [1, 3])[::-1])),
    ("take_axis", lambda a: ops.take(a, IDX, axis=1), [r(3, 4)], lambda a: np.take(a, IDX, 1)),
    ("take_flat", lambda a: ops.take(a, IDX), [r(3, 4)], lambda a: np.take(a, IDX)),
    ("take_negative", lambda a: ops.take(a, [-1, 0], axis=0), [r(3, 4)],
     lambda a: np.take(a, [-1, 0], 0)),
    ("take_along_axis", lambda a: ops.take_along_axis(a, TIDX, axis=1), [r(3, 4)],
     lambda a: np.take_along_axis(a, TIDX, 1)),
    ("take_along_axis_bcast", lambda a: ops.take_along_axis(a, np.array([[0, 2, 2]]), axis=1),
     [r(3, 4)], lambda a: np.take_along_axis(a, np.array([[0, 2, 2]]), 1)),
    ("take_along_axis_flat", lambda a: ops.take_along_axis(a, np.array([5, 0, 5]), axis=None),
     [r(2, 3)], lambda a: np.take_along_axis(a.ravel(), np.array([5, 0, 5]), 0)),
    ("where_select", lambda a, b: ops.where(a > 0, a, b), [r(3, 4), r(4)],
     lambda a, b: np.where(a > 0, a, b)),
    ("swapaxes", lambda a: ops.swapaxes(a, 0, 2), [r(2, 3, 4)], lambda a: np.swapaxes(a, 0, 2)),
    ("moveaxis", lambda a: ops.moveaxis(a, [0, 1], [-1, 0]), [r(2, 3, 4)],
     lambda a: np.moveaxis(a, [0, 1], [-1, 0])),
    ("flip_all", ops.flip, [r(2, 3)], np.flip),
    ("flip_axis", lambda a: ops.flip(a, axis=1), [r(2, 3)], lambda a: np.flip(a, 1)),
    ("roll", lambda a: ops.roll(a, 2, axis=1), [r(2, 5)], lambda a: np.roll(a, 2, 1)),
    ("roll_flat", lambda a: ops.roll(a, -1), [r(2, 3)], lambda a: np.roll(a, -1)),
    ("tril", lambda a: ops.tril(a, -1), [r(2, 3, 4)], lambda a: np.tril(a, -1)),
    ("triu", lambda a: ops.triu(a, 1), [r(3, 4)], lambda a: np.triu(a, 1)),
    ("diag_vector", lambda a: ops.diag(a, 1), [r(3)], lambda a: np.diag(a, 1)),
    ("diag_matrix", lambda a: ops.diag(a, -1), [r(3, 4)], lambda a: np.diag(a, -1)),
    ("diagonal_3d", lambda a: ops.diagonal(a, 1, 0, 2), [r(3, 2, 4)],
     lambda a: np.diagonal(a, 1, 0, 2)),
    ("trace", ops.trace, [r(3, 4)], np.trace),
    ("trace_offset", lambda a: ops.trace(a, 1, 1, 2), [r(2, 3, 3)],
     lambda a: np.trace(a, 1, 1, 2)),
    ("sort", lambda a: ops.sort(a, axis=0), [r(4, 3)], lambda a: np.sort(a, 0)),
    ("sort_flat", lambda a: ops.sort(a, axis=None), [r(2, 3)], lambda a: np.sort(a, None)),
    ("top_k_values", lambda a: ops.top_k(a, 2)[0], [r(3, 5)],
     lambda a: -np.sort(-a, -1)[:, :2]),
    ("softmax_axis", lambda a: ops.softmax(a, axis=0), [r(3, 4)], lambda a: sm(a, 0)),
    ("log_softmax", lambda a: ops.log_softmax(a, axis=-1), [r(3, 4)], lambda a: np.log(sm(a))),
    ("sigmoid", ops.sigmoid, [r(3, 4)], lambda a: 1 / (1 + np.exp(-a))),
    ("relu", ops.relu, [r(3, 4)], lambda a: np.maximum(a, 0)),
    ("elu", lambda a: ops.elu(a, 0.5), [r(3, 4)], lambda a: np.where(a > 0, a, 0.5 * np.expm1(a))),
    ("silu", ops.silu, [r(3, 4)], lambda a: a / (1 + np.exp(-a))),
    ("gelu_approximate", lambda a: ops.gelu(a, approximate=True), [r(3, 4)],
     lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))),
    ("softplus", ops.softplus, [r(3, 4)], lambda a: np.log1p(np.exp(a))),
    ("softsign", ops.softsign, [r(3, 4)], lambda a: a / (1 + np.abs(a))),
    ("hard_sigmoid", ops.hard_sigmoid, [r(3, 4, low=-5, high=5)],
     lambda a: np.clip(a / 6 + 0.5, 0, 1)),
    ("selu", ops.selu, [r(3, 4)],
     lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a))),
    ("bce_probs", lambda t, p: ops.binary_crossentropy(t, p), [rng.uniform(0, 1, (3, 4)),
     rng.uniform(0.05, 0.95, (3, 4))],
     lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p))),
    ("bce_logits", lambda t, z: ops.binary_crossentropy(t, z, from_logits=True),
     [rng.uniform(0, 1, (3, 4)), r(3, 4)],
     lambda t, z: -(t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-z))))),
    ("bce_sigmoid_output", lambda t, z: ops.binary_crossentropy(t, ops.sigmoid(z)),
     [rng.uniform(0, 1, (3, 4)), r(3, 4)],
     lambda t, z: -(t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-z))))),
    ("cce_probs", lambda p: ops.categorical_crossentropy(ONEHOT, p), [pos(3, 4)],
     lambda p: -(ONEHOT * np.log(p / p.sum(-1, keepdims=True))).sum(-1)),
    ("cce_logits", lambda z: ops.categorical_crossentropy(ONEHOT, z, from_logits=True),
     [r(3, 4)], lambda z: -(ONEHOT * np.log(sm(z))).sum(-1)),
    ("cce_softmax_output", lambda z: ops.categorical_crossentropy(ONEHOT, ops.softmax(z)),
     [r(3, 4)], lambda z: -(ONEHOT * np.log(sm(z))).sum(-1)),
    ("cce_logits_axis0", lambda z: ops.categorical_crossentropy(ONEHOT.T, z, True, axis=0),
     [r(4, 3)], lambda z: -(ONEHOT.T * np.log(sm(z, 0))).sum(0)),
    ("scce_probs", lambda p: ops.sparse_categorical_crossentropy([0, 3, 1], p), [pos(3, 4)],
     lambda p: -np.log((p / p.sum(-1, keepdims=True))[np.arange(3), [0, 3, 1]])),
    ("scce_logits", lambda z: ops.sparse_categorical_crossentropy(
        np.array([[0], [3], [1]]), z, from_logits=True), [r(3, 4)],
     lambda z: -np.log(sm(z)[np.arange(3), [0, 3, 1]])),
]


@pytest.mark.parametrize("name,fn,inputs,ref", DIFF, ids=[c[0] for c in DIFF])
def test_forward_matches_numpy_and_gradient_checks(name, fn, inputs, ref):
    got = fn(*[cr.Tensor(x) for x in inputs])
    np.testing.assert_allclose(got.numpy(), ref(*inputs), rtol=1e-9, atol=1e-12)
    result = check_gradients(fn, *inputs, eps=1e-6, tolerance=1e-5)
    assert result.ok, f"{name}:\n{result}"


X = r(3, 4)
X[0, 1] = 0.0
B = np.array([[True, False], [True, True]])
NONDIFF = [
    ("floor", ops.floor, [X], np.floor),
    ("ceil", ops.ceil, [X], np.ceil),
    ("round", lambda a: ops.round(a, 1), [X], lambda a: np.round(a, 1)),
    ("floor_divide", ops.floor_divide, [X, pos(4)], np.floor_divide),
    ("sign", ops.sign, [X], np.sign),
    ("isnan", ops.isnan, [np.array([1.0, np.nan, np.inf])], np.isnan),
    ("isinf", ops.isinf, [np.array([1.0, np.nan, -np.inf])], np.isinf),
    ("isfinite", ops.isfinite, [np.array([1.0, np.nan, np.inf])], np.isfinite),
    ("logical_and", ops.logical_and, [B, B.T], np.logical_and),
    ("logical_or", ops.logical_or, [B, B.T], np.logical_or),
    ("logical_xor", ops.logical_xor, [B, B.T], np.logical_xor),
    ("logical_not", ops.logical_not, [B], np.logical_not),
    ("equal", ops.equal, [X, X[0]], np.equal),
    ("not_equal", ops.not_equal, [X, X[0]], np.not_equal),
    ("greater", ops.greater, [X, 0.0], np.greater),
    ("greater_equal", ops.greater_equal, [X, X[1]], np.greater_equal),
    ("less", ops.less, [X, 0.5], np.less),
    ("less_equal", ops.less_equal, [X, X[2]], np.less_equal),
    ("any", lambda a: ops.any(a > 1, axis=1), [X], lambda a: (a > 1).any(1)),
    ("all", lambda a: ops.all(a > -1, axis=0, keepdims=True), [X],
     lambda a: (a > -1).all(0, keepdims=True)),
    ("count_nonzero", lambda a: ops.count_nonzero(a, axis=1), [X],
     lambda a: np.count_nonzero(a, axis=1)),
    ("count_nonzero_all", ops.count_nonzero, [X], np.count_nonzero),
    ("argmax", lambda a: ops.argmax(a, axis=1), [X], lambda a: a.argmax(1)),
    ("argmax_flat_keepdims", lambda a: ops.argmax(a, keepdims=True), [X],
     lambda a: a.argmax(keepdims=True)),
    ("argmin", lambda a: ops.argmin(a, axis=0), [X], lambda a: a.argmin(0)),
    ("argsort", lambda a: ops.argsort(a, axis=0), [X], lambda a: np.argsort(a, 0, kind="stable")),
    ("argsort_flat", lambda a: ops.argsort(a, axis=None), [X],
     lambda a: np.argsort(a, None, kind="stable")),
    ("top_k_indices", lambda a: ops.top_k(a, 3)[1], [X],
     lambda a: np.argsort(-a, -1, kind="stable")[:, :3]),
    ("stop_gradient", ops.stop_gradient, [X], lambda a: a),
    ("one_hot", lambda a: ops.one_hot(a, 4), [np.array([[0, 3], [-1, 1]])],
     lambda a: np.where(a[..., None] >= 0, np.eye(4)[a], 0)),
    ("one_hot_axis0", lambda a: ops.one_hot(a, 3, axis=0), [np.array([2, 0])],
     lambda a: np.eye(3)[a].T),
    ("multi_hot", lambda a: ops.multi_hot(a, 5), [np.array([[0, 3, 3], [1, 4, 0]])],
     lambda a: np.stack([np.isin(np.arange(5), row) for row in a]).astype(float)),
    ("in_top_k", lambda t, p: ops.in_top_k(t, p, 2), [np.array([0, 3, 1]), r(3, 4)],
     lambda t, p: np.array([(p[i] > p[i, t[i]]).sum() < 2 for i in range(3)])),
]


@pytest.mark.parametrize("name,fn,inputs,ref", NONDIFF, ids=[c[0] for c in NONDIFF])
def test_non_differentiable_ops_match_numpy_and_carry_no_gradient(name, fn, inputs, ref):
    tensors = [cr.Tensor(x, requires_grad=x.dtype.kind == "f") if isinstance(x, np.ndarray)
               else x for x in inputs]
    got = fn(*tensors)
    assert isinstance(got, cr.Tensor) and not got.requires_grad and got.creator is None
    np.testing.assert_array_equal(got.numpy(), ref(*inputs))


def test_index_results_are_int32_as_in_keras():
    x = cr.Tensor(X)
    for t in (ops.argmax(x, 1), ops.argmin(x), ops.argsort(x), ops.top_k(x, 2)[1],
              ops.count_nonzero(x)):
        assert t.dtype == np.int32


def test_creation_functions_match_numpy():
    cases = [
        (ops.ones((2, 3)), np.ones((2, 3), np.float32)),
        (ops.ones(3, dtype="int32"), np.ones(3, np.int32)),
        (ops.zeros((2,)), np.zeros(2, np.float32)),
        (ops.full((2, 2), 3), np.full((2, 2), 3, np.int32)),
        (ops.full((2,), 1.5, dtype="float64"), np.full(2, 1.5)),
        (ops.full((2, 3), np.array([1.0, 2.0, 3.0], np.float32)),
         np.full((2, 3), [1.0, 2.0, 3.0], np.float32)),
        (ops.arange(5), np.arange(5, dtype=np.int32)),
        (ops.arange(1, 7, 2), np.arange(1, 7, 2, dtype=np.int32)),
        (ops.arange(0.0, 1.0, 0.25), np.arange(0, 1, 0.25, dtype=np.float32)),
        (ops.arange(3, dtype="float64"), np.arange(3.0)),
        (ops.eye(3, 4, k=1), np.eye(3, 4, 1, np.float32)),
        (ops.identity(2, dtype="int64"), np.identity(2, np.int64)),
        (ops.ones_like(np.zeros((2, 1), np.int64)), np.ones((2, 1), np.int64)),
        (ops.zeros_like(cr.Tensor(X)), np.zeros_like(X)),
        (ops.full_like(cr.Tensor(X), 2.0, dtype="float32"), np.full(X.shape, 2, np.float32)),
        (ops.linspace(0.0, 1.0, 5), np.linspace(0, 1, 5, dtype=np.float32)),
        (ops.linspace(0.0, 1.0, 4, endpoint=False), np.linspace(0, 1, 4, False).astype(np.float32)),
        (ops.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1),
         np.linspace([0, 1], [1, 3], 3, axis=1).astype(np.float32)),
    ]
    for got, want in cases:
        assert isinstance(got, cr.Tensor) and not got.requires_grad
        assert got.dtype == want.dtype, (got, want)
        np.testing.assert_array_equal(got.numpy(), want)
    values, step = ops.linspace(0.0, 1.0, 3, retstep=True)
    assert step == 0.5 and values.shape == (3,)


def test_shape_size_ndim_and_conversions():
    x = cr.Tensor(np.zeros((4, 3, 2), np.float32))
    assert ops.shape(x) == (4, 3, 2) and isinstance(ops.shape(x), tuple)
    assert all(type(n) is int for n in ops.shape(x))
    assert ops.shape(np.zeros((2,))) == (2,) and ops.shape(3.0) == () and ops.shape([[1, 2]]) == (1, 2)
    assert ops.size(x) == 24 and ops.ndim(x) == 3 and ops.ndim(5) == 0
    assert ops.shape(cr.Input(shape=(5,))) == (None, 5)
    t = ops.convert_to_tensor([1.0, 2.0])
    assert isinstance(t, cr.Tensor) and t.dtype == np.float32
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor(t, dtype="float64").dtype == np.float64
    assert ops.convert_to_tensor(np.arange(3)).dtype == np.arange(3).dtype
    a = ops.convert_to_numpy(t)
    assert isinstance(a, np.ndarray) and a.tolist() == [1.0, 2.0]
    assert ops.is_tensor(t) and not ops.is_tensor(a)
    with pytest.raises(ValueError, match=r"dense\. Received: sparse=True"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_ops_accept_numbers_lists_and_arrays():
    assert float(ops.exp(0.0).numpy()) == 1.0 and ops.exp(0.0).dtype == np.float32
    np.testing.assert_array_equal(ops.sum([1.0, 2.0]).numpy(), 3.0)
    np.testing.assert_array_equal(ops.square([1.0, 2.0]).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal(ops.add(1.0, 2.0).numpy(), 3.0)
    np.testing.assert_array_equal(ops.maximum([1.0, 5.0], 2.0).numpy(), [2.0, 5.0])
    np.testing.assert_array_equal(ops.reshape([1.0, 2.0], (2, 1)).numpy(), [[1.0], [2.0]])
    np.testing.assert_array_equal(ops.mean(np.ones((2, 2))).numpy(), 1.0)
    np.testing.assert_array_equal(ops.sin(0.0).numpy(), 0.0)
    np.testing.assert_array_equal(ops.transpose([[1.0, 2.0]]).numpy(), [[1.0], [2.0]])
    np.testing.assert_array_equal(ops.where([True, False], 1.0, 0.0).numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(ops.stack([[1.0], [2.0]]).numpy(), [[1.0], [2.0]])
    # a Python float next to a float32 tensor keeps float32 (NumPy's weak scalars)
    assert ops.add(cr.Tensor(np.ones(2, np.float32)), 1.5).dtype == np.float32
    assert ops.add(cr.Tensor(np.ones(2, np.float32)), [1.0, 2.0]).dtype == np.float32


def test_where_with_one_argument_gives_indices():
    rows, cols = ops.where(np.array([[0.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(rows.numpy(), [0, 1])
    np.testing.assert_array_equal(cols.numpy(), [1, 0])
    (i,) = ops.nonzero(cr.Tensor([0.0, 3.0, 0.0, 1.0]))
    np.testing.assert_array_equal(i.numpy(), [1, 3])
    with pytest.raises(ValueError, match="give both x1 and x2"):
        ops.where(np.array([True]), 1.0)


def test_unique():
    x = cr.Tensor(np.array([3, 1, 2, 1, 3, 2, 3]))
    np.testing.assert_array_equal(ops.unique(x).numpy(), [1, 2, 3])
    values, index, inverse, counts = ops.unique(x, return_index=True, return_inverse=True,
                                                return_counts=True)
    want = np.unique(x.numpy(), return_index=True, return_inverse=True, return_counts=True)
    for got, w in zip((values, index, inverse, counts), want):
        np.testing.assert_array_equal(got.numpy(), w)
    v, c = ops.unique(x, size=5, fill_value=-1, return_counts=True)
    np.testing.assert_array_equal(v.numpy(), [1, 2, 3, -1, -1])
    np.testing.assert_array_equal(c.numpy(), [2, 2, 3, 0, 0])


def test_top_k_ties_go_to_the_lower_index_and_in_top_k_counts_ties():
    values, idx = ops.top_k(cr.Tensor([[1.0, 3.0, 3.0, 0.0]]), 2)
    np.testing.assert_array_equal(idx.numpy(), [[1, 2]])
    np.testing.assert_array_equal(values.numpy(), [[3.0, 3.0]])
    p = cr.Tensor([[0.5, 0.5, 0.1], [0.2, 0.3, 0.5]])
    np.testing.assert_array_equal(ops.in_top_k([1, 0], p, 1).numpy(), [True, False])
    with pytest.raises(ValueError, match=r"top_k: k must not exceed .* Received: k=5"):
        ops.top_k(p, 5)


def test_sort_gradient_goes_back_to_the_original_place():
    x = cr.Tensor(np.array([3.0, 1.0, 2.0]), requires_grad=True)
    (ops.sort(x) * cr.Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [100.0, 1.0, 10.0])


def test_one_hot_rejects_a_class_id_of_num_classes_or_more():
    with pytest.raises(ValueError, match=r"one_hot: class ids must be < num_classes=3\. "
                                         r"Received: class ids \[3, 7\]"):
        ops.one_hot(np.array([0, 3, 7]), 3)
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer\. Received"):
        ops.one_hot([0], 0)
    with pytest.raises(ValueError, match="class ids must be integers"):
        ops.one_hot(np.array([0.5]), 3)
    np.testing.assert_array_equal(ops.one_hot(np.array([1.0]), 2).numpy(), [[0.0, 1.0]])


def test_crossentropies_check_shapes():
    with pytest.raises(ValueError, match=r"same shape\. Received: target\.shape=\(3,\)"):
        ops.binary_crossentropy(np.ones(3), np.ones((3, 1)) * 0.5)
    with pytest.raises(ValueError, match="target.shape=\\(3,\\), output.shape=\\(3, 4\\)"):
        ops.categorical_crossentropy(np.ones(3), np.ones((3, 4)))
    with pytest.raises(ValueError, match="up to the last dimension"):
        ops.sparse_categorical_crossentropy(np.array([0, 1]), np.ones((3, 4)))
    # the fused logits path validates the class range too
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        ops.sparse_categorical_crossentropy(np.array([0, 4, 1]), cr.Tensor(r(3, 4)),
                                            from_logits=True)


def test_bad_arguments_name_themselves():
    cases = [
        (lambda: ops.ones((2, -1)), r"ones: shape must be .* Received: shape=\(2, -1\)"),
        (lambda: ops.arange(0, 3, 0), r"step must not be 0\. Received: step=0"),
        (lambda: ops.split(cr.Tensor(np.zeros(5)), 2), r"cannot be split into 2 .* Received"),
        (lambda: ops.norm(cr.Tensor(np.ones((2, 2))), ord=3, axis=(0, 1)),
         r"norm: unknown matrix norm order.* Received: ord=3$"),
        (lambda: ops.normalize(cr.Tensor([1.0]), order=0), r"order must be an int >= 1"),
        (lambda: ops.take(cr.Tensor([1.0, 2.0]), [5]), r"take: an index is out of range"),
        (lambda: ops.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))),
         r"einsum: operands of shapes"),
        (lambda: ops.einsum("ij->i", np.ones((2, 3)), np.ones(3)), r"name 1 operands"),
        (lambda: ops.tril(cr.Tensor([1.0])), r"tril: needs at least 2 dimensions"),
        (lambda: ops.diag(cr.Tensor(np.ones((2, 2, 2)))), r"diag: x must be 1-D or 2-D"),
        (lambda: ops.argmax(cr.Tensor([1.0]), axis=(0,)), r"axis must be an integer or None"),
        (lambda: ops.expand_dims(cr.Tensor([1.0]), 3), r"expand_dims: axis out of range"),
        (lambda: ops.squeeze(cr.Tensor(np.ones((2, 1))), (0, 1)), r"squeeze: axis 0"),
        (lambda: ops.moveaxis(cr.Tensor(np.ones((2, 1))), [0], [0, 1]), r"same number of axes"),
        (lambda: ops.round(cr.Tensor([1.0]), 0.5), r"decimals must be an integer"),
    ]
    for fn, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            fn()


def test_keras_spellings_of_existing_ops_still_work_the_old_way():
    x = cr.Tensor(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(ops.clip(x, min_value=0.0, max_value=1.0).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(ops.leaky_relu(x, 0.5).numpy(), [-0.5, 2.0])
    np.testing.assert_array_equal(ops.leaky_relu(x, alpha=0.1).numpy(), [-0.1, 2.0])
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(), [-0.15865526, 1.9544997],
                               rtol=1e-6)
    # Keras 3's ops.gelu defaults to the tanh approximation
    np.testing.assert_allclose(ops.gelu(x).numpy(), [-0.15880801, 1.95459769], rtol=1e-6)
    assert ops.absolute is ops.abs and ops.true_divide(4.0, 2.0).numpy() == 2.0


def test_stop_gradient_blocks_the_gradient():
    w = cr.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    (w * ops.stop_gradient(w)).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 3.0])  # d(w * c)/dw = c, not 2w


def test_cumprod_gradient_and_prod_with_two_zeros():
    x = cr.Tensor(np.array([[0.0, 2.0, 0.0], [1.0, 2.0, 3.0]]), requires_grad=True)
    ops.sum(ops.prod(x, axis=1)).backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])


def test_normalize_l2_is_finite_for_a_zero_vector():
    z = cr.Tensor(np.zeros((1, 3)), requires_grad=True)
    ops.sum(ops.normalize(z)).backward()
    assert np.all(np.isfinite(z.grad))
    assert math.isclose(float(ops.norm(cr.Tensor([3.0, 4.0]), ord=0).numpy()), 2.0)


# -- inside a layer: shapes read with ops.shape, and ops, replay in the captured step --------


class FlattenWithShape(Layer):
    """Flattens with ``ops.reshape(x, (ops.shape(x)[0], -1))`` and uses a few Keras ops."""

    def call(self, x):
        y = ops.reshape(x, (ops.shape(x)[0], -1))
        y = y - ops.stop_gradient(ops.mean(y, axis=-1, keepdims=True))
        scale = ops.expand_dims(ops.norm(y, axis=-1), -1) + 1.0
        z = ops.concatenate([y / scale, ops.take(y, [0, 1], axis=1)], axis=-1)
        picked = ops.one_hot(ops.argmax(z, axis=-1), ops.shape(z)[-1])
        return z + 0.1 * picked * ops.tanh(z) + ops.cumsum(z, axis=-1) * 0.01

    def compute_output_shape(self, input_shape):
        n = int(np.prod(input_shape[1:]))
        return (input_shape[0], n + 2)


def _ops_model(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input(shape=(3, 4)), FlattenWithShape(), Dense(3)])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    return model


def test_layer_using_ops_shape_is_captured_and_matches_the_tape():
    x = rng.standard_normal((40, 3, 4)).astype(np.float32)
    y = rng.standard_normal((40, 3)).astype(np.float32)
    fast = _ops_model("auto")
    hf = fast.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    assert [e.program for k, e in fast._steps.entries.items() if k[0] == "train"
            and e.program is not None], "the layer should be captured"
    slow = _ops_model(False)
    hs = slow.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hf.history == hs.history
    jit = _ops_model(True)
    jit.fit(x, y, batch_size=16, epochs=1, verbose=0)  # jit_compile=True raises if not captured


def test_reshape_takes_keras_argument_name():
    x = cr.Tensor(np.arange(6.0))
    assert ops.reshape(x, newshape=(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="reshape needs a shape"):
        ops.reshape(x)


def _loss_with_ops(y_true, y_pred):
    """A user's loss written with Keras ops: labels by argmax, one-hot again, a norm, top-k."""
    labels = ops.argmax(y_true, axis=-1)
    onehot = ops.one_hot(labels, ops.shape(y_pred)[-1])
    ce = ops.categorical_crossentropy(onehot, ops.softmax(y_pred))
    hit = ops.cast(ops.in_top_k(labels, y_pred, 1), y_pred.dtype)
    return ce + 0.01 * ops.norm(y_pred, axis=-1) + 0.0 * hit


def _classifier(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input(shape=(5,)), Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizer="adam", loss=_loss_with_ops, jit_compile=jit)
    return model


def test_a_loss_written_with_keras_ops_is_captured_and_matches_the_tape():
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 40)]
    fast = _classifier("auto")
    hf = fast.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    assert any(e.program is not None for k, e in fast._steps.entries.items() if k[0] == "train")
    slow = _classifier(False)
    hs = slow.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hf.history == hs.history


def test_a_constant_built_from_a_computed_value_is_refused_not_replayed_stale():
    class FillWithMean(Layer):
        def call(self, x):
            return x + ops.full(ops.shape(x), ops.mean(x))

    cr.utils.clear_session()
    model = Sequential([cr.Input(shape=(3,)), FillWithMean(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"fill_with_mean.*reads the value of a tensor"):
        model.fit(x, np.zeros((16, 1), np.float32), batch_size=8, verbose=0)

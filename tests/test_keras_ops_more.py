"""More of Keras 3's ops (math_extra, numpy_extra, control_flow, nn_extra): each against NumPy,
float64 gradient checks for the differentiable ones, no gradient for the others, symbolic
inputs in functional models, and a layer using them replayed bit-identically to the tape."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.layers import Dense, Layer
from chainrule.models import Sequential

rng = np.random.default_rng(7)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def pos(*shape, low=0.5, high=2.0):
    return rng.uniform(low, high, size=shape)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def np_erf(x):
    return np.vectorize(math.erf)(x)


def with_nans(a, *where):
    a = a.copy()
    for w in where:
        a[w] = np.nan
    return a


NANX = with_nans(r(3, 4), (0, 1), (2, 3))
NANX2 = with_nans(r(3, 5), (1, slice(None)))  # one row of NaN only  (used without gradient)


def np_rot90(a, k=1, axes=(0, 1)):
    return np.rot90(a, k, axes)


def np_cross(a, b, **kw):
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    pad = [(0, 0)] * (a.ndim - 1)
    a = np.pad(a, pad + [(0, 3 - a.shape[-1])])
    b = np.pad(b, [(0, 0)] * (b.ndim - 1) + [(0, 3 - b.shape[-1])])
    return np.cross(a, b, **kw)


def np_attention(q, k, v, bias=None, mask=None, causal=False):
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, np.finfo(logits.dtype).max * -0.7)
    return np.einsum("bnts,bsnh->btnh", softmax(logits), v)


SPD = r(3, 3)
SPD = SPD @ SPD.T + 3 * np.eye(3)

# (name, fn on Tensors, inputs, NumPy reference on arrays) — differentiable ops
DIFF = [
    ("arcsin", ops.arcsin, [r(3, 4, low=-0.9, high=0.9)], np.arcsin),
    ("arccos", ops.arccos, [r(3, 4, low=-0.9, high=0.9)], np.arccos),
    ("arcsinh", ops.arcsinh, [r(3, 4)], np.arcsinh),
    ("arccosh", ops.arccosh, [pos(3, 4, low=1.2, high=3)], np.arccosh),
    ("arctanh", ops.arctanh, [r(3, 4, low=-0.9, high=0.9)], np.arctanh),
    ("arctan2", ops.arctan2, [r(3, 4), r(4)], np.arctan2),
    ("exp2", ops.exp2, [r(3, 4)], np.exp2),
    ("cbrt", ops.cbrt, [r(3, 4) + 3.0], np.cbrt),
    ("deg2rad", ops.deg2rad, [r(3, 4)], np.deg2rad),
    ("rad2deg", ops.rad2deg, [r(3, 4)], np.rad2deg),
    ("sinc", ops.sinc, [np.array([0.0, 0.3, -1.7, 2.5])], np.sinc),
    ("fabs", ops.fabs, [r(3, 4)], np.fabs),
    ("erfc", ops.erfc, [r(3, 4)], lambda a: 1 - np_erf(a)),
    ("erfinv", ops.erfinv, [r(3, 4, low=-0.95, high=0.95)], None),
    ("log_sigmoid", ops.log_sigmoid, [r(3, 4, low=-8, high=8)],
     lambda a: -np.logaddexp(0, -a)),
    ("hypot", ops.hypot, [r(3, 4), r(3, 1)], np.hypot),
    ("logaddexp", ops.logaddexp, [r(3, 4), r(4)], np.logaddexp),
    ("logaddexp2", ops.logaddexp2, [r(3, 4), r(3, 4)], np.logaddexp2),
    ("fmod", ops.fmod, [r(3, 4, low=-5, high=5) + 0.013, pos(4)], np.fmod),
    ("fmax", ops.fmax, [r(3, 4), r(3, 4)], np.fmax),
    ("fmin", ops.fmin, [r(3, 4), r(4)], np.fmin),
    ("divide_no_nan", ops.divide_no_nan, [r(3, 4), np.array([0.9, 1.5, -2.0, 0.7])],
     lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b))),
    ("ldexp", lambda a: ops.ldexp(a, np.array([1, -2, 3, 0])), [r(3, 4)],
     lambda a: np.ldexp(a, np.array([1, -2, 3, 0]))),
    ("real", ops.real, [r(3, 4)], np.real),
    ("conj", ops.conj, [r(3, 4)], np.conj),
    ("amax", lambda a: ops.amax(a, axis=1), [r(3, 4)], lambda a: np.amax(a, 1)),
    ("amin", lambda a: ops.amin(a, axis=0, keepdims=True), [r(3, 4)],
     lambda a: np.amin(a, 0, keepdims=True)),
    ("ptp", lambda a: ops.ptp(a, axis=1), [r(3, 4)], lambda a: np.ptp(a, 1)),
    ("average", lambda a, w: ops.average(a, axis=1, weights=w), [r(3, 4), pos(4)],
     lambda a, w: np.average(a, 1, w)),
    ("average_full_weights", lambda a, w: ops.average(a, weights=w), [r(3, 4), pos(3, 4)],
     lambda a, w: np.average(a, weights=w)),
    ("average_plain", lambda a: ops.average(a, axis=0), [r(3, 4)],
     lambda a: np.average(a, 0)),
    ("median", lambda a: ops.median(a, axis=1), [r(3, 4)], lambda a: np.median(a, 1)),
    ("median_odd_all", ops.median, [r(3, 5)], np.median),
    ("quantile_list", lambda a: ops.quantile(a, [0.1, 0.5, 0.9], axis=0), [r(5, 3)],
     lambda a: np.quantile(a, [0.1, 0.5, 0.9], axis=0)),
    ("quantile_keepdims_axes", lambda a: ops.quantile(a, 0.3, axis=(0, 2), keepdims=True),
     [r(3, 2, 4)], lambda a: np.quantile(a, 0.3, axis=(0, 2), keepdims=True)),
    ("percentile", lambda a: ops.percentile(a, 70, axis=-1), [r(3, 6)],
     lambda a: np.percentile(a, 70, axis=-1)),
    ("quantile_midpoint", lambda a: ops.quantile(a, 0.4, axis=1, method="midpoint"),
     [r(3, 6)], lambda a: np.quantile(a, 0.4, axis=1, method="midpoint")),
    ("quantile_lower", lambda a: ops.quantile(a, 0.4, axis=1, method="lower"),
     [r(3, 6)], lambda a: np.quantile(a, 0.4, axis=1, method="lower")),
    ("quantile_higher", lambda a: ops.quantile(a, 0.4, axis=1, method="higher"),
     [r(3, 6)], lambda a: np.quantile(a, 0.4, axis=1, method="higher")),
    ("quantile_nearest", lambda a: ops.quantile(a, 0.7, axis=1, method="nearest"),
     [r(3, 6)], lambda a: np.quantile(a, 0.7, axis=1, method="nearest")),
    ("nanquantile", lambda a: ops.nanquantile(a, [0.25, 0.8], axis=1), [NANX],
     lambda a: np.nanquantile(a, [0.25, 0.8], axis=1)),
    ("nanmedian", lambda a: ops.nanmedian(a, axis=0), [NANX],
     lambda a: np.nanmedian(a, axis=0)),
    ("nanpercentile", lambda a: ops.nanpercentile(a, 35), [NANX],
     lambda a: np.nanpercentile(a, 35)),
    ("nansum", lambda a: ops.nansum(a, axis=1), [NANX], lambda a: np.nansum(a, 1)),
    ("nanmean", lambda a: ops.nanmean(a, axis=0, keepdims=True), [NANX],
     lambda a: np.nanmean(a, 0, keepdims=True)),
    ("nanvar", lambda a: ops.nanvar(a, axis=1), [NANX], lambda a: np.nanvar(a, 1)),
    ("nanstd", ops.nanstd, [NANX], np.nanstd),
    ("nanmax", lambda a: ops.nanmax(a, axis=1), [NANX], lambda a: np.nanmax(a, 1)),
    ("nanmin", lambda a: ops.nanmin(a, axis=0), [NANX], lambda a: np.nanmin(a, 0)),
    ("nanprod", lambda a: ops.nanprod(a, axis=1), [NANX], lambda a: np.nanprod(a, 1)),
    ("nancumsum", lambda a: ops.nancumsum(a, axis=1), [NANX], lambda a: np.nancumsum(a, 1)),
    ("nancumprod", lambda a: ops.nancumprod(a, axis=0), [NANX],
     lambda a: np.nancumprod(a, 0)),
    # arrays
    ("unstack", lambda a: ops.stack(ops.unstack(a, axis=1)[::-1]), [r(3, 4)],
     lambda a: np.stack(list(np.moveaxis(a, 1, 0))[::-1])),
    ("hstack", lambda a, b: ops.hstack([a, b]), [r(3, 2), r(3, 4)], lambda a, b: np.hstack([a, b])),
    ("hstack_1d", lambda a, b: ops.hstack([a, b]), [r(2), r(3)], lambda a, b: np.hstack([a, b])),
    ("vstack", lambda a, b: ops.vstack([a, b]), [r(4), r(2, 4)], lambda a, b: np.vstack([a, b])),
    ("dstack", lambda a, b: ops.dstack([a, b]), [r(4), r(4)], lambda a, b: np.dstack([a, b])),
    ("dstack_2d", lambda a, b: ops.dstack([a, b]), [r(2, 3), r(2, 3, 2)],
     lambda a, b: np.dstack([a, b])),
    ("column_stack", lambda a, b: ops.column_stack([a, b]), [r(3), r(3, 2)],
     lambda a, b: np.column_stack([a, b])),
    ("array_split", lambda a: ops.concatenate([t * (i + 1) for i, t in enumerate(
        ops.array_split(a, 3, axis=1))], axis=1), [r(2, 7)],
     lambda a: np.concatenate([t * (i + 1) for i, t in enumerate(
         np.array_split(a, 3, axis=1))], axis=1)),
    ("hsplit", lambda a: ops.hsplit(a, [1, 3])[1], [r(2, 5)], lambda a: np.hsplit(a, [1, 3])[1]),
    ("vsplit", lambda a: ops.vsplit(a, 2)[1], [r(4, 3)], lambda a: np.vsplit(a, 2)[1]),
    ("dsplit", lambda a: ops.dsplit(a, 2)[0], [r(2, 3, 4)], lambda a: np.dsplit(a, 2)[0]),
    ("ravel", ops.ravel, [r(3, 4)], np.ravel),
    ("append_flat", ops.append, [r(2, 2), r(3)], np.append),
    ("append_axis", lambda a, b: ops.append(a, b, axis=0), [r(2, 3), r(1, 3)],
     lambda a, b: np.append(a, b, axis=0)),
    ("copy", ops.copy, [r(3, 4)], np.copy),
    ("get_item", lambda a: ops.get_item(a, (slice(None), [0, 2, 2])), [r(3, 4)],
     lambda a: a[:, [0, 2, 2]]),
    ("flipud", ops.flipud, [r(3, 4)], np.flipud),
    ("fliplr", ops.fliplr, [r(3, 4)], np.fliplr),
    ("rot90", ops.rot90, [r(3, 4)], np.rot90),
    ("rot90_k3_axes", lambda a: ops.rot90(a, 3, axes=(2, 0)), [r(2, 3, 4)],
     lambda a: np.rot90(a, 3, axes=(2, 0))),
    ("rot90_k2", lambda a: ops.rot90(a, -2), [r(3, 4)], lambda a: np.rot90(a, -2)),
    ("diff", lambda a: ops.diff(a, n=2, axis=0), [r(5, 3)], lambda a: np.diff(a, 2, axis=0)),
    ("cross", ops.cross, [r(4, 3), r(4, 3)], np.cross),
    ("cross_axis", lambda a, b: ops.cross(a, b, axis=0), [r(3, 4), r(3, 4)],
     lambda a, b: np.cross(a, b, axis=0)),
    ("cross_2d", ops.cross, [r(4, 2), r(4, 2)], np_cross),
    ("cross_2d_3d", ops.cross, [r(4, 2), r(4, 3)], np_cross),
    ("kron", ops.kron, [r(2, 3), r(3, 2)], np.kron),
    ("kron_1d_2d", ops.kron, [r(2), r(2, 3)], np.kron),
    ("inner", ops.inner, [r(2, 4), r(3, 4)], np.inner),
    ("inner_scalar", ops.inner, [r(2, 4), np.array(1.5)], np.inner),
    ("vdot", ops.vdot, [r(2, 3), r(6)], lambda a, b: np.vdot(a, b)),
    ("correlate_valid", ops.correlate, [r(6), r(3)], np.correlate),
    ("correlate_same", lambda a, b: ops.correlate(a, b, "same"), [r(6), r(4)],
     lambda a, b: np.correlate(a, b, "same")),
    ("correlate_full_swapped", lambda a, b: ops.correlate(a, b, "full"), [r(3), r(5)],
     lambda a, b: np.correlate(a, b, "full")),
    ("correlate_valid_swapped", ops.correlate, [r(3), r(5)], np.correlate),
    ("trapezoid", ops.trapezoid, [r(3, 5)], np.trapezoid),
    ("trapezoid_x", lambda y, x: ops.trapezoid(y, x, axis=0), [r(4, 3), np.sort(r(4))],
     lambda y, x: np.trapezoid(y, x, axis=0)),
    ("trapezoid_dx", lambda y: ops.trapezoid(y, dx=0.3), [r(5)],
     lambda y: np.trapezoid(y, dx=0.3)),
    ("vander", lambda a: ops.vander(a, 4), [r(3)], lambda a: np.vander(a, 4)),
    ("vander_increasing", lambda a: ops.vander(a, increasing=True), [r(3)],
     lambda a: np.vander(a, increasing=True)),
    ("select", lambda a, b: ops.select([a < -0.5, a > 0.5], [a * b, b], default=0.0),
     [r(3, 4), r(3, 4)],
     lambda a, b: np.select([a < -0.5, a > 0.5], [a * b, b], default=0.0)),
    ("diagflat", lambda a: ops.diagflat(a, 1), [r(2, 2)], lambda a: np.diagflat(a, 1)),
    ("meshgrid_xy", lambda a, b: ops.meshgrid(a, b)[0] * ops.meshgrid(a, b)[1], [r(3), r(2)],
     lambda a, b: np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1]),
    ("meshgrid_ij", lambda a, b, c: ops.meshgrid(a, b, c, indexing="ij")[2],
     [r(2), r(3), r(4)], lambda a, b, c: np.meshgrid(a, b, c, indexing="ij")[2]),
    ("i0", ops.i0, [r(3, 4, low=-4, high=4)], np.i0),
    ("corrcoef", ops.corrcoef, [r(3, 6)], np.corrcoef),
    ("cdist", ops.cdist, [r(2, 3, 4), r(2, 5, 4)],
     lambda a, b: np.sqrt(((a[:, :, None] - b[:, None]) ** 2).sum(-1))),
    ("extract_sequences", lambda a: ops.extract_sequences(a, 3, 2), [r(2, 8)],
     lambda a: np.stack([a[:, 0:3], a[:, 2:5], a[:, 4:7]], axis=1)),
    # core
    ("slice", lambda a: ops.slice(a, (1, 0), (2, 3)), [r(3, 4)], lambda a: a[1:3, 0:3]),
    ("slice_update", lambda a, u: ops.slice_update(a, (1, 2), u), [r(3, 4), r(2, 2)],
     lambda a, u: np.concatenate([a[:1], np.concatenate([a[1:, :2], u], 1)], 0)),
    ("scatter", lambda v: ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), v, (3, 2, 2)),
     [r(3, 2)], None),
    ("scatter_update", lambda a, u: ops.scatter_update(a, [[0], [2]], u), [r(3, 4), r(2, 4)],
     lambda a, u: np.stack([u[0], a[1], u[1]])),
    ("scatter_update_add", lambda a, u: ops.scatter_update(a, [[0, 1], [0, 1], [2, 3]], u,
                                                          reduction="add"),
     [r(3, 4), r(3)], None),
    ("scatter_update_max", lambda a, u: ops.scatter_update(a, [[0, 1], [2, 3]], u,
                                                          reduction="max"),
     [r(3, 4), r(2)], None),
    ("scatter_update_mul", lambda a, u: ops.scatter_update(a, [[0, 1], [0, 1], [1, 1]], u,
                                                          reduction="mul"),
     [r(3, 4), pos(3)], None),
    ("segment_sum", lambda d: ops.segment_sum(d, np.array([0, 0, 2, -1, 2])), [r(5, 3)],
     lambda d: np.stack([d[0] + d[1], np.zeros(3), d[2] + d[4]])),
    ("segment_max", lambda d: ops.segment_max(d, np.array([1, 0, 1, 1]), num_segments=2),
     [r(4, 3)], lambda d: np.stack([d[1], np.max(d[[0, 2, 3]], 0)])),
    ("segment_min", lambda d: ops.segment_min(d, np.array([1, 0, 1, 1]), num_segments=2),
     [r(4)], lambda d: np.array([d[1], np.min(d[[0, 2, 3]])])),
    ("segment_prod", lambda d: ops.segment_prod(d, np.array([1, 0, 1, 1])), [r(4, 2)],
     lambda d: np.stack([d[1], np.prod(d[[0, 2, 3]], 0)])),
    # nn
    ("hard_silu", ops.hard_silu, [r(3, 4, low=-5, high=5)],
     lambda a: a * np.clip(a / 6 + 0.5, 0, 1)),
    ("hard_swish", ops.hard_swish, [r(3, 4, low=-5, high=5)],
     lambda a: a * np.clip(a / 6 + 0.5, 0, 1)),
    ("sparse_sigmoid", ops.sparse_sigmoid, [r(3, 4)], lambda a: np.clip((a + 1) / 2, 0, 1)),
    ("rms_normalization", lambda a, s: ops.rms_normalization(a, s), [r(3, 4), r(4)],
     lambda a, s: a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-7) * s),
    ("rms_normalization_axes", lambda a: ops.rms_normalization(a, axis=(1, 2), epsilon=1e-3),
     [r(2, 3, 4)], lambda a: a / np.sqrt((a * a).mean((1, 2), keepdims=True) + 1e-3)),
    ("dot_product_attention", lambda q, k, v: ops.dot_product_attention(q, k, v),
     [r(2, 3, 2, 4), r(2, 5, 2, 4), r(2, 5, 2, 3)], np_attention),
    ("dot_product_attention_causal_bias",
     lambda q, k, v, b: ops.dot_product_attention(q, k, v, bias=b, is_causal=True),
     [r(1, 4, 2, 3), r(1, 4, 2, 3), r(1, 4, 2, 3), r(1, 2, 4, 4)],
     lambda q, k, v, b: np_attention(q, k, v, b, causal=True)),
    ("dot_product_attention_mask",
     lambda q, k, v: ops.dot_product_attention(q, k, v, mask=np.array([True, False, True])),
     [r(2, 2, 1, 3), r(2, 3, 1, 3), r(2, 3, 1, 3)],
     lambda q, k, v: np_attention(q, k, v, mask=np.array([True, False, True]))),
    ("depth_to_space", lambda a: ops.depth_to_space(a, 2), [r(2, 2, 3, 8)],
     lambda a: a.reshape(2, 2, 3, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(2, 4, 6, 2)),
    ("depth_to_space_first", lambda a: ops.depth_to_space(a, 2, "channels_first"),
     [r(1, 8, 2, 3)],
     lambda a: a.reshape(1, 2, 2, 2, 2, 3).transpose(0, 1, 4, 2, 5, 3).reshape(1, 2, 4, 6)),
    ("space_to_depth_roundtrip", lambda a: ops.depth_to_space(ops.space_to_depth(a, 2), 2),
     [r(2, 4, 6, 3)], lambda a: a),
    ("space_to_depth_first_roundtrip", lambda a: ops.depth_to_space(
        ops.space_to_depth(a, 3, "channels_first"), 3, "channels_first"),
     [r(1, 2, 3, 6)], lambda a: a),
    ("psnr", lambda a, b: ops.psnr(a, b, 2.0), [r(3, 4), r(3, 4)],
     lambda a, b: 20 * np.log10(2.0) - 10 * np.log10(np.mean((a - b) ** 2))),
]


def _scatter_ref(v):
    out = np.zeros((3, 2, 2))
    np.add.at(out, (np.array([0, 2, 0]), np.array([1, 0, 1])), v)
    return out


def _scatter_add_ref(a, u):
    out = a.copy()
    np.add.at(out, (np.array([0, 0, 2]), np.array([1, 1, 3])), u)
    return out


def _scatter_max_ref(a, u):
    out = a.copy()
    np.maximum.at(out, (np.array([0, 2]), np.array([1, 3])), u)
    return out


def _scatter_mul_ref(a, u):
    out = a.copy()
    np.multiply.at(out, (np.array([0, 0, 1]), np.array([1, 1, 1])), u)
    return out


def _erfinv_ref(a):  # inverted through erf: erf(erfinv(a)) == a
    return a


REFS = {"scatter": _scatter_ref, "scatter_update_add": _scatter_add_ref,
        "scatter_update_max": _scatter_max_ref, "scatter_update_mul": _scatter_mul_ref}


@pytest.mark.parametrize("name,fn,inputs,ref", DIFF, ids=[c[0] for c in DIFF])
def test_forward_matches_numpy_and_gradient_checks(name, fn, inputs, ref):
    got = fn(*[cr.Tensor(x) for x in inputs])
    if name == "erfinv":
        np.testing.assert_allclose(np_erf(got.numpy()), inputs[0], rtol=1e-13, atol=1e-14)
    else:
        want = (ref or REFS[name])(*inputs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)
    result = check_gradients(fn, *inputs, eps=1e-6, tolerance=1e-5)
    assert result.ok, f"{name}:\n{result}"


B1 = np.array([12, 7, -3, 0])
B2 = np.array([10, 5, 4, 3])
X = r(3, 4)
X[0, 1] = 0.0
X[1, 2] = -0.0
SORTED = np.array([-1.0, 0.0, 0.5, 2.0, 2.0, 3.0])
VALS = np.array([[-2.0, 2.0, 0.25], [3.0, 9.0, 0.0]])

# (name, fn, inputs, NumPy reference) — results without gradient
NONDIFF = [
    ("trunc", ops.trunc, [X * 3], np.trunc),
    ("signbit", ops.signbit, [X], np.signbit),
    ("heaviside", lambda a: ops.heaviside(a, 0.5), [X], lambda a: np.heaviside(a, 0.5)),
    ("nextafter", lambda a: ops.nextafter(a, 5.0), [X], lambda a: np.nextafter(a, 5.0)),
    ("isneginf", ops.isneginf, [np.array([-np.inf, np.inf, 1.0, np.nan])], np.isneginf),
    ("isposinf", ops.isposinf, [np.array([-np.inf, np.inf, 1.0, np.nan])], np.isposinf),
    ("isreal", ops.isreal, [X], np.isreal),
    ("isclose", lambda a, b: ops.isclose(a, b, rtol=0.1), [X, X * 1.05 + 0.001],
     lambda a, b: np.isclose(a, b, rtol=0.1)),
    ("isclose_nan", lambda a: ops.isclose(a, a, equal_nan=True),
     [np.array([np.nan, 1.0])], lambda a: np.isclose(a, a, equal_nan=True)),
    ("allclose", lambda a, b: ops.allclose(a, b, atol=1e-3), [X, X + 1e-4],
     lambda a, b: np.allclose(a, b, atol=1e-3)),
    ("allclose_false", ops.allclose, [X, X + 1e-4], np.allclose),
    ("imag", ops.imag, [X], np.imag),
    ("angle", ops.angle, [X], np.angle),
    ("nanargmax", lambda a: ops.nanargmax(a, axis=1), [NANX2],
     lambda a: np.array([np.nanargmax(a[0]), -1, np.nanargmax(a[2])])),
    ("nanargmin_flat", ops.nanargmin, [NANX], np.nanargmin),
    ("nanargmin_keepdims", lambda a: ops.nanargmin(a, axis=0, keepdims=True), [NANX],
     lambda a: np.nanargmin(a, axis=0, keepdims=True)),
    ("bitwise_and", ops.bitwise_and, [B1, B2], np.bitwise_and),
    ("bitwise_or", ops.bitwise_or, [B1, B2], np.bitwise_or),
    ("bitwise_xor", ops.bitwise_xor, [B1, B2], np.bitwise_xor),
    ("bitwise_not", ops.bitwise_not, [B1], np.invert),
    ("bitwise_invert_bool", ops.bitwise_invert, [np.array([True, False])], np.invert),
    ("left_shift", ops.left_shift, [B2, np.array([1, 2, 0, 3])], np.left_shift),
    ("bitwise_right_shift", ops.bitwise_right_shift, [B1, np.array([1, 2, 0, 3])],
     np.right_shift),
    ("gcd", ops.gcd, [B1, B2], np.gcd),
    ("lcm", ops.lcm, [B1, B2], np.lcm),
    ("fmod_int", ops.fmod, [B1, B2], np.fmod),
    ("searchsorted", ops.searchsorted, [SORTED, VALS], np.searchsorted),
    ("searchsorted_right", lambda s, v: ops.searchsorted(s, v, side="right"), [SORTED, VALS],
     lambda s, v: np.searchsorted(s, v, side="right")),
    ("digitize", ops.digitize, [VALS, SORTED[[0, 2, 3, 5]]], np.digitize),
    ("bincount", ops.bincount, [np.array([0, 3, 3, 1, 5])], np.bincount),
    ("bincount_weights_minlength", lambda x, w: ops.bincount(x, w, minlength=8),
     [np.array([0, 3, 3, 1]), np.array([0.5, 1.0, 2.0, 0.25])],
     lambda x, w: np.bincount(x, w, minlength=8)),
    ("bincount_2d", ops.bincount, [np.array([[0, 1, 1], [3, 3, 0]])],
     lambda x: np.stack([np.bincount(x[0], minlength=4), np.bincount(x[1], minlength=4)])),
    ("isin", ops.isin, [X, X[0]], np.isin),
    ("isin_invert", lambda a: ops.isin(a, [0.0], invert=True), [X],
     lambda a: np.isin(a, [0.0], invert=True)),
    ("argpartition", lambda a: ops.argpartition(a, 2, axis=1), [X],
     lambda a: np.argpartition(a, 2, axis=1)),
    ("unravel_index", lambda i: ops.stack(ops.unravel_index(i, (3, 4, 2))),
     [np.array([0, 5, 23, 9])], lambda i: np.stack(np.unravel_index(i, (3, 4, 2)))),
    ("histogram_counts", lambda a: ops.histogram(a, bins=4)[0], [X],
     lambda a: np.histogram(a, bins=4)[0]),
    ("histogram_edges", lambda a: ops.histogram(a, bins=3, range=(-1, 2))[1], [X],
     lambda a: np.histogram(a, bins=3, range=(-1, 2))[1]),
    ("bartlett", lambda n: ops.bartlett(n), [np.array(7)],
     lambda n: np.bartlett(7).astype("float32")),
    ("blackman", lambda n: ops.blackman(6), [np.array(6)],
     lambda n: np.blackman(6).astype("float32")),
    ("hamming", lambda n: ops.hamming(5), [np.array(5)], lambda n: np.hamming(5).astype("float32")),
    ("hanning", lambda n: ops.hanning(4), [np.array(4)], lambda n: np.hanning(4).astype("float32")),
    ("kaiser", lambda n: ops.kaiser(5, 3.0), [np.array(5)],
     lambda n: np.kaiser(5, 3.0).astype("float32")),
    ("view", lambda a: ops.view(a, "int64"), [X], lambda a: a.view("int64")),
    ("matrix_rank", ops.matrix_rank, [np.array([[1.0, 2.0], [2.0, 4.0]])],
     np.linalg.matrix_rank),
    ("saturate_cast_uint8", lambda a: ops.saturate_cast(a * 200, "uint8"), [X],
     lambda a: np.clip(a * 200, 0, 255).astype(np.uint8)),
    ("saturate_cast_int8_from_int", lambda a: ops.saturate_cast(a, "int8"),
     [np.array([-1000, 5, 300])], lambda a: np.clip(a, -128, 127).astype(np.int8)),
]


@pytest.mark.parametrize("name,fn,inputs,ref", NONDIFF, ids=[c[0] for c in NONDIFF])
def test_non_differentiable_ops_match_numpy_and_carry_no_gradient(name, fn, inputs, ref):
    tensors = [cr.Tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    with np.errstate(all="ignore"):
        got = fn(*tensors)
        want = ref(*inputs)
    assert isinstance(got, cr.Tensor) and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), want)


def test_divide_no_nan_is_zero_with_zero_gradients_where_the_divisor_is_zero():
    a = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = cr.Tensor(np.array([0.0, 4.0]), requires_grad=True)
    y = ops.divide_no_nan(a, b)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.5])
    ops.sum(y).backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.25])
    np.testing.assert_array_equal(b.grad, [0.0, -2.0 / 16])


def test_saturate_cast_clips_to_the_target_range():
    x = cr.Tensor(np.array([-1e39, 1.0, 1e39]), requires_grad=True)
    y = ops.saturate_cast(x, "float32")
    np.testing.assert_array_equal(y.numpy(), np.array([np.finfo("float32").min, 1.0,
                                                       np.finfo("float32").max], "float32"))
    ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    big = ops.saturate_cast(cr.Tensor(np.array([3e9, -3e9], "float32")), "int32").numpy()
    np.testing.assert_array_equal(big, [np.iinfo("int32").max - 127, np.iinfo("int32").min])


def test_index_results_are_int32_and_keras_dtypes():
    x = cr.Tensor(X.astype("float32"))
    assert ops.searchsorted(SORTED, VALS).dtype == np.int32
    assert ops.digitize(VALS, SORTED).dtype == np.int32
    assert ops.bincount(np.array([1, 2])).dtype == np.int32
    assert ops.argpartition(x, 1).dtype == np.int32
    assert ops.nanargmax(x).dtype == np.int32
    assert ops.matrix_rank(x).dtype == np.int32
    assert ops.dtype(x) == "float32" and ops.dtype(np.zeros(2, "int64")) == "int64"
    # float ops promote integer inputs to floatx, as Keras does
    assert ops.arcsin(np.array([0, 1])).dtype == np.float32
    assert ops.median(np.array([1, 2, 4])).dtype == np.float32
    assert ops.nanmean(np.array([1, 2])).dtype == np.float32


def test_creation_functions_match_numpy():
    np.testing.assert_array_equal(ops.tri(3, 4, 1).numpy(), np.tri(3, 4, 1, dtype="float32"))
    assert ops.tri(2, dtype="int32").dtype == np.int32
    e = ops.empty((2, 3), dtype="int32")
    assert e.shape == (2, 3) and e.dtype == np.int32
    assert ops.empty_like(np.zeros((4, 1), "float64")).dtype == np.float64
    np.testing.assert_allclose(ops.geomspace(1.0, 1000.0, 4).numpy(),
                               np.geomspace(1, 1000, 4), rtol=1e-6)
    np.testing.assert_allclose(ops.logspace(0.0, 3.0, 4, base=2).numpy(),
                               np.logspace(0, 3, 4, base=2), rtol=1e-6)
    np.testing.assert_allclose(ops.logspace(0.0, 1.0, 3, endpoint=False).numpy(),
                               np.logspace(0, 1, 3, endpoint=False), rtol=1e-6)
    assert ops.array([1, 2], dtype="float64").dtype == np.float64
    a = cr.Tensor([1.0, 2.0])
    assert ops.array(a) is a


def test_unstack_num_and_split_families():
    x = cr.Tensor(np.arange(12.0).reshape(3, 4))
    assert [t.shape for t in ops.unstack(x)] == [(4,)] * 3
    with pytest.raises(ValueError, match=r"unstack: num must equal the length 3 of axis 0\. "
                                         r"Received: num=2"):
        ops.unstack(x, num=2)
    for got, want in zip(ops.array_split(x, 3, axis=1), np.array_split(x.numpy(), 3, axis=1)):
        np.testing.assert_array_equal(got.numpy(), want)
    for got, want in zip(ops.hsplit(cr.Tensor(np.arange(6.0)), 3), np.hsplit(np.arange(6.0), 3)):
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's references warn on NaN slices
def test_quantile_with_nan_is_nan_and_nan_reductions_of_all_nan_slices():
    with np.errstate(all="ignore"):
        assert np.isnan(ops.quantile(cr.Tensor(NANX), 0.5).numpy())
        got = ops.nanmax(cr.Tensor(NANX2), axis=1).numpy()
        np.testing.assert_array_equal(np.isnan(got), [False, True, False])
        np.testing.assert_allclose(ops.nanmean(cr.Tensor(NANX2), axis=1).numpy(),
                                   np.nanmean(NANX2, axis=1))
        np.testing.assert_allclose(ops.nanmedian(cr.Tensor(NANX2), axis=1).numpy(),
                                   np.nanmedian(NANX2, axis=1))


def test_nan_reduction_gradient_is_zero_at_nan_and_finite():
    x = cr.Tensor(NANX, requires_grad=True)
    ops.sum(ops.nanvar(x, axis=1) + ops.nanmax(x, axis=0).sum()).backward()
    assert np.all(np.isfinite(x.grad)) and x.grad[0, 1] == 0 and x.grad[2, 3] == 0


def test_segment_max_ties_share_the_gradient_and_empty_segments():
    d = cr.Tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    out = ops.segment_max(d, np.array([0, 0, 0, 2]), num_segments=4)
    np.testing.assert_array_equal(out.numpy(), [3.0, -np.inf, 2.0, -np.inf])
    ops.sum(out[np.array([0, 2])]).backward()
    np.testing.assert_array_equal(d.grad, [0.0, 0.5, 0.5, 1.0])


def test_scatter_update_does_not_modify_its_input():
    a = np.zeros((2, 2))
    out = ops.scatter_update(a, [[1, 1]], [5.0])
    assert a[1, 1] == 0 and out.numpy()[1, 1] == 5
    b = ops.slice_update(a, (0, 0), np.ones((1, 1)))
    assert a[0, 0] == 0 and b.numpy()[0, 0] == 1


def test_control_flow_runs_the_python_and_differentiates_through_it():
    w = cr.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = ops.fori_loop(0, 3, lambda i, v: v * w + float(i), cr.Tensor(np.array([1.0, 1.0])))
    ops.sum(y).backward()
    # y = ((w + 0) w + 1) w + 2 = w^3 + w + 2 -> dy/dw = 3 w^2 + 1
    np.testing.assert_allclose(w.grad, 3 * w.numpy() ** 2 + 1)
    assert ops.cond(cr.Tensor(1.0) > 0, lambda: 1, lambda: 2) == 1
    assert ops.switch(-4, [lambda x: x + 1, lambda x: x * 2], 10) == 11
    assert ops.while_loop(lambda a, b: a < 5, lambda a, b: (a + 1, b * 2), (0, 1)) == (5, 32)
    assert ops.while_loop(lambda a: True, lambda a: a + 1, 0, maximum_iterations=4) == 4
    assert ops.while_loop(lambda a, b: a < 3, lambda a, b: [a + 1, b], [0, 7]) == (3, 7)


def test_scan_map_and_vectorized_map_against_loops():
    xs = r(5, 3)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), cr.Tensor(np.zeros(3)), cr.Tensor(xs))
    c, want = np.zeros(3), []
    for x in xs:
        want.append(c * x)
        c = c + x
    np.testing.assert_allclose(carry.numpy(), c)
    np.testing.assert_allclose(ys.numpy(), np.stack(want))
    # reverse, nested carry and xs, no xs with length
    (c1, c2), ys = ops.scan(lambda c, x: ((c[0] + x["a"], c[1] * 2.0), x["a"] - x["b"]),
                            (0.0, 1.0), {"a": cr.Tensor(xs[:, 0]), "b": cr.Tensor(xs[:, 1])},
                            reverse=True)
    np.testing.assert_allclose(float(c1), xs[:, 0].sum())
    assert c2 == 32.0
    np.testing.assert_allclose(ys.numpy(), xs[:, 0] - xs[:, 1])
    carry, ys = ops.scan(lambda c, _: (c + 1, None), 0, length=4)
    assert carry == 4 and [y.shape for y in ys] == [(4,)]
    np.testing.assert_array_equal(ys[0].numpy(), 0)
    with pytest.raises(ValueError, match=r"scan: unroll must be a positive integer or a "
                                         r"boolean\. Received: unroll=0$"):
        ops.scan(lambda c, x: (c, x), 0, length=2, unroll=0)
    np.testing.assert_allclose(ops.map(lambda x: ops.sum(x), cr.Tensor(xs)).numpy(), xs.sum(1))
    got = ops.vectorized_map(lambda ab: ab[0] @ ab[1], [cr.Tensor(r(4, 2, 3)),
                                                        cr.Tensor(r(4, 3))])
    assert got.shape == (4, 2)
    check = check_gradients(lambda a: ops.map(lambda x: ops.sum(ops.sin(x) * x), a), xs)
    assert check.ok, str(check)


def test_associative_scan_matches_cumulative_ops():
    x = r(4, 5)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, cr.Tensor(x),
                                                    axis=1).numpy(), np.cumsum(x, 1))
    np.testing.assert_allclose(ops.associative_scan(ops.maximum, cr.Tensor(x),
                                                    reverse=True).numpy(),
                               np.maximum.accumulate(x[::-1], 0)[::-1])
    pair = ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]),
                                (cr.Tensor(x[0]), cr.Tensor(x[1])))
    np.testing.assert_allclose(pair[0].numpy(), np.cumsum(x[0]))
    np.testing.assert_allclose(pair[1].numpy(), np.cumprod(x[1]))


def test_ops_on_symbolic_inputs_build_a_functional_model():
    inp = cr.layers.Input((6,))
    parts = ops.array_split(inp, 2, axis=1)
    h = ops.hstack([ops.logaddexp(parts[0], parts[1]), ops.cbrt(parts[0])])
    q = ops.quantile(inp, [0.25, 0.75], axis=1)
    out = ops.concatenate([h, ops.transpose(q)], axis=1)
    loop = ops.fori_loop(0, 2, lambda i, v: v * 2.0, out)  # records the multiplications
    model = cr.Model(inp, loop)
    assert model.output_shape == (None, 8)
    x = r(3, 6).astype("float32")
    a, b = x[:, :3], x[:, 3:]
    want = np.concatenate([np.logaddexp(a, b), np.cbrt(a),
                           np.quantile(x, [0.25, 0.75], axis=1).T], axis=1) * 4
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    assert ops.dtype(inp) == "float32"
    # a model holding the new ops saves and loads
    restored = cr.Model.from_config(model.get_config())
    np.testing.assert_allclose(restored.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_symbolic_ops_with_list_outputs_and_attention():
    q_in = cr.layers.Input((4, 2, 8))
    y = ops.dot_product_attention(q_in, q_in, q_in, is_causal=True)
    z = ops.depth_to_space(ops.reshape(y, (-1, 2, 2, 16)), 2)
    rows = ops.unstack(z, axis=1)
    model = cr.Model(q_in, rows)
    assert [tuple(s) for s in model.output_shape] == [(None, 4, 4)] * 4
    out = model.predict(np.ones((2, 4, 2, 8), "float32"), verbose=0)
    assert len(out) == 4 and out[0].shape == (2, 4, 4)


class MixedOps(Layer):
    """A layer computing with several of the new ops (all op calls: capturable)."""

    def call(self, inputs):
        a, b = ops.hsplit(inputs, 2)
        h = ops.logaddexp(a, b) + ops.hard_silu(a) + ops.nanmean(b, axis=-1, keepdims=True)
        h = ops.rms_normalization(h) * ops.sparse_sigmoid(b)
        med = ops.median(inputs, axis=-1, keepdims=True)
        return ops.vstack([ops.hstack([h, med])])


def _mixed_model(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([cr.Input(shape=(6,)), MixedOps(), Dense(2)])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    return model


def test_a_layer_of_new_ops_is_captured_and_matches_the_tape():
    x = rng.standard_normal((40, 6)).astype(np.float32)
    y = rng.standard_normal((40, 2)).astype(np.float32)
    fast = _mixed_model("auto")
    hf = fast.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    assert [e.program for k, e in fast._steps.entries.items() if k[0] == "train"
            and e.program is not None], "the layer should be captured"
    slow = _mixed_model(False)
    hs = slow.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    assert slow._steps.entries == {}
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hf.history == hs.history
    _mixed_model(True).fit(x, y, batch_size=16, epochs=1, verbose=0)


@pytest.mark.parametrize("call,error,match", [
    (lambda: ops.quantile(X, 1.5), ValueError,
     r"quantile: q must be a number or a 1-D list of numbers in \[0, 1\]\. Received: q=1\.5$"),
    (lambda: ops.percentile(X, 50, method="linearr"), ValueError,
     r"percentile: method must be one of linear, lower, higher, midpoint, nearest\. "
     r"Received: method='linearr'$"),
    (lambda: ops.bitwise_and(X, B1), TypeError,
     r"bitwise_and: x must hold integers or booleans\. Received: x of dtype float64$"),
    (lambda: ops.ldexp(X, X), TypeError,
     r"ldexp: the exponent x2 must be an integer type\. Received: x2 of dtype float64$"),
    (lambda: ops.average(X, axis=1, weights=[1.0, 2.0]), ValueError,
     r"average: weights must have x's shape \(3, 4\).*Received: weights of shape \(2,\), "
     r"axis=1$"),
    (lambda: ops.searchsorted(X, 1.0), ValueError,
     r"searchsorted: sorted_sequence must be 1-D .*Received: sorted_sequence of shape "
     r"\(3, 4\)$"),
    (lambda: ops.searchsorted(SORTED, 1.0, side="middle"), ValueError,
     r"searchsorted: side must be 'left' or 'right'\. Received: side='middle'$"),
    (lambda: ops.bincount(np.array([0.5])), ValueError,
     r"bincount: x must be a 1-D or 2-D tensor of integers\. Received: x of shape \(1,\) "
     r"and dtype float64$"),
    (lambda: ops.rot90(np.zeros(3)), ValueError,
     r"rot90: the input must have at least 2 dimensions\. Received: array\.ndim=1$"),
    (lambda: ops.rot90(X, axes=(1, 1)), ValueError,
     r"rot90: axes must be two different axes of the input\. Received: axes=\(1, 1\)$"),
    (lambda: ops.cross(np.zeros(4), np.zeros(3)), ValueError,
     r"cross: both inputs must be vectors of 2 or 3 components .*Received: vectors of 4 "
     r"and 3 components$"),
    (lambda: ops.correlate(X, np.zeros(2)), ValueError,
     r"correlate: x1 and x2 must be non-empty 1-D tensors\. Received: shapes \(3, 4\) and "
     r"\(2,\)$"),
    (lambda: ops.correlate(np.zeros(3), np.zeros(2), mode="wide"), ValueError,
     r"correlate: mode must be 'valid', 'same' or 'full'\. Received: mode='wide'$"),
    (lambda: ops.slice(X, (0, 3), (2, 2)), ValueError,
     r"slice: the block runs out of inputs of shape \(3, 4\)\. Received: "
     r"start_indices=\(0, 3\), shape=\(2, 2\)$"),
    (lambda: ops.slice_update(X, (2, 0), np.zeros((2, 2))), ValueError,
     r"slice_update: updates of shape \(2, 2\) must fit inside inputs of shape \(3, 4\) at "
     r"start_indices\. Received: start_indices=\(2, 0\)$"),
    (lambda: ops.scatter_update(X, [[0, 0]], [1.0], reduction="avg"), ValueError,
     r"scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul'\. "
     r"Received: reduction='avg'$"),
    (lambda: ops.scatter(np.array([[0.5]]), np.zeros(1), (2,)), ValueError,
     r"scatter: indices must be integers of shape \(\.\.\., k\) with k <= 1.*Received: "
     r"indices of shape \(1, 1\) and dtype float64$"),
    (lambda: ops.segment_sum(np.zeros((3, 2)), np.array([0, 1])), ValueError,
     r"segment_sum: segment_ids must be a 1-D integer tensor with one id per row of data\. "
     r"Received: segment_ids of shape \(2,\) and dtype int64 for data of shape \(3, 2\)$"),
    (lambda: ops.depth_to_space(np.zeros((1, 2, 2, 6)), 2), ValueError,
     r"depth_to_space: the channels \(6\) must be divisible by block_size\*\*2 \(4\)\. "
     r"Received: x of shape \(1, 2, 2, 6\)$"),
    (lambda: ops.space_to_depth(np.zeros((1, 2, 2, 6)), 1), ValueError,
     r"space_to_depth: block_size must be an integer of at least 2\. Received: "
     r"block_size=1$"),
    (lambda: ops.dot_product_attention(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)),
                                       np.zeros((2, 3, 4))), ValueError,
     r"dot_product_attention: query, key and value must be 4-D .*Received: "
     r"query\.shape=\(2, 3, 4\), key\.shape=\(2, 3, 4\), value\.shape=\(2, 3, 4\)$"),
    (lambda: ops.dot_product_attention(*[np.zeros((1, 2, 1, 2))] * 3, flash_attention=True),
     ValueError, r"dot_product_attention: chainrule has no flash attention kernel\. "
                 r"Received: flash_attention=True$"),
    (lambda: ops.psnr(np.zeros(3), np.zeros(2), 1.0), ValueError,
     r"psnr: x1 and x2 must have the same shape\. Received: x1\.shape=\(3,\), "
     r"x2\.shape=\(2,\)$"),
    (lambda: ops.scan(lambda c, x: (c, x), 0), ValueError,
     r"scan: give xs to scan over, or length\. Received: xs=None, length=None$"),
    (lambda: ops.fori_loop(0, 2, "body", 0), TypeError,
     r"fori_loop: body_fun must be callable\. Received: body_fun='body'$"),
    (lambda: ops.switch(0, [], 1), ValueError,
     r"switch: branches must be a non-empty list of functions\. Received: branches=\[\]$"),
    (lambda: ops.unravel_index(np.array([7]), (2, 3)), ValueError,
     r"unravel_index: indices must be in \[0, 6\) for shape \(2, 3\)\. Received: indices "
     r"from 7 to 7$"),
    (lambda: ops.diff(X, n=-1), ValueError,
     r"diff: n must be a non-negative integer\. Received: n=-1$"),
    (lambda: ops.meshgrid(np.zeros(2), indexing="yx"), ValueError,
     r"meshgrid: indexing must be 'xy' or 'ij'\. Received: indexing='yx'$"),
    (lambda: ops.histogram(X, bins=0), ValueError,
     r"histogram: bins must be a positive integer\. Received: bins=0$"),
    (lambda: ops.vsplit(np.zeros(4), 2), ValueError,
     r"vsplit: needs at least 2 dimensions\. Received: x of shape \(4,\)$"),
])
def test_bad_arguments_name_themselves(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_keras_namespaces_numpy_nn_and_linalg_hold_the_ops():
    from chainrule.ops import linalg, nn
    from chainrule.ops import numpy as knp

    for name in ["abs", "mean", "vstack", "nanmean", "quantile", "cross", "searchsorted",
                 "bitwise_and", "trapezoid", "slogdet", "view", "kaiser", "get_item"]:
        assert getattr(knp, name) is getattr(ops, name), name
    assert set(knp.__all__) <= set(ops.__all__)
    for name in nn.KERAS_NN_NAMES:
        assert getattr(nn, name) is getattr(ops, name), name
    from chainrule.ops.nn import conv, dot_product_attention  # noqa: F401 - importable
    assert "one_hot" in dir(nn)
    with pytest.raises(AttributeError, match="has no attribute 'not_an_op'"):
        nn.not_an_op  # noqa: B018
    for name in ["relu", "softmax", "leaky_relu", "gelu"]:
        assert getattr(nn, name) is getattr(ops, name), name
    np.testing.assert_allclose(nn.leaky_relu(cr.Tensor([-1.0]), negative_slope=0.1).numpy(),
                               [-0.1])
    assert linalg.det is ops.det and linalg.einsum.__name__ == "einsum"
    inp = cr.layers.Input((3, 3))
    assert linalg.inv(inp).shape == (None, 3, 3)
    assert nn.relu(inp).shape == (None, 3, 3)
    assert knp.cbrt(inp).shape == (None, 3, 3)
    model = cr.Model(inp, [linalg.inv(inp), linalg.solve(inp, inp), linalg.cholesky(inp)])
    a = np.array([[[4.0, 2.0, 0.0], [2.0, 5.0, 1.0], [0.0, 1.0, 3.0]]], "float32")
    got = model.predict(a, verbose=0)
    np.testing.assert_allclose(got[0], np.linalg.inv(a), rtol=1e-5)
    np.testing.assert_allclose(got[1], np.eye(3)[None], atol=1e-6)
    np.testing.assert_allclose(got[2], np.linalg.cholesky(a), rtol=1e-6)
    assert float(ops.corrcoef(r(5))) == 1.0


def test_control_flow_on_symbolic_tensors():
    x = cr.layers.Input((3,))
    c, ys = ops.scan(lambda c, v: (c + v, c * 1.0), ops.zeros_like(x[:, 0]), ops.transpose(x))
    doubled = ops.map(lambda v: v * 2.0, x)  # over the unknown batch axis: one op node
    sums = ops.vectorized_map(lambda v: ops.sum(v), x)
    cums = ops.associative_scan(lambda a, b: a + b, x, axis=1)  # known length: unrolled
    plus3 = ops.fori_loop(0, 3, lambda i, v: v + 1.0, x)
    model = cr.Model(x, [c, ys, doubled, sums, cums, plus3])
    assert model.output_shape == [(None,), (3, None), (None, 3), (None,), (None, 3), (None, 3)]
    names = [op.function for op in model.operations[1:]]
    assert "map" in names and "vectorized_map" in names and "associative_scan" not in names
    a = np.arange(6, dtype="float32").reshape(2, 3)
    got = model.predict(a, verbose=0)
    np.testing.assert_allclose(got[0], a.sum(1))
    np.testing.assert_allclose(got[1], np.stack([np.zeros(2), a[:, 0], a[:, :2].sum(1)]))
    np.testing.assert_allclose(got[2], a * 2)
    np.testing.assert_allclose(got[3], a.sum(1))
    np.testing.assert_allclose(got[4], np.cumsum(a, 1))
    np.testing.assert_allclose(got[5], a + 3)
    with pytest.raises(ValueError, match=r"cond: pred is a symbolic tensor of a functional "
                                         r"model.*Received: pred=a KerasTensor$"):
        ops.cond(ops.sum(x) > 0, lambda: x, lambda: -x)
    with pytest.raises(ValueError, match=r"while_loop: the value of cond is a symbolic tensor"):
        ops.while_loop(lambda v: ops.sum(v) < 3, lambda v: v + 1, x)
    with pytest.raises(ValueError, match=r"switch: index is a symbolic tensor"):
        ops.switch(ops.argmax(x), [lambda: x], )


def test_a_model_mapping_over_its_batch_trains_and_replays():
    def make(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        inp = cr.layers.Input((4,))
        h = cr.layers.Dense(3)(inp)
        out = ops.map(lambda row: ops.tanh(row) * 2.0, h)
        model = cr.Model(inp, out)
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        return model

    x = rng.standard_normal((16, 4)).astype("float32")
    y = rng.standard_normal((16, 3)).astype("float32")
    fast, slow = make(True), make(False)
    fast.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    slow.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_segment_ops_and_bincount_on_symbolic_tensors_need_a_fixed_size():
    import chainrule as cr

    x = cr.Input((4,))
    ids = cr.Input((4,), dtype="int32")
    for name in ("segment_sum", "segment_max", "segment_min", "segment_prod"):
        with pytest.raises(ValueError, match=rf"ops\.{name} cannot be called on a symbolic "
                                             r"tensor.*Pass num_segments="):
            getattr(cr.ops, name)(x, ids)
    with pytest.raises(ValueError, match=r"ops\.bincount cannot be called on a symbolic tensor"):
        cr.ops.bincount(ids)
    out = cr.ops.segment_sum(cr.ops.transpose(x), cr.ops.convert_to_tensor(
        np.array([0, 0, 1, 1])), num_segments=2)
    assert tuple(out.shape)[0] == 2

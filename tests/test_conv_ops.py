"""ops.conv, ops.max_pool, ops.average_pool: values against direct loops, float64 gradients."""

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(0)


# -- independent references: a loop over every output position ---------------------------------


def ref_pads(n, k, s, d, padding):
    span = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = math.ceil(n / s)
    total = max(0, (out - 1) * s + span - n)
    return total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilation, channels_first=False):
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    nd = w.ndim - 2
    k = w.shape[:nd]
    cg, f = w.shape[-2], w.shape[-1]
    groups = x.shape[-1] // cg
    pads = [ref_pads(x.shape[1 + i], k[i], strides[i], dilation[i], padding) for i in range(nd)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = [(xp.shape[1 + i] - dilation[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]
    y = np.zeros((x.shape[0], *out, f))
    for pos in itertools.product(*(range(o) for o in out)):
        for j in range(f):
            g = j // (f // groups)
            total = np.zeros(x.shape[0])
            for off in itertools.product(*(range(kk) for kk in k)):
                idx = tuple(pos[i] * strides[i] + off[i] * dilation[i] for i in range(nd))
                total += xp[(slice(None),) + idx + (slice(g * cg, (g + 1) * cg),)] @ w[
                    off + (slice(None), j)]
            y[(slice(None),) + pos + (j,)] = total
    return np.moveaxis(y, -1, 1) if channels_first else y


def ref_pool(x, pool, strides, padding, kind, channels_first=False):
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 2
    pads = [ref_pads(x.shape[1 + i], pool[i], strides[i], 1, padding) for i in range(nd)]
    out = [math.ceil(x.shape[1 + i] / strides[i]) if padding == "same"
           else (x.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(nd)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for pos in itertools.product(*(range(o) for o in out)):
        sl = []
        for i in range(nd):
            start = pos[i] * strides[i] - pads[i][0]
            sl.append(slice(max(start, 0), min(start + pool[i], x.shape[1 + i])))
        win = x[(slice(None),) + tuple(sl) + (slice(None),)]
        axes = tuple(range(1, nd + 1))
        y[(slice(None),) + pos + (slice(None),)] = (win.max(axis=axes) if kind == "max"
                                                    else win.mean(axis=axes))
    return np.moveaxis(y, -1, 1) if channels_first else y


# (id, input shape, kernel shape, strides, padding, dilation, channels_first)
CONV_CASES = [
    ("1d_valid", (2, 7, 3), (3, 3, 4), (1,), "valid", (1,), False),
    ("1d_same_stride2", (2, 8, 3), (3, 3, 2), (2,), "same", (1,), False),
    ("1d_causal_dilation", (2, 9, 2), (3, 2, 3), (1,), "causal", (2,), False),
    ("1d_groups", (2, 6, 4), (2, 2, 6), (1,), "valid", (1,), False),
    ("1d_channels_first", (2, 3, 7), (3, 3, 2), (1,), "same", (1,), True),
    ("2d_valid", (2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "valid", (1, 1), False),
    ("2d_same", (2, 5, 6, 2), (3, 2, 2, 3), (1, 1), "same", (1, 1), False),
    ("2d_strides", (2, 7, 6, 2), (3, 3, 2, 3), (2, 3), "valid", (1, 1), False),
    ("2d_same_strides", (2, 7, 6, 2), (3, 3, 2, 3), (2, 2), "same", (1, 1), False),
    ("2d_dilation", (2, 7, 7, 2), (3, 2, 2, 2), (1, 1), "same", (2, 3), False),
    ("2d_groups", (2, 5, 5, 6), (3, 3, 2, 6), (1, 1), "same", (1, 1), False),
    ("2d_depthwise_groups", (1, 4, 5, 3), (2, 2, 1, 3), (1, 1), "valid", (1, 1), False),
    ("2d_channels_first", (2, 3, 5, 6), (3, 3, 3, 2), (2, 1), "same", (1, 1), True),
    ("3d_valid", (1, 4, 4, 3, 2), (2, 2, 2, 2, 3), (1, 1, 1), "valid", (1, 1, 1), False),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_matches_direct_loop(case):
    _, xs, ks, s, pad, d, cf = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ks)
    fmt = "channels_first" if cf else "channels_last"
    y = ops.conv(x, w, strides=s, padding=pad, dilation_rate=d, data_format=fmt).numpy()
    np.testing.assert_allclose(y, ref_conv(x, w, s, pad, d, cf), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_gradients(case):
    _, xs, ks, s, pad, d, cf = case
    fmt = "channels_first" if cf else "channels_last"
    b = rng.standard_normal(ks[-1])

    def fn(x, w, b):
        return ops.conv(x, w, strides=s, padding=pad, dilation_rate=d, data_format=fmt, bias=b)

    # linear in each input: a large step has no truncation error and less rounding
    result = check_gradients(fn, rng.standard_normal(xs), rng.standard_normal(ks), b, eps=1e-4)
    assert result.ok, str(result)


def test_conv_bias_is_added_per_filter():
    x, w, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(ops.conv(x, w, bias=b).numpy(), ops.conv(x, w).numpy() + b)


def test_conv_float32_stays_float32_and_scalar_arguments():
    x = rng.standard_normal((2, 6, 6, 1)).astype("float32")
    w = rng.standard_normal((3, 3, 1, 2)).astype("float32")
    y = ops.conv(x, w, strides=2, padding="SAME", dilation_rate=1)
    assert y.dtype == np.float32 and y.shape == (2, 3, 3, 2)


def test_conv_replay_reuses_buffers_without_changing_results():
    from chainrule.ops.conv import Conv

    x1, x2 = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 6, 6, 2))
    w = rng.standard_normal((3, 3, 2, 3))
    fn = Conv((1, 1), "same", (1, 1), False)
    fn.needs = (True, True)
    y1 = fn.forward(x1, w).copy()
    g1 = [g.copy() for g in fn.backward(np.ones_like(y1))[:2]]
    y2 = fn.forward(x2, w)  # the same object again, as a replayed step calls it
    np.testing.assert_allclose(y2, ref_conv(x2, w, (1, 1), "same", (1, 1)), atol=1e-10)
    fn.forward(x1, w)
    g1b = fn.backward(np.ones_like(y1))[:2]
    for a, b in zip(g1, g1b):
        np.testing.assert_array_equal(a, b)


# (id, input shape, pool, strides, padding, channels_first)
POOL_CASES = [
    ("1d_default", (2, 7, 3), (2,), (2,), "valid", False),
    ("1d_same", (2, 7, 3), (3,), (2,), "same", False),
    ("1d_overlap", (2, 7, 2), (3,), (1,), "valid", False),
    ("2d_2x2", (2, 6, 6, 3), (2, 2), (2, 2), "valid", False),
    ("2d_odd_valid", (2, 7, 5, 2), (2, 2), (2, 2), "valid", False),
    ("2d_same_odd", (2, 7, 5, 2), (2, 2), (2, 2), "same", False),
    ("2d_overlap_same", (2, 5, 6, 2), (3, 3), (2, 1), "same", False),
    ("2d_channels_first", (2, 3, 6, 5), (2, 2), (2, 2), "same", True),
    ("3d", (1, 4, 4, 4, 2), (2, 2, 2), (2, 2, 2), "valid", False),
]


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_matches_direct_loop(case, kind):
    _, xs, p, s, pad, cf = case
    x = rng.standard_normal(xs)
    op = ops.max_pool if kind == "max" else ops.average_pool
    y = op(x, p, strides=s, padding=pad,
           data_format="channels_first" if cf else "channels_last").numpy()
    np.testing.assert_allclose(y, ref_pool(x, p, s, pad, kind, cf), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_gradients(case, kind):
    _, xs, p, s, pad, cf = case
    op = ops.max_pool if kind == "max" else ops.average_pool
    fmt = "channels_first" if cf else "channels_last"
    # distinct values far apart: a finite difference never swaps which one is the maximum
    x = rng.permutation(np.prod(xs)).reshape(xs) * 0.1
    result = check_gradients(lambda t: op(t, p, strides=s, padding=pad, data_format=fmt), x,
                             eps=1e-4)
    assert result.ok, str(result)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = cr.Tensor(np.zeros((1, 2, 2, 1)), requires_grad=True)
    ops.sum(ops.max_pool(x, 2)).backward()
    np.testing.assert_array_equal(x.grad[0, :, :, 0], [[1, 0], [0, 0]])


def test_max_pool_overlapping_windows_add_gradients():
    x = cr.Tensor(np.array([[[0.0], [5.0], [1.0]]]), requires_grad=True)
    ops.sum(ops.max_pool(x, 2, strides=1)).backward()  # 5 is the maximum of both windows
    np.testing.assert_array_equal(x.grad.ravel(), [0, 2, 0])


@pytest.mark.parametrize("call,message", [
    (lambda: ops.conv(np.ones((1, 4, 1)), np.ones((2, 1, 1)), padding="vaild"),
     r"conv: invalid padding. Did you mean 'valid'\?.*Received: padding='vaild'"),
    (lambda: ops.conv(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), padding="causal"),
     r"conv: invalid padding.*Received: padding='causal'"),
    (lambda: ops.conv(np.ones((1, 4, 1)), np.ones((2, 1, 1)), strides=0),
     r"conv: every value of `strides` must be positive.*Received: strides=0"),
    (lambda: ops.conv(np.ones((1, 4, 1)), np.ones((2, 1, 1)), dilation_rate=(-1,)),
     r"conv: every value of `dilation_rate`.*Received: dilation_rate=\(-1,\)"),
    (lambda: ops.conv(np.ones((1, 4, 3)), np.ones((2, 2, 1))),
     r"conv: the input's 3 channels must be a multiple of the kernel's input channels 2"),
    (lambda: ops.conv(np.ones((1, 2, 1)), np.ones((3, 1, 1))),
     r"conv: the window \(3,\).*larger than the padded input \(2,\).*Received: inputs of shape"),
    (lambda: ops.conv(np.ones((4, 1)), np.ones((2, 1, 1))),
     r"conv: a kernel of shape \(2, 1, 1\) needs 3-D inputs"),
    (lambda: ops.max_pool(np.ones((1, 4, 1)), 2, padding="full"),
     r"max_pool: invalid padding.*Received: padding='full'"),
    (lambda: ops.average_pool(np.ones((1, 4, 1)), 0),
     r"average_pool: every value of `pool_size`.*Received: pool_size=0"),
    (lambda: ops.max_pool(np.ones((1, 4, 1)), 2, data_format="nhwc"),
     r"max_pool: data_format must be.*Received: data_format='nhwc'"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("shape,pool,padding", [((3, 8, 8, 4), (2, 2), "valid"),
                                                 ((3, 7, 9, 2), (2, 3), "valid"),
                                                 ((2, 7, 5, 3), (2, 2), "same"),
                                                 ((2, 9, 3), (3,), "same")])
def test_tiled_pooling_backward_equals_the_window_by_window_path(shape, pool, padding):
    """Windows that tile the input take reshapes; the slice-by-slice path gives the same bits."""
    from chainrule.ops.pooling import AveragePool, MaxPool

    x = np.maximum(rng.standard_normal(shape), 0).astype("float32")  # many ties at zero
    x[0] = 1.0  # whole windows of equal values
    gy = None
    for cls in (MaxPool, AveragePool):
        slow_cls = type("Slow", (cls,), {"tiled": False})
        grads = []
        for c in (cls, slow_cls):
            fn = c(pool, pool, padding, False)
            y = fn.forward(x)
            gy = rng.standard_normal(y.shape).astype("float32") if gy is None or \
                gy.shape != y.shape else gy
            grads.append(fn.backward(gy)[0])
        np.testing.assert_array_equal(grads[0], grads[1])


# -- transposed, depthwise and separable convolutions ----------------------------------------


def ref_conv_transpose(x, w, strides, padding, dilation, output_padding=None):
    """Scatter every input pixel times the kernel into the output, then crop (a direct loop)."""
    nd = w.ndim - 2
    k, cout = w.shape[:nd], w.shape[-2]
    span = [dilation[i] * (k[i] - 1) + 1 for i in range(nd)]
    length = []
    for i in range(nd):
        n, s = x.shape[1 + i], strides[i]
        if output_padding is None:
            length.append(n * s + max(span[i] - s, 0) if padding == "valid" else n * s)
        else:
            pad = span[i] // 2 if padding == "same" else 0
            length.append((n - 1) * s + span[i] - 2 * pad + output_padding[i])
    before = [ref_pads(length[i], k[i], strides[i], dilation[i], padding)[0] for i in range(nd)]
    big = np.zeros((x.shape[0], *[length[i] + span[i] + strides[i] for i in range(nd)], cout))
    for pos in itertools.product(*(range(n) for n in x.shape[1:-1])):
        for off in itertools.product(*(range(kk) for kk in k)):
            at = tuple(pos[i] * strides[i] + off[i] * dilation[i] for i in range(nd))
            big[(slice(None),) + at + (slice(None),)] += x[(slice(None),) + pos + (
                slice(None),)] @ w[off].T
    crop = tuple(slice(before[i], before[i] + length[i]) for i in range(nd))
    return big[(slice(None),) + crop + (slice(None),)]


# (id, input shape, kernel shape (k, cout, cin), strides, padding, dilation, output_padding)
TRANSPOSE_CASES = [
    ("1d_valid", (2, 5, 3), (3, 2, 3), (1,), "valid", (1,), None),
    ("1d_same_stride2", (2, 5, 3), (3, 4, 3), (2,), "same", (1,), None),
    ("1d_kernel_below_stride", (2, 4, 2), (2, 3, 2), (3,), "valid", (1,), None),
    ("2d_same_stride2", (2, 3, 4, 2), (3, 3, 3, 2), (2, 2), "same", (1, 1), None),
    ("2d_valid_strides", (2, 3, 3, 2), (3, 2, 2, 2), (2, 3), "valid", (1, 1), None),
    ("2d_dilation", (1, 4, 4, 2), (3, 3, 2, 2), (1, 1), "same", (2, 2), None),
    ("2d_output_padding", (2, 3, 3, 2), (3, 3, 2, 2), (2, 2), "same", (1, 1), (1, 0)),
    ("2d_output_padding_valid", (1, 3, 3, 1), (2, 2, 2, 1), (3, 3), "valid", (1, 1), (2, 1)),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_matches_direct_loop_and_is_the_adjoint_of_conv(case):
    _, xs, ks, s, pad, d, op = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ks)
    y = ops.conv_transpose(x, w, strides=s, padding=pad, dilation_rate=d,
                           output_padding=op).numpy()
    np.testing.assert_allclose(y, ref_conv_transpose(x, w, s, pad, d, op), atol=1e-10)
    # <conv(u, w), x> == <u, conv_transpose(x, w)>: the transpose of the convolution
    u = rng.standard_normal(y.shape)
    lhs = float((ops.conv(u, w, strides=s, padding=pad, dilation_rate=d).numpy() * x).sum())
    np.testing.assert_allclose(lhs, float((u * y).sum()), rtol=1e-10)


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_gradients(case):
    _, xs, ks, s, pad, d, op = case
    fn = lambda x, w, b: ops.conv_transpose(x, w, s, pad, op, dilation_rate=d, bias=b)  # noqa: E731
    result = check_gradients(fn, rng.standard_normal(xs), rng.standard_normal(ks),
                             rng.standard_normal(ks[-2]), eps=1e-4)
    assert result.ok, str(result)


def test_conv_transpose_channels_first():
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 3, 2, 3))
    y = ops.conv_transpose(x, w, 2, "same", data_format="channels_first").numpy()
    want = ops.conv_transpose(np.moveaxis(x, 1, -1), w, 2, "same").numpy()
    np.testing.assert_allclose(y, np.moveaxis(want, -1, 1), atol=1e-12)


def ref_depthwise(x, w, strides, padding, dilation):
    c = w.shape[-2]
    outs = [ref_conv(x[..., i:i + 1], w[..., i:i + 1, :], strides, padding, dilation)
            for i in range(c)]
    return np.concatenate(outs, axis=-1)  # channel i's outputs at i*dm ... i*dm + dm - 1


@pytest.mark.parametrize("xs,ks,s,pad,d", [((2, 6, 3), (3, 3, 2), (1,), "same", (1,)),
                                           ((2, 5, 6, 3), (3, 3, 3, 2), (2, 2), "same", (1, 1)),
                                           ((1, 7, 7, 2), (3, 2, 2, 1), (1, 1), "valid", (2, 1))])
def test_depthwise_and_separable_conv(xs, ks, s, pad, d):
    x, w = rng.standard_normal(xs), rng.standard_normal(ks)
    y = ops.depthwise_conv(x, w, s, pad, dilation_rate=d).numpy()
    np.testing.assert_allclose(y, ref_depthwise(x, w, s, pad, d), atol=1e-10)
    pw = rng.standard_normal((1,) * (len(ks) - 2) + (ks[-2] * ks[-1], 4))
    z = ops.separable_conv(x, w, pw, s, pad, dilation_rate=d).numpy()
    np.testing.assert_allclose(z, ref_conv(y, pw, (1,) * (len(ks) - 2), "valid",
                                           (1,) * (len(ks) - 2)), atol=1e-10)
    r1 = check_gradients(lambda a, b: ops.depthwise_conv(a, b, s, pad, dilation_rate=d), x, w,
                         eps=1e-4)
    r2 = check_gradients(lambda a, b, c: ops.separable_conv(a, b, c, s, pad, dilation_rate=d),
                         x, w, pw, eps=1e-4)
    assert r1.ok and r2.ok, (str(r1), str(r2))


def test_conv_transpose_bad_output_padding():
    with pytest.raises(ValueError, match=r"output_padding.*smaller than the stride.*Received"):
        ops.conv_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), strides=2, output_padding=2)

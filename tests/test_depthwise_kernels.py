"""Depthwise convolutions' compiled loops (``depthwise`` and ``depthwise_grad`` in
ops/_conv_kernels.py) and 1x1 convolutions without patch matrices.

The loops sum the same terms as the NumPy path (the grouped convolution's patches and one
small matrix product per channel) in another order: BLAS splits and orders a product's sums
as it likes, the loops add the kernel's offsets in row-major order (the forward), the
outputs then the offsets (the input's gradient) and a per-sample sum then a float64 sum over
the samples (the kernel's gradient). So the two paths agree to rounding: the tolerances
below are a few units in the last place of the dtype times the sum of the terms' magnitudes
(``|x| * |w|`` summed over a window, ``|gy| * |w|`` or ``|x| * |gy|`` over what feeds an
element). The forward is bit-identical to a NumPy sum over the offsets in the loop's order,
and a 1x1 convolution to one matrix product of the input.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.ops import _conv_kernels
from chainrule.ops.conv import Conv, _Geometry, _padded, normalize_tuple

pytest.importorskip("numba", reason="the compiled kernels need the `fast` extra (numba)")

DTYPES = ["float32", "float64"]
ULPS = 8  # units in the last place, times the sum of the terms' magnitudes


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


USED: set = set()


@pytest.fixture(autouse=True)
def _spy(monkeypatch):
    """Record the names of the kernels that the ops got (not None)."""
    get = _conv_kernels.get

    def spy(name, *arrays):
        kernel = get(name, *arrays)
        if kernel is not None:
            USED.add(name)
        return kernel

    USED.clear()
    monkeypatch.setattr(_conv_kernels, "get", spy)


def run(fn, *arrays, gy=None):
    """``fn``'s output and the gradients of every input for the output gradient ``gy``."""
    ts = [cr.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    if gy is None:
        gy = np.random.default_rng(7).standard_normal(y.shape).astype(y.dtype)
    y.backward(gy)
    return [y.data] + [t.grad for t in ts]


def both(fn, *arrays, gy=None):
    """``run`` with the kernels off (NumPy), then on."""
    USED.clear()
    cr.config.set_fused_kernels(False)
    off = run(fn, *arrays, gy=gy)
    assert "depthwise" not in USED
    cr.config.set_fused_kernels(True)
    on = run(fn, *arrays, gy=gy)
    return off, on


# input shape, kernel shape (*k, channels, multiplier), strides, padding, dilation, format
CASES = [
    ((3, 9, 8, 5), (3, 3, 5, 1), 1, "same", 1, "channels_last"),
    ((2, 11, 10, 4), (3, 2, 4, 3), (2, 1), "valid", (1, 2), "channels_last"),
    ((2, 4, 9, 8), (3, 3, 4, 2), 2, "same", 1, "channels_first"),
    ((2, 6, 7, 9), (5, 5, 6, 1), 2, "same", 1, "channels_first"),
    ((2, 13, 6), (4, 6, 2), 2, "causal", 2, "channels_last"),
    ((2, 12, 7), (3, 7, 1), 1, "same", 1, "channels_last"),
    ((2, 3, 12), (3, 3, 1), 2, "valid", 1, "channels_first"),
    ((2, 5, 6, 7, 4), (2, 3, 2, 4, 1), (1, 2, 1), "same", (1, 1, 2), "channels_last"),
    ((1, 3, 4, 5, 6), (3, 2, 2, 3, 2), 1, "valid", 1, "channels_first"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_depthwise_loops_match_the_numpy_path(dtype, case):
    xs, ks, strides, padding, dilation, fmt = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ks).astype(dtype)
    b = rng.standard_normal(ks[-2] * ks[-1]).astype(dtype)

    def fn(x, w, b):
        return ops.depthwise_conv(x, w, strides, padding, fmt, dilation, bias=b)

    gy = rng.standard_normal(run(fn, x, w, b)[0].shape).astype(dtype)
    off, on = both(fn, x, w, b, gy=gy)
    assert {"depthwise", "depthwise_grad"} <= USED
    cr.config.set_fused_kernels(False)
    bounds = run(lambda x, w: ops.depthwise_conv(x, w, strides, padding, fmt, dilation),
                 np.abs(x), np.abs(w), gy=np.abs(gy))
    eps = np.finfo(dtype).eps
    for a, c, m in zip(off[:3], on[:3], bounds):
        assert a.shape == c.shape and a.dtype == c.dtype
        assert np.all(np.abs(a - c) <= ULPS * eps * (m + np.abs(a))), np.abs(a - c).max()
    # the bias's gradient is the same row-by-row sum on both paths
    np.testing.assert_array_equal(off[3], on[3])


def _reference_forward(x, w, strides, padding, dilation):
    """A channels-last depthwise convolution in NumPy: ``0 + sum`` over the kernel's offsets
    in row-major order of ``x[window] * w[offset]`` (the loop's order), multiplier axis last."""
    nd, (c, mult) = w.ndim - 2, w.shape[-2:]
    s = normalize_tuple(strides, nd, "strides")
    d = normalize_tuple(dilation, nd, "dilation_rate")
    geo = _Geometry(x.shape, w.shape[:nd], s, d, padding, "test")
    xp = _padded(Conv(s, padding, d, False), x, geo, 0)
    y = np.zeros((x.shape[0], *geo.out, c, mult), x.dtype)
    for offset in geo.offsets():
        y += xp[geo.window(offset)][..., None] * w[offset]
    return y.reshape(*y.shape[:-2], c * mult)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [0, 1, 4, 7])
def test_depthwise_forward_is_bit_identical_to_a_numpy_sum_in_the_same_order(dtype, case):
    xs, ks, strides, padding, dilation, _ = CASES[case]
    rng = np.random.default_rng(10 + case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ks).astype(dtype)
    cr.config.set_fused_kernels(True)
    y = ops.depthwise_conv(x, w, strides, padding, dilation_rate=dilation).numpy()
    assert "depthwise" in USED
    ref = _reference_forward(x, w, strides, padding, dilation)
    assert y.tobytes() == ref.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_separable_conv_with_the_loops_matches_the_numpy_path(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 10, 6)).astype(dtype)
    dw = rng.standard_normal((3, 3, 6, 2)).astype(dtype)
    pw = rng.standard_normal((1, 1, 12, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)

    def fn(x, dw, pw, b):
        return ops.separable_conv(x, dw, pw, 2, "same", bias=b)

    off, on = both(fn, x, dw, pw, b)
    assert "depthwise" in USED
    tol = 1e-4 if dtype == "float32" else 1e-12  # sums of at most 9 * 12 terms of N(0, 1)
    for a, c in zip(off, on):
        np.testing.assert_allclose(c, a, rtol=tol, atol=tol)


def test_float64_gradients_with_the_loops():
    cr.config.set_fused_kernels(True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 6, 3))
    assert check_gradients(lambda x, w, b: ops.depthwise_conv(x, w, (2, 1), "same", bias=b),
                           x, rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(6))
    assert check_gradients(lambda x, w: ops.depthwise_conv(x, w, 1, "valid", dilation_rate=2),
                           x, rng.standard_normal((2, 2, 3, 1)))
    x1 = rng.standard_normal((2, 3, 9))  # channels first, 1-D
    assert check_gradients(
        lambda x, w: ops.depthwise_conv(x, w, 2, "same", "channels_first"), x1,
        rng.standard_normal((3, 3, 2)))
    rng = np.random.default_rng(11)
    assert check_gradients(lambda x, dw, pw: ops.separable_conv(x, dw, pw, 1, "same"),
                           rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 3, 3, 1)),
                           rng.standard_normal((1, 1, 3, 4)))
    assert {"depthwise", "depthwise_grad"} <= USED


def test_only_what_needs_a_gradient_is_computed():
    cr.config.set_fused_kernels(True)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    w = rng.standard_normal((3, 3, 4, 1)).astype("float32")
    cr.config.set_fused_kernels(False)
    _, ref_gx, ref_gw = run(lambda x, w: ops.depthwise_conv(x, w, padding="same"), x, w)
    cr.config.set_fused_kernels(True)
    for frozen in (0, 1):
        ts = [cr.Tensor(x, requires_grad=frozen != 0), cr.Tensor(w, requires_grad=frozen != 1)]
        y = ops.depthwise_conv(ts[0], ts[1], padding="same")
        y.backward(np.random.default_rng(7).standard_normal(y.shape).astype("float32"))
        assert ts[frozen].grad is None
        got = ts[1 - frozen].grad
        np.testing.assert_allclose(got, ref_gw if frozen == 0 else ref_gx, rtol=1e-5, atol=1e-5)


def test_mixed_dtypes_and_one_channel_keep_the_numpy_path():
    cr.config.set_fused_kernels(True)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 6, 3))
    ops.depthwise_conv(x, rng.standard_normal((3, 3, 3, 1)).astype("float32"))
    ops.depthwise_conv(x[..., :1], rng.standard_normal((3, 3, 1, 2)))
    assert "depthwise" not in USED


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_a_1x1_convolution_is_one_product_of_the_input(fmt):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 6, 5, 7)).astype("float32")
    w = rng.standard_normal((1, 1, 7, 4)).astype("float32")
    gy = rng.standard_normal((3, 6, 5, 4)).astype("float32")
    xl = x if fmt == "channels_last" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    gyl = gy if fmt == "channels_last" else np.ascontiguousarray(gy.transpose(0, 3, 1, 2))
    y, gx, gw = run(lambda x, w: ops.conv(x, w, 1, "same", fmt), xl, w, gy=gyl)
    if fmt == "channels_first":
        y, gx = y.transpose(0, 2, 3, 1), gx.transpose(0, 2, 3, 1)
    x2, gy2, w2 = x.reshape(-1, 7), gy.reshape(-1, 4), w.reshape(7, 4)
    assert np.ascontiguousarray(y).tobytes() == (x2 @ w2).tobytes()
    assert np.ascontiguousarray(gx).tobytes() == (gy2 @ w2.T).tobytes()
    assert gw.tobytes() == (x2.T @ gy2).reshape(w.shape).tobytes()


def _mobile_block_model(jit):
    """A small MobileNetV2-like model: 1x1 expansion, depthwise 3x3 (stride 2), BN, ReLU6,
    a separable convolution, global pooling and a Dense head."""
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    layers = cr.layers
    model = cr.models.Sequential([
        layers.Input((10, 10, 3)), layers.Conv2D(8, 1, use_bias=False),
        layers.BatchNormalization(), layers.ReLU(6.0),
        layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.ReLU(6.0),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid"),
        layers.SeparableConv2D(5, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((48, 10, 10, 3)).astype("float32")
    y = rng.integers(0, 3, 48)
    h = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return model, h.history, model.predict(x, verbose=0)


def test_a_captured_depthwise_model_replays_and_matches_the_tape():
    cr.config.set_fused_kernels(True)
    fast, hist_fast, pred_fast = _mobile_block_model("auto")
    assert any(k[0] == "train" and e.program is not None
               for k, e in fast._steps.entries.items())
    assert "depthwise_grad" in USED
    slow, hist_slow, pred_slow = _mobile_block_model(False)
    assert slow._steps.entries == {}
    for u, v in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert hist_fast == hist_slow
    np.testing.assert_array_equal(pred_fast, pred_slow)
    cr.config.set_fused_kernels(False)  # the NumPy path trains the same model to rounding
    numpy_path = _mobile_block_model("auto")[0]
    for u, v in zip(fast.get_weights(), numpy_path.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


def test_a_large_1x1_convolutions_kernel_gradient_sums_blocks_of_samples(monkeypatch):
    # where one sample's patches pass _CHUNK_BYTES, the kernel's gradient is the sum of the
    # blocks' products, as for every other convolution (and a fused pooling's blocks)
    conv_module = __import__("sys").modules["chainrule.ops.conv"]
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 1)  # one sample per block
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 4, 5, 6)).astype("float32")
    w = rng.standard_normal((1, 1, 6, 2)).astype("float32")
    gy = rng.standard_normal((3, 4, 5, 2)).astype("float32")
    _, _, gw = run(lambda x, w: ops.conv(x, w), x, w, gy=gy)
    ref = x[0].reshape(-1, 6).T @ gy[0].reshape(-1, 2)
    for i in (1, 2):
        ref += x[i].reshape(-1, 6).T @ gy[i].reshape(-1, 2)
    assert gw.tobytes() == ref.reshape(w.shape).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fused", [False, True])
def test_relu_with_a_cap_is_one_op_bit_identical_to_relu_then_minimum(dtype, fused):
    # Keras's ReLU(6.0) (MobileNetV2's activation) in one pass each way; the same bits as
    # relu then minimum, with exact zeros of both signs, the cap itself, NaN and infinities
    cr.config.set_fused_kernels(fused)
    rng = np.random.default_rng(13)
    x = np.round(rng.standard_normal((4, 100, 100)) * 4).astype(dtype)  # 40,000: the kernel
    x.flat[::7] = -0.0
    x.flat[1::11] = 6.0
    x.flat[2::13] = np.nan
    x.flat[3::17] = np.inf
    x.flat[4::19] = -np.inf
    gy = rng.standard_normal(x.shape).astype(dtype)
    gy.flat[5::23] = np.inf
    gy.flat[6::29] = np.nan
    with np.errstate(invalid="ignore"):
        y, gx = run(lambda x: cr.layers.ReLU(6.0)(x), x, gy=gy)
        ref_y, ref_gx = run(lambda x: ops.minimum(ops.relu(x), 6.0), x, gy=gy)
    assert ("relu_cap_pass" in USED) == fused
    assert y.dtype == ref_y.dtype and y.tobytes() == ref_y.tobytes()
    assert gx.tobytes() == ref_gx.tobytes()
    with np.errstate(invalid="ignore"):
        y6, gx6 = run(ops.relu6, x, gy=gy)  # keras.ops.relu6 / Activation("relu6"): the same op
    assert y6.tobytes() == ref_y.tobytes() and gx6.tobytes() == ref_gx.tobytes()
    assert cr.layers.ReLU(6.0)(cr.Tensor([-1.0, 3.0, 9.0])).numpy().tolist() == [0.0, 3.0, 6.0]


def test_float64_gradient_of_relu_with_a_cap():
    x = np.random.default_rng(14).uniform(-3, 9, (3, 40))
    x[np.abs(x) < 0.05] = 0.5  # away from the kinks at 0 and 6
    x[np.abs(x - 6) < 0.05] = 5.5
    assert check_gradients(lambda x: ops.relu_ext(x, max_value=6.0), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_normalization_in_inference_is_one_pass_bit_identical_to_numpy(dtype):
    # x * inv + shift per element in one compiled pass: the same product and sum as NumPy's
    # two passes (x * inv, then += shift), bit for bit
    rng = np.random.default_rng(15)
    x = rng.standard_normal((4, 30, 30, 16)).astype(dtype)
    x.flat[::97] = np.nan
    stats = [rng.standard_normal(16).astype(dtype), rng.uniform(0.1, 2, 16).astype(dtype),
             rng.standard_normal(16).astype(dtype), rng.standard_normal(16).astype(dtype)]
    gy = rng.standard_normal(x.shape).astype(dtype)
    out = []
    for fused in (False, True):
        cr.config.set_fused_kernels(fused)
        USED.clear()
        out.append(run(lambda x, m, v, o, s: ops.batch_normalization(x, m, v, -1, o, s, 1e-3),
                       x, *stats, gy=gy))
        assert ("scale_shift" in USED) == fused
    for a, b in zip(*out):
        assert a.tobytes() == b.tobytes()
    layer = cr.layers.BatchNormalization(dtype=dtype)  # the layer in inference: the same
    layer.build(x.shape)
    got = []
    for fused in (False, True):
        cr.config.set_fused_kernels(fused)
        got.append(layer(x, training=False).numpy())
    assert got[0].tobytes() == got[1].tobytes()
    np.testing.assert_allclose(got[1], x / np.sqrt(1 + 1e-3), rtol=1e-6 if dtype == "float32"
                               else 1e-14)

"""A captured program's convolution → ReLU → max pooling in fused compiled passes.

``Program._link_absorb`` lets a ReLU read by a max pooling alone hand its pass (and the
bias a convolution before it leaves out) to the pooling: forward pools ``relu(x + b)`` in
one loop, backward routes the gradient and applies the ReLU's mask in one. The results
must be bit-identical to the ops run one by one (NumPy or the single kernels): checked here
on the ops directly (ties, NaN, signed zeros, infinite gradients, 2 × 2 and other windows,
with and without a bias), on captured models (training and ``predict``), and by a float64
gradient check of the fused chain.
"""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.engine import Function
from chainrule.gradcheck import check_gradients
from chainrule.ops.conv import Conv
from chainrule.ops.nn import Relu
from chainrule.ops.pooling import MaxPool

pytest.importorskip("numba", reason="the fused passes need the `fast` extra (numba)")

DTYPES = ["float32", "float64"]


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


def chain(x, w, b, gy, pool, fuse, backward=True):
    """Conv (1 × 1 … kernel ``w``, optional bias) → Relu → MaxPool as a captured program runs
    them, fused (``fuse``: the links a program makes) or one by one; returns the pooled
    output and the gradients of ``x``, ``w``, ``b``."""
    nd = w.ndim - 2
    conv = Conv((1,) * nd, "valid", (1,) * nd, False)
    relu, mp = Relu(), MaxPool((pool,) * nd, (pool,) * nd, "valid", False)
    if fuse:
        assert relu.absorb(conv, True) and mp.absorb(relu, True)
    if backward:
        conv.needs, relu.needs, mp.needs = (True, True, b is not None), (True,), (True,)
    args = (x, w) if b is None else (x, w, b)
    y = mp.forward(relu.forward(conv.forward(*args)))
    if fuse:
        assert mp.fused and relu.passed
    if not backward:
        return [y]
    g = relu.backward(mp.backward(gy)[0])[0]
    grads = conv.backward(g)
    return [y] + [a for a in grads if a is not None]


def identity_kernel(c, nd, dtype):
    """A 1 × … × 1 kernel whose product copies the input (so the data reaches the ReLU)."""
    return np.eye(c, dtype=dtype).reshape((1,) * nd + (c, c))


def assert_bits(a_list, b_list):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.tobytes() == b.tobytes(), np.nanmax(np.abs(a - b))


CASES = [  # input shape, pool (tiled windows, no padding)
    ((3, 8, 8, 5), 2),  # the spelled-out 2 × 2 loop
    ((2, 11, 9, 4), 2),  # 2 × 2, the last row and column cropped
    ((2, 9, 9, 3), 3),  # the general loop
    ((2, 10, 3), 2),  # 1-D
    ((2, 4, 6, 4, 2), 2),  # 3-D
]


def edgy(shape, dtype, seed):
    """Data with exact ties, zeros of both signs, NaN and infinities."""
    x = np.round(np.random.default_rng(seed).standard_normal(shape) * 2).astype(dtype)
    x.flat[::7] = -0.0
    x.flat[3::29] = np.nan
    x.flat[5::31] = -np.inf
    x.flat[6::37] = np.inf
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("bias", [False, True])
def test_fused_chain_is_bit_identical_to_the_ops_one_by_one(dtype, case, bias):
    shape, pool = CASES[case]
    nd = len(shape) - 2
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((2,) * nd + (shape[-1], 6)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype) if bias else None
    out = (shape[0],) + tuple((n - 1) // pool for n in shape[1:-1]) + (6,)
    gy = rng.standard_normal(out).astype(dtype)
    cr.config.set_fused_kernels(False)
    numpy_path = chain(x, w, b, gy, pool, fuse=False)
    cr.config.set_fused_kernels(True)
    kernels = chain(x, w, b, gy, pool, fuse=False)
    fused = chain(x, w, b, gy, pool, fuse=True)
    assert_bits(numpy_path, fused)
    assert_bits(kernels, fused)
    assert_bits(chain(x, w, b, gy, pool, fuse=False, backward=False),
                chain(x, w, b, gy, pool, fuse=True, backward=False))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_fused_chain_keeps_ties_nan_signed_zeros_and_infinite_gradients(dtype, case):
    shape, pool = CASES[case]
    nd = len(shape) - 2
    x = edgy(shape, dtype, case)
    if case == 0:  # nothing the product turns into NaN: the 2 × 2 path's quick backward
        x[~np.isfinite(x)] = 3.0
    w = identity_kernel(shape[-1], nd, dtype)
    b = np.linspace(-1, 1, shape[-1]).astype(dtype)
    b[0] = -0.0
    out = (shape[0],) + tuple(n // pool for n in shape[1:-1]) + (shape[-1],)
    gy = np.random.default_rng(1).standard_normal(out).astype(dtype)
    gy.flat[::5] = -gy.flat[::5] ** 2  # negative: -0.0 off the maximum
    gy.flat[1::17] = np.inf
    gy.flat[2::19] = np.nan
    with np.errstate(invalid="ignore"):
        cr.config.set_fused_kernels(False)
        numpy_path = chain(x, w, b, gy, pool, fuse=False)
        cr.config.set_fused_kernels(True)
        fused = chain(x, w, b, gy, pool, fuse=True)
    assert_bits(numpy_path, fused)


def test_the_quick_2x2_backward_matches_the_general_one_and_steps_aside_for_nan():
    cr.config.set_fused_kernels(True)
    from chainrule.ops import _conv_kernels as k

    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((2, 6, 6, 8)) * 2).astype("float32")  # ties
    b = rng.standard_normal(8).astype("float32")
    y = np.empty((2, 3, 3, 8), "float32")
    idx = np.empty(y.shape, np.uint8)
    k.get("bias_relu_max_pool_2x2", x)(x, b, True, y, idx, True)
    gy = rng.standard_normal(y.shape).astype("float32")
    quick, general = np.empty_like(x), np.empty_like(x)
    assert k.get("relu_max_pool_grad_2x2", x)(y, idx, gy, quick)
    k.get("bias_relu_max_pool_grad", x)(x[:, None], b, True, y[:, None], gy[:, None],
                                         general[:, None], 1, 2, 2)
    assert quick.tobytes() == general.tobytes()
    y[0, 0, 0, 0] = np.nan
    assert not k.get("relu_max_pool_grad_2x2", x)(y, idx, gy, quick)


def test_absorb_declines_what_it_cannot_fuse():
    conv, relu = Conv((1, 1), "valid", (1, 1), False), Relu()
    assert not relu.absorb(conv, sole=False)  # the convolution's output read elsewhere too
    assert not relu.absorb(Conv((1, 1), "valid", (1, 1), True), sole=True)  # channels first
    assert not relu.absorb(Relu(), sole=True)
    assert not conv.defer_bias
    assert not MaxPool((2, 2), (2, 2), "valid", False).absorb(relu, sole=False)
    assert not MaxPool((3, 3), (1, 1), "valid", False).absorb(relu, sole=True)  # overlapping
    assert not MaxPool((2, 2), (2, 2), "same", False).absorb(relu, sole=True)  # padded
    assert not MaxPool((2, 2), (2, 2), "valid", True).absorb(relu, sole=True)
    assert not relu.pooled


class _FusedChain(Function):
    """The fused chain as one op, for the float64 gradient check (``blocks``: the input
    needs no gradient, so the convolution takes the pooling's gradient in blocks)."""

    def __init__(self, blocks=False):
        self.blocks = blocks

    def forward(self, x, w, b):
        self.ops = (Conv((1, 1), "valid", (1, 1), False), Relu(),
                    MaxPool((2, 2), (2, 2), "valid", False))
        conv, relu, mp = self.ops
        assert relu.absorb(conv, True) and mp.absorb(relu, True)
        conv.needs, relu.needs, mp.needs = (not self.blocks, True, True), (True,), (True,)
        y = mp.forward(relu.forward(conv.forward(x, w, b)))
        assert mp.fused and mp.idx is not None
        return y

    def backward(self, gy):
        conv, relu, mp = self.ops
        g = relu.backward(mp.backward(gy)[0])[0]
        assert type(g).__name__ == "_PooledGradient"  # made whole where the input needs one
        return conv.backward(g)


def test_float64_gradients_of_the_fused_chain(monkeypatch):
    cr.config.set_fused_kernels(True)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 8, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal(4) * 0.1
    assert check_gradients(lambda x, w, b: _FusedChain()(x, w, b), x, w, b)
    conv_module = sys.modules["chainrule.ops.conv"]
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 1)  # a block per sample
    assert check_gradients(lambda w, b: _FusedChain(blocks=True)(x, w, b), w, b)
    # one input channel: the kernel's and bias's gradients straight from the pooled gradient
    monkeypatch.setattr(conv_module, "_ONE_CHANNEL_MIN", 0)
    x1, w1 = x[..., :1].copy(), w[:, :, :1].copy()
    assert check_gradients(lambda w, b: _FusedChain(blocks=True)(x1, w, b), w1, b)


def convnet(pool, use_bias, extra_reader, x, y):
    """A small convnet, trained two epochs and run by ``predict`` (captured steps)."""
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    L = cr.layers
    inp = cr.layers.Input(x.shape[1:])
    h = L.Conv2D(5, 3, activation="relu", use_bias=use_bias)(inp)
    p = L.MaxPooling2D(pool)(h)
    h2 = L.Conv2D(4, 2, activation="relu")(p)  # a ReLU read by a Flatten: bias + ReLU only
    parts = [L.Flatten()(h2)]
    if extra_reader:  # the first ReLU's output read twice: nothing fused there
        parts.append(L.GlobalAveragePooling2D()(h))
    z = L.Concatenate()(parts) if len(parts) > 1 else parts[0]
    model = cr.models.Model(inp, L.Dense(3, activation="softmax")(z))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    pred = model.predict(x, batch_size=8, verbose=0)
    programs = [e.program for e in model._steps.entries.values() if e.program is not None]
    assert len(programs) >= 2  # the training step and predict's
    return [np.asarray(w) for w in model.get_weights()] + [pred], programs


@pytest.mark.parametrize("pool,use_bias,extra_reader", [
    (2, True, False), (2, False, False), (3, True, False), (2, True, True)])
def test_captured_models_are_bit_identical_with_and_without_the_fusion(pool, use_bias,
                                                                      extra_reader):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((24, 13, 13, 2)).astype("float32")
    y = rng.integers(0, 3, 24)
    cr.config.set_fused_kernels(False)
    off, _ = convnet(pool, use_bias, extra_reader, x, y)
    cr.config.set_fused_kernels(True)
    on, programs = convnet(pool, use_bias, extra_reader, x, y)
    assert_bits(off, on)
    for prog in programs:
        fns = [fn for fn, _ in prog.fwd]
        pools = [fn for fn in fns if type(fn) is MaxPool]
        relus = [fn for fn in fns if type(fn) is Relu]
        convs = [fn for fn in fns if type(fn) is Conv]
        assert (pools[0].relu is not None) == (not extra_reader)
        assert relus[1].source is convs[1] and convs[1].defer_bias  # bias + ReLU in one pass
        assert relus[1].y is not None and not relus[1].passed
        if not extra_reader:
            assert pools[0].fused and relus[0].passed


# -- products in blocks of samples ---------------------------------------------------------


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("padding,strides", [("valid", 1), ("same", 2)])
def test_gradients_in_blocks_of_samples_match_one_product(monkeypatch, fused, padding,
                                                                 strides):
    conv_module = sys.modules["chainrule.ops.conv"]

    cr.config.set_fused_kernels(fused)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 9, 8, 6)).astype("float32")
    w = rng.standard_normal((3, 3, 6, 7)).astype("float32")
    b = rng.standard_normal(7).astype("float32")

    def grads():
        ts = [cr.Tensor(a, requires_grad=True) for a in (x, w, b)]
        y = cr.ops.conv(ts[0], ts[1], strides, padding, bias=ts[2])
        y.backward(np.random.default_rng(7).standard_normal(y.shape).astype("float32"))
        return [y.data] + [t.grad for t in ts]

    whole = grads()
    per_sample = 9 * 8 * 9 * 6 * 4  # bytes of one sample's patches, at most
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 2 * per_sample)  # blocks of 2 or 3
    blocks = grads()
    assert conv_module._chunk(5, 9 * 8, 54, 4) < 5
    # output and input gradient: each row of a product as in one product; the kernel's
    # gradient: a sum of the blocks' products (it may round differently in the last bits);
    # the bias's: one sum over all rows either way
    for a, c in zip(whole[:2], blocks[:2]):
        np.testing.assert_allclose(c, a, rtol=1e-6, atol=1e-6)
    scale = np.abs(whole[2]).max()
    np.testing.assert_allclose(blocks[2], whole[2], rtol=0, atol=1e-6 * scale)
    np.testing.assert_array_equal(blocks[3], whole[3])


def test_forward_only_program_computes_the_product_in_blocks(monkeypatch):
    conv_module = sys.modules["chainrule.ops.conv"]

    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 4096)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((36, 9, 9, 3)).astype("float32")  # six batches: replays
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    L = cr.layers
    model = cr.models.Sequential([L.Input((9, 9, 3)), L.Conv2D(4, 3), L.Conv2D(5, 3),
                                  L.Flatten(), L.Dense(2)])
    captured = model.predict(x, batch_size=6, verbose=0)
    programs = [e.program for e in model._steps.entries.values() if e.program is not None]
    assert programs
    convs = [fn for fn, _ in programs[0].fwd if type(fn) is Conv]
    assert all(c.forward_only for c in convs) and convs[1].cols is None  # nothing kept
    direct = model(x).numpy()  # the layers' forward, one product per convolution
    np.testing.assert_allclose(captured, direct, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(7, 8, 8, 1), (7, 11, 9, 3)])
def test_the_convolution_takes_the_pooled_gradient_block_by_block(monkeypatch, bias, shape):
    conv_module = sys.modules["chainrule.ops.conv"]
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype("float32")
    w = rng.standard_normal((3, 3, shape[-1], 6)).astype("float32")
    b = rng.standard_normal(6).astype("float32") if bias else None
    out = (shape[0], (shape[1] - 2) // 2, (shape[2] - 2) // 2, 6)
    gy = rng.standard_normal(out).astype("float32")

    def run(fuse):
        conv = Conv((1, 1), "valid", (1, 1), False)
        relu, mp = Relu(), MaxPool((2, 2), (2, 2), "valid", False)
        if fuse:
            assert relu.absorb(conv, True) and mp.absorb(relu, True)
            assert conv.blocks_grad
        conv.needs, relu.needs, mp.needs = (False, True, bias), (True,), (True,)
        y = mp.forward(relu.forward(conv.forward(x, w, *([b] if bias else []))))
        g = relu.backward(mp.backward(gy)[0])[0]
        assert (type(g).__name__ == "_PooledGradient") == fuse
        if fuse:  # the input needs no gradient: no whole array is made
            g.full = None
        return [y] + [a for a in conv.backward(g) if a is not None]

    cr.config.set_fused_kernels(False)
    ref = run(False)
    cr.config.set_fused_kernels(True)
    one_block = run(True)
    assert_bits(ref, one_block)  # one block: one product, the same bits
    if shape[-1] == 1:  # one channel: the gradients straight from the pooled gradient
        monkeypatch.setattr(conv_module, "_ONE_CHANNEL_MIN", 0)
        taken = []
        original = Conv._one_channel_grads
        monkeypatch.setattr(Conv, "_one_channel_grads",
                            lambda self, *a: taken.append(original(self, *a)) or taken[-1])
        direct = run(True)
        assert taken == [True]
        assert_bits(ref[:1], direct[:1])
        # the kernel's gradient: per sample, then over the samples in float64 (not a product's
        # order); the bias's: the same row-by-row sum
        np.testing.assert_allclose(direct[1], ref[1], rtol=0, atol=1e-6 * np.abs(ref[1]).max())
        if bias:
            assert_bits(ref[2:], direct[2:])
        kept = gy[0, 0, 0, 0]
        gy[0, 0, 0, 0] = np.inf  # a zero term would be NaN: the blocks' product instead
        with np.errstate(invalid="ignore"):
            cr.config.set_fused_kernels(False)
            ref_inf = run(False)
            cr.config.set_fused_kernels(True)
            taken.clear()
            blocks_inf = run(True)
        assert taken == [False]
        assert_bits(ref_inf, blocks_inf)
        gy[0, 0, 0, 0] = kept
        monkeypatch.setattr(conv_module, "_ONE_CHANNEL_MIN", 1 << 60)
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 2 * out[1] * out[2] * 4 * 6 * 4)
    assert conv_module._chunk(shape[0], (shape[1] - 2) * (shape[2] - 2), 6, 4) < shape[0]
    blocks = run(True)
    assert_bits(ref[:1], blocks[:1])
    # the kernel's gradient: a sum of the blocks' products (rounding may differ in the last
    # bits); the bias's: the same row-by-row sum
    np.testing.assert_allclose(blocks[1], ref[1], rtol=1e-5, atol=1e-5)
    if bias:
        assert_bits(ref[2:], blocks[2:])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_the_pooling_takes_the_convolutions_output_block_by_block(monkeypatch, case):
    conv_module = sys.modules["chainrule.ops.conv"]
    shape, pool = CASES[case]
    nd = len(shape) - 2
    x = edgy(shape, "float32", case + 10)
    w = identity_kernel(shape[-1], nd, "float32")
    b = np.linspace(-1, 1, shape[-1]).astype("float32")
    out = (shape[0],) + tuple(n // pool for n in shape[1:-1]) + (shape[-1],)
    gy = np.random.default_rng(2).standard_normal(out).astype("float32")
    # one sample per block, for the reference too (its kernel's gradient: a sum of blocks)
    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", 1)
    with np.errstate(invalid="ignore"):
        cr.config.set_fused_kernels(False)
        ref = chain(x, w, b, gy, pool, fuse=False)
        cr.config.set_fused_kernels(True)
        conv = Conv((1,) * nd, "valid", (1,) * nd, False)
        relu, mp = Relu(), MaxPool((pool,) * nd, (pool,) * nd, "valid", False)
        assert relu.absorb(conv, True) and mp.absorb(relu, True) and conv.lazy_output
        lazy = conv.forward(x, w, b)
        assert type(lazy).__name__ == "_ConvOutput" and conv.deferred_bias is b
        # a whole output (no bias: the ReLU adds it) equals the product of one block
        np.testing.assert_array_equal(lazy.full()[0], conv.forward(x[:1], w, b).full()[0])
        blocks = chain(x, w, b, gy, pool, fuse=True)
    assert_bits(ref, blocks)

"""The compiled convnet loops (ops/_conv_kernels.py) give bit-identical results to NumPy.

Every case runs the public op forward and backward twice, with the kernels off
(``chainrule.config.set_fused_kernels(False)``: NumPy only) and on, and compares the
bytes of the outputs and gradients (signs of zeros and NaNs included).
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.ops import _conv_kernels

pytest.importorskip("numba", reason="the compiled kernels need the `fast` extra (numba)")

DTYPES = ["float32", "float64"]


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


def run(fn, *arrays, grad_seed=7, grad=None):
    """``fn``'s output and the gradients of every input, for an output gradient from a seed."""
    ts = [cr.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    gy = grad(y.data) if grad is not None else np.random.default_rng(grad_seed).standard_normal(
        y.shape).astype(y.dtype)
    y.backward(gy)
    return [y.data] + [t.grad for t in ts]


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


def both(fn, *arrays, **kwargs):
    """``run`` with the kernels off, then on (the names of the kernels used are in USED)."""
    USED.clear()
    cr.config.set_fused_kernels(False)
    off = run(fn, *arrays, **kwargs)
    assert not USED
    cr.config.set_fused_kernels(True)
    assert cr.config.fused_kernels()
    on = run(fn, *arrays, **kwargs)
    return off, on


def assert_bits(off, on):
    assert len(off) == len(on)
    for a, b in zip(off, on):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.tobytes() == b.tobytes(), np.abs(a - b).max()


CONV_CASES = [  # input shape, kernel shape, strides, padding, dilation
    ((3, 9, 8, 5), (3, 2, 5, 6), 1, "valid", 1),
    ((2, 11, 10, 4), (3, 3, 4, 7), (2, 3), "same", (1, 2)),
    ((2, 13, 6), (4, 6, 3), 2, "causal", 2),
    ((2, 13, 8), (3, 8, 5), 1, "same", 1),
    ((2, 5, 6, 7, 4), (2, 3, 2, 4, 3), (1, 2, 1), "same", (1, 1, 2)),
    ((2, 7, 7, 1), (3, 3, 1, 4), 1, "valid", 1),  # one channel: the transposed patches
    ((2, 8, 9, 1), (2, 3, 1, 3), (2, 1), "same", 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv_forward_and_backward_are_bit_identical(dtype, case):
    xs, ws, strides, padding, dilation = CONV_CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[-1]).astype(dtype)

    def fn(x, w, b):
        return ops.conv(x, w, strides, padding, dilation_rate=dilation, bias=b)

    off, on = both(fn, x, w, b)
    assert_bits(off, on)
    assert {"bias_add", "bias_grad"} <= USED
    assert ("col2im" in USED) == (xs[-1] >= 4)  # few channels: NumPy's slice-adds


@pytest.mark.parametrize("dtype", DTYPES)
def test_grouped_channels_first_and_transposed_convolutions_are_bit_identical(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 7, 9)).astype(dtype)  # channels first, 8 channels
    w = rng.standard_normal((3, 2, 4, 6)).astype(dtype)  # 2 groups
    b = rng.standard_normal(6).astype(dtype)
    off, on = both(lambda x, w, b: ops.conv(x, w, 2, "same", "channels_first", bias=b), x, w, b)
    assert_bits(off, on)
    x = rng.standard_normal((2, 5, 4, 6)).astype(dtype)
    w = rng.standard_normal((3, 3, 5, 6)).astype(dtype)
    off, on = both(lambda x, w: ops.conv_transpose(x, w, 2, "same"), x, w)
    assert_bits(off, on)


def test_bias_gradient_keeps_numpys_row_order_and_signed_zeros():
    # a column of -0.0 sums to +0.0 (NumPy starts from 0), large and small values in
    # float32 show the order of the additions
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 10, 10, 4)).astype("float32")
    w = rng.standard_normal((3, 3, 4, 5)).astype("float32")
    b = np.zeros(5, "float32")

    def grad(y):
        g = (rng.standard_normal(y.shape) * 10.0 ** rng.integers(-6, 6, y.shape)).astype(y.dtype)
        g[..., 0] = -0.0
        return g

    seed = rng.bit_generator.state
    cr.config.set_fused_kernels(False)
    off = run(lambda x, w, b: ops.conv(x, w, bias=b), x, w, b, grad=grad)
    rng.bit_generator.state = seed
    cr.config.set_fused_kernels(True)
    on = run(lambda x, w, b: ops.conv(x, w, bias=b), x, w, b, grad=grad)
    assert off[3][0] == 0 and not np.signbit(off[3][0])
    assert_bits(off, on)


POOL_CASES = [  # input shape, pool, strides, padding
    ((3, 8, 8, 4), 2, None, "valid"),  # tiled, covering
    ((3, 9, 7, 4), 2, None, "valid"),  # tiled, the last row/column cropped
    ((2, 7, 7, 3), 2, None, "same"),  # tiled, padded with -inf
    ((2, 9, 9, 3), 3, 1, "valid"),  # overlapping: gradients added
    ((2, 9, 9, 3), (2, 3), (3, 4), "same"),  # disjoint, not tiled
    ((2, 10, 3), 3, 2, "same"),  # 1-D, overlapping
    ((2, 4, 5, 6, 2), 2, None, "valid"),  # 3-D
]


def tied(x):
    """ReLU-like data: many exact ties, zeros of both signs."""
    x = np.maximum(np.round(x), 0).astype(x.dtype)
    x[..., 0] = 0
    x.flat[::7] = -0.0
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_max_pool_forward_and_backward_are_bit_identical(dtype, ties, case):
    xs, pool, strides, padding = POOL_CASES[case]
    x = np.random.default_rng(case).standard_normal(xs).astype(dtype)
    if ties:
        x = tied(x)
    off, on = both(lambda x: ops.max_pool(x, pool, strides, padding), x)
    assert_bits(off, on)
    tiled = strides is None
    assert USED == {"max_pool", "max_pool_grad_tiled" if tiled else "max_pool_grad"}


@pytest.mark.parametrize("pool,strides", [(2, None), (3, 1), (2, 3)])
def test_channels_first_max_pool_is_bit_identical(pool, strides):
    x = tied(np.random.default_rng(3).standard_normal((2, 9, 8, 5)).astype("float32"))
    off, on = both(lambda x: ops.max_pool(x, pool, strides, "same", "channels_first"), x)
    assert_bits(off, on)
    assert "max_pool" in USED


@pytest.mark.parametrize("case", [0, 1, 3, 4])
def test_max_pool_nan_and_infinite_gradients_route_as_numpy_does(case):
    xs, pool, strides, padding = POOL_CASES[case]
    x = tied(np.random.default_rng(1).standard_normal(xs)).astype("float32")
    x[0, 0, 0, 1] = np.nan  # a window whose maximum is NaN (no hit)

    def grad(y):
        g = np.random.default_rng(2).standard_normal(y.shape).astype(y.dtype)
        g[0, 0, 1, :] = np.inf  # 0 * inf is NaN where the mask is multiplied
        g[1, 1, 0, :] = -2.0  # -0.0 off the maximum where multiplied
        return g

    with np.errstate(invalid="ignore"):
        off, on = both(lambda x: ops.max_pool(x, pool, strides, padding), x, grad=grad)
    assert np.isnan(off[0][0, 0, 0, 1])
    assert_bits(off, on)


def test_tiled_max_pool_keeps_every_hit_when_the_hits_number_the_windows():
    # one window's maximum is NaN (no hit), another's maximum appears twice: the NumPy path
    # counts as many hits as windows and routes the gradient to both copies of the maximum
    x = np.array([[[[np.nan], [1.0]], [[0.0], [0.0]]],
                  [[[5.0], [5.0]], [[1.0], [2.0]]]], "float32").reshape(1, 4, 2, 1)
    off, on = both(lambda x: ops.max_pool(x, 2), x, grad=lambda y: np.ones_like(y))
    assert off[1].ravel().tolist() == [0, 0, 0, 0, 1, 1, 0, 0]
    assert_bits(off, on)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_is_bit_identical_with_signed_zeros_nan_and_infinities(dtype):
    x = np.random.default_rng(5).standard_normal((8, 32, 32, 16)).astype(dtype)
    x.flat[::5] = -0.0
    x.flat[1::11] = np.nan
    x.flat[2::13] = -np.inf

    def grad(y):
        g = np.random.default_rng(6).standard_normal(y.shape).astype(y.dtype)
        g.flat[3::7] = np.inf
        return g

    with np.errstate(invalid="ignore"):
        off, on = both(ops.relu, x, grad=grad)
    assert_bits(off, on)
    assert USED - {"relu_pass"} == {"relu", "relu_grad"}  # one compiled pass, two calls
    # a non-contiguous input takes NumPy's forward either way (its output is contiguous)
    off, on = both(lambda x: ops.relu(x[:, ::2]), x)
    assert_bits(off, on)
    assert USED == {"relu_grad"}
    # small arrays stay with NumPy (calling the kernel would cost what it saves)
    off, on = both(ops.relu, x[:2, :4])
    assert_bits(off, on)
    assert not USED


def test_kernels_follow_the_switch_and_apply_to_float_numpy_arrays_only():
    a = np.zeros((1, 3, 3, 1), "float32")
    cr.config.set_fused_kernels(False)
    assert _conv_kernels.get("col2im", a) is None
    cr.config.set_fused_kernels(True)
    assert _conv_kernels.get("col2im", a) is not None
    assert _conv_kernels.get("col2im", a.astype("int32")) is None
    assert _conv_kernels.get("col2im", a.astype("float16")) is None
    assert _conv_kernels.as3d(np.zeros((2, 5, 3)), 1).shape == (2, 1, 1, 5, 3)
    assert _conv_kernels.pad3((4,)) == (1, 1, 4)


def test_float64_gradients_with_the_kernels_on():
    cr.config.set_fused_kernels(True)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 7, 6, 4))
    w = rng.standard_normal((3, 2, 4, 5))
    b = rng.standard_normal(5)
    assert check_gradients(lambda x, w, b: ops.conv(x, w, (2, 1), "same", bias=b), x, w, b)
    assert check_gradients(lambda x: ops.relu(ops.max_pool(x, 2, padding="same")), x)
    assert check_gradients(lambda x: ops.max_pool(x, 3, 1), x)
    x1 = rng.standard_normal((2, 6, 5, 1))
    assert check_gradients(lambda x, w: ops.conv(x, w), x1, rng.standard_normal((2, 2, 1, 3)))


def convnet_weights(fused):
    """keras-io's MNIST convnet, small, trained three captured steps with the kernels on/off."""
    cr.config.set_fused_kernels(fused)
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    layers = cr.layers
    model = cr.models.Sequential([
        layers.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(6, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((48, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 3, 48)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert any(e.program is not None for e in model._steps.entries.values())
    return [np.asarray(w) for w in model.get_weights()], model.predict(x, verbose=0)


def test_a_captured_convnet_trains_bit_identically_with_and_without_kernels():
    off_w, off_p = convnet_weights(False)
    on_w, on_p = convnet_weights(True)
    assert_bits(off_w + [off_p], on_w + [on_p])

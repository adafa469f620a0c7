"""A captured program's zero padding → convolution: the convolution pads its input itself.

``Program._link_absorb`` offers a convolution (``Conv``: regular, grouped, depthwise) the
op that makes its input; a zero padding of the spatial axes (``ops.pad``, as
``ZeroPadding2D`` before a strided ``padding="valid"`` convolution makes) read by it alone
hands its input on unpadded, and the convolution adds the zeros to its own padding. The
output and both gradients must be bit-identical to the two ops run one by one: checked here
on the ops (float32/float64, channels last/first, depthwise/grouped/regular, the compiled
kernels on and off, asymmetric padding as Keras's ``correct_pad`` makes) and on captured
models (training and ``predict``) against the tape.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.arrays import Pad
from chainrule.ops.conv import Conv


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


def chain(x, w, b, gy, widths, strides, padding, channels_first, absorb):
    """Pad → Conv as a captured program runs them: absorbed or one by one; returns the
    output and the gradients of ``x``, ``w`` (and ``b``)."""
    nd = w.ndim - 2
    pad = Pad(widths, "constant", 0)
    conv = Conv(strides, padding, (1,) * nd, channels_first)
    if absorb:
        assert conv.absorb(pad, True) and pad.handed
    pad.needs, conv.needs = (True,), (True, True, b is not None)
    args = (w,) if b is None else (w, b)
    y = conv.forward(pad.forward(x), *args)
    grads = conv.backward(gy)
    gx = pad.backward(grads[0])[0]
    return [y, gx] + [g for g in grads[1:] if g is not None]


def assert_bits(a_list, b_list):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.tobytes() == b.tobytes(), np.max(np.abs(a - b))


def widths_of(spatial, channels_first):
    return (((0, 0), (0, 0)) + spatial) if channels_first else (((0, 0),) + spatial + ((0, 0),))


CASES = [  # input (channels last), kernel, groups-by-kernel, spatial padding, strides, padding
    ((2, 9, 8, 6), (3, 3, 1, 6), ((0, 1), (0, 1)), (2, 2), "valid"),  # depthwise, correct_pad
    ((2, 8, 8, 4), (3, 3, 1, 8), ((1, 1), (1, 1)), (2, 2), "valid"),  # depthwise, multiplier 2
    ((2, 7, 9, 3), (3, 3, 3, 5), ((0, 1), (1, 2)), (2, 2), "valid"),  # regular
    ((2, 7, 7, 4), (3, 3, 2, 6), ((2, 0), (0, 1)), (1, 1), "same"),  # grouped, "same" on top
    ((2, 5, 6, 1), (5, 5, 1, 3), ((2, 2), (3, 2)), (2, 1), "valid"),  # one input channel
    ((3, 11, 4), (3, 4, 4), ((0, 1),), (2,), "valid"),  # 1-D
]


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_absorbed_padding_is_bit_identical_to_the_ops_one_by_one(case, dtype, channels_first,
                                                                 fused):
    cr.config.set_fused_kernels(fused)
    xshape, wshape, spatial, strides, padding = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[-1]).astype(dtype)
    if channels_first:
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    widths = widths_of(spatial, channels_first)
    ref = Conv(strides, padding, (1,) * len(strides), channels_first).forward(
        np.pad(x, widths), w, b)
    gy = rng.standard_normal(ref.shape).astype(dtype)
    for bias in (b, None):
        one_by_one = chain(x, w, bias, gy, widths, strides, padding, channels_first, False)
        absorbed = chain(x, w, bias, gy, widths, strides, padding, channels_first, True)
        assert absorbed[1].shape == x.shape
        assert_bits(absorbed, one_by_one)
        # a second call reuses the padded buffer: its border must still be zeros
        assert_bits(chain(x, w, bias, gy, widths, strides, padding, channels_first, True),
                    one_by_one)


def test_a_depthwise_convolution_pads_in_its_compiled_loop_without_a_padded_copy():
    pytest.importorskip("numba", reason="the compiled loops need the `fast` extra (numba)")
    x = np.random.default_rng(1).standard_normal((2, 9, 9, 4)).astype("float32")
    w = np.ones((3, 3, 1, 4), "float32")
    pad, conv = Pad(((0, 0), (0, 1), (0, 1), (0, 0)), "constant", 0), Conv(
        (2, 2), "valid", (1, 1), False)
    assert conv.absorb(pad, True)
    conv.needs = (True, True)
    y = conv.forward(pad.forward(x), w)
    assert conv._direct and conv.xp is x and y.shape == (2, 4, 4, 4)
    assert getattr(conv, "_pad_buf", None) is None  # no padded array was written
    assert conv.backward(np.ones_like(y))[0].shape == x.shape


def test_the_absorbed_chain_matches_a_numerical_gradient_in_float64():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 5, 4, 3))
    w = rng.standard_normal((3, 3, 1, 3))
    widths = ((0, 0), (0, 1), (1, 1), (0, 0))
    gy_shape = chain(x, w, None, np.zeros((1, 2, 2, 3)), widths, (2, 2), "valid", False,
                     True)[0].shape
    gy = rng.standard_normal(gy_shape)
    _, gx, gw = chain(x, w, None, gy, widths, (2, 2), "valid", False, True)

    def loss(x_, w_):
        return float(np.sum(chain(x_, w_, None, gy, widths, (2, 2), "valid", False,
                                  True)[0] * gy))

    eps = 1e-6
    for arr, grad, name in ((x, gx, "x"), (w, gw, "w")):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            up = loss(x, w)
            arr[i] = old - eps
            down = loss(x, w)
            arr[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("pad, sole", [
    (Pad(((0, 0), (1, 1), (1, 1), (0, 0)), "constant", 0), False),  # another op reads it
    (Pad(((0, 0), (1, 1), (1, 1), (0, 0)), "constant", 1.0), True),  # not zeros
    (Pad(((0, 0), (1, 1), (1, 1), (0, 0)), "constant", -0.0), True),  # negative zeros
    (Pad(((0, 0), (1, 1), (1, 1), (0, 0)), "reflect", 0), True),
    (Pad(((1, 0), (1, 1), (1, 1), (0, 0)), "constant", 0), True),  # the batch axis
    (Pad(((0, 0), (1, 1), (1, 1), (0, 2)), "constant", 0), True),  # the channels
])
def test_other_paddings_are_not_absorbed(pad, sole):
    conv = Conv((1, 1), "valid", (1, 1), False)
    assert not conv.absorb(pad, sole)
    assert not pad.handed and conv.extra_pads is None


def mobile_block(channels_first=False):
    """ZeroPadding2D (correct_pad's asymmetric widths) → strided depthwise and regular
    convolutions with padding="valid", as keras.applications' MobileNets make."""
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (4, 9, 9) if channels_first else (9, 9, 4)
    L = cr.layers
    inputs = cr.Input(shape)
    x = L.ZeroPadding2D(((0, 1), (0, 1)), data_format=fmt)(inputs)
    x = L.Conv2D(6, 3, strides=2, padding="valid", data_format=fmt, activation="relu")(x)
    x = L.ZeroPadding2D(((1, 1), (1, 1)), data_format=fmt)(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="valid", data_format=fmt)(x)
    x = L.GlobalAveragePooling2D(data_format=fmt)(x)
    return cr.Model(inputs, L.Dense(3)(x))


def handed_pads(model, mode):
    """The padding ops a captured program of ``model`` for ``mode`` handed to a convolution."""
    return [fn for k, e in model._steps.entries.items() if k[0] == mode and e.program is not None
            for fn, _ in e.program.fwd if type(fn) is Pad and fn.handed]


@pytest.mark.parametrize("channels_first", [False, True])
def test_a_captured_model_trains_and_predicts_as_on_the_tape(channels_first):
    rng = np.random.default_rng(0)
    shape = (4, 9, 9) if channels_first else (9, 9, 4)
    x = rng.standard_normal((24, *shape)).astype("float32")
    y = rng.standard_normal((24, 3)).astype("float32")
    results = []
    for jit in ("auto", False):
        model = mobile_block(channels_first)
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        pred = model.predict(x, batch_size=8, verbose=0)
        if jit == "auto":
            assert len(handed_pads(model, "train")) == 2  # both paddings absorbed
            assert len(handed_pads(model, "predict")) == 2
        else:
            assert model._steps.entries == {}
        results.append((model.get_weights(), hist.history["loss"], pred))
    (w1, l1, p1), (w2, l2, p2) = results
    assert l1 == l2
    assert_bits(w1, w2)
    assert_bits([p1], [p2])

"""explain.conv_output: one Conv output value as the sum of its window's products."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import ConvOutputReport, conv_output
from chainrule.layers import Conv1D, Conv2D, Conv3D, Dense, DepthwiseConv2D


def numpy_conv2d_at(x, kernel, bias, index, strides, dilation, before, groups):
    """An independent loop: the same value from padded input, channels_last."""
    b, i, j, f = index
    kh, kw, cin_g, filters = kernel.shape
    g = f // (filters // groups)
    xp = np.pad(x, ((0, 0), (before[0], kh * dilation[0]), (before[1], kw * dilation[1]), (0, 0)))
    total = 0.0 if bias is None else float(bias[f])
    for di in range(kh):
        for dj in range(kw):
            for cl in range(cin_g):
                total += (xp[b, i * strides[0] + di * dilation[0], j * strides[1] + dj * dilation[1],
                             g * cin_g + cl] * kernel[di, dj, cl, f])
    return total


CASES = {
    "valid": dict(filters=3, kernel_size=(3, 2)),
    "same": dict(filters=2, kernel_size=3, padding="same"),
    "strides2": dict(filters=2, kernel_size=3, strides=2),
    "strides2-same": dict(filters=2, kernel_size=2, strides=2, padding="same"),
    "dilation2": dict(filters=2, kernel_size=2, dilation_rate=2),
    "dilation2-same": dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
    "groups": dict(filters=4, kernel_size=2, groups=2),
    "groups-same-relu": dict(filters=4, kernel_size=3, groups=2, padding="same",
                             activation="relu"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_output_value_equals_the_layer_output(case):
    cr.utils.set_random_seed(0)
    layer = Conv2D(dtype="float64", bias_initializer="random_normal", **CASES[case])
    x = np.random.default_rng(1).standard_normal((2, 6, 7, 4))
    y = layer(cr.Tensor(x)).numpy()  # a Tensor: float64 all the way
    for index in np.ndindex(*y.shape):
        r = conv_output(layer, x, index)
        assert r.matches, r.text
        assert r.value == pytest.approx(y[index], abs=1e-12)
    # the padding zeros and the independent NumPy loop agree too
    r = conv_output(layer, x, (1, y.shape[1] - 1, y.shape[2] - 1, y.shape[3] - 1))
    if "same" in case:
        assert any(t["padding"] for t in r.terms) or case == "strides2-same"
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    before = [0, 0]
    if layer.padding == "same":
        from chainrule.ops.conv import padding_amounts
        before = [padding_amounts(n, k, s, d, "same")[0] for n, k, s, d in zip(
            x.shape[1:3], layer.kernel_size, layer.strides, layer.dilation_rate)]
    for index in [(0, 0, 0, 0), (1, y.shape[1] - 1, y.shape[2] - 1, y.shape[3] - 1)]:
        want = numpy_conv2d_at(x, kernel, bias, index, layer.strides, layer.dilation_rate,
                               before, layer.groups)
        assert conv_output(layer, x, index).z == pytest.approx(want, abs=1e-12)


def test_float32_layer_channels_first_conv1d_and_conv3d():
    cr.utils.set_random_seed(0)
    x = np.random.default_rng(2).standard_normal((1, 3, 5, 5)).astype("float32")
    cf = Conv2D(2, 2, data_format="channels_first", padding="same")
    y = cf(x).numpy()
    for index in [(0, 1, 4, 4), (0, 0, 2, 3)]:
        r = conv_output(cf, x, index)
        assert r.matches and r.value == pytest.approx(float(y[index]), rel=1e-5, abs=1e-6)
    x1 = np.random.default_rng(3).standard_normal((1, 6, 2))
    c1 = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    y1 = c1(cr.Tensor(x1)).numpy()
    for index in np.ndindex(*y1.shape):
        assert conv_output(c1, x1, index).value == pytest.approx(y1[index], abs=1e-12)
    x3 = np.random.default_rng(4).standard_normal((1, 3, 3, 3, 1))
    c3 = Conv3D(1, 2, use_bias=False, dtype="float64")
    r = conv_output(c3, x3, (0, 1, 1, 1, 0))
    assert r.bias is None and len(r.terms) == 8 and r.matches


def golden_layer(**kw):
    layer = Conv2D(1, 2, dtype="float64", name="tiny", **kw)
    layer.build((None, 3, 3, 1))
    layer.set_weights([np.array([1.0, 2.0, -1.0, 0.5]).reshape(2, 2, 1, 1), np.array([0.25])])
    return layer


X = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # 1 2 3 / 4 5 6 / 7 8 9

GOLDEN_VALID = """\
Conv2D 'tiny': y[0, 1, 0, 0] = Σ x[0, 1 + di, 0 + dj, c] × K[di, dj, c, 0] + b[0]
  kernel 2×2, 1 input channel, strides (1, 1), padding 'valid', dilation (1, 1)
  x[0, 1, 0, 0] × K[0, 0, 0, 0] = 4.00000000 × 1.00000000 = 4.00000000
  x[0, 1, 1, 0] × K[0, 1, 0, 0] = 5.00000000 × 2.00000000 = 10.00000000
  x[0, 2, 0, 0] × K[1, 0, 0, 0] = 7.00000000 × -1.00000000 = -7.00000000
  x[0, 2, 1, 0] × K[1, 1, 0, 0] = 8.00000000 × 0.50000000 = 4.00000000
  b[0] = 0.25000000
  z = 4.00000000 + 10.00000000 − 7.00000000 + 4.00000000 + 0.25000000 = 11.25000000
  y[0, 1, 0, 0] = z = 11.25000000
the layer's output y[0, 1, 0, 0] = 11.25000000: the sum equals it"""

GOLDEN_SAME = """\
Conv2D 'tiny': y[0, 2, 1, 0] = Σ x[0, 2 + di, 1 + dj, c] × K[di, dj, c, 0] + b[0]
  kernel 2×2, 1 input channel, strides (1, 1), padding 'same', dilation (1, 1)
  x[0, 2, 1, 0] × K[0, 0, 0, 0] = 8.00000000 × 1.00000000 = 8.00000000
  x[0, 2, 2, 0] × K[0, 1, 0, 0] = 9.00000000 × 2.00000000 = 18.00000000
  x[0, 3, 1, 0] (padding) × K[1, 0, 0, 0] = 0.00000000 × -1.00000000 = 0.00000000
  x[0, 3, 2, 0] (padding) × K[1, 1, 0, 0] = 0.00000000 × 0.50000000 = 0.00000000
  b[0] = 0.25000000
  z = 8.00000000 + 18.00000000 + 0.00000000 + 0.00000000 + 0.25000000 = 26.25000000
  y[0, 2, 1, 0] = relu(z) = 26.25000000
the layer's output y[0, 2, 1, 0] = 26.25000000: the sum equals it"""


def test_golden_text_for_a_one_channel_2x2_kernel(capsys):
    r = conv_output(golden_layer(), X, (0, 1, 0, 0))
    assert r.text == GOLDEN_VALID
    print(r)
    assert capsys.readouterr().out.strip() == GOLDEN_VALID
    assert isinstance(r, ConvOutputReport) and "matches=True" in repr(r)
    assert [t["product"] for t in r.terms] == [4.0, 10.0, -7.0, 4.0] and r.bias == 0.25


def test_golden_text_with_padding_zeros_and_an_activation():
    r = conv_output(golden_layer(padding="same", activation="relu"), X, (0, 2, 1, 0))
    assert r.text == GOLDEN_SAME
    assert [t["padding"] for t in r.terms] == [False, False, True, True]


def test_strides_and_dilation_are_written_in_the_window_formula():
    cr.utils.set_random_seed(0)
    layer = Conv2D(1, 2, strides=2, dtype="float64")
    r = conv_output(layer, np.ones((1, 5, 5, 1)), (0, 1, 1, 0))
    assert "x[0, 1·2 + di·1 − 0, 1·2 + dj·1 − 0, c]" in r.text
    assert [t["input_index"] for t in r.terms] == [(0, 2, 2, 0), (0, 2, 3, 0), (0, 3, 2, 0),
                                                   (0, 3, 3, 0)]


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="Received: layer of type Dense"):
        conv_output(Dense(2), np.ones((1, 3)), (0, 0))
    with pytest.raises(TypeError, match="Received: layer of type DepthwiseConv2D"):
        conv_output(DepthwiseConv2D(2), np.ones((1, 3, 3, 1)), (0, 0, 0, 0))
    layer = golden_layer()
    with pytest.raises(ValueError, match=r"output shape \(1, 2, 2, 1\).*Received: index=\(0, 2"):
        conv_output(layer, X, (0, 2, 0, 0))
    with pytest.raises(ValueError, match=r"Received: index=\(0, 0\)"):
        conv_output(layer, X, (0, 0))
    with pytest.raises(TypeError, match="Received: x of type"):
        conv_output(layer, {"a": 1}, (0, 0, 0, 0))

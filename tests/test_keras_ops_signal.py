"""Fourier ops, adaptive pooling, unfold/fold and CTC: against NumPy (and SciPy for the STFT,
when installed), float64 gradient checks, and CTC against a brute-force sum over alignments."""

import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients

rng = np.random.default_rng(11)


def r(*shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def np_adaptive(x, out, mode, channels_first=False):
    """PyTorch's bins written as loops: cell i of an axis of n covers floor(i n / o) to
    ceil((i + 1) n / o)."""
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    spatial = x.shape[1:-1]
    outs = (out,) * len(spatial) if isinstance(out, int) else out
    result = np.zeros((x.shape[0],) + tuple(outs) + (x.shape[-1],))
    for cell in itertools.product(*[range(o) for o in outs]):
        sl = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in
                   zip(cell, spatial, outs))
        block = x[(slice(None),) + sl]
        axes = tuple(range(1, 1 + len(spatial)))
        result[(slice(None),) + cell] = block.mean(axes) if mode == "average" else \
            block.max(axes)
    return np.moveaxis(result, -1, 1) if channels_first else result


def np_unfold(x, k, d=1, p=0, s=1):
    n, c, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh = (h + 2 * p - (k - 1) * d - 1) // s + 1
    ow = (w + 2 * p - (k - 1) * d - 1) // s + 1
    cols = np.zeros((n, c, k, k, oh * ow))
    for a in range(k):
        for b in range(k):
            for i in range(oh):
                for j in range(ow):
                    cols[:, :, a, b, i * ow + j] = x[:, :, i * s + a * d, j * s + b * d]
    return cols.reshape(n, c * k * k, oh * ow)


def np_fold(cols, size, k, d=1, p=0, s=1):
    n, ckk, L = cols.shape
    c = ckk // (k * k)
    hp, wp = size[0] + 2 * p, size[1] + 2 * p
    oh = (hp - (k - 1) * d - 1) // s + 1
    ow = (wp - (k - 1) * d - 1) // s + 1
    cols = cols.reshape(n, c, k, k, oh, ow)
    out = np.zeros((n, c, hp, wp))
    for a in range(k):
        for b in range(k):
            for i in range(oh):
                for j in range(ow):
                    out[:, :, i * s + a * d, j * s + b * d] += cols[:, :, a, b, i, j]
    return out[:, :, p:hp - p, p:wp - p]


CX = r(2, 3, 5)
CY = r(2, 3, 5)

DIFF = [
    ("fft_real", lambda a, b: ops.fft((a, b))[0], [CX, CY],
     lambda a, b: np.fft.fft(a + 1j * b).real),
    ("fft_imag", lambda a, b: ops.fft((a, b))[1], [CX, CY],
     lambda a, b: np.fft.fft(a + 1j * b).imag),
    ("fft2_both", lambda a, b: ops.fft2((a, b))[0] * 2.0 + ops.fft2((a, b))[1], [CX, CY],
     lambda a, b: np.fft.fft2(a + 1j * b).real * 2 + np.fft.fft2(a + 1j * b).imag),
    ("ifft2_both", lambda a, b: ops.ifft2((a, b))[0] - ops.ifft2((a, b))[1] * 3.0, [CX, CY],
     lambda a, b: np.fft.ifft2(a + 1j * b).real - np.fft.ifft2(a + 1j * b).imag * 3),
    ("rfft_real", lambda a: ops.rfft(a)[0], [r(3, 8)], lambda a: np.fft.rfft(a).real),
    ("rfft_imag_padded", lambda a: ops.rfft(a, fft_length=9)[1], [r(3, 7)],
     lambda a: np.fft.rfft(a, n=9).imag),
    ("rfft_cropped", lambda a: ops.rfft(a, fft_length=4)[0], [r(6)],
     lambda a: np.fft.rfft(a, n=4).real),
    ("irfft_even", lambda a, b: ops.irfft((a, b)), [r(2, 5), r(2, 5)],
     lambda a, b: np.fft.irfft(a + 1j * b)),
    ("irfft_odd_length", lambda a, b: ops.irfft((a, b), fft_length=7), [r(2, 4), r(2, 4)],
     lambda a, b: np.fft.irfft(a + 1j * b, n=7)),
    ("stft_real", lambda a: ops.stft(a, 6, 3, 8)[0], [r(2, 20)], None),
    ("stft_imag_hamming_no_center", lambda a: ops.stft(a, 8, 4, 8, "hamming", False)[1],
     [r(21)], None),
    ("istft", lambda a, b: ops.istft((a, b), 6, 3, 8), [r(5, 5), r(5, 5)], None),
    ("istft_length_no_window", lambda a, b: ops.istft((a, b), 8, 4, 8, length=10,
                                                      window=None, center=False),
     [r(4, 5), r(4, 5)], None),
    ("adaptive_average_pool_1d", lambda a: ops.adaptive_average_pool(a, 3), [r(2, 7, 3)],
     lambda a: np_adaptive(a, 3, "average")),
    ("adaptive_max_pool_2d", lambda a: ops.adaptive_max_pool(a, (2, 3)), [r(2, 5, 7, 2)],
     lambda a: np_adaptive(a, (2, 3), "max")),
    ("adaptive_average_pool_2d_first",
     lambda a: ops.adaptive_average_pool(a, 4, data_format="channels_first"), [r(1, 2, 6, 9)],
     lambda a: np_adaptive(a, 4, "average", channels_first=True)),
    ("adaptive_average_pool_3d", lambda a: ops.adaptive_average_pool(a, (2, 1, 3)),
     [r(1, 5, 3, 4, 2)], lambda a: np_adaptive(a, (2, 1, 3), "average")),
    ("adaptive_max_pool_upsample", lambda a: ops.adaptive_max_pool(a, 5), [r(1, 3, 2)],
     lambda a: np_adaptive(a, 5, "max")),
    ("unfold", lambda a: ops.unfold(a, 2), [r(2, 3, 4, 5)], lambda a: np_unfold(a, 2)),
    ("unfold_dilation_padding_stride", lambda a: ops.unfold(a, 3, dilation=2, padding=1,
                                                            stride=2),
     [r(1, 2, 7, 6)], lambda a: np_unfold(a, 3, 2, 1, 2)),
    ("fold", lambda c: ops.fold(c, (4, 5), 2), [r(2, 12, 12)],
     lambda c: np_fold(c, (4, 5), 2)),
    ("fold_dilation_padding_stride", lambda c: ops.fold(c, (7, 6), 3, dilation=2, padding=1,
                                                        stride=2),
     [r(1, 18, 6)], lambda c: np_fold(c, (7, 6), 3, 2, 1, 2)),
]


def _scipy_stft(x, sl, ss, fl, window="hann", center=True):
    """Keras's NumPy backend: scipy.signal.stft, rescaled and transposed."""
    signal = pytest.importorskip("scipy.signal")
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fl // 2, fl // 2)], mode="reflect")
    lp = (fl - sl) // 2
    win = np.pad(signal.get_window(window, sl), (lp, fl - sl - lp))
    z = signal.stft(x, fs=1.0, window=win, nperseg=fl, noverlap=fl - ss, nfft=fl,
                    boundary=None, padded=False)[-1]
    return np.swapaxes(z * win.sum(), -2, -1)


def _scipy_istft(z, sl, ss, fl, length=None, window="hann", center=True):
    signal = pytest.importorskip("scipy.signal")
    lp = (fl - sl) // 2
    if window is None:
        win = np.ones(fl)
    else:
        win = np.pad(signal.get_window(window, sl), (lp, fl - sl - lp))
    with warnings.catch_warnings():  # SciPy warns of the edges no frame overlaps (NOLA)
        warnings.simplefilter("ignore", UserWarning)
        x = signal.istft(z, fs=1.0, window=win, nperseg=fl, noverlap=fl - ss, nfft=fl,
                         boundary=False, time_axis=-2, freq_axis=-1)[-1]
    x = x / win.sum() if window is not None else x / ss
    expected = fl + ss * (z.shape[-2] - 1)
    start = fl // 2 if center else 0
    end = start + length if length is not None else (expected - fl // 2 if center
                                                       else expected)
    return x[..., start:end]


REFS = {
    "stft_real": lambda a: _scipy_stft(a, 6, 3, 8).real,
    "stft_imag_hamming_no_center": lambda a: _scipy_stft(a, 8, 4, 8, "hamming", False).imag,
    "istft": lambda a, b: _scipy_istft(a + 1j * b, 6, 3, 8),
    "istft_length_no_window": lambda a, b: _scipy_istft(a + 1j * b, 8, 4, 8, 10, None, False),
}


@pytest.mark.parametrize("name,fn,inputs,ref", DIFF, ids=[c[0] for c in DIFF])
def test_forward_matches_reference_and_gradient_checks(name, fn, inputs, ref):
    got = fn(*[cr.Tensor(x) for x in inputs])
    with np.errstate(all="ignore"):
        want = (ref or REFS[name])(*inputs)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-11)
    result = check_gradients(fn, *inputs, eps=1e-6, tolerance=1e-5)
    assert result.ok, f"{name}:\n{result}"


def test_stft_istft_round_trip_and_fold_is_unfolds_adjoint():
    sig = r(2, 40)
    re, im = ops.stft(cr.Tensor(sig), 16, 4, 16)
    assert re.shape == (2, 11, 9)
    back = ops.istft((re, im), 16, 4, 16, length=40)
    np.testing.assert_allclose(back.numpy(), sig, atol=1e-10)
    # <unfold(x), c> == <x, fold(c)>
    x, c = r(1, 2, 5, 5), r(1, 8, 16)
    lhs = (ops.unfold(x, 2).numpy() * c).sum()
    rhs = (x * ops.fold(c, 5, 2).numpy()).sum()
    np.testing.assert_allclose(lhs, rhs)


def _brute_ctc(logits, label, blank=0):
    """-log of the summed probability of every path that collapses to ``label``."""
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    t, k = p.shape
    total = 0.0
    for path in itertools.product(range(k), repeat=t):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or
                                                                      c != path[i - 1])]
        if collapsed == list(label):
            total += np.prod([p[i, c] for i, c in enumerate(path)])
    return -np.log(total)


def test_ctc_loss_matches_the_sum_over_alignments_and_gradient_checks():
    logits = r(3, 5, 4) * 2
    target = np.array([[1, 2, 2], [3, 0, 0], [2, 3, 1]])
    tl = np.array([3, 1, 2])
    ol = np.array([5, 4, 5])
    got = ops.ctc_loss(target, cr.Tensor(logits), tl, ol).numpy()
    want = [_brute_ctc(logits[b, :ol[b]], target[b, :tl[b]]) for b in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    result = check_gradients(lambda z: ops.ctc_loss(target, z, tl, ol), logits, tolerance=1e-6)
    assert result.ok, str(result)
    # another blank index, and a target too long for its steps (no alignment: inf, no NaN)
    got = ops.ctc_loss(np.array([[0, 1]]), cr.Tensor(logits[:1]), [2], [5], mask_index=3)
    np.testing.assert_allclose(got.numpy(), [_brute_ctc(logits[0], [0, 1], blank=3)])
    z = cr.Tensor(logits[:1], requires_grad=True)
    loss = ops.ctc_loss(np.array([[1, 1, 1]]), z, [3], [4])  # needs 5 steps: 1 b 1 b 1
    assert np.isinf(loss.numpy()).all()
    ops.sum(loss).backward()
    np.testing.assert_array_equal(z.grad, 0.0)


def test_ctc_loss_in_a_model_trains_and_replays():
    class CTCModel(cr.Model):
        def __init__(self):
            super().__init__()
            self.dense = cr.layers.Dense(4)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
            lengths = ops.full((ops.shape(y)[0],), 2, dtype="int32")
            steps = ops.full((ops.shape(y)[0],), 5, dtype="int32")
            return ops.mean(ops.ctc_loss(y, y_pred, lengths, steps))

    cr.utils.set_random_seed(0)
    m = CTCModel()
    m.compile(optimizer="adam")
    x = rng.standard_normal((16, 5, 3)).astype("float32")
    y = rng.integers(1, 4, size=(16, 2))
    h = m.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_ctc_decode_greedy_matches_keras_rules():
    logits = np.zeros((2, 5, 4))
    best = [[1, 1, 0, 2, 2], [3, 3, 3, 0, 1]]
    for b in range(2):
        logits[b, np.arange(5), best[b]] = 2.0
    decoded, scores = ops.ctc_decode(cr.Tensor(logits), np.array([5, 3]))
    np.testing.assert_array_equal(decoded.numpy(), [[[1, 2, -1, -1, -1], [3, -1, -1, -1, -1]]])
    np.testing.assert_allclose(scores.numpy(), [[-10.0], [-6.0]])
    decoded, _ = ops.ctc_decode(cr.Tensor(logits), np.array([5, 5]), merge_repeated=False,
                                mask_index=3)
    np.testing.assert_array_equal(decoded.numpy()[0, 1], [0, 1, -1, -1, -1])
    np.testing.assert_array_equal(decoded.numpy()[0, 0], [1, 1, 0, 2, 2])
    assert decoded.dtype == np.int32 and not decoded.requires_grad


def _label_probs(logits, blank):
    """Every label sequence's probability: the sum over the paths that collapse to it."""
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    t, k = p.shape
    probs: dict = {}
    for path in itertools.product(range(k), repeat=t):
        label = tuple(c for i, c in enumerate(path) if c != blank and (i == 0 or
                                                                       c != path[i - 1]))
        probs[label] = probs.get(label, 0.0) + np.prod([p[i, c] for i, c in enumerate(path)])
    return sorted(probs.items(), key=lambda kv: -kv[1])


def test_ctc_beam_search_finds_the_most_probable_label_sequences():
    logits = r(2, 4, 3) * 3
    lengths = np.array([4, 3])
    decoded, scores = ops.ctc_decode(cr.Tensor(logits), lengths, strategy="beam_search",
                                     beam_width=50, top_paths=3, mask_index=2)
    assert decoded.shape == (3, 2, 4) and scores.shape == (2, 3)
    assert decoded.dtype == np.int32 and not scores.requires_grad
    for b in range(2):
        want = _label_probs(logits[b, :lengths[b]], blank=2)[:3]
        for i, (label, prob) in enumerate(want):
            row = decoded.numpy()[i, b]
            assert tuple(row[row >= 0]) == label and np.all(row[len(label):] == -1)
            np.testing.assert_allclose(scores.numpy()[b, i], np.log(prob), rtol=1e-10)
    # a narrow beam still returns valid sequences, best first
    _, narrow = ops.ctc_decode(cr.Tensor(logits), lengths, strategy="beam_search",
                               beam_width=2, top_paths=2)
    assert np.all(np.diff(narrow.numpy(), axis=1) <= 0)


def test_polar_is_complex_without_gradient():
    a = cr.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = ops.polar(a, np.array([0.0, np.pi / 2]))
    np.testing.assert_allclose(z.numpy(), [1.0, 2j], atol=1e-12)
    assert not z.requires_grad


def test_symbolic_spectral_and_pooling_ops():
    inp = cr.layers.Input((32,))
    re, im = ops.stft(inp, 8, 4, 8)
    pooled = ops.adaptive_average_pool(ops.expand_dims(re, -1), (3, 2))
    model = cr.Model(inp, [pooled, ops.irfft((re, im), 8)])
    assert model.output_shape[0] == (None, 3, 2, 1)
    out = model.predict(r(2, 32).astype("float32"), verbose=0)
    assert out[0].shape == (2, 3, 2, 1) and out[1].shape == (2, 9, 8)


@pytest.mark.parametrize("call,error,match", [
    (lambda: ops.fft(np.zeros(3)), ValueError,
     r"fft: x must be a tuple \(real, imag\) of two tensors\. Received: x of type ndarray$"),
    (lambda: ops.fft((np.zeros(3), np.zeros(2))), ValueError,
     r"fft: the real and imaginary parts must have the same shape\. Received: "
     r"x\[0\]\.shape=\(3,\), x\[1\]\.shape=\(2,\)$"),
    (lambda: ops.stft(np.zeros(16), 8, 4, 4), ValueError,
     r"stft: fft_length must be at least sequence_length\. Received: sequence_length=8, "
     r"fft_length=4$"),
    (lambda: ops.stft(np.zeros(16), 8, 4, 8, window="kaiser"), ValueError,
     r"stft: a window given by name must be 'hann' or 'hamming'\. Received: "
     r"window='kaiser'$"),
    (lambda: ops.stft(np.zeros(16, "int32"), 8, 4, 8), TypeError,
     r"stft: x must be float32 or float64\. Received: x of dtype int32$"),
    (lambda: ops.adaptive_average_pool(np.zeros((2, 3)), 2), ValueError,
     r"adaptive_average_pool: inputs must be 3-D, 4-D or 5-D .*Received: inputs of shape "
     r"\(2, 3\)$"),
    (lambda: ops.adaptive_max_pool(np.zeros((1, 4, 4, 1)), (2, 0)), ValueError,
     r"adaptive_max_pool: output_size must be a positive integer or 2 of them\. "
     r"Received: output_size=\(2, 0\)$"),
    (lambda: ops.unfold(np.zeros((1, 4, 4)), 2), ValueError,
     r"unfold: x must be 4-D \(N, C, H, W\)\. Received: x of shape \(1, 4, 4\)$"),
    (lambda: ops.fold(np.zeros((1, 4, 5)), (3, 3), 2), ValueError,
     r"fold: x must have shape \(N, C \* 4, 4\) for kernel \(2, 2\) and output \(3, 3\)\. "
     r"Received: x of shape \(1, 4, 5\)$"),
    (lambda: ops.ctc_loss([[1]], np.zeros((1, 2)), [1], [2]), ValueError,
     r"ctc_loss: output must be logits of shape \(batch, steps, classes\)\. Received: "
     r"output of shape \(1, 2\)$"),
    (lambda: ops.ctc_loss([[1]], np.zeros((1, 2, 3)), [2], [2]), ValueError,
     r"ctc_loss: target_length must be in \[0, 1\] and output_length at least 1\. "
     r"Received: target_length=\[2\], output_length=\[2\]$"),
    (lambda: ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="beam_search", beam_width=2,
                            top_paths=3), ValueError,
     r"ctc_decode: top_paths must not exceed beam_width \(2\)\. Received: top_paths=3$"),
    (lambda: ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="best"), ValueError,
     r"ctc_decode: strategy must be 'greedy' or 'beam_search'\. Received: strategy='best'$"),
])
def test_bad_arguments_name_themselves(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rearrange_matches_numpy_reshapes_and_gradient_checks():
    x = r(2, 6, 4, 3)
    got = ops.rearrange(cr.Tensor(x), "b (h1 h) w c -> (b h1) h w c", h1=2).numpy()
    np.testing.assert_array_equal(got, x.reshape(2, 2, 3, 4, 3).reshape(4, 3, 4, 3))
    got = ops.rearrange(cr.Tensor(x), "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2)
    want = x.reshape(2, 3, 2, 2, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 3, 2, 12)
    np.testing.assert_array_equal(got.numpy(), want)
    assert ops.rearrange(x, "b h w c -> b c h w").shape == (2, 3, 6, 4)
    result = check_gradients(lambda a: ops.rearrange(a, "b h w c -> h (b w) c"), x[:, :2])
    assert result.ok, str(result)
    inp = cr.layers.Input((6, 4, 3))
    assert ops.rearrange(inp, "b h w c -> b (h w) c").shape == (None, 24, 3)


def test_vectorize_loops_over_broadcast_axes():
    f = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    a, b = r(2, 3, 4), r(3, 4)
    np.testing.assert_allclose(f(cr.Tensor(a), cr.Tensor(b)).numpy(), (a * b).sum(-1))
    g = ops.vectorize(lambda x, p: x ** p if x > 0 else -x, excluded={1})
    np.testing.assert_allclose(g(cr.Tensor(np.array([[-1.0, 2.0]])), 2).numpy(),
                               [[1.0, 4.0]])
    result = check_gradients(lambda x: f(x, ops.sin(x)), a)
    assert result.ok, str(result)
    pair = ops.vectorize(lambda v: (ops.max(v), ops.min(v)), signature="(n)->(),()")
    hi, lo = pair(cr.Tensor(a))
    np.testing.assert_allclose(hi.numpy(), a.max(-1))
    np.testing.assert_allclose(lo.numpy(), a.min(-1))


def test_custom_gradient_is_one_op_and_replays():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = cr.Tensor(np.array([0.0, 100.0, -3.0]), requires_grad=True)
    y = log1pexp(x)
    np.testing.assert_allclose(y.numpy(), np.logaddexp(0, x.numpy()))
    ops.sum(y).backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-x.numpy())))
    assert y.creator is not None and type(y.creator).__name__ == "CustomGradient"

    class Soft(cr.layers.Layer):
        def call(self, inputs):
            return log1pexp(inputs)

    def make(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        m = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4), Soft(), cr.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        return m

    xs = rng.standard_normal((24, 3)).astype("float32")
    ys = rng.standard_normal((24, 1)).astype("float32")
    fast, slow = make(True), make(False)
    fast.fit(xs, ys, batch_size=8, epochs=2, verbose=0, shuffle=False)
    slow.fit(xs, ys, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_view_as_complex_and_real_round_trip():
    x = r(3, 2)
    z = ops.view_as_complex(cr.Tensor(x))
    np.testing.assert_array_equal(z.numpy(), x[:, 0] + 1j * x[:, 1])
    np.testing.assert_array_equal(ops.view_as_real(z).numpy(), x)


@pytest.mark.parametrize("call,match", [
    (lambda: ops.rearrange(np.zeros((2, 3)), "a b c -> a b c"),
     r"rearrange: the pattern names 3 input axes\. Received: a tensor of shape \(2, 3\) for "
     r"pattern='a b c -> a b c'$"),
    (lambda: ops.rearrange(np.zeros((2, 3)), "a b -> a c"),
     r"rearrange: both sides must name the same axes, each once\. Received: "
     r"pattern='a b -> a c'$"),
    (lambda: ops.rearrange(np.zeros((2, 6)), "a (b c) -> a b c"),
     r"rearrange: give the sizes of all but one axis of \['b', 'c'\]\. Received: "
     r"axes_lengths=\{\}$"),
    (lambda: ops.rearrange(np.zeros((2, 6)), "a (b c) -> a b c", b=4),
     r"rearrange: the axis of size 6 cannot be split as \['b', 'c'\]\. Received: "
     r"axes_lengths=\{'b': 4\}$"),
    (lambda: ops.view_as_complex(np.zeros((2, 3))),
     r"view_as_complex: x must be float32/float64 with a last axis of 2\. Received: x of "
     r"shape \(2, 3\) and dtype float64$"),
])
def test_transform_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""The newer keras.ops functions against Keras 3 itself: the results Keras recorded
(tools/keras_fixtures_ops_more.py, TensorFlow backend, float32) for the same calls on the same
inputs. The table names the same calls as the tool's."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "ops_more_keras.npz")
DATA = np.load(FIXTURE)

CALLS = {
    "quantile": lambda o, x: o.quantile(x, [0.2, 0.5, 0.9], axis=1),
    "quantile_nearest": lambda o, x: o.quantile(x, 0.35, axis=0, method="nearest"),
    "median": lambda o, x: o.median(x, axis=-1, keepdims=True),
    "nanmean": lambda o, x: o.nanmean(x, axis=1),
    "nanargmax": lambda o, x: o.nanargmax(x, axis=1),
    "nanstd": lambda o, x: o.nanstd(x, axis=0),
    "logaddexp2": lambda o, a, b: o.logaddexp2(a, b),
    "erfinv": lambda o, x: o.erfinv(x),
    "sinc": lambda o, x: o.sinc(x),
    "divide_no_nan": lambda o, a, b: o.divide_no_nan(a, b),
    "searchsorted": lambda o, s, v: o.searchsorted(s, v, side="right"),
    "digitize": lambda o, x, b: o.digitize(x, b),
    "bincount": lambda o, x, w: o.bincount(x, weights=w, minlength=6),
    "histogram": lambda o, x: o.histogram(x, bins=5),
    "correlate_full": lambda o, a, b: o.correlate(a, b, mode="full"),
    "correlate_same": lambda o, a, b: o.correlate(a, b, mode="same"),
    "cross": lambda o, a, b: o.cross(a, b),
    "kron": lambda o, a, b: o.kron(a, b),
    "rot90": lambda o, x: o.rot90(x, k=3, axes=(1, 2)),
    "trapezoid": lambda o, y, x: o.trapezoid(y, x, axis=0),
    "vander": lambda o, x: o.vander(x, 4, increasing=True),
    "select": lambda o, x: o.select([x < -0.5, x > 0.5], [x * 2, x * 3], default=1.0),
    "array_split": lambda o, x: o.array_split(x, 3, axis=1),
    "slice_update": lambda o, x, u: o.slice_update(x, (1, 2), u),
    "scatter": lambda o, v: o.scatter(np.array([[0, 1], [2, 2], [0, 1]]), v, (3, 4)),
    "scatter_update": lambda o, x, u: o.scatter_update(x, np.array([[0], [2]]), u),
    "segment_max": lambda o, d: o.segment_max(d, np.array([0, 0, 2, 2, 2]), num_segments=3),
    "segment_sum": lambda o, d: o.segment_sum(d, np.array([1, 0, 1, 1]), num_segments=2),
    "saturate_cast": lambda o, x: o.saturate_cast(x * 200, "uint8"),
    "associative_scan": lambda o, x: o.associative_scan(lambda a, b: a + b, x, axis=1),
    "rms_normalization": lambda o, x, s: o.rms_normalization(x, s, axis=-1, epsilon=1e-5),
    "hard_silu": lambda o, x: o.hard_silu(x * 4),
    "sparse_sigmoid": lambda o, x: o.sparse_sigmoid(x * 2),
    "log_sigmoid": lambda o, x: o.log_sigmoid(x * 5),
    "dot_product_attention": lambda o, q, k, v, m: o.dot_product_attention(q, k, v, mask=m,
                                                                           is_causal=True),
    "depth_to_space": lambda o, x: o.depth_to_space(x, 2),
    "space_to_depth_first": lambda o, x: o.space_to_depth(x, 2, data_format="channels_first"),
    "adaptive_average_pool": lambda o, x: o.adaptive_average_pool(o.convert_to_tensor(x), (3, 2)),
    "adaptive_max_pool": lambda o, x: o.adaptive_max_pool(o.convert_to_tensor(x), 4),
    "unfold": lambda o, x: o.unfold(x, 3, dilation=1, padding=1, stride=2),
    "fold": lambda o, x: o.fold(x, (4, 5), 2),
    "psnr": lambda o, a, b: o.psnr(a, b, 1.0),
    "rfft": lambda o, x: o.rfft(x, fft_length=10),
    "irfft": lambda o, a, b: o.irfft((a, b), fft_length=8),
    "fft2": lambda o, a, b: o.fft2((a, b)),
    "stft": lambda o, x: o.stft(x, 16, 8, 32, window="hann"),
    "istft": lambda o, a, b: o.istft((a, b), 16, 8, 16, length=40),
    "ctc_loss": lambda o, t, z: o.ctc_loss(t, z, np.array([3, 2]), np.array([6, 5])),
    "ctc_decode_greedy": lambda o, z: o.ctc_decode(z, np.array([6, 4])),
    "ctc_decode_beam": lambda o, z: o.ctc_decode(z, np.array([6, 4]), strategy="beam_search",
                                                 beam_width=8, top_paths=2),
    "det": lambda o, x: o.det(x),
    "solve": lambda o, a, b: o.solve(a, b),
    "solve_triangular": lambda o, a, b: o.solve_triangular(a, b, lower=True),
    "cholesky_inverse": lambda o, x: o.cholesky_inverse(np.linalg.cholesky(x)),
    "slogdet": lambda o, x: o.slogdet(x),
    "lstsq": lambda o, a, b: o.lstsq(a, b),
    "pinv": lambda o, x: o.pinv(x),
    "svd_values": lambda o, x: o.svd(x, compute_uv=False),
    "eigh_values": lambda o, x: o.eigh(x)[0],
    "matrix_rank": lambda o, x: o.matrix_rank(x),
    "norm_nuc": lambda o, x: o.norm(x, ord="nuc"),
    "rearrange": lambda o, x: o.rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2, w1=2),
    "cdist": lambda o, a, b: o.cdist(a, b),
    "extract_sequences": lambda o, x: o.extract_sequences(x, 4, 3),
}

# float32 results of TensorFlow's kernels against NumPy's: a few ulps, more where values
# cancel (the Fourier and linear-algebra sums); integer and boolean results exactly
RTOL = {"stft": 1e-4, "istft": 1e-4, "fft2": 1e-4, "rfft": 1e-4, "irfft": 1e-4,
        "pinv": 1e-4, "lstsq": 1e-4, "solve": 1e-4, "solve_triangular": 1e-4,
        "cholesky_inverse": 1e-4, "det": 1e-4, "erfinv": 1e-4, "ctc_loss": 1e-4,
        "ctc_decode_beam": 1e-4, "norm_nuc": 1e-4}


def test_the_fixture_names_its_versions_and_every_case():
    versions = json.loads(str(DATA["versions"]))
    assert versions["keras"].startswith("3.") and versions["backend"] == "tensorflow"
    recorded = {k.split("/")[0] for k in DATA.files if "/" in k}
    assert recorded == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_matches_keras(name):
    inputs = []
    k = 0
    while f"{name}/in{k}" in DATA.files:
        inputs.append(DATA[f"{name}/in{k}"])
        k += 1
    with np.errstate(all="ignore"):
        got = CALLS[name](ops, *[cr.Tensor(a) if a.dtype.kind == "f" else a for a in inputs])
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    for j, y in enumerate(got):
        want = DATA[f"{name}/out{j}"]
        y = ops.convert_to_numpy(y)
        if name == "segment_max":
            # an empty segment: TensorFlow's lowest float, Keras's NumPy backend's (and
            # chainrule's) -inf
            want = np.where(want == np.finfo(want.dtype).min, -np.inf, want)
        if name == "space_to_depth_first":
            # Keras's NumPy, JAX and torch backends (and chainrule) put the channel before the
            # block offset in channels_first; its TensorFlow backend, after (TF's NHWC op)
            n, c, h, w = y.shape
            y = y.reshape(n, c // 4, 4, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)
        assert y.shape == want.shape, f"{name} output {j}: {y.shape} != {want.shape}"
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(y, want, err_msg=f"{name} output {j}")
        else:
            np.testing.assert_allclose(y, want, rtol=RTOL.get(name, 2e-5), atol=2e-5,
                                       err_msg=f"{name} output {j}")

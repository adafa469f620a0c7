"""Record Keras 3's results for the newer ``keras.ops`` functions chainrule implements.

Run with an environment that has Keras 3 (and TensorFlow)::

    python tools/keras_fixtures_ops_more.py   # writes tests/fixtures/ops_more_keras.npz

Each case is one call of an op on seeded inputs; the file holds the inputs
(``<case>/in<k>``), Keras's outputs (``<case>/out<k>``) and the versions.
tests/test_keras_ops_parity.py makes the same calls with ``chainrule.ops``:
the ``CASES`` table here and there name the same calls.
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from keras import ops  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ops_more_keras.npz")
rng = np.random.default_rng(2024)


def f32(*shape):
    return rng.standard_normal(shape).astype("float32")


NAN = f32(3, 5)
NAN[0, 1] = NAN[2, 2] = np.nan
NAN[1] = np.nan
SPD = f32(3, 3)
SPD = (SPD @ SPD.T + 3 * np.eye(3)).astype("float32")
LOGITS = f32(2, 6, 4)

# name -> (call on an ops module and the inputs, inputs)
CASES = {
    "quantile": (lambda o, x: o.quantile(x, [0.2, 0.5, 0.9], axis=1), [f32(3, 7)]),
    "quantile_nearest": (lambda o, x: o.quantile(x, 0.35, axis=0, method="nearest"),
                         [f32(6, 3)]),
    "median": (lambda o, x: o.median(x, axis=-1, keepdims=True), [f32(4, 6)]),
    "nanmean": (lambda o, x: o.nanmean(x, axis=1), [NAN]),
    "nanargmax": (lambda o, x: o.nanargmax(x, axis=1), [NAN]),
    "nanstd": (lambda o, x: o.nanstd(x, axis=0), [NAN]),
    "logaddexp2": (lambda o, a, b: o.logaddexp2(a, b), [f32(3, 4), f32(4)]),
    "erfinv": (lambda o, x: o.erfinv(x), [np.tanh(f32(3, 4)).astype("float32")]),
    "sinc": (lambda o, x: o.sinc(x), [f32(5)]),
    "divide_no_nan": (lambda o, a, b: o.divide_no_nan(a, b),
                      [f32(4), np.array([0.0, 2.0, 0.0, -1.0], "float32")]),
    "searchsorted": (lambda o, s, v: o.searchsorted(s, v, side="right"),
                     [np.sort(f32(6)), f32(5)]),
    "digitize": (lambda o, x, b: o.digitize(x, b), [f32(7), np.sort(f32(3))]),
    "bincount": (lambda o, x, w: o.bincount(x, weights=w, minlength=6),
                 [np.array([0, 2, 2, 5, 1], "int32"), f32(5)]),
    "histogram": (lambda o, x: o.histogram(x, bins=5), [f32(20)]),
    "correlate_full": (lambda o, a, b: o.correlate(a, b, mode="full"), [f32(6), f32(3)]),
    "correlate_same": (lambda o, a, b: o.correlate(a, b, mode="same"), [f32(5), f32(4)]),
    "cross": (lambda o, a, b: o.cross(a, b), [f32(4, 3), f32(4, 3)]),
    "kron": (lambda o, a, b: o.kron(a, b), [f32(2, 3), f32(2, 2)]),
    "rot90": (lambda o, x: o.rot90(x, k=3, axes=(1, 2)), [f32(2, 3, 4)]),
    "trapezoid": (lambda o, y, x: o.trapezoid(y, x, axis=0), [f32(4, 3), np.sort(f32(4))]),
    "vander": (lambda o, x: o.vander(x, 4, increasing=True), [f32(3)]),
    "select": (lambda o, x: o.select([x < -0.5, x > 0.5], [x * 2, x * 3], default=1.0),
               [f32(3, 4)]),
    "array_split": (lambda o, x: o.array_split(x, 3, axis=1), [f32(2, 7)]),
    "slice_update": (lambda o, x, u: o.slice_update(x, (1, 2), u), [f32(4, 5), f32(2, 3)]),
    "scatter": (lambda o, v: o.scatter(np.array([[0, 1], [2, 2], [0, 1]]), v, (3, 4)),
                [f32(3)]),
    "scatter_update": (lambda o, x, u: o.scatter_update(x, np.array([[0], [2]]), u),
                       [f32(3, 4), f32(2, 4)]),
    "segment_max": (lambda o, d: o.segment_max(d, np.array([0, 0, 2, 2, 2]), num_segments=3),
                    [f32(5, 2)]),
    "segment_sum": (lambda o, d: o.segment_sum(d, np.array([1, 0, 1, 1]), num_segments=2),
                    [f32(4, 3)]),
    "saturate_cast": (lambda o, x: o.saturate_cast(x * 200, "uint8"), [f32(6)]),
    "associative_scan": (lambda o, x: o.associative_scan(lambda a, b: a + b, x, axis=1),
                         [f32(2, 5)]),
    "rms_normalization": (lambda o, x, s: o.rms_normalization(x, s, axis=-1, epsilon=1e-5),
                          [f32(3, 6), f32(6)]),
    "hard_silu": (lambda o, x: o.hard_silu(x * 4), [f32(10)]),
    "sparse_sigmoid": (lambda o, x: o.sparse_sigmoid(x * 2), [f32(10)]),
    "log_sigmoid": (lambda o, x: o.log_sigmoid(x * 5), [f32(10)]),
    "dot_product_attention": (
        lambda o, q, k, v, m: o.dot_product_attention(q, k, v, mask=m, is_causal=True),
        [f32(2, 4, 2, 8), f32(2, 4, 2, 8), f32(2, 4, 2, 8),
         rng.random((2, 1, 4, 4)) > 0.3]),
    "depth_to_space": (lambda o, x: o.depth_to_space(x, 2), [f32(2, 3, 2, 8)]),
    "space_to_depth_first": (lambda o, x: o.space_to_depth(x, 2, data_format="channels_first"),
                             [f32(1, 3, 4, 6)]),
    "adaptive_average_pool": (lambda o, x: o.adaptive_average_pool(o.convert_to_tensor(x),
                                                                   (3, 2)),
                              [f32(2, 7, 5, 3)]),
    "adaptive_max_pool": (lambda o, x: o.adaptive_max_pool(o.convert_to_tensor(x), 4),
                          [f32(2, 9, 3)]),
    "unfold": (lambda o, x: o.unfold(x, 3, dilation=1, padding=1, stride=2),
               [f32(1, 2, 5, 6)]),
    "fold": (lambda o, x: o.fold(x, (4, 5), 2), [f32(2, 12, 12)]),
    "psnr": (lambda o, a, b: o.psnr(a, b, 1.0), [f32(8), f32(8)]),
    "rfft": (lambda o, x: o.rfft(x, fft_length=10), [f32(2, 8)]),
    "irfft": (lambda o, a, b: o.irfft((a, b), fft_length=8), [f32(2, 5), f32(2, 5)]),
    "fft2": (lambda o, a, b: o.fft2((a, b)), [f32(3, 4), f32(3, 4)]),
    "stft": (lambda o, x: o.stft(x, 16, 8, 32, window="hann"), [f32(2, 64)]),
    "istft": (lambda o, a, b: o.istft((a, b), 16, 8, 16, length=40),
              [f32(6, 9), f32(6, 9)]),
    "ctc_loss": (lambda o, t, z: o.ctc_loss(t, z, np.array([3, 2]), np.array([6, 5])),
                 [np.array([[1, 2, 2], [3, 1, 0]], "int32"), LOGITS]),
    "ctc_decode_greedy": (lambda o, z: o.ctc_decode(z, np.array([6, 4])), [LOGITS]),
    "ctc_decode_beam": (lambda o, z: o.ctc_decode(z, np.array([6, 4]), strategy="beam_search",
                                                  beam_width=8, top_paths=2), [LOGITS]),
    "det": (lambda o, x: o.det(x), [f32(2, 3, 3)]),
    "solve": (lambda o, a, b: o.solve(a, b), [SPD, f32(3, 2)]),
    "solve_triangular": (lambda o, a, b: o.solve_triangular(a, b, lower=True), [SPD, f32(3, 2)]),
    "cholesky_inverse": (lambda o, x: o.cholesky_inverse(np.linalg.cholesky(x)), [SPD]),
    "slogdet": (lambda o, x: o.slogdet(x), [f32(3, 3)]),
    "lstsq": (lambda o, a, b: o.lstsq(a, b), [f32(5, 3), f32(5)]),
    "pinv": (lambda o, x: o.pinv(x), [f32(4, 3)]),
    "svd_values": (lambda o, x: o.svd(x, compute_uv=False), [f32(4, 3)]),
    "eigh_values": (lambda o, x: o.eigh(x)[0], [SPD]),
    "matrix_rank": (lambda o, x: o.matrix_rank(x), [np.array([[1, 2], [2, 4]], "float32")]),
    "norm_nuc": (lambda o, x: o.norm(x, ord="nuc"), [f32(3, 4)]),
    "rearrange": (lambda o, x: o.rearrange(x, "b (h h1) (w w1) c -> b h w (c h1 w1)", h1=2,
                                           w1=2), [f32(2, 4, 6, 3)]),
    "cdist": (lambda o, a, b: o.cdist(a, b), [f32(3, 4), f32(5, 4)]),
    "extract_sequences": (lambda o, x: o.extract_sequences(x, 4, 3), [f32(2, 11)]),
}


def main() -> None:
    arrays = {}
    failed = []
    for name, (call, inputs) in CASES.items():
        try:
            out = call(ops, *inputs)
        except Exception as e:  # noqa: BLE001 - reported, and the case left out
            failed.append(f"{name}: {type(e).__name__}: {str(e)[:200]}")
            continue
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        for k, a in enumerate(inputs):
            arrays[f"{name}/in{k}"] = np.asarray(a)
        for k, y in enumerate(outs):
            arrays[f"{name}/out{k}"] = np.asarray(ops.convert_to_numpy(y))
    import tensorflow as tf  # noqa: PLC0415

    arrays["versions"] = np.array(json.dumps({"keras": keras.__version__,
                                              "tensorflow": tf.__version__,
                                              "backend": keras.backend.backend()}))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(CASES) - len(failed)} cases to {os.path.normpath(OUT)}")
    for line in failed:
        print("left out:", line)


if __name__ == "__main__":
    main()

"""The whole-sequence forward-only kernels of LSTM and GRU (chainrule.ops._rnn_kernels
._lstm_sequence, _gru_sequence): their float32 tanh against the true tanh, the kernels against
independent NumPy loops with the same tanh (bit for bit), the ops against the training path (to
1e-6 of the outputs' scale), the split of the batch rows over threads, and when they run."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import _blas, parallel
from chainrule import layers as L
from chainrule.backend import cblas
from chainrule.ops import _rnn_kernels, rnn

pytest.importorskip("numba")
needs_kernel = pytest.mark.skipif(_rnn_kernels.sequence_gemm(np.float32) is None,
                                  reason="NumPy's BLAS cannot be called from the kernels here")


@pytest.fixture(autouse=True)
def _restore_switches():
    yield
    cr.config.set_fused_kernels(None)
    cr.config.set_num_threads(None)


def _tanh(x):
    out = np.empty(x.size, np.float32)
    _rnn_kernels.kernel("tanh_array")(np.ascontiguousarray(x, np.float32).ravel(), out)
    return out.reshape(np.shape(x))


def test_cblas_gemm_is_numpys_product():
    for dtype in (np.float32, np.float64):
        found = cblas.gemm(dtype)
        if found is None:
            pytest.skip("no cblas gemm found in NumPy's libraries")
        assert isinstance(found[0], int) and found[1].dtype in (np.int32, np.int64)
    assert cblas.gemm(np.float16) is None and cblas.gemm(np.int64) is None


def test_tanh_within_two_ulp_of_the_true_tanh():
    # every 211th float32 from 1e-6 to 10 (about a million), both signs
    start, stop = np.float32(1e-6).view(np.int32), np.float32(10).view(np.int32)
    x = np.arange(start, stop, 211, dtype=np.int32).view(np.float32)
    x = np.concatenate([x, -x])
    got = _tanh(x).astype(np.float64)
    true = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(true).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - true) / ulp) <= 2.0
    special = np.array([0.0, np.inf, -np.inf, 100.0, -100.0, 9.5, 1e-30, -1e-30], np.float32)
    true = np.tanh(special.astype(np.float64)).astype(np.float32)  # tanh(9.5) rounds to 1
    np.testing.assert_array_equal(_tanh(special), true)
    assert np.isnan(_tanh(np.array([np.nan], np.float32)))[0]


def _numpy_loop(rows, ids, R, h, c, mask, seq):
    """The kernel's steps in NumPy (its tanh): the forward-only LSTM with halved sigmoid
    columns."""
    U = R.shape[0]
    half = np.full(4 * U, 0.5, np.float32)
    half[2 * U:3 * U] = 1
    offset = np.where(half == 0.5, half, 0).astype(np.float32)
    Rs = R * half
    h, c = h.copy(), c.copy()
    H = []
    for t in range(ids.shape[0]):
        a = h @ Rs
        a += rows[ids[t]]
        a = _tanh(a) * half + offset
        cn = a[:, U:2 * U] * c + a[:, :U] * a[:, 2 * U:3 * U]
        hn = a[:, 3 * U:] * _tanh(cn)
        keep = np.ones(len(h), bool) if mask is None else mask[t]
        h, c = np.where(keep[:, None], hn, h), np.where(keep[:, None], cn, c)
        H.append(h)
    return (np.stack(H) if seq else h), c


def _kernel(rows, ids, R, h, c, mask, seq, blocks):
    B, U = h.shape
    gemm, ints = _rnn_kernels.sequence_gemm(np.float32)
    half = np.full(4 * U, 0.5, np.float32)
    half[2 * U:3 * U] = 1
    offset = np.where(half == 0.5, half, 0).astype(np.float32)
    h, c = h.copy(), c.copy()
    H = np.zeros((ids.shape[0] if seq else 1, B, U), np.float32)
    mf = np.ones((1, B, 1), np.float32) if mask is None else mask[:, :, None].astype(np.float32)
    k = _rnn_kernels.kernel("lstm_sequence")
    for r0, r1 in blocks:
        k(gemm, ints, rows, ids, np.ascontiguousarray(R * half), half, offset, h, c,
          np.empty((B, 4 * U), np.float32), H, seq, mf, mask is not None, r0, r1)
    return (H if seq else h), c


@needs_kernel
@pytest.mark.parametrize("seq", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_kernel_is_the_numpy_loop_with_its_tanh_bit_for_bit(seq, masked):
    rng = np.random.default_rng(0)
    B, T, U, N = 6, 9, 5, 13
    rows = rng.normal(size=(N, 4 * U)).astype(np.float32)
    ids = rng.integers(0, N, (T, B))
    R = (rng.normal(size=(U, 4 * U)) * 0.5).astype(np.float32)
    h, c = (rng.normal(size=(B, U)).astype(np.float32) for _ in range(2))
    mask = rng.random((T, B)) > 0.3 if masked else None
    want = _numpy_loop(rows, ids, R, h, c, mask, seq)
    got = _kernel(rows, ids, R, h, c, mask, seq, [(0, B)])
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes()
    # blocks of rows (as on two threads): each block's product has fewer rows, which a BLAS
    # may block differently (OpenBLAS gives the same bits); the rows never meet
    split = _kernel(rows, ids, R, h, c, mask, seq, [(0, 2), (2, B)])
    for g, w in zip(split, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def _op(U, infer, cell="lstm", **opts):
    args = (U, "tanh", "sigmoid", opts.get("go_backwards", False),
            opts.get("return_sequences", False), opts.get("return_state", False), False, 0.0,
            0.0, None)
    if cell == "lstm":
        op = rnn.LSTM(*args)
    else:
        op = rnn.GRU(*args, reset_after=cell == "gru")
    op._infer = infer
    return op


@needs_kernel
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("opts", [{}, {"return_sequences": True}, {"go_backwards": True},
                                  {"return_state": True, "return_sequences": True}],
                         ids=lambda o: "-".join(o) or "last")
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_op_matches_the_training_path(cell, opts, masked, threads, monkeypatch):
    cr.config.set_num_threads(threads)
    rng = np.random.default_rng(1)
    B, T, F, U = 16, 40, 3, 6
    G = 4 if cell == "lstm" else 3
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    W = (rng.normal(size=(F, G * U)) * 0.5).astype(np.float32)
    R = (rng.normal(size=(U, G * U)) * 0.5).astype(np.float32)
    b = rng.normal(size=(G * U,) if cell == "lstm" else (2, G * U)).astype(np.float32)
    h0, c0 = (rng.normal(size=(B, U)).astype(np.float32) for _ in range(2))
    c0 = c0 if cell == "lstm" else None
    mask = rng.random((B, T)) > 0.3 if masked else None
    parts, blas = [], []
    run_parts = parallel.run_parts

    def spy(fn, n):  # the blocks, and the BLAS threads while they run
        parts.append(n)
        blas.append(_blas.get_blas_threads())
        return run_parts(fn, n)

    monkeypatch.setattr(parallel, "run_parts", spy)
    want = _op(U, False, cell, **opts).forward(x, W, R, b, h0, c0, mask)
    got = _op(U, True, cell, **opts).forward(x, W, R, b, h0, c0, mask)
    assert parts == [threads]  # 16 rows: one block, or two of 8 rows
    if threads > 1 and blas[0] is not None:
        assert blas == [1]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())


def _numpy_gru_loop(rows, ids, R, brec, h, mask):
    U = R.shape[0]
    h = h.copy()
    for t in range(ids.shape[0]):
        p = rows[ids[t]]
        m = h @ R + brec
        zr = (_tanh((p[:, :2 * U] + m[:, :2 * U]) * np.float32(0.5)) + 1) * np.float32(0.5)
        hh = _tanh(zr[:, U:] * m[:, 2 * U:] + p[:, 2 * U:])
        hn = (h - hh) * zr[:, :U] + hh
        h = hn if mask is None else np.where(mask[t][:, None], hn, h)
    return h


@needs_kernel
@pytest.mark.parametrize("masked", [False, True])
def test_gru_kernel_is_the_numpy_loop_with_its_tanh_bit_for_bit(masked):
    rng = np.random.default_rng(4)
    B, T, U, N = 5, 8, 4, 11
    rows = rng.normal(size=(N, 3 * U)).astype(np.float32)
    ids = rng.integers(0, N, (T, B))
    R = (rng.normal(size=(U, 3 * U)) * 0.5).astype(np.float32)
    brec = rng.normal(size=3 * U).astype(np.float32)
    h0 = rng.normal(size=(B, U)).astype(np.float32)
    mask = rng.random((T, B)) > 0.3 if masked else None
    gemm, ints = _rnn_kernels.sequence_gemm(np.float32)
    h = h0.copy()
    mf = np.ones((1, B, 1), np.float32) if mask is None else mask[:, :, None].astype(np.float32)
    _rnn_kernels.kernel("gru_sequence")(gemm, ints, rows, ids, R, brec, True, h,
                                        np.empty((B, 3 * U), np.float32),
                                        np.empty((1, B, U), np.float32), False, mf,
                                        mask is not None, 0, B)
    assert h.tobytes() == _numpy_gru_loop(rows, ids, R, brec, h0, mask).tobytes()


@needs_kernel
def test_when_the_kernel_runs(monkeypatch):
    calls = []
    real = rnn.LSTM._loop_sequence
    monkeypatch.setattr(rnn.LSTM, "_loop_sequence",
                        lambda self, *a: calls.append(a[0].dtype) or real(self, *a))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5, 3))
    W, R = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    for dtype, kernels, infer, taken in (("float32", True, True, True),
                                         ("float32", False, True, False),  # kernels off
                                         ("float64", True, True, False),  # float32 only
                                         ("float32", True, False, False)):  # training
        cr.config.set_fused_kernels(kernels)
        calls.clear()
        args = [a.astype(dtype) for a in (x, W, R)]
        _op(2, infer).forward(*args, None, None, None, None)
        assert bool(calls) == taken, (dtype, kernels, infer)
    # other activations run the NumPy loop
    cr.config.set_fused_kernels(True)
    calls.clear()
    op = rnn.LSTM(2, "relu", "sigmoid", False, False, False, False, 0.0, 0.0, None)
    op._infer = True
    op.forward(*[a.astype("float32") for a in (x, W, R)], None, None, None, None)
    assert not calls
    # GRU: reset_after only
    gru_calls = []
    real_gru = rnn.GRU._loop_sequence
    monkeypatch.setattr(rnn.GRU, "_loop_sequence",
                        lambda self, *a: gru_calls.append(1) or real_gru(self, *a))
    args = [a.astype("float32") for a in (x, W[:, :6], R[:, :6])]
    _op(2, True, "gru").forward(*args, None, None, None, None)
    assert gru_calls == [1]
    _op(2, True, "gru_before").forward(*args, None, None, None, None)
    assert gru_calls == [1]


@needs_kernel
@pytest.mark.parametrize("threads", [1, 2])
def test_predict_of_an_embedding_lstm_model_runs_the_kernel(threads, monkeypatch):
    cr.config.set_num_threads(threads)
    calls = []
    real = rnn.LSTM._loop_sequence
    monkeypatch.setattr(rnn.LSTM, "_loop_sequence",
                        lambda self, *a: calls.append(a[0].shape) or real(self, *a))
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Embedding(30, 8), L.LSTM(7), L.Dense(1, activation="sigmoid")])
    ids = np.random.default_rng(3).integers(0, 30, (64, 12))
    taped = np.concatenate([model(ids[k:k + 16]).data for k in range(0, 64, 16)])
    model.compile("adam", "binary_crossentropy")
    for _ in range(2):
        np.testing.assert_allclose(model.predict(ids, batch_size=16, verbose=0), taped,
                                   rtol=1e-6)
    # the projected table's rows (30 of them) once the tokens outnumber them, else the steps'
    assert (30, 28) in calls and (12 * 16, 28) in calls

"""The compiled per-step kernels of the LSTM and GRU ops (chainrule.ops._rnn_kernels) give
bit-identical outputs and gradients to the NumPy loops, and the forward-only paths of every
recurrent op give the training path's numbers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import _rnn_kernels, rnn

numba = pytest.importorskip("numba")

CELLS = ["lstm", "gru", "gru_before", "simple"]
GATES = {"simple": 1, "lstm": 4, "gru": 3, "gru_before": 3}


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


def _inputs(cell, dtype, B, T, F, U, seed, bias=True, states=True):
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    x = rng.normal(size=(B, T, F)).astype(dtype)
    W = (rng.normal(size=(F, G * U)) * 0.5).astype(dtype)
    R = (rng.normal(size=(U, G * U)) * 0.5).astype(dtype)
    b = None
    if bias:
        b = rng.normal(size=(2, 3 * U) if cell == "gru" else (G * U,)).astype(dtype)
    h0 = rng.normal(size=(B, U)).astype(dtype) if states else None
    c0 = rng.normal(size=(B, U)).astype(dtype) if states else None
    return x, W, R, b, h0, c0


def _call(cell, arrays, mask, opts):
    x, W, R, b, h0 = arrays[:5]
    c0 = arrays[5] if len(arrays) > 5 else None
    if cell == "lstm":
        init = None if h0 is None else [h0, c0]
        return rnn.lstm(x, W, R, b, init, mask=mask, **opts)
    if cell == "simple":
        return rnn.simple_rnn(x, W, R, b, h0, mask=mask, **opts)
    return rnn.gru(x, W, R, b, h0, mask=mask, reset_after=cell == "gru", **opts)


def _run(cell, arrays, mask, opts, kernels, seed=5):
    """Output and the gradients of every input under a random upstream gradient."""
    cr.config.set_fused_kernels(kernels)
    tensors = [None if a is None else cr.Tensor(a, requires_grad=True) for a in arrays]
    y = _call(cell, tensors, mask, opts)
    gy = np.random.default_rng(seed).normal(size=y.shape).astype(y.dtype)
    cr.ops.sum(cr.ops.multiply(y, gy)).backward()
    return [y.data] + [t.grad for t in tensors if t is not None]


def _assert_bits_equal(got, want):
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert a.dtype == b.dtype and a.shape == b.shape, k
        assert a.tobytes() == b.tobytes(), f"array {k} differs: max |diff| " \
            f"{np.max(np.abs(a.astype('f8') - b.astype('f8')))}"


OPTIONS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"return_sequences": True, "go_backwards": True, "return_state": True},
    {"return_state": True},
    {"return_sequences": True, "zero_output_for_mask": True},
    {"dropout": 0.3, "rng": "fixed"},
]


@pytest.mark.parametrize("cell", CELLS[:3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(o) or "last")
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize("shape", [(5, 7, 3, 4), (3, 11, 6, 9), (1, 1, 2, 1)])
def test_kernels_are_bit_identical_to_numpy(cell, dtype, opts, masked, shape):
    B, T, F, U = shape
    arrays = _inputs(cell, dtype, B, T, F, U, seed=sum(shape))
    if cell != "lstm":
        arrays = arrays[:5]
    mask = None
    if masked:
        mask = np.random.default_rng(1).random((B, T)) > 0.35
        mask[0, :] = False  # a sequence with no valid step
    if opts.get("rng") == "fixed":
        opts = dict(opts, rng=None)
        results = []
        for kernels in (True, False):
            opts["rng"] = np.random.default_rng(7)
            results.append(_run(cell, arrays, mask, opts, kernels))
    else:
        results = [_run(cell, arrays, mask, opts, kernels) for kernels in (True, False)]
    _assert_bits_equal(results[0], results[1])


@pytest.mark.parametrize("cell", CELLS[:3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernels_without_bias_or_initial_state(cell, dtype):
    arrays = _inputs(cell, dtype, 4, 6, 3, 5, seed=2, bias=False, states=False)
    arrays = [a for a in arrays if a is not None]
    fn = {"lstm": rnn.lstm, "gru": rnn.gru, "gru_before": rnn.gru}[cell]
    kw = {} if cell == "lstm" else {"reset_after": cell == "gru"}
    results = []
    for kernels in (True, False):
        cr.config.set_fused_kernels(kernels)
        ts = [cr.Tensor(a, requires_grad=True) for a in arrays]
        y = fn(*ts, return_sequences=True, **kw)
        cr.ops.sum(cr.ops.multiply(y, y.data)).backward()
        results.append([y.data] + [t.grad for t in ts])
    _assert_bits_equal(results[0], results[1])


def test_the_switch_selects_the_kernels():
    x, W, R, b, h0, c0 = _inputs("lstm", "float32", 2, 3, 2, 2, seed=0)
    cr.config.set_fused_kernels(True)
    op = rnn.LSTM(2, "tanh", "sigmoid", False, False, False, False, 0.0, 0.0, None)
    op.forward(x, W, R, b, h0, c0, None)
    assert op.kernels
    cr.config.set_fused_kernels(False)
    op.forward(x, W, R, b, h0, c0, None)
    assert not op.kernels
    # other activations, float16 and recurrent dropout run the NumPy loop
    cr.config.set_fused_kernels(True)
    assert not _rnn_kernels.available(np.float16)
    op = rnn.LSTM(2, "relu", "sigmoid", False, False, False, False, 0.0, 0.0, None)
    op.forward(x, W, R, b, h0, c0, None)
    assert not op.kernels


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("opts", OPTIONS[:5], ids=lambda o: "-".join(o) or "last")
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_forward_only_path_gives_the_training_paths_numbers(cell, dtype, kernels, opts, masked):
    B, T, F, U = 4, 6, 3, 5
    arrays = _inputs(cell, dtype, B, T, F, U, seed=3)
    if cell != "lstm":
        arrays = arrays[:5]
    mask = np.random.default_rng(2).random((B, T)) > 0.3 if masked else None
    cr.config.set_fused_kernels(kernels)
    trained = _call(cell, [cr.Tensor(a, requires_grad=True) for a in arrays], mask, opts)
    with cr.no_grad():
        inferred = _call(cell, arrays, mask, opts)
    if cell in ("lstm", "gru") and _rnn_kernels.sequence_gemm(dtype) is not None:
        # the whole-sequence kernels (float32): their own tanh, within 1.5 ulp as NumPy's
        want = trained.data
        np.testing.assert_allclose(inferred.data, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    else:
        assert trained.data.tobytes() == inferred.data.tobytes()


def test_forward_only_ops_keep_nothing_for_backward():
    x, W, R, b, h0, c0 = _inputs("gru", "float32", 2, 4, 3, 2, seed=0)
    for cls, bias in ((rnn.GRU, b), (rnn.SimpleRNN, b[0, :2])):
        R_ = R if cls is rnn.GRU else R[:, :2]
        W_ = W if cls is rnn.GRU else W[:, :2]
        op = cls(2, "tanh", "sigmoid", False, False, False, False, 0.0, 0.0, None)
        op._infer = True
        op.forward(x, W_, R_, bias, h0, None, None)
        assert not hasattr(op, "ZR") and not hasattr(op, "Y")
        op._infer = False
        op.forward(x, W_, R_, bias, h0, None, None)
        assert hasattr(op, "ZR") or hasattr(op, "Y")


def test_fit_with_and_without_kernels_gives_the_same_weights():
    ids = np.random.default_rng(0).integers(1, 40, (24, 9))
    ids[:6, 5:] = 0
    y = (ids[:, :1] % 2).astype("float32")
    weights, predictions = [], []
    for kernels in (True, False):
        cr.config.set_fused_kernels(kernels)
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([cr.layers.Embedding(40, 6, mask_zero=True),
                               cr.layers.LSTM(5, return_sequences=True), cr.layers.GRU(4),
                               cr.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy")
        model.fit(ids, y, batch_size=8, epochs=2, verbose=0)
        weights.append([w.tobytes() for w in model.get_weights()])
        predictions.append(model.predict(ids, batch_size=8, verbose=0))
    assert weights[0] == weights[1]
    # predict's LSTM runs the whole-sequence kernel with the kernels on (its own tanh)
    np.testing.assert_allclose(predictions[0], predictions[1], rtol=1e-6)


@pytest.mark.parametrize("kernels", [True, False])
def test_predict_of_gru_and_simple_rnn_runs_forward_only_and_matches_the_taped_call(kernels):
    cr.config.set_fused_kernels(kernels)
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Embedding(50, 8, mask_zero=True),
                           cr.layers.GRU(6, return_sequences=True),
                           cr.layers.GRU(5, reset_after=False, return_sequences=True),
                           cr.layers.SimpleRNN(4), cr.layers.Dense(1)])
    ids = np.random.default_rng(1).integers(0, 50, (12, 9))
    ids[:, 6:] = 0
    taped = np.concatenate([model(ids[k:k + 4]).data for k in range(0, 12, 4)])
    model.compile("sgd", "mse")
    for _ in range(2):  # traced twice, then replayed
        # the first GRU gathers rows of the projected embedding table once the replays have
        # seen more tokens than the table has rows (rnn._Recurrence._gathered): a row of
        # table @ kernel may round differently in the last bits from the same row inside the
        # product of all tokens, so a tolerance here, not bit-identity
        np.testing.assert_allclose(model.predict(ids, batch_size=4, verbose=0), taped,
                                   rtol=1e-6)
    programs = [e.program for k, e in model._steps.entries.items()
                if k[0] == "predict" and e.program is not None]
    assert programs
    ops = [fn for fn, _ in programs[0].fwd if isinstance(fn, (rnn.GRU, rnn.SimpleRNN))]
    assert len(ops) == 3 and all(op._infer for op in ops)
    assert ops[0]._table_cache[1] is not None
    assert not any(hasattr(op, "ZR") or hasattr(op, "Y") for op in ops)


@pytest.mark.parametrize("cell", CELLS[:3])
def test_mixed_dtypes_take_the_numpy_loop(cell):
    # float32 inputs with float64 kernels, or a float64 gradient into a float32 op: the NumPy
    # loop computes those in its own precision, so the kernels step aside
    x, W, R, b, h0, c0 = _inputs(cell, "float32", 3, 4, 2, 3, seed=4)
    cls = {"lstm": rnn.LSTM, "gru": rnn.GRU, "gru_before": rnn.GRU}[cell]
    results = []
    for kernels in (True, False):
        cr.config.set_fused_kernels(kernels)
        op = cls(3, "tanh", "sigmoid", False, True, False, False, 0.0, 0.0, None,
                 reset_after=cell == "gru")
        op._infer = False
        op.needs = (True, True, True, True, True, True, False)
        y1 = op.forward(x, W.astype("float64"), R, b, h0, c0 if cell == "lstm" else None, None)
        assert not op.kernels
        op.forward(x, W, R, b, h0, c0 if cell == "lstm" else None, None)
        assert op.kernels == kernels
        grads = op.backward(np.ones((3, 4, 3), "float64"))
        results.append([y1] + [g for g in grads if g is not None])
    _assert_bits_equal(results[0], results[1])

"""The LSTM op's forward-only path (predict, evaluate, no_grad): the same numbers as the path
that keeps what backward needs, and nothing kept."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L
from chainrule.ops import _rnn_kernels as rnn_kernels
from chainrule.ops.rnn import LSTM


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("kernels", [False, True])
def test_forward_only_path_gives_the_same_numbers(dtype, return_sequences, go_backwards, masked,
                                                  kernels):
    cr.config.set_fused_kernels(kernels)
    rng = np.random.default_rng(0)
    B, T, F, U = 5, 7, 3, 4
    x = rng.standard_normal((B, T, F)).astype(dtype)
    W, R = (rng.standard_normal(s).astype(dtype) for s in ((F, 4 * U), (U, 4 * U)))
    b, h0, c0 = (rng.standard_normal(s).astype(dtype) for s in (4 * U, (B, U), (B, U)))
    mask = rng.random((B, T)) > 0.3 if masked else None
    outs = []
    for infer in (True, False):
        op = LSTM(U, "tanh", "sigmoid", go_backwards, return_sequences, True, False, 0.0, 0.0,
                  None)
        op._infer = infer
        outs.append(op.forward(x, W, R, b, h0, c0, mask))
        assert hasattr(op, "A") != infer  # the forward-only path keeps no gates for backward
    if rnn_kernels.sequence_gemm(dtype) is None:
        np.testing.assert_array_equal(outs[0], outs[1])
    else:  # float32 with the kernels: the whole-sequence kernel, with its own tanh
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6 * np.abs(outs[1]).max())


def test_predict_takes_the_forward_only_path_and_matches_the_taped_call():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Embedding(50, 8, mask_zero=True), L.LSTM(6, return_sequences=True),
                           L.LSTM(5), L.Dense(1)])
    ids = np.random.default_rng(1).integers(0, 50, (12, 9))
    ids[:, 6:] = 0
    # gradients on: the path that keeps what backward needs (batches as predict's, so the
    # matrix products have the same shapes)
    taped = np.concatenate([model(ids[k:k + 4]).data for k in range(0, 12, 4)])
    model.compile("sgd", "mse")
    for _ in range(2):  # traced twice, then replayed
        # the first LSTM gathers rows of the projected embedding table once the replays have
        # seen more tokens than the table has rows (rnn._Recurrence._gathered): a row of
        # table @ kernel may round differently in the last bits from the same row inside the
        # product of all tokens, so a tolerance here, not bit-identity
        np.testing.assert_allclose(model.predict(ids, batch_size=4, verbose=0), taped,
                                   rtol=1e-6)
    programs = [e.program for k, e in model._steps.entries.items() if k[0] == "predict"
                and e.program is not None]
    assert programs
    ops = [fn for fn, _ in programs[0].fwd if isinstance(fn, LSTM)]
    assert len(ops) == 2 and all(op._infer for op in ops)
    assert ops[0]._table_cache[1] is not None and "_source" not in ops[1].__dict__
    # training still keeps what backward needs (and learns)
    y = np.zeros((12, 1), "float32")
    before = model.evaluate(ids, y, verbose=0)
    model.fit(ids, y, epochs=3, verbose=0)
    assert model.evaluate(ids, y, verbose=0) < before

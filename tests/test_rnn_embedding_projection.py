"""Forward-only recurrent ops after an Embedding: a replayed predict or evaluate gathers rows of
the projected table ``table @ kernel`` (computed once per call) instead of projecting every
embedded token; the numbers match the training path's up to rounding (rtol 1e-6)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers as L
from chainrule.autograd import capture
from chainrule.ops import rnn

CELLS = {"lstm": L.LSTM, "gru": L.GRU, "simple_rnn": L.SimpleRNN}
VOCAB, T, BATCH, N = 50, 9, 4, 16  # 36 tokens a batch: a call projects the tokens of its
# first replayed batch (fewer than the rows), then the table once, and gathers its rows


@pytest.fixture(autouse=True)
def _restore_switch():
    yield
    cr.config.set_fused_kernels(None)


def _model(cell, mask_zero=False, go_backwards=False, return_sequences=False, seed=0,
           vocab=VOCAB, **kw):
    cr.utils.clear_session()
    cr.utils.set_random_seed(seed)
    rec = CELLS[cell](5, go_backwards=go_backwards, return_sequences=return_sequences, **kw)
    tail = [L.GlobalAveragePooling1D()] if return_sequences else []
    return cr.Sequential([L.Embedding(vocab, 6, mask_zero=mask_zero), rec, *tail,
                          L.Dense(1, activation="sigmoid")])


def _ids(seed=1, pad=False):
    ids = np.random.default_rng(seed).integers(1, VOCAB, (N, T))
    if pad:
        ids[::2, 6:] = 0
        ids[1::3, :2] = 0
    return ids


def _taped(model, ids):
    """The training path's forward (gradients on), batch by batch as predict's batches."""
    return np.concatenate([model(ids[k:k + BATCH]).data for k in range(0, len(ids), BATCH)])


def _recurrent_ops(model, mode):
    return [fn for k, e in model._steps.entries.items() if k[0] == mode and e.program is not None
            for fn, _ in e.program.fwd if isinstance(fn, rnn._Recurrence)]


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("mask_zero", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_predict_gathers_the_projected_table_and_matches_the_training_path(
        cell, mask_zero, go_backwards, return_sequences):
    model = _model(cell, mask_zero, go_backwards, return_sequences, dropout=0.3)
    ids = _ids(pad=mask_zero)
    taped = _taped(model, ids)
    for _ in range(2):  # traced on the first two batches, then replayed
        np.testing.assert_allclose(model.predict(ids, batch_size=BATCH, verbose=0), taped,
                                   rtol=1e-6)
    (op,) = _recurrent_ops(model, "predict")
    assert op._source is not None and op._table_cache[1] is not None
    assert op._table_cache[1].shape == (VOCAB, op.gates * 5)
    assert op._source.lazy  # the recurrent op alone reads the embedding: no rows gathered


def test_float64_matches_closely():
    cr.backend.set_floatx("float64")
    try:
        model = _model("lstm", mask_zero=True)
        ids = _ids(pad=True)
        taped = _taped(model, ids)
        out = model.predict(ids, batch_size=BATCH, verbose=0)
    finally:
        cr.backend.set_floatx("float32")
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, taped, rtol=1e-13)
    assert _recurrent_ops(model, "predict")[0]._table_cache[1] is not None


def test_the_table_is_projected_again_after_fit_changes_the_weights():
    model = _model("lstm", mask_zero=True)
    model.compile(cr.optimizers.SGD(learning_rate=0.5), "binary_crossentropy")
    ids = _ids(pad=True)
    y = (ids[:, :1] % 2).astype("float32")
    model.fit(ids[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # packs weights
    first = model.predict(ids, batch_size=BATCH, verbose=0)
    (op,) = _recurrent_ops(model, "predict")
    table = op._table_cache[1].copy()
    model.fit(ids[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # one step
    again = model.predict(ids, batch_size=BATCH, verbose=0)
    assert _recurrent_ops(model, "predict") == [op]  # the same replay, its table projected anew
    assert not np.allclose(again, first, rtol=1e-4)
    np.testing.assert_allclose(again, _taped(model, ids), rtol=1e-6)
    assert not np.array_equal(op._table_cache[1], table)
    # set_weights between calls: the next call projects the new table too
    weights = model.get_weights()
    weights[0] = weights[0][::-1].copy()
    model.set_weights(weights)
    np.testing.assert_allclose(model.predict(ids, batch_size=BATCH, verbose=0),
                               _taped(model, ids), rtol=1e-6)
    assert _recurrent_ops(model, "predict") == [op]


def test_one_projection_per_call():
    model = _model("gru", vocab=50)  # 36 tokens a batch: projected on the second batch
    ids = np.tile(_ids(), (3, 1))
    model.predict(ids, batch_size=BATCH, verbose=0)  # traced and replayed
    (op,) = _recurrent_ops(model, "predict")
    seen = []
    real = rnn.GRU._gathered

    def spy(self, *args):
        out = real(self, *args)
        seen.append(None if self._table_cache[1] is None else id(self._table_cache[1]))
        return out

    rnn.GRU._gathered = spy
    try:
        model.predict(ids, batch_size=BATCH, verbose=0)
    finally:
        rnn.GRU._gathered = real
    # the first batch's 36 tokens are fewer than the 50 rows: projected; then the table is
    # projected once, on the batch where the tokens seen pass the rows, and reused
    assert seen[0] is None and len(set(seen[1:])) == 1 and seen[1] is not None
    assert op._table_cache[0][0] == capture.inference_generation() - 1  # the call's, ended


def test_evaluate_gathers_and_matches_the_uncaptured_evaluate():
    model = _model("lstm", mask_zero=True, go_backwards=True)
    ids = _ids(pad=True)
    y = (ids[:, :1] % 2).astype("float32")
    model.compile("adam", "binary_crossentropy", metrics=["mae"])
    fast = model.evaluate(ids, y, batch_size=BATCH, verbose=0, return_dict=True)
    (op,) = _recurrent_ops(model, "test")
    assert op._table_cache[1] is not None
    model.compile("adam", "binary_crossentropy", metrics=["mae"], jit_compile=False)
    slow = model.evaluate(ids, y, batch_size=BATCH, verbose=0, return_dict=True)
    assert fast.keys() == slow.keys()
    for k in fast:
        assert fast[k] == pytest.approx(slow[k], rel=1e-6)


def test_training_replays_never_gather():
    model = _model("lstm", mask_zero=True)
    model.compile("sgd", "binary_crossentropy")
    ids = _ids(pad=True)
    model.fit(ids, np.zeros((N, 1), "float32"), batch_size=BATCH, epochs=2, verbose=0)
    ops = _recurrent_ops(model, "train")
    assert ops and all("_table_cache" not in op.__dict__ and not op._infer for op in ops)
    assert all("_source" not in op.__dict__ for op in ops)
    embs = [fn for k, e in model._steps.entries.items() if k[0] == "train"
            for fn, _ in e.program.fwd if isinstance(fn, rnn.Embedding)]
    assert embs and not any(fn.lazy for fn in embs)


def _shared_embedding_model(as_output):
    cr.utils.clear_session()
    cr.utils.set_random_seed(3)
    ids = cr.Input((T,), dtype="int32")
    emb = L.Embedding(VOCAB, 6)(ids)
    rec = L.LSTM(5)(emb)
    if as_output:  # the embedded rows are an output of the model
        return cr.Model(ids, [L.Dense(1)(rec), emb])
    pooled = L.GlobalAveragePooling1D()(emb)  # a second reader of the embedded rows
    return cr.Model(ids, L.Dense(1)(L.Concatenate()([rec, pooled])))


@pytest.mark.parametrize("as_output", [False, True])
def test_an_embedding_read_elsewhere_still_gathers_its_rows(as_output):
    model = _shared_embedding_model(as_output)
    ids = _ids()
    batches = []
    for k in range(0, N, BATCH):
        r = model(ids[k:k + BATCH])
        batches.append([o.data for o in (r if isinstance(r, (list, tuple)) else [r])])
    taped = [np.concatenate(parts) for parts in zip(*batches)]
    for _ in range(2):
        out = model.predict(ids, batch_size=BATCH, verbose=0)
        out = out if isinstance(out, list) else [out]
        for a, b in zip(out, taped):  # outputs near 0 (Dense without activation): atol
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max())
    (op,) = _recurrent_ops(model, "predict")
    assert op._table_cache[1] is not None and not op._source.lazy


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_few_tokens_or_a_large_table_project_the_tokens_bit_identically(monkeypatch, cell):
    # (LSTM's float32 forward-only path runs the whole-sequence kernel with its own tanh where
    # the compiled kernels are on: the NumPy loops here, which give the training path's bits)
    cr.config.set_fused_kernels(False)
    model = _model(cell, vocab=50)
    ids = _ids()
    taped = _taped(model, ids)
    # tokens of one call fewer than the table's rows: the tokens are projected
    for k in range(0, N, BATCH):
        out = model.predict(ids[k:k + BATCH], batch_size=BATCH, verbose=0)
        assert out.tobytes() == taped[k:k + BATCH].tobytes()
    (op,) = _recurrent_ops(model, "predict")
    assert op._table_cache[1] is None
    # a projected table over the limit: never
    monkeypatch.setattr(rnn, "_FUSE_LIMIT", 50 * 20 - 1)
    assert model.predict(ids, batch_size=BATCH, verbose=0).tobytes() == taped.tobytes()


def test_lone_inference_steps_start_a_new_generation():
    model = _model("lstm")
    model.compile("sgd", "binary_crossentropy")
    ids = _ids()
    before = capture.inference_generation()
    model.test_on_batch(ids[:BATCH], np.zeros((BATCH, 1), "float32"))
    assert capture.inference_generation() > before
    with capture.inference_pass():
        inside = capture.inference_generation()
        model._step_factory().predict([ids[:BATCH]])
        assert capture.inference_generation() == inside and capture.in_inference_pass()
    assert capture.inference_generation() > inside and not capture.in_inference_pass()


def test_fuse_input_keeps_only_an_embedding_op():
    op = rnn.LSTM(3, "tanh", "sigmoid", False, False, False, False, 0.0, 0.0, None)
    assert not op.fuse_input(rnn.MaskWeights("float32"))
    assert "_source" not in op.__dict__
    emb = rnn.Embedding("embedding")
    assert op.fuse_input(emb) and op._source is emb and not emb.lazy
    assert op.fuse_input(emb, sole=True) and emb.lazy
    table = np.arange(12.0).reshape(4, 3)
    stand_in = emb.forward(np.array([[1, 3]]), table)
    assert stand_in.shape == (1, 2, 3) and not stand_in.any()

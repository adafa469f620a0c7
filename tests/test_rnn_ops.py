"""The whole-sequence recurrent ops and the embedding op: float64 gradient checks through
several time steps (every input: x, kernels, biases, initial states), forward values
against a plain per-step NumPy loop, masks, go_backwards, dropout and states."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients
from chainrule.ops import rnn

B, T, F, U = 2, 5, 3, 2
MASK = np.array([[1, 1, 0, 1, 1], [0, 0, 1, 1, 0]], bool)


class FixedRng:
    """Draws the same numbers at every call, so a numerical gradient sees one dropout mask."""

    def random(self, shape):
        return np.random.default_rng(3).random(shape)


def _sig(a):
    return 1 / (1 + np.exp(-a))


def reference(cell, x, W, R, b, h, c, mask=None, go_backwards=False, reset_after=True,
              zero_output=False):
    """A plain per-step NumPy loop (Keras's formulas), outputs in processing order."""
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    outs, prev = [], np.zeros_like(h)
    for t in steps:
        xt = x[:, t]
        if cell == "simple":
            hn, cn = np.tanh(xt @ W + h @ R + b), c
        elif cell == "lstm":
            z = xt @ W + h @ R + b
            i, f, g, o = np.split(z, 4, axis=1)
            cn = _sig(f) * c + _sig(i) * np.tanh(g)
            hn = _sig(o) * np.tanh(cn)
        else:
            bi, br = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
            mx = xt @ W + bi
            zx, rx, hx = np.split(mx, 3, axis=1)
            if reset_after:
                zh, rh, hh_ = np.split(h @ R + br, 3, axis=1)
                z, r = _sig(zx + zh), _sig(rx + rh)
                hh = np.tanh(hx + r * hh_)
            else:
                Uz = R[:, : 2 * U]
                zh, rh = np.split(h @ Uz, 2, axis=1)
                z, r = _sig(zx + zh), _sig(rx + rh)
                hh = np.tanh(hx + (r * h) @ R[:, 2 * U:])
            hn, cn = z * h + (1 - z) * hh, c
        if mask is not None:
            m = mask[:, t][:, None]
            hn = np.where(m, hn, h)
            cn = np.where(m, cn, c)
            out = np.where(m, hn, 0 if zero_output else prev)
        else:
            out = hn
        h, c, prev = hn, cn, out
        outs.append(out)
    return np.stack(outs, axis=1), h, c


def _inputs(cell, rng):
    G = {"simple": 1, "lstm": 4, "gru": 3, "gru_before": 3}[cell]
    x = rng.normal(size=(B, T, F))
    W = rng.normal(size=(F, G * U)) * 0.5
    R = rng.normal(size=(U, G * U)) * 0.5
    b = rng.normal(size=(2, 3 * U)) if cell == "gru" else rng.normal(size=(G * U,))
    h0, c0 = rng.normal(size=(B, U)), rng.normal(size=(B, U))
    return x, W, R, b, h0, c0


def _op(cell, mask=None, **kw):
    if cell == "simple":
        return lambda x, W, R, b, h0: rnn.simple_rnn(x, W, R, b, h0, mask=mask, **kw)
    if cell == "lstm":
        return lambda x, W, R, b, h0, c0: rnn.lstm(x, W, R, b, [h0, c0], mask=mask, **kw)
    ra = cell == "gru"
    return lambda x, W, R, b, h0: rnn.gru(x, W, R, b, h0, mask=mask, reset_after=ra, **kw)


def _check(fn, *args):
    result = check_gradients(fn, *args)
    for i, (a, n) in enumerate(zip(result.analytic, result.numeric)):
        # absolute: the relative error of gradients near zero is finite-difference noise
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8, err_msg=f"input {i}")


CELLS = ["simple", "lstm", "gru", "gru_before"]
OPTIONS = [
    {},
    {"return_sequences": True},
    {"return_sequences": True, "go_backwards": True},
    {"return_state": True},
    {"return_sequences": True, "return_state": True, "zero_output_for_mask": True},
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(o) or "last")
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_gradients_through_time(cell, opts, masked):
    x, W, R, b, h0, c0 = _inputs(cell, np.random.default_rng(0))
    args = (x, W, R, b, h0, c0) if cell == "lstm" else (x, W, R, b, h0)
    _check(_op(cell, MASK if masked else None, **opts), *args)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rates", [(0.4, 0.0), (0.0, 0.4), (0.3, 0.3)])
def test_gradients_with_dropout_masks(cell, rates):
    x, W, R, b, h0, c0 = _inputs(cell, np.random.default_rng(1))
    args = (x, W, R, b, h0, c0) if cell == "lstm" else (x, W, R, b, h0)
    _check(_op(cell, MASK, return_sequences=True, dropout=rates[0],
               recurrent_dropout=rates[1], rng=FixedRng()), *args)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_gradients_without_bias_and_initial_state(cell):
    x, W, R, _, _, _ = _inputs(cell, np.random.default_rng(2))
    fn = {"simple": rnn.simple_rnn, "lstm": rnn.lstm, "gru": rnn.gru}[cell]
    _check(lambda x, W, R: fn(x, W, R, return_sequences=True), x, W, R)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("zero", [False, True])
def test_forward_matches_a_plain_numpy_loop(cell, masked, backwards, zero):
    x, W, R, b, h0, c0 = _inputs(cell, np.random.default_rng(3))
    mask = MASK if masked else None
    want_seq, want_h, want_c = reference(cell.split("_")[0], x, W, R, b, h0, c0, mask,
                                         backwards, cell != "gru_before", zero)
    op = _op(cell, mask, return_sequences=True, return_state=True, go_backwards=backwards,
             zero_output_for_mask=zero)
    args = (x, W, R, b, h0, c0) if cell == "lstm" else (x, W, R, b, h0)
    y = op(*args).numpy()
    np.testing.assert_allclose(y[:, :T], want_seq, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y[:, T], want_h, rtol=1e-12, atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(y[:, T + 1], want_c, rtol=1e-12, atol=1e-12)


def test_dropout_mask_is_the_same_at_every_step():
    # a linear RNN with an identity recurrence: h_T = sum_t (x_t * mask) W, so the
    # dropped input features are the same ones at every step
    x = np.ones((4, 6, 5))
    W, R = np.eye(5), np.zeros((5, 5))
    y = rnn.simple_rnn(x, W, R, activation="linear", return_sequences=True, dropout=0.5,
                       rng=np.random.default_rng(0)).numpy()
    for t in range(6):
        np.testing.assert_array_equal(y[:, t] == 0, y[:, 0] == 0)
    assert (y == 0).any() and (y == 2).any()


def test_unknown_activation_and_bad_shapes_are_refused():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="activation must be one of"):
        rnn.simple_rnn(x, np.zeros((4, 2)), np.zeros((2, 2)), activation="elu")
    with pytest.raises(ValueError, match=r"expected kernel \(4, 8\)"):
        rnn.lstm(x, np.zeros((4, 4)), np.zeros((2, 8)))
    with pytest.raises(ValueError, match="3-D"):
        rnn.gru(np.ones((2, 4)), np.zeros((4, 6)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="dropout must be a number"):
        rnn.gru(x, np.zeros((4, 6)), np.zeros((2, 6)), dropout=1.5)


# -- embedding -------------------------------------------------------------------------


def test_embedding_gradient_accumulates_repeated_rows():
    table = np.random.default_rng(0).normal(size=(6, 3))
    ids = np.array([[1, 4, 1, 1], [0, 4, 5, 1]])
    _check(lambda t: rnn.embedding(ids, t), table)
    t = cr.Tensor(table, requires_grad=True)
    g = np.random.default_rng(1).normal(size=(2, 4, 3))
    (rnn.embedding(ids, t) * g).sum().backward()
    want = np.zeros_like(table)
    np.add.at(want, ids.ravel(), g.reshape(-1, 3))
    np.testing.assert_allclose(t.grad, want, rtol=1e-12)
    np.testing.assert_array_equal(t.grad[[2, 3]], 0)


def test_embedding_accepts_whole_floats_and_refuses_others():
    table = np.arange(8.0).reshape(4, 2)
    np.testing.assert_array_equal(rnn.embedding(np.array([3.0, 0.0]), table).numpy(),
                                  table[[3, 0]])
    with pytest.raises(ValueError, match=r'"emb" \(Embedding\) expects integer token ids.*1\.5'):
        rnn.embedding(np.array([1.5]), table, layer="emb")
    with pytest.raises(ValueError, match=r"token id 7.*input_dim=4.*largest id 7"):
        rnn.embedding(np.array([[1, 7]]), table)
    with pytest.raises(ValueError, match=r"token id -1.*input_dim=4"):
        rnn.embedding(np.array([-1, 2]), table)


def test_mask_weights_follow_keras_apply_mask():
    m = np.array([[True, True, False, False]])
    np.testing.assert_allclose(rnn.mask_weights(m).numpy(), [[2.0, 2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(rnn.mask_weights(np.zeros((1, 3), bool)).numpy(), 0)

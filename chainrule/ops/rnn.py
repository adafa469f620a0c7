"""Recurrent ops: whole-sequence SimpleRNN, LSTM and GRU, and the embedding lookup.

Each recurrent op runs a layer over all time steps at once. Forward: the input
projection of every step is ONE matrix product ``x @ kernel`` (time-major,
``(T*B, F) @ (F, G*units)``); the loop over steps then does one product
``h @ recurrent_kernel`` and the gate arithmetic per step, into preallocated
buffers. Backward is backpropagation through time written as the mirror of that
loop on raw arrays: the loop runs in reverse and keeps only the per-step
gradients of the gates; the weight gradients are then again one product each
over all steps (``x^T @ dP``, ``h_prev^T @ dA``).

With the ``fast`` extra (Numba) and :func:`chainrule.config.fused_kernels` on, LSTM's and GRU's
per-step gate arithmetic (tanh and sigmoid, no recurrent dropout) runs in the compiled kernels
of :mod:`chainrule.ops._rnn_kernels`, bit-identical to the NumPy loops here. An op first called
with gradients off (``predict``, ``evaluate``, ``no_grad``) runs forward only: it keeps nothing
for backward and the same numbers come out, except a float32 LSTM or GRU (``reset_after``) with
the kernels on, which runs its whole sequence in one compiled call per block of batch rows
(:meth:`LSTM._loop_sequence`, with the kernel's own ``tanh``: the same numbers to about 1e-7).
In a captured forward-only step, a recurrent op fed by an :class:`Embedding` op gathers rows
of the projected table ``table @ kernel + bias`` (projected once per ``predict`` or
``evaluate`` call) instead of projecting every token: the same numbers up to the last bits.

Weights use Keras's layout: LSTM gates ``i, f, c, o``, GRU gates ``z, r, h``
(``reset_after=True``: bias of shape ``(2, 3*units)``, input bias then
recurrent bias). Masks follow Keras: at a masked step the state and the output
carry over from the previous step (the output is zero before a sequence's first
valid step, and at every masked step with ``zero_output_for_mask``, as
``Bidirectional`` asks), and no gradient reaches the cell there.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from chainrule import _blas
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops import _rnn_kernels

__all__ = ["embedding", "simple_rnn", "lstm", "gru", "mask_weights", "RECURRENT_ACTIVATIONS"]


# -- activations computed in place, with their derivative from the output -----------------

def _sigmoid_(a: Any) -> Any:
    """In place: the arithmetic of ``ops.sigmoid`` ((1 + tanh(a/2)) / 2)."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _tanh_(a: Any) -> Any:
    return np.tanh(a, out=a)


def _relu_(a: Any) -> Any:
    return np.maximum(a, 0, out=a)


def _linear_(a: Any) -> Any:
    return a


def _hard_sigmoid_(a: Any) -> Any:
    a *= 1.0 / 6.0
    a += 0.5
    return np.clip(a, 0.0, 1.0, out=a)


def _d_sigmoid(y: Any) -> Any:
    return y * (1 - y)


def _d_tanh(y: Any) -> Any:
    return 1 - y * y


def _d_relu(y: Any) -> Any:
    return (y > 0).astype(y.dtype)


def _d_linear(y: Any) -> Any:
    return np.ones_like(y)


def _d_hard_sigmoid(y: Any) -> Any:
    return ((y > 0) & (y < 1)).astype(y.dtype) * (1.0 / 6.0)


#: The activations the whole-sequence ops compute themselves: name -> (in-place forward,
#: derivative from the output). Layers with other activations run their cell step by step.
RECURRENT_ACTIVATIONS: dict = {
    "tanh": (_tanh_, _d_tanh),
    "sigmoid": (_sigmoid_, _d_sigmoid),
    "relu": (_relu_, _d_relu),
    "linear": (_linear_, _d_linear),
    "hard_sigmoid": (_hard_sigmoid_, _d_hard_sigmoid),
}


def _activation(name: str, what: str) -> tuple:
    try:
        return RECURRENT_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"{what} must be one of {sorted(RECURRENT_ACTIVATIONS)} for the whole-sequence "
            f"recurrent ops. Received: {what}={name!r}"
        ) from None


# -- the shared time loop -----------------------------------------------------------------

# the most elements a forward-only recurrent op's projected embedding table may have
_FUSE_LIMIT = 1 << 25


class _Recurrence(Function):
    """Whole-sequence recurrent layer; subclasses write one step forward and backward.

    Inputs: ``x (B, T, F)``, ``kernel (F, G*U)``, ``recurrent_kernel (U, G*U)``,
    ``bias`` or None, ``h0 (B, U)`` or None, ``c0 (B, U)`` or None (LSTM only),
    ``mask (B, T)`` or None. Output: ``(B, T, U)`` with ``return_sequences``, else
    ``(B, U)``; with ``return_state`` the final states are appended along axis 1
    (``(B, K + n_states, U)``, K = T or 1) and the caller slices them off.
    """

    gates = 1
    n_states = 1

    def __init__(self, units: int, activation: str, recurrent_activation: str,
                 go_backwards: bool, return_sequences: bool, return_state: bool,
                 zero_output_for_mask: bool, dropout: float, recurrent_dropout: float,
                 rng: Any, reset_after: bool = True) -> None:
        self.units = units
        self.act, self.dact = _activation(activation, "activation")
        self.ract, self.dract = _activation(recurrent_activation, "recurrent_activation")
        self.go_backwards, self.return_sequences = go_backwards, return_sequences
        self.return_state, self.zero_output_for_mask = return_state, zero_output_for_mask
        self.dropout, self.recurrent_dropout, self.rng = dropout, recurrent_dropout, rng
        self.reset_after = reset_after

    # -- forward ------------------------------------------------------------------------
    def forward(self, x, W, R, b, h0, c0, mask):
        from chainrule import backend  # noqa: PLC0415

        name = type(self).__name__.lower()
        if x.ndim != 3:
            raise shape_error(f"{name}: x must be 3-D (batch, timesteps, features). "
                              f"Received: x of shape {x.shape}")
        B, T, F = x.shape
        U, G = self.units, self.gates
        if W.shape != (F, G * U) or R.shape != (U, G * U):
            raise shape_error(
                f"{name}: expected kernel {(F, G * U)} and recurrent_kernel {(U, G * U)}. "
                f"Received: kernel {W.shape}, recurrent_kernel {R.shape}")
        if T == 0:
            raise shape_error(f"{name}: the sequences need at least one time step. "
                              f"Received: x of shape {x.shape}")
        dt = x.dtype
        self.shape_x, self.dtype = x.shape, dt
        mf = None
        if mask is not None:
            if mask.shape != (B, T):
                raise shape_error(f"{name}: mask must have shape {(B, T)}. "
                                  f"Received: mask of shape {mask.shape}")
            mt = mask.T[::-1] if self.go_backwards else mask.T
            mf = np.ascontiguousarray(mt, dtype=dt)[:, :, None]  # (T, B, 1) of 0/1
        self.mf = mf
        rng = None
        if self.dropout > 0 or self.recurrent_dropout > 0:
            rng = self.rng or backend.rng()
        # one input mask for all gates (Keras's implementation 2), one per gate with
        # recurrent dropout (Keras switches to implementation 1 then)
        n_in = G if self.recurrent_dropout > 0 else 1
        self.dm = self.rm = None
        if self.dropout > 0:
            keep = rng.random((n_in, B, F)) >= self.dropout
            self.dm = keep.astype(dt) * dt.type(1.0 / (1.0 - self.dropout))
        if self.recurrent_dropout > 0:
            keep = rng.random((G, B, U)) >= self.recurrent_dropout
            self.rm = keep.astype(dt) * dt.type(1.0 / (1.0 - self.recurrent_dropout))
        self.W, self.R = W, R
        b_in = b_rec = None
        if b is not None:
            b_in, b_rec = (b[0], b[1]) if b.ndim == 2 else (b, None)
        # the whole-sequence kernel on several threads: the BLAS on one meanwhile (see _blocks)
        one = self._blocks(B) > 1 and self._reads_rows(dt)
        with _blas.one_blas_thread() if one else contextlib.nullcontext():
            # the input projection of every step: one matrix product (with the forward-only
            # path's column scale, if any, folded into the kernel and bias)
            scale = self._input_scale(W.dtype)
            P = self._gathered(W, scale, b_in, x)
            if P is None:
                src = self.__dict__.get("_source")
                if src is not None and src.lazy:  # x stands in for table[ids]: gather the rows
                    ids = src.idx.T[::-1] if self.go_backwards else src.idx.T
                    xs = np.take(src.table, np.ascontiguousarray(ids), axis=0, mode="clip")
                else:
                    xs = x.transpose(1, 0, 2)
                    if self.go_backwards:
                        xs = xs[::-1]
                self.xs = xs = np.ascontiguousarray(xs)  # (T, B, F) in processing order
                P = self._project(xs, W if scale is None else W * scale).reshape(T, B, G * U)
                if b_in is not None:
                    P += b_in if scale is None else b_in * scale
            h = np.zeros((B, U), dt) if h0 is None else np.asarray(h0, dt)
            c = None
            if self.n_states == 2:
                c = np.zeros((B, U), dt) if c0 is None else np.asarray(c0, dt)
            H = np.empty((T, B, U), dt)  # the state after each step (carried at masked steps)
            self.H, self.h0 = H, h  # the state each step starts from is [h0, H[:-1]]
            self._loop(P, h, c, b_rec, H)
        return self._outputs(H)

    def fuse_input(self, producer: Function, sole: bool = False) -> bool:
        """Offered by a forward-only captured program the op whose output is this op's input
        ``x``: an :class:`Embedding` op is kept, so a replay may gather rows of the projected
        table (:meth:`_gathered`) instead of projecting every embedded token. When this op is
        the only reader of its output (``sole``), the Embedding op stops gathering its rows
        (``lazy``): ``x`` is then a stand-in of the right shape, and this op gathers the rows
        itself where it projects the tokens.

        Args:
            producer: the op that computes ``x`` in the same replay.
            sole: whether nothing else reads ``x``.

        Returns:
            Whether the op is kept.
        """
        if not isinstance(producer, Embedding):
            return False
        self._source = producer
        producer.lazy = bool(sole)
        return True

    def _gathered(self, W: Any, scale: Any, b_in: Any, x: Any) -> Any:
        """The input projection with its bias, ``(T, B, G*U)``, as rows of
        ``table @ kernel + bias`` picked by the token ids, or None (then :meth:`_project`
        computes it from ``x``).

        Only forward-only (:meth:`_inference`) without input dropout, with an
        :class:`Embedding` op in front (:meth:`fuse_input`), once the tokens seen in this
        generation (:func:`chainrule.autograd.capture.inference_pass`: one ``predict`` or
        ``evaluate`` call) outnumber the table's rows (before that, projecting the tokens costs
        less than projecting the table), and the projected table within ``_FUSE_LIMIT``
        elements. The table is projected once per generation (the weights may change between
        calls). The bias is added to the table's rows as :meth:`forward` adds it to the
        tokens' (the same additions); a row of ``table @ kernel`` may round differently in the
        last bits from the same row inside the product of all tokens. The rows land in a
        buffer the op keeps: nothing reads the projection after the forward-only loop. A loop
        that picks the rows itself (:meth:`_reads_rows`) gets ``(table, ids)`` instead.
        """
        src = self.__dict__.get("_source")
        if src is None or self.dm is not None or not self._inference():
            return None
        idx, table = src.__dict__.get("idx"), src.__dict__.get("table")
        if (table is None or idx is None or idx.shape != x.shape[:2] or table.dtype != x.dtype
                or table.ndim != 2 or table.shape[1] != W.shape[0]
                or table.shape[0] * W.shape[1] > _FUSE_LIMIT):
            return None
        from chainrule.autograd.capture import inference_generation  # noqa: PLC0415

        # within one generation the weights stay (their arrays may be new views each call)
        key = (inference_generation(), table.shape, W.shape, W.dtype)
        cache = self.__dict__.get("_table_cache")
        if cache is None or cache[0] != key:
            cache = self._table_cache = [key, None, 0]  # key, projected table, tokens seen
        Pt = cache[1]
        if Pt is None:
            cache[2] += idx.size
            if cache[2] <= table.shape[0]:
                return None
            Pt = table @ (W if scale is None else W * scale)
            if b_in is not None:
                Pt += b_in if scale is None else b_in * scale
            cache[1] = Pt
        ids = idx.T[::-1] if self.go_backwards else idx.T  # (T, B) in processing order
        if self._reads_rows(Pt.dtype):  # the loop picks the rows itself
            return Pt, np.ascontiguousarray(ids)
        out = self.__dict__.get("_rows")
        shape = ids.shape + Pt.shape[1:]
        if out is None or out.shape != shape or out.dtype != Pt.dtype:
            out = self._rows = np.empty(shape, Pt.dtype)
        # the ids were checked by the Embedding op: "clip" only skips a second check
        return np.take(Pt, np.ascontiguousarray(ids), axis=0, out=out, mode="clip")

    def _reads_rows(self, dtype: Any) -> bool:
        """Whether :meth:`_loop` takes the projection as ``(table, ids)``, rows of a projected
        table and the ``(T, B)`` ids that pick them, instead of the gathered ``(T, B, G)``
        array (:meth:`_gathered`)."""
        return False

    @staticmethod
    def _blocks(B: int) -> int:
        """How many blocks of batch rows a whole-sequence kernel runs at once: one per thread
        of :func:`chainrule.config.get_num_threads`, each at least 8 rows. With more than one,
        the op's products (the projection too) run with the BLAS on one thread
        (:func:`chainrule._blas.one_blas_thread`): a BLAS thread that shares a product, or spins
        idle after one, would take a core from a block."""
        from chainrule import parallel  # noqa: PLC0415

        return max(1, min(parallel.get_num_threads(), B // 8))

    def _step_ids(self, T: int, B: int) -> Any:
        """``(T, B)`` indices for a whole-sequence kernel reading the projection ``P`` as rows
        ``(T*B, G)``: row ``t * B + b`` is step ``t`` of batch row ``b``."""
        ids = self.__dict__.get("_ids_of_steps")
        if ids is None or ids.shape != (T, B):
            ids = self._ids_of_steps = np.arange(T * B).reshape(T, B)
        return ids

    def _project(self, xs: Any, W: Any) -> Any:
        T, B, F = xs.shape
        dm = self.dm
        if dm is None:
            return xs.reshape(T * B, F) @ W
        if len(dm) == 1:
            return (xs * dm[0]).reshape(T * B, F) @ W
        U = self.units
        P = np.empty((T * B, W.shape[1]), xs.dtype)
        for g in range(len(dm)):
            P[:, g * U:(g + 1) * U] = (xs * dm[g]).reshape(T * B, F) @ W[:, g * U:(g + 1) * U]
        return P

    def _rec(self, h: Any, R: Any, gates: range) -> Any:
        """``h @ R`` for the given gates (with each gate's recurrent dropout mask)."""
        rm = self.rm
        if rm is None:
            return h @ R
        U = self.units
        return np.concatenate([(h * rm[g]) @ R[:, i * U:(i + 1) * U]
                               for i, g in enumerate(gates)], axis=1)

    def _rec_into(self, h: Any, R: Any, gates: range, out: Any) -> Any:
        """``h @ R`` into ``out`` (a new array with recurrent dropout)."""
        if self.rm is None:
            return np.matmul(h, R, out=out)
        return self._rec(h, R, gates)

    def _input_scale(self, dtype: Any) -> Any:
        """Per-column factors (powers of two) folded into the input kernel and bias before
        the projection, or None; the LSTM's forward-only path halves its sigmoid gates."""
        return None

    def _inference(self) -> bool:
        """Whether this op runs forward only: it was first called with gradients off
        (``predict``, ``evaluate``, ``no_grad``), so no backward pass can follow, also
        when a captured step replays it."""
        infer = self.__dict__.get("_infer")
        if infer is None:
            from chainrule.autograd.engine import is_grad_enabled  # noqa: PLC0415

            infer = self._infer = not is_grad_enabled()
        return infer

    def _use_kernels(self, P: Any, *others: Any) -> bool:
        """Whether this step's gate arithmetic runs in the compiled kernels
        (:mod:`chainrule.ops._rnn_kernels`): tanh and sigmoid, no recurrent dropout, the
        projection ``P``, the inputs, the recurrent kernel and ``others`` all of one dtype,
        float32 or float64, and the kernels on."""
        dt = P.dtype
        return (self.act is _tanh_ and self.ract is _sigmoid_ and self.rm is None
                and dt == self.dtype and self.R.dtype == dt
                and all(o is None or o.dtype == dt for o in others)
                and _rnn_kernels.available(dt))

    def _kernels_back(self, dH: Any, dh: Any) -> bool:
        """Whether backward runs the kernels: the forward did, and the gradient arrived in
        the outputs' dtype (else the NumPy loop, which computes in the gradient's dtype)."""
        return self.kernels and dh.dtype == self.dtype and (dH is None or dH.dtype == self.dtype)

    def _mask_rows(self, B: int, dt: Any) -> tuple:
        """The kernels' mask arguments: ``(mf, masked)``, with a dummy ``(1, B, 1)`` of ones
        when there is no mask (so a kernel's signature is the same either way)."""
        if self.mf is None:
            return np.ones((1, B, 1), dt), False
        return self.mf, True

    @staticmethod
    def _prev(S: Any, s0: Any) -> Any:
        """The state each step starts from: ``s0`` then the states after steps 0..T-2."""
        out = np.empty_like(S)
        out[0] = s0
        out[1:] = S[:-1]
        return out

    def _rec_back(self, da: Any, R: Any, gates: range) -> Any:
        rm = self.rm
        if rm is None:
            return da @ R.T
        U = self.units
        out = None
        for i, g in enumerate(gates):
            part = (da[:, i * U:(i + 1) * U] @ R[:, i * U:(i + 1) * U].T) * rm[g]
            out = part if out is None else out + part
        return out

    def _rec_grad(self, Hp: Any, dA: Any, gates: range) -> Any:
        """The recurrent kernel's gradient over all steps at once: ``h_prev^T @ dA``."""
        T, B, U = Hp.shape
        rm = self.rm
        if rm is None:
            return Hp.reshape(T * B, U).T @ dA.reshape(T * B, -1)
        return np.concatenate(
            [(Hp * rm[g]).reshape(T * B, U).T @ dA[:, :, i * U:(i + 1) * U].reshape(T * B, U)
             for i, g in enumerate(gates)], axis=1)

    def _out_scale(self) -> Any:
        """Where the outputs show the state: 1, or 0 at masked steps (zero_output_for_mask)
        and before a sequence's first valid step (Keras's previous output starts at zero)."""
        mf = self.mf
        if mf is None:
            return None
        if self.zero_output_for_mask:
            return mf
        return np.maximum.accumulate(mf, axis=0)

    def _outputs(self, H: Any) -> Any:
        scale = self._out_scale()
        if self.return_sequences:
            seq = H if scale is None else H * scale
            y = seq.transpose(1, 0, 2)
        else:
            y = H[-1] if scale is None else H[-1] * scale[-1]
        if not self.return_state:
            return np.ascontiguousarray(y)
        if y.ndim == 2:
            y = y[:, None]
        states = [H[-1]] + ([self.c_last] if self.n_states == 2 else [])
        return np.concatenate([y] + [s[:, None] for s in states], axis=1)

    # -- backward -----------------------------------------------------------------------
    def backward(self, gy):
        T, B, U = self.xs.shape[0], self.shape_x[0], self.units
        scale = self._out_scale()
        dh = np.zeros((B, U), gy.dtype)
        dc = np.zeros((B, U), gy.dtype) if self.n_states == 2 else None
        if self.return_state:
            k = T if self.return_sequences else 1
            dh += gy[:, k]
            if dc is not None:
                dc += gy[:, k + 1]
            gy = gy[:, :k] if self.return_sequences else gy[:, 0]
        dH = None
        if self.return_sequences:
            dH = gy.transpose(1, 0, 2)
            if scale is not None:
                dH = dH * scale
        else:
            dh += gy if scale is None else gy * scale[-1]
        dP, dR, db_rec, dh0, dc0 = self._loop_back(dH, dh, dc)
        # the input projection's gradients: one product each over all steps
        xs, W, dm = self.xs, self.W, self.dm
        F = xs.shape[2]
        dP2 = dP.reshape(T * B, -1)
        gx = gW = gb = None
        needs = self.needs
        if needs[0]:
            if dm is None:
                gxs = (dP2 @ W.T).reshape(T, B, F)
            elif len(dm) == 1:
                gxs = (dP2 @ W.T).reshape(T, B, F) * dm[0]
            else:
                gxs = sum((dP2[:, g * U:(g + 1) * U] @ W[:, g * U:(g + 1) * U].T).reshape(T, B, F)
                          * dm[g] for g in range(len(dm)))
            if self.go_backwards:
                gxs = gxs[::-1]
            gx = np.ascontiguousarray(gxs.transpose(1, 0, 2))
        if needs[1]:
            if dm is None:
                gW = xs.reshape(T * B, F).T @ dP2
            elif len(dm) == 1:
                gW = (xs * dm[0]).reshape(T * B, F).T @ dP2
            else:
                gW = np.concatenate([(xs * dm[g]).reshape(T * B, F).T @ dP2[:, g * U:(g + 1) * U]
                                     for g in range(len(dm))], axis=1)
        if len(needs) > 3 and needs[3]:
            gin = dP2.sum(axis=0)
            gb = gin if db_rec is None else np.stack([gin, db_rec])
        return (gx, gW, dR if needs[2] else None, gb,
                dh0 if len(needs) > 4 and needs[4] else None,
                dc0 if len(needs) > 5 and needs[5] else None, None)


class SimpleRNN(_Recurrence):
    """``h_t = activation(x_t W + h_{t-1} R + b)``."""

    gates = 1

    def _loop(self, P, h, c, b_rec, H):
        act, R, mf = self.act, self.R, self.mf
        if self.rm is None and self._inference():
            self._loop_inference(P, h, H)
            return
        Y = P  # the activation's output per step, written over the projection
        rec = np.empty(P.shape[1:], P.dtype)
        g1 = range(1)
        for t in range(len(P)):
            a = Y[t]
            a += self._rec_into(h, R, g1, rec)
            act(a)
            hn = H[t]
            hn[...] = a
            if mf is not None:  # a masked row carries its state
                np.copyto(hn, h, where=mf[t] == 0)
            h = hn
        self.Y = Y

    def _loop_inference(self, P, h, H):
        """The forward pass alone: the same numbers as :meth:`_loop` (``P[t] + h R`` then the
        activation, written straight into the state), nothing kept for backward, two rows of
        state when only the last output is returned."""
        act, R, mf = self.act, self.R, self.mf
        T, B, U = H.shape
        hs = H if self.return_sequences else np.empty((2, B, U), H.dtype)
        rec = np.empty((B, U), H.dtype)
        for t in range(T):
            hn = hs[t % len(hs)]
            np.matmul(h, R, out=rec)
            np.add(P[t], rec, out=hn)
            act(hn)
            if mf is not None:  # a masked row carries its state
                np.copyto(hn, h, where=mf[t] == 0)
            h = hn
        if hs is not H:
            H[-1] = h

    def _loop_back(self, dH, dh, dc):
        T = len(self.Y)
        R, mf = self.R, self.mf
        D = self.dact(self.Y)  # every step's activation derivative at once
        dA = np.empty_like(self.Y)
        g1 = range(1)
        for t in range(T - 1, -1, -1):
            if dH is not None:
                dh = dh + dH[t]
            da = dA[t]
            np.multiply(dh, D[t], out=da)
            if mf is not None:
                da *= mf[t]
            back = self._rec_back(da, R, g1)
            dh = back if mf is None else back + dh * (1 - mf[t])
        dR = self._rec_grad(self._prev(self.H, self.h0), dA, g1) if self.needs[2] else None
        return dA, dR, None, dh, None


class LSTM(_Recurrence):
    """Keras's LSTM: gates ``i, f, c, o``; ``c_t = f c_{t-1} + i g``, ``h_t = o act(c_t)``."""

    gates = 4
    n_states = 2

    def _loop(self, P, h, c, b_rec, H):
        if isinstance(P, tuple):  # (projected table, ids): see _reads_rows
            self.kernels = True
            self._loop_sequence(*P, h, c, H)
            return
        act, ract, R, mf, U = self.act, self.ract, self.R, self.mf, self.units
        self.kernels = self._use_kernels(P)
        if self.kernels and self._reads_rows(P.dtype):
            T, B, G = P.shape
            self._loop_sequence(P.reshape(T * B, G), self._step_ids(T, B), h, c, H)
            return
        if self._forward_only():
            self._loop_inference(P, h, c, H)
            return
        if self.kernels:
            self._loop_kernels(P, h, c, H)
            return
        T, B = P.shape[:2]
        A = P  # activated gates per step, written over the projection
        self.C = C = np.empty_like(H)  # the cell state after each step (carried when masked)
        self.TC = TC = np.empty_like(H)  # act(c) of each step's new cell state
        self.c0 = c
        rec = np.empty((B, 4 * U), P.dtype)
        ig = np.empty((B, U), P.dtype)
        # tanh and sigmoid (the defaults): one tanh over all four gates. sigmoid(x) is
        # (1 + tanh(x / 2)) / 2 (ops.sigmoid's arithmetic); the c gate is doubled first, so the
        # halving gives it back exactly and the same tanh is its activation.
        fast = act is _tanh_ and ract is _sigmoid_
        g4 = range(4)
        for t in range(T):
            a = A[t]
            a += self._rec_into(h, R, g4, rec)
            if fast:
                a[:, 2 * U:3 * U] *= 2
                a *= 0.5
                np.tanh(a, out=a)
                for part in (a[:, :2 * U], a[:, 3 * U:]):
                    part += 1
                    part *= 0.5
            else:
                ract(a[:, :2 * U])
                act(a[:, 2 * U:3 * U])
                ract(a[:, 3 * U:])
            i, f, g, o = a[:, :U], a[:, U:2 * U], a[:, 2 * U:3 * U], a[:, 3 * U:]
            cn, tc, hn = C[t], TC[t], H[t]
            np.multiply(f, c, out=cn)
            np.multiply(i, g, out=ig)
            cn += ig
            tc[...] = cn
            act(tc)
            np.multiply(o, tc, out=hn)
            if mf is not None:  # a masked row carries its states
                keep = mf[t] == 0
                np.copyto(hn, h, where=keep)
                np.copyto(cn, c, where=keep)
            h, c = hn, cn
        self.A = A
        self.c_last = c

    def _loop_kernels(self, P, h, c, H):
        """:meth:`_loop`'s tanh and sigmoid path with the gate arithmetic in compiled kernels
        (bit-identical): per step the recurrent product, two kernels around the gates' one
        ``tanh``, the cell state's ``tanh``, and a kernel for the output and the mask."""
        U, R = self.units, self.R
        T, B = P.shape[:2]
        dt = P.dtype
        one, two, half = dt.type(1), dt.type(2), dt.type(0.5)
        k = _rnn_kernels.kernel
        gates, cell, out = k("lstm_gates"), k("lstm_cell"), k("lstm_out")
        A = P
        self.C = C = np.empty_like(H)
        self.TC = TC = np.empty_like(H)
        h, c = np.ascontiguousarray(h), np.ascontiguousarray(c)
        self.c0 = c
        rec = np.empty((B, 4 * U), dt)
        mf, masked = self._mask_rows(B, dt)
        for t in range(T):
            a, cn, tc, hn = A[t], C[t], TC[t], H[t]
            np.matmul(h, R, out=rec)
            gates(a, rec, two, half)
            np.tanh(a, out=a)
            cell(a, c, cn, tc, one, half)
            np.tanh(tc, out=tc)
            out(a, tc, hn, h, cn, c, mf[t if masked else 0], masked)
            h, c = hn, cn
        self.A = A
        self.c_last = c

    def _forward_only(self) -> bool:
        """Whether :meth:`_loop` takes :meth:`_loop_inference` (or :meth:`_loop_sequence`)."""
        return (self.act is _tanh_ and self.ract is _sigmoid_ and self.rm is None
                and self._inference())

    def _reads_rows(self, dtype: Any) -> bool:
        """Whether the forward-only loop runs in the whole-sequence kernel
        (:meth:`_loop_sequence`), which picks the projection's rows itself."""
        return (self._forward_only() and self.dtype == dtype and self.R.dtype == dtype
                and _rnn_kernels.sequence_gemm(dtype) is not None)

    @staticmethod
    def _gate_scale(U: int, dt: Any) -> tuple:
        """The forward-only path's factors: ``(half, offset)``, 0.5 and 0.5 for the sigmoid
        gates' columns, 1 and 0 for the cell gate's (see :meth:`_loop_inference`)."""
        half = np.full(4 * U, 0.5, dt)
        half[2 * U:3 * U] = 1
        offset = half.copy()
        offset[2 * U:3 * U] = 0
        return half, offset

    def _loop_sequence(self, rows: Any, ids: Any, h: Any, c: Any, H: Any) -> None:
        """:meth:`_loop_inference` in one compiled call per block of batch rows
        (:func:`chainrule.ops._rnn_kernels._lstm_sequence`): the recurrent product by NumPy's
        BLAS, the gates' ``tanh`` the kernel's own (within 1.5 ulp, as NumPy's, but not always
        the same float, so the outputs match :meth:`_loop`'s to about 1e-7, not bit for bit).
        Step ``t`` of batch row ``b`` adds ``rows[ids[t, b]]``: a projected embedding table
        picked by token ids (:meth:`_gathered`), or every step's projection. With
        :func:`chainrule.config.get_num_threads` above 1, the batch rows are split into blocks
        of at least 8, each running its whole sequence on its own thread.
        """
        from chainrule import parallel  # noqa: PLC0415

        U = self.units
        T, B = ids.shape
        dt = rows.dtype
        gemm, ints = _rnn_kernels.sequence_gemm(dt)
        half, offset = self._gate_scale(U, dt)
        Rs = np.ascontiguousarray(self.R * half)  # rows came out of the projection halved
        h = np.array(h, dt, order="C")  # both updated in place
        c = np.array(c, dt, order="C")
        a = np.empty((B, 4 * U), dt)
        mf, masked = self._mask_rows(B, dt)
        seq = self.return_sequences
        kern = _rnn_kernels.kernel("lstm_sequence")
        parts = self._blocks(B)
        edges = [B * k // parts for k in range(parts + 1)]
        parallel.run_parts(lambda k: kern(gemm, ints, rows, ids, Rs, half, offset, h, c, a, H,
                                          seq, mf, masked, edges[k], edges[k + 1]), parts)
        if not seq:
            H[-1] = h
        self.c_last = c

    def _input_scale(self, dtype: Any) -> Any:
        if not self._forward_only():
            return None
        U = self.units
        half = np.full(4 * U, 0.5, dtype)
        half[2 * U:3 * U] = 1
        return half

    def _loop_inference(self, P, h, c, H):
        """The forward pass alone (tanh and sigmoid): the same numbers as :meth:`_loop`, but
        nothing is kept for a backward pass and fewer NumPy calls run per step.

        The sigmoid gates' columns of the input kernel and bias (:meth:`_input_scale`, so the
        projection comes out halved) and of the recurrent kernel are halved once, before the
        loop, instead of each step's sum (halving is exact, so ``tanh`` sees the same values);
        after the one ``tanh`` over all gates, ``t * s + o`` over the whole
        row (``s = 0.5, o = 0.5`` for the sigmoid gates, ``1, 0`` for the cell gate) gives
        ``(t + 1) / 2`` exactly as :meth:`_loop`'s halving of ``t + 1`` does, in two calls on
        contiguous rows instead of four on column slices.
        """
        U, mf = self.units, self.mf
        T, B = P.shape[:2]
        dt = P.dtype
        half, offset = self._gate_scale(U, dt)
        Rs = self.R * half  # P came out of the projection halved already
        a = np.empty((B, 4 * U), dt)
        ig = np.empty((B, U), dt)
        i, f, g, o = a[:, :U], a[:, U:2 * U], a[:, 2 * U:3 * U], a[:, 3 * U:]
        hs = H if self.return_sequences else np.empty((2, B, U), dt)
        cs = np.empty((2, B, U), dt)
        if self.kernels:
            cell, out = _rnn_kernels.kernel("lstm_cell_infer"), _rnn_kernels.kernel("lstm_out")
            h, c = np.ascontiguousarray(h), np.ascontiguousarray(c)
            mf, masked = self._mask_rows(B, dt)
            for t in range(T):
                np.matmul(h, Rs, out=a)
                a += P[t]
                np.tanh(a, out=a)
                hn, cn = hs[t] if self.return_sequences else hs[t & 1], cs[t & 1]
                cell(a, half, offset, c, cn)
                np.tanh(cn, out=hn)
                out(a, hn, hn, h, cn, c, mf[t if masked else 0], masked)
                h, c = hn, cn
            if not self.return_sequences:
                H[-1] = h
            self.c_last = c
            return
        for t in range(T):
            np.matmul(h, Rs, out=a)
            a += P[t]
            np.tanh(a, out=a)
            a *= half
            a += offset
            hn, cn = hs[t] if self.return_sequences else hs[t & 1], cs[t & 1]
            np.multiply(f, c, out=cn)
            np.multiply(i, g, out=ig)
            cn += ig
            np.tanh(cn, out=hn)
            hn *= o
            if mf is not None:  # a masked row carries its states
                keep = mf[t] == 0
                np.copyto(hn, h, where=keep)
                np.copyto(cn, c, where=keep)
            h, c = hn, cn
        if not self.return_sequences:
            H[-1] = h
        self.c_last = c

    def _loop_back(self, dH, dh, dc):
        if self._kernels_back(dH, dh):
            return self._loop_back_kernels(dH, dh, dc)
        T, U = len(self.A), self.units
        R, mf, A, TC = self.R, self.mf, self.A, self.TC
        # every step's activation derivatives at once (they do not depend on the gradient)
        D = self.dract(A)
        D[:, :, 2 * U:3 * U] = self.dact(A[:, :, 2 * U:3 * U])
        DTC = self.dact(TC)
        Cp = self._prev(self.C, self.c0)
        dA = np.empty_like(A)
        tmp = np.empty_like(dh)
        g4 = range(4)
        for t in range(T - 1, -1, -1):
            if dH is not None:
                dh = dh + dH[t]
            a = A[t]
            i, f, g, o = a[:, :U], a[:, U:2 * U], a[:, 2 * U:3 * U], a[:, 3 * U:]
            if mf is None:
                dhc, dcc = dh, dc
            else:
                dhc, dcc = dh * mf[t], dc * mf[t]
            np.multiply(dhc, o, out=tmp)
            tmp *= DTC[t]
            dcn = tmp + dcc
            da = dA[t]
            np.multiply(dcn, g, out=da[:, :U])
            np.multiply(dcn, Cp[t], out=da[:, U:2 * U])
            np.multiply(dcn, i, out=da[:, 2 * U:3 * U])
            np.multiply(dhc, TC[t], out=da[:, 3 * U:])
            da *= D[t]
            back = self._rec_back(da, R, g4)
            if mf is None:
                dh, dc = back, dcn * f
            else:
                keep = 1 - mf[t]
                dh, dc = back + dh * keep, dcn * f + dc * keep
        dR = self._rec_grad(self._prev(self.H, self.h0), dA, g4) if self.needs[2] else None
        return dA, dR, None, dh, dc

    def _loop_back_kernels(self, dH, dh, dc):
        """:meth:`_loop_back` with each step's arithmetic in one compiled kernel (the
        activations' derivatives computed in it, from the stored outputs)."""
        T, B, U = self.H.shape
        R, A, TC, C = self.R, self.A, self.TC, self.C
        dt = A.dtype
        one = dt.type(1)
        back_k = _rnn_kernels.kernel("lstm_back")
        dA = np.empty_like(A)
        dh, dc = np.array(dh, dt), np.array(dc, dt)  # updated in place, step by step
        has_dH = dH is not None
        dH = np.ascontiguousarray(dH) if has_dH else None
        mf, masked = self._mask_rows(B, dt)
        back = np.empty((B, U), dt)
        RT = R.T
        for t in range(T - 1, -1, -1):
            da = dA[t]
            back_k(A[t], TC[t], C[t - 1] if t else self.c0, back, dh, dc,
                   dH[t] if has_dH else dh, has_dH, mf[t if masked else 0],
                   mf[t + 1 if masked and t + 1 < T else 0], masked, t == T - 1, da, one)
            np.matmul(da, RT, out=back)
        dh = back if not masked else back + dh * (1 - mf[0])
        dR = self._rec_grad(self._prev(self.H, self.h0), dA, range(4)) if self.needs[2] else None
        return dA, dR, None, dh, dc


class GRU(_Recurrence):
    """Keras's GRU: gates ``z, r, h``; ``h_t = z h_{t-1} + (1 - z) hh``.

    ``reset_after=True`` (Keras's default): ``hh = act(x W_h + b_h + r * (h R_h + b'_h))``
    with a separate recurrent bias; False: ``hh = act(x W_h + b_h + (r * h) R_h)``.
    """

    gates = 3

    def _buffers(self, T: int, B: int, dt: Any, H: Any) -> tuple:
        """The per-step arrays: ``(ZR, HH, M, hs, n)``, each step's in row ``t % n``.

        Training keeps every step's gates (``n = T``) for backward; the forward-only path
        (:meth:`_Recurrence._inference`) keeps one row of each and two of the state when only
        the last output is returned.
        """
        U = self.units
        infer = self.rm is None and self._inference()
        n = 1 if infer else T
        ZR = np.empty((n, B, 2 * U), dt)  # the z and r gates
        HH = np.empty((n, B, U), dt)  # the candidate state
        M = np.empty((n, B, U), dt)  # reset_after: h R_h + b'_h; before: r * h
        hs = np.empty((2, B, U), dt) if infer and not self.return_sequences else H
        if not infer:
            self.ZR, self.HH, self.M = ZR, HH, M
        return ZR, HH, M, hs, n

    def _reads_rows(self, dtype: Any) -> bool:
        """Whether the forward-only loop runs in the whole-sequence kernel
        (:meth:`_loop_sequence`; ``reset_after`` only), which picks the projection's rows."""
        return (self.reset_after and self.act is _tanh_ and self.ract is _sigmoid_
                and self.rm is None and self._inference() and self.dtype == dtype
                and self.R.dtype == dtype and _rnn_kernels.sequence_gemm(dtype) is not None)

    def _loop_sequence(self, rows: Any, ids: Any, h: Any, b_rec: Any, H: Any) -> None:
        """The forward-only loop (``reset_after``, tanh and sigmoid) in one compiled call per
        block of batch rows (:func:`chainrule.ops._rnn_kernels._gru_sequence`), as
        :meth:`LSTM._loop_sequence` runs LSTM's: the same numbers as :meth:`_loop` to about
        1e-7, not bit for bit (the kernel's own ``tanh``)."""
        from chainrule import parallel  # noqa: PLC0415

        U = self.units
        T, B = ids.shape
        dt = rows.dtype
        gemm, ints = _rnn_kernels.sequence_gemm(dt)
        R = np.ascontiguousarray(self.R)
        has_b = b_rec is not None
        brec = np.ascontiguousarray(b_rec, dt) if has_b else np.zeros(3 * U, dt)
        h = np.array(h, dt, order="C")  # updated in place
        a = np.empty((B, 3 * U), dt)
        mf, masked = self._mask_rows(B, dt)
        seq = self.return_sequences
        kern = _rnn_kernels.kernel("gru_sequence")
        parts = self._blocks(B)
        edges = [B * k // parts for k in range(parts + 1)]
        parallel.run_parts(lambda k: kern(gemm, ints, rows, ids, R, brec, has_b, h, a, H, seq,
                                          mf, masked, edges[k], edges[k + 1]), parts)
        if not seq:
            H[-1] = h

    def _loop(self, P, h, c, b_rec, H):
        if isinstance(P, tuple):  # (projected table, ids): see _reads_rows
            self.kernels = True
            self._loop_sequence(*P, h, b_rec, H)
            return
        if self._reads_rows(P.dtype):
            self.kernels = True
            T, B, G = P.shape
            self._loop_sequence(P.reshape(T * B, G), self._step_ids(T, B), h, b_rec, H)
            return
        act, ract, R, mf, U = self.act, self.ract, self.R, self.mf, self.units
        T, B = P.shape[:2]
        ZR, HH, M, hs, n = self._buffers(T, B, P.dtype, H)
        self.kernels = self._use_kernels(P, b_rec)
        if self.kernels:
            self._loop_kernels(P, h, b_rec, H, ZR, HH, M, hs, n)
            return
        after = self.reset_after
        g3, g2 = range(3), range(2)
        Rzr, Rh = R[:, :2 * U], R[:, 2 * U:]
        rec = np.empty((B, (3 if after else 2) * U), P.dtype)
        for t in range(T):
            p = P[t]
            zr, hh, mt, hn = ZR[t % n], HH[t % n], M[t % n], hs[t % len(hs)]
            if after:
                mi = self._rec_into(h, R, g3, rec)
                if b_rec is not None:
                    mi += b_rec
                np.add(p[:, :2 * U], mi[:, :2 * U], out=zr)
                mt[...] = mi[:, 2 * U:]
            else:
                mi = self._rec_into(h, Rzr, g2, rec)
                np.add(p[:, :2 * U], mi, out=zr)
            ract(zr)
            z, r = zr[:, :U], zr[:, U:]
            if after:
                np.multiply(r, mt, out=hh)
            else:
                hr = h if self.rm is None else h * self.rm[2]
                np.multiply(r, hr, out=mt)
                np.matmul(mt, Rh, out=hh)
            hh += p[:, 2 * U:]
            act(hh)
            # z h + (1 - z) hh, written as hh + z (h - hh)
            np.subtract(h, hh, out=hn)
            hn *= z
            hn += hh
            if mf is not None:  # a masked row carries its state
                np.copyto(hn, h, where=mf[t] == 0)
            h = hn
        if hs is not H:
            H[-1] = h

    def _loop_kernels(self, P, h, b_rec, H, ZR, HH, M, hs, n):
        """:meth:`_loop`'s tanh and sigmoid path with the gate arithmetic in compiled kernels
        (bit-identical): per step the recurrent product(s), a kernel before and after the
        gates' ``tanh``, the candidate's ``tanh`` and a kernel for the new state and mask."""
        U, R = self.units, self.R
        T, B = P.shape[:2]
        dt = P.dtype
        one, half = dt.type(1), dt.type(0.5)
        k = _rnn_kernels.kernel
        out = k("gru_out")
        h = np.ascontiguousarray(h)
        mf, masked = self._mask_rows(B, dt)
        if self.reset_after:
            gates, cand = k("gru_gates"), k("gru_cand")
            has_b = b_rec is not None
            brec = np.ascontiguousarray(b_rec) if has_b else np.zeros(3 * U, dt)
            rec = np.empty((B, 3 * U), dt)
            for t in range(T):
                p = P[t]
                zr, hh, mt, hn = ZR[t % n], HH[t % n], M[t % n], hs[t % len(hs)]
                np.matmul(h, R, out=rec)
                gates(p, rec, brec, has_b, zr, mt, half)
                np.tanh(zr, out=zr)
                cand(p, zr, mt, hh, one, half)
                np.tanh(hh, out=hh)
                out(zr, hh, h, hn, mf[t if masked else 0], masked)
                h = hn
        else:
            gates, reset = k("gru_gates_before"), k("gru_reset")
            Rzr, Rh = R[:, :2 * U], R[:, 2 * U:]
            rec = np.empty((B, 2 * U), dt)
            for t in range(T):
                p = P[t]
                zr, hh, mt, hn = ZR[t % n], HH[t % n], M[t % n], hs[t % len(hs)]
                np.matmul(h, Rzr, out=rec)
                gates(p, rec, zr, half)
                np.tanh(zr, out=zr)
                reset(zr, h, mt, one, half)
                np.matmul(mt, Rh, out=hh)
                hh += p[:, 2 * U:]
                np.tanh(hh, out=hh)
                out(zr, hh, h, hn, mf[t if masked else 0], masked)
                h = hn
        if hs is not H:
            H[-1] = h

    def _loop_back(self, dH, dh, dc):
        if self._kernels_back(dH, dh):
            return self._loop_back_kernels(dH, dh)
        T, B, U = self.HH.shape
        R, mf = self.R, self.mf
        after = self.reset_after
        # contiguous gates: small strided views cost more per NumPy call than the copies
        Z, Rg = np.ascontiguousarray(self.ZR[:, :, :U]), np.ascontiguousarray(self.ZR[:, :, U:])
        dract, dact = self.dract, self.dact
        Hp = self._prev(self.H, self.h0)
        dP = np.empty((T, B, 3 * U), dh.dtype)
        dMI = np.empty((T, B, 3 * U if after else 2 * U), dh.dtype)
        dAH = None if after else np.empty((T, B, U), dh.dtype)
        g3, g2 = range(3), range(2)
        Rzr, Rh = R[:, :2 * U], R[:, 2 * U:]
        for t in range(T - 1, -1, -1):
            if dH is not None:
                dh = dh + dH[t]
            hp, hh, z, r = Hp[t], self.HH[t], Z[t], Rg[t]
            dhc = dh if mf is None else dh * mf[t]
            dz = hp - hh
            dz *= dhc
            dz *= dract(z)
            dah = 1 - z
            dah *= dhc
            dah *= dact(hh)
            dmi = dMI[t]
            if after:
                dr = dah * self.M[t]
                dr *= dract(r)
                dmi[:, :U] = dz
                dmi[:, U:2 * U] = dr
                np.multiply(dah, r, out=dmi[:, 2 * U:])
                back = self._rec_back(dmi, R, g3)
            else:
                dAH[t] = dah
                dM = dah @ Rh.T
                hr = hp if self.rm is None else hp * self.rm[2]
                dr = dM * hr
                dr *= dract(r)
                dmi[:, :U] = dz
                dmi[:, U:] = dr
                back = self._rec_back(dmi, Rzr, g2)
                back += dM * r if self.rm is None else dM * r * self.rm[2]
            dp = dP[t]
            dp[:, :U] = dz
            dp[:, U:2 * U] = dr
            dp[:, 2 * U:] = dah
            back += dhc * z
            dh = back if mf is None else back + dh * (1 - mf[t])
        dR = db_rec = None
        if self.needs[2]:
            if after:
                dR = self._rec_grad(Hp, dMI, g3)
            else:
                dR = np.concatenate([self._rec_grad(Hp, dMI, g2),
                                     self.M.reshape(T * B, U).T @ dAH.reshape(T * B, U)], axis=1)
        if after and len(self.needs) > 3 and self.needs[3]:
            db_rec = dMI.sum(axis=(0, 1))
        return dP, dR, db_rec, dh, None

    def _loop_back_kernels(self, dH, dh):
        """:meth:`_loop_back` with each step's arithmetic in compiled kernels (one, or two
        around the product ``dah @ R_h^T`` before the reset)."""
        T, B, U = self.HH.shape
        R, after = self.R, self.reset_after
        ZR, HH, M = self.ZR, self.HH, self.M
        dt = HH.dtype
        one = dt.type(1)
        Hp = self._prev(self.H, self.h0)
        dP = np.empty((T, B, 3 * U), dt)
        dMI = np.empty((T, B, 3 * U if after else 2 * U), dt)
        dh = np.array(dh, dt)  # updated in place, step by step
        has_dH = dH is not None
        dH = np.ascontiguousarray(dH) if has_dH else None
        mf, masked = self._mask_rows(B, dt)
        back, carry = np.empty((B, U), dt), np.empty((B, U), dt)
        last = T - 1
        if after:
            kb, RT = _rnn_kernels.kernel("gru_back"), R.T
            for t in range(last, -1, -1):
                dmi = dMI[t]
                kb(Hp[t], HH[t], ZR[t], M[t], back, carry, dh, dH[t] if has_dH else dh, has_dH,
                   mf[t if masked else 0], mf[t + 1 if masked and t < last else 0], masked,
                   t == last, dmi, dP[t], one)
                np.matmul(dmi, RT, out=back)
        else:
            k1, k2 = _rnn_kernels.kernel("gru_back_before1"), _rnn_kernels.kernel(
                "gru_back_before2")
            RzrT, RhT = R[:, :2 * U].T, R[:, 2 * U:].T
            dAH = np.empty((T, B, U), dt)
            carry2, dM = np.empty((B, U), dt), np.empty((B, U), dt)
            for t in range(last, -1, -1):
                dmi, dp, hp, zr = dMI[t], dP[t], Hp[t], ZR[t]
                k1(hp, HH[t], zr, back, carry, carry2, dh, dH[t] if has_dH else dh, has_dH,
                   mf[t if masked else 0], mf[t + 1 if masked and t < last else 0], masked,
                   t == last, dAH[t], dmi, dp, one)
                np.matmul(dAH[t], RhT, out=dM)
                k2(hp, zr, dM, carry2, dmi, dp, one)
                np.matmul(dmi, RzrT, out=back)
            back += carry2
        back += carry
        dh = back if not masked else back + dh * (1 - mf[0])
        dR = db_rec = None
        if self.needs[2]:
            if after:
                dR = self._rec_grad(Hp, dMI, range(3))
            else:
                dR = np.concatenate([self._rec_grad(Hp, dMI, range(2)),
                                     M.reshape(T * B, U).T @ dAH.reshape(T * B, U)], axis=1)
        if after and len(self.needs) > 3 and self.needs[3]:
            db_rec = dMI.sum(axis=(0, 1))
        return dP, dR, db_rec, dh, None


def _recurrent(cls: type, x: Any, kernel: Any, recurrent_kernel: Any, bias: Any, states: list,
               mask: Any, units: int, options: dict) -> Tensor:
    op = cls(units, **options)
    h0 = states[0] if states else None
    c0 = states[1] if len(states) > 1 else None
    return op(x, kernel, recurrent_kernel, bias, h0, c0, mask)


def _options(activation: str, recurrent_activation: str, go_backwards: bool,
             return_sequences: bool, return_state: bool, zero_output_for_mask: bool,
             dropout: float, recurrent_dropout: float, rng: Any, reset_after: bool = True) -> dict:
    for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={rate!r}")
    return dict(activation=activation, recurrent_activation=recurrent_activation,
                go_backwards=bool(go_backwards), return_sequences=bool(return_sequences),
                return_state=bool(return_state), zero_output_for_mask=bool(zero_output_for_mask),
                dropout=float(dropout), recurrent_dropout=float(recurrent_dropout), rng=rng,
                reset_after=bool(reset_after))


def simple_rnn(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None,
               initial_state: Any = None, mask: Any = None, activation: str = "tanh",
               go_backwards: bool = False, return_sequences: bool = False,
               return_state: bool = False, zero_output_for_mask: bool = False,
               dropout: float = 0.0, recurrent_dropout: float = 0.0, rng: Any = None) -> Tensor:
    """A fully connected recurrent layer over a whole sequence, as one op.

    ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        x: inputs, shape ``(batch, timesteps, features)``.
        kernel: ``(features, units)``; recurrent_kernel: ``(units, units)``; bias:
            ``(units,)`` or None.
        initial_state: ``h0`` of shape ``(batch, units)`` (default zeros).
        mask: optional ``(batch, timesteps)`` booleans; masked steps carry the state.
        activation: one of :data:`RECURRENT_ACTIVATIONS`.
        go_backwards: process the steps last to first (outputs in that order).
        return_sequences: return every step's output ``(batch, timesteps, units)``
            instead of the last ``(batch, units)``.
        return_state: append the final state along axis 1 (``(batch, K + 1, units)``).
        zero_output_for_mask: masked steps output zeros instead of the carried state.
        dropout, recurrent_dropout: rates of the masks drawn in the op (one per
            sequence, the same at every step, as Keras).
        rng: optional ``numpy.random.Generator`` for the dropout masks.

    Returns:
        A Tensor (see ``return_sequences`` and ``return_state``).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> x = np.ones((2, 3, 4), "float32")
        >>> y = cr.ops.simple_rnn(x, np.zeros((4, 5), "float32"), np.eye(5, dtype="float32"))
        >>> y.shape
        (2, 5)
    """
    opts = _options(activation, "sigmoid", go_backwards, return_sequences, return_state,
                    zero_output_for_mask, dropout, recurrent_dropout, rng)
    states = [] if initial_state is None else [initial_state]
    return _recurrent(SimpleRNN, x, kernel, recurrent_kernel, bias, states, mask,
                      _units(recurrent_kernel), opts)


def lstm(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None,
         initial_state: Any = None, mask: Any = None, activation: str = "tanh",
         recurrent_activation: str = "sigmoid", go_backwards: bool = False,
         return_sequences: bool = False, return_state: bool = False,
         zero_output_for_mask: bool = False, dropout: float = 0.0,
         recurrent_dropout: float = 0.0, rng: Any = None) -> Tensor:
    """Keras's LSTM over a whole sequence, as one op (gates ``i, f, c, o``).

    Args:
        x: ``(batch, timesteps, features)``.
        kernel: ``(features, 4 * units)``; recurrent_kernel ``(units, 4 * units)``;
            bias ``(4 * units,)`` or None.
        initial_state: ``[h0, c0]``, each ``(batch, units)`` (default zeros).
        mask, activation, recurrent_activation, go_backwards, return_sequences,
        zero_output_for_mask, dropout, recurrent_dropout, rng: as in :func:`simple_rnn`.
        return_state: append the final ``h`` and ``c`` along axis 1.

    Returns:
        A Tensor: ``(batch, units)``, ``(batch, timesteps, units)``, or with
        ``return_state`` ``(batch, K + 2, units)``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> x = np.ones((2, 3, 4), "float32")
        >>> W, R = np.zeros((4, 8), "float32"), np.zeros((2, 8), "float32")
        >>> cr.ops.lstm(x, W, R, return_sequences=True).shape
        (2, 3, 2)
    """
    opts = _options(activation, recurrent_activation, go_backwards, return_sequences,
                    return_state, zero_output_for_mask, dropout, recurrent_dropout, rng)
    return _recurrent(LSTM, x, kernel, recurrent_kernel, bias, list(initial_state or []), mask,
                      _units(recurrent_kernel), opts)


def gru(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None,
        initial_state: Any = None, mask: Any = None, activation: str = "tanh",
        recurrent_activation: str = "sigmoid", reset_after: bool = True,
        go_backwards: bool = False, return_sequences: bool = False, return_state: bool = False,
        zero_output_for_mask: bool = False, dropout: float = 0.0,
        recurrent_dropout: float = 0.0, rng: Any = None) -> Tensor:
    """Keras's GRU over a whole sequence, as one op (gates ``z, r, h``).

    Args:
        x: ``(batch, timesteps, features)``.
        kernel: ``(features, 3 * units)``; recurrent_kernel ``(units, 3 * units)``;
            bias ``(2, 3 * units)`` with ``reset_after`` (input and recurrent
            biases), else ``(3 * units,)``; or None.
        initial_state: ``h0`` of shape ``(batch, units)`` (default zeros).
        reset_after: apply the reset gate after the recurrent product (Keras's default).
        mask, activation, recurrent_activation, go_backwards, return_sequences,
        return_state, zero_output_for_mask, dropout, recurrent_dropout, rng: as in
        :func:`simple_rnn`.

    Returns:
        A Tensor, shaped as :func:`simple_rnn`'s.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> x = np.ones((2, 3, 4), "float32")
        >>> W, R = np.zeros((4, 6), "float32"), np.zeros((2, 6), "float32")
        >>> cr.ops.gru(x, W, R).shape
        (2, 2)
    """
    opts = _options(activation, recurrent_activation, go_backwards, return_sequences,
                    return_state, zero_output_for_mask, dropout, recurrent_dropout, rng,
                    reset_after)
    states = [] if initial_state is None else [initial_state]
    return _recurrent(GRU, x, kernel, recurrent_kernel, bias, states, mask,
                      _units(recurrent_kernel), opts)


def _units(recurrent_kernel: Any) -> int:
    return int(np.shape(getattr(recurrent_kernel, "data", recurrent_kernel))[0])


# -- embedding --------------------------------------------------------------------------


class Embedding(Function):
    """``table[ids]``; the backward adds each output row's gradient into its id's row.

    The ids are checked in ``forward`` (so a captured step checks every batch):
    whole numbers in ``[0, input_dim)``. Repeated ids accumulate: the rows of the
    gradient are sorted by id (stably) and summed per id in their order in the batch.
    """

    supports_grad_out = True
    lazy = False  # set by a recurrent op that reads the rows itself (rnn._Recurrence.fuse_input)

    def __init__(self, layer: str) -> None:
        self.layer = layer

    def forward(self, ids, table):
        n = table.shape[0]
        if ids.dtype.kind == "f":
            idx = ids.astype(np.intp)
            bad = idx != ids
            if bad.any():
                raise shape_error(
                    f'Layer "{self.layer}" (Embedding) expects integer token ids, but received '
                    f"float values that are not whole numbers, such as {float(ids[bad].flat[0])}. "
                    f"Received: inputs of dtype {ids.dtype}")
        elif ids.dtype.kind in "iub":
            idx = ids.astype(np.intp, copy=False)
        else:
            raise shape_error(f'Layer "{self.layer}" (Embedding) expects integer token ids. '
                              f"Received: inputs of dtype {ids.dtype}")
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= n:
                worst = hi if hi >= n else lo
                raise shape_error(
                    f'Layer "{self.layer}" (Embedding) got token id {worst}, outside '
                    f"[0, input_dim={n}) (largest id {hi}, smallest {lo}). Raise input_dim to "
                    f"more than the largest id, or map the ids into range. Received: "
                    f"input_dim={n}, largest id {hi}")
        self.idx, self.table_shape = idx, table.shape
        self.table = table  # for a recurrent op's projected table (rnn._Recurrence._gathered)
        if self.lazy:  # its only reader gathers the rows it needs: a stand-in of zeros
            return np.broadcast_to(np.zeros((), table.dtype), idx.shape + table.shape[1:])
        return table[idx]

    def backward(self, gy):
        if not self.needs[1]:
            return None, None
        d = self.table_shape[1]
        idx = self.idx.reshape(-1)
        g = gy.reshape(-1, d)
        out = (self.grad_out or {}).get(1)
        if out is None:
            out = np.zeros(self.table_shape, gy.dtype)
        else:
            out[...] = 0
        if idx.size:
            order = np.argsort(idx, kind="stable")
            sidx = idx[order]
            first = np.empty(len(sidx), bool)
            first[0] = True
            np.not_equal(sidx[1:], sidx[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            counts = np.diff(starts, append=len(sidx))
            # each id's first row copied, then its k-th rows added for k = 1, 2, ... (within
            # one k every id appears once, so a fancy-indexed += is exact): the rows of an id
            # are summed in their order in the batch, as ``np.add.at`` sums them, with a few
            # whole-array passes instead of one small reduction per repeated id
            out[sidx[starts]] = g[order[starts]]
            top = int(counts.max())
            if top > 1:
                rank = np.arange(len(sidx)) - np.repeat(starts, counts)
                for k in range(1, top):
                    sel = np.flatnonzero(rank == k)
                    out[sidx[sel]] += g[order[sel]]
        return None, out


def embedding(ids: Any, table: Any, layer: str = "embedding") -> Tensor:
    """Look up rows of ``table``: ``table[ids]``, gradients summed into repeated rows.

    Args:
        ids: token ids of any shape, integers (or floats holding whole numbers).
        table: ``(input_dim, output_dim)``.
        layer: the name used in errors.

    Returns:
        ``ids.shape + (output_dim,)``.

    Raises:
        ValueError: for an id outside ``[0, input_dim)`` (naming the largest id and
            ``input_dim``) or a float id that is not a whole number.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> table = cr.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        >>> y = cr.ops.embedding(np.array([[0, 2, 2]]), table)
        >>> cr.ops.sum(y).backward()
        >>> table.grad
        array([[1., 1.],
               [0., 0.],
               [2., 2.]])
    """
    return Embedding(layer)(ids, table)


# -- masks as loss weights ------------------------------------------------------------------


class MaskWeights(Function):
    """Keras's ``apply_mask``: valid entries weigh ``total / valid``, masked ones 0."""

    differentiable = False

    def __init__(self, dtype: Any, scale: bool = True) -> None:
        self.dtype, self.scale = dtype, scale

    def forward(self, mask):
        m = mask.astype(self.dtype)
        if not self.scale:
            return m
        valid = m.sum()
        if valid:  # divide_no_nan: no valid entry weighs nothing
            m *= self.dtype.type(m.size) / valid
        return m

    def backward(self, gy):  # pragma: no cover - not differentiable
        return (None,)


def mask_weights(mask: Any, dtype: Any = "float32", scale: bool = True) -> Tensor:
    """A mask as loss weights: ``total / valid`` where valid, 0 where masked (Keras's rule).

    A mean of ``loss * weights`` over all entries is then the mean over the valid ones.

    Args:
        mask: booleans (1 for a valid step).
        dtype: the weights' float type.
        scale: False for plain 0/1 weights (Keras's rule for reductions other than a mean).

    Returns:
        A Tensor of the mask's shape.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.mask_weights(np.array([[True, False]])).numpy().round(4)
        array([[2., 0.]], dtype=float32)
    """
    return MaskWeights(np.dtype(dtype), bool(scale))(mask)

"""Connectionist temporal classification: ``ctc_loss`` (one Function: the forward-backward
recursions in log space) and ``ctc_decode`` (greedy, or prefix beam search).

The loss of one sequence is ``-log p(target | output)``, summed over every
alignment of the target (with blanks, index ``mask_index``) to the time steps by
the alpha (forward) recursion. Its gradient with respect to the logits is
``softmax(output) - gamma``, where ``gamma[t, k]`` is the posterior probability
of emitting class ``k`` at step ``t`` (alpha times beta, normalized) — Graves'
formula — and zero past a sequence's ``output_length``.

Example:
    >>> import chainrule as cr
    >>> logits = cr.ops.zeros((1, 2, 3))  # two steps, uniform over blank and 2 classes
    >>> round(float(cr.ops.ctc_loss([[1]], logits, [1], [2])[0]), 4)  # -log(3/9)
    1.0986
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input, cast, raw

__all__ = ["ctc_loss", "ctc_decode"]

_NEG = -np.inf


def _lse(*xs):
    """Elementwise log(sum(exp)) of arrays that may hold -inf."""
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(x - safe) for x in xs)) + safe


class CTCLoss(Function):
    """Per-sequence CTC loss of logits ``(B, T, K)``; inputs: logits, targets ``(B, L)``,
    target lengths and output lengths ``(B,)``."""

    def __init__(self, mask_index):
        self.mask_index = mask_index

    def forward(self, logits, target, target_length, output_length):
        b, t_max, k = logits.shape
        if target.ndim != 2 or target.shape[0] != b or target_length.shape != (b,) or \
                output_length.shape != (b,):
            raise shape_error(f"ctc_loss: target must be (batch, max_label_length) and the "
                              f"lengths (batch,) for output of shape {logits.shape}. Received: "
                              f"target of shape {target.shape}, target_length of shape "
                              f"{target_length.shape}, output_length of shape "
                              f"{output_length.shape}")
        tl = target_length.astype(np.int64)
        ol = np.minimum(output_length.astype(np.int64), t_max)
        if np.any(tl > target.shape[1]) or np.any(tl < 0) or np.any(ol < 1):
            raise shape_error(f"ctc_loss: target_length must be in [0, {target.shape[1]}] and "
                              f"output_length at least 1. Received: target_length="
                              f"{tl.tolist()}, output_length={output_length.tolist()}")
        z = logits - logits.max(-1, keepdims=True)
        lp = z - np.log(np.exp(z).sum(-1, keepdims=True))  # log_softmax
        n_lab = target.shape[1]
        s_max = 2 * n_lab + 1
        ext = np.full((b, s_max), self.mask_index, dtype=np.int64)
        ext[:, 1::2] = target
        s_len = 2 * tl + 1
        valid_s = np.arange(s_max)[None, :] < s_len[:, None]
        # a skip s-2 -> s is allowed into a label that differs from the label two back
        skip = np.zeros((b, s_max), bool)
        skip[:, 2:] = (ext[:, 2:] != self.mask_index) & (ext[:, 2:] != ext[:, :-2])
        emit = np.take_along_axis(lp, np.broadcast_to(ext[:, None, :], (b, t_max, s_max)), 2)
        emit = np.where(valid_s[:, None, :], emit, _NEG)
        alpha = np.full((b, t_max, s_max), _NEG, dtype=lp.dtype)
        alpha[:, 0, 0] = emit[:, 0, 0]
        alpha[:, 0, 1] = np.where(tl > 0, emit[:, 0, 1], _NEG)
        for t in range(1, t_max):
            prev = alpha[:, t - 1]
            one = np.concatenate([np.full((b, 1), _NEG), prev[:, :-1]], 1)
            two = np.where(skip, np.concatenate([np.full((b, 2), _NEG), prev[:, :-2]], 1), _NEG)
            step = _lse(prev, one, two) + emit[:, t]
            alpha[:, t] = np.where((t < ol)[:, None], step, prev)
        rows = np.arange(b)
        last = alpha[rows, ol - 1]
        end1 = last[rows, s_len - 1]
        end2 = np.where(tl > 0, last[rows, np.maximum(s_len - 2, 0)], _NEG)
        logp = _lse(end1, end2)
        self.saved = (lp, ext, s_len, skip, emit, alpha, logp, ol)
        with np.errstate(invalid="ignore"):
            return (-logp).astype(logits.dtype)

    def backward(self, gy):
        lp, ext, s_len, skip, emit, alpha, logp, ol = self.saved
        b, t_max, s_max = emit.shape
        rows = np.arange(b)
        beta = np.full((b, t_max, s_max), _NEG, dtype=lp.dtype)  # without step t's emission
        beta[rows, ol - 1, s_len - 1] = 0.0
        two_back = s_len - 2 >= 0
        beta[rows[two_back], ol[two_back] - 1, s_len[two_back] - 2] = 0.0
        skip_next = np.concatenate([skip[:, 2:], np.zeros((b, 2), bool)], 1)
        for t in range(t_max - 2, -1, -1):
            nxt = beta[:, t + 1] + emit[:, t + 1]
            one = np.concatenate([nxt[:, 1:], np.full((b, 1), _NEG)], 1)
            two = np.where(skip_next, np.concatenate([nxt[:, 2:], np.full((b, 2), _NEG)], 1),
                           _NEG)
            step = _lse(nxt, one, two)
            active = (t < ol - 1)[:, None]
            beta[:, t] = np.where(active, step, beta[:, t])
        finite = np.isfinite(logp)
        with np.errstate(invalid="ignore", over="ignore"):
            gamma = np.exp(alpha + beta - np.where(finite, logp, 0.0)[:, None, None])
        in_time = (np.arange(t_max)[None, :] < ol[:, None])[:, :, None]
        gamma = np.where(in_time & finite[:, None, None], gamma, 0.0)
        post = np.zeros(lp.shape, dtype=lp.dtype)  # gamma summed per class
        np.add.at(post, (rows[:, None, None], np.arange(t_max)[None, :, None],
                         np.broadcast_to(ext[:, None, :], gamma.shape)), gamma)
        probs = np.exp(lp) * (in_time & finite[:, None, None])
        g = (probs - post) * gy[:, None, None]
        return g.astype(lp.dtype), None, None, None


def _ints(v: Any, name: str) -> Any:
    v = as_input(v)
    a = raw(v)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and a.size and np.all(a == np.floor(a)):
            return cast(v, "int32")
        raise ValueError(f"ctc_loss: {name} must hold integers. Received: {name} of dtype "
                         f"{a.dtype}")
    return v


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> Tensor:
    """CTC loss of each sequence: ``-log p(target | output)``.

    Args:
        target: integer labels ``(batch, max_label_length)``, padded past ``target_length``.
        output: logits ``(batch, max_steps, num_classes)`` (not softmax-normalized).
        target_length: the label count of each sequence ``(batch,)``.
        output_length: the step count of each sequence ``(batch,)``.
        mask_index: the blank class.

    Returns:
        Shape ``(batch,)``; ``inf`` where no alignment fits (a target too long for its steps).

    Raises:
        ValueError: for mismatched shapes, non-integer labels or lengths out of range.

    Example:
        >>> import chainrule as cr
        >>> logits = cr.Tensor(np.log([[[0.6, 0.4], [0.6, 0.4]]]))  # blank 0, class 1
        >>> round(float(cr.ops.ctc_loss([[1]], logits, [1], [2])[0]), 4)  # -log(.4*.4+2*.6*.4)
        0.4463
    """
    out = as_input(output)
    if raw(out).dtype.kind != "f":
        out = cast(out, "float32")
    shape = np.shape(raw(out))
    if len(shape) != 3:
        raise ValueError(f"ctc_loss: output must be logits of shape (batch, steps, classes). "
                         f"Received: output of shape {shape}")
    if isinstance(mask_index, bool) or not isinstance(mask_index, (int, np.integer)) or \
            not 0 <= mask_index < shape[2]:
        raise ValueError(f"ctc_loss: mask_index must be a class index in [0, {shape[2]}). "
                         f"Received: mask_index={mask_index!r}")
    return CTCLoss(int(mask_index))(out, _ints(target, "target"),
                                    _ints(target_length, "target_length"),
                                    _ints(output_length, "output_length"))


def _greedy(x, lengths, merge_repeated, mask_index):
    b, t_max, k = x.shape
    idx = np.argmax(x, -1).astype(np.int32)
    scores = np.max(x, -1)
    past = np.arange(t_max)[None, :] >= lengths[:, None]
    idx = np.where(past, mask_index, idx)
    scores = np.where(past, 0.0, scores)
    if merge_repeated:
        rep = np.pad(idx[:, 1:] == idx[:, :-1], ((0, 0), (1, 0)))
        idx = np.where(rep, mask_index, idx)
    blank = idx == mask_index
    idx = np.where(blank, -1, idx)
    order = np.argsort(np.where(blank, t_max, np.arange(t_max)[None, :]), -1, kind="stable")
    return np.take_along_axis(idx, order, -1)[None], (-scores.sum(1))[:, None].astype(x.dtype)


def _add(beams, prefix, blank, label):
    """Add probabilities (log) ending in a blank and in a label to ``beams[prefix]``."""
    ob, ol = beams.get(prefix, (_NEG, _NEG))
    beams[prefix] = (np.logaddexp(ob, blank), np.logaddexp(ol, label))


def _beam(x, lengths, beam_width, top_paths, mask_index):
    """Prefix beam search in log space: each label prefix keeps the probability of its
    alignments ending in a blank and ending in its last label; ``beam_width`` prefixes by
    total probability survive each step."""
    b, t_max, k = x.shape
    z = x - x.max(-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    paths = np.full((top_paths, b, t_max), -1, dtype=np.int32)
    scores = np.full((b, top_paths), _NEG, dtype=x.dtype)
    for n in range(b):
        beams = {(): (0.0, _NEG)}  # prefix -> (log p ending in blank, log p ending in a label)
        for t in range(int(min(lengths[n], t_max))):
            row = lp[n, t]
            new: dict = {}
            for prefix, (pb, pl) in beams.items():
                _add(new, prefix, np.logaddexp(pb, pl) + row[mask_index], _NEG)
                last = prefix[-1] if prefix else None
                for c in range(k):
                    if c == mask_index:
                        continue
                    if c == last:
                        _add(new, prefix, _NEG, pl + row[c])  # a repeat without a blank merges
                        _add(new, prefix + (c,), _NEG, pb + row[c])
                    else:
                        _add(new, prefix + (c,), _NEG, np.logaddexp(pb, pl) + row[c])
            ranked = sorted(new.items(), key=lambda kv: -np.logaddexp(*kv[1]))
            beams = dict(ranked[:beam_width])
        ranked = sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:top_paths]
        for i, (prefix, (pb, pl)) in enumerate(ranked):
            paths[i, n, :len(prefix)] = prefix
            scores[n, i] = np.logaddexp(pb, pl)
    return paths, scores


class BeamDecode(Function):
    differentiable = False

    def __init__(self, beam_width, top_paths, mask_index, part):
        self.beam_width, self.top_paths = beam_width, top_paths
        self.mask_index, self.part = mask_index, part

    def forward(self, x, lengths):
        return _beam(x, lengths, self.beam_width, self.top_paths, self.mask_index)[self.part]

    def backward(self, gy):
        return None, None


class GreedyDecode(Function):
    differentiable = False

    def __init__(self, merge_repeated, mask_index, part):
        self.merge_repeated, self.mask_index, self.part = merge_repeated, mask_index, part

    def forward(self, x, lengths):
        return _greedy(x, lengths, self.merge_repeated, self.mask_index)[self.part]

    def backward(self, gy):
        return None, None


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy",
               beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> tuple:
    """Decode CTC logits: the best class at each step (``"greedy"``), or the most probable
    label sequences by prefix beam search (``"beam_search"``).

    Args:
        inputs: logits ``(batch, max_length, num_classes)``.
        sequence_lengths: the steps of each sequence ``(batch,)``.
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: the label prefixes kept at each step of beam search.
        top_paths: the number of sequences beam search returns.
        merge_repeated: (greedy) merge runs of the same class into one.
        mask_index: the blank class.

    Returns:
        ``(decoded, scores)``, no gradient. Greedy: int32 labels ``(1, batch, max_length)``
        with -1 after each sequence's labels, and ``(batch, 1)``, the negated sum of the
        chosen logits. Beam search: ``(top_paths, batch, max_length)`` and the log
        probability of each sequence ``(batch, top_paths)``.

    Raises:
        ValueError: for an unknown strategy or bad beam settings.

    Example:
        >>> import chainrule as cr
        >>> logits = cr.Tensor(np.eye(3)[[1, 1, 0, 2]][None])  # classes 1, 1, blank, 2
        >>> decoded, scores = cr.ops.ctc_decode(logits, [4])
        >>> decoded
        Tensor([[[ 1,  2, -1, -1]]], dtype=int32)
    """
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"ctc_decode: strategy must be 'greedy' or 'beam_search'. "
                         f"Received: strategy={strategy!r}")
    x = as_input(inputs)
    if raw(x).dtype.kind != "f":
        x = cast(x, "float32")
    shape = np.shape(raw(x))
    if len(shape) != 3:
        raise ValueError(f"ctc_decode: inputs must be logits of shape (batch, steps, classes). "
                         f"Received: inputs of shape {shape}")
    lengths = as_input(sequence_lengths)
    if np.shape(raw(lengths)) != shape[:1]:
        raise ValueError(f"ctc_decode: sequence_lengths must have shape ({shape[0]},). "
                         f"Received: sequence_lengths of shape {np.shape(raw(lengths))}")
    if not 0 <= int(mask_index) < shape[2]:
        raise ValueError(f"ctc_decode: mask_index must be a class index in [0, {shape[2]}). "
                         f"Received: mask_index={mask_index!r}")
    if strategy == "beam_search":
        for name, v in (("beam_width", beam_width), ("top_paths", top_paths)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"ctc_decode: {name} must be a positive integer. "
                                 f"Received: {name}={v!r}")
        if top_paths > beam_width:
            raise ValueError(f"ctc_decode: top_paths must not exceed beam_width ({beam_width})."
                             f" Received: top_paths={top_paths}")
        args = (int(beam_width), int(top_paths), int(mask_index))
        return BeamDecode(*args, 0)(x, lengths), BeamDecode(*args, 1)(x, lengths)
    return (GreedyDecode(bool(merge_repeated), int(mask_index), 0)(x, lengths),
            GreedyDecode(bool(merge_repeated), int(mask_index), 1)(x, lengths))

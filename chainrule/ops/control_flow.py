"""Keras 3's core ops beyond shapes: ``slice``/``slice_update``, ``scatter``/``scatter_update``,
the ``segment_*`` reductions, ``saturate_cast``, ``dtype``, and the control flow
(``cond``, ``switch``, ``fori_loop``, ``while_loop``, ``scan``, ``map``,
``vectorized_map``, ``associative_scan``).

The control flow runs eagerly, as Python: a loop calls its body once per step
on Tensors, so the tape (and a captured step) simply records the ops each
step runs, and gradients flow through them. A loop whose length or a branch
that depends on a tensor's value reads that value (``bool()``), so a step
using it runs on the tape instead of being captured, as any such Python code.

Example:
    >>> import chainrule as cr
    >>> cr.ops.fori_loop(0, 3, lambda i, x: x * 2.0, cr.Tensor([1.0]))
    Tensor([8.], dtype=float32)
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops import symbolic as _symbolic
from chainrule.ops.core import as_input, cast, raw
from chainrule.ops.math import clip
from chainrule.ops.shaping import getitem

__all__ = ["slice", "slice_update", "scatter", "scatter_update", "segment_sum", "segment_max",
           "segment_min", "segment_prod", "saturate_cast", "dtype", "cond", "switch",
           "fori_loop", "while_loop", "scan", "map", "vectorized_map", "associative_scan"]


def _starts(start_indices: Any, op: str) -> tuple:
    if isinstance(start_indices, Tensor):
        start_indices = start_indices.numpy()
    try:
        return tuple(int(v) for v in np.asarray(start_indices).reshape(-1))
    except (TypeError, ValueError):
        raise ValueError(f"{op}: start_indices must be integers, one per axis. "
                         f"Received: start_indices={start_indices!r}") from None


def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> Tensor:  # noqa: A001
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Args:
        inputs: input.
        start_indices: one start per axis (ints, or a tensor whose values are read).
        shape: the block's size per axis.

    Raises:
        ValueError: when the lengths differ from ``inputs``'s rank, or the block runs out of
            the input.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.slice(cr.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), (0, 1), (2, 2))
        Tensor([[2., 3.],
                [5., 6.]], dtype=float32)
    """
    x = as_input(inputs)
    full = np.shape(raw(x))
    starts = _starts(start_indices, "slice")
    sizes = tuple(int(n) for n in shape)
    if len(starts) != len(sizes) or len(starts) != len(full):
        raise ValueError("slice: start_indices and shape need one entry per axis of inputs "
                         f"{full}. Received: start_indices={starts}, shape={sizes}")
    if any(s < 0 or n < 0 or s + n > d for s, n, d in zip(starts, sizes, full)):
        raise ValueError(f"slice: the block runs out of inputs of shape {full}. Received: "
                         f"start_indices={starts}, shape={sizes}")
    return getitem(x, tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes)))


class SliceUpdate(Function):
    """``inputs`` with a block replaced by ``updates`` (a new array: the input is kept)."""

    def __init__(self, key):
        self.key = key

    def forward(self, x, u):
        y = x.copy()
        y[self.key] = u
        return y

    def backward(self, gy):
        gx = None
        if self.needs[0]:
            gx = gy.copy()
            gx[self.key] = 0
        return gx, (gy[self.key].copy() if self.needs[1] else None)


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Unlike Keras's NumPy backend, ``inputs`` is not modified: a new Tensor is
    returned (gradients go to ``inputs`` outside the block, to ``updates`` inside).

    Raises:
        ValueError: when ``updates`` does not fit inside ``inputs`` at ``start_indices``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.slice_update(cr.ops.zeros((2, 3)), (1, 1), cr.Tensor([[7.0, 8.0]]))
        Tensor([[0., 0., 0.],
                [0., 7., 8.]], dtype=float32)
    """
    x, u = as_input(inputs), as_input(updates)
    full, us = np.shape(raw(x)), np.shape(raw(u))
    starts = _starts(start_indices, "slice_update")
    if len(starts) != len(full) or len(us) != len(full) or any(
            s < 0 or s + n > d for s, n, d in zip(starts, us, full)):
        raise ValueError(f"slice_update: updates of shape {us} must fit inside inputs of shape "
                         f"{full} at start_indices. Received: start_indices={starts}")
    if raw(u).dtype != raw(x).dtype:
        u = cast(u, raw(x).dtype)
    key = tuple(builtins.slice(s, s + n) for s, n in zip(starts, us))
    return SliceUpdate(key)(x, u)


def _index_tuple(indices: Any, op: str, rank: int) -> tuple:
    idx = np.asarray(raw(indices) if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu" or idx.ndim < 1 or idx.shape[-1] > rank:
        raise shape_error(f"{op}: indices must be integers of shape (..., k) with k <= {rank}, "
                         f"the rank of the target. Received: indices of shape {idx.shape} and "
                         f"dtype {idx.dtype}")
    return tuple(np.moveaxis(idx, -1, 0))


class Scatter(Function):
    """Values added into zeros of ``shape`` at ``indices`` (repeated indices add up)."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, indices, values):
        self.idx = _index_tuple(indices, "scatter", len(self.shape))
        out = np.zeros(self.shape, dtype=values.dtype)
        try:
            np.add.at(out, self.idx, values)
        except (IndexError, ValueError) as e:
            raise shape_error(f"scatter: indices of shape {indices.shape} and values of shape "
                             f"{values.shape} do not fit the shape {self.shape} ({e}). "
                             f"Received: shape={self.shape}") from None
        return out

    def backward(self, gy):
        return None, gy[self.idx]


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Tensor:
    """A tensor of ``shape``, zero except ``values`` added at ``indices``.

    Args:
        indices: integers of shape ``(n, k)`` (``k`` leading axes of ``shape``).
        values: shape ``(n,) + shape[k:]``.
        shape: the output shape.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.scatter([[0, 1], [1, 0], [0, 1]], cr.Tensor([1.0, 2.0, 3.0]), (2, 2))
        Tensor([[0., 4.],
                [2., 0.]], dtype=float32)
    """
    dims = tuple(int(n) for n in shape)
    return Scatter(dims)(as_input(indices), as_input(values))


class ScatterUpdate(Function):
    """``inputs`` with entries at ``indices`` set to (or combined with) ``updates``."""

    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, x, indices, u):
        self.idx = idx = _index_tuple(indices, "scatter_update", x.ndim)
        y = x.copy()
        r = self.reduction
        try:
            if r is None:
                y[idx] = u
            else:
                {"add": np.add, "max": np.maximum, "min": np.minimum,
                 "mul": np.multiply}[r].at(y, idx, u)
        except (IndexError, ValueError) as e:
            raise shape_error(f"scatter_update: indices of shape {indices.shape} and updates of "
                             f"shape {u.shape} do not fit inputs of shape {x.shape} ({e}). "
                             f"Received: updates of shape {u.shape}") from None
        self.x, self.u, self.y = x, u, y
        return y

    def backward(self, gy):
        idx, r = self.idx, self.reduction
        if r is None:
            gx = gy.copy()
            gx[idx] = 0
            return gx, None, gy[idx]
        if r == "add":
            return gy, None, gy[idx]
        if r == "mul":  # y = x * prod(u at the place): each factor's gradient divides it out
            with np.errstate(divide="ignore", invalid="ignore"):
                return gy * self.y / self.x, None, (gy * self.y)[idx] / self.u
        won_x = self.y == self.x  # max/min: to the value that won (ties to both)
        return gy * won_x, None, gy[idx] * (self.u == self.y[idx])


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None
                   ) -> Tensor:
    """``inputs`` with the entries at ``indices`` replaced by ``updates``, or combined with
    them by ``reduction`` (``"add"``, ``"max"``, ``"min"``, ``"mul"``).

    A new Tensor is returned (Keras's NumPy backend writes into ``inputs``).
    With ``reduction=None`` and a repeated index the last update wins, and each
    of the repeated updates receives the gradient of that place.

    Raises:
        ValueError: for an unknown reduction or indices that do not fit.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.scatter_update(cr.ops.zeros((3,)), [[0], [2]], cr.Tensor([5.0, 6.0]))
        Tensor([5., 0., 6.], dtype=float32)
    """
    if reduction not in (None, "add", "max", "min", "mul"):
        raise ValueError("scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul'. "
                         f"Received: reduction={reduction!r}")
    x, u = as_input(inputs), as_input(updates)
    if raw(u).dtype != raw(x).dtype:
        u = cast(u, raw(x).dtype)
    return ScatterUpdate(reduction)(x, as_input(indices), u)


class Segment(Function):
    """A reduction of ``data``'s rows per segment id (ids < 0 are dropped)."""

    def __init__(self, kind, num_segments):
        self.kind, self.num_segments = kind, num_segments

    def forward(self, data, ids):
        if ids.ndim != 1 or ids.dtype.kind not in "iu" or ids.shape[0] != data.shape[0]:
            raise shape_error(f"segment_{self.kind}: segment_ids must be a 1-D integer tensor "
                             f"with one id per row of data. Received: segment_ids of shape "
                             f"{ids.shape} and dtype {ids.dtype} for data of shape "
                             f"{data.shape}")
        n = self.num_segments
        keep = (ids >= 0) & (ids < n)
        self.ids, self.keep = ids, keep
        init = {"sum": 0, "prod": 1, "max": -np.inf, "min": np.inf}[self.kind]
        if data.dtype.kind != "f" and self.kind in ("max", "min"):
            info = np.iinfo(data.dtype)
            init = info.min if self.kind == "max" else info.max
        out = np.full((n,) + data.shape[1:], init, dtype=data.dtype)
        ufunc = {"sum": np.add, "prod": np.multiply, "max": np.maximum,
                 "min": np.minimum}[self.kind]
        ufunc.at(out, ids[keep], data[keep])
        self.data, self.out = data, out
        return out

    def backward(self, gy):
        keep, ids = self.keep, np.where(self.keep, self.ids, 0)
        g = gy[ids] * keep.reshape((-1,) + (1,) * (gy.ndim - 1))
        if self.kind == "sum":
            return g, None
        if self.kind == "prod":
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * self.out[ids] / self.data, None
        won = (self.data == self.out[ids]) & keep.reshape((-1,) + (1,) * (gy.ndim - 1))
        count = np.zeros_like(self.out)  # ties share the gradient equally (TensorFlow's rule)
        np.add.at(count, ids[keep], won[keep].astype(count.dtype))
        return g * won / np.maximum(count[ids], 1), None


def _segment(kind: str, data: Any, segment_ids: Any, num_segments: Any) -> Tensor:
    ids = as_input(segment_ids)
    if num_segments is None:  # read from the ids (Keras's NumPy backend does the same)
        a = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        num_segments = int(a.max()) + 1 if a.size else 0
    if isinstance(num_segments, bool) or not isinstance(num_segments, (int, np.integer)) or \
            num_segments < 0:
        raise ValueError(f"segment_{kind}: num_segments must be a non-negative integer. "
                         f"Received: num_segments={num_segments!r}")
    return Segment(kind, int(num_segments))(as_input(data), ids)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Sum of ``data``'s rows per segment id (rows with id -1 are left out).

    Args:
        data: input; its first axis is split into segments.
        segment_ids: one integer id per row.
        num_segments: the number of segments (default: the largest id + 1, read from the ids).
        sorted: accepted for Keras compatibility (the result does not depend on it).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.segment_sum(cr.Tensor([1.0, 2.0, 3.0]), np.array([0, 0, 1]))
        Tensor([3., 3.], dtype=float32)
    """
    return _segment("sum", data, segment_ids, num_segments)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Maximum of ``data``'s rows per segment id (-inf for an empty segment).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.segment_max(cr.Tensor([1.0, 2.0, 3.0]), np.array([0, 0, 1]))
        Tensor([2., 3.], dtype=float32)
    """
    return _segment("max", data, segment_ids, num_segments)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Minimum of ``data``'s rows per segment id (inf for an empty segment).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.segment_min(cr.Tensor([1.0, 2.0, 3.0]), np.array([0, 0, 1]))
        Tensor([1., 3.], dtype=float32)
    """
    return _segment("min", data, segment_ids, num_segments)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 sorted: bool = False) -> Tensor:  # noqa: A002
    """Product of ``data``'s rows per segment id (1 for an empty segment).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.segment_prod(cr.Tensor([1.0, 2.0, 3.0]), np.array([0, 0, 1]))
        Tensor([2., 3.], dtype=float32)
    """
    return _segment("prod", data, segment_ids, num_segments)


def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``, clipping first to the range it can hold (no wrap-around).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.saturate_cast(cr.Tensor([-5.0, 300.0]), "uint8")
        Tensor([  0, 255], dtype=uint8)
    """
    x = as_input(x)
    target = np.dtype(dtype)
    src = raw(x).dtype
    info = np.iinfo(target) if target.kind in "iu" else (
        np.finfo(target) if target.kind == "f" else None)
    if info is not None:
        lo, hi = info.min, info.max
        if src.kind == "f":
            lo, hi = builtins.max(float(lo), float(np.finfo(src).min)), \
                builtins.min(float(hi), float(np.finfo(src).max))
            if target.kind in "iu":  # the largest float of src's type not above hi
                hi = float(np.nextafter(src.type(hi), src.type(-np.inf))) \
                    if float(src.type(hi)) > info.max else hi
        if src.kind in "iu" or src.kind == "f":
            x = clip(x, lo, hi)
    if target.kind in "biu":  # an integer result carries no gradient (Keras's rule)
        from chainrule.ops.core import stop_gradient  # noqa: PLC0415

        return stop_gradient(cast(x, target))
    return cast(x, target)


def dtype(x: Any) -> str:
    """The dtype of ``x`` as Keras's standard string (``"float32"``, ``"int32"``...).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.dtype(cr.Tensor([1.0]))
        'float32'
    """
    d = getattr(x, "dtype", None)
    if d is None:
        d = raw(as_input(x)).dtype
    return np.dtype(d).name if not isinstance(d, str) else d


# -- control flow -------------------------------------------------------------------------------
# The loops call the public ops (``chainrule.ops.getitem``...), which record graph nodes when a
# loop runs its Python on a functional model's symbolic tensors. A loop over an axis of unknown
# length (the batch) cannot run so: it is recorded as one op instead, run on real tensors.


def _op(name: str) -> Callable:
    import chainrule.ops as ops  # noqa: PLC0415 - complete by the time a loop runs

    return getattr(ops, name)


def _unknown_length(values: list, axis: int = 0) -> bool:
    """Whether a symbolic tensor among ``values`` has an unknown length along ``axis``."""
    if not _symbolic.any_symbolic(values):
        return False
    for v in values:
        shape = getattr(v, "shape", None)
        if shape is not None and len(shape) > axis and shape[axis] is None:
            return True
    return False


def _record(name: str, args: tuple, kwargs: dict) -> Any:
    return _symbolic._graph["record"](name, args, kwargs)


def _known(value: Any, what: str, op: str) -> None:
    if _symbolic.any_symbolic([value]):
        raise ValueError(f"{op}: {what} is a symbolic tensor of a functional model, whose value "
                         "is unknown until the model runs. Use ops.where (or ops.select) to "
                         "choose between computed values, or call the op inside a layer's "
                         f"call. Received: {what}=a KerasTensor")


def _flatten(tree: Any) -> list:
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in _flatten(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _flatten(tree[k])]
    return [tree]


def _pack(tree: Any, leaves: list) -> Any:
    it = iter(leaves)

    def build(t: Any) -> Any:
        if isinstance(t, (list, tuple)):
            return type(t)(build(v) for v in t)
        if isinstance(t, dict):
            return {k: build(t[k]) for k in sorted(t)}
        return next(it)

    return build(tree)


def _callable(f: Any, name: str, op: str) -> None:
    if not callable(f):
        raise TypeError(f"{op}: {name} must be callable. Received: {name}={f!r}")


def cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()`` (a tensor ``pred`` is read).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cond(cr.Tensor(2.0) > 1.0, lambda: "big", lambda: "small")
        'big'
    """
    _callable(true_fn, "true_fn", "cond")
    _callable(false_fn, "false_fn", "cond")
    _known(pred, "pred", "cond")
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, ``index`` clipped into range (Keras's rule).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.switch(5, [lambda x: x + 1.0, lambda x: x * 10.0], cr.Tensor([2.0]))
        Tensor([20.], dtype=float32)
    """
    if not isinstance(branches, (list, tuple)) or not branches:
        raise ValueError(f"switch: branches must be a non-empty list of functions. "
                         f"Received: branches={branches!r}")
    _known(index, "index", "switch")
    i = int(np.clip(int(index), 0, len(branches) - 1))
    return branches[i](*operands)


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fori_loop(0, 4, lambda i, s: s + i, 0)
        6
    """
    _callable(body_fun, "body_fun", "fori_loop")
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond: Callable, body: Callable, loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most
    ``maximum_iterations`` times).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.while_loop(lambda x: x < 10, lambda x: x * 2, 1)
        16
    """
    _callable(cond, "cond", "while_loop")
    _callable(body, "body", "while_loop")
    is_seq = isinstance(loop_vars, (list, tuple))
    vals = tuple(loop_vars) if is_seq else (loop_vars,)
    n = 0
    while maximum_iterations is None or n < maximum_iterations:
        go = cond(*vals)
        _known(go, "the value of cond", "while_loop")
        if not bool(go):
            break
        vals = body(*vals)
        vals = tuple(vals) if isinstance(vals, (list, tuple)) else (vals,)
        n += 1
    return vals if is_seq else vals[0]


def _stack_leaves(ys: list) -> Any:
    leaves = [_flatten(y) for y in ys]
    return _pack(ys[0], [_op("stack")([as_input(col[k]) for col in leaves])
                         for k in range(len(leaves[0]))])


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int | bool = 1) -> tuple:
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (JAX's ``lax.scan``).

    Args:
        f: ``(carry, x) -> (carry, y)``.
        init: the first carry (a tensor or a nested list/tuple/dict of them).
        xs: what to scan over (nested like ``init`` may be), or None with ``length``.
        length: the number of steps when ``xs`` is None.
        reverse: scan from the end (``ys`` still in the original order).
        unroll: a positive integer or a boolean, for Keras compatibility (the loop is
            Python).

    Returns:
        ``(final carry, stacked ys)``; steps returning ``y=None`` give zeros shaped like
        the carry's tensors (a list of them), as in Keras.

    Example:
        >>> import chainrule as cr
        >>> carry, ys = cr.ops.scan(lambda c, x: (c + x, c * x), cr.Tensor(0.0),
        ...                         cr.Tensor([1.0, 2.0, 3.0]))
        >>> carry, ys
        (Tensor(6., dtype=float32), Tensor([0., 2., 9.], dtype=float32))
    """
    _callable(f, "f", "scan")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: unroll must be a positive integer or a boolean. "
                         f"Received: unroll={unroll!r}")
    if xs is None and length is None:
        raise ValueError("scan: give xs to scan over, or length. Received: xs=None, "
                         "length=None")
    if xs is not None and length is None and _unknown_length(_flatten(xs)):
        return _record("scan", (f, init, xs), {"reverse": reverse})
    flat = [as_input(x) for x in _flatten(xs)] if xs is not None else []
    n = int(length) if length is not None else _shape(flat[0])[0]
    if any(_shape(x)[0] != n for x in flat):
        raise ValueError(f"scan: every array of xs needs {n} steps along its first axis. "
                         f"Received: lengths {[_shape(x)[0] for x in flat]}")
    carry, ys = init, []
    # a step that returns no y counts as zeros shaped like the first carry (Keras's rule)
    dummy = None
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = _pack(xs, [_op("getitem")(a, i) for a in flat]) if xs is not None else None
        carry, y = f(carry, x)
        if y is None and dummy is None:
            dummy = [_op("zeros_like")(as_input(c)) for c in _flatten(init)]
        ys.append(dummy if y is None else y)
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    return carry, _stack_leaves(ys)


def map(f: Callable, xs: Any) -> Any:  # noqa: A001 - Keras's name
    """``f`` applied to each slice of ``xs`` along the first axis, the results stacked.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.map(lambda x: x * 2.0, cr.Tensor([1.0, 2.0]))
        Tensor([2., 4.], dtype=float32)
    """
    _callable(f, "f", "map")
    if _unknown_length(_flatten(xs)):
        return _record("map", (f, xs), {})
    return scan(lambda c, x: (c, f(x)), (), xs)[1]


def vectorized_map(function: Callable, elements: Any) -> Any:
    """``function`` applied to each slice of ``elements`` along the first axis, stacked
    (with a list or tuple of tensors, ``function`` receives a list of their slices).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.vectorized_map(lambda x: cr.ops.sum(x), cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([3., 7.], dtype=float32)
    """
    _callable(function, "function", "vectorized_map")
    many = isinstance(elements, (list, tuple))
    if _unknown_length(list(elements) if many else [elements]):
        return _record("vectorized_map", (function, elements), {})
    take = _op("getitem")
    if many:
        els = [as_input(e) for e in elements]
        n = _shape(els[0])[0]
        ys = [function([take(e, i) for e in els]) for i in range(n)]
    else:
        e = as_input(elements)
        ys = [function(take(e, i)) for i in range(_shape(e)[0])]
    return _stack_leaves(ys)


def associative_scan(f: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """Inclusive scan with the associative ``f`` along ``axis``: ``out[i] = f(out[i-1],
    elems[i])`` (``f`` receives slices that keep the axis, with length 1).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.associative_scan(lambda a, b: a + b, cr.Tensor([1.0, 2.0, 3.0]))
        Tensor([1., 3., 6.], dtype=float32)
    """
    _callable(f, "f", "associative_scan")
    flat = [as_input(e) for e in _flatten(elems)]
    nd = len(_shape(flat[0]))
    if not -nd <= axis < nd:
        raise ValueError(f"associative_scan: axis out of range for inputs with {nd} dimensions. "
                         f"Received: axis={axis!r}")
    ax = axis % nd
    if _unknown_length(flat, ax):
        return _record("associative_scan", (f, elems), {"reverse": reverse, "axis": axis})
    n = _shape(flat[0])[ax]
    if any(_shape(e)[ax] != n for e in flat):
        raise ValueError("associative_scan: every input needs the same length along axis "
                         f"{axis}. Received: shapes {[_shape(e) for e in flat]}")
    lead = (builtins.slice(None),) * ax
    take = _op("getitem")

    def part(i: int) -> Any:
        return _pack(elems, [take(e, lead + (builtins.slice(i, i + 1),)) for e in flat])

    order = range(n - 1, -1, -1) if reverse else range(n)
    outs, acc = [], None
    for i in order:
        acc = part(i) if acc is None else f(acc, part(i))
        outs.append(_flatten(acc))
    if reverse:
        outs.reverse()
    if not outs:
        return elems
    return _pack(elems, [_op("concatenate")([o[k] for o in outs], axis=ax)
                         for k in range(len(outs[0]))])


def _shape(x: Any) -> tuple:
    """The shape of a Tensor, array or symbolic tensor."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(raw(x))


# the loops that a functional graph records as one op (over its unknown batch axis) run as
# these functions in the op layer (they are not wrapped for symbolic tensors themselves)
for _fn in (scan, map, vectorized_map, associative_scan):
    _symbolic.RAW_OPS[_fn.__name__] = _fn
del _fn

"""Array-building ops with Keras's signatures: ``pad``, ``repeat``, ``tile``.

Each is a Function with a hand-written backward: padding's gradient is the
central slice (plus, for the reflecting modes, the padded values added back to
the elements they copy); repeating's and tiling's gradients sum the copies.

Example:
    >>> import chainrule as cr
    >>> cr.ops.pad(cr.Tensor([[1.0, 2.0]]), ((0, 0), (1, 1)))
    Tensor([[0., 1., 2., 0.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error

__all__ = ["pad", "repeat", "tile"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "circular")


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


class Pad(Function):
    handed = False  # a convolution after this op pads its input itself (conv.Conv.absorb)

    def __init__(self, widths, mode, value):
        self.widths, self.mode, self.value = widths, mode, value

    def forward(self, x):
        self.shape = x.shape
        if self.handed:  # the convolution reading the output adds the zeros itself
            return x
        if self.mode == "constant":
            return np.pad(x, self.widths, mode="constant", constant_values=self.value)
        return np.pad(x, self.widths, mode=self.mode)

    def backward(self, gy):
        if self.handed:  # the convolution's input gradient is made at the unpadded size
            return (gy,)
        core = tuple(slice(b, b + n) for (b, _), n in zip(self.widths, self.shape))
        if self.mode == "constant":
            return (gy[core],)
        # undo one axis at a time: the centre, plus each padded slice added to its source
        g = gy
        for ax, ((b, a), n) in enumerate(zip(self.widths, self.shape)):
            if b == 0 and a == 0:
                continue
            src = np.pad(np.arange(n), (b, a), mode=self.mode)
            lead = (slice(None),) * ax
            out = g[lead + (slice(b, b + n),)].copy()
            pads = np.r_[0:b, b + n:b + n + a]
            np.add.at(out, lead + (src[pads],), g[lead + (pads,)])
            g = out
        return (g,)


class Repeat(Function):
    def __init__(self, repeats, axis):
        self.repeats, self.axis = repeats, axis

    def forward(self, x):
        self.shape = x.shape
        return np.repeat(x, self.repeats, axis=self.axis)

    def backward(self, gy):
        shape, axis, reps = self.shape, self.axis, self.repeats
        if axis is None:
            n, ax = int(np.prod(shape)), 0
        else:
            ax = axis % len(shape)
            n = shape[ax]
        if np.ndim(reps) == 0 or np.size(reps) == 1:
            r = int(np.reshape(reps, -1)[0]) if np.ndim(reps) else int(reps)
            lead = gy.shape[:ax] if axis is not None else ()
            g = gy.reshape(lead + (n, r) + (gy.shape[ax + 1:] if axis is not None else ()))
            g = g.sum(axis=len(lead) + 1)
        else:
            reps = np.asarray(reps)
            starts = np.concatenate(([0], np.cumsum(reps)[:-1]))
            g = np.zeros(gy.shape[:ax] + (n,) + gy.shape[ax + 1:], dtype=gy.dtype)
            keep = reps > 0
            if keep.any():
                summed = np.add.reduceat(gy, starts[keep], axis=ax)
                idx = (slice(None),) * ax + (np.nonzero(keep)[0],)
                g[idx] = summed
        return (g.reshape(shape),)


class Tile(Function):
    def __init__(self, repeats):
        self.repeats = repeats

    def forward(self, x):
        self.shape = x.shape
        return np.tile(x, self.repeats)

    def backward(self, gy):
        reps = tuple(self.repeats)
        nd = max(len(reps), len(self.shape))
        reps = (1,) * (nd - len(reps)) + reps
        xs = (1,) * (nd - len(self.shape)) + tuple(self.shape)
        split = []
        for r, n in zip(reps, xs):
            split += [r, n]
        g = gy.reshape(split).sum(axis=tuple(range(0, 2 * nd, 2)))
        return (g.reshape(self.shape),)


def _pad_widths(pad_width: Any, ndim: int) -> tuple:
    try:
        arr = np.asarray(pad_width)
        if arr.dtype.kind not in "iu" or arr.size == 0:
            raise ValueError
        widths = np.broadcast_to(arr, (ndim, 2)) if arr.ndim <= 2 else None
    except ValueError:
        widths = None
    if widths is None or (widths < 0).any():
        raise ValueError(
            "pad: pad_width must be non-negative integers: an int, (before, after), or one "
            f"(before, after) pair per axis of the input's {ndim}. Received: "
            f"pad_width={pad_width!r}")
    return tuple((int(b), int(a)) for b, a in widths)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """Pad a tensor (Keras's ``ops.pad``, NumPy's ``np.pad`` semantics).

    Args:
        x: input Tensor.
        pad_width: ``((before_1, after_1), ..., (before_N, after_N))``, one pair
            per axis; ``((before, after),)`` or ``(before, after)`` for every
            axis; ``int`` or ``(pad,)`` for ``before = after = pad`` everywhere.
        mode: ``"constant"`` (default), ``"edge"``, ``"reflect"``,
            ``"symmetric"``, ``"wrap"`` (``"circular"`` is its alias).
        constant_values: the value for ``mode="constant"`` (default 0).

    Returns:
        The padded Tensor; gradients flow back to ``x``.

    Raises:
        ValueError: for negative or malformed widths, an unknown mode, or
            ``constant_values`` with a mode other than ``"constant"``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.pad(cr.Tensor([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
        Tensor([3., 2., 1., 2., 3., 2.], dtype=float32)
    """
    if mode not in _PAD_MODES:
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(str(mode), _PAD_MODES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"pad: unknown mode {mode!r}.{hint} Known: {', '.join(_PAD_MODES)}. "
                         f"Received: mode={mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError("pad: constant_values only applies to mode='constant'. Received: "
                         f"mode={mode!r}, constant_values={constant_values!r}")
    shape = _shape(x)
    widths = _pad_widths(pad_width, len(shape))
    if mode in ("reflect", "symmetric", "wrap", "circular", "edge"):
        for (b, a), n in zip(widths, shape):
            if (b or a) and n == 0:
                raise shape_error(f"pad: mode {mode!r} cannot pad an empty axis. Received: x of "
                                  f"shape {shape}, pad_width={pad_width!r}")
    value = 0 if constant_values is None else constant_values
    if isinstance(value, Tensor):
        value = value.data
    return Pad(widths, "wrap" if mode == "circular" else mode, value)(x)


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Repeat each element of ``x`` (Keras's ``ops.repeat``, NumPy's ``np.repeat``).

    Args:
        x: input Tensor.
        repeats: an int, or one non-negative int per element along ``axis``.
        axis: the axis to repeat along; None repeats the flattened input.

    Returns:
        The Tensor with repeated elements; the gradient sums the copies.

    Raises:
        ValueError: for negative repeats, an axis out of range, or a list of
            repeats whose length is not the axis' size.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.repeat(cr.Tensor([[1.0, 2.0]]), 2, axis=1)
        Tensor([[1., 1., 2., 2.]], dtype=float32)
    """
    shape = _shape(x)
    if axis is not None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not (
                -len(shape) <= axis < len(shape)):
            raise ValueError(f"repeat: axis out of range for an input of shape {shape}. "
                             f"Received: axis={axis!r}")
        axis = int(axis)
    if isinstance(repeats, Tensor):
        repeats = repeats.data
    reps = np.asarray(repeats)
    n = int(np.prod(shape)) if axis is None else shape[axis]
    if reps.dtype.kind not in "iu" or reps.ndim > 1 or (reps < 0).any() or (
            reps.ndim == 1 and reps.size not in (1, n)):
        raise ValueError(
            "repeat: repeats must be a non-negative int or one per element along the axis "
            f"({n}). Received: repeats={repeats!r}")
    reps_cfg: Any = int(reps) if reps.ndim == 0 else tuple(int(r) for r in reps)
    return Repeat(reps_cfg, axis)(x)


def tile(x: Any, repeats: Sequence[int] | int) -> Tensor:
    """Repeat the whole of ``x`` ``repeats`` times along each axis (NumPy's ``np.tile``).

    Args:
        x: input Tensor.
        repeats: an int or one non-negative int per axis (fewer are
            completed with 1s on the left; more add leading axes to ``x``).

    Returns:
        The tiled Tensor; the gradient sums the tiles.

    Raises:
        ValueError: when ``repeats`` are not non-negative integers.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.tile(cr.Tensor([1.0, 2.0]), 2)
        Tensor([1., 2., 1., 2.], dtype=float32)
    """
    if isinstance(repeats, Tensor):
        repeats = repeats.data
    reps = np.asarray(repeats)
    if reps.dtype.kind not in "iu" or reps.ndim > 1 or (reps < 0).any():
        raise ValueError("tile: repeats must be a non-negative int or a list of them. "
                         f"Received: repeats={repeats!r}")
    return Tile(tuple(int(r) for r in reps.reshape(-1)))(x)

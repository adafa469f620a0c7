"""Keras 3's function-level ops: ``rearrange`` (einops patterns), ``vectorize``,
``custom_gradient``, and ``view_as_complex``/``view_as_real``.

``rearrange`` is a reshape, a transpose and a reshape; ``vectorize`` calls the
function on slices and stacks the results (so gradients flow through it);
``custom_gradient`` makes one Function of a Python function and the gradient
function it returns.

Example:
    >>> import chainrule as cr
    >>> cr.ops.rearrange(cr.ops.zeros((2, 6, 4)), "b (h w) c -> b h w c", h=2).shape
    (2, 2, 3, 4)
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from typing import Any, Callable

import numpy as np

from chainrule.autograd import engine
from chainrule.autograd.engine import Function, Tensor, no_grad
from chainrule.ops.core import as_input, raw
from chainrule.ops.shaping import getitem, reshape, stack, transpose

__all__ = ["rearrange", "vectorize", "custom_gradient", "view_as_complex", "view_as_real"]

_TOKEN = re.compile(r"\(([^()]*)\)|([A-Za-z_]\w*)|(\S)")


def _groups(side: str, pattern: str) -> list:
    groups = []
    for m in _TOKEN.finditer(side):
        if m.group(1) is not None:
            names = m.group(1).split()
            bad = [n for n in names if not re.fullmatch(r"[A-Za-z_]\w*", n)]
            if bad or not names:
                raise ValueError(f"rearrange: a group must hold axis names. Received: "
                                 f"pattern={pattern!r}")
            groups.append(names)
        elif m.group(2) is not None:
            groups.append([m.group(2)])
        else:
            raise ValueError(f"rearrange: unexpected {m.group(3)!r} in the pattern (axis names "
                             f"and parenthesized groups only). Received: pattern={pattern!r}")
    return groups


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Tensor:
    """Reorder, merge and split axes by an einops pattern (``"b h w c -> b (h w) c"``).

    Args:
        tensor: input.
        pattern: ``"<input axes> -> <output axes>"``; parentheses group axes that are merged
            (output) or split (input).
        **axes_lengths: the sizes of split axes (one per group may be inferred).

    Raises:
        ValueError: for a malformed pattern, axes that do not match the two sides or the
            input's rank, or sizes that do not divide.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.rearrange(cr.ops.zeros((2, 3, 4)), "b h w -> b (w h)").shape
        (2, 12)
    """
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(f"rearrange: pattern must read '<input axes> -> <output axes>'. "
                         f"Received: pattern={pattern!r}")
    left, right = (_groups(side, pattern) for side in pattern.split("->"))
    x = as_input(tensor)
    shape = np.shape(raw(x))
    names_in = [n for g in left for n in g]
    names_out = [n for g in right for n in g]
    if len(left) != len(shape):
        raise ValueError(f"rearrange: the pattern names {len(left)} input axes. Received: a "
                         f"tensor of shape {shape} for pattern={pattern!r}")
    if sorted(names_in) != sorted(names_out) or len(set(names_in)) != len(names_in):
        raise ValueError(f"rearrange: both sides must name the same axes, each once. "
                         f"Received: pattern={pattern!r}")
    sizes = {k: int(v) for k, v in axes_lengths.items()}
    for group, dim in zip(left, shape):
        unknown = [n for n in group if n not in sizes]
        known = math.prod(sizes[n] for n in group if n in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the sizes of all but one axis of {group}. "
                             f"Received: axes_lengths={axes_lengths!r}")
        if unknown:
            if known == 0 or dim % known:
                raise ValueError(f"rearrange: the axis of size {dim} cannot be split as "
                                 f"{group}. Received: axes_lengths={axes_lengths!r}")
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange: the axis of size {dim} is not {group} of sizes "
                             f"{[sizes[n] for n in group]}. Received: "
                             f"axes_lengths={axes_lengths!r}")
    split = [sizes[n] for n in names_in]
    if tuple(split) != shape:
        x = reshape(x, split)
    order = [names_in.index(n) for n in names_out]
    if order != list(range(len(order))):
        x = transpose(x, order)
    out = [math.prod(sizes[n] for n in g) for g in right]
    return reshape(x, out) if tuple(out) != np.shape(raw(x)) else x


def _parse_signature(signature: str) -> tuple:
    m = re.fullmatch(r"\s*(.*?)\s*->\s*(.*?)\s*", signature)
    if not m:
        raise ValueError(f"vectorize: signature must read '(i),(j)->(k)'. "
                         f"Received: signature={signature!r}")

    def dims(part: str) -> list:
        return [tuple(d.strip() for d in g.split(",") if d.strip())
                for g in re.findall(r"\(([^()]*)\)", part)]

    return dims(m.group(1)), dims(m.group(2))


def vectorize(pyfunc: Callable, *, excluded: Any = None, signature: str | None = None
              ) -> Callable:
    """``pyfunc`` made to loop over the leading (broadcast) axes of its tensor arguments,
    as NumPy's ``vectorize``; each call's result is stacked back (gradients flow through).

    Args:
        pyfunc: a function of tensors.
        excluded: positions or names of arguments passed as they are.
        signature: core dimensions, e.g. ``"(n),(n)->()"``; without it every element is a
            separate call.

    Returns:
        The vectorized function.

    Example:
        >>> import chainrule as cr
        >>> dot = cr.ops.vectorize(lambda a, b: cr.ops.sum(a * b), signature="(n),(n)->()")
        >>> dot(cr.ops.ones((3, 4)), cr.ops.ones((4,)))
        Tensor([4., 4., 4.], dtype=float32)
    """
    if not callable(pyfunc):
        raise TypeError(f"vectorize: pyfunc must be callable. Received: pyfunc={pyfunc!r}")
    skip = set(excluded or ())
    # the output core dimensions follow from the results; the input ones choose the loops
    ins = _parse_signature(signature)[0] if signature is not None else None

    @functools.wraps(pyfunc)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pos = [i for i in range(len(args)) if i not in skip]
        names = [k for k in kwargs if k not in skip]
        vals = [as_input(args[i]) for i in pos] + [as_input(kwargs[k]) for k in names]
        core = ins if ins is not None else [()] * len(vals)
        if len(core) != len(vals):
            raise ValueError(f"vectorize: the signature has {len(core)} inputs. Received: "
                             f"{len(vals)} vectorized arguments")
        shapes = [np.shape(raw(v)) for v in vals]
        loops = [s[:len(s) - len(c)] for s, c in zip(shapes, core)]
        try:
            batch = np.broadcast_shapes(*loops)
        except ValueError:
            raise ValueError(f"vectorize: the loop dimensions {loops} do not broadcast. "
                             f"Received: shapes {shapes}") from None
        results = []
        for index in itertools.product(*[range(n) for n in batch]):
            picked = []
            for v, lp in zip(vals, loops):
                sub = tuple(0 if n == 1 else i for i, n in zip(index[len(index) - len(lp):], lp))
                picked.append(getitem(v, sub) if sub else v)
            a, kw = list(args), dict(kwargs)
            for j, i in enumerate(pos):
                a[i] = picked[j]
            for j, k in enumerate(names):
                kw[k] = picked[len(pos) + j]
            results.append(pyfunc(*a, **kw))
        if not batch:
            return pyfunc(*args, **kwargs)
        many = isinstance(results[0], (tuple, list))
        cols = list(zip(*results)) if many else [results]
        stacked = [reshape(stack([as_input(c) for c in col]),
                           batch + np.shape(raw(as_input(col[0])))) for col in cols]
        return tuple(stacked) if many else stacked[0]

    return wrapped


class _Quiet:
    """No recording while a custom gradient's own ops run (they are one op of the step)."""

    def __enter__(self) -> None:
        self.saved, engine._recorder = engine._recorder, None
        self.grad = no_grad()
        self.grad.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.grad.__exit__(*exc)
        engine._recorder = self.saved


class CustomGradient(Function):
    """The forward of a user function and the backward of the gradient function it returns."""

    def __init__(self, fn, slots, args, kwargs):
        self.fn, self.slots, self.args, self.kwargs = fn, slots, args, kwargs

    def forward(self, *xs):
        args = list(self.args)
        for slot, x in zip(self.slots, xs):
            args[slot] = Tensor(x)
        with _Quiet():
            out, self.grad_fn = self.fn(*args, **self.kwargs)
        return raw(as_input(out))

    def backward(self, gy):
        with _Quiet():
            grads = self.grad_fn(Tensor(gy))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(self.slots):
            raise ValueError(f"custom_gradient: the gradient function returned {len(grads)} "
                             f"gradients for {len(self.slots)} tensor inputs. Received: "
                             f"{len(grads)} gradients")
        return tuple(None if g is None else np.asarray(raw(as_input(g))) for g in grads)


def custom_gradient(f: Callable) -> Callable:
    """Decorate ``f(*args) -> (output, grad_fn)`` so its gradient is ``grad_fn(upstream)``
    (one gradient per tensor argument), as Keras's ``ops.custom_gradient``.

    ``f`` and ``grad_fn`` are called with Tensors; their own ops are not taped
    (the decorated call is one op, replayed as such in a captured step).

    Example:
        >>> import chainrule as cr
        >>> @cr.ops.custom_gradient
        ... def clip_grad(x):
        ...     return x * 1.0, lambda up: cr.ops.clip(up, -0.5, 0.5)
        >>> x = cr.Tensor([1.0], requires_grad=True)
        >>> cr.ops.sum(clip_grad(x) * 3.0).backward(); x.grad
        array([0.5], dtype=float32)
    """
    if not callable(f):
        raise TypeError(f"custom_gradient: f must be callable. Received: f={f!r}")

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Tensor:
        slots = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor) or
                      hasattr(a, "dtype") and hasattr(a, "shape"))
        fixed = tuple(None if i in slots else a for i, a in enumerate(args))
        return CustomGradient(f, slots, fixed, kwargs)(*[args[i] for i in slots])

    return wrapped


def _as_complex(x):
    return np.ascontiguousarray(x).view(np.complex128 if x.dtype == np.float64
                                        else np.complex64)[..., 0]


def view_as_complex(x: Any) -> Tensor:
    """Pairs of reals ``(..., 2)`` read as complex numbers ``(...)``. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.view_as_complex(cr.Tensor([[1.0, 2.0]]))
        Tensor([1.+2.j], dtype=complex64)
    """
    x = as_input(x)
    s = np.shape(raw(x))
    if not s or s[-1] != 2 or raw(x).dtype not in (np.float32, np.float64):
        raise ValueError(f"view_as_complex: x must be float32/float64 with a last axis of 2. "
                         f"Received: x of shape {s} and dtype {raw(x).dtype}")
    from chainrule.ops.numpy_extra import NoGrad  # noqa: PLC0415

    return NoGrad(_as_complex)(x)


def _as_real(x):
    return np.stack([x.real, x.imag], axis=-1)


def view_as_real(x: Any) -> Tensor:
    """Complex numbers ``(...)`` as pairs of reals ``(..., 2)``. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.view_as_real(np.array([1 + 2j]))
        Tensor([[1., 2.]], dtype=float64)
    """
    from chainrule.ops.numpy_extra import NoGrad  # noqa: PLC0415

    x = as_input(x)
    if raw(x).dtype.kind != "c":
        raise ValueError(f"view_as_real: x must be complex. Received: x of dtype "
                         f"{raw(x).dtype}")
    return NoGrad(_as_real)(x)

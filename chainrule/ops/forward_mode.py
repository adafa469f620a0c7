"""``jvp``: Keras 3's forward-mode Jacobian-vector product (``keras.ops.jvp``).

chainrule differentiates in reverse mode. ``jvp`` gets the exact product
``J(primals) @ tangents`` from reverse passes: one backward pass per element of
``fun``'s output, each giving one row of the Jacobian (``e_k^T J``) whose dot
product with the tangents is the output tangent's element ``k``. The result is
the analytic derivative (no finite differences); the cost grows with the output's
size, so it suits small outputs (a loss, a few features).

Example:
    >>> import chainrule as cr
    >>> out, tangent = cr.ops.jvp(cr.ops.sin, (cr.ops.convert_to_tensor(0.1),),
    ...                           (cr.ops.convert_to_tensor(0.2),))
    >>> round(float(out.numpy()), 6), round(float(tangent.numpy()), 6)
    (0.099833, 0.199001)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from chainrule import backend, tree
from chainrule.autograd.engine import Tensor, enable_grad
from chainrule.ops.symbolic import any_symbolic

__all__ = ["jvp"]


def _leaf_array(x: Any, what: str) -> Any:
    arr = x.data if isinstance(x, Tensor) else x
    try:
        return backend.as_array(arr)
    except (TypeError, ValueError):
        raise TypeError(f"jvp: every leaf of `{what}` must be an array, a tensor or a number. "
                        f"Received: {what} leaf {x!r:.80}") from None


def jvp(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> tuple:
    """The value of ``fun(*primals)`` and its Jacobian-vector product with ``tangents``.

    Args:
        fun: a function of tensors computed with ``chainrule.ops`` (or tensor
            operators). Its arguments and result may be nested lists, tuples
            and dicts of tensors.
        primals: a tuple or list of ``fun``'s positional arguments.
        tangents: the direction, with the structure and shapes of ``primals``
            (cast to each primal's dtype).
        has_aux: when True, ``fun`` returns ``(output, aux)`` and ``aux`` is
            returned as it is, not differentiated.

    Returns:
        ``(primals_out, tangents_out)``, or ``(primals_out, tangents_out, aux)``
        with ``has_aux``. ``tangents_out`` has the structure and shapes of
        ``primals_out``. An integer or boolean primal is a constant (its
        tangent contributes nothing), as is an output that depends on no primal.

    Raises:
        TypeError: when ``fun`` is not callable, ``primals``/``tangents`` are
            not tuples or lists, or ``fun`` returns something other than tensors.
        ValueError: when ``tangents`` differs from ``primals`` in structure or
            in a shape, or they hold ``KerasTensor``s (chainrule has no symbolic
            ``jvp``).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> def f(x, y):
        ...     return x * y, cr.ops.sum(x ** 2)
        >>> (p, s), (tp, ts) = cr.ops.jvp(f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])),
        ...                              (np.array([1.0, 0.0]), np.array([0.0, 1.0])))
        >>> tp.numpy().tolist(), float(ts.numpy())
        ([3.0, 2.0], 2.0)
    """
    if not callable(fun):
        raise TypeError(f"jvp: argument `fun` must be callable. Received: fun={fun!r:.80}")
    for what, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"jvp: argument `{what}` must be a tuple or a list of fun's "
                            f"arguments. Received: {what} of type {type(value).__name__}")
    if any_symbolic([list(primals), list(tangents)]):
        raise ValueError("jvp: chainrule computes it on values, not on the KerasTensors of a "
                         "functional model; call it inside a layer's call (on real tensors). "
                         "Received: symbolic primals or tangents")
    try:
        tree.assert_same_structure(list(primals), list(tangents))
    except (ValueError, TypeError):
        raise ValueError("jvp: `tangents` must have the structure of `primals`. Received: "
                         f"primals {_describe(primals)} and tangents "
                         f"{_describe(tangents)}") from None
    flat_p = [_leaf_array(p, "primals") for p in tree.flatten(list(primals))]
    flat_t = [_leaf_array(t, "tangents") for t in tree.flatten(list(tangents))]
    leaves, dirs = [], []
    for i, (p, t) in enumerate(zip(flat_p, flat_t)):
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: tangent {i} must have the shape of its primal "
                             f"{tuple(p.shape)}. Received: tangent of shape {tuple(t.shape)}")
        differentiable = np.dtype(p.dtype).kind == "f"
        leaves.append(Tensor(p, requires_grad=differentiable))
        dirs.append(t.astype(p.dtype, copy=False) if differentiable else None)
    args = tree.pack_sequence_as(list(primals), leaves)
    with enable_grad():
        result = fun(*args)
    aux = None
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError("jvp: with has_aux=True, `fun` must return a pair (output, aux). "
                            f"Received: {type(result).__name__} result")
        result, aux = result
    outs = tree.flatten(result)
    tangents_out = []
    for j, out in enumerate(outs):
        if not isinstance(out, Tensor):
            try:
                out = Tensor(backend.as_array(out))
            except (TypeError, ValueError):
                raise TypeError("jvp: `fun` must return tensors, arrays or numbers (nested in "
                                f"lists, tuples or dicts). Received: output {j} of type "
                                f"{type(out).__name__}") from None
        tangents_out.append(Tensor(_jvp_of(out, leaves, dirs)))
    tangents_out = tree.pack_sequence_as(result, tangents_out)
    return (result, tangents_out, aux) if has_aux else (result, tangents_out)


def _describe(x: Any) -> str:
    return f"{type(x).__name__} of {len(tree.flatten(list(x)))} leaves"


def _jvp_of(out: Tensor, leaves: list, dirs: list) -> Any:
    """``J @ t`` for one output: row k of the Jacobian from one backward pass of ``e_k``."""
    xp = backend.xp
    size = int(np.prod(out.shape, dtype=np.int64))
    flat = np.zeros(size, dtype=out.data.dtype if out.data.dtype.kind == "f" else
                    np.dtype(backend.floatx()))
    if not out.requires_grad or size == 0:
        return xp.asarray(flat.reshape(out.shape))
    basis = xp.zeros(out.data.shape, dtype=out.data.dtype)
    flat_basis = basis.reshape(-1)
    for k in range(size):
        for leaf in leaves:
            leaf.grad = None
        flat_basis[k] = 1
        out.backward(basis)
        flat_basis[k] = 0
        total = 0.0
        for leaf, t in zip(leaves, dirs):
            if t is not None and leaf.grad is not None:
                total += float(backend.to_numpy((leaf.grad * t).sum()))
        flat[k] = total
    return xp.asarray(flat.reshape(out.shape))

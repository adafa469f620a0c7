"""Ops called on symbolic tensors record a node of the functional graph.

Keras 3 lets any ``keras.ops`` function (and the operators ``+``, ``*``,
``[...]``, ``@`` ...) take the ``KerasTensor``s of ``keras.Input`` while a
functional model is built. chainrule does the same once for every op:
:func:`symbolic_dispatch` wraps each public op so that a call with a
``KerasTensor`` among its arguments (nested in lists/tuples too) becomes a call
of an :class:`~chainrule.layers.OpLayer`, which runs the real op on real tensors
when the model runs.

Example:
    >>> import chainrule as cr
    >>> from chainrule import ops
    >>> x = cr.layers.Input((8,))
    >>> y = ops.mean(ops.square(x), axis=-1, keepdims=True)
    >>> y.shape, y.node.layer.function
    ((None, 1), 'mean')
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

__all__ = ["symbolic_dispatch", "install", "wrap", "raw_op", "any_symbolic", "use_graph",
           "RAW_OPS", "NOT_RECORDED", "VALUE_SHAPED"]

#: The undecorated op functions by public name (what an op layer runs).
RAW_OPS: dict[str, Callable] = {}

#: Ops that answer for a KerasTensor directly (its static shape) or make no sense on one.
NOT_RECORDED = frozenset({"shape", "ndim", "size", "is_tensor", "convert_to_numpy",
                          "assign_moving_average", "dtype",
                          # control flow runs its Python on the symbolic tensors: the ops of
                          # the functions it calls record their own nodes
                          "cond", "switch", "fori_loop", "while_loop", "scan", "map",
                          "vectorized_map", "associative_scan", "vectorize",
                          "custom_gradient"})

#: Ops whose output's shape depends on the input's values (not only on its shape), each with
#: the argument that fixes the shape when given (None: nothing does). A functional graph
#: cannot hold them: the op layer would guess its output's shape from a dummy input.
VALUE_SHAPED: dict[str, str | None] = {
    "unique": "size", "nonzero": None, "bincount": None,
    "segment_sum": "num_segments", "segment_max": "num_segments",
    "segment_min": "num_segments", "segment_prod": "num_segments"}

# The functional graph's symbolic tensor class and the function that records an op call on
# them: handed over by chainrule.layers when it is imported (see use_graph), so that the ops
# do not import the layers built on top of them.
_graph: dict = {"tensor": None, "record": None}


def use_graph(tensor_type: type, record: Callable) -> None:
    """Make ``record(name, args, kwargs)`` the answer to an op called on a ``tensor_type``.

    ``chainrule.layers`` calls this once, at its import: ``KerasTensor`` is the
    symbolic tensor of ``Input``, and ``OpLayer.record`` adds the op's node to
    the graph being built.

    Args:
        tensor_type: the symbolic tensor class.
        record: called with the op's public name, positional and keyword arguments.

    Example:
        >>> import chainrule as cr
        >>> _graph["tensor"] is cr.layers.KerasTensor
        True
    """
    _graph["tensor"], _graph["record"] = tensor_type, record


def any_symbolic(values: Any) -> bool:
    """Whether a ``KerasTensor`` is among ``values`` (searched in lists and tuples).

    Example:
        >>> import chainrule as cr
        >>> any_symbolic([1.0, (cr.layers.Input((2,)),)])
        True
    """
    kt = _graph["tensor"]
    if kt is None:  # no functional graph can exist before the layers are imported
        return False
    for v in values:
        if isinstance(v, kt):
            return True
        if isinstance(v, (list, tuple)) and any_symbolic(v):
            return True
    return False


def symbolic_dispatch(fn: Callable, name: str) -> Callable:
    """Wrap the op ``fn`` (public name ``name``) so KerasTensor arguments record an op layer.

    Args:
        fn: the op function, called as is on anything else.
        name: its name in :mod:`chainrule.ops` (saved in the op layer's config).

    Returns:
        The wrapped function (same name, docstring and signature).

    Example:
        >>> import chainrule as cr
        >>> double = symbolic_dispatch(lambda x: x * 2, "double")
        >>> double(cr.Tensor([1.0])).numpy()
        array([2.], dtype=float32)
    """
    RAW_OPS[name] = fn

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if any_symbolic(args) or any_symbolic(kwargs.values()):
            if name in VALUE_SHAPED:
                _refuse_value_shaped(fn, name, args, kwargs)
            return _graph["record"](name, args, kwargs)
        return fn(*args, **kwargs)

    op.__wrapped_op__ = fn  # type: ignore[attr-defined]
    return op


def _refuse_value_shaped(fn: Callable, name: str, args: tuple, kwargs: dict) -> None:
    """Refuse ``name`` on a symbolic tensor unless an argument fixes its output's shape."""
    fixer = VALUE_SHAPED[name]
    if fixer is not None:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
        if bound.get(fixer) is not None:
            return
        hint = f" Pass {fixer}= (a fixed output size) or call it on arrays, outside the model."
    else:
        hint = " Call it on arrays, outside the model."
    raise ValueError(f"ops.{name} cannot be called on a symbolic tensor of a functional model: "
                     "its output's shape depends on the input's values, not only on its "
                     f"shape.{hint} Received: a KerasTensor argument")


def install(namespace: dict, names: list, prefix: str = "") -> None:
    """Wrap every public op function of ``namespace`` (the ``chainrule.ops`` module, or one of
    its namespaces such as ``ops.image``, whose ops are recorded as ``prefix + name``).

    Example:
        >>> ns = {"twice": lambda x: 2 * x}
        >>> install(ns, ["twice"])
        >>> ns["twice"](3), "twice" in RAW_OPS
        (6, True)
    """
    for name in names:
        if name in namespace:
            namespace[name] = wrap(name, namespace[name], prefix)


_WRAPPED: dict[tuple[str, int], Callable] = {}  # aliases (``absolute = abs``) stay one function


def wrap(name: str, fn: Any, prefix: str = "") -> Any:
    """``fn`` as the op ``prefix + name`` of a namespace: wrapped by :func:`symbolic_dispatch`
    (one wrapper per function, whatever its aliases), or ``fn`` itself when it is not a
    recordable op (a class, a constant, an op that is never recorded, a wrapper already).

    Example:
        >>> def thrice(x):
        ...     return 3 * x
        >>> op = wrap("thrice", thrice)
        >>> op(2), wrap("three_times", thrice) is op, RAW_OPS["three_times"] is thrice
        (6, True, True)
    """
    if not callable(fn) or isinstance(fn, type) or name in NOT_RECORDED \
            or hasattr(fn, "__wrapped_op__"):
        return fn
    key = (prefix, id(fn))
    if key in _WRAPPED:
        RAW_OPS[prefix + name] = fn
    else:
        _WRAPPED[key] = symbolic_dispatch(fn, prefix + name)
    return _WRAPPED[key]


def raw_op(name: str) -> Callable | None:
    """The undecorated op recorded as ``name`` (``"mean"``, ``"image.resize"``), loading
    its module first if ``chainrule.ops`` has not yet (see ``chainrule._lazy``); None for a
    name that is no op of chainrule.ops.

    Example:
        >>> raw_op("mean").__name__, raw_op("no_such_op")
        ('mean', None)
    """
    if name not in RAW_OPS and isinstance(name, str):
        from chainrule import ops  # noqa: PLC0415  (the package that loads its ops)

        namespace, _, short = name.rpartition(".")
        if namespace in ("", "image"):
            getattr(ops.image if namespace else ops, short, None)
    return RAW_OPS.get(name)

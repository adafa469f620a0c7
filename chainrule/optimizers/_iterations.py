"""``optimizer.iterations``: the step count as a Variable (int64, not trainable), as in Keras 3.

The count is a number a program reads, compares and logs, never something a
gradient flows through, so arithmetic and comparisons on it give NumPy scalars
(``np.int64``, ``np.bool_``) rather than Tensors: ``if opt.iterations % 100 == 0``
and ``assert opt.iterations == 3`` work as they do with Keras's eager tensors.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.engine import Tensor
from chainrule.variables import Variable

__all__ = ["IterationsVariable"]


def _plain(other: Any) -> Any:
    """A Tensor's array (so the result is a NumPy value); anything else as it is."""
    return other.data if isinstance(other, Tensor) else other


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[..., Any]:
    def method(self: IterationsVariable, other: Any) -> Any:
        value = self.data[()]
        return op(_plain(other), value) if reflected else op(value, _plain(other))

    method.__name__ = f"__{'r' if reflected else ''}{op.__name__.strip('_')}__"
    return method


class IterationsVariable(Variable):
    """The optimizer's step count: a 0-d int64 Variable, not trainable (Keras's ``iteration``).

    ``numpy()``, ``int(...)``, ``assign``/``assign_add`` work as on any
    Variable; arithmetic and comparisons give NumPy scalars.

    Args:
        value: the initial count.
        name: the variable's name (Keras: ``"iteration"``).
        path: where it lives, e.g. ``"adam/iteration"``.

    Example:
        >>> it = IterationsVariable(3, path="adam/iteration")
        >>> int(it), it.numpy(), it.dtype, bool(it + 1 == 4), bool(it % 2 == 1)
        (3, array(3), dtype('int64'), True, True)
        >>> it
        <Variable path=adam/iteration, shape=(), dtype=int64, value=3>
    """

    __slots__ = ()

    def __init__(self, value: Any = 0, name: str = "iteration", path: str | None = None) -> None:
        super().__init__(np.asarray(value, dtype=np.int64), dtype="int64", trainable=False,
                         aggregation="only_first_replica", name=name)
        self.path = path or name

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape=(), dtype=int64, "
                f"value={self.data.item()}>")

    def __int__(self) -> int:
        return self.data.item()

    __index__ = __int__

    def __float__(self) -> float:
        return float(self.data.item())

    def __format__(self, spec: str) -> str:
        return format(self.data.item(), spec)

    def __bool__(self) -> bool:
        raise TypeError("A Variable cannot be used as a boolean; compare it, e.g. "
                        "`optimizer.iterations > 0`. Received: the iteration count")

    __hash__ = Variable.__hash__  # defining __eq__ below would drop it

    __eq__ = _binary(operator.eq)  # type: ignore[assignment]
    __ne__ = _binary(operator.ne)  # type: ignore[assignment]
    __lt__ = _binary(operator.lt)  # type: ignore[assignment]
    __le__ = _binary(operator.le)  # type: ignore[assignment]
    __gt__ = _binary(operator.gt)  # type: ignore[assignment]
    __ge__ = _binary(operator.ge)  # type: ignore[assignment]
    __add__ = _binary(operator.add)  # type: ignore[assignment]
    __radd__ = _binary(operator.add, True)  # type: ignore[assignment]
    __sub__ = _binary(operator.sub)  # type: ignore[assignment]
    __rsub__ = _binary(operator.sub, True)  # type: ignore[assignment]
    __mul__ = _binary(operator.mul)  # type: ignore[assignment]
    __rmul__ = _binary(operator.mul, True)  # type: ignore[assignment]
    __truediv__ = _binary(operator.truediv)  # type: ignore[assignment]
    __rtruediv__ = _binary(operator.truediv, True)  # type: ignore[assignment]
    __floordiv__ = _binary(operator.floordiv)
    __rfloordiv__ = _binary(operator.floordiv, True)
    __mod__ = _binary(operator.mod)
    __rmod__ = _binary(operator.mod, True)
    __pow__ = _binary(operator.pow)  # type: ignore[assignment]
    __rpow__ = _binary(operator.pow, True)  # type: ignore[assignment]

    def __neg__(self) -> Any:  # type: ignore[override]
        return -self.data[()]

    def __pos__(self) -> Any:  # type: ignore[override]
        return self.data[()]

    def __abs__(self) -> Any:  # type: ignore[override]
        return abs(self.data[()])

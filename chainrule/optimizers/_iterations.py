"""An optimizer's own Variables, as in Keras 3: ``iterations`` and ``learning_rate``.

The step count (int64) and the learning rate (floatx) are numbers a program
reads, compares, logs and assigns, never something a gradient flows through, so
arithmetic and comparisons on them give NumPy scalars or Python numbers rather
than Tensors: ``if opt.iterations % 100 == 0``, ``assert opt.iterations == 3`` and
``opt.learning_rate.assign(opt.learning_rate * 0.5)`` work as with Keras's eager
tensors.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Tensor
from chainrule.variables import Variable

__all__ = ["IterationsVariable", "LearningRateVariable"]


def _plain(other: Any) -> Any:
    """A Tensor's array (so the result is a NumPy value), an optimizer Variable's number;
    anything else as it is."""
    if isinstance(other, _ScalarOperators):
        return other._number()
    return other.data if isinstance(other, Tensor) else other


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[..., Any]:
    def method(self: _ScalarOperators, other: Any) -> Any:
        value = self._number()
        return op(_plain(other), value) if reflected else op(value, _plain(other))

    method.__name__ = f"__{'r' if reflected else ''}{op.__name__.strip('_')}__"
    return method


class _ScalarOperators(Variable):
    """Arithmetic and comparisons of a 0-d optimizer Variable on its number (``_number``)."""

    __slots__ = ()

    def _number(self) -> Any:
        raise NotImplementedError

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
        return -self._number()

    def __pos__(self) -> Any:  # type: ignore[override]
        return self._number()

    def __abs__(self) -> Any:  # type: ignore[override]
        return abs(self._number())

    def __format__(self, spec: str) -> str:
        return format(self._number(), spec)


class IterationsVariable(_ScalarOperators):
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

    def _number(self) -> Any:
        return self.data[()]

    def __int__(self) -> int:
        return self.data.item()

    __index__ = __int__

    def __float__(self) -> float:
        return float(self.data.item())

    def __bool__(self) -> bool:
        raise TypeError("A Variable cannot be used as a boolean; compare it, e.g. "
                        "`optimizer.iterations > 0`. Received: the iteration count")



class LearningRateVariable(_ScalarOperators):
    """The optimizer's learning rate as Keras 3's ``learning_rate`` Variable.

    A 0-d Variable of floatx, not trainable. Its value is the rate of the next
    step (with a schedule, the schedule at ``iterations``). ``assign`` (and
    ``assign_add``/``assign_sub``) set the optimizer's rate, as setting
    ``optimizer.learning_rate`` does (refused, with a TypeError, for a
    schedule). ``float(...)`` gives the rate exactly as it was set; arithmetic
    and comparisons use that float.

    Args:
        optimizer: the optimizer whose rate this is.
        path: where it lives, e.g. ``"adam/learning_rate"``.

    Example:
        >>> import chainrule as cr
        >>> opt = cr.optimizers.Adam(0.01)
        >>> lr = opt.learning_rate
        >>> lr.assign(lr * 0.5); float(opt.learning_rate), lr.numpy().dtype
        (0.005, dtype('float32'))
        >>> opt.learning_rate
        <Variable path=adam/learning_rate, shape=(), dtype=float32, value=0.005>
    """

    __slots__ = ("_optimizer",)

    def __init__(self, optimizer: Any, path: str) -> None:
        super().__init__(np.asarray(0.0), dtype=backend.floatx(), trainable=False,
                         aggregation="only_first_replica", name="learning_rate")
        self.path = path
        self._optimizer = optimizer

    def refresh(self) -> LearningRateVariable:
        """Write the optimizer's current rate into the array (returns self)."""
        self.data[()] = self._optimizer._current_learning_rate()
        return self

    @property
    def value(self) -> Any:
        """The current rate as a 0-d array of the variable's dtype."""
        return self.refresh().data

    def numpy(self) -> np.ndarray:
        """A copy of the current rate (a 0-d array)."""
        return np.array(self.refresh().data, copy=True)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.refresh().data
        return np.array(arr, dtype=dtype) if dtype is not None else np.array(arr)

    def assign(self, value: Any) -> None:
        """Set the optimizer's learning rate to ``value`` (a positive number)."""
        self._optimizer.learning_rate = _rate_of(value)
        self.refresh()

    def assign_add(self, value: Any) -> None:
        """Add ``value`` to the learning rate."""
        self.assign(float(self) + _rate_of(value))

    def assign_sub(self, value: Any) -> None:
        """Subtract ``value`` from the learning rate."""
        self.assign(float(self) - _rate_of(value))

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape=(), dtype={self.data.dtype}, "
                f"value={float(self):g}>")

    def _number(self) -> float:
        return float(self._optimizer._current_learning_rate())

    def __float__(self) -> float:
        return self._number()


    def __round__(self, ndigits: int | None = None) -> Any:
        return round(float(self), ndigits)

    def __bool__(self) -> bool:
        return float(self) != 0.0



def _rate_of(value: Any) -> Any:
    """A number given to the learning rate (a Tensor, array or Variable: its number)."""
    value = _plain(value)
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    return value

"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["SGD"]

#: Plain SGD (no momentum) updates arrays smaller than this with NumPy: its two passes over
#: them take less time than the call of the fused kernel (measured: 13 weights, 1.0 µs
#: against 2.4 µs).
_KERNEL_MIN_SIZE = 4096


class SGD(Optimizer):
    """Gradient descent, with optional momentum (Keras 3's ``SGD``).

    Without momentum: ``w -= lr * g``. With momentum (Keras's form, which keeps
    the learning rate inside the velocity)::

        velocity = momentum * velocity - lr * g
        w += velocity                                # nesterov=False
        w += momentum * velocity - lr * g            # nesterov=True

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.01.
        momentum: float in [0, 1]; 0 is plain gradient descent. Defaults to 0.0.
        nesterov: use Nesterov momentum. Defaults to False.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
            ``name``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0]), "w")
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     _ = opt.apply_gradients([(np.array([1.0]), w)])
        >>> w.data  # 1 - 0.1 - (0.9 * 0.1 + 0.1)
        array([0.71])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )
        self.momentum = _checks.real(
            "momentum", momentum, "a float in [0, 1]", lambda v: 0 <= v <= 1
        )
        self.nesterov = _checks.boolean("nesterov", nesterov)

    def _begin_step(self, lr: float) -> None:
        self._momentum_k = self._const(self.momentum)
        self._kernel = self._kernel_for("sgd")  # the fused update (Numba), when available

    def _slot_specs(self) -> list[tuple[str, float]]:
        # Like Keras, plain SGD keeps no state.
        return [("momentum", 0.0)] if self.momentum != 0 else []

    def _scratch_free(self, size: int) -> bool:
        # the kernel does the whole update (a subclass's own update_step may not)
        return type(self).update_step is SGD.update_step and self._kernel is not None and (self.momentum != 0 or size >= _KERNEL_MIN_SIZE)

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        # plain SGD on a small array: NumPy's two passes cost less than a kernel call
        # (the same numbers either way)
        if self._kernel is not None and (slots or data.size >= _KERNEL_MIN_SIZE):
            flat = self._flat(grad, data, *slots)
            if flat is not None:
                m = flat[2] if slots else flat[1]  # never read without momentum
                f = self._ftype
                self._kernel(flat[0], flat[1], m, f(lr), f(self.momentum), bool(slots), self.nesterov)
                return
        xp = self._xp
        step = xp.multiply(grad, lr, out=scratch[0])
        if not slots:
            xp.subtract(data, step, out=data)
            return
        m = slots[0]
        momentum = self._momentum_k
        xp.multiply(m, momentum, out=m)
        xp.subtract(m, step, out=m)
        if self.nesterov:
            ahead = xp.multiply(m, momentum, out=scratch[1])
            xp.subtract(ahead, step, out=ahead)
            xp.add(data, ahead, out=data)
        else:
            xp.add(data, m, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config

"""Adadelta (Zeiler, 2012): step sizes from running averages of gradients and updates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers._averages import decay_toward
from chainrule.optimizers.adam import epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """The Adadelta optimizer, exactly as Keras 3 computes it.

    ::

        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -sqrt(acc_d + epsilon) * g / sqrt(acc_g + epsilon)
        acc_d = rho * acc_d + (1 - rho) * delta**2
        w += lr * delta

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001
            (the paper's form is 1.0).
        rho: decay rate of the running averages, in [0, 1). Defaults to 0.95.
        epsilon: added under the square roots, >= 0. Defaults to 1e-7.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0]), "w")
        >>> Adadelta(learning_rate=1.0).apply([np.array([1.0])], [w])
        >>> np.round(w.data, 6)  # 1 - sqrt(1e-7) / sqrt(0.05 + 1e-7)
        array([0.998586])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        rho: float = 0.95,
        epsilon: float | None = 1e-7,
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
        self.rho = _checks.real("rho", rho, "a float in [0, 1)", lambda v: 0 <= v < 1)
        self.epsilon = epsilon_value(epsilon)

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]

    def _begin_step(self, lr: float) -> None:
        c = self._const
        self._k = (c(self.rho), c(1 - self.rho), c(self.epsilon))

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        acc_g, acc_d = slots
        s0, s1 = scratch
        rho, one_minus_rho, eps = self._k
        xp.square(grad, out=s0)
        decay_toward(xp, acc_g, s0, rho, one_minus_rho, s0)
        # delta in s0: -(sqrt(acc_d + eps) * g) / sqrt(acc_g + eps)
        xp.add(acc_d, eps, out=s0)
        xp.sqrt(s0, out=s0)
        xp.multiply(s0, grad, out=s0)
        xp.add(acc_g, eps, out=s1)
        xp.sqrt(s1, out=s1)
        xp.divide(s0, s1, out=s0)
        xp.negative(s0, out=s0)
        xp.square(s0, out=s1)
        decay_toward(xp, acc_d, s1, rho, one_minus_rho, s1)
        xp.multiply(s0, lr, out=s0)
        xp.add(data, s0, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config

"""Adamax (Kingma & Ba, 2014, section 7.1): Adam with the infinity norm."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers._averages import move_toward
from chainrule.optimizers.adam import beta, epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """The Adamax optimizer, exactly as Keras 3 computes it.

    With ``t = iterations + 1``::

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)                 # the exponentially weighted infinity norm
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the infinity norm, in [0, 1). Defaults to 0.999.
        epsilon: added to the norm, >= 0. Defaults to 1e-7.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0, 2.0]), "w")
        >>> Adamax(learning_rate=0.5).apply([np.array([3.0, -0.5])], [w])
        >>> np.round(w.data, 4)  # the first step moves each weight by about lr
        array([0.5, 2.5])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
        self.beta_1 = beta("beta_1", beta_1)
        self.beta_2 = beta("beta_2", beta_2)
        self.epsilon = epsilon_value(epsilon)
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("momentum", 0.0), ("norm", 0.0)]

    def _begin_step(self, lr: float) -> None:
        f, c = self._ftype, self._const
        # beta_1**t and its complement in the variables' dtype, as Keras computes them
        correction = f(1) - f(self.beta_1) ** f(self._updates_done() + 1)
        self._k = (c(1 - self.beta_1), c(self.beta_2), c(self.epsilon), c(correction))

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        m, u = slots
        s0, s1 = scratch
        one_minus_b1, b2, epsilon, correction = self._k
        move_toward(xp, m, grad, one_minus_b1, s0)
        xp.multiply(u, b2, out=u)
        xp.abs(grad, out=s0)
        xp.maximum(u, s0, out=u)
        xp.multiply(m, lr, out=s1)
        xp.add(u, epsilon, out=s0)
        xp.multiply(s0, correction, out=s0)
        xp.divide(s1, s0, out=s1)
        xp.subtract(data, s1, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config

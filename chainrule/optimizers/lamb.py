"""LAMB (You et al., 2019, "Large Batch Optimization for Deep Learning"): Adam with layer trust."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers._averages import move_toward
from chainrule.optimizers.adam import beta, epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Lamb"]


class Lamb(Optimizer):
    """The LAMB optimizer, exactly as Keras 3 computes it.

    With ``t = iterations + 1``, for each variable ``w`` on its own::

        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        r = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
        ratio = ||w|| / ||r||                    # 1 when either norm is 0
        w -= ratio * lr * r

    The trust ratio uses the L2 norm of the whole variable, so the update is
    not elementwise: each variable is updated as one array.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the second moment, in [0, 1). Defaults to 0.999.
        epsilon: added to the denominator, >= 0. Defaults to 1e-7.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([3.0, 4.0]), "w")
        >>> Lamb(learning_rate=0.1).apply([np.array([1.0, 1.0])], [w])
        >>> np.round(w.data, 4)  # the step's norm is lr * ||w|| = 0.5
        array([2.6464, 3.6464])
    """

    _n_scratch = 2
    _elementwise = False  # the trust ratio needs each variable's norms

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
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _begin_step(self, lr: float) -> None:
        f, c = self._ftype, self._const
        t = f(self._updates_done() + 1)
        # the bias corrections in the variables' dtype, as Keras computes them
        self._k = (
            c(1 - self.beta_1),
            c(1 - self.beta_2),
            c(self.epsilon),
            c(f(1) - f(self.beta_1) ** t),
            c(f(1) - f(self.beta_2) ** t),
        )

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        m, v = slots
        s0, s1 = scratch
        one_minus_b1, one_minus_b2, epsilon, correction_1, correction_2 = self._k
        move_toward(xp, m, grad, one_minus_b1, s0)
        xp.square(grad, out=s0)
        move_toward(xp, v, s0, one_minus_b2, s0)
        xp.divide(v, correction_2, out=s0)
        xp.sqrt(s0, out=s0)
        xp.add(s0, epsilon, out=s0)
        xp.divide(m, correction_1, out=s1)
        xp.divide(s1, s0, out=s1)  # the Adam direction r
        w_norm = xp.sqrt(xp.sum(xp.square(data, out=s0)))
        r_norm = xp.sqrt(xp.sum(xp.square(s1, out=s0)))
        ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else xp.ones_like(w_norm)
        xp.multiply(s1, ratio * lr, out=s1)
        xp.subtract(data, s1, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config

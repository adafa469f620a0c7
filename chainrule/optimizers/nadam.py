"""Nadam: Adam with Nesterov momentum (Dozat, 2015)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chainrule.optimizers._averages import move_toward
from chainrule.optimizers.adam import beta, epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Nadam"]


class Nadam(Optimizer):
    """The Nadam optimizer, exactly as Keras 3 computes it.

    With ``t = iterations + 1`` and the momentum schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` (whose running product ``u_product``
    is part of the optimizer's state)::

        u_product *= u_t                         # once per step
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - u_product * u_{t+1}) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w -= m_hat * lr / (sqrt(v_hat) + epsilon)

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
        >>> w = Var(np.array([1.0, 2.0, 3.0, 4.0]), "w")
        >>> Nadam(learning_rate=0.5).apply([np.array([1.0, 6.0, 7.0, 2.0])], [w])
        >>> np.round(w.data, 4)
        array([0.4686, 1.4686, 2.4686, 3.4686])
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
        self._u_product = 1.0
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _build_extra(self) -> None:
        self._u_product = 1.0

    def _extra_state(self) -> dict[str, Any]:
        return {"u_product": self._u_product}

    def _set_extra_state(self, state: Mapping[str, Any]) -> None:
        self._u_product = float(state["u_product"])

    def _begin_step(self, lr: float) -> None:
        f = self._ftype  # the variables' precision, as Keras computes these
        t, one, half, decay = f(self._updates_done() + 1), f(1.0), f(0.5), f(0.96)
        b1 = f(self.beta_1)
        u_t = b1 * (one - half * decay**t)
        u_next = b1 * (one - half * decay ** (t + one))
        # Keras's order of products, so the running product rounds as in Keras.
        self._u_product = f(self._u_product) * b1 * (one - half * decay**t)
        u_product = self._u_product
        c = self._const
        self._k = (
            c(1 - b1),
            c(one - f(self.beta_2)),  # Keras subtracts the float32 beta here
            # m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
            c(u_next),
            c(1.0 - u_product * u_next),
            c(1.0 - u_t),
            c(1.0 - u_product),
            c(one - f(self.beta_2) ** t),  # bias correction of v
            c(self.epsilon),
        )

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        m, v = slots
        s0, s1 = scratch
        one_minus_b1, one_minus_b2, u_next, m_denom, g_coef, g_denom, v_corr, eps = self._k
        move_toward(xp, m, grad, one_minus_b1, s0)
        xp.square(grad, out=s0)
        move_toward(xp, v, s0, one_minus_b2, s0)
        # m_hat in s0
        xp.multiply(m, u_next, out=s0)
        xp.divide(s0, m_denom, out=s0)
        xp.multiply(grad, g_coef, out=s1)
        xp.divide(s1, g_denom, out=s1)
        xp.add(s0, s1, out=s0)
        xp.multiply(s0, lr, out=s0)
        # sqrt(v_hat) + epsilon in s1
        xp.divide(v, v_corr, out=s1)
        xp.sqrt(s1, out=s1)
        xp.add(s1, eps, out=s1)
        xp.divide(s0, s1, out=s0)
        xp.subtract(data, s0, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config

"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): sign momentum."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers._averages import decay_toward
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Lion"]


class Lion(Optimizer):
    """The Lion optimizer, exactly as Keras 3 computes it.

    ::

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Every weight moves by exactly ``lr`` (or not at all), so Lion wants a
    learning rate 3-10 times smaller than AdamW's.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        beta_1: weight of the momentum in the update's sign, in (0, 1]. Defaults to 0.9.
        beta_2: decay rate of the momentum, in [0, 1]. Defaults to 0.99.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0, 2.0, 3.0]), "w")
        >>> Lion(learning_rate=0.1).apply([np.array([3.0, -0.5, 0.0])], [w])
        >>> w.data
        array([0.9, 2.1, 3. ])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
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
        # beta_1 = 0 would make Lion signSGD (Keras refuses it too)
        self.beta_1 = _checks.real("beta_1", beta_1, "a float in (0, 1]", lambda v: 0 < v <= 1)
        self.beta_2 = _checks.real("beta_2", beta_2, "a float in [0, 1]", lambda v: 0 <= v <= 1)
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("momentum", 0.0)]

    def _begin_step(self, lr: float) -> None:
        f, c = self._ftype, self._const
        b1, b2 = f(self.beta_1), f(self.beta_2)
        # Keras forms 1 - beta from the beta already cast to the variables' dtype
        self._k = (c(b1), c(f(1) - b1), c(b2), c(f(1) - b2))

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        m = slots[0]
        s0, s1 = scratch
        b1, one_minus_b1, b2, one_minus_b2 = self._k
        xp.multiply(m, b1, out=s0)
        xp.multiply(grad, one_minus_b1, out=s1)
        xp.add(s0, s1, out=s0)
        xp.sign(s0, out=s1)  # not in place: NumPy's sign in place is about 10 times slower
        xp.multiply(s1, lr, out=s1)
        xp.subtract(data, s1, out=data)
        decay_toward(xp, m, grad, b2, one_minus_b2, s1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config

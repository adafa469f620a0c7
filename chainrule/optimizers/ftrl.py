"""FTRL-Proximal (McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches")."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Ftrl"]


def _nonnegative(name: str, value: Any) -> float:
    return _checks.real(name, value, "a float >= 0", lambda v: v >= 0 and math.isfinite(v))


class Ftrl(Optimizer):
    """The FTRL-Proximal optimizer, exactly as Keras 3 computes it.

    With ``p = -learning_rate_power`` (0.5 by default) and
    ``l2 = l2_regularization_strength + beta / (2 * lr)``::

        g_s = g + 2 * l2_shrinkage_regularization_strength * w
        n_new = n + g**2
        z += g_s - (n_new**p - n**p) / lr * w
        quadratic = n_new**p / lr + 2 * l2
        w = (clip(z, -l1, l1) - z) / quadratic   # l1 = l1_regularization_strength
        n = n_new

    The weights are recomputed from ``z`` (the "linear" slot) at every step,
    so a weight whose ``|z|`` stays below ``l1`` is exactly 0 (sparse models).

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        learning_rate_power: how the per-weight rate falls as the squared
            gradients add up, <= 0 (0 keeps it fixed). Defaults to -0.5.
        initial_accumulator_value: starting value of the accumulators ``n``,
            >= 0. Defaults to 0.1.
        l1_regularization_strength: L1 strength, >= 0. Defaults to 0.0.
        l2_regularization_strength: L2 strength, >= 0. Defaults to 0.0.
        l2_shrinkage_regularization_strength: L2 strength applied to the
            gradient (a magnitude penalty), >= 0. Defaults to 0.0.
        beta: the paper's beta, >= 0, added as ``beta / (2 * lr)`` to the L2
            strength. Defaults to 0.0.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([0.0, 0.0]), "w")
        >>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.5)
        >>> opt.apply([np.array([1.0, -0.2])], [w])
        >>> np.round(w.data, 4)  # |z| of the second weight is below l1: it stays 0
        array([-0.0477,  0.    ])
    """

    _n_scratch = 3
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
        self.learning_rate_power = _checks.real(
            "learning_rate_power", learning_rate_power, "a float <= 0",
            lambda v: v <= 0 and math.isfinite(v),
        )
        self.initial_accumulator_value = _nonnegative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.l1_regularization_strength = _nonnegative(
            "l1_regularization_strength", l1_regularization_strength
        )
        self.l2_regularization_strength = _nonnegative(
            "l2_regularization_strength", l2_regularization_strength
        )
        self.l2_shrinkage_regularization_strength = _nonnegative(
            "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength
        )
        self.beta = _nonnegative("beta", beta)
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("accumulator", self.initial_accumulator_value), ("linear", 0.0)]

    def _begin_step(self, lr: float) -> None:
        f, c = self._ftype, self._const
        # beta / (2 * lr) in the variables' dtype, as Keras adds it to the L2 strength
        l2 = f(self.l2_regularization_strength) + f(self.beta) / (f(2) * f(lr))
        l1 = self.l1_regularization_strength
        self._k = (
            c(-self.learning_rate_power),
            c(2 * self.l2_shrinkage_regularization_strength),
            c(f(2) * l2),
            c(-l1),
            c(l1),
        )

    def _power(self, x: Any, power: Any, out: Any) -> None:
        # the default power 0.5 as a square root: the same correctly rounded numbers, 3x faster
        if self.learning_rate_power == -0.5:
            self._xp.sqrt(x, out=out)
        else:
            self._xp.power(x, power, out=out)

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        accum, linear = slots
        s0, s1, s2 = scratch
        power, shrink2, l2_2, low, high = self._k
        xp.square(grad, out=s1)
        xp.add(accum, s1, out=s1)  # the new accumulator
        self._power(s1, power, s0)
        self._power(accum, power, s2)
        xp.copyto(accum, s1)
        xp.subtract(s0, s2, out=s2)
        xp.divide(s2, lr, out=s2)
        xp.multiply(s2, data, out=s2)
        xp.multiply(data, shrink2, out=s1)
        xp.add(grad, s1, out=s1)  # the gradient with the shrinkage term
        xp.subtract(s1, s2, out=s1)
        xp.add(linear, s1, out=linear)
        xp.divide(s0, lr, out=s0)
        xp.add(s0, l2_2, out=s0)  # the quadratic term
        xp.clip(linear, low, high, out=s2)
        xp.subtract(s2, linear, out=s2)
        xp.divide(s2, s0, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config

"""Adagrad (Duchi et al., 2011): per-parameter rates from accumulated squared gradients."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers.adam import epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """The Adagrad optimizer, exactly as Keras 3 computes it.

    ::

        acc += g**2                              # acc starts at initial_accumulator_value
        w -= lr * g / sqrt(acc + epsilon)

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001
            (Adagrad often wants more; the paper's form is 1.0).
        initial_accumulator_value: starting value of the accumulators, >= 0.
            Defaults to 0.1.
        epsilon: added under the square root, >= 0. Defaults to 1e-7.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0]), "w")
        >>> Adagrad(learning_rate=0.5).apply([np.array([1.0])], [w])
        >>> np.round(w.data, 4)  # 1 - 0.5 * 1 / sqrt(0.1 + 1)
        array([0.5233])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        initial_accumulator_value: float = 0.1,
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
        self.initial_accumulator_value = _checks.real(
            "initial_accumulator_value",
            initial_accumulator_value,
            "a float >= 0",
            lambda v: v >= 0 and math.isfinite(v),
        )
        self.epsilon = epsilon_value(epsilon)

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("accumulator", self.initial_accumulator_value)]

    def _begin_step(self, lr: float) -> None:
        self._epsilon_k = self._const(self.epsilon)
        self._kernel = self._kernel_for("adagrad")  # the fused update (Numba), when available

    def _scratch_free(self, size: int) -> bool:
        # the kernel does the whole update (a subclass's own update_step may not)
        return type(self).update_step is Adagrad.update_step and self._kernel is not None

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        if self._kernel is not None:
            flat = self._flat(grad, data, *slots)
            if flat is not None:
                f = self._ftype
                self._kernel(*flat, f(lr), f(self.epsilon))
                return
        xp = self._xp
        acc = slots[0]
        s0, s1 = scratch
        xp.square(grad, out=s0)
        xp.add(acc, s0, out=acc)
        xp.add(acc, self._epsilon_k, out=s0)
        xp.sqrt(s0, out=s0)
        xp.multiply(grad, lr, out=s1)
        xp.divide(s1, s0, out=s1)
        xp.subtract(data, s1, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon,
            }
        )
        return config

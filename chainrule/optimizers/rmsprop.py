"""RMSprop (Hinton, 2012), with optional momentum and centering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers._averages import decay_toward
from chainrule.optimizers.adam import epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """The RMSprop optimizer, exactly as Keras 3 computes it.

    ::

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g              # centered only
        denominator = v - a**2 + epsilon         # centered
        denominator = v + epsilon                # otherwise
        increment = lr * g / sqrt(denominator)
        mom = momentum * mom + increment         # momentum > 0 only
        w -= mom  (or w -= increment)

    Note ``epsilon`` sits inside the square root, as in Keras.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        rho: discount of the moving averages, in [0, 1). Defaults to 0.9.
        momentum: momentum of the update, in [0, 1]. Defaults to 0.0.
        epsilon: added under the square root, >= 0. Defaults to 1e-7.
        centered: divide by the estimated variance instead of the raw second
            moment. Defaults to False.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([10.0]), "w")
        >>> RMSprop(learning_rate=0.1).apply([w.data.copy()], [w])  # gradient of w**2 / 2
        >>> np.round(w.data, 6)
        array([9.683772])
    """

    _n_scratch = 2
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float | None = 1e-7,
        centered: bool = False,
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
        self.momentum = _checks.real(
            "momentum", momentum, "a float in [0, 1]", lambda v: 0 <= v <= 1
        )
        self.epsilon = epsilon_value(epsilon)
        self.centered = _checks.boolean("centered", centered)

    def _slot_specs(self) -> list[tuple[str, float]]:
        self._built_momentum = self.momentum > 0
        self._built_centered = self.centered
        specs = [("velocity", 0.0)]
        if self._built_momentum:
            specs.append(("momentum", 0.0))
        if self._built_centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def _begin_step(self, lr: float) -> None:
        c = self._const
        self._k = (c(self.rho), c(1 - self.rho), c(self.epsilon), c(self.momentum))
        self._kernel = self._kernel_for("rmsprop")  # the fused update (Numba), when available

    def _scratch_free(self, size: int) -> bool:
        # the kernel does the whole update (a subclass's own update_step may not)
        return type(self).update_step is RMSprop.update_step and self._kernel is not None

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        if self._kernel is not None:
            flat = self._flat(grad, data, *slots)
            if flat is not None:
                g, w, v = flat[0], flat[1], flat[2]
                mom = flat[3] if self._built_momentum else w  # never read when off
                avg = flat[-1] if self._built_centered else w
                f = self._ftype
                self._kernel(g, w, v, mom, avg, f(self.rho), f(1 - self.rho), f(self.epsilon),
                             f(self.momentum), f(lr), self._built_momentum, self._built_centered)
                return
        xp = self._xp
        rho, one_minus_rho, epsilon, momentum = self._k
        v = slots[0]
        s0, s1 = scratch
        xp.square(grad, out=s0)
        decay_toward(xp, v, s0, rho, one_minus_rho, s0)
        if self._built_centered:
            avg = slots[-1]
            decay_toward(xp, avg, grad, rho, one_minus_rho, s0)
            xp.square(avg, out=s0)
            xp.subtract(v, s0, out=s0)
            xp.add(s0, epsilon, out=s0)
        else:
            xp.add(v, epsilon, out=s0)
        xp.sqrt(s0, out=s0)
        increment = xp.multiply(grad, lr, out=s1)
        xp.divide(increment, s0, out=increment)
        if self._built_momentum:
            mom = slots[1]
            xp.multiply(mom, momentum, out=mom)
            xp.add(mom, increment, out=mom)
            xp.subtract(data, mom, out=data)
        else:
            xp.subtract(data, increment, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "rho": self.rho,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "centered": self.centered,
            }
        )
        return config

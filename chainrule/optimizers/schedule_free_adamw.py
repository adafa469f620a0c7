"""ScheduleFreeAdamW: AdamW without a learning-rate schedule (Defazio et al., 2024)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.optimizers import _checks
from chainrule.optimizers.adam import beta, epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["ScheduleFreeAdamW"]


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW, exactly as Keras 3 computes it.

    The variable holds ``y``, the point the gradient is taken at; the state is
    ``z`` (``momentum``, starting as a copy of the variable) and Adam's second
    moment ``v`` (``velocity``). With ``t = iterations + 1`` and
    ``lr_t = lr * min(t / warmup_steps, 1)`` (``lr`` when ``warmup_steps`` is 0)::

        v += (g**2 - v) * (1 - beta_2)
        z_new = z - lr_t * g / (sqrt(v / (1 - beta_2**t)) + epsilon)
        x = (y - (1 - beta_1) * z) / beta_1           # the average iterate
        x = (1 - 1/t) * x + (1/t) * z_new
        y = (1 - beta_1) * z_new + beta_1 * x

    Weight decay (``weight_decay``) is applied to ``y`` before each step, as
    for every Keras optimizer. Use the weights as they are for evaluation (no
    separate averaged copy is kept, as in Keras).

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.0025.
        beta_1: interpolation between the average and ``z``, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the second moment, in [0, 1). Defaults to 0.999.
        epsilon: added to the denominator, >= 0. Defaults to 1e-8.
        warmup_steps: steps of linear learning-rate warm-up, an integer >= 0. Defaults to 0.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`.

    Example:
        >>> from chainrule.layers import Variable
        >>> w = Variable(np.array([1.0, -1.0], np.float32), name="w")
        >>> opt = ScheduleFreeAdamW(learning_rate=0.1)
        >>> opt.apply([np.array([0.5, -2.0], np.float32)], [w])
        >>> w.numpy().round(4)  # the first step moves each weight by about lr
        array([ 0.9, -0.9], dtype=float32)
    """

    _n_scratch = 3
    _elementwise = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
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
            name=name or "schedule_free_adam_w",
            **kwargs,
        )
        self.beta_1 = beta("beta_1", beta_1)
        if self.beta_1 == 0:
            raise ValueError("Argument `beta_1` must be in (0, 1) for ScheduleFreeAdamW (the "
                             f"average iterate divides by it). {_checks.received('beta_1', beta_1)}")
        self.beta_2 = beta("beta_2", beta_2)
        self.epsilon = epsilon_value(epsilon, 1e-8)
        if (isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer))
                or warmup_steps < 0):
            raise ValueError("Argument `warmup_steps` must be an integer >= 0. "
                             f"{_checks.received('warmup_steps', warmup_steps)}")
        self.warmup_steps = int(warmup_steps)
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _build_extra(self) -> None:
        for v, slots in zip(self._vars, self._slots):
            slots[0][...] = v.data  # z starts at the weights

    def _begin_step(self, lr: float) -> None:
        f, c = self._ftype, self._const
        t = f(self._updates_done() + 1)
        lr_t = f(lr)
        if self.warmup_steps > 0:
            lr_t = lr_t * np.minimum(t / f(self.warmup_steps), f(1.0))
        b1, b2 = f(self.beta_1), f(self.beta_2)
        weight = f(1.0) / t
        # in the variables' float type, as Keras casts beta_1 and beta_2 before `1 - beta`
        self._k = tuple(c(x) for x in (
            lr_t, f(1) - b2, f(1) - b2 ** t, f(self.epsilon), f(1) - b1, b1, f(1) - weight,
            weight))

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        z, v = slots
        s0, s1, s2 = scratch
        lr_t, one_minus_b2, correction, eps, one_minus_b1, b1, keep, weight = self._k
        xp.square(grad, out=s0)
        xp.subtract(s0, v, out=s0)
        xp.multiply(s0, one_minus_b2, out=s0)
        xp.add(v, s0, out=v)
        xp.divide(v, correction, out=s0)
        xp.sqrt(s0, out=s0)
        xp.add(s0, eps, out=s0)
        xp.multiply(grad, lr_t, out=s1)
        xp.divide(s1, s0, out=s1)
        # x is recovered from y and z after z's update, as Keras computes it (its
        # `momentum.value` is the variable itself, read after the assign)
        xp.subtract(z, s1, out=z)
        xp.multiply(z, one_minus_b1, out=s0)
        xp.subtract(data, s0, out=s0)
        xp.divide(s0, b1, out=s0)
        xp.multiply(s0, keep, out=s0)
        xp.multiply(z, weight, out=s1)
        xp.add(s0, s1, out=s0)
        xp.multiply(z, one_minus_b1, out=s1)
        xp.multiply(s0, b1, out=s2)
        xp.add(s1, s2, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config

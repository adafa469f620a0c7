"""Adam: adaptive moment estimation (Kingma & Ba, 2014), with optional AMSGrad."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.optimizers import _checks
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Adam"]

_BETA = "a float in [0, 1)"


def beta(name: str, value: Any) -> float:
    """Validate a decay rate of a moving average (in [0, 1))."""
    return _checks.real(name, value, _BETA, lambda v: 0 <= v < 1)


def epsilon_value(value: Any, default: float = 1e-7) -> float:
    """Validate ``epsilon``; ``None`` (a Keras 2 spelling) means the default, with a warning."""
    if value is None:
        _checks.deprecated(
            f"`epsilon=None` is a Keras 2 spelling; pass a number or omit it (default {default})."
        )
        return default
    return _checks.real("epsilon", value, "a float >= 0", lambda v: v >= 0 and math.isfinite(v))


class Adam(Optimizer):
    """The Adam optimizer, exactly as Keras 3 computes it.

    With ``t = iterations + 1``::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                     # amsgrad only; then v = v_hat
        w -= m * alpha / (sqrt(v) + epsilon)

    ``epsilon`` is added to ``sqrt(v)`` outside the bias correction ("epsilon
    hat" of the paper), as in Keras, so small gradients behave as in Keras.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the second moment, in [0, 1). Defaults to 0.999.
        epsilon: added to the denominator, >= 0. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (the running maximum of ``v``). Defaults to False.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`
            (``weight_decay``, ``clipnorm``, ...), and the deprecated ``lr`` and ``decay``.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0, 2.0]), "w")
        >>> int(Adam(learning_rate=0.5).apply_gradients([(np.array([3.0, -0.5]), w)]))
        1
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
        amsgrad: bool = False,
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
        self.amsgrad = _checks.boolean("amsgrad", amsgrad)
        self._k: tuple[Any, ...] = ()
        self._ks: tuple[Any, ...] = ()
        self._step_constants: tuple | None = None

    def _slot_specs(self) -> list[tuple[str, float]]:
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        self._built_amsgrad = self.amsgrad
        if self.amsgrad:
            specs.append(("velocity_hat", 0.0))
        return specs

    def _begin_step(self, lr: float) -> None:
        f = self._ftype
        # the constants that do not change from step to step, made once (per dtype and betas)
        key = (f, self._const_dtype, self.beta_1, self.beta_2, self.epsilon)
        cached = self._step_constants
        if cached is None or cached[0] != key:
            c = self._const
            cached = self._step_constants = (
                key, f(1), f(self.beta_1), f(self.beta_2),
                (c(1 - self.beta_1), c(1 - self.beta_2), c(self.epsilon)),
                # the fused kernel (Numba, optional) takes them as scalars of the dtype
                (f(1 - self.beta_1), f(1 - self.beta_2), f(self.epsilon)))
        _, one, b1, b2, k, ks = cached
        t = f(self._updates_done() + 1)
        alpha = f(lr) * np.sqrt(one - b2 ** t) / (one - b1 ** t)
        self._kernel = None if self._built_amsgrad else self._kernel_for("adam")
        if self._kernel is not None:
            self._ks = (*ks, alpha)
            self._k = ()  # the NumPy passes' form, made only if a variable needs them
        else:
            self._k = (*k, self._const(alpha))

    def _scratch_free(self, size: int) -> bool:
        # the kernel does the whole update (a subclass's own update_step may not)
        return type(self).update_step is Adam.update_step and self._kernel is not None

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        m, v = slots[0], slots[1]
        if self._kernel is not None:
            flat = self._flat(grad, data, m, v)
            if flat is not None:
                self._kernel(*flat, *self._ks)
                return
        xp = self._xp
        s0, s1 = scratch
        if not self._k:  # the kernel could not take this variable (not contiguous)
            self._k = (*self._step_constants[4], self._const(self._ks[-1]))
        one_minus_b1, one_minus_b2, epsilon, alpha = self._k
        xp.subtract(grad, m, out=s0)
        xp.multiply(s0, one_minus_b1, out=s0)
        xp.add(m, s0, out=m)
        xp.square(grad, out=s0)
        xp.subtract(s0, v, out=s0)
        xp.multiply(s0, one_minus_b2, out=s0)
        xp.add(v, s0, out=v)
        if self._built_amsgrad:
            v_hat = slots[2]
            xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        xp.sqrt(v, out=s0)
        xp.add(s0, epsilon, out=s0)
        xp.multiply(m, alpha, out=s1)
        xp.divide(s1, s0, out=s1)
        xp.subtract(data, s1, out=data)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "amsgrad": self.amsgrad,
            }
        )
        return config

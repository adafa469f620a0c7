"""Adafactor (Shazeer & Stern, 2018): second moments of matrices kept as row and column means."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.optimizers import _checks
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """The Adafactor optimizer, exactly as Keras 3 computes it.

    For each variable ``w`` with gradient ``g``, at step ``t`` (from 1)::

        rho   = min(lr, 1 / sqrt(t))
        alpha = max(epsilon_2, rms(w)) * rho
        g2    = g**2 + epsilon_1
        beta  = 1 - t ** beta_2_decay
        # a variable of rank >= 2: factored second moments (rows r, columns c)
        r = beta * r + (1 - beta) * mean(g2, axis=-1)
        c = beta * c + (1 - beta) * mean(g2, axis=-2)
        v = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
        # a vector or scalar: v = beta * v + (1 - beta) * g2
        u = g / sqrt(v);  u = u / max(1, rms(u) / clip_threshold)
        w -= alpha * u

    A matrix of ``m x n`` weights keeps ``m + n`` numbers of second-moment state (plus
    Keras's full-size ``velocity``, kept too so the state is Keras's).

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        beta_2_decay: the exponent of the second moments' decay, < 0. Defaults to -0.8.
        epsilon_1: added to the squared gradients. Defaults to 1e-30.
        epsilon_2: the smallest weight RMS the step scales with. Defaults to 1e-3.
        clip_threshold: the update's RMS is clipped to it. Defaults to 1.0.
        relative_step: kept as in Keras, where the rate is always capped at
            ``1 / sqrt(t)``. Defaults to True.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`.

    Example:
        >>> import numpy as np
        >>> from chainrule.layers import Variable
        >>> w = Variable(np.ones((2, 2)), name="w")
        >>> Adafactor(learning_rate=0.5).apply([np.ones((2, 2))], [w])
        >>> np.round(w.data, 4)  # 1 - 0.5 * rms(w) * 1
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """

    _n_scratch = 1
    _elementwise = False  # rows and columns: each variable's own means

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
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
        self.beta_2_decay = _checks.real("beta_2_decay", beta_2_decay, "a float < 0",
                                         lambda v: v < 0)
        self.epsilon_1 = _checks.real("epsilon_1", epsilon_1, "a float >= 0",
                                      lambda v: 0 <= v < math.inf)
        self.epsilon_2 = _checks.real("epsilon_2", epsilon_2, "a float >= 0",
                                      lambda v: 0 <= v < math.inf)
        self.clip_threshold = _checks.real("clip_threshold", clip_threshold, "a float > 0",
                                           lambda v: 0 < v < math.inf)
        self.relative_step = _checks.boolean("relative_step", relative_step)
        self._k: tuple[Any, ...] = ()

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("velocity", 0.0)]

    def _build_extra(self) -> None:
        xp = self._xp
        self._r, self._c = [], []
        for v in self._vars:
            d = v.data
            if d.ndim < 2:  # Keras keeps a scalar 0 for them
                self._r.append(xp.zeros((), d.dtype))
                self._c.append(xp.zeros((), d.dtype))
            else:
                self._r.append(xp.zeros(d.shape[:-1], d.dtype))
                self._c.append(xp.zeros(d.shape[:-2] + d.shape[-1:], d.dtype))
        self._slot_index: dict[int, int] = {}

    def _state_layout(self) -> dict[str, tuple[Any, str]]:
        layout = super()._state_layout()
        for i in range(len(self._vars)):
            label = layout[f"velocity/{i}"][1]
            layout[f"r/{i}"] = (self._r[i], label)
            layout[f"c/{i}"] = (self._c[i], label)
        return layout

    def _begin_step(self, lr: float) -> None:
        f = self._ftype
        t = f(self._updates_done() + 1)
        rho = min(f(lr), f(1) / math.sqrt(t))
        beta = f(1) - f(t) ** f(self.beta_2_decay)
        self._k = (f(rho), f(beta))

    def _index_of(self, slots: Sequence[Any]) -> int:
        i = self._slot_index.get(id(slots[0]))
        if i is None:  # (re)packed state: find the variables' slots again
            self._slot_index = {id(s[0]): j for j, s in enumerate(self._slots)}
            i = self._slot_index[id(slots[0])]
        return i

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        xp = self._xp
        f = self._ftype
        rho, beta = self._k
        v = slots[0]
        alpha = max(f(self.epsilon_2), f(xp.sqrt(xp.mean(xp.square(data))))) * rho
        g2 = xp.square(grad) + f(self.epsilon_1)
        if data.ndim >= 2:
            i = self._index_of(slots)
            r, c = self._r[i], self._c[i]
            r[...] = beta * r + (f(1) - beta) * xp.mean(g2, axis=-1)
            c[...] = beta * c + (f(1) - beta) * xp.mean(g2, axis=-2)
            v[...] = (r / xp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta * v + (f(1) - beta) * g2
        u = grad / xp.sqrt(v)
        u /= max(f(1), f(xp.sqrt(xp.mean(xp.square(u)))) / f(self.clip_threshold))
        data -= (alpha * u).astype(data.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config

"""Muon: momentum orthogonalized by Newton-Schulz iterations, with AdamW for the other weights."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.autograd.variable import Variable as _StateVariable
from chainrule.optimizers import _checks
from chainrule.optimizers.adam import beta, epsilon_value
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["Muon"]


class Muon(Optimizer):
    """The Muon optimizer, exactly as Keras 3 computes it.

    Each 2-D weight (a dense kernel) gets the Muon step; every other weight,
    those whose path contains ``"embedding"`` (with ``exclude_embeddings``) and
    those whose path matches a regular expression of ``exclude_layers`` get
    AdamW's step (rate ``learning_rate * adam_lr_ratio``, decay
    ``adam_weight_decay``). The Muon step, with ``mu = momentum``::

        m = mu * m + g
        u = g + mu * m  (nesterov)  or  m
        X = u / (||u||_F + 1e-7)    (transposed when it has more rows than columns)
        ns_steps times:  A = X X^T;  X = a X + (b A + c A A) X
        w -= lr * X * sqrt(max(rows, cols)) * rms_rate   (rms_rate None: no factor)

    Weight decay ``w -= w * decay * lr`` comes first, with ``weight_decay`` for
    the Muon weights and ``adam_weight_decay`` for the AdamW ones.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        adam_beta_1: AdamW's first-moment decay, in [0, 1). Defaults to 0.9.
        adam_beta_2: AdamW's second-moment decay, in [0, 1). Defaults to 0.999.
        adam_weight_decay: AdamW's weight decay, >= 0 or None. Defaults to 0.004.
        epsilon: AdamW's epsilon, >= 0. Defaults to 1e-7.
        weight_decay: the Muon weights' decay, >= 0 or None. Defaults to 0.004.
        exclude_layers: regular expressions; a weight whose path matches one
            gets the AdamW step (e.g. ``["output_dense"]``).
        exclude_embeddings: give weights whose path contains "embedding" the
            AdamW step. Defaults to True.
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients.
        adam_lr_ratio: the AdamW step's rate over ``learning_rate``, > 0. Defaults to 1.
        momentum: the momentum ``mu``, in [0, 1). Defaults to 0.95.
        ns_steps: Newton-Schulz iterations, an integer >= 0. Defaults to 5.
        nesterov: use Nesterov momentum. Defaults to True.
        rms_rate: the update's RMS factor (Moonlight), > 0 or None. Defaults to 0.2.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`.

    Example:
        >>> from chainrule.layers import Variable
        >>> w = Variable(np.eye(2, dtype=np.float32), name="kernel")
        >>> Muon(learning_rate=0.1, weight_decay=None).apply([np.eye(2, dtype=np.float32)], [w])
        >>> w.numpy().round(3)  # a step of about lr * rms_rate * sqrt(2) along the identity
        array([[0.969, 0.   ],
               [0.   , 0.969]], dtype=float32)
    """

    _n_scratch = 1

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        exclude_layers: Sequence[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
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
        self.adam_beta_1 = beta("adam_beta_1", adam_beta_1)
        self.adam_beta_2 = beta("adam_beta_2", adam_beta_2)
        self.epsilon = epsilon_value(epsilon)
        self.adam_weight_decay = _checks.optional_real(
            "adam_weight_decay", adam_weight_decay, "a float >= 0",
            lambda v: v >= 0 and math.isfinite(v))
        if exclude_layers is None:
            exclude_layers = []
        if isinstance(exclude_layers, str) or not all(
                isinstance(k, str) for k in exclude_layers):
            raise ValueError("Argument `exclude_layers` must be a list of strings (regular "
                             "expressions matched against weight paths). "
                             f"{_checks.received('exclude_layers', exclude_layers)}")
        for k in exclude_layers:
            try:
                re.compile(k)
            except re.error as e:
                raise ValueError(f"Argument `exclude_layers` holds an invalid regular expression "
                                 f"({e}). Received: exclude_layers={exclude_layers!r}") from None
        self.exclude_layers = list(exclude_layers)
        self.exclude_embeddings = _checks.boolean("exclude_embeddings", exclude_embeddings)
        finite = "a finite float"
        self.muon_a = _checks.real("muon_a", muon_a, finite, math.isfinite)
        self.muon_b = _checks.real("muon_b", muon_b, finite, math.isfinite)
        self.muon_c = _checks.real("muon_c", muon_c, finite, math.isfinite)
        self.adam_lr_ratio = _checks.real("adam_lr_ratio", adam_lr_ratio, "a positive float",
                                          lambda v: v > 0 and math.isfinite(v))
        if isinstance(adam_lr_ratio, int) and not isinstance(adam_lr_ratio, bool):
            self.adam_lr_ratio = adam_lr_ratio  # kept as given (Keras's config shows 1)
        self.momentum = _checks.real("momentum", momentum, "a float in [0, 1)",
                                     lambda v: 0 <= v < 1)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, (int, np.integer)) or \
                ns_steps < 0:
            raise ValueError("Argument `ns_steps` must be an integer >= 0. "
                             f"{_checks.received('ns_steps', ns_steps)}")
        self.ns_steps = int(ns_steps)
        self.nesterov = _checks.boolean("nesterov", nesterov)
        self.rms_rate = _checks.optional_real("rms_rate", rms_rate, "a positive float",
                                              lambda v: v > 0 and math.isfinite(v))
        self._use_adam: list[bool] = []
        self._velocities: list[Any] = []
        self._slot_index: dict[int, int] = {}

    def _should_use_adamw(self, variable: Any) -> bool:
        """Whether ``variable`` gets the AdamW step (not 2-D, an embedding or excluded)."""
        if len(variable.data.shape) != 2:
            return True
        path = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def _slot_specs(self) -> list[tuple[str, float]]:
        return [("momentum", 0.0)]

    def _build_extra(self) -> None:
        self._use_adam = [self._should_use_adamw(v) for v in self._vars]
        self._velocities = [self._xp.zeros_like(v.data) if adam else None
                            for v, adam in zip(self._vars, self._use_adam)]
        self._slot_index = {}

    def _state_layout(self) -> dict[str, tuple[Any, str]]:
        layout = super()._state_layout()
        for i, vel in enumerate(self._velocities):
            if vel is not None:
                layout[f"velocity/{i}"] = (vel, repr(str(getattr(self._vars[i], "name", i))))
        return layout

    @property
    def variables(self) -> list[Any]:
        """As :attr:`Optimizer.variables`, with a ``velocity`` after the ``momentum`` of each
        weight that gets the AdamW step (Keras's order)."""
        out = []
        base = super().variables
        k = len(base) - len(self._vars)
        out = base[:k]
        for i, mom in enumerate(base[k:]):
            out.append(mom)
            if self._velocities and self._velocities[i] is not None:
                vel = _StateVariable(self._velocities[i], name="velocity", trainable=False)
                vel.path = mom.path[: -len("momentum")] + "velocity"
                out.append(vel)
        return out

    def _decay(self, data: Any, s: Any, i: int, lr_k: Any) -> None:
        """Done in :meth:`update_step` (each weight's own decay, even without ``weight_decay``)."""

    def _index_of(self, slots: Sequence[Any]) -> int:
        index = self._slot_index
        i = index.get(id(slots[0]))
        if i is None:
            index.clear()
            index.update({id(s[0]): j for j, s in enumerate(self._slots)})
            i = index[id(slots[0])]
        return i

    def _begin_step(self, lr: float) -> None:
        f = self._ftype
        self._lr_f = f(lr)
        self._t = f(self._updates_done() + 1)

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        i = self._index_of(slots)
        xp, f = self._xp, data.dtype.type
        lr_f = f(self._lr_f)
        adam = self._use_adam[i]
        decay = self.adam_weight_decay if adam else self.weight_decay
        if decay is not None and self._decay_mask[i]:
            data -= data * f(decay) * lr_f
        m = slots[0]
        if adam:
            self._adamw_step(grad, data, lr_f * f(self.adam_lr_ratio), m, self._velocities[i], f)
            return
        m += grad + m * f(self.momentum - 1)
        u = grad + f(self.momentum) * m if self.nesterov else m
        update = self._newton_schulz(u, f)
        step = lr_f * update
        if self.rms_rate is not None:
            step = step * f(math.sqrt(max(data.shape[0], data.shape[1]))) * f(self.rms_rate)
        xp.subtract(data, step, out=data)

    def _adamw_step(self, g: Any, data: Any, lr: Any, m: Any, v: Any, f: Any) -> None:
        t = self._t
        alpha = lr * np.sqrt(f(1) - f(self.adam_beta_2) ** t) / (f(1) - f(self.adam_beta_1) ** t)
        m += (g - m) * f(1 - self.adam_beta_1)
        v += (g * g - v) * f(1 - self.adam_beta_2)
        data -= (m * alpha) / (self._xp.sqrt(v) + f(self.epsilon))

    def _newton_schulz(self, x: Any, f: Any) -> Any:
        """Keras's quintic Newton-Schulz iteration towards the orthogonal factor of ``x``."""
        xp = self._xp
        tall = x.shape[0] > x.shape[1]
        if tall:
            x = x.T
        x = x / (xp.sqrt(xp.sum(x * x)) + f(1e-7))
        a, b, c = f(self.muon_a), f(self.muon_b), f(self.muon_c)
        for _ in range(self.ns_steps):
            gram = x @ x.T
            x = a * x + (b * gram + (c * gram) @ gram) @ x
        return x.T if tall else x

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": list(self.exclude_layers),
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        })
        return config

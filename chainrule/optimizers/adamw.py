"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.optimizers.adam import Adam
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3's ``AdamW``).

    Before each Adam step, every variable (except those given to
    :meth:`~chainrule.optimizers.Optimizer.exclude_from_weight_decay`) shrinks:
    ``w -= w * weight_decay * lr``. The Adam step is :class:`Adam`'s.

    Args:
        learning_rate: a positive float, a schedule or a callable. Defaults to 0.001.
        weight_decay: the decay rate, a float >= 0 (not None). Defaults to 0.004.
        beta_1: decay rate of the first moment, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the second moment, in [0, 1). Defaults to 0.999.
        epsilon: added to the denominator, >= 0. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant. Defaults to False.
        **kwargs: the base arguments of :class:`~chainrule.optimizers.Optimizer`.

    Example:
        >>> import numpy as np
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([2.0]), "w")
        >>> int(AdamW(learning_rate=1.0, weight_decay=0.004).apply_gradients([(np.zeros(1), w)]))
        1
        >>> w.data  # 2 - 2 * 0.004 * 1; a zero gradient adds no Adam step
        array([1.992])
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float] = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )

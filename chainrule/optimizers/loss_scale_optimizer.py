"""LossScaleOptimizer: dynamic loss scaling around another optimizer (Keras 3's rule).

The loss is multiplied by a scale before the gradients are taken (``fit`` does it;
a custom ``train_step`` calls :meth:`LossScaleOptimizer.scale_loss`), and the
gradients are divided by it before the inner optimizer's update. The scale moves:

- a step whose gradients hold a NaN or an infinity is skipped (no weight and no
  inner state changes) and the scale is halved;
- after ``dynamic_growth_steps`` finite steps in a row the scale is doubled.

The scale and the count of finite steps are the Variables ``dynamic_scale``
(float32) and ``step_counter`` (int64), as in Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.variable import Variable as _StateVariable
from chainrule.optimizers import _checks
from chainrule.optimizers._iterations import IterationsVariable
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.schedules import LearningRateSchedule

__all__ = ["LossScaleOptimizer"]

#: The base optimizer's arguments Keras accepts here only at their defaults (old configs).
_BASE_DEFAULTS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss dynamically (Keras 3's ``LossScaleOptimizer``).

    Wraps ``inner_optimizer``: each step divides the gradients by the current
    scale and lets the inner optimizer update the weights; a step with a
    non-finite gradient changes no weight and halves the scale, and every
    ``dynamic_growth_steps`` finite steps in a row double it. The inner
    optimizer's own ``loss_scale_factor`` is turned off (the gradients would be
    scaled twice). ``learning_rate`` and ``iterations`` are the inner
    optimizer's.

    Args:
        inner_optimizer: the :class:`Optimizer` to wrap.
        initial_scale: the first loss scale, a positive float (2**15 by default).
        dynamic_growth_steps: how many finite steps in a row double the scale,
            an integer >= 1 (2000 by default).
        name: defaults to ``"loss_scale_optimizer"``.
        **kwargs: the base optimizer's arguments are accepted only at their
            defaults (as in Keras's old configs); set them on the inner optimizer.

    Raises:
        TypeError: if ``inner_optimizer`` is not an Optimizer.
        ValueError: for a scale that is not a positive finite number, growth
            steps below 1, ``dynamic=False`` or another unsupported argument.

    Example:
        >>> import numpy as np
        >>> from chainrule.layers import Variable
        >>> from chainrule.optimizers import SGD
        >>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=8.0)
        >>> w = Variable(np.array([1.0, 2.0], np.float32), name="w")
        >>> opt.apply([np.array([8.0, 8.0], np.float32)], [w])  # the gradients of 8 * loss
        >>> w.numpy(), float(opt.dynamic_scale)
        (array([0.9, 1.9], dtype=float32), 8.0)
        >>> opt.apply([np.array([np.inf, 8.0], np.float32)], [w])  # skipped, scale halved
        >>> w.numpy(), float(opt.dynamic_scale), int(opt.iterations)
        (array([0.9, 1.9], dtype=float32), 4.0, 1)
    """

    #: The step guard of ``fit`` leaves non-finite gradients to this optimizer (it skips them).
    _skips_nonfinite_gradients = True

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`; set `loss_scale_factor` "
                "on the inner optimizer for a fixed scale instead. Received: dynamic=False"
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs:
                value = kwargs.pop(arg)
                if value is not default and value != default:
                    raise ValueError(
                        f"LossScaleOptimizer does not support `{arg}`; set it on the "
                        f"`inner_optimizer` instead. {_checks.received(arg, value)}"
                    )
        if kwargs:
            shown = ", ".join(f"{k}={_checks.shown(v)}" for k, v in kwargs.items())
            raise ValueError(
                f"LossScaleOptimizer does not support the arguments `{'`, `'.join(kwargs)}`. "
                f"Received: {shown}"
            )
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "Argument `inner_optimizer` must be an Optimizer instance (e.g. "
                f"`chainrule.optimizers.Adam()`). Received: inner_optimizer={inner_optimizer!r} "
                f"of type {type(inner_optimizer).__name__}"
            )
        scale = _checks.real("initial_scale", initial_scale, "a positive finite float",
                             lambda v: v > 0 and math.isfinite(v))
        if (isinstance(dynamic_growth_steps, bool)
                or not isinstance(dynamic_growth_steps, (int, np.integer))
                or dynamic_growth_steps < 1):
            raise ValueError(
                "Argument `dynamic_growth_steps` must be an integer >= 1. "
                f"{_checks.received('dynamic_growth_steps', dynamic_growth_steps)}"
            )
        # the base's own learning rate is unused (the inner optimizer's is the rate)
        super().__init__(learning_rate=1.0, name=name or "loss_scale_optimizer")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = scale
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        inner_optimizer.loss_scale_factor = None  # else the gradients are unscaled twice
        self.step_counter = IterationsVariable(0, path=f"{self.name}/step_counter")
        self.dynamic_scale = _StateVariable(np.array(scale, np.float32), name="dynamic_scale",
                                            trainable=False)
        self.dynamic_scale.path = f"{self.name}/dynamic_scale"

    # ------------------------------------------------------------- delegation
    @property
    def learning_rate(self) -> Any:
        """The inner optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule | Callable[[], float]) -> None:
        self.inner_optimizer.learning_rate = value

    def _current_learning_rate(self) -> float:
        return self.inner_optimizer._current_learning_rate()

    @property
    def iterations(self) -> IterationsVariable:
        """The inner optimizer's ``iterations`` (skipped steps do not count)."""
        return self.inner_optimizer.iterations

    def _updates_done(self) -> int:
        return self.inner_optimizer._updates_done()

    @property
    def _backward_scale(self) -> float:
        """The factor the training step multiplies the loss by before backward."""
        return float(self.dynamic_scale.data)

    def scale_loss(self, loss: Any) -> Any:
        """Return ``loss * dynamic_scale`` (``initial_scale`` before the first step).

        Args:
            loss: the loss (a Tensor or a number).

        Returns:
            The scaled loss.

        Example:
            >>> from chainrule.optimizers import SGD
            >>> LossScaleOptimizer(SGD(), initial_scale=4.0).scale_loss(0.5)
            2.0
        """
        return loss * self._backward_scale

    def finalize_variable_values(self, var_list: Iterable[Any] | None = None) -> None:
        """The inner optimizer's :meth:`~Optimizer.finalize_variable_values`."""
        self.inner_optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------------ steps
    def build(self, variables: Iterable[Any]) -> None:
        """Build the inner optimizer for ``variables`` (done by the first apply)."""
        if self.built:
            return
        self.inner_optimizer.build(variables)
        self.built = True

    @property
    def variables(self) -> list[Any]:
        """``iteration``, ``learning_rate``, ``step_counter`` and ``dynamic_scale`` once
        built, then the inner optimizer's variables (Keras's order)."""
        own: list[Any] = [self._iteration, self._lr_variable]
        if self.built:
            own += [self.step_counter, self.dynamic_scale]
        return own + self.inner_optimizer.variables

    def _after(self, finite: bool) -> None:
        """Keras's rule for the scale after a step with finite gradients or not."""
        counter, scale = self.step_counter.data, self.dynamic_scale.data
        if not finite:
            counter[()] = 0
            scale[()] = scale * np.float32(0.5)
        elif counter.item() == self.dynamic_growth_steps - 1:
            counter[()] = 0
            scale[()] = scale * np.float32(2.0)
        else:
            counter[()] = counter.item() + 1

    def apply(self, grads: Sequence[Any], variables: Iterable[Any] | None = None) -> None:
        """Apply one step: unscale ``grads`` and update with the inner optimizer, or skip
        the step and halve the scale when a gradient is not finite.

        Args:
            grads: one gradient array (or None) per variable: gradients of the
                scaled loss.
            variables: the variables (may be omitted once built).
        """
        grads = list(grads)
        if variables is not None:
            variables = list(variables)
            if not self.built:
                self.build(variables)
        present = [g for g in grads if g is not None]
        finite = all(backend.all_finite(g) for g in present)
        if finite:
            scale = self.dynamic_scale.data.item()
            unscaled = [None if g is None else g / g.dtype.type(scale) for g in grads]
            self.inner_optimizer.apply(unscaled, variables)
        self._after(finite)

    def apply_flat(self, buffer: Any) -> None:
        """Apply one step from a flat gradient buffer: unscale it in place and let the inner
        optimizer update the buffer (its own flat path), or skip and halve the scale.

        Args:
            buffer: the model's packed weights and gradients (see
                :meth:`Optimizer.apply_flat`).
        """
        if not self.built:
            self.build(buffer.variables)
        grads = list(buffer.grad.values())
        finite = all(backend.all_finite(g) for g in grads)
        if finite:
            scale = self.dynamic_scale.data.item()
            for g in grads:
                backend.xp.divide(g, g.dtype.type(scale), out=g)
            self.inner_optimizer.apply_flat(buffer)
        self._after(finite)

    # ------------------------------------------------------------ state I/O
    def get_state(self) -> dict[str, np.ndarray]:
        """The inner optimizer's state plus ``loss_scale/dynamic_scale`` and
        ``loss_scale/step_counter``."""
        state = self.inner_optimizer.get_state()
        state["loss_scale/dynamic_scale"] = np.asarray(self.dynamic_scale.data, np.float64)
        state["loss_scale/step_counter"] = np.asarray(self.step_counter.data, np.int64)
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`get_state` returned.

        Raises:
            ValueError: for a missing or impossible scale or counter (and whatever
                the inner optimizer refuses).
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"set_state() expects a dict of arrays. Received: {type(state).__name__}"
            )
        state = dict(state)
        for key in ("loss_scale/dynamic_scale", "loss_scale/step_counter"):
            if key not in state:
                raise ValueError(
                    f"Optimizer state is missing key {key!r}. Was it saved from a "
                    "LossScaleOptimizer? Received: keys " + repr(sorted(state))[:200]
                )
        scale = np.asarray(state.pop("loss_scale/dynamic_scale"))
        counter = np.asarray(state.pop("loss_scale/step_counter"))
        if scale.shape != () or not (np.isfinite(scale) and scale > 0):
            raise ValueError("Optimizer state 'loss_scale/dynamic_scale' must be a positive "
                             f"finite scalar. Received: {scale.tolist()}")
        if counter.shape != () or counter.dtype.kind not in "iu" or counter < 0:
            raise ValueError("Optimizer state 'loss_scale/step_counter' must be an integer "
                             f">= 0. Received: {counter.tolist()}")
        self.inner_optimizer.set_state(state)
        self.dynamic_scale.data[()] = scale
        self.step_counter.data[()] = int(counter)

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """``name``, the serialized ``inner_optimizer``, ``initial_scale`` and
        ``dynamic_growth_steps`` (Keras's keys)."""
        from chainrule.optimizers import serialize  # noqa: PLC0415 - the registry imports us

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
    ) -> LossScaleOptimizer:
        """Create the optimizer from :meth:`get_config`'s dict (the inner one deserialized)."""
        from chainrule.optimizers import deserialize  # noqa: PLC0415

        config = dict(config)
        inner = config.pop("inner_optimizer", None)
        if isinstance(inner, Mapping):
            inner = deserialize(inner, custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return (f"<LossScaleOptimizer name={self.name!r} inner={self.inner_optimizer!r} "
                f"dynamic_scale={float(self.dynamic_scale.data):g}>")

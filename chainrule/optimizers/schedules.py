"""Learning-rate schedules: the learning rate as a function of the optimizer step.

Pass a schedule as an optimizer's ``learning_rate``; the optimizer evaluates it
at its step count before every update. The formulas, arguments and defaults are
Keras 3's (``keras.optimizers.schedules``). Values are computed in float64 and
returned as Python floats (Keras computes in float32, so its values can differ
in the eighth significant digit).

A schedule also accepts a NumPy array of steps and returns an array, which is
handy for plotting it.

Example:
    >>> from chainrule.optimizers import schedules
    >>> lr = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> lr(0), lr(10), lr(20)
    (0.1, 0.05, 0.025)
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from chainrule._registry import Registry
from chainrule.optimizers import _checks

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]


def _scalar_log(x: float) -> float:
    # Keras yields NaN for a log of a non-positive number; math.log would raise.
    return math.log(x) if x > 0 else float("nan")


# A training step evaluates its schedule once, with an int: plain `math` keeps that
# cheap. Arrays of steps (plots) go through NumPy with the same formulas.
_SCALAR = SimpleNamespace(
    floor=math.floor,
    ceil=math.ceil,
    cos=math.cos,
    log=_scalar_log,
    minimum=min,
    where=lambda cond, a, b: a if cond else b,
)


def _prepare(step: Any) -> tuple[Any, Any, bool]:
    """Return ``(step as float or float64 array, math namespace, is_scalar)``."""
    if _checks.is_real(step):
        return float(step), _SCALAR, True
    arr = np.asarray(step, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr), _SCALAR, True
    return arr, np, False


def _result(value: Any, scalar: bool) -> Any:
    return float(value) if scalar else value


def _check_decay_steps(value: Any, name: str = "decay_steps") -> Any:
    if not _checks.is_real(value) or not value > 0:
        raise ValueError(f"Argument `{name}` must be > 0. {_checks.received(name, value)}")
    return value


def _check_number(name: str, value: Any) -> Any:
    if not _checks.is_real(value) or math.isnan(float(value)):
        raise ValueError(f"Argument `{name}` must be a number. {_checks.received(name, value)}")
    return value


class LearningRateSchedule:
    """Base class of learning-rate schedules.

    Subclass it and implement ``__call__(step)`` (returning the learning rate
    for an integer step) and ``get_config()``.

    Example:
        >>> class OneOverT(LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate / (step + 1)
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> OneOverT(0.1)(4)
        0.02
    """

    def __call__(self, step: Any) -> Any:
        """Return the learning rate at ``step`` (an int, or an array of steps)."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-serializable dict."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LearningRateSchedule:
        """Create a schedule from the dict :meth:`get_config` returned.

        Args:
            config: the constructor arguments.

        Returns:
            A new schedule.
        """
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops in steps.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: how many steps one factor of ``decay_rate`` takes; > 0.
        decay_rate: the decay factor, > 0.
        staircase: floor ``step / decay_steps``.
        name: a name for the schedule.

    Example:
        >>> s = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96, staircase=True)
        >>> s(99), round(s(100), 6)
        (0.1, 0.096)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        _checks.real("decay_rate", decay_rate, "a positive float", lambda v: v > 0)
        self.decay_rate = decay_rate
        self.staircase = _checks.boolean("staircase", staircase)
        self.name = name

    def __call__(self, step: Any) -> Any:
        s, m, scalar = _prepare(step)
        p = s / self.decay_steps
        if self.staircase:
            p = m.floor(p)
        return _result(self.initial_learning_rate * float(self.decay_rate) ** p, scalar)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is floored. This is the
    schedule tf.keras 2's ``decay=`` argument applied, with ``decay_steps=1``.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: the step scale; > 0.
        decay_rate: the rate of decay, >= 0.
        staircase: floor ``step / decay_steps``.
        name: a name for the schedule.

    Example:
        >>> s = InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
        >>> s(0), s(2)
        (0.1, 0.05)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        _checks.real("decay_rate", decay_rate, "a float >= 0", lambda v: v >= 0)
        self.decay_rate = decay_rate
        self.staircase = _checks.boolean("staircase", staircase)
        self.name = name

    def __call__(self, step: Any) -> Any:
        s, m, scalar = _prepare(step)
        p = s / self.decay_steps
        if self.staircase:
            p = m.floor(p)
        return _result(self.initial_learning_rate / (1.0 + self.decay_rate * p), scalar)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant learning rate on each interval between boundaries.

    The rate is ``values[0]`` while ``step <= boundaries[0]``, ``values[i]``
    while ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after
    the last boundary.

    Args:
        boundaries: strictly increasing steps.
        values: the rates, one more than ``boundaries``.
        name: a name for the schedule.

    Example:
        >>> s = PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
        >>> s(100), s(101), s(111)
        (1.0, 0.5, 0.1)
    """

    def __init__(
        self,
        boundaries: Sequence[float],
        values: Sequence[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        boundaries = list(boundaries)
        values = list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} of length {len(values)}."
            )
        for b in boundaries:
            _check_number("boundaries", b)
        for v in values:
            _check_number("values", v)
        if any(b1 >= b2 for b1, b2 in itertools.pairwise(boundaries)):
            raise ValueError(
                f"Argument `boundaries` must be strictly increasing. Received: boundaries={boundaries}"
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> Any:
        s, _, scalar = _prepare(step)
        if scalar:
            return float(self.values[bisect.bisect_left(self.boundaries, s)])
        index = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), s, side="left")
        return np.asarray(self.values, dtype=np.float64)[index]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    ``(initial - end) * (1 - step / decay_steps) ** power + end``, with ``step``
    capped at ``decay_steps``; with ``cycle=True``, ``decay_steps`` is instead
    stretched to the first multiple of itself that is >= ``step``.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: steps to reach ``end_learning_rate``; > 0.
        end_learning_rate: the final learning rate.
        power: the polynomial's power (1.0 is linear decay).
        cycle: restart the decay after ``decay_steps``.
        name: a name for the schedule.

    Example:
        >>> s = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
        >>> s(5), s(20)
        (0.05, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        self.end_learning_rate = _check_number("end_learning_rate", end_learning_rate)
        self.power = _check_number("power", power)
        self.cycle = _checks.boolean("cycle", cycle)
        self.name = name

    def __call__(self, step: Any) -> Any:
        s, m, scalar = _prepare(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # The first multiple of decay_steps at or after step (1 at step 0).
            decay_steps = decay_steps * m.where(s == 0, 1.0, m.ceil(s / decay_steps))
        else:
            s = m.minimum(s, decay_steps)
        p = s / decay_steps
        delta = self.initial_learning_rate - self.end_learning_rate
        return _result(delta * (1.0 - p) ** self.power + self.end_learning_rate, scalar)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup first.

    Without warmup: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)``
    with ``step`` capped at ``decay_steps``. With ``warmup_target`` set, the rate
    first rises linearly from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps`` steps, then decays from ``warmup_target`` as above.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: length of the decay; > 0.
        alpha: the final rate as a fraction of the rate decayed from.
        name: a name for the schedule.
        warmup_target: the rate reached at the end of warmup, or None for no warmup.
        warmup_steps: length of the warmup.

    Example:
        >>> s = CosineDecay(0.1, decay_steps=100)
        >>> s(0), round(s(50), 12), s(100)
        (0.1, 0.05, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_decay_steps(decay_steps)
        self.alpha = _check_number("alpha", alpha)
        self.name = name
        if warmup_target is not None:
            _check_number("warmup_target", warmup_target)
        self.warmup_target = warmup_target
        _checks.real("warmup_steps", warmup_steps, "a number >= 0", lambda v: v >= 0)
        self.warmup_steps = warmup_steps

    def _decay(self, m: Any, s: Any, decay_from: float) -> Any:
        cosine = 0.5 * (1.0 + m.cos(math.pi * (s / self.decay_steps)))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> Any:
        s, m, scalar = _prepare(step)
        if self.warmup_target is None:
            return _result(
                self._decay(m, m.minimum(s, float(self.decay_steps)), self.initial_learning_rate),
                scalar,
            )
        warmup_steps = float(self.warmup_steps)
        s = m.minimum(s, self.decay_steps + warmup_steps)
        delta = self.warmup_target - self.initial_learning_rate
        if scalar:
            if s < warmup_steps:
                return float(delta * (s / warmup_steps) + self.initial_learning_rate)
            return float(self._decay(m, s - warmup_steps, self.warmup_target))
        with np.errstate(divide="ignore", invalid="ignore"):
            warm = delta * (s / warmup_steps) + self.initial_learning_rate
        return np.where(
            s < warmup_steps, warm, self._decay(m, s - warmup_steps, self.warmup_target)
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The first period lasts ``first_decay_steps``; each restart lasts ``t_mul``
    times longer than the previous one and starts from ``m_mul`` times its rate.

    Args:
        initial_learning_rate: the learning rate at step 0.
        first_decay_steps: length of the first period; > 0.
        t_mul: growth factor of the period length, > 0.
        m_mul: factor on the starting rate of each restart.
        alpha: the final rate of each period as a fraction of its start.
        name: a name for the schedule.

    Example:
        >>> s = CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=1.0)
        >>> s(0), round(s(5), 12), s(10)
        (0.1, 0.05, 0.1)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _check_decay_steps(first_decay_steps, "first_decay_steps")
        _checks.real("t_mul", t_mul, "a positive float", lambda v: v > 0)
        self._t_mul = t_mul
        self._m_mul = _check_number("m_mul", m_mul)
        self.alpha = _check_number("alpha", alpha)
        self.name = name

    def __call__(self, step: Any) -> Any:
        s, m, scalar = _prepare(step)
        t_mul = float(self._t_mul)
        fraction = s / self.first_decay_steps
        if t_mul == 1.0:
            restart = m.floor(fraction)
            fraction = fraction - restart
        else:
            # Periods grow geometrically: invert their partial sums to find the restart.
            restart = m.floor(m.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        cosine = 0.5 * float(self._m_mul) ** restart * (1.0 + m.cos(math.pi * fraction))
        return _result(
            self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha), scalar
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = Registry(
    kind="learning rate schedule",
    module="keras.optimizers.schedules",
    base=LearningRateSchedule,
    classes={
        cls.__name__: cls
        for cls in (
            ExponentialDecay,
            InverseTimeDecay,
            PiecewiseConstantDecay,
            PolynomialDecay,
            CosineDecay,
            CosineDecayRestarts,
        )
    },
    ignore_case=True,
    class_kind="learning rate schedule",
    names_in_deserialize=False,
    name_custom_classes=True,
    serialize_error=(
        TypeError,
        "serialize() expects a LearningRateSchedule. Received: schedule={value!r} of type {type}",
    ),
    config_error=(
        ValueError,
        "A serialized schedule must be a dict with 'class_name' and 'config'. "
        "Received: config={value!r}",
    ),
)


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Return a schedule as a JSON-compatible dict, in Keras 3's layout.

    Args:
        schedule: the schedule.

    Returns:
        ``{"module": ..., "class_name": ..., "config": ..., "registered_name": ...}``.

    Example:
        >>> serialize(InverseTimeDecay(0.1, 1, 0.5))["class_name"]
        'InverseTimeDecay'
    """
    return _SCHEDULES.serialize(schedule)


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, type] | None = None
) -> LearningRateSchedule:
    """Recreate a schedule from :func:`serialize`'s dict (or Keras 3's).

    Args:
        config: a dict with ``class_name`` and ``config``.
        custom_objects: extra schedule classes by name.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new schedule.

    Raises:
        ValueError: for an unknown class name (with close matches).

    Example:
        >>> deserialize(serialize(InverseTimeDecay(0.1, 1, 0.5)))(2)
        0.05
    """
    return _SCHEDULES.deserialize(config, custom_objects)

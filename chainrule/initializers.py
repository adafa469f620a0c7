"""Weight initializers with Keras's names, defaults and formulas.

An initializer is called with a shape (and optionally a dtype) and returns a
new array of the active backend. Random values are drawn on the host in
float64 and then cast, so a seed gives the same weights on NumPy and CuPy and,
up to rounding, in float32 and float64.

Randomness: an initializer built with ``seed=None`` draws from chainrule's
shared generator (:func:`chainrule.backend.rng`, seeded by
:func:`chainrule.backend.set_random_seed`), so successive calls differ. With an
integer ``seed`` it draws from its own ``numpy.random.default_rng(seed)``,
created afresh at each call: the same seed gives the same values every time,
whatever else was drawn before (as in Keras 3, where an initializer seeded
with an integer returns the same values at every call).

Fans are computed as in Keras: a dense kernel ``(in, out)`` has
``fan_in = in`` and ``fan_out = out``; a convolution kernel
``(*receptive_field, in_channels, out_channels)`` multiplies both by the
receptive field size.

Example:
    >>> from chainrule import initializers
    >>> w = initializers.get("glorot_uniform")((784, 10))
    >>> w.shape, str(w.dtype)
    ((784, 10), 'float32')
    >>> bool(abs(w).max() <= (6 / (784 + 10)) ** 0.5)
    True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._registry import Registry

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "serialize",
]

#: std of a standard normal truncated to [-2, 2]; dividing by it keeps the variance after
#: truncation.
_TRUNCATED_STD = 0.87962566103423978


# --- argument checks ----------------------------------------------------------------------------


def _number(arg: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg} must be a number. Received: {arg}={value!r}")
    return float(value)


def _positive(arg: str, value: Any) -> float:
    value_f = _number(arg, value)
    if not value_f > 0:
        raise ValueError(f"{arg} must be positive. Received: {arg}={value!r}")
    return value_f


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer. Received: seed={seed!r}")
    return int(seed)


def _standardize_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise ValueError(
            f"shape must be a tuple of non-negative integers. Received: shape={shape!r}"
        )
    return tuple(int(d) for d in dims)


def _dtype(dtype: Any, float_only: bool) -> np.dtype:
    try:
        dt = np.dtype(backend.floatx() if dtype is None else dtype)
    except TypeError:
        raise ValueError(
            f"dtype must be a NumPy dtype or its name. Received: dtype={dtype!r}"
        ) from None
    if float_only and dt.kind != "f":
        raise ValueError(
            f"dtype must be a floating-point type for random values. Received: dtype={dtype!r}"
        )
    return dt


def compute_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` for a weight shape, as Keras computes them.

    Args:
        shape: the weight shape: ``()`` or ``(n,)`` for vectors, ``(in, out)``
            for dense kernels, ``(*receptive_field, in_channels, out_channels)``
            for convolution kernels.
        input_axes: optional axes whose sizes multiply into ``fan_in`` (used
            only together with ``output_axes``).
        output_axes: optional axes whose sizes multiply into ``fan_out``.

    Returns:
        The number of input and output units.

    Example:
        >>> compute_fans((784, 10))
        (784, 10)
        >>> compute_fans((3, 3, 16, 32))  # a 3x3 convolution, 16 -> 32 channels
        (144, 288)
    """
    shape = _standardize_shape(shape)
    if input_axes is not None and output_axes is not None:
        try:
            return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
        except (IndexError, TypeError):
            raise ValueError(
                f"input_axes and output_axes must be axes of the shape {shape}. "
                f"Received: input_axes={input_axes!r}, output_axes={output_axes!r}"
            ) from None
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# --- base classes -------------------------------------------------------------------------------


class Initializer:
    """Base class of initializers: ``initializer(shape, dtype=None)`` returns a new array.

    Subclasses implement ``__call__``, and ``get_config`` when their constructor
    takes arguments.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return Constant(2.0)(shape, dtype)
        >>> Twos()((2,)).tolist()
        [2.0, 2.0]
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return a new array of ``shape`` and ``dtype`` (default ``backend.floatx()``).

        Args:
            shape: the shape of the array.
            dtype: its dtype; defaults to ``backend.floatx()``.

        Returns:
            A backend array.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype=None)."
        )

    def get_config(self) -> dict:
        """Return the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """Create an initializer from the output of :meth:`get_config`.

        Args:
            config: the dict returned by ``get_config``.

        Returns:
            A new initializer.
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _RandomInitializer(Initializer):
    """An initializer that draws random numbers, from its own seed or the shared generator."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = _check_seed(seed)

    def _rng(self) -> np.random.Generator:
        # NOTE: a fresh generator per call, so a seeded initializer is reproducible on its own.
        return backend.rng() if self.seed is None else np.random.default_rng(self.seed)

    def get_config(self) -> dict:
        """Return ``{'seed': seed}``."""
        return {"seed": self.seed}


def _uniform(rng: np.random.Generator, shape: tuple, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, size=shape)


def _truncated_normal(
    rng: np.random.Generator, shape: tuple, mean: float, stddev: float
) -> np.ndarray:
    """Normal samples with those beyond two standard deviations drawn again (Keras's rule)."""
    out = rng.normal(mean, stddev, size=shape)
    flat = out.reshape(-1)
    bad = np.flatnonzero(np.abs(flat - mean) > 2 * stddev)
    while bad.size:  # about 4.6% per round, so a few rounds of shrinking size
        flat[bad] = rng.normal(mean, stddev, size=bad.size)
        bad = bad[np.abs(flat[bad] - mean) > 2 * stddev]
    return out


def _to_backend(values: np.ndarray, dtype: np.dtype) -> Any:
    return backend.as_array(values.astype(dtype, copy=False), dtype=dtype)


# --- constant initializers ----------------------------------------------------------------------


class Constant(Initializer):
    """Fill with a constant (a scalar, or an array broadcastable to the shape).

    Args:
        value: the value to fill with.

    Example:
        >>> Constant(0.5)((2, 2)).tolist()
        [[0.5, 0.5], [0.5, 0.5]]
        >>> Constant([1.0, 2.0])((2, 2)).tolist()
        [[1.0, 2.0], [1.0, 2.0]]
    """

    def __init__(self, value: Any = 0.0) -> None:
        array = backend.to_numpy(value) if backend.is_array(value) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"value must be a number or an array of numbers. Received: value={value!r}"
            )
        self._array = np.array(array)
        self.value = self._array.item() if self._array.ndim == 0 else self._array

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return an array of ``shape`` filled with the value."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=False)
        try:
            values = np.broadcast_to(self._array, shape)
        except ValueError:
            raise ValueError(
                f"Constant value of shape {self._array.shape} cannot fill an array of shape "
                f"{shape}. Received: shape={shape}"
            ) from None
        return _to_backend(np.array(values, dtype=dt), dt)

    def get_config(self) -> dict:
        """Return ``{'value': value}`` (arrays as nested lists)."""
        value = self._array.tolist() if self._array.ndim else self._array.item()
        return {"value": value}


class Zeros(Initializer):
    """Fill with zeros.

    Example:
        >>> Zeros()((3,)).tolist()
        [0.0, 0.0, 0.0]
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return an array of zeros."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=False)
        return backend.xp.zeros(shape, dtype=dt)


class Ones(Initializer):
    """Fill with ones.

    Example:
        >>> Ones()((2,), dtype="float64").tolist()
        [1.0, 1.0]
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return an array of ones."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=False)
        return backend.xp.ones(shape, dtype=dt)


class Identity(Initializer):
    """The identity matrix times ``gain`` (2-D shapes only; rectangular allowed).

    Args:
        gain: the multiplier.

    Example:
        >>> Identity(gain=2.0)((2, 3)).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _number("gain", gain)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return ``gain * eye(*shape)``."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=False)
        if len(shape) != 2:
            raise ValueError(
                "Identity can only initialize 2-D matrices. "
                f"Received: shape={shape} of rank {len(shape)}"
            )
        return _to_backend(self.gain * np.eye(*shape), dt)

    def get_config(self) -> dict:
        """Return ``{'gain': gain}``."""
        return {"gain": self.gain}


# --- random initializers ------------------------------------------------------------------------


class RandomUniform(_RandomInitializer):
    """Uniform values in ``[minval, maxval)``.

    Args:
        minval: the lower bound.
        maxval: the upper bound, at least ``minval``.
        seed: None (shared generator) or an integer (same values at every call).

    Example:
        >>> w = RandomUniform(-1.0, 1.0, seed=0)((1000,))
        >>> bool(w.min() >= -1.0 and w.max() < 1.0)
        True
    """

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval = _number("minval", minval)
        self.maxval = _number("maxval", maxval)
        if self.maxval < self.minval:
            raise ValueError(
                "maxval must be greater than or equal to minval. "
                f"Received: minval={minval!r}, maxval={maxval!r}"
            )
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return uniform random values."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        return _to_backend(_uniform(self._rng(), shape, self.minval, self.maxval), dt)

    def get_config(self) -> dict:
        """Return ``{'seed', 'minval', 'maxval'}``."""
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class RandomNormal(_RandomInitializer):
    """Normal values with the given mean and standard deviation.

    Args:
        mean: the mean.
        stddev: the standard deviation, positive.
        seed: None (shared generator) or an integer (same values at every call).

    Example:
        >>> w = RandomNormal(stddev=1.0, seed=0)((10000,))
        >>> bool(abs(float(w.std()) - 1.0) < 0.05)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = _number("mean", mean)
        self.stddev = _positive("stddev", stddev)
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return normal random values."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        return _to_backend(self._rng().normal(self.mean, self.stddev, size=shape), dt)

    def get_config(self) -> dict:
        """Return ``{'seed', 'mean', 'stddev'}``."""
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(_RandomInitializer):
    """Normal values, redrawn when more than two standard deviations from the mean.

    ``stddev`` is the standard deviation before truncation; the values' actual
    standard deviation is about ``0.88 * stddev``.

    Args:
        mean: the mean.
        stddev: the standard deviation before truncation, positive.
        seed: None (shared generator) or an integer (same values at every call).

    Example:
        >>> w = TruncatedNormal(stddev=1.0, seed=0)((10000,))
        >>> bool(abs(w).max() <= 2.0)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = _number("mean", mean)
        self.stddev = _positive("stddev", stddev)
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return truncated normal random values."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        return _to_backend(_truncated_normal(self._rng(), shape, self.mean, self.stddev), dt)

    def get_config(self) -> dict:
        """Return ``{'seed', 'mean', 'stddev'}``."""
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(_RandomInitializer):
    """Random values whose variance is ``scale / n``, with ``n`` taken from the shape.

    ``n`` is ``fan_in``, ``fan_out`` or their average, by ``mode`` (at least 1).
    ``'truncated_normal'`` draws from a normal truncated at two standard
    deviations with ``stddev = sqrt(scale / n) / 0.8796…`` (so the variance after
    truncation is ``scale / n``); ``'untruncated_normal'`` uses
    ``stddev = sqrt(scale / n)``; ``'uniform'`` draws from ``[-limit, limit]``
    with ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: the scaling factor, positive.
        mode: ``'fan_in'``, ``'fan_out'`` or ``'fan_avg'``.
        distribution: ``'truncated_normal'`` (``'normal'`` is an alias),
            ``'untruncated_normal'`` or ``'uniform'``.
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional axes that count as inputs for ``fan_in`` (with ``output_axes``).
        output_axes: optional axes that count as outputs for ``fan_out``.

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=1)
        >>> w = init((50, 20))
        >>> bool(abs(w).max() <= (3 * 2.0 / 50) ** 0.5)
        True
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        self.scale = _positive("scale", scale)
        if mode not in _MODES:
            raise ValueError(
                f"mode must be one of 'fan_in', 'fan_out', 'fan_avg'. Received: mode={mode!r}"
            )
        dist = distribution.lower() if isinstance(distribution, str) else distribution
        if dist == "normal":
            dist = "truncated_normal"
        if dist not in _DISTRIBUTIONS:
            raise ValueError(
                "distribution must be one of 'truncated_normal', 'untruncated_normal', "
                f"'uniform'. Received: distribution={distribution!r}"
            )
        self.mode = mode
        self.distribution = dist
        self.input_axes = None if input_axes is None else [int(a) for a in input_axes]
        self.output_axes = None if output_axes is None else [int(a) for a in output_axes]
        super().__init__(seed=seed)

    def _variance(self, shape: tuple) -> float:
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return random values scaled to the shape's fans."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        variance, rng = self._variance(shape), self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = _uniform(rng, shape, -limit, limit)
        return _to_backend(values, dt)

    def get_config(self) -> dict:
        """Return ``{'seed', 'scale', 'mode', 'distribution'}`` (and the axes when set)."""
        config = {
            "seed": self.seed,
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
        }
        return {**config, **self._axes_config()}

    def _axes_config(self) -> dict:
        if self.input_axes is None and self.output_axes is None:
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the class."""

    _args: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(
        self,
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        scale, mode, distribution = self._args
        super().__init__(
            scale=scale,
            mode=mode,
            distribution=distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict:
        """Return ``{'seed': seed}`` (and the axes when set)."""
        return {"seed": self.seed, **self._axes_config()}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: ``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Keras's default kernel initializer.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> w = GlorotUniform(seed=0)((3, 5))
        >>> bool(abs(w).max() <= (6 / 8) ** 0.5)
        True
    """

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal with variance ``2 / (fan_in + fan_out)``.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> GlorotNormal(seed=0)((3, 5)).shape
        (3, 5)
    """

    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: ``U(-limit, limit)``, ``limit = sqrt(6 / fan_in)``; suits ReLU layers.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> w = HeUniform(seed=0)((6, 4))
        >>> bool(abs(w).max() <= 1.0)
        True
    """

    _args = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with variance ``2 / fan_in``; suits ReLU layers.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> HeNormal(seed=0)((6, 4)).shape
        (6, 4)
    """

    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: ``U(-limit, limit)``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> w = LecunUniform(seed=0)((3, 4))
        >>> bool(abs(w).max() <= 1.0)
        True
    """

    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal with variance ``1 / fan_in``; suits SELU layers.

    Args:
        seed: None (shared generator) or an integer (same values at every call).
        input_axes: optional input axes for ``fan_in`` (see :class:`VarianceScaling`).
        output_axes: optional output axes for ``fan_out``.

    Example:
        >>> LecunNormal(seed=0)((3, 4)).shape
        (3, 4)
    """

    _args = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal matrix.

    Shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``; the
    rows or the columns (whichever are fewer) are orthonormal.

    Args:
        gain: the multiplier.
        seed: None (shared generator) or an integer (same values at every call).

    Example:
        >>> import numpy as np
        >>> q = Orthogonal(seed=0)((4, 4), dtype="float64")
        >>> bool(np.allclose(q.T @ q, np.eye(4)))
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = _number("gain", gain)
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return a scaled (semi-)orthogonal matrix."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal needs a shape of rank 2 or more. "
                f"Received: shape={shape} of rank {len(shape)}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # makes the decomposition unique (uniform over O(n))
        if rows < cols:
            q = q.T
        return _to_backend(self.gain * q.reshape(shape), dt)

    def get_config(self) -> dict:
        """Return ``{'seed', 'gain'}``."""
        return {"seed": self.seed, "gain": self.gain}


# --- registry -----------------------------------------------------------------------------------

_CLASSES: dict[str, type[Initializer]] = {
    cls.__name__: cls
    for cls in (
        Initializer,
        Zeros,
        Ones,
        Constant,
        Identity,
        RandomUniform,
        RandomNormal,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
        Orthogonal,
    )
}
_CLASSES.update({"IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal})

#: Lower-case names and Keras's aliases ('uniform' and 'normal' are Keras 1's U(-0.05, 0.05)
#: and N(0, 0.05)).
_NAMES: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "one": Ones,
    "constant": Constant,
    "identity": Identity,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "random_normal": RandomNormal,
    "normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
}


def _from_identifier(identifier: Any) -> Callable[..., Any] | None:
    if isinstance(identifier, (np.ndarray, np.generic)) or backend.is_array(identifier):
        return _from_array(identifier)
    return None


_REGISTRY = Registry(
    kind="initializer",
    module="chainrule.initializers",
    base=Initializer,
    classes=_CLASSES,
    abstract=(Initializer,),
    names=_NAMES,
    other=_from_identifier,
    get_error=(
        TypeError,
        "Could not interpret initializer identifier: expected a name, an Initializer, a config "
        "dict, a function or an array. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize expects an Initializer. Received: initializer={value!r}",
    ),
)


def serialize(initializer: Initializer) -> dict:
    """Return a JSON-serializable description of an initializer (Keras's layout).

    Args:
        initializer: an Initializer.

    Returns:
        ``{'module', 'class_name', 'config', 'registered_name'}``.

    Raises:
        TypeError: for anything that is not an Initializer.

    Example:
        >>> serialize(RandomNormal(stddev=0.1))["config"]
        {'seed': None, 'mean': 0.0, 'stddev': 0.1}
    """
    return _REGISTRY.serialize(initializer)


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Initializer:
    """Rebuild an initializer from the output of :func:`serialize` (or a name).

    Args:
        config: a dict with ``'class_name'`` and ``'config'``, or a name.
        custom_objects: optional ``{name: class}`` for user initializers.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new Initializer.

    Raises:
        ValueError: for unknown class names, with close matches.
        TypeError: for a config that is not a dict or a string.

    Example:
        >>> deserialize({"class_name": "HeNormal", "config": {"seed": 3}})
        HeNormal(seed=3)
    """
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier: Any) -> Any:
    """Return the initializer an identifier stands for.

    Args:
        identifier: a name (``'glorot_uniform'``, ``'he_normal'``, ``'zeros'``,
            Keras's aliases ``'uniform'``, ``'normal'``, ``'one'``, ``'zero'``, or a
            class name such as ``'GlorotUniform'``); an Initializer (returned as
            is); an Initializer class (instantiated); a config dict; a function
            ``f(shape, dtype=None)`` (returned as is); an array (an initializer
            returning a copy of it); or None.

    Returns:
        An initializer, a function, or None.

    Raises:
        ValueError: for unknown names, with close matches.
        TypeError: for identifiers of any other type.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None)
        >>> get("glorot_unifrom")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Unknown initializer: 'glorot_unifrom'. Did you mean 'glorot_uniform'...
    """
    return _REGISTRY.get(identifier)


def _from_array(array: Any) -> Callable[..., Any]:
    values = np.array(backend.to_numpy(array))

    def initialize_from_array(shape: Sequence[int], dtype: Any = None) -> Any:
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=False)
        if shape != values.shape:
            raise ValueError(
                f"An array used as initializer must have the requested shape {values.shape}. "
                f"Received: shape={shape}"
            )
        return _to_backend(values.copy(), dt)

    return initialize_from_array


# Keras 3 exports each initializer class under its snake_case name too (``zeros`` *is*
# ``Zeros``), and Identity/Orthogonal under longer names.
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
random_uniform = RandomUniform
random_normal = RandomNormal
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal
__all__ += ["IdentityInitializer", "OrthogonalInitializer", "constant", "zeros", "ones",
            "identity", "random_uniform", "random_normal", "truncated_normal",
            "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
            "lecun_uniform", "lecun_normal", "orthogonal"]


# --- STFT: the kernels of STFTSpectrogram (Keras 3's STFT / STFTInitializer / stft) ----------

#: SciPy's names (and aliases) of the windows chainrule writes out in NumPy.
_WINDOW_NAMES = {
    "hann": "hann", "han": "hann",
    "hamming": "hamming", "hamm": "hamming", "ham": "hamming",
    "blackman": "blackman", "black": "blackman", "blk": "blackman",
    "bartlett": "bartlett", "bart": "bartlett", "brt": "bartlett",
    "triang": "triang", "triangle": "triang", "tri": "triang",
    "boxcar": "boxcar", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
    "rectangular": "boxcar",
    "cosine": "cosine", "halfcosine": "cosine",
}


def _check_window_name(window: Any, owner: str) -> None:
    if isinstance(window, str) and window not in _WINDOW_NAMES:
        raise ValueError(
            f"{owner}: unknown window {window!r}; chainrule knows SciPy's "
            f"{', '.join(sorted(set(_WINDOW_NAMES.values())))} (or pass the window's values "
            f"as an array). Received: window={window!r}")


def get_window(window: str, length: int, periodic: bool = False) -> np.ndarray:
    """A named window of ``length`` samples, as SciPy's ``get_window(window, length, periodic)``.

    Args:
        window: ``"hann"``, ``"hamming"``, ``"blackman"``, ``"bartlett"``, ``"triang"``,
            ``"boxcar"`` or ``"cosine"`` (and SciPy's aliases of these).
        length: the number of samples.
        periodic: the periodic window (the first ``length`` samples of the symmetric
            window of ``length + 1``), as used for spectral analysis; else symmetric.

    Returns:
        A float64 NumPy array of shape ``(length,)``.

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> get_window("hann", 5).round(6).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0]
        >>> get_window("hann", 4, periodic=True).round(6).tolist()
        [0.0, 0.5, 1.0, 0.5]
    """
    _check_window_name(window, "get_window")
    kind = _WINDOW_NAMES[window]
    if length <= 1:
        return np.ones(max(int(length), 0))
    m = int(length) + 1 if periodic else int(length)
    n = np.arange(m)
    if kind in ("hann", "hamming", "blackman"):
        coef = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46),
                "blackman": (0.42, 0.5, 0.08)}[kind]
        w = sum((-1) ** k * a * np.cos(2 * np.pi * k * n / (m - 1)) for k, a in enumerate(coef))
    elif kind == "bartlett":
        w = np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    elif kind == "triang":
        k = np.arange(1, (m + 1) // 2 + 1)
        if m % 2 == 0:
            half = (2 * k - 1.0) / m
            w = np.concatenate([half, half[::-1]])
        else:
            half = 2 * k / (m + 1.0)
            w = np.concatenate([half, half[-2::-1]])
    elif kind == "cosine":
        w = np.sin(np.pi / m * (n + 0.5))
    else:  # boxcar
        w = np.ones(m)
    return w[:length] if periodic else w


class STFT(Initializer):
    """The convolution kernels of a short-time Fourier transform (Keras's ``STFT``).

    Fills a ``(frame_length, 1, fft_bins)`` kernel with ``cos(-2 pi t f / fft_length)``
    (``side="real"``) or ``sin(...)`` (``side="imag"``) for sample ``t`` and frequency
    bin ``f``, where ``fft_length = 2 * (fft_bins - 1)``, times the window divided by
    its scale: convolving a signal with the two kernels at a stride gives the real and
    imaginary parts of its STFT. :class:`~chainrule.layers.STFTSpectrogram` uses it.
    Also importable as ``STFTInitializer`` and ``stft``.

    Args:
        side: ``"real"`` (default) or ``"imag"``.
        window: a window name (SciPy's: ``"hann"``, ``"hamming"``, ...), an array of
            ``frame_length`` values, or None for no window.
        scaling: ``"density"`` (divide by the window's L2 norm), ``"spectrum"`` (by its
            sum) or None.
        periodic: use the periodic form of a named window; default False (symmetric).

    Raises:
        ValueError: for an unknown ``side``, ``scaling`` or window name, or a window
            array whose length is not the kernel's first dimension.

    Example:
        >>> k = STFT("real", window=None, scaling=None)((4, 1, 3))
        >>> k[:, 0, :].round(6).tolist()
        [[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [1.0, -1.0, 1.0], [1.0, -0.0, -1.0]]
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side must be 'real' or 'imag'. Received: side={side!r}")
        _check_window_name(window, "STFT")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("STFT: scaling must be None, 'density' or 'spectrum'. "
                             f"Received: scaling={scaling!r}")
        self.side = side
        self.window = (np.asarray(backend.to_numpy(window)).tolist()
                       if window is not None and not isinstance(window, str) else window)
        self.scaling = scaling
        self.periodic = bool(periodic)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Return the ``(frame_length, channels, fft_bins)`` kernel."""
        shape, dt = _standardize_shape(shape), _dtype(dtype, float_only=True)
        if len(shape) != 3:
            raise ValueError("STFT initializes kernels of shape (frame_length, 1, fft_bins). "
                             f"Received: shape={shape}")
        frame_length, _, bins = shape
        fft_length = (bins - 1) * 2
        t = np.arange(frame_length, dtype=np.float64)[:, None, None]
        f = np.arange(bins, dtype=np.float64)[None, None, :] / max(fft_length, 1)
        angle = -2.0 * np.pi * t * f
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            win = (get_window(self.window, frame_length, self.periodic)
                   if isinstance(self.window, str) else np.asarray(self.window, np.float64))
            if win.shape != (frame_length,):
                raise ValueError(
                    "STFT: the window must have frame_length values (the kernel's first "
                    f"dimension, {frame_length}). Received: window of shape {win.shape}")
            scale = 1.0
            if self.scaling == "density":
                scale = float(np.sqrt(np.sum(win * win)))
            elif self.scaling == "spectrum":
                scale = float(np.sum(np.abs(win)))
            kernel = kernel * win[:, None, None] / scale
        return _to_backend(np.array(np.broadcast_to(kernel, shape), dtype=dt), dt)

    def get_config(self) -> dict:
        """Return ``{'side', 'window', 'periodic', 'scaling'}``."""
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


STFTInitializer = STFT
stft = STFT
_CLASSES.update({"STFT": STFT, "STFTInitializer": STFT})
_NAMES.update({"stft": STFT})
__all__ += ["STFT", "STFTInitializer", "stft"]

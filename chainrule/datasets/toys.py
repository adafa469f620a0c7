"""Small generated datasets for the lessons: logic gates, XOR, spirals, moons, study/sleep.

Every generator returns NumPy arrays: features in :func:`chainrule.backend.floatx`
(float32 unless changed) and integer (int64) class labels, or float targets for
the regression. Random draws come from ``numpy.random.default_rng(seed)``; with
``seed=None`` they come from chainrule's generator, so
``chainrule.utils.set_random_seed`` makes them reproducible.

Example:
    >>> from chainrule.datasets import make_gates
    >>> x, y = make_gates("xor")
    >>> x.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from chainrule import backend

__all__ = ["GATES", "make_gates", "make_moons", "make_spirals", "make_study_sleep", "make_xor"]

#: Truth tables: the output for the inputs (0, 0), (0, 1), (1, 0), (1, 1).
GATES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "nand": (1, 1, 1, 0),
    "or": (0, 1, 1, 1),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
}
_INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))
_LABEL_DTYPE = np.int64


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _check_noise(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0. Received: noise={value!r}")
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)


def _generator(seed: Any) -> np.random.Generator:
    """Return the generator for ``seed``: chainrule's when None, a fresh seeded one else."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            "seed must be None, a non-negative integer or a numpy.random.Generator. "
            f"Received: seed={seed!r}"
        )
    return np.random.default_rng(int(seed))


def _float_dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return np.dtype(backend.floatx())
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise ValueError(f"dtype must be a float type such as 'float32'. Received: dtype={dtype!r}")
    return result


def make_gates(gate: str = "and", dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the four rows of a two-input logic gate's truth table.

    Args:
        gate: ``"and"``, ``"nand"``, ``"or"``, ``"nor"``, ``"xor"`` or ``"xnor"``
            (any case).
        dtype: float type of the inputs; defaults to ``backend.floatx()``.

    Returns:
        ``(x, y)``: inputs of shape (4, 2) in the order (0, 0), (0, 1), (1, 0),
        (1, 1), and the 0/1 outputs as int64 of shape (4,).

    Raises:
        ValueError: for an unknown gate.

    Example:
        >>> x, y = make_gates("nand")
        >>> y.tolist()
        [1, 1, 1, 0]
    """
    key = gate.lower() if isinstance(gate, str) else None
    if key not in GATES:
        known = ", ".join(repr(g) for g in GATES)
        import difflib  # noqa: PLC0415  (loads only for a wrong name)

        close = difflib.get_close_matches(str(gate).lower(), list(GATES), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"gate must be one of {known}.{hint} Received: gate={gate!r}")
    x = np.array(_INPUTS, dtype=_float_dtype(dtype))
    y = np.array(GATES[key], dtype=_LABEL_DTYPE)
    return x, y


def make_xor(
    n_samples: int | None = None,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the XOR problem: the four corners, or clouds of points around them.

    With ``n_samples=None`` this is the XOR truth table (as ``make_gates("xor")``)
    plus optional noise. With ``n_samples`` set, the points are spread evenly over
    the four corners (corner ``i % 4`` for point ``i``), then shuffled. The label
    of a point is the XOR of its corner's coordinates.

    Args:
        n_samples: number of points, or None for the four corners in truth-table
            order.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        seed: integer seed, a ``numpy.random.Generator``, or None for chainrule's
            generator.
        shuffle: shuffle the points (only with ``n_samples``).
        dtype: float type of the inputs; defaults to ``backend.floatx()``.

    Returns:
        ``(x, y)``: inputs of shape (n, 2) and int64 labels of shape (n,).

    Example:
        >>> x, y = make_xor(n_samples=8, noise=0.1, seed=0)
        >>> x.shape, y.shape, int(y.sum())
        ((8, 2), (8,), 4)
    """
    noise = _check_noise(noise)
    shuffle = _check_bool("shuffle", shuffle)
    float_dtype = _float_dtype(dtype)
    corners = np.array(_INPUTS, dtype=np.float64)
    if n_samples is None:
        index = np.arange(4)
    else:
        n_samples = _check_count("n_samples", n_samples, 1)
        index = np.arange(n_samples) % 4
    rng = _generator(seed) if noise or (shuffle and n_samples is not None) else None
    if shuffle and n_samples is not None:
        index = rng.permutation(index)
    x = corners[index]
    if noise:
        x = x + rng.normal(0.0, noise, size=x.shape)
    y = np.array(GATES["xor"], dtype=_LABEL_DTYPE)[index]
    return x.astype(float_dtype), y


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.2,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return interleaved spiral arms, one per class (the CS231n spiral data).

    Class ``k`` gets ``n_samples // n_classes`` points (the first
    ``n_samples % n_classes`` classes one more). Its point ``j`` of ``m`` has
    radius ``r = j / (m - 1)`` and angle ``2*pi*k / n_classes + 4*r + noise * N(0, 1)``
    radians, at ``(r * sin(angle), r * cos(angle))``. No straight line
    separates the arms: a hidden layer is needed.

    Args:
        n_samples: total number of points, at least ``n_classes``.
        n_classes: number of arms and classes, at least 2.
        noise: standard deviation of the Gaussian noise on the angle, in radians.
        seed: integer seed, a ``numpy.random.Generator``, or None for chainrule's
            generator.
        shuffle: shuffle the points; otherwise class 0 comes first, then 1, ...
        dtype: float type of the inputs; defaults to ``backend.floatx()``.

    Returns:
        ``(x, y)``: inputs of shape (n_samples, 2) within the unit disc, and int64
        labels in ``[0, n_classes)`` of shape (n_samples,).

    Example:
        >>> x, y = make_spirals(300, n_classes=3, seed=0)
        >>> x.shape, sorted(set(y.tolist()))
        ((300, 2), [0, 1, 2])
    """
    n_classes = _check_count("n_classes", n_classes, 2)
    n_samples = _check_count("n_samples", n_samples, 1)
    if n_samples < n_classes:
        raise ValueError(
            "n_samples must be at least n_classes, so that every class has a point. "
            f"Received: n_samples={n_samples}, n_classes={n_classes}"
        )
    noise = _check_noise(noise)
    shuffle = _check_bool("shuffle", shuffle)
    float_dtype = _float_dtype(dtype)
    rng = _generator(seed) if noise or shuffle else None
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        angle = 2 * np.pi * k / n_classes + 4.0 * r
        if noise:
            angle = angle + rng.normal(0.0, noise, size=m)
        # + 0.0 turns the -0.0 at the centre into 0.0, which prints more kindly
        xs.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1) + 0.0)
        ys.append(np.full(m, k, dtype=_LABEL_DTYPE))
    x, y = np.concatenate(xs), np.concatenate(ys)
    if shuffle:
        order = rng.permutation(n_samples)
        x, y = x[order], y[order]
    return x.astype(float_dtype), y


def make_moons(
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return two interleaving half circles (as scikit-learn's ``make_moons``).

    Class 0, the upper moon, has ``n_samples // 2`` points
    ``(cos t, sin t)``; class 1, the lower moon, the rest at
    ``(1 - cos t, 0.5 - sin t)``, with ``t`` evenly spaced in ``[0, pi]``.

    Args:
        n_samples: total number of points, at least 2.
        noise: standard deviation of the Gaussian noise added to each coordinate.
        seed: integer seed, a ``numpy.random.Generator``, or None for chainrule's
            generator.
        shuffle: shuffle the points; otherwise class 0 comes first.
        dtype: float type of the inputs; defaults to ``backend.floatx()``.

    Returns:
        ``(x, y)``: inputs of shape (n_samples, 2) and int64 labels 0/1 of shape
        (n_samples,).

    Example:
        >>> x, y = make_moons(4, shuffle=False)
        >>> x.round(3).tolist(), y.tolist()
        ([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]], [0, 0, 1, 1])
    """
    n_samples = _check_count("n_samples", n_samples, 2)
    noise = _check_noise(noise)
    shuffle = _check_bool("shuffle", shuffle)
    float_dtype = _float_dtype(dtype)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out, _LABEL_DTYPE), np.ones(n_in, _LABEL_DTYPE)])
    rng = _generator(seed) if noise or shuffle else None
    if shuffle:
        order = rng.permutation(n_samples)
        x, y = x[order], y[order]
    if noise:
        x = x + rng.normal(0.0, noise, size=x.shape)
    return x.astype(float_dtype), y


def make_study_sleep(
    n: int = 1000,
    seed: int | np.random.Generator | None = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the study-hours/sleep-hours exam-score regression of the lessons.

    ``study`` and ``sleep`` are drawn from U(1, 8) hours (study first, both of
    shape (n, 1)); the score is ``5 * study + 2 * sleep + 40``. As in the lesson,
    the features are scaled by their column maximum (``X / X.max(axis=0)``) and
    the score by 100, so a network with a sigmoid output can fit it.

    Args:
        n: number of students, at least 1.
        seed: integer seed, a ``numpy.random.Generator``, or None for chainrule's
            generator.
        dtype: float type of both arrays; defaults to ``backend.floatx()``.

    Returns:
        ``(x, y)``: ``x`` of shape (n, 2), the scaled (study, sleep), each column
        with maximum 1; ``y`` of shape (n, 1), the score / 100.

    Example:
        >>> x, y = make_study_sleep(1000, seed=0)
        >>> x.shape, y.shape, x.max(axis=0).tolist()
        ((1000, 2), (1000, 1), [1.0, 1.0])
    """
    n = _check_count("n", n, 1)
    float_dtype = _float_dtype(dtype)
    rng = _generator(seed)
    study = rng.uniform(1, 8, (n, 1))
    sleep = rng.uniform(1, 8, (n, 1))
    y = 5 * study + 2 * sleep + 40
    x = np.append(study, sleep, axis=1)
    x = x / x.max(axis=0)
    y = y / 100
    return x.astype(float_dtype), y.astype(float_dtype)

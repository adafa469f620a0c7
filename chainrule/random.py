"""Random draws with Keras 3's ``keras.random`` API: ``normal``, ``uniform``, ``dropout``, ...

Every function takes a ``seed``, as in Keras:

* ``None`` (the default): chainrule's global generator, the one
  :func:`chainrule.utils.set_random_seed` seeds (reproducible after re-seeding);
* an int: the same numbers at every call (a stateless draw);
* a :class:`SeedGenerator`: a new draw at every call, reproducible from the
  generator's seed.

Each draw happens inside an op's ``forward``, so a layer that draws in its
``call`` (noise, masks) is captured like any other: the replayed step draws
fresh numbers at every step, from the same generator and in the same order as
the tape would.

Example:
    >>> import chainrule as cr
    >>> a = cr.random.normal((2,), seed=7)
    >>> b = cr.random.normal((2,), seed=7)
    >>> bool((a.numpy() == b.numpy()).all())
    True
"""

from __future__ import annotations

import math
import random as _pyrandom
from typing import Any, Sequence

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.autograd.variable import Variable

__all__ = ["SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "categorical",
           "dropout", "shuffle", "gamma", "beta", "binomial"]


class SeedGenerator:
    """A seed that moves on at every draw: pass it as ``seed=`` to get new numbers each call.

    Its state is ``[seed, counter]`` (uint32); each draw uses the current state and
    increments the counter, as Keras's generator does, so a run is reproducible
    from the seed.

    Args:
        seed: an int, or None to take one from Python's ``random`` (itself seeded by
            :func:`chainrule.utils.set_random_seed`).
        name: optional name.

    Attributes:
        state: a non-trainable uint32 Variable of shape ``(2,)``.

    Example:
        >>> import chainrule as cr
        >>> gen = cr.random.SeedGenerator(42)
        >>> a = cr.random.uniform((3,), seed=gen)
        >>> b = cr.random.uniform((3,), seed=gen)
        >>> bool((a.numpy() == b.numpy()).all())
        False
    """

    _count = 0

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"SeedGenerator: unrecognized arguments. Received: {sorted(kwargs)}")
        self._initial_seed = seed
        if seed is None:
            seed = _pyrandom.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        if name is None:
            SeedGenerator._count += 1
            n = SeedGenerator._count
            name = "seed_generator" if n == 1 else f"seed_generator_{n - 1}"
        self.name = name
        self.state = Variable(np.array([int(seed) & 0xFFFFFFFF, 0], dtype=np.uint32),
                              name="seed_generator_state", trainable=False)

    def next(self, ordered: bool = True) -> np.ndarray:
        """Return the current state (a copy) and move it on.

        Args:
            ordered: increment the counter (True, the default) or scramble the state.

        Returns:
            A uint32 array of shape ``(2,)``, the seed of one draw.
        """
        data = self.state.data
        value = np.array(backend.to_numpy(data), dtype=np.uint32)
        if ordered:
            new = value + np.array([0, 1], dtype=np.uint32)
        else:
            new = ((value.astype(np.uint64) + 1) * 5387 % 933199).astype(np.uint32)
        data[...] = backend.as_array(new)
        return value

    def get_config(self) -> dict:
        """The seed it was made with and its name."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        """Make a generator from :meth:`get_config`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name}, state={backend.to_numpy(self.state.data).tolist()}>"


def _check_seed(seed: Any) -> Any:
    if seed is None or isinstance(seed, SeedGenerator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    raise ValueError("Argument `seed` must be either an integer or an instance of "
                     f"`SeedGenerator`. Received: seed={seed!r} (of type {type(seed).__name__})")


def _generator(seed: Any) -> np.random.Generator:
    """The NumPy generator for one draw (see the module's docstring for the seed rules)."""
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    return np.random.default_rng(np.array([seed & 0xFFFFFFFF, 0], dtype=np.uint32))


class _Seeded:
    """A ``random(shape)`` source drawing from :func:`_generator` each call (for ops.dropout)."""

    __slots__ = ("seed",)

    def __init__(self, seed: Any) -> None:
        self.seed = seed

    def random(self, shape: Sequence[int]) -> np.ndarray:
        return _generator(self.seed).random(shape)

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:  # the same source on two traced steps
        return isinstance(other, _Seeded) and (other.seed is self.seed or other.seed == self.seed)

    def __hash__(self) -> int:
        return hash(id(self.seed)) if isinstance(self.seed, SeedGenerator) else hash(self.seed)


def _truncated(rng: np.random.Generator, shape: tuple, mean: float, stddev: float) -> np.ndarray:
    n = math.prod(shape)
    out = np.empty(0)
    while out.size < n:  # redraw what falls beyond two standard deviations
        batch = rng.normal(loc=mean, scale=stddev, size=n)
        out = np.append(out, batch[np.abs(batch - mean) <= 2 * stddev])
    return out[:n].reshape(shape)


class Draw(Function):
    """A random array drawn in ``forward`` (so every replay of a captured step draws anew)."""

    differentiable = False

    def __init__(self, kind, shape, params, dtype, seed):
        self.kind, self.shape, self.params, self.dtype, self.seed = kind, shape, params, dtype, seed

    def forward(self, *xs):
        rng = _generator(self.seed)
        k, shape, p = self.kind, self.shape, self.params
        if k == "normal":
            a = rng.normal(loc=p[0], scale=p[1], size=shape)
        elif k == "uniform":
            a = rng.uniform(low=p[0], high=p[1], size=shape)
        elif k == "randint":
            a = rng.integers(low=p[0], high=p[1], size=shape, dtype=self.dtype)
        elif k == "truncated_normal":
            a = _truncated(rng, shape, p[0], p[1])
        elif k == "gamma":
            a = rng.gamma(p[0], scale=1.0, size=shape)
        elif k == "beta":
            a = rng.beta(a=p[0], b=p[1], size=shape)
        elif k == "binomial":
            a = rng.binomial(n=p[0], p=p[1], size=shape)
        elif k == "permutation":
            a = rng.permutation(shape[0])
        else:  # categorical: one Gumbel-max sample per row and draw, from the logits xs[0]
            logits = backend.to_numpy(xs[0]).astype(np.float64)
            u = rng.uniform(size=(logits.shape[0], p[0], logits.shape[1]))
            gumbel = -np.log(-np.log(np.clip(u, 1e-300, 1.0)))
            a = np.argmax(logits[:, None, :] + gumbel, axis=-1)
        return backend.as_array(np.asarray(a).astype(self.dtype, copy=False))

    def backward(self, gy):
        return (None,)


def _shape(shape: Any, fn: str) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        dims = None
    if dims is None or any(n < 0 for n in dims):
        raise ValueError(f"{fn}: shape must be a tuple of non-negative integers. Received: "
                         f"shape={shape!r}")
    return dims


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    dt = np.dtype(dtype or backend.floatx())
    if dt.kind != "f":
        raise ValueError(f"{fn}: dtype must be a float type. Received: dtype={dtype!r}")
    return dt


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Tensor:
    """Draw from a normal distribution.

    Args:
        shape: the shape of the result.
        mean: the mean.
        stddev: the standard deviation.
        dtype: a float dtype (default ``floatx``).
        seed: None, an int or a :class:`SeedGenerator` (see the module's docstring).

    Returns:
        A Tensor (no gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.random.normal((2, 3), seed=1).shape
        (2, 3)
    """
    return Draw("normal", _shape(shape, "normal"), (float(mean), float(stddev)),
                _float_dtype(dtype, "normal"), _check_seed(seed))()


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Tensor:
    """Draw uniformly from ``[minval, maxval)``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.random.uniform((100,), minval=2.0, maxval=3.0, seed=1).numpy()
        >>> bool((x >= 2).all() and (x < 3).all())
        True
    """
    if dtype is not None and np.dtype(dtype).kind in "iu":
        return randint(shape, int(minval), int(maxval), dtype=dtype, seed=seed)
    return Draw("uniform", _shape(shape, "uniform"), (float(minval), float(maxval)),
                _float_dtype(dtype, "uniform"), _check_seed(seed))()


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> Tensor:
    """Draw integers uniformly from ``[minval, maxval)``.

    Raises:
        ValueError: when ``maxval <= minval``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.random.randint((50,), 0, 3, seed=1)
        >>> x.dtype, sorted(set(x.numpy().tolist()))
        (dtype('int32'), [0, 1, 2])
    """
    if int(maxval) <= int(minval):
        raise ValueError(f"randint: maxval must be greater than minval. Received: "
                         f"minval={minval}, maxval={maxval}")
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise ValueError(f"randint: dtype must be an integer type. Received: dtype={dtype!r}")
    return Draw("randint", _shape(shape, "randint"), (int(minval), int(maxval)), dt,
                _check_seed(seed))()


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Tensor:
    """Draw from a normal distribution, redrawing values more than two ``stddev`` from the mean.

    Example:
        >>> import chainrule as cr
        >>> x = cr.random.truncated_normal((1000,), seed=1).numpy()
        >>> bool(abs(x).max() <= 2)
        True
    """
    return Draw("truncated_normal", _shape(shape, "truncated_normal"),
                (float(mean), float(stddev)), _float_dtype(dtype, "truncated_normal"),
                _check_seed(seed))()


def gamma(shape: Any, alpha: float, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draw from a gamma distribution with shape ``alpha`` and scale 1.

    Example:
        >>> import chainrule as cr
        >>> bool((cr.random.gamma((10,), 2.0, seed=1).numpy() > 0).all())
        True
    """
    if not float(alpha) > 0:
        raise ValueError(f"gamma: alpha must be positive. Received: alpha={alpha!r}")
    return Draw("gamma", _shape(shape, "gamma"), (float(alpha),), _float_dtype(dtype, "gamma"),
                _check_seed(seed))()


def beta(shape: Any, alpha: float, beta: float, dtype: Any = None, seed: Any = None) -> Tensor:
    """Draw from a beta distribution with parameters ``alpha`` and ``beta``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.random.beta((10,), 2.0, 3.0, seed=1).numpy()
        >>> bool(((x > 0) & (x < 1)).all())
        True
    """
    if not (float(alpha) > 0 and float(beta) > 0):
        raise ValueError(f"beta: alpha and beta must be positive. Received: alpha={alpha!r}, "
                         f"beta={beta!r}")
    return Draw("beta", _shape(shape, "beta"), (float(alpha), float(beta)),
                _float_dtype(dtype, "beta"), _check_seed(seed))()


def binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> Tensor:
    """Draw the number of successes in ``counts`` trials of probability ``probabilities``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.random.binomial((10,), 5, 0.5, seed=1).numpy()
        >>> bool(((x >= 0) & (x <= 5)).all())
        True
    """
    p = float(probabilities)
    if not 0 <= p <= 1:
        raise ValueError(f"binomial: probabilities must be in [0, 1]. Received: "
                         f"probabilities={probabilities!r}")
    return Draw("binomial", _shape(shape, "binomial"), (int(counts), p),
                np.dtype(dtype or backend.floatx()), _check_seed(seed))()


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Draw class indices from the categorical distributions ``softmax(logits)``, one per row.

    Args:
        logits: shape ``(batch, classes)``, unnormalized log-probabilities.
        num_samples: draws per row.
        dtype: an integer dtype.
        seed: None, an int or a :class:`SeedGenerator`.

    Returns:
        Shape ``(batch, num_samples)`` (no gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.random.categorical(cr.Tensor([[0.0, 50.0]]), 3, seed=1)
        Tensor([[1, 1, 1]], dtype=int32)
    """
    from chainrule.ops.core import as_input, raw  # noqa: PLC0415

    logits = as_input(logits)
    if np.ndim(raw(logits)) != 2:
        raise ValueError(f"categorical: logits must have shape (batch, classes). Received: "
                         f"logits of shape {np.shape(raw(logits))}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or \
            num_samples < 1:
        raise ValueError(f"categorical: num_samples must be a positive integer. Received: "
                         f"num_samples={num_samples!r}")
    return Draw("categorical", (), (int(num_samples),), np.dtype(dtype), _check_seed(seed))(logits)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero each element with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    The mask is drawn inside the op (chainrule's ``ops.dropout``), so a captured
    step draws a new mask at every replay.

    Args:
        inputs: any shape.
        rate: in [0, 1] (1 gives zeros).
        noise_shape: optional mask shape broadcast to ``inputs`` (None entries take
            the input's size).
        seed: None, an int or a :class:`SeedGenerator`.

    Returns:
        A Tensor of ``inputs``'s shape; the gradient passes through the kept elements.

    Example:
        >>> import chainrule as cr
        >>> y = cr.random.dropout(cr.Tensor(np.ones(1000)), 0.5, seed=3).numpy()
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    from chainrule.ops.core import as_input  # noqa: PLC0415
    from chainrule.ops.math import multiply  # noqa: PLC0415
    from chainrule.ops.nn import dropout as _dropout  # noqa: PLC0415

    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"dropout: rate must be a number in [0, 1]. Received: rate={rate!r}")
    seed = _check_seed(seed)
    inputs = as_input(inputs)
    if rate == 1:
        return multiply(inputs, 0.0)
    return _dropout(inputs, float(rate), noise_shape, None if seed is None else _Seeded(seed))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """Shuffle ``x`` along ``axis`` (whole slices move; the gradient follows them back).

    Example:
        >>> import chainrule as cr
        >>> sorted(cr.random.shuffle(cr.Tensor([1.0, 2.0, 3.0]), seed=1).numpy().tolist())
        [1.0, 2.0, 3.0]
    """
    from chainrule.ops.core import as_input, raw  # noqa: PLC0415
    from chainrule.ops.indexing import take  # noqa: PLC0415

    x = as_input(x)
    shape = np.shape(raw(x))
    nd = len(shape)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -nd <= axis < nd:
        raise ValueError(f"shuffle: axis out of range for a tensor with {nd} dimensions. "
                         f"Received: axis={axis!r}")
    ax = int(axis) % nd
    perm = Draw("permutation", (shape[ax],), (), np.dtype(np.intp), _check_seed(seed))()
    return take(x, perm, axis=ax)

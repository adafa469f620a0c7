"""The stateful metric base class and the reduction metrics ``Mean`` and ``Sum``.

A metric keeps running totals across batches: ``update_state`` adds one
batch, ``result`` reads the value so far, ``reset_state`` starts over (``fit``
calls it at the start of every epoch). Totals are Python floats, so an update
costs a few NumPy reductions and no allocation of state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.variable import Variable
from chainrule.backend.scoping import scoped_path
from chainrule.metrics._utils import check_name, samplewise_values, to_numpy

__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum"]


def _snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _check_dtype(dtype: Any) -> str:
    if dtype is None:
        return backend.floatx()
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise ValueError(f"dtype must be a floating-point type. Received: dtype={dtype!r}")
    return dt.name


class Metric:
    """Base class of stateful metrics (Keras's ``keras.metrics.Metric``).

    Subclasses implement ``update_state``, ``result`` and ``reset_state``, and
    ``get_config`` when their constructor takes more than ``name`` and ``dtype``.

    Args:
        name: the metric's name, used as the key in the training history.
            Defaults to the class name in snake case.
        dtype: the float type of array results. Defaults to ``backend.floatx()``.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, name="count", dtype=None):
        ...         super().__init__(name=name, dtype=dtype)
        ...         self.n = 0
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n += len(y_true)
        ...     def result(self):
        ...         return float(self.n)
        ...     def reset_state(self):
        ...         self.n = 0
        >>> m = Count(); m.update_state([1, 0], [1, 1]); m.result()
        2.0
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        check_name(name)
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = _check_dtype(dtype)
        self._variables: list = []

    # -- state variables (Keras 3's add_variable) --------------------------------------
    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Any:
        """Create a state variable of this metric (a running total, a count, a matrix).

        Update it in ``update_state`` with ``assign``, ``assign_add`` or
        ``assign_sub``; the default :meth:`reset_state` sets every variable back
        to zeros, as in Keras.

        Args:
            shape: the variable's shape (default: a scalar).
            initializer: an initializer name or object (default ``'zeros'``).
            dtype: default the metric's dtype.
            aggregation: accepted for Keras compatibility (``'sum'``, ``'mean'``, ...).
            name: the variable's name.

        Returns:
            The new non-trainable :class:`~chainrule.layers.Variable`.

        Example:
            >>> class Count(Metric):
            ...     def __init__(self, name="count", **kwargs):
            ...         super().__init__(name=name, **kwargs)
            ...         self.n = self.add_variable(shape=(), name="n")
            ...     def update_state(self, y_true, y_pred, sample_weight=None):
            ...         self.n.assign_add(len(y_true))
            ...     def result(self):
            ...         return self.n
            >>> m = Count(); m.update_state([1, 0], [1, 1]); float(m.result().numpy())
            2.0
            >>> m.reset_state(); float(m.result().numpy())
            0.0
        """
        from chainrule import initializers  # noqa: PLC0415
        if aggregation not in ("none", "mean", "sum", "only_first_replica", None):
            raise ValueError("aggregation must be 'none', 'mean', 'sum' or "
                             f"'only_first_replica'. Received: aggregation={aggregation!r}")
        dtype = dtype or self._dtype
        shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        init = initializers.get(initializer if initializer is not None else "zeros")
        name = name or f"variable_{len(self._variables)}"
        var = Variable(init(shape, dtype=dtype), name=name, trainable=False, dtype=dtype)
        var.path = scoped_path(f"{self.name}/{name}")  # under any open name_scope
        self._variables.append(var)
        return var

    def add_weight(self, shape: Any = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None) -> Any:
        """Keras's older spelling of :meth:`add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state variables made with :meth:`add_variable`."""
        return list(getattr(self, "_variables", []))

    @property
    def dtype(self) -> str:
        """The float type of the metric's array results, as a string."""
        return self._dtype

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate the statistics of one batch."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement "
            "update_state(y_true, y_pred, sample_weight=None)."
        )

    def result(self) -> Any:
        """Return the metric value over every batch since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Forget every batch seen so far: every state variable back to zeros (override it
        when the state is kept otherwise)."""
        variables = self.variables
        if not variables:
            raise NotImplementedError(
                f"{type(self).__name__} must implement reset_state(), or keep its state in "
                "variables made with add_variable() (reset to zeros by default).")
        for v in variables:
            v.assign(np.zeros(v.shape, dtype=v.dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Update the state with one batch and return the new result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        """Return the constructor arguments as a JSON-serializable dict."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        """Create a metric from the output of :meth:`get_config`.

        Args:
            config: the dict returned by ``get_config``.

        Returns:
            A new metric with a fresh state.
        """
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Sum(Metric):
    """The (weighted) sum of the values given to ``update_state``.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = Sum()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> m.result()
        4.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add ``sum(values * sample_weight)`` to the total.

        Args:
            values: an array of any shape.
            sample_weight: None, a scalar, or weights broadcastable to ``values``.
        """
        values = to_numpy(values)
        values, _ = samplewise_values(values, sample_weight, np.sum)
        self.total += float(values.sum())

    def result(self) -> float:
        """Return the total."""
        return float(self.total)

    def reset_state(self) -> None:
        """Set the total back to 0."""
        self.total = 0.0


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state``.

    Values with more than one axis are first averaged per sample (over every
    axis but the first), as in Keras; the weights then count samples.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7])
        >>> m.result()
        4.0
        >>> m.update_state([10], sample_weight=[2])
        >>> m.result()
        6.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add a batch of values.

        Args:
            values: an array whose first axis is the batch.
            sample_weight: None, a scalar, or weights broadcastable to ``values``
                (typically one per sample).
        """
        values = to_numpy(values)
        if sample_weight is None and values.ndim:
            # NOTE: the path fit takes on every batch: one reduction, no copies. The sum of
            # the per-sample means is the total sum divided by the values per sample.
            n = values.shape[0]
            if n:
                total = (  # np.add.reduce: ndarray.sum's arithmetic without its Python layer
                    int(np.count_nonzero(values)) if values.dtype == bool
                    else float(np.add.reduce(values, axis=None))
                )
                per_sample = values.size // n
                self.total += total / per_sample if per_sample > 1 else total
                self.count += n
            return
        values, sample_weight = samplewise_values(values, sample_weight, np.mean)
        self.total += float(values.sum())
        if sample_weight is not None:
            self.count += float(sample_weight.sum())
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self) -> float:
        """Return ``total / count`` (0.0 before any sample, or when all weights are 0)."""
        return float(self.total / self.count) if self.count else 0.0

    def reset_state(self) -> None:
        """Set total and count back to 0."""
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: a function of ``(y_true, y_pred)`` returning one value per sample
            (or per element; extra axes are averaged).
        name: the metric's name. Defaults to the function's name.
        dtype: the float type of results.
        **kwargs: keyword arguments passed on to ``fn``.

    Example:
        >>> def abs_err(y_true, y_pred):
        ...     return np.abs(np.asarray(y_true) - np.asarray(y_pred))
        >>> m = MeanMetricWrapper(abs_err)
        >>> m.update_state([0.0, 1.0], [0.5, 0.5])
        >>> m.name, m.result()
        ('abs_err', 0.5)
    """

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be a function of (y_true, y_pred). Received: fn={fn!r}")
        check_name(name)
        if name is None:
            name = _snake_case(getattr(fn, "__name__", type(fn).__name__))
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the per-sample values of one batch.

        Args:
            y_true: labels or targets, batch axis first.
            y_pred: predictions, batch axis first.
            sample_weight: None, or one weight per sample.
        """
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        """Return name, dtype, the function's registered name and its keyword arguments."""
        fn_name = getattr(self._fn, "__name__", None)
        return {"name": self.name, "dtype": self.dtype, "fn": fn_name, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MeanMetricWrapper:
        """Create the wrapper, finding ``fn`` by name among chainrule's metric functions.

        Args:
            config: the dict returned by ``get_config``.
            custom_objects: optional ``{name: function}`` for user functions.

        Returns:
            A new MeanMetricWrapper.
        """
        from chainrule.metrics import _function_by_name  # here: the package imports this module

        if "fn" not in config:  # subclasses whose function is fixed by the class
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str):
            fn = _function_by_name(fn, custom_objects)
        return cls(fn, **config)

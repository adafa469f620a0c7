"""``Discretization``: bucket continuous values by boundaries, given or learned as quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.layers.base import Layer, touch_structure
from chainrule.layers.preprocessing import _ops
from chainrule.layers.preprocessing._utils import adapt_batches, check_choice

__all__ = ["Discretization"]

_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    """Replace each value by the index of its bucket (Keras's ``Discretization``).

    With ``bin_boundaries=[0., 1., 2.]`` the buckets are ``(-inf, 0)``,
    ``[0, 1)``, ``[1, 2)`` and ``[2, inf)``. With ``num_bins``, :meth:`adapt`
    learns ``num_bins - 1`` boundaries as approximate quantiles of the data,
    by Keras's algorithm (a weighted summary of the sorted values, merged batch
    by batch and compressed to ``epsilon``), so the boundaries are Keras's.

    Args:
        bin_boundaries: sorted boundaries (exclusive with ``num_bins``).
        num_bins: the number of buckets to learn with :meth:`adapt`.
        epsilon: the summary's precision (default 0.01).
        output_mode: ``"int"`` (bucket indices, int32), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"`` (floats, ``len(boundaries) + 1`` wide).
        sparse: must be False (chainrule has no sparse tensors).
        **kwargs: layer arguments (``name``, ...).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]])).numpy()
        array([[0, 2, 3, 1]], dtype=int32)
    """

    def __init__(self, bin_boundaries: Any = None, num_bins: Any = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(output_mode, _MODES, "output_mode", "Discretization")
        if sparse:
            raise ValueError("Discretization: chainrule has no sparse tensors; outputs are "
                             f"dense. Received: sparse={sparse!r}")
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(
                num_bins, (int, np.integer)) or num_bins < 0):
            raise ValueError("Discretization: num_bins must be an integer >= 0. "
                             f"Received: num_bins={num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Discretization: set num_bins or bin_boundaries, not both. "
                             f"Received: num_bins={num_bins!r} and "
                             f"bin_boundaries={bin_boundaries!r}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization needs num_bins (then adapt) or bin_boundaries. "
                             "Received: num_bins=None and bin_boundaries=None")
        if not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or not (
                0 < epsilon < 1):
            raise ValueError(f"Discretization: epsilon must be a number in (0, 1). "
                             f"Received: epsilon={epsilon!r}")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in
                                                                  bin_boundaries]
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = float(epsilon)
        self.output_mode = output_mode
        self.sparse = False
        self._summary = np.zeros((2, 0), dtype=np.float32)

    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        """Learn ``num_bins - 1`` boundaries as quantiles of ``data`` (Keras's algorithm).

        Args:
            data: an array or an iterable of batches.
            batch_size: read an array in batches of this many rows.
            steps: read at most this many batches.

        Raises:
            ValueError: for a layer made with ``bin_boundaries``, or empty data.
        """
        if self.num_bins is None:
            raise ValueError(f'Discretization layer "{self.name}" was given bin_boundaries; '
                             "make it with num_bins to adapt it. Received: num_bins=None")
        summary = np.zeros((2, 0), dtype=np.float32)
        for batch in adapt_batches(data, f'Discretization layer "{self.name}"', steps,
                                   batch_size):
            summary = _merge(_summarize(np.asarray(batch, dtype=np.float32), self.epsilon),
                             summary, self.epsilon)
        self._summary = summary
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()
        touch_structure()

    def _boundaries(self) -> list:
        if self.bin_boundaries is None:
            raise ValueError(f'Discretization layer "{self.name}" has no bin boundaries: pass '
                             "bin_boundaries or call adapt(data) before using it. Received: "
                             "bin_boundaries=None")
        return self.bin_boundaries

    def call(self, inputs: Any, training: Any = None) -> Any:
        bounds = self._boundaries()
        idx = _ops.digitize(inputs, bounds)
        if self.output_mode == "int":
            return idx
        return _ops.encode(idx, self.output_mode, len(bounds) + 1, self.dtype, layer=self.name)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Discretization":
        config = dict(config)
        bounds = config.pop("bin_boundaries", None)
        if bounds is not None and config.get("num_bins") is not None:
            layer = cls(**config)  # an adapted layer: its learned boundaries
            layer.bin_boundaries = [float(b) for b in bounds]
            return layer
        return cls(bin_boundaries=bounds, **config)


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Every ``step``-th sorted value, weighted by ``step`` (about ``1/epsilon`` of them)."""
    values = np.sort(values.reshape(-1))
    step = max(values.size / (1.0 / epsilon), 1)
    picked = values[int(step - 1)::int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def _merge(a: np.ndarray, b: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((a, b), axis=1)
    return _compress(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Resample a summary at the cumulative-weight fractions ``epsilon, 2 epsilon, ..., 1``."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    at = cum / cum[-1]
    values = np.interp(fractions, at, summary[0])
    cum_new = np.interp(fractions, at, cum)
    weights = cum_new - np.concatenate((np.array([0]), cum_new[:-1]))
    return np.stack((values, weights)).astype("float32")

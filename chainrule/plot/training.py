"""Training curves: one run's loss and metrics (train vs validation), or several runs compared."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["history", "compare"]


def _as_dict(h: Any, name: str = "history") -> dict:
    """The ``{key: [values per epoch]}`` dict of a History, a ``fit`` result or a dict."""
    data = getattr(h, "history", h)
    if not isinstance(data, Mapping):
        raise TypeError(f"{name} must be a History (what fit() returns) or a dict of per-epoch "
                        f"lists. Received: {name} of type {type(h).__name__}")
    out = {}
    for key, values in data.items():
        arr = np.asarray(values, dtype=np.float64).ravel()
        out[str(key)] = arr
    if not out or all(v.size == 0 for v in out.values()):
        raise ValueError(f"{name} is empty: train with fit() first. Received: {name} with keys "
                         f"{list(out)}")
    return out


def history(history: Any, path: Any = None) -> Any:
    """Plot the loss and each metric per epoch, training against validation.

    One panel per quantity (``loss`` first), the training curve solid and its
    ``val_`` counterpart dashed, epochs counted from 1 as Keras prints them.

    Args:
        history: the History ``fit`` returns (or its ``.history`` dict,
            ``{'loss': [...], 'val_loss': [...], 'mae': [...]}``).
        path: optional PNG file to write.

    Returns:
        The matplotlib Figure, one Axes per quantity titled with its name.

    Raises:
        TypeError: if ``history`` is neither a History nor a dict.
        ValueError: if it holds no values.

    Example:
        >>> fig = history({"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.5]})
        >>> fig.axes[0].get_title(), len(fig.axes[0].get_lines())
        ('loss', 2)
    """
    data = _as_dict(history)
    bases = [k for k in data if not k.startswith("val_")]
    bases += [k[4:] for k in data if k.startswith("val_") and k[4:] not in data]
    bases.sort(key=lambda k: (k != "loss", list(data).index(k) if k in data else 0))
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    cols = min(3, len(bases))
    rows = math.ceil(len(bases) / cols)
    fig = new_figure(4.6 * cols, 3.4 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, key in zip(axes, bases):
        for name, style, label in ((key, "-", "training"), (f"val_{key}", "--", "validation")):
            if name in data and data[name].size:
                values = data[name]
                epochs = np.arange(1, values.size + 1)
                ax.plot(epochs, values, style, marker="o" if values.size <= 30 else None,
                        markersize=3, linewidth=1.8, label=label)
        ax.set_title(key)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[len(bases):]:
        ax.remove()
    fig.suptitle("Training history")
    return finish(fig, path)


def compare(histories: Mapping[str, Any], metric: str = "loss", path: Any = None,
            title: str | None = None, log_scale: bool = False) -> Any:
    """Plot one quantity of several runs on one Axes (batch sizes, optimizers, ...).

    Args:
        histories: ``{label: History or dict}``, one entry per run.
        metric: the key to plot (``'loss'``, ``'accuracy'``, ``'val_loss'``...).
        path: optional PNG file to write.
        title: the Axes title (default: ``metric`` per epoch).
        log_scale: use a logarithmic y axis.

    Returns:
        The matplotlib Figure with one line per run, labelled in the legend.

    Raises:
        ValueError: when ``histories`` is empty or a run lacks ``metric``.

    Example:
        >>> fig = compare({"sgd": {"loss": [1.0, 0.8]}, "adam": {"loss": [1.0, 0.4]}})
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['sgd', 'adam']
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("compare() needs a dict {label: history} with at least one run. "
                         f"Received: histories of type {type(histories).__name__}")
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    fig = new_figure(7.0, 4.4)
    ax = fig.subplots()
    for label, h in histories.items():
        data = _as_dict(h, f"histories[{label!r}]")
        if metric not in data:
            raise ValueError(f"Run {label!r} has no {metric!r}; it has {sorted(data)}. "
                             f"Received: metric={metric!r}")
        values = data[metric]
        ax.plot(np.arange(1, values.size + 1), values, linewidth=1.8, label=str(label))
    ax.set_title(title or f"{metric} per epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if log_scale:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return finish(fig, path)

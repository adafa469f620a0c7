"""Decision boundaries of classifiers on 2-D inputs: gates, XOR, moons, spirals."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["decision_boundary"]

_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
           "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    predict = getattr(model, "predict", None)
    if predict is None or not callable(predict):
        raise TypeError("decision_boundary() needs a model with a predict(x) method (a Perceptron "
                        f"or a Keras-style model). Received: model of type {type(model).__name__}")
    try:
        accepts_verbose = "verbose" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        accepts_verbose = False
    out = predict(x, verbose=0) if accepts_verbose else predict(x)
    if isinstance(out, (list, tuple)):
        out = out[0]
    return np.asarray(out, dtype=np.float64)


def _labels(y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] > 1:
        arr = arr.argmax(axis=1)
    arr = arr.reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"x and y must have the same number of samples. Received: {n} samples in "
                         f"x and {arr.shape[0]} in y")
    return np.rint(arr.astype(np.float64)).astype(np.int64)


def decision_boundary(model: Any, x: Any, y: Any, path: Any = None, resolution: int = 200,
                      title: str | None = None) -> Any:
    """Shade the regions a classifier assigns to each class, with the data on top.

    The model is asked for its prediction on a grid covering the data. A single
    output between 0 and 1 (a sigmoid) is drawn as a probability map with the
    0.5 contour as the boundary; several outputs (softmax) or 0/1 predictions
    (a Perceptron) as class regions.

    Args:
        model: anything with ``predict(x)``: a :class:`chainrule.models.Perceptron`,
            a Sequential/Model (called with ``verbose=0``).
        x: inputs, shape ``(samples, 2)``.
        y: labels, shape ``(samples,)`` or one-hot ``(samples, classes)``.
        path: optional PNG file to write.
        resolution: grid points per axis.
        title: the Axes title (default ``'Decision boundary: <model name>'``).

    Returns:
        The matplotlib Figure; its Axes holds the shaded regions, the boundary
        and one scatter collection per class.

    Raises:
        ValueError: if ``x`` is not 2-D with two features, or ``y`` does not match.
        TypeError: if ``model`` has no ``predict``.

    Example:
        >>> from chainrule.models import Perceptron
        >>> from chainrule.datasets import make_gates
        >>> x, y = make_gates("or")
        >>> fig = decision_boundary(Perceptron().fit(x, y), x, y)
        >>> fig.axes[0].get_title()
        'Decision boundary: Perceptron'
    """
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != 2:
        raise ValueError(f"decision_boundary() draws 2-D inputs: x must have shape (samples, 2). "
                         f"Received: x of shape {xs.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or \
            not 10 <= resolution <= 2000:
        raise ValueError(f"resolution must be an integer between 10 and 2000. "
                         f"Received: resolution={resolution!r}")
    labels = _labels(y, len(xs))
    lo, hi = xs.min(axis=0), xs.max(axis=0)
    pad = np.maximum((hi - lo) * 0.15, 0.25)
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], int(resolution))
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], int(resolution))
    gx, gy = np.meshgrid(g0, g1)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    out = _predict(model, grid)
    n_classes = max(int(labels.max()) + 1, 2)

    fig = new_figure(6.0, 5.0)
    ax = fig.subplots()
    from matplotlib.colors import ListedColormap  # noqa: PLC0415

    if out.ndim == 2 and out.shape[1] > 1:
        cls = out.argmax(axis=1).reshape(gx.shape)
        k = max(out.shape[1], n_classes)
        cmap = ListedColormap(_COLORS[:k])
        ax.contourf(gx, gy, cls, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
        ax.contour(gx, gy, cls, levels=np.arange(k) + 0.5, colors="k", linewidths=0.8)
    else:
        p = out.reshape(gx.shape)
        binary_output = np.all((p == 0) | (p == 1))
        if binary_output:
            cmap = ListedColormap(_COLORS[:2])
            ax.contourf(gx, gy, p, levels=[-0.5, 0.5, 1.5], cmap=cmap, alpha=0.25)
        else:
            cf = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45,
                             extend="both")
            fig.colorbar(cf, ax=ax, label="predicted probability of class 1")
        if p.min() < 0.5 < p.max() or (binary_output and p.min() != p.max()):
            ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    for c in range(n_classes):
        mask = labels == c
        if mask.any():
            ax.scatter(xs[mask, 0], xs[mask, 1], s=60 if len(xs) <= 16 else 18,
                       color=_COLORS[c % len(_COLORS)], edgecolors="k", linewidths=0.6,
                       label=f"class {c}", zorder=3)
    name = getattr(model, "name", None) or type(model).__name__
    ax.set_title(title or f"Decision boundary: {name}")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    return finish(fig, path)

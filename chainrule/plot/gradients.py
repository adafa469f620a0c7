"""Gradients made visible: gradient flow through a network, and gradient descent on a surface."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["gradient_flow", "gradient_descent_path"]


def _monitors(monitor: Any) -> dict:
    items = dict(monitor) if isinstance(monitor, Mapping) else {"": monitor}
    if not items:
        raise ValueError("gradient_flow() needs a GradientMonitor (or a dict of them). "
                         "Received: an empty dict")
    for label, m in items.items():
        if not hasattr(m, "grad_norms") or not hasattr(m, "layer_names"):
            raise TypeError("gradient_flow() needs a chainrule GradientMonitor that was passed to "
                            f"fit(callbacks=[...]). Received: {type(m).__name__}"
                            + (f" for {label!r}" if label else ""))
        if not m.history["step"]:
            raise ValueError("The GradientMonitor recorded nothing: pass it to "
                             "model.fit(..., callbacks=[monitor]) first. Received: a monitor with "
                             "no records" + (f" ({label!r})" if label else ""))
    return items


def gradient_flow(monitor: Any, path: Any = None, weight: str = "kernel") -> Any:
    """Draw how large each layer's gradient is, input layer to output layer, and over training.

    Left: the gradient norm of each layer's weights at the last record, on a
    log scale; a curve falling steeply toward the input is a vanishing gradient.
    Right: every layer's gradient norm over the training steps (color runs from
    the input layer, dark, to the output layer, light). Pass a dict
    ``{'sigmoid': monitor_a, 'relu': monitor_b}`` to compare runs: the left
    panel gets one curve per run, the right one the first and last layer of each.

    Args:
        monitor: a :class:`chainrule.explain.GradientMonitor` after ``fit``, or a
            dict of them.
        path: optional PNG file to write.
        weight: ``'kernel'``, ``'bias'`` or ``'all'`` (see ``GradientMonitor.grad_norms``).

    Returns:
        The matplotlib Figure with two Axes, titled ``'Gradient norm by layer'``
        and ``'Gradient norm during training'``.

    Raises:
        TypeError / ValueError: for something that is not a monitor, or one
            with no records.
    """
    runs = _monitors(monitor)
    fig = new_figure(12.0, 4.6)
    ax_layers, ax_time = fig.subplots(1, 2)
    import matplotlib  # noqa: PLC0415

    cmap = matplotlib.colormaps["viridis"]
    single = len(runs) == 1
    for k, (label, m) in enumerate(runs.items()):
        g = m.grad_norms(weight)
        depth = np.arange(1, g.shape[1] + 1)
        color = None if single else f"C{k}"
        ax_layers.plot(depth, g[-1], marker="o", color=color or "tab:blue",
                       label=(label or "last record") + f" (step {m.history['step'][-1] + 1})")
        steps = np.asarray(m.history["step"]) + 1
        if single:
            for j in range(g.shape[1]):
                frac = j / max(g.shape[1] - 1, 1)
                name = m.layer_names[j]
                ax_time.plot(steps, g[:, j], color=cmap(0.9 * frac),
                             label=name if j in (0, g.shape[1] - 1) else None)
        else:
            ax_time.plot(steps, g[:, 0], color=color, label=f"{label}: first layer")
            ax_time.plot(steps, g[:, -1], color=color, linestyle="--", label=f"{label}: last layer")
    first = next(iter(runs.values()))
    ax_layers.set_xticks(np.arange(1, len(first.layer_names) + 1))
    if single and len(first.layer_names) <= 12:
        ax_layers.set_xticklabels(first.layer_names, rotation=30, ha="right", fontsize=8)
    ax_layers.set_xlabel("layer (input → output)")
    ax_layers.set_ylabel(f"‖∂E/∂{weight}‖")
    ax_layers.set_yscale("log")
    ax_layers.set_title("Gradient norm by layer")
    ax_layers.grid(True, which="both", alpha=0.3)
    ax_layers.legend(fontsize=8)
    ax_time.set_xlabel("training step (batch)")
    ax_time.set_ylabel(f"‖∂E/∂{weight}‖")
    ax_time.set_yscale("log")
    ax_time.set_title("Gradient norm during training")
    ax_time.grid(True, which="both", alpha=0.3)
    ax_time.legend(fontsize=8)
    return finish(fig, path)


def _evaluate(f: Callable[[np.ndarray], Any], gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    stacked = np.stack([gx, gy])
    with np.errstate(all="ignore"):
        try:
            z = np.asarray(f(stacked), dtype=np.float64)
        except Exception:  # noqa: BLE001 - f may only accept one point; evaluate point by point
            z = None
        if z is not None and z.shape == gx.shape:
            return z
        out = np.empty(gx.size)
        for i, (a, b) in enumerate(zip(gx.ravel(), gy.ravel())):
            out[i] = float(np.asarray(f(np.array([a, b])), dtype=np.float64))
    return out.reshape(gx.shape)


def gradient_descent_path(f: Callable[[np.ndarray], Any], points: Any, path: Any = None,
                          title: str | None = None, levels: int = 20,
                          lr: float | None = None) -> Any:
    """Draw the contour lines of ``f(x0, x1)`` and the path gradient descent took on them.

    Args:
        f: a function of a 2-vector returning a number, e.g.
            ``lambda x: x[0] ** 2 + x[1] ** 2`` (it is also tried on a whole grid
            at once, ``x`` of shape ``(2, rows, cols)``, for speed).
        points: the visited points, shape ``(steps + 1, 2)``, or the result of
            :func:`chainrule.gradcheck.gradient_descent` (its ``path`` is used and
            its ``status`` shown in the title).
        path: optional PNG file to write.
        title: the Axes title (default: "Gradient descent" plus the status).
        levels: number of contour levels.
        lr: the learning rate, shown in the default title.

    Returns:
        The matplotlib Figure: contours, the path (one line with markers), and
        the start and end points.

    Raises:
        ValueError: when ``points`` is not a list of 2-D points.

    Example:
        >>> import numpy as np
        >>> from chainrule.gradcheck import gradient_descent
        >>> f = lambda x: x[0] ** 2 + x[1] ** 2
        >>> result = gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
        >>> fig = gradient_descent_path(f, result, lr=0.1)
        >>> fig.axes[0].get_title()
        'Gradient descent (lr=0.1): converged'
    """
    status = getattr(points, "status", None)
    pts = np.asarray(getattr(points, "path", points), dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError("points must have shape (steps + 1, 2): the 2-D points of the path. "
                         f"Received: points of shape {pts.shape}")
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2. Received: levels={levels!r}")
    finite = np.all(np.isfinite(pts), axis=1)
    pts = pts[finite]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = (lo + hi) / 2.0
    half = float(max((hi - lo).max() / 2.0, 1e-9))
    half = half * 1.3 + max(0.05 * float(np.abs(center).max()), 0.5 if half < 1 else 0.0)
    g0 = np.linspace(center[0] - half, center[0] + half, 140)
    g1 = np.linspace(center[1] - half, center[1] + half, 140)
    gx, gy = np.meshgrid(g0, g1)
    z = _evaluate(f, gx, gy)
    fig = new_figure(6.4, 5.4)
    ax = fig.subplots()
    zf = np.where(np.isfinite(z), z, np.nan)
    if np.isfinite(zf).any() and np.nanmax(zf) > np.nanmin(zf):
        zmin, zmax = float(np.nanmin(zf)), float(np.nanmax(zf))
        if zmin >= 0 and zmax > 1e3 * max(zmin, 1e-12) and zmax > 1e3:
            # values over many orders of magnitude (a divergent run): log-spaced levels
            lv = np.geomspace(max(zmin, zmax * 1e-6), zmax, int(levels))
        else:
            lv = np.linspace(zmin, zmax, int(levels) + 2)[1:-1]
        cs = ax.contour(gx, gy, zf, levels=lv, cmap="viridis", linewidths=0.9)
        fig.colorbar(cs, ax=ax, label="f(x0, x1)", format="%.3g")
    ax.plot(pts[:, 0], pts[:, 1], "-o", color="tab:red", markersize=3.5, linewidth=1.2,
            label=f"path ({len(pts) - 1} steps)")
    ax.plot(pts[0, 0], pts[0, 1], "s", color="k", markersize=8, label="start")
    ax.plot(pts[-1, 0], pts[-1, 1], "*", color="gold", markeredgecolor="k", markersize=14,
            label="end")
    default = "Gradient descent" + (f" (lr={lr:g})" if lr is not None else "")
    if status:
        default += f": {status}"
    ax.set_title(title or default)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.set_aspect("equal", adjustable="box")
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(6))
    ax.ticklabel_format(style="sci", scilimits=(-3, 4))
    ax.legend(fontsize=8, loc="best")
    return finish(fig, path)

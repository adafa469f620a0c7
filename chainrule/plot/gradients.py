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


def gradient_flow(monitor: Any, path: Any = None, weight: str = "kernel",
                  over: str = "layers") -> Any:
    """Draw how large each layer's gradient is, input layer to output layer, and over training.

    Left: the gradient norm of each layer's weights at the last record, on a
    log scale; a curve falling steeply toward the input is a vanishing gradient.
    Right: every layer's gradient norm over the training steps (color runs from
    the input layer, dark, to the output layer, light). Pass a dict
    ``{'sigmoid': monitor_a, 'relu': monitor_b}`` to compare runs: the left
    panel gets one curve per run, the right one the first and last layer of each.

    With ``over='time'``, the gradient through time of a recurrent model: left,
    ``‖∂E/∂x_t‖`` at each time step ``t`` of every recurrent layer's input (the loss
    is computed after the last step, so a curve falling toward ``t = 0`` is a
    gradient vanishing through time); right, for monitors, the first and the last
    step's gradient over training. ``monitor`` is then a ``GradientMonitor(over='time')``,
    the result of :func:`chainrule.explain.gradient_through_time`, or a dict of
    either (``{'SimpleRNN': ..., 'LSTM': ...}``).

    Args:
        monitor: a :class:`chainrule.explain.GradientMonitor` after ``fit``, or a
            dict of them (with ``over='time'``: also gradient-through-time results).
        path: optional PNG file to write.
        weight: ``'kernel'``, ``'bias'`` or ``'all'`` (see ``GradientMonitor.grad_norms``).
        over: ``'layers'`` (the default) or ``'time'``.

    Returns:
        The matplotlib Figure with two Axes, titled ``'Gradient norm by layer'``
        and ``'Gradient norm during training'``; with ``over='time'``, an Axes titled
        ``'Gradient reaching each time step'``, and ``'First and last step during
        training'`` when monitors are given.

    Raises:
        TypeError / ValueError: for something that is not a monitor, or one
            with no records.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.explain import gradient_through_time
        >>> model = cr.Sequential([cr.layers.Input((8, 1)), cr.layers.SimpleRNN(3),
        ...                        cr.layers.Dense(1)])
        >>> g = gradient_through_time(model, np.ones((2, 8, 1)), np.zeros((2, 1)), loss="mse")
        >>> [ax.get_title() for ax in gradient_flow(g, over="time").axes]
        ['Gradient reaching each time step']
    """
    if over not in ("layers", "time"):
        raise ValueError(f"over must be 'layers' or 'time'. Received: over={over!r}")
    if over == "time":
        return _time_flow(monitor, path)
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


def _time_runs(source: Any) -> dict:
    """``{label: (records x timesteps per layer, steps or None)}`` from monitors or results."""

    def one(label: str, m: Any) -> tuple:
        if isinstance(m, Mapping) and m and all(isinstance(v, np.ndarray) for v in m.values()):
            return {k: np.asarray(v, dtype=np.float64)[None] for k, v in m.items()}, None
        if hasattr(m, "time_grad_norms") and getattr(m, "time_data", None) is not None:
            if not m.history["step"]:
                raise ValueError("The GradientMonitor recorded nothing: pass it to "
                                 "model.fit(..., callbacks=[monitor]) first. Received: a monitor "
                                 "with no records" + (f" ({label!r})" if label else ""))
            return ({k: m.time_grad_norms(k) for k in m.time_layers},
                    np.asarray(m.history["step"]) + 1)
        raise TypeError("gradient_flow(over='time') needs a GradientMonitor(over='time', "
                        "time_data=(x, y)) or the result of explain.gradient_through_time() "
                        f"(or a dict of them). Received: {type(m).__name__}"
                        + (f" for {label!r}" if label else ""))

    if isinstance(source, Mapping) and source and not all(
            isinstance(v, np.ndarray) for v in source.values()):
        return {str(k): one(str(k), v) for k, v in source.items()}
    if isinstance(source, Mapping) and not source:
        raise ValueError("gradient_flow() needs a GradientMonitor (or a dict of them). "
                         "Received: an empty dict")
    return {"": one("", source)}


def _time_flow(source: Any, path: Any) -> Any:
    runs = _time_runs(source)
    with_steps = any(steps is not None and len(steps) for _, steps in runs.values())
    fig = new_figure(12.0 if with_steps else 7.0, 4.6)
    axes = fig.subplots(1, 2) if with_steps else [fig.subplots()]
    ax = axes[0]
    # one layer per run: a color per run; else a color per layer and a line style per run
    by_run = all(len(layers) == 1 for layers, _ in runs.values())
    for r, (label, (layers, steps)) in enumerate(runs.items()):
        for j, (name, g) in enumerate(layers.items()):
            text = f"{label}: {name}" if label else name
            color = f"C{(r if by_run else j) % 10}"
            style = "-" if by_run else ("-", "--", ":", "-.")[r % 4]
            ax.plot(np.arange(g.shape[1]), g[-1], marker=".", color=color, linestyle=style,
                    label=text)
            if with_steps and steps is not None:
                axes[1].plot(steps, g[:, 0], color=color, label=f"{text}, t = 0")
                axes[1].plot(steps, g[:, -1], color=color, linestyle="--",
                              label=f"{text}, t = {g.shape[1] - 1}")
    ax.set_xlabel("time step t (the loss is computed after the last step)")
    ax.set_ylabel("‖∂E/∂x_t‖ (mean over the batch)")
    ax.set_yscale("log")
    ax.set_title("Gradient reaching each time step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if with_steps:
        axes[1].set_xlabel("training step (batch)")
        axes[1].set_ylabel("‖∂E/∂x_t‖")
        axes[1].set_yscale("log")
        axes[1].set_title("First and last step during training")
        axes[1].grid(True, which="both", alpha=0.3)
        axes[1].legend(fontsize=8)
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

"""What a convnet learned: its filters, and the feature maps they make of one image."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["filters", "feature_maps"]


def _grid(count: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def _draw(images: list, titles: list, path: Any, title: str | None, rgb: bool = False) -> Any:
    rows, cols = _grid(len(images))
    fig = new_figure(1.3 * cols, 1.3 * rows + (0.3 if title else 0.0))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, img, text in zip(axes, images, titles):
        ax.axis("off")
        ax.imshow(img, cmap=None if rgb else "gray", interpolation="nearest")
        ax.set_title(text, fontsize=7)
    for ax in axes[len(images):]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def filters(layer: Any, channel: int | None = None, max_filters: int = 64, path: Any = None,
            title: str | None = None) -> Any:
    """Draw the kernels of a 2-D convolution layer, one small image per filter.

    Args:
        layer: a built ``Conv2D`` (kernel ``(kh, kw, channels, filters)``) or
            ``DepthwiseConv2D``.
        channel: which input channel's weights to show; default: the only one for a
            grey input, the colours for an RGB input (3 channels, each filter scaled to
            [0, 1]), else the mean over the input channels.
        max_filters: draw at most this many filters (the first ones).
        path: optional PNG file to write.
        title: optional title (default: the layer's name).

    Returns:
        The matplotlib Figure, one Axes per filter drawn.

    Raises:
        ValueError: for a layer without a 4-D kernel, or a channel out of range.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> conv = cr.layers.Conv2D(6, 3)
        >>> _ = conv(np.zeros((1, 8, 8, 1)))
        >>> len(filters(conv).axes)
        6
    """
    kernel = getattr(layer, "kernel", None)
    if kernel is None or np.ndim(getattr(kernel, "data", kernel)) != 4:
        raise ValueError("filters() draws a built 2-D convolution layer's kernel "
                         "(kh, kw, channels, filters). Received: layer "
                         f"{getattr(layer, 'name', layer)!r} with kernel "
                         f"{None if kernel is None else tuple(kernel.shape)}")
    k = np.asarray(kernel.numpy(), dtype=np.float64)
    if isinstance(max_filters, bool) or not isinstance(max_filters, int) or max_filters < 1:
        raise ValueError(f"max_filters must be a positive integer. Received: "
                         f"max_filters={max_filters!r}")
    if channel is not None and not 0 <= channel < k.shape[2]:
        raise ValueError(f"channel must be in [0, {k.shape[2]}). Received: channel={channel!r}")
    rgb = channel is None and k.shape[2] == 3
    images, titles = [], []
    for i in range(min(k.shape[3], max_filters)):
        w = k[..., i]
        if rgb:
            lo, hi = w.min(), w.max()
            img = (w - lo) / (hi - lo) if hi > lo else np.zeros_like(w)
        else:
            img = w[:, :, channel or 0] if channel is not None or k.shape[2] == 1 else w.mean(-1)
        images.append(img)
        titles.append(str(i))
    return _draw(images, titles, path, title or f"{getattr(layer, 'name', 'conv')} filters", rgb)


def _apply_until(model: Any, target: Any, x: Any) -> Any:
    """Run ``model``'s layers in order on ``x`` up to ``target``'s output."""
    from chainrule.autograd.engine import no_grad  # noqa: PLC0415
    from chainrule.models.model import _accepts_training  # noqa: PLC0415

    # a functional model's ops (x * 2.0) are not in model.layers, but they run in the chain too
    steps = model.operations if getattr(model, "_functional", False) else model.layers
    with no_grad():
        for layer in steps:
            if type(layer).__name__ == "InputLayer":
                continue
            x = layer(x, training=False) if _accepts_training(layer) else layer(x)
            if layer is target:
                return x
    raise ValueError(f"layer {getattr(target, 'name', target)!r} is not one of the model's "
                     f"layers. Received: layer={getattr(target, 'name', target)!r}")


def feature_maps(model: Any, x: Any, layer: Any = None, max_maps: int = 32, path: Any = None,
                 title: str | None = None) -> Any:
    """Draw what one layer of a convnet makes of one image: one grey map per channel.

    Args:
        model: a built model whose layers run in order (``Sequential``).
        x: one image ``(height, width, channels)`` or a batch of one.
        layer: the layer (or its name) whose output to show; default the first layer
            with a 4-D output (the first convolution).
        max_maps: draw at most this many channels.
        path: optional PNG file to write.
        title: optional title (default: the layer's name and output shape).

    Returns:
        The matplotlib Figure, one Axes per map drawn.

    Raises:
        ValueError: for an unknown layer or a layer whose output is not 4-D.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> model = cr.Sequential([cr.layers.Input((8, 8, 1)), cr.layers.Conv2D(4, 3)])
        >>> len(feature_maps(model, np.zeros((8, 8, 1))).axes)
        4
    """
    from chainrule.layers.base import as_tensor  # noqa: PLC0415

    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or len(arr) != 1:
        raise ValueError("feature_maps shows one image: shape (height, width, channels) or "
                         f"(1, height, width, channels). Received: x of shape {np.shape(x)}")
    if isinstance(layer, str):
        names = [lay.name for lay in model.layers]
        if layer not in names:
            raise ValueError(f"No layer named {layer!r} in the model. Known: {', '.join(names)}. "
                             f"Received: layer={layer!r}")
        layer = model.layers[names.index(layer)]
    candidates = [lay for lay in model.layers if type(lay).__name__ != "InputLayer"]
    out = as_tensor(arr)
    if layer is None:
        from chainrule.autograd.engine import no_grad  # noqa: PLC0415

        with no_grad():
            for lay in candidates:
                out = lay(out, training=False)
                if out.ndim == 4:
                    layer = lay
                    break
        if layer is None:
            raise ValueError("No layer of the model has a 4-D output (batch, height, width, "
                             "channels) to draw. Received: model with layers "
                             f"{[lay.name for lay in candidates]}")
    else:
        out = _apply_until(model, layer, out)
    maps = out.numpy()
    if maps.ndim != 4:
        raise ValueError(f"layer {layer.name!r} has a {maps.ndim}-D output {maps.shape}, not "
                         "(batch, height, width, channels). Received: layer="
                         f"{layer.name!r}")
    n = min(maps.shape[-1], max_maps)
    images = [maps[0, :, :, i] for i in range(n)]
    label = title or f"{layer.name}: output {tuple(maps.shape[1:])}"
    return _draw(images, [str(i) for i in range(n)], path, label)

"""Image galleries with matplotlib (Keras 3's ``keras.visualization.plot_*``).

matplotlib is the optional ``plot`` extra, imported when a gallery is drawn.
The functions return a :class:`matplotlib.figure.Figure` made without
``pyplot`` (no window opens; a notebook shows it inline) and save it when
``path`` is given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.plot import _mpl
from chainrule.visualization.draw import (
    _check_data_format,
    _np,
    draw_bounding_boxes,
    draw_segmentation_masks,
)

__all__ = ["plot_image_gallery", "plot_bounding_box_gallery", "plot_segmentation_mask_gallery"]


def _value_range_to_255(images: np.ndarray, value_range: Any) -> np.ndarray:
    lo, hi = float(value_range[0]), float(value_range[1])
    if hi <= lo:
        raise ValueError("value_range must be (low, high) with low < high. "
                         f"Received: value_range={tuple(value_range)!r}")
    if (lo, hi) == (0.0, 255.0):
        return images
    return (images.astype("float32") - lo) / (hi - lo) * 255.0


def plot_image_gallery(images: Any, y_true: Any = None, y_pred: Any = None,
                       label_map: dict | None = None, rows: int | None = None,
                       cols: int | None = None, value_range: tuple = (0, 255), scale: float = 2,
                       path: Any = None, show: bool | None = None, transparent: bool = True,
                       dpi: int = 60, legend_handles: list | None = None,
                       data_format: str | None = None) -> Any:
    """Show a batch of images in a grid, optionally titled with true/predicted labels.

    Args:
        images: ``(batch, height, width, channels)`` images (or channels first).
        y_true: optional labels (one per image), looked up in ``label_map``.
        y_pred: optional predicted labels, looked up in ``label_map``.
        label_map: ``{label: name}``, required with ``y_true`` or ``y_pred``.
        rows: grid rows (default ``ceil(sqrt(batch))``).
        cols: grid columns (default ``batch // rows``, as in Keras).
        value_range: the images' value range, mapped to [0, 255].
        scale: inches per grid cell.
        path: save the figure there (PNG) when given.
        show: accepted for Keras compatibility; the figure is returned, and
            ``show=True`` with a ``path`` is an error as in Keras.
        transparent: transparent background when saving.
        dpi: resolution when saving.
        legend_handles: matplotlib handles for a figure legend.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        The :class:`matplotlib.figure.Figure` (``rows * cols`` axes).

    Example:
        >>> import numpy as np
        >>> from chainrule import visualization
        >>> fig = visualization.plot_image_gallery(np.zeros((4, 8, 8, 3), "uint8"))
        >>> len(fig.axes)
        4
    """
    _mpl.require()
    import matplotlib.figure  # noqa: PLC0415

    if path is not None and show:
        raise ValueError("plot_image_gallery expects either path to be set or show to be True, "
                         f"not both. Received: path={path!r}, show={show!r}")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("plot_image_gallery needs a label_map when y_true or y_pred is given. "
                         "Received: label_map=None")
    data_format = _check_data_format(data_format)
    imgs = _np(images)
    if imgs.ndim != 4:
        raise ValueError("images must be a batched 4D array (batch, height, width, channels). "
                         f"Received: images.shape={tuple(imgs.shape)}")
    batch = imgs.shape[0]
    rows = rows or int(math.ceil(math.sqrt(batch)))
    cols = cols or int(math.ceil(batch // rows))
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
    imgs = imgs[: rows * cols]
    if data_format == "channels_first":
        imgs = np.transpose(imgs, (0, 2, 3, 1))
    imgs = np.clip(_value_range_to_255(imgs, value_range), 0, 255).astype("uint8")
    y_true = None if y_true is None else _np(y_true)
    y_pred = None if y_pred is None else _np(y_pred)

    fig = matplotlib.figure.Figure(figsize=(cols * scale, rows * scale), frameon=False)
    axes = fig.subplots(rows, cols, squeeze=False, sharex="row", sharey="col")
    fig.subplots_adjust(wspace=0, hspace=0)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    for r in range(rows):
        for c in range(cols):
            index = r * cols + c
            ax = axes[r, c]
            ax.axis("off")
            if index >= len(imgs):
                continue
            img = imgs[index]
            if img.shape[-1] == 1:
                ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255)
            else:
                ax.imshow(img)
            ax.margins(x=0, y=0)
            parts = []
            if y_true is not None and index < len(y_true):
                parts.append(f"Label: {label_map.get(_key(y_true[index]), 'Unknown')}")
            if y_pred is not None and index < len(y_pred):
                parts.append(f"Pred: {label_map.get(_key(y_pred[index]), 'Unknown')}")
            if parts:
                ax.set_title("  ".join(parts), fontsize=8)
    if path is not None:
        fig.savefig(path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
    return fig


def _key(v: Any) -> Any:
    a = np.asarray(v)
    return a.item() if a.ndim == 0 else v


def plot_bounding_box_gallery(images: Any, bounding_box_format: str, y_true: dict | None = None,
                              y_pred: dict | None = None, value_range: tuple = (0, 255),
                              true_color: tuple = (0, 188, 212),
                              pred_color: tuple = (255, 235, 59), line_thickness: int = 2,
                              font_scale: float = 1.0, text_thickness: int | None = None,
                              class_mapping: dict | None = None,
                              ground_truth_mapping: dict | None = None,
                              prediction_mapping: dict | None = None, legend: bool = False,
                              legend_handles: list | None = None, rows: int | None = None,
                              cols: int | None = None, data_format: str | None = None,
                              **kwargs: Any) -> Any:
    """Draw true and predicted boxes on images and show them in a gallery.

    Args:
        images: ``(batch, height, width, channels)`` images (or channels first).
        bounding_box_format: the format of the boxes.
        y_true: optional ``{"boxes", "labels"}`` drawn in ``true_color``.
        y_pred: optional ``{"boxes", "labels"}`` drawn in ``pred_color``.
        value_range: the images' value range.
        true_color: RGB colour of true boxes.
        pred_color: RGB colour of predicted boxes.
        line_thickness: outline thickness in pixels.
        font_scale: label text size.
        text_thickness: label text thickness.
        class_mapping: ``{class_id: name}`` for both sets (labels need Pillow).
        ground_truth_mapping: mapping for ``y_true`` (default ``class_mapping``).
        prediction_mapping: mapping for ``y_pred`` (default ``class_mapping``).
        legend: add a "Ground Truth" / "Prediction" legend.
        legend_handles: custom legend handles (not with ``legend=True``).
        rows: grid rows.
        cols: grid columns.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: passed on to :func:`plot_image_gallery` (``path``, ``scale``, ...).

    Returns:
        The :class:`matplotlib.figure.Figure`.

    Example:
        >>> import numpy as np
        >>> from chainrule import visualization
        >>> boxes = {"boxes": np.array([[[1, 1, 6, 6]], [[2, 2, 4, 4]]]),
        ...          "labels": np.array([[0], [0]])}
        >>> fig = visualization.plot_bounding_box_gallery(
        ...     np.zeros((2, 8, 8, 3), "uint8"), "xyxy", y_true=boxes, rows=1, cols=2)
        >>> len(fig.axes)
        2
    """
    _mpl.require()
    import matplotlib.patches  # noqa: PLC0415

    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = _check_data_format(data_format)
    imgs = _np(images)
    if imgs.ndim != 4:
        raise ValueError("images must be a batched 4D array (batch, height, width, channels). "
                         f"Received: images.shape={tuple(imgs.shape)}")
    if legend and legend_handles:
        raise ValueError("plot_bounding_box_gallery takes legend=True or legend_handles, not "
                         f"both. Received: legend={legend!r} and {len(legend_handles)} "
                         "legend_handles")
    if data_format == "channels_first":
        imgs = np.transpose(imgs, (0, 2, 3, 1))
    common = dict(bounding_box_format=bounding_box_format, line_thickness=line_thickness,
                  text_thickness=text_thickness, font_scale=font_scale,
                  data_format="channels_last")
    if y_true is not None:
        imgs = draw_bounding_boxes(imgs, y_true, color=true_color,
                                   class_mapping=ground_truth_mapping, **common)
    if y_pred is not None:
        imgs = draw_bounding_boxes(imgs, y_pred, color=pred_color,
                                   class_mapping=prediction_mapping, **common)
    if legend:
        legend_handles = [
            matplotlib.patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            matplotlib.patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction"),
        ]
    kwargs["data_format"] = "channels_last"
    return plot_image_gallery(imgs, value_range=value_range, legend_handles=legend_handles,
                              rows=rows, cols=cols, **kwargs)


def plot_segmentation_mask_gallery(images: Any, num_classes: int, value_range: tuple = (0, 255),
                                   y_true: Any = None, y_pred: Any = None,
                                   color_mapping: Any = None, blend: bool = True,
                                   alpha: float = 0.8, ignore_index: int = -1,
                                   data_format: str | None = None, **kwargs: Any) -> Any:
    """Show each image next to its true and/or predicted masks (one row per image).

    Args:
        images: ``(batch, height, width, channels)`` images (or channels first).
        num_classes: the number of classes.
        value_range: the images' value range.
        y_true: optional integer masks ``(batch, height, width, 1)``.
        y_pred: optional integer masks ``(batch, height, width, 1)``.
        color_mapping: optional colours by class index.
        blend: blend mask colours with the image.
        alpha: the colour's weight when blending.
        ignore_index: mask value left unpainted.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: passed on to :func:`plot_image_gallery` (``path``, ``scale``, ...).

    Returns:
        The :class:`matplotlib.figure.Figure` with ``batch`` rows and 1 to 3 columns.

    Example:
        >>> import numpy as np
        >>> from chainrule import visualization
        >>> masks = np.zeros((2, 8, 8, 1), "int32")
        >>> fig = visualization.plot_segmentation_mask_gallery(
        ...     np.zeros((2, 8, 8, 3), "uint8"), num_classes=2, y_true=masks, y_pred=masks)
        >>> len(fig.axes)
        6
    """
    _mpl.require()
    data_format = _check_data_format(data_format)
    imgs = _np(images)
    if imgs.ndim != 4:
        raise ValueError("images must be a batched 4D array (batch, height, width, channels). "
                         f"Received: images.shape={tuple(imgs.shape)}")
    if data_format == "channels_first":
        imgs = np.transpose(imgs, (0, 2, 3, 1))
    batch = imgs.shape[0]
    cols = 1 + (y_true is not None) + (y_pred is not None)

    def draw(masks: Any) -> np.ndarray:
        m = _np(masks)
        if data_format == "channels_first" and m.ndim == 4:
            m = np.transpose(m, (0, 2, 3, 1))
        if m.dtype.kind == "f":
            m = m.astype("int32")
        return draw_segmentation_masks(imgs, m, num_classes=num_classes,
                                       color_mapping=color_mapping, alpha=alpha, blend=blend,
                                       ignore_index=ignore_index, data_format="channels_last")

    drawn = [draw(y) for y in (y_true, y_pred) if y is not None]
    gallery = []
    for i in range(batch):
        gallery.append(imgs[i].astype("float32"))
        gallery.extend(d[i].astype("float32") for d in drawn)
    kwargs["data_format"] = "channels_last"
    return plot_image_gallery(np.stack(gallery), value_range=value_range, rows=batch, cols=cols,
                              **kwargs)

"""Drawing boxes and segmentation masks into image arrays (Keras 3's ``keras.visualization``).

Everything here works on NumPy arrays and needs no OpenCV: box outlines are
drawn with NumPy; class-name labels on boxes are drawn with Pillow when it is
installed (``pip install pillow``) and refused with an ImportError otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd import Tensor
from chainrule.utils import bounding_boxes as _bb

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks"]


def _np(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _check_data_format(data_format: Any) -> str:
    data_format = data_format or backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4:
        raise ValueError("images must be a batched 4D array (batch, height, width, channels). "
                         f"Received: images.shape={tuple(images.shape)}")


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """Keras's conversion: floats in [0, 1] are scaled by 255, others clipped to [0, 255]."""
    if images.dtype.kind == "f" and images.size > 0:
        if images.max() <= 1.0:
            images = np.clip(images, 0, 1) * 255
        else:
            images = np.clip(images, 0, 255)
    return images.astype("uint8")


def _band(c: int, t: int) -> tuple[int, int]:
    """Pixel range [lo, hi) of a line of thickness ``t`` centred on coordinate ``c``."""
    lo = c - t // 2
    return lo, lo + t


def _fill(img: np.ndarray, r0: int, r1: int, c0: int, c1: int, color: np.ndarray) -> None:
    h, w = img.shape[:2]
    r0, r1, c0, c1 = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
    if r0 < r1 and c0 < c1:
        img[r0:r1, c0:c1] = color


def _rectangle(img: np.ndarray, x1: int, y1: int, x2: int, y2: int, color: np.ndarray,
               t: int) -> None:
    xa, xb = min(x1, x2), max(x1, x2)
    ya, yb = min(y1, y2), max(y1, y2)
    lo_x, hi_x = _band(xa, t)[0], _band(xb, t)[1]
    for y in (ya, yb):  # top and bottom edges
        r0, r1 = _band(y, t)
        _fill(img, r0, r1, lo_x, hi_x, color)
    lo_y, hi_y = _band(ya, t)[0], _band(yb, t)[1]
    for x in (xa, xb):  # left and right edges
        c0, c1 = _band(x, t)
        _fill(img, lo_y, hi_y, c0, c1, color)


def _text_location(x: int, y: int, font_scale: float, thickness: int) -> tuple[int, int]:
    """Keras's placement of a label's baseline: above the box, or inside when no room."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def _draw_text(img: np.ndarray, text: str, x: int, y: int, color: tuple, font_scale: float,
               thickness: int) -> np.ndarray:
    try:
        from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415
    except ImportError:
        raise ImportError("draw_bounding_boxes draws class_mapping labels with Pillow, which is "
                          'not installed: pip install pillow (or pass class_mapping=None to '
                          "draw the boxes only). Received: a label to draw, "
                          f"text={text!r}") from None
    if img.shape[-1] not in (1, 3, 4):
        raise ValueError("draw_bounding_boxes draws labels on images with 1, 3 or 4 channels. "
                         f"Received: images with {img.shape[-1]} channels")
    size = max(1, int(round(13 * font_scale)))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    pil = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
    fill = tuple(int(c) for c in color[: img.shape[-1]])
    x0, y0 = _text_location(x, y, font_scale, thickness)
    ImageDraw.Draw(pil).text((x0, y0 - size), text, fill=fill[0] if len(fill) == 1 else fill,
                             font=font)
    out = np.asarray(pil)
    return out[..., None] if img.shape[-1] == 1 else out


def draw_bounding_boxes(images: Any, bounding_boxes: dict, bounding_box_format: str,
                        class_mapping: dict | None = None, color: tuple = (128, 128, 128),
                        line_thickness: int = 2, text_thickness: int = 1,
                        font_scale: float = 1.0, data_format: str | None = None) -> np.ndarray:
    """Draw box outlines (and optional class labels) onto a batch of images.

    Args:
        images: ``(batch, height, width, channels)`` images (``channels_first``:
            ``(batch, channels, height, width)``). Floats with a maximum <= 1 are
            scaled by 255; other values are clipped to [0, 255].
        bounding_boxes: a dict with ``"boxes"`` ``(batch, N, 4)`` and ``"labels"``
            ``(batch, N)``; optional ``"confidences"`` ``(batch, N)``. Boxes
            labelled -1 are skipped.
        bounding_box_format: the format of the boxes (see
            :mod:`chainrule.utils.bounding_boxes`).
        class_mapping: optional ``{class_id: name}``; names of the drawn boxes'
            classes are written above them (needs Pillow).
        color: the RGB colour of outlines and text.
        line_thickness: outline thickness in pixels, centred on the box edges.
        text_thickness: Keras's text thickness (moves the label when it does
            not fit above the box).
        font_scale: text size relative to a 13-pixel font.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the
            configured image data format).

    Returns:
        A ``uint8`` array of the images' shape with the boxes drawn.

    Example:
        >>> import numpy as np
        >>> from chainrule import visualization
        >>> img = np.zeros((1, 8, 8, 3), "uint8")
        >>> boxes = {"boxes": np.array([[[1, 2, 5, 6]]]), "labels": np.array([[0]])}
        >>> out = visualization.draw_bounding_boxes(img, boxes, "xyxy", color=(255, 0, 0),
        ...                                         line_thickness=1)
        >>> (out[0, :, :, 0] > 0).astype(int)[1:8, 0:7]
        array([[0, 0, 0, 0, 0, 0, 0],
               [0, 1, 1, 1, 1, 1, 0],
               [0, 1, 0, 0, 0, 1, 0],
               [0, 1, 0, 0, 0, 1, 0],
               [0, 1, 0, 0, 0, 1, 0],
               [0, 1, 1, 1, 1, 1, 0],
               [0, 0, 0, 0, 0, 0, 0]])
    """
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = _check_data_format(data_format)
    imgs = _np(images)
    _check_images(imgs)
    if not isinstance(bounding_boxes, dict):
        raise TypeError("bounding_boxes must be a dict with 'boxes' and 'labels'. "
                        f"Received: bounding_boxes of type {type(bounding_boxes).__name__}")
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("bounding_boxes must be a dict with 'boxes' and 'labels' keys. "
                         f"Received: bounding_boxes with keys {sorted(bounding_boxes)}")
    if not isinstance(line_thickness, (int, np.integer)) or line_thickness < 1:
        raise ValueError("line_thickness must be a positive integer. "
                         f"Received: line_thickness={line_thickness!r}")
    if data_format == "channels_first":
        imgs = np.transpose(imgs, (0, 2, 3, 1))
    batch, height, width, channels = imgs.shape
    boxes = _np(_bb.convert_format(_np(bounding_boxes["boxes"]), bounding_box_format, "xyxy",
                                   height=height, width=width))
    labels = _np(bounding_boxes["labels"])
    if boxes.ndim != 3 or boxes.shape[0] != batch or labels.shape != boxes.shape[:2]:
        raise ValueError("bounding_boxes must hold 'boxes' of shape (batch, N, 4) and 'labels' "
                         f"of shape (batch, N) for {batch} images. Received: "
                         f"boxes.shape={boxes.shape}, labels.shape={labels.shape}")
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else _np(confidences)
    col = np.asarray(color)
    if col.ndim != 1 or col.size < min(channels, 3):
        raise ValueError(f"color must give one value per channel. Received: color={color!r} "
                         f"for images with {channels} channels")
    fill = np.resize(col, channels).astype("uint8")
    out = _to_uint8(imgs).copy()
    for i in range(batch):
        img = out[i]
        for j in range(boxes.shape[1]):
            c = int(labels[i, j])
            if c == -1:
                continue
            x1, y1, x2, y2 = (int(v) for v in boxes[i, j].astype("int32"))
            _rectangle(img, x1, y1, x2, y2, fill, int(line_thickness))
            if c in class_mapping:
                text = str(class_mapping[c])
                if confidences is not None:
                    text = f"{text} | {float(confidences[i][j]):.2f}"
                img = _draw_text(img, text, x1, y1, tuple(fill), font_scale, text_thickness)
        out[i] = img
    if data_format == "channels_first":
        out = np.transpose(out, (0, 3, 1, 2))
    return out


def _palette(num_classes: int) -> list[list[int]]:
    base = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    return [(i * base % 255).tolist() for i in range(num_classes)]


def draw_segmentation_masks(images: Any, segmentation_masks: Any, num_classes: int | None = None,
                            color_mapping: Any = None, alpha: float = 0.8, blend: bool = True,
                            ignore_index: int = -1, data_format: str | None = None) -> np.ndarray:
    """Paint class colours of integer segmentation masks onto images.

    Each pixel of class ``k`` (``0 <= k < num_classes``) gets colour ``k``;
    with ``blend`` the result is ``image * (1 - alpha) + colour * alpha``
    (pixels equal to ``ignore_index`` keep the image), cast to ``uint8``.

    Args:
        images: ``(batch, height, width, channels)`` images (or channels first).
        segmentation_masks: integer masks ``(batch, height, width, 1)`` (or
            ``(batch, 1, height, width)`` channels first).
        num_classes: the number of classes; default: the largest mask value
            (as in Keras, so that class itself gets no colour).
        color_mapping: optional colours by class index (a dict or a list).
        alpha: the weight of the colour when blending.
        blend: blend with the image (True) or return the painted float32
            images (False).
        ignore_index: mask value left unpainted.
        data_format: ``"channels_last"`` or ``"channels_first"``; the result is
            channels last in both cases, as in Keras.

    Returns:
        ``uint8`` images (``blend=True``) or ``float32`` images, channels last.

    Example:
        >>> import numpy as np
        >>> from chainrule import visualization
        >>> img = np.full((1, 2, 2, 3), 100, "uint8")
        >>> mask = np.array([[[[0], [1]], [[-1], [1]]]])
        >>> out = visualization.draw_segmentation_masks(
        ...     img, mask, num_classes=2, color_mapping={0: (0, 0, 0), 1: (200, 0, 50)},
        ...     alpha=0.5)
        >>> out[0, :, :, 0].tolist()
        [[50, 150], [100, 150]]
    """
    data_format = _check_data_format(data_format)
    imgs = _np(images)
    _check_images(imgs)
    masks = _np(segmentation_masks)
    if data_format == "channels_first":
        imgs = np.transpose(imgs, (0, 2, 3, 1))
        if masks.ndim == 4:
            masks = np.transpose(masks, (0, 2, 3, 1))
    if masks.ndim == 3:
        masks = masks[..., None]
    if masks.dtype.kind not in "iu":
        raise TypeError("segmentation_masks must have an integer dtype. "
                        f"Received: segmentation_masks.dtype={masks.dtype}")
    if masks.shape != imgs.shape[:3] + (1,):
        raise ValueError("segmentation_masks must have shape (batch, height, width, 1) matching "
                         f"the images {imgs.shape}. Received: segmentation_masks.shape="
                         f"{masks.shape}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]. Received: alpha={alpha!r}")
    if num_classes is None:
        num_classes = int(masks.max())
    if color_mapping is None:
        colors = _palette(num_classes)
    else:
        try:
            colors = [color_mapping[i] for i in range(num_classes)]
        except (KeyError, IndexError):
            raise ValueError(f"color_mapping must give a colour for each of the {num_classes} "
                             f"classes. Received: color_mapping={color_mapping!r}") from None
    imgs = imgs.astype("float32")
    m = masks[..., 0]
    painted = imgs.copy()
    for k, c in enumerate(colors):
        painted[m == k] = np.asarray(c, dtype="float32")[None, :]
    if not blend:
        return painted
    out = imgs * (1 - alpha) + painted * alpha
    out = np.where((m != ignore_index)[..., None], out, imgs)
    return out.astype("uint8")

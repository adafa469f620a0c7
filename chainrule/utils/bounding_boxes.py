"""Bounding-box utilities (Keras 3's ``keras.utils.bounding_boxes``).

Boxes are arrays whose last axis holds 4 coordinates, ``(N, 4)`` or
``(batch, N, 4)``, in one of these formats (case-insensitive):

- ``"xyxy"``: ``[left, top, right, bottom]``
- ``"yxyx"``: ``[top, left, bottom, right]``
- ``"xywh"``: ``[left, top, width, height]``
- ``"center_xywh"``: ``[center_x, center_y, width, height]``
- ``"center_yxhw"``: ``[center_y, center_x, height, width]``
- ``"rel_xyxy"``, ``"rel_yxyx"``, ``"rel_xywh"``, ``"rel_center_xywh"``: the
  same with coordinates divided by the image ``width`` / ``height``.

These are data utilities, computed on the host with NumPy (not ops: they
record no gradient). They accept NumPy arrays, nested lists and chainrule
Tensors, and return a Tensor when an input was a Tensor, a NumPy array
otherwise. Functions that take a dict ``{"boxes": ..., "labels": ...}`` return a
new dict (the input dict is left as it is).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd import Tensor

__all__ = [
    "convert_format", "compute_iou", "compute_ciou", "clip_to_image_size", "affine_transform",
    "crop", "pad", "encode_box_to_deltas", "decode_deltas_to_boxes", "SUPPORTED_FORMATS",
]

SUPPORTED_FORMATS = (
    "xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
    "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh",
)


# -- helpers -------------------------------------------------------------------------------------

def _np(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x)


def _any_tensor(*xs: Any) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


def _out(arr: np.ndarray, as_tensor: bool) -> Any:
    return Tensor(np.ascontiguousarray(arr)) if as_tensor else arr


def _check_format(fmt: Any, name: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in SUPPORTED_FORMATS:
        raise ValueError(f"{name} must be one of {SUPPORTED_FORMATS} (case-insensitive). "
                         f"Received: {name}={fmt!r}")
    return fmt.lower()


def _check_boxes(boxes: np.ndarray, name: str = "boxes") -> None:
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} must be an array whose last dimension is 4. "
                         f"Received: {name}.shape={tuple(boxes.shape)}")


def _split(b: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(b[..., i:i + 1] for i in range(4))


def _cat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts, axis=-1)


def _to_xyxy(b: np.ndarray, fmt: str, h: Any, w: Any) -> np.ndarray:
    a, c, d, e = _split(b)
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return _cat(c, a, e, d)
    if fmt == "xywh":
        return _cat(a, c, a + d, c + e)
    if fmt == "center_xywh":
        return _cat(a - d / 2.0, c - e / 2.0, a + d / 2.0, c + e / 2.0)
    if fmt == "center_yxhw":
        return _cat(c - e / 2.0, a - d / 2.0, c + e / 2.0, a + d / 2.0)
    if fmt == "rel_xyxy":
        return _cat(a * w, c * h, d * w, e * h)
    if fmt == "rel_yxyx":
        return _cat(c * w, a * h, e * w, d * h)
    if fmt == "rel_xywh":
        return _cat(a * w, c * h, (a + d) * w, (c + e) * h)
    # rel_center_xywh
    return _cat((a - d / 2.0) * w, (c - e / 2.0) * h, (a + d / 2.0) * w, (c + e / 2.0) * h)


def _from_xyxy(b: np.ndarray, fmt: str, h: Any, w: Any) -> np.ndarray:
    x1, y1, x2, y2 = _split(b)
    if fmt == "xyxy":
        return b
    if fmt == "yxyx":
        return _cat(y1, x1, y2, x2)
    if fmt == "xywh":
        return _cat(x1, y1, x2 - x1, y2 - y1)
    cx, cy = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0
    if fmt == "center_xywh":
        return _cat(cx, cy, x2 - x1, y2 - y1)
    if fmt == "center_yxhw":
        return _cat(cy, cx, y2 - y1, x2 - x1)
    if fmt == "rel_xyxy":
        return _cat(x1 / w, y1 / h, x2 / w, y2 / h)
    if fmt == "rel_yxyx":
        return _cat(y1 / h, x1 / w, y2 / h, x2 / w)
    if fmt == "rel_xywh":
        return _cat(x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h)
    # rel_center_xywh
    return _cat(cx / w, cy / h, (x2 - x1) / w, (y2 - y1) / h)


def _convert(boxes: np.ndarray, source: str, target: str, height: Any, width: Any,
             dtype: Any = "float32") -> np.ndarray:
    _check_boxes(boxes)
    source = _check_format(source, "source")
    target = _check_format(target, "target")
    if (source.startswith("rel_") or target.startswith("rel_")) and (
            height is None or width is None):
        raise ValueError("convert_format: height and width are needed to convert between "
                         f"relative and absolute formats (source={source!r}, "
                         f"target={target!r}). Received: height={height!r}, width={width!r}")
    dt = np.dtype(backend.standardize_dtype(dtype) if dtype is not None else "float32")
    boxes = boxes.astype(dt, copy=False)
    if source == target:
        return boxes
    h = None if height is None else np.asarray(_np(height), dtype=dt)
    w = None if width is None else np.asarray(_np(width), dtype=dt)
    if source.startswith("rel_") and target.startswith("rel_"):
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(boxes, source, h, w), target, h, w).astype(dt, copy=False)


def _image_hw(image_shape: Any) -> tuple[Any, Any]:
    if image_shape is None:
        return None, None
    if len(image_shape) != 3:
        raise ValueError("image_shape must be (height, width, channels). "
                         f"Received: image_shape={image_shape!r}")
    return image_shape[0], image_shape[1]


def _check_variance(variance: Any) -> np.ndarray | None:
    if variance is None:
        return None
    v = _np(variance).astype(np.float32)
    if v.ndim < 1 or v.shape[-1] != 4:
        raise ValueError(f"variance must have length 4. Received: variance={v.tolist()!r}")
    return v


# -- public API ----------------------------------------------------------------------------------

def convert_format(boxes: Any, source: str, target: str, height: Any = None, width: Any = None,
                   dtype: Any = "float32") -> Any:
    """Convert bounding boxes from format ``source`` to format ``target``.

    Args:
        boxes: boxes of shape ``(..., 4)``, or a dict with ``"boxes"`` (and
            usually ``"labels"``); then a new dict with converted ``"boxes"`` is
            returned.
        source: the format of ``boxes`` (see :data:`SUPPORTED_FORMATS`).
        target: the format to convert to.
        height: image height, needed when either format is relative.
        width: image width, needed when either format is relative.
        dtype: the dtype of the result (default ``"float32"``).

    Returns:
        The converted boxes, same shape as ``boxes``.

    Raises:
        ValueError: for an unknown format, a last dimension other than 4, or a
            relative format without ``height`` and ``width``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> boxes = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])
        >>> bounding_boxes.convert_format(boxes, source="xyxy", target="xywh")
        array([[10., 20., 20., 20.],
               [50., 60., 20., 20.]], dtype=float32)
    """
    if isinstance(boxes, dict):
        if "boxes" not in boxes:
            raise ValueError("convert_format: a dict of boxes must have a 'boxes' key. "
                             f"Received: boxes with keys {sorted(boxes)}")
        result = dict(boxes)
        result["boxes"] = convert_format(boxes["boxes"], source, target, height=height,
                                         width=width, dtype=dtype)
        return result
    out = _convert(_np(boxes), source, target, height, width, dtype)
    return _out(out, _any_tensor(boxes))


def _area_yxyx(b: np.ndarray) -> np.ndarray:
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def compute_iou(boxes1: Any, boxes2: Any, bounding_box_format: str, use_masking: bool = False,
                mask_val: float = -1, image_shape: Any = None) -> Any:
    """Pairwise intersection over union of two sets of boxes.

    Args:
        boxes1: ``(N, 4)`` or ``(batch, N, 4)`` boxes.
        boxes2: ``(M, 4)`` or ``(batch, M, 4)`` boxes.
        bounding_box_format: the format of both sets.
        use_masking: when True, pairs involving a box whose 4 coordinates are
            all negative (after conversion to ``yxyx``) get ``mask_val``.
        mask_val: the value for masked pairs (default -1).
        image_shape: ``(height, width, channels)``, needed for relative formats.

    Returns:
        ``(N, M)`` IoUs, or ``(batch, N, M)`` when either input is batched.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> a = np.array([[0, 0, 2, 2]]); b = np.array([[1, 1, 3, 3], [0, 0, 2, 2]])
        >>> np.round(bounding_boxes.compute_iou(a, b, "xyxy"), 4)
        array([[0.1429, 1.    ]], dtype=float32)
    """
    b1, b2 = _np(boxes1), _np(boxes2)
    for name, b in (("boxes1", b1), ("boxes2", b2)):
        if b.ndim not in (2, 3):
            raise ValueError(f"compute_iou: {name} must have shape (N, 4) or (batch, N, 4). "
                             f"Received: {name}.shape={tuple(b.shape)}")
        _check_boxes(b, name)
    if b1.ndim == 3 and b2.ndim == 3 and b1.shape[0] != b2.shape[0]:
        raise ValueError("compute_iou: boxes1 and boxes2 must have the same batch size. "
                         f"Received: boxes1.shape={b1.shape}, boxes2.shape={b2.shape}")
    fmt = _check_format(bounding_box_format, "bounding_box_format")
    if fmt.startswith("rel_") and image_shape is None:
        raise ValueError("compute_iou: image_shape is needed for a relative bounding_box_format "
                         f"({fmt!r}). Received: image_shape=None")
    h, w = _image_hw(image_shape)
    y1 = _convert(b1, fmt, "yxyx", h, w)
    y2 = _convert(b2, fmt, "yxyx", h, w)
    t2 = np.swapaxes(y2, -1, -2)  # (4, M) or (batch, 4, M)
    ih = np.maximum(0.0, np.minimum(y1[..., 2:3], t2[..., 2:3, :])
                    - np.maximum(y1[..., 0:1], t2[..., 0:1, :]))
    iw = np.maximum(0.0, np.minimum(y1[..., 3:4], t2[..., 3:4, :])
                    - np.maximum(y1[..., 1:2], t2[..., 1:2, :]))
    inter = (ih * iw).astype(np.float32)
    a1 = _area_yxyx(y1)[..., :, None]
    a2 = _area_yxyx(y2)[..., None, :]
    res = (inter / (a1 + a2 - inter + np.float32(backend.epsilon()))).astype(np.float32)
    if use_masking:
        m1 = np.max(y1, axis=-1, keepdims=True) < 0
        m2 = np.swapaxes(np.max(y2, axis=-1, keepdims=True) < 0, -1, -2)
        res = np.where(m1 | m2, np.float32(mask_val), res).astype(np.float32)
    return _out(res, _any_tensor(boxes1, boxes2))


def compute_ciou(boxes1: Any, boxes2: Any, bounding_box_format: str,
                 image_shape: Any = None) -> Any:
    """Complete IoU (CIoU) of corresponding boxes (element-wise, shapes broadcast).

    CIoU = IoU - (centre distance^2 / enclosing diagonal^2 + v * alpha), where
    ``v`` measures the difference of aspect ratios.

    Args:
        boxes1: boxes of shape ``(..., 4)``.
        boxes2: boxes of shape ``(..., 4)``, broadcastable with ``boxes1``.
        bounding_box_format: the format of both sets.
        image_shape: ``(height, width, channels)``, needed for relative formats.

    Returns:
        The CIoU of each pair, shape ``broadcast(boxes1, boxes2).shape[:-1]``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> a = np.array([[0, 0, 2, 2]]); b = np.array([[1, 1, 3, 3]])
        >>> np.round(bounding_boxes.compute_ciou(a, b, "xyxy"), 4)
        array([0.0317], dtype=float32)
    """
    b1, b2 = _np(boxes1), _np(boxes2)
    _check_boxes(b1, "boxes1")
    _check_boxes(b2, "boxes2")
    try:
        np.broadcast_shapes(b1.shape, b2.shape)
    except ValueError:
        raise ValueError("compute_ciou: boxes1 and boxes2 must have shapes that broadcast. "
                         f"Received: boxes1.shape={b1.shape}, boxes2.shape={b2.shape}") from None
    fmt = _check_format(bounding_box_format, "bounding_box_format")
    if fmt.startswith("rel_") and image_shape is None:
        raise ValueError("compute_ciou: image_shape is needed for a relative bounding_box_format "
                         f"({fmt!r}). Received: image_shape=None")
    h, w = _image_hw(image_shape)
    x1 = _convert(b1, fmt, "xyxy", h, w)
    x2 = _convert(b2, fmt, "xyxy", h, w)
    eps = np.float32(backend.epsilon())
    xa1, ya1, xb1, yb1 = _split(x1)
    xa2, ya2, xb2, yb2 = _split(x2)
    w1, h1 = xb1 - xa1, yb1 - ya1 + eps
    w2, h2 = xb2 - xa2, yb2 - ya2 + eps
    inter = (np.maximum(np.minimum(xb1, xb2) - np.maximum(xa1, xa2), 0)
             * np.maximum(np.minimum(yb1, yb2) - np.maximum(ya1, ya2), 0))
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = (inter / (union + eps))[..., 0]
    cw = np.maximum(xb1, xb2) - np.minimum(xa1, xa2)
    ch = np.maximum(yb1, yb2) - np.minimum(ya1, ya2)
    diag = (cw ** 2 + ch ** 2 + eps)[..., 0]
    dist = (((xa1 + xb1) / 2 - (xa2 + xb2) / 2) ** 2 + ((ya1 + yb1) / 2 - (ya2 + yb2) / 2) ** 2)
    dist = dist[..., 0]
    v = (np.float32(4 / math.pi ** 2) * (np.arctan(w2 / h2) - np.arctan(w1 / h1)) ** 2)[..., 0]
    alpha = v / (v - iou + (1 + eps))
    res = (iou - (dist / diag + v * alpha)).astype(np.float32)
    return _out(res, _any_tensor(boxes1, boxes2))


def _require_xyxy(fmt: Any, fn: str) -> None:
    f = _check_format(fmt, "bounding_box_format")
    if f != "xyxy":
        raise NotImplementedError(f"{fn} supports bounding_box_format='xyxy' only, as in Keras; "
                                  f"convert with convert_format first. "
                                  f"Received: bounding_box_format={fmt!r}")


def clip_to_image_size(bounding_boxes: dict, height: Any = None, width: Any = None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Clip boxes to the image; boxes left with no area get label -1.

    Args:
        bounding_boxes: a dict with ``"boxes"`` ``(N, 4)`` or ``(batch, N, 4)``
            and optionally ``"labels"`` ``(N,)`` or ``(batch, N)``.
        height: image height (needed for ``"xyxy"``).
        width: image width (needed for ``"xyxy"``).
        bounding_box_format: ``"xyxy"`` (clip to ``[0, width] x [0, height]``) or
            ``"rel_xyxy"`` (clip to ``[0, 1]``).

    Returns:
        A new dict with clipped ``"boxes"`` (and updated ``"labels"``).

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> b = {"boxes": np.array([[-10., -20., 150., 160.], [130., 40., 170., 80.]]),
        ...      "labels": np.array([0, 1])}
        >>> out = bounding_boxes.clip_to_image_size(b, height=100, width=120)
        >>> out["boxes"].tolist(), out["labels"].tolist()
        ([[0.0, 0.0, 120.0, 100.0], [120.0, 40.0, 120.0, 80.0]], [0, -1])
    """
    if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes:
        raise ValueError("clip_to_image_size: bounding_boxes must be a dict with a 'boxes' key. "
                         f"Received: bounding_boxes of type {type(bounding_boxes).__name__}")
    fmt = _check_format(bounding_box_format, "bounding_box_format")
    if fmt not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError("clip_to_image_size supports bounding_box_format 'xyxy' and "
                                  f"'rel_xyxy', as in Keras. Received: bounding_box_format="
                                  f"{bounding_box_format!r}")
    if fmt == "xyxy" and (height is None or width is None):
        raise ValueError("clip_to_image_size: height and width are needed for "
                         f"bounding_box_format='xyxy'. Received: height={height!r}, "
                         f"width={width!r}")
    raw = bounding_boxes["boxes"]
    boxes = _np(raw)
    _check_boxes(boxes)
    if fmt == "xyxy":
        hi_x = np.asarray(_np(width)).astype(boxes.dtype)
        hi_y = np.asarray(_np(height)).astype(boxes.dtype)
    else:
        hi_x = hi_y = np.asarray(1.0).astype(boxes.dtype)
    x1, y1, x2, y2 = _split(boxes)
    out = _cat(np.clip(x1, 0, hi_x), np.clip(y1, 0, hi_y), np.clip(x2, 0, hi_x),
               np.clip(y2, 0, hi_y)).astype(boxes.dtype, copy=False)
    result = dict(bounding_boxes)
    result["boxes"] = _out(out, _any_tensor(raw))
    labels = bounding_boxes.get("labels", None)
    if labels is not None:
        lab = _np(labels)
        area = (out[..., 2] - out[..., 0]) * (out[..., 3] - out[..., 1])
        if area.shape != lab.shape:
            raise ValueError("clip_to_image_size: labels must have one label per box. "
                             f"Received: labels.shape={lab.shape} for boxes.shape={boxes.shape}")
        result["labels"] = _out(np.where(area > 0, lab, -1).astype(lab.dtype),
                                _any_tensor(labels))
    return result


def affine_transform(boxes: Any, angle: Any, translate_x: Any, translate_y: Any, scale: Any,
                     shear_x: Any, shear_y: Any, height: Any, width: Any, center_x: Any = None,
                     center_y: Any = None, bounding_box_format: str = "xyxy") -> Any:
    """Apply the affine transform of Keras's ``RandomAffine`` to ``xyxy`` boxes.

    Each box's 4 corners are mapped and the result is their axis-aligned hull.
    Per-image parameters have shape ``(batch,)`` (scalars are broadcast).

    Args:
        boxes: ``(batch, N, 4)`` boxes (``(N, 4)`` is treated as a batch of one).
        angle: rotation in degrees.
        translate_x: horizontal translation, a fraction of the width.
        translate_y: vertical translation, a fraction of the height.
        scale: scaling factor.
        shear_x: shear angle along x in degrees.
        shear_y: shear angle along y in degrees.
        height: image height.
        width: image width.
        center_x: centre of the transform, a fraction of the width (default 0.5).
        center_y: centre of the transform, a fraction of the height (default 0.5).
        bounding_box_format: must be ``"xyxy"``.

    Returns:
        The transformed boxes, same shape as ``boxes``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> b = np.array([[[10., 10., 20., 30.]]])
        >>> z = np.zeros(1, "float32"); one = np.ones(1, "float32")
        >>> bounding_boxes.affine_transform(b, z, z + 0.1, z, one, z, z, 101, 101).tolist()
        [[[20.0, 10.0, 30.0, 30.0]]]
    """
    _require_xyxy(bounding_box_format, "affine_transform")
    b = _np(boxes)
    _check_boxes(b)
    unbatched = b.ndim == 2
    if unbatched:
        b = b[None]
    if b.ndim != 3:
        raise ValueError("affine_transform: boxes must have shape (batch, N, 4) or (N, 4). "
                         f"Received: boxes.shape={tuple(b.shape)}")
    batch = b.shape[0]
    ang = _np(angle)
    dt = ang.dtype if ang.dtype.kind == "f" else np.dtype(backend.floatx())

    def param(v: Any, name: str) -> np.ndarray:
        a = np.asarray(_np(v), dtype=dt)
        if a.ndim == 0:
            return np.full((batch,), a, dtype=dt)
        if a.shape != (batch,):
            raise ValueError(f"affine_transform: {name} must be a number or have shape "
                             f"(batch,)=({batch},). Received: {name}.shape={a.shape}")
        return a

    ang = param(angle, "angle")
    tx_, ty_, sc = (param(translate_x, "translate_x"), param(translate_y, "translate_y"),
                    param(scale, "scale"))
    shx, shy = param(shear_x, "shear_x"), param(shear_y, "shear_y")
    cxf = param(0.5 if center_x is None else center_x, "center_x")
    cyf = param(0.5 if center_y is None else center_y, "center_y")
    h = np.asarray(height, dtype=dt)
    w = np.asarray(width, dtype=dt)
    deg = dt.type(math.pi / 180.0)
    rot, sx, sy = -ang * deg, -shx * deg, -shy * deg
    cx, cy = cxf * (w - 1), cyf * (h - 1)
    tx, ty = -tx_ * (w - 1), -ty_ * (h - 1)
    cos_sy, tan_sx = np.cos(sy), np.tan(sx)
    a = np.cos(rot - sy) / cos_sy
    bb = a * tan_sx + np.sin(rot)
    c = -np.sin(rot - sy) / cos_sy
    d = np.cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * sc, -bb * sc, -c * sc, a * sc
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    m = np.stack([a0, a1, a2, b0, b1, b2], axis=-1).reshape(batch, 2, 3).astype(dt)
    bx = b.astype(dt)
    corners = np.stack([bx[..., 0], bx[..., 1], bx[..., 2], bx[..., 1],
                        bx[..., 2], bx[..., 3], bx[..., 0], bx[..., 3]], axis=-1)
    corners = corners.reshape(batch, b.shape[1], 4, 2)
    pts = np.concatenate([corners, np.ones(corners.shape[:-1] + (1,), dt)], axis=-1)
    moved = np.einsum("bnky,bzy->bnkz", pts, m)
    out = np.concatenate([moved.min(axis=2), moved.max(axis=2)], axis=-1).astype(dt)
    if unbatched:
        out = out[0]
    return _out(out, _any_tensor(boxes))


def crop(boxes: Any, top: Any, left: Any, height: Any, width: Any,
         bounding_box_format: str = "xyxy") -> Any:
    """Shift ``xyxy`` boxes into a crop window and clip them to it.

    Args:
        boxes: ``(N, 4)`` or ``(batch, N, 4)`` boxes.
        top: vertical offset of the crop window.
        left: horizontal offset of the crop window.
        height: height of the window (None: no upper clip).
        width: width of the window (None: no upper clip).
        bounding_box_format: must be ``"xyxy"``.

    Returns:
        The cropped boxes, same shape as ``boxes``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> b = np.array([[10, 20, 50, 60], [70, 80, 100, 120]])
        >>> bounding_boxes.crop(b, top=10, left=20, height=40, width=30).tolist()
        [[0, 10, 30, 40], [30, 40, 30, 40]]
    """
    _require_xyxy(bounding_box_format, "crop")
    b = _np(boxes)
    _check_boxes(b)
    x1, y1, x2, y2 = _split(b)
    out = _cat(np.clip(x1 - left, 0, width), np.clip(y1 - top, 0, height),
               np.clip(x2 - left, 0, width), np.clip(y2 - top, 0, height))
    return _out(out, _any_tensor(boxes))


def pad(boxes: Any, top: Any, left: Any, height: Any = None, width: Any = None,
        bounding_box_format: str = "xyxy") -> Any:
    """Shift ``xyxy`` boxes by the padding added above (``top``) and left of the image.

    Args:
        boxes: ``(N, 4)`` or ``(batch, N, 4)`` boxes.
        top: padding added above the image.
        left: padding added left of the image.
        height: unused (Keras's signature).
        width: unused (Keras's signature).
        bounding_box_format: must be ``"xyxy"``.

    Returns:
        The shifted boxes, same shape as ``boxes``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> bounding_boxes.pad(np.array([[1, 2, 3, 4]]), top=10, left=5).tolist()
        [[6, 12, 8, 14]]
    """
    _require_xyxy(bounding_box_format, "pad")
    b = _np(boxes)
    _check_boxes(b)
    x1, y1, x2, y2 = _split(b)
    return _out(_cat(x1 + left, y1 + top, x2 + left, y2 + top), _any_tensor(boxes))


def _check_encoding(fmt: Any, name: str) -> None:
    if fmt not in ("center_xywh", "center_yxhw"):
        raise ValueError(f"{name} must be 'center_xywh' or 'center_yxhw'. "
                         f"Received: {name}={fmt!r}")


def encode_box_to_deltas(anchors: Any, boxes: Any, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance: Any = None,
                         image_shape: Any = None) -> Any:
    """Encode boxes as offsets from anchors (centre shift / anchor size, log size ratio).

    Args:
        anchors: ``(N, 4)`` anchor boxes.
        boxes: ``(N, 4)`` or ``(batch, N, 4)`` boxes to encode.
        anchor_format: the format of ``anchors``.
        box_format: the format of ``boxes``.
        encoding_format: ``"center_yxhw"`` (default) or ``"center_xywh"``.
        variance: optional 4 factors the deltas are divided by.
        image_shape: ``(height, width, channels)`` for relative formats.

    Returns:
        Deltas with the shape of ``boxes``.

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> a = np.array([[0., 0., 10., 10.]]); b = np.array([[5., 0., 15., 20.]])
        >>> d = bounding_boxes.encode_box_to_deltas(a, b, "xyxy", "xyxy")
        >>> np.round(d, 4)
        array([[0.5   , 0.5   , 0.6931, 0.    ]], dtype=float32)
    """
    var = _check_variance(variance)
    _check_encoding(encoding_format, "encoding_format")
    h, w = _image_hw(image_shape)
    a = _convert(_np(anchors), anchor_format, encoding_format, h, w)
    b = _convert(_np(boxes), box_format, encoding_format, h, w)
    eps = np.float32(backend.epsilon())
    ad = np.maximum(a[..., 2:], eps)
    bd = np.maximum(b[..., 2:], eps)
    out = np.concatenate([(b[..., :2] - a[..., :2]) / ad, np.log(bd / ad)], axis=-1)
    if var is not None:
        out = out / var
    return _out(out.astype(np.float32), _any_tensor(anchors, boxes))


def decode_deltas_to_boxes(anchors: Any, boxes_delta: Any, anchor_format: str, box_format: str,
                           encoded_format: str = "center_yxhw", variance: Any = None,
                           image_shape: Any = None) -> Any:
    """Decode deltas made by :func:`encode_box_to_deltas` back into boxes.

    Args:
        anchors: ``(N, 4)`` anchors, or a dict of them by level.
        boxes_delta: ``(N, 4)`` or ``(batch, N, 4)`` deltas, or a dict with the
            same keys as ``anchors``.
        anchor_format: the format of ``anchors``.
        box_format: the format of the returned boxes.
        encoded_format: ``"center_yxhw"`` (default) or ``"center_xywh"``.
        variance: optional 4 factors the deltas are multiplied by.
        image_shape: ``(height, width, channels)`` for relative formats.

    Returns:
        Boxes in ``box_format`` (a dict by level when dicts were given).

    Example:
        >>> import numpy as np
        >>> from chainrule.utils import bounding_boxes
        >>> a = np.array([[0., 0., 10., 10.]])
        >>> d = np.array([[0.5, 0.5, np.log(2.0), 0.0]])
        >>> bounding_boxes.decode_deltas_to_boxes(a, d, "xyxy", "xyxy").tolist()
        [[5.0, 0.0, 15.0, 20.0]]
    """
    var = _check_variance(variance)
    _check_encoding(encoded_format, "encoded_format")
    h, w = _image_hw(image_shape)

    def level(anchor: Any, delta: Any) -> Any:
        a = _convert(_np(anchor), anchor_format, encoded_format, h, w)
        d = _np(delta).astype(np.float32)
        _check_boxes(d, "boxes_delta")
        if var is not None:
            d = d * var
        box = np.concatenate([d[..., :2] * a[..., 2:] + a[..., :2],
                              np.exp(d[..., 2:]) * a[..., 2:]], axis=-1)
        out = _convert(box, encoded_format, box_format, h, w)
        return _out(out, _any_tensor(anchor, delta))

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        if set(anchors) != set(boxes_delta):
            raise ValueError("decode_deltas_to_boxes: anchors and boxes_delta must have the same "
                             f"levels. Received: anchors keys {sorted(anchors)}, boxes_delta "
                             f"keys {sorted(boxes_delta)}")
        return {lvl: level(anchors[lvl], boxes_delta[lvl]) for lvl in anchors}
    return level(anchors, boxes_delta)

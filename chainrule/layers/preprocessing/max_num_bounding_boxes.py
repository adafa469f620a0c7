"""``MaxNumBoundingBoxes``: give every image exactly ``max_number`` boxes (Keras 3's layer).

Object-detection batches carry ``{"images", "bounding_boxes": {"boxes", "labels"}}``; a
model needs the same number of boxes per image. The layer keeps the first
``max_number`` boxes and labels of each image and pads the rest with ``fill_value``
(ops: a slice and a constant pad, so it runs inside a captured step too). Images,
top-level labels and segmentation masks pass unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing._utils import positive_int
from chainrule.ops.conv import normalize_data_format

__all__ = ["MaxNumBoundingBoxes"]

_NAME = "MaxNumBoundingBoxes"


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else ops.convert_to_tensor(np.asarray(value))


def keep_integer_dtypes(inputs: Any) -> Any:
    """Integer and boolean arrays (nested in dicts too) as Tensors of their own dtype.

    A layer's call converts arrays to its float dtype; Keras's image layers keep integer
    images and labels integers (only floats follow the compute dtype), so these layers
    hand integers over as Tensors first.
    """
    if isinstance(inputs, dict):
        return {k: keep_integer_dtypes(v) for k, v in inputs.items()}
    if isinstance(inputs, (np.ndarray, np.generic)) and inputs.dtype.kind in "iub":
        return ops.convert_to_tensor(inputs)
    return inputs


class MaxNumBoundingBoxes(Layer):
    """Truncate or pad the bounding boxes of each image to ``max_number`` (Keras's layer).

    Args:
        max_number: the number of boxes every image gets.
        fill_value: the value of the padded boxes' coordinates and labels (default -1).
        bounding_box_format: the boxes' format (``"xyxy"``, ``"yxyx"``, ...); needed,
            as in Keras, when the input holds ``"bounding_boxes"`` (the layer reads no
            coordinate, so any format works).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; kept in the
            config (images pass unchanged).
        **kwargs: layer arguments (``name``, ...).

    Input:
        Images (returned unchanged) or a dict ``{"images", "bounding_boxes":
        {"boxes": (batch, N, 4), "labels": (batch, N)}}`` (without the batch axis for a
        single image), optionally with ``"labels"`` and ``"segmentation_masks"``.

    Output:
        A new dict of the same keys whose ``boxes`` have shape ``(batch, max_number, 4)``
        and ``labels`` ``(batch, max_number)``, in their input dtypes.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")
        >>> data = {"images": np.zeros((1, 8, 8, 3)), "bounding_boxes": {
        ...     "boxes": np.array([[[0.0, 0.0, 4.0, 4.0]]]), "labels": np.array([[2]])}}
        >>> out = layer(data)["bounding_boxes"]
        >>> out["boxes"].shape, out["labels"].numpy()
        ((1, 3, 4), array([[ 2, -1, -1]]))
    """

    def __init__(self, max_number: int, fill_value: int = -1,
                 bounding_box_format: str | None = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_number = positive_int(max_number, "max_number", _NAME)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.integer,
                                                                       np.floating)):
            raise ValueError(f"{_NAME}: fill_value must be a number. Received: "
                             f"fill_value={fill_value!r}")
        self.fill_value = int(fill_value)
        self.bounding_box_format = bounding_box_format
        if data_format is None:
            from chainrule.backend.settings import image_data_format  # noqa: PLC0415

            data_format = image_data_format()
        self.data_format = normalize_data_format(data_format, _NAME)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(keep_integer_dtypes(inputs), *args, **kwargs)

    def _fit(self, x: Any, axis: int) -> Tensor:
        """``x`` cut or padded with ``fill_value`` to ``max_number`` along ``axis``."""
        x = _tensor(x)
        count = int(x.shape[axis])
        if count > self.max_number:
            index = [slice(None)] * x.ndim
            index[axis] = slice(0, self.max_number)
            return ops.getitem(x, tuple(index))
        if count < self.max_number:
            widths = [(0, 0)] * x.ndim
            widths[axis] = (0, self.max_number - count)
            return ops.pad(x, widths, constant_values=self.fill_value)
        return x

    def call(self, inputs: Any, training: Any = None) -> Any:
        if not isinstance(inputs, dict):
            return inputs
        if "images" not in inputs:
            raise ValueError(f'{_NAME} layer "{self.name}" takes images or a dict with '
                             f'"images" (and "bounding_boxes", "labels", '
                             f'"segmentation_masks"). Received: keys {sorted(inputs)}')
        out = dict(inputs)
        if "bounding_boxes" not in inputs:
            return out
        if not self.bounding_box_format:
            raise ValueError("You passed an input with a 'bounding_boxes' key, but you didn't "
                             "specify a bounding box format. Pass a `bounding_box_format` "
                             f"argument to your {_NAME} layer, e.g. "
                             f"`bounding_box_format='xyxy'`. Received: bounding_box_format="
                             f"{self.bounding_box_format!r}")
        boxes_in = inputs["bounding_boxes"]
        if not isinstance(boxes_in, dict) or not {"boxes", "labels"} <= set(boxes_in):
            raise ValueError(f'{_NAME} layer "{self.name}": bounding_boxes must be a dict with '
                             f'"boxes" and "labels". Received: {boxes_in!r:.120}')
        batched = np.ndim(inputs["images"]) == 4
        axis = 1 if batched else 0
        boxes, labels = _tensor(boxes_in["boxes"]), _tensor(boxes_in["labels"])
        if boxes.ndim != axis + 2 or boxes.shape[-1] != 4 or labels.ndim != axis + 1 \
                or labels.shape[axis] != boxes.shape[axis]:
            want = "(batch, N, 4) and (batch, N)" if batched else "(N, 4) and (N,)"
            raise ValueError(f'{_NAME} layer "{self.name}": boxes and labels must have shapes '
                             f"{want}. Received: boxes.shape={tuple(boxes.shape)}, "
                             f"labels.shape={tuple(labels.shape)}")
        fitted = dict(boxes_in)
        fitted["boxes"], fitted["labels"] = self._fit(boxes, axis), self._fit(labels, axis)
        out["bounding_boxes"] = fitted
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Keras's rule: ``max_number`` boxes and labels; everything else unchanged."""
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            boxes = dict(input_shape["bounding_boxes"])
            extra = sorted(set(boxes) - {"boxes", "labels"})
            if extra:
                raise KeyError(f"There are unsupported keys in `bounding_boxes`: {extra}. "
                               "Only `boxes` and `labels` are supported.")
            out = dict(input_shape)
            for key in ("boxes", "labels"):
                shape = list(boxes[key])
                shape[1] = self.max_number
                boxes[key] = tuple(shape)
            out["bounding_boxes"] = boxes
            return out
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "max_number": self.max_number,
                       "fill_value": self.fill_value})
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config

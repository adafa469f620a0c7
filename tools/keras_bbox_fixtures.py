"""Record Keras 3's keras.utils.bounding_boxes outputs on small fixed inputs.

Run with an environment that has Keras (and TensorFlow) installed:

    python tools/keras_bbox_fixtures.py

Writes tests/fixtures/keras_bbox.npz (inputs, outputs and the versions used), which
tests/test_bounding_boxes.py compares chainrule.utils.bounding_boxes against.
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
from keras.utils import bounding_boxes as kb  # noqa: E402

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
           "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh")
H, W = 60, 80


def np_(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def main() -> None:
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}
    # xyxy boxes in a 60 x 80 image (some partly outside), batched (2, 5, 4)
    x1 = rng.uniform(-10, 60, (2, 5))
    y1 = rng.uniform(-10, 45, (2, 5))
    bw = rng.uniform(1, 30, (2, 5))
    bh = rng.uniform(1, 25, (2, 5))
    boxes = np.stack([x1, y1, x1 + bw, y1 + bh], -1).astype("float32")
    out["boxes"] = boxes
    # every format from xyxy, then every pair back
    in_fmt = {}
    for f in FORMATS:
        in_fmt[f] = np_(kb.convert_format(boxes.copy(), "xyxy", f, height=H, width=W))
        out[f"fmt_{f}"] = in_fmt[f]
    for s in FORMATS:
        for t in FORMATS:
            out[f"conv_{s}_{t}"] = np_(kb.convert_format(in_fmt[s].copy(), s, t, height=H,
                                                         width=W))
    # IoU: unbatched, batched, mixed ranks, masking
    b1 = boxes[0]
    b2 = boxes[1][:4]
    out["iou_2d"] = np_(kb.compute_iou(b1, b2, "xyxy"))
    out["iou_3d"] = np_(kb.compute_iou(boxes, boxes, "xyxy"))
    out["iou_3d_2d"] = np_(kb.compute_iou(boxes, b2, "xyxy"))
    out["iou_yxyx"] = np_(kb.compute_iou(in_fmt["yxyx"][0], in_fmt["yxyx"][1], "yxyx"))
    out["iou_rel"] = np_(kb.compute_iou(in_fmt["rel_xyxy"][0], in_fmt["rel_xyxy"][1],
                                        "rel_xyxy", image_shape=(H, W, 3)))
    masked = b1.copy()
    masked[1] = -1.0
    out["iou_mask_in"] = masked
    out["iou_masked"] = np_(kb.compute_iou(masked, b2, "xyxy", use_masking=True, mask_val=-7))
    # CIoU: element-wise
    out["ciou"] = np_(kb.compute_ciou(boxes[0], boxes[1], "xyxy"))
    out["ciou_cxywh"] = np_(kb.compute_ciou(in_fmt["center_xywh"][0], in_fmt["center_xywh"][1],
                                            "center_xywh"))
    # clip
    labels = np.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], "int32")
    clip_in = boxes.copy()
    clip_in[0, 0] = [85, 10, 95, 20]  # fully right of the image
    out["clip_in"] = clip_in
    c = kb.clip_to_image_size({"boxes": clip_in.copy(), "labels": labels.copy()}, height=H,
                              width=W)
    out["clip_boxes"] = np_(c["boxes"])
    out["clip_labels"] = np_(c["labels"])
    rel = in_fmt["rel_xyxy"].copy()
    rel[1, 2] = [1.2, 0.1, 1.5, 0.3]
    out["clip_rel_in"] = rel
    c = kb.clip_to_image_size({"boxes": rel.copy(), "labels": labels.copy()},
                              bounding_box_format="rel_xyxy")
    out["clip_rel_boxes"] = np_(c["boxes"])
    out["clip_rel_labels"] = np_(c["labels"])
    # crop / pad
    out["crop"] = np_(kb.crop(boxes.copy(), top=5, left=10, height=40, width=50))
    out["pad"] = np_(kb.pad(boxes.copy(), top=7, left=3))
    # affine (per-image parameters)
    aff = {"angle": np.array([30.0, -15.0], "float32"),
           "translate_x": np.array([0.1, -0.05], "float32"),
           "translate_y": np.array([-0.2, 0.0], "float32"),
           "scale": np.array([1.2, 0.8], "float32"),
           "shear_x": np.array([10.0, 0.0], "float32"),
           "shear_y": np.array([0.0, -5.0], "float32")}
    for k, v in aff.items():
        out[f"aff_{k}"] = v
    out["affine"] = np_(kb.affine_transform(boxes.copy(), **aff, height=H, width=W))
    out["affine_center"] = np_(kb.affine_transform(boxes.copy(), **aff, height=H, width=W,
                                                   center_x=0.25, center_y=0.75))
    # deltas
    anchors = in_fmt["xyxy"][0] + np.float32(2.0)
    out["anchors"] = anchors
    var = [0.1, 0.1, 0.2, 0.2]
    for enc in ("center_yxhw", "center_xywh"):
        d = np_(kb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding_format=enc))
        out[f"enc_{enc}"] = d
        out[f"dec_{enc}"] = np_(kb.decode_deltas_to_boxes(anchors, d, "xyxy", "xyxy",
                                                          encoded_format=enc))
    d = np_(kb.encode_box_to_deltas(anchors, boxes, "xyxy", "xywh", variance=var))
    out["enc_var"] = d
    out["dec_var_rel"] = np_(kb.decode_deltas_to_boxes(anchors, d, "xyxy", "rel_xyxy",
                                                       variance=var, image_shape=(H, W, 3)))
    import tensorflow as tf  # noqa: PLC0415
    out["versions"] = np.array(json.dumps({"keras": keras.__version__,
                                           "tensorflow": tf.__version__,
                                           "numpy": np.__version__}))
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_bbox.npz")
    np.savez_compressed(path, **out)
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()

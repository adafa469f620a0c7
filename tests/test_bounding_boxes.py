"""chainrule.utils.bounding_boxes against Keras 3's outputs (tests/fixtures/keras_bbox.npz)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import bounding_boxes as bb

FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_bbox.npz"))
FORMATS = bb.SUPPORTED_FORMATS
H, W = 60, 80


def close(a, b, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=atol)


def test_fixture_records_versions():
    v = json.loads(str(FIX["versions"]))
    assert v["keras"].startswith("3.")


def test_exported_from_utils():
    assert cr.utils.bounding_boxes is bb
    assert "bounding_boxes" in cr.utils.__all__


@pytest.mark.parametrize("fmt", FORMATS)
def test_convert_from_xyxy_matches_keras(fmt):
    got = bb.convert_format(FIX["boxes"], "xyxy", fmt, height=H, width=W)
    assert got.dtype == np.float32 and got.shape == (2, 5, 4)
    close(got, FIX[f"fmt_{fmt}"], atol=1e-6)


@pytest.mark.parametrize("source", FORMATS)
def test_convert_every_pair_matches_keras(source):
    for target in FORMATS:
        got = bb.convert_format(FIX[f"fmt_{source}"], source, target, height=H, width=W)
        tol = 1e-6
        close(got, FIX[f"conv_{source}_{target}"], atol=tol)


def test_convert_is_case_insensitive_dtype_and_dict():
    boxes = FIX["boxes"][0]
    got = bb.convert_format(boxes, "XYXY", "Center_XYWH", dtype="float64")
    assert got.dtype == np.float64
    labels = np.arange(5)
    d = {"boxes": boxes, "labels": labels}
    out = bb.convert_format(d, "xyxy", "rel_yxyx", height=H, width=W)
    assert out["labels"] is labels and d["boxes"] is boxes
    close(out["boxes"], FIX["fmt_rel_yxyx"][0])


def test_convert_tensor_in_tensor_out():
    t = cr.Tensor(FIX["boxes"])
    got = bb.convert_format(t, "xyxy", "xywh")
    assert isinstance(got, cr.Tensor)
    close(got.numpy(), FIX["fmt_xywh"], atol=1e-6)


def test_iou_matches_keras():
    b = FIX["boxes"]
    close(bb.compute_iou(b[0], b[1][:4], "xyxy"), FIX["iou_2d"])
    assert FIX["iou_2d"].shape == (5, 4)
    close(bb.compute_iou(b, b, "xyxy"), FIX["iou_3d"])
    close(bb.compute_iou(b, b[1][:4], "xyxy"), FIX["iou_3d_2d"])
    y = FIX["fmt_yxyx"]
    close(bb.compute_iou(y[0], y[1], "yxyx"), FIX["iou_yxyx"])
    r = FIX["fmt_rel_xyxy"]
    close(bb.compute_iou(r[0], r[1], "rel_xyxy", image_shape=(H, W, 3)), FIX["iou_rel"])
    close(bb.compute_iou(FIX["iou_mask_in"], b[1][:4], "xyxy", use_masking=True, mask_val=-7),
          FIX["iou_masked"])
    assert (FIX["iou_masked"][1] == -7).all()


def test_iou_against_numpy_loop():
    b1, b2 = FIX["boxes"][0].astype(np.float64), FIX["boxes"][1].astype(np.float64)
    got = bb.compute_iou(b1, b2, "xyxy")
    for i in range(5):
        for j in range(5):
            iw = max(0, min(b1[i, 2], b2[j, 2]) - max(b1[i, 0], b2[j, 0]))
            ih = max(0, min(b1[i, 3], b2[j, 3]) - max(b1[i, 1], b2[j, 1]))
            a1 = (b1[i, 2] - b1[i, 0]) * (b1[i, 3] - b1[i, 1])
            a2 = (b2[j, 2] - b2[j, 0]) * (b2[j, 3] - b2[j, 1])
            assert got[i, j] == pytest.approx(iw * ih / (a1 + a2 - iw * ih), rel=1e-5, abs=1e-6)


def test_ciou_matches_keras():
    b = FIX["boxes"]
    close(bb.compute_ciou(b[0], b[1], "xyxy"), FIX["ciou"])
    c = FIX["fmt_center_xywh"]
    close(bb.compute_ciou(c[0], c[1], "center_xywh"), FIX["ciou_cxywh"])
    # a box against itself: CIoU 1
    assert np.allclose(bb.compute_ciou(b[0], b[0], "xyxy"), 1.0, atol=1e-6)


def test_clip_matches_keras():
    labels = np.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], "int32")
    out = bb.clip_to_image_size({"boxes": FIX["clip_in"], "labels": labels}, height=H, width=W)
    close(out["boxes"], FIX["clip_boxes"])
    np.testing.assert_array_equal(out["labels"], FIX["clip_labels"])
    assert out["labels"][0, 0] == -1
    out = bb.clip_to_image_size({"boxes": FIX["clip_rel_in"], "labels": labels},
                                bounding_box_format="rel_xyxy")
    close(out["boxes"], FIX["clip_rel_boxes"])
    np.testing.assert_array_equal(out["labels"], FIX["clip_rel_labels"])


def test_crop_pad_match_keras():
    close(bb.crop(FIX["boxes"], top=5, left=10, height=40, width=50), FIX["crop"], atol=1e-6)
    close(bb.pad(FIX["boxes"], top=7, left=3), FIX["pad"], atol=1e-6)


def test_affine_matches_keras():
    aff = {k: FIX[f"aff_{k}"] for k in ("angle", "translate_x", "translate_y", "scale",
                                       "shear_x", "shear_y")}
    close(bb.affine_transform(FIX["boxes"], **aff, height=H, width=W), FIX["affine"],
          atol=1e-5)  # float32 trigonometry: ~2e-6 apart on pixel values
    close(bb.affine_transform(FIX["boxes"], **aff, height=H, width=W, center_x=0.25,
                              center_y=0.75), FIX["affine_center"], atol=1e-5)  # float32 trigonometry: ~2e-6 apart on pixel values
    # unbatched boxes and scalar parameters: a batch of one
    one = bb.affine_transform(FIX["boxes"][0], 30.0, 0.1, -0.2, 1.2, 10.0, 0.0, H, W)
    close(one, FIX["affine"][0], atol=1e-5)  # float32 trigonometry: ~2e-6 apart on pixel values


def test_identity_affine_keeps_boxes():
    z = np.zeros(2, "float32")
    got = bb.affine_transform(FIX["boxes"], z, z, z, z + 1, z, z, H, W)
    close(got, FIX["boxes"], atol=1e-6)


@pytest.mark.parametrize("enc", ["center_yxhw", "center_xywh"])
def test_deltas_match_keras_and_round_trip(enc):
    a, b = FIX["anchors"], FIX["boxes"]
    d = bb.encode_box_to_deltas(a, b, "xyxy", "xyxy", encoding_format=enc)
    close(d, FIX[f"enc_{enc}"], atol=1e-6)
    back = bb.decode_deltas_to_boxes(a, d, "xyxy", "xyxy", encoded_format=enc)
    close(back, FIX[f"dec_{enc}"], atol=1e-6)
    close(back, b, atol=1e-6)


def test_deltas_variance_relative_and_levels():
    a, b = FIX["anchors"], FIX["boxes"]
    var = [0.1, 0.1, 0.2, 0.2]
    d = bb.encode_box_to_deltas(a, b, "xyxy", "xywh", variance=var)
    close(d, FIX["enc_var"], atol=1e-6)
    got = bb.decode_deltas_to_boxes(a, d, "xyxy", "rel_xyxy", variance=var, image_shape=(H, W, 3))
    close(got, FIX["dec_var_rel"], atol=1e-6)
    levels = bb.decode_deltas_to_boxes({3: a, 4: a}, {3: d, 4: d[:1]}, "xyxy", "rel_xyxy",
                                       variance=var, image_shape=(H, W, 3))
    close(levels[4], FIX["dec_var_rel"][:1], atol=1e-6)


def test_tensor_inputs_give_tensors():
    t = cr.Tensor(FIX["boxes"])
    assert isinstance(bb.compute_iou(t, t, "xyxy"), cr.Tensor)
    assert isinstance(bb.crop(t, 1, 1, 10, 10), cr.Tensor)
    out = bb.clip_to_image_size({"boxes": t, "labels": np.zeros((2, 5))}, height=H, width=W)
    assert isinstance(out["boxes"], cr.Tensor) and isinstance(out["labels"], np.ndarray)


def test_non_xyxy_refused_where_keras_refuses():
    with pytest.raises(NotImplementedError, match="Received: bounding_box_format='xywh'"):
        bb.crop(FIX["boxes"], 0, 0, 10, 10, bounding_box_format="xywh")
    with pytest.raises(NotImplementedError, match="Received: bounding_box_format='yxyx'"):
        bb.clip_to_image_size({"boxes": FIX["boxes"]}, 10, 10, bounding_box_format="yxyx")


def test_masking_with_unbatched_boxes1_and_batched_boxes2():
    b1 = FIX["iou_mask_in"]
    b2 = np.stack([FIX["boxes"][1][:4]] * 2)
    got = bb.compute_iou(b1, b2, "xyxy", use_masking=True, mask_val=-7)
    assert got.shape == (2, 5, 4)
    close(got[1], FIX["iou_masked"])


def test_ciou_relative_with_image_shape():
    r = FIX["fmt_rel_xyxy"]
    got = bb.compute_ciou(r[0], r[1], "rel_xyxy", image_shape=(H, W, 3))
    close(got, FIX["ciou"], atol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_through_every_format(fmt):
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50, (7, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 20, (7, 2))], -1)
    there = bb.convert_format(boxes, "xyxy", fmt, height=H, width=W, dtype="float64")
    back = bb.convert_format(there, fmt, "xyxy", height=H, width=W, dtype="float64")
    np.testing.assert_allclose(back, boxes, rtol=1e-12, atol=1e-12)

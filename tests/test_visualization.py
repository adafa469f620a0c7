"""chainrule.visualization: drawn pixels, mask blending and the matplotlib galleries."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import chainrule as cr
from chainrule import visualization as vis

HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_PIL = importlib.util.find_spec("PIL") is not None
needs_mpl = pytest.mark.skipif(not HAS_MPL, reason="matplotlib is not installed")


def boxes_of(*rows, labels=None):
    b = np.array([rows], dtype="float32")
    lab = np.zeros(b.shape[:2], "int32") if labels is None else np.array([labels])
    return {"boxes": b, "labels": lab}


def test_exported():
    assert "visualization" in cr.__all__
    assert cr.visualization is vis
    for name in vis.__all__:
        assert callable(getattr(vis, name))


def test_box_edges_at_the_right_pixels():
    img = np.zeros((1, 20, 30, 3), "uint8")
    out = vis.draw_bounding_boxes(img, boxes_of([3, 4, 20, 15]), "xyxy", color=(10, 20, 30),
                                  line_thickness=1)
    assert out.dtype == np.uint8 and out.shape == img.shape
    drawn = out[0, :, :, 0] > 0
    expected = np.zeros((20, 30), bool)
    expected[4, 3:21] = expected[15, 3:21] = True
    expected[4:16, 3] = expected[4:16, 20] = True
    np.testing.assert_array_equal(drawn, expected)
    assert out[0, 4, 3].tolist() == [10, 20, 30]


def test_thick_edges_are_centred_and_clipped():
    img = np.zeros((1, 20, 20, 1), "uint8")
    out = vis.draw_bounding_boxes(img, boxes_of([0, 5, 10, 12]), "xyxy", color=(255,),
                                  line_thickness=3)[0, :, :, 0] > 0
    # rows 4..6 (top) and 11..13 (bottom); columns -1..1 (clipped to 0..1) and 9..11
    assert out[4:7, 0:12].all() and out[11:14, 0:12].all()
    assert out[4:14, 0:2].all() and out[4:14, 9:12].all()
    assert not out[3].any() and not out[14].any() and not out[:, 12:].any()
    assert not out[7:11, 2:9].any()


def test_other_formats_and_skipped_labels():
    img = np.zeros((1, 20, 30, 3), "uint8")
    xyxy = vis.draw_bounding_boxes(img, boxes_of([3, 4, 20, 15]), "xyxy", line_thickness=1)
    xywh = vis.draw_bounding_boxes(img, boxes_of([3, 4, 17, 11]), "xywh", line_thickness=1)
    rel = vis.draw_bounding_boxes(img, boxes_of([4 / 20, 3 / 30, 15 / 20, 20 / 30]), "rel_yxyx",
                                  line_thickness=1)
    np.testing.assert_array_equal(xyxy, xywh)
    np.testing.assert_array_equal(xyxy, rel)
    skipped = vis.draw_bounding_boxes(img, boxes_of([3, 4, 20, 15], labels=[-1]), "xyxy")
    assert not skipped.any()


def test_channels_first_and_float_images():
    img = np.full((1, 3, 10, 12), 0.5, "float32")  # floats <= 1 are scaled by 255
    out = vis.draw_bounding_boxes(img, boxes_of([1, 1, 8, 8]), "xyxy", color=(255, 0, 0),
                                  line_thickness=1, data_format="channels_first")
    assert out.shape == (1, 3, 10, 12) and out.dtype == np.uint8
    assert out[0, :, 1, 1].tolist() == [255, 0, 0]
    assert out[0, :, 5, 5].tolist() == [127, 127, 127]


@pytest.mark.skipif(not HAS_PIL, reason="Pillow is not installed")
def test_class_labels_are_written_above_the_box():
    img = np.zeros((1, 60, 60, 3), "uint8")
    b = boxes_of([10, 40, 50, 55])
    plain = vis.draw_bounding_boxes(img, b, "xyxy", color=(255, 255, 255))
    text = vis.draw_bounding_boxes(img, b, "xyxy", class_mapping={0: "cat"},
                                   color=(255, 255, 255))
    diff = (text != plain).any(axis=-1)[0]
    assert diff.any() and not diff[39:].any()  # text only above the box's top edge


def test_mask_blending_values():
    img = np.array([[[[100, 50, 0], [200, 100, 10]], [[30, 60, 90], [0, 0, 0]]]], "uint8")
    mask = np.array([[[[0], [1]], [[-1], [2]]]], "int32")
    colors = {0: (0, 0, 0), 1: (255, 255, 255)}
    out = vis.draw_segmentation_masks(img, mask, num_classes=2, color_mapping=colors, alpha=0.25)
    f = img.astype("float32")
    expected = f.copy()
    expected[0, 0, 0] = f[0, 0, 0] * 0.75
    expected[0, 0, 1] = f[0, 0, 1] * 0.75 + 255 * 0.25
    expected[0, 1, 1] = f[0, 1, 1] * 0.75 + f[0, 1, 1] * 0.25  # class 2 >= num_classes: unpainted
    np.testing.assert_array_equal(out, expected.astype("uint8"))
    assert out.dtype == np.uint8
    painted = vis.draw_segmentation_masks(img, mask, num_classes=2, color_mapping=colors,
                                          blend=False)
    assert painted.dtype == np.float32
    assert painted[0, 0, 1].tolist() == [255, 255, 255] and painted[0, 1, 0].tolist() == [30,
                                                                                           60, 90]


def test_mask_default_palette_and_num_classes():
    img = np.zeros((1, 1, 3, 3), "uint8")
    mask = np.array([[[[0], [1], [2]]]], "int32")
    out = vis.draw_segmentation_masks(img, mask, alpha=1.0)  # num_classes = max = 2
    palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1])
    assert out[0, 0, 0].tolist() == [0, 0, 0]
    assert out[0, 0, 1].tolist() == (palette % 255).tolist()
    assert out[0, 0, 2].tolist() == [0, 0, 0]  # class 2 is not painted, as in Keras


def test_mask_channels_first_returns_channels_last():
    img = np.full((2, 3, 4, 5), 10, "uint8")
    mask = np.zeros((2, 1, 4, 5), "int32")
    out = vis.draw_segmentation_masks(img, mask, num_classes=1, color_mapping=[(110, 110, 110)],
                                      alpha=0.5, data_format="channels_first")
    assert out.shape == (2, 4, 5, 3) and (out == 60).all()


@pytest.fixture
def agg():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    return mpl


@needs_mpl
def test_image_gallery_axes_titles_and_path(agg, tmp_path):
    imgs = np.random.default_rng(0).uniform(0, 1, (6, 8, 8, 3)).astype("float32")
    fig = vis.plot_image_gallery(imgs, y_true=np.array([0, 1, 0, 1, 0, 1]),
                                 label_map={0: "cat", 1: "dog"}, value_range=(0, 1), rows=2,
                                 cols=3, path=tmp_path / "g.png")
    assert isinstance(fig, agg.figure.Figure)
    assert len(fig.axes) == 6
    assert fig.axes[1].get_title() == "Label: dog"
    assert (tmp_path / "g.png").stat().st_size > 0
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(shown, (imgs[0] * 255).astype("uint8"))
    assert len(vis.plot_image_gallery(imgs[:4]).axes) == 4


@needs_mpl
def test_bounding_box_gallery(agg):
    imgs = np.zeros((4, 16, 16, 3), "uint8")
    b = {"boxes": np.tile(np.array([[[2, 2, 10, 10]]], "float32"), (4, 1, 1)),
         "labels": np.zeros((4, 1), "int32")}
    fig = vis.plot_bounding_box_gallery(imgs, "xyxy", y_true=b, y_pred=b, legend=True)
    assert len(fig.axes) == 4 and len(fig.legends) == 1
    shown = fig.axes[0].images[0].get_array()
    assert shown[2, 5].tolist() == [255, 235, 59]  # the prediction colour is drawn last


@needs_mpl
def test_segmentation_mask_gallery(agg):
    imgs = np.zeros((3, 8, 8, 3), "uint8")
    masks = np.ones((3, 8, 8, 1), "int32")
    assert len(vis.plot_segmentation_mask_gallery(imgs, 2, y_true=masks).axes) == 6
    fig = vis.plot_segmentation_mask_gallery(imgs, 2, y_true=masks, y_pred=masks)
    assert len(fig.axes) == 9

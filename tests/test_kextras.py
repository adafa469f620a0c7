"""Keras 3 names added together: ``ops.image.sobel_edges``/``ssim``, ``MaxNumBoundingBoxes``,
``ContrastLimitedAdaptiveHistogramEqualization`` and ``chainrule.distillation``.

Keras's numbers come from tests/fixtures/keras_kextras.npz (tools/keras_fixtures_kextras.py);
the rest is checked against NumPy written here independently.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = np.load(os.path.join(HERE, "fixtures", "keras_kextras.npz"))
_SPEC = importlib.util.spec_from_file_location(
    "keras_fixtures_kextras", os.path.join(HERE, "..", "tools", "keras_fixtures_kextras.py"))
TOOL = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(TOOL)


# -- ops.image.sobel_edges and ops.image.ssim ------------------------------------------------


def test_fixture_records_versions():
    assert str(DATA["keras_version"]).startswith("3.")
    assert str(DATA["tensorflow_version"])


@pytest.mark.parametrize("name", sorted(TOOL.SOBEL))
def test_sobel_edges_matches_keras(name):
    _, fmt = TOOL.SOBEL[name]
    y = cr.ops.image.sobel_edges(DATA[f"{name}_x"], data_format=fmt)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), DATA[f"{name}_y"], rtol=1e-5, atol=1e-5)


def _sobel_loops(x):
    """Mirror padding and the two 3x3 kernels, pixel by pixel (channels last)."""
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float)
    n, h, w, c = x.shape
    out = np.zeros((n, h, w, c, 2))

    def mirror(i, size):
        return -i if i < 0 else 2 * (size - 1) - i if i >= size else i

    for b in range(n):
        for i in range(h):
            for j in range(w):
                for di in range(3):
                    for dj in range(3):
                        v = x[b, mirror(i + di - 1, h), mirror(j + dj - 1, w)]
                        out[b, i, j, :, 0] += ky[di, dj] * v
                        out[b, i, j, :, 1] += ky.T[di, dj] * v
    return out


def test_sobel_edges_matches_loops_and_gradient():
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 2))
    np.testing.assert_allclose(cr.ops.image.sobel_edges(x).numpy(), _sobel_loops(x),
                               atol=1e-12)
    assert check_gradients(cr.ops.image.sobel_edges, x)
    first = lambda t: cr.ops.image.sobel_edges(t, data_format="channels_first")  # noqa: E731
    assert check_gradients(first, x.transpose(0, 3, 1, 2))
    # a 2-pixel axis mirrors onto itself (dy == 0 there): the relative check above cannot
    # judge zeros, so the gradient of this linear map is compared with its columns exactly
    small = x[:1, :2, :3]
    r = np.random.default_rng(4).standard_normal(small.shape + (2,))
    t = cr.Tensor(small, requires_grad=True)
    cr.ops.sum(cr.ops.image.sobel_edges(t) * r).backward()
    columns = np.zeros(small.shape)
    for i in np.ndindex(small.shape):
        e = np.zeros(small.shape)
        e[i] = 1.0
        columns[i] = (_sobel_loops(e) * r).sum()
    np.testing.assert_allclose(t.grad, columns, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TOOL.SSIM))
def test_ssim_matches_keras(name):
    _, kwargs = TOOL.SSIM[name]
    y = cr.ops.image.ssim(DATA[f"{name}_a"], DATA[f"{name}_b"], **kwargs)
    assert y.shape == DATA[f"{name}_y"].shape and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), DATA[f"{name}_y"], rtol=2e-5, atol=2e-6)


def _ssim_numpy(a, b, size, sigma, max_val=1.0, k1=0.01, k2=0.03):
    """Wang et al.'s SSIM with explicit window sums (single channels-last image)."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g) / g.sum() ** 2
    h, wd, c = a.shape
    vals = []
    for ch in range(c):
        for i in range(h - size + 1):
            for j in range(wd - size + 1):
                pa, pb = a[i:i + size, j:j + size, ch], b[i:i + size, j:j + size, ch]
                ma, mb = (w * pa).sum(), (w * pb).sum()
                va, vb = (w * pa * pa).sum() - ma ** 2, (w * pb * pb).sum() - mb ** 2
                cov = (w * pa * pb).sum() - ma * mb
                c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
                vals.append((2 * ma * mb + c1) * (2 * cov + c2)
                            / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2)))
    return np.mean(vals)


def test_ssim_matches_numpy_and_gradient():
    rng = np.random.default_rng(2)
    a, b = rng.random((7, 6, 2)), rng.random((7, 6, 2))
    got = cr.ops.image.ssim(a, b, filter_size=3, filter_sigma=0.9)
    assert got.dtype == np.float64 and got.shape == ()
    np.testing.assert_allclose(float(got), _ssim_numpy(a, b, 3, 0.9), rtol=1e-12)
    same = cr.ops.image.ssim(a[None], a[None], filter_size=3)
    np.testing.assert_allclose(same.numpy(), [1.0], rtol=1e-12)
    fn = lambda x, y: cr.ops.image.ssim(x, y, filter_size=3, filter_sigma=0.9)  # noqa: E731
    assert check_gradients(fn, a[None, :5, :4], b[None, :5, :4], tolerance=1e-5)


def test_ssim_casts_back_to_the_input_dtype_as_keras():
    a = np.full((1, 4, 4, 1), 200, "uint8")
    b = np.full((1, 4, 4, 1), 100, "uint8")
    y = cr.ops.image.ssim(a, b, max_val=255.0, filter_size=3)
    assert y.dtype == np.uint8  # Keras casts the result back to image1's dtype


def test_sobel_and_ssim_in_a_functional_model():
    inp = cr.layers.Input((6, 6, 1))
    out = cr.ops.image.sobel_edges(inp)
    model = cr.Model(inp, out)
    x = np.random.default_rng(3).random((2, 6, 6, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               cr.ops.image.sobel_edges(x).numpy(), rtol=1e-6)


# -- MaxNumBoundingBoxes and ContrastLimitedAdaptiveHistogramEqualization ---------------------


@pytest.mark.parametrize("name", sorted(TOOL.CLAHE))
def test_clahe_matches_keras(name):
    _, dtype, kwargs = TOOL.CLAHE[name]
    layer = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    y = layer(DATA[f"{name}_x"])
    want = DATA[f"{name}_y"]
    assert y.dtype == want.dtype == np.dtype(dtype) and y.shape == want.shape
    if dtype == "uint8":  # a truncating cast: a float32 rounding step may cross an integer
        assert np.abs(y.numpy().astype(int) - want).max() <= 1
        assert np.mean(y.numpy() == want) > 0.99
    else:
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-4 * want.max())
    config = json.loads(str(DATA[f"{name}_config"]))
    mine = layer.get_config()
    for key in ("value_range", "clip_limit", "tile_grid_size", "data_format"):
        assert np.allclose(mine[key], config[key]) if key != "data_format" else \
            mine[key] == config[key]
    again = cr.layers.ContrastLimitedAdaptiveHistogramEqualization.from_config(config)
    np.testing.assert_array_equal(again(DATA[f"{name}_x"]).numpy(), y.numpy())


def _clahe_reference(img, grid, clip):
    """One channel in [0, 255] (dimensions multiples of the grid): tiles' clipped
    histograms, their maps, then the four nearest tile centres blended per pixel."""
    h, w = img.shape
    th, tw = h // grid[0], w // grid[1]
    maps = np.zeros(grid + (256,))
    for i in range(grid[0]):
        for j in range(grid[1]):
            tile = img[i * th:(i + 1) * th, j * tw:(j + 1) * tw].astype(int)
            hist = np.bincount(tile.ravel(), minlength=256).astype(float)
            if clip > 0:
                limit = clip * th * tw / 256
                excess = np.sum(np.maximum(hist - limit, 0))
                hist = np.minimum(hist, limit) + excess / 256
            cdf = np.cumsum(hist)
            maps[i, j] = np.clip((cdf - cdf[0]) * 255 / ((th * tw - cdf[0]) or 1), 0, 255)
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            fy, fx = (y - th / 2) / th, (x - tw / 2) / tw  # position in tile-centre units
            i0, j0 = int(np.floor(fy)), int(np.floor(fx))
            a, b = fy - i0, fx - j0
            v = int(img[y, x])

            def at(i, j, v=v):
                return maps[min(max(i, 0), grid[0] - 1), min(max(j, 0), grid[1] - 1), v]

            out[y, x] = ((1 - a) * ((1 - b) * at(i0, j0) + b * at(i0, j0 + 1))
                         + a * ((1 - b) * at(i0 + 1, j0) + b * at(i0 + 1, j0 + 1)))
    return out


def test_clahe_matches_a_loop_reference_and_has_no_gradient():
    img = np.random.default_rng(5).integers(0, 120, (12, 8)).astype("float32")
    layer = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 2),
                                                                   clip_limit=2.0)
    got = layer(img[None, :, :, None]).numpy()[0, :, :, 0]
    np.testing.assert_allclose(got, _clahe_reference(img, (3, 2), 2.0), rtol=1e-4, atol=1e-3)
    t = cr.Tensor(img[None, :, :, None], requires_grad=True)
    assert not layer(t).requires_grad


def test_clahe_in_a_model_replays_and_saves(tmp_path):
    inp = cr.layers.Input((8, 8, 1))
    x = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(inp)
    x = cr.layers.Rescaling(1 / 255.0)(x)
    out = cr.layers.Dense(1)(cr.layers.Flatten()(x))
    model = cr.Model(inp, out)
    model.compile("sgd", "mse", jit_compile=True)  # raises if the step cannot be captured
    rng = np.random.default_rng(6)
    xs, ys = (rng.random((16, 8, 8, 1)) * 255).astype("float32"), rng.random((16, 1))
    model.fit(xs, ys, batch_size=8, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    path = str(tmp_path / "clahe.keras")
    model.save(path)
    again = cr.saving.load_model(path)
    np.testing.assert_allclose(again.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["maxnum_cut", "maxnum_pad"])
def test_max_num_bounding_boxes_matches_keras(name):
    config = json.loads(str(DATA["maxnum_config"]))
    layer = cr.layers.MaxNumBoundingBoxes.from_config({**config, "fill_value": -2})
    assert {k: v for k, v in layer.get_config().items() if k not in ("dtype", "fill_value")} \
        == {k: v for k, v in config.items() if k != "dtype"}
    images = np.zeros((2, 4, 4, 3), "float32")
    out = layer({"images": images, "bounding_boxes": {"boxes": DATA[f"{name}_boxes"],
                                                      "labels": DATA[f"{name}_labels"]},
                 "labels": np.array([1, 0])})
    boxes, labels = out["bounding_boxes"]["boxes"], out["bounding_boxes"]["labels"]
    assert boxes.dtype == np.float32 and labels.dtype == np.int32
    np.testing.assert_array_equal(boxes.numpy(), DATA[f"{name}_boxes_y"])
    np.testing.assert_array_equal(labels.numpy(), DATA[f"{name}_labels_y"])
    np.testing.assert_array_equal(out["images"].numpy(), images)
    np.testing.assert_array_equal(np.asarray(out["labels"]), [1, 0])


def test_max_num_bounding_boxes_single_image_plain_images_and_shapes():
    layer = cr.layers.MaxNumBoundingBoxes(2, bounding_box_format="yxyx")
    one = layer({"images": np.zeros((4, 4, 3)), "bounding_boxes": {
        "boxes": np.ones((3, 4)), "labels": np.arange(3)}})["bounding_boxes"]
    assert one["boxes"].shape == (2, 4) and one["labels"].numpy().tolist() == [0, 1]
    images = np.ones((1, 2, 2, 1), "float32")
    np.testing.assert_array_equal(np.asarray(layer(images)), images)
    shape = layer.compute_output_shape({"images": (None, 4, 4, 3), "bounding_boxes": {
        "boxes": (None, 7, 4), "labels": (None, 7)}})
    assert shape["bounding_boxes"] == {"boxes": (None, 2, 4), "labels": (None, 2)}
    with pytest.raises(ValueError, match="bounding box format"):
        cr.layers.MaxNumBoundingBoxes(2)({"images": images, "bounding_boxes": {
            "boxes": np.ones((1, 3, 4)), "labels": np.ones((1, 3))}})

"""Keras 3 names added together: ``ops.image.sobel_edges``/``ssim``, ``MaxNumBoundingBoxes``,
``ContrastLimitedAdaptiveHistogramEqualization`` and ``chainrule.distillation``.

Keras's numbers come from tests/fixtures/keras_kextras.npz (tools/keras_fixtures_kextras.py);
the rest is checked against NumPy written here independently.
"""

import importlib.util
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

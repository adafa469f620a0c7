"""chainrule.plot.filters and feature_maps: a convnet's kernels and its maps of one image."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import plot

pytest.importorskip("matplotlib")
L = cr.layers


def convnet():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    return cr.Sequential([L.Input((10, 10, 1)), L.Conv2D(5, 3, activation="relu", name="c1"),
                          L.MaxPooling2D(name="p1"), L.Conv2D(3, 2, name="c2"), L.Flatten(),
                          L.Dense(2)])


def test_filters_draws_each_kernel(tmp_path):
    model = convnet()
    fig = plot.filters(model.layers[0], path=tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert len(fig.axes) == 5
    image = fig.axes[2].get_images()[0].get_array()
    np.testing.assert_allclose(image, model.layers[0].kernel.numpy()[:, :, 0, 2])
    c2 = model.layers[2]
    fig = plot.filters(c2, max_filters=2)  # 5 input channels: their mean
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(),
                               c2.kernel.numpy()[..., 1].mean(-1), rtol=1e-6)
    rgb = L.Conv2D(4, 3)
    rgb(np.zeros((1, 5, 5, 3)))
    img = plot.filters(rgb).axes[0].get_images()[0].get_array()
    assert img.shape == (3, 3, 3) and img.min() == 0 and img.max() == 1
    with pytest.raises(ValueError, match="Received: layer 'p1'"):
        plot.filters(model.layers[1])
    with pytest.raises(ValueError, match=r"Received: channel=7"):
        plot.filters(c2, channel=7)


def test_feature_maps_are_the_layer_outputs(tmp_path):
    model = convnet()
    x = np.random.default_rng(0).random((10, 10, 1)).astype("float32")
    fig = plot.feature_maps(model, x, path=tmp_path / "m.png")
    want = np.maximum(cr.ops.conv(x[None], model.layers[0].kernel).numpy()
                      + model.layers[0].bias.numpy(), 0)
    assert len(fig.axes) == 5
    np.testing.assert_allclose(fig.axes[3].get_images()[0].get_array(), want[0, :, :, 3],
                               rtol=1e-5, atol=1e-6)
    assert len(plot.feature_maps(model, x[None], layer="p1", max_maps=2).axes) == 2
    assert "c2: output (3, 3, 3)" in plot.feature_maps(model, x, layer="c2")._suptitle.get_text()
    with pytest.raises(ValueError, match="No layer named 'nope'"):
        plot.feature_maps(model, x, layer="nope")
    with pytest.raises(ValueError, match=r"has a 2-D output"):
        plot.feature_maps(model, x, layer=model.layers[-1])
    with pytest.raises(ValueError, match=r"Received: x of shape \(2, 10, 10, 1\)"):
        plot.feature_maps(model, np.zeros((2, 10, 10, 1)))

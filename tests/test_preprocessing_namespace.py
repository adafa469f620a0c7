"""``chainrule.preprocessing`` (Keras 3's ``keras.preprocessing``) and ``smart_resize``.

Reference numbers: Keras 3 itself (tools/keras_fixtures_smart_resize.py writes
tests/fixtures/keras_smart_resize.npz).
"""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import utils
from chainrule.preprocessing import image, sequence

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_smart_resize.npz")
R = dict(np.load(FIXTURE))
CASES = sorted(k for k in R if k.count("_") >= 2 and "x" in k.rsplit("_", 1)[1])


@pytest.mark.parametrize("key", CASES)
def test_smart_resize_matches_keras(key):
    name, method, size = key.split("_")
    h, w = (int(v) for v in size.split("x"))
    fmt = "channels_first" if name == "first" else "channels_last"
    out = image.smart_resize(R[name], (h, w), interpolation=method, data_format=fmt)
    assert isinstance(out, np.ndarray) and out.shape == R[key].shape
    np.testing.assert_allclose(out, R[key], rtol=1e-5, atol=1e-3)


def test_smart_resize_keeps_tensors_as_tensors_and_crops_the_centre():
    x = np.arange(2 * 4 * 1, dtype="float32").reshape(2, 4, 1)
    out = image.smart_resize(cr.Tensor(x), (2, 2))
    assert isinstance(out, cr.Tensor)
    np.testing.assert_array_equal(out.numpy()[..., 0], [[1.0, 2.0], [5.0, 6.0]])


@pytest.mark.parametrize("kwargs, message", [
    ({"size": (2,)}, r"`size` must be a tuple of 2 positive integers\. Received: size=\(2,\)$"),
    ({"size": (2, 2), "interpolation": "bicubic"},
     r"'bilinear' or 'nearest' interpolation\. Received: interpolation='bicubic'$"),
    ({"size": (2, 2), "data_format": "NHWC"}, r"Received: data_format='NHWC'$"),
])
def test_smart_resize_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        image.smart_resize(np.zeros((4, 4, 3), "float32"), **kwargs)


def test_smart_resize_refuses_a_flat_array():
    with pytest.raises(ValueError, match=r"Received: input of shape \(4, 4\)$"):
        image.smart_resize(np.zeros((4, 4), "float32"), (2, 2))


def test_the_namespace_holds_keras_names_as_the_same_functions():
    assert sequence.pad_sequences is utils.pad_sequences
    assert image.load_img is utils.load_img and image.img_to_array is utils.img_to_array
    assert image.array_to_img is utils.array_to_img and image.save_img is utils.save_img
    assert cr.preprocessing.image_dataset_from_directory is utils.image_dataset_from_directory
    assert cr.preprocessing.text_dataset_from_directory is utils.text_dataset_from_directory
    assert (cr.preprocessing.timeseries_dataset_from_array
            is utils.timeseries_dataset_from_array)
    assert set(cr.preprocessing.__all__) == {
        "image", "sequence", "image_dataset_from_directory", "text_dataset_from_directory",
        "timeseries_dataset_from_array"}

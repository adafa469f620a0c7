"""ops.image: extract_patches against an independent NumPy loop and Keras's recorded numbers
(tools/keras_fixtures_image_ops.py), float64 gradient checks, replay; resize against Keras."""

import importlib.util
import itertools
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

HERE = os.path.dirname(__file__)
DATA = np.load(os.path.join(HERE, "fixtures", "image_ops_keras.npz"))
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_image_ops", os.path.join(HERE, "..", "tools", "keras_fixtures_image_ops.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def _loop_patches(x, size, strides, dilation, padding):
    """Channels-last batched patches by plain loops over every output element."""
    nd = len(size)
    spatial = x.shape[1:-1]
    pads = []
    for n, k, s, d in zip(spatial, size, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            pads.append((0, 0))
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    outs = [(n + a + b - ((k - 1) * d + 1)) // s + 1
            for n, (a, b), k, s, d in zip(spatial, pads, size, strides, dilation)]
    c = x.shape[-1]
    y = np.zeros((x.shape[0], *outs, int(np.prod(size)) * c), x.dtype)
    for pos in itertools.product(*(range(o) for o in outs)):
        for f, off in enumerate(itertools.product(*(range(k) for k in size))):
            idx = tuple(p * s + o * d for p, s, o, d in zip(pos, strides, off, dilation))
            y[(slice(None), *pos, slice(f * c, (f + 1) * c))] = xp[(slice(None), *idx)]
    assert len(outs) == nd
    return y


@pytest.mark.parametrize("size,strides,dilation,padding", [
    ((2, 2), (2, 2), (1, 1), "valid"),
    ((3, 2), (1, 2), (1, 1), "same"),
    ((2, 3), (2, 1), (2, 1), "valid"),
    ((3, 3), (3, 2), (2, 2), "same"),  # dilation and strides together (TensorFlow refuses)
])
def test_extract_patches_matches_loops(size, strides, dilation, padding):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    got = cr.ops.image.extract_patches(x, size, strides, dilation, padding)
    np.testing.assert_array_equal(got.numpy(), _loop_patches(x, size, strides, dilation,
                                                             padding))


@pytest.mark.parametrize("name", list(tool.PATCHES))
def test_extract_patches_matches_keras(name):
    _, kwargs = tool.PATCHES[name]
    got = cr.ops.image.extract_patches(DATA[f"patches/{name}/x"], **kwargs)
    np.testing.assert_allclose(got.numpy(), DATA[f"patches/{name}/y"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("kwargs,shape", [
    ({"size": (2, 3), "strides": (1, 2), "padding": "same"}, (2, 5, 6, 2)),
    ({"size": 2, "strides": 1, "dilation_rate": 2}, (1, 6, 5, 3)),
    ({"size": (2, 2), "data_format": "channels_first"}, (2, 3, 4, 4)),
    ({"size": 3}, (6, 6, 2)),  # unbatched
    ({"size": (2, 2, 2), "strides": 1}, (1, 3, 4, 3, 2)),  # volumes
])
def test_extract_patches_gradient(kwargs, shape):
    x = np.random.default_rng(1).normal(size=shape)
    result = check_gradients(lambda t: cr.ops.image.extract_patches(t, **kwargs), x)
    assert result, str(result)


def test_overlapping_patches_add_their_gradients():
    x = cr.Tensor(np.ones((1, 3, 3, 1)), requires_grad=True)
    cr.ops.sum(cr.ops.image.extract_patches(x, 2, strides=1)).backward()
    # each pixel counted once per window that reads it
    np.testing.assert_array_equal(x.grad[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_extract_patches_3d_and_outputs_are_not_shared():
    v = np.random.default_rng(2).normal(size=(2, 4, 4, 4, 1)).astype("float32")
    a = cr.ops.image.extract_patches_3d(v, 2)
    np.testing.assert_array_equal(a.numpy(), cr.ops.image.extract_patches(v, (2, 2, 2)).numpy())
    b = cr.ops.image.extract_patches_3d(v * 2, 2)
    np.testing.assert_array_equal(b.numpy(), 2 * a.numpy())  # a kept its values


@pytest.mark.parametrize("name", list(tool.RESIZES))
def test_resize_matches_keras(name):
    _, kwargs = tool.RESIZES[name]
    got = cr.ops.image.resize(DATA[f"resize/{name}/x"], **kwargs)
    np.testing.assert_allclose(got.numpy(), DATA[f"resize/{name}/y"], rtol=1e-5, atol=1e-6)


def test_resize_gradient():
    x = np.random.default_rng(3).normal(size=(1, 4, 5, 2))
    assert check_gradients(lambda t: cr.ops.image.resize(t, (3, 7)), x)


def test_keras_file_with_extract_patches_loads():
    pytest.importorskip("h5py", reason="Keras's .keras files need h5py (the h5 extra)")
    model = cr.saving.load_model(os.path.join(HERE, "fixtures", "keras_files",
                                              "extract_patches.keras"))
    np.testing.assert_array_equal(model.predict(DATA["model/x"], verbose=0), DATA["model/y"])


def test_symbolic_call_records_an_op_layer_that_saves(tmp_path):
    x = cr.layers.Input((8, 8, 3))
    y = cr.ops.image.extract_patches(x, **tool.MODEL_PATCHES)
    assert y.shape == DATA["model/y"].shape[:0] + (None, 4, 3, 8 * 3)
    model = cr.Model(x, y)
    np.testing.assert_array_equal(model.predict(DATA["model/x"], verbose=0), DATA["model/y"])
    model.save(tmp_path / "m.keras")
    again = cr.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(DATA["model/x"], verbose=0), DATA["model/y"])


class _Patches(cr.layers.Layer):
    def call(self, images):
        patches = cr.ops.image.extract_patches(images, 4)
        return cr.ops.reshape(patches, (-1, 4, 48))


def _train(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((16, 8, 8, 3)).astype("float32")
    y = np.arange(16) % 2
    model = cr.Sequential([cr.layers.Input((8, 8, 3)), _Patches(), cr.layers.Dense(4),
                           cr.layers.Flatten(), cr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
    hist = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    return model, hist.history["loss"]


def test_patches_layer_replays_bit_identically_to_the_tape():
    fast, fast_loss = _train(True)
    assert any(e.program is not None for e in fast._steps.entries.values())
    slow, slow_loss = _train(False)
    assert slow._steps.entries == {}
    assert fast_loss == slow_loss
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)

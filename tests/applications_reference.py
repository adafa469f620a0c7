"""What the applications tests share with their Keras-recording tools
(``tools/keras_applications*_fixtures.py``): the formula that sets every weight, so the
same model in Keras and chainrule computes the same numbers, and a model's weight list.
"""

from __future__ import annotations

import numpy as np
import pytest


def fill_weights(weights, positive=("moving_variance",), counts=False):
    """The k-th weight of ``[(path, shape), ...]``: ``0.05 * sin(arange(size) * 0.37 + k)``.

    A weight whose path ends with one of ``positive`` gets ``abs() + 0.5`` (a variance must
    be positive); with ``counts``, a Normalization layer's ``.../count`` is ``k`` (int64).
    """
    values = []
    for k, (path, shape) in enumerate(weights):
        if counts and path.endswith("/count"):
            values.append(np.array(k, dtype="int64"))
            continue
        w = 0.05 * np.sin(np.arange(int(np.prod(shape))) * 0.37 + k).reshape(shape)
        if path.endswith(positive):
            w = np.abs(w) + 0.5
        values.append(w.astype("float32"))
    return values


def weight_list(model):
    """A model's weights as ``[(path, shape), ...]``, in order."""
    return [(w.path, list(w.shape)) for w in model.weights]


def sample_input(shape):
    """The tools' fixed input: two images ``2 cos(0.11 i)`` of ``shape``."""
    size = 2 * int(np.prod(shape))
    return (2.0 * np.cos(np.arange(size) * 0.11)).reshape((2,) + tuple(shape)).astype("float32")


def write_keras_h5(model, path, values):
    """A tf.keras-layout weight file (as Keras's application weights are): ``layer_names``,
    then each layer's ``weight_names`` and datasets, holding ``values`` in order."""
    h5py = pytest.importorskip("h5py")  # the calling test is skipped without it

    with h5py.File(path, "w") as f:
        layers = [la for la in model.layers if la.weights]
        f.attrs["layer_names"] = [la.name.encode() for la in layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.6"
        it = iter(values)
        for layer in layers:
            group = f.create_group(layer.name)
            names = []
            for w in layer.weights:
                name = f"{layer.name}/{w.name}:0"
                names.append(name.encode())
                group.create_dataset(name, data=next(it))
            group.attrs["weight_names"] = names

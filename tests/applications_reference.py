"""What the applications tests share with their Keras-recording tools
(``tools/keras_applications*_fixtures.py``): the formula that sets every weight, so the
same model in Keras and chainrule computes the same numbers, and a model's weight list.
"""

from __future__ import annotations

import numpy as np


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

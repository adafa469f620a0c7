"""``CustomScaleLayer``: the residual sum of Keras 3's InceptionResNetV2 blocks,
``inputs[0] + inputs[1] * scale``, with Keras's name and config (``scale``).

Keras defines it in ``keras.applications.inception_resnet_v2``;
:mod:`chainrule.applications.inception_resnet_v2` takes it from here, and
``chainrule.layers`` lists it, so a saved model that uses it loads by name.

Example:
    >>> import numpy as np
    >>> CustomScaleLayer(2.0)([np.zeros((1, 1)), np.ones((1, 1))]).shape
    (1, 1)
"""

from __future__ import annotations

import numbers
from typing import Any

from chainrule.layers.base import Layer

__all__ = ["CustomScaleLayer"]


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the residual sum of an Inception-ResNet block
    (Keras's layer of the same name and config).

    Args:
        scale: the factor of the block's branch.
        **kwargs: the base layer's arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: a list of two tensors of the same shape (the shortcut, then the branch).

    Returns:
        A tensor of that shape.

    Raises:
        ValueError: when ``scale`` is not a number, or the call gets other than two
            inputs.

    Example:
        >>> import numpy as np
        >>> layer = CustomScaleLayer(0.5)
        >>> np.asarray(layer([np.ones((1, 2)), np.full((1, 2), 4.0)])).tolist()
        [[3.0, 3.0]]
    """

    def __init__(self, scale: float, **kwargs: Any) -> None:
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
            raise ValueError(f"CustomScaleLayer: `scale` must be a number. "
                             f"Received: scale={scale!r}")
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(f"Layer {self.name!r} (CustomScaleLayer) expects a list of two "
                             f"inputs (shortcut, branch). Received: {count} input(s)")
        return inputs[0] + inputs[1] * self.scale

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": self.scale})
        return config

"""``Wrapper``: the base class of layers that wrap another layer (Keras's ``keras.layers.Wrapper``)."""

from __future__ import annotations

from typing import Any

from chainrule.layers import serialization
from chainrule.layers.base import Layer

__all__ = ["Wrapper"]


class Wrapper(Layer):
    """Base class of layers that take another layer and change how it is applied.

    A subclass defines ``call`` (and, where needed, ``build``); ``Wrapper``
    keeps the wrapped layer as ``self.layer`` (its weights are the wrapper's),
    builds it on the wrapper's input shape unless the subclass builds it
    otherwise, and saves it inside the wrapper's config under ``"layer"``.
    ``TimeDistributed`` and ``Bidirectional`` are wrappers in Keras.

    Args:
        layer: the layer to wrap.
        **kwargs: layer arguments.

    Raises:
        ValueError: when ``layer`` is not a layer.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> class Doubled(cr.layers.Wrapper):
        ...     def call(self, inputs, training=None):
        ...         return 2.0 * self.layer(inputs)
        >>> w = Doubled(cr.layers.Dense(2, kernel_initializer="ones"))
        >>> w(np.ones((1, 3))).numpy().tolist(), len(w.weights)
        ([[6.0, 6.0]], 2)
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} wraps a layer. Received: layer={layer!r} "
                             f"of type {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
            self.layer._build_shape = input_shape
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"Wrapper is a base class: {type(self).__name__} must define call() (e.g. "
            "TimeDistributed, Bidirectional, or a subclass of your own). Received: a call "
            f"of layer {self.name!r}")

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialization.serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Wrapper":
        config = dict(config)
        return cls(serialization.deserialize(config.pop("layer"), custom_objects), **config)

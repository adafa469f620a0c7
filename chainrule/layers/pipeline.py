"""``Pipeline``: layers applied one after the other, as one plain layer (``keras.layers.Pipeline``)."""

from __future__ import annotations

from typing import Any, Sequence

from chainrule.layers import serialization
from chainrule.layers.base import Layer, call_arguments

__all__ = ["Pipeline"]


class Pipeline(Layer):
    """Apply a series of layers to an input, typically preprocessing or augmentation.

    Unlike a ``Sequential`` model it is a plain layer: no ``compile`` or ``fit``, and
    called directly it runs in training mode (``training=True`` by default, as in Keras)
    so augmentation layers transform their input; inside a model's ``predict`` or
    ``evaluate`` it follows the model's mode. Each layer gets the previous one's output
    (and its mask).

    Args:
        layers: the layers, in order.
        name: the layer's name.

    Input shape: the first layer's. Output shape: the last layer's.

    Raises:
        ValueError: when ``layers`` is not a list of layers.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> pipe = cr.layers.Pipeline([cr.layers.Rescaling(1 / 255), cr.layers.Flatten()])
        >>> pipe(np.full((2, 2, 2, 1), 255.0)).numpy().tolist()
        [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, layers: Sequence[Layer], name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(la, Layer)
                                                            for la in layers):
            raise ValueError(f"Pipeline {self.name!r}: layers must be a list of layers. "
                             f"Received: layers={layers!r:.200}")
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list[Layer]:
        """The layers, in order."""
        return self._pipeline_layers

    def build(self, input_shape: Any = None) -> None:
        shape = input_shape
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(shape)
                layer.built = True
                layer._build_shape = shape
            shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, inputs: Any, training: Any = True, mask: Any = None) -> Any:
        x = inputs
        for i, layer in enumerate(self._pipeline_layers):
            kwargs: dict[str, Any] = {}
            accepted = call_arguments(layer)
            if training is not None and "training" in accepted:
                kwargs["training"] = training
            if i == 0 and mask is not None and "mask" in accepted:
                kwargs["mask"] = mask  # later layers get the previous output's own mask
            x = layer(x, **kwargs)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config["layers"] = [serialization.serialize(la) for la in self._pipeline_layers]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Pipeline:
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list "
                             f"of serialized layers. Received: layers={layers!r:.200}")
        config = dict(config)
        config["layers"] = [serialization.deserialize(c, custom_objects) for c in layers]
        return cls(**config)

"""The Embedding layer: token ids to dense vectors (Keras's arguments, weight and mask)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.ops import rnn as rnn_ops

__all__ = ["Embedding"]


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


class Embedding(Layer):
    """Turn token ids into dense vectors of fixed size: ``embeddings[ids]``.

    Args:
        input_dim: the vocabulary size (largest id + 1).
        output_dim: the size of each vector.
        embeddings_initializer: default ``'uniform'`` (uniform in [-0.05, 0.05]).
        embeddings_regularizer: optional penalty on the table.
        embeddings_constraint: optional constraint (a name, a Constraint or a function)
            applied to the table after updates.
        mask_zero: treat id 0 as padding: the output carries a mask that later
            layers (recurrent layers, the loss) use to skip those steps.
        **kwargs: layer arguments. ``input_length`` is accepted and ignored with a
            warning, as in Keras 3.

    Input shape:
        ``(batch, ...)`` integer ids (floats holding whole numbers are accepted,
        as the training loop feeds them) in ``[0, input_dim)``.

    Output shape:
        ``(batch, ..., output_dim)``.

    Weights:
        ``embeddings`` of shape ``(input_dim, output_dim)``. Repeated ids add up
        their gradients; Adam updates the whole table, as in Keras.

    Raises:
        ValueError: naming the layer, for an id outside ``[0, input_dim)`` (with
            the largest id) or a float id that is not a whole number.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.Embedding(10, 3, mask_zero=True)
        >>> y = layer(np.array([[4, 2, 0]]))
        >>> y.shape, layer.compute_mask(np.array([[4, 2, 0]])).numpy().tolist()
        ((1, 3, 3), [[True, True, False]])
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, **kwargs: Any) -> None:
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        kwargs.pop("lora_rank", None)
        super().__init__(**kwargs)
        self.input_dim = _positive(input_dim, "input_dim")
        self.output_dim = _positive(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings: Any = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim), self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint,
            name="embeddings")
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return rnn_ops.embedding(inputs, self.embeddings, layer=self.name)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """``inputs != 0`` with ``mask_zero=True``, else None."""
        if not self.mask_zero:
            return None
        return ops.compare(inputs, 0, "!=")

    def get_config(self) -> dict:
        from chainrule import constraints, regularizers  # noqa: PLC0415
        from chainrule.layers.core import _serialize_initializer  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _serialize_initializer(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer)
            if self.embeddings_regularizer is not None else None,
            "mask_zero": self.mask_zero,
        })
        config.update(constraints.layer_config(self, ("embeddings_constraint",)))
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Embedding":
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        config = constraints.from_layer_config(config)
        if isinstance(config.get("embeddings_initializer"), dict):
            config["embeddings_initializer"] = initializers.deserialize(
                config["embeddings_initializer"])
        if isinstance(config.get("embeddings_regularizer"), dict):
            config["embeddings_regularizer"] = regularizers.deserialize(
                config["embeddings_regularizer"])
        return cls(**config)

"""``CategoryEncoding``: integer categories as one-hot, multi-hot or count vectors."""

from __future__ import annotations

from typing import Any

from chainrule.layers.base import Layer
from chainrule.layers.preprocessing import _ops
from chainrule.layers.preprocessing._utils import check_choice, positive_int

__all__ = ["CategoryEncoding"]


class CategoryEncoding(Layer):
    """Encode integer features in ``[0, num_tokens)`` as dense vectors (Keras's layer).

    ``"one_hot"`` turns each value into a vector (a last axis of 1 is
    replaced); ``"multi_hot"`` marks, per sample (a row of a rank-2 input,
    or the whole of a rank-1 input), which values occur; ``"count"`` counts
    them. Values outside ``[0, num_tokens)`` are an error.

    Args:
        num_tokens: the number of categories (the output's last axis).
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``
            (``"binary"`` is accepted for ``"multi_hot"``).
        sparse: must be False (chainrule has no sparse tensors).
        **kwargs: layer arguments (``name``, ``dtype``, ...).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
        >>> layer(np.array([3, 2, 0, 1])).numpy()[0]
        array([0., 0., 0., 1.], dtype=float32)
    """

    def __init__(self, num_tokens: Any = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        check_choice(output_mode, ("multi_hot", "one_hot", "count"), "output_mode",
                     "CategoryEncoding")
        if num_tokens is None:
            raise ValueError("CategoryEncoding needs num_tokens (use IntegerLookup when the "
                             "number of categories is not known). Received: num_tokens=None")
        self.num_tokens = positive_int(num_tokens, "num_tokens", "CategoryEncoding")
        if sparse:
            raise ValueError("CategoryEncoding: chainrule has no sparse tensors; outputs are "
                             f"dense. Received: sparse={sparse!r}")
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs: Any, count_weights: Any = None, training: Any = None) -> Any:
        if count_weights is not None:
            raise ValueError(f'CategoryEncoding layer "{self.name}": count_weights is not '
                             "supported by chainrule. Received: count_weights of shape "
                             f"{getattr(count_weights, 'shape', None)}")
        return _ops.encode(inputs, self.output_mode, self.num_tokens, self.dtype,
                           layer=self.name)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

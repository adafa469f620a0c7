"""``ReversibleEmbedding``: an embedding that also projects vectors back to vocabulary logits."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.embedding import Embedding

__all__ = ["ReversibleEmbedding"]


class ReversibleEmbedding(Embedding):
    """An :class:`Embedding` whose ``call(x, reverse=True)`` maps vectors back to token logits.

    ``layer(ids)`` looks up ``embeddings[ids]`` as :class:`Embedding` does;
    ``layer(hidden, reverse=True)`` returns ``hidden @ embeddings.T`` (with
    ``tie_weights=True``, the default: the output projection of a language model
    shares the input table) or ``hidden @ reverse_embeddings``, optionally soft-capped
    as ``tanh(logits / logit_soft_cap) * logit_soft_cap`` (Keras 3's layer).

    Args:
        input_dim: the vocabulary size.
        output_dim: the size of each vector.
        tie_weights: project back with the transposed table; else with a separate
            trainable ``reverse_embeddings`` of shape ``(output_dim, input_dim)``.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint,
            mask_zero: as for :class:`Embedding`.
        reverse_dtype: the dtype the reverse projection computes in (None: the
            inputs' dtype).
        logit_soft_cap: a positive number to soft-cap the logits with, or None.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, ...)`` ids; with ``reverse=True``, ``(batch, ..., output_dim)``.

    Output shape:
        ``(batch, ..., output_dim)``; with ``reverse=True``, ``(batch, ..., input_dim)``.

    Raises:
        ValueError: as :class:`Embedding`, for a ``logit_soft_cap`` that is not a
            positive number, or reverse inputs whose last axis is not ``output_dim``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.ReversibleEmbedding(10, 4)
        >>> h = layer(np.array([[1, 2, 3]]))
        >>> h.shape, layer(h, reverse=True).shape
        ((1, 3, 4), (1, 3, 10))
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 reverse_dtype: Any = None, logit_soft_cap: float | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("quantization_config", None)  # Keras 3 writes it (None) in configs
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        if logit_soft_cap is not None and (
                isinstance(logit_soft_cap, bool) or not isinstance(logit_soft_cap, (int, float))
                or not logit_soft_cap > 0):
            raise ValueError(f'Layer "{self.name}" (ReversibleEmbedding): `logit_soft_cap` '
                             "must be a positive number or None. "
                             f"Received: logit_soft_cap={logit_soft_cap!r}")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = None if reverse_dtype is None else np.dtype(reverse_dtype).name
        self.logit_soft_cap = logit_soft_cap
        self.reverse_embeddings: Any = None
        self._reversed = False

    def build(self, input_shape: Any = None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                (self.output_dim, self.input_dim), self.embeddings_initializer,
                name="reverse_embeddings")
        self.built = True

    def call(self, inputs: Tensor, reverse: bool = False) -> Tensor:
        self._reversed = bool(reverse)
        if not reverse:
            return super().call(inputs)
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(
                f'Layer "{self.name}" (ReversibleEmbedding): call(..., reverse=True) takes '
                f"vectors of size output_dim={self.output_dim} on the last axis. "
                f"Received: inputs of shape {tuple(inputs.shape)}")
        kernel = (ops.transpose(self.embeddings) if self.tie_weights
                  else self.reverse_embeddings)
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        elif np.dtype(kernel.dtype) != np.dtype(inputs.dtype):
            kernel = ops.cast(kernel, inputs.dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = float(self.logit_soft_cap)
            logits = ops.tanh(logits / cap) * cap
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """``inputs != 0`` for a forward call with ``mask_zero=True``; None for a reverse one."""
        if self._reversed:
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> tuple:
        """``input_shape + (output_dim,)``, or with ``reverse`` the last axis ``input_dim``."""
        shape = tuple(input_shape)
        return shape[:-1] + (self.input_dim,) if reverse else shape + (self.output_dim,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config

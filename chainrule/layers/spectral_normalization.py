"""``SpectralNormalization``: a wrapper that keeps a layer's kernel at spectral norm 1 (Keras's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.layers.wrapper import Wrapper
from chainrule.ops.power_iteration import assign_spectral_normalization

__all__ = ["SpectralNormalization"]


class SpectralNormalization(Wrapper):
    """Divide the wrapped layer's kernel by its largest singular value at each training call.

    In training mode the wrapper first runs ``power_iterations`` steps of power
    iteration from its state ``vector_u`` and divides the wrapped layer's ``kernel``
    (or ``embeddings``) by the estimated spectral norm, in place, then calls the
    wrapped layer, as Keras 3 does (Miyato et al., 2018). The gradient flows to the
    normalized kernel as a weight; the division itself is not differentiated.
    Outside training the wrapped layer is called as it is.

    Args:
        layer: the layer to wrap; it must have a ``kernel`` or an ``embeddings`` weight.
        power_iterations: the number of power-iteration steps per call; default 1.
        **kwargs: layer arguments.

    Weights:
        The wrapped layer's kernel, then ``vector_u`` ``(1, kernel.shape[-1])``
        (not trainable; truncated normal with stddev 0.02), then the wrapped layer's
        other weights (Keras's order).

    Raises:
        ValueError: for ``power_iterations`` that is not a positive integer, or a
            wrapped layer with neither a ``kernel`` nor ``embeddings``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.utils.set_random_seed(1)
        >>> sn = cr.layers.SpectralNormalization(cr.layers.Dense(2), power_iterations=20)
        >>> _ = sn(np.ones((1, 3), "float32"), training=True)
        >>> bool(abs(np.linalg.svd(sn.layer.kernel.numpy())[1][0] - 1.0) < 1e-3)
        True
        >>> [w.name for w in sn.weights]
        ['kernel', 'vector_u', 'bias']
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(
                power_iterations, (int, np.integer)) or power_iterations <= 0:
            raise ValueError(f'Layer "{self.name}" (SpectralNormalization): `power_iterations` '
                             "must be a positive integer. "
                             f"Received: power_iterations={power_iterations!r}")
        self.power_iterations = int(power_iterations)
        self.kernel: Any = None
        self.vector_u: Any = None

    def build(self, input_shape: Any = None) -> None:
        from chainrule import initializers  # noqa: PLC0415

        super().build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(
                f'Layer "{self.name}" (SpectralNormalization) needs a wrapped layer with a '
                f"`kernel` or `embeddings` weight. Received: layer of type "
                f"{type(self.layer).__name__}")
        # the kernel is this layer's first weight too (Keras tracks it as an attribute)
        self._track_variable(kernel)
        object.__setattr__(self, "kernel", kernel)
        self.vector_u = self.add_weight(
            (1, int(kernel.shape[-1])), initializers.TruncatedNormal(stddev=0.02),
            trainable=False, name="vector_u", dtype=kernel.dtype)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The wrapped layer's output shape."""
        return self.layer.compute_output_shape(input_shape)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if training:
            assign_spectral_normalization(self.kernel, self.vector_u, self.power_iterations)
        output = self.layer(inputs)
        in_dtype, out_dtype = np.dtype(inputs.dtype), np.dtype(output.dtype)
        if in_dtype.kind == "f" and in_dtype != out_dtype:
            output = ops.cast(output, in_dtype)
        return output

    def get_config(self) -> dict:
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config

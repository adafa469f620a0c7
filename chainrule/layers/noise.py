"""Regularization layers: ``GaussianNoise``, ``GaussianDropout``, ``AlphaDropout``,
``ActivityRegularization`` (Keras 3's ``keras.layers``).

The noise layers change their input only while training (``training=True``:
``fit``, or a direct call that passes it); otherwise they return it unchanged.
Their noise is drawn inside an op (``chainrule.ops.noise``), so a captured
training step draws fresh noise at every replay. A layer given a ``seed`` has
a generator of its own; without one, chainrule's seeded generator is used
(``chainrule.utils.set_random_seed``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer, activity_penalty
from chainrule.ops import noise as noise_ops

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"]


def _unit_number(value: Any, name: str, layer: str, closed: bool) -> float:
    """A number in [0, 1] (``closed``) or [0, 1), or the error naming the layer."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        ok = 0 <= value <= 1 if closed else 0 <= value < 1
    if not ok:
        bounds = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{layer}: {name} must be a number in {bounds}. "
                         f"Received: {name}={value!r}")
    return float(value)


def _seed(seed: Any, layer: str) -> np.random.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{layer}: seed must be None or a non-negative integer. "
                         f"Received: seed={seed!r}")
    return np.random.default_rng(int(seed))


class _NoiseLayer(Layer):
    """Identity unless training; a generator of its own when given a seed."""

    supports_masking = True

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rng = _seed(seed, type(self).__name__)
        self.seed = seed

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape: noise changes values only."""
        return tuple(input_shape)


class GaussianNoise(_NoiseLayer):
    """Add zero-centred Gaussian noise while training (a regularizer; identity in inference).

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's bounds).
        seed: optional seed for this layer's own generator.
        **kwargs: layer arguments (``name``, ``input_shape``...).

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.GaussianNoise(0.1, seed=0)
        >>> x = np.ones((2, 3), "float32")
        >>> bool((layer(x).numpy() == x).all()), bool((layer(x, training=True).numpy() != x).all())
        (True, True)
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.stddev = _unit_number(stddev, "stddev", "GaussianNoise", closed=True)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.stddev == 0:
            return inputs
        return noise_ops.gaussian_noise(inputs, self.stddev, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_NoiseLayer):
    """Multiply by 1-centred Gaussian noise while training (identity in inference).

    The noise's standard deviation is ``sqrt(rate / (1 - rate))``, the
    variance of inverted dropout at the same ``rate``.

    Args:
        rate: the drop probability, in [0, 1).
        seed: optional seed for this layer's own generator.
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> y = cr.layers.GaussianDropout(0.5, seed=0)(np.ones((4000,)), training=True)
        >>> round(float(y.numpy().mean()), 1), round(float(y.numpy().std()), 1)
        (1.0, 1.0)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _unit_number(rate, "rate", "GaussianDropout", closed=False)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        return noise_ops.gaussian_dropout(inputs, self.rate, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps the mean and variance of its inputs, for SELU networks.

    While training, dropped values are set to SELU's negative saturation value
    and an affine map restores zero mean and unit variance (for standardised
    inputs); in inference the layer is the identity.

    Args:
        rate: the fraction to drop, in [0, 1).
        noise_shape: optional mask shape broadcast to the input (``None``
            entries take the input's size), e.g. ``(batch, 1, features)``.
        seed: optional seed for this layer's own generator.
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> x = np.random.default_rng(1).standard_normal((100, 200))
        >>> y = cr.layers.AlphaDropout(0.2, seed=0)(x, training=True).numpy()
        >>> round(float(y.std()), 1)
        1.0
    """

    def __init__(self, rate: float, noise_shape: Sequence[Any] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _unit_number(rate, "rate", "AlphaDropout", closed=False)
        if noise_shape is not None and (not isinstance(noise_shape, (tuple, list)) or not all(
                d is None or (isinstance(d, (int, np.integer)) and d > 0) for d in noise_shape)):
            raise ValueError("AlphaDropout: noise_shape must be None or a tuple of positive "
                             f"integers or None. Received: noise_shape={noise_shape!r}")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is not None and len(self.noise_shape) != inputs.ndim:
            raise ValueError(
                f'Layer "{self.name}" (AlphaDropout): noise_shape needs one entry per axis of '
                f"the input of shape {tuple(inputs.shape)}. Received: "
                f"noise_shape={self.noise_shape}")
        return noise_ops.alpha_dropout(inputs, self.rate, self.noise_shape, self._rng)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None
                       else list(self.noise_shape)})
        return config


class ActivityRegularization(Layer):
    """Pass the input on and add ``(l1 * sum(|x|) + l2 * sum(x²)) / batch_size`` to the loss.

    As Keras 3 does for every activity regularizer, the penalty is divided by
    the batch size (the input's first dimension).

    Args:
        l1: the L1 factor (>= 0).
        l2: the L2 factor (>= 0).
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.ActivityRegularization(l1=0.01, l2=0.02)
        >>> _ = layer(np.ones((4, 3)))
        >>> round(float(layer.losses[0].numpy()), 6)
        0.09
    """

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        from chainrule import regularizers  # noqa: PLC0415

        kwargs.pop("activity_regularizer", None)  # Keras's config leaves it out; it is l1, l2
        super().__init__(**kwargs)
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float, np.integer, np.floating)) or not 0 <= value < np.inf:
                raise ValueError(f"ActivityRegularization: {name} must be a non-negative "
                                 f"number. Received: {name}={value!r}")
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if self.l1 or self.l2:
            self.add_loss(activity_penalty(self.activity_regularizer, inputs))
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config

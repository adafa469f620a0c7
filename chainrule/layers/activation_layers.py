"""Activation layers with weights or options: ``PReLU``, ``ELU``, and the ``Identity`` layer."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer
from chainrule.layers.input_spec import InputSpec

__all__ = ["PReLU", "ELU", "Identity"]


class PReLU(Layer):
    """Parametric ReLU: ``x`` where ``x >= 0``, ``alpha * x`` elsewhere, ``alpha`` learned.

    ``alpha`` has the shape of one sample, except along ``shared_axes`` where it
    has size 1 (one slope shared along them, e.g. ``shared_axes=[1, 2]`` for
    one slope per channel of ``(batch, height, width, channels)`` images).

    Args:
        alpha_initializer: initializer of ``alpha`` (default ``"Zeros"``: a ReLU).
        alpha_regularizer: optional penalty on ``alpha``.
        alpha_constraint: optional constraint on ``alpha``.
        shared_axes: an axis or list of axes (1 = the first after the batch)
            sharing one slope.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, ...)``, the same rank and (except along ``shared_axes``) the
        same sizes as the layer was built for.

    Output shape:
        The input's.

    Weights:
        ``alpha`` of shape ``input_shape[1:]`` with 1 along ``shared_axes``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.PReLU(alpha_initializer=cr.initializers.Constant(0.25),
        ...                         shared_axes=[1])
        >>> layer(np.array([[[-4.0, 2.0]], [[1.0, -1.0]]])).numpy().tolist()
        [[[-1.0, 2.0]], [[1.0, -0.25]]]
        >>> layer.alpha.shape
        (1, 2)
    """

    supports_masking = True

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: int | Sequence[int] | None = None,
                 **kwargs: Any) -> None:
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
                for a in shared_axes):
            raise ValueError("PReLU: shared_axes must be None or axes >= 1 (axis 0 is the "
                             f"batch). Received: shared_axes={shared_axes!r}")
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]
        self.alpha: Any = None

    def build(self, input_shape: Any) -> None:
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(f'Layer "{self.name}" (PReLU) needs inputs with a batch axis and '
                             f"at least one more. Received: input_shape={tuple(input_shape)}")
        shared = self.shared_axes or []
        if any(a >= rank for a in shared):
            raise ValueError(f'Layer "{self.name}" (PReLU): shared_axes {shared} are beyond '
                             f"the input's {rank} axes. Received: "
                             f"input_shape={tuple(input_shape)}")
        shape = [1 if i in shared else input_shape[i] for i in range(1, rank)]
        if any(d is None for d in shape):
            raise ValueError(f'Layer "{self.name}" (PReLU) needs the sizes of the axes that '
                             "are not shared to be known. Received: "
                             f"input_shape={tuple(input_shape)}")
        self.alpha = self.add_weight(tuple(int(d) for d in shape), self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint, name="alpha")
        axes = {i: int(input_shape[i]) for i in range(1, rank) if i not in shared} \
            if shared else {}
        self.input_spec = InputSpec(ndim=rank, axes=axes)
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        return ops.relu(inputs) - self.alpha * ops.relu(ops.negative(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer)
            if self.alpha_regularizer is not None else None,
            "alpha_constraint": constraints.serialize(self.alpha_constraint)
            if self.alpha_constraint is not None else None,
            "shared_axes": self.shared_axes,
        })
        return config

    @classmethod
    def from_config(cls, config: dict) -> "PReLU":
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        config = dict(config)
        for key, module in (("alpha_initializer", initializers),
                            ("alpha_regularizer", regularizers),
                            ("alpha_constraint", constraints)):
            if isinstance(config.get(key), dict):
                config[key] = module.deserialize(config[key])
        return cls(**config)


class ELU(Layer):
    """Exponential linear unit: ``x`` where ``x >= 0``, ``alpha * (exp(x) - 1)`` elsewhere.

    Args:
        alpha: the scale of the negative part (default 1.0).
        **kwargs: layer arguments.

    Input shape:
        Any.

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> [round(v, 4) for v in cr.layers.ELU(alpha=0.5)(np.array([-1.0, 2.0])).numpy().tolist()]
        [-0.3161, 2.0]
    """

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(
                alpha, (int, float, np.integer, np.floating)) or not np.isfinite(alpha):
            raise ValueError(f"ELU: alpha must be a finite number. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        return ops.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Identity(Layer):
    """Return the input unchanged: a placeholder where a layer is expected.

    Args:
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Identity()(np.ones((2, 3))).shape
        (2, 3)
    """

    supports_masking = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape."""
        return input_shape

"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization.

Each layer computes with one fused op of :mod:`chainrule.ops.normalization`.
BatchNormalization in training mode updates its moving statistics inside
that op, so a captured training step replays the update at every step.

Masks (Keras 3): each layer passes its input's time-step mask on; a
BatchNormalization in training mode takes its batch statistics over the
unmasked steps only (it still normalizes every step with them).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer, _ShapeOnlyVariable

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization"]


def _serialize_init(init: Any) -> Any:
    from chainrule.layers.core import _serialize_initializer  # noqa: PLC0415

    return _serialize_initializer(init)


def _serialize_reg(reg: Any) -> Any:
    from chainrule import regularizers  # noqa: PLC0415

    return regularizers.serialize(reg) if reg is not None else None


def _deserialize(config: dict, inits: Sequence[str], regs: Sequence[str]) -> dict:
    """Turn a config's serialized initializers, regularizers and constraints back into objects."""
    from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

    config = constraints.from_layer_config(config)
    for key in inits:
        if isinstance(config.get(key), dict):
            config[key] = initializers.deserialize(config[key])
    for key in regs:
        if isinstance(config.get(key), dict):
            config[key] = regularizers.deserialize(config[key])
    return config


def _check_float(value: Any, name: str, low: float = 0.0, high: float | None = None) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
    if not ok or not value >= low or (high is not None and not value <= high):
        rng = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a number {rng}. Received: {name}={value!r}")
    return float(value)


def _axis_error(layer: Layer, axis: Any, shape: Sequence[Any]) -> ValueError:
    return ValueError(
        f'Layer "{layer.name}": axis {axis} is out of bounds for an input of shape '
        f"{tuple(shape)}. Received: axis={axis!r}")


class _NormBase(Layer):
    """What the three layers share: gamma/beta arguments, weights and their config."""

    supports_masking = True  # the input's mask is passed on (Keras 3)

    def _init_params(self, epsilon: Any, center: Any, scale: Any, beta_initializer: Any,
                     gamma_initializer: Any, beta_regularizer: Any, gamma_regularizer: Any,
                     beta_constraint: Any, gamma_constraint: Any) -> None:
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        self.epsilon = _check_float(epsilon, "epsilon")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma: Any = None
        self.beta: Any = None

    def _add_gamma_beta(self, shape: tuple, gamma: bool, beta: bool) -> None:
        if gamma:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if beta:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def _params_config(self) -> dict:
        from chainrule import constraints  # noqa: PLC0415

        return {
            "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "beta_initializer": _serialize_init(self.beta_initializer),
            "gamma_initializer": _serialize_init(self.gamma_initializer),
            "beta_regularizer": _serialize_reg(self.beta_regularizer),
            "gamma_regularizer": _serialize_reg(self.gamma_regularizer),
            **constraints.layer_config(self, ("beta_constraint", "gamma_constraint")),
        }

    _INITS: tuple = ("beta_initializer", "gamma_initializer")

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        config = _deserialize(config, cls._INITS, ("beta_regularizer", "gamma_regularizer"))
        return cls(**config)

    def _check_rank(self, inputs: Any) -> None:
        """The rank and the normalized sizes must be those the layer was built for."""
        want = getattr(self, "_built_shape", None)
        if want is None:
            return
        got = tuple(inputs.shape)
        ok = len(got) == len(want) and all(w is None or w == g for w, g in zip(want, got))
        if not ok:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected shape '
                f"{tuple(want)} (None: any size), received shape {got}. Received: inputs of "
                f"shape {got}")

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape (normalization keeps it); the axes must be in range."""
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        for a in axes:
            if not -len(input_shape) <= a < len(input_shape):
                raise _axis_error(self, self.axis, input_shape)
        return tuple(input_shape)


class BatchNormalization(_NormBase):
    """Normalize each feature with the batch's statistics while training, moving ones after.

    Training (``training=True`` and the layer trainable) normalizes with the
    mean and biased variance of the batch over every axis but ``axis``, and
    updates ``moving_mean``/``moving_variance`` as
    ``moving = moving * momentum + batch * (1 - momentum)``; inference
    (``predict``, ``evaluate``, validation, ``training=False``, or the layer
    frozen with ``trainable = False``, as in Keras 3) normalizes with the
    moving statistics and changes nothing. Training mode is one fused op that
    also does the update, so a captured training step repeats it.

    Args:
        axis: the feature axis (default -1, the channels of ``channels_last``).
        momentum: of the moving averages.
        epsilon: added to the variance.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer: default ``'zeros'``, ``'ones'``.
        moving_mean_initializer, moving_variance_initializer: default ``'zeros'``, ``'ones'``.
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional constraints (names, Constraints or
            functions) applied after updates.
        synchronized: accepted for Keras compatibility (one process: no effect).
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        Any, rank >= 2, ``axis`` of fixed size.

    Output shape:
        The input's.

    Weights:
        ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance``
        (non-trainable), each of shape ``(input_shape[axis],)``, in that order.

    Example:
        >>> import chainrule as cr
        >>> bn = cr.layers.BatchNormalization(momentum=0.5)
        >>> y = bn(np.array([[0.0, 1.0], [2.0, 5.0]]), training=True)
        >>> bn.moving_mean.numpy()
        array([0.5, 1.5], dtype=float32)
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False, **kwargs: Any) -> None:
        from chainrule import initializers  # noqa: PLC0415

        renorm = kwargs.pop("renorm", False)
        kwargs.pop("renorm_clipping", None)
        kwargs.pop("renorm_momentum", None)
        if renorm:
            raise ValueError("BatchNormalization: batch renormalization is not supported. "
                             "Received: renorm=True")
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization: axis must be an int. Received: axis={axis!r}")
        self.axis = int(axis)
        self.momentum = _check_float(momentum, "momentum", 0.0, 1.0)
        self.synchronized = bool(synchronized)
        self._init_params(epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.moving_mean: Any = None
        self.moving_variance: Any = None
        self._symbolic = False

    _INITS = ("beta_initializer", "gamma_initializer", "moving_mean_initializer",
              "moving_variance_initializer")

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if not -len(shape) <= self.axis < len(shape):
            raise _axis_error(self, self.axis, shape)
        dim = shape[self.axis]
        if dim is None:
            raise ValueError(f'Layer "{self.name}": axis {self.axis} of the input must have a '
                             f"known size. Received: input_shape={shape}")
        self._add_gamma_beta((int(dim),), self.scale, self.center)
        self.moving_mean = self.add_weight((int(dim),), self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight((int(dim),), self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        ax = self.axis % len(shape)
        self._built_shape = tuple(d if i == ax else None for i, d in enumerate(shape))
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        if getattr(inputs, "ndim", 0) < 1:
            raise ValueError(f'Layer "{self.name}" needs an input with at least 1 dimension. '
                             "Received: a scalar")

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # a functional model's construction runs call on zeros: never a moving-average update
        object.__setattr__(self, "_symbolic", True)
        try:
            return super()._symbolic_call(inputs, *args, **kwargs)
        finally:
            object.__setattr__(self, "_symbolic", False)

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        self._check_rank(inputs)
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                f'Layer "{self.name}": the mask should have one dimension less than the '
                f"inputs. Received: mask.shape={tuple(mask.shape)}, "
                f"inputs.shape={tuple(inputs.shape)}")
        if training and self.trainable:
            update = not self._symbolic and not isinstance(self.moving_mean, _ShapeOnlyVariable)
            if mask is not None:
                return self._masked_training(inputs, mask, update)
            return ops.fused_batch_normalization(
                inputs, self.gamma, self.beta, self.moving_mean if update else None,
                self.moving_variance if update else None, axis=self.axis,
                momentum=self.momentum, epsilon=self.epsilon)
        return ops.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                       axis=self.axis, offset=self.beta, scale=self.gamma,
                                       epsilon=self.epsilon)

    def _masked_training(self, inputs: Tensor, mask: Any, update: bool) -> Tensor:
        """Training with a mask: the batch's moments over the unmasked steps (Keras 3).

        The mean and biased variance of each feature are taken over the steps
        the mask keeps (``sum / (count + 1e-7)``, as Keras), the moving
        statistics follow them, and every step is normalized with them.
        """
        nd = len(inputs.shape)
        ax = self.axis % nd
        axes = tuple(i for i in range(nd) if i != ax)
        keep = ops.broadcast_to(ops.expand_dims(mask, -1), tuple(inputs.shape))
        keep = ops.cast(keep, "bool")
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=axes, keepdims=True) + 1e-7
        mean = ops.sum(ops.where(keep, inputs, 0.0), axis=axes, keepdims=True) / count
        diff = ops.where(keep, inputs - mean, 0.0)
        variance = ops.sum(ops.square(diff), axis=axes, keepdims=True) / count
        features = (int(inputs.shape[ax]),)
        mean, variance = ops.reshape(mean, features), ops.reshape(variance, features)
        if update:
            ops.assign_moving_average(self.moving_mean, mean, self.momentum)
            ops.assign_moving_average(self.moving_variance, variance, self.momentum)
        return ops.batch_normalization(inputs, mean, variance, axis=self.axis,
                                       offset=self.beta, scale=self.gamma, epsilon=self.epsilon)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, "momentum": self.momentum})
        config.update(self._params_config())
        config.update({
            "moving_mean_initializer": _serialize_init(self.moving_mean_initializer),
            "moving_variance_initializer": _serialize_init(self.moving_variance_initializer),
            "synchronized": self.synchronized, "renorm": False, "renorm_clipping": None,
            "renorm_momentum": 0.99,
        })
        return config


class LayerNormalization(_NormBase):
    """Normalize each sample over ``axis`` with its own mean and variance, then scale and shift.

    Args:
        axis: an int or a list of ints, the axes to normalize (default -1).
        epsilon: added to the variance.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer: default ``'zeros'``, ``'ones'``.
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional constraints (names, Constraints or
            functions) applied after updates.
        rms_scaling: Keras's deprecated option: scale by ``1 / sqrt(var + epsilon)``
            without centering; ``beta`` is then not created (a warning says so).
        **kwargs: layer arguments.

    Input shape:
        Any; the ``axis`` sizes fixed.

    Output shape:
        The input's.

    Weights:
        ``gamma`` then ``beta``, each of the normalized axes' shape.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.LayerNormalization(epsilon=0.0)(np.array([[1.0, 3.0]])).numpy()
        array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        if rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated in Keras 3: it "
                          "scales by the variance, not the root mean square.", stacklevel=2)
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            self.axis: Any = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError("LayerNormalization: axis must be an int or a list of ints. "
                            f"Received: axis={axis!r}")
        self.rms_scaling = rms_scaling
        self._init_params(epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(shape) <= a < len(shape):
                raise _axis_error(self, self.axis, shape)
            if shape[a] is None:
                raise ValueError(f'Layer "{self.name}": axis {a} of the input must have a known '
                                 f"size. Received: input_shape={shape}")
        # Keras sorts a list of axes (as given, negatives included) and keeps a list
        self.axis = sorted(axes)
        pshape = tuple(int(shape[a]) for a in self.axis)
        self._add_gamma_beta(pshape, self.scale or self.rms_scaling,
                             self.center and not self.rms_scaling)
        norm = {a % len(shape) for a in self.axis}
        self._built_shape = tuple(d if i in norm else None for i, d in enumerate(shape))
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check_rank(inputs)
        return ops.layer_normalization(inputs, self.gamma, self.beta, self.axis, self.epsilon,
                                       rms_scaling=self.rms_scaling)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        config.update(self._params_config())
        config["rms_scaling"] = self.rms_scaling
        return config


class GroupNormalization(_NormBase):
    """Normalize each sample's channels in groups (Wu and He, 2018).

    The channels of ``axis`` are split into ``groups`` groups; each group of
    each sample is normalized with its own mean and variance over its channels
    and every other non-batch axis, then scaled and shifted per channel.
    ``groups=-1`` makes one group per channel (instance normalization);
    ``groups=1``, one group for all (layer normalization over all axes).

    Args:
        groups: the number of groups (default 32); must divide the channels.
        axis: the channel axis (default -1).
        epsilon: added to the variance.
        center: learn an offset ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer: default ``'zeros'``, ``'ones'``.
        beta_regularizer, gamma_regularizer: optional penalties.
        beta_constraint, gamma_constraint: optional constraints (names, Constraints or
            functions) applied after updates.
        **kwargs: layer arguments.

    Input shape:
        Any, rank >= 2; the channel axis of fixed size.

    Output shape:
        The input's.

    Weights:
        ``gamma`` then ``beta``, each of shape ``(channels,)``.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.GroupNormalization(groups=2, epsilon=0.0)
        >>> layer(np.array([[1.0, 3.0, 0.0, 4.0]])).numpy()
        array([[-1.,  1., -1.,  1.]], dtype=float32)
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (
                groups <= 0 and groups != -1):
            raise ValueError("GroupNormalization: groups must be a positive integer (or -1 for "
                             f"instance normalization). Received: groups={groups!r}")
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"GroupNormalization: axis must be an int. Received: axis={axis!r}")
        self.groups, self.axis = int(groups), int(axis)
        self._init_params(epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        if not -len(shape) <= self.axis < len(shape) or self.axis % len(shape) == 0:
            raise _axis_error(self, self.axis, shape)
        dim = shape[self.axis]
        if dim is None:
            raise ValueError(f'Layer "{self.name}": axis {self.axis} of the input must have a '
                             f"known size. Received: input_shape={shape}")
        if self.groups == -1:
            self.groups = int(dim)
        if dim < self.groups or dim % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of groups ({self.groups}) must divide the '
                f"number of channels ({dim}) of axis {self.axis}. Received: groups={self.groups}, "
                f"input_shape={shape}")
        self._add_gamma_beta((int(dim),), self.scale, self.center)
        ax = self.axis % len(shape)
        self._built_shape = tuple(d if i == ax else None for i, d in enumerate(shape))
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        self._check_rank(inputs)
        return ops.group_normalization(inputs, self.groups, self.gamma, self.beta, self.axis,
                                       self.epsilon)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis})
        config.update(self._params_config())
        return config

"""RandAugment and AugMix (Keras 3's policy layers of the same names).

Both are built from chainrule's augmentation layers: ``RandomShear``,
``RandomTranslation``, ``RandomRotation``, ``RandomPosterization``, ``Solarization``,
``AutoContrast``, ``Equalization`` and (``RandAugment`` always, ``AugMix`` with
``all_ops=True``) ``RandomBrightness``, ``RandomColorDegeneration``, ``RandomContrast``
and ``RandomSharpness``, each with the factor range Keras derives from ``factor``.

Every random choice (which operation, the mixing weights) is drawn inside an op
(:class:`~chainrule.layers.preprocessing.color_augmentation.DrawPerImage`), so a captured
training step draws anew at every replay. As in Keras, every candidate operation is
computed and the drawn one is selected with ``where``. Both layers return their input
unchanged outside training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing.color_augmentation import (
    AutoContrast,
    DrawPerImage,
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
    _value_range,
)
from chainrule.layers.preprocessing.geometric_augmentation import (
    RandomShear,
    check_seed,
    image_data_format,
)
from chainrule.layers.preprocessing.image_augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
)

__all__ = ["RandAugment", "AugMix"]

#: Keras's order of the operations (RandAugment's index draws refer to it)
_ALL_OPS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
            "random_color_degeneration", "random_contrast", "random_sharpness",
            "random_posterization", "solarization", "auto_contrast", "equalization")
#: AugMix's order, and the subset it uses with ``all_ops=False``
_AUGMIX_ALL = ("random_shear", "random_translation", "random_rotation", "random_posterization",
               "solarization", "auto_contrast", "equalization", "random_brightness",
               "random_color_degeneration", "random_contrast", "random_sharpness")
_AUGMIX_BASIC = _AUGMIX_ALL[:7]


def _unit_factor(factor: Any, layer: str) -> tuple:
    """Keras's ``_set_factor`` within ``(0, 1)``: ``f`` means ``(0, f)``, a pair is sorted."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(map(number, factor)) \
            and not (factor[0] > 1 or factor[1] < 0):
        lo, hi = sorted(float(f) for f in factor)
        if lo >= 0 and hi <= 1:
            return lo, hi
    elif number(factor) and 0 <= factor <= 1:
        return 0.0, float(abs(factor))
    raise ValueError(f"{layer}: factor must be a number or a pair of numbers in [0, 1]. "
                     f"Received: factor={factor!r}")


def _positive_int(value: Any, arg: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {arg} must be a positive integer. "
                         f"Received: {arg}={value!r}")
    return int(value)


class _PolicyLayer(Layer):
    """The sub-layers and the life cycle shared by RandAugment and AugMix."""

    def __init__(self, value_range: Any, factor: Any, interpolation: str, seed: Any,
                 data_format: Any, names: tuple, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.value_range = _value_range(value_range, layer)
        self.factor = _unit_factor(factor, layer)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{layer}: interpolation must be 'bilinear' or 'nearest'. "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation
        self.seed = check_seed(seed, layer)
        self.data_format = image_data_format(data_format, layer)
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self._op_names = names
        f, vr, cl = self.factor, self.value_range, "channels_last"
        build = {
            "random_shear": lambda: RandomShear(x_factor=f, y_factor=f, data_format=cl,
                                                interpolation=interpolation),
            "random_translation": lambda: RandomTranslation(f, f, interpolation=interpolation,
                                                            data_format=cl),
            "random_rotation": lambda: RandomRotation(f, interpolation=interpolation,
                                                      data_format=cl),
            "random_brightness": lambda: RandomBrightness(f, value_range=vr, data_format=cl),
            "random_color_degeneration": lambda: RandomColorDegeneration(
                f, value_range=vr, data_format=cl),
            "random_contrast": lambda: RandomContrast(f, value_range=vr, data_format=cl),
            "random_sharpness": lambda: RandomSharpness(f, value_range=vr, data_format=cl),
            "random_posterization": lambda: RandomPosterization(
                max(1, int(8 * f[1])), value_range=vr, data_format=cl),
            "solarization": lambda: Solarization(f, f, value_range=vr, data_format=cl),
            "auto_contrast": lambda: AutoContrast(value_range=vr, data_format=cl),
            "equalization": lambda: Equalization(value_range=vr, data_format=cl),
        }
        for name in names:
            sub = build[name]()
            sub._rng = self._rng  # one generator: a seed fixes every draw of the policy
            setattr(self, name, sub)

    def _apply(self, name: str, x: Any) -> Any:
        """Operation ``name`` on a channels-last float batch (its own draws per image)."""
        return getattr(self, name).call(x, training=True)

    def call(self, inputs: Any, training: Any = True) -> Any:
        if training is not None and not training:
            return inputs
        layer = type(self).__name__
        if inputs.ndim not in (3, 4):
            raise ValueError(f'{layer} layer "{self.name}" expects images of rank 4 (batch, '
                             "height, width, channels) or rank 3 (one image). Received: "
                             f"inputs of shape {tuple(inputs.shape)}")
        x = inputs
        if x.dtype.kind != "f":
            x = ops.cast(x, self.compute_dtype or "float32")
        single = x.ndim == 3
        if single:
            x = ops.expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        y = self._policy(x)
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, 3, 1, 2))
        return ops.squeeze(y, 0) if single else y

    def _policy(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range), "factor": list(self.factor),
                       "interpolation": self.interpolation, "seed": self.seed,
                       "data_format": self.data_format})
        return config


class RandAugment(_PolicyLayer):
    """Apply ``num_ops`` operations drawn at random from eleven, while training (RandAugment).

    At each call, ``num_ops`` indices are drawn uniformly (one set for the whole batch, as
    in Keras) from shear, translation, rotation, brightness, colour degeneration, contrast,
    sharpness, posterization, solarization, auto-contrast and equalization, and those
    operations run in turn; each draws its own strength per image from ``factor``'s range
    (posterization keeps ``max(1, int(8 * upper))`` bits at most).

    Args:
        value_range: the images' range (default ``(0, 255)``).
        num_ops: how many operations to apply in sequence (default 2).
        factor: the strength, a number in ``[0, 1]`` (meaning ``(0, f)``) or a pair
            (default 0.5).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric ones.
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)`` (or channels first).

    Output shape:
        The input's; values within ``value_range``.

    Example:
        >>> import chainrule as cr
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
        >>> y = cr.layers.RandAugment(seed=1)(x, training=True).numpy()
        >>> y.shape, bool(y.min() >= 0 and y.max() <= 255)
        ((2, 8, 8, 3), True)
        >>> bool((cr.layers.RandAugment()(x, training=False).numpy() == x).all())
        True
    """

    def __init__(self, value_range: Any = (0, 255), num_ops: int = 2, factor: Any = 0.5,
                 interpolation: str = "bilinear", seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(value_range, factor, interpolation, seed, data_format, _ALL_OPS,
                         **kwargs)
        self.num_ops = _positive_int(num_ops, "num_ops", "RandAugment")
        n_ops, num = len(_ALL_OPS), self.num_ops

        def draw(rng: np.random.Generator, n: int) -> np.ndarray:
            return np.repeat(rng.integers(0, n_ops, size=num)[None], n, axis=0)

        self._draw_ops = draw  # one object, so two traced steps configure the op alike

    def _policy(self, x: Any) -> Any:
        choice = DrawPerImage(self._draw_ops, self._rng)(x)
        return self._select(x, choice)

    def _select(self, x: Any, choice: Any) -> Any:
        """Apply the operations a ``(batch, num_ops)`` table of indices names, in turn."""
        for i in range(self.num_ops):
            picked = ops.reshape(ops.getitem(choice, (slice(None), i)), (-1, 1, 1, 1))
            out = x
            for k, name in enumerate(self._op_names):
                out = ops.where(picked == float(k), self._apply(name, x), out)
            x = out
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config["num_ops"] = self.num_ops
        return config


class AugMix(_PolicyLayer):
    """Mix the images with ``num_chains`` randomly augmented copies, while training (AugMix).

    Each chain applies ``chain_depth`` steps; each step is one operation drawn uniformly
    from the list, or nothing (an extra choice, so a chain holds 0 to ``chain_depth``
    operations). The chains are averaged with Dirichlet(``alpha``) weights and mixed with
    the input by ``m ~ Beta(alpha, alpha)``: ``m * x + (1 - m) * sum_c w_c * chain_c``,
    clipped to ``value_range``. The draws are one per batch, as in Keras; each operation
    draws its own strength per image from ``factor``'s range.

    Args:
        value_range: the images' range (default ``(0, 255)``).
        num_chains: how many chains to mix (default 3).
        chain_depth: the most operations in a chain (default 3).
        factor: the strength, a number in ``[0, 1]`` or a pair (default 0.3).
        alpha: the Dirichlet and Beta concentration, a positive number (default 1.0).
        all_ops: whether the chains may also use brightness, colour degeneration,
            contrast and sharpness (default True).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments.

    Input shape:
        ``(batch, height, width, 3)`` or ``(height, width, 3)`` (or channels first).

    Output shape:
        The input's.

    Example:
        >>> import chainrule as cr
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
        >>> cr.layers.AugMix(chain_depth=2, seed=3)(x, training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, value_range: Any = (0, 255), num_chains: int = 3, chain_depth: int = 3,
                 factor: Any = 0.3, alpha: float = 1.0, all_ops: bool = True,
                 interpolation: str = "bilinear", seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        if not isinstance(all_ops, (bool, np.bool_)):
            raise ValueError(f"AugMix: all_ops must be True or False. Received: "
                             f"all_ops={all_ops!r}")
        super().__init__(value_range, factor, interpolation, seed, data_format,
                         _AUGMIX_ALL if all_ops else _AUGMIX_BASIC, **kwargs)
        self.num_chains = _positive_int(num_chains, "num_chains", "AugMix")
        self.chain_depth = _positive_int(chain_depth, "chain_depth", "AugMix")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer,
                                                             np.floating)) or not alpha > 0:
            raise ValueError(f"AugMix: alpha must be a positive number. "
                             f"Received: alpha={alpha!r}")
        self.alpha = float(alpha)
        self.all_ops = bool(all_ops)
        chains, depth, n_ops, a = self.num_chains, self.chain_depth, len(self._op_names), alpha

        def draw(rng: np.random.Generator, n: int) -> np.ndarray:
            weights = rng.dirichlet(np.full(chains, float(a)))
            m = rng.beta(float(a), float(a))
            picks = rng.integers(0, n_ops + 1, size=chains * depth)  # n_ops: no operation
            row = np.concatenate([weights, [m], picks])
            return np.repeat(row[None], n, axis=0)

        self._draw_mix = draw

    def _policy(self, x: Any) -> Any:
        return self._mix(x, DrawPerImage(self._draw_mix, self._rng)(x))

    def _mix(self, x: Any, table: Any) -> Any:
        """Mix by a ``(batch, chains + 1 + chains * depth)`` table: weights, m, op indices."""
        def column(j: int) -> Any:
            return ops.reshape(ops.getitem(table, (slice(None), j)), (-1, 1, 1, 1))

        mixed = None
        for c in range(self.num_chains):
            y = x
            for d in range(self.chain_depth):
                picked = column(self.num_chains + 1 + c * self.chain_depth + d)
                out = y
                for k, name in enumerate(self._op_names):
                    out = ops.where(picked == float(k), self._apply(name, y), out)
                y = out
            term = column(c) * y
            mixed = term if mixed is None else mixed + term
        m = column(self.num_chains)
        out = m * x + (1.0 - m) * mixed
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_chains": self.num_chains, "chain_depth": self.chain_depth,
                       "alpha": self.alpha, "all_ops": self.all_ops})
        return config

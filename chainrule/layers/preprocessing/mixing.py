"""Keras 3's mixing augmentation layers: ``MixUp`` and ``CutMix``.

Both pair every image of a batch with another one of the same batch (a
random permutation) and mix the pair: ``MixUp`` blends the whole images,
``CutMix`` pastes a random box of the partner. Given a dict ``{"images": ...,
"labels": ...}`` they mix the labels by the same amount (the blend weight;
the share of the image kept). Inference returns the input unchanged.

The random draws happen in one op (:class:`MixPlan`) whose output, the
*plan*, holds the permutation matrix ``P``, the per-sample weight ``lam`` and
(for ``CutMix``) the box masks; images and labels are then mixed from the
plan with ordinary differentiable ops (``P @ x`` picks the partners), so a
captured step draws a new plan at each replay and both mixes use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Function
from chainrule.layers.preprocessing.geometric_augmentation import (
    ImageAugmentationLayer,
    box_masks,
    factor_range,
)

__all__ = ["MixUp", "CutMix"]


class MixPlan(Function):
    """Draw a mixing plan for ``(n, h, w, c)`` images: ``(n, n + 1 [+ h * w])``.

    Row ``i`` holds the one-hot partner of image ``i`` (``n`` columns), its
    weight ``lam`` (kept share), and for boxes the mask of the pixels taken
    from the partner. Not differentiable (the plan does not depend on pixels).
    """

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    def forward(self, x):
        rng = self.layer._rng or backend.rng()
        n, h, w, _ = x.shape
        lam, masks = self.layer.draw(rng, n, h, w)
        perm = rng.permutation(n)
        parts = [np.eye(n)[perm], lam[:, None]]
        if masks is not None:
            parts.append(masks.reshape(n, h * w))
        dt = x.dtype if x.dtype.kind == "f" else np.dtype(backend.floatx())
        return np.concatenate(parts, axis=1).astype(dt)

    def backward(self, gy):
        return (None,)


class _MixingLayer(ImageAugmentationLayer):
    """Images or ``{"images", "labels"}``: the plan, then images and labels mixed by it."""

    def call(self, inputs: Any, training: Any = True) -> Any:
        if training is not None and not training:
            return inputs
        if isinstance(inputs, dict):
            unknown = sorted(set(inputs) - {"images", "labels"})
            if "images" not in inputs or unknown:
                raise ValueError(f'{type(self).__name__} layer "{self.name}" takes images or a '
                                 'dict with "images" and optionally "labels". Received: '
                                 f"keys {sorted(inputs)}")
            images, labels = inputs["images"], inputs.get("labels")
        else:
            images, labels = inputs, None
        x, single = self.to_batch(images)
        if single and not self.mixes_single_image:
            return inputs
        n = int(x.shape[0])
        plan = MixPlan(self)(x)
        pick = plan[:, :n]
        lam = plan[:, n:n + 1]
        flat = ops.reshape(x, (n, -1))
        partner = ops.reshape(ops.matmul(pick, flat), tuple(x.shape))
        out = self.from_batch(self.mix_images(x, partner, plan, n), single)
        if labels is None:
            return out
        y = labels if hasattr(labels, "ndim") else ops.convert_to_tensor(labels)
        if y.dtype.kind != "f":
            y = ops.cast(y, x.dtype)
        y2 = ops.reshape(y, (n, -1))
        mixed = lam * y2 + (1.0 - lam) * ops.matmul(pick, y2)
        return {"images": out, "labels": ops.reshape(mixed, tuple(y.shape))}

    mixes_single_image = True

    def mix_images(self, x: Any, partner: Any, plan: Any, n: int) -> Any:  # pragma: no cover
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> tuple:
        raise NotImplementedError  # pragma: no cover

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class MixUp(_MixingLayer):
    """Blend each image (and label) with another of the batch while training (Keras's ``MixUp``).

    Sample ``i`` becomes ``lam_i * x_i + (1 - lam_i) * x_j`` with ``j`` a random
    permutation of the batch and ``lam_i ~ Beta(alpha, alpha)``; its label
    mixes by the same ``lam_i``.

    Args:
        alpha: the Beta distribution's parameter (default 0.2): small values
            keep the images nearly whole.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        seed: a seed for this layer's own generator.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> out = cr.layers.MixUp(seed=1)({"images": np.ones((4, 8, 8, 3)),
        ...                                "labels": np.eye(4)})
        >>> out["images"].shape, out["labels"].shape
        ((4, 8, 8, 3), (4, 4))
    """

    def __init__(self, alpha: float = 0.2, data_format: Any = None, seed: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"MixUp: alpha must be a positive number. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> tuple:
        return rng.beta(self.alpha, self.alpha, size=n), None

    def mix_images(self, x: Any, partner: Any, plan: Any, n: int) -> Any:
        lam = ops.reshape(plan[:, n:n + 1], (n, 1, 1, 1))
        return lam * x + (1.0 - lam) * partner

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class CutMix(_MixingLayer):
    """Paste a random box of another image of the batch into each image (Keras's ``CutMix``).

    For sample ``i``, ``lam_i ~ Beta(a, a)`` (``a`` drawn from ``factor``'s
    range, plus 1e-6); a box of ``sqrt(1 - lam_i)`` times the image's width
    and height, at a uniform position, takes the partner's pixels, and the
    label becomes ``lam * y_i + (1 - lam) * y_j`` with ``lam`` one minus the
    box's area share. A single image (no batch axis) is returned unchanged.

    Args:
        factor: a number ``f`` in [0, 1] (``a`` in ``[0, f]``) or a pair (default 1).
        seed: a seed for this layer's own generator.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.CutMix(seed=1)(np.ones((4, 8, 8, 3))).shape
        (4, 8, 8, 3)
    """

    mixes_single_image = False

    def __init__(self, factor: Any = 1.0, seed: Any = None, data_format: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, "factor", "CutMix")

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int) -> tuple:
        a = rng.uniform(self.factor[0], self.factor[1]) + 1e-6
        ratio = np.sqrt(1.0 - rng.beta(a, a, size=n))
        masks, area = box_masks(rng, n, h, w, ratio, ratio)
        return 1.0 - area / (h * w), masks

    def mix_images(self, x: Any, partner: Any, plan: Any, n: int) -> Any:
        h, w = int(x.shape[1]), int(x.shape[2])
        mask = ops.reshape(plan[:, n + 1:], (n, h, w, 1))
        return mask * partner + (1.0 - mask) * x

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = list(self.factor)
        return config

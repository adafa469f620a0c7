"""ResNet50V2, ResNet101V2 and ResNet152V2 (Keras 3's ``keras.applications.resnet_v2``):
pre-activation residual blocks.

Reference: He et al., "Identity Mappings in Deep Residual Networks" (ECCV 2016). Layer
names and weight shapes are Keras's, so Keras's ImageNet weight files load unchanged.

Example:
    >>> from chainrule.applications import resnet_v2
    >>> resnet_v2.ResNet50V2(input_shape=(32, 32, 3), include_top=False, weights=None,
    ...                      pooling="max").output_shape
    (None, 2048)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.applications.mobilenet import (  # "tf" mode, as Keras
    decode_predictions,
    preprocess_input,
)
from chainrule.applications.resnet import _ARGS_DOC, ResNet, stack_residual_blocks_v2

__all__ = ["ResNet101V2", "ResNet152V2", "ResNet50V2", "decode_predictions", "preprocess_input"]


def _v2_stages(counts: tuple[int, int, int, int]) -> Callable[[Any], Any]:
    def stack_fn(x: Any) -> Any:
        x = stack_residual_blocks_v2(x, 64, counts[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, counts[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, counts[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, counts[3], stride1=1, name="conv5")
    return stack_fn


def ResNet50V2(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50v2",
) -> Any:
    return ResNet(_v2_stages((3, 4, 6, 3)), True, True, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, name, "resnet50v2")


def ResNet101V2(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101v2",
) -> Any:
    return ResNet(_v2_stages((3, 4, 23, 3)), True, True, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, name, "resnet101v2")


def ResNet152V2(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152v2",
) -> Any:
    return ResNet(_v2_stages((3, 8, 36, 3)), True, True, include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation, name, "resnet152v2")


ResNet50V2.__doc__ = """Build ResNet50V2 (3, 4, 6, 3 pre-activation blocks) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> len(ResNet50V2(input_shape=(32, 32, 3), include_top=False, weights=None).weights)
        270
"""
ResNet101V2.__doc__ = """Build ResNet101V2 (3, 4, 23, 3 pre-activation blocks) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> ResNet101V2.__name__
        'ResNet101V2'
"""
ResNet152V2.__doc__ = """Build ResNet152V2 (3, 8, 36, 3 pre-activation blocks) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> ResNet152V2.__name__
        'ResNet152V2'
"""

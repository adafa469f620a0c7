"""VGG19 (Keras 3's ``keras.applications.vgg19``): VGG16 with a fourth 3x3 convolution in
blocks 3 to 5 (``block3_conv4``, ...).

Example:
    >>> from chainrule.applications import vgg19
    >>> len(vgg19.VGG19(input_shape=(32, 32, 3), include_top=False, weights=None).weights)
    32
"""

from __future__ import annotations

from typing import Any

from chainrule.applications.vgg16 import (  # "caffe" mode, as Keras
    build_vgg,
    decode_predictions,
    preprocess_input,
)

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg19",
) -> Any:
    """Build VGG19 as Keras does, optionally with Keras's ImageNet weights.

    Args:
        include_top: add ``flatten``, ``fc1``, ``fc2`` (4096 units each) and ``predictions``.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)``, at least 32x32; with the top and ImageNet weights
            only ``(224, 224, 3)``.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``; inputs expect :func:`preprocess_input`'s scaling
        (``"caffe"``).

    Raises:
        ValueError: for a bad ``weights``, ``classes`` or ``input_shape``.

    Example:
        >>> VGG19(input_shape=(32, 32, 3), include_top=False, weights=None,
        ...       pooling="max").output_shape
        (None, 512)
    """
    return build_vgg((2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling,
                     classes, classifier_activation, name, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP),
                     WEIGHTS_HASHES)

"""Xception (Keras 3's ``keras.applications.xception``): depthwise separable convolutions
with residual connections.

Reference: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions"
(CVPR 2017). Layer names and weight shapes are Keras's, so Keras's ImageNet weight files
load unchanged. As in Keras, the shortcut convolutions and their batch normalizations are
left unnamed (``conv2d``, ``batch_normalization``, ... counted since the last
``clear_session``).

Example:
    >>> from chainrule.applications import xception
    >>> xception.Xception(input_shape=(71, 71, 3), include_top=False, weights=None,
    ...                   pooling="avg").output_shape
    (None, 2048)
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils
from chainrule.applications.mobilenet import (  # "tf" mode, as Keras
    decode_predictions,
    preprocess_input,
)

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
# Keras's md5 digests of (with top, without top)
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _sepconv_bn(x: Any, filters: int, name: str, relu_first: bool = True) -> Any:
    """(ReLU ``{name}_act`` when ``relu_first``), separable 3x3 ``name``, batch norm
    ``{name}_bn``."""
    from chainrule import layers  # noqa: PLC0415

    if relu_first:
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=_channel_axis(), name=f"{name}_bn")(x)


def _channel_axis() -> int:
    from chainrule import backend  # noqa: PLC0415

    return 1 if backend.image_data_format() == "channels_first" else -1


def _shortcut(x: Any, filters: int) -> Any:
    """The unnamed strided 1x1 convolution and batch norm of an entry/exit block."""
    from chainrule import layers  # noqa: PLC0415

    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)
    return layers.BatchNormalization(axis=_channel_axis())(residual)


def _reduction_block(x: Any, filters: tuple[int, int], block: int,
                     relu_first: bool = True) -> Any:
    """Two separable convolutions and a strided max pooling, added to the 1x1 shortcut."""
    from chainrule import layers  # noqa: PLC0415

    residual = _shortcut(x, filters[1])
    # block 2 follows the stem's ReLU, so it starts with the separable convolution
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1", relu_first=relu_first)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same",
                            name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "xception",
) -> Any:
    """Build Xception as Keras does: entry flow (blocks 1-4), middle flow (blocks 5-12,
    728 channels), exit flow (blocks 13-14).

    Args:
        include_top: add global average pooling (``avg_pool``) and ``predictions``.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)``, at least 71x71; with the top and ImageNet weights
            only ``(299, 299, 3)``.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``; inputs expect ``preprocess_input``'s scaling
        (to [-1, 1]).

    Raises:
        ValueError: for a bad ``weights``, ``classes`` or ``input_shape``.

    Example:
        >>> len(Xception(input_shape=(None, None, 3), include_top=False,
        ...              weights=None).weights)
        234
    """
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    channel_axis = _channel_axis()
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _reduction_block(x, (128, 128), 2, relu_first=False)
    x = _reduction_block(x, (256, 256), 3)
    x = _reduction_block(x, (728, 728), 4)
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
        x = layers.add([x, residual])
    x = _reduction_block(x, (728, 1024), 13)
    x = _sepconv_bn(x, 1536, "block14_sepconv1", relu_first=False)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2", relu_first=False)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    file_name = ("xception_weights_tf_dim_ordering_tf_kernels"
                 f"{'' if include_top else '_notop'}.h5")
    download = (file_name, BASE_WEIGHTS_PATH + file_name,
                WEIGHTS_HASHES[0 if include_top else 1])
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)

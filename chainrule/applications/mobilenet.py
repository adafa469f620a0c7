"""MobileNet (Keras 3's ``keras.applications.mobilenet``): depthwise-separable
convolutions with a width multiplier ``alpha``.

Reference: Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications" (2017). Layer names and weight shapes are Keras's, so Keras's
ImageNet weight files load unchanged.

Example:
    >>> from chainrule.applications import mobilenet
    >>> mobilenet.MobileNet(input_shape=(32, 32, 3), alpha=0.25, include_top=False,
    ...                     weights=None).output_shape
    (None, 1, 1, 256)
"""

from __future__ import annotations

import warnings
from typing import Any

from chainrule.applications import imagenet_utils

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_SIZES = (128, 160, 192, 224)
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}


def MobileNet(  # noqa: N802 - Keras's name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Any:
    """Build MobileNet as Keras does, optionally with Keras's ImageNet weights.

    Args:
        input_shape: ``(rows, cols, 3)`` (channels last); at least 32x32. ``None``: 224x224
            with the top, free sizes without.
        alpha: width multiplier; ImageNet weights exist for 0.25, 0.5, 0.75 and 1.0.
        depth_multiplier: the depthwise convolutions' multiplier (1 with ImageNet weights).
        dropout: the dropout rate before the classifier.
        include_top: add pooling, ``dropout``, the 1x1 ``conv_preds`` classifier,
            ``reshape_2`` and ``predictions`` (the activation).
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name; default ``mobilenet_{alpha:.2f}_{rows}``.

    Returns:
        A functional ``chainrule.Model``; inputs expect :func:`preprocess_input`'s scaling.

    Raises:
        ValueError: for a bad ``weights``, ``classes``, ``alpha``, ``depth_multiplier``
            or ``input_shape``.

    Example:
        >>> model = MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=7)
        >>> model.name, model.output_shape
        ('mobilenet_0.25_32', (None, 7))
    """
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    first = backend.image_data_format() == "channels_first"
    default_size = 224
    if input_shape is not None:
        rows, cols = (input_shape[1], input_shape[2]) if first else (input_shape[0],
                                                                     input_shape[1])
        if rows == cols and rows in _SIZES:
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top, weights=weights)
    rows, cols = (input_shape[1], input_shape[2]) if first else (input_shape[0], input_shape[1])
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1. "
                             f"Received: depth_multiplier={depth_multiplier}")
        if alpha not in _ALPHA_TEXT:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.25`, "
                             f"`0.50`, `0.75` or `1.0` only. Received: alpha={alpha}")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[128, 160, 192, 224]. Weights for input shape (224, 224) will be "
                          "loaded as the default.", stacklevel=2)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    channel_axis = 1 if first else -1

    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
                      name="conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
            (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(plan, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier,
                                  strides=(stride, stride), block_id=block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)

    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    top = "" if include_top else "_no_top"
    file_name = f"mobilenet_{_ALPHA_TEXT.get(alpha, alpha)}_{rows}_tf{top}.h5"
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights,
                                      (file_name, BASE_WEIGHT_PATH + file_name, None))


def _depthwise_conv_block(inputs: Any, pointwise_conv_filters: int, alpha: float,
                          depth_multiplier: int = 1, strides: tuple[int, int] = (1, 1),
                          block_id: int = 1) -> Any:
    """Depthwise 3x3 then pointwise 1x1, each with batch norm and ReLU6."""
    from chainrule import backend, layers  # noqa: PLC0415

    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same",
                      use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale images in [0, 255] to [-1, 1], sample-wise (``imagenet_utils``'s ``"tf"`` mode).

    Args:
        x: 3D or 4D images, NumPy array (float arrays change in place) or tensor.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (the default).

    Returns:
        The scaled images.

    Raises:
        ValueError: for another ``data_format``.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([127.5]))
        array([0.])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list:
    """ImageNet predictions to ``(class_id, name, score)`` lists; see
    :func:`chainrule.applications.imagenet_utils.decode_predictions`.

    Example:
        >>> decode_predictions.__name__
        'decode_predictions'
    """
    return imagenet_utils.decode_predictions(preds, top=top)

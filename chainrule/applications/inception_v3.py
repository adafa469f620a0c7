"""InceptionV3 (Keras 3's ``keras.applications.inception_v3``).

Reference: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision"
(CVPR 2016). Layer names and weight shapes are Keras's, so Keras's ImageNet weight files
load unchanged. As in Keras, the convolutions and batch normalizations are left unnamed
(``conv2d_5``, ``batch_normalization_5``, ... counted since the last ``clear_session``);
Keras's weight files are matched layer by layer in order, not by name.

Example:
    >>> from chainrule.applications import inception_v3
    >>> inception_v3.InceptionV3(input_shape=(75, 75, 3), include_top=False, weights=None,
    ...                          pooling="avg").output_shape
    (None, 2048)
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils
from chainrule.applications.mobilenet import (  # "tf" mode, as Keras
    decode_predictions,
    preprocess_input,
)

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "inception_v3/")
# Keras's md5 digests of (with top, without top)
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def _channel_axis() -> int:
    from chainrule import backend  # noqa: PLC0415

    return 1 if backend.image_data_format() == "channels_first" else 3


def conv2d_bn(x: Any, filters: int, num_row: int, num_col: int, padding: str = "same",
              strides: tuple[int, int] = (1, 1), name: str | None = None) -> Any:
    """A convolution without bias, batch normalization without scale, then ReLU.

    Args:
        x: a 4D symbolic tensor.
        filters: the convolution's filters.
        num_row: the kernel's height.
        num_col: the kernel's width.
        padding: ``"same"`` or ``"valid"``.
        strides: the convolution's strides.
        name: ``{name}_conv``, ``{name}_bn`` and ``name`` for the three layers; ``None``
            leaves them to the default names.

    Returns:
        The output tensor.

    Example:
        >>> import chainrule as cr
        >>> conv2d_bn(cr.layers.Input((8, 8, 3)), 4, 3, 3, strides=(2, 2),
        ...           padding="valid").shape
        (None, 3, 3, 4)
    """
    from chainrule import layers  # noqa: PLC0415

    bn_name = None if name is None else f"{name}_bn"
    conv_name = None if name is None else f"{name}_conv"
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=conv_name)(x)
    x = layers.BatchNormalization(axis=_channel_axis(), scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def _avg_pool_3x3(x: Any) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)


def _concat(branches: list, name: str | None) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.Concatenate(axis=_channel_axis(), name=name)(branches)


def _block_35(x: Any, pool_filters: int, name: str) -> Any:
    """mixed0-2: 1x1, 5x5, double 3x3 and pooled branches (35x35 at the default size)."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(x, 48, 1, 1)
    branch5x5 = conv2d_bn(branch5x5, 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch_pool = conv2d_bn(_avg_pool_3x3(x), pool_filters, 1, 1)
    return _concat([branch1x1, branch5x5, branch3x3dbl, branch_pool], name)


def _block_17(x: Any, filters: int, name: str) -> Any:
    """mixed4-7: 1x1, factorised 7x7, double factorised 7x7 and pooled branches."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, filters, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, filters, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, filters, 1, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 1, 7)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = conv2d_bn(_avg_pool_3x3(x), 192, 1, 1)
    return _concat([branch1x1, branch7x7, branch7x7dbl, branch_pool], name)


def _block_8(x: Any, i: int) -> Any:
    """mixed9-10: 1x1, split 3x3, split double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3_1 = conv2d_bn(branch3x3, 384, 1, 3)
    branch3x3_2 = conv2d_bn(branch3x3, 384, 3, 1)
    branch3x3 = _concat([branch3x3_1, branch3x3_2], f"mixed9_{i}")
    branch3x3dbl = conv2d_bn(x, 448, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3)
    branch3x3dbl_1 = conv2d_bn(branch3x3dbl, 384, 1, 3)
    branch3x3dbl_2 = conv2d_bn(branch3x3dbl, 384, 3, 1)
    branch3x3dbl = _concat([branch3x3dbl_1, branch3x3dbl_2], None)
    branch_pool = conv2d_bn(_avg_pool_3x3(x), 192, 1, 1)
    return _concat([branch1x1, branch3x3, branch3x3dbl, branch_pool], f"mixed{9 + i}")


def InceptionV3(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_v3",
) -> Any:
    """Build Inception V3 as Keras does.

    Args:
        include_top: add global average pooling (``avg_pool``) and ``predictions``.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)``, at least 75x75; with the top and ImageNet weights
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
        >>> len(InceptionV3(input_shape=(None, None, 3), include_top=False,
        ...                 weights=None).weights)
        376
    """
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(x, pool_filters, name=f"mixed{i}")
    # mixed3: grid reduction to 17x17
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _concat([branch3x3, branch3x3dbl, branch_pool], "mixed3")
    for i, filters in enumerate((128, 160, 160, 192)):
        x = _block_17(x, filters, name=f"mixed{4 + i}")
    # mixed8: grid reduction to 8x8
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _concat([branch3x3, branch7x7x3, branch_pool], "mixed8")
    for i in range(2):
        x = _block_8(x, i)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    file_name = ("inception_v3_weights_tf_dim_ordering_tf_kernels"
                 f"{'' if include_top else '_notop'}.h5")
    download = (file_name, BASE_WEIGHTS_PATH + file_name,
                WEIGHTS_HASHES[0 if include_top else 1])
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)

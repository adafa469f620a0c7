"""InceptionResNetV2 (Keras 3's ``keras.applications.inception_resnet_v2``): Inception
blocks whose output is scaled and added to their input.

Reference: Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning" (AAAI 2017). Layer names and weight shapes are Keras's, so
Keras's ImageNet weight files load unchanged. As in Keras, most convolutions and batch
normalizations are left unnamed (``conv2d_5``, ``batch_normalization_5``, ... counted
since the last ``clear_session``), and each residual sum is a ``CustomScaleLayer`` (also
``chainrule.layers.CustomScaleLayer``, so saved models load it by name).

Example:
    >>> from chainrule.applications import inception_resnet_v2
    >>> inception_resnet_v2.InceptionResNetV2(input_shape=(None, None, 3), include_top=False,
    ...                                       weights=None, pooling="avg").output_shape
    (None, 1536)
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils
from chainrule.applications.mobilenet import (  # "tf" mode, as Keras
    decode_predictions,
    preprocess_input,
)
from chainrule.layers.custom_scale import CustomScaleLayer  # Keras defines it here

__all__ = ["CustomScaleLayer", "InceptionResNetV2", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                   "inception_resnet_v2/")
# Keras's md5 digests of (with top, without top)
WEIGHTS_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")


def _channel_axis() -> int:
    from chainrule import backend  # noqa: PLC0415

    return 1 if backend.image_data_format() == "channels_first" else 3


def conv2d_bn(x: Any, filters: int, kernel_size: int | list[int], strides: int = 1,
              padding: str = "same", activation: str | None = "relu", use_bias: bool = False,
              name: str | None = None) -> Any:
    """A convolution, then (without bias) batch normalization without scale, then the
    activation.

    Args:
        x: a 4D symbolic tensor.
        filters: the convolution's filters.
        kernel_size: an int or ``[rows, cols]``.
        strides: the convolution's strides.
        padding: ``"same"`` or ``"valid"``.
        activation: the activation's name, or ``None`` for none.
        use_bias: give the convolution a bias (and leave out the batch norm).
        name: ``name``, ``{name}_bn`` and ``{name}_ac`` for the three layers; ``None``
            leaves them to the default names.

    Returns:
        The output tensor.

    Example:
        >>> import chainrule as cr
        >>> conv2d_bn(cr.layers.Input((8, 8, 3)), 4, 3, strides=2, padding="valid").shape
        (None, 3, 3, 4)
    """
    from chainrule import layers  # noqa: PLC0415

    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)
    if not use_bias:
        bn_name = None if name is None else f"{name}_bn"
        x = layers.BatchNormalization(axis=_channel_axis(), scale=False, name=bn_name)(x)
    if activation is not None:
        ac_name = None if name is None else f"{name}_ac"
        x = layers.Activation(activation, name=ac_name)(x)
    return x


def inception_resnet_block(x: Any, scale: float, block_type: str, block_idx: int,
                           activation: str | None = "relu") -> Any:
    """An Inception-ResNet block: the branches' concatenation (``{type}_{idx}_mixed``), a
    1x1 convolution back to ``x``'s channels (``{type}_{idx}_conv``), ``x + scale * it``,
    then the activation (``{type}_{idx}_ac``).

    Args:
        x: a 4D symbolic tensor.
        scale: the branch's factor.
        block_type: ``"block35"``, ``"block17"`` or ``"block8"`` (the 35x35, 17x17 and
            8x8 grids at the default size).
        block_idx: the block's number in its stage.
        activation: the activation after the sum, or ``None``.

    Returns:
        The output tensor, the shape of ``x``.

    Raises:
        ValueError: for another ``block_type``.

    Example:
        >>> import chainrule as cr
        >>> inception_resnet_block(cr.layers.Input((8, 8, 16)), 0.2, "block8", 1).shape
        (None, 8, 8, 16)
    """
    from chainrule import layers  # noqa: PLC0415

    if block_type == "block35":
        branch_0 = conv2d_bn(x, 32, 1)
        branch_1 = conv2d_bn(x, 32, 1)
        branch_1 = conv2d_bn(branch_1, 32, 3)
        branch_2 = conv2d_bn(x, 32, 1)
        branch_2 = conv2d_bn(branch_2, 48, 3)
        branch_2 = conv2d_bn(branch_2, 64, 3)
        branches = [branch_0, branch_1, branch_2]
    elif block_type == "block17":
        branch_0 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(x, 128, 1)
        branch_1 = conv2d_bn(branch_1, 160, [1, 7])
        branch_1 = conv2d_bn(branch_1, 192, [7, 1])
        branches = [branch_0, branch_1]
    elif block_type == "block8":
        branch_0 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(branch_1, 224, [1, 3])
        branch_1 = conv2d_bn(branch_1, 256, [3, 1])
        branches = [branch_0, branch_1]
    else:
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", "block17" '
                         f'or "block8". Received: block_type={block_type}')
    block_name = f"{block_type}_{block_idx}"
    channel_axis = _channel_axis()
    mixed = layers.Concatenate(axis=channel_axis, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[channel_axis], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def InceptionResNetV2(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_resnet_v2",
) -> Any:
    """Build Inception-ResNet v2 as Keras does: stem, ``mixed_5b``, 10 block35, ``mixed_6a``,
    20 block17, ``mixed_7a``, 10 block8, then ``conv_7b`` (1536 channels).

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
        >>> len(InceptionResNetV2(input_shape=(None, None, 3), include_top=False,
        ...                       weights=None).weights)
        896
    """
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    channel_axis = _channel_axis()
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    # mixed_5b (Inception-A)
    branch_0 = conv2d_bn(x, 96, 1)
    branch_1 = conv2d_bn(x, 48, 1)
    branch_1 = conv2d_bn(branch_1, 64, 5)
    branch_2 = conv2d_bn(x, 64, 1)
    branch_2 = conv2d_bn(branch_2, 96, 3)
    branch_2 = conv2d_bn(branch_2, 96, 3)
    branch_pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branch_pool = conv2d_bn(branch_pool, 64, 1)
    x = layers.Concatenate(axis=channel_axis, name="mixed_5b")(
        [branch_0, branch_1, branch_2, branch_pool])
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)
    # mixed_6a (Reduction-A)
    branch_0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(x, 256, 1)
    branch_1 = conv2d_bn(branch_1, 256, 3)
    branch_1 = conv2d_bn(branch_1, 384, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=channel_axis, name="mixed_6a")([branch_0, branch_1, branch_pool])
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)
    # mixed_7a (Reduction-B)
    branch_0 = conv2d_bn(x, 256, 1)
    branch_0 = conv2d_bn(branch_0, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(x, 256, 1)
    branch_1 = conv2d_bn(branch_1, 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(x, 256, 1)
    branch_2 = conv2d_bn(branch_2, 288, 3)
    branch_2 = conv2d_bn(branch_2, 320, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=channel_axis, name="mixed_7a")(
        [branch_0, branch_1, branch_2, branch_pool])
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                               block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    file_name = ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels"
                 f"{'' if include_top else '_notop'}.h5")
    download = (file_name, BASE_WEIGHT_URL + file_name, WEIGHTS_HASHES[0 if include_top else 1])
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)

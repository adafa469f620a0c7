"""DenseNet121, DenseNet169 and DenseNet201 (Keras 3's ``keras.applications.densenet``).

Each dense block concatenates every layer's 32 new channels to its input; transition
blocks halve the channels and the image size between the blocks.

Reference: Huang et al., "Densely Connected Convolutional Networks" (CVPR 2017). Layer
names and weight shapes are Keras's, so Keras's ImageNet weight files load unchanged.

Example:
    >>> from chainrule.applications import densenet
    >>> densenet.DenseNet121(input_shape=(32, 32, 3), include_top=False, weights=None,
    ...                      pooling="avg").output_shape
    (None, 1024)
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions",
           "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# blocks per dense block -> (key, Keras's md5 with the top, without the top)
WEIGHTS = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_EPS = 1.001e-5
_GROWTH_RATE = 32


def _bn_axis() -> int:
    from chainrule import backend  # noqa: PLC0415

    return 3 if backend.image_data_format() == "channels_last" else 1


def dense_block(x: Any, blocks: int, name: str) -> Any:
    """``blocks`` conv blocks, each adding 32 channels to ``x``.

    Args:
        x: a 4D symbolic tensor.
        blocks: the number of conv blocks.
        name: the block's label (``"conv2"``, ...).

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> dense_block(cr.layers.Input((8, 8, 16)), 2, name="b").shape
        (None, 8, 8, 80)
    """
    for i in range(blocks):
        x = conv_block(x, _GROWTH_RATE, name=f"{name}_block{i + 1}")
    return x


def transition_block(x: Any, reduction: float, name: str) -> Any:
    """Batch norm, ReLU, a 1x1 convolution to ``reduction`` times the channels, then 2x2
    average pooling.

    Args:
        x: a 4D symbolic tensor.
        reduction: the compression rate of the channels.
        name: the block's label (``"pool2"``, ...).

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> transition_block(cr.layers.Input((8, 8, 16)), 0.5, name="t").shape
        (None, 4, 4, 8)
    """
    from chainrule import layers  # noqa: PLC0415

    bn_axis = _bn_axis()
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[bn_axis] * reduction), 1, use_bias=False,
                      name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x: Any, growth_rate: int, name: str) -> Any:
    """One layer of a dense block: BN-ReLU-1x1 conv (``4 * growth_rate``), BN-ReLU-3x3 conv
    (``growth_rate``), its output concatenated to ``x``.

    Args:
        x: a 4D symbolic tensor.
        growth_rate: the channels the block adds.
        name: the block's label (``"conv2_block1"``, ...).

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> conv_block(cr.layers.Input((8, 8, 16)), 4, name="c").shape
        (None, 8, 8, 20)
    """
    from chainrule import layers  # noqa: PLC0415

    bn_axis = _bn_axis()
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=bn_axis, name=f"{name}_concat")([x, x1])


def DenseNet(  # noqa: N802 - Keras's name
    blocks: list[int] | tuple[int, ...],
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet",
) -> Any:
    """Keras's DenseNet builder: stem, four dense blocks with transitions, then the head.

    Args:
        blocks: the number of conv blocks of the four dense blocks.
        include_top: add ``avg_pool`` and ``predictions``.
        weights: ``"imagenet"`` (only for the three published ``blocks``), ``None`` or the
            path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)``, at least 32x32.
        pooling: without the top, ``"avg"`` (``avg_pool``), ``"max"`` (``max_pool``) or
            ``None``.
        classes: the number of classes of the top.
        classifier_activation: the top's activation.
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``.

    Raises:
        ValueError: with ``channels_first`` images (Keras's DenseNet is channels-last
            only), for a bad ``weights``, ``classes`` or ``input_shape``, or ImageNet
            weights for other ``blocks``.

    Example:
        >>> len(DenseNet([1, 1, 1, 1], include_top=False, weights=None,
        ...              input_shape=(32, 32, 3)).weights)
        64
    """
    from chainrule import backend, layers  # noqa: PLC0415

    if backend.image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` with "
                         "chainrule.backend.set_image_data_format('channels_last'). "
                         "Received: data_format=channels_first")
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    download = None
    if weights == "imagenet":
        if tuple(blocks) not in WEIGHTS:
            raise ValueError("ImageNet weights exist only for DenseNet121, DenseNet169 and "
                             "DenseNet201 (blocks [6, 12, 24, 16], [6, 12, 32, 32] or "
                             f"[6, 12, 48, 32]). Received: blocks={list(blocks)}")
        key, top_hash, notop_hash = WEIGHTS[tuple(blocks)]
        file_name = (f"{key}_weights_tf_dim_ordering_tf_kernels"
                     f"{'' if include_top else '_notop'}.h5")
        download = (file_name, BASE_WEIGHTS_PATH + file_name,
                    top_hash if include_top else notop_hash)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = _bn_axis()
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks[:3], start=2):
        x = dense_block(x, count, name=f"conv{stage}")
        x = transition_block(x, 0.5, name=f"pool{stage}")
    x = dense_block(x, blocks[3], name="conv5")
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling, names=("avg_pool", "max_pool"))
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)


_ARGS_DOC = """
    Args:
        include_top: add global average pooling (``avg_pool``) and ``predictions``.
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
        A functional ``chainrule.Model``; inputs expect ``preprocess_input``'s scaling.

    Raises:
        ValueError: with ``channels_first`` images, or for a bad ``weights``, ``classes``
            or ``input_shape``.
"""


def DenseNet121(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet121",
) -> Any:
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet169(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet169",
) -> Any:
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet201(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet201",
) -> Any:
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


DenseNet121.__doc__ = """Build DenseNet121 (dense blocks of 6, 12, 24, 16 layers) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> len(DenseNet121(input_shape=(32, 32, 3), include_top=False, weights=None).weights)
        604
"""
DenseNet169.__doc__ = """Build DenseNet169 (dense blocks of 6, 12, 32, 32 layers) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> DenseNet169.__name__
        'DenseNet169'
"""
DenseNet201.__doc__ = """Build DenseNet201 (dense blocks of 6, 12, 48, 32 layers) as Keras does.
""" + _ARGS_DOC + """
    Example:
        >>> DenseNet201.__name__
        'DenseNet201'
"""


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale images in [0, 255] to [0, 1], then normalise each channel with ImageNet's mean
    and standard deviation (``imagenet_utils``'s ``"torch"`` mode).

    Args:
        x: 3D or 4D images, NumPy array (float arrays change in place) or tensor.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (the default).

    Returns:
        The scaled images.

    Raises:
        ValueError: for another ``data_format``.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 3), 255.0)).round(3)
        array([[[2.249, 2.429, 2.64 ]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds: Any, top: int = 5) -> list:
    """ImageNet predictions to ``(class_id, name, score)`` lists; see
    :func:`chainrule.applications.imagenet_utils.decode_predictions`.

    Example:
        >>> decode_predictions.__name__
        'decode_predictions'
    """
    return imagenet_utils.decode_predictions(preds, top=top)

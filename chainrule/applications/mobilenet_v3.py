"""MobileNetV3 (Keras 3's ``keras.applications.mobilenet_v3``): MobileNetV3Small and
MobileNetV3Large, with squeeze-and-excite blocks and hard-swish, or their
``minimalistic`` variants (ReLU, 3x3 kernels, no squeeze-and-excite).

Reference: Howard et al., "Searching for MobileNetV3" (ICCV 2019). Layer names, order
and weight shapes are Keras's, so Keras's ImageNet weight files load unchanged. As in
Keras, the models rescale their own input (a ``Rescaling`` layer) unless
``include_preprocessing=False``, so :func:`preprocess_input` passes images through.

Example:
    >>> from chainrule.applications import mobilenet_v3
    >>> model = mobilenet_v3.MobileNetV3Small(input_shape=(32, 32, 3), include_top=False,
    ...                                       weights=None, pooling="avg")
    >>> model.output_shape
    (None, 576)
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from chainrule.applications import imagenet_utils

__all__ = ["MobileNetV3Large", "MobileNetV3Small", "decode_predictions", "preprocess_input"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
# model name -> (md5 of the file with the top, md5 of the file without), Keras's
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}

# one row per inverted residual block:
# (expansion, filters, kernel, stride, squeeze-excite?, activation), where kernel "k" and
# activation "act" are the model's (5 and hard-swish; 3 and ReLU when minimalistic)
_SMALL = [(1, 16, 3, 2, True, "relu"), (72.0 / 16, 24, 3, 2, False, "relu"),
          (88.0 / 24, 24, 3, 1, False, "relu"), (4, 40, "k", 2, True, "act"),
          (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
          (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"),
          (6, 96, "k", 2, True, "act"), (6, 96, "k", 1, True, "act"),
          (6, 96, "k", 1, True, "act")]
_LARGE = [(1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"),
          (3, 24, 3, 1, False, "relu"), (3, 40, "k", 2, True, "relu"),
          (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"),
          (2.3, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
          (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
          (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"),
          (6, 160, "k", 1, True, "act")]


def MobileNetV3Small(  # noqa: N802 - Keras's name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> Any:
    """Build MobileNetV3Small as Keras does, optionally with Keras's ImageNet weights.

    Args:
        input_shape: ``(rows, cols, 3)`` (channels last), at least 32x32; ``None``: free
            sizes (taken from ``input_tensor`` when given).
        alpha: width multiplier; ImageNet weights exist for 0.75 and 1.0 (1.0 only when
            ``minimalistic``).
        minimalistic: ReLU and 3x3 depthwise kernels everywhere, no squeeze-and-excite.
        include_top: add pooling, the 1x1 ``conv_2`` and ``logits`` convolutions (with
            dropout between them), a flatten and ``predictions`` (the activation).
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        classes: the number of classes of the top.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        dropout_rate: the dropout rate before ``logits`` (none if 0).
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        include_preprocessing: start with ``Rescaling(1 / 127.5, offset=-1)``, so the model
            takes pixels in [0, 255]; without it, inputs in [-1, 1].
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``.

    Raises:
        ValueError: for a bad ``weights``, ``classes``, ``alpha``, ``input_shape`` or
            ``input_tensor``.

    Example:
        >>> model = MobileNetV3Small(input_shape=(32, 32, 3), weights=None, classes=7)
        >>> model.name, model.output_shape
        ('MobileNetV3Small', (None, 7))
    """
    return _mobilenet_v3(_SMALL, 1024, "small", input_shape, alpha, minimalistic, include_top,
                         weights, input_tensor, classes, pooling, dropout_rate,
                         classifier_activation, include_preprocessing, name)


def MobileNetV3Large(  # noqa: N802 - Keras's name
    input_shape: tuple | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> Any:
    """Build MobileNetV3Large as Keras does, optionally with Keras's ImageNet weights.

    Args:
        input_shape: ``(rows, cols, 3)`` (channels last), at least 32x32; ``None``: free
            sizes (taken from ``input_tensor`` when given).
        alpha: width multiplier; ImageNet weights exist for 0.75 and 1.0 (1.0 only when
            ``minimalistic``).
        minimalistic: ReLU and 3x3 depthwise kernels everywhere, no squeeze-and-excite.
        include_top: add pooling, the 1x1 ``conv_2`` and ``logits`` convolutions (with
            dropout between them), a flatten and ``predictions`` (the activation).
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        classes: the number of classes of the top.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        dropout_rate: the dropout rate before ``logits`` (none if 0).
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        include_preprocessing: start with ``Rescaling(1 / 127.5, offset=-1)``, so the model
            takes pixels in [0, 255]; without it, inputs in [-1, 1].
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``.

    Raises:
        ValueError: for a bad ``weights``, ``classes``, ``alpha``, ``input_shape`` or
            ``input_tensor``.

    Example:
        >>> model = MobileNetV3Large(input_shape=(32, 32, 3), include_top=False,
        ...                          weights=None, minimalistic=True)
        >>> model.output_shape
        (None, 1, 1, 960)
    """
    return _mobilenet_v3(_LARGE, 1280, "large", input_shape, alpha, minimalistic, include_top,
                         weights, input_tensor, classes, pooling, dropout_rate,
                         classifier_activation, include_preprocessing, name)


def _mobilenet_v3(plan: list, last_point_ch: int, model_type: str, input_shape: Any,
                  alpha: float, minimalistic: bool, include_top: bool, weights: Any,
                  input_tensor: Any, classes: int, pooling: str | None, dropout_rate: float,
                  classifier_activation: Any, include_preprocessing: bool, name: str) -> Any:
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    first = backend.image_data_format() == "channels_first"
    if input_tensor is not None and not backend.is_keras_tensor(input_tensor):
        imagenet_utils.image_input(input_tensor, input_shape)  # raises Keras's error
    if input_shape is not None and input_tensor is not None:
        axis = 1 if first else 2
        if input_tensor.shape[axis] != input_shape[1]:
            raise ValueError(f"input_shape[1] must equal input_tensor.shape[{axis}]. "
                             f"Received: input_shape={input_shape}, "
                             f"input_tensor.shape={input_tensor.shape}")
    if input_shape is None and input_tensor is not None:
        size = tuple(input_tensor.shape)[2:4] if first else tuple(input_tensor.shape)[1:3]
        input_shape = (3,) + size if first else size + (3,)
    if input_shape is None:
        input_shape = (3, None, None) if first else (None, None, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be a tuple of three integers. "
                         f"Received: input_shape={input_shape}")
    rows, cols = input_shape[1:3] if first else input_shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32. Received: input_shape={input_shape}")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, "
                             "`1.0` for non minimalistic or `1.0` for minimalistic only. "
                             f"Received: alpha={alpha}, minimalistic={minimalistic}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the default.",
                          stacklevel=3)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    channel_axis = 1 if first else -1
    activation = _relu if minimalistic else _hard_swish
    kernel = 3 if minimalistic else 5
    se_ratio = None if minimalistic else 0.25

    def bn(layer_name: str) -> Any:
        return layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                         name=layer_name)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = activation(bn("conv_bn")(x))
    for block_id, (expansion, filters, size, stride, se, act) in enumerate(plan):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha),
                                kernel if size == "k" else size, stride,
                                se_ratio if se else None,
                                activation if act == "act" else _relu, block_id)
    last_conv_ch = _depth(x.shape[channel_axis] * 6)
    if alpha > 1.0:  # a wider model widens the last 1x1 convolution too
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = activation(bn("conv_1_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling, names=("avg_pool", "max_pool"))

    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    download = None
    if weights == "imagenet":
        if include_top:
            file_name = f"weights_mobilenet_v3_{model_name}.h5"
            file_hash = WEIGHTS_HASHES[model_name][0]
        else:
            file_name = f"weights_mobilenet_v3_{model_name}_no_top_v2.h5"
            file_hash = WEIGHTS_HASHES[model_name][1]
        download = (file_name, BASE_WEIGHT_PATH + file_name, file_hash)
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)


def _relu(x: Any) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.ReLU()(x)


def _hard_sigmoid(x: Any) -> Any:
    """Keras's spelling: ``ReLU(6)(x + 3) / 6`` (the additions are graph ops, not layers)."""
    from chainrule import layers  # noqa: PLC0415

    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x: Any) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.Activation("hard_swish")(x)


def _depth(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never down by more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _se_block(inputs: Any, filters: int, se_ratio: float, prefix: str) -> Any:
    """Squeeze-and-excite: pooled channels through two 1x1 convolutions scale the input."""
    from chainrule import layers  # noqa: PLC0415

    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x: Any, expansion: float, filters: int, kernel_size: int, stride: int,
                        se_ratio: float | None, activation: Callable, block_id: int) -> Any:
    """Expand (1x1), depthwise, squeeze-excite, project (1x1), residual when shapes agree."""
    from chainrule import backend, layers  # noqa: PLC0415

    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[channel_axis]

    def bn(suffix: str) -> Any:
        return layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                         name=f"{prefix}{suffix}")

    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = activation(bn("expand_bn")(x))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = activation(bn("depthwise_bn")(x))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = bn("project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Return ``x`` unchanged: MobileNetV3 rescales its input itself (Keras keeps this
    function for a uniform API).

    Args:
        x: images (array or tensor).
        data_format: accepted and unused, as in Keras.

    Returns:
        ``x``.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([255.0]))
        array([255.])
    """
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """ImageNet class names of the best ``top`` predictions per sample
    (:func:`chainrule.applications.imagenet_utils.decode_predictions`).

    Args:
        preds: predictions of shape ``(samples, 1000)``.
        top: how many of the best guesses to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.

    Example:
        >>> import numpy as np
        >>> decode_predictions(np.zeros((1, 10)))
        Traceback (most recent call last):
        ...
        ValueError: `decode_predictions` expects a batch of predictions (i.e. a 2D array of ...
    """
    return imagenet_utils.decode_predictions(preds, top=top)

"""EfficientNetV2 B0 to B3, S, M and L (Keras 3's ``keras.applications.efficientnet_v2``).

Reference: Tan and Le, "EfficientNetV2: Smaller Models and Faster Training" (ICML 2021).
Layer names, order and weight shapes are Keras's, so Keras's ImageNet weight files load
unchanged.

With ``include_preprocessing=True`` (the default) the input scaling is part of the model:
the B variants rescale to [0, 1] and normalise with ImageNet's mean and standard deviation
(a ``Rescaling`` and a fixed ``Normalization``), S, M and L rescale to [-1, 1]; so the
models take pixels in [0, 255] and :func:`preprocess_input` returns its input unchanged.
Without it, the models expect inputs already in [-1, 1].

Example:
    >>> from chainrule.applications import efficientnet_v2
    >>> model = efficientnet_v2.EfficientNetV2B0(input_shape=(32, 32, 3), include_top=False,
    ...                                          weights=None, pooling="avg")
    >>> model.output_shape
    (None, 1280)
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.applications import imagenet_utils
from chainrule.applications.efficientnet import (  # the same pass-through and decoding
    conv_kernel_initializer,
    decode_predictions,
    dense_kernel_initializer,
    preprocess_input,
    squeeze_excite,
)

__all__ = ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
           "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "decode_predictions",
           "preprocess_input"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/")

# variant -> md5 of Keras's (top, no-top) ImageNet files
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}

# stages: (fused, repeats, filters in, filters out, expansion, strides, squeeze-excite ratio);
# every kernel is 3x3. The B variants share B0's stages, scaled by width and depth.
_B0 = [(True, 1, 32, 16, 1, 1, 0.0), (True, 2, 16, 32, 4, 2, 0.0),
       (True, 2, 32, 48, 4, 2, 0.0), (False, 3, 48, 96, 4, 2, 0.25),
       (False, 5, 96, 112, 6, 1, 0.25), (False, 8, 112, 192, 6, 2, 0.25)]
_S = [(True, 2, 24, 24, 1, 1, 0.0), (True, 4, 24, 48, 4, 2, 0.0),
      (True, 4, 48, 64, 4, 2, 0.0), (False, 6, 64, 128, 4, 2, 0.25),
      (False, 9, 128, 160, 6, 1, 0.25), (False, 15, 160, 256, 6, 2, 0.25)]
_M = [(True, 3, 24, 24, 1, 1, 0.0), (True, 5, 24, 48, 4, 2, 0.0),
      (True, 5, 48, 80, 4, 2, 0.0), (False, 7, 80, 160, 4, 2, 0.25),
      (False, 14, 160, 176, 6, 1, 0.25), (False, 18, 176, 304, 6, 2, 0.25),
      (False, 5, 304, 512, 6, 1, 0.25)]
_L = [(True, 4, 32, 32, 1, 1, 0.0), (True, 7, 32, 64, 4, 2, 0.0),
      (True, 7, 64, 96, 4, 2, 0.0), (False, 10, 96, 192, 4, 2, 0.25),
      (False, 19, 192, 224, 6, 1, 0.25), (False, 25, 224, 384, 6, 2, 0.25),
      (False, 7, 384, 640, 6, 1, 0.25)]

# variant -> (width coefficient, depth coefficient, default size, stages, no-top parameters)
_VARIANTS = {
    "b0": (1.0, 1.0, 224, _B0, 5919312), "b1": (1.0, 1.1, 240, _B0, 6931124),
    "b2": (1.1, 1.2, 260, _B0, 8769374), "b3": (1.2, 1.4, 300, _B0, 12930622),
    "s": (1.0, 1.0, 384, _S, 20331360), "m": (1.0, 1.0, 480, _M, 53150388),
    "l": (1.0, 1.0, 480, _L, 117746848),
}
_KERNEL_SIZE = 3
_DROPOUT_RATE = 0.2
_DROP_CONNECT_RATE = 0.2
_DEPTH_DIVISOR = 8
_MIN_DEPTH = 8
_BN_MOMENTUM = 0.9
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STDDEV = (0.229, 0.224, 0.225)


def _round_filters(filters: float, width: float) -> int:
    """Scale a filter count by ``width`` to a multiple of 8 (at least 8), as Keras's V2."""
    filters *= width
    return int(max(_MIN_DEPTH, int(filters + _DEPTH_DIVISOR / 2) // _DEPTH_DIVISOR
                   * _DEPTH_DIVISOR))


def _efficientnet_v2(variant: str, include_top: bool, weights: Any, input_tensor: Any,
                     input_shape: Any, pooling: str | None, classes: int,
                     classifier_activation: Any, include_preprocessing: bool,
                     name: str) -> Any:
    """Build one EfficientNetV2 variant (Keras's ``EfficientNetV2`` with its default blocks)."""
    from chainrule import backend, layers  # noqa: PLC0415

    width, depth, default_size, stages, _ = _VARIANTS[variant]
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1

    def bn(layer_name: str) -> Any:
        return layers.BatchNormalization(axis=bn_axis, momentum=_BN_MOMENTUM, name=layer_name)

    x = img_input
    if include_preprocessing:
        # the B variants keep EfficientNet's (V1) scaling when the input has 3 channels
        if variant.startswith("b") and input_shape[bn_axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=list(_IMAGENET_MEAN),
                                     variance=[s ** 2 for s in _IMAGENET_STDDEV],
                                     axis=bn_axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    x = layers.Conv2D(_round_filters(stages[0][2], width), kernel_size=3, strides=2,
                      padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="stem_conv")(x)
    x = bn("stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    b = 0
    blocks = float(sum(stage[1] for stage in stages))  # Keras counts the unscaled repeats
    for i, (fused, repeats, filters_in, filters_out, expand, strides, se_ratio) in enumerate(
            stages):
        filters_in, filters_out = _round_filters(filters_in, width), _round_filters(
            filters_out, width)
        make_block = fused_mb_conv_block if fused else mb_conv_block
        for j in range(int(math.ceil(depth * repeats))):
            if j > 0:  # only the first block of a stage strides and widens
                strides, filters_in = 1, filters_out
            x = make_block(x, filters_in, filters_out, expand, _KERNEL_SIZE, strides,
                           se_ratio, _BN_MOMENTUM, "swish", _DROP_CONNECT_RATE * b / blocks,
                           f"block{i + 1}{chr(j + 97)}_")
            b += 1

    x = layers.Conv2D(_round_filters(1280, width), kernel_size=1, padding="same",
                      use_bias=False, kernel_initializer=conv_kernel_initializer(),
                      name="top_conv")(x)
    x = bn("top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(_DROPOUT_RATE, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=dense_kernel_initializer(),
                         bias_initializer="zeros", name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling, names=("avg_pool", "max_pool"))

    # Keras names the file after the model's name
    file_name = name + (".h5" if include_top else "_notop.h5")
    file_hash = WEIGHTS_HASHES[variant][0 if include_top else 1]
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights,
                                      (file_name, BASE_WEIGHTS_PATH + file_name, file_hash))


def _shortcut(x: Any, inputs: Any, filters_in: int, filters_out: int, strides: int,
              drop_rate: float, name: str) -> Any:
    """The identity shortcut (after drop-connect) when the block keeps its shape."""
    from chainrule import layers  # noqa: PLC0415

    if strides == 1 and filters_in == filters_out:
        if drop_rate:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def mb_conv_block(inputs: Any, filters_in: int, filters_out: int, expand_ratio: int = 1,
                  kernel_size: int = 3, strides: int = 1, se_ratio: float = 0.0,
                  bn_momentum: float = 0.9, activation: Any = "swish",
                  drop_rate: float = 0.0, name: str = "") -> Any:
    """EfficientNetV2's MBConv block (Keras's ``MBConvBlock``), applied to ``inputs``.

    Expand (1x1 convolution, unless ``expand_ratio`` is 1), depthwise convolution
    (``"same"`` padding, also when strided), squeeze-excitation, project (1x1); an
    identity shortcut after a per-sample ``Dropout`` of ``drop_rate`` (drop-connect)
    when the stride is 1 and the widths agree.

    Args:
        inputs: a 4D symbolic tensor.
        filters_in: the input's channels.
        filters_out: the output's channels.
        expand_ratio: the expansion of the input's channels.
        kernel_size: the depthwise kernel size.
        strides: the depthwise stride.
        se_ratio: squeeze-excitation width as a fraction of ``filters_in`` (0: none).
        bn_momentum: the batch normalisations' momentum.
        activation: the activation (name or callable).
        drop_rate: the drop-connect rate (Keras's ``survival_probability`` argument, which
            is passed on as the dropout rate); 0 for none.
        name: the prefix of the block's layer names (e.g. ``"block4a_"``).

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((8, 8, 16))
        >>> tuple(mb_conv_block(x, 16, 24, expand_ratio=4, strides=2, se_ratio=0.25,
        ...                     name="b_").shape)
        (None, 4, 4, 24)
    """
    from chainrule import backend, layers  # noqa: PLC0415

    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, kernel_size=1, strides=1, padding="same", use_bias=False,
                          kernel_initializer=conv_kernel_initializer(),
                          name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                      name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides, padding="same",
                               use_bias=False, depthwise_initializer=conv_kernel_initializer(),
                               name=f"{name}dwconv2")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(filters_in * se_ratio)), activation, name)
    x = layers.Conv2D(filters_out, kernel_size=1, strides=1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(),
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                  name=f"{name}project_bn")(x)
    return _shortcut(x, inputs, filters_in, filters_out, strides, drop_rate, name)


def fused_mb_conv_block(inputs: Any, filters_in: int, filters_out: int,
                        expand_ratio: int = 1, kernel_size: int = 3, strides: int = 1,
                        se_ratio: float = 0.0, bn_momentum: float = 0.9,
                        activation: Any = "swish", drop_rate: float = 0.0,
                        name: str = "") -> Any:
    """EfficientNetV2's Fused-MBConv block (Keras's ``FusedMBConvBlock``), applied to ``inputs``.

    The expansion and the depthwise convolution are one full ``kernel_size`` convolution
    (with the stride); then optional squeeze-excitation and a 1x1 projection. With
    ``expand_ratio`` 1 the projection itself is the ``kernel_size`` strided convolution,
    followed by an activation. Shortcut as in :func:`mb_conv_block`.

    Args:
        inputs: a 4D symbolic tensor.
        filters_in: the input's channels.
        filters_out: the output's channels.
        expand_ratio: the expansion of the input's channels.
        kernel_size: the convolution's kernel size.
        strides: the convolution's stride.
        se_ratio: squeeze-excitation width as a fraction of ``filters_in`` (0: none).
        bn_momentum: the batch normalisations' momentum.
        activation: the activation (name or callable).
        drop_rate: the drop-connect rate of the shortcut branch (0 for none).
        name: the prefix of the block's layer names (e.g. ``"block2a_"``).

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((8, 8, 16))
        >>> tuple(fused_mb_conv_block(x, 16, 16, drop_rate=0.1, name="b_").shape)
        (None, 8, 8, 16)
    """
    from chainrule import backend, layers  # noqa: PLC0415

    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, kernel_size=kernel_size, strides=strides, padding="same",
                          use_bias=False, kernel_initializer=conv_kernel_initializer(),
                          name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                      name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(filters_in * se_ratio)), activation, name)
    x = layers.Conv2D(filters_out, kernel_size=1 if expand_ratio != 1 else kernel_size,
                      strides=1 if expand_ratio != 1 else strides, padding="same",
                      use_bias=False, kernel_initializer=conv_kernel_initializer(),
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                  name=f"{name}project_bn")(x)
    if expand_ratio == 1:
        x = layers.Activation(activation, name=f"{name}project_activation")(x)
    return _shortcut(x, inputs, filters_in, filters_out, strides, drop_rate, name)


_DOC = """Build {model} as Keras does, optionally with Keras's ImageNet weights.

    Default input size {size}x{size}. With ``include_preprocessing`` the model takes
    pixels in [0, 255] ({scaling}); without it, inputs in [-1, 1].

    Args:
        include_top: add global average pooling, ``Dropout(0.2)`` and the ``predictions``
            Dense layer.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)`` (channels last), at least 32x32; only without the
            top (with it, ``({size}, {size}, 3)``). ``None``: free sizes without the top.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        include_preprocessing: put the input scaling layers first in the model.
        name: the model's name (Keras also names the ImageNet file after it).

    Returns:
        A functional ``chainrule.Model``.

    Raises:
        ValueError: for a bad ``weights``, ``classes``, ``input_shape`` or
            ``classifier_activation``.

    Example:
        >>> from chainrule.layers import ShapeOnlyScope
        >>> with ShapeOnlyScope():  # describe the model, allocating no weights
        ...     model = {model}(include_top=False, weights=None)
        >>> model.name, model.output_shape, model.count_params()
        ('{default_name}', (None, None, None, {top_filters}), {params})
    """


def _builder(variant: str) -> Any:
    def builder(include_top: bool = True, weights: str | None = "imagenet",
                input_tensor: Any = None, input_shape: tuple | None = None,
                pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                name: str = f"efficientnetv2-{variant}") -> Any:
        return _efficientnet_v2(variant, include_top, weights, input_tensor, input_shape,
                                pooling, classes, classifier_activation,
                                include_preprocessing, name)

    model = f"EfficientNetV2{variant.upper()}"
    builder.__name__ = builder.__qualname__ = model
    width, _, size, _, params = _VARIANTS[variant]
    scaling = ("rescaled to [0, 1], then normalised with ImageNet's mean and standard "
               "deviation" if variant.startswith("b") else "rescaled to [-1, 1]")
    builder.__doc__ = _DOC.format(model=model, size=size, scaling=scaling,
                                  default_name=f"efficientnetv2-{variant}",
                                  top_filters=_round_filters(1280, width), params=params)
    return builder


EfficientNetV2B0 = _builder("b0")
EfficientNetV2B1 = _builder("b1")
EfficientNetV2B2 = _builder("b2")
EfficientNetV2B3 = _builder("b3")
EfficientNetV2S = _builder("s")
EfficientNetV2M = _builder("m")
EfficientNetV2L = _builder("l")

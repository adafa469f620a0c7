"""EfficientNet B0 to B7 (Keras 3's ``keras.applications.efficientnet``).

Reference: Tan and Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks" (ICML 2019). Layer names, order and weight shapes are Keras's, so Keras's
ImageNet weight files load unchanged.

The input scaling is part of the model (a ``Rescaling`` and a ``Normalization`` layer,
plus a second ``Rescaling`` with ImageNet weights), so the models take pixels in
[0, 255] and :func:`preprocess_input` returns its input unchanged.

Example:
    >>> from chainrule.applications import efficientnet
    >>> model = efficientnet.EfficientNetB0(input_shape=(32, 32, 3), include_top=False,
    ...                                     weights=None, pooling="avg")
    >>> model.output_shape
    (None, 1280)
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.applications import imagenet_utils

__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
           "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
           "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"

# variant -> md5 of Keras's (top, no-top) ImageNet files
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}

# variant -> (width coefficient, depth coefficient, default size, top dropout rate)
_VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}

# the seven stages of B0: (kernel size, repeats, filters in, filters out, expansion, strides);
# every block has squeeze-excitation (ratio 0.25) and an identity shortcut when shapes agree
_BLOCKS = [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
           (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
           (3, 1, 192, 320, 6, 1)]
_SE_RATIO = 0.25
_DROP_CONNECT_RATE = 0.2
_DEPTH_DIVISOR = 8

IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

# the parameters of each variant without the top (Keras's count_params), for the docs
_NOTOP_PARAMS = {"b0": 4049571, "b1": 6575239, "b2": 7768569, "b3": 10783535,
                 "b4": 17673823, "b5": 28513527, "b6": 40960143, "b7": 64097687}


def conv_kernel_initializer() -> Any:
    """Keras's EfficientNet convolution initializer (He-style, fan-out, truncated normal).

    Returns:
        A ``VarianceScaling`` initializer.

    Example:
        >>> conv_kernel_initializer().get_config()["mode"]
        'fan_out'
    """
    from chainrule import initializers  # noqa: PLC0415

    return initializers.VarianceScaling(scale=2.0, mode="fan_out",
                                        distribution="truncated_normal")


def dense_kernel_initializer() -> Any:
    """Keras's EfficientNet classifier initializer (fan-out, uniform, scale 1/3).

    Returns:
        A ``VarianceScaling`` initializer.

    Example:
        >>> dense_kernel_initializer().get_config()["distribution"]
        'uniform'
    """
    from chainrule import initializers  # noqa: PLC0415

    return initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out", distribution="uniform")


def _efficientnet(variant: str, include_top: bool, weights: Any, input_tensor: Any,
                  input_shape: Any, pooling: str | None, classes: int,
                  classifier_activation: Any, name: str) -> Any:
    """Build one EfficientNet variant (Keras's ``EfficientNet`` with its default blocks)."""
    from chainrule import backend, layers  # noqa: PLC0415

    width, depth, default_size, dropout_rate = _VARIANTS[variant]
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1

    def round_filters(filters: int) -> int:
        return _round_filters(filters, width)

    def round_repeats(repeats: int) -> int:
        return int(math.ceil(depth * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # Keras's files were trained on (x - mean) / variance, while Normalization divides
        # by sqrt(variance): Keras divides once more by sqrt(stddev) (its own comment)
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    b = 0
    blocks = float(sum(round_repeats(stage[1]) for stage in _BLOCKS))
    for i, (kernel_size, repeats, filters_in, filters_out, expand, strides) in enumerate(
            _BLOCKS):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        for j in range(round_repeats(repeats)):
            if j > 0:  # only the first block of a stage strides and widens
                strides, filters_in = 1, filters_out
            x = block(x, "swish", _DROP_CONNECT_RATE * b / blocks, f"block{i + 1}{chr(j + 97)}_",
                      filters_in, filters_out, kernel_size, strides, expand, _SE_RATIO)
            b += 1

    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=dense_kernel_initializer(), name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling, names=("avg_pool", "max_pool"))

    # Keras names the file after the model's name
    file_name = name + (".h5" if include_top else "_notop.h5")
    file_hash = WEIGHTS_HASHES[variant][0 if include_top else 1]
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights,
                                      (file_name, BASE_WEIGHTS_PATH + file_name, file_hash))


def _round_filters(filters: float, width: float, divisor: int = _DEPTH_DIVISOR) -> int:
    """Scale a filter count by ``width``, to a multiple of ``divisor``, never down by 10%."""
    filters *= width
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def block(inputs: Any, activation: Any = "swish", drop_rate: float = 0.0, name: str = "",
          filters_in: int = 32, filters_out: int = 16, kernel_size: int = 3, strides: int = 1,
          expand_ratio: int = 1, se_ratio: float = 0.0, id_skip: bool = True) -> Any:
    """EfficientNet's inverted residual block (MBConv) with squeeze-excitation, as Keras's.

    Expand (1x1 convolution, unless ``expand_ratio`` is 1), depthwise convolution,
    squeeze-excitation (global average, reduce, expand, multiply), project (1x1); with
    an identity shortcut when ``id_skip``, ``strides`` is 1 and the widths agree, after a
    per-sample ``Dropout`` (``noise_shape=(None, 1, 1, 1)``: drop-connect) of ``drop_rate``.

    Args:
        inputs: a 4D symbolic tensor.
        activation: the activation (name or callable).
        drop_rate: the drop-connect rate of the shortcut branch.
        name: the prefix of the block's layer names (e.g. ``"block2a_"``).
        filters_in: the input's channels.
        filters_out: the output's channels.
        kernel_size: the depthwise kernel size.
        strides: the depthwise stride (1 or 2; 2 pads as Keras does first).
        expand_ratio: the expansion of the input's channels.
        se_ratio: squeeze-excitation width as a fraction of ``filters_in`` (0: none).
        id_skip: allow the identity shortcut.

    Returns:
        The block's output tensor.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((8, 8, 16))
        >>> tuple(block(x, name="b_", filters_in=16, filters_out=24, strides=2,
        ...             expand_ratio=6, se_ratio=0.25).shape)
        (None, 4, 4, 24)
    """
    from chainrule import backend, layers  # noqa: PLC0415

    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                          kernel_initializer=conv_kernel_initializer(),
                          name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="valid" if strides == 2 else "same", use_bias=False,
                               depthwise_initializer=conv_kernel_initializer(),
                               name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(filters_in * se_ratio)), activation, name)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(),
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def squeeze_excite(x: Any, filters: int, filters_se: int, activation: Any, name: str) -> Any:
    """Keras's squeeze-excitation: ``x * sigmoid(expand(act(reduce(mean(x)))))`` per channel.

    Layers ``{name}se_squeeze`` (global average), ``se_reshape`` (to 1x1), ``se_reduce``
    and ``se_expand`` (1x1 convolutions with bias) and ``se_excite`` (multiply).

    Args:
        x: a 4D symbolic tensor with ``filters`` channels.
        filters: the channels of ``x``.
        filters_se: the squeezed width.
        activation: the activation of ``se_reduce``.
        name: the prefix of the layer names.

    Returns:
        ``x`` scaled channel by channel.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((4, 4, 8))
        >>> tuple(squeeze_excite(x, 8, 2, "swish", "b_").shape)
        (None, 4, 4, 8)
    """
    from chainrule import backend, layers  # noqa: PLC0415

    first = backend.image_data_format() == "channels_first"
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((filters, 1, 1) if first else (1, 1, filters),
                        name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                       kernel_initializer=conv_kernel_initializer(), name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=conv_kernel_initializer(), name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


_DOC = """Build {model} as Keras does, optionally with Keras's ImageNet weights.

    The model takes pixels in [0, 255]: its first layers rescale them (``Rescaling``) and
    normalise each channel (``Normalization``, whose mean and variance are weights, filled
    by ImageNet weights or by ``adapt``). Default input size {size}x{size}.

    Args:
        include_top: add global average pooling, ``Dropout({dropout})`` and the
            ``predictions`` Dense layer.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)`` (channels last), at least 32x32; only without the
            top (with it, ``({size}, {size}, 3)``). ``None``: free sizes without the top.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top (1000 with ImageNet weights).
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
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
                classifier_activation: Any = "softmax",
                name: str = f"efficientnet{variant}") -> Any:
        return _efficientnet(variant, include_top, weights, input_tensor, input_shape,
                             pooling, classes, classifier_activation, name)

    model = f"EfficientNet{variant.upper()}"
    builder.__name__ = builder.__qualname__ = model
    width, _, size, dropout = _VARIANTS[variant]
    builder.__doc__ = _DOC.format(model=model, size=size, dropout=dropout,
                                  default_name=f"efficientnet{variant}",
                                  top_filters=_round_filters(1280, width),
                                  params=_NOTOP_PARAMS[variant])
    return builder


EfficientNetB0 = _builder("b0")
EfficientNetB1 = _builder("b1")
EfficientNetB2 = _builder("b2")
EfficientNetB3 = _builder("b3")
EfficientNetB4 = _builder("b4")
EfficientNetB5 = _builder("b5")
EfficientNetB6 = _builder("b6")
EfficientNetB7 = _builder("b7")


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Return ``x`` unchanged: EfficientNet scales its inputs itself (as in Keras).

    Args:
        x: images with values in [0, 255] (array or tensor).
        data_format: accepted for the common signature; not used.

    Returns:
        ``x`` itself.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([0.0, 255.0]))
        array([  0., 255.])
    """
    return x


decode_predictions = imagenet_utils.decode_predictions

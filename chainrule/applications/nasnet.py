"""NASNet (Keras 3's ``keras.applications.nasnet``): NASNetMobile and NASNetLarge, the
NASNet-A cells found by neural architecture search.

Reference: Zoph et al., "Learning Transferable Architectures for Scalable Image
Recognition" (CVPR 2018). Layer names, weight paths (Keras opens a ``name_scope`` per
cell and branch), order and shapes are Keras's, so Keras's ImageNet weight files load
unchanged. Inputs are scaled to [-1, 1] (:func:`preprocess_input`, ``"tf"`` mode).
Channels last only, as in Keras.

Example:
    >>> import numpy as np
    >>> from chainrule.applications import nasnet
    >>> nasnet.preprocess_input(np.array([0.0, 255.0]))
    array([-1.,  1.])
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils
from chainrule.applications.mobilenet import (  # "tf" mode, as Keras
    decode_predictions,
    preprocess_input,
)

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# (default size, include_top) -> Keras's file name, address and md5
_FILES = {
    (224, True): ("nasnet_mobile.h5", BASE_WEIGHTS_PATH + "NASNet-mobile.h5",
                  "020fb642bf7360b370c678b08e0adf61"),
    (224, False): ("nasnet_mobile_no_top.h5", BASE_WEIGHTS_PATH + "NASNet-mobile-no-top.h5",
                   "1ed92395b5b598bdda52abe5c0dbfd63"),
    (331, True): ("nasnet_large.h5", BASE_WEIGHTS_PATH + "NASNet-large.h5",
                  "11577c9a518f0070763c2b964a382f17"),
    (331, False): ("nasnet_large_no_top.h5", BASE_WEIGHTS_PATH + "NASNet-large-no-top.h5",
                   "d81d89dc07e6e56530c4e77faddd61b5"),
}


def NASNetMobile(  # noqa: N802 - Keras's name
    input_shape: tuple | None = None,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_mobile",
) -> Any:
    """Build NASNetMobile (NASNet-A 4 @ 1056) as Keras does, optionally with Keras's
    ImageNet weights.

    Args:
        input_shape: ``(rows, cols, 3)``, at least 32x32; ``None``: 224x224 (with or
            without the top, as in Keras).
        include_top: add global average pooling and the ``predictions`` Dense layer.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``; inputs expect :func:`preprocess_input`'s scaling.

    Raises:
        ValueError: for a bad ``weights``, ``classes`` or ``input_shape``, or with the
            ``channels_first`` image data format.

    Example:
        >>> model = NASNetMobile(input_shape=(32, 32, 3), weights=None, classes=7)
        >>> model.name, model.output_shape
        ('nasnet_mobile', (None, 7))
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return _nasnet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                   skip_reduction=False, filter_multiplier=2, include_top=include_top,
                   weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                   default_size=224, classifier_activation=classifier_activation, name=name)


def NASNetLarge(  # noqa: N802 - Keras's name
    input_shape: tuple | None = None,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_large",
) -> Any:
    """Build NASNetLarge (NASNet-A 6 @ 4032) as Keras does, optionally with Keras's
    ImageNet weights.

    Args:
        input_shape: ``(rows, cols, 3)``, at least 32x32; ``None``: 331x331 with the top,
            free sizes without.
        include_top: add global average pooling and the ``predictions`` Dense layer.
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache),
            ``None`` (random initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D output).
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name.

    Returns:
        A functional ``chainrule.Model``; inputs expect :func:`preprocess_input`'s scaling.

    Raises:
        ValueError: for a bad ``weights``, ``classes`` or ``input_shape``, or with the
            ``channels_first`` image data format.

    Example:
        >>> NASNetLarge(input_shape=(None, None, 3), include_top=False)  # ImageNet weights
        Traceback (most recent call last):
        ...
        ValueError: When specifying the input shape of a NASNet and loading `ImageNet` ...
    """
    return _nasnet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                   skip_reduction=True, filter_multiplier=2, include_top=include_top,
                   weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                   default_size=331, classifier_activation=classifier_activation, name=name)


def _nasnet(input_shape: Any, penultimate_filters: int, num_blocks: int,
            stem_block_filters: int, skip_reduction: bool, filter_multiplier: int,
            include_top: bool, weights: Any, input_tensor: Any, pooling: str | None,
            classes: int, default_size: int, classifier_activation: Any, name: str) -> Any:
    from chainrule import backend, layers  # noqa: PLC0415

    if backend.image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` (chainrule.backend.set_image_data_format). "
                         "Received: image_data_format=channels_first")
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` "
                         "weights, the input_shape argument must be static (no None entries). "
                         f"Received: input_shape={input_shape}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of "
                         "24 * (`filter_multiplier` ** 2). "
                         f"Received: penultimate_filters={penultimate_filters}")
    filters = penultimate_filters // 24

    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid",
                      use_bias=False, name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _bn("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"reduce_{num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier,
                              block_id=f"{num_blocks + i + 1}")
    x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier**2,
                              block_id=f"reduce_{2 * num_blocks}")
    p = p0 if not skip_reduction else p
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * filter_multiplier**2,
                              block_id=f"{2 * num_blocks + i + 1}")
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights,
                                      _FILES[(default_size, include_top)])


def _bn(name: str | None = None) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)


def _conv1x1(filters: int, name: str) -> Any:
    from chainrule import layers  # noqa: PLC0415

    return layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same", use_bias=False,
                         name=name, kernel_initializer="he_normal")


def _separable_conv_block(ip: Any, filters: int, kernel_size: tuple = (3, 3),
                          strides: tuple = (1, 1), block_id: str | None = None) -> Any:
    """ReLU, separable convolution, batch norm, twice (the first one strided)."""
    from chainrule import layers  # noqa: PLC0415
    from chainrule.scopes import name_scope  # noqa: PLC0415

    with name_scope(f"separable_conv_block_{block_id}"):
        x = layers.Activation("relu")(ip)
        if strides == (2, 2):
            x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                     name=f"separable_conv_1_pad_{block_id}")(x)
            conv_pad = "valid"
        else:
            conv_pad = "same"
        x = layers.SeparableConv2D(filters, kernel_size, strides=strides,
                                   name=f"separable_conv_1_{block_id}", padding=conv_pad,
                                   use_bias=False)(x)
        x = _bn(f"separable_conv_1_bn_{block_id}")(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                                   padding="same", use_bias=False)(x)
        x = _bn(f"separable_conv_2_bn_{block_id}")(x)
    return x


def _adjust_block(p: Any, ip: Any, filters: int, block_id: str | None = None) -> Any:
    """Bring the previous cell's output ``p`` to ``ip``'s size (a factorised reduction) or
    to ``filters`` channels (a 1x1 projection)."""
    from chainrule import layers  # noqa: PLC0415
    from chainrule.scopes import name_scope  # noqa: PLC0415

    with name_scope("adjust_block"):
        if p is None:
            p = ip
        elif p.shape[-2] != ip.shape[-2]:
            with name_scope(f"adjust_reduction_block_{block_id}"):
                p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
                p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                             name=f"adjust_avg_pool_1_{block_id}")(p)
                p1 = _conv1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
                p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
                p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
                p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                             name=f"adjust_avg_pool_2_{block_id}")(p2)
                p2 = _conv1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
                p = layers.concatenate([p1, p2], axis=-1)
                p = _bn(f"adjust_bn_{block_id}")(p)
        elif p.shape[-1] != filters:
            with name_scope(f"adjust_projection_block_{block_id}"):
                p = layers.Activation("relu")(p)
                p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
                p = _bn(f"adjust_bn_{block_id}")(p)
    return p


def _normal_a_cell(ip: Any, p: Any, filters: int, block_id: str | None = None) -> tuple:
    """NASNet-A's normal cell: five branches added in pairs, concatenated with ``p``."""
    from chainrule import layers  # noqa: PLC0415
    from chainrule.scopes import name_scope  # noqa: PLC0415

    def avg3(name: str) -> Any:
        return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=name)

    with name_scope(f"normal_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = layers.Activation("relu")(ip)
        h = _conv1x1(filters, f"normal_conv_1_{block_id}")(h)
        h = _bn(f"normal_bn_1_{block_id}")(h)
        with name_scope("block_1"):
            x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5),
                                         block_id=f"normal_left1_{block_id}")
            x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
            x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
        with name_scope("block_2"):
            x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
            x2_2 = _separable_conv_block(p, filters, (3, 3),
                                         block_id=f"normal_right2_{block_id}")
            x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
        with name_scope("block_3"):
            x3 = avg3(f"normal_left3_{block_id}")(h)
            x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
        with name_scope("block_4"):
            x4_1 = avg3(f"normal_left4_{block_id}")(p)
            x4_2 = avg3(f"normal_right4_{block_id}")(p)
            x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
        with name_scope("block_5"):
            x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
            x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
        x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1,
                               name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip: Any, p: Any, filters: int, block_id: str | None = None) -> tuple:
    """NASNet-A's reduction cell: strided branches that halve the image size."""
    from chainrule import layers  # noqa: PLC0415
    from chainrule.scopes import name_scope  # noqa: PLC0415

    with name_scope(f"reduction_A_block_{block_id}"):
        p = _adjust_block(p, ip, filters, block_id)
        h = layers.Activation("relu")(ip)
        h = _conv1x1(filters, f"reduction_conv_1_{block_id}")(h)
        h = _bn(f"reduction_bn_1_{block_id}")(h)
        h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                                  name=f"reduction_pad_1_{block_id}")(h)
        with name_scope("block_1"):
            x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                         block_id=f"reduction_left1_{block_id}")
            x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                         block_id=f"reduction_right1_{block_id}")
            x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
        with name_scope("block_2"):
            x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                       name=f"reduction_left2_{block_id}")(h3)
            x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                         block_id=f"reduction_right2_{block_id}")
            x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
        with name_scope("block_3"):
            x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                           name=f"reduction_left3_{block_id}")(h3)
            x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                         block_id=f"reduction_right3_{block_id}")
            x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
        with name_scope("block_4"):
            x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                         name=f"reduction_left4_{block_id}")(x1)
            x4 = layers.add([x2, x4])
        with name_scope("block_5"):
            x5_1 = _separable_conv_block(x1, filters, (3, 3),
                                         block_id=f"reduction_left4_{block_id}")
            x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                       name=f"reduction_right5_{block_id}")(h3)
            x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
        x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip

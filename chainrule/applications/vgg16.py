"""VGG16 (Keras 3's ``keras.applications.vgg16``).

Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015). Layer names and weight shapes are Keras's, so Keras's ImageNet
weight files load unchanged.

Example:
    >>> from chainrule.applications import vgg16
    >>> vgg16.VGG16(input_shape=(32, 32, 3), include_top=False, weights=None).output_shape
    (None, 1, 1, 512)
"""

from __future__ import annotations

from typing import Any

from chainrule.applications import imagenet_utils

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                       "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
WEIGHTS_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


def build_vgg(convs_per_block: tuple[int, ...], include_top: bool, weights: Any,
              input_tensor: Any, input_shape: Any, pooling: str | None, classes: int,
              classifier_activation: Any, name: str, urls: tuple[str, str],
              hashes: tuple[str, str]) -> Any:
    """The VGG network with ``convs_per_block`` 3x3 convolutions in each of its 5 blocks
    (shared by :func:`VGG16` and ``VGG19``); ``urls``/``hashes``: (top, no top) files."""
    from chainrule import backend, layers  # noqa: PLC0415

    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, count) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block),
                                             start=1):
        for conv in range(1, count + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
    url = urls[0 if include_top else 1]
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights,
                                      (url.rsplit("/", 1)[-1], url,
                                       hashes[0 if include_top else 1]))


def VGG16(  # noqa: N802 - Keras's name
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg16",
) -> Any:
    """Build VGG16 as Keras does, optionally with Keras's ImageNet weights.

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
        A functional ``chainrule.Model``; inputs expect :func:`preprocess_input`'s scaling.

    Raises:
        ValueError: for a bad ``weights``, ``classes`` or ``input_shape``.

    Example:
        >>> VGG16(input_shape=(32, 32, 3), include_top=False, weights=None,
        ...       pooling="avg").output_shape
        (None, 512)
    """
    return build_vgg((2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling,
                     classes, classifier_activation, name, (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP),
                     WEIGHTS_HASHES)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """RGB to BGR, then subtract ImageNet's channel means (``imagenet_utils``'s ``"caffe"``).

    Args:
        x: 3D or 4D images in [0, 255], NumPy array (float arrays change in place) or tensor.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (the default).

    Returns:
        The preprocessed images.

    Raises:
        ValueError: for another ``data_format``.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 3)))
        array([[-103.939, -116.779, -123.68 ]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds: Any, top: int = 5) -> list:
    """ImageNet predictions to ``(class_id, name, score)`` lists; see
    :func:`chainrule.applications.imagenet_utils.decode_predictions`.

    Example:
        >>> decode_predictions.__name__
        'decode_predictions'
    """
    return imagenet_utils.decode_predictions(preds, top=top)

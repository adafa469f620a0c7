"""ImageNet helpers shared by the application models (Keras 3's
``keras.applications.imagenet_utils``): input scaling, decoding of the 1000-class
predictions, and the input-shape checks every builder runs.

Example:
    >>> import numpy as np
    >>> from chainrule.applications import imagenet_utils
    >>> imagenet_utils.preprocess_input(np.array([[0.0, 127.5, 255.0]]), mode="tf")
    array([[-1.,  0.,  1.]])
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

__all__ = ["decode_predictions", "preprocess_input"]

CLASS_INDEX: dict[str, list[str]] | None = None
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _check_format(data_format: str | None) -> str:
    from chainrule import backend  # noqa: PLC0415

    if data_format is None:
        return backend.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    return data_format


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of images with values in [0, 255] as an ImageNet model expects.

    As in Keras, a floating-point NumPy array is changed in place (pass
    ``np.copy(x)`` to keep it); integer arrays are converted to ``floatx()`` first.
    A chainrule tensor gives a new tensor, computed with ops.

    Args:
        x: 3D or 4D images (NumPy array or tensor) with 3 colour channels.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` uses
            ``chainrule.backend.image_data_format()``.
        mode: ``"caffe"`` (RGB to BGR, then subtract the ImageNet channel means),
            ``"tf"`` (scale to [-1, 1]) or ``"torch"`` (scale to [0, 1], then
            normalise each channel with ImageNet's mean and standard deviation).

    Returns:
        The preprocessed images, same shape as ``x``.

    Raises:
        ValueError: for another ``mode`` or ``data_format``.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 255.0), mode="caffe").round(3)
        array([[[[151.061, 138.221, 131.32 ]]]])
    """
    if mode not in _MODES:
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    data_format = _check_format(data_format)
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    from chainrule import backend  # noqa: PLC0415

    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    first = data_format == "channels_first"
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        if first:
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
        mean, std = _CAFFE_MEAN, None
    for c in range(3):
        if first:
            index = (c,) if x.ndim == 3 else (slice(None), c)
        else:
            index = (Ellipsis, c)
        x[index] -= mean[c]
        if std is not None:
            x[index] /= std[c]
    return x


def _preprocess_tensor(x: Any, data_format: str, mode: str) -> Any:
    from chainrule import backend, ops  # noqa: PLC0415

    ndim = len(x.shape)
    if mode == "tf":
        return x / 127.5 - 1.0
    first = data_format == "channels_first"
    if first:
        shape = (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    else:
        shape = (1,) * (ndim - 1) + (3,)
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = 0 if (first and ndim == 3) else (1 if first else -1)
        x = ops.flip(x, axis=axis)
        mean, std = _CAFFE_MEAN, None
    dtype = backend.standardize_dtype(x.dtype)
    x = x - ops.convert_to_tensor(np.array(mean).reshape(shape), dtype=dtype)
    if std is not None:
        x = x / ops.convert_to_tensor(np.array(std).reshape(shape), dtype=dtype)
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Turn a batch of ImageNet predictions into ``(class_id, name, score)`` lists.

    The class index (``imagenet_class_index.json``) is downloaded on first use with
    :func:`chainrule.utils.get_file` into the ``models`` cache, from Keras's address and
    with Keras's hash, and kept in ``CLASS_INDEX``.

    Args:
        preds: predictions of shape ``(samples, 1000)`` (array or tensor).
        top: how many of the best guesses to return per sample.

    Returns:
        One list per sample of ``(class_name, class_description, score)`` tuples, best first.

    Raises:
        ValueError: if ``preds`` is not of shape ``(samples, 1000)``.

    Example:
        >>> import numpy as np
        >>> decode_predictions(np.zeros((1, 10)))
        Traceback (most recent call last):
        ...
        ValueError: `decode_predictions` expects a batch of predictions (i.e. a 2D array of ...
    """
    global CLASS_INDEX
    from chainrule import ops  # noqa: PLC0415

    shape = tuple(preds.shape)
    if len(shape) != 2 or shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array "
                         f"of shape (samples, 1000)). Received: array with shape {shape}")
    if CLASS_INDEX is None:
        from chainrule.utils import get_file  # noqa: PLC0415

        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in np.asarray(ops.convert_to_numpy(preds)):
        best = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in best]
        result.sort(key=lambda item: item[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape: Any, default_size: int, min_size: int, data_format: str,
                       require_flatten: bool, weights: Any = None) -> tuple:
    """Check a builder's ``input_shape`` (or give its default) as Keras does.

    Args:
        input_shape: the user's shape (3 entries) or ``None``.
        default_size: the model's default image height and width.
        min_size: the smallest height/width the model accepts.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        require_flatten: whether the classifier is included (``include_top``).
        weights: ``"imagenet"``, ``None`` or a path.

    Returns:
        The input shape, a tuple of three (``None`` for free sizes).

    Raises:
        ValueError: for a shape of another length, too small, without 3 channels for
            ImageNet weights, or not the default shape with ``include_top`` and ImageNet
            weights.

    Example:
        >>> obtain_input_shape(None, 224, 32, "channels_last", False)
        (None, None, 3)
    """
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was "
                          f"passed an input_shape with {channels} input channels.", stacklevel=3)
        default_shape = ((input_shape[0], default_size, default_size) if first
                         else (default_size, default_size, input_shape[-1]))
    else:
        default_shape = (3, default_size, default_size) if first else (
            default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, "
                             f"`input_shape` should be {default_shape}. "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers. "
                             f"Received: input_shape={input_shape}")
        channels = input_shape[0] if first else input_shape[-1]
        if channels != 3 and weights == "imagenet":
            raise ValueError("The input must have 3 channels. "
                             f"Received: input_shape={input_shape}")
        sizes = input_shape[1:] if first else input_shape[:2]
        if any(s is not None and s < min_size for s in sizes):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}. "
                             f"Received: input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs: Any, kernel_size: int | tuple[int, int]) -> tuple:
    """The zero padding Keras puts before a strided ``valid`` convolution.

    Args:
        inputs: a 4D symbolic tensor.
        kernel_size: an integer or a pair.

    Returns:
        ``((top, bottom), (left, right))``.

    Example:
        >>> import chainrule as cr
        >>> correct_pad(cr.layers.Input((32, 32, 3)), 3)
        ((0, 1), (0, 1))
    """
    from chainrule import backend  # noqa: PLC0415

    start = 2 if backend.image_data_format() == "channels_first" else 1
    size = tuple(inputs.shape[start:start + 2])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Refuse a classifier activation other than ``None``/``"softmax"`` with pretrained weights.

    Args:
        classifier_activation: a name or callable.
        weights: ``None`` (anything goes), ``"imagenet"`` or a path.

    Raises:
        ValueError: for another activation with weights.

    Example:
        >>> validate_activation("softmax", "imagenet")
    """
    if weights is None:
        return
    from chainrule import activations  # noqa: PLC0415

    if activations.get(classifier_activation) not in (activations.get("softmax"),
                                                      activations.get(None)):
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained weights, "
                         "with `include_top=True`. "
                         f"Received: classifier_activation={classifier_activation}")


def check_weights_argument(weights: Any, include_top: bool, classes: int) -> None:
    """The checks every builder makes first on ``weights`` and ``classes`` (Keras's wording).

    Args:
        weights: ``None``, ``"imagenet"`` or the path of an existing file.
        include_top: whether the classifier is included.
        classes: the number of classes.

    Raises:
        ValueError: for another ``weights`` value, or ImageNet weights with a
            classifier of other than 1000 classes.

    Example:
        >>> check_weights_argument("imagenet", True, 1000)
    """
    import os  # noqa: PLC0415

    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike))
                                             and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, `classes` '
                         f"should be 1000. Received: classes={classes}")


def image_input(input_tensor: Any, input_shape: tuple) -> Any:
    """The model's image input: a new ``Input``, or the symbolic ``input_tensor`` given.

    Raises:
        ValueError: if ``input_tensor`` is not a symbolic (Keras) tensor.
    """
    from chainrule import backend, layers  # noqa: PLC0415

    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        raise ValueError("input_tensor must be a symbolic tensor (e.g. from "
                         "chainrule.layers.Input). "
                         f"Received: input_tensor of type {type(input_tensor).__name__}")
    return input_tensor


def model_inputs(input_tensor: Any, img_input: Any) -> Any:
    """The inputs the model is built from: ``input_tensor``'s sources, or ``img_input``."""
    if input_tensor is None:
        return img_input
    from chainrule.utils.keras_tensors import get_source_inputs  # noqa: PLC0415

    return get_source_inputs(input_tensor)


def classifier_or_pooling(x: Any, include_top: bool, pooling: str | None, classes: int,
                          classifier_activation: Any, weights: Any) -> Any:
    """Keras's head for the global-pooling models: average pooling + ``predictions``, or
    ``pooling`` alone without the top."""
    from chainrule import layers  # noqa: PLC0415

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pool(x, pooling)


def pool(x: Any, pooling: str | None, names: tuple = (None, None)) -> Any:
    """Keras's ``pooling`` argument: ``"avg"``, ``"max"`` or ``None`` (the 4D features)."""
    from chainrule import layers  # noqa: PLC0415

    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=names[1])(x)
    return x


def build_model(input_tensor: Any, img_input: Any, outputs: Any, name: str, weights: Any,
                download: tuple | None = None) -> Any:
    """An application's functional model, in Keras's layer order, with its weights loaded.

    Args:
        input_tensor: the builder's ``input_tensor`` (or None).
        img_input: the image input the builder made.
        outputs: the model's output tensor.
        name: the model's name.
        weights: ``"imagenet"``, ``None`` or the path of a weights file.
        download: ``(file_name, url, file_hash)`` of Keras's ImageNet file (the hash may be
            None); fetched into the ``models`` cache when ``weights="imagenet"``.

    Returns:
        The model.

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((2,))
        >>> build_model(None, x, cr.layers.Dense(1, name="d")(x), "m", None).name
        'm'
    """
    from chainrule.models import Model  # noqa: PLC0415  (the applications build on models)

    model = Model(model_inputs(input_tensor, img_input), outputs, name=name)
    if weights == "imagenet":
        if download is not None:
            from chainrule.utils import get_file  # noqa: PLC0415

            file_name, url, file_hash = download
            checked = {} if file_hash is None else {"file_hash": file_hash}
            model.load_weights(get_file(file_name, url, cache_subdir="models", **checked))
    elif weights is not None:
        model.load_weights(weights)
    return model

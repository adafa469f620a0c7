"""ConvNeXt (Keras 3's ``keras.applications.convnext``): ConvNeXtTiny, Small, Base,
Large and XLarge, with Keras's ``LayerScale`` and ``StochasticDepth`` layers.

Reference: Liu et al., "A ConvNet for the 2020s" (CVPR 2022). Layer names, order and
weight shapes are Keras's (the stem and the downsampling blocks are nested
``Sequential`` models, as in Keras), so Keras's ImageNet weight files load unchanged.
As in Keras, the models normalise their own input (a ``Normalization`` layer with
ImageNet's channel means and variances) unless ``include_preprocessing=False``, so
:func:`preprocess_input` passes images through. Channels last only, as in Keras.

Example:
    >>> from chainrule.applications import convnext
    >>> convnext.MODEL_CONFIGS["tiny"]["depths"]
    [3, 3, 9, 3]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.applications import imagenet_utils
from chainrule.layers import Layer
from chainrule.layers.serialization import register_layer_class

__all__ = ["ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
           "LayerScale", "StochasticDepth", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# weights name -> (sha256 of the file with the top, sha256 of the file without), Keras's
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}
# ImageNet's channel statistics on the [0, 255] scale (the models' own normalisation)
_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
_VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]


class StochasticDepth(Layer):
    """Drop a residual branch for whole samples while training (Keras's ConvNeXt layer;
    ``DropPath`` in timm).

    While training, each sample's input is zeroed with probability ``drop_path_rate`` and
    the kept ones are scaled by ``1 / (1 - drop_path_rate)``; otherwise the input passes
    unchanged. The draw happens inside the dropout op, so a captured step draws anew.

    Args:
        drop_path_rate: the probability of dropping a sample's branch, in [0, 1).

    Input shape:
        Any shape ``(batch, ...)``.

    Output shape:
        The input's.

    Raises:
        ValueError: for a ``drop_path_rate`` outside [0, 1).

    Example:
        >>> import numpy as np
        >>> layer = StochasticDepth(0.5)
        >>> layer(np.ones((2, 3), "float32")).numpy()  # not training: unchanged
        array([[1., 1., 1.],
               [1., 1., 1.]], dtype=float32)
    """

    def __init__(self, drop_path_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (isinstance(drop_path_rate, bool) or not isinstance(drop_path_rate, (int, float))
                or not 0 <= drop_path_rate < 1):
            raise ValueError("StochasticDepth: drop_path_rate must be a number in [0, 1). "
                             f"Received: drop_path_rate={drop_path_rate!r}")
        self.drop_path_rate = drop_path_rate

    def call(self, x: Any, training: Any = None) -> Any:
        from chainrule import ops  # noqa: PLC0415

        if not training or self.drop_path_rate == 0:
            return x
        noise_shape = (None,) + (1,) * (len(x.shape) - 1)  # one draw per sample
        return ops.dropout(x, float(self.drop_path_rate), noise_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config


class LayerScale(Layer):
    """Scale each channel by a learned factor (``gamma``, one per channel), started at
    ``init_values`` (Keras's ConvNeXt layer; Touvron et al., "Going deeper with Image
    Transformers", 2021).

    Args:
        init_values: the factors' initial value (small, e.g. 1e-6).
        projection_dim: the number of channels (the input's last dimension).

    Input shape:
        ``(..., projection_dim)``.

    Output shape:
        The input's.

    Example:
        >>> import numpy as np
        >>> layer = LayerScale(0.5, 3)
        >>> layer(np.ones((1, 3), "float32")).numpy()
        array([[0.5, 0.5, 0.5]], dtype=float32)
        >>> [(w.path, w.shape) for w in layer.weights]
        [('layer_scale/gamma', (3,))]
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: tuple) -> None:
        from chainrule import initializers  # noqa: PLC0415

        # Keras leaves it unnamed, so its path ends with the session's next default name
        # ("variable_17"); a fixed name keeps chainrule's path-keyed files loadable
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True, name="gamma")
        super().build(input_shape)

    def call(self, x: Any) -> Any:
        return x * self.gamma

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


register_layer_class(StochasticDepth)
register_layer_class(LayerScale)


def _convnext_block(x: Any, projection_dim: int, drop_path_rate: float,
                    layer_scale_init_value: float | None, name: str) -> Any:
    """Depthwise 7x7, layer norm, pointwise MLP (4x wider, GELU), layer scale, residual."""
    from chainrule import layers  # noqa: PLC0415

    inputs = x
    x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same",
                      groups=projection_dim, name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
    else:
        layer = layers.Activation("linear", name=f"{name}_identity")
    return inputs + layer(x)


def _convnext(weights_name: str, name: str, include_top: bool, include_preprocessing: bool,
              weights: Any, input_tensor: Any, input_shape: Any, pooling: str | None,
              classes: int, classifier_activation: Any, drop_path_rate: float = 0.0,
              layer_scale_init_value: float | None = 1e-6) -> Any:
    from chainrule import backend, layers  # noqa: PLC0415
    from chainrule.models import Sequential  # noqa: PLC0415
    from chainrule.scopes import name_scope  # noqa: PLC0415

    config = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    depths, projection_dims = config["depths"], config["projection_dims"]
    if backend.image_data_format() == "channels_first":
        raise ValueError("ConvNeXt does not support the `channels_first` image data format. "
                         "Switch to `channels_last` (chainrule.backend.set_image_data_format). "
                         "Received: image_data_format=channels_first")
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    if weights == "imagenet" and weights_name not in name:
        raise ValueError(f'Model name "{name}" does not match weights variant "{weights_name}". '
                         "When using imagenet weights, model name must contain the weights "
                         f'variant (e.g., "{weights_name}"). Received: name={name}')
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=config["default_size"], min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[2] == 3:
        x = layers.Normalization(mean=_MEAN, variance=_VARIANCE,
                                 name=f"{name}_prestem_normalization")(x)
    stem = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    downsampling = [stem] + [Sequential([
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
        layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                      name=f"{name}_downsampling_conv_{i}"),
    ], name=f"{name}_downsampling_block_{i}") for i in range(3)]
    # stochastic depth grows linearly over the blocks (the original code's schedule)
    drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        with name_scope(downsampling[i].name):  # Keras's paths: "<block>/<layer>/<weight>"
            x = downsampling[i](x)
        for j in range(depths[i]):
            x = _convnext_block(x, projection_dims[i], drop_rates[cur + j],
                                layer_scale_init_value, name=f"{name}_stage_{i}_block_{j}")
        cur += depths[i]
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    else:
        x = imagenet_utils.pool(x, pooling)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    download = None
    if weights == "imagenet":
        file_name = name + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
        download = (file_name, BASE_WEIGHTS_PATH + file_name, file_hash)
    return imagenet_utils.build_model(input_tensor, img_input, x, name, weights, download)


_ARGS_DOC = """
    Args:
        include_top: add the head: global average pooling, ``{name}_head_layernorm`` and
            the ``{name}_head_dense`` classifier.
        include_preprocessing: start with a ``Normalization`` layer (ImageNet's channel
            means and variances), so the model takes pixels in [0, 255].
        weights: ``"imagenet"`` (download Keras's file into the ``models`` cache; the
            ``name`` must contain the variant, e.g. ``"convnext_tiny"``), ``None`` (random
            initialisation) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(rows, cols, 3)``, at least 32x32; ``None``: 224x224 with the top,
            free sizes without.
        pooling: without the top, ``"avg"``, ``"max"`` or ``None`` (4D features); a
            ``LayerNormalization`` follows either way, as in Keras.
        classes: the number of classes of the top.
        classifier_activation: the top's activation (``None`` or ``"softmax"`` with weights).
        name: the model's name (and the layers' prefix).

    Returns:
        A functional ``chainrule.Model``.

    Raises:
        ValueError: for a bad ``weights``, ``classes``, ``input_shape`` or ``name``, or
            with the ``channels_first`` image data format.
"""


def ConvNeXtTiny(  # noqa: N802 - Keras's name
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_tiny",
) -> Any:
    return _convnext("convnext_tiny", name, include_top, include_preprocessing, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def ConvNeXtSmall(  # noqa: N802 - Keras's name
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_small",
) -> Any:
    return _convnext("convnext_small", name, include_top, include_preprocessing, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def ConvNeXtBase(  # noqa: N802 - Keras's name
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_base",
) -> Any:
    return _convnext("convnext_base", name, include_top, include_preprocessing, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def ConvNeXtLarge(  # noqa: N802 - Keras's name
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_large",
) -> Any:
    return _convnext("convnext_large", name, include_top, include_preprocessing, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


def ConvNeXtXLarge(  # noqa: N802 - Keras's name
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: str | None = "imagenet",
    input_tensor: Any = None,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_xlarge",
) -> Any:
    return _convnext("convnext_xlarge", name, include_top, include_preprocessing, weights,
                     input_tensor, input_shape, pooling, classes, classifier_activation)


for _variant, _builder in [("Tiny", ConvNeXtTiny), ("Small", ConvNeXtSmall),
                           ("Base", ConvNeXtBase), ("Large", ConvNeXtLarge),
                           ("XLarge", ConvNeXtXLarge)]:
    _key = _variant.lower()
    if _variant == "Tiny":
        _example = (
            "        >>> from chainrule.layers import ShapeOnlyScope\n"
            "        >>> with ShapeOnlyScope():  # shapes only: no weight is allocated\n"
            "        ...     ConvNeXtTiny(input_shape=(32, 32, 3), weights=None, classes=7)"
            ".output_shape\n        (None, 7)\n")
    else:  # the same blocks as Tiny, more and wider: too slow to build in an example
        _dims = MODEL_CONFIGS[_key]["projection_dims"]
        _example = (f'        >>> MODEL_CONFIGS["{_key}"]["projection_dims"]\n'
                    f"        {_dims}\n")
    _builder.__doc__ = (
        f"Build ConvNeXt{_variant} as Keras does (depths {MODEL_CONFIGS[_key]['depths']}, "
        f"widths {MODEL_CONFIGS[_key]['projection_dims']}), optionally with Keras's ImageNet "
        "weights.\n" + _ARGS_DOC + "\n    Example:\n" + _example)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Return ``x`` unchanged: ConvNeXt normalises its input itself (Keras keeps this
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

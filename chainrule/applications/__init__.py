"""Keras 3's ready-made image models (``keras.applications``), with Keras's layer names
and weight layouts, so ``weights="imagenet"`` loads Keras's own weight files.

Each family loads with its module on first use (``chainrule._lazy``):
``chainrule.applications.MobileNetV2`` imports ``chainrule.applications.mobilenet_v2``.

Example:
    >>> import chainrule as cr
    >>> cr.applications.imagenet_utils.preprocess_input.__name__
    'preprocess_input'
"""

from chainrule import _lazy

_FAMILIES: dict[str, list[str]] = {
    ".mobilenet": ["MobileNet"],
    ".mobilenet_v2": ["MobileNetV2"],
    ".vgg16": ["VGG16"],
    ".vgg19": ["VGG19"],
    ".resnet": ["ResNet50", "ResNet101", "ResNet152"],
    ".resnet_v2": ["ResNet50V2", "ResNet101V2", "ResNet152V2"],
    ".efficientnet": [f"EfficientNetB{i}" for i in range(8)],
    ".efficientnet_v2": [f"EfficientNetV2{v}" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")],
    ".mobilenet_v3": ["MobileNetV3Small", "MobileNetV3Large"],
    ".convnext": ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge",
                  "ConvNeXtXLarge"],
    ".nasnet": ["NASNetMobile", "NASNetLarge"],
}
_SUBMODULES = ["imagenet_utils", "mobilenet", "mobilenet_v2", "vgg16", "vgg19", "resnet", "resnet50",
               "resnet_v2", "efficientnet", "efficientnet_v2", "mobilenet_v3", "convnext", "nasnet"]
# DenseNet, Inception and Xception families
_FAMILIES.update({
    ".densenet": ["DenseNet121", "DenseNet169", "DenseNet201"],
    ".inception_v3": ["InceptionV3"],
    ".xception": ["Xception"],
    ".inception_resnet_v2": ["InceptionResNetV2"],
})
_SUBMODULES += ["densenet", "inception_v3", "xception", "inception_resnet_v2"]

_lazy.attach(globals(), _FAMILIES, submodules=_SUBMODULES)

__all__ = [name for names in _FAMILIES.values() for name in names] + _SUBMODULES

"""``chainrule.applications.resnet50``: Keras 3's ``keras.applications.resnet50`` module,
the same ``ResNet50``, ``preprocess_input`` and ``decode_predictions`` as
:mod:`chainrule.applications.resnet`.

Example:
    >>> from chainrule.applications import resnet, resnet50
    >>> resnet50.ResNet50 is resnet.ResNet50
    True
"""

from chainrule.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]

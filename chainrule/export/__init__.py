"""Export models to other formats: ONNX (``pip install chainrule[onnx]``).

``model.export("m.onnx", format="onnx")`` or :func:`export_onnx` writes an
ONNX graph (opset 17, dynamic batch axis) that ONNX Runtime runs; each layer
class is translated by one entry of :data:`CONVERTERS`.
"""

from chainrule.export.onnx_export import (
    DEFAULT_OPSET,
    UnsupportedLayerError,
    export_onnx,
)
from chainrule.export.onnx_layers import ACTIVATIONS, CONVERTERS, register_converter

__all__ = ["ACTIVATIONS", "CONVERTERS", "DEFAULT_OPSET", "UnsupportedLayerError", "export_onnx",
           "register_converter"]

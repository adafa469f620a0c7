"""The Keras 3 operation classes of chainrule's ops: one table between the two.

Keras 3 records an op called on symbolic tensors (``x * 2.0``, ``ops.mean(y,
axis=-1)``) as an instance of an operation class (``Multiply``, ``Mean``) of a
module under ``keras.src.ops``; chainrule records an ``OpLayer`` running the
``chainrule.ops`` function. :data:`KERAS_OPS` says, for each Keras class, which
chainrule op it is, Keras's module, and which arguments Keras keeps as
constructor settings and which as call arguments, in Keras's order and names.
The summary names an op by its Keras class; the Keras-format files read and
write it through the same table (:mod:`chainrule.saving.keras_ops`). Adding an
op is adding one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from chainrule.ops import symbolic
from chainrule.ops.symbolic import RAW_OPS

__all__ = ["KERAS_OPS", "REFUSED_OPS", "KerasOp", "keras_op_for", "raw_op"]


@dataclass(frozen=True)
class KerasOp:
    """How one Keras 3 operation class maps onto a ``chainrule.ops`` function.

    Each name in ``settings`` and ``call`` is Keras's (the key in the op's config, the
    parameter of its ``call``); ``"keras=ours"`` names chainrule's parameter where it
    differs.

    Args:
        function: the op's name in :mod:`chainrule.ops`.
        module: Keras's module of the class (``numpy``, ``nn``, ``core``, ``math``,
            ``linalg``), written as ``keras.src.ops.<module>``.
        settings: constructor settings, written in the entry's ``config``.
        call: call arguments in their order, written in ``inbound_nodes``.
        aliases: chainrule's other spellings of a setting (``"min_value=x_min"``).
        tuples: call arguments whose JSON list is a Python tuple (an index key).
        keywords: call arguments Keras's op function passes by keyword (written in the
            node's ``kwargs``; read from either place).
        resolved: settings whose ``None`` Keras writes resolved (its op function
            turns ``dtype=None`` into the float type, ``data_format=None`` into
            ``"channels_last"`` before making the op); chainrule writes them so too.
        variadic: the last call argument takes every remaining tensor (``Einsum``'s
            ``*operands``), written as that many positional arguments.

    Example:
        >>> KERAS_OPS["Mean"].settings, KERAS_OPS["Mean"].call
        (('axis', 'keepdims'), ('x',))
    """

    function: str
    module: str = "numpy"
    settings: tuple[str, ...] = ()
    call: tuple[str, ...] = ("x",)
    aliases: tuple[str, ...] = ()
    tuples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    variadic: bool = False

    @staticmethod
    def _pairs(names: tuple[str, ...]) -> list[tuple[str, str]]:
        return [tuple(n.split("=", 1)) if "=" in n else (n, n) for n in names]  # type: ignore

    @property
    def setting_pairs(self) -> list[tuple[str, str]]:
        """``(keras_key, chainrule_parameter)`` for each constructor setting."""
        return self._pairs(self.settings)

    @property
    def call_pairs(self) -> list[tuple[str, str]]:
        """``(keras_name, chainrule_parameter)`` for each call argument, in order."""
        return self._pairs(self.call)

    @property
    def keras_module(self) -> str:
        """The ``module`` Keras writes for the class (``keras.src.ops.numpy``)."""
        return f"keras.src.ops.{self.module}"


_AB = ("x1=a", "x2=b")  # chainrule's arithmetic ops name their operands a, b
_X12 = ("x1", "x2")
_REDUCE = ("axis", "keepdims")
_NN = "nn"
_POOL = ("pool_size", "strides", "padding", "data_format")
_CONV = ("strides", "padding", "data_format", "dilation_rate")

#: Keras 3 operation class name -> its chainrule op (most common first).
KERAS_OPS: dict[str, KerasOp] = {
    # arithmetic operators and elementwise binaries
    "Add": KerasOp("add", call=_AB),
    "Subtract": KerasOp("subtract", call=_AB),
    "Multiply": KerasOp("multiply", call=_AB),
    "TrueDivide": KerasOp("true_divide", call=_X12),
    "Divide": KerasOp("divide", call=_AB),
    "Power": KerasOp("power", call=_AB),
    "Negative": KerasOp("negative"),
    "Matmul": KerasOp("matmul", call=_AB),
    "Maximum": KerasOp("maximum", call=_AB),
    "Minimum": KerasOp("minimum", call=_AB),
    "FloorDivide": KerasOp("floor_divide", call=_X12),
    "Mod": KerasOp("mod", call=_X12),
    "GetItem": KerasOp("getitem", call=("x", "key"), tuples=("key",)),
    # reductions
    "Mean": KerasOp("mean", settings=_REDUCE),
    "Sum": KerasOp("sum", settings=_REDUCE),
    "Max": KerasOp("max", settings=(*_REDUCE, "initial")),
    "Min": KerasOp("min", settings=(*_REDUCE, "initial")),
    "Prod": KerasOp("prod", settings=(*_REDUCE, "dtype")),
    "Std": KerasOp("std", settings=_REDUCE),
    "Var": KerasOp("var", settings=_REDUCE),
    "Argmax": KerasOp("argmax", settings=_REDUCE),
    "Argmin": KerasOp("argmin", settings=_REDUCE),
    "Logsumexp": KerasOp("logsumexp", module="math", settings=_REDUCE),
    "Norm": KerasOp("norm", module="linalg", settings=("ord", *_REDUCE)),
    # joining and shapes
    "Concatenate": KerasOp("concatenate", settings=("axis",), call=("xs=tensors",)),
    "Stack": KerasOp("stack", settings=("axis",), call=("x=tensors",)),
    "ExpandDims": KerasOp("expand_dims", settings=("axis",)),
    "Squeeze": KerasOp("squeeze", settings=("axis",)),
    "Reshape": KerasOp("reshape", settings=("newshape=shape",), aliases=("newshape=shape",)),
    "Transpose": KerasOp("transpose", settings=("axes",)),
    "Swapaxes": KerasOp("swapaxes", settings=("axis1", "axis2")),
    "Moveaxis": KerasOp("moveaxis", settings=("source", "destination")),
    "Flip": KerasOp("flip", settings=("axis",)),
    "Tile": KerasOp("tile", settings=("repeats",)),
    "Repeat": KerasOp("repeat", settings=("repeats", "axis")),
    "BroadcastTo": KerasOp("broadcast_to", settings=("shape",)),
    "Cumsum": KerasOp("cumsum", settings=("axis", "dtype")),
    "Tensordot": KerasOp("tensordot", settings=("axes",), call=_X12),
    "Dot": KerasOp("dot", call=_X12),
    # elementwise unaries
    "Exp": KerasOp("exp"),
    "Log": KerasOp("log"),
    "Sqrt": KerasOp("sqrt"),
    "Square": KerasOp("square"),
    "Absolute": KerasOp("abs"),
    "Abs": KerasOp("abs"),
    "Sign": KerasOp("sign"),
    "Clip": KerasOp("clip", settings=("x_min", "x_max"),
                    aliases=("min_value=x_min", "max_value=x_max")),
    "Reciprocal": KerasOp("reciprocal"),
    "Log1p": KerasOp("log1p"),
    "Expm1": KerasOp("expm1"),
    "Floor": KerasOp("floor"),
    "Ceil": KerasOp("ceil"),
    "Round": KerasOp("round", settings=("decimals",)),
    "Sin": KerasOp("sin"),
    "Cos": KerasOp("cos"),
    "Tanh": KerasOp("tanh"),
    "Erf": KerasOp("erf", module="math"),
    "Rsqrt": KerasOp("rsqrt", module="math"),
    # comparisons, selection, dtype
    "Where": KerasOp("where", call=("condition", "x1", "x2")),
    "Greater": KerasOp("greater", call=_X12),
    "GreaterEqual": KerasOp("greater_equal", call=_X12),
    "Less": KerasOp("less", call=_X12),
    "LessEqual": KerasOp("less_equal", call=_X12),
    "Equal": KerasOp("equal", call=_X12),
    "NotEqual": KerasOp("not_equal", call=_X12),
    "LogicalAnd": KerasOp("logical_and", call=_X12),
    "LogicalOr": KerasOp("logical_or", call=_X12),
    "LogicalNot": KerasOp("logical_not"),
    "Cast": KerasOp("cast", module="core", settings=("dtype",)),
    "StopGradient": KerasOp("stop_gradient", module="core", call=("variable",)),
    "ZerosLike": KerasOp("zeros_like", settings=("dtype",)),
    "OnesLike": KerasOp("ones_like", settings=("dtype",)),
    # activations and other nn ops on one tensor
    "Softmax": KerasOp("softmax", module=_NN, settings=("axis",)),
    "Relu": KerasOp("relu", module=_NN),
    "Sigmoid": KerasOp("sigmoid", module=_NN),
    "LogSoftmax": KerasOp("log_softmax", module=_NN, settings=("axis",)),
    "Gelu": KerasOp("gelu", module=_NN, settings=("approximate",)),
    "LeakyRelu": KerasOp("leaky_relu", module=_NN, settings=("negative_slope",),
                         aliases=("alpha=negative_slope",)),
    "Elu": KerasOp("elu", module=_NN, settings=("alpha",)),
    "Selu": KerasOp("selu", module=_NN),
    "Silu": KerasOp("silu", module=_NN),
    "Softplus": KerasOp("softplus", module=_NN),
    "Softsign": KerasOp("softsign", module=_NN),
    "Relu6": KerasOp("relu6", module=_NN),
    "HardSigmoid": KerasOp("hard_sigmoid", module=_NN),
    "Normalize": KerasOp("normalize", module=_NN, settings=("axis", "order", "epsilon")),
    "OneHot": KerasOp("one_hot", module=_NN, settings=("num_classes", "axis", "dtype", "sparse"),
                      resolved=("dtype",)),
    "Moments": KerasOp("moments", module=_NN, settings=("axes", "keepdims", "synchronized")),
    "MaxPool": KerasOp("max_pool", module=_NN, settings=_POOL, call=("inputs",),
                       resolved=("data_format",)),
    "AveragePool": KerasOp("average_pool", module=_NN, settings=_POOL, call=("inputs",),
                           resolved=("data_format",)),
    "Conv": KerasOp("conv", module=_NN, settings=_CONV, call=("inputs", "kernel"),
                    resolved=("data_format",)),
    "DepthwiseConv": KerasOp("depthwise_conv", module=_NN, settings=_CONV,
                             call=("inputs", "kernel"), resolved=("data_format",)),
    "SeparableConv": KerasOp("separable_conv", module=_NN, settings=_CONV,
                             call=("inputs", "depthwise_kernel", "pointwise_kernel"),
                             resolved=("data_format",)),
    "BinaryCrossentropy": KerasOp("binary_crossentropy", module=_NN, settings=("from_logits",),
                                  call=("target", "output")),
    "CategoricalCrossentropy": KerasOp("categorical_crossentropy", module=_NN,
                                       settings=("from_logits", "axis"),
                                       call=("target", "output")),
    "SparseCategoricalCrossentropy": KerasOp("sparse_categorical_crossentropy", module=_NN,
                                             settings=("from_logits", "axis"),
                                             call=("target", "output")),
    "TopK": KerasOp("top_k", module="math", settings=("k", "sorted")),
    "LayerNorm": KerasOp("layer_normalization", module=_NN,
                         settings=("axis", "epsilon", "rms_scaling"), call=("x", "gamma", "beta")),
    "InTopK": KerasOp("in_top_k", module="math", settings=("k",),
                      call=("targets", "predictions")),
    # further NumPy ops
    "Arctan": KerasOp("arctan"),
    "Tan": KerasOp("tan"),
    "Sinh": KerasOp("sinh"),
    "Cosh": KerasOp("cosh"),
    "Log2": KerasOp("log2"),
    "Log10": KerasOp("log10"),
    "Isnan": KerasOp("isnan"),
    "Isfinite": KerasOp("isfinite"),
    "Isinf": KerasOp("isinf"),
    "LogicalXor": KerasOp("logical_xor", call=_X12),
    "Outer": KerasOp("outer", call=_X12),
    "Sort": KerasOp("sort", settings=("axis",)),
    "Argsort": KerasOp("argsort", settings=("axis",)),
    "Tril": KerasOp("tril", settings=("k",)),
    "Triu": KerasOp("triu", settings=("k",)),
    "Roll": KerasOp("roll", settings=("shift", "axis")),
    "Diagonal": KerasOp("diagonal", settings=("offset", "axis1", "axis2")),
    "Trace": KerasOp("trace", settings=("offset", "axis1", "axis2")),
    "Cumprod": KerasOp("cumprod", settings=("axis", "dtype")),
    "NanToNum": KerasOp("nan_to_num", settings=("nan", "posinf", "neginf")),
    "Take": KerasOp("take", settings=("axis",), call=("x", "indices")),
    "TakeAlongAxis": KerasOp("take_along_axis", settings=("axis",), call=("x", "indices")),
    "Pad": KerasOp("pad", settings=("pad_width", "mode"), call=("x", "constant_values"),
                   keywords=("constant_values",)),
    "FullLike": KerasOp("full_like", settings=("dtype",), call=("x", "fill_value")),
    "All": KerasOp("all", settings=_REDUCE),
    "Any": KerasOp("any", settings=_REDUCE),
    "CountNonzero": KerasOp("count_nonzero", settings=("axis",)),
    "Split": KerasOp("split", settings=("indices_or_sections", "axis")),
    "Einsum": KerasOp("einsum", settings=("subscripts",), call=("operands",), variadic=True),
    "Diag": KerasOp("diag", settings=("k",)),
    "MultiHot": KerasOp("multi_hot", module=_NN, settings=("num_classes", "axis", "dtype",
                                                           "sparse"),
                        call=("inputs",), resolved=("dtype",)),
    # ops.image
    "ExtractPatches": KerasOp("image.extract_patches", module="image",
                              settings=("size", "strides", "dilation_rate", "padding",
                                        "data_format"), call=("images",),
                              resolved=("data_format",)),
}


#: Keras operation classes chainrule refuses on purpose, and why (said when a file holds one).
REFUSED_OPS: dict[str, str] = {
    "Unique": "its output's shape depends on the input's values (how many distinct elements "
              "there are), which a functional graph cannot know from the input shapes; call "
              "ops.unique on arrays outside the model",
}


def raw_op(function: str) -> Callable:
    """The undecorated chainrule op named ``function`` (what an op layer runs).

    Example:
        >>> raw_op("mean").__name__
        'mean'
    """
    fn = symbolic.raw_op(function)
    if fn is None:
        raise KeyError(function)
    return fn


def keras_op_for(function: str) -> tuple[str, KerasOp] | None:
    """The Keras class name and table entry for a chainrule op name (an alias included).

    Example:
        >>> keras_op_for("mean")[0], keras_op_for("absolute")[0], keras_op_for("nope")
        ('Mean', 'Absolute', None)
    """
    fn = symbolic.raw_op(function)
    if fn is None:
        return None
    for name, spec in KERAS_OPS.items():
        if spec.function == function or RAW_OPS.get(spec.function) is fn:
            return name, spec
    return None

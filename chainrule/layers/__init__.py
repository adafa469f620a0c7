"""Layers with Keras's names, arguments and weight layouts."""

from chainrule.layers.base import (
    KerasTensor,
    Layer,
    ShapeOnlyScope,
    Variable,
    WeightBudgetError,
    WeightShape,
)
from chainrule.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    LeakyReLU,
    ReLU,
    Reshape,
    Softmax,
)
from chainrule.layers.embedding import Embedding
from chainrule.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from chainrule.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
)
from chainrule.layers.preprocessing import (  # preprocessing layers (adapt, lookups, images)
    CategoryEncoding,
    CenterCrop,
    Discretization,
    Hashing,
    IntegerLookup,
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
    StringLookup,
    TextVectorization,
)
from chainrule.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    Rescaling,
    SpatialDropout1D,
    SpatialDropout2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from chainrule.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    Masking,
    SimpleRNN,
    SimpleRNNCell,
    TimeDistributed,
)

__all__ = [
    "Layer", "Variable", "KerasTensor", "Input", "InputLayer", "Dense", "Flatten", "Activation",
    "Dropout", "Reshape", "LeakyReLU", "ReLU", "Softmax", "WeightShape", "ShapeOnlyScope",
    "WeightBudgetError",
    "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
    "SpatialDropout1D", "SpatialDropout2D", "Permute", "RepeatVector", "Rescaling",
    # sequences
    "Embedding", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "RNN",
    "Bidirectional", "TimeDistributed", "Masking",
]
__all__ += [  # preprocessing layers
    "Normalization", "Discretization", "CategoryEncoding", "Hashing", "IntegerLookup",
    "StringLookup", "TextVectorization", "Resizing", "CenterCrop", "RandomFlip",
    "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
]
# -- ops called on symbolic tensors (graph nodes of functional models) --
from chainrule.layers.op_layer import OpLayer  # noqa: E402

__all__ += ["OpLayer"]

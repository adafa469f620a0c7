"""Layers with Keras's names, arguments and weight layouts."""

from chainrule.layers.base import (
    KerasTensor,
    Layer,
    ShapeOnlyScope,
    Variable,
    WeightBudgetError,
    WeightShape,
)
from chainrule.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
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
from chainrule.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
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
    "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPool3D",
]
from chainrule.layers.lambda_layer import Lambda  # noqa: E402  (a function as a layer)

__all__ += ["Lambda"]
# -- noise, activation, unit/RMS normalization, 3-D reshaping, random crop, stacked cells,
#    Wrapper and InputSpec (Keras 3's small layers) --
from chainrule.layers.activation_layers import ELU, Identity, PReLU  # noqa: E402
from chainrule.layers.input_spec import InputSpec  # noqa: E402
from chainrule.layers.noise import (  # noqa: E402
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
)
from chainrule.layers.preprocessing import RandomCrop  # noqa: E402
from chainrule.layers.reshaping import Cropping3D, UpSampling3D, ZeroPadding3D  # noqa: E402
from chainrule.layers.stacked_cells import StackedRNNCells  # noqa: E402
from chainrule.layers.unit_normalization import RMSNormalization, UnitNormalization  # noqa: E402
from chainrule.layers.wrapper import Wrapper  # noqa: E402

__all__ += [
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "PReLU",
    "ELU", "Identity", "UnitNormalization", "RMSNormalization", "RandomCrop", "UpSampling3D",
    "ZeroPadding3D", "Cropping3D", "StackedRNNCells", "Wrapper", "InputSpec",
]
# -- end of Keras 3's small layers --
# -- ops called on symbolic tensors (graph nodes of functional models) --
from chainrule.layers.op_layer import OpLayer  # noqa: E402

__all__ += ["OpLayer"]
# -- attention (Transformer blocks) --
from chainrule.layers.attention import (  # noqa: E402
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from chainrule.layers.einsum_dense import EinsumDense  # noqa: E402

__all__ += ["EinsumDense", "MultiHeadAttention", "Attention", "AdditiveAttention"]
__all__ += ["GroupQueryAttention", "GroupedQueryAttention"]  # grouped-query attention
# -- convolutional LSTM (sequences of frames) --
from chainrule.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: E402

__all__ += ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]
# -- Keras 3 names: layers.serialize/deserialize, SpatialDropout3D --
from chainrule.layers.reshaping import SpatialDropout3D  # noqa: E402
from chainrule.layers.serialization import deserialize, serialize  # noqa: E402

__all__ += ["SpatialDropout3D", "serialize", "deserialize"]
from chainrule.layers.pipeline import Pipeline  # noqa: E402

__all__ += ["Pipeline"]
from chainrule.layers.preprocessing.hashed_crossing import HashedCrossing  # noqa: E402

__all__ += ["HashedCrossing"]
# -- colour and intensity augmentation (Keras's image preprocessing layers) --
from chainrule.layers.preprocessing.color_augmentation import (  # noqa: E402
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)

__all__ += ["RandomGrayscale", "RandomHue", "RandomSaturation", "RandomColorDegeneration",
            "RandomColorJitter", "RandomSharpness", "RandomInvert", "RandomPosterization",
            "AutoContrast", "Equalization", "Solarization", "RandomGaussianBlur"]
# -- end of colour augmentation --

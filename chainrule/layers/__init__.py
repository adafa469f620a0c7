"""Layers with Keras's names, arguments and weight layouts.

The base classes, ``Dense`` and the other core layers load with the package; every other
family (convolution, pooling, recurrent, attention, preprocessing, ...) loads with its
module when a program first names one of its layers (``chainrule._lazy``).
"""

from chainrule import _lazy
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
from chainrule.layers.input_spec import (
    InputSpec,
)
from chainrule.layers.op_layer import (
    OpLayer,
)
from chainrule.layers.serialization import (
    deserialize,
    serialize,
)

_lazy.attach(
    globals(),
    {
        ".convolutional": [
            "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose",
            "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
            "Convolution3D", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
            "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
            "SeparableConvolution2D",
        ],
        ".embedding": ["Embedding"],
        ".merging": [
            "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
            "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
        ],
        ".normalization": ["BatchNormalization", "GroupNormalization", "LayerNormalization"],
        ".pooling": [
            "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
            "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
            "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
            "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
            "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
            "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
        ],
        ".preprocessing": [
            "CategoryEncoding", "CenterCrop", "Discretization", "Hashing", "IntegerLookup",
            "Normalization", "RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation",
            "RandomTranslation", "RandomZoom", "Resizing", "StringLookup", "TextVectorization",
            "RandomCrop",
        ],
        ".reshaping": [
            "Cropping1D", "Cropping2D", "Permute", "RepeatVector", "Rescaling", "SpatialDropout1D",
            "SpatialDropout2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D",
            "Cropping3D", "UpSampling3D", "ZeroPadding3D", "SpatialDropout3D",
        ],
        ".rnn": [
            "GRU", "LSTM", "RNN", "Bidirectional", "GRUCell", "LSTMCell", "Masking", "SimpleRNN",
            "SimpleRNNCell", "TimeDistributed",
        ],
        ".lambda_layer": ["Lambda"],
        ".activation_layers": ["ELU", "Identity", "PReLU"],
        ".noise": ["ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise"],
        ".stacked_cells": ["StackedRNNCells"],
        ".unit_normalization": ["RMSNormalization", "UnitNormalization"],
        ".wrapper": ["Wrapper"],
        ".attention": [
            "AdditiveAttention", "Attention", "GroupedQueryAttention", "GroupQueryAttention",
            "MultiHeadAttention",
        ],
        ".einsum_dense": ["EinsumDense"],
        ".conv_lstm": ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"],
        ".pipeline": ["Pipeline"],
        ".preprocessing.hashed_crossing": ["HashedCrossing"],
    },
)

__all__ = [
    "Layer", "Variable", "KerasTensor", "Input", "InputLayer", "Dense", "Flatten", "Activation",
    "Dropout", "Reshape", "LeakyReLU", "ReLU", "Softmax", "WeightShape", "ShapeOnlyScope",
    "WeightBudgetError", "BatchNormalization", "LayerNormalization", "GroupNormalization", "Add",
    "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add",
    "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "ZeroPadding1D",
    "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "SpatialDropout1D",
    "SpatialDropout2D", "Permute", "RepeatVector", "Rescaling", "Embedding", "SimpleRNN", "LSTM",
    "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "RNN", "Bidirectional", "TimeDistributed",
    "Masking", "Normalization", "Discretization", "CategoryEncoding", "Hashing", "IntegerLookup",
    "StringLookup", "TextVectorization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation",
    "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness", "Conv1D", "Conv2D",
    "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D", "Conv1DTranspose",
    "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose", "Convolution2DTranspose",
    "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D", "MaxPooling1D",
    "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D",
    "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "Lambda",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "PReLU", "ELU",
    "Identity", "UnitNormalization", "RMSNormalization", "RandomCrop", "UpSampling3D",
    "ZeroPadding3D", "Cropping3D", "StackedRNNCells", "Wrapper", "InputSpec", "OpLayer",
    "EinsumDense", "MultiHeadAttention", "Attention", "AdditiveAttention", "GroupQueryAttention",
    "GroupedQueryAttention", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "SpatialDropout3D",
    "serialize", "deserialize", "Pipeline", "HashedCrossing",
]
# -- adaptive pooling, spectrograms, spectral normalization, reversible embedding --
_lazy.attach(
    globals(),
    {
        ".adaptive_pooling": [
            "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
            "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
        ],
        ".preprocessing.spectrogram": [
            "MelSpectrogram", "STFTSpectrogram",
        ],
        ".reversible_embedding": [
            "ReversibleEmbedding",
        ],
        ".spectral_normalization": [
            "SpectralNormalization",
        ],
    },
)
__all__ += [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "STFTSpectrogram",
    "MelSpectrogram", "SpectralNormalization", "ReversibleEmbedding",
]
# -- geometric and mixing image augmentation (RandomShear ... CutMix) --
_lazy.attach(
    globals(),
    {
        ".preprocessing.geometric_augmentation": [
            "RandomElasticTransform", "RandomErasing", "RandomPerspective", "RandomShear",
        ],
        ".preprocessing.mixing": [
            "CutMix", "MixUp",
        ],
    },
)
__all__ += [
    "RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing", "MixUp",
    "CutMix",
]
# -- colour and intensity augmentation (Keras's image preprocessing layers) --
_lazy.attach(
    globals(),
    {
        ".preprocessing.color_augmentation": [
            "AutoContrast", "Equalization", "RandomColorDegeneration", "RandomColorJitter",
            "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
            "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
        ],
    },
)
__all__ += [
    "RandomGrayscale", "RandomHue", "RandomSaturation", "RandomColorDegeneration",
    "RandomColorJitter", "RandomSharpness", "RandomInvert", "RandomPosterization", "AutoContrast",
    "Equalization", "Solarization", "RandomGaussianBlur",
]
# -- RandAugment and AugMix --
_lazy.attach(globals(), {".preprocessing.rand_augment": ["AugMix", "RandAugment"]})
__all__ += ["RandAugment", "AugMix"]
# -- end of RandAugment and AugMix --
# -- MaxNumBoundingBoxes and CLAHE --
_lazy.attach(
    globals(),
    {
        ".preprocessing.clahe": ["ContrastLimitedAdaptiveHistogramEqualization"],
        ".preprocessing.max_num_bounding_boxes": ["MaxNumBoundingBoxes"],
    },
)
__all__ += ["ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes"]
# -- end of MaxNumBoundingBoxes and CLAHE --
# -- CustomScaleLayer (keras.applications.inception_resnet_v2's residual sum) --
_lazy.attach(globals(), {".custom_scale": ["CustomScaleLayer"]})
__all__ += ["CustomScaleLayer"]
# -- end of CustomScaleLayer --

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
    # sequences
    "Embedding", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "RNN",
    "Bidirectional", "TimeDistributed", "Masking",
]

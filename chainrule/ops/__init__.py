"""Differentiable operations on Tensors, NumPy-style names.

Every op is a :class:`chainrule.autograd.Function` with a hand-written backward
and a float64 gradient check in the test suite.

Example:
    >>> import chainrule as cr
    >>> from chainrule import ops
    >>> x = cr.Tensor([[1.0, -2.0]], requires_grad=True)
    >>> ops.sum(ops.relu(x)).backward()
    >>> x.grad
    array([[1., 0.]], dtype=float32)
"""

from chainrule.ops.math import (
    abs,
    add,
    cast,
    clip,
    compare,
    divide,
    erf,
    exp,
    log,
    log1p,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    sign,
    sqrt,
    square,
    subtract,
    where,
)
from chainrule.ops.nn import (
    dropout,
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    linear,
    log_softmax,
    mean_squared_difference,
    relu,
    relu_ext,
    selu,
    sigmoid,
    sigmoid_binary_cross_entropy,
    silu,
    softmax,
    softmax_cross_entropy,
    softplus,
    softsign,
    step,
    swish,
    tanh,
)
from chainrule.ops.reduce import logsumexp, max, mean, min, sum
from chainrule.ops.rnn import embedding, gru, lstm, mask_weights, simple_rnn
from chainrule.ops.shaping import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    reshape,
    squeeze,
    stack,
    transpose,
)

__all__ = [
    "abs", "add", "cast", "clip", "compare", "divide", "erf", "exp", "log", "log1p", "matmul", "maximum",
    "minimum", "multiply", "negative", "power", "sign", "sqrt", "square", "subtract", "where",
    "dropout", "relu_ext", "elu", "gelu", "hard_sigmoid", "leaky_relu", "linear", "log_softmax", "mean_squared_difference", "relu", "selu",
    "sigmoid", "sigmoid_binary_cross_entropy", "silu", "softmax", "softmax_cross_entropy",
    "softplus", "softsign", "step", "swish", "tanh", "logsumexp", "max", "mean", "min", "sum",
    "broadcast_to", "concatenate", "expand_dims", "flatten", "getitem", "reshape", "squeeze",
    "stack", "transpose",
    "embedding", "simple_rnn", "lstm", "gru", "mask_weights",
]

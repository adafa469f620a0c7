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

from chainrule.ops.arrays import pad, repeat, tile
from chainrule.ops.conv import (  # eager: the op shares its module's name (see below)
    conv,
    conv_transpose,
    depthwise_conv,
    separable_conv,
)
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
from chainrule.ops.normalization import (
    assign_moving_average,
    batch_normalization,
    fused_batch_normalization,
    group_normalization,
    layer_normalization,
    moments,
)
from chainrule.ops.reduce import logsumexp, max, mean, min, sum
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
    "pad", "repeat", "tile", "assign_moving_average", "batch_normalization",
    "fused_batch_normalization", "group_normalization", "layer_normalization", "moments",
    "embedding", "simple_rnn", "lstm", "gru", "mask_weights",
    "conv", "max_pool", "average_pool", "conv_transpose", "depthwise_conv", "separable_conv",
]

# -- Keras 3's NumPy-like and NN ops (keras.ops): creation, shapes, more math, labels --
from chainrule.ops.core import (  # noqa: E402
    convert_to_numpy,
    convert_to_tensor,
    is_tensor,
    ndim,
    shape,
    size,
    stop_gradient,
)
from chainrule.ops.creation import (  # noqa: E402
    arange,
    eye,
    full,
    full_like,
    identity,
    linspace,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from chainrule.ops.elementwise import (  # noqa: E402
    arctan,
    ceil,
    cos,
    cosh,
    equal,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    leaky_relu,  # noqa: F811 - Keras's signature (negative_slope) over ops.nn's
    less,
    less_equal,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    mod,
    nan_to_num,
    not_equal,
    reciprocal,
    relu6,
    round,
    rsqrt,
    sin,
    sinh,
    tan,
    true_divide,
)
from chainrule.ops.indexing import (  # noqa: E402
    argsort,
    diag,
    diagonal,
    flip,
    in_top_k,
    moveaxis,
    nonzero,
    roll,
    sort,
    split,
    swapaxes,
    take,
    take_along_axis,
    top_k,
    trace,
    tril,
    triu,
    unique,
    where,
)
from chainrule.ops.labels import (  # noqa: E402
    binary_crossentropy,
    categorical_crossentropy,
    multi_hot,
    one_hot,
    sparse_categorical_crossentropy,
)
from chainrule.ops.linalg import dot, einsum, norm, normalize, outer, tensordot  # noqa: E402
from chainrule.ops.statistics import (  # noqa: E402
    all,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    prod,
    std,
    var,
)

absolute = abs
__all__ += [
    "convert_to_numpy", "convert_to_tensor", "is_tensor", "ndim", "shape", "size", "stop_gradient",
    "arange", "eye", "full", "full_like", "identity", "linspace", "ones", "ones_like", "zeros",
    "zeros_like", "arctan", "ceil", "cos", "cosh", "equal", "expm1", "floor", "floor_divide",
    "greater", "greater_equal", "isfinite", "isinf", "isnan", "less", "less_equal", "log2",
    "log10", "logical_and", "logical_not", "logical_or", "logical_xor", "mod", "nan_to_num",
    "not_equal", "reciprocal", "relu6", "round", "rsqrt", "sin", "sinh", "tan", "true_divide",
    "argsort", "diag", "diagonal", "flip", "in_top_k", "moveaxis", "nonzero", "roll", "sort",
    "split", "swapaxes", "take", "take_along_axis", "top_k", "trace", "tril", "triu", "unique",
    "binary_crossentropy", "categorical_crossentropy", "multi_hot", "one_hot",
    "sparse_categorical_crossentropy", "dot", "einsum", "norm", "normalize", "outer",
    "tensordot", "all", "any", "argmax", "argmin", "count_nonzero", "cumprod", "cumsum", "prod",
    "std", "var", "absolute",
]
# -- end of Keras 3 ops --

# -- more of keras.ops: NumPy-like math and arrays, control flow, linalg, nn --
from chainrule.ops.decompositions import (  # noqa: E402
    cholesky,
    cholesky_inverse,
    det,
    eig,
    eigh,
    inv,
    logdet,
    lstsq,
    lu_factor,
    matrix_rank,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
)

__all__ += [
    "associative_scan", "cond", "dtype", "fori_loop", "map", "saturate_cast", "scan", "scatter",
    "scatter_update", "segment_max", "segment_min", "segment_prod", "segment_sum", "slice",
    "slice_update", "switch", "vectorized_map", "while_loop",
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "logdet", "lstsq", "lu_factor",
    "matrix_rank", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd",
    "allclose", "amax", "amin", "angle", "arccos", "arccosh", "arcsin", "arcsinh", "arctan2",
    "arctanh", "average", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "cbrt", "conj", "conjugate", "deg2rad",
    "divide_no_nan", "erfc", "erfinv", "exp2", "fabs", "fmax", "fmin", "fmod", "gcd",
    "heaviside", "hypot", "imag", "isclose", "isneginf", "isposinf", "isreal", "lcm", "ldexp",
    "left_shift", "log_sigmoid", "logaddexp", "logaddexp2", "median", "nanargmax", "nanargmin",
    "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile",
    "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "nextafter", "percentile", "ptp",
    "quantile", "rad2deg", "real", "right_shift", "signbit", "sinc", "trunc",
    "depth_to_space", "dot_product_attention", "hard_silu", "hard_swish", "psnr",
    "rms_normalization", "space_to_depth", "sparse_sigmoid",
    "append", "argpartition", "array", "array_split", "bincount", "column_stack", "copy",
    "correlate", "cross", "diagflat", "diff", "digitize", "dsplit", "dstack", "empty",
    "empty_like", "fliplr", "flipud", "geomspace", "get_item", "histogram", "hsplit", "hstack",
    "inner", "isin", "kron", "logspace", "meshgrid", "ravel", "rot90", "searchsorted", "select",
    "trapezoid", "tri", "unravel_index", "unstack", "vander", "vdot", "vsplit", "vstack",
    "bartlett", "blackman", "hamming", "hanning", "kaiser", "i0", "corrcoef", "view", "cdist",
    "extract_sequences",
    "ctc_decode", "ctc_loss", "adaptive_average_pool", "adaptive_max_pool", "fold", "polar",
    "unfold", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft", "custom_gradient",
    "rearrange", "vectorize", "view_as_complex", "view_as_real",
]
# -- end of more of keras.ops --

# -- more activation ops of Keras 3 (celu, glu, sparsemax, the shrinkages, ...) --

__all__ += [
    "celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparsemax",
    "squareplus", "tanh_shrink", "threshold",
]
# -- end of more activation ops --

# -- Keras 3's ops.image namespace (extract_patches, resize) --

# -- end of ops.image --
# -- the rarer families load with their module when a program first names one of their ops
#    (convolution, pooling, recurrent, control flow, CTC, FFT, most of keras.ops' NumPy and
#    NN extras, ops.image, ops.numpy); each is wrapped for symbolic tensors as it loads.
#    Not ops.conv: an import of that module elsewhere would bind the module, not the op,
#    to the name `conv` here --
from chainrule import _lazy  # noqa: E402
from chainrule.ops.symbolic import wrap as _wrap_symbolic  # noqa: E402

_lazy.attach(
    globals(),
    {
        ".pooling": [
            "average_pool", "max_pool",
        ],
        ".rnn": [
            "embedding", "gru", "lstm", "mask_weights", "simple_rnn",
        ],
        ".control_flow": [
            "associative_scan", "cond", "dtype", "fori_loop", "map", "saturate_cast", "scan",
            "scatter", "scatter_update", "segment_max", "segment_min", "segment_prod",
            "segment_sum", "slice", "slice_update", "switch", "vectorized_map", "while_loop",
        ],
        ".ctc": [
            "ctc_decode", "ctc_loss",
        ],
        ".math_extra": [
            "allclose", "amax", "amin", "angle", "arccos", "arccosh", "arcsin", "arcsinh",
            "arctan2", "arctanh", "average", "bitwise_and", "bitwise_invert", "bitwise_left_shift",
            "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "cbrt", "conj",
            "conjugate", "deg2rad", "divide_no_nan", "erfc", "erfinv", "exp2", "fabs", "fmax",
            "fmin", "fmod", "gcd", "heaviside", "hypot", "imag", "isclose", "isneginf", "isposinf",
            "isreal", "lcm", "ldexp", "left_shift", "log_sigmoid", "logaddexp", "logaddexp2",
            "median", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean",
            "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum",
            "nanvar", "nextafter", "percentile", "ptp", "quantile", "rad2deg", "real",
            "right_shift", "signbit", "sinc", "trunc",
        ],
        ".nn_extra": [
            "adaptive_average_pool", "adaptive_max_pool", "depth_to_space", "dot_product_attention",
            "fold", "hard_silu", "hard_swish", "polar", "psnr", "rms_normalization",
            "space_to_depth", "sparse_sigmoid", "unfold",
        ],
        ".numpy_extra": [
            "append", "argpartition", "array", "array_split", "bartlett", "bincount", "blackman",
            "cdist", "column_stack", "copy", "corrcoef", "correlate", "cross", "diagflat", "diff",
            "digitize", "dsplit", "dstack", "empty", "empty_like", "extract_sequences", "fliplr",
            "flipud", "geomspace", "get_item", "hamming", "hanning", "histogram", "hsplit",
            "hstack", "i0", "inner", "isin", "kaiser", "kron", "logspace", "meshgrid", "ravel",
            "rot90", "searchsorted", "select", "trapezoid", "tri", "unravel_index", "unstack",
            "vander", "vdot", "view", "vsplit", "vstack",
        ],
        ".spectral": [
            "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft",
        ],
        ".transforms": [
            "custom_gradient", "rearrange", "vectorize", "view_as_complex", "view_as_real",
        ],
        ".activations_extra": [
            "celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparsemax",
            "squareplus", "tanh_shrink", "threshold",
        ],
    },
    submodules=("image", "numpy"),
    wrap=_wrap_symbolic,
)
# -- end of the lazy families --
# -- every op called on symbolic tensors (functional models) records an op layer --
from chainrule.ops.symbolic import install as _install_symbolic  # noqa: E402

_install_symbolic(globals(), __all__)
# -- end of symbolic dispatch --

# -- Tensor's operators (x + y, x[i], x @ w, ...) call the ops of this module --
import sys as _sys  # noqa: E402

from chainrule.autograd.engine import use_ops as _use_ops  # noqa: E402

_use_ops(_sys.modules[__name__])
# -- end of Tensor's operators --

# -- Keras's keras.ops.numpy, keras.ops.linalg and keras.ops.nn namespaces hold the wrapped
# ops above (so symbolic tensors work there too); set last, once the wrappers are installed.
# The library's own modules import the raw functions, so they are not affected --
from chainrule.ops import linalg as _linalg  # noqa: E402
from chainrule.ops import nn as _nn  # noqa: E402

for _name in _linalg.KERAS_LINALG_NAMES:
    setattr(_linalg, _name, globals()[_name])
for _name in ("elu", "gelu", "hard_sigmoid", "leaky_relu", "log_softmax", "relu", "selu",
              "sigmoid", "silu", "softmax", "softplus", "softsign", "swish"):
    setattr(_nn, _name, globals()[_name])
del _name
# -- end of the Keras namespaces --

# -- keras.ops.jvp (also keras.ops.linalg.jvp): forward-mode products from reverse passes;
# it takes a function, so it is not wrapped for symbolic tensors --
from chainrule.ops.forward_mode import jvp  # noqa: E402

_linalg.jvp = jvp
__all__ += ["jvp"]
# -- end of keras.ops.jvp --

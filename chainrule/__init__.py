"""chainrule: a transparent, fast deep-learning framework on NumPy with the Keras API.

Module paths mirror Keras: ``chainrule.models``, ``chainrule.layers``,
``chainrule.losses``, ``chainrule.metrics``, ``chainrule.optimizers``,
``chainrule.activations``, ``chainrule.initializers``, ``chainrule.callbacks``,
``chainrule.utils``, ``chainrule.datasets``.

Example:
    >>> import chainrule as cr
    >>> x = cr.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
"""

from chainrule import backend, config
from chainrule.autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad
from chainrule import ops  # noqa: E402
from chainrule import autograd, gradcheck, utils  # noqa: E402
from chainrule import activations, constraints, initializers, regularizers  # noqa: E402
from chainrule import losses, metrics, optimizers  # noqa: E402
from chainrule import callbacks, layers, models  # noqa: E402
from chainrule import random  # noqa: E402  (keras.random)
from chainrule.layers import Input, InputSpec  # noqa: E402
from chainrule.models import Model, Sequential  # noqa: E402
from chainrule.variables import Variable  # noqa: E402

from chainrule import _lazy  # noqa: E402
from chainrule._version import __version__  # noqa: E402

# Keras 3's top-level names (keras.Layer, keras.tree, keras.version(), keras.device(...))
from chainrule import dtype_policies, mixed_precision, tree  # noqa: E402
from chainrule.dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: E402
from chainrule._api import device, version  # noqa: E402
from chainrule.initializers import Initializer  # noqa: E402
from chainrule.layers import Layer  # noqa: E402
from chainrule.layers.base import KerasTensor  # noqa: E402
from chainrule.losses import Loss  # noqa: E402
from chainrule.metrics import Metric  # noqa: E402
from chainrule.optimizers import Optimizer  # noqa: E402
from chainrule.regularizers import Regularizer  # noqa: E402

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "ops", "autograd",
    "backend", "config", "gradcheck", "utils", "activations", "initializers", "regularizers",
    "constraints", "losses", "metrics", "optimizers", "callbacks", "layers", "models", "datasets", "explain",
    "saving", "random", "preprocessing",
    "Input", "InputSpec", "Model", "Sequential", "Variable", "__version__",
    "tree", "device", "version", "Initializer", "Layer", "KerasTensor", "Loss", "Metric",
    "Optimizer", "Regularizer", "dtype_policies", "mixed_precision", "DTypePolicy",
    "FloatDTypePolicy",
]

# Keras 3's scopes and base op class (keras.name_scope, keras.StatelessScope, keras.remat, ...)
from chainrule import scopes  # noqa: E402
from chainrule.operation import Operation  # noqa: E402
from chainrule.scopes import RematScope, StatelessScope, SymbolicScope, name_scope, remat  # noqa: E402

__all__ += ["scopes", "name_scope", "Operation", "StatelessScope", "SymbolicScope", "remat",
            "RematScope"]
# -- end of Keras 3's scopes --

# Saving, the datasets, the explain tools, data parallelism over MPI, plotting, the ONNX
# export and the scikit-learn wrappers load when first used (chainrule.datasets.mnist, ...)
_lazy.attach(
    globals(),
    submodules=(
        "saving", "datasets", "explain", "distribute", "plot", "export", "wrappers",
        "preprocessing",
    ),
)

# Keras 3's keras.visualization (drawing boxes and masks, image galleries), loaded when first used
_lazy.attach(globals(), submodules=("visualization",))
__all__ += ["visualization"]
# Keras 3's ready-made image models (chainrule.applications.MobileNetV2, ...), loaded on first use
_lazy.attach(globals(), submodules=("applications",))
__all__ += ["applications"]
# Keras 3's keras.distillation (Distiller and its losses), loaded when first used
_lazy.attach(globals(), submodules=("distillation",))
__all__ += ["distillation"]

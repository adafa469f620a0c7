"""Global settings: the float policy, the fuzz factor, chainrule's threads and fused kernels.

Example:
    >>> import chainrule
    >>> chainrule.config.floatx()
    'float32'
"""

from chainrule.backend import epsilon, floatx, set_epsilon, set_floatx
from chainrule.backend.compiled import fused_kernels, set_fused_kernels
from chainrule.parallel import get_num_threads, set_num_threads

__all__ = ["floatx", "set_floatx", "epsilon", "set_epsilon", "get_num_threads", "set_num_threads",
           "fused_kernels", "set_fused_kernels"]

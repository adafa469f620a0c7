"""Keras's ``keras.mixed_precision`` names, over :mod:`chainrule.dtype_policies`.

``LossScaleOptimizer`` is :class:`chainrule.optimizers.LossScaleOptimizer`.
chainrule refuses the mixed policies themselves (``"mixed_float16"``,
``"mixed_bfloat16"``) with a clear error: its layers compute in their weights' dtype.

Example:
    >>> import chainrule as cr
    >>> cr.mixed_precision.global_policy()
    <DTypePolicy "float32">
"""

from chainrule import _lazy
from chainrule.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

_lazy.attach(globals(), {"chainrule.optimizers.loss_scale_optimizer": ["LossScaleOptimizer"]})

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",  # noqa: F822
           "set_dtype_policy", "set_global_policy"]

"""Keras-style global settings: the float policy and the fuzz factor.

Example:
    >>> import chainrule
    >>> chainrule.config.floatx()
    'float32'
"""

from chainrule.backend import epsilon, floatx, set_epsilon, set_floatx

__all__ = ["floatx", "set_floatx", "epsilon", "set_epsilon"]

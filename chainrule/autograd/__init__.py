"""Reverse-mode automatic differentiation: Tensor, Function, backward, no_grad."""

from chainrule.autograd.engine import (
    Function,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    shape_error,
    sum_to,
)

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "sum_to", "shape_error"]

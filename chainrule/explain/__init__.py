"""See inside learning: the seeds' worked example, backprop explained, gates, gradient monitors.

* :func:`backprop`: one gradient-descent step of a Dense network, every
  weight's gradient written as the product of its chain-rule factors (seed 002 §3.4).
* :func:`worked_example` / :func:`format_worked_example`: the seed's 2-2-2 example on the engine.
* :mod:`~chainrule.explain.gates`: AND/NAND/OR perceptrons with the seed's weights, XOR from gates.
* :class:`GradientMonitor`: a callback recording per-layer gradient norms and weight statistics.
* :func:`gradient_through_time`: the gradient reaching each time step of a recurrent layer.
* :func:`conv_output`: one output value of a Conv layer as the sum of its window's products.

Example:
    >>> from chainrule.explain import gates
    >>> gates.XOR_gate(1, 0)
    1
"""

from chainrule.explain import gates
from chainrule.explain.backprop import BackpropReport, backprop
from chainrule.explain.conv_output import ConvOutputReport, conv_output
from chainrule.explain.monitor import GradientMonitor
from chainrule.explain.through_time import gradient_through_time
from chainrule.explain.worked_example import format_worked_example, worked_example

__all__ = ["worked_example", "format_worked_example", "backprop", "BackpropReport",
           "GradientMonitor", "gates", "gradient_through_time", "conv_output",
           "ConvOutputReport"]

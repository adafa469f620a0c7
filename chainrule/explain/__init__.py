"""See inside learning: the seeds' worked example and backprop reports."""

from chainrule.explain.worked_example import format_worked_example, worked_example

__all__ = ["worked_example", "format_worked_example"]

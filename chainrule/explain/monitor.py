"""GradientMonitor, the per-layer gradient norms of the vanishing-gradient lesson.

The callback lives in :mod:`chainrule.callbacks.gradient_monitor` with the other
callbacks; it is shown here too because the lessons introduce it.
"""

from chainrule.callbacks.gradient_monitor import GradientMonitor

__all__ = ["GradientMonitor"]

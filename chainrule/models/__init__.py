"""Models: ``Sequential``, ``Model`` (functional and subclassed) and their training API."""

from chainrule.models.model import Model, Sequential

__all__ = ["Model", "Sequential"]

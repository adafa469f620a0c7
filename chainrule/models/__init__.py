"""Models: ``Sequential``, ``Model`` (functional and subclassed) and their training API."""

from chainrule.models.model import Model, Sequential
from chainrule.models.perceptron import ConvergenceWarning, Perceptron

__all__ = ["Model", "Sequential", "Perceptron", "ConvergenceWarning"]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """Load a model saved by ``model.save`` (see :func:`chainrule.saving.load_model`)."""
    from chainrule.saving import load_model as _load  # noqa: PLC0415

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


__all__ += ["load_model"]

from chainrule.models.cloning import clone_model, model_from_json  # noqa: E402


def save_model(model, filepath, overwrite=True, **kwargs):
    """Save a model to a ``.keras`` file (see :func:`chainrule.saving.save_model`)."""
    from chainrule.saving import save_model as _save  # noqa: PLC0415

    return _save(model, filepath, overwrite=overwrite, **kwargs)


__all__ += ["clone_model", "model_from_json", "save_model"]

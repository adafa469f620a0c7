"""chainrule: a transparent, fast deep-learning framework on NumPy with the Keras API."""

from chainrule import backend, config

__version__ = "0.1.0"

__all__ = ["backend", "config", "__version__"]

"""Wrappers making chainrule models work inside other libraries (Keras 3's ``keras.wrappers``).

* :class:`SKLearnClassifier`, :class:`SKLearnRegressor`, :class:`SKLearnTransformer`:
  scikit-learn estimators (``pip install chainrule[sklearn]``), for ``Pipeline``,
  ``GridSearchCV`` and ``cross_val_score``.

The classes import without scikit-learn and say how to install it when created.
"""

from chainrule.wrappers.sklearn_wrapper import (
    SKLearnClassifier,
    SKLearnRegressor,
    SKLearnTransformer,
)

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]

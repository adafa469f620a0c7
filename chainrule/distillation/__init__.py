"""Knowledge distillation (Keras 3's ``keras.distillation``).

:class:`Distiller` trains a student model from a frozen teacher with a weighted sum
of the student's own loss and distillation losses: :class:`LogitsDistillation`
(temperature-softened outputs) and :class:`FeatureDistillation` (outputs of named
layers); subclass :class:`DistillationLoss` for your own.

Example:
    >>> import chainrule as cr
    >>> sorted(name for name in cr.distillation.__all__)
    ['DistillationLoss', 'Distiller', 'FeatureDistillation', 'LogitsDistillation']
"""

from chainrule.distillation.distillation_loss import (
    DistillationLoss,
    FeatureDistillation,
    LogitsDistillation,
)
from chainrule.distillation.distiller import Distiller

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]

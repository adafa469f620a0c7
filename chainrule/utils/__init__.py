"""Utilities: seeding, label encoding, data splits, progress bars, model summaries."""

from chainrule.backend import set_random_seed
from chainrule.layers.base import clear_session
from chainrule.utils.data_utils import normalize, to_categorical, train_test_split
from chainrule.utils.progbar import Progbar

__all__ = ["set_random_seed", "clear_session", "to_categorical", "normalize", "train_test_split",
           "Progbar"]

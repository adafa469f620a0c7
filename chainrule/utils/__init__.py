"""Utilities: seeding, label encoding, data splits, progress bars."""

from chainrule.backend import set_random_seed

__all__ = ["set_random_seed"]

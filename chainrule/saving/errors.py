"""The errors chainrule's saving and loading raise.

Every error about a file's content derives from :class:`ArchiveError`, itself
a ``ValueError``, so ``except ValueError`` catches anything a bad or hostile
file can cause, and nothing else.
"""

from __future__ import annotations

__all__ = ["ArchiveError", "InvalidArchiveError", "UnsafeFileError", "WeightMismatchError"]


class ArchiveError(ValueError):
    """Base class of the errors about the content of a saved file."""


class InvalidArchiveError(ArchiveError):
    """The file is not a chainrule archive, or it is damaged or inconsistent.

    Example:
        >>> raise InvalidArchiveError("'notes.txt' is not a chainrule model archive")
        Traceback (most recent call last):
        ...
        chainrule.saving.errors.InvalidArchiveError: 'notes.txt' is not a chainrule model archive
    """


class UnsafeFileError(ArchiveError):
    """The file asks for something chainrule refuses to do when loading.

    Raised for pickled objects, object or string arrays, classes or functions
    that are neither registered in chainrule nor passed in ``custom_objects``,
    zip members that would escape their directory, and declared sizes beyond
    the limits (zip bombs, absurd array shapes).
    """


class WeightMismatchError(ValueError):
    """Saved weights do not fit the model: a missing or extra layer or weight, or a shape."""

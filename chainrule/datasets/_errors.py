"""Errors raised while finding, downloading and reading dataset files.

They derive from :class:`OSError`, like the errors of :mod:`gzip` and
:func:`open`, so code that already catches ``OSError`` around file access keeps
working.
"""

from __future__ import annotations

__all__ = ["CorruptDatasetError", "DatasetError", "DatasetNotFoundError", "UnsafeDatasetError"]


class DatasetError(OSError):
    """Base class of every dataset error raised by chainrule."""

    def __str__(self) -> str:
        # OSError's own __str__ formats ``(errno, strerror)`` pairs; a plain
        # message is all these errors carry.
        return str(self.args[0]) if self.args else ""


class DatasetNotFoundError(DatasetError):
    """Dataset files are not in the cache and could not be downloaded.

    The message names the missing files, the folder to put them in, and why
    each download attempt failed.
    """


class CorruptDatasetError(DatasetError):
    """A dataset file exists but is not a valid file of the expected kind.

    Raised for truncated or damaged gzip streams, bad IDX headers, sizes that
    disagree with the header, and arrays of the wrong shape or type.
    """


class UnsafeDatasetError(CorruptDatasetError):
    """A dataset file asks for code to be run (a pickle naming a callable); it was refused.

    Nothing from the file was executed: chainrule reads pickled dataset files
    with its own parser, which knows plain data and NumPy arrays only.
    """

"""Atomic file writes: a crash or an error mid-write leaves the previous file intact.

Every file chainrule saves goes through :func:`atomic_write`: the content is
written to a temporary file in the destination's directory, flushed and
fsynced, then moved over the destination with :func:`os.replace` (atomic on
POSIX and Windows), and the directory entry is fsynced where the platform
allows it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import IO

__all__ = ["atomic_write", "fsync_directory"]


def fsync_directory(directory: str) -> None:
    """Flush a directory's entries to disk (a no-op where directories cannot be opened).

    Args:
        directory: the directory whose entries (a rename) must survive a crash.
    """
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # pragma: no cover - e.g. no read permission on the directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _create_temporary(directory: str, base: str) -> tuple[int, str]:
    """Create a new, empty file next to the destination; the umask sets its mode as usual."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    raise FileExistsError(f"Could not create a temporary file in {directory!r}.")  # pragma: no cover


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Open a temporary binary file that replaces ``path`` only if the block succeeds.

    Args:
        path: the destination file.
        overwrite: if False, raise ``FileExistsError`` when ``path`` exists.

    Yields:
        A binary file object to write to.

    Raises:
        FileExistsError: if ``path`` exists and ``overwrite`` is False.
        IsADirectoryError: if ``path`` is a directory.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "data.bin")
        >>> with atomic_write(target) as f:
        ...     _ = f.write(b"new content")
        >>> open(target, "rb").read()
        b'new content'
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Cannot write a file at {path!r}: it is a directory. Received: filepath={path!r}"
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{path!r} already exists; pass overwrite=True to replace it. "
            f"Received: overwrite={overwrite!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            # An overwritten file keeps its permissions.
            with contextlib.suppress(OSError):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(directory)

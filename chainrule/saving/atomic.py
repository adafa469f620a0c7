"""Atomic file writes: a crash or an error mid-write leaves the previous file intact.

Every file chainrule saves goes through :func:`atomic_write`: the content is
written to a temporary file in the destination's directory, flushed and
fsynced, then moved over the destination with :func:`os.replace` (atomic on
POSIX and Windows), and the directory entry is fsynced where the platform
allows it. Temporaries left by a process killed mid-save are removed by the
next save into the same folder (:func:`clean_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_write", "clean_stale_temporaries", "fsync_directory"]

# The temporaries atomic_write makes: ".<name>.<12 hex digits>.tmp" next to the destination.
_TMP_PATTERN = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}\.tmp")
# Destinations chainrule writes; only their temporaries are ever cleaned.
_OWN_SUFFIXES = (".keras", ".weights.npz", ".npz", ".zip")
# Without file locks (Windows), a temporary this old is taken to be abandoned.
_STALE_SECONDS = 3600.0


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
    """Create a new, empty file next to the destination; the umask sets its mode as usual.

    The file is locked (``flock``) for as long as the writer lives: the lock is
    how :func:`clean_stale_temporaries` tells a live writer's temporary from one
    left by a killed process (the system releases a dead process's locks).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # pragma: no cover - a file system without locks
                return fd, tmp
            if os.fstat(fd).st_nlink == 0:  # pragma: no cover - a cleaner removed it first
                os.close(fd)
                continue
        return fd, tmp
    raise FileExistsError(f"Could not create a temporary file in {directory!r}.")  # pragma: no cover


def clean_stale_temporaries(directory: str) -> list[str]:
    """Remove the temporaries of saves that never finished (their writer was killed).

    Only files named as :func:`atomic_write` names them (``.<name>.<12 hex>.tmp``,
    for a ``.keras``, ``.npz`` or ``.zip`` destination) are considered, and only
    those no live process holds: a writer keeps its temporary locked until it is
    renamed, and the system drops the lock of a process that dies (even by
    ``SIGKILL``). Where file locks do not exist, a temporary older than an hour
    counts as abandoned.

    Args:
        directory: the folder to clean (a save's destination folder).

    Returns:
        The paths removed.

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> open(os.path.join(d, ".model.keras.0123456789ab.tmp"), "wb").close()
        >>> [os.path.basename(p) for p in clean_stale_temporaries(d)]
        ['.model.keras.0123456789ab.tmp']
    """
    removed: list[str] = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        m = _TMP_PATTERN.fullmatch(name)
        if m is None or not m.group("name").endswith(_OWN_SUFFIXES):
            continue
        path = os.path.join(directory, name)
        if _remove_if_abandoned(path):
            removed.append(path)
    return removed


def _remove_if_abandoned(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
                     | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not _stat_is_regular(st.st_mode):
            return False
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a live writer holds it
        elif time.time() - st.st_mtime < _STALE_SECONDS:  # pragma: no cover - Windows
            return False
        try:
            os.unlink(path)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


def _stat_is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


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
    clean_stale_temporaries(directory)  # those of earlier saves whose process was killed
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

"""``get_file``: download a file once into the cache, check it, optionally extract it.

Keras 3's signature and cache layout, on chainrule's download code: https
only, at most ``max_bytes`` read (4 GiB unless told), an overall deadline, the
hash checked before the file is written, and written atomically (never a
partial file in the cache). Archives are extracted member by member with every
path checked: no absolute paths, no ``..``, no links or devices, and a bound on
the total size.

Example:
    >>> from chainrule.utils import get_file
    >>> path = get_file(origin="https://example.com/data.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import urllib.parse
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from chainrule.datasets import _download
from chainrule.datasets._errors import CorruptDatasetError, DatasetNotFoundError

__all__ = ["get_file", "validate_file"]

#: The most bytes ``get_file`` reads when it is not told the file's size.
DEFAULT_MAX_BYTES = _download.MAX_UNSIZED_BYTES
#: The most bytes an archive may expand to, as a multiple of its own size (plus 1 GiB).
MAX_EXPANSION = 100


def _hasher(file_hash: str, algorithm: str) -> str:
    if algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(
            f'hash_algorithm must be "auto", "sha256" or "md5". Received: hash_algorithm={algorithm!r}'
        )
    return algorithm


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto") -> bool:
    """Return True when the file's SHA-256 or MD5 digest is ``file_hash``.

    Args:
        fpath: the file.
        file_hash: the expected hex digest.
        algorithm: ``"sha256"``, ``"md5"`` or ``"auto"`` (SHA-256 for a
            64-character digest, else MD5).

    Returns:
        Whether the digests agree.

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"abc")
        >>> validate_file(f.name, "900150983cd24fb0d6963f7d28e17f72")
        True
        >>> os.unlink(f.name)
    """
    remote = _remote("x", file_hash, _hasher(file_hash, algorithm))
    return remote.mismatch(Path(fpath).read_bytes()) is None


def _remote(name: str, file_hash: str | None, algorithm: str) -> _download.RemoteFile:
    if file_hash is None:
        return _download.RemoteFile(name)
    if algorithm == "sha256":
        return _download.RemoteFile(name, sha256=file_hash)
    return _download.RemoteFile(name, md5=file_hash)


def _safe_members_tar(archive: tarfile.TarFile, limit: int, source: str) -> list:
    members, total = [], 0
    for member in archive.getmembers():
        _check_name(member.name, source)
        if not (member.isfile() or member.isdir()):
            raise CorruptDatasetError(
                f"{source} holds {member.name!r}, which is a link or a device; not extracted."
            )
        total += max(member.size, 0)
        if total > limit:
            raise CorruptDatasetError(f"{source} expands to more than {limit} bytes; not extracted.")
        members.append(member)
    return members


def _check_name(name: str, source: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise CorruptDatasetError(
            f"{source} holds the path {name!r}, outside the extraction folder; not extracted."
        )


def _extract(archive_path: Path, target: Path, archive_format: Any) -> bool:
    """Extract ``archive_path`` into ``target`` (atomically); False when no format fits."""
    formats = archive_format
    if formats == "auto":
        formats = ["tar", "zip"]
    elif isinstance(formats, str):
        formats = [formats]
    elif formats is None:
        return False
    limit = MAX_EXPANSION * archive_path.stat().st_size + (1 << 30)
    source = str(archive_path)
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(archive_path):
            opener = tarfile.open
        elif kind == "zip" and zipfile.is_zipfile(archive_path):
            opener = zipfile.ZipFile
        else:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        try:
            with opener(archive_path) as archive:
                if kind == "tar":
                    members = _safe_members_tar(archive, limit, source)
                    for member in members:
                        if member.isdir():
                            (tmp / member.name).mkdir(parents=True, exist_ok=True)
                            continue
                        out = tmp / member.name
                        out.parent.mkdir(parents=True, exist_ok=True)
                        with archive.extractfile(member) as src, open(out, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                else:
                    infos = archive.infolist()
                    total = 0
                    for info in infos:
                        _check_name(info.filename, source)
                        total += info.file_size
                        if total > limit:
                            raise CorruptDatasetError(
                                f"{source} expands to more than {limit} bytes; not extracted."
                            )
                    for info in infos:
                        out = tmp / info.filename
                        if info.is_dir():
                            out.mkdir(parents=True, exist_ok=True)
                            continue
                        out.parent.mkdir(parents=True, exist_ok=True)
                        with archive.open(info) as src, open(out, "wb") as dst:
                            shutil.copyfileobj(src, dst)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
            raise CorruptDatasetError(f"{source} is a damaged archive ({e}).") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return True
    return False


def get_file(
    fname: str | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: Any = "auto",
    cache_dir: str | os.PathLike | None = None,
    force_download: bool = False,
    *,
    max_bytes: int | None = None,
) -> str:
    """Download ``origin`` into the cache unless it is already there; return its path.

    The file lands in ``cache_dir/cache_subdir/fname`` (``cache_dir`` defaults to
    ``$CHAINRULE_HOME``, ``~/.chainrule``; when it is not given, a valid copy in
    Keras's cache ``$KERAS_HOME/cache_subdir/`` is used too). A cached file whose
    hash differs from ``file_hash`` is downloaded again, as in Keras.

    Args:
        fname: the file's name in the cache (no folders); defaults to the last
            part of ``origin``'s path.
        origin: the file's ``https://`` address.
        untar: deprecated spelling of ``extract=True, archive_format="tar"``.
        md5_hash: deprecated spelling of ``file_hash`` with MD5.
        file_hash: the expected SHA-256 or MD5 hex digest, checked before the
            file is written.
        cache_subdir: the folder under ``cache_dir``.
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: extract the archive (tar, tar.gz, tar.bz2, zip) and return
            the folder it was extracted to.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"``, a list of them, or None.
        cache_dir: the cache's root folder.
        force_download: download even when the file is cached.
        max_bytes: the most bytes the download may read (default 4 GiB).

    Returns:
        The path of the file, or of the extraction folder with ``extract=True``.

    Raises:
        ValueError: no ``origin``, an ``origin`` that is not https, an ``fname``
            with a folder in it, a bad ``hash_algorithm``.
        DatasetNotFoundError: the download failed (or its hash did not match);
            the message gives each attempt and where to put the file by hand.
        CorruptDatasetError: an archive to extract is damaged or unsafe.

    Example:
        >>> from chainrule.utils import get_file
        >>> path = get_file("flowers.tgz", "https://example.com/flowers.tgz",
        ...                 extract=True)  # doctest: +SKIP
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download). '
                         "Received: origin=None")
    _download.check_https(origin, "origin")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _hasher(file_hash, hash_algorithm) if file_hash else "sha256"
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin; pass fname. "
                             f"Received: origin={origin!r}")
    fname = os.fspath(fname)
    if "/" in fname or "\\" in fname or fname in (".", ".."):
        raise ValueError("fname must be a file name; use cache_dir and cache_subdir for its "
                         f"folder. Received: fname={fname!r}")
    root = Path(cache_dir).expanduser() if cache_dir is not None else _download.chainrule_home()
    folder = root / cache_subdir
    extract = extract or untar
    if untar:
        archive_format = "tar"
    if extract:
        if "." in fname:
            target_name, extraction_dir = fname, folder / f"{fname[: fname.find('.')]}_extracted"
        else:
            target_name, extraction_dir = f"{fname}_archive", folder / fname
    target = folder / target_name if extract else folder / fname
    remote = _remote(target.name, file_hash, algorithm)

    downloaded = False
    if force_download or not _valid(target, remote):
        keras_copy = _download.keras_home() / cache_subdir / target.name
        if not force_download and cache_dir is None and _valid(keras_copy, remote):
            target = keras_copy
        else:
            limit = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
            path, failures = _download.download_file(
                _download.RemoteFile(remote.name, None, remote.sha256, remote.md5),
                (origin,), folder, max_bytes=limit,
            )
            if path is None:
                tried = "\n".join(f"  {line}" for line in failures)
                raise DatasetNotFoundError(
                    f"{fname} is not in the cache and could not be downloaded.\n"
                    f"Download attempts:\n{tried}\nTo work offline, put the file at\n  {target}"
                )
            target, downloaded = path, True
    if extract:
        if downloaded or force_download or not extraction_dir.is_dir():
            if not _extract(target, extraction_dir, archive_format):
                raise CorruptDatasetError(
                    f"{target} is not an archive of the format {archive_format!r}; "
                    "nothing was extracted."
                )
        return str(extraction_dir)
    return str(target)


def _valid(path: Path, remote: _download.RemoteFile) -> bool:
    if not path.is_file():
        return False
    if remote.sha256 is None and remote.md5 is None:
        return True
    return remote.mismatch(path.read_bytes()) is None

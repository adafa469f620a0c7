"""The cache, download and checksum machinery behind the IDX datasets.

Files live under ``$CHAINRULE_HOME/datasets/<name>/`` (``~/.chainrule`` when the
variable is unset) with their original names. A missing file is downloaded from
the dataset's mirrors in order, each tried a few times with a timeout, using
only :mod:`urllib`. A download is checked against the published size, SHA-256
and MD5 before it is written, and written atomically (a temporary file in the
same folder, flushed, fsynced, then renamed over the final name), so the cache
never holds a partial or corrupt file.

Files a user put in the cache are trusted if they parse: a ``.gz`` file whose
checksum differs from the published one is used with a warning (it may be a
re-compressed or repackaged copy of the same data), an uncompressed file is
checked for structure only (the published checksums are of the ``.gz`` files).
A file that does not parse raises :class:`CorruptDatasetError`; chainrule never
deletes a file it did not write.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.datasets._errors import CorruptDatasetError, DatasetError, DatasetNotFoundError
from chainrule.datasets._idx import decompress_idx, parse_idx

__all__ = [
    "IDXImageDataset",
    "RemoteFile",
    "cached_file",
    "chainrule_home",
    "keras_home",
    "dataset_dir",
    "download_file",
    "fetch_url",
    "load_idx_image_dataset",
]

#: Attempts per mirror before moving to the next one.
RETRIES = 3
#: Seconds to wait for the server before an attempt fails.
TIMEOUT = 30.0
#: Seconds before the second attempt on a mirror; doubled for each further one.
BACKOFF = 1.0
#: Bytes a download may read beyond the published size before it is aborted.
SIZE_MARGIN = 4096
#: The most bytes a download of a file without a published size may read (4 GiB).
MAX_UNSIZED_BYTES = 4 << 30
#: The longest any one download may take, in seconds.
DEADLINE = 3600.0
#: Slowest transfer rate (bytes per second) a download's deadline allows for, plus a minute.
MIN_RATE = 50_000.0

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One published file and its checksums.

    Attributes:
        name: the file name, e.g. ``"train-images-idx3-ubyte.gz"``.
        size: the size in bytes, or None to skip that check.
        sha256: the hex SHA-256 digest, or None to skip that check.
        md5: the hex MD5 digest, or None to skip that check.
    """

    name: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None

    def mismatch(self, data: bytes) -> str | None:
        """Return why ``data`` is not this file, or None when every check passes."""
        if self.size is not None and len(data) != self.size:
            how = "truncated" if len(data) < self.size else "too long"
            return f"{how}: received {len(data)} bytes, expected {self.size}"
        if self.sha256 is not None:
            digest = hashlib.sha256(data).hexdigest()
            if digest != self.sha256.lower():
                return f"corrupt: SHA-256 is {digest}, expected {self.sha256}"
        if self.md5 is not None:
            digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if digest != self.md5.lower():
                return f"corrupt: MD5 is {digest}, expected {self.md5}"
        return None


@dataclass(frozen=True)
class IDXImageDataset:
    """An image classification dataset published as four gzip IDX files.

    Attributes:
        name: the cache folder name, e.g. ``"mnist"``.
        title: the name used in messages, e.g. ``"MNIST"``.
        mirrors: base URLs (ending in ``/``), tried in order.
        train_images, train_labels, test_images, test_labels: the files.
        image_shape: the (rows, cols) of every image.
        num_classes: labels must lie in ``[0, num_classes)``.
        keras_dir: the folder under ``$KERAS_HOME/datasets/`` where Keras keeps
            the same four files, read when chainrule's cache lacks them.
        keras_npz: Keras's single ``.npz`` of the four arrays in
            ``$KERAS_HOME/datasets/`` (MNIST's ``mnist.npz``), read when the
            IDX files are in neither cache.
    """

    name: str
    title: str
    mirrors: tuple[str, ...]
    train_images: RemoteFile
    train_labels: RemoteFile
    test_images: RemoteFile
    test_labels: RemoteFile
    image_shape: tuple[int, int] = (28, 28)
    num_classes: int = 10
    keras_dir: str | None = None
    keras_npz: RemoteFile | None = None

    @property
    def files(self) -> tuple[RemoteFile, RemoteFile, RemoteFile, RemoteFile]:
        """The four files, in the order train images, train labels, test images, test labels."""
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


def keras_home() -> Path:
    """Return Keras's data folder, read for files a Keras user already has.

    ``$KERAS_HOME`` when set, else ``~/.keras``; chainrule only reads it, never writes.
    """
    home = os.environ.get("KERAS_HOME")
    return Path(home).expanduser() if home else Path("~/.keras").expanduser()


def chainrule_home() -> Path:
    """Return chainrule's data folder: ``$CHAINRULE_HOME``, else ``~/.chainrule``."""
    home = os.environ.get("CHAINRULE_HOME")
    return Path(home).expanduser() if home else Path("~/.chainrule").expanduser()


def dataset_dir(name: str) -> Path:
    """Return the cache folder of dataset ``name`` (it may not exist yet)."""
    return chainrule_home() / "datasets" / name


def _urlopen(request: urllib.request.Request, timeout: float):
    """Open ``request`` (a seam: tests replace it with a fake opener)."""
    return urllib.request.urlopen(request, timeout=timeout)


class DownloadLimitError(OSError):
    """A download sent more bytes than the file may hold, or ran past its deadline."""


def check_https(url: str, name: str = "url") -> None:
    """Refuse a URL that is not ``https://``: a plain-http download can be altered in transit.

    Raises:
        ValueError: naming ``name`` and the URL.
    """
    if not isinstance(url, str) or not url.lower().startswith("https://"):
        raise ValueError(
            f"{name} must be an https:// address (a plain http download can be altered on "
            f"the way). Received: {name}={url!r}"
        )


def fetch_url(
    url: str,
    timeout: float,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> bytes:
    """Download ``url`` and return its content (one attempt, no retry).

    The download is bounded three ways: each blocking read waits at most
    ``timeout`` seconds, the whole download stops at ``deadline`` (a
    :func:`time.monotonic` value), and no more than ``max_bytes`` bytes are
    read: a ``Content-Length`` above it, or a body that goes past it, aborts
    the download at once. Tests replace this function (or :func:`_urlopen`)
    to run the download path without a network.

    Args:
        url: an ``https://`` address.
        timeout: seconds to wait for the server on each blocking operation.
        max_bytes: the most bytes to accept, or None for no bound.
        deadline: the monotonic time by which the download must end, or None.

    Returns:
        The response body.

    Raises:
        ValueError: ``url`` is not https.
        DownloadLimitError: the server sent too much or was too slow overall.
        OSError: ``urllib.error.URLError``/``HTTPError``, timeouts and
            connection errors.
        http.client.HTTPException: a broken response (e.g. ``IncompleteRead``).
    """
    check_https(url)
    request = urllib.request.Request(url, headers={"User-Agent": "chainrule"})
    with _urlopen(request, timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        if max_bytes is not None and total > max_bytes:
            raise DownloadLimitError(
                f"the server announces {total} bytes; the file has at most {max_bytes}"
            )
        show = total > 0 and sys.stdout.isatty()
        parts, done = [], 0
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise DownloadLimitError(
                    f"the download did not finish in time ({done} bytes received)"
                )
            want = _CHUNK if max_bytes is None else min(_CHUNK, max_bytes + 1 - done)
            chunk = response.read(want)
            if not chunk:
                break
            parts.append(chunk)
            done += len(chunk)
            if max_bytes is not None and done > max_bytes:
                raise DownloadLimitError(
                    f"the server sent more than {max_bytes} bytes, more than the file holds"
                )
            if show:
                print(f"\r{done}/{total} bytes", end="", flush=True)
        if show:
            print()
    return b"".join(parts)


def byte_limit(remote: "RemoteFile") -> int | None:
    """The most bytes a download of ``remote`` may read: its size plus a small margin."""
    if remote.size is None:
        return None
    return remote.size + SIZE_MARGIN


def deadline_for(remote: "RemoteFile") -> float:
    """Seconds a whole download of ``remote`` may take (long for big files, never unbounded)."""
    if remote.size is None:
        return DEADLINE
    return min(DEADLINE, 60.0 + remote.size / MIN_RATE)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"URLError: {error.reason}"
    return f"{type(error).__name__}: {error}"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent or complete."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def download_file(
    remote: RemoteFile,
    mirrors: tuple[str, ...] | list[str],
    folder: Path,
    *,
    retries: int | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> tuple[Path | None, list[str]]:
    """Download one file from the first mirror that serves it intact.

    Each mirror is tried ``retries`` times (client errors such as HTTP 404, and
    host names that do not resolve, only once), waiting :data:`BACKOFF` seconds, then twice as long, between
    attempts. Only bytes that pass :meth:`RemoteFile.mismatch` are written.

    Args:
        remote: the file and its checksums.
        mirrors: base URLs to try in order.
        folder: where to write ``remote.name``; created if needed.
        retries: attempts per mirror (default :data:`RETRIES`).
        timeout: seconds per attempt (default :data:`TIMEOUT`).
        max_bytes: the most bytes to read when ``remote`` has no size (default
            :data:`MAX_UNSIZED_BYTES`; its size plus :data:`SIZE_MARGIN` otherwise).

    Returns:
        ``(path, failures)``: the written path, or None when every attempt failed,
        and one line per failed attempt (``"<url>: <reason>"``).

    Raises:
        DatasetError: when ``folder`` cannot be created or written.
    """
    retries = RETRIES if retries is None else retries
    timeout = TIMEOUT if timeout is None else timeout
    failures: list[str] = []
    for base in mirrors:
        check_https(base, "mirror")
    for base in mirrors:
        url = base if url_is_file(base) else base + remote.name
        delay = BACKOFF
        for attempt in range(retries):
            if attempt:
                time.sleep(delay)
                delay *= 2
            print(f"Downloading data from {url}")
            try:
                limit = byte_limit(remote) if remote.size is not None else (
                    MAX_UNSIZED_BYTES if max_bytes is None else max_bytes)
                data = fetch_url(url, timeout, max_bytes=limit,
                                 deadline=time.monotonic() + deadline_for(remote))
            except urllib.error.HTTPError as e:
                failures.append(f"{url}: {_describe(e)}")
                if 400 <= e.code < 500 and e.code not in (408, 429):
                    break  # the mirror does not have it: retrying will not help
                continue
            except (OSError, http.client.HTTPException, ValueError) as e:
                failures.append(f"{url}: {_describe(e)}")
                if isinstance(e, DownloadLimitError):
                    break  # a mirror that sends too much or stalls: try the next one
                if isinstance(getattr(e, "reason", e), socket.gaierror):
                    break  # the host name does not resolve (offline?): retrying will not help
                continue
            problem = remote.mismatch(data)
            if problem is not None:
                failures.append(f"{url}: {problem}")
                continue
            path = folder / remote.name
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _write_atomic(path, data)
            except OSError as e:
                raise DatasetError(
                    f"Could not write {path} ({_describe(e)}). Set the environment variable "
                    "CHAINRULE_HOME to a writable folder."
                ) from e
            return path, failures
    return None, failures


def url_is_file(url: str) -> bool:
    """True when ``url`` names a file rather than a folder (a mirror base ends in ``/``)."""
    return not url.endswith("/")


def _find_cached(folder: Path, remote: RemoteFile) -> Path | None:
    """Return the cached copy of ``remote``: the ``.gz`` name first, then the uncompressed one."""
    names = [remote.name]
    if remote.name.endswith(".gz"):
        names.append(remote.name[: -len(".gz")])
    for name in names:
        path = folder / name
        if path.is_file():
            return path
    return None


def _read_cached(path: Path, remote: RemoteFile, title: str) -> np.ndarray:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"Could not read {path} ({_describe(e)}).") from e
    hint = " Delete it (it will be downloaded again) or replace it with a good copy."
    try:
        array = parse_idx(decompress_idx(raw, str(path)), str(path))
    except CorruptDatasetError as e:
        raise CorruptDatasetError(f"{e}{hint}") from None
    if path.name == remote.name:
        problem = remote.mismatch(raw)
        if problem is not None:
            warnings.warn(
                f"{path} does not match the published {title} file ({problem}). It is a "
                "valid IDX file, so it is used as it is; delete it to download the "
                "official copy.",
                UserWarning,
                stacklevel=4,
            )
    return array


def _check_arrays(
    spec: IDXImageDataset, images: np.ndarray, labels: np.ndarray, paths: tuple[Path, Path]
) -> None:
    hint = " Delete it (it will be downloaded again) or replace it with a good copy."
    rows, cols = spec.image_shape
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (rows, cols):
        raise CorruptDatasetError(
            f"{paths[0]} does not hold {spec.title} images: expected uint8 images of shape "
            f"(n, {rows}, {cols}), found {images.dtype} data of shape {images.shape}.{hint}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise CorruptDatasetError(
            f"{paths[1]} does not hold {spec.title} labels: expected uint8 labels of shape "
            f"(n,), found {labels.dtype} data of shape {labels.shape}.{hint}"
        )
    if len(images) != len(labels):
        raise CorruptDatasetError(
            f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} "
            "labels; they must match."
        )
    if labels.size and int(labels.max()) >= spec.num_classes:
        raise CorruptDatasetError(
            f"{paths[1]} holds label {int(labels.max())}; {spec.title} labels lie in "
            f"[0, {spec.num_classes}).{hint}"
        )


def _missing_error(
    spec: IDXImageDataset, folder: Path, missing: list[RemoteFile], failures: list[str]
) -> DatasetNotFoundError:
    return _not_found_error(
        spec.title, folder, [r.name for r in missing], failures,
        "download these files yourself and put them, gzipped or uncompressed,")


def _not_found_error(title: str, folder: Path, names: list[str],
                     failures: list[str], advice: str) -> DatasetNotFoundError:
    """The error for files ``names`` neither cached in ``folder`` nor downloadable: it lists
    each failed attempt and says to ``advice`` in the folder."""
    tried = "\n".join(f"  {line}" for line in failures) or "  (no mirror was tried)"
    missing = "\n".join(f"  {name}" for name in names)
    return DatasetNotFoundError(
        f"{title} is not in the cache and could not be downloaded.\n"
        f"Download attempts:\n{tried}\n"
        f"To use {title} offline, {advice} in the folder\n  {folder}\n"
        f"Missing:\n{missing}"
    )


def _load_keras_npz(
    spec: IDXImageDataset, path: Path, remote: RemoteFile
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read Keras's ``.npz`` copy of an IDX dataset (numbers only, pickling disabled)."""
    from chainrule.datasets._npz import read_npz  # noqa: PLC0415 - avoids an import cycle

    raw = _read_checked(path, remote, spec.title, stacklevel=5)
    arrays = read_npz(raw, str(path))
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise CorruptDatasetError(f"{path} does not hold the {spec.title} arrays {missing}.")
    _check_arrays(spec, arrays["x_train"], arrays["y_train"], (path, path))
    _check_arrays(spec, arrays["x_test"], arrays["y_test"], (path, path))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_idx_image_dataset(
    spec: IDXImageDataset,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load a dataset from the cache, downloading the files it lacks.

    Args:
        spec: the dataset.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays.

    Raises:
        DatasetNotFoundError: files are missing and could not be downloaded.
        CorruptDatasetError: a cached file is not valid.
    """
    folder = dataset_dir(spec.name)
    keras_folder = keras_home() / "datasets" / spec.keras_dir if spec.keras_dir else None
    found = [_find_cached(folder, r) or (keras_folder and _find_cached(keras_folder, r))
             for r in spec.files]
    if None in found and spec.keras_npz is not None:
        npz = keras_home() / "datasets" / spec.keras_npz.name
        if npz.is_file():
            return _load_keras_npz(spec, npz, spec.keras_npz)
    paths: list[Path] = []
    for i, remote in enumerate(spec.files):
        path = found[i] or None
        if path is None:
            path, failures = download_file(remote, spec.mirrors, folder)
            if path is None:
                still = [r for r in spec.files[i:] if _find_cached(folder, r) is None]
                raise _missing_error(spec, folder, still, failures)
        paths.append(path)
    arrays = []
    for path, remote in zip(paths, spec.files):  # a loop, not a comprehension: stacklevel
        arrays.append(_read_cached(path, remote, spec.title))
    x_train, y_train, x_test, y_test = arrays
    _check_arrays(spec, x_train, y_train, (paths[0], paths[1]))
    _check_arrays(spec, x_test, y_test, (paths[2], paths[3]))
    return (x_train, y_train), (x_test, y_test)


def _read_checked(path: Path, remote: RemoteFile, title: str, stacklevel: int) -> bytes:
    """Read a cached file; a checksum mismatch warns (the caller's parser decides)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"Could not read {path} ({_describe(e)}).") from e
    problem = remote.mismatch(raw)
    if problem is not None:
        warnings.warn(
            f"{path} does not match the published {title} file ({problem}). It is used as "
            "it is if it parses; delete it to download the official copy.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return raw


def cached_file(
    remote: RemoteFile,
    origins: tuple[str, ...] | list[str],
    folder: Path,
    title: str,
    also: tuple[Path, ...] = (),
) -> tuple[Path, bytes]:
    """Find one file in the cache (or in Keras's cache), else download it; return its bytes.

    Args:
        remote: the file and its published size and checksums.
        origins: https addresses of the file (or folders ending in ``/``), in order.
        folder: chainrule's cache folder for it; downloads are written there.
        title: the dataset's name in messages.
        also: other places the file may already be, e.g. in ``~/.keras/datasets``.

    Returns:
        ``(path, content)``.

    Raises:
        DatasetNotFoundError: not cached and not downloadable; the message names
            the file, the folder to put it in, and each failed attempt.
    """
    for path in (folder / remote.name, *also):
        if path.is_file():
            return path, _read_checked(path, remote, title, stacklevel=4)
    path, failures = download_file(remote, origins, folder)
    if path is None:
        raise _not_found_error(title, folder, [remote.name], failures,
                               f"download {remote.name} yourself and put it")
    return path, path.read_bytes()

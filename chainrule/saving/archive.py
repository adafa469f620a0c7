"""Reading and writing zip archives of JSON and arrays without trusting the file.

Everything here treats a file as hostile until proven otherwise:

* no pickle, ever: arrays are read by parsing the ``.npy`` header here (a
  strict pattern, no ``eval``) and only plain numeric dtypes are accepted;
* every member name is checked (no ``..``, no absolute or drive paths, no
  backslashes, no duplicates, only the names the caller expects);
* sizes are checked before anything is read: each member's declared size
  against a limit and against its compressed size (zip bombs), the total
  against a multiple of the archive's size, an array's header against its
  member's size (an array cannot declare more bytes than it holds);
* reading streams with a cap, so a member cannot produce more than it declared.

Any problem with the content raises :class:`~chainrule.saving.errors.InvalidArchiveError`
or :class:`~chainrule.saving.errors.UnsafeFileError` (both ``ValueError``), naming the file.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from chainrule.saving.errors import InvalidArchiveError, UnsafeFileError

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "SafeZipReader",
    "check_member_name",
    "read_json",
    "read_npy",
    "read_npz",
    "write_npz",
]

#: Exceptions the standard library's zip, zlib and struct code raise on damaged data.
ZIP_ERRORS: tuple = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
                     struct.error, NotImplementedError, RuntimeError, OverflowError, KeyError,
                     IndexError, UnicodeDecodeError, ValueError, OSError)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a file may declare, checked before anything is allocated.

    Attributes:
        max_members: most members in one zip archive.
        max_member_bytes: largest uncompressed size of one member.
        max_json_bytes: largest JSON member.
        max_ratio: largest uncompressed/compressed ratio of a member bigger
            than ``ratio_free_bytes`` (zip bombs reach thousands; weights, stored
            uncompressed, are 1).
        ratio_free_bytes: members up to this size are not ratio-checked.
        max_total_factor: the members together may hold at most this many
            times the archive's own size (plus ``ratio_free_bytes``).
        max_npy_header_bytes: largest ``.npy`` header.
        max_ndim: most dimensions of an array.
        build_bytes_per_value: the weights a config may make loading create take
            at most this many bytes per weight value the file holds ...
        min_build_bytes: ... or this many bytes, whichever is more ...
        max_build_bytes: ... and never more than this. (A zero-sized dimension
            counts as 1: a kernel ``(0, 2**29)`` counts as ``2**29`` values.)
        sample_values_per_value: every shape in a config may describe at most
            this many values per sample per weight value the file holds ...
        min_sample_values: ... or this many, whichever is more.

    Example:
        >>> import dataclasses
        >>> roomy = dataclasses.replace(DEFAULT_LIMITS, min_build_bytes=2**30)
        >>> roomy.build_budget(10) // 2**20
        1024
    """

    max_members: int = 100_000
    max_member_bytes: int = 16 * 2**30
    max_json_bytes: int = 64 * 2**20
    max_ratio: float = 200.0
    ratio_free_bytes: int = 2**20
    max_total_factor: float = 200.0
    max_npy_header_bytes: int = 65_536
    max_ndim: int = 32
    build_bytes_per_value: int = 8
    min_build_bytes: int = 32 * 2**20
    max_build_bytes: int = 16 * 2**30
    sample_values_per_value: int = 4
    min_sample_values: int = 2**22

    def build_budget(self, saved_values: int) -> int:
        """The bytes of weights a config may make loading create, for a file of ``saved_values``."""
        wanted = max(self.build_bytes_per_value * int(saved_values), self.min_build_bytes)
        return min(wanted, self.max_build_bytes)

    def sample_budget(self, saved_values: int) -> int:
        """The values per sample any shape in a config may describe."""
        return max(self.sample_values_per_value * int(saved_values), self.min_sample_values)


DEFAULT_LIMITS = Limits()

# Numeric dtypes only: booleans, signed and unsigned integers, IEEE floats.
_DESCR = re.compile(r"[<>|=]?(b1|i1|i2|i4|i8|u1|u2|u4|u8|f2|f4|f8)")
_HEADER = re.compile(
    r"\{\s*'descr'\s*:\s*'([^']{0,32})'\s*,\s*'fortran_order'\s*:\s*(True|False)\s*,"
    r"\s*'shape'\s*:\s*\(([0-9,\s]{0,2000})\)\s*,?\s*\}\s*"
)
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_PREFIXES = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
_CHUNK = 16 * 2**20
_MAX_DIM = 2**62  # beyond any array; NumPy itself refuses dimensions past 2**63 - 1


def _name(source: Any) -> str:
    return repr(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else repr(str(source))


def looks_like_pickle(head: bytes) -> bool:
    """True when ``head`` starts like a pickle stream (protocol 2 and later)."""
    return head[:2] in _PICKLE_PREFIXES


def check_member_name(name: str, source: str) -> None:
    """Refuse member names that could escape a directory or confuse a reader.

    Args:
        name: the member's name in the zip.
        source: the archive's name, for messages.

    Raises:
        UnsafeFileError: for absolute paths, ``..`` segments, backslashes, drive
            letters, control characters or empty segments.
    """
    bad = (
        not name
        or len(name) > 1024
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    )
    if bad:
        raise UnsafeFileError(
            f"{source} contains a member with an unsafe name {name!r} (absolute path, '..', "
            "backslash, drive or control character): chainrule refuses to read it. "
            f"Received: member name {name!r}"
        )


class SafeZipReader:
    """A zip archive opened for reading with every declared size checked first.

    Args:
        fileobj: a binary file object (seekable) holding the archive.
        source: the name to use in messages (usually the path).
        limits: the bounds to enforce.
        size: the archive's size in bytes (default: measured by seeking).

    Raises:
        InvalidArchiveError: if it is not a readable zip archive.
        UnsafeFileError: for unsafe names or sizes beyond the limits.

    Example:
        >>> buf = io.BytesIO()
        >>> with zipfile.ZipFile(buf, "w") as zf:
        ...     zf.writestr("config.json", "{}")
        >>> reader = SafeZipReader(buf, "example.zip")
        >>> reader.names
        ['config.json']
    """

    def __init__(self, fileobj: IO[bytes], source: str, limits: Limits = DEFAULT_LIMITS,
                 size: int | None = None, what: str = "zip archive") -> None:
        self.source, self.limits = source, limits
        if size is None:
            fileobj.seek(0, os.SEEK_END)
            size = fileobj.tell()
            fileobj.seek(0)
        self.size = int(size)
        try:
            self._zf = zipfile.ZipFile(fileobj, "r")
            infos = self._zf.infolist()
        except ZIP_ERRORS as e:
            raise InvalidArchiveError(
                f"{source} is not a {what}: it is not a readable zip file ({e})."
            ) from None
        if len(infos) > limits.max_members:
            raise UnsafeFileError(
                f"{source} declares {len(infos)} members, more than the limit of "
                f"{limits.max_members}. Received: {len(infos)} members"
            )
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            check_member_name(name, source)
            if name in self._infos:
                raise UnsafeFileError(
                    f"{source} contains the member {name!r} twice: refusing an ambiguous "
                    f"archive. Received: duplicate member {name!r}"
                )
            self._check_sizes(info)
            total += info.file_size
            self._infos[name] = info
        allowed = limits.max_total_factor * self.size + limits.ratio_free_bytes
        if total > allowed:
            raise UnsafeFileError(
                f"{source} declares {total} uncompressed bytes in all, implausibly many for a "
                f"file of {self.size} bytes (a zip bomb?). Received: {total} declared bytes"
            )

    def _check_sizes(self, info: zipfile.ZipInfo) -> None:
        src, lim, name = self.source, self.limits, info.filename
        if info.flag_bits & 0x1:
            raise InvalidArchiveError(f"{src}: member {name!r} is encrypted; chainrule archives "
                                      "never are. Received: an encrypted member")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InvalidArchiveError(
                f"{src}: member {name!r} uses compression method {info.compress_type}; only "
                f"stored and deflated members are read. Received: compress_type="
                f"{info.compress_type}"
            )
        if info.file_size < 0 or info.compress_size < 0 or info.header_offset < 0:
            raise InvalidArchiveError(f"{src}: member {name!r} has negative sizes or offsets.")
        if info.header_offset + info.compress_size > self.size:
            raise InvalidArchiveError(
                f"{src}: member {name!r} declares {info.compress_size} compressed bytes at offset "
                f"{info.header_offset}, past the end of the {self.size}-byte file (truncated?). "
                f"Received: compress_size={info.compress_size}"
            )
        if info.file_size > lim.max_member_bytes:
            raise UnsafeFileError(
                f"{src}: member {name!r} declares {info.file_size} bytes, more than the limit of "
                f"{lim.max_member_bytes}. Received: file_size={info.file_size}"
            )
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise InvalidArchiveError(
                f"{src}: stored member {name!r} declares {info.file_size} bytes but holds "
                f"{info.compress_size}. Received: file_size={info.file_size}"
            )
        if info.file_size > lim.ratio_free_bytes and (
            info.file_size > lim.max_ratio * max(info.compress_size, 1)
        ):
            raise UnsafeFileError(
                f"{src}: member {name!r} would expand from {info.compress_size} to "
                f"{info.file_size} bytes (ratio above {lim.max_ratio:g}: a zip bomb?). "
                f"Received: file_size={info.file_size}, compress_size={info.compress_size}"
            )

    @property
    def names(self) -> list[str]:
        """The member names, in archive order."""
        return list(self._infos)

    def info(self, name: str) -> zipfile.ZipInfo:
        """The checked :class:`zipfile.ZipInfo` of a member."""
        return self._infos[name]

    def open(self, name: str) -> IO[bytes]:
        """Open a member for streaming (it yields at most its declared size)."""
        try:
            return self._zf.open(self._infos[name], "r")
        except ZIP_ERRORS as e:
            raise InvalidArchiveError(f"{self.source}: cannot read member {name!r} ({e}).") from None

    def read(self, name: str, limit: int | None = None) -> bytes:
        """Read a whole member, refusing more than ``limit`` bytes (default: its declared size).

        Raises:
            UnsafeFileError: if the member declares more than ``limit``.
            InvalidArchiveError: if it is damaged (CRC, truncation, more data than declared).
        """
        info = self._infos[name]
        cap = info.file_size if limit is None else limit
        if info.file_size > cap:
            raise UnsafeFileError(
                f"{self.source}: member {name!r} declares {info.file_size} bytes, more than the "
                f"{cap} allowed for it. Received: file_size={info.file_size}"
            )
        try:
            with self.open(name) as f:
                data = f.read(info.file_size + 1)
        except (InvalidArchiveError, UnsafeFileError):
            raise
        except ZIP_ERRORS as e:
            raise InvalidArchiveError(f"{self.source}: member {name!r} is damaged ({e}).") from None
        if len(data) != info.file_size:
            raise InvalidArchiveError(
                f"{self.source}: member {name!r} holds {len(data)} bytes but declares "
                f"{info.file_size}. Received: {len(data)} bytes"
            )
        return data

    def close(self) -> None:
        """Close the underlying zip file."""
        self._zf.close()

    def __enter__(self) -> SafeZipReader:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_json(reader: SafeZipReader, name: str) -> Any:
    """Parse a JSON member (size-capped; deep nesting and bad UTF-8 are errors, not crashes)."""
    data = reader.read(name, reader.limits.max_json_bytes)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError, MemoryError) as e:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and over-long integers.
        raise InvalidArchiveError(
            f"{reader.source}: member {name!r} is not valid JSON ({type(e).__name__}: "
            f"{str(e)[:200]})."
        ) from None


def _parse_header(header: str, where: str) -> tuple[np.dtype, bool, tuple[int, ...]]:
    m = _HEADER.fullmatch(header)
    if m is None:
        if "'descr'" in header and re.search(r"'descr'\s*:\s*[\[(]", header):
            raise UnsafeFileError(
                f"{where} is a structured array (fields); chainrule loads plain numeric arrays "
                "only. Received: a structured dtype"
            )
        raise InvalidArchiveError(
            f"{where} has an unreadable .npy header. Received: header {header[:120]!r}"
        )
    descr, fortran, shape_text = m.group(1), m.group(2) == "True", m.group(3)
    if _DESCR.fullmatch(descr) is None:
        kind = "Python objects (pickled data)" if "O" in descr else f"dtype {descr!r}"
        raise UnsafeFileError(
            f"{where} holds {kind}; chainrule loads only numeric arrays (booleans, integers, "
            f"floats) and never unpickles. Received: descr={descr!r}"
        )
    parts = [p.strip() for p in shape_text.split(",")]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if any(not p.isdigit() or len(p) > 19 for p in parts):
        raise InvalidArchiveError(f"{where} has an invalid shape in its .npy header. "
                                  f"Received: shape ({shape_text})")
    return np.dtype(descr), fortran, tuple(int(p) for p in parts)


def read_npy(stream: IO[bytes], size: int, where: str, limits: Limits = DEFAULT_LIMITS) -> np.ndarray:
    """Read one ``.npy`` array of exactly ``size`` bytes from ``stream``, safely.

    The header is parsed here (a strict pattern, never ``eval``); its shape and
    dtype must account for exactly the bytes the member holds, so an array can
    never make the reader allocate more than the file contains.

    Args:
        stream: a binary stream positioned at the start of the ``.npy`` data.
        size: the member's declared size in bytes.
        where: a description for messages (file and member).
        limits: the bounds to enforce.

    Returns:
        A new, writable NumPy array.

    Raises:
        UnsafeFileError: for pickles, object/string/structured dtypes, absurd shapes.
        InvalidArchiveError: for anything else malformed.

    Example:
        >>> buf = io.BytesIO()
        >>> np.lib.format.write_array(buf, np.arange(3, dtype="int32"))
        >>> n = buf.tell(); _ = buf.seek(0)
        >>> read_npy(buf, n, "example")
        array([0, 1, 2], dtype=int32)
    """
    try:
        head = stream.read(10)
        if looks_like_pickle(head):
            raise UnsafeFileError(
                f"{where} is a Python pickle, not a .npy array; chainrule never unpickles "
                "(it could run code). Received: pickle data"
            )
        if len(head) < 10 or head[:6] != _NPY_MAGIC:
            raise InvalidArchiveError(f"{where} is not a .npy array (bad magic bytes). "
                                      f"Received: {head[:10]!r}")
        major = head[6]
        if major == 1:
            hlen, prefix = struct.unpack("<H", head[8:10])[0], 10
            extra = b""
        elif major in (2, 3):
            extra = stream.read(2)
            if len(extra) < 2:
                raise InvalidArchiveError(f"{where} is truncated in its .npy header.")
            hlen, prefix = struct.unpack("<I", head[8:10] + extra)[0], 12
        else:
            raise InvalidArchiveError(f"{where} has unsupported .npy format version {major}. "
                                      f"Received: version {major}.{head[7]}")
        if hlen > limits.max_npy_header_bytes or prefix + hlen > size:
            raise InvalidArchiveError(
                f"{where} declares a .npy header of {hlen} bytes, more than the member holds "
                f"or the limit of {limits.max_npy_header_bytes}. Received: header length {hlen}"
            )
        raw = stream.read(hlen)
        if len(raw) != hlen:
            raise InvalidArchiveError(f"{where} is truncated in its .npy header.")
        try:
            header = raw.decode("utf-8" if major == 3 else "latin1")
        except UnicodeDecodeError:
            raise InvalidArchiveError(f"{where} has an undecodable .npy header.") from None
        dtype, fortran, shape = _parse_header(header, where)
        if len(shape) > limits.max_ndim:
            raise UnsafeFileError(f"{where} declares {len(shape)} dimensions, more than "
                                  f"{limits.max_ndim}. Received: shape {shape}")
        if any(d > _MAX_DIM for d in shape):
            raise UnsafeFileError(f"{where} declares a dimension larger than an array can have "
                                  f"(2**62). Received: shape {shape}")
        count = 1
        for d in shape:
            count *= d
        nbytes = count * dtype.itemsize
        available = size - prefix - hlen
        if nbytes != available:
            kind = UnsafeFileError if nbytes > available else InvalidArchiveError
            raise kind(
                f"{where} declares an array of shape {shape} and dtype {dtype} ({nbytes} bytes), "
                f"but the member holds {available} bytes of data. Received: shape {shape}"
            )
        buf = np.empty(nbytes, dtype=np.uint8)
        view = memoryview(buf)
        pos = 0
        while pos < nbytes:
            chunk = stream.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                raise InvalidArchiveError(f"{where} is truncated: {pos} of {nbytes} data bytes.")
            view[pos:pos + len(chunk)] = chunk
            pos += len(chunk)
        if stream.read(1):
            raise InvalidArchiveError(f"{where} holds more data than its header declares.")
    except (UnsafeFileError, InvalidArchiveError):
        raise
    except ZIP_ERRORS as e:
        raise InvalidArchiveError(f"{where} is damaged ({type(e).__name__}: {e}).") from None
    try:
        return buf.view(dtype).reshape(shape, order="F" if fortran else "C")
    except (ValueError, OverflowError, MemoryError) as e:
        raise InvalidArchiveError(f"{where} has a shape NumPy cannot make ({type(e).__name__}: "
                                  f"{e}). Received: shape {shape}") from None


def npy_member_key(name: str) -> str:
    """``'dense/kernel.npy'`` → ``'dense/kernel'``."""
    return name[:-4]


def read_npz(fileobj: IO[bytes], source: str, limits: Limits = DEFAULT_LIMITS,
             size: int | None = None) -> dict[str, np.ndarray]:
    """Read an ``.npz`` archive of numeric arrays, in archive order, without pickle.

    Args:
        fileobj: a seekable binary file object.
        source: the name for messages.
        limits: the bounds to enforce.
        size: the archive's size (default: measured).

    Returns:
        ``{key: array}`` with the keys as written (member names without ``.npy``).

    Raises:
        InvalidArchiveError, UnsafeFileError: as :func:`read_npy`, or for members
            that are not ``.npy`` arrays.

    Example:
        >>> buf = io.BytesIO()
        >>> write_npz(buf, {"dense/bias": np.zeros(2, "float32")})
        >>> _ = buf.seek(0)
        >>> read_npz(buf, "example.npz")
        {'dense/bias': array([0., 0.], dtype=float32)}
    """
    with SafeZipReader(fileobj, source, limits, size, what=".npz archive") as reader:
        out: dict[str, np.ndarray] = {}
        for name in reader.names:
            if not name.endswith(".npy") or len(name) <= 4:
                raise UnsafeFileError(
                    f"{source} contains an unexpected member {name!r}: an .npz archive holds "
                    f".npy arrays only. Received: member {name!r}"
                )
            info = reader.info(name)
            with reader.open(name) as stream:
                out[npy_member_key(name)] = read_npy(stream, info.file_size,
                                                     f"{source} member {name!r}", limits)
        return out


def write_npz(fileobj: IO[bytes], arrays: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
    """Write arrays as an uncompressed ``.npz`` archive (NumPy can read it; no pickle).

    Args:
        fileobj: a binary file object (need not be seekable).
        arrays: ``{key: array}`` or ``(key, array)`` pairs; keys may contain ``/``.

    Raises:
        ValueError: for an array NumPy would need pickle for (object dtype).
    """
    items = arrays.items() if isinstance(arrays, Mapping) else arrays
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED) as zf:
        for key, value in items:
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                raise ValueError(f"Cannot save {key!r}: dtype {arr.dtype} is not numeric. "
                                 f"Received: dtype {arr.dtype}")
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, arr, allow_pickle=False)


def open_npz_bytes(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """:func:`read_npz` on bytes already read (a member of an outer archive)."""
    return read_npz(io.BytesIO(data), source, limits, size=len(data))

"""Reading ``.npz`` files, including Keras's object arrays, without ``allow_pickle``.

A numeric member is read by NumPy with pickling disabled. A member whose
dtype is ``object`` (Keras's IMDB and Reuters sequences: one Python list of
ints per review) is a pickle stream after the ``.npy`` header; it is read by
:func:`chainrule.datasets._safe_pickle.loads_safely`, which understands plain
data and NumPy arrays only and never imports or calls anything the file names.

Every member is bounded before it is read: a member that claims to expand
more than deflate can (see :data:`chainrule.datasets._idx.MAX_DEFLATE_RATIO`)
is refused, and no more than its declared size is decompressed.

Example:
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> np.savez(buf, a=np.arange(3))
    >>> read_npz(buf.getvalue(), "demo.npz")["a"]
    array([0, 1, 2])
"""

from __future__ import annotations

import ast
import io
import zipfile

import numpy as np

from chainrule.datasets._errors import CorruptDatasetError, UnsafeDatasetError
from chainrule.datasets._idx import MAX_DEFLATE_RATIO
from chainrule.datasets._safe_pickle import PickleFormatError, UnsafePickleError, loads_safely

__all__ = ["read_npy", "read_npz"]

_NPY_MAGIC = b"\x93NUMPY"


def _header(data: bytes, source: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """Parse a ``.npy`` header: (dtype, shape, fortran_order, offset of the data)."""
    if data[:6] != _NPY_MAGIC or len(data) < 10:
        raise CorruptDatasetError(f"{source} is not a .npy array (bad magic number).")
    major = data[6]
    if major == 1:
        length, start = int.from_bytes(data[8:10], "little"), 10
    elif major in (2, 3):
        length, start = int.from_bytes(data[8:12], "little"), 12
    else:
        raise CorruptDatasetError(f"{source} is a .npy array of unknown version {major}.")
    if length > 65536 or start + length > len(data):
        raise CorruptDatasetError(f"{source} has a truncated or oversized .npy header.")
    text = data[start : start + length].decode("utf-8" if major == 3 else "latin-1")
    try:
        header = ast.literal_eval(text)  # literals only: no names, no calls
        descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
        if not isinstance(descr, str):
            raise TypeError("structured dtypes are not read")
        dtype = np.dtype(descr)
        if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
            raise TypeError(f"bad shape {shape!r}")
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError) as e:
        raise CorruptDatasetError(f"{source} has an invalid .npy header ({e}).") from None
    return dtype, shape, bool(fortran), start + length


def read_npy(data: bytes, source: str) -> np.ndarray:
    """Decode one ``.npy`` member: numbers directly, object arrays through the safe reader.

    Args:
        data: the member's bytes.
        source: how to name it in messages, e.g. ``"imdb.npz:x_train"``.

    Returns:
        The array.

    Raises:
        UnsafeDatasetError: an object array's pickle stream asks for anything
            but plain data; nothing of it was run.
        CorruptDatasetError: anything else wrong with the member.
    """
    dtype, shape, fortran, offset = _header(data, source)
    count = 1
    for n in shape:
        count *= n
    if dtype.hasobject:
        if dtype != np.dtype(object):
            raise CorruptDatasetError(f"{source} holds records with objects; not read.")
        try:
            value = loads_safely(data[offset:])
        except UnsafePickleError as e:
            raise UnsafeDatasetError(
                f"{source} was refused: {e}. The file may have been tampered with; delete it "
                "(it will be downloaded again)."
            ) from None
        except PickleFormatError as e:
            raise CorruptDatasetError(f"{source} is damaged: {e}.") from None
        if not isinstance(value, np.ndarray) or value.dtype != object or value.shape != shape:
            raise CorruptDatasetError(
                f"{source} should hold an object array of shape {shape}; it holds "
                f"{type(value).__name__} {getattr(value, 'shape', '')}."
            )
        return value
    if len(data) - offset != count * dtype.itemsize:
        raise CorruptDatasetError(
            f"{source} is truncated or too long: shape {shape} of {dtype} needs "
            f"{count * dtype.itemsize} bytes after the header, it has {len(data) - offset}."
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def read_npz(data: bytes, source: str) -> dict[str, np.ndarray]:
    """Read every ``.npy`` member of an ``.npz`` archive (see the module notes).

    Args:
        data: the archive's bytes.
        source: the file's name for messages.

    Returns:
        ``{member name without .npy: array}``.

    Raises:
        UnsafeDatasetError: an object member asks for code to be run.
        CorruptDatasetError: the file is not a valid archive of arrays.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise CorruptDatasetError(f"{source} is not an .npz (zip) file ({e}).") from None
    arrays: dict[str, np.ndarray] = {}
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[: -len(".npy")]
            where = f"{source}:{name}"
            if info.file_size > max(info.compress_size, 1) * MAX_DEFLATE_RATIO + 1024:
                raise CorruptDatasetError(
                    f"{where} claims {info.file_size} bytes from {info.compress_size} "
                    "compressed bytes, more than deflate can produce; not read."
                )
            try:
                with archive.open(info) as member:
                    raw = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
                raise CorruptDatasetError(f"{where} cannot be read ({e}).") from None
            if len(raw) != info.file_size:
                raise CorruptDatasetError(f"{where} does not have its declared size.")
            arrays[name] = read_npy(raw, where)
    return arrays

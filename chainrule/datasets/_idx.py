"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then
the values in C order, big-endian::

    byte 0-1   0x00 0x00
    byte 2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
               0x0D float32, 0x0E float64
    byte 3     number of dimensions
    then       ndim x uint32 sizes, then prod(sizes) values

Every check is made before NumPy sees the bytes, so a broken file gives a
:class:`CorruptDatasetError` that says what is wrong, never a NumPy traceback.

Example:
    >>> import numpy as np
    >>> data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> data[:4].hex(), len(data)
    ('00000802', 18)
    >>> parse_idx(data)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from chainrule.datasets._errors import CorruptDatasetError

__all__ = ["IDX_DTYPES", "MAX_DEFLATE_RATIO", "decompress", "decompress_idx", "encode_idx",
           "parse_idx", "read_idx"]

#: IDX type code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
#: Deflate cannot expand data by more than about 1032 to 1: a gzip file of n bytes
#: holds at most this many times n bytes (plus a little), whatever its header says.
MAX_DEFLATE_RATIO = 1032


def parse_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an uncompressed IDX file.

    Args:
        data: the whole file content.
        source: how to name the data in error messages (a file path).

    Returns:
        A new, writable array in native byte order with the declared shape and
        type.

    Raises:
        CorruptDatasetError: when the magic number, the type code or the number
            of dimensions is invalid, or the file holds more or fewer bytes than
            its header declares.
    """
    data = memoryview(data).cast("B")
    if len(data) < 4:
        raise CorruptDatasetError(
            f"{source} is not an IDX file: it holds {len(data)} bytes, fewer than the "
            "4-byte magic number."
        )
    zero, code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or code not in IDX_DTYPES:
        raise CorruptDatasetError(
            f"{source} is not an IDX file: its magic number is 0x{bytes(data[:4]).hex()}; "
            "an IDX file starts with 0x0000 then a type code among "
            f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}."
        )
    if ndim == 0:
        raise CorruptDatasetError(f"{source} is not a valid IDX file: it declares 0 dimensions.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDatasetError(
            f"{source} is truncated: its header declares {ndim} dimensions, which need "
            f"{header} header bytes, but the file holds {len(data)} bytes."
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    count = 1
    for size in shape:  # Python ints: no overflow for absurd headers
        count *= size
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header declares"
        raise CorruptDatasetError(
            f"{source} is {what}: its header declares shape {tuple(shape)} of "
            f"{dtype.newbyteorder('=').name}, which needs {expected} bytes, but the file "
            f"holds {len(data)} bytes."
        )
    values = np.frombuffer(data, dtype=dtype, count=count, offset=header)
    return values.reshape(shape).astype(dtype.newbyteorder("="), copy=True)


def decompress(data: bytes, source: str = "data") -> bytes:
    """Return ``data`` decompressed if it is a gzip stream, unchanged otherwise.

    The gzip magic bytes decide, not the file name, so a compressed file without
    ``.gz`` (or the reverse) still reads.

    Args:
        data: file content.
        source: how to name the data in error messages.

    Returns:
        The uncompressed bytes.

    Raises:
        CorruptDatasetError: when a gzip stream is truncated or damaged.
    """
    if bytes(data[:2]) != _GZIP_MAGIC:
        return bytes(data)
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptDatasetError(
            f"{source} is a damaged or truncated gzip file ({type(e).__name__}: {e})."
        ) from None


def _expected_size(head: bytes) -> int | None:
    """The file size an IDX header promises, or None when ``head`` is not a valid header."""
    if len(head) < 4 or head[0] or head[1] or head[2] not in IDX_DTYPES or head[3] == 0:
        return None
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        return None
    count = 1
    for size in struct.unpack(f">{ndim}I", head[4 : 4 + 4 * ndim]):
        count *= size
    return 4 + 4 * ndim + count * IDX_DTYPES[head[2]].itemsize


def decompress_idx(data: bytes, source: str = "data") -> bytes:
    """Decompress a gzip IDX file with a bound on the output; plain data passes unchanged.

    The IDX header is decompressed first. A header that promises more bytes
    than a gzip file of this size can hold (see :data:`MAX_DEFLATE_RATIO`) is
    refused before the rest is decompressed, and no more than the promised
    size (plus one byte, to detect a longer file) is ever produced, so a small
    hostile file cannot exhaust memory.

    Args:
        data: file content, gzip-compressed or not.
        source: how to name the data in error messages.

    Returns:
        The uncompressed bytes (checked by :func:`parse_idx` afterwards).

    Raises:
        CorruptDatasetError: a damaged or truncated gzip stream, or a header
            that promises more than the file can hold.
    """
    if bytes(data[:2]) != _GZIP_MAGIC:
        return bytes(data)
    bound = len(data) * MAX_DEFLATE_RATIO + 1024
    pieces: list[bytes] = []
    have = 0
    limit = 4 + 4 * 255  # the longest possible header, until the header is known
    expected = None
    rest = bytes(data)
    try:
        while rest[:2] == _GZIP_MAGIC and have <= limit:  # one gzip member after another
            stream = zlib.decompressobj(wbits=31)
            while not stream.eof and have <= limit:
                want = limit + 1 - have
                piece = stream.decompress(rest, want)
                rest = stream.unconsumed_tail
                pieces.append(piece)
                have += len(piece)
                if expected is None:
                    head = b"".join(pieces)
                    if len(head) >= 4 and (len(head) >= 4 + 4 * head[3] or stream.eof):
                        expected = _expected_size(head)
                        if expected is None:
                            return head  # not IDX: parse_idx says what is wrong
                        if expected > bound:
                            raise CorruptDatasetError(
                                f"{source} is not a valid IDX file: its header promises "
                                f"{expected} bytes, more than a gzip file of {len(data)} "
                                f"bytes can hold (at most {bound}); it was not decompressed."
                            )
                        limit = expected
                if not piece and not rest:
                    break
            if not stream.eof:
                if have > limit:
                    break  # longer than promised: parse_idx reports it
                raise CorruptDatasetError(
                    f"{source} is a damaged or truncated gzip file (the compressed stream "
                    "ends early)."
                )
            rest = stream.unused_data
    except zlib.error as e:
        raise CorruptDatasetError(
            f"{source} is a damaged or truncated gzip file (zlib.error: {e})."
        ) from None
    return b"".join(pieces)[: limit + 1]


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not.

    Args:
        path: the file to read.

    Returns:
        The array it holds (see :func:`parse_idx`).

    Raises:
        CorruptDatasetError: when the file is not valid IDX.
        OSError: when the file cannot be read.
    """
    with open(path, "rb") as f:
        raw = f.read()
    source = os.fspath(path)
    return parse_idx(decompress_idx(raw, source), source)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as the bytes of an (uncompressed) IDX file.

    Args:
        array: an array of uint8, int8, int16, int32, float32 or float64 with at
            least one dimension.

    Returns:
        The IDX bytes; ``gzip.compress`` them for a ``.gz`` file.

    Raises:
        TypeError: for another dtype.
        ValueError: for a 0-d array or a dimension of 2**32 or more.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            "array must have an IDX type (uint8, int8, int16, int32, float32, float64). "
            f"Received: array.dtype={array.dtype}"
        )
    if array.ndim == 0 or array.ndim > 255 or max(array.shape) >= 2**32:
        raise ValueError(
            "array must have 1 to 255 dimensions, each below 2**32. "
            f"Received: array.shape={array.shape}"
        )
    code = _CODES[native]
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()

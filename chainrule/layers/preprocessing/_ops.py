"""The feature and text ops of the preprocessing layers, on raw arrays.

Each is a :class:`~chainrule.autograd.Function`, so a model that starts with a
preprocessing layer is captured and replayed like any other: a lookup, an
encoding, a bucketing or a hash runs inside the op's ``forward`` at every
replay. None has a gradient (``differentiable = False``). The image ops are
in :mod:`chainrule.ops._image_ops`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.layers.preprocessing import _hash

__all__ = [
    "Lookup", "Encode", "Digitize", "HashBins", "TextToIds",
    "lookup", "encode", "digitize", "hash_bins", "string_buckets", "as_strings",
]


def as_strings(x: Any) -> np.ndarray:
    """``x`` as a NumPy array of Python ``str`` (bytes decoded as UTF-8)."""
    a = np.asarray(x)
    if a.dtype.kind == "U":
        return a
    if a.dtype.kind == "S":
        return np.char.decode(a, "utf-8")
    if a.dtype.kind == "O":
        flat = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in a.reshape(-1)]
        return np.array(flat, dtype=str).reshape(a.shape) if flat else a.astype(str)
    if a.dtype.kind == "f":  # a symbolic dry run feeds zeros: integers as text
        return a.astype(np.int64).astype(str)
    return a.astype(str)


# ---------------------------------------------------------------- lookups and encodings


def _lookup_array(x: np.ndarray, table: dict, strings: bool, num_oov: int, oov_start: int,
                  mask_token: Any, mask_value: int, hashed: Any, layer: str) -> np.ndarray:
    """Token → index through ``table``; out-of-vocabulary tokens to the OOV buckets."""
    keys = as_strings(x) if strings else np.asarray(x).astype(np.int64)
    if keys.size == 0:
        return np.zeros(keys.shape, dtype=np.int64)
    uniq, inverse = np.unique(keys.reshape(-1), return_inverse=True)
    found = np.fromiter((table.get(k, -1) for k in uniq.tolist()), dtype=np.int64,
                        count=len(uniq))
    oov = found < 0
    if mask_token is not None:
        is_mask = uniq == mask_token
        found[is_mask] = mask_value
        oov &= ~is_mask
    if oov.any():
        if num_oov == 0:
            raise shape_error(
                f'Layer "{layer}": when num_oov_indices=0 all inputs must be in the vocabulary; '
                f"found out-of-vocabulary values {uniq[oov][:5].tolist()}. Consider "
                f"num_oov_indices=1. Received: values {uniq[oov][:5].tolist()}")
        if num_oov == 1:
            found[oov] = oov_start
        elif hashed is None:  # integer keys: floormod, as Keras
            found[oov] = np.mod(uniq[oov], num_oov) + oov_start
        else:
            found[oov] = hashed(uniq[oov], num_oov) + oov_start
    return found[inverse].reshape(keys.shape)


class Lookup(Function):
    """Map tokens (strings or integers) to vocabulary indices, or indices back to tokens."""

    differentiable = False

    def __init__(self, table: dict, strings: bool, num_oov: int, oov_start: int,
                 mask_token: Any, mask_value: int, hashed: Any, layer: str,
                 inverse: Any = None) -> None:
        self.table, self.strings, self.num_oov, self.oov_start = table, strings, num_oov, oov_start
        self.mask_token, self.mask_value, self.hashed, self.layer = (
            mask_token, mask_value, hashed, layer)
        self.inverse = inverse  # (tokens array, oov token): index → token

    def forward(self, x):
        x = backend.to_numpy(x) if not isinstance(x, np.ndarray) else x
        if self.inverse is not None:
            tokens, oov_token = self.inverse
            idx = np.asarray(x).astype(np.int64)
            ok = (idx >= 0) & (idx < len(tokens))
            out = np.where(ok, tokens[np.clip(idx, 0, max(len(tokens) - 1, 0))], oov_token)
            return out.astype(tokens.dtype) if tokens.dtype.kind != "O" else out
        return _lookup_array(x, self.table, self.strings, self.num_oov, self.oov_start,
                             self.mask_token, self.mask_value, self.hashed, self.layer)


def lookup(x: Any, table: dict, strings: bool, num_oov: int = 1, oov_start: int = 0,
           mask_token: Any = None, mask_value: int = 0, hashed: Any = None,
           layer: str = "lookup", inverse: Any = None) -> Tensor:
    """Vocabulary lookup as an op (no gradient).

    Args:
        x: tokens (a string or integer array).
        table: ``{token: index}``.
        strings: whether tokens are strings (else integers).
        num_oov: out-of-vocabulary buckets (0: unknown tokens are an error).
        oov_start: the index of the first OOV bucket.
        mask_token: the token mapped to ``mask_value`` (None: no mask).
        mask_value: the index of the mask token.
        hashed: ``f(tokens, n) -> buckets`` for several OOV buckets (None: floormod).
        layer: the layer's name, for errors.
        inverse: ``(tokens, oov_token)`` to map indices back to tokens instead.

    Returns:
        An int64 Tensor of ``x``'s shape (tokens, for ``inverse``).

    Example:
        >>> lookup(np.array(["a", "c", "b"]), {"a": 1, "b": 2}, strings=True).data
        array([1, 0, 2])
    """
    return Lookup(table, strings, num_oov, oov_start, mask_token, mask_value, hashed, layer,
                  inverse)(x)


class Encode(Function):
    """Indices → one-hot, multi-hot, counts or TF-IDF (Keras's ``encode_categorical_inputs``).

    ``one_hot`` adds an axis of ``depth`` (replacing a last axis of 1);
    ``multi_hot``/``count``/``tf_idf`` reduce the last axis of a rank-2 input
    (a rank-1 input is one sample). Indices outside ``[0, depth)`` are dropped
    when ``drop_out_of_range`` (a lookup's mask), else an error.
    """

    differentiable = False

    def __init__(self, mode: str, depth: int, dtype: Any, idf: Any = None,
                 drop_out_of_range: bool = False, layer: str = "") -> None:
        self.mode, self.depth, self.dtype, self.idf = mode, depth, dtype, idf
        self.drop, self.layer = drop_out_of_range, layer

    def forward(self, x):
        idx = np.asarray(backend.to_numpy(x)).astype(np.int64)
        depth = self.depth
        bad = (idx < 0) | (idx >= depth)
        if bad.any() and not self.drop:
            raise shape_error(
                f'Layer "{self.layer}" expects integer inputs in [0, num_tokens) with '
                f"num_tokens={depth}. Received: values from {int(idx.min())} to "
                f"{int(idx.max())}")
        if idx.ndim == 0:
            idx, bad = idx.reshape(1), bad.reshape(1)
        if self.mode == "one_hot":
            if idx.ndim > 1 and idx.shape[-1] == 1:
                idx, bad = idx[..., 0], bad[..., 0]
            out = np.zeros(idx.shape + (depth,), dtype=self.dtype)
            flat = out.reshape(-1, depth)
            rows = np.nonzero(~bad.reshape(-1))[0]
            flat[rows, idx.reshape(-1)[rows]] = 1
            return backend.as_array(out)
        if idx.ndim > 2:
            raise shape_error(
                f'Layer "{self.layer}": output_mode="{self.mode}" supports inputs of rank 1 or '
                f"2 (one sample, or a batch of samples). Received: inputs of shape {idx.shape}")
        one = idx.ndim == 1
        idx2, bad2 = (idx[None], bad[None]) if one else (idx, bad)
        n = idx2.shape[0]
        rows = np.repeat(np.arange(n), idx2.shape[1])
        keep = ~bad2.reshape(-1)
        flat = rows[keep] * depth + idx2.reshape(-1)[keep]
        counts = np.bincount(flat, minlength=n * depth).reshape(n, depth)
        if self.mode == "multi_hot":
            counts = np.minimum(counts, 1)
        out = counts.astype(self.dtype)
        if self.mode == "tf_idf":
            out = out * np.asarray(self.idf, dtype=self.dtype)
        return backend.as_array(out[0] if one else out)


def encode(x: Any, mode: str, depth: int, dtype: Any = None, idf: Any = None,
           drop_out_of_range: bool = False, layer: str = "encode") -> Tensor:
    """Encode integer indices as ``one_hot``, ``multi_hot``, ``count`` or ``tf_idf`` (no gradient).

    Args:
        x: integer indices, rank 1 or 2 (any rank for ``one_hot``).
        mode: the encoding.
        depth: the number of classes (the output's last axis).
        dtype: the output's dtype (default floatx).
        idf: weights of shape ``(depth,)`` for ``tf_idf``.
        drop_out_of_range: ignore indices outside ``[0, depth)`` instead of raising.
        layer: the layer's name, for errors.

    Returns:
        A Tensor: ``x.shape + (depth,)`` for ``one_hot``; ``x.shape[:-1] + (depth,)`` else.

    Example:
        >>> encode(np.array([[0, 2, 2]]), "count", 3).data
        array([[1., 0., 2.]], dtype=float32)
    """
    return Encode(mode, int(depth), np.dtype(dtype or backend.floatx()), idf, drop_out_of_range,
                  layer)(x)


class Digitize(Function):
    """The index of the bucket each value falls in (``np.digitize`` with Keras's boundaries)."""

    differentiable = False

    def __init__(self, boundaries: np.ndarray) -> None:
        self.boundaries = boundaries

    def forward(self, x):
        x = np.asarray(backend.to_numpy(x))
        return backend.as_array(np.digitize(x, self.boundaries).astype(np.int32))


def digitize(x: Any, boundaries: Any) -> Tensor:
    """Bucket indices of ``x`` for sorted ``boundaries`` (no gradient).

    A value ``v`` goes to bucket ``i`` when ``boundaries[i-1] <= v < boundaries[i]``.

    Example:
        >>> digitize(np.array([-1.0, 0.0, 1.5]), [0.0, 1.0]).data
        array([0, 1, 2], dtype=int32)
    """
    return Digitize(np.asarray(boundaries, dtype=np.float64))(x)


class HashBins(Function):
    """Values → hash buckets, as Keras's ``Hashing`` (FarmHash64, or SipHash-2-4 with a salt)."""

    differentiable = False

    def __init__(self, num_bins: int, mask_value: Any, salt: Any) -> None:
        self.num_bins, self.mask_value, self.salt = num_bins, mask_value, salt

    def forward(self, x):
        x = np.asarray(backend.to_numpy(x))
        return hash_values(x, self.num_bins, self.mask_value, self.salt)


def hash_values(x: np.ndarray, num_bins: int, mask_value: Any, salt: Any) -> np.ndarray:
    """The buckets of Keras's ``Hashing`` for an array of values (int64)."""
    bins = num_bins
    mask = None
    if x.dtype.kind in "fiub":
        keys = x.astype(np.int64)
        if mask_value is not None and bins > 1:
            mask = keys == int(mask_value)
        text = keys.astype(str)
    else:
        text = as_strings(x)
        if mask_value is not None and bins > 1:
            mask = text == str(mask_value)
    if mask is not None:
        bins -= 1
    out = string_buckets(text, bins, salt)
    if mask is not None:
        out = np.where(mask, 0, out + 1)
    return out


def string_buckets(text: np.ndarray, bins: int, salt: Any = None) -> np.ndarray:
    """``fingerprint(s) % bins`` for each string (SipHash-2-4 keyed by ``salt`` when given)."""
    if text.size == 0:
        return np.zeros(text.shape, dtype=np.int64)
    uniq, inverse = np.unique(text.reshape(-1), return_inverse=True)
    if salt is None:
        h = [_hash.fingerprint64(s.encode("utf-8")) % bins for s in uniq.tolist()]
    else:
        h = [_hash.siphash24(s.encode("utf-8"), salt[0], salt[1]) % bins for s in uniq.tolist()]
    return np.asarray(h, dtype=np.int64)[inverse].reshape(text.shape)


def hash_bins(x: Any, num_bins: int, mask_value: Any = None, salt: Any = None) -> Tensor:
    """Hash each value of ``x`` into ``[0, num_bins)`` as Keras's ``Hashing`` does (no gradient).

    Args:
        x: strings or integers (floats are truncated to integers, as Keras does).
        num_bins: the number of buckets, the mask's included.
        mask_value: a value that goes to bucket 0 (the others to ``[1, num_bins)``).
        salt: ``[k0, k1]`` for the keyed SipHash; None for FarmHash64's fingerprint.

    Returns:
        An int64 Tensor of ``x``'s shape.

    Example:
        >>> hash_bins(np.array(["A", "B"]), 3).data.shape
        (2,)
    """
    return HashBins(int(num_bins), mask_value, None if salt is None else list(salt))(x)


class TextToIds(Function):
    """Strings → token indices through ``tokenize`` and a :func:`lookup`, padded per batch.

    The output is ``(batch, length)`` int64: ``length`` is ``sequence_length``
    when given (longer sequences cut, shorter ones padded with ``pad``), else
    the longest sequence of the batch.
    """

    differentiable = False

    def __init__(self, tokenize: Callable, lookup_fn: Callable, sequence_length: Any,
                 pad: int) -> None:
        self.tokenize, self.lookup_fn = tokenize, lookup_fn
        self.sequence_length, self.pad = sequence_length, pad

    def forward(self, x):
        docs = self.tokenize(np.asarray(backend.to_numpy(x) if not isinstance(x, np.ndarray)
                                        else x))
        lengths = [len(d) for d in docs]
        flat = [t for d in docs for t in d]
        ids = self.lookup_fn(np.array(flat, dtype=str)) if flat else np.zeros(0, np.int64)
        width = self.sequence_length if self.sequence_length is not None else max(lengths,
                                                                                    default=0)
        out = np.full((len(docs), width), self.pad, dtype=np.int64)
        start = 0
        for i, n in enumerate(lengths):
            m = min(n, width)
            out[i, :m] = ids[start:start + m]
            start += n
        return out

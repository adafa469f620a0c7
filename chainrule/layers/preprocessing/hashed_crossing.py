"""``HashedCrossing``: crosses of categorical features by the hashing trick, as Keras hashes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing import _hash, _ops
from chainrule.layers.preprocessing._utils import keep_integers

__all__ = ["HashedCrossing"]

_M64 = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
_HASH_KEY = 0xDECAFCAFFE  # TensorFlow's default key of sparse.cross_hashed


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TensorFlow's ``FingerprintCat64``: two 64-bit fingerprints combined into one.

    Example:
        >>> fingerprint_cat64(0, 0) == fingerprint_cat64(0, 0) != fingerprint_cat64(0, 1)
        True
    """
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _M64) * _MUL) & _M64
    result = (result * _MUL) & _M64
    result = (_shift_mix(result) * _MUL) & _M64
    return _shift_mix(result)


def _feature_hashes(x: np.ndarray) -> list[int]:
    """Integers hash as their own 64-bit value, text as its FarmHash ``Fingerprint64``."""
    flat = x.reshape(-1)
    if flat.dtype.kind in "iu":
        return [int(v) & _M64 for v in flat.astype(np.int64).tolist()]
    return [_hash.fingerprint64(s.encode("utf-8")) for s in _ops.as_strings(flat).tolist()]


class CrossHash(Function):
    """Feature columns → ``FingerprintCat64`` chain of their hashes ``% num_bins`` (no gradient)."""

    differentiable = False

    def __init__(self, num_bins: int) -> None:
        self.num_bins = num_bins

    def forward(self, *xs):
        cols = [_feature_hashes(np.asarray(backend.to_numpy(x))) for x in xs]
        out = []
        for row in zip(*cols):
            h = _HASH_KEY
            for v in row:
                h = fingerprint_cat64(h, v)
            out.append(h % self.num_bins)
        shape = np.asarray(backend.to_numpy(xs[0])).shape
        return backend.as_array(np.asarray(out, dtype=np.int64).reshape(shape))


class HashedCrossing(Layer):
    """Cross categorical features: ``hash(concatenate(features)) % num_bins``, Keras's buckets.

    Each feature is hashed (integers as their 64-bit value, strings with FarmHash's
    ``Fingerprint64``) and the hashes are chained with TensorFlow's
    ``FingerprintCat64`` from its default key, as ``tf.sparse.cross_hashed`` does:
    the same bins as Keras. Inputs are scalars or batches of scalars.

    Args:
        num_bins: the number of hash bins.
        output_mode: ``"int"`` (bin indices, int64) or ``"one_hot"`` (floatx vectors).
        sparse: must be False (chainrule has no sparse tensors).
        **kwargs: layer arguments (``name``, ``dtype``).

    Input shape:
        a tuple or list of at least two arrays of one shape: ``()``, ``(batch,)`` or
        ``(batch, 1)``, of integers or strings.

    Output shape:
        the inputs' shape (``"int"``), or ``(batch, num_bins)`` (``"one_hot"``).

    Raises:
        ValueError: for bad arguments or inputs, naming them.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> layer = cr.layers.HashedCrossing(num_bins=5)
        >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])))
        Tensor([1, 4, 1, 1, 3], dtype=int64)
    """

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False,
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or \
                num_bins <= 0:
            raise ValueError(f"HashedCrossing {self.name!r}: num_bins must be a positive "
                             f"integer. Received: num_bins={num_bins!r}")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"HashedCrossing {self.name!r}: output_mode must be 'int' or "
                             f"'one_hot'. Received: output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"HashedCrossing {self.name!r}: chainrule has no sparse tensors; "
                             f"outputs are dense. Received: sparse={sparse!r}")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (list, tuple)):
            inputs = type(inputs)(keep_integers(np.asarray(x) if isinstance(x, list) else x)
                                  for x in inputs)
        return super().__call__(inputs, *args, **kwargs)

    def _check(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            what = (f"{len(inputs)} input" if isinstance(inputs, (list, tuple))
                    else f"one {type(inputs).__name__}")
            raise ValueError(f"HashedCrossing {self.name!r} should be called on a list or tuple "
                             f"of at least two inputs. Received: {what}")
        shapes = [tuple(x.shape) for x in inputs]
        first = shapes[0]
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(f"HashedCrossing {self.name!r}: inputs should have shape (), "
                             f"(batch_size,) or (batch_size, 1). Received: shapes {shapes}")
        if any(s != first for s in shapes[1:]):
            raise ValueError(f"HashedCrossing {self.name!r}: inputs should have equal shapes. "
                             f"Received: shapes {shapes}")
        kinds = [np.dtype(x.dtype).kind for x in inputs]
        if any(k not in "iuUSO" for k in kinds):
            raise ValueError(f"HashedCrossing {self.name!r}: inputs should have an integer or "
                             "string dtype. Received: dtypes "
                             f"{[str(np.dtype(x.dtype)) for x in inputs]}")

    def call(self, inputs: Any) -> Any:
        self._check(inputs)
        bins = CrossHash(self.num_bins)(*inputs)
        if self.output_mode == "int":
            return bins
        if bins.ndim == 2:  # (batch, 1) → one vector per sample, as Keras encodes it
            from chainrule import ops  # noqa: PLC0415

            bins = ops.squeeze(bins, -1)
        return _ops.encode(bins, "one_hot", self.num_bins, self.dtype, layer=self.name)

    def compute_output_shape(self, input_shape: Any) -> Any:
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        return (first[:-1] if len(first) == 2 else first) + (self.num_bins,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

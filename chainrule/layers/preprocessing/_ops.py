"""The ops of the preprocessing layers, on raw arrays.

Each is a :class:`~chainrule.autograd.Function`, so a model that starts with a
preprocessing layer is captured and replayed like any other: a lookup, an
encoding or a random image transform runs inside the op's ``forward`` at
every replay, random draws included (as ``ops.dropout`` draws its mask).

Lookups, encodings, bucketing and hashing have no gradient
(``differentiable = False``); the image ops (:class:`Warp`, the flips, the
contrast and brightness changes) are linear in the image and have a
hand-written backward, checked numerically in the tests.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.layers.preprocessing import _hash

__all__ = [
    "Lookup", "Encode", "Digitize", "HashBins", "TextToIds", "Warp", "RandomWarp",
    "RandomFlipOp", "RandomContrastOp", "RandomBrightnessOp",
    "lookup", "encode", "digitize", "hash_bins", "warp", "affine_warp", "resize_images",
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


def is_string_array(a: Any) -> bool:
    """Whether ``a`` holds text (str, bytes, or objects that are all str/bytes)."""
    a = np.asarray(a)
    if a.dtype.kind in "US":
        return True
    return a.dtype.kind == "O" and all(isinstance(v, (str, bytes)) for v in a.reshape(-1))


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


# ---------------------------------------------------------------- images


_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _map_coordinates(c: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Map sampling coordinates outside ``[0, n-1]`` inside, by ``mode`` (TensorFlow's rules).

    ``reflect`` mirrors about the edge of the last pixel (d c b a | a b c d | d c b a),
    ``wrap`` repeats the image, ``nearest`` clamps; ``constant`` leaves them (the
    pixels read outside take ``fill_value``).
    """
    if mode == "constant":
        return c
    if mode == "nearest":
        return np.clip(c, 0, n - 1)
    if n <= 1:
        return np.zeros_like(c)
    c = c.copy()
    low, high = c < 0, c > n - 1  # one or the other, decided before either moves a point
    if mode == "reflect":
        period = 2.0 * n
        v = c[low]
        v = np.where(v < -period, period * np.trunc(-v / period) + v, v)
        c[low] = np.where(v < -n, v + period, -v - 1)
        v = c[high]
        v = v - period * np.trunc(v / period)
        c[high] = np.where(v >= n, period - v - 1, v)
    else:  # wrap: one period is n pixels; TensorFlow counts whole periods of n - 1
        size = float(n - 1)
        c[low] = c[low] + n * (np.trunc(-c[low] / size) + 1)
        c[high] = c[high] - n * np.trunc(c[high] / size)
    return np.clip(c, 0, n - 1)


def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def affine_coordinates(matrices: np.ndarray, out_hw: tuple) -> tuple:
    """The input point each output pixel reads under Keras's projective transforms.

    ``matrices`` are ``[a0, a1, a2, b0, b1, b2, c0, c1]`` per image: the output
    pixel ``(x, y)`` reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y +
    b2) / k)`` with ``k = c0 x + c1 y + 1``, computed in float32 as TensorFlow
    does (so nearest-neighbour ties fall the same way).

    Returns:
        ``(x_in, y_in, degenerate)``, each of shape ``(n, oh, ow)``.
    """
    oh, ow = out_hw
    m = matrices.astype(np.float32)
    ys, xs = np.meshgrid(np.arange(oh, dtype=np.float32), np.arange(ow, dtype=np.float32),
                         indexing="ij")
    a = m[:, :, None, None]
    k = a[:, 6] * xs + a[:, 7] * ys + np.float32(1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_in = (a[:, 0] * xs + a[:, 1] * ys + a[:, 2]) / k
        y_in = (a[:, 3] * xs + a[:, 4] * ys + a[:, 5]) / k
    return x_in, y_in, k == 0


def resize_coordinates(n: int, in_hw: tuple, out_hw: tuple, interpolation: str) -> tuple:
    """The input point each output pixel reads in TensorFlow's ``resize`` (half-pixel centres).

    Bilinear: ``(i + 0.5) * scale - 0.5``; nearest: ``floor((i + 0.5) * scale)``;
    both in float32 as TensorFlow computes them.
    """
    coords = []
    for size_in, size_out in zip(in_hw, out_hw):
        scale = np.float32(size_in) / np.float32(size_out)
        c = (np.arange(size_out, dtype=np.float32) + np.float32(0.5)) * scale
        c = np.floor(c) if interpolation == "nearest" else c - np.float32(0.5)
        coords.append(c)
    y_in, x_in = np.meshgrid(coords[0], coords[1], indexing="ij")
    shape = (n,) + tuple(out_hw)
    return (np.broadcast_to(x_in, shape), np.broadcast_to(y_in, shape),
            np.zeros(shape, dtype=bool))


def sampling_plan(coords: tuple, in_hw: tuple, interpolation: str, fill_mode: str) -> tuple:
    """Where each output pixel reads the input: flat indices and weights per corner.

    Args:
        coords: ``(x_in, y_in, degenerate)`` from :func:`affine_coordinates` or
            :func:`resize_coordinates`.
        in_hw: the input's ``(height, width)``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: how points outside are read (see :func:`_map_coordinates`).

    Returns:
        ``(index, weight, fill)``: arrays of shape ``(corners, n, oh, ow)``: the
        flat input pixel and its weight (0 for a read outside the image); and
        the total weight of the reads outside (they read ``fill_value``), shape
        ``(n, oh, ow)``.
    """
    h, w = in_hw
    x_in, y_in, degenerate = coords
    n, oh, ow = x_in.shape
    if degenerate.any():
        x_in = np.where(degenerate, np.float32(-2 * w - 2), x_in)
        y_in = np.where(degenerate, np.float32(-2 * h - 2), y_in)
    x_in = _map_coordinates(x_in, w, fill_mode)  # float32, as TensorFlow computes them
    y_in = _map_coordinates(y_in, h, fill_mode)
    base = (np.arange(n) * (h * w))[:, None, None]
    if interpolation == "nearest":
        ys, xs = _round_half_away(y_in)[None], _round_half_away(x_in)[None]
        wts = np.ones((1,) + x_in.shape, dtype=x_in.dtype)
    else:  # the four neighbours, weighted as TensorFlow weighs them
        y0, x0 = np.floor(y_in), np.floor(x_in)
        y1, x1 = y0 + 1, x0 + 1
        ys, xs = np.stack([y0, y0, y1, y1]), np.stack([x0, x1, x0, x1])
        wy0, wy1, wx0, wx1 = y1 - y_in, y_in - y0, x1 - x_in, x_in - x0
        wts = np.stack([wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1])
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1) & ~degenerate
    index = np.where(inside, base + np.where(inside, ys, 0).astype(np.int64) * w
                     + np.where(inside, xs, 0).astype(np.int64), 0)
    fill = np.where(inside, 0, wts).sum(axis=0)
    return index, np.where(inside, wts, 0), fill


class Warp(Function):
    """Resample images ``(n, h, w, c)`` at the points a :func:`sampling_plan` gives.

    The output is a weighted sum of input pixels (plus ``fill_value`` times the
    weight that fell outside), so the backward pass scatters ``gy`` back with
    the same weights.
    """

    def __init__(self, plan: tuple, out_hw: tuple, fill_value: float) -> None:
        self.plan, self.out_hw, self.fill_value = plan, out_hw, fill_value

    def forward(self, x):
        index, weight, fill = self.plan
        n, h, w, c = x.shape
        self.in_shape = x.shape
        dt = x.dtype if x.dtype.kind == "f" else np.dtype(backend.floatx())
        self.weight = weight.astype(dt)[..., None]  # a weight of 0 for reads outside
        out = (x.reshape(n * h * w, c).astype(dt, copy=False)[index] * self.weight).sum(axis=0)
        if self.fill_value:
            out += (self.fill_value * fill).astype(dt)[..., None]
        return out

    def backward(self, gy):
        index = self.plan[0]
        n, h, w, c = self.in_shape
        contrib = (self.weight * gy[None]).reshape(-1, c)
        flat = index.reshape(-1)
        g = np.stack([np.bincount(flat, weights=contrib[:, ch], minlength=n * h * w)
                      for ch in range(c)], axis=1)
        return (g.reshape(self.in_shape).astype(gy.dtype),)


def check_image_options(interpolation: str, fill_mode: str, layer: str) -> None:
    """Raise for an unknown ``interpolation`` or ``fill_mode``, naming the layer."""
    from chainrule.layers.preprocessing._utils import check_choice  # noqa: PLC0415

    check_choice(interpolation, _INTERPOLATIONS, "interpolation", layer)
    check_choice(fill_mode, _FILL_MODES, "fill_mode", layer)


def warp(images: Any, matrices: Any, out_hw: Any = None, interpolation: str = "bilinear",
         fill_mode: str = "constant", fill_value: float = 0.0) -> Tensor:
    """Apply a projective transform to each image (Keras's ``ops.image.affine_transform``).

    Args:
        images: ``(n, h, w, c)`` (channels last).
        matrices: ``(n, 8)`` or ``(8,)``: ``[a0, a1, a2, b0, b1, b2, c0, c1]``
            mapping output pixel ``(x, y)`` to the input point it reads.
        out_hw: the output's ``(height, width)`` (default the input's).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"constant"``, ``"reflect"``, ``"wrap"`` or ``"nearest"``:
            how points outside the input are read.
        fill_value: the value read outside with ``"constant"``.

    Returns:
        ``(n, out_h, out_w, c)``; differentiable with respect to ``images``.

    Example:
        >>> img = np.arange(4.0, dtype="float32").reshape(1, 2, 2, 1)
        >>> shift = [1, 0, -1, 0, 1, 0, 0, 0]  # x reads x - 1: one pixel to the right
        >>> warp(img, shift)[..., 0].data
        array([[[0., 0.],
                [0., 2.]]], dtype=float32)
    """
    check_image_options(interpolation, fill_mode, "warp")
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"warp: images must have shape (n, height, width, channels). "
                         f"Received: images of shape {shape}")
    m = np.asarray(matrices, dtype=np.float64).reshape(-1, 8)
    if len(m) == 1:
        m = np.repeat(m, shape[0], axis=0)
    out_hw = tuple(shape[1:3]) if out_hw is None else tuple(int(v) for v in out_hw)
    plan = sampling_plan(affine_coordinates(m, out_hw), shape[1:3], interpolation, fill_mode)
    return Warp(plan, out_hw, float(fill_value))(images)


def resize_images(images: Any, height: int, width: int, interpolation: str = "bilinear"
                  ) -> Tensor:
    """Resize ``(n, h, w, c)`` images as TensorFlow's ``resize`` (half-pixel centres, no antialias).

    Args:
        images: ``(n, h, w, c)``.
        height, width: the output size.
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(n, height, width, c)``; differentiable with respect to ``images``.

    Example:
        >>> img = np.arange(4.0, dtype="float32").reshape(1, 2, 2, 1)
        >>> resize_images(img, 1, 1)[..., 0].data
        array([[[1.5]]], dtype=float32)
    """
    shape = tuple(images.shape)
    coords = resize_coordinates(shape[0], shape[1:3], (height, width), interpolation)
    plan = sampling_plan(coords, shape[1:3], interpolation, "nearest")
    return Warp(plan, (int(height), int(width)), 0.0)(images)


class RandomWarp(Function):
    """Draw one transform per image (``draw(rng, n, h, w) -> (n, 8)``) and :class:`Warp` with it.

    The draw happens in ``forward``, so a replayed training step draws anew.
    """

    def __init__(self, draw: Callable, interpolation: str, fill_mode: str, fill_value: float,
                 rng: Any) -> None:
        self.draw, self.interpolation, self.fill_mode = draw, interpolation, fill_mode
        self.fill_value, self.rng = fill_value, rng

    def forward(self, x):
        n, h, w, _ = x.shape
        m = self.draw(self.rng or backend.rng(), n, h, w)
        plan = sampling_plan(affine_coordinates(m, (h, w)), (h, w), self.interpolation,
                             self.fill_mode)
        self.warp = Warp(plan, (h, w), self.fill_value)
        return self.warp.forward(x)

    def backward(self, gy):
        return self.warp.backward(gy)


def affine_warp(images: Any, draw: Callable, interpolation: str = "bilinear",
                fill_mode: str = "reflect", fill_value: float = 0.0, rng: Any = None) -> Tensor:
    """Warp each image by a random transform drawn inside the op (see :class:`RandomWarp`).

    Args:
        images: ``(n, h, w, c)``.
        draw: ``draw(rng, n, h, w)`` returning ``(n, 8)`` transform matrices.
        interpolation, fill_mode, fill_value: as in :func:`warp`.
        rng: a ``numpy.random.Generator`` (default chainrule's).

    Returns:
        The warped images, differentiable with respect to ``images``.
    """
    return RandomWarp(draw, interpolation, fill_mode, float(fill_value), rng)(images)


class RandomFlipOp(Function):
    """Flip each image (horizontally and/or vertically) with probability 1/2, drawn in ``forward``."""

    def __init__(self, horizontal: bool, vertical: bool, rng: Any) -> None:
        self.horizontal, self.vertical, self.rng = horizontal, vertical, rng

    def _apply(self, x):
        out = x.copy()
        f = self.flips
        if self.horizontal:
            out[f] = out[f][:, :, ::-1]
        if self.vertical:
            out[f] = out[f][:, ::-1]
        return out

    def forward(self, x):
        rng = self.rng or backend.rng()
        self.flips = rng.uniform(size=x.shape[0]) <= 0.5
        return self._apply(x)

    def backward(self, gy):
        return (self._apply(gy),)  # a flip is its own inverse


class RandomContrastOp(Function):
    """``(x - mean) * f + mean`` per image and channel, clipped; ``f`` drawn in ``forward``."""

    def __init__(self, lower: float, upper: float, value_range: tuple, rng: Any) -> None:
        self.lower, self.upper, self.value_range, self.rng = lower, upper, value_range, rng

    def forward(self, x):
        rng = self.rng or backend.rng()
        f = rng.uniform(1.0 - self.lower, 1.0 + self.upper, size=(x.shape[0], 1, 1, 1))
        self.f = f = f.astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)
        y = (x - mean) * f + mean
        lo, hi = self.value_range
        self.inside = (y >= lo) & (y <= hi)
        return np.clip(y, lo, hi)

    def backward(self, gy):
        g = gy * self.inside
        hw = g.shape[1] * g.shape[2]
        # d/dx of (x - mean) f + mean: f, plus (1 - f)/hw from the mean of the image's channel
        return (g * self.f + g.sum(axis=(1, 2), keepdims=True) * ((1 - self.f) / hw),)


class RandomBrightnessOp(Function):
    """``x + delta`` per image, clipped to ``value_range``; ``delta`` drawn in ``forward``."""

    def __init__(self, lower: float, upper: float, value_range: tuple, rng: Any) -> None:
        self.lower, self.upper, self.value_range, self.rng = lower, upper, value_range, rng

    def forward(self, x):
        rng = self.rng or backend.rng()
        lo, hi = self.value_range
        delta = rng.uniform(self.lower, self.upper, size=(x.shape[0],) + (1,) * (x.ndim - 1))
        y = x + (delta * (hi - lo)).astype(x.dtype)
        self.inside = (y >= lo) & (y <= hi)
        return np.clip(y, lo, hi)

    def backward(self, gy):
        return (gy * self.inside,)


def rotation_matrices(angles: np.ndarray, h: int, w: int) -> np.ndarray:
    """Keras's rotation about the image centre by ``angles`` (radians), as ``(n, 8)`` matrices."""
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    cos, sin = np.cos(angles), np.sin(angles)
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    z = np.zeros_like(angles)
    return np.stack([a0, a1, a2, b0, b1, b2, z, z], axis=1)


"""String fingerprints as TensorFlow computes them, in pure Python.

Keras's ``Hashing`` (and the lookups' extra OOV buckets) hash strings with
TensorFlow's ``to_hash_bucket_fast`` (FarmHash's ``Fingerprint64``, the
``farmhashna`` 64-bit hash) or, with a salt, ``to_hash_bucket_strong``
(SipHash-2-4 keyed by two 64-bit integers). Both are written here from their
published algorithms; the tests compare them with values recorded from
TensorFlow.
"""

from __future__ import annotations

import struct

__all__ = ["fingerprint64", "siphash24"]

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _f64(s: bytes, i: int) -> int:
    return struct.unpack_from("<Q", s, i)[0]


def _f32(s: bytes, i: int) -> int:
    return struct.unpack_from("<I", s, i)[0]


def _rot(v: int, r: int) -> int:
    return v if r == 0 else ((v >> r) | (v << (64 - r))) & _M


def _mix(v: int) -> int:
    return v ^ (v >> 47)


def _len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _len0to16(s: bytes) -> int:
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_f64(s, 0) + _K2) & _M
        b = _f64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _len16(n + ((_f32(s, 0) << 3) & _M), _f32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _len17to32(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_f64(s, 0) * _K1) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    return _len16((_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M,
                  (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)


def _len33to64(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_f64(s, 0) * _K2) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * mul) & _M
    d = (_f64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    e = (_f64(s, 16) * mul) & _M
    f = _f64(s, 24)
    g = ((y + _f64(s, n - 32)) * mul) & _M
    h = ((z + _f64(s, n - 24)) * mul) & _M
    return _len16((_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
                  (e + _rot((f + a) & _M, 18) + g) & _M, mul)


def _weak32(s: bytes, i: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(s: bytes) -> int:
    """FarmHash's ``Fingerprint64`` of ``s`` (TensorFlow's ``to_hash_bucket_fast`` hash).

    Args:
        s: the bytes to hash (a string's UTF-8 encoding).

    Returns:
        An unsigned 64-bit integer.

    Example:
        >>> fingerprint64(b"") == 0x9AE16A3B2F90404F
        True
    """
    n = len(s)
    if n <= 16:
        return _len0to16(s)
    if n <= 32:
        return _len17to32(s)
    if n <= 64:
        return _len33to64(s)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M
    z = (_mix((y * _K2 + 113) & _M) * _K2) & _M
    v1 = v2 = w1 = w2 = 0
    x = (x * _K2 + _f64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v1 + _f64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v2 + _f64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w2
        y = (y + v1 + _f64(s, i + 40)) & _M
        z = (_rot((z + w1) & _M, 33) * _K1) & _M
        v1, v2 = _weak32(s, i, (v2 * _K1) & _M, (x + w1) & _M)
        w1, w2 = _weak32(s, i + 32, (z + w2) & _M, (y + _f64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w1 = (w1 + ((n - 1) & 63)) & _M
    v1 = (v1 + w1) & _M
    w1 = (w1 + v1) & _M
    x = (_rot((x + y + v1 + _f64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v2 + _f64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w2 * 9) & _M
    y = (y + v1 * 9 + _f64(s, i + 40)) & _M
    z = (_rot((z + w1) & _M, 33) * mul) & _M
    v1, v2 = _weak32(s, i, (v2 * mul) & _M, (x + w1) & _M)
    w1, w2 = _weak32(s, i + 32, (z + w2) & _M, (y + _f64(s, i + 16)) & _M)
    z, x = x, z
    return _len16((_len16(v1, w1, mul) + _mix(y) * _K0 + z) & _M,
                  (_len16(v2, w2, mul) + x) & _M, mul)


def _sipround(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & _M
    v1 = _rot(v1, 64 - 13) ^ v0
    v0 = _rot(v0, 64 - 32)
    v2 = (v2 + v3) & _M
    v3 = _rot(v3, 64 - 16) ^ v2
    v0 = (v0 + v3) & _M
    v3 = _rot(v3, 64 - 21) ^ v0
    v2 = (v2 + v1) & _M
    v1 = _rot(v1, 64 - 17) ^ v2
    v2 = _rot(v2, 64 - 32)
    return v0, v1, v2, v3


def siphash24(s: bytes, k0: int, k1: int) -> int:
    """SipHash-2-4 of ``s`` keyed by ``(k0, k1)`` (TensorFlow's ``to_hash_bucket_strong``).

    Args:
        s: the bytes to hash.
        k0, k1: the two 64-bit halves of the key (Keras's ``salt``).

    Returns:
        An unsigned 64-bit integer.

    Example:
        >>> key = bytes(range(16))
        >>> hex(siphash24(b"", int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")))
        '0x726fdb47dd0e0e31'
    """
    k0 &= _M
    k1 &= _M
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    n = len(s)
    whole = n - n % 8
    for i in range(0, whole, 8):
        m = _f64(s, i)
        v3 ^= m
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0 ^= m
    last = int.from_bytes(s[whole:] + bytes(8 - n % 8), "little") | ((n & 0xFF) << 56)
    v3 ^= last
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= last
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3

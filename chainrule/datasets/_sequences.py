"""What IMDB and Reuters share: reading their ``.npz`` safely and Keras's word-index rules.

The steps and their order are Keras's, so the same arguments give the same
sequences: shuffle with ``np.random.RandomState(seed)``, prepend ``start_char``
and shift every word by ``index_from``, drop sequences of ``maxlen`` words or
more (the start mark counts), then replace (or, with ``oov_char=None``, drop)
every word outside ``[skip_top, num_words)`` — the start mark included, as in
Keras. Without ``num_words`` the largest index sets it, so (as in Keras) that
one largest word also becomes ``oov_char``.
"""

from __future__ import annotations

import itertools
import json
import numbers
from typing import Any

import numpy as np

from chainrule.datasets import _download
from chainrule.datasets._download import RemoteFile
from chainrule.datasets._errors import CorruptDatasetError
from chainrule.datasets._npz import read_npz

__all__ = ["load_npz_members", "load_word_index", "encode", "object_array"]


def check_int(name: str, value: Any, low: int = 0, allow_none: bool = True) -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is an int >= ``low`` (or None)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        what = f"an integer >= {low}" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {what}. Received: {name}={value!r}")


# Keras's word-sequence arguments that may be None (skip_top, seed and index_from may not).
_OPTIONAL_INTS = ("num_words", "maxlen", "start_char", "oov_char")


def check_word_args(**args: Any) -> None:
    """Check Keras's word-sequence arguments (``num_words``, ``skip_top``, ``maxlen``,
    ``seed``, ``start_char``, ``oov_char``, ``index_from``), each with :func:`check_int`."""
    for name, value in args.items():
        check_int(name, value, allow_none=name in _OPTIONAL_INTS)


def shuffle(rng: np.random.RandomState, seqs: list, ys: np.ndarray) -> tuple[list, np.ndarray]:
    """Shuffle ``seqs`` and their labels ``ys`` together with one draw from ``rng``, as Keras."""
    order = np.arange(len(seqs))
    rng.shuffle(order)
    return [seqs[i] for i in order], ys[order]


def load_npz_members(
    path_name: str, remote: RemoteFile, origin: str, dataset: str, title: str,
    members: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Find (or download) a Keras ``.npz`` dataset file and read the named members safely."""
    if not isinstance(path_name, str) or not path_name or "/" in path_name or "\\" in path_name:
        raise ValueError(
            "path must be a file name (the file lives in chainrule's cache folder). "
            f"Received: path={path_name!r}"
        )
    named = RemoteFile(path_name, remote.size, remote.sha256, remote.md5)
    keras_copy = _download.keras_home() / "datasets" / path_name
    path, raw = _download.cached_file(named, (origin,), _download.dataset_dir(dataset), title,
                                      also=(keras_copy,))
    arrays = read_npz(raw, str(path))
    missing = [m for m in members if m not in arrays]
    if missing:
        raise CorruptDatasetError(
            f"{path} does not hold the {title} arrays {missing} (it holds {sorted(arrays)}). "
            "Delete it (it will be downloaded again) or replace it with a good copy."
        )
    return arrays


def sequences(array: np.ndarray, where: str) -> list:
    """Check that ``array`` is a 1-D object array of lists of ints; return it as a list."""
    if array.dtype != object or array.ndim != 1:
        raise CorruptDatasetError(
            f"{where} should be a 1-D object array of word-index lists; it has dtype "
            f"{array.dtype} and shape {array.shape}."
        )
    seqs = array.tolist()
    if not all(type(s) is list for s in seqs):
        raise CorruptDatasetError(f"{where} should hold one list of word indices per text.")
    kinds = set(map(type, itertools.chain.from_iterable(seqs)))
    if not kinds <= {int}:
        raise CorruptDatasetError(
            f"{where} should hold integer word indices; it holds {sorted(k.__name__ for k in kinds)}."
        )
    return seqs


def labels(array: np.ndarray, n: int, where: str) -> np.ndarray:
    """Check the labels: integers, one per sequence."""
    if array.dtype.kind not in "iu" or array.shape != (n,):
        raise CorruptDatasetError(
            f"{where} should hold {n} integer labels; it has dtype {array.dtype} and shape "
            f"{array.shape}."
        )
    return array


def shift(seqs: list, start_char: int | None, index_from: int) -> list:
    """Prepend ``start_char`` and add ``index_from`` to every word (Keras's first step)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in s] for s in seqs]
    if index_from:
        return [[w + index_from for w in s] for s in seqs]
    return [list(s) for s in seqs]


def drop_long(maxlen: int | None, seqs: list, ys: Any) -> tuple[list, list]:
    """Keep only the sequences shorter than ``maxlen`` (strictly), with their labels."""
    kept = [(s, y) for s, y in zip(seqs, ys) if len(s) < maxlen]
    return [s for s, _ in kept], [y for _, y in kept]


def encode(seqs: list, num_words: int | None, skip_top: int, oov_char: int | None) -> list:
    """Replace (or drop, when ``oov_char`` is None) words outside ``[skip_top, num_words)``."""
    if not num_words:
        num_words = max((max(s) for s in seqs if s), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    return [[w for w in s if skip_top <= w < num_words] for s in seqs]


def object_array(seqs: list) -> np.ndarray:
    """A 1-D object array of lists (always 1-D, even when every list has the same length)."""
    out = np.empty(len(seqs), dtype=object)
    out[:] = seqs if seqs else out
    return out


def load_word_index(path_name: str, remote: RemoteFile, origin: str, dataset: str,
                    title: str) -> dict[str, int]:
    """Find (or download) a word-index JSON file and read it with :mod:`json`."""
    named = RemoteFile(path_name, remote.size, remote.sha256, remote.md5)
    keras_copy = _download.keras_home() / "datasets" / path_name
    path, raw = _download.cached_file(named, (origin,), _download.dataset_dir(dataset), title,
                                      also=(keras_copy,))
    try:
        index = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptDatasetError(f"{path} is not a JSON word index ({e}).") from None
    if not isinstance(index, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in index.items()
    ):
        raise CorruptDatasetError(f"{path} should map words to integer indices.")
    return index

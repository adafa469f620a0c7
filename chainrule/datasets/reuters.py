"""Reuters newswires: 11,228 texts labelled with one of 46 topics, as Keras publishes them.

Each text is a list of word indices (words ranked by frequency).
``load_data`` takes Keras's arguments and returns the same sequences Keras
returns for them; ``get_label_names`` names the 46 topics.

The file is Keras's ``reuters.npz``, downloaded once into
``$CHAINRULE_HOME/datasets/reuters/`` (a copy in ``$KERAS_HOME/datasets/`` is
used when it is there) and checked against its published size and SHA-256.
Its sequences are NumPy object arrays stored as pickle streams, parsed by
chainrule's own reader without unpickling (see docs/datasets.md).

Example:
    >>> from chainrule.datasets import reuters
    >>> (x_train, y_train), (x_test, y_test) = reuters.load_data(num_words=10000)  # doctest: +SKIP
    >>> reuters.get_label_names()[3]
    'earn'
"""

from __future__ import annotations

import numbers

import numpy as np

from chainrule.datasets import _sequences as seq
from chainrule.datasets._download import RemoteFile

__all__ = ["FILE", "WORD_INDEX_FILE", "get_label_names", "get_word_index", "load_data"]

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Keras's file; its SHA-256 as Keras's loader checks it.
FILE = RemoteFile(
    "reuters.npz",
    size=2110848,
    sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
)
#: The word index; its MD5 as Keras's loader checks it.
WORD_INDEX_FILE = RemoteFile(
    "reuters_word_index.json", size=550378, md5="4d44cc38712099c9e383dc6e5f11a921"
)

_LABELS = (
    "cocoa grain veg-oil earn acq wheat copper housing money-supply coffee sugar trade "
    "reserves ship cotton carcass crude nat-gas cpi money-fx interest gnp meal-feed alum "
    "oilseed gold tin strategic-metal livestock retail ipi iron-steel rubber heat jobs lei "
    "bop zinc orange pet-chem dlr gas silver wpi hog lead"
).split()


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the Reuters newswires as word-index sequences, downloading them on first use.

    Args:
        path: the file name in the cache.
        num_words: keep only indices below ``num_words``; others become
            ``oov_char``. None keeps all.
        skip_top: also replace the ``skip_top`` most frequent words.
        maxlen: drop (not truncate) texts of ``maxlen`` or more indices.
        test_split: the fraction of texts (after shuffling) kept for testing.
        seed: the seed of the shuffle (``np.random.RandomState``).
        start_char: index put at the start of every text (None: none).
        oov_char: index of a cut word; None removes cut words instead.
        index_from: added to every word index.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: ``x`` are 1-D object arrays
        of lists of ints, ``y`` integer topic labels 0-45.

    Raises:
        DatasetNotFoundError: the file is not cached and cannot be downloaded.
        CorruptDatasetError: the file is damaged (``UnsafeDatasetError`` when it
            asks for code to be run).
        ValueError: a bad argument.

    Example:
        >>> from chainrule.datasets import reuters
        >>> (x, y), _ = reuters.load_data(num_words=10000, test_split=0.2)  # doctest: +SKIP
    """
    seq.check_word_args(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
                        start_char=start_char, oov_char=oov_char, index_from=index_from)
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or not (
        0 <= test_split <= 1
    ):
        raise ValueError(f"test_split must be a number in [0, 1]. Received: test_split={test_split!r}")
    arrays = seq.load_npz_members(path, FILE, _ORIGIN + FILE.name, "reuters", "Reuters",
                                  ("x", "y"))
    xs = seq.sequences(arrays["x"], f"{path}:x")
    ys = seq.labels(arrays["y"], len(xs), f"{path}:y")

    rng = np.random.RandomState(seed)
    xs, ys = seq.shuffle(rng, xs, ys)
    xs = seq.shift(xs, start_char, index_from)
    if maxlen:
        xs, ys = seq.drop_long(maxlen, xs, ys)
    xs = seq.encode(xs, num_words, skip_top, oov_char)
    ys = np.asarray(ys)
    n = int(len(xs) * (1 - test_split))
    return (seq.object_array(xs[:n]), np.array(ys[:n])), (seq.object_array(xs[n:]),
                                                          np.array(ys[n:]))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """Return the dict mapping each word to its index (before ``index_from`` is added).

    Args:
        path: the file name in the cache.

    Returns:
        ``{word: index}``, read with :mod:`json`.
    """
    return seq.load_word_index(path, WORD_INDEX_FILE, _ORIGIN + WORD_INDEX_FILE.name, "reuters",
                               "the Reuters word index")


def get_label_names() -> tuple[str, ...]:
    """Return the 46 topic names, indexed by label (Keras's order).

    Returns:
        A tuple of 46 strings.

    Example:
        >>> get_label_names()[:3]
        ('cocoa', 'grain', 'veg-oil')
    """
    return tuple(_LABELS)

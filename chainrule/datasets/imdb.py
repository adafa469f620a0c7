"""IMDB movie reviews for sentiment classification, as Keras publishes them.

25,000 training and 25,000 test reviews, each a list of word indices (words
ranked by frequency, so index 3 is the third most common word), labelled 1
(positive) or 0 (negative). ``load_data`` takes Keras's arguments and returns
the same sequences Keras returns for them.

The file is Keras's ``imdb.npz``, downloaded once into
``$CHAINRULE_HOME/datasets/imdb/`` (a copy in Keras's cache,
``$KERAS_HOME/datasets/imdb.npz``, is used when it is there) and checked
against its published size and SHA-256. Its sequences are NumPy object
arrays, stored as pickle streams: chainrule never unpickles them; it parses
the stream with its own reader, which accepts plain lists of integers and
NumPy arrays only and refuses anything else (see docs/datasets.md).

Example:
    >>> from chainrule.datasets import imdb
    >>> (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)  # doctest: +SKIP
    >>> from chainrule.utils import pad_sequences
    >>> x_train = pad_sequences(x_train, maxlen=200)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from chainrule.datasets import _sequences as seq
from chainrule.datasets._download import RemoteFile

__all__ = ["FILE", "WORD_INDEX_FILE", "get_word_index", "load_data"]

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Keras's file; its SHA-256 as Keras's loader checks it.
FILE = RemoteFile(
    "imdb.npz",
    size=17464789,
    sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
)
#: The word index; its MD5 as Keras's loader checks it.
WORD_INDEX_FILE = RemoteFile(
    "imdb_word_index.json", size=1641221, md5="bfafd718b763782e994055a2d397834f"
)


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the IMDB reviews as word-index sequences, downloading them on first use.

    Args:
        path: the file name in the cache.
        num_words: keep only the ``num_words`` most frequent words (indices
            below ``num_words``); others become ``oov_char``. None keeps all.
        skip_top: also replace the ``skip_top`` most frequent words.
        maxlen: drop (not truncate) reviews of ``maxlen`` or more indices.
        seed: the seed of the shuffle (``np.random.RandomState``).
        start_char: index put at the start of every review (None: none).
        oov_char: index of a cut word; None removes cut words instead.
        index_from: added to every word index (0, 1 and 2 stay free for
            padding, start and out-of-vocabulary).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: ``x`` are 1-D object arrays
        of lists of ints, ``y`` integer arrays of 0/1 labels.

    Raises:
        DatasetNotFoundError: the file is not cached and cannot be downloaded.
        CorruptDatasetError: the file is damaged (``UnsafeDatasetError`` when it
            asks for code to be run).
        ValueError: a bad argument, or a ``maxlen`` that keeps no review.

    Example:
        >>> from chainrule.datasets import imdb
        >>> (x, y), _ = imdb.load_data(num_words=5000, maxlen=100)  # doctest: +SKIP
    """
    seq.check_word_args(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
                        start_char=start_char, oov_char=oov_char, index_from=index_from)
    arrays = seq.load_npz_members(path, FILE, _ORIGIN + FILE.name, "imdb", "IMDB",
                                  ("x_train", "y_train", "x_test", "y_test"))
    x_train = seq.sequences(arrays["x_train"], f"{path}:x_train")
    x_test = seq.sequences(arrays["x_test"], f"{path}:x_test")
    y_train = seq.labels(arrays["y_train"], len(x_train), f"{path}:y_train")
    y_test = seq.labels(arrays["y_test"], len(x_test), f"{path}:y_test")

    rng = np.random.RandomState(seed)  # one generator for both shuffles, as Keras
    x_train, y_train = seq.shuffle(rng, x_train, y_train)
    x_test, y_test = seq.shuffle(rng, x_test, y_test)

    x_train = seq.shift(x_train, start_char, index_from)
    x_test = seq.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = seq.drop_long(maxlen, x_train, y_train)
        x_test, y_test = seq.drop_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(
                f"No review is shorter than maxlen={maxlen} in the training or the test set; "
                f"increase maxlen. Received: maxlen={maxlen}"
            )
    ys = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    xs = seq.encode(x_train + x_test, num_words, skip_top, oov_char)
    n = len(x_train)
    return (seq.object_array(xs[:n]), ys[:n]), (seq.object_array(xs[n:]), ys[n:])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """Return the dict mapping each word to its index (before ``index_from`` is added).

    Args:
        path: the file name in the cache.

    Returns:
        ``{word: index}``, read with :mod:`json`.

    Example:
        >>> from chainrule.datasets import imdb
        >>> index = imdb.get_word_index()  # doctest: +SKIP
        >>> words = {i + 3: w for w, i in index.items()}  # doctest: +SKIP
    """
    return seq.load_word_index(path, WORD_INDEX_FILE, _ORIGIN + WORD_INDEX_FILE.name, "imdb",
                               "the IMDB word index")

"""Boston housing prices: 506 suburbs, 13 features each, the median home value as target.

``load_data`` returns what Keras's ``boston_housing.load_data`` returns for the
same ``test_split`` and ``seed``. The file is Keras's ``boston_housing.npz``
(numbers only: read with pickling disabled), downloaded once into
``$CHAINRULE_HOME/datasets/boston_housing/`` (a copy in
``$KERAS_HOME/datasets/`` is used when it is there) and checked against its
published size and SHA-256.

Example:
    >>> from chainrule.datasets import boston_housing
    >>> (x_train, y_train), (x_test, y_test) = boston_housing.load_data()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((404, 13), (102, 13))
"""

from __future__ import annotations

import numbers

import numpy as np

from chainrule.datasets import _sequences as seq
from chainrule.datasets._download import RemoteFile
from chainrule.datasets._errors import CorruptDatasetError

__all__ = ["FILE", "load_data"]

#: Keras's file; its SHA-256 as Keras's loader checks it.
FILE = RemoteFile(
    "boston_housing.npz",
    size=57026,
    sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
)
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"


def load_data(
    path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the Boston housing data, shuffled with ``seed`` and split, downloading it once.

    Args:
        path: the file name in the cache.
        test_split: the fraction of samples kept for testing, in [0, 1).
        seed: the seed of the shuffle (``np.random.RandomState``, as Keras).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: float64 features of shape
        (n, 13) and prices (in $1000s) of shape (n,).

    Raises:
        DatasetNotFoundError: the file is not cached and cannot be downloaded.
        CorruptDatasetError: the file is damaged.
        ValueError: a bad ``test_split`` or ``seed``.

    Example:
        >>> from chainrule.datasets import boston_housing
        >>> (x, y), _ = boston_housing.load_data(test_split=0.1)  # doctest: +SKIP
    """
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or not (
        0 <= test_split < 1
    ):
        raise ValueError(f"test_split must be a number in [0, 1). Received: test_split={test_split!r}")
    seq.check_int("seed", seed, allow_none=False)
    arrays = seq.load_npz_members(path, FILE, _ORIGIN, "boston_housing", "Boston housing",
                                  ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.shape != (len(x),) or x.dtype.kind != "f" or y.dtype.kind != "f":
        raise CorruptDatasetError(
            f"{path} should hold float features x of shape (n, 13) and prices y of shape (n,); "
            f"found {x.dtype} {x.shape} and {y.dtype} {y.shape}."
        )
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])

"""California housing prices: 20,640 census block groups, 8 features each, the median value.

``load_data`` returns what Keras's ``california_housing.load_data`` returns for the same
``version``, ``test_split`` and ``seed``. The file is Keras's ``california_housing.npz``
(numbers only: read with pickling disabled), downloaded once into
``$CHAINRULE_HOME/datasets/california_housing/`` (a copy in ``$KERAS_HOME/datasets/`` is
used when it is there) and checked against Keras's published SHA-256.

The features are MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude
and Longitude; the target is the median house value in dollars.

Example:
    >>> from chainrule.datasets import california_housing
    >>> (x_train, y_train), (x_test, y_test) = california_housing.load_data()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((16512, 8), (4128, 8))
"""

from __future__ import annotations

import numbers

import numpy as np

from chainrule.datasets import _sequences as seq
from chainrule.datasets._download import RemoteFile
from chainrule.datasets._errors import CorruptDatasetError

__all__ = ["FILE", "load_data"]

#: Keras's file and the SHA-256 Keras's loader checks it with.
FILE = RemoteFile(
    "california_housing.npz",
    sha256="1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
)
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"


def load_data(
    version: str = "large", path: str = "california_housing.npz", test_split: float = 0.2,
    seed: int = 113,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the California housing data, shuffled with ``seed`` and split, downloading it once.

    Args:
        version: ``"large"`` (all 20,640 samples) or ``"small"`` (the first 600, Keras's
            stand-in for the Boston data).
        path: the file name in the cache.
        test_split: the fraction of samples kept for testing, in [0, 1).
        seed: the seed of the shuffle (``np.random.RandomState``, as Keras).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: features of shape (n, 8) and values
        of shape (n,).

    Raises:
        DatasetNotFoundError: the file is not cached and cannot be downloaded.
        CorruptDatasetError: the file is damaged.
        ValueError: a bad ``version``, ``test_split`` or ``seed``.

    Example:
        >>> from chainrule.datasets import california_housing
        >>> (x, y), _ = california_housing.load_data(version="small")  # doctest: +SKIP
        >>> x.shape  # doctest: +SKIP
        (480, 8)
    """
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version!r}")
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or not (
        0 <= test_split < 1
    ):
        raise ValueError(f"test_split must be a number in [0, 1). Received: test_split={test_split!r}")
    seq.check_int("seed", seed, allow_none=False)
    arrays = seq.load_npz_members(path, FILE, _ORIGIN, "california_housing",
                                  "California housing", ("x", "y"))
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.shape != (len(x),) or x.dtype.kind not in "fi" or \
            y.dtype.kind not in "fi":
        raise CorruptDatasetError(
            f"{path} should hold numeric features x of shape (n, 8) and values y of shape "
            f"(n,); found {x.dtype} {x.shape} and {y.dtype} {y.shape}."
        )
    if version == "small":
        x, y = x[:600], y[:600]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])

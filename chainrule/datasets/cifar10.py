"""CIFAR-10: 60,000 32x32 colour images in 10 classes, as Keras loads them.

``load_data()`` returns Keras's arrays. The official "python version" archive
(``cifar-10-python.tar.gz``) is downloaded once into
``$CHAINRULE_HOME/datasets/cifar10/`` and checked against its published size
and SHA-256; Keras's copy (``$KERAS_HOME/datasets/cifar-10-batches-py-target/``)
or an extracted ``cifar-10-batches-py/`` folder in either cache is read when
there. The batches inside are pickled dicts: chainrule parses them with its
own reader and never unpickles (see docs/datasets.md).

Labels:
    0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse,
    8 ship, 9 truck (see :data:`CLASS_NAMES`).

Example:
    >>> from chainrule.datasets import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
    >>> cifar10.CLASS_NAMES[3]
    'cat'
"""

from __future__ import annotations

import numpy as np

from chainrule.datasets._cifar import CifarDataset, load_cifar
from chainrule.datasets._download import RemoteFile

__all__ = ["CLASS_NAMES", "DATASET", "load_data"]

#: Names of the ten classes, indexed by label.
CLASS_NAMES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                "horse", "ship", "truck")

#: The published archive; its SHA-256 as Keras's loader checks it.
DATASET = CifarDataset(
    name="cifar10",
    title="CIFAR-10",
    archive=RemoteFile(
        "cifar-10-python.tar.gz",
        size=170498071,
        sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        md5="c58f30108f718f92721af3b95e74349a",
    ),
    origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    folder="cifar-10-batches-py",
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test=("test_batch",),
    keras_name="cifar-10-batches-py-target",
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10, downloading it on first use.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (50000, 32, 32, 3) and (10000, 32, 32, 3) (channels last), uint8 labels
        0-9 of shape (50000, 1) and (10000, 1).

    Raises:
        DatasetNotFoundError: the archive is not cached and cannot be downloaded.
        CorruptDatasetError: a file is damaged (``UnsafeDatasetError`` when a
            pickle asks for code to be run; nothing of it runs).

    Example:
        >>> from chainrule.datasets import cifar10
        >>> (x_train, y_train), _ = cifar10.load_data()  # doctest: +SKIP
        >>> x_train = x_train / 255.0  # doctest: +SKIP
    """
    (x_train, y_train), (x_test, y_test) = load_cifar(DATASET, "labels")
    y_train = np.asarray(y_train, dtype=np.uint8).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.uint8).reshape(-1, 1)
    return (x_train, y_train), (x_test, y_test)

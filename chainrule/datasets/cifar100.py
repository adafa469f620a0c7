"""CIFAR-100: 60,000 32x32 colour images in 100 classes (20 superclasses), as Keras loads them.

``load_data(label_mode="fine")`` returns Keras's arrays. The official "python
version" archive (``cifar-100-python.tar.gz``) is downloaded once into
``$CHAINRULE_HOME/datasets/cifar100/`` and checked against its published size
and SHA-256; Keras's copy (``$KERAS_HOME/datasets/cifar-100-python-target/``)
or an extracted ``cifar-100-python/`` folder in either cache is read when
there. The pickled batches are parsed by chainrule's own reader, never
unpickled (see docs/datasets.md).

Example:
    >>> from chainrule.datasets import cifar100
    >>> (x_train, y_train), _ = cifar100.load_data(label_mode="coarse")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from chainrule.datasets._cifar import CifarDataset, load_cifar
from chainrule.datasets._download import RemoteFile

__all__ = ["DATASET", "load_data"]

#: The published archive; its SHA-256 as Keras's loader checks it.
DATASET = CifarDataset(
    name="cifar100",
    title="CIFAR-100",
    archive=RemoteFile(
        "cifar-100-python.tar.gz",
        size=169001437,
        sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
    ),
    origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    folder="cifar-100-python",
    train=("train",),
    test=("test",),
    keras_name="cifar-100-python-target",
)


def load_data(
    label_mode: str = "fine",
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-100, downloading it on first use.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (50000, 32, 32, 3) and (10000, 32, 32, 3), int64 labels of shape
        (50000, 1) and (10000, 1).

    Raises:
        ValueError: ``label_mode`` is neither "fine" nor "coarse".
        DatasetNotFoundError: the archive is not cached and cannot be downloaded.
        CorruptDatasetError: a file is damaged (``UnsafeDatasetError`` when a
            pickle asks for code to be run; nothing of it runs).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'label_mode must be "fine" or "coarse". Received: label_mode={label_mode!r}')
    (x_train, y_train), (x_test, y_test) = load_cifar(DATASET, f"{label_mode}_labels")
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1, 1)
    return (x_train, y_train), (x_test, y_test)

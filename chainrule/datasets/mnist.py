"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

``load_data()`` returns the arrays Keras's ``mnist.load_data()`` returns. The
four official gzip IDX files are downloaded once into
``$CHAINRULE_HOME/datasets/mnist/`` (``~/.chainrule/datasets/mnist/`` by default)
and checked against their published sizes and checksums. Keras's
``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras``) is read instead when it is
there and the IDX files are not. To work offline, put the files there
yourself, gzipped or uncompressed.

Example:
    >>> from chainrule.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape, x_test.shape, y_test.shape  # doctest: +SKIP
    ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
"""

from __future__ import annotations

import numpy as np

from chainrule.datasets import _download
from chainrule.datasets._download import IDXImageDataset, RemoteFile

__all__ = ["DATASET", "load_data"]

#: The published files. SHA-256 digests as listed by torchvision's dataset
#: catalogue, MD5 digests as listed by ``torchvision.datasets.MNIST``.
DATASET = IDXImageDataset(
    name="mnist",
    title="MNIST",
    keras_npz=RemoteFile(
        "mnist.npz",
        size=11490434,
        sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
    mirrors=(
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz",
        size=9912422,
        sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz",
        size=28881,
        sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        md5="d53e105ee54ea40749a09fcbcd1e9432",
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        size=1648877,
        sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        md5="9fb629c4189551a2d022fa330f9573f3",
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        size=4542,
        sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        md5="ec29112dd5afa0611ce80d1b7f02629c",
    ),
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the MNIST dataset, downloading it on first use.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28) with values 0-255, and uint8 digit
        labels 0-9 of shape (60000,) and (10000,).

    Raises:
        DatasetNotFoundError: the files are not cached and could not be
            downloaded; the message names the files and the folder to put them in.
        CorruptDatasetError: a cached file is damaged.

    Example:
        >>> from chainrule.datasets import mnist
        >>> (x_train, y_train), _ = mnist.load_data()  # doctest: +SKIP
        >>> x_train = x_train / 255.0  # doctest: +SKIP
    """
    return _download.load_idx_image_dataset(DATASET)

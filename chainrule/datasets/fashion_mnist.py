"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing.

A drop-in replacement for MNIST by Zalando Research. ``load_data()`` returns the
arrays Keras's ``fashion_mnist.load_data()`` returns. The four official gzip
IDX files are downloaded once into ``$CHAINRULE_HOME/datasets/fashion_mnist/``
(``~/.chainrule/datasets/fashion_mnist/`` by default) and checked against their
published sizes and checksums; Keras's copies in
``$KERAS_HOME/datasets/fashion-mnist/`` (``~/.keras``) are read when they are
there. To work offline, put the files there yourself, gzipped or uncompressed.

Labels:
    0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot (see :data:`CLASS_NAMES`).

Example:
    >>> from chainrule.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    >>> fashion_mnist.CLASS_NAMES[9]
    'Ankle boot'
"""

from __future__ import annotations

import numpy as np

from chainrule.datasets import _download
from chainrule.datasets._download import IDXImageDataset, RemoteFile

__all__ = ["CLASS_NAMES", "DATASET", "load_data"]

#: Names of the ten classes, indexed by label.
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: The published files. SHA-256 digests as listed by torchvision's dataset
#: catalogue, MD5 digests as listed by ``torchvision.datasets.FashionMNIST``.
DATASET = IDXImageDataset(
    name="fashion_mnist",
    title="Fashion-MNIST",
    keras_dir="fashion-mnist",
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ),
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz",
        size=26421880,
        sha256="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz",
        size=29515,
        sha256="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        md5="25c81989df183df01b3e8a0aad5dffbe",
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        size=4422102,
        sha256="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        md5="bef4ecab320f06d8554ea6380940ec79",
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        size=5148,
        sha256="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        md5="bb300cfdad3c16e7a12a480ee83cd310",
    ),
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the Fashion-MNIST dataset, downloading it on first use.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        (60000, 28, 28) and (10000, 28, 28) with values 0-255, and uint8 class
        labels 0-9 of shape (60000,) and (10000,).

    Raises:
        DatasetNotFoundError: the files are not cached and could not be
            downloaded; the message names the files and the folder to put them in.
        CorruptDatasetError: a cached file is damaged.

    Example:
        >>> from chainrule.datasets import fashion_mnist
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
        >>> x_train, x_test = x_train / 255.0, x_test / 255.0  # doctest: +SKIP
    """
    return _download.load_idx_image_dataset(DATASET)

"""Datasets: MNIST and Fashion-MNIST as Keras loads them, and generated toy data.

``mnist.load_data()`` and ``fashion_mnist.load_data()`` return the same arrays
as their Keras namesakes, downloading the official files once into
``$CHAINRULE_HOME/datasets/`` (``~/.chainrule/datasets/`` by default). The
generators build the small problems the lessons use: logic gates, XOR, spirals,
moons and the study/sleep regression.

Example:
    >>> from chainrule.datasets import make_gates, mnist
    >>> x, y = make_gates("and")
    >>> y.tolist()
    [0, 0, 0, 1]
"""

from chainrule.datasets import boston_housing, fashion_mnist, imdb, mnist, reuters
from chainrule.datasets._errors import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    UnsafeDatasetError,
)
from chainrule.datasets.toys import (
    make_gates,
    make_moons,
    make_spirals,
    make_study_sleep,
    make_xor,
)

__all__ = [
    "CorruptDatasetError",
    "DatasetError",
    "DatasetNotFoundError",
    "UnsafeDatasetError",
    "boston_housing",
    "imdb",
    "reuters",
    "fashion_mnist",
    "make_gates",
    "make_moons",
    "make_spirals",
    "make_study_sleep",
    "make_xor",
    "mnist",
]

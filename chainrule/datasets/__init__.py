"""Datasets: Keras's datasets as Keras loads them, and generated toy data.

``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``, ``reuters``,
``boston_housing`` and ``california_housing`` have Keras's ``load_data`` and return the
same arrays, downloading the official files once into ``$CHAINRULE_HOME/datasets/``
(``~/.chainrule/datasets/`` by default; Keras's own cache is read too). Pickled
files are parsed, never unpickled (see docs/datasets.md). The
generators build the small problems the lessons use: logic gates, XOR, spirals,
moons and the study/sleep regression.

Example:
    >>> from chainrule.datasets import make_gates, mnist
    >>> x, y = make_gates("and")
    >>> y.tolist()
    [0, 0, 0, 1]
"""

from chainrule import _lazy
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

# Each dataset's module (and the download machinery) loads when first named
_lazy.attach(
    globals(),
    submodules=(
        "boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb",
        "mnist", "reuters",
    ),
)

__all__ = [
    "CorruptDatasetError",
    "DatasetError",
    "DatasetNotFoundError",
    "UnsafeDatasetError",
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
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

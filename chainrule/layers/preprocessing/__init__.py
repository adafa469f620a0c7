"""Preprocessing layers: features, categories, text and images (Keras's ``keras.layers``).

One module per family, as in Keras: ``normalization``, ``discretization``,
``category_encoding``, ``hashing``, ``index_lookup`` (``IntegerLookup``,
``StringLookup``), ``text_vectorization``, ``image_preprocessing``
(``Resizing``, ``CenterCrop``) and ``image_augmentation`` (the random layers), ``geometric_augmentation`` (shear,
perspective, elastic, erasing) and ``mixing`` (``MixUp``, ``CutMix``).
Their computations are ops (``_ops``, ``_image_ops``), so models that start with them are
captured and replayed like any other.
"""

from chainrule.layers.preprocessing.category_encoding import CategoryEncoding
from chainrule.layers.preprocessing.discretization import Discretization
from chainrule.layers.preprocessing.geometric_augmentation import (
    RandomElasticTransform,
    RandomErasing,
    RandomPerspective,
    RandomShear,
)
from chainrule.layers.preprocessing.hashing import Hashing
from chainrule.layers.preprocessing.image_augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from chainrule.layers.preprocessing.image_preprocessing import CenterCrop, Resizing
from chainrule.layers.preprocessing.index_lookup import IntegerLookup, StringLookup
from chainrule.layers.preprocessing.mixing import CutMix, MixUp
from chainrule.layers.preprocessing.normalization import Normalization
from chainrule.layers.preprocessing.random_crop import RandomCrop
from chainrule.layers.preprocessing.text_vectorization import TextVectorization

__all__ = ["Normalization", "Discretization", "CategoryEncoding", "Hashing", "IntegerLookup",
           "StringLookup", "TextVectorization", "Resizing", "CenterCrop", "RandomFlip",
           "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
           "RandomBrightness", "RandomCrop", "RandomShear", "RandomPerspective",
           "RandomElasticTransform", "RandomErasing", "MixUp", "CutMix"]

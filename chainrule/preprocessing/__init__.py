"""Keras 3's ``keras.preprocessing`` namespace: the dataset builders and the image and
sequence helpers older tutorials import from here (``from keras.preprocessing.sequence
import pad_sequences``). Every name is the same function as in :mod:`chainrule.utils`.

Example:
    >>> from chainrule.preprocessing.sequence import pad_sequences
    >>> pad_sequences([[1, 2], [3]], maxlen=3).tolist()
    [[0, 1, 2], [0, 0, 3]]
"""

from chainrule import _lazy
from chainrule.preprocessing import image, sequence

_lazy.attach(
    globals(),
    {
        "chainrule.utils.image_dataset_utils": ["image_dataset_from_directory"],
        "chainrule.utils.text_dataset_utils": ["text_dataset_from_directory"],
        "chainrule.utils.timeseries_dataset_utils": ["timeseries_dataset_from_array"],
    },
)

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]

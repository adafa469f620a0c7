"""Keras 3's ``keras.preprocessing.image``: image files and arrays, and ``smart_resize``.

Example:
    >>> import numpy as np
    >>> from chainrule.preprocessing import image
    >>> image.smart_resize(np.zeros((4, 6, 3), "float32"), (2, 2)).shape
    (2, 2, 3)
"""

from chainrule.utils.image_dataset_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]

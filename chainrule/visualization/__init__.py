"""Drawing boxes and masks into images, and image galleries (Keras 3's ``keras.visualization``).

``draw_bounding_boxes`` and ``draw_segmentation_masks`` work on NumPy arrays
and need no OpenCV (box labels use Pillow when installed). The ``plot_*``
galleries need matplotlib (the ``plot`` extra) and return a Figure.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> out = cr.visualization.draw_segmentation_masks(
    ...     np.zeros((1, 2, 2, 3), "uint8"), np.ones((1, 2, 2, 1), "int32"), num_classes=2)
    >>> out.shape, out.dtype
    ((1, 2, 2, 3), dtype('uint8'))
"""

from chainrule.visualization.draw import draw_bounding_boxes, draw_segmentation_masks
from chainrule.visualization.plot import (
    plot_bounding_box_gallery,
    plot_image_gallery,
    plot_segmentation_mask_gallery,
)

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "plot_image_gallery",
           "plot_bounding_box_gallery", "plot_segmentation_mask_gallery"]

"""A grid of images, like the seed's 3×3 Fashion-MNIST figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["image_grid", "FASHION_MNIST_CLASSES"]

#: Fashion-MNIST's class names, by label.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")


def _as_images(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"images must be numeric. Received: images with dtype {arr.dtype}")
    if arr.ndim == 2:  # flattened square images
        side = round(math.sqrt(arr.shape[1]))
        if side * side != arr.shape[1]:
            raise ValueError("images of shape (n, pixels) must be square when unflattened. "
                             f"Received: images of shape {arr.shape}")
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
        raise ValueError("images must have shape (n, height, width), (n, height, width, 1|3|4) or "
                         f"(n, height*width). Received: images of shape {arr.shape}")
    if len(arr) == 0:
        raise ValueError("images is empty. Received: images of shape "
                         f"{arr.shape}")
    return arr


def image_grid(images: Any, labels: Any = None, class_names: Sequence[str] | None = None,
               rows: int = 3, cols: int = 3, path: Any = None, title: str | None = None) -> Any:
    """Show the first ``rows × cols`` images in a grid, without axes, in gray.

    Args:
        images: shape ``(n, height, width)`` (``(n, h, w, 1)``, RGB ``(n, h, w, 3)``
            or flattened square ``(n, h*w)`` also work); any value range.
        labels: optional label per image, shown as the image's title.
        class_names: optional names for integer labels (e.g.
            :data:`FASHION_MNIST_CLASSES`).
        rows, cols: the grid (the seed uses 3 × 3).
        path: optional PNG file to write.
        title: optional title over the grid.

    Returns:
        The matplotlib Figure, one Axes per image shown.

    Raises:
        ValueError: for bad shapes or grid sizes.

    Example:
        >>> import numpy as np
        >>> fig = image_grid(np.zeros((9, 28, 28)), labels=list(range(9)))
        >>> len(fig.axes), fig.axes[0].get_title()
        (9, '0')
    """
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 20:
            raise ValueError(f"{name} must be an integer from 1 to 20. Received: {name}={value!r}")
    arr = _as_images(images)
    count = min(len(arr), rows * cols)
    labs = None
    if labels is not None:
        labs = np.asarray(labels)
        if labs.ndim == 2 and labs.shape[1] > 1:
            labs = labs.argmax(axis=1)
        labs = labs.reshape(-1)
        if len(labs) < count:
            raise ValueError(f"labels must have at least one label per image shown ({count}). "
                             f"Received: {len(labs)} labels")
    fig = new_figure(1.9 * cols, 1.9 * rows + (0.3 if title else 0.0))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= count:
            continue
        img = arr[i]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        if labs is not None:
            lab = labs[i]
            text = str(lab)
            if class_names is not None and np.issubdtype(np.asarray(lab).dtype, np.integer):
                k = int(lab)
                text = class_names[k] if 0 <= k < len(class_names) else str(k)
            ax.set_title(text, fontsize=9)
    for ax in axes[count:]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return finish(fig, path)

"""``image_dataset_from_directory`` and ``load_img``/``img_to_array``: images from files.

Files are decoded with Pillow, an optional dependency (``pip install
chainrule[image]``); without it these functions raise an ImportError that
names the extra. Resizing with ``interpolation="bilinear"`` (the default) or
``"nearest"`` is TensorFlow's arithmetic (half-pixel centres, no
antialiasing), done in NumPy; the other interpolations use Pillow's filter of
the same family, so their pixels can differ slightly from Keras's.

Example:
    >>> from chainrule.utils import image_dataset_from_directory
    >>> train = image_dataset_from_directory("photos/", image_size=(64, 64),
    ...                                      validation_split=0.2, subset="training",
    ...                                      seed=1337)  # doctest: +SKIP
    >>> train.class_names  # doctest: +SKIP
    ['cats', 'dogs']
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np

from chainrule.utils.dataset_utils import BatchDataset
from chainrule.utils.directory_utils import (
    check_validation_split_arg,
    index_directory,
    split_for_subset,
)

__all__ = ["array_to_img", "image_dataset_from_directory", "img_to_array", "load_img",
           "resize_images", "save_img"]

#: File types read (Keras's list).
ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                   "mitchellcubic")


def _pil():
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise ImportError(
            "Reading image files needs Pillow, chainrule's optional 'image' extra: "
            "pip install 'chainrule[image]' (or pip install pillow)."
        ) from None
    return Image


def _axis_weights(in_size: int, out_size: int, nearest: bool) -> tuple:
    scale = in_size / out_size
    if nearest:
        index = np.minimum(np.floor((np.arange(out_size) + 0.5) * scale).astype(np.int64),
                           in_size - 1)
        return index, index, np.zeros(out_size, dtype=np.float32)
    pos = (np.arange(out_size) + 0.5) * scale - 0.5
    low = np.floor(pos)
    frac = (pos - low).astype(np.float32)
    lower = np.clip(low, 0, in_size - 1).astype(np.int64)
    upper = np.clip(np.ceil(pos), 0, in_size - 1).astype(np.int64)
    return lower, upper, frac


def resize_images(image: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear",
                  ) -> np.ndarray:
    """Resize an (h, w, channels) float image as TensorFlow's ``resize`` (bilinear/nearest).

    Args:
        image: the image, (height, width, channels).
        size: (height, width) of the result.
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Returns:
        A float32 array of shape ``size + (channels,)``.

    Example:
        >>> import numpy as np
        >>> resize_images(np.array([[[0.0], [2.0]]]), (1, 4))[0, :, 0].tolist()
        [0.0, 0.5, 1.5, 2.0]
    """
    image = np.asarray(image, dtype=np.float32)
    nearest = interpolation == "nearest"
    r0, r1, fr = _axis_weights(image.shape[0], size[0], nearest)
    c0, c1, fc = _axis_weights(image.shape[1], size[1], nearest)
    rows = image[r0] + (image[r1] - image[r0]) * fr[:, None, None]
    return rows[:, c0] + (rows[:, c1] - rows[:, c0]) * fc[None, :, None]


def _fit_aspect(image: np.ndarray, size: tuple[int, int], crop: bool, pad: bool) -> np.ndarray:
    height, width = image.shape[:2]
    th, tw = size
    if crop:
        ch = min(height, int(width * th / tw))
        cw = min(width, int(height * tw / th))
        top, left = int((height - ch) / 2), int((width - cw) / 2)
        return image[top:top + ch, left:left + cw]
    if pad:
        ph = max(height, int(width * th / tw))
        pw = max(width, int(height * tw / th))
        top, left = int((ph - height) / 2), int((pw - width) / 2)
        out = np.zeros((ph, pw) + image.shape[2:], dtype=image.dtype)
        out[top:top + height, left:left + width] = image
        return out
    return image


def load_img(path: str | os.PathLike, color_mode: str = "rgb",
             target_size: tuple[int, int] | None = None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False) -> Any:
    """Load an image file as a Pillow image (``keras.utils.load_img``).

    Args:
        path: the image file.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: (height, width) to resize to, or None.
        interpolation: Pillow's filter name in lower case ("nearest", "bilinear",
            "bicubic", "lanczos", "box", "hamming").
        keep_aspect_ratio: crop the centre to the target's aspect ratio first.

    Returns:
        A ``PIL.Image.Image``.

    Raises:
        ImportError: Pillow is not installed (the ``image`` extra).
        ValueError: an unknown ``color_mode`` or ``interpolation``.
    """
    image_module = _pil()
    if color_mode not in _MODES:
        raise ValueError('color_mode must be "grayscale", "rgb" or "rgba". '
                         f"Received: color_mode={color_mode!r}")
    with open(path, "rb") as f:
        img = image_module.open(f)
        img.load()
    img = img.convert(_MODES[color_mode][0])
    if target_size is not None:
        filters = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC",
                   "lanczos": "LANCZOS", "box": "BOX", "hamming": "HAMMING"}
        if interpolation not in filters:
            raise ValueError(f"interpolation must be one of {sorted(filters)}. "
                             f"Received: interpolation={interpolation!r}")
        height, width = target_size
        if keep_aspect_ratio:
            arr = _fit_aspect(np.asarray(img), (height, width), True, False)
            img = image_module.fromarray(arr)
        img = img.resize((width, height), getattr(image_module.Resampling, filters[interpolation]))
    return img


def img_to_array(img: Any, data_format: str | None = None, dtype: str = "float32") -> np.ndarray:
    """Convert a Pillow image to an (h, w, channels) array (``keras.utils.img_to_array``).

    Args:
        img: a Pillow image (or anything ``np.asarray`` takes).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dtype: the array type.

    Returns:
        A 3-D array.

    Example:
        >>> import numpy as np
        >>> img_to_array(np.zeros((2, 3))).shape
        (2, 3, 1)
    """
    array = np.asarray(img, dtype=dtype)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"img must be a 2-D or 3-D image. Received: img of shape {array.shape}")
    if data_format == "channels_first":
        array = array.transpose(2, 0, 1)
    elif data_format not in (None, "channels_last"):
        raise ValueError('data_format must be "channels_last" or "channels_first". '
                         f"Received: data_format={data_format!r}")
    return array


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """Convert an (h, w, channels) array to a Pillow image (``keras.utils.array_to_img``).

    Args:
        x: a 3-D array with 1, 3 or 4 channels.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        scale: rescale the values to 0-255 (min to 0, max to 255).
        dtype: accepted for Keras code.

    Returns:
        A ``PIL.Image.Image`` (mode L, RGB or RGBA).

    Raises:
        ImportError: Pillow is not installed (the ``image`` extra).
        ValueError: not a 3-D array of 1, 3 or 4 channels.
    """
    image_module = _pil()
    array = np.asarray(x, dtype="float32")
    if array.ndim != 3:
        raise ValueError(f"x must be a 3-D image array. Received: x of shape {array.shape}")
    if data_format == "channels_first":
        array = array.transpose(1, 2, 0)
    if scale:
        array = array - array.min()
        top = array.max()
        if top != 0:
            array = array / top
        array = array * 255
    channels = array.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"x must have 1, 3 or 4 channels. Received: x of shape {array.shape}")
    array = np.clip(np.round(array), 0, 255).astype("uint8")
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    return image_module.fromarray(array[:, :, 0] if channels == 1 else array, mode=mode)


def save_img(path: str | os.PathLike, x: Any, data_format: str | None = None,
             file_format: str | None = None, scale: bool = True, **kwargs: Any) -> None:
    """Save an (h, w, channels) array as an image file (``keras.utils.save_img``).

    Args:
        path: the file; its extension picks the format unless ``file_format``.
        x: the image array.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        file_format: e.g. ``"png"``.
        scale: rescale the values to 0-255 first.
        **kwargs: passed to Pillow's ``Image.save``.

    Raises:
        ImportError: Pillow is not installed (the ``image`` extra).
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or str(path).lower().endswith((".jpg",
                                                                                 ".jpeg"))):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _read_image(path: str, size: tuple[int, int], mode: str, interpolation: str, crop: bool,
                pad: bool) -> np.ndarray:
    image_module = _pil()
    with open(path, "rb") as f:
        img = image_module.open(f)
        img.seek(0)  # the first frame of an animation, as Keras
        img = img.convert(mode)
    array = np.asarray(img, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    array = _fit_aspect(array, size, crop, pad)
    if interpolation in ("bilinear", "nearest"):
        return resize_images(array, size, interpolation)
    filters = {"bicubic": "BICUBIC", "area": "BOX", "lanczos3": "LANCZOS", "lanczos5": "LANCZOS",
               "gaussian": "BICUBIC", "mitchellcubic": "BICUBIC"}
    resample = getattr(image_module.Resampling, filters[interpolation])
    channels = [np.asarray(image_module.fromarray(array[:, :, c], mode="F").resize(
        (size[1], size[0]), resample), dtype=np.float32) for c in range(array.shape[2])]
    return np.stack(channels, axis=-1)


def encode_labels(labels: Any, label_mode: str | None, num_classes: int) -> np.ndarray | None:
    """Keras's label encodings: int32 ``"int"``, one-hot float32 ``"categorical"``,
    float32 (n, 1) ``"binary"``."""
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    return np.eye(num_classes, dtype="float32")[labels.astype(np.int64)]


def check_labels_args(labels: Any, label_mode: Any, class_names: Any) -> None:
    """Keras's checks of ``labels``, ``label_mode`` and ``class_names``."""
    inferred = isinstance(labels, str) and labels == "inferred"
    if not (inferred or labels is None or isinstance(labels, (list, tuple, np.ndarray))):
        raise ValueError('labels must be "inferred", None, or a list of integer labels, one '
                         f"per file in sorted path order. Received: labels={labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('label_mode must be "int", "categorical", "binary" or None. '
                         f"Received: label_mode={label_mode!r}")


def make_dataset(paths: list, labels: Any, class_names: Any, label_mode: Any,
                 batch_size: Any, shuffle: bool, seed: Any, read: Any) -> BatchDataset:
    """A :class:`BatchDataset` reading ``paths`` with ``read`` and encoding the labels."""
    encoded = encode_labels(labels, label_mode, len(class_names or []))

    def fetch(idx: np.ndarray) -> tuple:
        x = read([paths[i] for i in idx])
        return (x,) if encoded is None else (x, encoded[idx])

    ds = BatchDataset(len(paths), fetch, batch_size, shuffle=shuffle, seed=seed,
                      single=encoded is None)
    ds.class_names, ds.file_paths = class_names, list(paths)
    return ds


def from_directory(directory: Any, labels: Any, label_mode: Any, class_names: Any,
                   batch_size: Any, shuffle: bool, seed: Any, validation_split: Any,
                   subset: Any, follow_links: bool, verbose: bool, formats: tuple,
                   what: str, read: Any) -> Any:
    """The common part of the image and text utilities: index, split, build the datasets."""
    check_labels_args(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(10**6)
    paths, found, names = index_directory(directory, labels, formats, class_names, shuffle,
                                          seed, follow_links, verbose, what)
    if label_mode == "binary" and len(names or []) != 2:
        raise ValueError('label_mode="binary" needs exactly 2 classes. '
                         f"Received: class_names={names!r}")
    if not paths:
        raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                         f"{formats}. Received: directory={os.fspath(directory)!r}")
    if isinstance(found, list) and label_mode is not None:
        found = np.asarray(found)
    if subset == "both":
        parts = []
        for which in ("training", "validation"):
            p, lab = split_for_subset(paths, found, validation_split, which, verbose)
            if not p:
                raise ValueError(f"No {which} {what} found in directory {directory}. "
                                 f"Received: validation_split={validation_split!r}")
            parts.append(make_dataset(p, lab, names, label_mode, batch_size,
                                      shuffle and which == "training", seed, read))
        return parts
    p, lab = split_for_subset(paths, found, validation_split, subset, verbose)
    return make_dataset(p, lab, names, label_mode, batch_size, shuffle, seed, read)


def image_dataset_from_directory(
    directory: str | os.PathLike,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    verbose: bool = True,
) -> Any:
    """Images from a folder with one subfolder per class, in batches for ``fit``.

    ``directory/cats/1.jpg`` and ``directory/dogs/a/2.png`` are samples of the
    classes ``cats`` (label 0) and ``dogs`` (label 1): Keras's rules (see
    :mod:`chainrule.utils.directory_utils`). Images are read when their batch
    is needed, converted to ``color_mode`` and resized to ``image_size``.

    Args:
        directory: the folder.
        labels: ``"inferred"`` (from the subfolders), None (images only), or a
            list of integer labels, one per file in sorted path order.
        label_mode: ``"int"`` (int32 labels), ``"categorical"`` (one-hot
            float32), ``"binary"`` (float32 of shape (n, 1), two classes only),
            or None (images only).
        class_names: the subfolders to use, in label order (default: all, sorted).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: images per batch (None: single images).
        image_size: (height, width) after resizing.
        shuffle: shuffle the file list (with ``seed``, as Keras) and each epoch.
        seed: seed of the shuffling (needed with ``validation_split``).
        validation_split: fraction of the (shuffled) files kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (a pair).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``,
            ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"``.
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio: crop the centre to ``image_size``'s aspect ratio
            before resizing.
        pad_to_aspect_ratio: pad with zeros to that aspect ratio instead.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        verbose: print how many files were found and used.

    Returns:
        A :class:`BatchDataset` of ``(images, labels)`` batches (images float32,
        (batch, height, width, channels), values 0-255) with ``class_names`` and
        ``file_paths``; a list ``[train, validation]`` for ``subset="both"``.

    Raises:
        ImportError: Pillow is not installed (the ``image`` extra).
        ValueError: a folder without class subfolders or images, and bad
            arguments (each named).
    """
    if color_mode not in _MODES:
        raise ValueError('color_mode must be "grayscale", "rgb" or "rgba". '
                         f"Received: color_mode={color_mode!r}")
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    if not (isinstance(image_size, (tuple, list)) and len(image_size) == 2 and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in image_size
    )):
        raise ValueError("image_size must be (height, width), two positive integers. "
                         f"Received: image_size={image_size!r}")
    size = (int(image_size[0]), int(image_size[1]))
    interpolation = str(interpolation).lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of pad_to_aspect_ratio and crop_to_aspect_ratio can be True. "
                         "Received: crop_to_aspect_ratio=True, pad_to_aspect_ratio=True")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError('data_format must be "channels_last" or "channels_first". '
                         f"Received: data_format={data_format!r}")
    mode = _MODES[color_mode][0]

    def read(paths: list) -> np.ndarray:
        batch = np.stack([_read_image(p, size, mode, interpolation, crop_to_aspect_ratio,
                                      pad_to_aspect_ratio) for p in paths])
        return batch.transpose(0, 3, 1, 2) if data_format == "channels_first" else batch

    datasets = from_directory(directory, labels, label_mode, class_names, batch_size, shuffle,
                              seed, validation_split, subset, follow_links, verbose,
                              ALLOWLIST_FORMATS, "images", read)
    _pil()  # the folder is checked first; then fail now, naming the extra, not at a batch
    return datasets


def smart_resize(x: Any, size: Any, interpolation: str = "bilinear",
                 data_format: str = "channels_last") -> Any:
    """Resize images to ``size`` without distorting them (Keras's ``smart_resize``).

    Takes the largest centred crop with the target's aspect ratio (Keras's integer rule),
    then resizes it with :func:`chainrule.ops.image.resize`.

    Args:
        x: an image ``(height, width, channels)`` or a batch ``(batch, height, width,
            channels)`` (channels first with ``data_format="channels_first"``); a NumPy
            array or a Tensor.
        size: ``(height, width)`` of the output.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The resized image(s): a NumPy array for a NumPy input, else a Tensor.

    Raises:
        ValueError: for a ``size`` that is not two integers, an input of rank other than
            3 or 4, or another ``interpolation``.

    Example:
        >>> img = np.arange(2 * 4 * 1, dtype="float32").reshape(2, 4, 1)
        >>> smart_resize(img, (2, 2))[..., 0]  # the centred 2x2 crop, then no resampling
        array([[1., 2.],
               [5., 6.]], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415  (ops.image loads with its first use)

    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and s > 0 for s in size)):
        raise ValueError("smart_resize: `size` must be a tuple of 2 positive integers. "
                         f"Received: size={size!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("smart_resize: chainrule resizes with 'bilinear' or 'nearest' "
                         f"interpolation. Received: interpolation={interpolation!r}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("smart_resize: `data_format` must be 'channels_last' or "
                         f"'channels_first'. Received: data_format={data_format!r}")
    img = x if hasattr(x, "shape") else np.asarray(x)
    if len(img.shape) not in (3, 4):
        raise ValueError("smart_resize: expected an image array with shape (height, width, "
                         "channels), or (batch_size, height, width, channels). Received: input "
                         f"of shape {tuple(img.shape)}")
    last = data_format == "channels_last"
    height, width = (img.shape[-3], img.shape[-2]) if last else (img.shape[-2], img.shape[-1])
    target_height, target_width = int(size[0]), int(size[1])
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    h0 = int(float(height - crop_height) / 2)
    w0 = int(float(width - crop_width) / 2)
    rows, cols = slice(h0, h0 + crop_height), slice(w0, w0 + crop_width)
    lead = (slice(None),) * (len(img.shape) - 3)
    crop = img[lead + ((rows, cols, slice(None)) if last else (slice(None), rows, cols))]
    out = ops.image.resize(crop, (target_height, target_width), interpolation=interpolation,
                           data_format=data_format)
    return out.numpy() if isinstance(x, np.ndarray) else out

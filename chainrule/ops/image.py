"""Keras 3's ``keras.ops.image``: ``extract_patches`` (2-D and 3-D) and ``resize``.

``extract_patches`` is a strided gather: every output position holds the flattened window
``(*size, channels)`` of the input under it, exactly what Keras computes as a convolution
with an identity kernel. It is written once, with the convolution's machinery
(:mod:`chainrule.ops.conv`: its padding rule, the im2col strided view for the forward pass
and the col2im slice-adds, a scatter-add, for the backward pass).

Example:
    >>> import chainrule as cr
    >>> images = np.arange(16.0, dtype="float32").reshape(1, 4, 4, 1)
    >>> patches = cr.ops.image.extract_patches(images, 2)
    >>> patches.shape, patches.numpy()[0, 0, 1]
    ((1, 2, 2, 4), array([2., 3., 6., 7.], dtype=float32))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.conv import (
    _col2im,
    _Geometry,
    _im2col,
    _padded,
    _to_first,
    _to_last,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)

__all__ = ["extract_patches", "extract_patches_3d", "resize"]


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


class ExtractPatches(Function):
    """The windows of ``(batch, *spatial, channels)`` images, flattened along the last axis.

    Backward: the patches' gradient added back where each element was read (col2im).
    """

    def __init__(self, size, strides, dilation, padding, channels_first, unbatched):
        self.size, self.strides, self.dilation = size, strides, dilation
        self.padding, self.channels_first, self.unbatched = padding, channels_first, unbatched

    def forward(self, x):
        if self.unbatched:
            x = x[None]
        x = _to_last(x, self.channels_first)
        geo = _Geometry(x.shape, self.size, self.strides, self.dilation, self.padding,
                        "extract_patches")
        self.geo, self.pshape = geo, (x.shape[0],) + geo.padded + (x.shape[-1],)
        cols = _im2col(self, _padded(self, x, geo, 0), geo, "_cols")
        self._cols = None  # NOTE: the output is handed out: the next call takes a new buffer
        y = cols.reshape((x.shape[0],) + geo.out + (cols.shape[1],))
        y = _to_first(y, self.channels_first)
        return y[0] if self.unbatched else y

    def backward(self, gy):
        if self.unbatched:
            gy = gy[None]
        gy = _to_last(gy, self.channels_first)
        gx = _col2im(np.ascontiguousarray(gy).reshape(-1, gy.shape[-1]), self.geo, self.pshape)
        gx = _to_first(gx, self.channels_first)
        return (gx[0] if self.unbatched else gx,)


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1,
                    padding: str = "valid", data_format: str | None = None) -> Tensor:
    """Extract the patches of images (or volumes) as Keras's ``ops.image.extract_patches``.

    Each output position holds the window of ``size`` under it, flattened in the order
    ``(*size, channels)``: ``patches[n, i, j, (a * size_w + b) * channels + c] ==
    images[n, i * stride_h + a * dilation_h, j * stride_w + b * dilation_w, c]`` (after
    ``"same"`` padding with zeros, TensorFlow's split). Unlike TensorFlow, dilation and
    strides may both exceed 1.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)`` for
            2-D patches; with a ``size`` of three ints, volumes ``(batch, depth, height,
            width, channels)`` or ``(depth, height, width, channels)`` (channels first
            with ``data_format="channels_first"``).
        size: the patch size: an int (2-D, square) or a tuple of 2 or 3 ints.
        strides: the step between patches (default ``size``: non-overlapping patches).
        dilation_rate: the step between the elements of one patch.
        padding: ``"valid"`` (only whole windows) or ``"same"`` (zero padding so that
            there are ``ceil(n / stride)`` patches along each axis).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        Shape ``(batch, out_h, out_w, size_h * size_w * channels)`` (channels last; the
        patch axis first after the batch for channels first), without the batch axis
        for an unbatched input. Differentiable: the gradient is added back to every
        element a patch read.

    Raises:
        ValueError: for a size, strides, dilation, padding or data format Keras does not
            take, or images of the wrong rank for the patch size.

    Example:
        >>> import chainrule as cr
        >>> images = np.random.rand(2, 20, 20, 3).astype("float32")
        >>> cr.ops.image.extract_patches(images, (5, 5)).shape
        (2, 4, 4, 75)
        >>> cr.ops.image.extract_patches(images[0], (3, 3), (1, 1)).shape
        (18, 18, 27)
    """
    what = "extract_patches"
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size),) * 2
    if not isinstance(size, (tuple, list)) or len(size) not in (2, 3):
        raise ValueError(f"{what}: size must be an int or a tuple of 2 (2-D patches) or 3 "
                         f"(3-D patches) ints. Received: size={size!r}")
    nd = len(size)
    size = normalize_tuple(size, nd, "size", what)
    strides = size if strides is None else normalize_tuple(strides, nd, "strides", what)
    dilation = normalize_tuple(dilation_rate, nd, "dilation_rate", what)
    padding = normalize_padding(padding, ("valid", "same"), what)
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    if len(shape) not in (nd + 1, nd + 2):
        kind = "images (height, width, channels)" if nd == 2 else \
            "volumes (depth, height, width, channels)"
        raise shape_error(f"{what}: {nd}-D patches take {kind}, with or without a batch "
                          f"axis first: rank {nd + 1} or {nd + 2}. Received: images of shape "
                          f"{shape}")
    return ExtractPatches(size, strides, dilation, padding, channels_first,
                          len(shape) == nd + 1)(images)


def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1,
                       padding: str = "valid", data_format: str | None = None) -> Tensor:
    """The 3-D patches of volumes (Keras's ``ops.image.extract_patches_3d``).

    :func:`extract_patches` with ``size`` as three ints (an int means a cube).

    Example:
        >>> import chainrule as cr
        >>> volumes = np.random.rand(2, 10, 10, 10, 3).astype("float32")
        >>> cr.ops.image.extract_patches_3d(volumes, 3).shape
        (2, 3, 3, 3, 81)
    """
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size),) * 3
    return extract_patches(volumes, size, strides, dilation_rate, padding, data_format)


def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: str | None = None) -> Tensor:
    """Resize images as Keras's ``ops.image.resize`` (TensorFlow's half-pixel rule).

    The same resampling as the ``Resizing`` layer: bilinear or nearest neighbour,
    differentiable with respect to the images.

    Args:
        images: ``(batch, height, width, channels)`` or ``(height, width, channels)``
            (channels first with ``data_format="channels_first"``).
        size: ``(height, width)`` of the output.
        interpolation: ``"bilinear"`` or ``"nearest"`` (chainrule has no other).
        antialias: only False (chainrule has no antialiasing filter).
        crop_to_aspect_ratio: first crop the centred window of the output's aspect ratio.
        pad_to_aspect_ratio: first pad towards the output's aspect ratio with
            ``fill_value``.
        fill_mode: only ``"constant"`` (Keras's only mode).
        fill_value: the padding's value.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The resized images, batched as the input.

    Example:
        >>> import chainrule as cr
        >>> img = np.arange(4.0, dtype="float32").reshape(2, 2, 1)
        >>> cr.ops.image.resize(img, (1, 1)).numpy().ravel()
        array([1.5], dtype=float32)
    """
    from chainrule import ops  # noqa: PLC0415
    from chainrule.ops._image_ops import resize as _resize  # noqa: PLC0415  (the resampler)

    what = "image.resize"
    size = normalize_tuple(size, 2, "size", what)
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"{what}: chainrule resizes with 'bilinear' or 'nearest' "
                         f"interpolation. Received: interpolation={interpolation!r}")
    if antialias:
        raise ValueError(f"{what}: antialiasing is not available in chainrule. "
                         f"Received: antialias={antialias!r}")
    if fill_mode != "constant":
        raise ValueError(f"{what}: fill_mode must be 'constant'. Received: "
                         f"fill_mode={fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{what}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                         f"can be True. Received: crop_to_aspect_ratio=True, "
                         f"pad_to_aspect_ratio=True")
    channels_first = normalize_data_format(data_format, what) == "channels_first"
    shape = _shape(images)
    if len(shape) not in (3, 4):
        raise shape_error(f"{what}: images must have rank 3 (height, width, channels) or 4 "
                          f"(batch, height, width, channels). Received: images of shape "
                          f"{shape}")
    x = images if isinstance(images, Tensor) else ops.convert_to_tensor(images)
    if x.dtype.kind != "f":
        x = ops.cast(x, "float32")
    if len(shape) == 3:
        x = ops.expand_dims(x, 0)
    if channels_first:
        x = ops.transpose(x, (0, 2, 3, 1))
    y = _resize(x, size[0], size[1], interpolation, crop_to_aspect_ratio,
                pad_to_aspect_ratio, fill_value)
    if channels_first:
        y = ops.transpose(y, (0, 3, 1, 2))
    return ops.squeeze(y, 0) if len(shape) == 3 else y


# -- the geometric ops (warps, map_coordinates, crops, pads, scale_and_translate) --
from chainrule.ops.image_transforms import (  # noqa: E402
    affine_transform,
    compute_homography_matrix,
    crop_images,
    elastic_transform,
    map_coordinates,
    pad_images,
    perspective_transform,
    scale_and_translate,
)

__all__ += ["affine_transform", "map_coordinates", "perspective_transform", "elastic_transform",
            "crop_images", "pad_images", "scale_and_translate", "compute_homography_matrix"]
# -- colour ops: rgb_to_grayscale, rgb_to_hsv, hsv_to_rgb, gaussian_blur --
from chainrule.ops.image_color import (  # noqa: E402
    gaussian_blur,
    hsv_to_rgb,
    rgb_to_grayscale,
    rgb_to_hsv,
)

__all__ += ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "gaussian_blur"]
# -- end of colour ops --

# -- Sobel edges and SSIM --
from chainrule.ops.image_quality import sobel_edges, ssim  # noqa: E402

__all__ += ["sobel_edges", "ssim"]
# -- end of Sobel edges and SSIM --

# -- called on symbolic tensors, each records an op layer of a functional model --
from chainrule.ops.symbolic import install as _install_symbolic  # noqa: E402

_install_symbolic(globals(), __all__, prefix="image.")

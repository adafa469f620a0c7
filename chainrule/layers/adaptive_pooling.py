"""Adaptive pooling layers: average or max pooling to a fixed output size (Keras 3's names).

Each layer is a thin wrapper around :func:`chainrule.ops.adaptive_average_pool` or
:func:`chainrule.ops.adaptive_max_pool`: output cell ``i`` of a spatial axis of length
``n`` pools the input cells ``floor(i * n / out)`` to ``ceil((i + 1) * n / out)``
(exclusive), whatever ``n`` is.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.backend.settings import image_data_format
from chainrule.layers.convolutional import ShapedLayer, channels_of, rank_error
from chainrule.ops.conv import normalize_data_format

__all__ = [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]


def _output_size(output_size: Any, rank: int, owner: str) -> tuple:
    def ok(n: Any) -> bool:
        return not isinstance(n, bool) and isinstance(n, (int, np.integer)) and n > 0

    if isinstance(output_size, (list, tuple)):
        sizes = tuple(output_size)
        if len(sizes) == rank and all(ok(n) for n in sizes):
            return tuple(int(n) for n in sizes)
    elif ok(output_size):
        return (int(output_size),) * rank
    what = "a positive integer" if rank == 1 else f"a positive integer or {rank} of them"
    raise ValueError(f"{owner}: invalid value for argument `output_size`: expected {what}. "
                     f"Received: output_size={output_size!r}")


class BaseAdaptivePooling(ShapedLayer):
    """Pooling to ``output_size`` cells per spatial axis (the base of the Adaptive*Pooling layers).

    Args:
        rank: the number of spatial axes.
        output_size: an int (every axis) or ``rank`` ints, all positive.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    _kind = "average"

    def __init__(self, rank: int, output_size: Any, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} layer {self.name!r}"
        self.rank = rank
        self.output_size = _output_size(output_size, rank, owner)
        self.data_format = normalize_data_format(
            image_data_format() if data_format is None else data_format, owner)

    def _check_shape(self, input_shape: Sequence[Any]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, shape)
        return shape

    def build(self, input_shape: Any) -> None:
        self._check_shape(input_shape)
        self.built = True

    def _check_input(self, inputs: Any) -> None:
        self._check_shape(inputs.shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``(batch, *output_size, channels)`` (or channels first)."""
        shape = self._check_shape(input_shape)
        c = channels_of(shape, self.data_format)
        if self.data_format == "channels_first":
            return (shape[0], c) + self.output_size
        return (shape[0],) + self.output_size + (c,)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if inputs.ndim != self.rank + 2:
            raise rank_error(self, self.rank, self.data_format, inputs.shape)
        op = ops.adaptive_average_pool if self._kind == "average" else ops.adaptive_max_pool
        return op(inputs, self.output_size, data_format=self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


_DOC = """Adaptive {kind} pooling to a fixed size over {what} (Keras's ``{name}``).

    The window of output cell ``i`` along an axis of length ``n`` is the input
    cells ``floor(i * n / out)`` to ``ceil((i + 1) * n / out)``, so the output
    has ``output_size`` cells whatever the input's size (windows may overlap).

    Args:
        output_size: {size_doc}.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: layer arguments (``name``, ``input_shape``, ...).

    Input shape:
        ``{layout}`` (or channels first).

    Output shape:
        ``{out_layout}`` (or channels first).

    Raises:
        ValueError: naming the layer, for an ``output_size`` that is not positive
            or a wrong rank of input.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.layers.{name}({example_size})(np.zeros({example})).shape
        {result}
    """


def _doc(kind: str, rank: int, name: str) -> str:
    what = {1: "time steps", 2: "rows and columns", 3: "depth, rows and columns"}[rank]
    size_doc = ("a positive int, the output length" if rank == 1 else
                f"a positive int (every axis) or a tuple of {rank} positive ints")
    layout = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
              3: "(batch, depth, height, width, channels)"}[rank]
    out_layout = {1: "(batch, output_size, channels)",
                  2: "(batch, *output_size, channels)",
                  3: "(batch, *output_size, channels)"}[rank]
    example = {1: "(2, 9, 3)", 2: "(2, 7, 5, 3)", 3: "(1, 5, 6, 7, 2)"}[rank]
    example_size = {1: "4", 2: "(3, 2)", 3: "2"}[rank]
    result = {1: "(2, 4, 3)", 2: "(2, 3, 2, 3)", 3: "(1, 2, 2, 2, 2)"}[rank]
    return _DOC.format(kind=kind, what=what, name=name, size_doc=size_doc, layout=layout,
                       out_layout=out_layout, example=example, example_size=example_size,
                       result=result)


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    __doc__ = _doc("average", 1, "AdaptiveAveragePooling1D")
    _kind = "average"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(1, output_size, data_format, **kwargs)


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    __doc__ = _doc("average", 2, "AdaptiveAveragePooling2D")
    _kind = "average"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(2, output_size, data_format, **kwargs)


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    __doc__ = _doc("average", 3, "AdaptiveAveragePooling3D")
    _kind = "average"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(3, output_size, data_format, **kwargs)


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    __doc__ = _doc("max", 1, "AdaptiveMaxPooling1D")
    _kind = "max"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(1, output_size, data_format, **kwargs)


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    __doc__ = _doc("max", 2, "AdaptiveMaxPooling2D")
    _kind = "max"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(2, output_size, data_format, **kwargs)


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    __doc__ = _doc("max", 3, "AdaptiveMaxPooling3D")
    _kind = "max"

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(3, output_size, data_format, **kwargs)

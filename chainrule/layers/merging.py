"""Merging layers: combine a list of tensors into one (Keras's ``keras.layers`` merging family).

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum``
work elementwise with Keras's broadcasting: the batch sizes must agree, the
other axes broadcast as NumPy's do (an input of lower rank gets new axes after
the batch axis). ``Concatenate`` joins along an axis and ``Dot`` takes batched
dot products. Each has a lowercase functional form, ``add([a, b])``, as Keras.

Masks (Keras 3's rules): the elementwise layers' output is masked where any
input is unmasked (the logical or of the inputs' time-step masks; no mask when
an input has none); ``Multiply``, ``Maximum`` and ``Minimum`` also leave a
masked-out input's steps out of the result. ``Concatenate`` concatenates the
masks along its axis (an unmasked input counts as all valid); ``Dot`` drops them.

Example:
    >>> import chainrule as cr
    >>> a = cr.layers.Input((3,))
    >>> b = cr.layers.Input((3,))
    >>> model = cr.models.Model([a, b], cr.layers.add([a, b]))
    >>> model.predict([np.ones((1, 3)), np.ones((1, 3))], verbose=0)
    array([[2., 2., 2.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import Layer

__all__ = [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
]


def _fmt(shapes: Sequence[Any]) -> str:
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


def _masks_of(inputs: Any, mask: Any = None) -> list:
    """The inputs' masks: ``mask`` when it is a list, else each input's ``_keras_mask``."""
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    if isinstance(mask, (list, tuple)):
        return list(mask)
    return [getattr(x, "_keras_mask", None) for x in inputs]


def _step_mask(mask: Any, x: Any) -> Any:
    """A ``(batch, steps)`` mask broadcast over ``x``'s last axis, or None if it does not fit."""
    if mask is None or tuple(mask.shape) != tuple(x.shape[:-1]):
        return None
    return ops.broadcast_to(ops.expand_dims(mask, -1), tuple(x.shape))


class _Merge(Layer):
    """The elementwise merging layers' common part: input checks, broadcasting, shapes."""

    _min_inputs = 1
    _max_inputs: int | None = None
    supports_masking = True

    def _maybe_build(self, inputs: Any) -> None:
        if self.built:
            return
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f'A merge layer ("{self.name}", {type(self).__name__}) should be called on a '
                f"list of inputs. Received: inputs of shape {tuple(np.shape(inputs))} (not a "
                "list of tensors)")
        shapes = [tuple(x.shape) for x in inputs]
        self.build(shapes)
        self.built = True
        self._build_shape = shapes

    def _check_count(self, shapes: Sequence[Any]) -> None:
        n = len(shapes)
        lo, hi = self._min_inputs, self._max_inputs
        if n < lo or (hi is not None and n > hi):
            want = f"exactly {lo}" if lo == hi else f"at least {lo}"
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) should be called on {want} '
                f"input{'s' if lo != 1 else ''}. Received: {n} inputs of shapes {_fmt(shapes)}")

    def _batch_check(self, shapes: Sequence[Any]) -> None:
        batch = {s[0] for s in shapes if len(s)} - {None}
        if len(batch) > 1:
            raise ValueError(
                f'Layer "{self.name}" cannot merge tensors with different batch sizes. '
                f"Received: inputs of shapes {_fmt(shapes)}")

    def _elementwise_shape(self, shapes: Sequence[Any]) -> tuple:
        """Keras's broadcast of the non-batch axes, or an error naming the two shapes."""
        out: tuple | None = None
        first: tuple | None = None
        for s in shapes:
            rest = tuple(s[1:])
            if out is None:
                out, first = rest, tuple(s)
                continue
            a, b = (out, rest) if len(out) >= len(rest) else (rest, out)
            merged = list(a[:len(a) - len(b)])
            for i, j in zip(a[len(a) - len(b):], b):
                if i is None or j is None:
                    merged.append(None)
                elif i == 1 or j == 1:
                    merged.append(j if i == 1 else i)
                elif i != j:
                    raise ValueError(
                        f'Layer "{self.name}" ({type(self).__name__}) cannot merge inputs of '
                        f"shapes {first} and {tuple(s)}: their sizes {i} and {j} neither match "
                        f"nor are 1. Received: inputs of shapes {_fmt(shapes)}")
                else:
                    merged.append(i)
            out = tuple(merged)
        return out or ()

    def build(self, input_shape: Any) -> None:
        shapes = [tuple(s) for s in input_shape]
        self._check_count(shapes)
        self._batch_check(shapes)
        self._elementwise_shape(shapes)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The broadcast shape of the inputs (batch axis first).

        Args:
            input_shape: a list of the inputs' shapes.

        Returns:
            The output shape.
        """
        shapes = [tuple(s) for s in input_shape]
        self._check_count(shapes)
        self._batch_check(shapes)
        batch = {s[0] for s in shapes if len(s)} - {None}
        return (batch.pop() if batch else None,) + self._elementwise_shape(shapes)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        if isinstance(inputs, Tensor):  # a functional model passes a lone input unwrapped
            inputs = [inputs]
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f'Layer "{self.name}" should be called on a list of inputs. '
                             f"Received: inputs of type {type(inputs).__name__}")
        shapes = [tuple(x.shape) for x in inputs]
        self._check_count(shapes)
        self._batch_check(shapes)
        self._elementwise_shape(shapes)
        nd = max(len(s) for s in shapes)
        xs, masks = [], []
        for x in inputs:
            mask = getattr(x, "_keras_mask", None)
            while x.ndim < nd:  # Keras: new axes right after the batch axis (and no mask)
                x, mask = ops.expand_dims(x, 1), None
            xs.append(x)
            masks.append(_step_mask(mask, x))
        return self._merge(xs, masks)

    def _merge(self, xs: list, masks: list) -> Tensor:  # pragma: no cover - abstract
        """Merge ``xs``; ``masks``: each input's mask broadcast to its shape, or None."""
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The logical or of the inputs' masks; None when any input has none (Keras 3).

        Args:
            inputs: the list of inputs.
            mask: a list of their masks (default: each input's own).

        Returns:
            A boolean Tensor ``(batch, steps)``, or None.
        """
        masks = _masks_of(inputs, mask)
        if not masks or any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = ops.logical_or(out, m)
        return out

    @staticmethod
    def _merge_masked(op: Any, xs: list, masks: list) -> Tensor:
        """Keras's ``Maximum``/``Minimum`` with masks: a masked-out step takes the other's value."""
        out, out_mask = None, None
        for x, mask in zip(xs, masks):
            if out is None:
                out, out_mask = x, mask
                continue
            if mask is not None:
                x = ops.where(mask, x, out)
            if out_mask is not None:
                out = ops.where(out_mask, out, x)
            out_mask = None if mask is None or out_mask is None else ops.logical_or(out_mask, mask)
            out = op(out, x)
        return out


class Add(_Merge):
    """Add a list of inputs elementwise (Keras's broadcasting of the non-batch axes).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Add()([np.ones((2, 3)), np.full((2, 3), 2.0)]).shape
        (2, 3)
    """

    def _merge(self, xs: list, masks: list) -> Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(_Merge):
    """Subtract the second input from the first, elementwise (exactly two inputs).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Subtract()([np.ones((1, 2)), np.ones((1, 2))])
        Tensor([[0., 0.]], dtype=float32)
    """

    _min_inputs = _max_inputs = 2

    def _merge(self, xs: list, masks: list) -> Tensor:
        return ops.subtract(xs[0], xs[1])


class Multiply(_Merge):
    """Multiply a list of inputs elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Multiply()([np.full((1, 2), 2.0), np.full((1, 2), 3.0)])
        Tensor([[6., 6.]], dtype=float32)
    """

    def _merge(self, xs: list, masks: list) -> Tensor:
        # Keras: a masked-out step counts as 1 in the product; with every input masked, the
        # steps no input keeps are 0
        xs = [x if m is None else ops.where(m, x, 1.0) for x, m in zip(xs, masks)]
        out = xs[0]
        for x in xs[1:]:
            out = ops.multiply(out, x)
        if all(m is not None for m in masks):
            keep = masks[0]
            for m in masks[1:]:
                keep = ops.logical_or(keep, m)
            out = ops.where(keep, out, 0.0)
        return out


class Average(_Merge):
    """Average a list of inputs elementwise (their sum divided by their number).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Average()([np.zeros((1, 2)), np.full((1, 2), 4.0)])
        Tensor([[2., 2.]], dtype=float32)
    """

    def _merge(self, xs: list, masks: list) -> Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = ops.add(out, x)
        return ops.divide(out, float(len(xs)))


class Maximum(_Merge):
    """The elementwise maximum of a list of inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])])
        Tensor([[3., 5.]], dtype=float32)
    """

    def _merge(self, xs: list, masks: list) -> Tensor:
        return self._merge_masked(ops.maximum, xs, masks)


class Minimum(_Merge):
    """The elementwise minimum of a list of inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])])
        Tensor([[1., 2.]], dtype=float32)
    """

    def _merge(self, xs: list, masks: list) -> Tensor:
        return self._merge_masked(ops.minimum, xs, masks)


class Concatenate(_Merge):
    """Join a list of inputs along ``axis``; the other axes must match.

    Args:
        axis: the axis to join along (default -1).
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Concatenate()([np.ones((2, 3)), np.ones((2, 4))]).shape
        (2, 7)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate: axis must be an int. Received: axis={axis!r}")
        self.axis = int(axis)

    def _check_shapes(self, shapes: Sequence[Any]) -> None:
        self._check_count(shapes)
        ranks = {len(s) for s in shapes}
        bad = len(ranks) != 1
        if not bad:
            (nd,) = ranks
            if not -nd <= self.axis < nd:
                raise ValueError(f'Layer "{self.name}": axis {self.axis} is out of range for '
                                 f"inputs of shapes {_fmt(shapes)}. Received: axis={self.axis}")
            ax = self.axis % nd
            for i in range(nd):
                if i == ax:
                    continue
                sizes = {s[i] for s in shapes} - {None}
                bad = bad or len(sizes) > 1
        if bad:
            raise ValueError(
                f'Layer "{self.name}" (Concatenate) requires inputs with matching shapes except '
                f"for the concatenation axis {self.axis}. Received: inputs of shapes "
                f"{_fmt(shapes)}")

    def build(self, input_shape: Any) -> None:
        self._check_shapes([tuple(s) for s in input_shape])
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The inputs' common shape with the sizes along ``axis`` summed."""
        shapes = [tuple(s) for s in input_shape]
        self._check_shapes(shapes)
        out = list(shapes[0])
        ax = self.axis % len(out)
        for s in shapes:  # the known size of the other axes
            out = [o if o is not None else d for o, d in zip(out, s)]
        sizes = [s[ax] for s in shapes]
        out[ax] = None if None in sizes else sum(sizes)
        return tuple(out)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        self._check_shapes([tuple(x.shape) for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The inputs' masks concatenated along ``axis`` (Keras 3's rule).

        Each mask is spread over its input's last axis (an unmasked input
        counts as all valid), the results are concatenated along ``axis``, and
        a step is valid where any of its features is: joining features keeps a
        step any input keeps, joining along the time axis joins the masks.

        Args:
            inputs: the list of inputs.
            mask: a list of their masks (default: each input's own).

        Returns:
            A boolean Tensor, or None when no input has a mask.
        """
        masks = _masks_of(inputs, mask)
        if all(m is None for m in masks):
            return None
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(ops.ones_like(x, dtype="bool"))
            elif m.ndim < x.ndim:
                full.append(ops.broadcast_to(ops.expand_dims(m, -1), tuple(x.shape)))
            else:
                full.append(m)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Batched dot products of two inputs along ``axes`` (Keras's ``batch_dot``).

    Args:
        axes: an int, or two ints (one per input), the axes to contract; the
            batch axis 0 cannot be one of them.
        normalize: L2-normalize both inputs along those axes first (the
            output is then the cosine similarity).
        **kwargs: layer arguments.

    Output shape:
        The first input's shape without its contracted axis, followed by the
        second's without its batch and contracted axes; ``(batch, 1)`` when
        that leaves only the batch.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Dot(axes=1)([np.ones((2, 3)), np.ones((2, 3))])
        Tensor([[3.],
                [3.]], dtype=float32)
    """

    _min_inputs = _max_inputs = 2

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """None: a dot product has no time steps left to mask (Keras 3)."""
        return None

    def __init__(self, axes: int | Sequence[int], normalize: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, (int, np.integer))
                                         and not isinstance(a, bool) for a in axes):
                raise ValueError("Dot: axes must be an int or a list of two ints. "
                                 f"Received: axes={axes!r}")
            self.axes: Any = [int(a) for a in axes]
        elif isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
            self.axes = int(axes)
        else:
            raise TypeError(f"Dot: axes must be an int or a list of two ints. "
                            f"Received: axes={axes!r}")
        self.normalize = bool(normalize)

    def _resolve(self, shapes: Sequence[Any]) -> list:
        self._check_count(shapes)
        s1, s2 = shapes
        if len(s1) < 2 or len(s2) < 2:
            raise ValueError(f'Layer "{self.name}" (Dot) needs inputs of rank >= 2. Received: '
                             f"inputs of shapes {_fmt(shapes)}")
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        out = []
        for a, s in zip(axes, (s1, s2)):
            if not -len(s) <= a < len(s) or a % len(s) == 0:
                raise ValueError(
                    f'Layer "{self.name}" (Dot): axes {self.axes} are out of range or include '
                    f"the batch axis 0 for inputs of shapes {_fmt(shapes)}. Received: "
                    f"axes={self.axes}")
            out.append(a % len(s))
        d1, d2 = s1[out[0]], s2[out[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f'Layer "{self.name}" (Dot) cannot contract axis {out[0]} of shape {tuple(s1)} '
                f"with axis {out[1]} of shape {tuple(s2)}: sizes {d1} != {d2}. Received: "
                f"inputs of shapes {_fmt(shapes)}")
        self._batch_check(shapes)
        return out

    def build(self, input_shape: Any) -> None:
        self._resolve([tuple(s) for s in input_shape])
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """See the class docstring."""
        shapes = [list(s) for s in input_shape]
        a1, a2 = self._resolve([tuple(s) for s in shapes])
        s1, s2 = shapes
        s1.pop(a1)
        s2.pop(a2)
        s2.pop(0)
        out = s1 + s2
        return tuple(out + [1] if len(out) == 1 else out)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        a1, a2 = self._resolve([tuple(x.shape) for x in inputs])
        x, y = inputs
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        return _batch_dot(x, y, a1, a2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _l2_normalize(x: Tensor, axis: int, epsilon: float = 1e-7) -> Tensor:
    """``x * min(1 / ||x||, 1 / epsilon)`` along ``axis`` (Keras's ``ops.normalize``)."""
    s = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(s, epsilon * epsilon)))


def _batch_dot(x: Tensor, y: Tensor, a1: int, a2: int) -> Tensor:
    """Contract axis ``a1`` of ``x`` with axis ``a2`` of ``y``, sample by sample, as one matmul."""
    nx, ny = x.ndim, y.ndim
    if nx == 2:
        x = ops.expand_dims(x, 1)
        a1 += 1
    if ny == 2:
        y = ops.expand_dims(y, 2)
    xd, yd = x.ndim, y.ndim
    if a1 != xd - 1:  # the contracted axis of x last
        x = ops.transpose(x, [i for i in range(xd) if i != a1] + [a1])
    if a2 != 1:  # the contracted axis of y second
        y = ops.transpose(y, [0, a2] + [i for i in range(1, yd) if i != a2])
    mid, trail = tuple(x.shape[1:-1]), tuple(y.shape[2:])
    b, k = x.shape[0], x.shape[-1]
    if xd > 3:
        x = ops.reshape(x, (b, -1, k))
    if yd > 3:
        y = ops.reshape(y, (b, k, -1))
    out = ops.matmul(x, y)
    if xd > 3 or yd > 3:
        out = ops.reshape(out, (b,) + mid + trail)
    if nx == 2:
        out = ops.squeeze(out, 1)
    elif ny == 2:
        out = ops.squeeze(out, -1)
    return out


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Add`: ``Add(**kwargs)(inputs)``.

    Example:
        >>> import chainrule as cr
        >>> cr.layers.add([np.ones((1, 2)), np.ones((1, 2))])
        Tensor([[2., 2.]], dtype=float32)
    """
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Subtract`: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Multiply`: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Average`: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Maximum`: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Minimum`: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Functional form of :class:`Concatenate`: ``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence[Any], axes: int | Sequence[int] = -1, **kwargs: Any) -> Any:
    """Functional form of :class:`Dot`: ``Dot(axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)

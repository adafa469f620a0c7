"""The autograd engine: Tensor, Function and the backward pass.

The whole engine fits on one page on purpose (micrograd's lesson). A
:class:`Function` computes on raw backend arrays in ``forward`` and returns the
gradient of each input in ``backward``; :class:`Tensor` records which function
made it; :meth:`Tensor.backward` walks that record in reverse topological
order without recursion, so a chain of 100,000 ops is fine.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Sequence

import numpy as np

from chainrule import backend

# The ops module behind Tensor's operators (``x + y``, ``x[i]``, ``x @ w``): ``chainrule.ops``
# hands itself over when it is imported (see :func:`use_ops`), so this low module does not
# import the ops built on top of it.
_ops: Any = None


def _defers(other: Any) -> bool:
    """Whether a comparison with ``other`` is left to ``other`` (as NumPy arrays do): an
    object that opts out of NumPy's ufuncs (``__array_ufunc__ = None``, e.g. ``pytest.approx``)
    compares itself."""
    return getattr(type(other), "__array_ufunc__", False) is None


def use_ops(module: Any) -> None:
    """Make ``module``'s functions the ones Tensor's operators call.

    ``chainrule.ops`` calls this once, at its import (``import chainrule``
    imports it); the operators need ``add``, ``subtract``, ``multiply``,
    ``divide``, ``power``, ``matmul``, ``negative``, ``abs``, ``getitem``,
    ``compare`` and the reductions Tensor's methods name.

    Args:
        module: the ops module.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.autograd import engine
        >>> engine._ops is cr.ops
        True
    """
    global _ops
    _ops = module

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "sum_to"]

class _GradState(threading.local):
    """Whether ops are recorded, per thread (one thread's ``no_grad`` is not another's)."""

    enabled = True


_grad = _GradState()
# The active recorder of chainrule.autograd.capture (None almost always): while a step is
# traced, every Function call is reported to it, recorded or not on the tape.
_recorder: Any = None


def is_grad_enabled() -> bool:
    """Return whether operations are being recorded for backpropagation (in this thread)."""
    return _grad.enabled


class _GradMode(contextlib.ContextDecorator):
    __slots__ = ("mode", "prev")

    def __init__(self, mode: bool) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self.prev, _grad.enabled = _grad.enabled, self.mode

    def __exit__(self, *exc: Any) -> None:
        _grad.enabled = self.prev


def no_grad() -> _GradMode:
    """Context manager (or decorator) in which no operation is recorded.

    Example:
        >>> import chainrule as cr
        >>> w = cr.Tensor([1.0, 2.0], requires_grad=True)
        >>> with cr.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Context manager (or decorator) that turns recording back on inside ``no_grad``."""
    return _GradMode(True)


def sum_to(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``.

    This undoes NumPy broadcasting in a gradient: if ``a`` of shape ``shape``
    was broadcast to ``g.shape`` in the forward pass, the gradient for ``a`` is
    ``sum_to(g, shape)``.

    Args:
        g: the gradient array.
        shape: the shape of the input before broadcasting.

    Returns:
        An array of shape ``shape``.

    Example:
        >>> import numpy as np
        >>> sum_to(np.ones((2, 3)), (1, 3))
        array([[2., 2., 2.]])
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g


class Function:
    """An operation with a forward pass on arrays and a hand-written backward pass.

    Subclasses implement ``forward(*arrays) -> array`` and
    ``backward(gy) -> tuple`` (one gradient or None per input). ``self.needs``
    tells ``backward`` which inputs need a gradient, so it can skip work (the
    first layer's input never needs one). Call an instance on Tensors, arrays
    or Python scalars; it returns a Tensor.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> class Square(cr.autograd.Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, gy):
        ...         return (2 * self.x * gy,)
        >>> x = cr.Tensor(np.array(3.0), requires_grad=True)
        >>> Square()(x).backward(); float(x.grad)
        6.0
    """

    inputs: tuple
    needs: tuple
    #: False for ops whose output carries no gradient (comparisons, label checks).
    differentiable = True
    #: True for ops whose ``backward`` writes input ``i``'s gradient into
    #: ``self.grad_out[i]`` when a captured step gives one (a weight's slot of the flat
    #: gradient buffer), instead of allocating it.
    supports_grad_out = False
    grad_out: Any = None

    def __call__(self, *inputs: Any) -> "Tensor":
        rec = _recorder
        if rec is not None:
            rec.before(self)
        xs = [t.data if isinstance(t, Tensor) else t for t in inputs]
        try:
            y = self.forward(*xs)
        except ValueError as e:
            if getattr(e, "_chainrule", False):
                raise
            raise _shape_error(type(self).__name__.lower(), xs, e) from None
        out = Tensor.__new__(Tensor)
        out.data = y
        out.grad = None
        out.name = None
        if rec is not None:
            rec.after(self, inputs, out)
        if self.differentiable and _grad.enabled:
            needs = tuple(isinstance(t, Tensor) and t.requires_grad for t in inputs)
            if True in needs:
                self.inputs = inputs
                self.needs = needs
                out.creator = self
                out.requires_grad = True
                return out
        out.creator = None
        out.requires_grad = False
        return out

    def forward(self, *xs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, gy: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError


def _shape_error(op: str, xs: Sequence[Any], cause: Exception) -> ValueError:
    shapes = " and ".join(str(tuple(np.shape(x))) for x in xs if x is not None)
    err = ValueError(f"{op}: incompatible shapes {shapes}. ({cause})")
    err._chainrule = True  # type: ignore[attr-defined]
    return err


def shape_error(message: str) -> ValueError:
    """Return a ValueError that :class:`Function` passes through unchanged."""
    err = ValueError(message)
    err._chainrule = True  # type: ignore[attr-defined]
    return err


class Tensor:
    """An array that remembers how it was computed, so gradients can flow back.

    Args:
        data: a backend array, NumPy array, scalar or nested list. Python floats
            become :func:`chainrule.config.floatx`.
        requires_grad: whether ``backward`` should compute ``.grad`` for it.
        dtype: optional dtype to cast ``data`` to.
        name: optional name, shown in ``repr`` and by the explain tools.

    Attributes:
        data: the backend array.
        grad: the gradient array after ``backward`` (None before).
        requires_grad: whether gradients are tracked.

    Example:
        >>> import chainrule as cr
        >>> x = cr.Tensor([[1.0, 2.0]], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        array([[2., 4.]], dtype=float32)
    """

    # _logits: set by ops.softmax (last axis) and ops.sigmoid on their output, pointing at
    # the input, so cross-entropy losses can use the stable fused op (never set elsewhere).
    # _keras_mask: the time-step mask a layer attached to its output (Keras's attribute of
    # that name; see Layer.compute_mask).
    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "_logits", "_keras_mask",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor -> Tensor.__radd__

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            arr = backend.as_array(data, dtype)
        except (ValueError, TypeError) as e:
            raise TypeError(
                f"Tensor data must be numeric (an array, a number or a nested list of "
                f"numbers). Received: data of type {type(data).__name__} ({e})"
            ) from None
        # NumPy arrays of text pass as they are, for the layers that read text (StringLookup,
        # TextVectorization, Hashing); nested lists must hold numbers
        if arr.dtype.kind not in "biuf" and not (arr.dtype.kind in "US" and isinstance(
                data, np.ndarray)):
            raise TypeError(
                f"Tensor data must be numeric. Received: data with dtype {arr.dtype}"
            )
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                "Only floating-point tensors can require gradients. "
                f"Received: data with dtype {arr.dtype}, requires_grad=True"
            )
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.name = name

    # -- array-like properties --------------------------------------------
    @property
    def shape(self) -> tuple:
        """The shape of the data."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> Any:
        """The dtype of the data."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True when the tensor was not made by a recorded operation."""
        return self.creator is None

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """Return the data as a NumPy array on the host (no copy on the CPU)."""
        if _recorder is not None:
            _recorder.value_read(self, "numpy()")
        return backend.to_numpy(self.data)

    def item(self) -> float:
        """Return the value of a one-element tensor as a Python number."""
        if _recorder is not None:
            _recorder.value_read(self, "item()")
        return self.data.item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        if _recorder is not None:
            _recorder.value_read(self, "float()")
        return float(self.data)

    def __int__(self) -> int:
        if _recorder is not None:
            _recorder.value_read(self, "int()")
        return int(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (``if loss < best:``), as an eager Keras tensor.

        Raises:
            ValueError: for a tensor of several elements (as NumPy: ambiguous).
        """
        if _recorder is not None:
            _recorder.value_read(self, "bool()")
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        return f"Tensor({body}, dtype={self.data.dtype}{extra}{name})"

    __hash__ = object.__hash__

    def detach(self) -> "Tensor":
        """Return a tensor sharing the data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    # -- the backward pass -------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Compute the gradient of this tensor with respect to every tensor it depends on.

        After the call, ``.grad`` holds d(self)/d(t) for every tensor ``t`` in
        the graph that requires grad (leaves and intermediate results alike).
        Gradients accumulate across calls until :meth:`zero_grad`.

        Args:
            grad: the gradient of some final scalar with respect to this
                tensor. May be omitted only when this tensor has one element
                (then it is 1).

        Raises:
            RuntimeError: if this tensor does not require grad, or if it is not
                a scalar and ``grad`` is not given.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: nothing "
                "it was computed from has requires_grad=True (or it was computed "
                "under no_grad()). Received: tensor of shape "
                f"{tuple(self.shape)} with requires_grad=False"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    "backward() without a gradient argument needs a scalar (one-element) "
                    "tensor; reduce it first (e.g. .sum() or .mean()) or pass grad=. "
                    f"Received: tensor of shape {tuple(self.shape)}"
                )
            g = backend.xp.ones_like(self.data)
        else:
            g = grad.data if isinstance(grad, Tensor) else backend.as_array(grad, self.data.dtype)
            if g.shape != self.data.shape:
                raise ValueError(
                    f"backward(): grad must have the tensor's shape {tuple(self.shape)}. "
                    f"Received: grad of shape {tuple(g.shape)}"
                )
        _run_backward(self, g, True)

    # -- operators (implemented in chainrule.ops) ---------------------------
    def __add__(self, other: Any) -> "Tensor":
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> "Tensor":
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> "Tensor":
        return _ops.subtract(self, other)

    def __rsub__(self, other: Any) -> "Tensor":
        return _ops.subtract(other, self)

    def __mul__(self, other: Any) -> "Tensor":
        return _ops.multiply(self, other)

    def __rmul__(self, other: Any) -> "Tensor":
        return _ops.multiply(other, self)

    def __truediv__(self, other: Any) -> "Tensor":
        return _ops.divide(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return _ops.divide(other, self)

    def __pow__(self, other: Any) -> "Tensor":
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> "Tensor":
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> "Tensor":
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return _ops.matmul(other, self)

    def __neg__(self) -> "Tensor":
        return _ops.negative(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return _ops.abs(self)

    def __getitem__(self, key: Any) -> "Tensor":
        return _ops.getitem(self, key)

    def __iter__(self) -> Any:
        """The slices along the first axis, each a Tensor (``for row in x``, as in Keras)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor. Received: a tensor of shape ()")
        return (_ops.getitem(self, i) for i in range(len(self.data)))

    def __lt__(self, other: Any) -> "Tensor":
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, "<")

    def __le__(self, other: Any) -> "Tensor":
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, "<=")

    def __gt__(self, other: Any) -> "Tensor":
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, ">")

    def __ge__(self, other: Any) -> "Tensor":
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, ">=")

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, "==")

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        if _defers(other):
            return NotImplemented
        return _ops.compare(self, other, "!=")

    # -- method forms --------------------------------------------------------
    @property
    def T(self) -> "Tensor":
        """The transpose (all axes reversed)."""
        return _ops.transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """See :func:`chainrule.ops.sum`."""
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """See :func:`chainrule.ops.mean`."""
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        """See :func:`chainrule.ops.max`."""
        return _ops.max(self, axis, keepdims)

    def reshape(self, *shape: Any) -> "Tensor":
        """See :func:`chainrule.ops.reshape`."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> "Tensor":
        """See :func:`chainrule.ops.transpose`."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def exp(self) -> "Tensor":
        """See :func:`chainrule.ops.exp`."""
        return _ops.exp(self)

    def log(self) -> "Tensor":
        """See :func:`chainrule.ops.log`."""
        return _ops.log(self)

    def astype(self, dtype: Any) -> "Tensor":
        """Return a copy cast to ``dtype`` (gradients flow for float dtypes)."""
        return _ops.cast(self, dtype)


def backward_for_training(loss: "Tensor", scale: float | None = None) -> None:
    """``loss.backward()`` without keeping intermediate gradients (the training step's form).

    Args:
        loss: a scalar tensor that requires grad.
        scale: differentiate ``loss * scale`` instead (an optimizer's
            ``loss_scale_factor``; the optimizer divides the gradients by it).
    """
    xp = backend.xp
    seed = xp.ones_like(loss.data) if scale is None else xp.full_like(loss.data, scale)
    _run_backward(loss, seed, False)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _topological_order(root: Tensor) -> list:
    """Tensors reachable from ``root`` that need grad, inputs before outputs."""
    order: list = []
    seen: set = set()
    stack: list = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        f = t.creator
        if f is not None:
            for x, need in zip(f.inputs, f.needs):
                if need and id(x) not in seen:
                    stack.append((x, False))
    return order


def _run_backward(root: Tensor, g: Any, retain: bool) -> None:
    """Backpropagate ``g`` from ``root``; intermediate tensors keep ``.grad`` when ``retain``.

    Leaves (weights, inputs that require grad) always receive ``.grad``. The
    training step passes ``retain=False``: nobody reads an intermediate
    gradient there, so keeping them would only hold memory.
    """
    grads = {id(root): g}
    for t in reversed(_topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        f = t.creator
        if f is None or retain:
            t.grad = g if t.grad is None else t.grad + g
        if f is None:
            continue
        for x, need, gx in zip(f.inputs, f.needs, f.backward(g)):
            if need and gx is not None:
                k = id(x)
                prev = grads.get(k)
                grads[k] = gx if prev is None else prev + gx


"""The Layer base class, model variables and symbolic tensors (Keras's layer life cycle).

A layer's ``__init__`` stores configuration only; ``build(input_shape)``
creates its weights with :meth:`Layer.add_weight` when the input size is first
known; ``call(inputs, training=None)`` computes. Calling a layer on a
:class:`KerasTensor` (from ``Input``) records a node of a functional graph
instead of computing.
"""

from __future__ import annotations

import contextvars
import math
import operator
import re
import threading
import warnings
from typing import Any, NamedTuple, Sequence

import numpy as np

from chainrule import backend, ops
from chainrule.autograd import engine as _engine
from chainrule.autograd.engine import Tensor, no_grad
from chainrule.autograd.variable import Variable
from chainrule.backend import scoping as _scopes
from chainrule.backend import session
from chainrule.backend.session import clear_session, get_uid

__all__ = ["Layer", "Variable", "KerasTensor", "ShapeOnlyScope", "WeightShape",
           "WeightBudgetError", "clear_session", "get_uid", "to_snake_case"]

# Bumped whenever a layer's public attribute, trainable flag or weights change, so that a
# captured step recorded before (chainrule.models.step) is not replayed after.
_STRUCTURE = [0]
# attributes the training loop itself sets on models; they do not change what a step computes
_LOOP_ATTRS = frozenset(("stop_training", "history", "optimizer", "loss", "compiled"))


def structure_version() -> int:
    """A number that changes whenever any layer's configuration, trainable flag or weights change."""
    return _STRUCTURE[0]


def touch_structure() -> None:
    """Mark every captured step as stale (a layer changed in a way a replay would miss)."""
    _STRUCTURE[0] += 1


def unique_name(prefix: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``, ... as Keras names layers."""
    n = get_uid(prefix)
    return prefix if n == 1 else f"{prefix}_{n - 1}"


def to_snake_case(name: str) -> str:
    """Keras's rule: ``'Dense'`` → ``'dense'``, ``'InputLayer'`` → ``'input_layer'``,
    ``'Conv2D'`` → ``'conv2d'``, ``'ZeroPadding2D'`` → ``'zero_padding2d'``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class WeightShape(NamedTuple):
    """One weight a layer creates, described without its values.

    Attributes:
        path: the weight's path, ``layer_name/weight_name`` (its :attr:`Variable.path`,
            the key it is saved under).
        shape: its shape.
        dtype: its dtype's name, e.g. ``'float32'``.

    Example:
        >>> w = WeightShape("dense/kernel", (3, 4), "float32")
        >>> w.layer, w.name, w.nbytes
        ('dense', 'kernel', 48)
    """

    path: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def layer(self) -> str:
        """The name of the layer that owns the weight."""
        return self.path.rpartition("/")[0]

    @property
    def name(self) -> str:
        """The weight's own name (``kernel``, ``bias``, ...)."""
        return self.path.rpartition("/")[2]

    @property
    def nbytes(self) -> int:
        """The bytes its values take."""
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


class WeightBudgetError(ValueError):
    """A weight created in a :class:`ShapeOnlyScope` would pass the scope's ``max_bytes``.

    Attributes:
        weight: the :class:`WeightShape` of the weight that was refused.
        total: the bytes of the weights created in the scope, that one included.
        max_bytes: the scope's bound.
    """

    def __init__(self, message: str, weight: WeightShape, total: int, max_bytes: int) -> None:
        super().__init__(message)
        self.weight, self.total, self.max_bytes = weight, total, max_bytes


class _ShapeOnlyVariable(Variable):
    """A weight with a shape and a dtype but no memory: every element reads as zero.

    Made by :meth:`Layer.add_weight` inside a :class:`ShapeOnlyScope`; a dry run
    of ``call`` on it gives the right output shapes. ``assign`` checks the shape
    and stores nothing.
    """

    __slots__ = ()

    def assign(self, value: Any) -> None:
        shape = tuple(value.shape) if isinstance(value, Tensor) else tuple(np.shape(value))
        if shape != tuple(self.data.shape):
            raise ValueError(
                f"Cannot assign a value of shape {shape} to variable {self.path!r} of shape "
                f"{tuple(self.data.shape)}. Received: value of shape {shape}"
            )


_SHAPE_ONLY: contextvars.ContextVar[ShapeOnlyScope | None] = contextvars.ContextVar(
    "chainrule_shape_only_scope", default=None)


class ShapeOnlyScope:
    """A scope in which layers create weights with a shape and a dtype but no values.

    Inside it, :meth:`Layer.add_weight` allocates nothing and runs no
    initializer: it records the weight and returns a stand-in whose elements
    all read as zero (a broadcast view of one scalar), so ``build`` and a dry
    run of ``call`` work and give the right shapes. With ``max_bytes``, the
    weight that would take the weights created in the scope past that many
    bytes raises :class:`WeightBudgetError` before anything is made for it
    (for this bound a zero-sized dimension counts as 1, so a kernel of shape
    ``(0, 2**29)`` counts as the 2**29 outputs it makes).
    Scopes nest: a weight counts against every enclosing scope's bound.
    Default layer names used up inside the scope are given back on exit, so
    layers created afterwards get the names they would have got without it.

    Nothing made inside is meant to be trained or saved: it describes what
    building would create (see :meth:`Layer.compute_weight_shapes`).

    Args:
        max_bytes: optional bound on the bytes of all the weights created inside.

    Attributes:
        weights: the :class:`WeightShape` of every weight created inside, in
            creation order.
        nbytes: the bytes they would take.

    Example:
        >>> import chainrule as cr
        >>> with ShapeOnlyScope() as scope:
        ...     _ = cr.layers.Dense(4, name="d")(KerasTensor((None, 3)))
        >>> [(w.path, w.shape) for w in scope.weights], scope.nbytes
        ([('d/kernel', (3, 4)), ('d/bias', (4,))], 64)
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(
                max_bytes, (int, np.integer)) or max_bytes < 0):
            raise ValueError("max_bytes must be None or a non-negative integer. "
                             f"Received: max_bytes={max_bytes!r}")
        self.max_bytes = None if max_bytes is None else int(max_bytes)
        self.weights: list[WeightShape] = []
        self.nbytes = 0
        self._parent: ShapeOnlyScope | None = None
        self._token: Any = None
        self._uids: dict[str, int] = {}

    def __enter__(self) -> ShapeOnlyScope:
        self._parent = _SHAPE_ONLY.get()
        self._token = _SHAPE_ONLY.set(self)
        self._uids = session.uid_counts()
        return self

    def __exit__(self, *exc: object) -> None:
        _SHAPE_ONLY.reset(self._token)
        session.set_uid_counts(self._uids)

    def _record(self, layer: Layer, weight: WeightShape) -> None:
        n = weight.nbytes
        # The bound counts a zero-sized dimension as 1: a kernel (0, 2**29) holds nothing but
        # makes every output 2**29 wide, so it must not slip past the bound as 0 bytes.
        nominal = math.prod(max(int(d), 1) for d in weight.shape) * np.dtype(weight.dtype).itemsize
        scope: ShapeOnlyScope | None = self
        while scope is not None:
            used = scope.__dict__.get("_nominal", 0)
            if scope.max_bytes is not None and used + nominal > scope.max_bytes:
                raise WeightBudgetError(
                    f'Layer "{layer.name}" weight "{weight.name}" of shape {weight.shape} '
                    f"({weight.dtype}) would take {nominal} bytes, {used + nominal} with the "
                    f"weights before it, more than the {scope.max_bytes} allowed. Received: "
                    f"shape={weight.shape}",
                    weight, used + nominal, scope.max_bytes,
                )
            scope = scope._parent
        scope = self
        while scope is not None:
            scope.weights.append(weight)
            scope.nbytes += n
            scope._nominal = scope.__dict__.get("_nominal", 0) + nominal
            scope = scope._parent


def _placeholder(shape: tuple[int, ...], dtype: Any) -> Any:
    """A zero-filled array of ``shape`` that takes the memory of one element."""
    return backend.xp.broadcast_to(backend.xp.zeros((), dtype=dtype), shape)



@session.register_symbolic_type
class KerasTensor:
    """A symbolic tensor: a shape (``None`` for the batch) and the layer call that made it.

    Returned by ``Input`` and by layers called on other KerasTensors; used to
    build functional models. It holds no values.
    """

    __slots__ = ("shape", "dtype", "node", "name")

    def __init__(self, shape: Sequence[Any], dtype: Any = None, node: Any = None,
                 name: str | None = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype or backend.floatx()
        self.node = node
        self.name = name

    @property
    def ndim(self) -> int:
        """The number of dimensions, batch included."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # -- operators record op layers (chainrule.ops.symbolic), as Keras records graph ops.
    # ``==``/``!=`` keep identity semantics (graph code looks KerasTensors up in lists).
    def _op(self, name: str, *args: Any) -> "KerasTensor":
        return getattr(ops, name)(*args)

    def __add__(self, other: Any) -> "KerasTensor":
        return self._op("add", self, other)

    def __radd__(self, other: Any) -> "KerasTensor":
        return self._op("add", other, self)

    def __sub__(self, other: Any) -> "KerasTensor":
        return self._op("subtract", self, other)

    def __rsub__(self, other: Any) -> "KerasTensor":
        return self._op("subtract", other, self)

    def __mul__(self, other: Any) -> "KerasTensor":
        return self._op("multiply", self, other)

    def __rmul__(self, other: Any) -> "KerasTensor":
        return self._op("multiply", other, self)

    def __truediv__(self, other: Any) -> "KerasTensor":
        return self._op("true_divide", self, other)

    def __rtruediv__(self, other: Any) -> "KerasTensor":
        return self._op("true_divide", other, self)

    def __pow__(self, other: Any) -> "KerasTensor":
        return self._op("power", self, other)

    def __rpow__(self, other: Any) -> "KerasTensor":
        return self._op("power", other, self)

    def __matmul__(self, other: Any) -> "KerasTensor":
        return self._op("matmul", self, other)

    def __rmatmul__(self, other: Any) -> "KerasTensor":
        return self._op("matmul", other, self)

    def __neg__(self) -> "KerasTensor":
        return self._op("negative", self)

    def __abs__(self) -> "KerasTensor":
        return self._op("abs", self)

    def __getitem__(self, key: Any) -> "KerasTensor":
        return self._op("getitem", self, key)

    def __lt__(self, other: Any) -> "KerasTensor":
        return self._op("less", self, other)

    def __le__(self, other: Any) -> "KerasTensor":
        return self._op("less_equal", self, other)

    def __gt__(self, other: Any) -> "KerasTensor":
        return self._op("greater", self, other)

    def __ge__(self, other: Any) -> "KerasTensor":
        return self._op("greater_equal", self, other)


class Node:
    """One call of a layer in a functional graph: inputs → layer → outputs."""

    __slots__ = ("layer", "inputs", "outputs", "kwargs")

    def __init__(self, layer: "Layer", inputs: list, outputs: list, kwargs: dict) -> None:
        self.layer, self.inputs, self.outputs, self.kwargs = layer, inputs, outputs, kwargs


def _flatten(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        out: list = []
        for v in x:
            out.extend(_flatten(v))
        return out
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    return [x]


def _shape_of(x: Any) -> tuple:
    if isinstance(x, (KerasTensor, Tensor)):
        return tuple(x.shape)
    return tuple(np.shape(x))


def _float_dtype(name: Any) -> Any:
    """``name`` when it names a float dtype, else None (string/int layers keep floatx rules)."""
    try:
        return name if name is not None and np.dtype(name).kind == "f" else None
    except TypeError:
        return None


def _to_tensor(x: Any, dtype: Any = None) -> Any:
    """An array input as a Tensor: numbers become ``dtype`` when it is a float dtype (a
    layer's own, as Keras casts inputs to a layer's compute dtype), else floatx; float32
    arrays stay float32 for a floatx layer."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_tensor(v, dtype) for v in x)
    if isinstance(x, dict):
        return {k: _to_tensor(v, dtype) for k, v in x.items()}
    arr = backend.as_array(x)
    target = dtype if dtype is not None and np.dtype(dtype).kind == "f" else None
    if target is not None:
        if arr.dtype.kind in "iubf" and arr.dtype != target:
            arr = arr.astype(target)
    elif arr.dtype.kind in "iub" or arr.dtype == np.float64 and backend.floatx() != "float64":
        arr = arr.astype(backend.floatx())
    return Tensor(arr)


_BASE_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "dtype", "name",
                "trainable", "autocast", "weights", "input_length")


class Layer:
    """Base class of every layer.

    Subclasses override ``build(input_shape)`` (create weights with
    :meth:`add_weight`) and ``call(inputs, training=None)``, and extend
    ``get_config()`` with their constructor arguments.

    Args:
        trainable: whether the layer's weights are updated by training.
        name: the layer's name (default: the snake-cased class name, numbered).
        dtype: the dtype of its weights (default :func:`chainrule.config.floatx`).
        input_shape: shape of one sample, for a model's first layer (Keras 2 style).
        input_dim: ``input_shape=(input_dim,)``, as in ``Dense(3, input_dim=2)``.

    Example:
        >>> import chainrule as cr
        >>> class Scale(cr.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, x):
        ...         return x * self.w
        >>> Scale()(np.ones((2, 3))).shape
        (2, 3)
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in _BASE_KWARGS]
        if unknown:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {k: kwargs[k] for k in unknown} }. Received: {', '.join(unknown)}"
            )
        object.__setattr__(self, "_layers", [])
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        if dtype is None:  # a global dtype policy, when one is set, is the default
            from chainrule.dtype_policies import default_layer_dtype  # noqa: PLC0415

            dtype = default_layer_dtype()
        self.dtype = _dtype_name(dtype) if dtype is not None else None
        self.built = False
        self._variables: list[Variable] = []
        self._losses: list = []
        self._inbound_nodes: list = []
        self._build_shape: tuple | None = None
        self._output_shape: Any = None
        batch_input_shape = kwargs.get("batch_input_shape")
        if batch_input_shape is None:
            shape = kwargs.get("input_shape")
            if shape is None and kwargs.get("input_dim") is not None:
                dim = kwargs["input_dim"]
                if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0:
                    raise ValueError(f"input_dim must be a positive integer. Received: input_dim={dim!r}")
                shape = (int(dim),)
            if shape is not None:
                if isinstance(shape, (int, np.integer)):
                    shape = (int(shape),)
                if not isinstance(shape, (tuple, list)):
                    raise ValueError(
                        f"input_shape must be a tuple of integers. Received: input_shape={shape!r}"
                    )
                batch_input_shape = (kwargs.get("batch_size"),) + tuple(shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        if kwargs.get("weights") is not None:
            self._initial_weights = kwargs["weights"]

    # -- tracking ------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if isinstance(value, Layer) and key != "_outer" and value is not self:
            if value not in self._layers:
                self._layers.append(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
            for v in value:
                if v not in self._layers:
                    self._layers.append(v)
        elif getattr(value, "_tracked_as_attribute", False) and "_variables" in vars(self):
            self._track_variable(value)
        if key[0] != "_" and key not in _LOOP_ATTRS:
            _STRUCTURE[0] += 1
        object.__setattr__(self, key, value)

    def _track_variable(self, var: Variable) -> None:
        """Add a ``chainrule.Variable`` assigned as an attribute to this layer's weights."""
        if any(v is var for v in self._variables):
            return
        if var.path == var.name or var.path == _scopes.scoped_path(var.name):
            var.path = _scopes.scoped_path(f"{self.name}/{var.name}")  # under any name_scope
        var.requires_grad = var.trainable and self._trainable and var.dtype.kind == "f"
        self._variables.append(var)
        _STRUCTURE[0] += 1

    # Keras 3's dtype-policy view of the layer's dtype (compute and weights share it here)
    @property
    def dtype_policy(self) -> Any:
        """The layer's :class:`~chainrule.DTypePolicy` (named after its dtype, else floatx).

        Example:
            >>> import chainrule as cr
            >>> cr.layers.Dense(2, dtype="float64").dtype_policy
            <DTypePolicy "float64">
        """
        from chainrule.dtype_policies import DTypePolicy  # noqa: PLC0415

        return DTypePolicy(self.dtype if self.dtype not in (None, "string") else backend.floatx())

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in (its dtype, else floatx)."""
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights (its dtype, else floatx)."""
        return self.dtype_policy.variable_dtype

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's weights (setting it freezes sublayers too)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        _STRUCTURE[0] += 1
        for layer in self._layers:
            layer.trainable = value
        self._sync_requires_grad()

    def _sync_requires_grad(self) -> None:
        for v in self._variables:
            v.requires_grad = v.trainable and self._trainable and v.dtype.kind == "f"

    # -- weights ---------------------------------------------------------------
    def add_weight(self, shape: Sequence[int] = (), initializer: Any = "glorot_uniform",
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None, name: str | None = None) -> Variable:
        """Create a weight of this layer.

        Args:
            shape: the weight's shape.
            initializer: an initializer name, object or callable ``(shape, dtype)``.
            dtype: default the layer's dtype or :func:`chainrule.config.floatx`.
            trainable: whether optimizers update it.
            regularizer: optional regularizer name or callable.
            constraint: optional constraint name, Constraint or callable applied after updates.
            name: the weight's name.

        Returns:
            The new :class:`Variable`.
        """
        from chainrule import constraints, initializers, regularizers  # noqa: PLC0415

        dtype = dtype or self.dtype or backend.floatx()
        if initializer is None:  # Keras 3: None means the default for the dtype
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        name = name or f"variable_{len(self._variables)}"
        scope = _SHAPE_ONLY.get()
        if scope is None:
            value = init(tuple(shape), dtype=dtype)
            cls = Variable
        else:  # describe the weight, allocate nothing (see ShapeOnlyScope)
            dims = _weight_dims(shape, self.name, name)
            dt = np.dtype(dtype)
            scope._record(self, WeightShape(_scopes.scoped_path(f"{self.name}/{name}"), dims,
                                            dt.name))
            value, cls = _placeholder(dims, dt), _ShapeOnlyVariable
        var = cls(value, name=name, trainable=trainable,
                  regularizer=regularizers.get(regularizer) if regularizer is not None else None,
                  constraint=constraints.get(constraint), dtype=dtype)
        var.path = _scopes.scoped_path(f"{self.name}/{name}")  # under any open name_scope
        var.requires_grad = var.requires_grad and self._trainable
        self._variables.append(var)
        _STRUCTURE[0] += 1
        return var

    @property
    def weights(self) -> list[Variable]:
        """All weights: this layer's then its sublayers', in creation order."""
        out = list(self._variables)
        seen = {id(w) for w in out}  # a set: a model of many layers lists them in linear time
        for layer in self._layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights training updates (none when the layer is frozen)."""
        if not self._trainable:
            return []
        own = [v for v in self._variables if v.trainable]
        for layer in self._layers:
            for w in layer.trainable_weights:
                if not any(w is o for o in own):
                    own.append(w)
        return own

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights training does not update."""
        trainable = self.trainable_weights
        return [w for w in self.weights if not any(w is t for t in trainable)]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights as NumPy arrays (Dense: kernel ``(in, out)``, bias)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from a list of arrays, in the order :meth:`get_weights` returns.

        Raises:
            ValueError: naming the layer, when the count or a shape does not match.
        """
        if not isinstance(weights, (list, tuple)):
            raise TypeError(
                "set_weights expects a list of arrays, in the order get_weights() returns them. "
                f"Received: weights={weights!r}" if weights is None or np.ndim(weights) == 0 else
                "set_weights expects a list of arrays, in the order get_weights() returns them. "
                f"Received: weights of type {type(weights).__name__}"
            )
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weights "
                f"({', '.join(str(tuple(w.shape)) for w in own) or 'none'}), but received "
                f"{len(weights)}. Received: weights with shapes "
                f"{[tuple(np.shape(w)) for w in weights]}"
            )
        for var, value in zip(own, weights):
            if tuple(np.shape(value)) != tuple(var.shape):
                # a sublayer's weight is named by its path, e.g. 'out/kernel'
                label = var.name if any(var is v for v in self._variables) else var.path
                raise ValueError(
                    f"Layer {self.name!r} weight {label!r} has shape {tuple(var.shape)}, but "
                    f"the value given for it has shape {tuple(np.shape(value))}. Received: "
                    f"weights with shapes {[tuple(np.shape(w)) for w in weights]}"
                )
        arrays = []  # every value converted before any is assigned
        for var, value in zip(own, weights):
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf":
                try:
                    arr = arr.astype(np.dtype(str(var.dtype)))
                except (TypeError, ValueError):
                    label = var.name if any(var is v for v in self._variables) else var.path
                    raise TypeError(
                        f"Layer {self.name!r} weight {label!r} must be set from numbers, but "
                        f"the value given for it has dtype {arr.dtype}. Received: a value of "
                        f"dtype {arr.dtype}"
                    ) from None
            arrays.append(arr)
        for var, arr in zip(own, arrays):
            var.assign(arr)

    def count_params(self) -> int:
        """The number of scalars in all weights."""
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- losses and metrics added by layers (Keras 3's add_loss and tracked Metric attributes) --
    def add_loss(self, loss: Any) -> None:
        """Add a scalar loss (or a list of them) to the training loss, from ``call``.

        As in Keras 3, the losses a layer adds are collected during one call of
        the outermost layer or model (they are cleared when that call starts),
        listed by :attr:`losses` and added to the compiled loss by ``fit`` and
        ``evaluate``; a non-scalar loss counts as its sum. Compute it with
        ``chainrule.ops`` (or Tensor operators) from the call's tensors, so
        that a captured training step recomputes it on every batch.

        Args:
            loss: a Tensor, a number, or a list of them.

        Raises:
            ValueError: when ``loss`` is not a tensor or a number.

        Example:
            >>> import chainrule as cr
            >>> class Penalized(cr.layers.Layer):
            ...     def call(self, x):
            ...         self.add_loss(0.01 * cr.ops.sum(x * x))
            ...         return x
            >>> layer = Penalized()
            >>> _ = layer(np.ones((2, 3)))
            >>> [round(float(v.numpy()), 4) for v in layer.losses]
            [0.06]
        """
        for value in _flatten(loss):
            if not isinstance(value, Tensor):
                if isinstance(value, (bool, str)) or not isinstance(
                        value, (int, float, np.number, np.ndarray)):
                    raise ValueError(
                        f"add_loss() of layer {self.name!r} takes a tensor (or a number), "
                        f"computed in call(). Received: loss of type {type(value).__name__}")
                value = Tensor(backend.as_array(value, backend.floatx()))
            self._losses.append(value)
            stateless = _scopes._STATE.stateless  # StatelessScope(collect_losses=True)
            if stateless is not None and stateless.collect_losses:
                stateless.add_loss(value)

    @property
    def losses(self) -> list:
        """The losses of the last call: ``add_loss`` values (this layer's, then its
        sublayers'), then the penalties of the regularized trainable weights."""
        out: list = []
        regularized: list = []
        for layer in layer_tree(self):  # trainable_weights' order, without building that list
            out.extend(layer._losses)
            if layer._trainable:  # freezing a layer freezes its sublayers too
                regularized.extend(v for v in layer._variables
                                   if v.regularizer is not None and v.trainable)
        out.extend(v.regularizer(v) for v in regularized)
        return out

    @property
    def metrics(self) -> list:
        """The ``Metric`` objects assigned as attributes of this layer and its sublayers."""
        return tracked_metrics(self)

    @property
    def metrics_variables(self) -> list:
        """The state variables of :attr:`metrics` (Keras 3's ``metrics_variables``)."""
        out: list = []
        for metric in self.metrics:
            out.extend(getattr(metric, "variables", []))
        return out

    # -- building and calling ----------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the weights once the input shape is known (override in subclasses)."""
        self.built = True

    def compute_weight_shapes(self, input_shape: Any = None) -> list[WeightShape]:
        """The weights this layer creates when built for ``input_shape``, none of them allocated.

        The answer follows from the layer's configuration and the input shape
        alone. An unbuilt layer runs its own ``build`` in a
        :class:`ShapeOnlyScope` (``add_weight`` records each weight's shape
        and dtype and allocates nothing; no initializer runs) and is then put
        back exactly as it was, unbuilt, its default names not used up. So any
        layer whose ``build`` creates its weights with :meth:`add_weight`
        answers with no code of its own; a model answers for all its layers.
        A built layer describes the weights it has; asked about an input shape
        other than the one it was built for (known when it was built by a call
        or by its model), it builds itself again, shape-only, for that shape,
        and is then put back (weights made in ``__init__`` are then left out).

        Override it only for a layer whose ``build`` cannot run on a shape
        alone; the result must equal what ``build`` creates.

        Args:
            input_shape: the input's shape, batch dimension included (``None``
                for unknown sizes), or a list of shapes for several inputs.
                Default: the shape the layer was built for or declared
                (``input_shape=``/``input_dim=``).

        Returns:
            One :class:`WeightShape` ``(path, shape, dtype)`` per weight, in
            :attr:`weights` order: the keys and shapes a saved file holds.

        Raises:
            ValueError: when no input shape is given or known, or ``build``
                refuses it; :class:`WeightBudgetError` when called inside a
                :class:`ShapeOnlyScope` whose ``max_bytes`` the weights pass.

        Example:
            >>> import chainrule as cr
            >>> dense = cr.layers.Dense(4, name="d")
            >>> [(w.name, w.shape) for w in dense.compute_weight_shapes((None, 3))]
            [('kernel', (3, 4)), ('bias', (4,))]
            >>> dense.built, dense.weights
            (False, [])
        """
        shape = _as_shape(input_shape)
        if self.built and _compatible(shape, _as_shape(self._build_shape)):
            return [WeightShape(str(v.path), tuple(int(d) for d in v.shape), v.dtype.name)
                    for v in self.weights]
        if shape is None:
            shape = _as_shape(self._batch_input_shape)
        if shape is None:
            raise ValueError(
                f"Layer {self.name!r} cannot tell the shapes of its weights without the shape "
                "of its input: pass input_shape, batch dimension included. Received: "
                "input_shape=None"
            )
        saved = [(layer, _copy_state(layer)) for layer in layer_tree(self)]
        try:
            with ShapeOnlyScope(), np.errstate(all="ignore"):
                if self.built:  # build afresh, for another shape
                    for layer, _ in saved:
                        object.__setattr__(layer, "built", False)
                        object.__setattr__(layer, "_variables", [])
                self.build(shape)
                return [WeightShape(str(v.path), tuple(int(d) for d in v.shape), v.dtype.name)
                        for v in self.weights]
        finally:
            for layer, state in saved:
                vars(layer).clear()
                vars(layer).update(state)

    # -- saving hooks (Keras 3's names) --------------------------------------------
    def save_own_variables(self, store: Any) -> None:
        """Put this layer's own weights (not its sublayers') into ``store``, keyed ``"0"``, ``"1"``...

        ``save_model`` calls it for a layer that overrides it and saves what it
        puts in ``store``; override it to save more (call ``super()`` first).

        Args:
            store: a dict-like mapping of string keys to arrays.

        Example:
            >>> import chainrule as cr
            >>> store = {}
            >>> cr.layers.Dense(2, input_dim=3).save_own_variables(store); sorted(store)
            []
        """
        for i, var in enumerate(self._variables):
            store[str(i)] = var.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Assign this layer's own weights from ``store`` (see :meth:`save_own_variables`).

        Raises:
            ValueError: naming the layer, when ``store`` holds another number of weights.

        Example:
            >>> import chainrule as cr
            >>> layer = cr.layers.Dense(2)
            >>> layer.build((None, 3))
            >>> layer.load_own_variables({"0": np.ones((3, 2)), "1": np.zeros(2)})
            >>> float(layer.kernel.numpy().sum())
            6.0
        """
        if len(store) != len(self._variables):
            raise ValueError(
                f"Layer {self.name!r} expected {len(self._variables)} variables, but the saved "
                f"store holds {len(store)}. Received: keys {sorted(store)[:10]}"
            )
        for i, var in enumerate(self._variables):
            var.assign(store[str(i)])

    def get_build_config(self) -> dict | None:
        """What :meth:`build_from_config` needs to build the layer again (``None`` if unbuilt).

        Example:
            >>> import chainrule as cr
            >>> layer = cr.layers.Dense(2)
            >>> _ = layer(np.zeros((1, 3), "float32")); layer.get_build_config()
            {'input_shape': (1, 3)}
        """
        if not self.built or self._build_shape is None:
            return None
        return {"input_shape": self._build_shape}

    def build_from_config(self, config: dict | None) -> None:
        """Build the layer from what :meth:`get_build_config` returned.

        Args:
            config: ``{"input_shape": shape}`` or ``None`` (nothing to do).

        Example:
            >>> import chainrule as cr
            >>> layer = cr.layers.Dense(2)
            >>> layer.build_from_config({"input_shape": [None, 3]}); layer.kernel.shape
            (3, 2)
        """
        if not config:
            return
        if not isinstance(config, dict) or "input_shape" not in config:
            raise ValueError(f"Layer {self.name!r}: build_from_config expects a dict with an "
                             f"'input_shape' key. Received: config={config!r:.200}")
        shape = config["input_shape"]
        if isinstance(shape, list) and not any(isinstance(d, (list, tuple)) for d in shape):
            shape = tuple(shape)
        self.build(shape)
        self.built = True
        self._build_shape = shape

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation (override in subclasses)."""
        return inputs

    def _maybe_build(self, inputs: Any) -> None:
        if self.built:
            return
        flat = _flatten(inputs)
        shapes = [_shape_of(x) for x in flat]
        shape = shapes[0] if len(shapes) == 1 else shapes
        self.build(shape)
        self.built = True
        self._build_shape = shape
        self._check_input_spec(inputs)  # again: build may set the spec (Keras 3)
        if getattr(self, "_initial_weights", None) is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    #: Keras 3's ``InputSpec`` (or a list of them) checked at every call; see layers/input_spec.py.
    input_spec: Any = None

    def _check_input_spec(self, inputs: Any) -> None:
        if self.input_spec is not None:
            from chainrule.layers.input_spec import assert_input_compatibility  # noqa: PLC0415

            assert_input_compatibility(self.input_spec, inputs, self.name)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        flat = _flatten(inputs)
        if flat and all(isinstance(x, KerasTensor) for x in flat):
            self._check_input_spec(inputs)
            return self._symbolic_call(inputs, *args, **kwargs)
        if not isinstance(inputs, Tensor):
            inputs = _to_tensor(inputs, _float_dtype(self.dtype))
        self._check_input_spec(inputs)
        if not self.built:
            self._check_input(inputs)
            self._maybe_build(inputs)
        # masks (Keras 3): the input's mask is passed to a call that takes ``mask``, and a
        # layer that supports masking attaches compute_mask's result to its output
        mask = kwargs["mask"] if "mask" in kwargs else getattr(inputs, "_keras_mask", None)
        if mask is not None and "mask" not in kwargs and "mask" in call_arguments(self):
            kwargs["mask"] = mask
        calls = _CALLS
        if not calls.depth:  # the outermost call: losses start afresh (Keras 3)
            clear_losses(self)
        # the training mode (Keras 3's call context): an explicit value wins and holds for the
        # layers called inside; without one, a layer takes its caller's (a Dropout inside a
        # custom layer whose call has no training argument still knows fit is training)
        outer = calls.training
        training = kwargs.get("training")
        if training is None and outer is not None and "training" in call_arguments(self):
            kwargs["training"] = training = outer
        calls.depth += 1
        calls.training = outer if training is None else training
        rec = _engine._recorder
        try:
            if rec is None:
                out = self.call(inputs, *args, **kwargs)
            else:
                rec.push_layer(self.name)  # a traced step names the layer that cannot be captured
                try:
                    out = self.call(inputs, *args, **kwargs)
                finally:
                    rec.pop_layer()
        finally:
            calls.depth -= 1
            calls.training = outer
        if self.supports_masking and (mask is not None or type(self).compute_mask
                                      is not Layer.compute_mask):
            _attach_mask(out, self.compute_mask(inputs, mask))
        return out

    #: Whether the layer passes on (or computes) a time-step mask; see :meth:`compute_mask`.
    supports_masking = False

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of this layer's output, given its input and the input's mask.

        The default passes the input's mask on unchanged (layers that do not
        support masking drop it). ``Embedding(mask_zero=True)`` and ``Masking``
        make a mask; recurrent layers consume it.

        Args:
            inputs: the layer's input.
            mask: the input's mask (booleans, ``(batch, timesteps)``) or None.

        Returns:
            The output's mask, or None.

        Example:
            >>> Layer().compute_mask(None, None) is None
            True
        """
        return mask

    def _check_input(self, inputs: Any) -> None:
        """Hook for layers that validate their input before building."""

    def incompatible_input(self, shape: Sequence[Any], declared: Sequence[Any] | None = None
                           ) -> ValueError | None:
        """The error for a batch of ``shape`` given to this layer as a model's first layer.

        Models ask their first layer before the first step, so that a wrong
        input is reported naming the layer instead of failing deep in an op.
        The default compares with the declared input shape; layers that know
        more (Dense: its kernel's input size) override it.

        Args:
            shape: the batch's shape, batch dimension first.
            declared: the model's declared input shape (batch dimension first), or None.

        Returns:
            A ``ValueError`` to raise, or None when the shape fits.

        Example:
            >>> Layer(name="l").incompatible_input((8, 3), (None, 4)) is not None
            True
        """
        if declared is None or shape_fits(declared, shape):
            return None
        return ValueError(
            f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
            f"shape {tuple(declared)}, received shape {(None,) + tuple(shape[1:])}. "
            f"Received: x of shape {tuple(shape)}"
        )

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # Tensors passed as further positional arguments, `layer(targets, logits)`, are
        # inputs of the node too; the node remembers how many (Model.call passes them back).
        extra = [a for a in args if isinstance(a, KerasTensor)]
        if extra:
            if len(extra) != len(args):
                raise ValueError(
                    f"Layer {self.name!r} was called on symbolic tensors with other positional "
                    "arguments mixed in; pass the other arguments by keyword. Received: "
                    f"positional arguments of types {[type(a).__name__ for a in args]}")
            kwargs = {**kwargs, POSITIONAL_TENSORS: len(extra)}
        # so are tensors passed by keyword, `layer(x, mask=m)`, after those (as in Keras 3)
        by_keyword, layout = _keyword_tensors(self, kwargs)
        flat = _flatten(inputs) + extra + by_keyword
        if not self.built:
            self._maybe_build(inputs)
        dummy = _dummy_like(inputs)
        with no_grad():
            out = self.call(dummy, *[_dummy_like(a) for a in args],
                            **{k: _dummy_like(v) for k, v in kwargs.items()
                               if k not in ("mask", POSITIONAL_TENSORS)})
        clear_losses(self)  # a dry run on zeros adds no losses (Keras 3: symbolic calls)
        outs = out if isinstance(out, (list, tuple)) else [out]
        shapes = [tuple(o.shape[1:]) for o in outs]
        if any(d is None for x in flat for d in x.shape[1:]):
            shapes = self._unknown_sizes(inputs, args, kwargs, shapes)
        # a batch size the inputs all declare (Input(shape, batch_size=5)) stays known
        batches = {x.shape[0] if x.shape else None for x in flat}
        known = batches.pop() if len(batches) == 1 else None
        kts = [KerasTensor(((known if known is not None and o.ndim and o.shape[0] == known
                             else None),) + s, dtype=str(o.dtype)) for s, o in zip(shapes, outs)]
        if layout:  # the node keeps where they go, its inputs keep the tensors
            kwargs = {k: v for k, v in kwargs.items() if k not in dict(layout)}
            kwargs[KEYWORD_TENSORS] = layout
        node = Node(self, flat, kts, kwargs)
        for i, kt in enumerate(kts):
            kt.node = node
            kt.name = self.name if len(kts) == 1 else f"{self.name}_{i}"
        self._inbound_nodes.append(node)
        self._output_shape = kts[0].shape if len(kts) == 1 else [k.shape for k in kts]
        return kts[0] if not isinstance(out, (list, tuple)) else type(out)(kts)

    def _unknown_sizes(self, inputs: Any, args: tuple, kwargs: dict, shapes: list) -> list:
        """Output sizes that follow an unknown input size (a sequence length) become None:
        a second dry run with 2 in place of 1 shows which sizes change."""
        try:
            with no_grad():
                out = self.call(_dummy_like(inputs, unknown=2), *args,
                                **{k: _dummy_like(v, unknown=2) for k, v in kwargs.items()
                                   if k not in ("mask", POSITIONAL_TENSORS)})
        except (ValueError, TypeError):  # a layer that needs the size: keep the first answer
            return shapes
        self._losses = []
        outs = out if isinstance(out, (list, tuple)) else [out]
        return [tuple(None if a != b else a for a, b in zip(s, o.shape[1:]))
                for s, o in zip(shapes, outs)]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (by a dry run on zeros, batch of 1)."""
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            kts: Any = [KerasTensor(s) for s in input_shape]
        else:
            kts = KerasTensor(input_shape)
        dummy = _dummy_like(kts)
        self._maybe_build(dummy)
        with no_grad():
            out = self.call(dummy)
        clear_losses(self)  # a dry run on zeros adds no losses (Keras 3: symbolic calls)
        if isinstance(out, (list, tuple)):
            return [(input_shape[0][0],) + tuple(o.shape[1:]) for o in out]
        return (input_shape[0] if input_shape else None,) + tuple(out.shape[1:])

    @property
    def output_shape(self) -> Any:
        """The output shape of the layer's last symbolic call (batch as ``None``)."""
        if self._output_shape is None:
            raise AttributeError(
                f"The layer {self.name!r} has never been called on a symbolic input, so its "
                "output shape is not defined. Build the model (give the first layer an "
                "input_shape, or call it on data) first."
            )
        return self._output_shape

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call."""
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has not been called on a symbolic input.")
        ins = self._inbound_nodes[0].inputs
        return ins[0] if len(ins) == 1 else ins

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call."""
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has not been called on a symbolic input.")
        outs = self._inbound_nodes[0].outputs
        return outs[0] if len(outs) == 1 else outs

    # -- configuration -------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, JSON-serializable (extend in subclasses).

        As in Keras 3, ``dtype`` holds the layer's dtype policy in its serialized form
        (``{"module": "keras", "class_name": "DTypePolicy", "config": {"name": ...}, ...}``);
        a layer created without ``dtype=`` writes the policy it runs with (floatx's).

        Example:
            >>> Layer(name="l", dtype="float64").get_config()["dtype"]["config"]
            {'name': 'float64'}
        """
        from chainrule import dtype_policies  # noqa: PLC0415

        name = self.dtype if self.dtype is not None else self.dtype_policy.name
        config: dict = {"name": self.name, "trainable": self._trainable,
                        "dtype": dtype_policies.serialize(dtype_policies.DTypePolicy(name))}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        """Create a layer from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def call_arguments(layer: Any) -> frozenset:
    """The argument names of ``layer.call`` (``"**"`` among them when it takes any keyword).

    Asked on every call (does it take ``mask``? ``training``?), so the answer is cached
    per class (in the class's own dict: a subclass with another ``call`` gets its own).

    Args:
        layer: a layer (or any object with a ``call`` method).

    Returns:
        The names, as a frozenset.

    Example:
        >>> class Scale(Layer):
        ...     def call(self, inputs, training=None):
        ...         return inputs
        >>> sorted(call_arguments(Scale()))
        ['inputs', 'self', 'training']
        >>> "**" in call_arguments(Layer())  # Layer.call takes **kwargs
        True
    """
    cls = type(layer)
    cached = cls.__dict__.get("_call_arguments_cache")
    if cached is None:
        import inspect  # noqa: PLC0415

        try:
            params = inspect.signature(cls.call).parameters
        except (TypeError, ValueError):  # pragma: no cover - a builtin call
            params = {}
        names = set(params)
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            names.add("**")
        cached = frozenset(names)
        cls._call_arguments_cache = cached
    return cached


def _attach_mask(out: Any, mask: Any) -> None:
    outs = out if isinstance(out, (list, tuple)) else [out]
    masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outs)
    for o, m in zip(outs, masks):
        if isinstance(o, Tensor):
            o._keras_mask = m


def _weight_dims(shape: Any, layer: str, name: str) -> tuple[int, ...]:
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        dims = None
    if dims is None or any(d < 0 for d in dims):
        raise ValueError(
            f'Layer "{layer}" weight "{name}": a shape is a tuple of non-negative integers. '
            f"Received: shape={shape!r:.100}"
        )
    return dims


def _as_shape(shape: Any) -> Any:
    """A shape as a tuple (``None`` for unknown sizes), or several shapes as a list of tuples."""
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple)) for s in shape):
        return [tuple(s) for s in shape]
    return tuple(shape) if isinstance(shape, (list, tuple)) else shape


def _compatible(a: Any, b: Any) -> bool:
    """Whether two shapes (from :func:`_as_shape`) can be the same; ``None`` fits anything."""
    if a is None or b is None:
        return True
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_compatible(x, y) for x, y in zip(a, b)))
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


class _CallDepth(threading.local):
    depth = 0
    training: Any = None  # the training mode of the enclosing call (Keras 3's call context)


_CALLS = _CallDepth()  # how deep in layer calls this thread is (0: outside any call)


def activity_penalty(regularizer: Any, output: Tensor) -> Tensor:
    """A layer's activity penalty on ``output``, divided by the batch size as Keras 3 does.

    Keras 3 normalizes the activity regularizer's loss by the output's first
    dimension, so that its strength does not depend on the batch size (a batch
    of 0 gives 0).

    Args:
        regularizer: the layer's ``activity_regularizer`` (a callable on a Tensor).
        output: the layer's output, batch axis first.

    Returns:
        The scalar penalty Tensor to add to the layer's losses.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> y = cr.Tensor(np.ones((4, 3), np.float32))
        >>> float(activity_penalty(cr.regularizers.L2(0.5), y))  # 0.5 * 12 / 4
        1.5
    """
    loss = regularizer(output)
    if output.ndim > 0:
        n = output.shape[0]
        loss = ops.divide(loss, float(n)) if n else ops.multiply(loss, 0.0)
    return loss


def clear_losses(root: Layer) -> None:
    """Forget the ``add_loss`` values of ``root`` and every layer it tracks."""
    for layer in layer_tree(root):
        losses = vars(layer).get("_losses")
        if losses:
            object.__setattr__(layer, "_losses", [])


class outermost_call:  # noqa: N801  (used like a function: ``with outermost_call(model):``)
    """Run a layer's computation as one call: the outermost call clears the losses first.

    For models whose ``__call__`` bypasses :meth:`Layer.__call__` (``Sequential``).
    """

    __slots__ = ("layer",)

    def __init__(self, layer: Layer) -> None:
        self.layer = layer

    def __enter__(self) -> None:
        calls = _CALLS
        if not calls.depth:
            clear_losses(self.layer)
        calls.depth += 1

    def __exit__(self, *exc: object) -> None:
        _CALLS.depth -= 1


#: The key under which a functional graph's node notes how many of its inputs were passed as
#: further positional arguments (``layer(targets, logits)``).
POSITIONAL_TENSORS = "_positional_tensors"
#: The key under which a node notes which of its last inputs were passed by keyword
#: (``layer(x, mask=m)``): ``((name, n), ...)`` in order, ``n`` tensors in a list or -1 for one.
KEYWORD_TENSORS = "_keyword_tensors"


def _keyword_tensors(layer: Any, kwargs: dict) -> tuple[list, tuple]:
    """The symbolic tensors among keyword arguments (one, or a list of them) and their layout."""
    flat: list = []
    layout = []
    for key, value in kwargs.items():
        if isinstance(value, KerasTensor):
            flat.append(value)
            layout.append((key, -1))
        elif isinstance(value, (list, tuple)) and any(isinstance(v, KerasTensor) for v in value):
            if not all(isinstance(v, KerasTensor) for v in value):
                raise ValueError(
                    f"Layer {layer.name!r} was called with a list mixing symbolic tensors and "
                    f"other values as {key}; a functional graph takes a tensor or a list of "
                    f"tensors by keyword. Received: {key} of types "
                    f"{[type(v).__name__ for v in value]}")
            flat.extend(value)
            layout.append((key, len(value)))
    return flat, tuple(layout)


def split_keyword_tensors(kwargs: dict, values: list) -> tuple[dict, list]:
    """Undo :func:`_keyword_tensors` for one call of a node: ``kwargs`` (a node's, with its
    ``KEYWORD_TENSORS`` layout) with the tensors among ``values`` (the node's inputs' values)
    put back by keyword, and the values left (the positional inputs).

    Example:
        >>> split_keyword_tensors({KEYWORD_TENSORS: (("mask", -1),), "flag": 1}, ["x", "m"])
        ({'flag': 1, 'mask': 'm'}, ['x'])
    """
    kwargs = dict(kwargs)
    layout = kwargs.pop(KEYWORD_TENSORS, ())
    n = sum(1 if k < 0 else k for _, k in layout)
    if not n:
        return kwargs, list(values)
    values, tail = list(values[:len(values) - n]), list(values[len(values) - n:])
    for key, k in layout:
        if k < 0:
            kwargs[key] = tail.pop(0)
        else:
            kwargs[key], tail = tail[:k], tail[k:]
    return kwargs, values

_UNTRACKED = frozenset(("_metrics", "_loss_tracker", "_output_loss_trackers", "_compile_metrics",
                        "_layers", "_variables", "_losses", "_inbound_nodes"))


def tracked_metrics(root: Layer) -> list:
    """The ``Metric`` objects held in attributes of ``root`` and its sublayers, each once."""
    from chainrule.metrics.base import Metric  # noqa: PLC0415

    out: list = []
    seen: set[int] = set()
    for layer in layer_tree(root):
        for key, value in vars(layer).items():
            if key in _UNTRACKED:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, Metric) and id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
    return out


def layer_tree(root: Layer) -> list[Layer]:
    """``root`` and every layer it tracks (sublayers, a model's layers), each once, depth first.

    Args:
        root: a layer or model.

    Returns:
        The layers, ``root`` first.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(2, input_dim=3, name="d")])
        >>> [layer.name for layer in layer_tree(model)][1:]
        ['d']
    """
    out: list[Layer] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(reversed(vars(layer).get("_layers", [])))
    return out


def _copy_state(layer: Layer) -> dict:
    """The layer's attributes, its lists, dicts and sets copied (what ``build`` may change)."""
    return {k: (v.copy() if type(v) in (list, dict, set) else v) for k, v in vars(layer).items()}


def shape_fits(declared: Sequence[Any], shape: Sequence[Any]) -> bool:
    """Whether a batch ``shape`` fits a declared shape (``None`` dimensions take any size)."""
    want, got = tuple(declared[1:]), tuple(shape[1:])
    return len(want) == len(got) and all(w is None or w == g for w, g in zip(want, got))


def _dtype_name(dtype: Any) -> str:
    """A dtype's name; ``"string"`` (Keras's text inputs, e.g. ``Input(dtype="string")``) stays."""
    if dtype in ("string", "str", str):
        return "string"
    from chainrule import dtype_policies  # noqa: PLC0415

    if isinstance(dtype, (dtype_policies.DTypePolicy, dict)) or (
            isinstance(dtype, str) and dtype in ("mixed_float16", "mixed_bfloat16", "bfloat16")):
        # a policy (Keras's dtype=DTypePolicy(...)): its weights' dtype, when it can be honoured
        return dtype_policies.check_supported(dtype_policies.get(dtype), "dtype").variable_dtype
    return str(np.dtype(dtype))


def _dummy_like(inputs: Any, unknown: int = 1) -> Any:
    if isinstance(inputs, KerasTensor):
        shape = tuple(unknown if d is None and i else 1 if d is None else d
                      for i, d in enumerate(inputs.shape))
        if inputs.dtype == "string" or np.dtype(inputs.dtype).kind in "US":
            return Tensor(np.full(shape, "", dtype=str))  # text for StringLookup & co.
        dt = inputs.dtype if np.dtype(inputs.dtype).kind == "f" else inputs.dtype
        return Tensor(backend.xp.zeros(shape, dtype=dt))
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(_dummy_like(v, unknown) for v in inputs)
    if isinstance(inputs, dict):
        return {k: _dummy_like(v, unknown) for k, v in inputs.items()}
    return inputs


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that a tutorial-era spelling is accepted but has a modern name."""
    warnings.warn(f"`{old}` is deprecated; use `{new}` instead.", DeprecationWarning,
                  stacklevel=stacklevel)


def flatten_structure(x: Any) -> list:
    """Flatten nested lists/tuples/dicts into a list (public for models)."""
    return _flatten(x)


def as_tensor(x: Any) -> Any:
    """Convert arrays (or nested structures of them) to Tensors of the float policy."""
    return _to_tensor(x)


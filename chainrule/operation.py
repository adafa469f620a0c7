"""``Operation``: Keras 3's base class of ops (``keras.Operation``).

Subclass it with a ``call`` (and, optionally, a ``compute_output_spec``).
Called on tensors, arrays or numbers it runs ``call``; called on the
``KerasTensor``s of a functional model it records a node of the graph (as an op
layer), so the model runs ``call`` on real tensors in ``predict``, ``fit`` and
its captured steps.

Example:
    >>> import chainrule as cr
    >>> class Scale(cr.Operation):
    ...     def __init__(self, factor, name=None):
    ...         super().__init__(name=name)
    ...         self.factor = factor
    ...     def call(self, x):
    ...         return cr.ops.multiply(x, self.factor)
    ...     def compute_output_spec(self, x):
    ...         return cr.KerasTensor(x.shape, dtype=x.dtype)
    >>> Scale(3.0)([1.0, 2.0]).numpy().tolist()
    [3.0, 6.0]
    >>> inputs = cr.Input((2,))
    >>> model = cr.Model(inputs, Scale(2.0)(inputs))
    >>> model.predict(cr.ops.ones((1, 2)), verbose=0).tolist()
    [[2.0, 2.0]]
"""

from __future__ import annotations

from typing import Any

from chainrule.layers.base import KerasTensor, Layer, to_snake_case, unique_name

__all__ = ["Operation"]


def _is_symbolic(x: Any) -> bool:
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_is_symbolic(v) for v in x)
    if isinstance(x, dict):
        return any(_is_symbolic(v) for v in x.values())
    return False


class Operation:
    """The base class of ops: ``call`` runs it, ``compute_output_spec`` states its output.

    Args:
        name: the op's name, a string without ``/`` (default: the class name
            in snake case, made unique: ``scale``, ``scale_1``, ...).

    Raises:
        ValueError: when ``name`` is not a string or contains ``/``.

    Example:
        >>> import chainrule as cr
        >>> class Square(cr.Operation):
        ...     def call(self, x):
        ...         return cr.ops.square(x)
        >>> op = Square(name="sq")
        >>> op.name, op([3.0]).numpy().tolist(), op.get_config()
        ('sq', [9.0], {'name': 'sq'})
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name!r} (of type {type(name).__name__})")
        self.name = name
        self._calls = 0  # symbolic calls so far: each records a node of its own

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run :meth:`call`, or record a node when a ``KerasTensor`` is among the arguments."""
        if _is_symbolic(args) or _is_symbolic(kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The computation, with ``chainrule.ops`` on tensors (subclasses write it)."""
        raise NotImplementedError(
            f"Operation {type(self).__name__!r} has no `call`: subclasses of Operation must "
            "implement call(). Received: an instance of the base class")

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """The output's ``KerasTensor``(s) for symbolic arguments.

        The default runs :meth:`call` on zeros of the arguments' shapes (batch
        of 1); override it to state the output's shape and dtype directly.
        """
        return _spec(self, args, kwargs)

    def symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """Record this op's call on ``KerasTensor``s as a node of the functional graph.

        Returns:
            The output ``KerasTensor``(s), with the shapes and dtypes
            :meth:`compute_output_spec` gives.

        Raises:
            ValueError: when a ``KerasTensor`` is passed by keyword or nested
                inside a dict (pass symbolic tensors positionally).
        """
        if _is_symbolic(kwargs):
            raise ValueError(
                f"Operation {self.name!r}: symbolic tensors must be passed positionally (as "
                "tensors or lists of tensors) in a functional model. Received: keyword "
                f"arguments {sorted(k for k, v in kwargs.items() if _is_symbolic(v))}")
        self._calls += 1
        name = self.name if self._calls == 1 else f"{self.name}_call{self._calls - 1}"
        layer = _OperationLayer(self, args, kwargs, name)
        tensors = [a for a in args if _is_symbolic(a)]
        outputs = layer(tensors[0], *tensors[1:])
        if type(self).compute_output_spec is not Operation.compute_output_spec:
            spec = self.compute_output_spec(*args, **kwargs)
            flat_out = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            flat_spec = spec if isinstance(spec, (list, tuple)) else [spec]
            if len(flat_spec) != len(flat_out):
                raise ValueError(
                    f"Operation {self.name!r}: compute_output_spec gives {len(flat_spec)} "
                    f"output(s) but call gives {len(flat_out)}. Received: {spec!r:.120}")
            for kt, s in zip(flat_out, flat_spec):
                kt.shape = tuple(None if d is None else int(d) for d in s.shape)
                kt.dtype = str(getattr(s, "dtype", kt.dtype))
        return outputs

    def get_config(self) -> dict:
        """``{"name": ...}``; subclasses add their constructor's arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Operation":
        """Make the op from :meth:`get_config`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<Operation name={self.name}>"


def _spec(op: Operation, args: tuple, kwargs: dict) -> Any:
    """Output KerasTensors for symbolic ``args``: a dry run of ``call`` on zeros (no node)."""
    from chainrule.autograd.engine import no_grad  # noqa: PLC0415
    from chainrule.layers.base import _dummy_like  # noqa: PLC0415

    with no_grad():
        out = op.call(*[_dummy_like(a) if _is_symbolic(a) else a for a in args], **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    kts = [KerasTensor((None,) + tuple(o.shape[1:]), dtype=str(o.dtype)) for o in outs]
    return kts[0] if not isinstance(out, (list, tuple)) else type(out)(kts)


class _OperationLayer(Layer):
    """The layer of one symbolic call of an :class:`Operation`: its call is the op's call.

    The call's non-tensor positional and keyword arguments are kept; the
    layer's inputs are its symbolic ones.
    """

    def __init__(self, op: Operation, args: tuple, kwargs: dict, name: str) -> None:
        super().__init__(name=name)
        self.operation = op
        self._template = [None if _is_symbolic(a) else ("const", a) for a in args]
        self._op_kwargs = dict(kwargs)

    def call(self, inputs: Any, *more: Any) -> Any:
        tensors = iter((inputs,) + more)
        args = [next(tensors) if t is None else t[1] for t in self._template]
        return self.operation.call(*args, **self._op_kwargs)

    def get_config(self) -> dict:
        raise ValueError(
            f"Operation {self.operation.name!r} ({type(self.operation).__name__}) cannot be "
            "saved in a model config: chainrule saves layers, not Operation objects. Wrap it "
            f"in a Layer subclass to save the model. Received: {self.operation!r}")

"""Keras 3's small scopes: ``name_scope``, ``StatelessScope``, ``SymbolicScope``, ``remat``.

* :class:`name_scope` prefixes the paths of the weights (and variables) made
  inside it, as ``keras.name_scope`` does: a ``Dense`` built inside
  ``name_scope("encoder")`` has weights ``encoder/dense/kernel`` and
  ``encoder/dense/bias``. Outside every scope nothing changes.
* :class:`StatelessScope` runs a block against other values of some variables
  (``state_mapping``) and collects the assignments made inside instead of
  applying them.
* :class:`SymbolicScope` marks a block as symbolic (Keras uses it while it
  infers output specs); :func:`in_symbolic_scope` tells whether one is open.
* :func:`remat` and :class:`RematScope`: Keras's gradient checkpointing. chainrule
  keeps every activation (it does not rematerialise): ``remat(f)`` computes the
  same values and gradients as ``f``, and the scope only records its settings.

Example:
    >>> import chainrule as cr
    >>> with cr.name_scope("encoder"):
    ...     dense = cr.layers.Dense(2)
    ...     dense.build((None, 3))
    >>> [w.path for w in dense.weights] == [f"encoder/{dense.name}/kernel",
    ...                                     f"encoder/{dense.name}/bias"]
    True
"""

from __future__ import annotations

import functools
from collections import namedtuple
from typing import Any, Callable, Iterable

from chainrule.autograd.variable import Variable
from chainrule.backend.scoping import _STATE, current_path, nested_path, scoped_path

__all__ = ["name_scope", "current_path", "scoped_path", "nested_path", "StatelessScope", "get_stateless_scope",
           "in_stateless_scope", "SymbolicScope", "in_symbolic_scope", "RematScope", "RematMode",
           "get_current_remat_mode", "remat"]




# -------------------------------------------------------------------------------- name_scope
class name_scope:  # noqa: N801 - Keras's name
    """Open a sub-namespace for the paths of the weights and variables made inside it.

    Scopes nest, their names joined with ``/``. A layer built inside
    ``name_scope("a")`` gets weights with paths ``a/<layer name>/<weight name>``;
    a :class:`chainrule.Variable` made inside has path ``a/<name>``. Paths are
    fixed when a weight is made: leaving the scope does not change them.

    Args:
        name: the scope's name, a string without ``/``.
        caller: optional object opening the scope (a layer). With
            ``deduplicate``, reopening a scope of the same name by the same
            caller directly inside itself adds no second level.
        deduplicate: see ``caller`` (default True). When the caller has a
            ``_parent_path`` attribute, that path replaces the enclosing scopes.
        override_parent: optional absolute path that replaces the enclosing
            scopes' path for this scope and the scopes inside it.

    Raises:
        ValueError: when ``name`` is not a string or contains ``/``.

    Example:
        >>> import chainrule as cr
        >>> with cr.name_scope("outer"):
        ...     with cr.name_scope("inner"):
        ...         v = cr.Variable(1.0, name="v")
        >>> v.path, v.name
        ('outer/inner/v', 'v')
    """

    def __init__(self, name: str, caller: Any = None, deduplicate: bool = True,
                 override_parent: str | None = None) -> None:
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name!r}")
        if override_parent is not None and not isinstance(override_parent, str):
            raise TypeError("Argument `override_parent` must be a string path or None. "
                            f"Received: override_parent={override_parent!r}")
        self.name = name
        self.caller = caller
        self.deduplicate = bool(deduplicate)
        self.override_parent = override_parent
        if (override_parent is None and self.deduplicate
                and getattr(caller, "_parent_path", None) is not None):
            self.override_parent = caller._parent_path
        self._pop_on_exit = False

    def __enter__(self) -> "name_scope":
        stack = _STATE.names
        if self.deduplicate and stack and self.caller is not None:
            top = stack[-1]
            if top.caller is self.caller and top.name == self.name:
                return self  # the same caller reopening its own scope: no second level
        stack.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit and _STATE.names:
            _STATE.names.pop()
            self._pop_on_exit = False


# ------------------------------------------------------------------------------ StatelessScope
def _is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


class StatelessScope:
    """Run a block against given variable values, collecting assignments instead of applying them.

    Inside the scope, a variable named in ``state_mapping`` reads as its mapped
    value (ops, layers and ``numpy()`` see it); ``assign``, ``assign_add`` and
    ``assign_sub`` on any variable change what the block reads next but are
    collected by the scope, not applied: on exit every variable holds exactly
    the array it held before. :meth:`get_current_value` gives a variable's
    value at the end of the scope (None when it was neither mapped nor assigned).

    Args:
        state_mapping: ``[(variable, value), ...]`` pairs; each value (an array,
            a tensor or another variable) is cast to the variable's dtype and
            must have its shape.
        collect_losses: with True, the losses layers add inside the scope are
            also gathered in :attr:`losses`.
        initialize_variables: accepted for Keras compatibility: chainrule's
            variables hold their values from the start.

    Raises:
        ValueError: when a key is not a variable or a value has another shape.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> v = cr.Variable(np.zeros(2), name="v")
        >>> with cr.StatelessScope([(v, np.ones(2))]) as scope:
        ...     doubled = (v * 2).numpy().tolist()
        ...     v.assign_add([1.0, 1.0])
        >>> doubled, v.numpy().tolist(), np.asarray(scope.get_current_value(v)).tolist()
        ([2.0, 2.0], [0.0, 0.0], [2.0, 2.0])
    """

    def __init__(self, state_mapping: Iterable[tuple[Any, Any]] | None = None,
                 collect_losses: bool = False, initialize_variables: bool = True) -> None:
        from chainrule import backend  # noqa: PLC0415
        from chainrule.autograd.engine import Tensor  # noqa: PLC0415

        self.collect_losses = bool(collect_losses)
        self.initialize_variables = bool(initialize_variables)
        self.losses: list = []
        self.state_mapping: dict[int, Any] = {}
        self._variables: dict[int, Any] = {}
        self._saved: dict[int, tuple[Any, Any]] = {}
        self.original_scope: Any = None
        for pair in state_mapping or ():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError("Argument `state_mapping` must hold (variable, value) pairs. "
                                 f"Received: state_mapping entry {pair!r:.80}")
            k, v = pair
            if not _is_variable(k):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in "
                                 "argument `state_mapping` must be Variable instances. "
                                 f"Received: {k!r:.80}")
            arr = v.data if isinstance(v, Tensor) else v
            arr = backend.as_array(arr, k.dtype)
            if tuple(arr.shape) != tuple(k.shape):
                raise ValueError("Invalid variable value in StatelessScope: all values in "
                                 "argument `state_mapping` must have the shape of their "
                                 f"variable; variable {k.path!r} has shape {tuple(k.shape)}. "
                                 f"Received: value of shape {tuple(arr.shape)}")
            self.state_mapping[id(k)] = arr
            self._variables[id(k)] = k

    def __enter__(self) -> "StatelessScope":
        self.original_scope = _STATE.stateless
        _STATE.stateless = self
        for key, var in self._variables.items():
            self._swap(var, self.state_mapping[key].copy())
        return self

    def _swap(self, var: Any, arr: Any) -> None:
        """Let ``var`` read ``arr`` until the scope ends (its own array kept aside)."""
        if id(var) not in self._saved:
            self._saved[id(var)] = (var, var.data)
        var.data = arr

    def add_update(self, update: tuple[Any, Any]) -> None:
        """Collect ``(variable, new_value)``: the variable reads it until the scope ends."""
        from chainrule import backend  # noqa: PLC0415
        from chainrule.autograd.engine import Tensor  # noqa: PLC0415

        var, value = update
        arr = backend.as_array(value.data if isinstance(value, Tensor) else value,
                               var.data.dtype).copy()
        self.state_mapping[id(var)] = arr
        self._variables[id(var)] = var
        self._swap(var, arr)

    def add_loss(self, loss: Any) -> None:
        """Gather a loss added inside the scope (with ``collect_losses``)."""
        self.losses.append(loss)

    def get_current_value(self, variable: Any) -> Any:
        """The variable's value in this scope (mapped or assigned), or None."""
        if id(variable) in self._saved:  # inside the scope: what the variable reads now
            return variable.data
        return self.state_mapping.get(id(variable))

    def __exit__(self, *exc: Any) -> None:
        for key, (var, arr) in reversed(list(self._saved.items())):
            self.state_mapping[key] = var.data  # the value at the end, in-place changes too
            var.data = arr
        self._saved.clear()
        _STATE.stateless = self.original_scope


def get_stateless_scope() -> StatelessScope | None:
    """The innermost open :class:`StatelessScope`, or None.

    Example:
        >>> get_stateless_scope() is None
        True
    """
    return _STATE.stateless


def in_stateless_scope() -> bool:
    """Whether a :class:`StatelessScope` is open.

    Example:
        >>> with StatelessScope():
        ...     in_stateless_scope()
        True
    """
    return _STATE.stateless is not None


# ------------------------------------------------------------------------------- SymbolicScope
class SymbolicScope:
    """Mark a block as the symbolic stage (Keras opens it while it infers output specs).

    chainrule's functional models need no such stage (ops on ``KerasTensor``
    record themselves anywhere); the scope is kept so code that opens it runs,
    and :func:`in_symbolic_scope` tells whether one is open.

    Example:
        >>> import chainrule as cr
        >>> with cr.SymbolicScope():
        ...     in_symbolic_scope()
        True
        >>> in_symbolic_scope()
        False
    """

    def __init__(self) -> None:
        self.original_scope: Any = None

    def __enter__(self) -> "SymbolicScope":
        self.original_scope = _STATE.symbolic
        _STATE.symbolic = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _STATE.symbolic = self.original_scope


def in_symbolic_scope() -> bool:
    """Whether a :class:`SymbolicScope` is open (see its example)."""
    return _STATE.symbolic is not None


# --------------------------------------------------------------------------------------- remat
_REMAT_MODES = ("full", "activations", "larger_than", "list_of_layers", None)

#: The settings of the innermost open :class:`RematScope`.
RematMode = namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])


class RematScope:
    """Keras's rematerialisation (gradient checkpointing) settings for the layers called inside.

    chainrule keeps every activation for the backward pass: it has no
    rematerialisation, so the scope changes no value, gradient or memory use.
    It records its settings (:func:`get_current_remat_mode`) so Keras code
    that opens it runs unchanged.

    Args:
        mode: ``"full"``, ``"activations"``, ``"larger_than"``,
            ``"list_of_layers"`` or None.
        output_size_threshold: the output size from which ``"larger_than"``
            would apply (default 1024).
        layer_names: the layer names ``"list_of_layers"`` would apply to.

    Raises:
        ValueError: for another ``mode``.

    Example:
        >>> import chainrule as cr
        >>> with cr.RematScope(mode="larger_than", output_size_threshold=10):
        ...     get_current_remat_mode().mode
        'larger_than'
        >>> get_current_remat_mode() is None
        True
    """

    def __init__(self, mode: str | None = "full", output_size_threshold: int = 1024,
                 layer_names: list[str] | None = None) -> None:
        if mode not in _REMAT_MODES:
            raise ValueError("Argument `mode` must be one of 'full', 'activations', "
                             f"'larger_than', 'list_of_layers' or None. Received: mode={mode!r}")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = list(layer_names or [])
        self._pop_on_exit = False

    def __enter__(self) -> "RematScope":
        _STATE.remat.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pop_on_exit and _STATE.remat:
            _STATE.remat.pop()
            self._pop_on_exit = False


def get_current_remat_mode() -> RematMode | None:
    """The innermost :class:`RematScope`'s settings, or None (see its example)."""
    if not _STATE.remat:
        return None
    top = _STATE.remat[-1]
    return RematMode(top.mode, top.output_size_threshold, top.layer_names)


def remat(f: Callable) -> Callable:
    """Keras's ``keras.remat(f)``: ``f`` marked for rematerialisation.

    chainrule keeps every activation, so the returned function computes
    exactly what ``f`` computes, values and gradients alike.

    Args:
        f: a function of tensors (or a layer).

    Returns:
        A function with ``f``'s signature and results.

    Raises:
        TypeError: when ``f`` is not callable.

    Example:
        >>> import chainrule as cr
        >>> g = cr.remat(lambda x: cr.ops.sin(x) * x)
        >>> x = cr.Tensor([1.0, 2.0], requires_grad=True)
        >>> g(x).sum().backward(); [round(float(v), 4) for v in x.grad]
        [1.3818, 0.077]
    """
    if not callable(f):
        raise TypeError(f"Argument `f` of remat must be callable. Received: f={f!r:.80}")

    @functools.wraps(f)
    def rematerialized(*args: Any, **kwargs: Any) -> Any:
        return f(*args, **kwargs)

    return rematerialized

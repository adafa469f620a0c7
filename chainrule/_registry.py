"""One registry mechanism behind ``get``, ``serialize`` and ``deserialize`` of every kind.

Losses, metrics, optimizers, learning-rate schedules, activations,
initializers and regularizers each declare one :class:`Registry`: their
built-in classes and names as tables, and what differs between them (aliases,
whether functions are accepted, what ``get(None)`` returns, the wording of
their errors) as data or a small hook. The lookups themselves are written
once, here:

* names: :func:`lookup` answers an unknown name with the closest known ones
  (``Unknown optimizer: 'adma'. Did you mean 'adam'? Known: ...``);
* your own classes and functions: passed as ``custom_objects``, made known
  for a while with :class:`custom_object_scope`, or registered for good with
  :func:`register_keras_serializable` (Keras's spellings; chainrule re-exports
  them from :mod:`chainrule.saving` and :mod:`chainrule.utils`).

Loading never runs code named by a config: nothing is imported, evaluated or
unpickled. A config can only name chainrule's own classes and functions and
those the user passed in ``custom_objects``, put in a scope or registered.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")

#: An error a registry raises: the exception type and a message template, formatted with
#: ``value`` (what was received), ``type`` (the name of its type) and ``kind``.
ErrorSpec = tuple[type[Exception], str]


# -- names ---------------------------------------------------------------------------------------


def _typo_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def unknown_name_error(kind: str, name: Any, known: Mapping[str, Any] | list[str]) -> ValueError:
    """Build the ValueError for a name that is not in a registry.

    Args:
        kind: what is looked up, e.g. ``"optimizer"``.
        name: the name the user gave.
        known: the registered names.

    Returns:
        A ValueError whose message suggests the closest names.

    Example:
        >>> str(unknown_name_error("loss", "msee", ["mse", "mae"]))
        "Unknown loss: 'msee'. Did you mean 'mse'? Known: mae, mse."
    """
    names = sorted(set(known))
    key = str(name).lower()
    import difflib  # noqa: PLC0415  (loads only for a wrong name)

    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    close.sort(key=lambda c: _typo_distance(key, c))  # 'adma' is 'adam' swapped, not 'adamax'
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown {kind}: {name!r}.{hint} Known: {', '.join(names)}.")


def lookup(kind: str, name: str, table: Mapping[str, Any]) -> Any:
    """Return ``table[name]`` (case-insensitive), or raise :func:`unknown_name_error`.

    Args:
        kind: what is looked up, e.g. ``"loss"``.
        name: the name the user gave.
        table: a mapping from lower-case names to objects.

    Returns:
        The registered object.

    Raises:
        ValueError: when the name is unknown, with close matches.

    Example:
        >>> lookup("loss", "MSE", {"mse": "the mse function"})
        'the mse function'
    """
    if isinstance(name, str):
        obj = table.get(name) or table.get(name.lower())
        if obj is not None:
            return obj
    raise unknown_name_error(kind, name, list(table))


# -- custom objects: registered for good, or known within a scope --------------------------------

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_SCOPES = threading.local()


def _scope_stack() -> list[dict[str, Any]]:
    if not hasattr(_SCOPES, "stack"):
        _SCOPES.stack = []
    return _SCOPES.stack


def get_custom_objects() -> dict[str, Any]:
    """Return the live dict of globally registered custom objects (Keras's spelling).

    :func:`register_keras_serializable` adds to it; you may add to it yourself
    (``get_custom_objects()["MyLoss"] = MyLoss``). Objects known only inside a
    :class:`custom_object_scope` are not in it.

    Returns:
        The dict from registered name to class or function.

    Example:
        >>> "Custom>nothing_registered" in get_custom_objects()
        False
    """
    return _GLOBAL_CUSTOM_OBJECTS


def _qualified(obj: Any) -> tuple[Any, Any]:
    return getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)


def _check_key_part(arg: str, value: str) -> None:
    # Loading refuses names with "." or ":" (they look like module paths) and ">" splits the key.
    if any(c in value for c in ".:>") or value.startswith("__"):
        raise ValueError(
            f"{arg} must not contain '.', ':' or '>' nor start with '__' (configs naming such "
            f"objects are refused when loading). Received: {arg}={value!r}"
        )


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[_T], _T]:
    """Register a class or function so configs can name it without ``custom_objects``.

    The object is registered under ``"package>name"``; :func:`serialize` of
    every kind writes that key as the config's ``registered_name`` and
    ``deserialize``/``load_model`` find the object by it. Registering again
    under the same key replaces a definition of the same name (a re-run
    cell); another object under a taken key is refused.

    Args:
        package: the first part of the key (``"Custom"`` by default).
        name: the second part; the object's ``__name__`` by default.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Raises:
        TypeError: for a package or name that is not a non-empty string, or
            an object that is neither a class nor a function.
        ValueError: for a package or name with ``.``, ``:`` or ``>`` or a
            leading ``__``; a class without ``get_config``; a taken key.

    Example:
        >>> from chainrule import losses
        >>> @register_keras_serializable(package="docs")
        ... class Doubled(losses.MeanSquaredError):
        ...     pass
        >>> losses.serialize(Doubled())["registered_name"]
        'docs>Doubled'
    """
    if callable(package) and name is None:  # used bare: @register_keras_serializable
        return register_keras_serializable()(package)
    for arg, value in (("package", package), ("name", name)):
        if value is None and arg == "name":
            continue
        if not isinstance(value, str) or not value:
            raise TypeError(f"{arg} must be a non-empty string. Received: {arg}={value!r}")
        _check_key_part(arg, value)

    def decorator(obj: _T) -> _T:
        if not callable(obj) or not hasattr(obj, "__name__"):
            raise TypeError(
                "register_keras_serializable registers classes and functions. "
                f"Received: {obj!r} of type {type(obj).__name__}"
            )
        if obj.__name__ == "<lambda>":
            raise ValueError(
                "A lambda cannot be registered; define the function with `def`. "
                f"Received: {obj!r}"
            )
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                "A registered class needs a get_config() method to be serialized. "
                f"Received: {obj.__name__}"
            )
        if name is None:
            _check_key_part("name", obj.__name__)
        key = f"{package}>{name or obj.__name__}"
        taken = _GLOBAL_CUSTOM_OBJECTS.get(key)
        if taken is not None and taken is not obj and _qualified(taken) != _qualified(obj):
            raise ValueError(
                f"The name {key!r} is already registered to {taken!r}; choose another package "
                f"or name. Received: {obj!r}"
            )
        _GLOBAL_CUSTOM_OBJECTS[key] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """Return the key an object was registered under, or its ``__name__``.

    Args:
        obj: a class or function.

    Returns:
        ``"package>name"`` for a registered object, else ``obj.__name__``.

    Example:
        >>> get_registered_name(len)
        'len'
    """
    try:
        registered = _GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable objects are never registered
        registered = None
    return registered if registered is not None else obj.__name__


def get_registered_object(
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any:
    """Return the custom object known by ``name``, or None.

    Looks in ``custom_objects`` first, then in the active
    :class:`custom_object_scope` (innermost first), then among the registered
    objects, then in ``module_objects``. (Keras looks at the scope and the
    registered objects before ``custom_objects``; chainrule lets what you pass
    in the call win.)

    Args:
        name: the name in a config (a class name or a ``"package>name"`` key).
        custom_objects: optional ``{name: class or function}`` passed by the user.
        module_objects: optional built-in objects to fall back on.

    Returns:
        The class or function, or None when no table has the name.

    Example:
        >>> get_registered_object("f", custom_objects={"f": abs}) is abs
        True
    """
    if not isinstance(name, str):
        return None
    tables = [custom_objects or {}, *reversed(_scope_stack()), _GLOBAL_CUSTOM_OBJECTS,
              module_objects or {}]
    for table in tables:
        obj = table.get(name)
        if obj is not None:
            return obj
    return None


class CustomObjectScope:
    """Make custom classes and functions known by name inside a ``with`` block.

    Inside the block every ``get`` and ``deserialize`` (and ``load_model``)
    finds the objects by name, as if they were passed in ``custom_objects``.
    Scopes nest; the innermost wins. ``custom_object_scope`` is the same class.

    Args:
        custom_objects: ``{name: class or function}``, or None.

    Raises:
        TypeError: when ``custom_objects`` is not a dict.

    Example:
        >>> from chainrule import losses
        >>> def doubled_error(y_true, y_pred):
        ...     return 2 * (y_pred - y_true)
        >>> with custom_object_scope({"doubled_error": doubled_error}):
        ...     losses.get("doubled_error") is doubled_error
        True
    """

    def __init__(self, custom_objects: Mapping[str, Any] | None = None) -> None:
        if custom_objects is not None and not isinstance(custom_objects, Mapping):
            raise TypeError(
                "custom_objects must be a dict of names to classes or functions. "
                f"Received: custom_objects={custom_objects!r}"
            )
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> CustomObjectScope:
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def _custom(
    name: Any, custom_objects: Mapping[str, Any] | None = None, registered_name: Any = None
) -> Any:
    """The user's object for a config's name, else for its registered name, else None."""
    found = get_registered_object(name, custom_objects)
    if found is None and registered_name is not None:
        found = get_registered_object(registered_name, custom_objects)
    return found


def _accepts(method: Callable[..., Any], parameter: str) -> bool:
    try:
        return parameter in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _instance(entry: Any, name: str) -> Any:
    """The default way to build a name's table entry: classes are instantiated."""
    return entry() if inspect.isclass(entry) else entry


# -- one kind's registry -------------------------------------------------------------------------

_CONFIG_ERROR: ErrorSpec = (
    TypeError,
    "deserialize expects a dict with 'class_name' and 'config' keys. Received: config={value!r}",
)


@dataclass(frozen=True, eq=False)
class Registry:
    """The built-in objects of one kind, and ``get``/``serialize``/``deserialize`` over them.

    A module declares one registry and its public functions call it. Tables
    are held, not copied, so later additions to them are seen.

    Args:
        kind: what it holds, as errors say it (``"loss"``: ``Unknown loss: ...``).
        module: the ``"module"`` written by :meth:`serialize`.
        serialize_error: the error of :meth:`serialize` for what it cannot save.
        get_error: the error of :meth:`get` for an identifier of no known type.
        base: the base class; its instances are returned by :meth:`get` as
            they are and its subclasses instantiated. None for functions only.
        classes: class names (as written in configs) to classes.
        names: lower-case names and aliases accepted by :meth:`get`, to a
            class, a function or a factory; unknown names are reported with these.
        functions: the functions a ``{"class_name": "function"}`` config may
            name; None where functions cannot be deserialized. With no
            ``classes``, any config's ``class_name`` is read as a function name.
        abstract: classes :meth:`get` does not build from their name.
        none: what ``get(None)`` returns.
        class_kind: what unknown class names are called (``"<kind> class"``).
        function_kind: what unknown function names are called (``kind``).
        ignore_case: whether class names match whatever their case.
        make: builds an entry found by name from its table entry and the
            name (default: instantiate classes, return functions as they are).
        other: turns identifiers of other types into objects for :meth:`get`;
            returns None for those it does not take.
        callables: whether :meth:`get` returns other callables as they are.
        names_in_deserialize: whether :meth:`deserialize` accepts a bare name.
        strict_names: whether a name that is not a string makes the config
            invalid (``config_error``) rather than unknown.
        name_custom_classes: whether :meth:`serialize` writes a class's own
            name as ``registered_name`` when it is not a built-in.
        function_registered_name: the ``registered_name`` written for a
            function; None writes the function's name.
        lambdas: whether :meth:`serialize` writes lambdas (as ``"<lambda>"``).
        config_error: the error of :meth:`deserialize` for a malformed config.

    Example:
        >>> def double(x):
        ...     return 2 * x
        >>> reg = Registry("doubler", "docs", serialize_error=(TypeError, "{value!r}"),
        ...                names={"double": double}, functions={"double": double})
        >>> reg.get("DOUBLE") is double, reg.serialize(double)["config"]
        (True, 'double')
        >>> reg.get("dubble")
        Traceback (most recent call last):
        ...
        ValueError: Unknown doubler: 'dubble'. Did you mean 'double'? Known: double.
    """

    kind: str
    module: str
    serialize_error: ErrorSpec
    get_error: ErrorSpec = (
        TypeError,
        "Could not interpret {kind} identifier. Received: identifier={value!r}",
    )
    base: type | None = None
    classes: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, Any] = field(default_factory=dict)
    functions: Mapping[str, Callable[..., Any]] | None = None
    abstract: tuple[type, ...] = ()
    none: Any = None
    class_kind: str | None = None
    function_kind: str | None = None
    ignore_case: bool = False
    make: Callable[[Any, str], Any] = _instance
    other: Callable[[Any], Any] | None = None
    callables: bool = True
    names_in_deserialize: bool = True
    strict_names: bool = False
    name_custom_classes: bool = False
    function_registered_name: str | None = None
    lambdas: bool = False
    config_error: ErrorSpec = _CONFIG_ERROR

    # -- get -------------------------------------------------------------------

    def get(self, identifier: Any) -> Any:
        """Return the object an identifier stands for.

        Args:
            identifier: None; a name (a custom object's, a class name or a
                name in ``names``); a config dict; an instance of ``base``
                (returned as is) or a subclass (instantiated); a callable.

        Returns:
            The object (``none`` for None).

        Raises:
            ValueError: for an unknown name, with the closest known names.
            TypeError: (or ``get_error``'s type) for any other identifier.
        """
        if identifier is None:
            return self.none
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, str):
            return self._from_name(identifier)
        if isinstance(identifier, Mapping):
            return self.deserialize(identifier)
        if inspect.isclass(identifier) and self.base and issubclass(identifier, self.base):
            return identifier()
        if self.other is not None:
            made = self.other(identifier)
            if made is not None:
                return made
        if self.callables and callable(identifier):
            return identifier
        raise self._error(self.get_error, identifier)

    def _from_name(self, name: str) -> Any:
        custom = _custom(name)
        if custom is not None:
            return custom() if inspect.isclass(custom) else custom
        entry = self.classes.get(name)
        if entry is None or entry in self.abstract:
            entry = lookup(self.kind, name, self.names)
        return self.make(entry, name)

    # -- serialize ---------------------------------------------------------------

    def serialize(self, obj: Any) -> dict[str, Any]:
        """Return ``{"module", "class_name", "config", "registered_name"}`` (Keras's layout).

        Args:
            obj: an instance of ``base``, or (where ``functions`` is set) a
                named function.

        Returns:
            The JSON-serializable description; a function's ``class_name`` is
            ``"function"`` and its ``config`` its name.

        Raises:
            TypeError: (or ``serialize_error``'s type) for anything else.
        """
        if self.base is not None and isinstance(obj, self.base):
            cls = type(obj)
            if cls in _GLOBAL_CUSTOM_NAMES:
                registered: Any = _GLOBAL_CUSTOM_NAMES[cls]
            elif self.name_custom_classes and cls not in self.classes.values():
                registered = cls.__name__
            else:
                registered = None
            return self._layout(cls.__name__, obj.get_config(), registered)
        name = getattr(obj, "__name__", None)
        if self.functions is not None and callable(obj) and name:
            if self.lambdas or name != "<lambda>":
                return self._layout("function", name, self._function_registered_name(obj))
        raise self._error(self.serialize_error, obj)

    def serialize_name(self, fn: Any) -> str:
        """Return the name a function is saved under: its registered key, or its ``__name__``.

        Args:
            fn: a named function (not a lambda).

        Returns:
            The name.

        Raises:
            ValueError: (or ``serialize_error``'s type) for a lambda or an
                object without a name.
        """
        name = getattr(fn, "__name__", None)
        if not callable(fn) or not name or name == "<lambda>":
            raise self._error(self.serialize_error, fn)
        return get_registered_name(fn)

    def _function_registered_name(self, fn: Any) -> str:
        registered = get_registered_name(fn)
        if registered != fn.__name__ or self.function_registered_name is None:
            return registered
        return self.function_registered_name

    def _layout(self, class_name: str, config: Any, registered_name: Any) -> dict[str, Any]:
        return {
            "module": self.module,
            "class_name": class_name,
            "config": config,
            "registered_name": registered_name,
        }

    # -- deserialize -------------------------------------------------------------

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """Rebuild an object from :meth:`serialize`'s output (or from a name).

        A name or class name is looked up in ``custom_objects``, the active
        :class:`custom_object_scope` and the registered objects first (by the
        config's ``class_name``, then its ``registered_name``), then among the
        built-ins; the class is rebuilt with its ``from_config``, with
        ``custom_objects`` when it takes them and in a scope of them, so
        nested configs find them too.

        Args:
            config: a dict with ``"class_name"`` and ``"config"``, or a name.
            custom_objects: optional ``{name: class or function}``.

        Returns:
            A new object; a function; or the custom object a bare name names.

        Raises:
            ValueError: for unknown names, with the closest known names.
            TypeError: (or ``config_error``'s type) for a malformed config.
        """
        if isinstance(config, str) and self.names_in_deserialize:
            custom = _custom(config, custom_objects)
            return custom if custom is not None else self.get(config)
        if not isinstance(config, Mapping) or "class_name" not in config:
            raise self._error(self.config_error, config)
        class_name, inner = config["class_name"], config.get("config")
        registered = config.get("registered_name")
        if self.functions is not None and (class_name == "function" or not self.classes):
            name = inner if class_name == "function" else class_name
            return self.function(name, custom_objects, registered, config)
        cls = _custom(class_name, custom_objects, registered)
        if cls is None:
            cls = self._class(class_name)
        if not inspect.isclass(cls):
            return cls
        return self._from_config(cls, inner or {}, custom_objects, class_name)

    def function(
        self,
        name: Any,
        custom_objects: Mapping[str, Any] | None = None,
        registered_name: Any = None,
        config: Any = None,
    ) -> Callable[..., Any]:
        """Return the function a config names (``custom_objects`` first).

        Args:
            name: the function's name.
            custom_objects: optional ``{name: function}``.
            registered_name: the config's ``registered_name``, tried second.
            config: the whole config, for the error of a malformed one.

        Returns:
            The function.

        Raises:
            ValueError: for an unknown name, with the closest known names.
        """
        if self.strict_names and not isinstance(name, str):
            raise self._error(self.config_error, name if config is None else config)
        custom = _custom(name, custom_objects, registered_name)
        if custom is not None:
            return custom
        return lookup(self.function_kind or self.kind, name, self.functions or {})

    def _class(self, name: Any) -> Any:
        if isinstance(name, str):
            cls = self.classes.get(name)
            if cls is None and self.ignore_case:
                lower = name.lower()
                cls = next((c for k, c in self.classes.items() if k.lower() == lower), None)
            if cls is not None:
                return cls
        raise unknown_name_error(self.class_kind or f"{self.kind} class", name, list(self.classes))

    @staticmethod
    def _from_config(
        cls: type, inner: Any, custom_objects: Mapping[str, Any] | None, class_name: Any
    ) -> Any:
        if not hasattr(cls, "from_config"):
            raise TypeError(
                f"{cls.__name__} cannot be rebuilt from a config: it has no from_config "
                f"method. Received: class_name={class_name!r}"
            )
        if isinstance(inner, Mapping):
            inner = dict(inner)
        with CustomObjectScope(custom_objects):
            if _accepts(cls.from_config, "custom_objects"):
                return cls.from_config(inner, custom_objects=custom_objects)
            return cls.from_config(inner)

    def _error(self, spec: ErrorSpec, value: Any) -> Exception:
        exc_type, template = spec
        return exc_type(template.format(value=value, type=type(value).__name__, kind=self.kind))

"""Names of a package that load their module on first use (PEP 562).

``import chainrule`` loads what a dense model's ``fit`` needs; the convolutional,
recurrent and attention layers, the datasets, the explain tools, most callbacks and
the rarer ops load when a program first names them (``chainrule.layers.Conv2D``,
``from chainrule.datasets import mnist``). That keeps the import quick and its memory
small; every name stays where it was, in ``__all__`` and ``dir()``.

Example:
    >>> import chainrule as cr
    >>> cr.layers.LSTM.__name__  # loads chainrule.layers.rnn on this first use
    'LSTM'
    >>> "LSTM" in dir(cr.layers)
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attach(
    namespace: dict[str, Any],
    names: Mapping[str, Iterable[str]] | None = None,
    submodules: Iterable[str] = (),
    wrap: Callable[[str, Any], Any] | None = None,
) -> None:
    """Make a package's names load with their module on first use.

    Installs ``__getattr__`` and ``__dir__`` (PEP 562) in the package's namespace:
    the first read of a name imports its module and keeps the value in the
    namespace, so later reads cost nothing. Later calls on the same namespace add
    their names to the same table.

    Args:
        namespace: the package's ``globals()``.
        names: module path (absolute, or relative to the package with a leading
            ``.``) -> the names it provides to the package.
        submodules: names of subpackages or modules of this package that load when
            first read as its attributes (``chainrule.datasets``).
        wrap: ``wrap(name, value)`` gives what the package keeps for a name of ``names``
            when it loads (``chainrule.ops`` wraps its ops for symbolic tensors, as it
            does the ops it loads at once); by default the value itself.

    Returns:
        None.

    Raises:
        ValueError: if one name is given twice.

    Example:
        >>> namespace = {"__name__": "chainrule.layers"}
        >>> attach(namespace, {".rnn": ["LSTM"]})
        >>> namespace["__getattr__"]("LSTM").__name__
        'LSTM'
        >>> namespace["LSTM"].__name__  # kept after the first read
        'LSTM'
    """
    package = namespace["__name__"]
    # a second call adds to the first one's table (a family's names in a block of their own)
    first = "__lazy_names__" not in namespace
    table: dict[str, tuple[str, str | None, Callable[[str, Any], Any] | None]] = \
        namespace.setdefault("__lazy_names__", {})

    def add(name: str, where: tuple[str, str | None, Callable[[str, Any], Any] | None]) -> None:
        if name in table:
            raise ValueError(
                f"`names`: {name!r} is given twice (in {table[name][0]} and {where[0]}). "
                f"Received: {where[0]}"
            )
        table[name] = where

    for module, provided in (names or {}).items():
        path = package + module if module.startswith(".") else module
        for name in provided:
            add(name, (path, name, wrap))
    for sub in submodules:
        add(sub, (f"{package}.{sub}", None, None))
    if not first:
        return

    def __getattr__(name: str) -> Any:  # noqa: N807  (PEP 562's name)
        where = table.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path, attribute, wrapper = where
        module = importlib.import_module(path)
        value = module if attribute is None else getattr(module, attribute)
        if wrapper is not None:
            value = wrapper(name, value)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted((set(namespace) | set(table)) - {"__lazy_names__"})

    namespace["__getattr__"] = __getattr__
    namespace["__dir__"] = __dir__


class LazyMapping(Mapping):
    """A read-only table of names to objects that load with their module on first use
    (a registry's built-in classes: ``optimizers.get("adam")`` loads Adam's module alone).

    Args:
        entries: name -> ``(module path, attribute)``.

    Example:
        >>> table = LazyMapping({"lstm": ("chainrule.layers.rnn", "LSTM")})
        >>> "lstm" in table, len(table), table["lstm"].__name__
        (True, 1, 'LSTM')
    """

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._loaded:
            module, attribute = self._entries[key]  # KeyError for an unknown name
            self._loaded[key] = getattr(importlib.import_module(module), attribute)
        return self._loaded[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

"""``Config``: a dict of named values read and set as attributes (``keras.utils.Config``)."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

__all__ = ["Config"]

_OWN = frozenset(("_config", "_frozen"))


class Config:
    """A dict-like container whose values are also attributes, and can be frozen.

    Iterating yields the keys in sorted order (as Keras's does); ``keys()``, ``values()``
    and ``items()`` follow insertion order.

    Args:
        **kwargs: the initial values.

    Raises:
        ValueError: on any change once :meth:`freeze` was called.
        AttributeError: reading an attribute that is not a key (with the closest key).

    Example:
        >>> config = Config(learning_rate=0.1, momentum=0.9)
        >>> config.seed = 123
        >>> config["learning_rate"], config.seed, sorted(config)
        (0.1, 123, ['learning_rate', 'momentum', 'seed'])
        >>> config.freeze()
        >>> config.seed = 1
        Traceback (most recent call last):
        ...
        ValueError: Cannot mutate attribute(s) because the config is frozen. Received: seed=1
    """

    def __init__(self, **kwargs: Any) -> None:
        object.__setattr__(self, "_config", kwargs)
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        """Whether the config refuses changes."""
        return self._frozen

    def freeze(self) -> None:
        """Refuse every change from now on."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        """Accept changes again."""
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self, what: str) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen. "
                             f"Received: {what}")

    def as_dict(self) -> dict[str, Any]:
        """A shallow copy of the values as a dict."""
        return copy.copy(self._config)

    def to_json(self) -> str:
        """The values as a JSON string."""
        return json.dumps(self._config)

    def keys(self) -> Any:
        """The keys, in insertion order."""
        return self._config.keys()

    def values(self) -> Any:
        """The values, in insertion order."""
        return self._config.values()

    def items(self) -> Any:
        """The ``(key, value)`` pairs, in insertion order."""
        return self._config.items()

    def pop(self, *args: Any) -> Any:
        """``dict.pop`` (refused when frozen)."""
        self._raise_if_frozen(f"pop{args!r}")
        return self._config.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """``dict.update`` (refused when frozen)."""
        self._raise_if_frozen(f"update{args!r} {kwargs!r}")
        self._config.update(*args, **kwargs)

    def get(self, keyname: str, value: Any = None) -> Any:
        """The value of ``keyname``, else ``value``."""
        return self._config.get(keyname, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or hasattr(type(self), name):
            raise AttributeError(f"Config: {name!r} is a method or property of Config and "
                                 f"cannot be set as a value; use config[{name!r}] = ... . "
                                 f"Received: {name}={value!r}")
        self._raise_if_frozen(f"{name}={value!r}")
        self._config[name] = value

    def __getattr__(self, name: str) -> Any:
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        msg = f"Unknown attribute: '{name}'."
        import difflib  # noqa: PLC0415  (loads only for a wrong name)

        close = difflib.get_close_matches(name, [str(k) for k in config], n=1, cutoff=0.7)
        if close:
            msg += f" Did you mean '{close[0]}'?"
        raise AttributeError(msg)

    def __setitem__(self, key: str, item: Any) -> None:
        self._raise_if_frozen(f"{key}={item!r}")
        self._config[key] = item

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __delitem__(self, key: str) -> None:
        self._raise_if_frozen(f"del {key!r}")
        del self._config[key]

    def __contains__(self, item: object) -> bool:
        return item in self._config

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._config))

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"

    def __getstate__(self) -> dict[str, Any]:
        return {"_config": self._config, "_frozen": self._frozen}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_config", state["_config"])
        object.__setattr__(self, "_frozen", state["_frozen"])

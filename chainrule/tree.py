"""Nested structures of lists, tuples, dicts and namedtuples (``keras.tree``).

The rules are Keras 3's (which follow ``optree``): the nodes are exactly ``list``,
``tuple``, namedtuples, ``dict``, ``collections.OrderedDict``,
``collections.defaultdict``, ``collections.deque`` and classes registered with
:func:`register_tree_node_class`; everything else is a leaf, subclasses of ``list`` or
``dict`` and strings included. ``None`` is a leaf. A ``dict``'s (and a
``defaultdict``'s) values are visited in sorted key order, an ``OrderedDict``'s in its
own order; rebuilt dicts keep the key order of the structure they copy.

Example:
    >>> from chainrule import tree
    >>> tree.flatten({"b": [1, 2], "a": (3, None)})
    [3, None, 1, 2]
    >>> tree.map_structure(lambda x: x * 10, {"b": [1, 2], "a": 3})
    {'b': [10, 20], 'a': 30}
"""

from __future__ import annotations

import collections
from typing import Any, Callable

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
           "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
           "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse",
           "register_tree_node_class"]


class MAP_TO_NONE:  # noqa: N801 (Keras's name)
    """Return it from :func:`traverse`'s ``func`` to replace a sub-tree with ``None``."""


# class -> (flatten(obj) -> (children, aux), unflatten(aux, children) -> obj)
_REGISTRY: dict[type, tuple[Callable, Callable]] = {}


def register_tree_node_class(cls: type) -> type:
    """Make instances of ``cls`` nodes of trees (Keras's ``register_tree_node_class``).

    ``cls`` must define ``tree_flatten(self) -> (children, aux_data)`` and a classmethod
    ``tree_unflatten(aux_data, children)`` that rebuilds an instance. Usable as a
    class decorator.

    Args:
        cls: the class to register.

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: if ``cls`` is not a class with both methods.

    Example:
        >>> @register_tree_node_class
        ... class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        ...     def tree_flatten(self):
        ...         return (self.a, self.b), None
        ...     @classmethod
        ...     def tree_unflatten(cls, aux, children):
        ...         return cls(*children)
        >>> flatten([Pair(1, 2), 3])
        [1, 2, 3]
    """
    if not isinstance(cls, type) or not callable(getattr(cls, "tree_flatten", None)) or \
            not callable(getattr(cls, "tree_unflatten", None)):
        raise TypeError("register_tree_node_class expects a class with a tree_flatten() "
                        "method and a tree_unflatten(aux_data, children) classmethod. "
                        f"Received: cls={cls!r}")

    def _flatten(obj: Any) -> tuple[list, Any]:
        out = obj.tree_flatten()
        return list(out[0]), out[1]

    _REGISTRY[cls] = (_flatten, cls.tree_unflatten)
    return cls


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:  # mixed key types: by type name, then value (optree's fallback)
        return sorted(d, key=lambda k: (type(k).__qualname__, k))


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_structseq(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "n_sequence_fields")


def _node(x: Any, none_is_leaf: bool = True) -> tuple[str, list, list] | None:
    """``(kind, keys, children)`` of a node, or None for a leaf.

    ``keys`` are the path entries of the children: indices, or dict keys.
    """
    t = type(x)
    if x is None:
        return None if none_is_leaf else ("none", [], [])
    if t is list or t is tuple or t is collections.deque:
        return (t.__name__, list(range(len(x))), list(x))
    if t is dict or t is collections.defaultdict:
        keys = _sorted_keys(x)
        return ("dict", keys, [x[k] for k in keys])
    if t is collections.OrderedDict:
        keys = list(x)
        return ("dict", keys, [x[k] for k in keys])
    if _is_namedtuple(x) or _is_structseq(x):
        return ("namedtuple", list(range(len(x))), list(x))
    if t in _REGISTRY:
        children, _ = _REGISTRY[t][0](x)
        return ("registered", list(range(len(children))), children)
    return None


def _rebuild(template: Any, keys: list, children: list) -> Any:
    """A node like ``template`` whose children (at ``keys``) are ``children``."""
    t = type(template)
    if template is None:
        return None
    if t is list:
        return list(children)
    if t is tuple:
        return tuple(children)
    if t is collections.deque:
        return collections.deque(children, maxlen=template.maxlen)
    if t is dict or t is collections.OrderedDict or t is collections.defaultdict:
        by_key = dict(zip(keys, children))
        items = [(k, by_key[k]) for k in template]
        if t is collections.defaultdict:
            return collections.defaultdict(template.default_factory, items)
        return t(items)
    if _is_namedtuple(template):
        return t(*children)
    if _is_structseq(template):
        return t(children)
    flat, unflat = _REGISTRY[t]
    return unflat(flat(template)[1], list(children))


def _kind_name(x: Any) -> str:
    if x is None:
        return "None"
    if _is_namedtuple(x):
        return f"namedtuple {type(x).__name__}"
    return type(x).__name__


def _match(node: tuple[str, list, list], template: Any, other: Any, path: tuple,
           fn: str) -> list:
    """The children of ``other`` that match ``template``'s (raises when the nodes differ)."""
    kind, keys, _ = node
    where = f" at path {path}" if path else ""
    if kind == "dict":
        ok = type(other) in (dict, collections.OrderedDict, collections.defaultdict)
        if ok and set(other) == set(keys):
            return [other[k] for k in keys]
        if ok:
            raise ValueError(
                f"{fn}: the structures don't have the same nested structure{where}: "
                f"expected a dict with keys {keys}, got keys {_sorted_keys(other)}. "
                f"Received: {other!r}")
    elif kind == "none":
        if other is None:
            return []
    elif type(other) is type(template):
        children = _node(other)[2]
        if len(children) == len(keys):
            return children
        raise ValueError(
            f"{fn}: the structures don't have the same nested structure{where}: expected "
            f"a {_kind_name(template)} of {len(keys)} items, got {len(children)}. "
            f"Received: {other!r}")
    raise ValueError(
        f"{fn}: the structures don't have the same nested structure{where}: expected a "
        f"{_kind_name(template)}, got {_kind_name(other)}. Received: {other!r}")


def _map(func: Callable, first: Any, others: tuple, none_is_leaf: bool, fn: str,
         is_leaf: Callable | None = None, path: tuple = ()) -> Any:
    node = None if is_leaf is not None and is_leaf(first) else _node(first, none_is_leaf)
    if node is None:
        return func(first, *others)
    matched = [_match(node, first, o, path, fn) for o in others]
    kind, keys, children = node
    out = [_map(func, c, tuple(m[i] for m in matched), none_is_leaf, fn, is_leaf,
                path + (keys[i],))
           for i, c in enumerate(children)]
    return _rebuild(first, keys, out)


def _leaves_with_path(structure: Any, none_is_leaf: bool = True, path: tuple = ()
                      ) -> list[tuple[tuple, Any]]:
    out: list[tuple[tuple, Any]] = []
    stack = [(path, structure)]
    while stack:  # iterative, depth first, children in order
        p, x = stack.pop()
        node = _node(x, none_is_leaf)
        if node is None:
            out.append((p, x))
            continue
        _, keys, children = node
        stack.extend(reversed([(p + (k,), c) for k, c in zip(keys, children)]))
    return out


def _check_func(func: Any, fn: str) -> None:
    if not callable(func):
        raise TypeError(f"{fn}: func must be callable. Received: func={func!r}")


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a node (a list, tuple, namedtuple, dict or deque).

    Args:
        structure: any object.

    Returns:
        True for a node, False for a leaf (``None``, strings and arrays included).

    Example:
        >>> is_nested(42), is_nested({"foo": 42}), is_nested(None)
        (False, True, False)
    """
    return _node(structure) is not None


def flatten(structure: Any) -> list:
    """The leaves of ``structure``, in order (dict values by sorted key).

    Args:
        structure: an arbitrarily nested structure.

    Returns:
        A list of the leaves; a leaf alone gives ``[structure]``.

    Example:
        >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
        [1, 2, 3, 4, 5, 6]
        >>> flatten(None), flatten({100: "world!", 6: "Hello"})
        ([None], ['Hello', 'world!'])
    """
    return [leaf for _, leaf in _leaves_with_path(structure)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """The leaves of ``structure`` with their paths (tuples of indices and keys).

    Args:
        structure: an arbitrarily nested structure.

    Returns:
        A list of ``(path, leaf)`` pairs in :func:`flatten`'s order.

    Example:
        >>> flatten_with_path([{"foo": 42}])
        [((0, 'foo'), 42)]
    """
    return _leaves_with_path(structure)


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """Apply ``func`` to the leaves of ``structures``, keeping the first's layout.

    Args:
        func: a callable taking one argument per structure.
        *structures: structures of the same layout (dicts, OrderedDicts and defaultdicts
            with the same keys match each other).
        none_is_leaf: when False, ``None`` is left as it is instead of passed to ``func``.

    Returns:
        A structure like the first with ``func``'s results as leaves.

    Raises:
        ValueError: if no structure is given or their layouts differ.
        TypeError: if ``func`` is not callable.

    Example:
        >>> map_structure(lambda x, y: x * y, [[1], [2]], [[3], [4]])
        [[3], [8]]
        >>> map_structure(lambda x: 0, [None, 1], none_is_leaf=False)
        [None, 0]
    """
    _check_func(func, "map_structure")
    if not structures:
        raise ValueError("map_structure: must provide at least one structure. "
                         "Received: structures=()")
    first, others = structures[0], structures[1:]
    if others:
        inner = func

        def func(*args: Any) -> Any:  # the other structures must not be deeper
            for a in args[1:]:
                if _node(a, none_is_leaf) is not None:
                    raise ValueError(
                        "map_structure: the structures don't have the same nested "
                        f"structure: a leaf of the first matches a {_kind_name(a)}. "
                        f"Received: {a!r}")
            return inner(*args)

    return _map(func, first, others, none_is_leaf, "map_structure")


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """Map ``func`` over ``structures`` down to the leaves of ``shallow_structure`` only.

    Sub-trees of ``structures`` below a leaf of ``shallow_structure`` are passed to
    ``func`` whole.

    Args:
        shallow_structure: the layout to map to.
        func: a callable taking one argument per structure.
        *structures: structures at least as deep as ``shallow_structure``.

    Returns:
        A structure with ``shallow_structure``'s layout.

    Raises:
        ValueError: if no structure is given or one is shallower than ``shallow_structure``.

    Example:
        >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2, 2]])
        [2, 3]
        >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
        ['[1, 1]', ['2', '2']]
    """
    _check_func(func, "map_structure_up_to")
    if not structures:
        raise ValueError("map_structure_up_to: must provide at least one structure. "
                         "Received: structures=()")

    return _map(lambda _, *args: func(*args), shallow_structure, structures, True, "map_structure_up_to")


def assert_same_structure(a: Any, b: Any, check_types: Any = None) -> None:
    """Raise unless ``a`` and ``b`` are nested the same way (leaves may differ).

    ``list``, ``tuple``, ``deque`` and each namedtuple class are distinct; ``dict``,
    ``OrderedDict`` and ``defaultdict`` with the same keys match.

    Args:
        a: a structure.
        b: a structure.
        check_types: deprecated in Keras 3, without effect (a ``DeprecationWarning``).

    Raises:
        ValueError: if the structures differ.

    Example:
        >>> assert_same_structure([(0, 1)], [(2, 3)])
        >>> assert_same_structure([0, 1], (2, 3))
        Traceback (most recent call last):
        ...
        ValueError: assert_same_structure: the structures don't have the same nested structure: expected a list, got tuple. Received: (2, 3)
    """
    if check_types is not None:
        import warnings  # noqa: PLC0415

        warnings.warn("The `check_types` argument is deprecated and no longer has any "
                      "effect, please remove.", DeprecationWarning, stacklevel=2)

    def check(x: Any, y: Any) -> None:
        if _node(y) is not None:
            raise ValueError("assert_same_structure: the structures don't have the same "
                             f"nested structure: a leaf of a ({x!r}) matches a "
                             f"{_kind_name(y)} of b. Received: {y!r}")

    _map(check, a, (b,), True, "assert_same_structure")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise unless ``a`` and ``b`` have the same leaf paths (node types are ignored).

    Args:
        a: a structure.
        b: a structure.

    Raises:
        ValueError: naming the paths found in one but not the other.

    Example:
        >>> assert_same_paths([0, 1], (2, 3))
    """
    pa = {p for p, _ in _leaves_with_path(a)}
    pb = {p for p, _ in _leaves_with_path(b)}
    if pa != pb:
        msg = "`a` and `b` don't have the same paths."
        if pa - pb:
            msg += f"\nPaths in `a` missing in `b`:\n{pa - pb}"
        if pb - pa:
            msg += f"\nPaths in `b` missing in `a`:\n{pb - pa}"
        raise ValueError(msg)


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """Build a structure like ``structure`` whose leaves are ``flat_sequence``, in order.

    The inverse of :func:`flatten`: dict values are filled in sorted key order and
    the dict keeps ``structure``'s key order.

    Args:
        structure: the layout.
        flat_sequence: a sequence with one item per leaf of ``structure``.

    Returns:
        The packed structure (``flat_sequence[0]`` when ``structure`` is a leaf).

    Raises:
        TypeError: if ``flat_sequence`` is not iterable.
        ValueError: if it has too few or too many items.

    Example:
        >>> pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])
        {'key3': 'v3', 'key1': 'v1', 'key2': 'v2'}
        >>> pack_sequence_as((("a", "b"), "c"), [1, 2, 3])
        ((1, 2), 3)
    """
    try:
        flat = list(flat_sequence)
    except TypeError:
        raise TypeError("pack_sequence_as: flat_sequence must be an iterable of leaves. "
                        f"Received: flat_sequence={flat_sequence!r}") from None
    n = len(_leaves_with_path(structure))
    if len(flat) != n:
        raise ValueError(f"pack_sequence_as: the structure has {n} leaves, but "
                         f"flat_sequence has {len(flat)} items. "
                         f"Received: flat_sequence of length {len(flat)}")
    it = iter(flat)
    return _map(lambda _: next(it), structure, (), True, "pack_sequence_as")


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Visit every sub-tree of ``structure`` (depth first), optionally replacing it.

    Top-down, ``func(subtree)`` returning None continues into the sub-tree; any
    other value replaces it (and is not entered). Bottom-up, the children are done
    first and ``func``'s non-None result replaces the sub-tree. Return
    :class:`MAP_TO_NONE` to replace a sub-tree with ``None``.

    Args:
        func: called on each sub-tree and leaf.
        structure: the structure.
        top_down: parents before children (True) or after.

    Returns:
        The structure with replacements made.

    Raises:
        TypeError: if ``func`` is not callable.

    Example:
        >>> v = []
        >>> traverse(v.append, [(1, 2), [3]], top_down=True)
        [(1, 2), [3]]
        >>> v
        [[(1, 2), [3]], (1, 2), 1, 2, [3], 3]
        >>> traverse(lambda x: MAP_TO_NONE if isinstance(x, tuple) else None, [(1, 2), 3])
        [None, 3]
    """
    _check_func(func, "traverse")

    def children_done(x: Any) -> Any:
        node = _node(x)
        if node is None:
            return x
        _, keys, children = node
        return _rebuild(x, keys, [visit(c) for c in children])

    def visit(x: Any) -> Any:
        if top_down:
            ret = func(x)
            if ret is None:
                return children_done(x)
        else:
            done = children_done(x)
            ret = func(done)
            if ret is None:
                return done
        return None if ret is MAP_TO_NONE else ret

    return visit(structure)


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every list turned into a tuple.

    Example:
        >>> lists_to_tuples([1, [2, {"a": [3]}]])
        (1, (2, {'a': (3,)}))
    """
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure,
                    top_down=False)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """:func:`map_structure` where lists and tuples of ints and Nones are leaves (shapes).

    Args:
        func: called on each shape (and on each other leaf).
        structure: a structure of shapes.

    Returns:
        The structure with ``func`` applied to each shape.

    Example:
        >>> map_shape_structure(lambda s: s[1:], {"x": (None, 3), "y": [(None, 4, 5)]})
        {'x': (3,), 'y': [(4, 5)]}
    """
    _check_func(func, "map_shape_structure")

    def is_shape(x: Any) -> bool:
        return isinstance(x, (list, tuple)) and all(
            isinstance(e, (int, type(None))) for e in x)

    return _map(func, structure, (), True, "map_shape_structure", is_leaf=is_shape)

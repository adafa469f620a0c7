"""chainrule.tree: Keras 3's keras.tree rules (expected values checked against Keras 3.15)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from chainrule import tree

P = collections.namedtuple("P", "x y")
AlsoP = collections.namedtuple("P", "x y")


def test_flatten_orders_dicts_by_key_and_keeps_none():
    assert tree.flatten({"b": [1, 2], "a": (3, {"d": 4, "c": 5})}) == [3, 5, 4, 1, 2]
    assert tree.flatten(None) == [None]
    assert tree.flatten([None]) == [None]
    assert tree.flatten([]) == [] and tree.flatten({}) == [] and tree.flatten(()) == []
    assert tree.flatten("ab") == ["ab"]
    assert tree.flatten({1: "a", "b": 2}) == ["a", 2]  # mixed keys: by type name


def test_ordered_dict_keeps_its_order_defaultdict_is_sorted():
    od = collections.OrderedDict([("b", 1), ("a", [2])])
    dd = collections.defaultdict(list, {"z": 1, "y": 2})
    assert tree.flatten(od) == [1, 2]
    assert tree.flatten(dd) == [2, 1]
    packed = tree.pack_sequence_as(dd, [10, 20])
    assert isinstance(packed, collections.defaultdict) and packed.default_factory is list
    assert list(packed.items()) == [("z", 20), ("y", 10)]


def test_subclasses_and_arrays_are_leaves():
    class L(list):
        pass

    x = np.zeros(3)
    assert tree.flatten([L([1, 2]), x])[0] == [1, 2]
    assert not tree.is_nested(x) and not tree.is_nested(None) and not tree.is_nested("s")
    assert tree.is_nested(collections.deque()) and tree.is_nested(P(1, 2))


def test_flatten_with_path():
    s = {"b": [1, (2, None)], "a": collections.deque([3])}
    assert tree.flatten_with_path(s) == [(("a", 0), 3), (("b", 0), 1), (("b", 1, 0), 2),
                                         (("b", 1, 1), None)]
    assert tree.flatten_with_path(P(1, [2])) == [((0,), 1), ((1, 0), 2)]


def test_pack_sequence_as_keeps_key_order():
    out = tree.pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])
    assert list(out.items()) == [("key3", "v3"), ("key1", "v1"), ("key2", "v2")]
    assert tree.pack_sequence_as(5, [7]) == 7
    assert tree.pack_sequence_as(P(0, [0]), [1, 2]) == P(1, [2])
    d = tree.pack_sequence_as(collections.deque([0, 0], maxlen=3), [1, 2])
    assert d == collections.deque([1, 2]) and d.maxlen == 3
    with pytest.raises(ValueError, match=r"has 2 leaves, but flat_sequence has 1 items"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(TypeError, match=r"Received: flat_sequence=7"):
        tree.pack_sequence_as(5, 7)


def test_map_structure():
    assert tree.map_structure(lambda v: v * 2, P(1, 2)) == P(2, 4)
    assert tree.map_structure(lambda a, b: a + b, P(1, 2), P(3, 4)) == P(4, 6)
    assert tree.map_structure(lambda x: 0, [None, 1]) == [0, 0]
    assert tree.map_structure(lambda x: 0, [None, 1], none_is_leaf=False) == [None, 0]
    # dict, OrderedDict and defaultdict match by key; the first's type and order win
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    out = tree.map_structure(lambda a, b: (a, b), od, {"a": 5, "b": 6})
    assert isinstance(out, collections.OrderedDict) and list(out.items()) == [
        ("b", (1, 6)), ("a", (2, 5))]
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(lambda x: x)
    with pytest.raises(TypeError, match="func must be callable"):
        tree.map_structure(1, [1])


@pytest.mark.parametrize("a,b", [
    ([1, 2], [1]),            # arity
    ([1, 2], [1, [2]]),       # deeper
    ([1, [2]], [1, 2]),       # shallower
    ([1], (1,)),              # list vs tuple
    (P(1, 2), (1, 2)),        # namedtuple vs tuple
    (P(1, 2), AlsoP(1, 2)),   # two namedtuple classes
    ({"a": 1}, {"b": 1}),     # keys
    ([None, 1], [2, 3]),      # None is a node without leaves when none_is_leaf=False
])
def test_mismatched_structures_raise(a, b):
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tree.map_structure(lambda x, y: x, a, b, none_is_leaf=False)
    if a != [None, 1]:
        with pytest.raises(ValueError, match="don't have the same nested structure"):
            tree.assert_same_structure(a, b)


def test_assert_same_structure_accepts_dict_kinds():
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure({"a": 1}, collections.OrderedDict(a=2))
    tree.assert_same_structure(P(0, 1), P(2, 3))
    with pytest.warns(DeprecationWarning):
        tree.assert_same_structure([1], [2], check_types=True)


def test_assert_same_paths_ignores_node_types():
    tree.assert_same_paths([0, 1], (2, 3))
    tree.assert_same_paths(P(0, 1), AlsoP(2, 3))
    with pytest.raises(ValueError, match=r"Paths in `a` missing in `b`"):
        tree.assert_same_paths([0, 1], {"a": 1})


def test_map_structure_up_to():
    assert tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2, 2]]) == [2, 3]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == [
        "[1, 1]", ["2", "2"]]
    assert tree.map_structure_up_to({"a": 0}, lambda x, y: x + y, {"a": 1}, {"a": 2}) == {
        "a": 3}
    with pytest.raises(ValueError, match="expected a list of 2 items, got 1"):
        tree.map_structure_up_to([None, None], str, [[1, 1]])
    with pytest.raises(ValueError, match="expected a list, got int"):
        tree.map_structure_up_to([None, [None, None]], str, [[1, 1], 3])


def test_traverse_orders_and_replacements():
    v = []
    assert tree.traverse(v.append, [(1, 2), [3], {"a": 4}]) == [(1, 2), [3], {"a": 4}]
    assert v == [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]
    v = []
    tree.traverse(v.append, [(1, 2), [3], {"a": 4}], top_down=False)
    assert v == [1, 2, (1, 2), 3, [3], 4, {"a": 4}, [(1, 2), [3], {"a": 4}]]
    # top-down: a replaced sub-tree is not entered
    seen = []

    def f(x):
        seen.append(x)
        return "X" if isinstance(x, tuple) else None

    assert tree.traverse(f, [(1, 2), [3]]) == ["X", [3]] and 1 not in seen
    g = lambda x: tree.MAP_TO_NONE if isinstance(x, tuple) else None  # noqa: E731
    assert tree.traverse(g, [(1, 2), [3]], top_down=False) == [None, [3]]
    with pytest.raises(TypeError, match="func must be callable"):
        tree.traverse(None, [1])


def test_lists_to_tuples_and_shapes():
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    out = tree.map_shape_structure(lambda s: ("S", s),
                                   [(1, None), {"a": (2,)}, [(3, 4), 5], [], None])
    assert out == [("S", (1, None)), {"a": ("S", (2,))}, [("S", (3, 4)), ("S", 5)],
                   ("S", []), ("S", None)]


def test_register_tree_node_class():
    @tree.register_tree_node_class
    class Box:
        def __init__(self, items, tag):
            self.items, self.tag = items, tag

        def tree_flatten(self):
            return self.items, self.tag

        @classmethod
        def tree_unflatten(cls, tag, children):
            return cls(list(children), tag)

    b = tree.map_structure(lambda x: x + 1, [Box([1, 2], "t")])[0]
    assert isinstance(b, Box) and b.items == [2, 3] and b.tag == "t"
    assert tree.flatten_with_path({"k": Box([5], None)}) == [(("k", 0), 5)]
    with pytest.raises(TypeError, match="Received: cls=3"):
        tree.register_tree_node_class(3)

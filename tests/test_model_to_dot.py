"""utils.model_to_dot: a pydot graph of the model (the 'dot' extra), ImportError without it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils import model_to_dot

L = cr.layers


def test_without_pydot_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # import pydot raises ImportError
    model = cr.Sequential([L.Input((3,)), L.Dense(2)])
    with pytest.raises(ImportError, match=r"install the 'dot' extra"):
        model_to_dot(model)


def test_bad_arguments():
    model = cr.Sequential([L.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"Received: rankdir='BT'$"):
        model_to_dot(model, rankdir="BT")
    with pytest.raises(ValueError, match=r"Received: \{'colour': 1\}$"):
        model_to_dot(model, colour=1)
    with pytest.raises(ValueError, match="needs a built model"):
        model_to_dot(cr.Sequential([L.Dense(2)]))


def _functional():
    a = L.Input((4,), name="a")
    b = L.Input((2,), name="b")
    h = L.Dense(3, activation="relu", name="h")(a)
    out = L.Dense(1, name="out")(L.Concatenate(name="cat")([h, b]))
    return cr.Model([a, b], out)


def test_functional_graph():
    pydot = pytest.importorskip("pydot")
    model = _functional()
    dot = model_to_dot(model, show_shapes=True, show_layer_activations=True, rankdir="LR")
    assert isinstance(dot, pydot.Dot)
    assert dot.get("rankdir") == "LR" and dot.get("dpi") == 200
    nodes = {n.get_name().strip('"'): n for n in dot.get_nodes() if n.get_name() != "node"}
    by_layer = {str(id(la)): la.name for la in model.operations}
    assert sorted(by_layer[k] for k in nodes) == ["a", "b", "cat", "h", "out"]
    edges = sorted((by_layer[e.get_source().strip('"')], by_layer[e.get_destination().strip('"')])
                   for e in dot.get_edges())
    assert edges == [("a", "h"), ("b", "cat"), ("cat", "out"), ("h", "cat")]
    h_label = nodes[str(id(model.get_layer("h")))].get("label")
    assert "h (Dense)" in h_label and "Activation: relu" in h_label
    assert "Output shape: (None, 3)" in h_label
    text = dot.to_string()
    assert text.startswith("digraph") and "penwidth=2" in text


def test_sequential_subclassed_and_cluster():
    pydot = pytest.importorskip("pydot")
    seq = cr.Sequential([L.Input((3,)), L.Dense(4, name="d1"), L.Dense(2, name="d2")])
    dot = model_to_dot(seq, show_layer_names=False)
    labels = [n.get("label") for n in dot.get_nodes() if n.get_name() != "node"]
    assert len(labels) == 2 and all("<b>Dense</b>" in la for la in labels)
    assert len(dot.get_edges()) == 1

    class Net(cr.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.zeros((1, 3)))
    assert len([n for n in model_to_dot(net).get_nodes() if n.get_name() != "node"]) == 1
    cluster = model_to_dot(seq, subgraph=True)
    assert isinstance(cluster, pydot.Cluster) and cluster.get("label") == seq.name


def test_expand_nested_draws_nested_models_as_clusters():
    pydot = pytest.importorskip("pydot")
    L = cr.layers
    inner = cr.Sequential([L.Input((4,)), L.Dense(3, name="d1"),
                           cr.Sequential([L.Dense(2, name="d2")], name="deep")], name="inner")
    x = L.Input((4,), name="x")
    model = cr.Model(x, L.Dense(2, name="head")(inner(x)), name="outer")
    dot = model_to_dot(model, expand_nested=True)
    assert [c.get_name() for c in dot.get_subgraphs()] == ["cluster_inner"]
    (cluster,) = dot.get_subgraphs()
    assert [c.get_name() for c in cluster.get_subgraphs()] == ["cluster_deep"]
    ids = {la.name: str(id(la)) for la in [model.get_layer("x"), model.get_layer("head"),
                                           inner.get_layer("d1"),
                                           inner.get_layer("deep").get_layer("d2")]}
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    # into the nested model's first layer, out of its (nested) last layer
    assert edges == {(ids["x"], ids["d1"]), (ids["d2"], ids["head"])}
    assert {(e.get_source(), e.get_destination()) for e in cluster.get_edges()} == {
        (ids["d1"], ids["d2"])}
    assert str(id(inner)) not in dot.to_string()  # the nested model has no node of its own
    flat = model_to_dot(model)
    assert not flat.get_subgraphs() and str(id(inner)) in flat.to_string()
    assert isinstance(dot, pydot.Dot)

"""Seed 002 §1: the perceptron, the hand-set logic gates, XOR from gates and XOR learned by an MLP."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_gates, make_xor
from chainrule.explain import gates
from chainrule.models.perceptron import ConvergenceWarning, Perceptron

TRUTH = {"and": [0, 0, 0, 1], "nand": [1, 1, 1, 0], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}


# -- the hand-set gates ----------------------------------------------------------------------------

def test_seed_weights():
    assert gates.GATE_WEIGHTS == {"and": (0.5, 0.5, -0.7), "nand": (-0.5, -0.5, 0.7),
                                  "or": (0.6, 0.6, -0.5)}


@pytest.mark.parametrize("name", ["and", "nand", "or", "xor"])
def test_truth_tables(name):
    assert [out for _, out in gates.truth_table(name)] == TRUTH[name]
    fn = {"and": gates.AND_gate, "nand": gates.NAND_gate, "or": gates.OR_gate,
          "xor": gates.XOR_gate}[name]
    assert tuple(fn(a, b) for a, b in gates.INPUTS) == tuple(TRUTH[name])


def test_seed_printouts():
    # the seed prints exactly these tuples
    assert (gates.AND_gate(0, 0), gates.AND_gate(0, 1), gates.AND_gate(1, 0),
            gates.AND_gate(1, 1)) == (0, 0, 0, 1)
    assert (gates.NAND_gate(0, 0), gates.NAND_gate(0, 1), gates.NAND_gate(1, 0),
            gates.NAND_gate(1, 1)) == (1, 1, 1, 0)
    assert (gates.OR_gate(0, 0), gates.OR_gate(0, 1), gates.OR_gate(1, 0),
            gates.OR_gate(1, 1)) == (0, 1, 1, 1)


def test_xor_is_and_of_nand_and_or():
    for a, b in gates.INPUTS:
        assert gates.xor_gate(a, b) == gates.and_gate(gates.nand_gate(a, b), gates.or_gate(a, b))
        assert gates.xor_gate(a, b) == (a ^ b)


def test_perceptron_output_boundary_is_zero_for_zero():
    # the seed's rule: result <= 0 -> 0
    assert gates.perceptron_output(0, 0, 1.0, 1.0, 0.0) == 0
    assert gates.perceptron_output(1, 0, 1.0, 1.0, -1.0) == 0
    assert gates.perceptron_output(1, 1, 1.0, 1.0, -1.0) == 1


def test_xor_network_of_hand_set_perceptrons():
    model = gates.xor_network()
    out = model.predict(np.array(gates.INPUTS, dtype=float), verbose=0).ravel()
    assert out.tolist() == [0.0, 1.0, 1.0, 0.0]
    k1, b1, _, _ = model.get_weights()
    np.testing.assert_allclose(k1, [[-0.5, 0.6], [-0.5, 0.6]])
    np.testing.assert_allclose(b1, [0.7, -0.5])


def test_format_truth_table():
    text = gates.format_truth_table("nand")
    assert text.splitlines()[0] == "NAND gate: w1=-0.5, w2=-0.5, b=0.7"
    assert "x1=1 x2=1 -> 0" in text
    assert "AND(NAND(x1, x2), OR(x1, x2))" in gates.format_truth_table("xor")


def test_gate_input_errors():
    with pytest.raises(ValueError, match=r"x1 must be 0 or 1\. Received: x1=2"):
        gates.and_gate(2, 0)
    with pytest.raises(ValueError, match="Received: gate='xnor2'"):
        gates.truth_table("xnor2")


# -- the perceptron learning rule -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["and", "nand", "or"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_perceptron_learns_separable_gates(name, shuffle):
    x, y = make_gates(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        p = Perceptron(learning_rate=0.1, max_epochs=100, shuffle=shuffle, seed=3).fit(x, y)
    assert p.converged_
    assert p.errors_[-1] == 0 and all(e > 0 for e in p.errors_[:-1])
    assert p.n_epochs_ == len(p.errors_) < 100
    assert p.predict(x).tolist() == TRUTH[name]
    assert p.score(x, y) == 1.0
    assert p.weights_.shape == (2,) and isinstance(p.bias_, float)
    # predict is the step of the weighted sum
    np.testing.assert_array_equal(p.predict(x), (x @ p.weights_ + p.bias_ > 0).astype(int))


def test_perceptron_rule_by_hand():
    # one epoch on AND from zeros, lr=0.1: only (1, 1) is misclassified (output 0, target 1)
    x, y = make_gates("and")
    p = Perceptron(learning_rate=0.1, max_epochs=1)
    with pytest.warns(ConvergenceWarning):
        p.fit(x, y)
    # sample (0,0): w·x+b = 0 -> 0, target 0, no update; (0,1), (1,0) likewise;
    # (1,1): 0 -> 0, target 1 -> w += 0.1*(1,1), b += 0.1
    np.testing.assert_allclose(p.weights_, [0.1, 0.1])
    assert p.bias_ == pytest.approx(0.1)
    assert p.errors_ == [1]


def test_perceptron_fails_on_xor_with_warning_and_stops():
    x, y = make_xor()
    p = Perceptron(max_epochs=50)
    with pytest.warns(ConvergenceWarning, match="not linearly separable") as record:
        p.fit(x, y)
    assert "Received: max_epochs=50" in str(record[0].message)
    assert not p.converged_
    assert p.n_epochs_ == 50 and len(p.errors_) == 50 and min(p.errors_) > 0
    assert p.score(x, y) < 1.0


def test_convergence_warning_is_a_user_warning():
    assert issubclass(ConvergenceWarning, UserWarning)


def test_perceptron_accepts_column_labels_and_lists():
    p = Perceptron().fit([[0, 0], [0, 1], [1, 0], [1, 1]], np.array([[0], [1], [1], [1]]))
    assert p.predict([[0, 0], [1, 1]]).tolist() == [0, 1]
    assert p.predict([1, 1]).tolist() == [1]  # one sample as a vector
    assert p.get_weights()[0].shape == (2, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"learning_rate": 0}, r"learning_rate must be a positive finite number\. Received: learning_rate=0"),
    ({"learning_rate": float("nan")}, "Received: learning_rate=nan"),
    ({"max_epochs": 0}, r"max_epochs must be a positive integer\. Received: max_epochs=0"),
    ({"max_epochs": 2.5}, "Received: max_epochs=2.5"),
    ({"seed": -1}, "Received: seed=-1"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Perceptron(**kwargs)


def test_shuffle_must_be_bool():
    with pytest.raises(TypeError, match="Received: shuffle='yes'"):
        Perceptron(shuffle="yes")


def test_fit_input_errors():
    x, y = make_gates("and")
    p = Perceptron()
    with pytest.raises(ValueError, match=r"only the labels 0 and 1.*Received: y with values \[2\.0\]"):
        p.fit(x, [0, 0, 2, 1])
    with pytest.raises(ValueError, match="Received: 4 samples in x and 3 in y"):
        p.fit(x, [0, 0, 1])
    with pytest.raises(ValueError, match=r"2-D array.*Received: x of shape \(4,\)"):
        p.fit(np.zeros(4), y)
    with pytest.raises(ValueError, match="one output.*Received: y of shape"):
        p.fit(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        p.fit(np.array([[0, np.nan], [1, 1]]), [0, 1])
    with pytest.raises(TypeError, match="Received: x of type"):
        p.fit([["a", "b"]], [0])


def test_predict_errors():
    p = Perceptron()
    with pytest.raises(RuntimeError, match="not fitted"):
        p.predict([[0, 1]])
    p.fit(*make_gates("or"))
    with pytest.raises(ValueError, match=r"must have 2 features.*Received: x of shape \(1, 3\)"):
        p.predict([[0, 1, 1]])


# -- XOR needs a hidden layer ---------------------------------------------------------------------

def test_two_layer_network_learns_xor():
    x, y = make_xor()
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([
        cr.layers.Dense(4, activation="tanh", input_dim=2),
        cr.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    pred = (model.predict(x, verbose=0).ravel() > 0.5).astype(int)
    assert pred.tolist() == [0, 1, 1, 0]


def test_public_names():
    import chainrule.models

    assert chainrule.models.Perceptron is Perceptron
    assert chainrule.models.ConvergenceWarning is ConvergenceWarning

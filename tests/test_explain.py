"""explain.backprop: the seed's worked example number by number, factors against the engine."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.explain import BackpropReport, backprop
from chainrule.explain.worked_example import SEED_INPUTS, SEED_TARGETS, seed_kernels
from chainrule.gradcheck import numerical_gradient


def seed_model():
    model = cr.models.Sequential([
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2, dtype="float64"),
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64"),
    ])
    model.set_weights(list(seed_kernels()))
    return model


@pytest.fixture(scope="module")
def report():
    return backprop(seed_model(), SEED_INPUTS, SEED_TARGETS, learning_rate=0.5)


def r8(v):
    return round(float(v), 8)


# -- the seed's numbers ------------------------------------------------------------------------------

def test_forward_values_match_the_seed(report):
    f = report.forward
    expected = {"z1": 0.08, "z2": 0.11, "h1": 0.51998934, "h2": 0.52747230, "z3": 0.44498412,
                "z4": 0.68047592, "o1": 0.60944600, "o2": 0.66384491}
    for name, value in expected.items():
        assert r8(f[name]) == pytest.approx(value, abs=1e-12), name
    assert r8(report.loss) == pytest.approx(0.02397190, abs=1e-12)
    assert r8(report.loss_after) == pytest.approx(0.02323634, abs=1e-12)


def test_w5_factors_match_the_seed(report):
    row = report.row("W5")
    assert [s for s, _ in row["factors"]] == ["∂E/∂o1", "∂o1/∂z3", "∂z3/∂W5"]
    assert [r8(v) for _, v in row["factors"]] == [0.20944600, 0.23802157, 0.51998934]
    assert r8(row["gradient"]) == 0.02592286
    assert r8(row["product"]) == 0.02592286
    assert row["old"] == 0.45 and r8(row["new"]) == 0.43703857
    assert row["layer_index"] == 1 and row["kind"] == "kernel" and row["index"] == (0, 0)


def test_w1_factors_match_the_seed(report):
    row = report.row("W1")
    assert [s for s, _ in row["factors"]] == ["∂E/∂h1", "∂h1/∂z1", "∂z1/∂W1"]
    # ∂E/∂h1 = ∂E_o1/∂h1 + ∂E_o2/∂h1 = 0.02243370 + 0.00997311 = 0.03240681
    assert [r8(v) for _, v in row["factors"]] == [0.03240681, 0.24960043, 0.1]
    assert r8(row["gradient"]) == 0.00080888
    assert r8(row["new"]) == 0.29959556


def test_every_updated_weight_matches_the_seed(report):
    seed_new = {"W1": 0.29959556, "W2": 0.24919112, "W3": 0.39964496, "W4": 0.34928991,
                "W5": 0.43703857, "W6": 0.38685205, "W7": 0.69629578, "W8": 0.59624247}
    assert [r["name"] for r in report.rows] == [f"W{i}" for i in range(1, 9)]
    for name, value in seed_new.items():
        assert r8(report.row(name)["new"]) == pytest.approx(value, abs=1e-12), name


def test_text_reads_like_the_seed(report):
    text = str(report)
    assert text == report.text
    for needle in (
        "z1 = W1·x1 + W2·x2 = 0.30000000 × 0.10000000 + 0.25000000 × 0.20000000 = 0.08000000",
        "h1 = sigmoid(z1) = 0.51998934",
        "E_o1 = ½(target_o1 − o1)² = ½(0.40000000 − 0.60944600)² = 0.02193381",
        "E_total = 0.02397190",
        "∂E/∂W5 = ∂E/∂o1 × ∂o1/∂z3 × ∂z3/∂W5 = 0.20944600 × 0.23802157 × 0.51998934 = 0.02592286",
        "W5+ = 0.43703857",
        ("∂E/∂h1 = ∂E/∂o1 × ∂o1/∂z3 × W5 + ∂E/∂o2 × ∂o2/∂z4 × W7 = 0.02243370 + 0.00997311 "
         "= 0.03240681"),
        "∂h1/∂z1 = 0.24960043",
        "∂E/∂W1 = ∂E/∂h1 × ∂h1/∂z1 × ∂z1/∂W1 = 0.03240681 × 0.24960043 × 0.10000000 = 0.00080888",
        "W1+ = 0.29959556",
        "E_total after = 0.02323634",
    ):
        assert needle in text, needle
    # the backward pass runs from the output layer to the input
    assert text.index("∂E/∂W5") < text.index("∂E/∂W1")


def test_print_shows_the_text(report, capsys):
    print(report)
    assert "W8+ = 0.59624247" in capsys.readouterr().out
    assert "E=0.02397190 -> 0.02323634" in repr(report)
    assert isinstance(report, BackpropReport)


# -- factors against the engine and against numbers ------------------------------------------------

def test_factor_products_equal_engine_gradients(report):
    # the engine, driven directly: gradients of E with respect to both kernels
    k1_0, k2_0 = seed_kernels()
    k1, k2 = cr.Tensor(k1_0, requires_grad=True), cr.Tensor(k2_0, requires_grad=True)
    x = cr.Tensor(np.array([SEED_INPUTS]))
    t = cr.Tensor(np.array([SEED_TARGETS]))
    o = ops.sigmoid(ops.matmul(ops.sigmoid(ops.matmul(x, k1)), k2))
    (ops.sum((t - o) * (t - o)) * 0.5).backward()
    engine = {"W1": k1.grad[0, 0], "W2": k1.grad[1, 0], "W3": k1.grad[0, 1], "W4": k1.grad[1, 1],
              "W5": k2.grad[0, 0], "W6": k2.grad[1, 0], "W7": k2.grad[0, 1], "W8": k2.grad[1, 1]}
    for row in report.rows:
        product = np.prod([v for _, v in row["factors"]])
        assert product == pytest.approx(engine[row["name"]], rel=1e-12, abs=1e-15)
        assert row["gradient"] == pytest.approx(engine[row["name"]], rel=1e-12, abs=1e-15)
        assert r8(product) == r8(row["gradient"])
    np.testing.assert_allclose(report.gradients[0], k1.grad, rtol=1e-12)
    np.testing.assert_allclose(report.gradients[1], k2.grad, rtol=1e-12)


def test_gradients_agree_with_numerical_differentiation(report):
    x = np.array([SEED_INPUTS])
    t = np.array([SEED_TARGETS])

    def e_of(flat):
        k1, k2 = flat[:4].reshape(2, 2), flat[4:].reshape(2, 2)
        o = 1 / (1 + np.exp(-(1 / (1 + np.exp(-(x @ k1))) @ k2)))
        return 0.5 * np.sum((t - o) ** 2)

    k1, k2 = seed_kernels()
    num = numerical_gradient(e_of, np.concatenate([k1.ravel(), k2.ravel()]))
    got = np.concatenate([report.gradients[0].ravel(), report.gradients[1].ravel()])
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-10)


def test_backprop_does_not_change_the_model_and_apply_takes_the_step():
    model = seed_model()
    before = [w.copy() for w in model.get_weights()]
    rep = backprop(model, SEED_INPUTS, SEED_TARGETS)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    rep.apply(model)
    again = backprop(model, SEED_INPUTS, SEED_TARGETS)
    assert again.loss == pytest.approx(rep.loss_after, rel=1e-12)


def test_float32_model_is_explained_in_float64():
    model = cr.models.Sequential([
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2),
        cr.layers.Dense(2, activation="sigmoid", use_bias=False),
    ])
    model.set_weights([k.astype("float32") for k in seed_kernels()])
    rep = backprop(model, SEED_INPUTS, SEED_TARGETS)
    # the seed's weights are not exact in float32, so agree to about 7 digits
    assert rep.row("W5")["gradient"] == pytest.approx(0.02592286, abs=2e-8)


# -- batches, other losses and activations ----------------------------------------------------------

def test_batch_half_sse_sums_and_mse_averages():
    model = seed_model()
    xs = np.array([[0.1, 0.2], [0.5, -0.3], [1.0, 0.0]])
    ts = np.array([[0.4, 0.6], [0.1, 0.9], [0.5, 0.5]])
    single = [backprop(model, xs[i], ts[i]) for i in range(3)]
    summed = backprop(model, xs, ts, loss="half_sse")
    for k, row in enumerate(summed.rows):
        expected = sum(s.rows[k]["gradient"] for s in single)
        assert row["gradient"] == pytest.approx(expected, rel=1e-12)
        assert row["product"] == pytest.approx(row["gradient"], rel=1e-12, abs=1e-15)
        assert all(np.shape(v) == (3,) for _, v in row["factors"])
    assert summed.loss == pytest.approx(sum(s.loss for s in single), rel=1e-12)
    mse = backprop(model, xs, ts, loss="mse")
    for k, row in enumerate(mse.rows):
        # mse = (1 / (samples × outputs)) Σ (t − o)² = half_sse × 2 / 6
        assert row["gradient"] == pytest.approx(summed.rows[k]["gradient"] / 3, rel=1e-12)
        assert row["product"] == pytest.approx(row["gradient"], rel=1e-12, abs=1e-15)
    assert "Σₙ ∂E/∂o1 × ∂o1/∂z3 × ∂z3/∂W5" in summed.text
    assert "samples: 3" in summed.text


@pytest.mark.parametrize("hidden, out, loss", [
    ("relu", "softmax", "categorical_crossentropy"),
    ("tanh", "sigmoid", "binary_crossentropy"),
    ("leaky_relu", "linear", "mse"),
])
def test_factor_products_equal_gradients_for_other_networks(hidden, out, loss):
    cr.utils.set_random_seed(1)
    units = 3 if out == "softmax" else 1
    model = cr.models.Sequential([cr.layers.Dense(3, activation=hidden, input_dim=2),
                                  cr.layers.Dense(units, activation=out)])
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    y = np.eye(3)[[0, 2]] if units == 3 else np.array([[1.0], [0.0]])
    rep = backprop(model, x, y, loss=loss, learning_rate=0.1)
    assert len(rep.rows) == 2 * 3 + 3 + 3 * units + units
    for row in rep.rows:
        assert row["product"] == pytest.approx(row["gradient"], rel=1e-10, abs=1e-14)
        assert row["new"] == pytest.approx(row["old"] - 0.1 * row["gradient"], rel=1e-12, abs=1e-15)
    if out == "softmax":  # softmax couples its units: the factor is ∂E/∂z
        assert rep.row("W7")["factors"][0][0] == "∂E/∂z4"
        assert "softmax couples the units" in rep.text
    assert rep.loss_after < rep.loss


def test_bias_rows_and_names():
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(2, activation="sigmoid", input_dim=2),
                                  cr.layers.Dense(1, activation="sigmoid")])
    rep = backprop(model, [1.0, 0.5], [1.0])
    assert [r["name"] for r in rep.rows] == ["W1", "W2", "W3", "W4", "b1", "b2", "W5", "W6", "b3"]
    b3 = rep.row("b3")
    assert b3["kind"] == "bias" and b3["factors"][-1] == ("∂z3/∂b3", 1.0)
    assert "z1 = W1·x1 + W2·x2 + b1" in rep.text


def test_large_networks_use_layer_names_and_short_text():
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(6, activation="relu", input_dim=4, name="hidden"),
                                  cr.layers.Dense(2, activation="softmax", name="out")])
    rep = backprop(model, np.ones(4), [0.0, 1.0], loss="categorical_crossentropy", max_weights=3)
    names = [r["name"] for r in rep.rows]
    assert "hidden/kernel[2,3]" in names and "out/bias[1]" in names
    assert len(rep.rows) == 4 * 6 + 6 + 6 * 2 + 2
    assert "more weights in hidden (all are in report.rows)" in rep.text
    assert "∂E/∂(hidden/kernel[0,0]) = ∂E/∂(hidden/a[0]) × ∂(hidden/a[0])/∂(hidden/z[0])" in rep.text
    seed_names = backprop(model, np.ones(4), [0.0, 1.0], names="seed").rows
    assert seed_names[0]["name"] == "W1"


# -- errors -------------------------------------------------------------------------------------------

def test_errors_name_the_argument():
    model = seed_model()
    with pytest.raises(ValueError, match=r"Received: learning_rate=0"):
        backprop(model, SEED_INPUTS, SEED_TARGETS, learning_rate=0)
    with pytest.raises(ValueError, match=r"Known: half_sse, mse.*Received: loss='hinge'"):
        backprop(model, SEED_INPUTS, SEED_TARGETS, loss="hinge")
    with pytest.raises(ValueError, match=r"x must have 2 features.*Received: x of shape \(1, 3\)"):
        backprop(model, [[0.1, 0.2, 0.3]], SEED_TARGETS)
    with pytest.raises(ValueError, match="Received: y of shape"):
        backprop(model, SEED_INPUTS, [0.4, 0.6, 0.1])
    with pytest.raises(ValueError, match="Received: names='greek'"):
        backprop(model, SEED_INPUTS, SEED_TARGETS, names="greek")
    flat = cr.models.Sequential([cr.layers.Flatten(input_shape=(2, 2)), cr.layers.Dense(1)])
    with pytest.raises(TypeError, match="Received: layer 'flatten.*' of type Flatten"):
        backprop(flat, np.ones((1, 2, 2)), [1.0])
    with pytest.raises(TypeError, match="Received: model of type int"):
        backprop(3, SEED_INPUTS, SEED_TARGETS)


# -- seed 004: numerical gradients and gradient descent on f(x0, x1) = x0² + x1² ------------------

def _f2(x):
    return x[0] ** 2 + x[1] ** 2


def test_numerical_gradient_of_the_seed_function():
    for point, grad in (([3.0, 4.0], [6.0, 8.0]), ([0.0, 2.0], [0.0, 4.0]), ([3.0, 0.0], [6.0, 0.0])):
        np.testing.assert_allclose(numerical_gradient(_f2, np.array(point)), grad, atol=1e-6)


def test_gradient_descent_reaches_the_minimum():
    from chainrule.gradcheck import gradient_descent

    result = gradient_descent(_f2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    np.testing.assert_allclose(result.x, [0.0, 0.0], atol=1e-6)
    assert result.status == "converged" and result.message.startswith("converged")
    x, path = result  # the seed's two return values
    assert x is result.x
    assert path.shape[1] == 2 and np.allclose(path[0], [-3.0, 4.0])


def test_learning_rate_too_large_diverges_and_says_so():
    from chainrule.gradcheck import gradient_descent

    result = gradient_descent(_f2, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert result.status == "diverged" and result.diverged
    assert "too large" in result.message
    assert np.abs(result.x).max() > 1e3


def test_learning_rate_too_small_barely_moves_and_says_so():
    from chainrule.gradcheck import gradient_descent

    result = gradient_descent(_f2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    assert result.status == "barely moved"
    assert "too small" in result.message
    np.testing.assert_allclose(result.x, [-3.0, 4.0], atol=1e-6)

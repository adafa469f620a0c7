"""chainrule.plot: every figure writes a PNG and has the axes, titles and lines it promises."""

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import chainrule as cr  # noqa: E402
from chainrule import plot  # noqa: E402
from chainrule.datasets import make_gates, make_spirals  # noqa: E402
from chainrule.explain import GradientMonitor, gates  # noqa: E402
from chainrule.explain.worked_example import seed_kernels  # noqa: E402
from chainrule.gradcheck import gradient_descent  # noqa: E402
from chainrule.models.perceptron import ConvergenceWarning, Perceptron  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_activations(tmp_path):
    path = tmp_path / "sub" / "activations.png"
    fig = plot.activations(path=path)
    assert_png(path)
    assert titles(fig) == ["Step Function", "Sigmoid Function", "Tanh Function", "ReLU Function",
                           "Leaky ReLU Function (a = 0.1)", "Softmax Function of [x, 0]"]
    for ax in fig.axes:
        labels = [line.get_label() for line in ax.get_lines()]
        assert "f(x)" in labels and "f'(x) (engine)" in labels
        assert ax.get_legend() is not None


def test_activation_curves_come_from_the_engine():
    x, y, dy = plot.activation_curves("sigmoid")
    np.testing.assert_allclose(dy, y * (1 - y), atol=1e-12)
    x, y, dy = plot.activation_curves("tanh")
    np.testing.assert_allclose(dy, 1 - y ** 2, atol=1e-12)
    x, y, dy = plot.activation_curves("relu")
    np.testing.assert_array_equal(dy, (x > 0).astype(float))
    x, y, dy = plot.activation_curves("leaky_relu")
    np.testing.assert_allclose(dy, np.where(x > 0, 1.0, 0.1))
    x, y, dy = plot.activation_curves("softmax")  # softmax([x, 0])[0] = sigmoid(x)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), atol=1e-12)
    np.testing.assert_allclose(dy, y * (1 - y), atol=1e-12)
    x, y, dy = plot.activation_curves("step")
    np.testing.assert_array_equal(dy, np.zeros_like(x))


def test_activations_errors():
    with pytest.raises(ValueError, match="Received: names=\\[\\]"):
        plot.activations([])
    with pytest.raises(ValueError, match="sigmod"):
        plot.activations(["sigmod"])


def test_history_from_dict_and_history(tmp_path):
    h = {"loss": [0.9, 0.5, 0.3], "mae": [0.5, 0.4, 0.3], "mse": [0.9, 0.5, 0.3],
         "val_loss": [1.0, 0.6, 0.4], "val_mae": [0.6, 0.5, 0.4], "val_mse": [1.0, 0.6, 0.4]}
    fig = plot.history(h, path=tmp_path / "history.png")
    assert_png(tmp_path / "history.png")
    assert titles(fig) == ["loss", "mae", "mse"]
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])

    class FakeHistory:
        def __init__(self):
            self.history = {"loss": [1.0, 0.5]}

    fig = plot.history(FakeHistory())
    assert titles(fig) == ["loss"] and len(fig.axes[0].get_lines()) == 1


def test_history_errors():
    with pytest.raises(TypeError, match="Received: history of type int"):
        plot.history(3)
    with pytest.raises(ValueError, match="empty"):
        plot.history({})


def test_compare(tmp_path):
    runs = {"batch": {"loss": [1.0, 0.9, 0.8]}, "sgd": {"loss": [0.7, 0.4, 0.3]},
            "mini-batch": {"loss": [0.8, 0.5, 0.35]}}
    fig = plot.compare(runs, path=tmp_path / "compare.png", title="Loss by batch size",
                       log_scale=True)
    assert_png(tmp_path / "compare.png")
    assert titles(fig) == ["Loss by batch size"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == list(runs)
    with pytest.raises(ValueError, match="Received: metric='accuracy'"):
        plot.compare(runs, metric="accuracy")


def test_decision_boundary_perceptron_and_models(tmp_path):
    x, y = make_gates("and")
    p = Perceptron().fit(x, y)
    fig = plot.decision_boundary(p, x, y, path=tmp_path / "and.png")
    assert_png(tmp_path / "and.png")
    ax = fig.axes[0]
    assert ax.get_title() == "Decision boundary: Perceptron"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    # the hand-built XOR network (step outputs)
    xx, yx = make_gates("xor")
    fig = plot.decision_boundary(gates.xor_network(), xx, yx, title="XOR")
    assert fig.axes[0].get_title() == "XOR"
    # a softmax model over three spiral classes, untrained: three legend entries, regions drawn
    xs, ys = make_spirals(20, 3, seed=0)
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(8, activation="relu", input_dim=2),
                                  cr.layers.Dense(3, activation="softmax")])
    fig = plot.decision_boundary(model, xs, np.eye(3)[ys], path=tmp_path / "spirals.png",
                                 resolution=50)
    assert_png(tmp_path / "spirals.png")
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    # a sigmoid output: probability map with a colorbar
    sig = cr.models.Sequential([cr.layers.Dense(1, activation="sigmoid", input_dim=2)])
    fig = plot.decision_boundary(sig, xs, ys % 2, resolution=30)
    assert len(fig.axes) == 2  # the map and its colorbar


def test_decision_boundary_errors():
    p = Perceptron().fit(*make_gates("or"))
    with pytest.raises(ValueError, match=r"Received: x of shape \(4, 3\)"):
        plot.decision_boundary(p, np.zeros((4, 3)), [0, 1, 1, 1])
    with pytest.raises(ValueError, match="Received: 4 samples in x and 3 in y"):
        plot.decision_boundary(p, np.zeros((4, 2)), [0, 1, 1])
    with pytest.raises(TypeError, match="Received: model of type str"):
        plot.decision_boundary("model", np.zeros((4, 2)), [0, 1, 1, 1])


def test_image_grid(tmp_path):
    images = np.random.default_rng(0).random((12, 28, 28))
    labels = np.arange(12) % 10
    fig = plot.image_grid(images, labels, class_names=plot.FASHION_MNIST_CLASSES,
                          path=tmp_path / "grid.png")
    assert_png(tmp_path / "grid.png")
    assert len(fig.axes) == 9
    assert titles(fig)[:3] == ["T-shirt/top", "Trouser", "Pullover"]
    assert all(len(ax.get_images()) == 1 for ax in fig.axes)
    fig = plot.image_grid(images[:4].reshape(4, 784), rows=2, cols=3)
    assert len(fig.axes) == 4 and titles(fig) == ["", "", "", ""]
    with pytest.raises(ValueError, match="Received: rows=0"):
        plot.image_grid(images, rows=0)
    with pytest.raises(ValueError, match=r"Received: images of shape \(3, 10\)"):
        plot.image_grid(np.zeros((3, 10)))


def test_gradient_flow(tmp_path):
    from chainrule.datasets import make_moons

    x, y = make_moons(64, seed=0)
    monitors = {}
    for act in ("sigmoid", "relu"):
        cr.utils.set_random_seed(0)
        model = cr.models.Sequential([cr.layers.Dense(4, activation=act, input_dim=2),
                                      cr.layers.Dense(4, activation=act),
                                      cr.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        monitors[act] = GradientMonitor(every=1)
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[monitors[act]])
    fig = plot.gradient_flow(monitors["sigmoid"], path=tmp_path / "flow.png")
    assert_png(tmp_path / "flow.png")
    assert titles(fig) == ["Gradient norm by layer", "Gradient norm during training"]
    left, right = fig.axes
    assert len(left.get_lines()) == 1 and len(right.get_lines()) == 3  # one per layer
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), monitors["sigmoid"].grad_norms()[-1])
    assert left.get_yscale() == "log"
    fig = plot.gradient_flow(monitors)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == [
        "sigmoid (step 4)", "relu (step 4)"]
    assert len(fig.axes[1].get_lines()) == 4  # first and last layer per run
    with pytest.raises(ValueError, match="recorded nothing"):
        plot.gradient_flow(GradientMonitor())
    with pytest.raises(TypeError, match="Received: int"):
        plot.gradient_flow(3)


def test_gradient_descent_path(tmp_path):
    def f(x):
        return x[0] ** 2 + x[1] ** 2

    result = gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    fig = plot.gradient_descent_path(f, result, path=tmp_path / "gd.png", lr=0.1)
    assert_png(tmp_path / "gd.png")
    ax = fig.axes[0]
    assert ax.get_title() == "Gradient descent (lr=0.1): converged"
    path_line = ax.get_lines()[0]
    np.testing.assert_allclose(path_line.get_xdata(), result.path[:, 0])
    assert [line.get_label() for line in ax.get_lines()][1:] == ["start", "end"]
    assert len(ax.collections) > 0  # the contour lines
    diverged = gradient_descent(f, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    fig = plot.gradient_descent_path(f, diverged)
    assert fig.axes[0].get_title() == "Gradient descent: diverged"
    # plain points and a function that only takes one point at a time
    fig = plot.gradient_descent_path(lambda v: float(v[0] ** 2 + 2 * v[1] ** 2),
                                     [[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]], title="three steps")
    assert fig.axes[0].get_title() == "three steps"
    with pytest.raises(ValueError, match=r"Received: points of shape \(3,\)"):
        plot.gradient_descent_path(f, [1.0, 2.0, 3.0])


def test_network(tmp_path):
    model = cr.models.Sequential([
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2),
        cr.layers.Dense(2, activation="sigmoid", use_bias=False),
    ])
    model.set_weights(list(seed_kernels()))
    fig = plot.network(model, path=tmp_path / "net.png")
    assert_png(tmp_path / "net.png")
    ax = fig.axes[0]
    assert ax.get_title() == "Network 2-2-2 (sigmoid, sigmoid)"
    assert len(ax.get_lines()) == 8
    texts = {t.get_text() for t in ax.texts}
    assert {"W1=0.30", "W3=0.40", "W5=0.45", "W8=0.60", "x1", "h2", "o1"} <= texts
    with pytest.warns(ConvergenceWarning):
        p = Perceptron(max_epochs=3).fit(*make_gates("xor"))
    fig = plot.network(p)
    assert len(fig.axes[0].get_lines()) == 2
    big = cr.models.Sequential([cr.layers.Dense(20, input_dim=2)])
    with pytest.raises(ValueError, match="at most 16 units"):
        plot.network(big)
    with pytest.raises(TypeError, match="Received: layer 'flatten"):
        plot.network(cr.models.Sequential([cr.layers.Flatten(input_shape=(2,)),
                                           cr.layers.Dense(1)]))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[plot\]"'):
        plot.activations(["relu"])

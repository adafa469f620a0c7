"""Every example in examples/ runs with --quick, offline, and prints what its lesson shows."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# example -> (extra arguments, text its output must contain, figures it must write)
CASES = {
    "perceptron_gates": ([], ["AND gate: w1=0.5, w2=0.5, b=-0.7", "ConvergenceWarning",
                              "not linearly separable", "accuracy 1.00"],
                         ["perceptron_and.png", "perceptron_xor.png", "mlp_xor.png",
                          "xor_gates.png"]),
    "activation_functions": ([], ["sigmoid df", "10 layers: at most 9.54e-07"], ["activations.png"]),
    "vanishing_gradients": ([], ["first/last layer gradient ratio",
                                 "First-layer gradient / last-layer gradient"],
                            ["gradient_flow.png"]),
    "backprop_worked_example": ([], [
        "∂E/∂W5 = ∂E/∂o1 × ∂o1/∂z3 × ∂z3/∂W5 = 0.20944600 × 0.23802157 × 0.51998934 = 0.02592286",
        "W5+ = 0.43703857", "E_total after = 0.02323634",
        "the same to 8 decimals: True"], ["worked_example_network.png"]),
    "gradient_descent": ([], ["at (3.0, 4.0): gradient [6.0, 8.0]", "lr=0.1: x = ",
                              "status 'converged'", "status 'diverged'", "status 'barely moved'"],
                         ["gradient_descent_lr_0.1.png", "gradient_descent_lr_10.png",
                          "gradient_descent_lr_1e-10.png"]),
    "study_sleep_regression": ([], [("The hand-written backward step equals the engine's gradient "
                                     "step: True"), "Epoch 5/5", "dict_keys(['loss', 'mae', 'mse'])"],
                               ["study_sleep_history.png"]),
    "compile_losses": ([], ["model.compile(optimizer='adam', loss='mse', metrics=['mse'])",
                            "loss='sparse_categorical_crossentropy'", "amsgrad=False",
                            "history keys: ['loss', 'acc']"], ["losses.png"]),
    "batch_sizes": ([], ["batch               300              1",
                         "stochastic            1            300",
                         "mini-batch           32             10"], ["batch_sizes.png"]),
    "optimizers": ([], ["SGD(lr=0.01, momentum=0.9)", "Adagrad(lr=0.01, epsilon=1e-6)",
                        "RMSprop(lr=0.001, rho=0.9, epsilon=1e-06)", "amsgrad=False)"],
                   ["optimizers.png"]),
    "sequence_lessons": ([], ["First-step gradient / last-step gradient:",
                              "Large inputs saturate SimpleRNN's tanh"], ["sequence_gradients.png"]),
    "fashion_mnist": (["--synthetic"], ["Using generated 28x28 images", "Total params: 7,850",
                                        "Epoch 2/2", "val_accuracy", "16/16 - ", "test accuracy"],
                      ["fashion_mnist_grid.png", "fashion_mnist_history.png"]),
    "fashion_mnist_cnn": (["--synthetic"], ["Using generated 28x28 images",
                                            "Total params: 34,826", "Epoch 2/2",
                                            "test accuracy: convnet"],
                          ["fashion_mnist_cnn_history.png", "fashion_mnist_cnn_filters.png",
                           "fashion_mnist_cnn_feature_maps.png"]),
}


def _env(home):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["CHAINRULE_HOME"] = str(home)  # an empty cache: nothing is downloaded in these runs
    env["PYTHONWARNINGS"] = "default"
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every example at once (they are independent), then collect the results."""
    pytest.importorskip("matplotlib", reason="the examples draw their figures (the plot extra)")
    base = tmp_path_factory.mktemp("examples")
    procs = {}
    for name, (extra, _, _) in CASES.items():
        out = base / name
        procs[name] = (out, subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(base),
            env=_env(base / "home")))
    results = {}
    for name, (out, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc.returncode, stdout, stderr, out)
    return results


def test_every_example_is_covered():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_quick(runs, name):
    code, stdout, stderr, out = runs[name]
    assert code == 0, f"{name} failed:\n{stdout[-2000:]}\n{stderr[-4000:]}"
    for needle in CASES[name][1]:
        assert needle in stdout, f"{name}: {needle!r} not in output:\n{stdout[-3000:]}"
    for figure in CASES[name][2]:
        path = out / figure
        assert path.is_file() and path.stat().st_size > 2000, f"{name}: {figure} not written"
    assert "Traceback" not in stderr


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fashion_mnist_reads_a_small_idx_set(tmp_path):
    from chainrule.datasets._idx import encode_idx

    example = _load_example("fashion_mnist")
    (xtr, ytr), (xte, yte) = example.synthetic_fashion(300, 100, seed=1)
    folder = tmp_path / "home" / "datasets" / "fashion_mnist"
    folder.mkdir(parents=True)
    for name, array in (("train-images-idx3-ubyte", xtr), ("train-labels-idx1-ubyte", ytr),
                        ("t10k-images-idx3-ubyte", xte), ("t10k-labels-idx1-ubyte", yte)):
        (folder / name).write_bytes(encode_idx(array))
    proc = subprocess.run([sys.executable, str(EXAMPLES / "fashion_mnist.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=str(tmp_path), check=False,
                          env=_env(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    assert "x_train (300, 28, 28) uint8" in proc.stdout
    assert "Using generated" not in proc.stdout
    assert "4/4 - " in proc.stdout  # evaluate(verbose=2) on the 100 test images


def test_fashion_mnist_says_when_the_data_is_missing(monkeypatch, capsys):
    from chainrule.datasets import DatasetNotFoundError

    example = _load_example("fashion_mnist")

    def offline():
        raise DatasetNotFoundError("Fashion-MNIST is not in the cache and could not be downloaded.")

    monkeypatch.setattr(example.fashion_mnist, "load_data", offline)
    assert example.main(["--quick"]) == 1
    err = capsys.readouterr().err
    assert "Fashion-MNIST is not available" in err and "--synthetic" in err


def test_synthetic_fashion_images():
    example = _load_example("fashion_mnist")
    (xtr, ytr), (xte, _) = example.synthetic_fashion(50, 20, seed=0)
    assert xtr.shape == (50, 28, 28) and xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert xte.shape == (20, 28, 28) and set(np.unique(ytr)) <= set(range(10))

"""examples/fashion_mnist_cnn.py: the convnet lesson runs offline and learns."""

import importlib.util
import re
from pathlib import Path

import numpy as np

import chainrule as cr

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fashion_mnist_cnn.py"


def load_example():
    spec = importlib.util.spec_from_file_location("fashion_mnist_cnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_quick_run_trains_the_convnet_and_the_dense_baseline(capsys, monkeypatch,
                                                                      tmp_path):
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path))  # nothing cached: nothing downloaded
    cr.utils.clear_session()  # default layer names as in a fresh process
    assert load_example().main(["--synthetic", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "x_train (2000, 28, 28, 1)" in out and "Total params: 34,826" in out
    assert "conv2d_1 (Conv2D)            (None, 11, 11, 64)        18496" in out
    match = re.search(r"test accuracy: convnet ([0-9.]+), seed 003's dense model ([0-9.]+)", out)
    assert match, out
    assert float(match.group(1)) > 0.5  # ten classes: chance is 0.1


def test_the_models_are_keras_io_convnet_and_the_seed_model():
    module = load_example()
    cnn, dense = module.convnet(), module.dense()
    assert cnn.count_params() == 34_826 and dense.count_params() == 7_850
    assert cnn.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0).shape == (2, 10)

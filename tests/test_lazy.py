"""The rarer parts of chainrule load on first use, and every name still resolves."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from chainrule import _lazy

PACKAGES = [
    "chainrule", "chainrule.layers", "chainrule.ops", "chainrule.callbacks", "chainrule.utils",
    "chainrule.datasets", "chainrule.saving", "chainrule.distribute", "chainrule.optimizers",
    "chainrule.mixed_precision", "chainrule.preprocessing", "chainrule.visualization",
    "chainrule.utils.bounding_boxes", "chainrule.applications",
]


def run_fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing of chainrule imported yet)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_leaves_the_rarer_parts_unloaded():
    out = run_fresh("""
        import sys
        import chainrule
        print(" ".join(sorted(sys.modules)))
    """).split()
    for module in ("chainrule.layers.rnn", "chainrule.layers.convolutional",
                   "chainrule.layers.attention", "chainrule.layers.preprocessing",
                   "chainrule.ops.rnn", "chainrule.ops.control_flow", "chainrule.ops.numpy",
                   "chainrule.ops.image", "chainrule.datasets.mnist", "chainrule.saving.api",
                   "chainrule.callbacks.tensorboard", "chainrule.callbacks.remote_monitor",
                   "chainrule.explain", "chainrule.distribute.data_parallel",
                   "chainrule.optimizers.adam", "chainrule.optimizers.muon",
                   "urllib.request", "ssl", "difflib", "concurrent.futures"):
        assert module not in out, module
    assert "chainrule.layers.core" in out and "chainrule.models.trainer" in out


def test_a_dense_model_trains_without_loading_the_other_families():
    out = run_fresh("""
        import sys
        import numpy as np
        import chainrule as cr
        model = cr.Sequential([cr.layers.Dense(4, activation="relu", input_dim=3),
                               cr.layers.Dropout(0.1), cr.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        x = np.zeros((64, 3), "float32"); y = np.zeros(64, "int64")
        model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0)
        model.evaluate(x, y, verbose=0); model.predict(x, verbose=0)
        print(" ".join(sorted(sys.modules)))
    """).split()
    for module in ("chainrule.layers.rnn", "chainrule.layers.convolutional",
                   "chainrule.ops.rnn", "chainrule.saving.api", "chainrule.datasets.mnist",
                   "chainrule.optimizers.sgd", "chainrule.optimizers.lion"):
        assert module not in out, module


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_and_is_listed(package):
    module = importlib.import_module(package)
    names = set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in names, name


def test_names_load_in_a_fresh_process_by_every_route():
    out = run_fresh("""
        import chainrule as cr
        from chainrule.layers import LSTM
        from chainrule.datasets import mnist
        from chainrule.callbacks import EarlyStopping
        from chainrule.ops import image, numpy as knp
        import chainrule.saving
        layer = cr.layers.deserialize({"class_name": "Conv2D",
                                       "config": {"filters": 2, "kernel_size": 3}})
        print(type(layer).__name__, LSTM.__name__, mnist.__name__, EarlyStopping.__name__)
        print(knp.mean is cr.ops.mean, hasattr(cr.ops.lstm, "__wrapped_op__"),
              cr.saving.ModelCheckpoint is cr.callbacks.ModelCheckpoint,
              cr.ops.conv.__name__, callable(cr.ops.scan))
    """).split()
    assert out == ["Conv2D", "LSTM", "chainrule.datasets.mnist", "EarlyStopping",
                   "True", "True", "True", "conv", "True"]


def test_a_lazily_loaded_op_records_on_symbolic_tensors_and_reloads_from_a_file(tmp_path):
    out = run_fresh(f"""
        import numpy as np
        import chainrule as cr
        inputs = cr.Input((5,))
        outputs = cr.ops.cumsum(cr.ops.logaddexp(inputs, inputs), axis=1)
        model = cr.Model(inputs, outputs)
        path = {str(tmp_path / "m.keras")!r}
        model.save(path)
        print(model.predict(np.ones((1, 5), "float32"), verbose=0).tolist())
    """)
    again = run_fresh(f"""
        import numpy as np
        import chainrule as cr
        model = cr.saving.load_model({str(tmp_path / "m.keras")!r})
        print(model.predict(np.ones((1, 5), "float32"), verbose=0).tolist())
    """)
    assert out == again
    expected = np.cumsum(np.full(5, 1 + np.log(2)))  # log(e + e) = 1 + log 2, summed
    np.testing.assert_allclose(json.loads(out)[0], expected, rtol=1e-6)


def test_attach_loads_once_and_keeps_the_value():
    namespace = {"__name__": "chainrule.layers"}
    seen = []
    _lazy.attach(namespace, {".rnn": ["LSTM"], "chainrule.layers.core": ["Dense"]},
                 submodules=("pooling",), wrap=lambda name, value: seen.append(name) or value)
    getattr_ = namespace["__getattr__"]
    from chainrule.layers.rnn import LSTM

    assert getattr_("LSTM") is LSTM and namespace["LSTM"] is LSTM
    assert getattr_("pooling").__name__ == "chainrule.layers.pooling"
    assert seen == ["LSTM"]  # modules are not wrapped
    assert {"LSTM", "Dense", "pooling"} <= set(namespace["__dir__"]())
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        getattr_("Nope")


def test_attach_refuses_a_name_given_twice():
    with pytest.raises(ValueError, match=r"'LSTM' is given twice.*Received: chainrule.layers.x"):
        _lazy.attach({"__name__": "chainrule.layers"}, {".rnn": ["LSTM"], ".x": ["LSTM"]})

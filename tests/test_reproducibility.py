"""Reproducibility: ``set_random_seed(n)`` makes whole training runs bit-identical on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr

REPO = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import chainrule as cr

    seed, out = int(sys.argv[1]), sys.argv[2]
    cr.utils.set_random_seed(seed)
    x = np.random.normal(size=(64, 5)).astype("float32")     # NumPy's global generator, seeded too
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    model = cr.Sequential([cr.layers.Dense(16, input_dim=5, activation="relu"),
                           cr.layers.Dropout(0.4),
                           cr.layers.Dense(8, activation="tanh"),
                           cr.layers.Dropout(0.2),
                           cr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=cr.optimizers.Adam(0.01),
                  loss=cr.losses.SparseCategoricalCrossentropy())
    model.fit(x, y, epochs=4, batch_size=8, shuffle=True, validation_split=0.25, verbose=0)
    np.savez(out, *model.get_weights())
""")


def _run(tmp_path, seed, name):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CHAINRULE_BACKEND", None)
    env["PYTHONHASHSEED"] = "random"  # hash randomization must not matter
    out = tmp_path / f"{name}.npz"
    result = subprocess.run([sys.executable, str(script), str(seed), str(out)], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    with np.load(out) as f:
        return [f[k] for k in f.files]


def test_same_seed_in_two_processes_gives_bit_identical_weights(tmp_path):
    first = _run(tmp_path, 7, "first")
    second = _run(tmp_path, 7, "second")
    assert len(first) == len(second) == 6
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    other = _run(tmp_path, 8, "other")
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def _train_in_process(seed):
    cr.utils.set_random_seed(seed)
    x = np.random.normal(size=(32, 3)).astype("float32")
    y = np.random.normal(size=(32, 1)).astype("float32")
    model = cr.Sequential([cr.layers.Dense(6, input_dim=3, activation="relu"),
                           cr.layers.Dropout(0.5), cr.layers.Dense(1)])
    model.compile(optimizer=cr.optimizers.SGD(0.05, momentum=0.9),
                  loss=cr.losses.MeanSquaredError())
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=True, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_same_seed_in_one_process():
    (w1, h1), (w2, h2) = _train_in_process(3), _train_in_process(3)
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))


def test_random_state_round_trip_replays_draws():
    cr.utils.set_random_seed(1)
    state = cr.backend.get_random_state()
    first = cr.backend.rng().random(5)
    cr.backend.set_random_state(state)
    assert np.array_equal(cr.backend.rng().random(5), first)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seeds(seed):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer\. Received: seed="):
        cr.utils.set_random_seed(seed)

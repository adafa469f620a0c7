"""``optimizer.iterations`` as Keras 3 has it: a Variable (int64, not trainable)."""

import io
import math
import os
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.optimizers import SGD, Adam
from chainrule.optimizers.schedules import ExponentialDecay


class Var:
    def __init__(self, data, name="w"):
        self.data, self.name = data, name


def _model(optimizer="adam"):
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.Input((4,)), cr.layers.Dense(3)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _data(n=20):
    rng = np.random.default_rng(0)
    return rng.random((n, 4), dtype=np.float32), rng.random((n, 3), dtype=np.float32)


def test_iterations_is_an_int64_variable_that_is_not_trained():
    opt = Adam()
    it = opt.iterations
    assert isinstance(it, cr.Variable)
    assert it.dtype == np.int64 and it.shape == () and it.trainable is False
    assert not it.requires_grad and it.path == "adam/iteration" and it.name == "iteration"
    assert opt.iterations is it  # the same Variable every time, as in Keras
    assert repr(it) == "<Variable path=adam/iteration, shape=(), dtype=int64, value=0>"


def test_counting_reading_and_arithmetic():
    opt = SGD(0.1)
    w = Var(np.zeros(2))
    for _ in range(3):
        returned = opt.apply_gradients([(np.ones(2), w)])
        assert returned is opt.iterations
    it = opt.iterations
    assert int(it) == 3 and float(it) == 3.0 and it.numpy() == np.array(3)
    assert it.numpy().dtype == np.int64 and it.numpy() is not it.data  # a copy
    assert it == 3 and it != 4 and it > 2 and it >= 3 and it < 4 and it <= 3
    assert 3 == it and 4 > it  # noqa: SIM300 - the reflected forms
    assert it + 1 == 4 and 1 + it == 4 and it - 1 == 2 and 10 - it == 7 and it * 2 == 6
    assert it // 2 == 1 and it % 2 == 1 and 7 % it == 1 and it**2 == 9 and it / 2 == 1.5
    assert -it == -3 and abs(it) == 3
    assert isinstance(it + 1, np.integer) and isinstance(it == 3, np.bool_)
    assert f"step {it}" == "step 3" and f"{it:04d}" == "0003"
    assert list(range(it)) == [0, 1, 2] and [10, 20, 30, 40][it] == 40  # __index__
    assert math.isclose(np.float32(0.9) ** it, 0.9**3, rel_tol=1e-6)
    with pytest.raises(TypeError, match="cannot be used as a boolean"):
        bool(it)
    assert it in {it}  # still hashable (by identity)


def test_assign_sets_the_count_the_step_scalars_follow():
    """Adam's bias correction and a schedule read the assigned count, as in Keras."""
    w1, w2 = Var(np.array([1.0, -2.0])), Var(np.array([1.0, -2.0]))
    g = np.array([0.3, -0.1])
    a, b = Adam(0.1), Adam(0.1)
    a.build([w1])
    b.build([w2])
    a.iterations.assign(7)
    b.set_state({**b.get_state(), "iterations": np.asarray(7)})
    assert a.iterations == b.iterations == 7
    a.apply_gradients([(g, w1)])
    b.apply_gradients([(g, w2)])
    np.testing.assert_array_equal(w1.data, w2.data)
    assert a.iterations == 8
    # t = 8 here: the first update from zero moments with bias correction at t = 8
    m, v = 0.1 * g, 0.001 * g * g
    alpha = 0.1 * math.sqrt(1 - 0.999**8) / (1 - 0.9**8)
    np.testing.assert_allclose(w1.data, np.array([1.0, -2.0]) - alpha * m / (np.sqrt(v) + 1e-7),
                               rtol=1e-12)
    sched = ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = SGD(sched)
    opt.iterations.assign(3)
    assert opt.learning_rate == pytest.approx(0.125)
    opt.iterations.assign_add(1)
    assert opt.learning_rate == pytest.approx(0.0625) and opt.iterations == 4
    with pytest.raises(ValueError, match=r"Cannot assign a value of shape \(2,\)"):
        opt.iterations.assign([1, 2])


def test_gradient_accumulation_counts_updates():
    opt = SGD(0.1, gradient_accumulation_steps=3)
    w = Var(np.zeros(2))
    for _ in range(7):
        opt.apply_gradients([(np.ones(2), w)])
    it = opt.iterations
    assert isinstance(it, cr.Variable) and it.dtype == np.int64
    assert it == 2 and int(it) == 2 and opt.get_state()["iterations"] == 7  # calls
    assert repr(opt) == "<SGD name='sgd' learning_rate=0.1 iterations=2>"


def test_fit_counts_one_per_step_in_the_captured_step_and_on_the_tape():
    x, y = _data(20)
    model = _model()
    model.fit(x, y, batch_size=5, epochs=3, verbose=0)
    assert model.optimizer.iterations == 12
    assert any(e.program is not None for k, e in model._steps.entries.items() if k[0] == "train")
    seen = []

    class Record(cr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(int(self.model.optimizer.iterations))

    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[Record()])
    assert seen == [13, 14, 15, 16]


def test_saved_and_restored_with_the_optimizer(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:  # the file's form is unchanged: an int64 scalar
        saved = np.load(io.BytesIO(z.read("optimizer.npz")), allow_pickle=False)["iterations"]
    assert saved.dtype == np.int64 and saved.shape == () and saved == 10
    loaded = cr.saving.load_model(path)
    assert isinstance(loaded.optimizer.iterations, cr.Variable)
    assert loaded.optimizer.iterations == 10
    loaded.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert loaded.optimizer.iterations == 15


def test_a_file_saved_when_the_count_was_an_int_still_loads():
    """tools/record_optimizer_state_file.py wrote it before iterations became a Variable."""
    path = os.path.join(os.path.dirname(__file__), "fixtures", "optimizer_state_adam.keras")
    model = cr.saving.load_model(path)
    it = model.optimizer.iterations
    assert isinstance(it, cr.Variable) and it.dtype == np.int64 and it == 6
    x, y = _data(12)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert model.optimizer.iterations == 9 and model.optimizer.iterations is it


def test_backup_and_restore_resumes_the_count(tmp_path):
    x, y = _data()

    class Stop(cr.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    backup = str(tmp_path / "backup")
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=4, verbose=0,
                  callbacks=[cr.callbacks.BackupAndRestore(backup), Stop()])
    resumed = _model()
    it = resumed.optimizer.iterations
    history = resumed.fit(x, y, batch_size=4, epochs=4, verbose=0,
                          callbacks=[cr.callbacks.BackupAndRestore(backup)])
    assert history.epoch == [2, 3]
    assert resumed.optimizer.iterations == 20
    assert resumed.optimizer.iterations is it  # restored in place


def test_checkpoint_weights_and_optimizer_round_trip(tmp_path):
    x, y = _data()
    model = _model(SGD(0.01, momentum=0.9))
    model.fit(x, y, batch_size=10, epochs=3, verbose=0)
    path = str(tmp_path / "best.keras")
    model.fit(x, y, batch_size=10, epochs=1, verbose=0,
              callbacks=[cr.callbacks.ModelCheckpoint(path)])
    assert cr.saving.load_model(path).optimizer.iterations == 8

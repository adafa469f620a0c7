"""ModelCheckpoint and BackupAndRestore: Keras semantics, atomic saves, exact resume after SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule.callbacks import backup_and_restore
from chainrule.saving import (
    BackupAndRestore,
    InvalidArchiveError,
    ModelCheckpoint,
    load_model,
)

layers = cr.layers
REPO = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, size=n)


def _model(dropout=0.3):
    model = cr.Sequential([layers.Dense(8, input_dim=4, activation="relu"), layers.Dropout(dropout),
                           layers.Dense(3, activation="softmax")])
    model.compile(optimizer=cr.optimizers.Adam(0.01),
                  loss=cr.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


def _fit(model, callbacks, epochs=3, **kwargs):
    x, y = _data()
    kwargs.setdefault("validation_split", 0.25)
    return model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks, **kwargs)


# --------------------------------------------------------------------------- ModelCheckpoint


def test_saves_every_epoch_with_formatted_names(tmp_path):
    pattern = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras")
    history = _fit(_model(), [ModelCheckpoint(pattern)])
    names = sorted(os.listdir(tmp_path / "ckpt"))
    expected = [f"{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])]
    assert names == sorted(expected)
    assert load_model(tmp_path / "ckpt" / expected[-1]).compiled


def test_save_best_only_messages_and_files(tmp_path, capsys):
    path = str(tmp_path / "best.keras")
    ckpt = ModelCheckpoint(path, monitor="loss", save_best_only=True, verbose=1)
    ckpt.set_model(_model())
    ckpt.on_epoch_end(0, {"loss": 0.5})
    ckpt.on_epoch_end(1, {"loss": 0.7})
    ckpt.on_epoch_end(2, {"loss": 0.25})
    out = capsys.readouterr().out
    assert f"\nEpoch 1: loss improved from inf to 0.50000, saving model to {path}\n" in out
    assert f"\nEpoch 1: finished saving model to {path}\n" in out
    assert "\nEpoch 2: loss did not improve from 0.50000\n" in out
    assert "\nEpoch 3: loss improved from 0.50000 to 0.25000, saving model to" in out
    assert ckpt.best == 0.25 and os.path.exists(path)


def test_mode_max_threshold_and_verbose_every_save(tmp_path, capsys):
    ckpt = ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_accuracy", save_best_only=True,
                           initial_value_threshold=0.8, verbose=1)
    assert ckpt.monitor_op is np.greater and ckpt.best == 0.8
    ckpt.set_model(_model())
    ckpt.on_epoch_end(0, {"val_accuracy": 0.7})
    assert not os.path.exists(tmp_path / "m.keras")
    ckpt.on_epoch_end(1, {"val_accuracy": 0.9})
    assert os.path.exists(tmp_path / "m.keras")
    assert "val_accuracy did not improve from 0.80000" in capsys.readouterr().out
    plain = ModelCheckpoint(str(tmp_path / "p.keras"), verbose=1)
    plain.set_model(_model())
    plain.on_epoch_end(4, {})
    assert f"\nEpoch 5: saving model to {tmp_path / 'p.keras'}\n" in capsys.readouterr().out


def test_missing_monitor_warns_and_saves(tmp_path):
    ckpt = ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_auc", save_best_only=True)
    ckpt.set_model(_model())
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available"):
        ckpt.on_epoch_end(0, {"loss": 1.0})
    assert os.path.exists(tmp_path / "m.keras")


def test_weights_only_and_extensions(tmp_path):
    _fit(_model(), [ModelCheckpoint(str(tmp_path / "w{epoch}.weights.npz"),
                                    save_weights_only=True)], epochs=2)
    assert sorted(os.listdir(tmp_path)) == ["w1.weights.npz", "w2.weights.npz"]
    with pytest.raises(ValueError, match=r"must end in `\.weights\.npz`.*Received: filepath=w\.h5"):
        ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`.*Received: filepath=model\.hdf5"):
        ModelCheckpoint("model.hdf5")
    for bad in ("batch", 0, -2, 1.5, True):
        with pytest.raises(ValueError, match=r"save_freq.*Received: save_freq="):
            ModelCheckpoint("m.keras", save_freq=bad)
    with pytest.raises(ValueError, match="mode"):
        ModelCheckpoint("m.keras", mode="biggest")


def test_integer_save_freq_counts_batches(tmp_path):
    pattern = str(tmp_path / "e{epoch}-b{batch}.keras")
    _fit(_model(), [ModelCheckpoint(pattern, save_freq=4)], epochs=2, validation_split=0.0)
    # 6 batches per epoch: saves after batches 4 of epoch 1, then 2 and 6 of epoch 2.
    assert sorted(os.listdir(tmp_path)) == ["e1-b4.keras", "e2-b2.keras", "e2-b6.keras"]


def test_unknown_format_key_is_a_clear_key_error(tmp_path):
    ckpt = ModelCheckpoint(str(tmp_path / "{epoch}-{val_acc:.2f}.keras"))
    ckpt.set_model(_model())
    with pytest.raises(KeyError, match=r"Failed to format this callback filepath.*val_acc"):
        ckpt.on_epoch_end(0, {"loss": 1.0})


def test_directory_filepath(tmp_path):
    (tmp_path / "d.keras").mkdir()
    ckpt = ModelCheckpoint(str(tmp_path / "d.keras"))
    ckpt.set_model(_model())
    with pytest.raises(IsADirectoryError, match="non-directory filepath"):
        ckpt.on_epoch_end(0, {})


# --------------------------------------------------------------------------- BackupAndRestore


class _Interrupt(cr.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("interrupted")


def _run(backup_dir, interrupt=None, epochs=6):
    cr.utils.set_random_seed(0)
    model = _model()
    callbacks = [BackupAndRestore(backup_dir)]
    if interrupt:
        callbacks.append(_Interrupt(*interrupt))
    return model, _fit(model, callbacks, epochs=epochs, shuffle=True)


def test_resume_in_process_is_exact(tmp_path):
    reference, ref_history = _run(tmp_path / "ref")
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "bk", interrupt=(3, 2))
    assert os.listdir(tmp_path / "bk") == ["training_state.zip"]
    resumed, history = _run(tmp_path / "bk")
    assert history.epoch == [3, 4, 5]
    assert history.history == ref_history.history
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert not os.path.exists(tmp_path / "bk")  # deleted once training completed


def test_seeded_dropout_generator_is_restored(tmp_path):
    def run(interrupt=None):
        cr.utils.set_random_seed(0)
        model = cr.Sequential([layers.Dense(8, input_dim=4), layers.Dropout(0.5, seed=11),
                               layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss=cr.losses.SparseCategoricalCrossentropy())
        cbs = [BackupAndRestore(tmp_path / "b")] + ([_Interrupt(*interrupt)] if interrupt else [])
        _fit(model, cbs, epochs=4, validation_split=0.0)
        return model.get_weights()

    reference = run()
    with pytest.raises(KeyboardInterrupt):
        run(interrupt=(2, 1))
    assert all(np.array_equal(a, b) for a, b in zip(reference, run()))


def test_keep_backup_and_finished_runs(tmp_path):
    model = _model()
    _fit(model, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)], epochs=2)
    assert os.listdir(tmp_path / "b") == ["training_state.zip"]
    # Everything was done: a new fit with the same command trains no more epochs.
    weights = model.get_weights()
    history = _fit(model, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)], epochs=2)
    assert history.epoch == [] and len(history.history["loss"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_backup_dir_keeps_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    _fit(_model(), [BackupAndRestore(tmp_path)], epochs=1)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_failed_run_keeps_its_backup(tmp_path):
    class Nan(cr.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.layers[0].kernel.data[...] = np.nan

    with pytest.raises(FloatingPointError):
        _fit(_model(), [BackupAndRestore(tmp_path / "b"), Nan()], epochs=3)
    assert os.listdir(tmp_path / "b") == ["training_state.zip"]


def test_crash_mid_backup_keeps_the_previous_one(tmp_path, monkeypatch):
    real = backup_and_restore._write_npz_member
    calls = []

    def flaky(zf, name, arrays):
        calls.append(name)
        if len(calls) > 2:  # the second backup (weights + optimizer for the first)
            raise OSError("disk full")
        real(zf, name, arrays)

    monkeypatch.setattr(backup_and_restore, "_write_npz_member", flaky)
    model = _model()
    with pytest.raises(OSError, match="disk full"):
        _fit(model, [BackupAndRestore(tmp_path / "b")], epochs=3)
    assert os.listdir(tmp_path / "b") == ["training_state.zip"]
    monkeypatch.setattr(backup_and_restore, "_write_npz_member", real)
    history = _fit(_model(), [BackupAndRestore(tmp_path / "b")], epochs=3)
    assert history.epoch == [1, 2] and len(history.history["loss"]) == 3


def test_integer_save_freq_backs_up_during_the_epoch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [BackupAndRestore(tmp_path / "b", save_freq=2), _Interrupt(1, 3)],
             epochs=3, validation_split=0.0)
    history = _fit(_model(), [BackupAndRestore(tmp_path / "b", save_freq=2)], epochs=3,
                   validation_split=0.0)
    assert history.epoch == [1, 2]


def test_invalid_arguments_and_states(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`.*Received: backup_dir=''"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq="often")
    (tmp_path / "training_state.zip").write_bytes(b"garbage")
    with pytest.raises(InvalidArchiveError, match="is not a chainrule training backup"):
        _fit(_model(), [BackupAndRestore(tmp_path)], epochs=1)
    unbuilt = cr.Sequential([layers.Dense(2)])
    unbuilt.compile(optimizer="sgd", loss=cr.losses.MeanSquaredError())
    cb = BackupAndRestore(tmp_path)
    cb.set_model(unbuilt)
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        cb.on_train_begin()


_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    import numpy as np
    import chainrule as cr
    from chainrule.saving import BackupAndRestore

    out, backup = sys.argv[1], sys.argv[2]
    kill_at = os.environ.get("CHAINRULE_TEST_KILL_AT")
    cr.utils.set_random_seed(0)
    data = np.random.default_rng(42)
    x = data.normal(size=(60, 4)).astype("float32")
    y = data.integers(0, 3, size=60)
    model = cr.Sequential([cr.layers.Dense(16, input_dim=4, activation="relu"),
                           cr.layers.Dropout(0.3), cr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=cr.optimizers.Adam(0.01),
                  loss=cr.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])

    class Killer(cr.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            if kill_at is not None and (self.epoch, batch) == (3, int(kill_at)):
                os.kill(os.getpid(), signal.SIGKILL)  # this process only

    history = model.fit(x, y, epochs=6, batch_size=8, shuffle=True, validation_split=0.2,
                        verbose=0, callbacks=[BackupAndRestore(backup), Killer()])
    np.savez(os.path.join(out, "weights.npz"), *model.get_weights())
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump({"history": history.history, "epoch": history.epoch}, f)
""")


def _script(tmp_path, out, backup, kill_at=None):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CHAINRULE_TEST_KILL_AT", None)
    if kill_at is not None:
        env["CHAINRULE_TEST_KILL_AT"] = str(kill_at)
    os.makedirs(out, exist_ok=True)
    return subprocess.run([sys.executable, str(script), str(out), str(backup)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_epoch_then_rerun_is_bit_identical(tmp_path):
    ref = _script(tmp_path, tmp_path / "ref", tmp_path / "bk_ref")
    assert ref.returncode == 0, ref.stderr
    killed = _script(tmp_path, tmp_path / "run", tmp_path / "bk", kill_at=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert os.listdir(tmp_path / "bk") == ["training_state.zip"]
    assert not os.path.exists(tmp_path / "run" / "weights.npz")
    resumed = _script(tmp_path, tmp_path / "run", tmp_path / "bk")
    assert resumed.returncode == 0, resumed.stderr
    with np.load(tmp_path / "ref" / "weights.npz") as a, np.load(tmp_path / "run" / "weights.npz") as b:
        assert a.files == b.files
        for key in a.files:
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
    ref_h = json.loads((tmp_path / "ref" / "history.json").read_text())
    run_h = json.loads((tmp_path / "run" / "history.json").read_text())
    assert run_h["history"] == ref_h["history"] and len(run_h["history"]["loss"]) == 6
    assert run_h["epoch"] == [3, 4, 5]
    assert not os.path.exists(tmp_path / "bk")
    assert not re.search(r"Traceback", resumed.stderr)

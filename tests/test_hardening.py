"""Hardening: atomic steps under Ctrl-C, bounded loading, checked state, threads, clear errors.

Each test here failed before the fix it covers (see the section headers).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import InvalidArchiveError


@pytest.fixture(autouse=True)
def _python_sigint_handler():
    """Python's own SIGINT handler, as in an interactive run: a process started in the
    background by a shell inherits SIGINT ignored, and Python then leaves it ignored (so
    Ctrl-C could not reach it at all, and nothing here would be tested)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

L = cr.layers
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_model(compile=True, optimizer="adam"):  # noqa: A002
    model = cr.Sequential([L.Dense(4, input_dim=5, activation="relu", name="hidden"),
                           L.Dense(3, activation="softmax", name="out")])
    if compile:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


X = np.random.default_rng(0).random((40, 5)).astype("float32")
Y = np.arange(40) % 3


# -- files that are not regular files are refused at once (FIFO, socket, device) -----------------


def _run_with_deadline(fn, seconds=10.0):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}

    def target():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "the call blocked"
    return box.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("call", ["load_model", "load_weights", "read_weights"])
def test_fifo_refused_without_blocking(tmp_path, call):
    path = str(tmp_path / ("pipe.keras" if call == "load_model" else "pipe.weights.npz"))
    os.mkfifo(path)
    model = small_model()
    fns = {"load_model": lambda: cr.saving.load_model(path),
           "load_weights": lambda: model.load_weights(path),
           "read_weights": lambda: cr.saving.read_weights(path)}
    err = _run_with_deadline(fns[call])
    assert isinstance(err, InvalidArchiveError), err
    assert "FIFO" in str(err) and "Received: filepath=" in str(err)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
def test_socket_refused(tmp_path):
    path = str(tmp_path / "s.keras")
    srv = socket.socket(socket.AF_UNIX)
    try:
        srv.bind(path)
        err = _run_with_deadline(lambda: cr.saving.load_model(path))
    finally:
        srv.close()
    assert isinstance(err, InvalidArchiveError), err
    assert "socket" in str(err)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_character_device_refused():
    err = _run_with_deadline(lambda: cr.saving.read_weights("/dev/zero"))
    assert isinstance(err, InvalidArchiveError), err
    assert "character device" in str(err)


# -- stale temporaries of a killed save are cleaned by the next save -----------------------------

_HOLD_TEMPORARY = textwrap.dedent("""
    import sys, time
    from chainrule.saving.atomic import _create_temporary
    fd, tmp = _create_temporary(sys.argv[1], "model.keras")
    print(tmp, flush=True)
    time.sleep(600)
""")


def _writer(directory):
    """A process in the middle of a save: it holds a temporary, as atomic_write does."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_TEMPORARY, str(directory)],
                            stdout=subprocess.PIPE, text=True, env=env)
    tmp = proc.stdout.readline().strip()
    assert os.path.exists(tmp)
    return proc, tmp


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")
def test_temporary_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    proc, tmp = _writer(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(tmp)  # what a kill -9 mid-save leaves
    small_model().save(str(tmp_path / "model.keras"))
    assert not os.path.exists(tmp)
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and locks")
def test_temporary_of_a_live_save_is_kept(tmp_path):
    proc, tmp = _writer(tmp_path)
    try:
        small_model().save(str(tmp_path / "model.keras"))
        assert os.path.exists(tmp)  # another process is still writing it
    finally:
        proc.kill()
        proc.wait()


def test_other_files_are_never_cleaned(tmp_path):
    keep = [".notes.txt.0123456789ab.tmp", ".model.keras.tmp", "model.keras.0123456789ab.tmp",
            ".model.keras.0123456789abc.tmp"]
    for name in keep:
        (tmp_path / name).write_bytes(b"x")
    small_model().save(str(tmp_path / "model.keras"))
    assert sorted(os.listdir(tmp_path)) == sorted(keep + ["model.keras"])


def test_backup_and_restore_cleans_a_killed_backup(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    stale = backup / ".training_state.zip.00000000abcd.tmp"
    stale.write_bytes(b"partial")
    model = small_model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[cr.callbacks.BackupAndRestore(str(backup))])
    assert not stale.exists()


# -- Ctrl-C: a step is atomic (the model equals the one after some whole step) -------------------


def _deep_model():
    """31 layers trained with Adam: many weights, so an update takes a while to apply."""
    cr.utils.set_random_seed(7)
    layers = [L.Dense(128, activation="relu", input_dim=16)]
    layers += [L.Dense(128, activation="relu") for _ in range(29)]
    layers += [L.Dense(4, activation="softmax")]
    model = cr.Sequential(layers)
    model.compile(optimizer=cr.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


XI = np.random.default_rng(1).random((256, 16)).astype("float32")
BI = 4  # small batches: the update of the weights is a large part of each step
YI = np.arange(256) % 4


def _fingerprint(model):
    import hashlib  # noqa: PLC0415

    h = hashlib.sha1()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    state = model.optimizer.get_state()
    for key in sorted(state):
        h.update(key.encode())
        h.update(np.ascontiguousarray(state[key]).tobytes())
    return int(model.optimizer.iterations), h.hexdigest()


def _reference_fingerprints(steps):
    """The state after each whole step of an uninterrupted run (step 0: before training),
    and the seconds a plain run of as many steps takes."""
    import time  # noqa: PLC0415

    epochs = -(-steps // (len(XI) // BI))
    plain = _deep_model()
    t0 = time.perf_counter()
    plain.fit(XI, YI, batch_size=BI, epochs=epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - t0
    model = _deep_model()
    model.build((None, 16))
    model._step_factory().pack(model._trainable_vars())
    model.optimizer.build(model._trainable_vars())
    prints = {0: _fingerprint(model)[1]}

    def snap(batch, logs):
        it, h = _fingerprint(model)
        prints[it] = h

    model.fit(XI, YI, batch_size=BI, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[cr.callbacks.LambdaCallback(on_train_batch_end=snap)])
    return prints, seconds


def _interrupted(fn, seconds):
    """Run ``fn`` with a real SIGINT sent after ``seconds``; True if ``fn`` was interrupted."""
    import time  # noqa: PLC0415

    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    interrupted = False
    try:
        fn()
    except KeyboardInterrupt:
        interrupted = True
    while True:  # the signal may come after fn returned: absorb it here
        try:
            timer.join()
            time.sleep(0.02)
            break
        except KeyboardInterrupt:
            pass
    return interrupted


def _lost_interrupt(seconds):
    """A callback that fails the test (instead of training for 1,000 epochs) when the
    interrupt, due after at most ``seconds``, has not stopped fit well after it."""
    import time  # noqa: PLC0415

    start = time.perf_counter()

    def check(epoch, logs):
        if time.perf_counter() - start > 30 + 2 * seconds:
            raise AssertionError("the SIGINT sent during fit was lost: fit is still training")

    return cr.callbacks.LambdaCallback(on_epoch_end=check)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_fit_leaves_the_state_of_a_whole_step():
    rng = np.random.default_rng(0)
    prints, seconds = _reference_fingerprints(400)
    checked = 0
    for _ in range(12):
        model = _deep_model()
        _interrupted(lambda m=model: m.fit(XI, YI, batch_size=BI, epochs=1000, shuffle=False,
                                           verbose=0, callbacks=[_lost_interrupt(seconds)]),
                     rng.uniform(0.05, 0.7) * seconds)
        if not model.built or not model.optimizer.built:
            continue
        it, h = _fingerprint(model)
        if it not in prints:
            continue  # interrupted later than the reference run went
        assert h == prints[it], f"the state after the interrupt is not that of step {it}"
        checked += 1
    assert checked >= 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _SlowCount(cr.metrics.Metric):
    """Counts samples, slowly (a metric whose update takes a while, like a costly one)."""

    def __init__(self, name="slow_count", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        import time  # noqa: PLC0415

        time.sleep(0.002)
        self.count += len(y_true)

    def result(self):
        return self.count

    def reset_state(self):
        self.count = 0.0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_evaluate_leaves_consistent_metrics():
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=[_SlowCount()])
    x, y = np.concatenate([X] * 20), np.concatenate([Y] * 20)
    rng = np.random.default_rng(1)
    for _ in range(8):
        _interrupted(lambda: model.evaluate(x, y, batch_size=8, verbose=0),
                     rng.uniform(0.01, 0.15))
        assert model._loss_tracker.count == model.metrics[1].count, (
            "the loss was tracked for a batch the metric missed")


def test_ctrl_c_handler_only_in_the_main_thread_and_restored():
    seen = []

    def custom(signum, frame):
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, custom)
    try:
        model = small_model()
        probe = cr.callbacks.LambdaCallback(
            on_train_batch_end=lambda b, logs: seen.append(signal.getsignal(signal.SIGINT)))
        model.fit(X, Y, epochs=1, batch_size=20, verbose=0, callbacks=[probe])
        assert seen and seen[0] is not custom  # deferred while fitting
        assert signal.getsignal(signal.SIGINT) is custom  # put back afterwards
        errors = []

        def in_thread():
            try:
                model.fit(X, Y, epochs=1, verbose=0)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=in_thread)
        t.start()
        t.join()
        assert not errors
        assert signal.getsignal(signal.SIGINT) is custom
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_deferred_interrupt_reaches_the_previous_handler_after_the_step():
    calls = []

    def custom(signum, frame):
        calls.append(int(model.optimizer.iterations))

    previous = signal.signal(signal.SIGINT, custom)
    try:
        model = small_model()
        model.build((None, 5))
        fired = []

        class Kill(cr.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                if not fired:
                    fired.append(batch)
                    os.kill(os.getpid(), signal.SIGINT)  # arrives before the step starts

        model.fit(X, Y, epochs=1, batch_size=10, verbose=0, callbacks=[Kill()])
        assert calls == [0]  # delivered before the step began (not inside one)
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_interrupt_between_steps_is_raised_by_the_loop_not_where_it_landed():
    """Python runs a signal handler wherever the main thread is, a weakref callback or a
    finalizer included, where a raised KeyboardInterrupt would be swallowed: the handler
    only records it, and the next step's begin() raises it."""
    import weakref

    from chainrule.models.trainer import _AtomicSteps

    class Thing:
        pass

    raised_in_callback = []

    def on_collect(ref):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs inside this callback
            for _ in range(1000):  # bytecodes, so the handler surely runs here
                pass
        except KeyboardInterrupt:
            raised_in_callback.append(True)

    with _AtomicSteps() as atomic:
        thing = Thing()
        ref = weakref.ref(thing, on_collect)
        del thing  # the callback runs now
        assert ref() is None and raised_in_callback == []
        with pytest.raises(KeyboardInterrupt):
            atomic.begin()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- a non-finite learning rate, non-finite gradients ---------------------------------------------


class _BreaksAt(cr.optimizers.schedules.LearningRateSchedule):
    """0.01, then NaN from step ``at`` on (a schedule with a bug)."""

    def __init__(self, at=3, value=float("nan")):
        self.at, self.value = at, value

    def __call__(self, step):
        return 0.01 if step < self.at else self.value

    def get_config(self):
        return {"at": self.at, "value": self.value}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("on_nan", ["raise", "stop", "ignore"])
def test_non_finite_learning_rate_is_an_error_naming_schedule_and_step(value, on_nan):
    model = small_model(compile=False)
    model.compile(optimizer=cr.optimizers.SGD(_BreaksAt(3, value)),
                  loss="sparse_categorical_crossentropy")
    after3 = small_model(compile=False)
    after3.set_weights(model.get_weights())
    after3.compile(optimizer=cr.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    after3.fit(X, Y, batch_size=10, epochs=1, steps_per_epoch=3, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match=r"became (nan|inf) at step 3 .*_BreaksAt\(at=3.*"
                                         r"Received: learning_rate=(nan|inf)$"):
        model.fit(X, Y, batch_size=10, epochs=2, shuffle=False, verbose=0, on_nan=on_nan)
    assert model.optimizer.iterations == 3
    for a, b in zip(model.get_weights(), after3.get_weights()):
        np.testing.assert_array_equal(a, b)  # the weights of step 3, all finite


def test_non_finite_learning_rate_from_a_callable_names_it():
    def rate():
        return float("nan")

    model = small_model(compile=False)
    model.compile(optimizer=cr.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"became nan at step 0 .*the callable .*rate"):
        model.train_on_batch(X, Y)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


class _Sqrt(L.Layer):
    def call(self, x):
        return cr.ops.sqrt(x)


def _infinite_gradient_model():
    """sqrt at 0: the loss is finite, its gradient is infinite."""
    model = cr.Sequential([L.Dense(1, input_dim=5, kernel_initializer="zeros", name="d"),
                           _Sqrt(name="root")])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_on_nan_stop_keeps_finite_weights_when_only_the_gradients_are_not():
    model = _infinite_gradient_model()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="gradients became"):
        model.fit(X, np.ones((40, 1)), batch_size=10, verbose=0, on_nan="stop")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations == 0


def test_on_nan_raise_names_non_finite_gradients():
    model = _infinite_gradient_model()
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match=r"gradients became NaN or infinite"):
        model.fit(X, np.ones((40, 1)), batch_size=10, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


# -- the same label checks on every path -----------------------------------------------------------


def _binary_model():
    model = cr.Sequential([L.Dense(4, input_dim=5, activation="relu"),
                           L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(X, (Y % 2)[:, None], batch_size=10, epochs=2, verbose=0)  # captured steps
    return model


BAD_BINARY = np.full((10, 1), 2.0)


@pytest.mark.parametrize("path", ["train_on_batch", "test_on_batch", "validation_data",
                                  "generator", "evaluate_generator"])
def test_labels_are_checked_on_every_path(path):
    model = _binary_model()
    before = model.get_weights()
    good = (Y % 2)[:, None]

    def gen(bad_at):
        for i in range(4):
            yield X[10 * i:10 * i + 10], BAD_BINARY if i == bad_at else good[10 * i:10 * i + 10]

    calls = {
        "train_on_batch": lambda: model.train_on_batch(X[:10], BAD_BINARY),
        "test_on_batch": lambda: model.test_on_batch(X[:10], BAD_BINARY),
        "validation_data": lambda: model.fit(X, good, validation_data=(X[:10], BAD_BINARY),
                                             verbose=0),
        "generator": lambda: model.fit(gen(0), verbose=0, steps_per_epoch=4),
        "evaluate_generator": lambda: model.evaluate(gen(2), verbose=0),
    }
    with pytest.raises(ValueError, match=r"binary_crossentropy expects labels in \[0, 1\]"):
        calls[path]()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # refused before any step


@pytest.mark.parametrize("labels", [np.full(10, -1), np.full(10, 1.5), np.full(10, 3),
                                    np.eye(3)[Y[:10]]])
def test_validation_labels_are_refused_before_training(labels):
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(X, Y, validation_data=(X[:10], labels), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- threads: concurrent evaluate on one model -----------------------------------------------------


def test_concurrent_evaluate_returns_the_numbers_of_a_lone_call():
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, Y, epochs=2, verbose=0)
    rng = np.random.default_rng(3)
    sets = [(rng.random((64, 5)).astype("float32"), rng.integers(0, 3, 64)) for _ in range(4)]
    alone = [model.evaluate(x, y, batch_size=8, verbose=0) for x, y in sets]
    results: list = []
    errors: list = []

    def worker(k):
        try:
            for _ in range(5):
                x, y = sets[k % 4]
                results.append((k % 4, model.evaluate(x, y, batch_size=8, verbose=0)))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 40
    for k, got in results:
        assert got == alone[k]


# -- optimizer state read from a file is validated -------------------------------------------------


def _trained_archive(tmp_path, optimizer="adam"):
    model = small_model(optimizer=optimizer)
    model.fit(X, Y, epochs=1, batch_size=10, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    return path


def _rewrite_optimizer_state(path, change):
    """The archive at ``path`` with its optimizer.npz rewritten by ``change(state)``."""
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with np.load(io.BytesIO(members["optimizer.npz"])) as npz:
        state = {k: npz[k] for k in npz.files}
    change(state)
    buf = io.BytesIO()
    np.savez(buf, **state)
    members["optimizer.npz"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("key,value,words", [
    ("learning_rate", -0.1, "positive"),
    ("learning_rate", np.nan, "NaN or infinite"),
    ("learning_rate", np.inf, "NaN or infinite"),
    ("iterations", -5, r"integer in \[0, 2\*\*62\]"),
    ("iterations", 2**62 + 1, r"integer in \[0, 2\*\*62\]"),
    ("iterations", 2.5, r"integer in \[0, 2\*\*62\]"),
    ("velocity/0", "negative", "second moment"),
    ("momentum/1", "nan", "NaN or infinite"),
])
def test_optimizer_state_from_an_archive_is_validated(tmp_path, key, value, words):
    path = _trained_archive(tmp_path)

    def change(state):
        if value == "negative":
            state[key] = -np.abs(state[key]) - 1.0
        elif value == "nan":
            state[key] = np.full_like(state[key], np.nan)
        else:
            state[key] = np.asarray(value)

    _rewrite_optimizer_state(path, change)
    with pytest.raises(InvalidArchiveError, match=rf"m\.keras.*{key}.*{words}|m\.keras.*{words}"):
        cr.saving.load_model(path)


def test_optimizer_state_in_a_backup_is_validated(tmp_path):
    backup = str(tmp_path / "b")
    model = small_model()

    class Stop(cr.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        model.fit(X, Y, epochs=4, verbose=0,
                  callbacks=[cr.callbacks.BackupAndRestore(backup), Stop()])
    _rewrite_optimizer_state(os.path.join(backup, "training_state.zip"),
                             lambda s: s.__setitem__("learning_rate", np.asarray(-1.0)))
    again = small_model()
    with pytest.raises(ValueError, match=r"training_state\.zip.*learning_rate"):
        again.fit(X, Y, epochs=4, verbose=0, callbacks=[cr.callbacks.BackupAndRestore(backup)])


def test_set_state_refuses_iterations_that_would_overflow_on_saving(tmp_path):
    model = small_model()
    model.fit(X, Y, epochs=1, verbose=0)
    state = model.optimizer.get_state()
    state["iterations"] = np.asarray(2**63 - 1)
    with pytest.raises(ValueError, match=r"iterations.*2\*\*62"):
        model.optimizer.set_state(state)
    state["iterations"] = np.asarray(2**62 - 2)
    model.optimizer.set_state(state)
    model.fit(X, Y, epochs=1, verbose=0)  # two more steps: saving still works
    model.save(str(tmp_path / "m.keras"))
    assert cr.saving.load_model(str(tmp_path / "m.keras")).optimizer.iterations == 2**62


# -- clear errors ------------------------------------------------------------------------------------


def test_backup_made_with_another_optimizer_names_folder_and_difference(tmp_path):
    backup = str(tmp_path / "b")

    class Crash(cr.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        small_model(optimizer="adam").fit(X, Y, epochs=3, verbose=0,
                                          callbacks=[cr.callbacks.BackupAndRestore(backup),
                                                     Crash()])
    model = small_model(optimizer="sgd")
    before = model.get_weights()
    with pytest.raises(ValueError) as info:
        model.fit(X, Y, epochs=3, verbose=0, callbacks=[cr.callbacks.BackupAndRestore(backup)])
    message = str(info.value)
    assert backup in message and "'Adam'" in message and "'SGD'" in message
    assert "Delete the folder" in message and "Received: optimizer=SGD" in message
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_dir_that_is_a_file_is_refused_at_creation(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"backup_dir must be a directory.*Received: backup_dir="):
        cr.callbacks.BackupAndRestore(str(path))


@pytest.mark.parametrize("value", [["MyLayer"], "MyLayer", 3])
def test_custom_objects_not_a_mapping(tmp_path, value):
    path = _trained_archive(tmp_path)
    with pytest.raises(TypeError, match=r"custom_objects must be a dict.*Received: custom_objects"):
        cr.saving.load_model(path, custom_objects=value)


@pytest.mark.parametrize("pattern", ["m-{epoch.nope}.keras", "m-{epoch[0]}.keras",
                                     "m-{}.keras", "m-{0}.keras", "m-{epoch.keras"])
def test_checkpoint_format_fields_that_cannot_be_filled(tmp_path, pattern):
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        cr.callbacks.ModelCheckpoint(str(tmp_path / pattern))


def test_checkpoint_runtime_format_errors_are_the_documented_key_error(tmp_path):
    ckpt = cr.callbacks.ModelCheckpoint(str(tmp_path / "m-{loss:d}.keras"), monitor="loss")
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        small_model().fit(X, Y, epochs=1, verbose=0, callbacks=[ckpt])


@pytest.mark.parametrize("make", [
    lambda p: cr.saving.save_model(small_model(), p),
    lambda p: cr.saving.load_model(p),
    lambda p: small_model().save_weights(p),
    lambda p: small_model().load_weights(p),
    lambda p: cr.saving.read_weights(p),
    lambda p: cr.callbacks.ModelCheckpoint(p),
])
@pytest.mark.parametrize("kind", ["bytes", "nul"])
def test_bytes_and_nul_paths_name_filepath(tmp_path, make, kind):
    name = "m.keras" if "load_model" in repr(make) else "m.keras"
    path = str(tmp_path / name)
    bad = os.fsencode(path) if kind == "bytes" else path[:-6] + "\x00" + path[-6:]
    with pytest.raises((TypeError, ValueError), match=r"filepath.*Received: filepath="):
        make(bad)


def test_csv_logger_refuses_line_break_separator_and_bad_filenames(tmp_path):
    for sep in ["\n", "\r", '"']:
        with pytest.raises(ValueError, match=r"separator.*Received: separator="):
            cr.callbacks.CSVLogger(str(tmp_path / "log.csv"), separator=sep)
    with pytest.raises(TypeError, match=r"filename.*Received: filename="):
        cr.callbacks.CSVLogger(os.fsencode(str(tmp_path / "log.csv")))
    with pytest.raises(ValueError, match=r"filename.*NUL.*Received: filename="):
        cr.callbacks.CSVLogger(str(tmp_path / "lo\x00g.csv"))


def test_set_weights_with_strings_names_layer_and_weight():
    model = small_model()
    before = model.get_weights()
    values = [w.copy() for w in before]
    values[3] = np.array(["a", "b", "c"])
    with pytest.raises(TypeError, match=r"Layer 'sequential.*' weight 'out/bias' must be set from "
                                        r"numbers"):
        model.set_weights(values)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- what loading may allocate is bounded before anything is created -------------------------------


def _edit_archive(path, config_change=None, weights=None):
    """Rewrite a saved archive: its config (``config_change(config)``) and/or its weights."""
    import io  # noqa: PLC0415
    import json  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if config_change is not None:
        config = json.loads(members["config.json"])
        config_change(config)
        members["config.json"] = json.dumps(config).encode()
    if weights is not None:
        buf = io.BytesIO()
        np.savez(buf, **weights)
        members["model.weights.npz"] = buf.getvalue()
    members.pop("optimizer.npz", None)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _zero_kernel_archive(tmp_path):
    """A few hundred bytes asking for Dense(2**29) on 0 features: a kernel (0, 2**29)."""
    model = cr.Sequential([L.Dense(4, use_bias=False, input_shape=(0,), name="d")])
    path = str(tmp_path / "zero.keras")
    cr.saving.save_model(model, path, include_optimizer=False)

    def bigger(config):
        config["config"]["layers"][-1]["config"]["units"] = 2**29

    return _edit_archive(path, bigger, {"d/kernel": np.zeros((0, 2**29), "float32")})


def test_zero_sized_kernel_counts_against_the_budget(tmp_path):
    path = _zero_kernel_archive(tmp_path)
    assert os.path.getsize(path) < 2000
    with pytest.raises(cr.saving.UnsafeFileError, match=r"zero\.keras.*kernel.*\(0, 536870912\)"
                                                         r".*zero-sized dimension counted as 1"):
        cr.saving.load_model(path)


def test_the_budget_is_overridable(tmp_path):
    import dataclasses  # noqa: PLC0415

    path = _zero_kernel_archive(tmp_path)
    roomy = dataclasses.replace(cr.saving.Limits(), min_build_bytes=2**32)
    model = cr.saving.load_model(path, limits=roomy)
    assert model.layers[0].kernel.shape == (0, 2**29)


def test_unbuilt_model_with_huge_units_is_refused_at_load(tmp_path):
    path = str(tmp_path / "unbuilt.keras")
    cr.saving.save_model(cr.Sequential([L.Dense(2**40, name="huge")]), path)
    with pytest.raises(cr.saving.UnsafeFileError, match=r"unbuilt\.keras.*'huge'.*kernel"):
        cr.saving.load_model(path)


def test_unbuilt_models_of_any_rank_still_load(tmp_path):
    for model in [cr.Sequential([L.Dense(64, activation="relu"), L.Dense(3)]),
                  cr.Sequential([L.Flatten(), L.Dense(2)])]:
        path = str(tmp_path / "ok.keras")
        cr.saving.save_model(model, path)
        assert not cr.saving.load_model(path).built


def _archive_with_build_shape(tmp_path, shape):
    model = cr.Sequential([L.Dense(3, name="d")])
    model(np.zeros((2, 4), "float32"))
    path = str(tmp_path / "b.keras")
    model.save(path)

    def set_shape(config):
        config["build_config"]["input_shape"] = shape

    return _edit_archive(path, set_shape)


@pytest.mark.parametrize("shape", [[None, 0], [None, -4], [None, True], [None, 2**70],
                                   [None, 2**40], "x", [None] + [1] * 40])
def test_load_weights_validates_the_build_shape_and_leaves_the_model_unbuilt(tmp_path, shape):
    path = _archive_with_build_shape(tmp_path, shape)
    model = cr.Sequential([L.Dense(3, name="d")])
    with pytest.raises(cr.saving.ArchiveError, match=r"b\.keras.*input_shape"):
        model.load_weights(path)
    assert not model.built and model.weights == []


def test_failed_load_weights_leaves_the_model_as_it_was(tmp_path):
    path = _archive_with_build_shape(tmp_path, [None, 4])
    model = cr.Sequential([L.Dense(5, name="d")])  # other units: the kernel does not fit
    with pytest.raises(cr.saving.WeightMismatchError, match=r"b\.keras"):
        model.load_weights(path)
    assert not model.built and model.weights == []
    good = cr.Sequential([L.Dense(3, name="d")])
    good.load_weights(path)
    assert good.built and good.layers[0].kernel.shape == (4, 3)


@pytest.mark.parametrize("dims", ["9223372036854775808, 0", "9999999999999999999, 0",
                                  "4611686018427387905, 0"])
def test_npy_header_whose_dimensions_overflow_names_the_file(tmp_path, dims):
    import zipfile  # noqa: PLC0415

    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }"
    header = header.ljust(118) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")
    path = str(tmp_path / "o.weights.npz")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("d/kernel.npy", npy)
    with pytest.raises(cr.saving.ArchiveError, match=r"o\.weights\.npz.*d/kernel\.npy"):
        cr.saving.read_weights(path)


# -- loading takes time proportional to the file's size --------------------------------------------


def _count_calls(fn):
    """The Python and C function calls ``fn()`` makes (deterministic, unlike a timing)."""
    count = [0]

    def prof(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(prof)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


def _functional_archive(tmp_path, n):
    """A chain of n Dense layers whose config lists the layers output first."""
    inp = L.Input((2,))
    x = inp
    for i in range(n):
        x = L.Dense(2, name=f"d{i}")(x)
    path = str(tmp_path / f"f{n}.keras")
    cr.Model(inp, x).save(path)

    def reverse(config):
        config["config"]["layers"] = config["config"]["layers"][::-1]

    return _edit_archive(path, reverse)


def _sequential_archive(tmp_path, n):
    model = cr.Sequential([L.Dense(2, input_dim=2)] + [L.Dense(2) for _ in range(n - 1)])
    path = str(tmp_path / f"s{n}.keras")
    model.save(path)
    return path


def _npz_file(tmp_path, n):
    from chainrule.saving.archive import write_npz  # noqa: PLC0415

    path = str(tmp_path / f"n{n}.weights.npz")
    with open(path, "wb") as f:
        write_npz(f, ((f"k{i}", np.zeros(1, "float32")) for i in range(n)))
    return path


@pytest.mark.parametrize("make,load,n", [
    (_functional_archive, cr.saving.load_model, 100),
    (_sequential_archive, cr.saving.load_model, 100),
    (_npz_file, cr.saving.read_weights, 2000),
])
def test_loading_is_linear_in_the_file_size(tmp_path, make, load, n):
    small, large = make(tmp_path, n), make(tmp_path, 4 * n)
    load(small)  # warm caches (imports, registries)
    ratio = _count_calls(lambda: load(large)) / _count_calls(lambda: load(small))
    assert ratio < 5.5, f"4x the size took {ratio:.1f}x the work (quadratic: ~16x)"


def test_output_first_functional_config_loads_the_same_model(tmp_path):
    path = _functional_archive(tmp_path, 30)
    model = cr.saving.load_model(path)
    x = np.random.default_rng(0).random((3, 2)).astype("float32")
    ref = x
    for layer in model.layers[1:]:
        ref = ref @ layer.kernel.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, rtol=1e-5)

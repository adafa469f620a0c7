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

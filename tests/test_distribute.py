"""chainrule.distribute: data-parallel training over MPI.

The multi-process tests launch ``mpiexec -n 2 python tests/mpi_scripts/train.py``
themselves and compare with the same script in one process; they skip when
mpi4py or mpiexec is missing (``pip install 'chainrule[mpi]'``).
"""

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.distribute import DataParallel, distribution, is_chief, set_distribution
from chainrule.distribute.data_parallel import shard_bounds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "mpi_scripts", "train.py")


def _mpiexec():
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'chainrule[mpi]')")
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = exe if os.path.exists(exe) else shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec is not installed (pip install 'chainrule[mpi]' brings mpich's)")
    return exe


def _run(tmp_path, name, procs, *opts, expect_ok=True, timeout=120):
    out = tmp_path / name
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, SCRIPT, str(out), *opts]
    if procs > 1:
        cmd = [_mpiexec(), "-n", str(procs), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if expect_ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


def _load(out, rank):
    with np.load(out / f"rank{rank}.npz") as f:
        arrays = {k: f[k] for k in f.files}
    with open(out / f"rank{rank}.json") as f:
        return arrays, json.load(f)


def _rel(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-30))


# -- two processes against one ---------------------------------------------------------------
def test_two_processes_train_like_one_process_on_the_same_global_batches(tmp_path):
    _mpiexec()
    one, _ = _run(tmp_path, "one", 1, "distribute=0")
    two, proc = _run(tmp_path, "two", 2)
    ref, ref_info = _load(one, 0)
    r0, info0 = _load(two, 0)
    r1, info1 = _load(two, 1)
    for k in ref:
        assert _rel(ref[k], r0[k]) < 1e-5, k  # float32, 3 epochs: up to summation order
        np.testing.assert_array_equal(r0[k], r1[k])  # every process holds the same weights
    # the history, evaluate and predict results are global on every process
    for info in (info0, info1):
        for key, values in ref_info["history"].items():
            np.testing.assert_allclose(info["history"][key], values, rtol=1e-5, err_msg=key)
        for key, value in ref_info["evaluate"].items():
            assert info["evaluate"][key] == pytest.approx(value, rel=1e-5)
    # one gradient allreduce per step: 40 training samples, batch 16 -> 3 steps, 3 epochs
    assert info0["allreduce_calls"] == info1["allreduce_calls"] == 9
    # the weights are the same bits on both processes after every step
    assert len(info0["step_hashes"]) == 9 and info0["step_hashes"] == info1["step_hashes"]
    # process 0 alone prints and writes the CSV log
    assert proc.stdout.count("Epoch 1/3") == 1
    with open(two / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], ref_info["history"]["loss"],
                               rtol=1e-5)


def test_ordered_reduction_in_float64(tmp_path):
    _mpiexec()
    one, _ = _run(tmp_path, "one", 1, "distribute=0", "dtype=float64")
    two, _ = _run(tmp_path, "two", 2, "dtype=float64", "reduction=ordered")
    again, _ = _run(tmp_path, "again", 2, "dtype=float64", "reduction=ordered")
    ref, r0, r1, r2 = _load(one, 0)[0], _load(two, 0)[0], _load(two, 1)[0], _load(again, 0)[0]
    for k in ref:
        assert _rel(ref[k], r0[k]) < 1e-12, k
        np.testing.assert_array_equal(r0[k], r1[k])
        np.testing.assert_array_equal(r0[k], r2[k])  # the same run gives the same bits


def test_pydataset_is_sharded_batch_by_batch(tmp_path):
    _mpiexec()
    one, _ = _run(tmp_path, "one", 1, "distribute=0", "case=pydataset")
    two, _ = _run(tmp_path, "two", 2, "case=pydataset")
    ref, r0, r1 = _load(one, 0)[0], _load(two, 0)[0], _load(two, 1)[0]
    for k in ref:
        assert _rel(ref[k], r0[k]) < 1e-5, k
        np.testing.assert_array_equal(r0[k], r1[k])


def test_batchnorm_statistics_are_process_0s_after_every_epoch(tmp_path):
    _mpiexec()
    two, _ = _run(tmp_path, "two", 2, "case=batchnorm", "epochs=2")
    r0, info0 = _load(two, 0)
    r1, info1 = _load(two, 1)
    assert len(r0) == 9  # kernel, bias, gamma, beta, moving mean, variance, kernel, bias; pred
    for k in r0:  # the moving statistics too (each process's shard moved them differently)
        np.testing.assert_array_equal(r0[k], r1[k], err_msg=k)
    assert info0["history"] == info1["history"]
    assert info0["evaluate"] == info1["evaluate"]


def test_a_killed_run_resumes_with_backup_and_restore(tmp_path):
    _mpiexec()
    backup = str(tmp_path / "backup")
    full, _ = _run(tmp_path, "full", 2, "epochs=4")
    _, proc = _run(tmp_path, "killed", 2, "epochs=4", f"backup={backup}", "kill_after=2",
                   expect_ok=False)
    assert proc.returncode != 0
    assert os.listdir(backup)  # process 0 wrote the backup of epoch 2
    resumed, proc = _run(tmp_path, "resumed", 2, "epochs=4", f"backup={backup}")
    assert "Epoch 1/4" not in proc.stdout and "Epoch 3/4" in proc.stdout
    ref, r0, r1 = _load(full, 0), _load(resumed, 0)[0], _load(resumed, 1)[0]
    for k in ref[0]:
        assert _rel(ref[0][k], r0[k]) < 1e-6, k
        np.testing.assert_array_equal(r0[k], r1[k])
    assert len(_load(resumed, 0)[1]["history"]["loss"]) == 4


# -- faults and bad input ----------------------------------------------------------------------
def test_a_process_that_raises_stops_every_process(tmp_path):
    _mpiexec()
    _, proc = _run(tmp_path, "raise", 2, "case=raise", "epochs=50", expect_ok=False, timeout=60)
    assert proc.returncode != 0
    assert "process 1 of 2 raised RuntimeError: boom on purpose" in proc.stderr


@pytest.mark.parametrize("case,opts,message", [
    pytest.param("shapes", (), "process 1's model differs from process 0's: weight 0 "
                 "('dense/kernel') has shape (5, 7) float32, process 0's ('dense/kernel') has "
                 "(5, 8)", id="dp-different-model"),
    pytest.param("lengths", (), "the lengths differ: process 0: 40 samples, process 1: 36 "
                 "samples", id="dp-different-lengths"),
    pytest.param("eval_lengths", (), "Every process must pass the same data to evaluate (each "
                 "takes its shard of every global batch), but the lengths differ: process 0: 50 "
                 "samples, process 1: 46 samples", id="dp-different-lengths-evaluate"),
    pytest.param("generator", (), "cannot shard a generator or iterable of batches passed as x",
                 id="dp-generator"),
    pytest.param("ok", ("batch=1",), "Received: batch_size=1 with 2 processes",
                 id="dp-batch-smaller-than-processes"),
    pytest.param("ok", ("batch=13",), "The last batch of an epoch has 1 samples",
                 id="dp-last-batch-smaller-than-processes"),
])
def test_bad_input_is_named_on_every_process(tmp_path, case, opts, message):
    _mpiexec()
    _, proc = _run(tmp_path, "bad", 2, f"case={case}", *opts, expect_ok=False, timeout=60)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


# -- one process, no mpiexec ------------------------------------------------------------------
class _TwoProcesses:
    """A communicator that claims two processes (the checks before any collective)."""

    rank, size = 0, 2


@pytest.fixture
def fake_two(monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # DataParallel installs an abort hook
    dist = DataParallel(communicator=_TwoProcesses())
    set_distribution(dist)
    yield dist
    set_distribution(None)


def _small_model(cls=cr.Sequential):
    model = cls([cr.layers.Input((4,)), cr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_custom_train_step_is_refused(fake_two):
    class Custom(cr.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    x, y = np.zeros((8, 4), "float32"), np.zeros((8, 1), "float32")
    with pytest.raises(ValueError, match="overrides train_step.*Received: a train_step override"):
        _small_model(Custom).fit(x, y, batch_size=4, verbose=0)


def test_generators_are_refused_in_evaluate_and_predict(fake_two):
    model = _small_model()
    batches = ((np.zeros((4, 4), "float32"), np.zeros((4, 1), "float32")) for _ in range(2))
    with pytest.raises(ValueError, match="cannot shard a generator"):
        model.evaluate(batches, verbose=0)
    with pytest.raises(ValueError, match="cannot shard a generator"):
        model.predict((np.zeros((4, 4), "float32") for _ in range(2)), verbose=0)


def test_without_mpi4py_data_parallel_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"chainrule\[mpi\]"):
        DataParallel()


def test_one_process_is_ordinary_training():
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'chainrule[mpi]')")
    x = np.random.default_rng(0).normal(size=(30, 4)).astype("float32")
    y = x.sum(1, keepdims=True)

    def train():
        cr.utils.set_random_seed(3)
        model = cr.Sequential([cr.layers.Input((4,)), cr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return model.get_weights(), model.predict(x, verbose=0)

    plain = train()
    dist = DataParallel()
    assert (dist.process_id, dist.num_processes) == (0, 1)
    set_distribution(dist)
    try:
        assert distribution() is dist and is_chief()
        same = train()
    finally:
        set_distribution(None)
    for a, b in zip(plain[0] + [plain[1]], same[0] + [same[1]]):
        np.testing.assert_array_equal(a, b)
    assert dist.allreduce_calls == 0


def test_set_distribution_and_arguments_are_checked():
    with pytest.raises(TypeError, match="Received: str"):
        set_distribution("data_parallel")
    with pytest.raises(ValueError, match="Received: reduction='mean'"):
        DataParallel(reduction="mean")


def test_shards_cover_the_batch_in_order():
    for n in range(1, 12):
        for p in range(1, 5):
            bounds = [shard_bounds(n, r, p) for r in range(p)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            sizes = [hi - lo for lo, hi in bounds]
            assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)

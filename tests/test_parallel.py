"""chainrule.parallel: the thread count, run_parts, and optimizer updates split over threads."""

import multiprocessing
import os
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import parallel
from chainrule.optimizers import base as opt_base

_run_parts = parallel.run_parts


class Var:
    def __init__(self, data, name="w"):
        self.data, self.name = data, name


@pytest.fixture(autouse=True)
def _default_threads():
    yield
    parallel.set_thread_limit(None)
    parallel.set_num_threads(None)


def test_set_and_get_num_threads():
    cr.config.set_num_threads(3)
    assert cr.config.get_num_threads() == 3
    cr.config.set_num_threads(None)
    assert cr.config.get_num_threads() >= 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match=r"num_threads must be a positive int or None\. Received: n="):
        parallel.set_num_threads(bad)


def test_num_threads_from_environment(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel.get_num_threads() == 3
    monkeypatch.delenv("CHAINRULE_NUM_THREADS")
    assert parallel.get_num_threads() == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "many")  # not a count: the CPUs available
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert parallel.get_num_threads() == expected
    parallel.set_num_threads(2)  # an explicit setting wins over the environment
    assert parallel.get_num_threads() == 2


def test_thread_limit_caps_but_keeps_the_setting(monkeypatch):
    parallel.set_num_threads(3)
    parallel.set_thread_limit(1)
    assert parallel.get_num_threads() == 1
    parallel.set_thread_limit(5)  # a limit above the setting changes nothing
    assert parallel.get_num_threads() == 3
    parallel.set_thread_limit(None)
    assert parallel.get_num_threads() == 3
    parallel.set_num_threads(None)
    monkeypatch.setenv("CHAINRULE_NUM_THREADS", "4")
    parallel.set_thread_limit(2)
    assert parallel.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -1, 2.0, "1", False])
def test_thread_limit_rejects_bad_values(bad):
    with pytest.raises(ValueError, match=r"limit must be a positive int or None\. Received: n="):
        parallel.set_thread_limit(bad)


def test_run_parts_runs_every_part_once():
    seen = []
    parallel.run_parts(seen.append, 4)
    assert sorted(seen) == [0, 1, 2, 3]
    parallel.run_parts(seen.append, 1)
    assert seen.count(0) == 2


def test_run_parts_raises_a_parts_error_after_all_finish():
    done = []

    def part(k):
        if k == 1:
            raise ValueError("part 1 failed")
        done.append(k)

    with pytest.raises(ValueError, match="part 1 failed"):
        parallel.run_parts(part, 3)
    assert sorted(done) == [0, 2]


OPTIMIZERS = {
    "adam": lambda: cr.optimizers.Adam(learning_rate=0.01),
    "adam-amsgrad": lambda: cr.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adamw": lambda: cr.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
    "nadam": lambda: cr.optimizers.Nadam(learning_rate=0.01),
    "rmsprop-centered-momentum": lambda: cr.optimizers.RMSprop(0.01, momentum=0.9, centered=True),
    "sgd-nesterov": lambda: cr.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "sgd": lambda: cr.optimizers.SGD(0.1),
    "adagrad": lambda: cr.optimizers.Adagrad(0.1),
    "adadelta": lambda: cr.optimizers.Adadelta(1.0),
}


def _train(make, threads, monkeypatch, dtype=np.float32):
    parallel.set_num_threads(threads)
    calls = []
    monkeypatch.setattr(parallel, "run_parts", lambda fn, n: (calls.append(n), _run_parts(fn, n)))
    rng = np.random.default_rng(0)
    # two large variables of different, odd sizes (uneven pieces that do not line up), one
    # just below the threshold, one tiny
    big = opt_base._PARALLEL_MIN_SIZE
    shapes = [(big * 3 + 7,), (big - 1,), (3, 5), (big * 2 + 1,)]
    variables = [Var(rng.standard_normal(s).astype(dtype), f"v{i}") for i, s in enumerate(shapes)]
    opt = make()
    for _ in range(4):
        grads = [rng.standard_normal(v.data.shape).astype(dtype) for v in variables]
        opt.apply(grads, variables)
    return [v.data for v in variables], [np.asarray(s) for s in opt.variables], calls


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_parallel_update_is_bit_identical_to_one_thread(name, monkeypatch):
    weights1, state1, calls1 = _train(OPTIMIZERS[name], 1, monkeypatch)
    weights3, state3, calls3 = _train(OPTIMIZERS[name], 3, monkeypatch)
    assert calls1 == [] and calls3 == [3] * 4  # split in three, once per step
    for a, b in zip(weights1 + state1, weights3 + state3):
        np.testing.assert_array_equal(a, b)


def test_float64_parallel_update_is_bit_identical(monkeypatch):
    w1, s1, _ = _train(OPTIMIZERS["adam"], 1, monkeypatch, np.float64)
    w2, s2, calls = _train(OPTIMIZERS["adam"], 2, monkeypatch, np.float64)
    assert calls == [2] * 4
    for a, b in zip(w1 + s1, w2 + s2):
        np.testing.assert_array_equal(a, b)


class NormalizedSGD(cr.optimizers.SGD):
    """Not elementwise: the step is scaled by the whole gradient's norm."""

    def update_step(self, grad, data, lr, slots, scratch):
        data -= lr * grad / np.linalg.norm(grad)


def test_overridden_update_step_always_gets_whole_arrays(monkeypatch):
    parallel.set_num_threads(2)
    n = opt_base._PARALLEL_MIN_SIZE * 2
    w = Var(np.ones(n, dtype=np.float32))
    g = np.ones(n, dtype=np.float32)
    NormalizedSGD(learning_rate=1.0).apply([g], [w])
    np.testing.assert_allclose(w.data, 1 - 1 / np.sqrt(n), rtol=1e-6)


def _child_updates(queue):
    w = Var(np.ones(opt_base._PARALLEL_MIN_SIZE * 2, dtype=np.float32))
    cr.optimizers.SGD(0.5).apply([np.ones_like(w.data)], [w])
    queue.put(float(w.data.sum()))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_process_gets_its_own_threads():
    parallel.set_num_threads(2)
    parallel.run_parts(lambda k: None, 2)  # the parent's pool exists before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_updates, args=(queue,))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert queue.get(timeout=5) == pytest.approx(opt_base._PARALLEL_MIN_SIZE)

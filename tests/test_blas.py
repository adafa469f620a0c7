"""chainrule._blas: fixed BLAS thread limits, and thread counts that follow the machine's load.

Nothing here times anything: the load is fed in through a fake sampler, and the thread counts
are read back from threadpoolctl and chainrule.parallel.
"""

import numpy as np
import pytest

from chainrule import _blas, parallel


@pytest.fixture(autouse=True)
def _defaults():
    _blas._last_seen = None
    yield
    _blas._last_seen = None
    parallel.set_thread_limit(None)
    parallel.set_num_threads(None)


def _two_blas_threads():
    """threadpoolctl's limit context with BLAS at two threads, or a skip without it."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _blas.blas_available():
        pytest.skip("threadpoolctl sees no BLAS library")
    return threadpoolctl.threadpool_limits(limits=2, user_api="blas")


def _blas_threads_reported():
    import threadpoolctl

    return max(info["num_threads"] for info in threadpoolctl.threadpool_info()
               if info["user_api"] == "blas")


def test_limit_blas_threads_inside_and_after():
    with _two_blas_threads():
        assert _blas_threads_reported() == 2
        with _blas.limit_blas_threads(1):
            assert _blas_threads_reported() == 1
            assert _blas.get_blas_threads() == 1
            a = np.ones((64, 64), np.float32)
            assert float((a @ a)[0, 0]) == 64.0
        assert _blas_threads_reported() == 2
        with _blas.limit_blas_threads(None):  # no limit: nothing changes
            assert _blas_threads_reported() == 2


def test_limit_blas_threads_restores_after_an_exception():
    with _two_blas_threads():
        with pytest.raises(RuntimeError, match="inside"):
            with _blas.limit_blas_threads(1):
                raise RuntimeError("inside")
        assert _blas_threads_reported() == 2


def test_one_blas_thread_inside_and_after_also_after_an_exception():
    with _two_blas_threads():
        with _blas.one_blas_thread():
            assert _blas_threads_reported() == 1
        assert _blas_threads_reported() == 2
        with pytest.raises(RuntimeError, match="inside"):
            with _blas.one_blas_thread():
                raise RuntimeError("inside")
        assert _blas_threads_reported() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1", True])
def test_limit_blas_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match=r"n must be a positive int or None\. Received: n="):
        with _blas.limit_blas_threads(bad):
            pass


def test_without_threadpoolctl_nothing_changes(monkeypatch):
    monkeypatch.setattr(_blas, "_blas_libraries", lambda rescan=False: [])
    assert not _blas.blas_available()
    assert _blas.get_blas_threads() is None
    with _blas.limit_blas_threads(1):
        pass


class FakeLoad:
    """A sampler for LoadAdaptiveThreads: ``others`` cores busy besides this process."""

    def __init__(self):
        self.busy = self.own = self.wall = 0.0
        self.calls = 0

    def advance(self, seconds, others, own=1.0):
        self.wall += seconds
        self.own += own * seconds
        self.busy += (own + others) * seconds

    def __call__(self):
        self.calls += 1
        return self.busy, self.own, self.wall


def test_threads_follow_the_load_and_come_back():
    parallel.set_num_threads(2)
    load = FakeLoad()
    adapt = _blas.LoadAdaptiveThreads(interval=0, sampler=load, cpus=2)
    assert adapt.threads == 2
    load.advance(1.0, others=2.0)  # two busy processes beside this one
    adapt.step()
    assert adapt.others == pytest.approx(2.0)
    assert adapt.threads == 1
    assert parallel.get_num_threads() == 1
    load.advance(1.0, others=0.1)  # they stopped
    adapt.step()
    assert adapt.threads == 2
    assert parallel.get_num_threads() == 2
    load.advance(1.0, others=1.0)  # one busy process: still only one core free
    adapt.step()
    assert adapt.threads == 1
    adapt.close()
    assert parallel.get_num_threads() == 2


def test_blas_threads_follow_the_load():
    with _two_blas_threads():
        load = FakeLoad()
        adapt = _blas.LoadAdaptiveThreads(interval=0, sampler=load, cpus=2)
        load.advance(1.0, others=1.5)
        adapt.step()
        assert _blas_threads_reported() == 1
        load.advance(1.0, others=0.0)
        adapt.step()
        assert _blas_threads_reported() == 2
        load.advance(1.0, others=2.0)
        adapt.step()
        assert _blas_threads_reported() == 1
        adapt.close()
        assert _blas_threads_reported() == 2


def test_a_new_object_starts_from_the_last_decision():
    parallel.set_num_threads(2)
    load = FakeLoad()
    first = _blas.LoadAdaptiveThreads(interval=0, sampler=load, cpus=2)
    load.advance(1.0, others=2.0)
    first.step()
    first.close()
    assert parallel.get_num_threads() == 2
    second = _blas.LoadAdaptiveThreads(interval=1e9, sampler=load, cpus=2)  # no look of its own
    assert second.threads == 1
    assert parallel.get_num_threads() == 1
    second.close()
    _blas._last_seen = None
    third = _blas.LoadAdaptiveThreads(interval=1e9, sampler=load, cpus=2)
    assert third.threads == 2
    third.close()


def test_no_look_at_the_load_before_the_interval(monkeypatch):
    monkeypatch.setattr(_blas, "FIRST_CHECK", 1e9)
    load = FakeLoad()
    adapt = _blas.LoadAdaptiveThreads(interval=1e9, sampler=load, cpus=2)
    load.advance(1.0, others=2.0)
    for _ in range(5):
        adapt.step()
    assert load.calls == 1  # only when it was made
    assert adapt.threads == max(parallel.get_num_threads(), _blas.get_blas_threads() or 1)
    adapt.close()


def test_never_above_the_configured_counts():
    parallel.set_num_threads(1)
    load = FakeLoad()
    adapt = _blas.LoadAdaptiveThreads(interval=0, sampler=load, cpus=8)
    load.advance(1.0, others=0.0)
    adapt.step()
    assert parallel.get_num_threads() == 1
    assert adapt.threads <= max(1, _blas.get_blas_threads() or 1)
    adapt.close()


def test_adapt_threads_to_load_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("CHAINRULE_ADAPTIVE_THREADS", "0")
    parallel.set_num_threads(2)
    with _blas.adapt_threads_to_load(interval=0) as adapt:
        adapt.step()
        assert adapt.others == 0.0
        assert parallel.get_num_threads() == 2
    assert parallel.get_num_threads() == 2


def test_adapt_threads_to_load_restores_after_an_exception(monkeypatch):
    load = FakeLoad()
    monkeypatch.setattr(_blas, "proc_stat_sampler", lambda: load)
    monkeypatch.setattr(_blas, "_cpus", lambda: [0, 1])
    monkeypatch.delenv("CHAINRULE_ADAPTIVE_THREADS", raising=False)
    parallel.set_num_threads(2)
    with pytest.raises(KeyError):
        with _blas.adapt_threads_to_load(interval=0) as adapt:
            load.advance(1.0, others=2.0)
            adapt.step()
            assert parallel.get_num_threads() == 1
            raise KeyError("stop")
    assert parallel.get_num_threads() == 2


def test_proc_stat_sampler_counts_forward():
    sampler = _blas.proc_stat_sampler()
    if sampler is None:
        pytest.skip("no /proc/stat here")
    first = sampler()
    sum(range(100_000))
    second = sampler()
    assert all(b >= a for a, b in zip(first, second))


@pytest.mark.parametrize("bad", [-1, "0.2", True])
def test_interval_must_be_a_non_negative_number(bad):
    with pytest.raises(ValueError, match=r"interval must be .* Received: interval="):
        _blas.LoadAdaptiveThreads(interval=bad)


def test_a_blas_library_loaded_after_the_first_look_is_limited_too(monkeypatch):
    """SciPy (or another package) may load its own OpenBLAS after chainrule first looked."""
    first = _blas._blas_libraries()
    monkeypatch.setattr(_blas, "_looked", True)
    monkeypatch.setattr(_blas, "_controller", None)  # as if nothing had been seen at first
    assert _blas._blas_libraries() == []
    with _blas.limit_blas_threads(1):
        assert len(_blas._blas_libraries()) == len(first)

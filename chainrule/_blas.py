"""NumPy's BLAS threads, and training that stays fast on a busy machine.

NumPy's matrix products run on OpenBLAS's (or MKL's) threads, and chainrule's
optimizer updates of large variables on its own (:mod:`chainrule.parallel`).
Split over threads, every product waits for its slowest part. On an idle machine
that is a gain: at a batch of 32 and a 784 → 256 layer, two threads take
about 0.55 × the time of one. Beside other busy processes it is a collapse: the
part of a descheduled thread waits for the scheduler's next slice, milliseconds
for a product that needs tens of microseconds, and an epoch can take tens of
times longer than on one thread. (OpenBLAS's idle threads also spin for a while
after each product before they sleep, which takes CPU from the competing
processes and so, in turn, from us.)

So while training, :class:`LoadAdaptiveThreads` watches how much of this
process's CPUs other processes use and, between steps, lowers the BLAS thread
count and chainrule's own (:func:`chainrule.parallel.set_thread_limit`) to the
cores left free, at least one, and raises them again when the others stop.
Unloaded it changes nothing (unless more threads than CPUs were configured: it
never uses more than the CPUs). It needs Linux's ``/proc/stat`` to see the load
(elsewhere it does nothing) and the optional ``threadpoolctl`` package to set
the BLAS threads (without it, only chainrule's own threads adapt). Setting the
environment variable ``CHAINRULE_ADAPTIVE_THREADS=0`` turns it off.

:func:`limit_blas_threads` is the plain, fixed limit.

Example:
    >>> from chainrule import _blas
    >>> with _blas.limit_blas_threads(1):
    ...     pass  # NumPy's products run on one thread in here (with threadpoolctl)
    >>> with _blas.adapt_threads_to_load() as threads:
    ...     for step in range(3):
    ...         threads.step()  # after each training step; cheap when no check is due
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from chainrule import parallel

__all__ = ["blas_available", "get_blas_threads", "limit_blas_threads", "one_blas_thread",
           "LoadAdaptiveThreads",
           "adapt_threads_to_load"]

#: Seconds between two looks at the machine's load while training.
CHECK_INTERVAL = 0.25
#: The first look comes sooner, so a short ``fit`` adapts too.
FIRST_CHECK = 0.1
#: A new :class:`LoadAdaptiveThreads` starts from the last one's count when that one looked
#: at the load this many seconds ago or less (consecutive ``fit`` calls, epochs of a loop).
REMEMBER = 5.0

_last_seen: tuple[float, int, int] | None = None  # (when, cpus, threads) of the last look

_controller: Any = None
_looked = False


def _blas_libraries(rescan: bool = False) -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process ([] without).

    The list is kept between calls; ``rescan=True`` looks again (a library such as SciPy's
    OpenBLAS may have been loaded since), which costs about a millisecond.
    """
    global _controller, _looked
    if rescan or not _looked:
        _looked = True
        try:
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415

            _controller = ThreadpoolController().select(user_api="blas")
        except Exception:  # noqa: BLE001 - not installed, or no library it can handle
            _controller = None
    return list(_controller.lib_controllers) if _controller is not None else []


def _check_count(n: Any, name: str) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"{name} must be a positive int or None. Received: {name}={n!r}")


def blas_available() -> bool:
    """Whether chainrule can read and set the BLAS threads (threadpoolctl sees a BLAS).

    Example:
        >>> isinstance(blas_available(), bool)
        True
    """
    return bool(_blas_libraries())


def get_blas_threads() -> int | None:
    """The most threads any loaded BLAS library uses now, or None when that cannot be seen.

    Example:
        >>> n = get_blas_threads()
        >>> n is None or n >= 1
        True
    """
    libs = _blas_libraries()
    return max(lib.num_threads for lib in libs) if libs else None


def _set_blas_threads(counts: list[int]) -> None:
    for lib, n in zip(_blas_libraries(), counts):
        if lib.num_threads != n:
            lib.set_num_threads(n)


@contextlib.contextmanager
def limit_blas_threads(n: int | None) -> Iterator[None]:
    """Run the ``with`` block with NumPy's BLAS on at most ``n`` threads.

    The previous counts come back afterwards, also after an exception. Without
    threadpoolctl (or with ``n=None``) it changes nothing.

    Args:
        n: the most threads, a positive int, or None for no limit.

    Raises:
        ValueError: if ``n`` is not a positive int or None.

    Example:
        >>> with limit_blas_threads(1):
        ...     get_blas_threads() in (None, 1)
        True
    """
    _check_count(n, "n")
    before = [lib.num_threads for lib in _blas_libraries(rescan=True)]
    if n is not None:
        _set_blas_threads([min(b, n) for b in before])
    try:
        yield
    finally:
        _set_blas_threads(before)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the ``with`` block with the BLAS libraries already seen on one thread: cheap enough
    for every batch (no new look for libraries, unlike :func:`limit_blas_threads`).

    For work that runs on chainrule's own threads and calls BLAS from each: a product split by
    the BLAS too would compete with them for the cores, and OpenBLAS's idle threads spin for a
    while after each product they share. The previous counts come back afterwards.

    Example:
        >>> with one_blas_thread():
        ...     get_blas_threads() in (None, 1)
        True
    """
    libs = _blas_libraries()
    before = [lib.num_threads for lib in libs]
    _set_blas_threads([1] * len(before))
    try:
        yield
    finally:
        _set_blas_threads(before)


def _cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return list(range(os.cpu_count() or 1))


Sampler = Callable[[], tuple[float, float, float]]


def proc_stat_sampler(cpus: list[int] | None = None) -> Sampler | None:
    """A function returning ``(busy, own, wall)`` seconds now, from Linux's ``/proc/stat``.

    ``busy`` is the CPU time spent on ``cpus`` (default: those this process may run
    on) by anyone, steal time included; ``own`` this process's CPU time; ``wall`` a
    monotonic clock. Differences of two samples give the cores other processes used.

    Args:
        cpus: the CPU numbers to count.

    Returns:
        The sampler, or None where ``/proc/stat`` cannot be read.
    """
    wanted = {f"cpu{c}" for c in (_cpus() if cpus is None else cpus)}
    tick = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0

    def sample() -> tuple[float, float, float]:
        busy = 0
        with open("/proc/stat", "rb") as f:
            for line in f.read().decode("ascii", "replace").splitlines()[1:]:
                fields = line.split()
                if not fields or not fields[0].startswith("cpu"):
                    break
                if fields[0] in wanted:  # user nice system | idle iowait | irq softirq steal
                    busy += sum(int(v) for v in fields[1:4]) + sum(int(v) for v in fields[6:9])
        return busy / tick, time.process_time(), time.perf_counter()

    try:
        sample()
    except (OSError, ValueError, IndexError):
        return None
    return sample


class LoadAdaptiveThreads:
    """Lowers the BLAS and chainrule thread counts to the cores other processes leave free.

    Call :meth:`step` after every training step: at most every ``interval``
    seconds it measures the cores other processes used on this process's CPUs
    since the last look (busy time minus this process's own CPU time), and sets
    ``min(configured, max(1, round(cpus - others)))`` threads, where
    ``configured`` is each count when the object was made. The first look comes
    after ``min(interval, FIRST_CHECK)``; until then it keeps the count the last
    object chose, if that one looked less than ``REMEMBER`` seconds ago.
    :meth:`close` puts the configured counts back.

    Args:
        interval: seconds between looks at the load.
        sampler: returns ``(busy, own, wall)`` seconds (see :func:`proc_stat_sampler`);
            None does nothing, as where ``/proc/stat`` is missing.
        cpus: how many CPUs this process may run on (default: its affinity).

    Example:
        >>> adapt = LoadAdaptiveThreads(sampler=None)
        >>> adapt.step(); adapt.close()
    """

    def __init__(self, interval: float = CHECK_INTERVAL,
                 sampler: Sampler | None = None,
                 cpus: int | None = None) -> None:
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            raise ValueError(f"interval must be a non-negative number of seconds. "
                             f"Received: interval={interval!r}")
        self.interval = float(interval)
        self.cpus = cpus if cpus is not None else len(_cpus())
        self._sampler = sampler
        self._blas = [lib.num_threads for lib in _blas_libraries(rescan=True)] if sampler else []
        self._own = parallel.get_num_threads() if sampler else 1
        self._most = max([self._own, *self._blas])
        self.threads = self._most  # the most threads allowed now
        self.others = 0.0  # cores other processes used in the last window
        self._last = sampler() if sampler else (0.0, 0.0, 0.0)
        now = time.perf_counter()
        self._due = now + min(self.interval, FIRST_CHECK)
        self._closed = sampler is None
        seen = _last_seen
        if sampler and seen is not None and now - seen[0] <= REMEMBER and seen[1] == self.cpus:
            self._apply(min(self._most, seen[2]))

    def step(self) -> None:
        """Look at the load if ``interval`` has passed, and set the thread counts for it."""
        global _last_seen
        if self._closed or time.perf_counter() < self._due:
            return
        now = self._sampler()
        busy, own, wall = (a - b for a, b in zip(now, self._last))
        self._last, self._due = now, time.perf_counter() + self.interval
        if wall <= 0:
            return
        self.others = max(0.0, busy - own) / wall
        free = max(1, int(self.cpus - self.others + 0.5))
        _last_seen = (time.perf_counter(), self.cpus, free)
        self._apply(min(self._most, free))

    def _apply(self, threads: int) -> None:
        if threads == self.threads:
            return
        self.threads = threads
        _set_blas_threads([min(n, threads) for n in self._blas])
        parallel.set_thread_limit(threads if threads < self._own else None)

    def close(self) -> None:
        """Put back the thread counts configured when this object was made."""
        if self._closed:
            return
        self._closed = True
        _set_blas_threads(self._blas)
        parallel.set_thread_limit(None)


def _enabled() -> bool:
    return os.environ.get("CHAINRULE_ADAPTIVE_THREADS", "1").strip().lower() not in (
        "0", "false", "no", "off")


@contextlib.contextmanager
def adapt_threads_to_load(interval: float = CHECK_INTERVAL) -> Iterator[LoadAdaptiveThreads]:
    """Training's thread counts follow the machine's load inside the ``with`` block.

    Yields a :class:`LoadAdaptiveThreads`; call its ``step()`` after each
    training step. The configured counts come back afterwards, also after an
    exception. It does nothing when the machine has one CPU for this process,
    where ``/proc/stat`` is missing, when nothing runs on more than one thread,
    or with ``CHAINRULE_ADAPTIVE_THREADS=0``.

    Args:
        interval: seconds between looks at the load.

    Example:
        >>> with adapt_threads_to_load() as threads:
        ...     threads.step()
    """
    sampler = None
    if _enabled() and len(_cpus()) > 1:
        if max([parallel.get_num_threads(), *(lib.num_threads for lib in _blas_libraries())]) > 1:
            sampler = proc_stat_sampler()
    adapt = LoadAdaptiveThreads(interval, sampler)
    try:
        yield adapt
    finally:
        adapt.close()

"""Threads for chainrule's own elementwise work (the optimizer updates).

NumPy's BLAS already runs matrix products on several threads, but NumPy's
elementwise ufuncs run on one. They release the GIL while they compute, so a
large elementwise update split into pieces runs in parallel on a small pool of
Python threads. chainrule does that for the optimizers' updates of large
variables: every element is computed by the same operations as on one thread,
so the results are bit-identical for any thread count. The forward-only LSTM and GRU
kernels (``ops/rnn.py``) split a batch's rows into blocks over the same count.

The thread count comes, in order, from :func:`set_num_threads`, the
``CHAINRULE_NUM_THREADS`` or ``OMP_NUM_THREADS`` environment variable, and the
number of CPUs this process may run on. While training adapts to a busy machine
(:mod:`chainrule._blas`), a temporary limit (:func:`set_thread_limit`) caps it.

The pool's idle threads wait on a queue (they sleep in the kernel, never spin),
so they take no CPU from anyone between updates.

Example:
    >>> import chainrule
    >>> chainrule.config.set_num_threads(2)
    >>> chainrule.config.get_num_threads()
    2
    >>> chainrule.config.set_num_threads(None)  # back to the default
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the pool's module loads with the first pool (most programs never make one)
    from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["get_num_threads", "set_num_threads", "set_thread_limit", "run_parts"]

_lock = threading.Lock()
_requested: int | None = None
_limit: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _default_threads() -> int:
    for var in ("CHAINRULE_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def get_num_threads() -> int:
    """Return how many threads chainrule's elementwise work may use.

    Returns:
        The count set by :func:`set_num_threads`, else ``CHAINRULE_NUM_THREADS``,
        else ``OMP_NUM_THREADS``, else the CPUs available to this process; at most
        the limit of :func:`set_thread_limit` while one is set.

    Example:
        >>> get_num_threads() >= 1
        True
    """
    n = _requested if _requested is not None else _default_threads()
    return n if _limit is None else min(n, _limit)


def set_thread_limit(n: int | None) -> None:
    """Cap :func:`get_num_threads` at ``n`` until called again with None.

    A temporary ceiling below the configured count, for a busy machine (see
    :mod:`chainrule._blas`); it leaves the setting of :func:`set_num_threads`
    as it is.

    Args:
        n: a positive int, or None to remove the limit.

    Raises:
        ValueError: if ``n`` is not a positive int or None.

    Example:
        >>> set_num_threads(4)
        >>> set_thread_limit(1)
        >>> get_num_threads()
        1
        >>> set_thread_limit(None)
        >>> get_num_threads()
        4
        >>> set_num_threads(None)
    """
    global _limit
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"the thread limit must be a positive int or None. Received: n={n!r}")
    _limit = n


def set_num_threads(n: int | None) -> None:
    """Set how many threads chainrule's elementwise work may use.

    This does not change NumPy's BLAS threads (set ``OMP_NUM_THREADS`` or
    ``OPENBLAS_NUM_THREADS`` before NumPy is imported for those).

    Args:
        n: a positive int, or None for the default (see :func:`get_num_threads`).
            1 runs everything on the calling thread.

    Raises:
        ValueError: if ``n`` is not a positive int or None.

    Example:
        >>> set_num_threads(1)
        >>> get_num_threads()
        1
        >>> set_num_threads(None)
    """
    global _requested
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"num_threads must be a positive int or None. Received: n={n!r}")
    _requested = n


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chainrule")
            _pool_size = workers
        return _pool


def _forget_pool() -> None:  # a forked child has the pool object but not its threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_parts(fn: Callable[[int], Any], parts: int) -> None:
    """Call ``fn(0)``, ..., ``fn(parts - 1)`` in parallel and wait for all of them.

    ``fn(0)`` runs on the calling thread, the others on the pool. The parts must
    not depend on each other. An exception in any part is raised here, after
    every part has finished.

    Args:
        fn: called with the part's index.
        parts: how many parts; 1 calls ``fn(0)`` directly.

    Example:
        >>> import numpy as np
        >>> x = np.arange(8.0)
        >>> halves = np.split(x, 2)
        >>> run_parts(lambda k: np.multiply(halves[k], 2, out=halves[k]), 2)
        >>> x
        array([ 0.,  2.,  4.,  6.,  8., 10., 12., 14.])
    """
    if parts <= 1:
        fn(0)
        return
    pool = _get_pool(parts - 1)
    futures: list[Future] = [pool.submit(fn, k) for k in range(1, parts)]
    error: BaseException | None = None
    try:
        fn(0)
    except BaseException as exc:  # noqa: BLE001 - re-raised below once the others are done
        error = exc
    for f in futures:
        exc = f.exception()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error

"""Child process for one benchmark run: one framework, one workload, one timed unit.

Started by ``bench.py`` as ``python worker.py SPEC_JSON OUT_JSON``; it never runs two frameworks in
one process, so one framework's threads and allocator cannot disturb another's, and the peak RSS it
reports belongs to that framework alone. The result (or the reason it failed, with the phase it
failed in) is written as JSON to ``OUT_JSON``.

Special framework ``"sgemm"`` measures NumPy's float32 matrix-product rate instead.

Optional spec keys: ``chainrule_path`` (a source tree whose ``chainrule`` package this run
imports, put first on ``sys.path``; the run fails if ``chainrule`` comes from anywhere else) and
``load_pids`` (the competing-load processes started beside this run, whose CPU time is not
counted as disturbance).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback

import numpy as np
import workloads as W

#: framework name -> (runner module, environment set before the import, Runner keyword arguments)
RUNNERS: dict[str, tuple[str, dict[str, str], dict]] = {
    "chainrule": ("fw_chainrule", {}, {}),
    # the same, with the optional fused kernels turned off
    "chainrule-numpy": ("fw_chainrule", {"CHAINRULE_FUSED": "0"}, {}),
    # the same, with compile(jit_compile=False): the layers' forward and the autograd tape
    "chainrule-tape": ("fw_chainrule", {}, {"jit_compile": False}),
    "torch": ("fw_torch", {}, {}),
    "keras": ("fw_keras", {}, {}),
    "numpy-hand": ("fw_numpy", {}, {}),
}


def use_chainrule_from(path: str) -> str:
    """Put the source tree ``path`` first on ``sys.path`` and import its ``chainrule``.

    Args:
        path: a directory holding the ``chainrule`` package (a checkout's root).

    Returns:
        The directory the imported package lives in.

    Raises:
        ImportError: when ``chainrule`` was already imported or comes from somewhere else.
    """
    root = os.path.realpath(path)
    if "chainrule" in sys.modules:
        raise ImportError(f"chainrule was imported before its path was set. Received: {path!r}")
    sys.path.insert(0, root)
    import chainrule

    where = os.path.realpath(os.path.dirname(chainrule.__file__))
    if os.path.dirname(where) != root:
        raise ImportError(f"chainrule came from {where}, not from the given tree. "
                          f"Received: chainrule_path={path!r}")
    return where


def _rss_mib() -> float:
    """Current resident set size in MiB (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CpuWatch:
    """How many cores other processes used since the watch started (Linux /proc/stat).

    The whole machine's busy time (including a VM's steal time) minus this process's own CPU time,
    divided by the wall time: 0 on a quiet machine, about 1 when another process keeps one core
    busy. Resolution is one clock tick (usually 10 ms) per core.
    """

    def __init__(self, exclude_pids: list[int] | None = None) -> None:
        self._exclude = list(exclude_pids or [])
        self._start = self._snapshot()

    def stop(self) -> float:
        """Cores used by other processes since this watch was created."""
        busy0, own0, t0 = self._start
        busy1, own1, t1 = self._snapshot()
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0)) if t1 > t0 else 0.0

    def _snapshot(self) -> tuple[float, float, float]:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        own = ru.ru_utime + ru.ru_stime
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:]]
            # user, nice, system | idle, iowait | irq, softirq, steal
            busy = (sum(ticks[0:3]) + sum(ticks[5:8])) / tick
        except (OSError, ValueError):
            busy = own
        for pid in self._exclude:  # the competing load: expected, not a disturbance
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                own += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            except (OSError, ValueError, IndexError):
                pass
        return busy, own, time.perf_counter()


def measure_sgemm(m: int, k: int, n: int, seconds: float = 2.0) -> float:
    """Best observed float32 ``(m×k) @ (k×n)`` rate in GFLOP/s over about ``seconds``."""
    rng = np.random.default_rng(W.SEED)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    c = np.empty((m, n), np.float32)
    for _ in range(3):
        np.matmul(a, b, out=c)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    reps = 0
    while time.perf_counter() < deadline or reps < 5:
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return 2.0 * m * k * n / best / 1e9


def run(spec: dict) -> dict:
    """Run one measurement described by ``spec`` and return its result record."""
    fw_name = spec["framework"]
    result: dict = {"framework": fw_name, "workload": spec.get("workload"), "ok": False}
    if fw_name == "sgemm":
        watch = CpuWatch()
        result.update(
            ok=True, numpy=np.__version__,
            gflops=measure_sgemm(512, 1024, 1024),
            gflops_batch32=measure_sgemm(32, 784, 256),
            shape="512x1024 @ 1024x1024", shape_batch32="32x784 @ 784x256",
            others_cores=watch.stop())
        return result

    workload = W.WORKLOADS[spec["workload"]]
    quick = spec["quick"]
    phase = "import"
    module, env, options = RUNNERS[fw_name]
    os.environ.update(env)
    load_pids = spec.get("load_pids") or []
    try:
        if spec.get("chainrule_path"):
            result["chainrule_source"] = use_chainrule_from(spec["chainrule_path"])
        fw = importlib.import_module(module)
        fw.configure(spec["threads"])
        result["versions"] = fw.versions()
        if "chainrule" in sys.modules and "chainrule_source" not in result:
            result["chainrule_source"] = os.path.dirname(sys.modules["chainrule"].__file__)
        phase = "data"
        x, y = W.make_data(workload, quick)
        phase = "build"
        runner = fw.Runner(workload, **options)
        result["rss_setup_mib"] = _rss_mib()
        if workload.kind == "train":
            phase = "warm-up"
            t0 = time.perf_counter()
            runner.fit(x, y, epochs=1)
            result["warmup_s"] = time.perf_counter() - t0
            phase = "timed"
            epochs = workload.timed_epochs if not quick else min(workload.timed_epochs, 5)
            watch = CpuWatch(load_pids)
            t0 = time.perf_counter()
            runner.fit(x, y, epochs=epochs)
            seconds = (time.perf_counter() - t0) / epochs
            others = watch.stop()
            history = getattr(runner, "history", {})
            result["final"] = {k: v[-1] for k, v in history.items() if v}
        else:
            phase = "warm-up"
            t0 = time.perf_counter()
            runner.predict(x)
            result["warmup_s"] = time.perf_counter() - t0
            phase = "timed"
            watch = CpuWatch(load_pids)
            t0 = time.perf_counter()
            out = runner.predict(x)
            seconds = time.perf_counter() - t0
            others = watch.stop()
            if np.shape(out) != (len(x), workload.outputs):
                raise RuntimeError(f"predict returned shape {np.shape(out)}, "
                                   f"expected {(len(x), workload.outputs)}")
        extra = getattr(runner, "extra", None)
        if extra is not None:
            result.update(extra())
        result.update(ok=True, seconds=seconds, steps=workload.steps(quick),
                      peak_rss_mib=_peak_rss_mib(), others_cores=others)
    except Exception as exc:  # noqa: BLE001  (report any failure to the parent, never crash)
        traceback.print_exc()
        result.update(phase=phase, error=f"{type(exc).__name__}: {exc}".strip())
    return result


def main(argv: list[str]) -> int:
    """Entry point: ``worker.py SPEC_JSON OUT_JSON``."""
    spec = json.loads(argv[1])
    result = run(spec)
    with open(argv[2], "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

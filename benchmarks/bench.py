#!/usr/bin/env python3
"""Benchmark chainrule against PyTorch and Keras 3 on the same CPU workloads.

Every measurement runs in its own subprocess (``worker.py``): one framework, one workload, a warm-up
epoch (or ``predict`` call) and then the timed one. Runs are interleaved framework by framework
(A B C A B C ...) and the table reports medians, the ratios chainrule/PyTorch and chainrule/Keras,
and the matrix-product floor: the workload's ``6 × parameters × samples`` floating-point operations
(``2 ×`` for ``predict``) at the float32 sgemm rate measured first with NumPy (the median of three
processes' best rates, since one process's best varies by tens of percent on a virtual machine).

Examples::

    python benchmarks/bench.py --quick --repeats 1                 # smoke run
    python benchmarks/bench.py --frameworks torch,keras,numpy-hand --repeats 5 --json out.json
    python benchmarks/bench.py --workloads a,f --frameworks chainrule,torch
    python benchmarks/bench.py --workloads b --load 2                # beside 2 busy processes
    python benchmarks/bench.py --chainrule-a /tmp/chainrule-old --frameworks chainrule,torch

A framework that cannot be imported, or that fails on a workload, is skipped and the reason is
shown under the table; the benchmark itself does not stop.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import workloads as W  # a sibling module: the script directory is on sys.path

HERE = Path(__file__).resolve().parent

FRAMEWORKS = ("chainrule", "chainrule-numpy", "chainrule-tape", "torch", "keras", "numpy-hand")
DEFAULT_FRAMEWORKS = "chainrule,torch,keras"
LABELS = {"chainrule": "chainrule", "chainrule-numpy": "chainrule, NumPy only",
          "chainrule-tape": "chainrule, tape", "torch": "PyTorch", "keras": "Keras 3",
          "numpy-hand": "numpy-hand"}
#: The frameworks that import chainrule: run from both trees with --chainrule-a/--chainrule-b.
CHAINRULE_FAMILY = ("chainrule", "chainrule-numpy", "chainrule-tape")
#: What chainrule is compared with, in the report's ratio columns (where both ran).
RATIO_TO = ("torch", "keras", "chainrule-numpy", "chainrule-tape")
#: A competing-load process: one pure-Python busy loop, one core's worth of CPU demand.
SPINNER = "while True:\n    pass"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Workloads: " + "; ".join(f"{k}) {w.title}" for k, w in W.WORKLOADS.items()),
    )
    p.add_argument("--workloads", default=",".join(W.WORKLOADS),
                   help="comma-separated workload keys (default: all, %(default)s)")
    p.add_argument("--frameworks", default=DEFAULT_FRAMEWORKS,
                   help="comma-separated subset of " + ",".join(FRAMEWORKS)
                   + " (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5,
                   help="subprocess runs per framework and workload (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for every framework and BLAS (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="few samples and epochs: a smoke run, not a measurement")
    p.add_argument("--json", metavar="PATH", help="also write every raw run record to PATH")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the child processes (default: this one)")
    p.add_argument("--timeout", type=float, default=1800,
                   help="seconds before a child run is abandoned (default: %(default)s)")
    p.add_argument("--max-others", type=float, default=0.25, metavar="CORES",
                   help="repeat a run when other processes used more than this many cores during "
                   "its timed part (default: %(default)s)")
    p.add_argument("--retries", type=int, default=3,
                   help="at most this many repeats of a disturbed run; the last one is kept and "
                   "marked (default: %(default)s)")
    p.add_argument("--retry-wait", type=float, default=15, metavar="SECONDS",
                   help="pause before repeating a disturbed run (default: %(default)s)")
    p.add_argument("--load", type=int, default=0, metavar="N",
                   help="run every framework beside N busy processes (pure-Python loops, "
                   "started before each run and killed after it; default: %(default)s)")
    p.add_argument("--env", action="append", default=[], metavar="VAR=VALUE",
                   help="set VAR in every run's environment, after the thread settings "
                   "(repeatable), e.g. --env CHAINRULE_NUM_THREADS=1")
    p.add_argument("--chainrule-a", metavar="PATH",
                   help="old chainrule source tree: every chainrule framework runs from PATH "
                   "(A) and from --chainrule-b (B), interleaved, and the report gives B / A")
    p.add_argument("--chainrule-b", metavar="PATH",
                   help="new chainrule source tree for --chainrule-a (default: the tree this "
                   "script belongs to)")
    args = p.parse_args(argv)
    args.workloads = [k.strip() for k in args.workloads.split(",") if k.strip()]
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for k in args.workloads:
        if k not in W.WORKLOADS:
            p.error(f"unknown workload {k!r}; known: {', '.join(W.WORKLOADS)}")
    for f in args.frameworks:
        if f not in FRAMEWORKS:
            p.error(f"unknown framework {f!r}; known: {', '.join(FRAMEWORKS)}")
    if args.repeats < 1 or args.threads < 1:
        p.error("--repeats and --threads must be at least 1")
    if args.load < 0:
        p.error(f"--load must be 0 or more. Received: {args.load}")
    env = {}
    for item in args.env:
        var, sep, value = item.partition("=")
        if not sep or not var.strip():
            p.error(f"--env needs VAR=VALUE. Received: {item!r}")
        env[var.strip()] = value
    args.env = env
    if args.chainrule_b and not args.chainrule_a:
        p.error("--chainrule-b needs --chainrule-a (the tree to compare with). "
                f"Received: --chainrule-b {args.chainrule_b}")
    if args.chainrule_a:
        args.chainrule_b = args.chainrule_b or str(HERE.parent)
        for opt, path in (("--chainrule-a", args.chainrule_a), ("--chainrule-b", args.chainrule_b)):
            if not (Path(path) / "chainrule" / "__init__.py").is_file():
                p.error(f"{opt} must be a source tree holding the chainrule package. "
                        f"Received: {path}")
        if not any(f in CHAINRULE_FAMILY for f in args.frameworks):
            p.error("--chainrule-a needs a chainrule framework in --frameworks. "
                    f"Received: --frameworks {','.join(args.frameworks)}")
    return args


def columns(args: argparse.Namespace) -> list[str]:
    """The report's columns: the frameworks, each chainrule one twice (``@a``, ``@b``) for A/B."""
    if not args.chainrule_a:
        return list(args.frameworks)
    out = []
    for fw in args.frameworks:
        out += [f"{fw}@a", f"{fw}@b"] if fw in CHAINRULE_FAMILY else [fw]
    return out


def label(column: str) -> str:
    """A column's name in the report: ``chainrule, tape B`` for ``chainrule-tape@b``."""
    fw, _, tree = column.partition("@")
    return f"{LABELS[fw]} {tree.upper()}" if tree else LABELS[fw]


def run_spec(args: argparse.Namespace, column: str, workload: str) -> dict:
    """The worker's spec for one column and workload (with the chainrule tree in A/B mode)."""
    fw, _, tree = column.partition("@")
    spec = {"framework": fw, "workload": workload}
    if tree:
        spec["chainrule_path"] = str(Path(args.chainrule_a if tree == "a" else args.chainrule_b)
                                     .resolve())
    return spec


def ratio_pairs(cols: list[str]) -> list[tuple[str, str]]:
    """(numerator, denominator) columns of the report's ratios.

    In A/B mode first every chainrule framework's B over its A, then chainrule B over the others;
    otherwise chainrule over PyTorch, Keras and its own variants.
    """
    ab = any("@" in c for c in cols)
    pairs = [(f"{fw}@b", f"{fw}@a") for fw in CHAINRULE_FAMILY if f"{fw}@a" in cols]
    main = "chainrule@b" if ab else "chainrule"
    for other in RATIO_TO:
        other = f"{other}@b" if ab and other in CHAINRULE_FAMILY else other
        if main in cols and other in cols:
            pairs.append((main, other))
    return pairs


def describe_tree(path: str) -> str:
    """``PATH (git abc1234)``, with ``+ changes`` for a dirty checkout, or just ``PATH``."""
    path = str(Path(path).resolve())
    try:
        head = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain",
                                "--untracked-files=no", "--", "chainrule"],
                               capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return f"{path} (not a git checkout)"
    return f"{path} (git {head.stdout.strip()}{' + changes' if dirty.stdout.strip() else ''})"


class CompetingLoad:
    """``n`` busy processes beside one run: started on ``with``, killed by their pids after it.

    Each is a pure-Python loop (``SPINNER``): it wants one core all the time and touches no
    memory, library or thread pool the measured frameworks use.

    Args:
        n: how many processes; 0 starts none.
        python: the interpreter that runs them.
    """

    def __init__(self, n: int, python: str = sys.executable) -> None:
        self.n, self.python = n, python
        self.procs: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        """The running load processes' ids."""
        return [proc.pid for proc in self.procs]

    def __enter__(self) -> CompetingLoad:
        try:
            for _ in range(self.n):
                self.procs.append(subprocess.Popen(
                    [self.python, "-S", "-c", SPINNER], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()
        self.procs = []


def child_env(threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every child: the same thread count everywhere, CPU only, quiet TF.

    ``extra`` (``--env``) is applied last, so it can override any of these.
    """
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "CHAINRULE_NUM_THREADS"):
        env[var] = str(threads)
    env["CUDA_VISIBLE_DEVICES"] = ""  # a CPU benchmark, even where a GPU build is installed
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["KERAS_BACKEND"] = "tensorflow"
    env.update(extra or {})
    return env


def run_child(args: argparse.Namespace, spec: dict, env: dict[str, str]) -> dict:
    """Run ``worker.py`` for one spec in a fresh process and return its result record."""
    spec = {**spec, "threads": args.threads, "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [args.python, str(HERE / "worker.py"), json.dumps(spec), str(out)],
                env=env, capture_output=True, text=True, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            return {**spec, "ok": False, "phase": "timeout",
                    "error": f"no result within --timeout {args.timeout:g} s"}
        wall = time.perf_counter() - t0
        if out.exists():
            result = json.loads(out.read_text())
        else:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            result = {**spec, "ok": False, "phase": "process",
                      "error": f"exit status {proc.returncode}: {tail[0]}"}
        if not result.get("ok") and proc.stderr:
            result["stderr_tail"] = proc.stderr.strip().splitlines()[-15:]
        result["process_wall_s"] = wall
        return result


def measure(args: argparse.Namespace, spec: dict, env: dict[str, str], load: int = 0) -> dict:
    """``run_child``, repeated while other processes disturb the timed part (``--max-others``).

    With ``load`` > 0 the run has that many busy processes beside it (:class:`CompetingLoad`),
    whose CPU time does not count as disturbance. The kept record carries ``attempts`` and
    ``contended`` (still disturbed after the retries).
    """
    attempt = 0
    while True:
        with CompetingLoad(load) as competing:
            result = run_child(args, {**spec, "load_pids": competing.pids}, env)
        others = result.get("others_cores", 0.0)
        disturbed = bool(result.get("ok")) and others > args.max_others
        if not disturbed or attempt >= args.retries:
            break
        attempt += 1
        log(f"    other processes used {others:.2f} cores during the timed part; "
            f"repeating in {args.retry_wait:g} s")
        time.sleep(args.retry_wait)
    result.update(attempts=attempt + 1, contended=disturbed, load=load)
    return result


def log(msg: str) -> None:
    """Progress to stderr, so stdout holds only the table."""
    print(msg, file=sys.stderr, flush=True)


def fmt_time(seconds: float) -> str:
    """Seconds in a readable unit."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    if seconds >= 1e-5:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e6:.2f} µs"


def fmt_step(us: float) -> str:
    """Microseconds per step."""
    if us >= 10:
        return f"{us:,.0f} µs"
    return f"{us:.1f} µs" if us >= 0.1 else f"{us:.3f} µs"


def system_summary() -> list[str]:
    """One line each about the machine and its load."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [f"CPU: {cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}"]
    if hasattr(os, "getloadavg"):
        lines.append("load average before the run: "
                     + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1, 5, 15 min)")
    return lines


def busy_processes(limit: int = 3) -> list[str]:
    """Other processes using noticeable CPU right now (needs psutil; empty without it)."""
    try:
        import psutil
    except ImportError:
        return []
    procs = list(psutil.process_iter(["pid", "name"]))
    for proc in procs:
        try:
            proc.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(1.0)
    busy = []
    for proc in procs:
        try:
            pct = proc.cpu_percent(None)
        except psutil.Error:
            continue
        if pct >= 20 and proc.pid != os.getpid():
            busy.append((pct, f"{proc.info['name']} (pid {proc.pid}) at {pct:.0f}% CPU"))
    return [text for _, text in sorted(busy, reverse=True)[:limit]]


class CpuMonitor:
    """Background sampler of other processes' CPU use while the benchmark runs (needs psutil).

    Every ``interval`` seconds it measures each process outside this benchmark's own process tree
    and keeps the peak CPU share of any that reached ``threshold`` percent, so the report can say
    whether something else competed for the cores.
    """

    def __init__(self, interval: float = 2.0, threshold: float = 20.0) -> None:
        self.interval, self.threshold = interval, threshold
        self.peaks: dict[int, tuple[float, str]] = {}
        self._stop = None
        self._thread = None

    def start(self) -> CpuMonitor:
        """Start sampling in a daemon thread; a no-op without psutil."""
        try:
            import psutil
        except ImportError:
            return self
        import threading

        self._stop = threading.Event()

        def loop() -> None:
            me = psutil.Process()
            seen: dict[int, psutil.Process] = {}
            while not self._stop.wait(self.interval):
                ours = {me.pid} | {c.pid for c in me.children(recursive=True)}
                for proc in psutil.process_iter(["pid", "name"]):
                    if proc.pid in ours:
                        continue
                    proc = seen.setdefault(proc.pid, proc)
                    try:
                        pct = proc.cpu_percent(None)
                    except psutil.Error:
                        continue
                    if pct >= self.threshold and pct > self.peaks.get(proc.pid, (0, ""))[0]:
                        self.peaks[proc.pid] = (pct, proc.info["name"])

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[str]:
        """Stop sampling; return one line per competing process, busiest first."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        return [f"{name} (pid {pid}) up to {pct:.0f}% CPU"
                for pid, (pct, name) in sorted(self.peaks.items(), key=lambda kv: -kv[1][0])]


def summarize(records: list[dict], frameworks: list[str], workloads: list[str]) -> dict:
    """Medians and spreads per (workload, framework), and the skip reason where none succeeded."""
    table: dict = {}
    for key in workloads:
        for fw in frameworks:
            runs = [r for r in records if r.get("workload") == key and r["framework"] == fw]
            good = [r for r in runs if r.get("ok")]
            cell: dict = {"runs": len(good)}
            if good:
                secs = [r["seconds"] for r in good]
                med = statistics.median(secs)
                cell.update(
                    secs=secs if len(good) == len(runs) else None,  # in repeat order, for pairing
                    seconds=med, steps=good[0]["steps"], step_us=med / good[0]["steps"] * 1e6,
                    spread=(max(secs) - min(secs)) / med if med else 0.0,
                    peak_rss_mib=statistics.median(r["peak_rss_mib"] for r in good),
                    contended=sum(bool(r.get("contended")) for r in good),
                    rss_setup_mib=statistics.median(r.get("rss_setup_mib", 0) for r in good),
                )
                cb = [r["epoch_callback_s"] for r in good if "epoch_callback_s" in r]
                if cb:
                    cell["epoch_callback_s"] = statistics.median(cb)
            if len(good) < len(runs):
                bad = next(r for r in runs if not r.get("ok"))
                cell["error"] = f"{bad.get('phase', '?')}: {bad.get('error', 'unknown error')}"
            if runs:
                table[(key, fw)] = cell
    return table


def paired_ratios(table: dict, workloads: list[str],
                  pairs: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Per workload, ``'chainrule / PyTorch 0.52 [0.48–0.82]'``-style texts of paired ratios.

    Each ratio is the median over repeats of the numerator's run divided by the denominator's run
    of the same repeat, with the range.
    """
    result = []
    for key in workloads:
        parts = []
        for num, den in pairs:
            mine = table.get((key, num), {}).get("secs")
            theirs = table.get((key, den), {}).get("secs")
            if mine and theirs and len(mine) == len(theirs):
                r = [a / b for a, b in zip(mine, theirs)]
                parts.append(f"{label(num)} / {label(den)} {statistics.median(r):.2f} "
                             f"[{min(r):.2f}–{max(r):.2f}]")
        if parts:
            result.append((key, parts))
    return result


def render(table: dict, sgemm: dict, frameworks: list[str], workloads: list[str],
           args: argparse.Namespace, versions: dict[str, str], header: list[str]) -> str:
    """The Markdown report: settings, main table, memory table and notes."""
    rate = sgemm["gflops"] * 1e9
    settings = [f"{args.threads} threads"]
    if args.env:
        settings.append("environment " + " ".join(f"{k}={v}" for k, v in args.env.items()))
    if args.load:
        settings.append(f"beside a competing load of {args.load} busy process"
                        f"{'es' if args.load > 1 else ''} (pure-Python loops started before each "
                        "run and killed after it; not during the sgemm measurement)")
    out = [
        (f"Settings: {', '.join(settings)}, {args.repeats} runs per cell (median), "
         f"{'QUICK smoke run, ' if args.quick else ''}each run a separate process after a "
         "warm-up epoch/call."),
        *header,
        (f"sgemm (median of 3 processes' best): {sgemm['gflops']:.1f} GFLOP/s float32 "
         f"({sgemm['shape']}), "
         f"{sgemm['gflops_batch32']:.1f} GFLOP/s at batch-32 size ({sgemm['shape_batch32']}); "
         f"NumPy {sgemm['numpy']}."),
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        "",
        ("Each cell: median time per epoch (per call for e) and, below it, per step (batch); "
         "± is half the range of the runs, shown where the range exceeds 10 %."),
        "",
    ]
    cols = ["workload", "steps"] + [label(f) for f in frameworks]
    pairs = ratio_pairs(frameworks)
    cols += [f"{label(a)} / {label(b)}" for a, b in pairs] + ["matmul floor"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join(["---"] + ["--:"] * (len(cols) - 1)) + "|")
    notes: list[str] = []
    for key in workloads:
        wl = W.WORKLOADS[key]
        row = [f"({key}) {wl.title}", str(wl.steps(args.quick))]
        for fw in frameworks:
            cell = table.get((key, fw))
            if cell and "seconds" in cell:
                text = f"{fmt_time(cell['seconds'])}<br>{fmt_step(cell['step_us'])}"
                if cell["spread"] > 0.10:
                    text += f" (±{cell['spread'] / 2:.0%})"
                if cell["contended"]:
                    text += " †"
                row.append(text)
            elif cell and "error" in cell:
                notes.append(f"{label(fw)} on ({key}) skipped — {cell['error']}")
                row.append(f"skipped [{len(notes)}]")
            else:
                row.append("—")
        for num, den in pairs:
            a, b = table.get((key, num), {}), table.get((key, den), {})
            row.append(f"{a['seconds'] / b['seconds']:.2f}×"
                       if "seconds" in a and "seconds" in b else "—")
        floor = wl.flops(args.quick) / rate
        row.append(f"{fmt_time(floor)}<br>{fmt_step(floor / wl.steps(args.quick) * 1e6)}")
        out.append("| " + " | ".join(row) + " |")
    paired = paired_ratios(table, workloads, pairs)
    if paired:
        out += ["", ("Paired ratios: the median over repeats of one column's run divided by the "
                     "other's run of the same repeat (they ran one after the other), with the "
                     "range; less sensitive to the machine's drift than a ratio of medians:"), ""]
        out += [f"- ({key}) " + ", ".join(parts) for key, parts in paired]
    rss_rows = [k for k in workloads if k == "d"]
    if rss_rows:
        out += ["", ("Peak RSS of the child process (MiB, median; in brackets: after import, "
                     "data and model build, before training):"), ""]
        out.append("| workload | " + " | ".join(label(f) for f in frameworks) + " |")
        out.append("|---|" + "|".join("--:" for _ in frameworks) + "|")
        for key in rss_rows:
            cells = []
            for fw in frameworks:
                cell = table.get((key, fw), {})
                cells.append(f"{cell['peak_rss_mib']:,.0f} ({cell['rss_setup_mib']:,.0f})"
                             if "peak_rss_mib" in cell else "—")
            out.append(f"| ({key}) | " + " | ".join(cells) + " |")
    inner = []
    for key in workloads:
        cell = table.get((key, "keras"), {})
        if "epoch_callback_s" in cell:
            inner.append(f"({key}) {fmt_step(cell['epoch_callback_s'] / cell['steps'] * 1e6)}")
    if inner:
        out += ["", "Keras per step measured inside `fit` (epoch callback, excluding the per-call "
                "setup of `fit`): " + ", ".join(inner) + "."]
    if any(cell.get("contended") for cell in table.values()):
        out += ["", (f"† some runs in this cell were still disturbed by other processes (more "
                     f"than {args.max_others:g} cores) after {args.retries} repeats; see the JSON "
                     "records.")]
    if notes:
        out += ["", *[f"[{i}] {n}" for i, n in enumerate(notes, 1)]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the Markdown report."""
    args = parse_args(argv)
    env = child_env(args.threads, args.env)
    cols = columns(args)
    header = system_summary()
    busy = busy_processes()
    if busy:
        header.append("busy processes at start: " + "; ".join(busy))
    if args.chainrule_a:
        header.append(f"A/B: chainrule A = {describe_tree(args.chainrule_a)}; "
                      f"B = {describe_tree(args.chainrule_b)}")
    for line in header:
        log(line)

    monitor = CpuMonitor().start()
    started = time.perf_counter()
    log("measuring sgemm ...")
    sgemm_runs = [measure(args, {"framework": "sgemm"}, env) for _ in range(3)]
    if not all(r.get("ok") for r in sgemm_runs):
        log(f"sgemm measurement failed: {sgemm_runs[-1].get('error')}")
        return 1
    sgemm = dict(sgemm_runs[0])
    for key in ("gflops", "gflops_batch32"):
        sgemm[key] = statistics.median(r[key] for r in sgemm_runs)
    sgemm["runs"] = sgemm_runs
    log(f"sgemm: {sgemm['gflops']:.1f} GFLOP/s")

    records: list[dict] = []
    dead: dict[str, str] = {}  # framework -> import error: skip it everywhere
    versions: dict[str, str] = {}
    for key in args.workloads:
        broken: set[str] = set()  # frameworks that failed on this workload
        for rep in range(args.repeats):
            for fw in cols:
                if fw in dead or fw in broken:
                    continue
                result = measure(args, run_spec(args, fw, key), env, args.load)
                result["framework"] = fw
                records.append(result)
                if result.get("ok"):
                    versions.update(result.get("versions", {}))
                    log(f"({key}) {fw:14s} run {rep + 1}/{args.repeats}: "
                        f"{fmt_time(result['seconds'])}, "
                        f"{result['seconds'] / result['steps'] * 1e6:,.1f} µs/step, "
                        f"peak RSS {result['peak_rss_mib']:,.0f} MiB")
                    continue
                log(f"({key}) {fw:14s} FAILED in {result.get('phase')}: {result.get('error')}")
                for line in result.get("stderr_tail", [])[-5:]:
                    log("    " + line)
                if result.get("phase") == "import":
                    dead[fw] = result.get("error", "")
                else:
                    broken.add(fw)
    # Frameworks that failed to import were run once; mark them on every requested workload.
    for fw, err in dead.items():
        for key in args.workloads:
            if not any(r.get("workload") == key and r["framework"] == fw for r in records):
                records.append({"framework": fw, "workload": key, "ok": False,
                                "phase": "import", "error": err})

    competing = monitor.stop()
    repeated = sum(r.get("attempts", 1) - 1 for r in [*sgemm_runs, *records])
    header.append(f"runs repeated because other processes used the CPU: {repeated}")
    header.append(f"total benchmark wall time: {time.perf_counter() - started:.0f} s")
    if hasattr(os, "getloadavg"):
        header.append("load average after the run: "
                      + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    header.append("other processes seen using CPU during the run: "
                  + ("; ".join(competing[:5]) if competing else "none above 20%"))
    sources = sorted({r["chainrule_source"] for r in records if r.get("chainrule_source")})
    if sources and not args.chainrule_a:
        header.append("chainrule imported from: " + "; ".join(sources))
    table = summarize(records, cols, args.workloads)
    print(render(table, sgemm, cols, args.workloads, args, versions, header))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items() if k != "python"},
                       "header": header, "sgemm": sgemm, "versions": versions,
                       "runs": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

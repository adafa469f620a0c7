"""Data-parallel scaling: 1 against N processes (``chainrule.distribute``) on workloads b and d.

Each configuration runs as ``mpiexec -n N python benchmarks/distributed.py --worker ...`` with one
BLAS thread per process. A worker trains one warm-up epoch (the step is captured there), then
times ``--epochs`` epochs of ``fit`` and reports samples per second, the time spent in the
gradient allreduce per step and the gradient bytes exchanged per step. The report ends with the
ring-allreduce model of the efficiency on N machines (see benchmarks/README.md).

Usage:
    python benchmarks/distributed.py                   # workloads b and d, 1 and 2 processes
    python benchmarks/distributed.py --quick --epochs 1
    python benchmarks/distributed.py --workloads d --procs 1,2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import workloads as W  # noqa: E402

#: ring allreduce cost model: networks (bits per second) and per-message latency
NETWORKS = {"10 Gb/s": 10e9, "100 Gb/s": 100e9}
LATENCY_S = 20e-6


def worker(args: argparse.Namespace) -> None:
    """One configuration, in every process of an mpiexec job; process 0 writes the record."""
    sys.path.insert(0, ROOT)
    import fw_chainrule  # noqa: PLC0415

    import chainrule  # noqa: PLC0415

    fw_chainrule.configure(1)
    dist = chainrule.distribute.DataParallel()
    chainrule.distribute.set_distribution(dist)
    w = W.WORKLOADS[args.worker]
    x, y = W.make_data(w, quick=args.quick)
    runner = fw_chainrule.Runner(w)
    runner.fit(x, y, 1)  # warm-up: the first steps trace and capture
    calls0, secs0 = dist.allreduce_calls, dist.allreduce_seconds
    t0 = time.perf_counter()
    runner.fit(x, y, args.epochs)
    elapsed = time.perf_counter() - t0
    steps = dist.allreduce_calls - calls0
    grad_bytes = sum(v.data.nbytes for v in runner.model.trainable_weights)
    record = {
        "workload": w.key, "processes": dist.num_processes, "samples": len(x),
        "batch_size": w.batch_size, "epochs": args.epochs, "seconds": elapsed,
        "samples_per_s": len(x) * args.epochs / elapsed,
        "steps": w.steps(args.quick) * args.epochs,
        "step_ms": 1e3 * elapsed / (w.steps(args.quick) * args.epochs),
        "allreduce_ms_per_step": 1e3 * (dist.allreduce_seconds - secs0) / steps if steps else 0.0,
        "gradient_bytes": grad_bytes, "final_loss": runner.history["loss"][-1],
    }
    if dist.process_id == 0:
        with open(args.json_out, "w") as f:
            json.dump(record, f)


def ring_efficiency(step_s: float, grad_bytes: int, n: int, bits_per_s: float) -> float:
    """Efficiency on ``n`` machines: the ideal step time over the modelled one.

    One machine's step of the global batch takes ``step_s``; with ``n`` machines the compute
    splits into ``step_s / n`` and a ring allreduce adds
    ``2 (n - 1) / n * bytes / bandwidth + latency``.
    """
    if n == 1:
        return 1.0
    comm = 2 * (n - 1) / n * grad_bytes * 8 / bits_per_s + LATENCY_S
    return (step_s / n) / (step_s / n + comm)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="b,d")
    p.add_argument("--procs", default="1,2")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="4,096 samples")
    p.add_argument("--json")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = mpiexec if os.path.exists(mpiexec) else shutil.which("mpiexec")
    if mpiexec is None:
        sys.exit("mpiexec not found: pip install 'chainrule[mpi]'")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               CHAINRULE_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    records = []
    for key in args.workloads.split(","):
        for n in [int(v) for v in args.procs.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "r.json")
                cmd = [mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__),
                       "--worker", key, "--json-out", out, "--epochs", str(args.epochs)]
                cmd += ["--quick"] if args.quick else []
                print(f"workload {key}, {n} process(es) ...", file=sys.stderr)
                subprocess.run(cmd, env=env, check=True)
                with open(out) as f:
                    records.append(json.load(f))
    print("| workload | processes | samples/s | step (ms) | allreduce per step (ms) | "
          "gradient MB | speed-up |")
    print("|---|---|---|---|---|---|---|")
    base = {}
    for r in records:
        base.setdefault(r["workload"], r["samples_per_s"])
        print(f"| {r['workload']} | {r['processes']} | {r['samples_per_s']:.0f} | "
              f"{r['step_ms']:.2f} | {r['allreduce_ms_per_step']:.3f} | "
              f"{r['gradient_bytes'] / 1e6:.2f} | "
              f"{r['samples_per_s'] / base[r['workload']]:.2f} |")
    print("\nModelled efficiency on N machines (one process per machine, ring allreduce, "
          f"{LATENCY_S * 1e6:.0f} µs latency):\n")
    print("| workload | network | N=2 | N=4 | N=8 | N=16 | N=64 |")
    print("|---|---|---|---|---|---|---|")
    for r in records:
        if r["processes"] != 1:
            continue
        step_s = r["step_ms"] / 1e3
        for name, bw in NETWORKS.items():
            effs = [ring_efficiency(step_s, r["gradient_bytes"], n, bw) for n in (2, 4, 8, 16, 64)]
            print(f"| {r['workload']} | {name} | " + " | ".join(f"{e:.0%}" for e in effs) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)


if __name__ == "__main__":
    main()

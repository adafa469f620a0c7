"""Time ``train_on_batch`` and ``predict_on_batch`` loops, paired between two chainrule trees.

Each measurement is a fresh subprocess running one tree: the (b) MLP (784-256-256-10, batch 32,
Adam, sparse categorical cross-entropy from logits), a warm-up of 20 calls, then ``--calls``
``train_on_batch`` calls and ``--calls`` ``predict_on_batch`` calls on one batch, reporting
wall and CPU time (``time.process_time``) per call. The trees alternate within every repeat,
optionally beside ``--load`` busy processes (``bench.py``'s competing load)::

    python benchmarks/on_batch.py --tree-a OLD_TREE --tree-b NEW_TREE --repeats 3 --load 2

Prints one JSON line per measurement, then a summary of paired ratios B / A (median, range)
and each tree's minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CompetingLoad, child_env  # noqa: E402  (a sibling module)

CHILD = r"""
import json, sys, time
import numpy as np
import chainrule as cr

calls = int(sys.argv[1])
cr.utils.set_random_seed(0)
model = cr.Sequential([cr.Input((784,)), cr.layers.Dense(256, activation="relu"),
                       cr.layers.Dense(256, activation="relu"), cr.layers.Dense(10)])
model.compile("adam", cr.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
x = rng.standard_normal((32, 784)).astype("float32")
y = rng.integers(0, 10, 32)
out = {"chainrule": cr.__file__}
for name, fn in (("train_on_batch", lambda: model.train_on_batch(x, y)),
                 ("predict_on_batch", lambda: model.predict_on_batch(x))):
    for _ in range(20):
        fn()
    w, c = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    out[name] = {"wall_us": (time.perf_counter() - w) / calls * 1e6,
                 "cpu_us": (time.process_time() - c) / calls * 1e6}
print(json.dumps(out))
"""


def run(tree: str, calls: int, threads: int, load: int) -> dict:
    """One subprocess measurement of ``tree``."""
    env = child_env(threads)
    env["PYTHONPATH"] = tree
    with CompetingLoad(load):
        proc = subprocess.run([sys.executable, "-c", CHILD, str(calls)], env=env, cwd=tree,
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Command line: see the module's docstring."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree-a", required=True, help="the old chainrule tree (A)")
    p.add_argument("--tree-b", required=True, help="the new chainrule tree (B)")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="BLAS and chainrule threads")
    p.add_argument("--load", type=int, default=0, help="busy processes beside each run")
    p.add_argument("--first", choices=("A", "B"), default="A",
                   help="the tree measured first in even repeats (alternate it between runs)")
    args = p.parse_args()
    results: dict = {"A": [], "B": []}
    for rep in range(args.repeats):
        order = ("A", "B") if (rep % 2 == 0) == (args.first == "A") else ("B", "A")
        for side in order:
            tree = args.tree_a if side == "A" else args.tree_b
            r = run(os.path.abspath(tree), args.calls, args.threads, args.load)
            results[side].append(r)
            print(json.dumps({"side": side, "repeat": rep, "load": args.load, **r}), flush=True)
    for name in ("train_on_batch", "predict_on_batch"):
        for key in ("wall_us", "cpu_us"):
            a = [r[name][key] for r in results["A"]]
            b = [r[name][key] for r in results["B"]]
            ratios = sorted(y / x for x, y in zip(a, b))
            print(f"{name:17s} {key:7s} A min {min(a):8.1f}  B min {min(b):8.1f}  "
                  f"B/A median {statistics.median(ratios):.2f} "
                  f"[{ratios[0]:.2f}-{ratios[-1]:.2f}]  (load {args.load})")


if __name__ == "__main__":
    main()

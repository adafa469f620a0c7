"""Benchmark of the sequence workloads (j), (k), (l): chainrule against PyTorch and Keras 3.

Each (framework, workload) run is a child process of this script, so frameworks never share
threads, allocators or peak RSS. Runs are interleaved round by round (every framework once per
round, in a rotating order), so a change in the machine's load hits all of them alike; the
report gives each run's time and each round's ratio to the faster peer.

    benchmarks/.venv/bin/python benchmarks/sequences.py --rounds 3 --threads 1

A child warms up on a tenth of the data (tracing, captures, allocations) and then times one
epoch of ``fit`` (``j``, ``k``) or one ``predict`` call (``l``). The models are built from
:data:`workloads.SEQUENCE_WORKLOADS`'s ``spec`` (Keras layer names): Keras builds them by
name, chainrule too, and PyTorch translates them with :data:`TORCH_LAYERS`
(``nn.Embedding``, ``nn.LSTM``/``nn.GRU`` with ``batch_first``, ``nn.Linear`` on the last
step's output, and the sigmoid fused into ``BCEWithLogitsLoss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads as W  # noqa: E402

FRAMEWORKS = ("chainrule", "torch", "keras")
TORCH_LAYERS = {"LSTM": "LSTM", "GRU": "GRU"}


def _configure(framework: str, threads: int) -> None:
    # NumPy's BLAS threads come from the environment the orchestrator gives the child
    if framework == "keras":
        os.environ["KERAS_BACKEND"] = "tensorflow"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)


def _chainrule_model(w: W.SequenceWorkload):
    import chainrule as cr

    cr.utils.set_random_seed(W.SEED)
    layers = [cr.layers.Input((w.timesteps,), dtype="int32")]
    layers += [getattr(cr.layers, name)(**kwargs) for name, kwargs in w.spec]
    model = cr.Sequential(layers)
    model.compile(optimizer=cr.optimizers.Adam(w.learning_rate, epsilon=W.ADAM_EPSILON),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _keras_model(w: W.SequenceWorkload):
    import keras

    keras.utils.set_random_seed(W.SEED)
    layers = [keras.layers.Input((w.timesteps,), dtype="int32")]
    layers += [getattr(keras.layers, name)(**kwargs) for name, kwargs in w.spec]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(w.learning_rate, epsilon=W.ADAM_EPSILON),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


class _TorchRunner:
    def __init__(self, w: W.SequenceWorkload) -> None:
        import torch
        from torch import nn

        torch.manual_seed(W.SEED)
        (_, emb), (rec_name, rec), (_, dense) = w.spec
        rnn_cls = getattr(nn, TORCH_LAYERS[rec_name])

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.emb = nn.Embedding(emb["input_dim"], emb["output_dim"])
                self.rnn = rnn_cls(emb["output_dim"], rec["units"], batch_first=True)
                self.out = nn.Linear(rec["units"], dense["units"])

            def forward(self, x):
                seq, _ = self.rnn(self.emb(x))
                return self.out(seq[:, -1])

        self.torch, self.w = torch, w
        self.net = Net()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=w.learning_rate,
                                    eps=W.ADAM_EPSILON)
        self.loss = nn.BCEWithLogitsLoss()

    def fit(self, x, y) -> None:
        torch, b = self.torch, self.w.batch_size
        xt, yt = torch.from_numpy(x.astype("int64")), torch.from_numpy(y)
        self.net.train()
        for i in range(0, len(x), b):
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.net(xt[i:i + b]), yt[i:i + b])
            loss.backward()
            self.opt.step()

    def predict(self, x):
        torch, b = self.torch, self.w.batch_size
        xt = torch.from_numpy(x.astype("int64"))
        self.net.eval()
        with torch.no_grad():
            return torch.cat([torch.sigmoid(self.net(xt[i:i + b]))
                              for i in range(0, len(x), b)]).numpy()


def child(framework: str, key: str, threads: int, quick: bool) -> dict:
    """One timed run in this process; returns seconds, peak RSS and versions."""
    _configure(framework, threads)
    w = W.SEQUENCE_WORKLOADS[key]
    x, y = W.make_sequence_data(w, quick)
    warm = max(w.batch_size, len(x) // 10)
    if framework == "chainrule":
        sys.path.insert(0, os.path.dirname(HERE))
        model = _chainrule_model(w)
        fit = lambda a, b: model.fit(a, b, batch_size=w.batch_size, epochs=1,  # noqa: E731
                                     shuffle=False, verbose=0)
        predict = lambda a: model.predict(a, batch_size=w.batch_size, verbose=0)  # noqa: E731
        import numpy

        import chainrule

        versions = {"chainrule": chainrule.__version__, "numpy": numpy.__version__}
    elif framework == "keras":
        model = _keras_model(w)
        fit = lambda a, b: model.fit(a, b, batch_size=w.batch_size, epochs=1,  # noqa: E731
                                     shuffle=False, verbose=0)
        predict = lambda a: model.predict(a, batch_size=w.batch_size, verbose=0)  # noqa: E731
        import keras
        import tensorflow as tf

        versions = {"keras": keras.__version__, "tensorflow": tf.__version__}
    else:
        runner = _TorchRunner(w)
        fit, predict = runner.fit, runner.predict
        versions = {"torch": runner.torch.__version__}
    if w.kind == "train":
        fit(x[:warm], y[:warm])
        start = time.perf_counter()
        fit(x, y)
    else:
        fit(x[:warm], y[:warm])
        predict(x[:warm])
        start = time.perf_counter()
        predict(x)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"framework": framework, "workload": key, "threads": threads, "seconds": seconds,
            "peak_rss_mb": rss_mb, "versions": versions}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "KEY", "THREADS"))
    parser.add_argument("--workloads", default="jkl")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="write every run as JSON lines here")
    args = parser.parse_args()
    if args.child:
        fw, key, threads = args.child
        print(json.dumps(child(fw, key, int(threads), args.quick)))
        return 0
    frameworks = args.frameworks.split(",")
    results: list = []
    for r in range(args.rounds):
        for key in args.workloads:
            order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
            row = {}
            for fw in order:
                cmd = [sys.executable, os.path.abspath(__file__), "--child", fw, key,
                       str(args.threads)] + (["--quick"] if args.quick else [])
                env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                           OPENBLAS_NUM_THREADS=str(args.threads),
                           MKL_NUM_THREADS=str(args.threads))
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    print(f"{fw} {key} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                    continue
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                res["round"] = r
                results.append(res)
                row[fw] = res
            peers = [row[f]["seconds"] for f in ("torch", "keras") if f in row]
            cr_s = row.get("chainrule", {}).get("seconds")
            ratio = f"{cr_s / min(peers):.2f}" if peers and cr_s else "-"
            print(f"round {r} ({key}): " + ", ".join(
                f"{f} {row[f]['seconds']:.2f} s / {row[f]['peak_rss_mb']:.0f} MB" for f in row)
                + f"; chainrule / faster peer = {ratio}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            for res in results:
                f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

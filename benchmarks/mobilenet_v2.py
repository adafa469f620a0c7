"""MobileNetV2 (160x160, alpha 1.0, random weights) on the CPU: chainrule against itself,
Keras 3 (TensorFlow) and PyTorch.

Two steps, as in keras-io's transfer-learning guide (without its augmentation):

- ``predict``: the base (``include_top=False``) on a batch of 32 images (chainrule:
  ``predict(x, batch_size=32)``, which replays its captured step; Keras: ``predict_on_batch``,
  its quickest call; PyTorch: ``no_grad`` in eval mode);
- ``fit``: one training step of a new head on the frozen base: base (inference mode) →
  global average pooling → dropout 0.2 → Dense(1), binary cross-entropy from logits, Adam
  (``train_on_batch``; PyTorch: the base without gradients, then the head's step);
  ``fit_call`` (chainrule only, with ``fit``): the same step as ``fit(x, y, epochs=1)``.

PyTorch has no MobileNetV2 without torchvision: the same network is built from
``torch.nn.Conv2d`` (``groups=channels`` for the depthwise steps), ``BatchNorm2d`` and
``ReLU6`` (padding 1 on both sides where Keras pads the stride-2 steps by hand; same shapes).

One process per measurement (``--worker``); the driver runs them interleaved (A, B, A, B ...)
and prints each one's minimum over its repeats, its CPU time per step, and paired ratios
against the first configuration::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE benchmarks/.venv/bin/python \\
        benchmarks/mobilenet_v2.py --configs chainrule:OLD_TREE,chainrule:NEW_TREE \\
        --threads 1 --rounds 2 --repeats 3 --steps predict,fit
    ... --configs chainrule:NEW_TREE,keras,torch

``chainrule:PATH`` imports chainrule from the source tree PATH (PYTHONPATH). Steps
``op_*`` time single chainrule ops on the network's tensors (see ``_chainrule_ops``)::

    ... --configs chainrule:OLD_TREE,chainrule:NEW_TREE --steps op_depthwise,op_pointwise
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

BATCH, SIZE = 32, 160


def _data(np):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype("float32")
    y = rng.integers(0, 2, (BATCH, 1)).astype("float32")
    return x, y


def _time(fn, repeats):
    """``fn`` twice to warm up (chainrule captures its step then), then ``repeats`` timed
    calls: wall and CPU seconds of each."""
    for _ in range(2):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def run_chainrule(steps, repeats):
    import numpy as np

    import chainrule as cr

    x, y = _data(np)
    out = {"versions": {"numpy": np.__version__,
                        "fused_kernels": cr.config.fused_kernels()}}
    cr.utils.set_random_seed(0)
    if "predict" in steps or "fit" in steps:
        base = cr.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), include_top=False,
                                           weights=None)
    if "predict" in steps:  # predict replays a captured step; predict_on_batch runs the tape
        out["predict"] = _time(lambda: base.predict(x, batch_size=BATCH, verbose=0), repeats)
    if "fit" in steps:
        base.trainable = False
        inputs = cr.Input((SIZE, SIZE, 3))
        h = base(inputs, training=False)
        h = cr.layers.GlobalAveragePooling2D()(h)
        h = cr.layers.Dropout(0.2)(h)
        model = cr.Model(inputs, cr.layers.Dense(1)(h))
        model.compile(optimizer=cr.optimizers.Adam(1e-4),
                      loss=cr.losses.BinaryCrossentropy(from_logits=True))
        out["fit"] = _time(lambda: model.train_on_batch(x, y), repeats)
        if "fit_call" in steps:  # the same step through fit (BLAS threads follow the load)
            out["fit_call"] = _time(lambda: model.fit(x, y, batch_size=BATCH, epochs=1,
                                                      verbose=0, shuffle=False), repeats)
    _chainrule_ops(cr, np, steps, repeats, out)
    return out


def _chainrule_ops(cr, np, steps, repeats, out):
    """Single ops on MobileNetV2's tensors (block 2 at 160x160: 32 x 40 x 40 x 144), on the
    tape: ``op_depthwise`` (3x3, stride 1, "same"), ``op_depthwise_train`` (the same forward
    and backward, input and kernel gradients), ``op_pointwise`` (1x1, 144 -> 24),
    ``op_relu6`` (the ``ReLU(6.0)`` layer), ``op_bn`` (``BatchNormalization`` in inference)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 40, 40, 144)).astype("float32")
    dw = rng.standard_normal((3, 3, 144, 1)).astype("float32")
    pw = rng.standard_normal((1, 1, 144, 24)).astype("float32")
    gy = rng.standard_normal(x.shape).astype("float32")
    relu6 = cr.layers.ReLU(6.0)
    bn = cr.layers.BatchNormalization()
    bn.build(x.shape)

    def train():
        xt, wt = cr.Tensor(x, requires_grad=True), cr.Tensor(dw, requires_grad=True)
        cr.ops.depthwise_conv(xt, wt, 1, "same").backward(gy)

    calls = {"op_depthwise": lambda: cr.ops.depthwise_conv(x, dw, 1, "same"),
             "op_depthwise_train": train,
             "op_pointwise": lambda: cr.ops.conv(x, pw),
             "op_relu6": lambda: relu6(x), "op_bn": lambda: bn(x, training=False)}
    for step in steps:
        if step in calls:
            out[step] = _time(calls[step], repeats)


def run_keras(steps, repeats, threads):
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    x, y = _data(np)
    out = {"versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), include_top=False,
                                          weights=None)
    if "predict" in steps:
        out["predict"] = _time(lambda: base.predict_on_batch(x), repeats)
    if "fit" in steps:
        base.trainable = False
        inputs = keras.Input((SIZE, SIZE, 3))
        h = base(inputs, training=False)
        h = keras.layers.GlobalAveragePooling2D()(h)
        h = keras.layers.Dropout(0.2)(h)
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile(optimizer=keras.optimizers.Adam(1e-4),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
        out["fit"] = _time(lambda: model.train_on_batch(x, y), repeats)
    return out


def _torch_mobilenet_v2(nn):
    """MobileNetV2's feature extractor (alpha 1.0) from ``torch.nn`` layers."""

    def cbr(cin, cout, k, stride, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout, eps=1e-3, momentum=0.001)]
        return layers + [nn.ReLU6()] if act else layers

    class Block(nn.Module):
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            mid = cin * t
            layers = cbr(cin, mid, 1, 1) if t != 1 else []
            layers += cbr(mid, mid, 3, stride, groups=mid) + cbr(mid, cout, 1, 1, act=False)
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            y = self.body(x)
            return x + y if self.residual else y

    layers, cin = cbr(3, 32, 3, 2), 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            layers.append(Block(cin, c, s if i == 0 else 1, t))
            cin = c
    return nn.Sequential(*layers, *cbr(cin, 1280, 1, 1))


def run_torch(steps, repeats, threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(0)
    x, y = _data(np)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)
    out = {"versions": {"torch": torch.__version__}}
    base = _torch_mobilenet_v2(torch.nn).eval()
    for p in base.parameters():
        p.requires_grad_(False)
    if "predict" in steps:
        def predict():
            with torch.no_grad():
                return base(xt).numpy()
        out["predict"] = _time(predict, repeats)
    if "fit" in steps:
        head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.2),
                                   torch.nn.Linear(1280, 1))
        opt = torch.optim.Adam(head.parameters(), lr=1e-4)
        loss_fn = torch.nn.BCEWithLogitsLoss()

        def fit():
            with torch.no_grad():
                feats = base(xt).mean(dim=(2, 3))
            opt.zero_grad()
            loss = loss_fn(head(feats), yt)
            loss.backward()
            opt.step()
            return loss.item()
        out["fit"] = _time(fit, repeats)
    return out


def worker(args):
    steps = args.steps.split(",")
    if args.framework == "chainrule":
        out = run_chainrule(steps, args.repeats)
    elif args.framework == "keras":
        out = run_keras(steps, args.repeats, args.threads)
    else:
        out = run_torch(steps, args.repeats, args.threads)
    import resource  # noqa: PLC0415

    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def driver(args):
    configs = args.configs.split(",")
    results = {c: [] for c in configs}
    for _ in range(args.rounds):
        for config in configs:
            framework, _, tree = config.partition(":")
            env = dict(os.environ)
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                        "NUMBA_NUM_THREADS"):
                env[var] = str(args.threads)
            if tree:
                env["PYTHONPATH"] = os.path.abspath(tree)
            cmd = [sys.executable, __file__, "--worker", "--framework", framework,
                   "--threads", str(args.threads), "--repeats", str(args.repeats),
                   "--steps", args.steps]
            text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            line = [s for s in text.stdout.splitlines() if s.startswith("RESULT ")]
            if not line:
                sys.exit(f"{config} failed:\n{text.stderr[-3000:]}")
            result = json.loads(line[0][7:])
            results[config].append(result)
            print(config, " ".join(f"{step} {min(result[step][0]) * 1e3:.1f} ms (cpu "
                                   f"{min(result[step][1]) * 1e3:.1f})"
                                   for step in args.steps.split(",")),
                  f"peak RSS {result.get('peak_rss_mib', 0):.0f} MiB", flush=True)
    first = configs[0]
    print(f"threads {args.threads}, rounds {args.rounds}, repeats {args.repeats}")
    for config in configs:
        print(config, results[config][0]["versions"])
        for step in args.steps.split(","):
            walls = [min(r[step][0]) for r in results[config]]
            cpus = [min(r[step][1]) for r in results[config]]
            ratio = [w / min(r[step][0]) for w, r in zip(walls, results[first])]
            print(f"  {step:8s} min {min(walls) * 1e3:8.1f} ms  per round "
                  f"{[round(w * 1e3, 1) for w in walls]}  cpu {min(cpus) * 1e3:8.1f} ms  "
                  f"/ {first}: {[round(r, 3) for r in ratio]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--framework", default="chainrule", choices=["chainrule", "keras", "torch"])
    p.add_argument("--configs", default="chainrule",
                   help="comma-separated: chainrule[:TREE], keras, torch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", default="predict,fit")
    args = p.parse_args()
    worker(args) if args.worker else driver(args)


if __name__ == "__main__":
    main()

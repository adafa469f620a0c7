"""PyTorch runner: a plain eager training loop, the way a PyTorch user writes one.

No DataLoader: each epoch makes one shuffled copy of the data and slices batches from it. Each step
is ``zero_grad`` → forward → loss → ``backward`` → ``step``, and the metrics Keras reports
(running loss and accuracy, or MAE/MSE) are accumulated per batch so the work is comparable.
The softmax is fused into ``cross_entropy`` (PyTorch's idiom); ``predict`` applies it explicitly.
"""

from __future__ import annotations

import numpy as np
import workloads as W

torch = None  # imported in configure(), after the thread settings are in the environment


def configure(threads: int) -> None:
    """Import PyTorch and pin its intra- and inter-op thread pools to ``threads``."""
    global torch
    import torch as _torch

    torch = _torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)


def versions() -> dict[str, str]:
    """Versions of the libraries this runner uses."""
    return {"torch": torch.__version__, "numpy": np.__version__}


def antirectifier() -> "torch.nn.Module":
    """The antirectifier of :data:`workloads.ANTIRECTIFIER` as a PyTorch module (no weights)."""

    class Antirectifier(torch.nn.Module):
        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            x = x - x.mean(dim=-1, keepdim=True)
            sq = (x * x).sum(dim=-1, keepdim=True)
            x = x / torch.sqrt(torch.clamp(sq, min=W.ANTIRECTIFIER_EPSILON))
            return torch.cat([torch.relu(x), torch.relu(-x)], dim=-1)

    return Antirectifier()


def from_spec(workload: W.Workload) -> "torch.nn.Sequential":
    """The PyTorch modules for a workload's Keras ``spec`` (channels first, as PyTorch computes).

    The table: ``Conv1D``/``Conv2D`` → ``nn.Conv1d``/``nn.Conv2d`` (+ the activation module),
    ``MaxPooling*``/``AveragePooling*`` → ``nn.MaxPool*d``/``nn.AvgPool*d``, ``Flatten``,
    ``Dropout``, ``Dense`` → ``nn.Linear``. Kernels are Glorot-uniform and biases zero, as
    Keras's defaults; a final softmax is left to ``cross_entropy``. The runner hands the data
    over channels first (:meth:`Runner.to_torch`).
    """
    nn = torch.nn
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    shape = (workload.input_shape[-1], *workload.input_shape[:-1])  # (C, *spatial)
    mods: list = []
    for i, (name, kw) in enumerate(workload.spec):
        last = i == len(workload.spec) - 1
        if name in ("Conv1D", "Conv2D"):
            rank = int(name[4])
            if kw.get("padding", "valid") != "valid" or kw.get("dilation_rate", 1) != 1:
                raise NotImplementedError(f"the torch table has only valid, undilated {name}")
            conv = (nn.Conv1d, nn.Conv2d)[rank - 1](shape[0], kw["filters"], kw["kernel_size"],
                                                    stride=kw.get("strides", 1))
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
            mods.append(conv)
            with torch.no_grad():
                shape = tuple(conv(torch.zeros((1, *shape))).shape[1:])
        elif name in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
            rank = int(name[-2])
            cls = {("Max", 1): nn.MaxPool1d, ("Max", 2): nn.MaxPool2d,
                   ("Ave", 1): nn.AvgPool1d, ("Ave", 2): nn.AvgPool2d}[(name[:3], rank)]
            pool = kw.get("pool_size", 2)
            mods.append(cls(pool, stride=kw.get("strides") or pool))
            with torch.no_grad():
                shape = tuple(mods[-1](torch.zeros((1, *shape))).shape[1:])
        elif name == "Flatten":
            mods.append(nn.Flatten())
            shape = (int(np.prod(shape)),)
        elif name == "Dropout":
            mods.append(nn.Dropout(kw["rate"]))
        elif name == "Dense":
            linear = nn.Linear(shape[-1], kw["units"])
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            mods.append(linear)
            shape = (kw["units"],)
        else:
            raise NotImplementedError(f"the torch table has no {name}")
        act = kw.get("activation")
        if act and act != "linear" and not (last and act == "softmax"):
            mods.append(acts[act]())
    return nn.Sequential(*mods)


class Runner:
    """A PyTorch model, optimizer and loss for one workload."""

    def __init__(self, workload: W.Workload) -> None:
        self.w = workload
        torch.manual_seed(W.SEED)
        nn = torch.nn
        layers: list = [nn.Flatten()] if workload.flatten else []
        if workload.spec is not None:
            layers = list(from_spec(workload))
        shapes = workload.dense_shapes
        act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}[workload.hidden_activation]
        for i, (fan_in, fan_out) in enumerate(shapes if workload.spec is None else ()):
            linear = nn.Linear(fan_in, fan_out)
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if i < len(shapes) - 1:
                layers.append(act())
            if i == workload.antirectifier:
                layers.append(antirectifier())
        self.classify = workload.loss == "sparse_categorical_crossentropy"
        if not self.classify:
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers)
        params = self.model.parameters()
        if workload.optimizer == "adam":
            self.opt = torch.optim.Adam(
                params, lr=workload.learning_rate, betas=(W.ADAM_BETA_1, W.ADAM_BETA_2),
                eps=W.ADAM_EPSILON,
            )
        else:
            self.opt = torch.optim.SGD(params, lr=workload.learning_rate)
        functional = torch.nn.functional
        self.loss_fn = functional.cross_entropy if self.classify else functional.mse_loss
        self.history: dict[str, list[float]] = {}

    def to_torch(self, x: np.ndarray) -> "torch.Tensor":
        """The data as a tensor; images channels first (one contiguous copy) for a spec model."""
        if self.w.spec is not None and x.ndim > 2:
            x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
        return torch.from_numpy(x)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        """Train for ``epochs`` epochs, reshuffling once per epoch."""
        xt, yt = self.to_torch(x), torch.from_numpy(y)
        n, bs = len(xt), self.w.batch_size
        model, opt, loss_fn = self.model, self.opt, self.loss_fn
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(n)
            xs, ys = xt[perm], yt[perm]  # one shuffled contiguous copy per epoch
            loss_sum = torch.zeros((), dtype=torch.float64)
            metric_sum = torch.zeros((), dtype=torch.float64)
            for i in range(0, n, bs):
                xb, yb = xs[i:i + bs], ys[i:i + bs]
                opt.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    loss_sum += loss * len(yb)
                    if self.classify:
                        metric_sum += (out.argmax(1) == yb).sum()
                    else:
                        metric_sum += (out - yb).abs().sum()
            key = "accuracy" if self.classify else "mae"
            self.history.setdefault("loss", []).append(float(loss_sum) / n)
            self.history.setdefault(key, []).append(float(metric_sum) / n)

    def extra(self) -> dict:
        """Diagnostics: how many Adam first moments are float32 subnormals (slow arithmetic)."""
        moments = [s["exp_avg"].numpy() for s in self.opt.state.values() if "exp_avg" in s]
        return {"subnormal_adam_m": sum(W.subnormal_count(m) for m in moments)}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward pass in batches of ``batch_size``; returns probabilities as NumPy."""
        xt, bs = self.to_torch(x), self.w.batch_size
        self.model.eval()
        with torch.inference_mode():
            outs = [self.model(xt[i:i + bs]) for i in range(0, len(xt), bs)]
            out = torch.cat(outs)
            if self.classify:
                out = torch.softmax(out, dim=1)
        return out.numpy()

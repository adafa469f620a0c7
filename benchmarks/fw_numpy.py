"""numpy-hand: a hand-written NumPy training loop, the floor a framework's overhead allows.

No framework at all: the parameters and their gradients each live in one flat float32 buffer
(every kernel and bias is a view into it), activations are preallocated per layer, and every
operation writes in place (``out=``). The output layer's softmax and cross-entropy are fused
(gradient ``(p − y) / batch``), Adam follows Keras's formulation
(``lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)``, ``m += (g−m)(1−β₁)``, ``v += (g²−v)(1−β₂)``,
``w −= lr_t·m/(√v+ε)``) as a handful of passes over the flat buffers, and the running loss and
accuracy are computed per batch like Keras's metrics.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import workloads as W

_F32 = np.float32


def configure(threads: int) -> None:
    """Nothing to import; NumPy's BLAS threads come from the environment."""


def versions() -> dict[str, str]:
    """Versions of the libraries this runner uses."""
    return {"numpy": np.__version__}


def _sigmoid_(z: np.ndarray) -> None:
    """In-place logistic function."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    np.reciprocal(z, out=z)


class Runner:
    """A dense network trained by hand-written NumPy code for one workload."""

    def __init__(self, workload: W.Workload) -> None:
        if workload.antirectifier is not None:
            raise NotImplementedError(
                f"numpy-hand has no custom layers; workload ({workload.key}) needs an "
                f"antirectifier. Received: workload={workload.key!r}")
        if workload.spec is not None:
            raise NotImplementedError(
                f"numpy-hand writes Dense stacks only; workload ({workload.key}) is a "
                f"{', '.join(name for name, _ in workload.spec)} model. "
                f"Received: workload={workload.key!r}")
        self.w = workload
        sizes = workload.layer_sizes
        n_params = workload.parameters
        self.params = np.empty(n_params, _F32)
        self.grads = np.zeros(n_params, _F32)
        self.kernels, self.biases, self.gkernels, self.gbiases = [], [], [], []
        rng = np.random.default_rng(W.SEED)
        offset = 0
        for fan_in, fan_out in itertools.pairwise(sizes):
            k = slice(offset, offset + fan_in * fan_out)
            b = slice(k.stop, k.stop + fan_out)
            offset = b.stop
            kernel = self.params[k].reshape(fan_in, fan_out)
            limit = W.glorot_limit(fan_in, fan_out)
            kernel[...] = rng.uniform(-limit, limit, (fan_in, fan_out))
            self.params[b] = 0
            self.kernels.append(kernel)
            self.biases.append(self.params[b])
            self.gkernels.append(self.grads[k].reshape(fan_in, fan_out))
            self.gbiases.append(self.grads[b])
        self.m = np.zeros(n_params, _F32)
        self.v = np.zeros(n_params, _F32)
        self.tmp = np.empty(n_params, _F32)
        self.t = 0
        bs = workload.batch_size
        self.acts = [np.empty((bs, width), _F32) for width in sizes[1:]]
        self.deltas = [np.empty((bs, width), _F32) for width in sizes[1:-1]]
        self.rows = np.arange(bs)
        self.classify = workload.loss == "sparse_categorical_crossentropy"
        self.relu = workload.hidden_activation == "relu"
        self.rng = np.random.default_rng(W.SEED + 1)
        self.xbuf: np.ndarray | None = None
        self.history: dict[str, list[float]] = {}

    def _forward(self, xb: np.ndarray) -> np.ndarray:
        """Forward pass into the preallocated activations; returns the output activation."""
        m = len(xb)
        h = xb
        last = len(self.kernels) - 1
        layers = zip(self.kernels, self.biases, self.acts, strict=True)
        for i, (kernel, bias, act) in enumerate(layers):
            z = act[:m]
            np.matmul(h, kernel, out=z)
            z += bias
            if i < last:
                if self.relu:
                    np.maximum(z, 0, out=z)
                else:
                    _sigmoid_(z)
            h = z
        if self.classify:  # softmax
            h -= h.max(axis=1, keepdims=True)
            np.exp(h, out=h)
            h /= h.sum(axis=1, keepdims=True)
        else:
            _sigmoid_(h)
        return h

    def _step(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
        """One training step; returns the batch's summed loss and summed metric."""
        m = len(xb)
        out = self._forward(xb)
        if self.classify:
            rows = self.rows[:m]
            picked = out[rows, yb]
            loss = -float(np.log(picked).sum())
            metric = float(np.count_nonzero(out.argmax(axis=1) == yb))
            out[rows, yb] -= 1  # fused softmax + cross-entropy gradient: p − onehot(y)
            out *= 1.0 / m
            delta = out
        else:
            diff = out - yb
            loss = float(np.dot(diff.ravel(), diff.ravel()))
            metric = float(np.abs(diff).sum())
            delta = diff * (2.0 / m)  # d(MSE)/d(out), then through the output sigmoid
            delta *= out
            delta *= 1 - out
        for i in range(len(self.kernels) - 1, -1, -1):
            inp = xb if i == 0 else self.acts[i - 1][:m]
            np.matmul(inp.T, delta, out=self.gkernels[i])
            np.sum(delta, axis=0, out=self.gbiases[i])
            if i:
                d = self.deltas[i - 1][:m]
                np.matmul(delta, self.kernels[i].T, out=d)
                if self.relu:
                    d *= inp > 0
                else:
                    d *= inp
                    d *= 1 - inp
                delta = d
        self._update()
        return loss, metric

    def _update(self) -> None:
        """Adam (Keras formulation) or plain SGD over the flat buffers, in place."""
        w, g, tmp, lr = self.params, self.grads, self.tmp, self.w.learning_rate
        if self.w.optimizer != "adam":
            np.multiply(g, lr, out=tmp)
            w -= tmp
            return
        self.t += 1
        b1, b2 = W.ADAM_BETA_1, W.ADAM_BETA_2
        lr_t = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        np.subtract(g, self.m, out=tmp)
        tmp *= 1 - b1
        self.m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= self.v
        tmp *= 1 - b2
        self.v += tmp
        np.sqrt(self.v, out=tmp)
        tmp += W.ADAM_EPSILON
        np.divide(self.m, tmp, out=tmp)
        tmp *= lr_t
        w -= tmp

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        """Train for ``epochs`` epochs on one shuffled contiguous copy per epoch."""
        x2 = x.reshape(len(x), -1)  # Flatten is a free view
        n, bs = len(x2), self.w.batch_size
        if self.xbuf is None or self.xbuf.shape != x2.shape:
            self.xbuf = np.empty_like(x2)
        for _ in range(epochs):
            perm = self.rng.permutation(n)
            xs = np.take(x2, perm, axis=0, out=self.xbuf)
            ys = y[perm]
            loss_sum = metric_sum = 0.0
            for i in range(0, n, bs):
                loss, metric = self._step(xs[i:i + bs], ys[i:i + bs])
                loss_sum += loss
                metric_sum += metric
            key = "accuracy" if self.classify else "mae"
            self.history.setdefault("loss", []).append(loss_sum / n)
            self.history.setdefault(key, []).append(metric_sum / n)

    def extra(self) -> dict:
        """Diagnostics: how many Adam first moments are float32 subnormals (slow arithmetic)."""
        return {"subnormal_adam_m": W.subnormal_count(self.m)}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward pass in batches of ``batch_size`` into one preallocated output array."""
        x2 = x.reshape(len(x), -1)
        bs = self.w.batch_size
        out = np.empty((len(x2), self.w.outputs), _F32)
        for i in range(0, len(x2), bs):
            out[i:i + bs] = self._forward(x2[i:i + bs])
        return out

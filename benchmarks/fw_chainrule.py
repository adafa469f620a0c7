"""chainrule runner, through the public Keras-like API only.

The code below is what a Keras tutorial looks like once its imports say ``chainrule``:
``chainrule.models.Sequential``, ``chainrule.layers.Flatten``/``Dense``, ``compile`` with an
optimizer object and a loss name, ``fit(..., verbose=0, shuffle=True)`` and ``predict``.
Glorot-uniform kernels and zero biases are Keras's (and so chainrule's) defaults, so nothing else
is set.
"""

from __future__ import annotations

import numpy as np
import workloads as W

chainrule = None  # imported in configure(), after the thread settings are in the environment


def configure(threads: int) -> None:
    """Import chainrule. NumPy's BLAS threads come from the environment set by the orchestrator."""
    global chainrule
    import chainrule as _chainrule

    chainrule = _chainrule


def versions() -> dict[str, str]:
    """Versions of the libraries this runner uses (Numba when the fused kernels are on)."""
    out = {"chainrule": getattr(chainrule, "__version__", "unknown"), "numpy": np.__version__}
    if chainrule.config.fused_kernels():
        import numba

        out["numba"] = numba.__version__
    return out


class Runner:
    """A compiled chainrule model for one workload."""

    def __init__(self, workload: W.Workload) -> None:
        self.w = workload
        np.random.seed(W.SEED)
        layers = chainrule.layers
        stack = []
        if workload.flatten:
            stack.append(layers.Flatten(input_shape=workload.input_shape))
        first = not workload.flatten
        for width in workload.hidden:
            kwargs = {"input_shape": workload.input_shape} if first else {}
            stack.append(layers.Dense(width, activation=workload.hidden_activation, **kwargs))
            first = False
        kwargs = {"input_shape": workload.input_shape} if first else {}
        stack.append(
            layers.Dense(workload.outputs, activation=workload.output_activation, **kwargs))
        self.model = chainrule.models.Sequential(stack)
        if workload.optimizer == "adam":
            opt = chainrule.optimizers.Adam(learning_rate=workload.learning_rate)
        else:
            opt = chainrule.optimizers.SGD(learning_rate=workload.learning_rate)
        self.model.compile(optimizer=opt, loss=workload.loss, metrics=list(workload.metrics))
        self.history: dict[str, list[float]] = {}

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        """``model.fit`` for ``epochs`` epochs, silently, with shuffling."""
        hist = self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=epochs, verbose=0, shuffle=True)
        for key, values in getattr(hist, "history", {}).items():
            self.history.setdefault(key, []).extend(float(v) for v in values)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``model.predict`` with the workload's batch size."""
        return np.asarray(self.model.predict(x, batch_size=self.w.batch_size, verbose=0))

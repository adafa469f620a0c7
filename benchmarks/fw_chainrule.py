"""chainrule runner, through the public Keras-like API only.

The code below is what a Keras tutorial looks like once its imports say ``chainrule``:
``chainrule.models.Sequential``, ``chainrule.layers.Flatten``/``Dense``, ``compile`` with an
optimizer object and a loss name, ``fit(..., verbose=0, shuffle=True)`` and ``predict``.
Glorot-uniform kernels and zero biases are Keras's (and so chainrule's) defaults, so nothing else
is set. A custom layer (workload g's antirectifier) is a ``chainrule.layers.Layer`` subclass whose
``call`` uses ``chainrule.ops``, as a Keras 3 user writes one with ``keras.ops``.
"""

from __future__ import annotations

from typing import Any

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
    fused = getattr(getattr(chainrule, "config", None), "fused_kernels", None)  # old trees: none
    if fused is not None and fused():
        import numba

        out["numba"] = numba.__version__
    return out


def antirectifier() -> Any:
    """The antirectifier of :data:`workloads.ANTIRECTIFIER`, a Layer on ``chainrule.ops``."""
    ops = chainrule.ops

    class Antirectifier(chainrule.layers.Layer):
        def call(self, inputs: Any) -> Any:
            x = ops.subtract(inputs, ops.mean(inputs, axis=-1, keepdims=True))
            sq = ops.sum(ops.multiply(x, x), axis=-1, keepdims=True)
            x = ops.divide(x, ops.sqrt(ops.maximum(sq, W.ANTIRECTIFIER_EPSILON)))
            return ops.concatenate([ops.relu(x), ops.relu(ops.negative(x))], axis=-1)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (*input_shape[:-1], 2 * input_shape[-1])

    return Antirectifier()


class Runner:
    """A compiled chainrule model for one workload.

    Args:
        workload: what to build and train.
        jit_compile: passed to ``compile`` when given (False: the layers' forward and the
            autograd tape even where a captured step exists); omitted by default, so a tree whose
            ``compile`` predates the argument still runs.
    """

    def __init__(self, workload: W.Workload, jit_compile: Any = None) -> None:
        self.w = workload
        np.random.seed(W.SEED)
        layers = chainrule.layers
        stack = []
        if workload.spec is not None:  # Keras layer names and arguments, as a Keras user writes
            stack = [layers.Input(workload.input_shape)] + [
                getattr(layers, name)(**kwargs) for name, kwargs in workload.spec]
        elif workload.flatten:
            stack.append(layers.Flatten(input_shape=workload.input_shape))
        first = not workload.flatten and workload.spec is None
        for i, width in enumerate(workload.hidden):
            kwargs = {"input_shape": workload.input_shape} if first else {}
            stack.append(layers.Dense(width, activation=workload.hidden_activation, **kwargs))
            first = False
            if i == workload.antirectifier:
                stack.append(antirectifier())
        kwargs = {"input_shape": workload.input_shape} if first else {}
        if workload.spec is None:
            stack.append(
                layers.Dense(workload.outputs, activation=workload.output_activation, **kwargs))
        self.model = chainrule.models.Sequential(stack)
        if workload.optimizer == "adam":
            opt = chainrule.optimizers.Adam(learning_rate=workload.learning_rate)
        else:
            opt = chainrule.optimizers.SGD(learning_rate=workload.learning_rate)
        options = {} if jit_compile is None else {"jit_compile": jit_compile}
        self.model.compile(optimizer=opt, loss=workload.loss, metrics=list(workload.metrics),
                           **options)
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

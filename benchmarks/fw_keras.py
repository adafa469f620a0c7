"""Keras 3 runner (TensorFlow backend): ``Sequential`` + ``compile`` + ``fit``/``predict``.

Everything goes through the public Keras API with its defaults (``model.fit`` on NumPy arrays,
``verbose=0``, ``shuffle=True``). An epoch-timing callback also records the time between
``on_epoch_begin`` and ``on_epoch_end`` so the per-``fit``-call setup cost can be told apart.
"""

from __future__ import annotations

import os
import time

import numpy as np
import workloads as W

tf = keras = None  # imported in configure(), after the thread settings are in the environment


def configure(threads: int) -> None:
    """Import TensorFlow and Keras and pin TensorFlow's intra- and inter-op pools to ``threads``."""
    global tf, keras
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as _tf

    _tf.config.threading.set_intra_op_parallelism_threads(threads)
    _tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras as _keras

    if _keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Keras backend is {_keras.backend.backend()!r}, expected 'tensorflow'")
    tf, keras = _tf, _keras


def versions() -> dict[str, str]:
    """Versions of the libraries this runner uses."""
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__}


def _epoch_timer(sink: list[float]):
    """A Keras callback that appends the wall time of each epoch to ``sink``."""

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            sink.append(time.perf_counter() - self._t0)

    return EpochTimer()


def antirectifier():
    """The antirectifier of :data:`workloads.ANTIRECTIFIER` as a Keras layer of ``keras.ops``."""
    ops = keras.ops

    class Antirectifier(keras.layers.Layer):
        def call(self, inputs):
            x = inputs - ops.mean(inputs, axis=-1, keepdims=True)
            sq = ops.sum(x * x, axis=-1, keepdims=True)
            x = x / ops.sqrt(ops.maximum(sq, W.ANTIRECTIFIER_EPSILON))
            return ops.concatenate([ops.relu(x), ops.relu(-x)], axis=-1)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], 2 * input_shape[-1])

    return Antirectifier()


class Runner:
    """A compiled Keras model for one workload."""

    def __init__(self, workload: W.Workload) -> None:
        self.w = workload
        keras.utils.set_random_seed(W.SEED)
        layers = [keras.Input(shape=workload.input_shape)]
        if workload.spec is not None:
            layers += [getattr(keras.layers, name)(**kwargs) for name, kwargs in workload.spec]
        elif workload.flatten:
            layers.append(keras.layers.Flatten())
        for i, width in enumerate(workload.hidden if workload.spec is None else ()):
            layers.append(keras.layers.Dense(
                width, activation=workload.hidden_activation,
                kernel_initializer="glorot_uniform", bias_initializer="zeros"))
            if i == workload.antirectifier:
                layers.append(antirectifier())
        if workload.spec is None:
            layers.append(keras.layers.Dense(
                workload.outputs, activation=workload.output_activation,
                kernel_initializer="glorot_uniform", bias_initializer="zeros"))
        self.model = keras.Sequential(layers)
        if workload.optimizer == "adam":
            opt = keras.optimizers.Adam(
                learning_rate=workload.learning_rate, beta_1=W.ADAM_BETA_1,
                beta_2=W.ADAM_BETA_2, epsilon=W.ADAM_EPSILON)
        else:
            opt = keras.optimizers.SGD(learning_rate=workload.learning_rate)
        self.model.compile(optimizer=opt, loss=workload.loss, metrics=list(workload.metrics))
        self.history: dict[str, list[float]] = {}
        self.epoch_times: list[float] = []

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
        """``model.fit`` for ``epochs`` epochs, silently, with shuffling."""
        self.epoch_times.clear()
        hist = self.model.fit(
            x, y, batch_size=self.w.batch_size, epochs=epochs, verbose=0, shuffle=True,
            callbacks=[_epoch_timer(self.epoch_times)])
        for key, values in hist.history.items():
            self.history.setdefault(key, []).extend(float(v) for v in values)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``model.predict`` with the workload's batch size."""
        return self.model.predict(x, batch_size=self.w.batch_size, verbose=0)

    def extra(self) -> dict:
        """Per-epoch times measured inside ``fit`` by the callback (last ``fit`` call)."""
        if not self.epoch_times:
            return {}
        return {"epoch_callback_s": float(np.median(self.epoch_times))}

"""GradientMonitor: watch gradients, weights and activations layer by layer while a model trains.

Seed 002 §2.3 explains vanishing gradients: every sigmoid multiplies the
gradient flowing back by at most 0.25, so in a deep sigmoid network the layers
near the input barely learn. :class:`GradientMonitor` makes that visible: pass
it to ``fit`` and it records, for every layer with weights, the norm of each
weight's gradient (``variable.grad``, which the training step leaves on every
trainable weight until the next step), the weights' mean, standard deviation
and norm, and optionally statistics of the layer outputs on a fixed batch.
:func:`chainrule.plot.gradient_flow` draws what it recorded.

Through time (``over="time"``, for recurrent models): at each record the monitor
also measures, on a fixed batch ``time_data=(x, y)``, how much of the loss's
gradient reaches each time step of every recurrent layer's input, ``‖∂E/∂x_t‖``
(:func:`chainrule.explain.gradient_through_time`): SimpleRNN's vanishes over 50
steps once its tanh saturates, LSTM's survives.

Example:
    >>> import chainrule as cr
    >>> from chainrule.datasets import make_moons
    >>> x, y = make_moons(64, seed=0)
    >>> model = cr.models.Sequential([cr.layers.Dense(8, activation="sigmoid", input_dim=2),
    ...                               cr.layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="sgd", loss="binary_crossentropy")
    >>> monitor = GradientMonitor()
    >>> _ = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[monitor])
    >>> monitor.grad_norms().shape   # (records, layers): one record per epoch
    (3, 2)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.callbacks.callback import Callback

__all__ = ["GradientMonitor"]

# Output ranges of saturating activations: a unit within 1% of the range of an end is saturated.
_RANGES = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0),
           "tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "step": (0.0, 1.0)}
_STAT_KEYS = ("grad_norm", "weight_mean", "weight_std", "weight_norm")
_ACT_KEYS = ("activation_mean", "activation_std", "activation_zero_fraction",
             "activation_saturated_fraction")


def _norm(a: Any) -> float:
    a = np.asarray(backend.to_numpy(a), dtype=np.float64)
    return float(np.sqrt(np.sum(a * a)))


class GradientMonitor(Callback):
    """A callback recording per-layer gradient norms, weight and activation statistics.

    Args:
        every: record after every ``every``-th training batch (counted over the
            whole run). ``None`` (the default) records once per epoch, after
            the epoch's last batch.
        activation_data: optional inputs, shape ``(samples, features...)``; at
            each epoch end the model runs on (at most ``max_samples`` of) them
            and the mean, standard deviation, fraction of zeros and fraction of
            saturated units of each layer's output are recorded.
        max_samples: the most samples of ``activation_data`` used.
        over: ``'layers'`` (the default: the statistics above) or ``'time'``: also
            record, at each record, the gradient reaching each time step of every
            recurrent layer's input (needs ``time_data``).
        time_data: ``(x, y)``, a batch (at most ``max_samples`` of it is used) on
            which ``over='time'`` measures the gradient through time.

    Attributes:
        layer_names: names of the layers with trainable weights, input to output.
        weight_names: the weights' paths (``'dense/kernel'``, ``'dense/bias'``...).
        history: a dict: ``'step'`` (the global batch index of each record, from
            0), ``'epoch'``, and per statistic (``'grad_norm'``,
            ``'weight_mean'``, ``'weight_std'``, ``'weight_norm'``) a dict from
            weight path to a list of values, one per record; with
            ``activation_data`` also ``'activation_epoch'`` and
            ``'activation_mean'``, ``'activation_std'``,
            ``'activation_zero_fraction'``, ``'activation_saturated_fraction'``
            (dicts from layer name to one value per epoch; the saturated fraction
            is 0 for activations that do not saturate, such as ReLU); with
            ``over='time'`` also ``'time_grad_norm'``: a dict from recurrent layer
            name to a list of arrays of shape ``(timesteps,)``, one per record.

    Example:
        >>> monitor = GradientMonitor(every=10)
        >>> monitor.history["step"]
        []
    """

    def __init__(self, every: int | None = None, activation_data: Any = None,
                 max_samples: int = 256, over: str = "layers", time_data: Any = None) -> None:
        super().__init__()
        if every is not None and (isinstance(every, bool) or not isinstance(every, numbers.Integral)
                                  or every < 1):
            raise ValueError(f"every must be None (once per epoch) or a positive integer. "
                             f"Received: every={every!r}")
        if isinstance(max_samples, bool) or not isinstance(max_samples, numbers.Integral) or \
                max_samples < 1:
            raise ValueError(f"max_samples must be a positive integer. "
                             f"Received: max_samples={max_samples!r}")
        self.every = None if every is None else int(every)
        self.max_samples = int(max_samples)
        self.activation_data: np.ndarray | None = None
        if activation_data is not None:
            try:
                data = np.asarray(activation_data)
            except (TypeError, ValueError):
                raise TypeError("activation_data must be an array of inputs. Received: "
                                f"activation_data of type {type(activation_data).__name__}") from None
            if data.ndim < 2 or data.shape[0] == 0 or data.dtype.kind not in "biuf":
                raise ValueError("activation_data must be a numeric batch of shape (samples, "
                                 f"features...). Received: activation_data of shape {data.shape} "
                                 f"and dtype {data.dtype}")
            self.activation_data = data[: self.max_samples]
        if over not in ("layers", "time"):
            raise ValueError(f"over must be 'layers' or 'time'. Received: over={over!r}")
        self.over = over
        self.time_data: tuple | None = None
        if over == "time":
            if not (isinstance(time_data, (tuple, list)) and len(time_data) == 2):
                raise ValueError("GradientMonitor(over='time') needs time_data=(x, y): a batch of "
                                 "sequences and their targets to measure the gradient on. "
                                 f"Received: time_data of type {type(time_data).__name__}")
            tx, ty = (np.asarray(a)[: self.max_samples] for a in time_data)
            if tx.ndim < 2 or len(tx) == 0 or len(tx) != len(ty):
                raise ValueError("time_data=(x, y) needs x of shape (samples, timesteps, ...) and "
                                 f"one target per sample. Received: x of shape {tx.shape}, y of "
                                 f"shape {ty.shape}")
            self.time_data = (tx, ty)
        elif time_data is not None:
            raise ValueError("time_data is used with over='time' only. Received: over='layers' "
                             "and time_data")
        self.time_layers: list[str] = []
        self.layer_names: list[str] = []
        self.weight_names: list[str] = []
        self._weight_layer: list[str] = []
        self._vars: list = []
        self._step = 0
        self._epoch = 0
        self._pending: dict | None = None
        self._pending_step = 0
        self.history: dict = self._empty_history()

    def _empty_history(self) -> dict:
        h: dict = {"step": [], "epoch": []}
        for key in _STAT_KEYS:
            h[key] = {}
        if self.activation_data is not None:
            h["activation_epoch"] = []
            for key in _ACT_KEYS:
                h[key] = {}
        if getattr(self, "time_data", None) is not None:
            h["time_grad_norm"] = {}
        return h

    # -- hooks -----------------------------------------------------------------------------------
    def on_train_begin(self, logs: Any = None) -> None:
        """Find the layers with trainable weights and start a fresh record."""
        model = self.model
        if model is None:
            raise RuntimeError("GradientMonitor needs a model: pass it to fit(callbacks=[...]).")
        self._vars, self.weight_names, self._weight_layer, self.layer_names = [], [], [], []
        for layer in _layers_of(model):
            own = [v for v in getattr(layer, "trainable_weights", []) if v.requires_grad]
            if not own:
                continue
            self.layer_names.append(layer.name)
            for v in own:
                self._vars.append(v)
                self.weight_names.append(getattr(v, "path", None) or f"{layer.name}/{v.name}")
                self._weight_layer.append(layer.name)
        self.history = self._empty_history()
        for key in _STAT_KEYS:
            self.history[key] = {name: [] for name in self.weight_names}
        if self.activation_data is not None:
            for key in _ACT_KEYS:
                self.history[key] = {name: [] for name in self.layer_names}
        if self.time_data is not None:
            from chainrule.explain.through_time import recurrent_layers  # noqa: PLC0415

            self.time_layers = [layer.name for layer in recurrent_layers(model)]
            if not self.time_layers:
                raise ValueError("GradientMonitor(over='time') needs a model with a recurrent "
                                 f"layer (SimpleRNN, LSTM, GRU, RNN). Received: model "
                                 f"{model.name!r} without one")
            self.history["time_grad_norm"] = {name: [] for name in self.time_layers}
        self._step = 0
        self._pending = None

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        """Remember the epoch (records carry it)."""
        self._epoch = int(epoch)
        self._pending = None

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Record the gradients the step just computed (every ``every`` batches or at epoch end)."""
        step = self._step
        self._step += 1
        if self.every is not None:
            if (step + 1) % self.every == 0:
                self._commit(self._measure(), step)
            return
        steps = self.params.get("steps") if self.params else None
        if steps is not None and batch + 1 < steps:
            return
        # the epoch's last batch (or an unknown number of batches: keep the latest until epoch end)
        self._pending = self._measure()
        self._pending_step = step

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Commit the epoch's record and, with ``activation_data``, measure the activations."""
        if self.every is None and self._pending is not None:
            self._commit(self._pending, self._pending_step)
            self._pending = None
        if self.activation_data is not None:
            self._measure_activations(epoch)

    # -- measuring -------------------------------------------------------------------------------
    def _measure(self) -> dict:
        out: dict = {key: [] for key in _STAT_KEYS}
        for v in self._vars:
            g = v.grad
            out["grad_norm"].append(np.nan if g is None else _norm(g))
            w = np.asarray(backend.to_numpy(v.data), dtype=np.float64)
            out["weight_mean"].append(float(w.mean()) if w.size else 0.0)
            out["weight_std"].append(float(w.std()) if w.size else 0.0)
            out["weight_norm"].append(float(np.sqrt(np.sum(w * w))))
        if self.time_data is not None:
            from chainrule.explain.through_time import gradient_through_time  # noqa: PLC0415

            out["time"] = gradient_through_time(self.model, *self.time_data)
        return out

    def _commit(self, measured: dict, step: int) -> None:
        self.history["step"].append(int(step))
        self.history["epoch"].append(self._epoch)
        for key in _STAT_KEYS:
            for name, value in zip(self.weight_names, measured[key]):
                self.history[key][name].append(value)
        for name, norms in measured.get("time", {}).items():
            self.history["time_grad_norm"][name].append(norms)

    def _measure_activations(self, epoch: int) -> None:
        from chainrule import activations  # noqa: PLC0415
        from chainrule.autograd.engine import Tensor, no_grad  # noqa: PLC0415

        layers = _layers_of(self.model)
        x: Any = Tensor(np.asarray(self.activation_data, dtype=backend.floatx()))
        wanted = set(self.layer_names)
        with no_grad():
            for layer in layers:
                try:
                    x = layer(x, training=False)
                except TypeError:
                    x = layer(x)
                if layer.name not in wanted:
                    continue
                a = np.asarray(backend.to_numpy(x.data), dtype=np.float64)
                act = getattr(layer, "activation", None)
                name = None
                if act is not None:
                    try:
                        name = activations.serialize(act)
                    except Exception:  # noqa: BLE001 - custom activations have no range
                        name = None
                lo_hi = _RANGES.get(name) if isinstance(name, str) else None
                if lo_hi is None:
                    saturated = 0.0
                else:
                    lo, hi = lo_hi
                    margin = 0.01 * (hi - lo)
                    saturated = float(np.mean((a <= lo + margin) | (a >= hi - margin)))
                h = self.history
                h["activation_mean"][layer.name].append(float(a.mean()))
                h["activation_std"][layer.name].append(float(a.std()))
                h["activation_zero_fraction"][layer.name].append(float(np.mean(a == 0)))
                h["activation_saturated_fraction"][layer.name].append(saturated)
        self.history["activation_epoch"].append(int(epoch))

    # -- reading ---------------------------------------------------------------------------------
    def grad_norms(self, weight: str = "kernel") -> np.ndarray:
        """Gradient norms per record and layer, input layer first.

        Args:
            weight: ``'kernel'`` (the first weight of each layer, e.g. a Dense
                kernel), ``'bias'`` or ``'all'`` (the norm over all the layer's
                weights together).

        Returns:
            A float64 array of shape ``(records, layers)`` (NaN where a layer
            has no such weight).

        Raises:
            ValueError: for another ``weight``.
        """
        if weight not in ("kernel", "bias", "all"):
            raise ValueError(f"weight must be 'kernel', 'bias' or 'all'. Received: weight={weight!r}")
        n = len(self.history["step"])
        out = np.full((n, len(self.layer_names)), np.nan)
        for col, layer in enumerate(self.layer_names):
            paths = [p for p, la in zip(self.weight_names, self._weight_layer) if la == layer]
            if weight == "kernel":
                chosen = paths[:1]
            elif weight == "bias":
                chosen = [p for p in paths if p.rsplit("/", 1)[-1].startswith("bias")][:1]
            else:
                chosen = paths
            if not chosen or n == 0:
                continue
            values = np.array([self.history["grad_norm"][p] for p in chosen], dtype=np.float64)
            out[:, col] = np.sqrt(np.sum(values ** 2, axis=0))
        return out

    def weight_stats(self, stat: str = "weight_norm") -> np.ndarray:
        """A weight statistic per record and layer (the layer's first weight, e.g. its kernel).

        Args:
            stat: ``'weight_mean'``, ``'weight_std'`` or ``'weight_norm'``.

        Returns:
            A float64 array of shape ``(records, layers)``.
        """
        if stat not in ("weight_mean", "weight_std", "weight_norm"):
            raise ValueError("stat must be 'weight_mean', 'weight_std' or 'weight_norm'. "
                             f"Received: stat={stat!r}")
        cols = []
        for layer in self.layer_names:
            path = next(p for p, la in zip(self.weight_names, self._weight_layer) if la == layer)
            cols.append(np.asarray(self.history[stat][path], dtype=np.float64))
        n = len(self.history["step"])
        return np.stack(cols, axis=1) if cols else np.zeros((n, 0))

    def activation_stats(self, stat: str = "activation_mean") -> np.ndarray:
        """An activation statistic per epoch and layer (needs ``activation_data``).

        Args:
            stat: one of ``'activation_mean'``, ``'activation_std'``,
                ``'activation_zero_fraction'``, ``'activation_saturated_fraction'``.

        Returns:
            A float64 array of shape ``(epochs, layers)``.

        Raises:
            ValueError: for an unknown statistic or when no activation data was given.
        """
        if self.activation_data is None:
            raise ValueError("No activation statistics: create the monitor with "
                             "GradientMonitor(activation_data=x_sample). Received: "
                             "activation_data=None")
        if stat not in _ACT_KEYS:
            raise ValueError(f"stat must be one of {', '.join(_ACT_KEYS)}. Received: stat={stat!r}")
        cols = [np.asarray(self.history[stat][la], dtype=np.float64) for la in self.layer_names]
        n = len(self.history["activation_epoch"])
        return np.stack(cols, axis=1) if cols else np.zeros((n, 0))

    def time_grad_norms(self, layer: str | None = None) -> np.ndarray:
        """The gradient reaching each time step, per record, of one recurrent layer's input.

        Args:
            layer: the recurrent layer's name (default: the first one, input side).

        Returns:
            A float64 array of shape ``(records, timesteps)``: row ``r``, column ``t``
            is ``‖∂E/∂x_t‖`` (mean over ``time_data``) at record ``r``.

        Raises:
            ValueError: without ``over='time'``, or for a name that is not a recurrent layer.
        """
        if self.time_data is None:
            raise ValueError("No gradients through time: create the monitor with "
                             "GradientMonitor(over='time', time_data=(x, y)). Received: "
                             f"over={self.over!r}")
        if not self.time_layers:
            return np.zeros((0, 0))
        name = self.time_layers[0] if layer is None else layer
        if name not in self.time_layers:
            raise ValueError(f"layer must be one of the recurrent layers {self.time_layers}. "
                             f"Received: layer={layer!r}")
        rows = self.history["time_grad_norm"][name]
        return np.stack(rows).astype(np.float64) if rows else np.zeros((0, 0))

    def summary(self) -> str:
        """The last record as a table: per layer, gradient norm and weight statistics.

        Returns:
            Text, one line per layer from the input to the output.
        """
        if not self.history["step"]:
            return "GradientMonitor: nothing recorded yet (pass it to fit(callbacks=[monitor]))."
        g = self.grad_norms("kernel")[-1]
        wn = self.weight_stats("weight_norm")[-1]
        ws = self.weight_stats("weight_std")[-1]
        width = max(len(n) for n in self.layer_names + ["layer"])
        lines = [(f"Gradient flow after training step {self.history['step'][-1] + 1} (epoch "
                  f"{self.history['epoch'][-1] + 1}), input layer first:"),
                 f"  {'layer':<{width}}  {'|grad kernel|':>13}  {'|kernel|':>10}  {'std':>10}"]
        for name, gi, wi, si in zip(self.layer_names, g, wn, ws):
            lines.append(f"  {name:<{width}}  {gi:>13.3e}  {wi:>10.4f}  {si:>10.4f}")
        if len(g) > 1 and np.isfinite(g[0]) and np.isfinite(g[-1]) and g[-1] > 0:
            lines.append(f"  first/last layer gradient ratio: {g[0] / g[-1]:.3e}")
        for name in self.time_layers if self.time_data is not None else []:
            t = self.time_grad_norms(name)
            if len(t):
                first, last = t[-1, 0], t[-1, -1]
                ratio = f", first/last {first / last:.3e}" if last > 0 else ""
                lines.append(f"  through time, {name}: |dE/dx_0| {first:.3e}, "
                             f"|dE/dx_{t.shape[1] - 1}| {last:.3e}{ratio}")
        return "\n".join(lines)


def _layers_of(model: Any) -> list:
    layers = list(getattr(model, "layers", []))
    return [la for la in layers if type(la).__name__ != "InputLayer"]

"""One step of backpropagation, explained number by number (seed 002 §3.4, seed 000 §4).

:func:`backprop` runs a Sequential model of Dense layers forward on one sample
(or a small batch) with the autograd engine in float64, computes the loss,
calls ``backward`` once, and then writes every weight's gradient as the
product of its chain-rule factors, exactly as the seed does by hand::

    ∂E/∂W5 = ∂E/∂o1 × ∂o1/∂z3 × ∂z3/∂W5 = 0.20944600 × 0.23802157 × 0.51998934 = 0.02592286

Every factor is read from the engine, not re-derived: ``∂E/∂o1`` is the
``.grad`` the backward pass left on the output tensor ``o``, ``∂o1/∂z3`` is
the engine's derivative of the activation at ``z3``, and ``∂z3/∂W5`` is the
input the weight multiplies (``h1``). The product of the factors therefore
equals the engine's gradient of the weight; the report keeps both.

Names follow the seed for small networks (at most two Dense layers of at most
three units, at most three inputs): inputs ``x1, x2``, weighted sums ``z1..z4``
numbered through the network, hidden outputs ``h1, h2``, outputs ``o1, o2``
and weights ``W1..W8`` numbered layer by layer, unit by unit (``W1, W2`` feed
``z1``; ``W3, W4`` feed ``z2``; ...), biases ``b1..`` after their ``z``.
Larger networks use layer names: ``dense_1/kernel[2,3]``, ``dense_1/z[3]``.

Example:
    >>> import chainrule as cr
    >>> from chainrule.explain.worked_example import SEED_INPUTS, SEED_TARGETS, seed_kernels
    >>> model = cr.models.Sequential([
    ...     cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2, dtype="float64"),
    ...     cr.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64")])
    >>> model.set_weights(list(seed_kernels()))
    >>> report = backprop(model, [SEED_INPUTS], [SEED_TARGETS], learning_rate=0.5)
    >>> round(report.row("W5")["new"], 8), round(report.loss_after, 8)
    (0.43703857, 0.02323634)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor, no_grad

__all__ = ["backprop", "BackpropReport", "LOSSES"]

#: The losses :func:`backprop` can explain, with the formula it prints.
LOSSES: dict[str, str] = {
    "half_sse": "E = ½ Σ (target − output)²  (the seed's E_total; summed over outputs and samples)",
    "mse": "E = mean((target − output)²)  (mean over outputs and samples, as Keras's 'mse')",
    "binary_crossentropy": "E = −mean(target·log(output) + (1 − target)·log(1 − output))",
    "categorical_crossentropy": "E = −mean over samples of Σ target·log(output)",
}
_ALIASES = {"sse": "half_sse", "mean_squared_error": "mse", "bce": "binary_crossentropy",
            "cce": "categorical_crossentropy"}
# activations whose output unit depends on more than its own z (no per-unit derivative)
_NON_ELEMENTWISE = {"softmax", "log_softmax"}
_DERIVATIVE_NOTES = {
    "sigmoid": "{a}(1 − {a})",
    "tanh": "1 − {a}²",
    "relu": "1 if {z} > 0 else 0",
    "linear": "1",
    "step": "0: the step function has no slope",
}
_MAX_TERMS_SHOWN = 4


def _fmt(v: float) -> str:
    return f"{float(v):.8f}"


def _join_sum(values: Any) -> str:
    """``a + b − c`` with the signs of the numbers folded into the operators."""
    out = ""
    for k, v in enumerate(values):
        v = float(v)
        if k == 0:
            out = _fmt(v)
        else:
            out += f" − {_fmt(-v)}" if v < 0 or (v == 0 and math.copysign(1, v) < 0) else f" + {_fmt(v)}"
    return out


def _d(sym: str) -> str:
    """``∂sym`` with parentheses around compound names (``∂(dense_1/a[0])``)."""
    return f"∂{sym}" if "/" not in sym else f"∂({sym})"


class _Names:
    """Symbols of inputs, weighted sums, activations and weights (the seed's or layer/index)."""

    def __init__(self, dims: list[int], layer_names: list[str], seed_style: bool) -> None:
        self.dims, self.layer_names, self.seed = dims, layer_names, seed_style
        self.n_layers = len(dims) - 1
        self._z_offset = np.cumsum([0] + dims[1:]).tolist()
        self._w_offset = np.cumsum([0] + [dims[i] * dims[i + 1] for i in range(self.n_layers)]).tolist()
        hidden_units = dims[1:-1]
        self._h_offset = np.cumsum([0] + hidden_units).tolist()

    def x(self, i: int) -> str:
        return f"x{i + 1}" if self.seed else f"x[{i}]"

    def z(self, layer: int, j: int) -> str:
        if self.seed:
            return f"z{self._z_offset[layer] + j + 1}"
        return f"{self.layer_names[layer]}/z[{j}]"

    def a(self, layer: int, j: int) -> str:
        if layer < 0:
            return self.x(j)
        if self.seed:
            if layer == self.n_layers - 1:
                return f"o{j + 1}"
            return f"h{self._h_offset[layer] + j + 1}"
        return f"{self.layer_names[layer]}/a[{j}]"

    def w(self, layer: int, i: int, j: int) -> str:
        if self.seed:
            return f"W{self._w_offset[layer] + j * self.dims[layer] + i + 1}"
        return f"{self.layer_names[layer]}/kernel[{i},{j}]"

    def target(self, j: int) -> str:
        return f"target_o{j + 1}" if self.seed else f"target[{j}]"

    def b(self, layer: int, j: int) -> str:
        if self.seed:
            return f"b{self._z_offset[layer] + j + 1}"
        return f"{self.layer_names[layer]}/bias[{j}]"


class BackpropReport:
    """What :func:`backprop` computed, as text and as data.

    Attributes:
        text: the explanation (what ``print(report)`` shows).
        rows: one dict per weight, layer by layer from the input; within a layer
            unit by unit (each unit's incoming weights in turn, the seed's
            ``W1, W2, W3, W4``), then the biases. Keys:
            ``layer`` (the layer's name), ``layer_index``, ``kind``
            (``'kernel'``/``'bias'``), ``index`` (position in that array),
            ``name`` (``'W5'`` or ``'dense_1/kernel[2,3]'``), ``factors`` (list of
            ``(symbol, value)``; with a batch the values are arrays with one
            entry per sample), ``product`` (the product of the factors, summed
            over the samples), ``gradient`` (the engine's ``∂E/∂w``), ``old``
            and ``new`` (``old − learning_rate × gradient``).
        forward: every forward value by name (``'z1'``, ``'h1'``, ``'o1'``...),
            floats for one sample, arrays of one value per sample for a batch.
        loss: ``E`` before the step.
        loss_after: ``E`` after one gradient-descent step on every weight.
        learning_rate: the step size used.
        gradients: the engine's gradients, in the layout of ``model.get_weights()``.
        new_weights: the updated weights, in the same layout.
    """

    def __init__(self, text: str, rows: list[dict], forward: dict, loss: float, loss_after: float,
                 learning_rate: float, gradients: list[np.ndarray], new_weights: list[np.ndarray],
                 loss_name: str) -> None:
        self.text, self.rows, self.forward = text, rows, forward
        self.loss, self.loss_after, self.learning_rate = loss, loss_after, learning_rate
        self.gradients, self.new_weights, self.loss_name = gradients, new_weights, loss_name

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return (f"<BackpropReport loss={self.loss_name} E={self.loss:.8f} -> {self.loss_after:.8f} "
                f"weights={len(self.rows)} learning_rate={self.learning_rate:g}>")

    def row(self, name: str) -> dict:
        """The row of the weight called ``name`` (``'W5'``, ``'dense/kernel[0,1]'``...).

        Raises:
            KeyError: listing a few known names, when there is no such weight.
        """
        for r in self.rows:
            if r["name"] == name:
                return r
        known = ", ".join(r["name"] for r in self.rows[:8])
        raise KeyError(f"No weight named {name!r}; weights are named like {known}. "
                       f"Received: name={name!r}")

    def apply(self, model: Any) -> None:
        """Write the updated weights into ``model`` (one gradient-descent step, as explained)."""
        model.set_weights([np.asarray(w) for w in self.new_weights])


def _check_model(model: Any) -> list:
    from chainrule.layers.core import Dense  # noqa: PLC0415

    layers = getattr(model, "layers", None)
    if getattr(model, "_functional", False):
        layers = model.operations  # its ops (x * 2.0) too, which model.layers leaves out
    if layers is None:
        raise TypeError("backprop() explains a Sequential model of Dense layers. Received: "
                        f"model of type {type(model).__name__}")
    layers = [la for la in layers if type(la).__name__ != "InputLayer"]
    if not layers:
        raise ValueError("backprop() needs a model with at least one Dense layer. "
                         "Received: a model with no layers")
    for la in layers:
        if not isinstance(la, Dense):
            raise TypeError(
                "backprop() explains Sequential models made only of Dense layers (put the "
                "activation in the Dense layer: Dense(2, activation='sigmoid')). Received: "
                f"layer {la.name!r} of type {type(la).__name__}")
    return layers


def _as_2d(value: Any, name: str, width: int | None) -> np.ndarray:
    try:
        arr = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric. Received: {name} of type "
                        f"{type(value).__name__}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1) if width is None or arr.size == width else arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be one sample (a vector) or a batch of shape (samples, "
                         f"features). Received: {name} of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite. Received: {name} containing NaN or infinity")
    return arr


def _loss(name: str, o: Tensor, t: Tensor) -> Tensor:
    if name == "half_sse":
        d = t - o
        return ops.sum(d * d) * 0.5
    if name == "mse":
        d = t - o
        return ops.mean(d * d)
    eps = 1e-7
    oc = ops.clip(o, eps, 1.0 - eps)
    if name == "binary_crossentropy":
        return -ops.mean(t * ops.log(oc) + (1.0 - t) * ops.log(1.0 - oc))
    return -ops.mean(ops.sum(t * ops.log(oc), axis=-1))


def _forward(layers: list, kernels: list, biases: list, x: Tensor) -> tuple[list, list]:
    zs, acts = [], []
    a = x
    for layer, k, b in zip(layers, kernels, biases):
        z = ops.linear(a, k, b) if b is not None else ops.linear(a, k)
        a = layer.activation(z)
        if not isinstance(a, Tensor):  # pragma: no cover - custom activations returning arrays
            a = Tensor(a)
        zs.append(z)
        acts.append(a)
    return zs, acts


def _activation_name(layer: Any) -> str:
    from chainrule import activations  # noqa: PLC0415

    try:
        name = activations.serialize(layer.activation)
    except Exception:  # noqa: BLE001 - custom callables: fall back to their name
        name = getattr(layer.activation, "__name__", "activation")
    return name if isinstance(name, str) else str(name)


def _local_derivative(layer: Any, z: np.ndarray) -> np.ndarray:
    """The engine's elementwise ``f'(z)``: backward of ``f`` at ``z`` with an incoming gradient of 1."""
    zl = Tensor(z.copy(), requires_grad=True)
    al = layer.activation(zl)
    if al is zl:
        return np.ones_like(z)
    if not getattr(al, "requires_grad", False):
        return np.zeros_like(z)
    al.backward(np.ones_like(al.data))
    return np.zeros_like(z) if zl.grad is None else np.asarray(zl.grad, dtype=np.float64)


def _val(v: np.ndarray) -> Any:
    """One sample: a float; a batch: the per-sample array."""
    return float(v[0]) if v.shape[0] == 1 else np.array(v, dtype=np.float64)


def _show(v: Any) -> str:
    if isinstance(v, np.ndarray):
        if v.size <= 6:
            return "[" + ", ".join(_fmt(e) for e in v) + "]"
        return "[" + ", ".join(_fmt(e) for e in v[:3]) + f", … ({v.size} samples)]"
    return _fmt(v)


def backprop(model: Any, x: Any, y: Any, learning_rate: float = 0.5, loss: str = "half_sse",
             names: str = "auto", max_weights: int | None = 64) -> BackpropReport:
    """Explain one gradient-descent step of a Dense network, every number from the engine.

    The model is not changed (call ``report.apply(model)`` to take the step).

    Args:
        model: a built (or buildable from ``x``) Sequential model of ``Dense``
            layers; any activation the engine supports, biases optional.
        x: one sample, shape ``(features,)``, or a batch ``(samples, features)``.
        y: its target(s), shape ``(outputs,)`` or ``(samples, outputs)``.
        learning_rate: the step ``α`` of ``W+ = W − α ∂E/∂W`` (the seed uses 0.5).
        loss: ``'half_sse'`` (the seed's ``E = ½Σ(target − output)²``, summed over
            the samples of a batch), ``'mse'`` (mean over samples and outputs),
            ``'binary_crossentropy'`` or ``'categorical_crossentropy'`` (means
            over the samples).
        names: ``'auto'`` (the seed's ``W1, z1, h1, o1`` for networks of at most
            two layers of at most three units, layer/index names otherwise),
            ``'seed'`` or ``'layer'``.
        max_weights: the most weights per layer written out in the text (all
            are in ``rows``); None for all.

    Returns:
        A :class:`BackpropReport`: ``print(report)`` shows the forward pass, the
        loss, each weight's chain-rule factors, gradient and updated value, and
        the loss after the step; ``report.rows`` has the same as data.

    Raises:
        TypeError: if the model is not made of Dense layers or inputs are not numeric.
        ValueError: for a bad learning rate, unknown loss or names, or shapes
            that do not fit the model.

    Example:
        >>> import chainrule as cr
        >>> model = cr.models.Sequential([cr.layers.Dense(1, activation="sigmoid", input_dim=2)])
        >>> report = backprop(model, [1.0, 0.0], [1.0])
        >>> len(report.rows)  # two kernel entries and one bias
        3
    """
    layers = _check_model(model)
    if (isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real)
            or not math.isfinite(learning_rate) or learning_rate <= 0):
        raise ValueError(f"learning_rate must be a positive number. "
                         f"Received: learning_rate={learning_rate!r}")
    lr = float(learning_rate)
    loss_name = _ALIASES.get(loss, loss) if isinstance(loss, str) else loss
    if loss_name not in LOSSES:
        raise ValueError(f"Unknown loss for backprop(): {loss!r}. Known: {', '.join(LOSSES)}. "
                         f"Received: loss={loss!r}")
    if names not in ("auto", "seed", "layer"):
        raise ValueError(f"names must be 'auto', 'seed' or 'layer'. Received: names={names!r}")
    if max_weights is not None and (isinstance(max_weights, bool) or not isinstance(
            max_weights, numbers.Integral) or max_weights < 0):
        raise ValueError(f"max_weights must be None or a non-negative integer. "
                         f"Received: max_weights={max_weights!r}")

    first = layers[0]
    in_dim = first.kernel.shape[0] if first.kernel is not None else None
    xs = _as_2d(x, "x", in_dim)
    if not model.built or first.kernel is None:
        model.build((None, xs.shape[1]))
        in_dim = first.kernel.shape[0]
    if xs.shape[1] != in_dim:
        raise ValueError(f"x must have {in_dim} features, the input size of layer "
                         f"{first.name!r}. Received: x of shape {xs.shape}")
    out_dim = layers[-1].kernel.shape[1]
    ts = _as_2d(y, "y", out_dim)
    if ts.shape != (xs.shape[0], out_dim):
        raise ValueError(f"y must hold {out_dim} target(s) per sample for the {xs.shape[0]} "
                         f"sample(s) of x. Received: y of shape {np.shape(y)}")
    n = xs.shape[0]

    dims = [in_dim] + [la.kernel.shape[1] for la in layers]
    seed_style = names == "seed" or (names == "auto" and len(layers) <= 2 and max(dims) <= 3)
    nm = _Names(dims, [la.name for la in layers], seed_style)
    act_names = [_activation_name(la) for la in layers]

    # -- forward and backward on float64 copies of the weights -------------------------------
    kernels = [Tensor(np.array(la.kernel.numpy(), dtype=np.float64), requires_grad=True)
               for la in layers]
    biases = [Tensor(np.array(la.bias.numpy(), dtype=np.float64), requires_grad=True)
              if la.bias is not None else None for la in layers]
    xt = Tensor(xs)
    tt = Tensor(ts)
    zs, acts = _forward(layers, kernels, biases, xt)
    e = _loss(loss_name, acts[-1], tt)
    e.backward()
    e_value = float(e.data)

    a_in = [xs] + [a.data for a in acts[:-1]]  # what each layer's kernel multiplies
    da = [np.zeros_like(a.data) if a.grad is None else np.asarray(a.grad) for a in acts]
    dz = [np.zeros_like(z.data) if z.grad is None else np.asarray(z.grad) for z in zs]
    elementwise = [name not in _NON_ELEMENTWISE for name in act_names]
    local = [_local_derivative(la, z.data) if ew else None
             for la, z, ew in zip(layers, zs, elementwise)]

    forward: dict = {}
    for i in range(in_dim):
        forward[nm.x(i)] = _val(xs[:, i])
    for li in range(len(layers)):
        for j in range(dims[li + 1]):
            forward[nm.z(li, j)] = _val(zs[li].data[:, j])
            forward[nm.a(li, j)] = _val(acts[li].data[:, j])

    # -- rows: factors from the engine, the engine's gradient, the update -----------------------
    rows: list[dict] = []
    gradients: list[np.ndarray] = []
    new_weights: list[np.ndarray] = []
    for li, layer in enumerate(layers):
        k_grad = np.zeros_like(kernels[li].data) if kernels[li].grad is None else kernels[li].grad
        k_old = kernels[li].data
        k_new = k_old - lr * k_grad
        gradients.append(np.array(k_grad))
        new_weights.append(k_new)
        for j in range(dims[li + 1]):
            for i in range(dims[li]):
                factors = _unit_factors(nm, li, j, elementwise[li], da, dz, local)
                factors.append((f"{_d(nm.z(li, j))}/{_d(nm.w(li, i, j))}", _val(a_in[li][:, i])))
                rows.append(_row(layer.name, li, "kernel", (i, j), nm.w(li, i, j), factors,
                                 float(k_grad[i, j]), float(k_old[i, j]), float(k_new[i, j])))
        if biases[li] is not None:
            b_grad = np.zeros_like(biases[li].data) if biases[li].grad is None else biases[li].grad
            b_old = biases[li].data
            b_new = b_old - lr * b_grad
            gradients.append(np.array(b_grad))
            new_weights.append(b_new)
            for j in range(dims[li + 1]):
                factors = _unit_factors(nm, li, j, elementwise[li], da, dz, local)
                factors.append((f"{_d(nm.z(li, j))}/{_d(nm.b(li, j))}", _val(np.ones(n))))
                rows.append(_row(layer.name, li, "bias", (j,), nm.b(li, j), factors,
                                 float(b_grad[j]), float(b_old[j]), float(b_new[j])))

    with no_grad():
        new_k, new_b, pos = [], [], 0
        for la in layers:
            new_k.append(Tensor(new_weights[pos]))
            pos += 1
            if la.bias is not None:
                new_b.append(Tensor(new_weights[pos]))
                pos += 1
            else:
                new_b.append(None)
        _, acts_after = _forward(layers, new_k, new_b, xt)
        e_after = float(_loss(loss_name, acts_after[-1], tt).data)

    text = _render(nm, layers, act_names, elementwise, xs, ts, zs, acts, kernels, biases, da, dz,
                   local, rows, loss_name, e_value, e_after, lr, max_weights)
    return BackpropReport(text, rows, forward, e_value, e_after, lr, gradients, new_weights,
                          loss_name)


def _unit_factors(nm: _Names, li: int, j: int, elementwise: bool, da: list, dz: list,
                  local: list) -> list:
    a, z = nm.a(li, j), nm.z(li, j)
    if elementwise:
        return [(f"∂E/{_d(a)}", _val(da[li][:, j])), (f"{_d(a)}/{_d(z)}", _val(local[li][:, j]))]
    return [(f"∂E/{_d(z)}", _val(dz[li][:, j]))]


def _row(layer: str, li: int, kind: str, index: tuple, name: str, factors: list, grad: float,
         old: float, new: float) -> dict:
    values = [np.asarray(v, dtype=np.float64) for _, v in factors]
    product = float(np.sum(np.prod(np.broadcast_arrays(*values), axis=0)))
    return {"layer": layer, "layer_index": li, "kind": kind, "index": index, "name": name,
            "factors": factors, "product": product, "gradient": grad, "old": old, "new": new}


# -- the text -----------------------------------------------------------------------------------

def _render(nm: _Names, layers: list, act_names: list, elementwise: list, xs: np.ndarray,
            ts: np.ndarray, zs: list, acts: list, kernels: list, biases: list, da: list, dz: list,
            local: list, rows: list, loss_name: str, e_value: float, e_after: float, lr: float,
            max_weights: int | None) -> str:
    n, n_layers = xs.shape[0], len(layers)
    dims = nm.dims
    single = n == 1
    out: list[str] = []
    arch = " → ".join([f"{dims[0]} inputs"] + [
        f"{la.name}: {dims[i + 1]} {act_names[i]}" + ("" if la.bias is not None else " (no bias)")
        for i, la in enumerate(layers)])
    out.append(f"Backpropagation, one gradient-descent step (learning rate α = {lr:g})")
    out.append(f"  network: {arch}")
    out.append(f"  loss: {LOSSES[loss_name]}")
    out.append(f"  samples: {n}" + ("" if single else " (each factor below lists one value per "
                                                       "sample; gradients sum over them)"))
    out.append("")
    out.append("Forward pass")
    for i in range(dims[0]):
        out.append(f"  {nm.x(i)} = {_show(_val(xs[:, i]))}")
    for li, layer in enumerate(layers):
        limit = dims[li + 1] if max_weights is None else min(dims[li + 1], max(max_weights, 1))
        for j in range(limit):
            z = nm.z(li, j)
            terms = [f"{nm.w(li, i, j)}·{nm.a(li - 1, i)}" for i in range(dims[li])]
            if biases[li] is not None:
                terms.append(nm.b(li, j))
            zval = _val(zs[li].data[:, j])
            if single and dims[li] <= 4:
                nums = [f"{_fmt(kernels[li].data[i, j])} × {_fmt(acts[li - 1].data[0, i] if li else xs[0, i])}"
                        for i in range(dims[li])]
                if biases[li] is not None:
                    nums.append(_fmt(biases[li].data[j]))
                out.append(f"  {z} = {' + '.join(terms)} = {' + '.join(nums)} = {_fmt(zval)}")
            elif dims[li] <= 4:
                out.append(f"  {z} = {' + '.join(terms)} = {_show(zval)}")
            else:
                out.append(f"  {z} = Σᵢ weight·input{' + bias' if biases[li] is not None else ''}"
                           f" = {_show(zval)}")
            out.append(f"  {nm.a(li, j)} = {act_names[li]}({z}) = {_show(_val(acts[li].data[:, j]))}")
        if limit < dims[li + 1]:
            out.append(f"  … {dims[li + 1] - limit} more units in {layer.name}")
    out.extend(_render_loss(nm, n_layers, dims, ts, acts, loss_name, e_value, single))
    out.append("")

    for li in reversed(range(n_layers)):
        layer = layers[li]
        kind = "output layer" if li == n_layers - 1 else "hidden layer"
        layer_rows = [r for r in rows if r["layer_index"] == li]
        first_last = (f"{layer_rows[0]['name']} … {layer_rows[-1]['name']}" if len(layer_rows) > 2
                      else ", ".join(r["name"] for r in layer_rows))
        out.append(f"Backward pass, layer {li + 1} {layer.name!r} ({kind}): {first_last}")
        shown = 0
        for j in range(dims[li + 1]):
            unit_rows = [r for r in layer_rows if r["index"][-1] == j]
            if max_weights is not None and shown >= max_weights:
                break
            out.extend(_render_unit(nm, li, j, n_layers, elementwise, act_names, kernels, da, dz,
                                    local, acts, ts, loss_name, single))
            for r in unit_rows:
                if max_weights is not None and shown >= max_weights:
                    break
                out.extend(_render_row(r, lr))
                shown += 1
        if shown < len(layer_rows):
            out.append(f"  … {len(layer_rows) - shown} more weights in {layer.name} "
                       "(all are in report.rows)")
        out.append("")
    out.append("After the step")
    label = "E_total" if loss_name == "half_sse" else "E"
    change = "decreased" if e_after < e_value else "did not decrease"
    out.append(f"  {label} after = {_fmt(e_after)}   (was {_fmt(e_value)}: the error {change})")
    return "\n".join(out)


def _render_loss(nm: _Names, n_layers: int, dims: list, ts: np.ndarray, acts: list,
                 loss_name: str, e_value: float, single: bool) -> list[str]:
    out = []
    o = acts[-1].data
    k_out = dims[-1]
    if loss_name == "half_sse" and single and k_out <= 6:
        parts = []
        for j in range(k_out):
            a = nm.a(n_layers - 1, j)
            ej = 0.5 * (ts[0, j] - o[0, j]) ** 2
            label = f"E_{a}" if nm.seed else f"E[{j}]"
            parts.append((label, ej))
            out.append(f"  {label} = ½({nm.target(j)} − {a})² = ½({_fmt(ts[0, j])} − {_fmt(o[0, j])})² "
                       f"= {_fmt(ej)}")
        out.append(f"  E_total = {_fmt(e_value)}   (= {' + '.join(p for p, _ in parts)} = "
                   f"{' + '.join(_fmt(v) for _, v in parts)})")
    elif loss_name == "half_sse":
        out.append(f"  E_total = {_fmt(e_value)}   (= Σ ½(target − output)² over {ts.shape[0]} "
                   f"sample(s) × {k_out} output(s))")
    else:
        out.append(f"  E = {_fmt(e_value)}   ({loss_name} over {ts.shape[0]} sample(s) × {k_out} "
                   "output(s))")
    return out


def _render_unit(nm: _Names, li: int, j: int, n_layers: int, elementwise: list, act_names: list,
                 kernels: list, da: list, dz: list, local: list, acts: list, ts: np.ndarray,
                 loss_name: str, single: bool) -> list[str]:
    a, z = nm.a(li, j), nm.z(li, j)
    out = []
    if li == n_layers - 1:
        note = ""
        if loss_name == "half_sse":
            note = f"   (= −({nm.target(j)} − {a}))"
        elif loss_name == "mse":
            note = f"   (= 2({a} − {nm.target(j)}) / {ts.size})"
        if elementwise[li]:
            out.append(f"  ∂E/{_d(a)} = {_show(_val(da[li][:, j]))}{note}")
    elif elementwise[li + 1] and single:
        # ∂E/∂h_j = Σ_k ∂E/∂o_k × ∂o_k/∂z_k × W_jk, the seed's ∂E_o1/∂h1 + ∂E_o2/∂h1
        terms, values = [], []
        for k in range(nm.dims[li + 2]):
            ak, zk, w = nm.a(li + 1, k), nm.z(li + 1, k), nm.w(li + 1, j, k)
            terms.append(f"∂E/{_d(ak)} × {_d(ak)}/{_d(zk)} × {w}")
            values.append(float(da[li + 1][0, k] * local[li + 1][0, k] * kernels[li + 1].data[j, k]))
        out.append(_sum_line(f"∂E/{_d(a)}", terms, values, float(da[li][0, j])))
    else:
        terms, values = [], []
        for k in range(nm.dims[li + 2]):
            zk, w = nm.z(li + 1, k), nm.w(li + 1, j, k)
            terms.append(f"∂E/{_d(zk)} × {w}")
            values.append(np.asarray(dz[li + 1][:, k] * kernels[li + 1].data[j, k]))
        if single:
            out.append(_sum_line(f"∂E/{_d(a)}", terms, [float(v[0]) for v in values],
                                 float(da[li][0, j])))
        else:
            out.append(f"  ∂E/{_d(a)} = {' + '.join(terms[:_MAX_TERMS_SHOWN])}"
                       f"{' + …' if len(terms) > _MAX_TERMS_SHOWN else ''} = "
                       f"{_show(_val(da[li][:, j]))}")
    if elementwise[li]:
        note = _DERIVATIVE_NOTES.get(act_names[li], f"{act_names[li]}'({{z}})").format(a=a, z=z)
        out.append(f"  {_d(a)}/{_d(z)} = {_show(_val(local[li][:, j]))}   (= {note})")
    else:
        out.append(f"  ∂E/{_d(z)} = {_show(_val(dz[li][:, j]))}   ({act_names[li]} couples the "
                   f"units, so the engine's ∂E/∂z is used directly)")
    return out


def _sum_line(lhs: str, terms: list, values: list, total: float) -> str:
    if len(terms) > _MAX_TERMS_SHOWN:
        return (f"  {lhs} = {' + '.join(terms[:2])} + … ({len(terms)} terms) = {_fmt(total)}")
    if len(terms) == 1:
        return f"  {lhs} = {terms[0]} = {_fmt(total)}"
    return f"  {lhs} = {' + '.join(terms)} = {_join_sum(values)} = {_fmt(total)}"


def _render_row(r: dict, lr: float) -> list[str]:
    name = r["name"]
    syms = " × ".join(s for s, _ in r["factors"])
    vals = [v for _, v in r["factors"]]
    if all(not isinstance(v, np.ndarray) for v in vals):
        nums = " × ".join(_fmt(v) for v in vals)
        line = f"  ∂E/{_d(name)} = {syms} = {nums} = {_fmt(r['gradient'])}"
    else:
        arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in vals])
        per_sample = np.prod(arrays, axis=0)
        if per_sample.size <= _MAX_TERMS_SHOWN:
            terms = _join_sum(per_sample)
        else:
            terms = f"{_join_sum(per_sample[:2])} + … ({per_sample.size} terms)"
        line = f"  ∂E/{_d(name)} = Σₙ {syms} = {terms} = {_fmt(r['gradient'])}"
    update = (f"  {name}+ = {_fmt(r['new'])}   (= {name} − {lr:g} × ∂E/{_d(name)} = "
              f"{_fmt(r['old'])} − {lr:g} × {_fmt(r['gradient'])})")
    return [line, update]

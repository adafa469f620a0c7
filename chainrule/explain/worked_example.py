"""The seeds' worked backpropagation example (seed 002 §3.4, seed 000 §4), on the engine.

A 2-2-2 network, sigmoid everywhere, no biases; inputs (0.1, 0.2), targets
(0.4, 0.6), weights W1..W8 = 0.3, 0.25, 0.4, 0.35, 0.45, 0.4, 0.7, 0.6, loss
E = ½Σ(target − output)², learning rate 0.5. The seed numbers the weights so
that z1 = W1·x1 + W2·x2, z2 = W3·x1 + W4·x2, z3 = W5·h1 + W6·h2 and
z4 = W7·h1 + W8·h2; in Keras's kernel layout ``(inputs, units)`` that is
``[[W1, W3], [W2, W4]]`` and ``[[W5, W7], [W6, W8]]``.

Example:
    >>> r = worked_example()
    >>> round(r["E_total"], 8), round(r["W5+"], 8)
    (0.0239719, 0.43703857)
"""

from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.autograd.engine import Tensor

__all__ = ["SEED_INPUTS", "SEED_TARGETS", "SEED_WEIGHTS", "SEED_LEARNING_RATE", "worked_example",
           "seed_kernels", "format_worked_example"]

SEED_INPUTS = (0.1, 0.2)
SEED_TARGETS = (0.4, 0.6)
SEED_WEIGHTS = (0.3, 0.25, 0.4, 0.35, 0.45, 0.4, 0.7, 0.6)
SEED_LEARNING_RATE = 0.5


def seed_kernels(weights: tuple = SEED_WEIGHTS) -> tuple[np.ndarray, np.ndarray]:
    """Return the seed's W1..W8 as two Keras-layout kernels ``(inputs, units)`` in float64."""
    w1, w2, w3, w4, w5, w6, w7, w8 = weights
    return (np.array([[w1, w3], [w2, w4]], dtype=np.float64),
            np.array([[w5, w7], [w6, w8]], dtype=np.float64))


def _forward(k1: Tensor, k2: Tensor, x: Tensor, t: Tensor) -> tuple:
    z_hidden = ops.matmul(x, k1)
    h = ops.sigmoid(z_hidden)
    z_out = ops.matmul(h, k2)
    o = ops.sigmoid(z_out)
    diff = t - o
    loss = ops.sum(diff * diff) * 0.5
    return z_hidden, h, z_out, o, loss


def worked_example(learning_rate: float = SEED_LEARNING_RATE) -> dict:
    """Run one step of the seed's example with the autograd engine in float64.

    Args:
        learning_rate: the step size (the seed uses 0.5).

    Returns:
        A dict with the seed's names: ``z1..z4``, ``h1, h2``, ``o1, o2``,
        ``E_total``, ``dE/dW1..dE/dW8``, ``W1+..W8+`` and ``E_total after``.
    """
    k1_0, k2_0 = seed_kernels()
    x = Tensor(np.array([SEED_INPUTS], dtype=np.float64))
    t = Tensor(np.array([SEED_TARGETS], dtype=np.float64))
    k1 = Tensor(k1_0, requires_grad=True)
    k2 = Tensor(k2_0, requires_grad=True)
    zh, h, zo, o, loss = _forward(k1, k2, x, t)
    loss.backward()
    out: dict = {
        "z1": float(zh.data[0, 0]), "z2": float(zh.data[0, 1]),
        "h1": float(h.data[0, 0]), "h2": float(h.data[0, 1]),
        "z3": float(zo.data[0, 0]), "z4": float(zo.data[0, 1]),
        "o1": float(o.data[0, 0]), "o2": float(o.data[0, 1]),
        "E_total": float(loss.data),
    }
    # seed order: W1=k1[0,0], W2=k1[1,0], W3=k1[0,1], W4=k1[1,1]; likewise W5..W8 in k2
    order = [(0, 0), (1, 0), (0, 1), (1, 1)]
    for base, (kernel, grad) in ((1, (k1_0, k1.grad)), (5, (k2_0, k2.grad))):
        for n, (i, j) in enumerate(order):
            out[f"dE/dW{base + n}"] = float(grad[i, j])
            out[f"W{base + n}+"] = float(kernel[i, j] - learning_rate * grad[i, j])
    new1 = Tensor(k1_0 - learning_rate * k1.grad)
    new2 = Tensor(k2_0 - learning_rate * k2.grad)
    out["E_total after"] = float(_forward(new1, new2, x, t)[-1].data)
    return out


def format_worked_example(result: dict | None = None) -> str:
    """Render :func:`worked_example`'s numbers as the seed prints them (8 decimals)."""
    r = worked_example() if result is None else result
    lines = ["Forward pass:"]
    lines += [f"  {k} = {r[k]:.8f}" for k in ("z1", "h1", "z2", "h2", "z3", "o1", "z4", "o2")]
    lines.append(f"  E_total = {r['E_total']:.8f}")
    lines.append("Backward pass (chain rule, computed by the engine):")
    lines += [f"  ∂E/∂W{i} = {r[f'dE/dW{i}']:.8f}   W{i}+ = {r[f'W{i}+']:.8f}" for i in range(1, 9)]
    lines.append(f"  E_total after one update = {r['E_total after']:.8f}")
    return "\n".join(lines)

"""Logic gates from single perceptrons with hand-set weights, and XOR from gates (seed 002 §1.2-1.3).

Each gate is the seed's perceptron ``0 if x1·w1 + x2·w2 + b <= 0 else 1`` with
the seed's weights ``(w1, w2, b)``: AND ``(0.5, 0.5, -0.7)``, NAND
``(-0.5, -0.5, 0.7)``, OR ``(0.6, 0.6, -0.5)``. No single line separates
XOR's outputs, but two layers do: ``XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))``
(the seed's multi-layer perceptron figure). :func:`xor_network` builds that
picture as a two-layer chainrule model with step activations.

Example:
    >>> from chainrule.explain.gates import AND_gate, XOR_gate
    >>> AND_gate(0, 0), AND_gate(0, 1), AND_gate(1, 0), AND_gate(1, 1)
    (0, 0, 0, 1)
    >>> [XOR_gate(a, b) for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
    [0, 1, 1, 0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "GATE_WEIGHTS", "INPUTS", "perceptron_output", "and_gate", "nand_gate", "or_gate", "xor_gate",
    "AND_gate", "NAND_gate", "OR_gate", "XOR_gate", "GATES", "truth_table", "format_truth_table",
    "xor_network",
]

#: The seed's hand-set perceptron weights ``(w1, w2, b)`` per gate.
GATE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "and": (0.5, 0.5, -0.7),
    "nand": (-0.5, -0.5, 0.7),
    "or": (0.6, 0.6, -0.5),
}

#: The four input pairs of a two-input truth table, in the seed's order.
INPUTS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0), (1, 1))


def _check_bit(name: str, value: Any) -> None:
    if isinstance(value, bool) or value not in (0, 1):
        raise ValueError(f"{name} must be 0 or 1. Received: {name}={value!r}")


def perceptron_output(x1: float, x2: float, w1: float, w2: float, b: float) -> int:
    """The seed's perceptron: ``0 if x1·w1 + x2·w2 + b <= 0 else 1``.

    Args:
        x1, x2: the two inputs.
        w1, w2: their weights.
        b: the bias (minus the threshold θ).

    Returns:
        0 or 1.

    Example:
        >>> perceptron_output(1, 1, 0.5, 0.5, -0.7)
        1
    """
    result = x1 * w1 + x2 * w2 + b
    return 0 if result <= 0 else 1


def _gate(name: str) -> Callable[[int, int], int]:
    w1, w2, b = GATE_WEIGHTS[name]

    def gate(x1: int, x2: int) -> int:
        _check_bit("x1", x1)
        _check_bit("x2", x2)
        return perceptron_output(x1, x2, w1, w2, b)

    return gate


_and, _nand, _or = _gate("and"), _gate("nand"), _gate("or")


def and_gate(x1: int, x2: int) -> int:
    """AND: 1 only when both inputs are 1 (weights ``[0.5, 0.5, -0.7]``).

    Args:
        x1, x2: inputs, 0 or 1.

    Returns:
        0 or 1.

    Raises:
        ValueError: for inputs other than 0 and 1.

    Example:
        >>> and_gate(1, 1), and_gate(1, 0)
        (1, 0)
    """
    return _and(x1, x2)


def nand_gate(x1: int, x2: int) -> int:
    """NAND: 0 only when both inputs are 1 (AND's weights negated, ``[-0.5, -0.5, 0.7]``).

    Args:
        x1, x2: inputs, 0 or 1.

    Returns:
        0 or 1.

    Example:
        >>> nand_gate(1, 1), nand_gate(0, 1)
        (0, 1)
    """
    return _nand(x1, x2)


def or_gate(x1: int, x2: int) -> int:
    """OR: 0 only when both inputs are 0 (weights ``[0.6, 0.6, -0.5]``).

    Args:
        x1, x2: inputs, 0 or 1.

    Returns:
        0 or 1.

    Example:
        >>> or_gate(0, 0), or_gate(0, 1)
        (0, 1)
    """
    return _or(x1, x2)


def xor_gate(x1: int, x2: int) -> int:
    """XOR from two layers of perceptrons: ``AND(NAND(x1, x2), OR(x1, x2))``.

    Args:
        x1, x2: inputs, 0 or 1.

    Returns:
        1 when the inputs differ, else 0.

    Example:
        >>> xor_gate(0, 1), xor_gate(1, 1)
        (1, 0)
    """
    return and_gate(nand_gate(x1, x2), or_gate(x1, x2))


# The seed's spellings.
AND_gate = and_gate
NAND_gate = nand_gate
OR_gate = or_gate
XOR_gate = xor_gate

#: Gate functions by name.
GATES: dict[str, Callable[[int, int], int]] = {
    "and": and_gate, "nand": nand_gate, "or": or_gate, "xor": xor_gate,
}


def _gate_fn(gate: Any) -> tuple[str, Callable[[int, int], int]]:
    if callable(gate):
        return getattr(gate, "__name__", "gate"), gate
    if isinstance(gate, str) and gate.lower() in GATES:
        return gate.lower(), GATES[gate.lower()]
    raise ValueError(f"gate must be one of {sorted(GATES)} or a function of two inputs. "
                     f"Received: gate={gate!r}")


def truth_table(gate: Any) -> list[tuple[tuple[int, int], int]]:
    """Evaluate a gate on the four input pairs.

    Args:
        gate: a name (``'and'``, ``'nand'``, ``'or'``, ``'xor'``) or a function of two inputs.

    Returns:
        ``[((x1, x2), output), ...]`` for ``(0, 0), (0, 1), (1, 0), (1, 1)``.

    Example:
        >>> [out for _, out in truth_table("or")]
        [0, 1, 1, 1]
    """
    _, fn = _gate_fn(gate)
    return [((a, b), int(fn(a, b))) for a, b in INPUTS]


def format_truth_table(gate: Any) -> str:
    """The truth table as text, with the gate's weights when it is a perceptron.

    Args:
        gate: as in :func:`truth_table`.

    Returns:
        A few lines of text.

    Example:
        >>> print(format_truth_table("and").splitlines()[0])
        AND gate: w1=0.5, w2=0.5, b=-0.7
    """
    name, _ = _gate_fn(gate)
    label = name.replace("_gate", "").upper()
    if name.lower() in GATE_WEIGHTS:
        w1, w2, b = GATE_WEIGHTS[name.lower()]
        head = f"{label} gate: w1={w1}, w2={w2}, b={b}"
    elif name.lower() in ("xor", "xor_gate"):
        head = "XOR gate: AND(NAND(x1, x2), OR(x1, x2))"
    else:
        head = f"{label}:"
    rows = [f"  x1={a} x2={b} -> {out}" for (a, b), out in truth_table(gate)]
    return "\n".join([head] + rows)


def xor_network() -> Any:
    """The seed's XOR multi-layer perceptron as a chainrule model with the hand-set weights.

    Layer 1 (``Dense(2, activation='step')``) computes NAND and OR of the
    inputs; layer 2 (``Dense(1, activation='step')``) computes AND of those.

    Returns:
        A built :class:`chainrule.models.Sequential` (float64 weights); its
        ``predict`` on the four input pairs gives ``[[0], [1], [1], [0]]``.

    Example:
        >>> import numpy as np
        >>> xor_network().predict(np.array(INPUTS), verbose=0).ravel().tolist()
        [0.0, 1.0, 1.0, 0.0]
    """
    from chainrule.layers import Dense  # noqa: PLC0415
    from chainrule.models import Sequential  # noqa: PLC0415

    n1, n2, nb = GATE_WEIGHTS["nand"]
    o1, o2, ob = GATE_WEIGHTS["or"]
    a1, a2, ab = GATE_WEIGHTS["and"]
    model = Sequential([
        Dense(2, activation="step", input_dim=2, dtype="float64", name="nand_or"),
        Dense(1, activation="step", dtype="float64", name="and"),
    ], name="xor_mlp")
    model.set_weights([
        np.array([[n1, o1], [n2, o2]]), np.array([nb, ob]),
        np.array([[a1], [a2]]), np.array([ab]),
    ])
    return model

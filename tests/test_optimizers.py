"""Tests of chainrule.optimizers against Keras 3's update rules.

The golden tests compare every optimizer with an independent, deliberately plain
float64 reference of Keras 3's formulas (written below from the published update
rules, one NumPy expression per line, no buffers), plus one number per
optimizer worked out by hand for the first step.
"""

from __future__ import annotations

import ast
import json
import math
import pathlib
import re
import warnings

import numpy as np
import pytest

from chainrule import optimizers
from chainrule.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    AdamW,
    Nadam,
    Optimizer,
    RMSprop,
    schedules,
)


class Var:
    """The smallest object the optimizers accept as a variable."""

    def __init__(self, data, name="w", trainable=True):
        self.data = np.asarray(data)
        self.name = name
        self.trainable = trainable


def make_vars(dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return [
        Var(rng.standard_normal((3, 4)).astype(dtype), "dense/kernel"),
        Var(rng.standard_normal(4).astype(dtype), "dense/bias"),
        Var(np.asarray(rng.standard_normal(), dtype=dtype), "scale"),
    ]


def make_grads(steps, dtype="float64", seed=1):
    rng = np.random.default_rng(seed)
    return [
        [
            rng.standard_normal((3, 4)).astype(dtype),
            rng.standard_normal(4).astype(dtype),
            np.asarray(rng.standard_normal(), dtype=dtype),
        ]
        for _ in range(steps)
    ]


# --------------------------------------------------------------------------
# Independent float64 references of Keras 3's update rules. Each takes the
# initial weights and a list of per-step gradient lists and returns the weights
# after every step.
# --------------------------------------------------------------------------


def ref_sgd(ws, grad_steps, learning_rate=0.01, momentum=0.0, nesterov=False):
    ws = [w.copy() for w in ws]
    vel = [np.zeros_like(w) for w in ws]
    out = []
    for grads in grad_steps:
        for k, g in enumerate(grads):
            if momentum == 0:
                ws[k] = ws[k] - g * learning_rate
            else:
                vel[k] = vel[k] * momentum - g * learning_rate
                if nesterov:
                    ws[k] = ws[k] + (vel[k] * momentum - g * learning_rate)
                else:
                    ws[k] = ws[k] + vel[k]
        out.append([w.copy() for w in ws])
    return out


def ref_adam(
    ws, grad_steps, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False
):
    ws = [w.copy() for w in ws]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    vhat = [np.zeros_like(w) for w in ws]
    out = []
    for t, grads in enumerate(grad_steps, start=1):
        alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for k, g in enumerate(grads):
            m[k] = m[k] + (g - m[k]) * (1 - beta_1)
            v[k] = v[k] + (g * g - v[k]) * (1 - beta_2)
            denom_v = v[k]
            if amsgrad:
                vhat[k] = np.maximum(vhat[k], v[k])
                denom_v = vhat[k]
            ws[k] = ws[k] - (m[k] * alpha) / (np.sqrt(denom_v) + epsilon)
        out.append([w.copy() for w in ws])
    return out


def ref_adamw(ws, grad_steps, learning_rate=0.001, weight_decay=0.004, **adam):
    ws = [w.copy() for w in ws]
    out = []
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    b1, b2, eps = adam.get("beta_1", 0.9), adam.get("beta_2", 0.999), adam.get("epsilon", 1e-7)
    for t, grads in enumerate(grad_steps, start=1):
        ws = [w - w * weight_decay * learning_rate for w in ws]
        alpha = learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
        for k, g in enumerate(grads):
            m[k] = m[k] + (g - m[k]) * (1 - b1)
            v[k] = v[k] + (g * g - v[k]) * (1 - b2)
            ws[k] = ws[k] - (m[k] * alpha) / (np.sqrt(v[k]) + eps)
        out.append([w.copy() for w in ws])
    return out


def ref_nadam(ws, grad_steps, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    ws = [w.copy() for w in ws]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    u_product = 1.0
    out = []
    for t, grads in enumerate(grad_steps, start=1):
        u_product = u_product * beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
        u_t1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        for k, g in enumerate(grads):
            m[k] = m[k] + (g - m[k]) * (1 - beta_1)
            v[k] = v[k] + (g * g - v[k]) * (1 - beta_2)
            m_hat = u_t1 * m[k] / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
            v_hat = v[k] / (1 - beta_2**t)
            ws[k] = ws[k] - m_hat * learning_rate / (np.sqrt(v_hat) + epsilon)
        out.append([w.copy() for w in ws])
    return out


def ref_rmsprop(
    ws, grad_steps, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False
):
    ws = [w.copy() for w in ws]
    vel = [np.zeros_like(w) for w in ws]
    mom = [np.zeros_like(w) for w in ws]
    avg = [np.zeros_like(w) for w in ws]
    out = []
    for grads in grad_steps:
        for k, g in enumerate(grads):
            vel[k] = rho * vel[k] + (1 - rho) * g * g
            if centered:
                avg[k] = rho * avg[k] + (1 - rho) * g
                denominator = vel[k] - avg[k] * avg[k] + epsilon
            else:
                denominator = vel[k] + epsilon
            increment = learning_rate * g / np.sqrt(denominator)
            if momentum > 0:
                mom[k] = momentum * mom[k] + increment
                ws[k] = ws[k] - mom[k]
            else:
                ws[k] = ws[k] - increment
        out.append([w.copy() for w in ws])
    return out


def ref_adagrad(ws, grad_steps, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    ws = [w.copy() for w in ws]
    acc = [np.full_like(w, initial_accumulator_value) for w in ws]
    out = []
    for grads in grad_steps:
        for k, g in enumerate(grads):
            acc[k] = acc[k] + g * g
            ws[k] = ws[k] - learning_rate * g / np.sqrt(acc[k] + epsilon)
        out.append([w.copy() for w in ws])
    return out


def ref_adadelta(ws, grad_steps, learning_rate=0.001, rho=0.95, epsilon=1e-7):
    ws = [w.copy() for w in ws]
    acc_g = [np.zeros_like(w) for w in ws]
    acc_d = [np.zeros_like(w) for w in ws]
    out = []
    for grads in grad_steps:
        for k, g in enumerate(grads):
            acc_g[k] = rho * acc_g[k] + (1 - rho) * g * g
            delta = -np.sqrt(acc_d[k] + epsilon) * g / np.sqrt(acc_g[k] + epsilon)
            acc_d[k] = rho * acc_d[k] + (1 - rho) * delta * delta
            ws[k] = ws[k] + learning_rate * delta
        out.append([w.copy() for w in ws])
    return out


GOLDEN_CASES = [
    (SGD, ref_sgd, {}),
    (SGD, ref_sgd, {"learning_rate": 0.1}),
    (SGD, ref_sgd, {"learning_rate": 0.05, "momentum": 0.9}),
    (SGD, ref_sgd, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    (SGD, ref_sgd, {"learning_rate": 0.05, "momentum": 1.0}),
    (Adam, ref_adam, {}),
    (Adam, ref_adam, {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.7, "epsilon": 1e-3}),
    (Adam, ref_adam, {"learning_rate": 0.1, "amsgrad": True}),
    (Adam, ref_adam, {"learning_rate": 0.05, "beta_1": 0.0, "amsgrad": True, "epsilon": 0.0}),
    (AdamW, ref_adamw, {}),
    (AdamW, ref_adamw, {"learning_rate": 0.1, "weight_decay": 0.3, "beta_1": 0.8}),
    (Nadam, ref_nadam, {}),
    (Nadam, ref_nadam, {"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}),
    (RMSprop, ref_rmsprop, {}),
    (RMSprop, ref_rmsprop, {"learning_rate": 0.01, "rho": 0.8}),
    (RMSprop, ref_rmsprop, {"learning_rate": 0.01, "momentum": 0.7}),
    (RMSprop, ref_rmsprop, {"learning_rate": 0.01, "centered": True}),
    (RMSprop, ref_rmsprop, {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    (Adagrad, ref_adagrad, {}),
    (
        Adagrad,
        ref_adagrad,
        {"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-6},
    ),
    (Adagrad, ref_adagrad, {"learning_rate": 0.1, "initial_accumulator_value": 0.0}),
    (Adadelta, ref_adadelta, {}),
    (Adadelta, ref_adadelta, {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6}),
]


def _case_id(case):
    cls, _, kw = case
    return cls.__name__ + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[_case_id(c) for c in GOLDEN_CASES])
def test_golden_float64_against_reference(case):
    cls, ref, kw = case
    variables = make_vars()
    grad_steps = make_grads(8)
    expected = ref([v.data for v in variables], grad_steps, **kw)
    opt = cls(**kw)
    for step, grads in enumerate(grad_steps):
        opt.apply_gradients(zip(grads, variables))
        assert opt.iterations == step + 1
        for v, want in zip(variables, expected[step]):
            np.testing.assert_allclose(v.data, want, rtol=1e-12, atol=1e-12)


# First step worked by hand: w = 1, g = 2, learning_rate = 0.1 unless stated.
HAND_FIRST_STEP = [
    # 1 - 0.1 * 2
    (SGD, {"learning_rate": 0.1}, 0.8),
    # velocity = 0.9 * 0 - 0.2 = -0.2; w = 1 - 0.2
    (SGD, {"learning_rate": 0.1, "momentum": 0.9}, 0.8),
    # w += 0.9 * (-0.2) - 0.2 = -0.38
    (SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, 0.62),
    # m = 0.2, v = 0.004, alpha = 0.1 * sqrt(0.001) / 0.1 = 0.0316227766
    # step = 0.2 * 0.0316227766 / (sqrt(0.004) + 1e-7) = 0.0999998419
    (Adam, {"learning_rate": 0.1}, 0.900000158113633),
    # the same first step with amsgrad (v_hat = max(0, v) = v)
    (Adam, {"learning_rate": 0.1, "amsgrad": True}, 0.900000158113633),
    # decay first: 1 - 1 * 0.004 * 0.1 = 0.9996, then Adam's 0.0999998419
    (AdamW, {"learning_rate": 0.1}, 0.899600158113633),
    # u_1 = 0.9 * (1 - 0.5 * 0.96) = 0.468, u_2 = 0.9 * (1 - 0.5 * 0.9216) = 0.48528
    # m_hat = 0.48528 * 0.2 / (1 - 0.468 * 0.48528) + 0.532 * 2 / 0.532 = 2.1255756066
    # v_hat = 0.004 / 0.001 = 4; step = 0.1 * 2.1255756066 / (2 + 1e-7)
    (Nadam, {"learning_rate": 0.1}, 0.8937212249830617),
    # v = 0.1 * 4 = 0.4; step = 0.1 * 2 / sqrt(0.4 + 1e-7) = 0.3162277265
    (RMSprop, {"learning_rate": 0.1}, 0.6837722735116254),
    # the first momentum step equals the plain step
    (RMSprop, {"learning_rate": 0.1, "momentum": 0.5}, 0.6837722735116254),
    # average = 0.2; step = 0.2 / sqrt(0.4 - 0.04 + 1e-7) = 0.3333332870
    (RMSprop, {"learning_rate": 0.1, "centered": True}, 0.6666667129629533),
    # acc = 0.1 + 4 = 4.1; step = 0.2 / sqrt(4.1 + 1e-7) = 0.0987729585
    (Adagrad, {"learning_rate": 0.1}, 0.9012270415395893),
    # acc_g = 0.05 * 4 = 0.2; delta = -sqrt(1e-7) * 2 / sqrt(0.2 + 1e-7) = -0.0014142132
    (Adadelta, {"learning_rate": 1.0}, 0.9985857867911802),
]


@pytest.mark.parametrize(
    "cls,kw,expected", HAND_FIRST_STEP, ids=[_case_id((c, None, k)) for c, k, _ in HAND_FIRST_STEP]
)
def test_first_step_by_hand(cls, kw, expected):
    w = Var(np.array([1.0]))
    cls(**kw).apply_gradients([(np.array([2.0]), w)])
    assert w.data[0] == pytest.approx(expected, rel=0, abs=1e-12)


# Numbers printed by Keras 3's own test-suite for w = [1, 2, 3, 4], g = [1, 6, 7, 2],
# learning_rate = 0.5 (float32, to 4 decimals).
KERAS_SINGLE_STEP = {
    SGD: [0.5, -1.0, -0.5, 3.0],
    Adam: [0.5, 1.5, 2.5, 3.5],
    AdamW: [0.4980, 1.4960, 2.494, 3.492],
    Nadam: [0.4686, 1.4686, 2.4686, 3.4686],
    RMSprop: [-0.5811, 0.4189, 1.4189, 2.4189],
    Adagrad: [0.5233, 1.5007, 2.5005, 3.5061],
    Adadelta: [0.9993, 1.9993, 2.9993, 3.9993],
}


@pytest.mark.parametrize("cls", list(KERAS_SINGLE_STEP), ids=lambda c: c.__name__)
def test_single_step_matches_keras_published_numbers(cls):
    w = Var(np.array([1.0, 2.0, 3.0, 4.0], dtype="float32"))
    cls(learning_rate=0.5).apply_gradients([(np.array([1.0, 6.0, 7.0, 2.0], "float32"), w)])
    assert w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, KERAS_SINGLE_STEP[cls], rtol=1e-4, atol=1e-4)


def test_nadam_five_steps_match_keras_published_numbers():
    # Keras 3's golden trajectory for Nadam(0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5).
    golden = np.array(
        [
            [0.4281] * 10,
            [
                -0.1738,
                -0.1731,
                -0.1726,
                -0.1723,
                -0.1721,
                -0.172,
                -0.1719,
                -0.1718,
                -0.1718,
                -0.1717,
            ],
            [
                -0.7115,
                -0.7103,
                -0.7096,
                -0.7092,
                -0.709,
                -0.7088,
                -0.7086,
                -0.7085,
                -0.7085,
                -0.7084,
            ],
            [
                -1.2335,
                -1.2322,
                -1.2313,
                -1.2309,
                -1.2306,
                -1.2304,
                -1.2302,
                -1.2301,
                -1.23,
                -1.2299,
            ],
            [
                -1.7492,
                -1.7478,
                -1.7469,
                -1.7464,
                -1.7461,
                -1.7459,
                -1.7457,
                -1.7456,
                -1.7455,
                -1.7454,
            ],
        ]
    )
    opt = Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5)
    x = Var(np.ones(10, dtype="float32"))
    grads = (np.arange(1, 11) / 10).astype("float32")
    opt.apply_gradients([(np.full(10, 0.01, "float32"), x)])
    for row in golden:
        np.testing.assert_allclose(x.data, row, rtol=5e-4, atol=5e-4)
        opt.apply_gradients([(grads, x)])


# --------------------------------------------------------------------------
# Defaults (checked against Keras 3's signatures)
# --------------------------------------------------------------------------

KERAS_DEFAULTS = {
    SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    Adam: {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
        "weight_decay": None,
    },
    AdamW: {
        "learning_rate": 0.001,
        "weight_decay": 0.004,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    Nadam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    RMSprop: {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    },
    Adagrad: {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    Adadelta: {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
}


@pytest.mark.parametrize("cls", list(KERAS_DEFAULTS), ids=lambda c: c.__name__)
def test_defaults_are_keras_defaults(cls):
    config = cls().get_config()
    for key, value in KERAS_DEFAULTS[cls].items():
        assert config[key] == value, key
    for key in (
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "loss_scale_factor",
        "gradient_accumulation_steps",
        "ema_overwrite_frequency",
    ):
        assert config[key] is None
    assert config["use_ema"] is False and config["ema_momentum"] == 0.99
    assert config["name"] == cls.__name__.lower()


# --------------------------------------------------------------------------
# Flat buffers, in-place updates, dtypes
# --------------------------------------------------------------------------

FLAT_CASES = [
    (SGD, {"learning_rate": 0.1}),
    (SGD, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (Adam, {"learning_rate": 0.01}),
    (Adam, {"amsgrad": True, "global_clipnorm": 0.5}),
    (AdamW, {"learning_rate": 0.01, "clipvalue": 0.3}),
    (Nadam, {"learning_rate": 0.01}),
    (RMSprop, {"centered": True, "momentum": 0.5}),
    (Adagrad, {"learning_rate": 0.1}),
    (Adadelta, {"learning_rate": 1.0}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kw", FLAT_CASES, ids=[_case_id((c, None, k)) for c, k in FLAT_CASES])
def test_one_flat_buffer_gives_identical_updates(cls, kw, dtype):
    variables = make_vars(dtype)
    flat = Var(np.concatenate([v.data.ravel() for v in variables]), "flat")
    grad_steps = make_grads(5, dtype)
    per_var, whole = cls(**kw), cls(**kw)
    for grads in grad_steps:
        per_var.apply_gradients(zip(grads, variables))
        whole.apply_gradients([(np.concatenate([g.ravel() for g in grads]), flat)])
    joined = np.concatenate([v.data.ravel() for v in variables])
    assert joined.dtype == flat.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(joined, flat.data)


def test_clipnorm_is_per_variable_unlike_a_flat_buffer():
    # Documented deviation on flat buffers: clipnorm then sees one joint norm.
    a, b = Var(np.array([3.0, 4.0])), Var(np.array([0.3, 0.4]))
    flat = Var(np.array([3.0, 4.0, 0.3, 0.4]))
    SGD(learning_rate=1.0, clipnorm=1.0).apply([np.array([3.0, 4.0]), np.array([0.3, 0.4])], [a, b])
    SGD(learning_rate=1.0, clipnorm=1.0).apply([np.array([3.0, 4.0, 0.3, 0.4])], [flat])
    np.testing.assert_allclose(a.data, [2.4, 3.2])  # clipped to norm 1
    np.testing.assert_allclose(b.data, [0.0, 0.0], atol=1e-15)  # norm 0.5: untouched gradient
    assert not np.allclose(np.concatenate([a.data, b.data]), flat.data)


def test_updates_in_place_views_of_one_buffer():
    buffer = np.arange(6, dtype="float32")
    kernel, bias = Var(buffer[:4].reshape(2, 2), "k"), Var(buffer[4:], "b")
    kernel_view, bias_view = kernel.data, bias.data
    opt = Adam(learning_rate=0.1)
    for _ in range(3):
        opt.apply([np.ones((2, 2), "float32"), np.ones(2, "float32")], [kernel, bias])
    assert kernel.data is kernel_view and bias.data is bias_view
    assert np.shares_memory(kernel.data, buffer)
    np.testing.assert_array_equal(buffer[:4].reshape(2, 2), kernel.data)
    assert not np.array_equal(buffer, np.arange(6, dtype="float32"))
    assert all(s.dtype == np.float32 for s in opt.variables[1:])  # [0]: the int64 count


def test_gradients_are_not_modified():
    g = np.array([30.0, 40.0])
    g_copy = g.copy()
    for opt in (
        Adam(clipnorm=1.0),
        SGD(global_clipnorm=1.0),
        RMSprop(clipvalue=0.5),
        Nadam(loss_scale_factor=4.0),
    ):
        opt.apply([g], [Var(np.zeros(2))])
        np.testing.assert_array_equal(g, g_copy)


def test_variables_lists_the_slots():
    import chainrule as cr

    # Keras 3: iteration, learning_rate, then each variable's slots in turn
    ws = make_vars()
    assert len(_built(SGD(), ws).variables) == 2
    assert len(_built(SGD(momentum=0.5), ws).variables) == 2 + 3
    assert len(_built(Adam(), ws).variables) == 2 + 6
    assert len(_built(Adam(amsgrad=True), ws).variables) == 2 + 9
    assert len(_built(RMSprop(centered=True, momentum=0.1), ws).variables) == 2 + 9
    opt = _built(Adagrad(initial_accumulator_value=0.25), ws)
    assert all(np.all(s.numpy() == 0.25) for s in opt.variables[2:])
    schedule = cr.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert [v.name for v in _built(SGD(schedule), ws).variables] == ["iteration"]


def test_variables_are_named_as_keras_names_them_and_share_the_state():
    w = Var(np.zeros((2, 2), np.float32), "kernel")
    w.path = "sequential/dense/kernel"
    b = Var(np.zeros(2, np.float32), "bias")
    b.path = "sequential/dense/bias"
    opt = Adam(0.1)
    opt.apply([np.ones((2, 2), np.float32), np.ones(2, np.float32)], [w, b])
    # the order and names Keras 3.15 gives the same model's Adam
    assert [v.path for v in opt.variables] == [
        "adam/iteration", "adam/learning_rate",
        "adam/sequential_dense_kernel_momentum", "adam/sequential_dense_kernel_velocity",
        "adam/sequential_dense_bias_momentum", "adam/sequential_dense_bias_velocity"]
    assert all(not v.trainable for v in opt.variables)
    momentum = opt.variables[2]
    np.testing.assert_allclose(momentum.numpy(), 0.1)  # (1 - beta_1) * gradient
    momentum.assign(np.full((2, 2), 7.0, np.float32))
    np.testing.assert_array_equal(opt._slots[0][0], 7.0)  # the optimizer's own state
    assert int(opt.variables[0]) == 1 and float(opt.variables[1]) == 0.1


def test_learning_rate_is_a_variable_that_programs_assign():
    import chainrule as cr

    opt = SGD(0.1)
    lr = opt.learning_rate
    assert lr.path == "sgd/learning_rate" and lr.dtype == np.float32 and not lr.trainable
    assert lr == 0.1 and float(lr) == 0.1 and lr.numpy() == np.float32(0.1)
    lr.assign(lr * 0.5)  # the keras idiom: decay from inside a callback or a loop
    assert opt.learning_rate == 0.05 and float(opt.learning_rate) == 0.05
    opt.learning_rate = 0.2
    assert float(lr) == 0.2 and lr.numpy() == np.float32(0.2)
    lr.assign_sub(0.1)
    assert float(opt.learning_rate) == pytest.approx(0.1)
    opt.learning_rate = np.float32(0.25)
    assert float(opt.learning_rate) == 0.25
    assert f"{opt.learning_rate:.2f}" == "0.25" and round(opt.learning_rate, 1) == 0.2
    assert opt.get_config()["learning_rate"] == 0.25
    with pytest.raises(ValueError, match=r"learning_rate.*Received: learning_rate=-1"):
        lr.assign(-1.0)
    scheduled = SGD(cr.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5))
    assert float(scheduled.learning_rate) == pytest.approx(0.1)
    assert isinstance(scheduled.learning_rate, cr.Tensor)  # Keras: the schedule's value
    with pytest.raises(TypeError, match="not settable to a number"):
        scheduled.learning_rate = 0.3


def _built(opt, variables):
    opt.build(variables)
    return opt


# --------------------------------------------------------------------------
# Learning rate: property, setter, schedules, callables
# --------------------------------------------------------------------------


def test_learning_rate_property_and_setter():
    opt = SGD(learning_rate=0.1)
    assert opt.learning_rate == 0.1 and isinstance(float(opt.learning_rate), float)
    w = Var(np.array([1.0]))
    opt.apply_gradients([(np.array([1.0]), w)])
    opt.learning_rate = 0.01  # what ReduceLROnPlateau does
    opt.apply_gradients([(np.array([1.0]), w)])
    assert w.data[0] == pytest.approx(1 - 0.1 - 0.01, abs=1e-15)
    assert opt.get_config()["learning_rate"] == 0.01
    with pytest.raises(ValueError, match=re.escape("Received: learning_rate=-1.0")):
        opt.learning_rate = -1.0


def test_learning_rate_schedule_is_evaluated_at_iterations():
    sched = schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    opt = SGD(learning_rate=sched)
    w = Var(np.array([0.0]))
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(np.array([1.0]), w)])
    # steps 0 and 1 use 1.0 (step <= 1), step 2 uses 0.5, step 3 uses 0.25
    assert seen == [1.0, 1.0, 0.5, 0.25]
    assert w.data[0] == pytest.approx(-2.75, abs=1e-15)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    opt.learning_rate = schedules.ExponentialDecay(0.1, 1, 0.5)
    assert opt.learning_rate == pytest.approx(0.1 * 0.5**4)


def test_schedule_also_drives_weight_decay_and_adam():
    sched = schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)
    variables = make_vars()
    grad_steps = make_grads(4)
    opt = Adam(learning_rate=sched)
    expected_w = [v.data.copy() for v in variables]
    m = [np.zeros_like(w) for w in expected_w]
    v = [np.zeros_like(w) for w in expected_w]
    for t, grads in enumerate(grad_steps, start=1):
        opt.apply_gradients(zip(grads, variables))
        lr = 0.1 / (1 + (t - 1))
        alpha = lr * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        for k, g in enumerate(grads):
            m[k] = m[k] + (g - m[k]) * 0.1
            v[k] = v[k] + (g * g - v[k]) * 0.001
            expected_w[k] = expected_w[k] - m[k] * alpha / (np.sqrt(v[k]) + 1e-7)
    for var, want in zip(variables, expected_w):
        np.testing.assert_allclose(var.data, want, rtol=1e-12, atol=1e-12)


def test_callable_learning_rate():
    rate = {"value": 0.5}
    opt = SGD(learning_rate=lambda: rate["value"])
    w = Var(np.array([1.0]))
    opt.apply_gradients([(np.array([1.0]), w)])
    rate["value"] = 0.25
    opt.apply_gradients([(np.array([1.0]), w)])
    assert w.data[0] == pytest.approx(0.25, abs=1e-15)
    assert opt.learning_rate == 0.25


# --------------------------------------------------------------------------
# tf.keras 2 spellings
# --------------------------------------------------------------------------


def test_seed_tutorial_adam_spelling_works_with_warnings():
    with pytest.warns(DeprecationWarning) as record:
        opt = Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False)
    messages = " | ".join(str(r.message) for r in record)
    assert "use `learning_rate`" in messages
    assert "epsilon=None" in messages and "1e-07" in messages
    assert "InverseTimeDecay" in messages  # the new spelling of decay=
    assert all(r.filename == __file__ for r in record)  # points at the user's line
    assert opt.learning_rate == 0.001 and opt.epsilon == 1e-7
    reference = Adam(learning_rate=0.001)
    a, b = make_vars(), make_vars()
    for grads in make_grads(3):
        opt.apply_gradients(zip(grads, a))
        reference.apply_gradients(zip(grads, b))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)


def test_seed_tutorial_sgd_spelling_works_with_a_warning():
    with pytest.warns(DeprecationWarning, match="use `learning_rate`"):
        opt = SGD(lr=0.01, momentum=0.9)
    assert opt.learning_rate == 0.01 and opt.momentum == 0.9
    assert opt.get_config()["learning_rate"] == 0.01


def test_legacy_decay_is_inverse_time_decay():
    with pytest.warns(DeprecationWarning) as record:
        opt = SGD(lr=0.1, decay=0.5)
    assert any("decay_rate=0.5" in str(r.message) for r in record)
    w = Var(np.array([0.0]))
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0]), w)])
    # lr_t = 0.1 / (1 + 0.5 * t) for t = 0, 1, 2
    assert w.data[0] == pytest.approx(-(0.1 + 0.1 / 1.5 + 0.1 / 2.0), abs=1e-15)
    assert opt.learning_rate == 0.1  # the undecayed base rate, as in tf.keras 2
    config = opt.get_config()
    assert config["decay"] == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone = SGD.from_config(config)  # no second warning on load
    w2 = Var(np.array([0.0]))
    for _ in range(3):
        clone.apply_gradients([(np.array([1.0]), w2)])
    assert w2.data[0] == w.data[0]


def test_lr_attribute_is_a_deprecated_alias():
    opt = RMSprop(learning_rate=0.01)
    with pytest.warns(DeprecationWarning, match="optimizer.learning_rate"):
        assert opt.lr == 0.01
    with pytest.warns(DeprecationWarning):
        opt.lr = 0.5
    assert opt.learning_rate == 0.5


def test_lr_and_a_different_learning_rate_conflict():
    conflict = re.escape("Received: learning_rate=0.1, lr=0.2")
    with pytest.raises(TypeError, match=conflict), pytest.warns(DeprecationWarning):
        SGD(learning_rate=0.1, lr=0.2)


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"Adam\(\) got unexpected keyword argument 'betas'"):
        Adam(betas=(0.9, 0.999))
    with pytest.raises(TypeError, match=r"'nestrov' \(did you mean 'nesterov'\?\)"):
        SGD(nestrov=True)
    with pytest.raises(TypeError, match="schedule_decay"):
        Nadam(schedule_decay=0.004)


# --------------------------------------------------------------------------
# Clipping, weight decay, constraints, EMA, accumulation, loss scaling
# --------------------------------------------------------------------------


def test_clipnorm_matches_keras_example():
    # Keras: Adam(clipnorm=1) clips [100, 100] to [sqrt(2)/2, sqrt(2)/2].
    w = Var(np.array([0.0, 0.0]))
    SGD(learning_rate=1.0, clipnorm=1).apply([np.array([100.0, 100.0])], [w])
    np.testing.assert_allclose(w.data, [-(2**0.5) / 2] * 2, rtol=1e-15)


def test_clipnorm_leaves_small_gradients():
    w = Var(np.array([0.0, 0.0]))
    SGD(learning_rate=1.0, clipnorm=10.0).apply([np.array([3.0, 4.0])], [w])
    np.testing.assert_allclose(w.data, [-3.0, -4.0], rtol=1e-15)


def test_global_clipnorm_scales_all_gradients_together():
    a, b = Var(np.zeros(2)), Var(np.zeros(1))
    # joint norm sqrt(9 + 16 + 144) = 13, clipped to 6.5: everything halves
    SGD(learning_rate=1.0, global_clipnorm=6.5).apply(
        [np.array([3.0, 4.0]), np.array([12.0])], [a, b]
    )
    np.testing.assert_allclose(a.data, [-1.5, -2.0], rtol=1e-15)
    np.testing.assert_allclose(b.data, [-6.0], rtol=1e-15)
    c = Var(np.zeros(2))
    SGD(learning_rate=1.0, global_clipnorm=100.0).apply([np.array([3.0, 4.0])], [c])
    np.testing.assert_allclose(c.data, [-3.0, -4.0], rtol=1e-15)


def test_clipvalue_clips_elementwise():
    w = Var(np.zeros(3))
    SGD(learning_rate=1.0, clipvalue=0.5).apply([np.array([-2.0, 0.25, 3.0])], [w])
    np.testing.assert_array_equal(w.data, [0.5, -0.25, -0.5])


def test_weight_decay_matches_keras_example():
    # Keras 3's test: three optimizers with weight_decay=0.004 and lr=1 decay var1
    # three times, 2 * 0.996**3 = 1.9760959; excluded variables stay 2.
    for cls in (SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, Adadelta):
        zero = np.zeros(())
        var1, var2, var3 = Var(2.0), Var(2.0, name="exclude"), Var(2.0)
        cls(learning_rate=1.0, weight_decay=0.004).apply_gradients([(zero, var1)])
        opt2 = cls(learning_rate=1.0, weight_decay=0.004)
        opt2.exclude_from_weight_decay(var_names=["exclude"])
        opt2.apply_gradients([(zero, var1), (zero, var2)])
        opt3 = cls(learning_rate=1.0, weight_decay=0.004)
        opt3.exclude_from_weight_decay(var_list=[var3])
        opt3.apply_gradients([(zero, var1), (zero, var3)])
        assert float(var1.data) == pytest.approx(1.9760959, abs=1e-6), cls.__name__
        assert float(var2.data) == 2.0 and float(var3.data) == 2.0


def test_weight_decay_comes_before_the_update():
    # var -= var * wd * lr, then the SGD step on the decayed value: 1 - 0.1 - 0.1*1
    w = Var(np.array([1.0]))
    SGD(learning_rate=0.1, weight_decay=1.0).apply([np.array([1.0])], [w])
    assert w.data[0] == pytest.approx(0.8, abs=1e-15)


def test_exclude_from_weight_decay_after_build_fails():
    opt = SGD(weight_decay=0.1)
    opt.build([Var(np.zeros(1))])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["bias"])


def test_constraints_are_applied_after_the_update():
    w = Var(np.array([0.5, -0.5]))
    w.constraint = lambda v: np.maximum(v.data, 0.0)  # non-negative, given the variable
    clipped = Var(np.array([0.5]))
    clipped.constraint = lambda v: Var(np.minimum(v.data, 0.2))  # a result with .data
    view = clipped.data
    SGD(learning_rate=1.0).apply([np.array([1.0, 1.0]), np.array([-1.0])], [w, clipped])
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    assert clipped.data[0] == 0.2 and clipped.data is view


def test_ema_matches_keras_example():
    v = Var(np.array([[3.0, 4.0], [5.0, 6.0]]))
    grads = np.ones((2, 2))
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.data, [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_allclose(opt.get_state()["average/0"], [[2.0, 3.0], [4.0, 5.0]])
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.data, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(opt.get_state()["average/0"], [[1.9, 2.9], [3.9, 4.9]])
    opt.apply_gradients([(grads, v)])
    np.testing.assert_allclose(v.data, [[1.71, 2.71], [3.71, 4.71]])  # overwritten by EMA


def test_finalize_variable_values_copies_the_average():
    v = Var(np.array([1.0]))
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt.apply_gradients([(np.array([1.0]), v)])  # v = 0, average = 0
    opt.apply_gradients([(np.array([1.0]), v)])  # v = -1, average = -0.5
    opt.finalize_variable_values([v])
    assert v.data[0] == -0.5


def test_gradient_accumulation_matches_keras_example():
    v = Var(np.array([[1.0, 2.0], [3.0, 4.0]]))
    grads = np.ones((2, 2))
    opt = SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    for call in (1, 2):
        opt.apply_gradients([(grads, v)])
        np.testing.assert_array_equal(v.data, [[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_array_equal(opt.get_state()["gradient_accumulator/0"], call * grads)
        assert opt.iterations == 0
    opt.apply_gradients([(grads, v)])
    np.testing.assert_array_equal(v.data, [[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(opt.get_state()["gradient_accumulator/0"], 0 * grads)
    assert opt.iterations == 1


def test_gradient_accumulation_averages_for_adam():
    variables = make_vars()
    grad_steps = make_grads(4)
    acc = Adam(learning_rate=0.1, gradient_accumulation_steps=2)
    for grads in grad_steps:
        acc.apply_gradients(zip(grads, variables))
    means = [[(a + b) / 2 for a, b in zip(grad_steps[i], grad_steps[i + 1])] for i in (0, 2)]
    expected = ref_adam([v.data for v in make_vars()], means, learning_rate=0.1)[-1]
    for v, want in zip(variables, expected):
        np.testing.assert_allclose(v.data, want, rtol=1e-12, atol=1e-12)
    assert acc.iterations == 2


def test_loss_scale_factor_divides_gradients():
    w = Var(np.array([1.0]))
    SGD(learning_rate=1.0, loss_scale_factor=4.0).apply([np.array([2.0])], [w])
    assert w.data[0] == 0.5


# --------------------------------------------------------------------------
# apply / build behaviour
# --------------------------------------------------------------------------


def test_apply_without_variables_after_build():
    variables = make_vars()
    opt = SGD(learning_rate=0.1)
    opt.build(variables)
    grads = make_grads(1)[0]
    opt.apply(grads)
    np.testing.assert_allclose(variables[1].data, make_vars()[1].data - 0.1 * grads[1])
    assert opt.iterations == 1


def test_apply_without_variables_before_build_fails():
    with pytest.raises(ValueError, match=re.escape("Call `optimizer.build(variables)` first")):
        SGD().apply([np.zeros(1)])


def test_none_gradient_is_skipped_with_a_warning():
    a, b = Var(np.array([1.0]), "a"), Var(np.array([1.0]), "b")
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b'\]"):
        SGD(learning_rate=1.0).apply([np.array([1.0]), None], [a, b])
    assert a.data[0] == 0.0 and b.data[0] == 1.0


def test_all_gradients_none_is_an_error():
    no_grads = "No gradients provided for any variable"
    with pytest.raises(ValueError, match=no_grads), pytest.warns(UserWarning):
        SGD().apply([None], [Var(np.zeros(1))])


def test_non_trainable_variables_are_not_updated():
    frozen = Var(np.array([1.0]), "frozen", trainable=False)
    live = Var(np.array([1.0]), "live")
    SGD(learning_rate=1.0).apply([np.ones(1), np.ones(1)], [frozen, live])
    assert frozen.data[0] == 1.0 and live.data[0] == 0.0


def test_unknown_variable_is_an_error():
    opt = SGD()
    opt.apply([np.zeros(1)], [Var(np.zeros(1), "a")])
    with pytest.raises(ValueError, match="Unknown variable 'b'"):
        opt.apply([np.zeros(1)], [Var(np.zeros(1), "b")])


def test_gradient_shape_mismatch_is_an_error():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The gradient for variable 'w' has shape (4,), but the variable has shape (2, 4)."
        ),
    ):
        SGD().apply([np.zeros(4)], [Var(np.zeros((2, 4)))])


def test_gradient_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match="Received 1 gradients for 2 variables"):
        SGD().apply([np.zeros(1)], [Var(np.zeros(1)), Var(np.zeros(1))])


def test_build_rejects_non_variables_and_duplicates():
    with pytest.raises(TypeError, match="Item 0 is not one"):
        SGD().build([np.zeros(3)])
    with pytest.raises(TypeError, match="floating-point variables only"):
        SGD().build([Var(np.zeros(3, dtype=int))])
    w = Var(np.zeros(1))
    with pytest.raises(ValueError, match="listed twice"):
        SGD().build([w, w])


def test_apply_gradients_accepts_zip_and_returns_iterations():
    w = Var(np.zeros(2))
    opt = Adam()
    assert opt.apply_gradients(zip([np.ones(2)], [w])) == 1
    assert opt.apply_gradients(zip([np.ones(2)], [w])) == 2


def test_repr_mentions_name_rate_and_iterations():
    assert repr(Adam(name="opt")) == "<Adam name='opt' learning_rate=0.001 iterations=0>"


# --------------------------------------------------------------------------
# Registry and serialization
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,cls",
    [
        ("sgd", SGD),
        ("adam", Adam),
        ("rmsprop", RMSprop),
        ("adagrad", Adagrad),
        ("adamw", AdamW),
        ("nadam", Nadam),
        ("adadelta", Adadelta),
        ("Adam", Adam),
        ("RMSprop", RMSprop),
        ("SGD", SGD),
        ("AdamW", AdamW),
        ("ADAM", Adam),
    ],
)
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls


def test_get_passes_instances_classes_dicts_and_none():
    opt = Adam(learning_rate=0.1)
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(Nadam)) is Nadam
    assert optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}}).momentum == 0.5
    assert optimizers.get(None) is None


def test_get_unknown_name_suggests():
    with pytest.raises(ValueError) as err:
        optimizers.get("adma")
    message = str(err.value)
    assert message.startswith("Unknown optimizer: 'adma'. Did you mean 'adam'")
    assert message.endswith(
        "Known: adadelta, adafactor, adagrad, adam, adamax, adamw, ftrl, lamb, lion, "
        "lossscaleoptimizer, multioptimizer, muon, nadam, rmsprop, schedulefreeadamw, sgd."
    )


def test_get_rejects_other_objects():
    with pytest.raises(ValueError, match=re.escape("Received: identifier=3")):
        optimizers.get(3)


SERIAL_CASES = [
    SGD(learning_rate=0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    Adam(learning_rate=0.002, beta_1=0.8, amsgrad=True, global_clipnorm=2.0, name="my_adam"),
    AdamW(weight_decay=0.01, clipvalue=0.5),
    Nadam(beta_2=0.99, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5),
    RMSprop(rho=0.8, momentum=0.1, centered=True, gradient_accumulation_steps=4),
    Adagrad(initial_accumulator_value=0.2, loss_scale_factor=128.0),
    Adadelta(learning_rate=1.0, rho=0.9, weight_decay=0.001),
    Adam(learning_rate=schedules.ExponentialDecay(0.01, 100, 0.9, staircase=True)),
    SGD(
        learning_rate=schedules.CosineDecay(
            0.1, 1000, alpha=0.1, warmup_target=0.2, warmup_steps=10
        )
    ),
]


@pytest.mark.parametrize("opt", SERIAL_CASES, ids=lambda o: type(o).__name__)
def test_serialize_deserialize_round_trip(opt):
    blob = json.loads(json.dumps(optimizers.serialize(opt)))
    assert blob["class_name"] == type(opt).__name__
    assert blob["module"] == "keras.optimizers"
    clone = optimizers.deserialize(blob)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    assert clone.learning_rate == opt.learning_rate
    clone2 = type(opt).from_config(opt.get_config())
    assert clone2.get_config() == opt.get_config()


def test_schedule_is_serialized_inside_the_config():
    opt = SGD(learning_rate=schedules.InverseTimeDecay(0.1, 1, 0.5))
    lr = opt.get_config()["learning_rate"]
    assert lr["class_name"] == "InverseTimeDecay"
    assert lr["config"]["decay_rate"] == 0.5
    clone = SGD.from_config(opt.get_config())
    assert isinstance(clone._lr_schedule, schedules.InverseTimeDecay)


def test_keras_config_loads():
    # A config as Keras 3 writes it for Adam.
    keras_config = {
        "module": "keras.optimizers",
        "class_name": "Adam",
        "registered_name": None,
        "config": {
            "name": "adam",
            "learning_rate": 0.0010000000474974513,
            "weight_decay": None,
            "clipnorm": None,
            "global_clipnorm": None,
            "clipvalue": None,
            "use_ema": False,
            "ema_momentum": 0.99,
            "ema_overwrite_frequency": None,
            "loss_scale_factor": None,
            "gradient_accumulation_steps": None,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    }
    opt = optimizers.deserialize(keras_config)
    assert isinstance(opt, Adam) and opt.beta_2 == 0.999


def test_deserialize_custom_class():
    class MySGD(SGD):
        pass

    blob = optimizers.serialize(MySGD(momentum=0.3))
    assert blob["registered_name"] == "MySGD"
    clone = optimizers.deserialize(blob, custom_objects={"MySGD": MySGD})
    assert type(clone) is MySGD and clone.momentum == 0.3
    with pytest.raises(ValueError, match="Unknown optimizer: 'MySGD'"):
        optimizers.deserialize(blob)


# --------------------------------------------------------------------------
# get_state / set_state
# --------------------------------------------------------------------------

STATE_CASES = [
    (SGD, {"momentum": 0.9, "nesterov": True}),
    (SGD, {}),
    (Adam, {"amsgrad": True, "learning_rate": 0.05}),
    (AdamW, {"learning_rate": 0.05}),
    (Nadam, {"learning_rate": 0.05}),
    (RMSprop, {"centered": True, "momentum": 0.5}),
    (Adagrad, {"learning_rate": 0.1}),
    (Adadelta, {"learning_rate": 1.0}),
    (Adam, {"learning_rate": schedules.ExponentialDecay(0.1, 2, 0.5)}),
    (SGD, {"use_ema": True, "gradient_accumulation_steps": 2, "momentum": 0.5}),
]


@pytest.mark.parametrize(
    "cls,kw", STATE_CASES, ids=[_case_id((c, None, k)) for c, k in STATE_CASES]
)
def test_get_state_set_state_continues_identically(cls, kw):
    grad_steps = make_grads(7, "float32")
    a_vars = make_vars("float32")
    a = cls(**kw)
    for grads in grad_steps[:3]:
        a.apply_gradients(zip(grads, a_vars))
    state = a.get_state()
    weights = [v.data.copy() for v in a_vars]
    assert all(isinstance(k, str) for k in state)
    assert all(isinstance(x, np.ndarray) for x in state.values())
    assert state["iterations"] == 3

    b_vars = [Var(w.copy(), v.name) for w, v in zip(weights, a_vars)]
    b = cls(**kw)
    b.build(b_vars)
    b.set_state(state)
    assert b.get_state().keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(b.get_state()[key], state[key])
    for grads in grad_steps[3:]:
        a.apply_gradients(zip(grads, a_vars))
        b.apply_gradients(zip(grads, b_vars))
    for x, y in zip(a_vars, b_vars):
        np.testing.assert_array_equal(x.data, y.data)
    assert a.iterations == b.iterations


def test_set_state_before_build_is_restored_by_the_first_apply():
    grad_steps = make_grads(4)
    a_vars, b_vars = make_vars(), make_vars()
    a = Nadam(learning_rate=0.1)
    b = Nadam(learning_rate=0.1)
    a.apply_gradients(zip(grad_steps[0], a_vars))
    b.apply_gradients(zip(grad_steps[0], b_vars))
    c = Nadam(learning_rate=0.1)
    c.set_state(a.get_state())
    assert c.iterations == 1
    c_vars = [Var(v.data.copy(), v.name) for v in a_vars]
    for grads in grad_steps[1:]:
        a.apply_gradients(zip(grads, a_vars))
        c.apply_gradients(zip(grads, c_vars))
    for x, y in zip(a_vars, c_vars):
        np.testing.assert_array_equal(x.data, y.data)


def test_state_keys_and_copies():
    opt = Nadam()
    variables = make_vars()
    opt.apply_gradients(zip(make_grads(1)[0], variables))
    state = opt.get_state()
    assert sorted(state) == sorted(
        ["iterations", "learning_rate", "u_product"]
        + [f"{slot}/{i}" for slot in ("momentum", "velocity") for i in range(3)]
    )
    assert state["u_product"] == pytest.approx(0.9 * (1 - 0.5 * 0.96))
    saved = state["momentum/0"].copy()
    opt.apply_gradients(zip(make_grads(1)[0], variables))
    np.testing.assert_array_equal(state["momentum/0"], saved)  # a copy, not a view


def test_learning_rate_is_part_of_the_state():
    a = SGD(learning_rate=0.1)
    a.build([Var(np.zeros(1))])
    a.learning_rate = 0.01  # e.g. ReduceLROnPlateau
    b = SGD(learning_rate=0.1)
    b.build([Var(np.zeros(1))])
    b.set_state(a.get_state())
    assert b.learning_rate == 0.01


def test_set_state_shape_mismatch_names_key_and_shapes():
    opt = Adam()
    opt.build(make_vars())
    state = opt.get_state()
    state["velocity/1"] = np.zeros(5)
    before = opt.get_state()
    with pytest.raises(ValueError) as err:
        opt.set_state(state)
    assert str(err.value) == (
        "Optimizer state 'velocity/1' has shape (5,), but this optimizer expects shape (4,) "
        "for variable 'dense/bias'."
    )
    for key, value in before.items():  # nothing changed
        np.testing.assert_array_equal(opt.get_state()[key], value)


def test_set_state_missing_and_unexpected_keys():
    adam = Adam()
    adam.build(make_vars())
    ams = Adam(amsgrad=True)
    ams.build(make_vars())
    with pytest.raises(
        ValueError,
        match=re.escape("Unexpected optimizer state key 'velocity_hat/0' with shape (3, 4)"),
    ):
        adam.set_state(ams.get_state())
    with pytest.raises(
        ValueError,
        match=re.escape("Optimizer state is missing key 'velocity_hat/0' (expected shape (3, 4))"),
    ):
        ams.set_state(adam.get_state())
    with pytest.raises(ValueError, match="missing key 'iterations'"):
        adam.set_state({})


# --------------------------------------------------------------------------
# Bad input: every message names the argument and ends with "Received: ..."
# --------------------------------------------------------------------------

LR_MSG = (
    "Argument `learning_rate` must be a positive float, a LearningRateSchedule or a "
    "callable that returns the rate. "
)

BAD_INPUT = [
    (lambda: SGD(learning_rate=-0.1), LR_MSG + "Received: learning_rate=-0.1"),
    (lambda: Adam(learning_rate=0), LR_MSG + "Received: learning_rate=0"),
    (lambda: Adam(learning_rate="fast"), LR_MSG + "Received: learning_rate='fast'"),
    (lambda: Adam(learning_rate=None), LR_MSG + "Received: learning_rate=None"),
    (lambda: RMSprop(learning_rate=float("nan")), LR_MSG + "Received: learning_rate=nan"),
    (lambda: Adam(beta_1=1.0), "Argument `beta_1` must be a float in [0, 1). Received: beta_1=1.0"),
    (
        lambda: Adam(beta_2=-0.1),
        "Argument `beta_2` must be a float in [0, 1). Received: beta_2=-0.1",
    ),
    (
        lambda: Nadam(beta_1=1.5),
        "Argument `beta_1` must be a float in [0, 1). Received: beta_1=1.5",
    ),
    (lambda: AdamW(beta_2=1), "Argument `beta_2` must be a float in [0, 1). Received: beta_2=1"),
    (
        lambda: SGD(momentum=1.5),
        "Argument `momentum` must be a float in [0, 1]. Received: momentum=1.5",
    ),
    (
        lambda: SGD(momentum=-0.1),
        "Argument `momentum` must be a float in [0, 1]. Received: momentum=-0.1",
    ),
    (
        lambda: RMSprop(momentum=2),
        "Argument `momentum` must be a float in [0, 1]. Received: momentum=2",
    ),
    (lambda: RMSprop(rho=1.0), "Argument `rho` must be a float in [0, 1). Received: rho=1.0"),
    (lambda: Adadelta(rho=-0.5), "Argument `rho` must be a float in [0, 1). Received: rho=-0.5"),
    (
        lambda: Adam(epsilon=-1e-7),
        "Argument `epsilon` must be a float >= 0. Received: epsilon=-1e-07",
    ),
    (
        lambda: Adagrad(epsilon="tiny"),
        "Argument `epsilon` must be a float >= 0. Received: epsilon='tiny'",
    ),
    (
        lambda: SGD(clipnorm=0),
        "Argument `clipnorm` must be a positive float or None. Received: clipnorm=0",
    ),
    (
        lambda: SGD(clipnorm=-1.0),
        "Argument `clipnorm` must be a positive float or None. Received: clipnorm=-1.0",
    ),
    (
        lambda: SGD(global_clipnorm=0.0),
        "Argument `global_clipnorm` must be a positive float or None. Received: global_clipnorm=0.0",
    ),
    (
        lambda: SGD(clipvalue=-2),
        "Argument `clipvalue` must be a positive float or None. Received: clipvalue=-2",
    ),
    (
        lambda: Adam(clipnorm=1.0, global_clipnorm=1.0),
        (
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            "Received: clipnorm=1.0, clipvalue=None, global_clipnorm=1.0"
        ),
    ),
    (
        lambda: SGD(clipnorm=1.0, clipvalue=0.5),
        (
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
            "Received: clipnorm=1.0, clipvalue=0.5, global_clipnorm=None"
        ),
    ),
    (
        lambda: AdamW(weight_decay=None),
        "Argument `weight_decay` must be a float. Received: weight_decay=None",
    ),
    (
        lambda: SGD(weight_decay=-0.1),
        "Argument `weight_decay` must be a float >= 0 or None. Received: weight_decay=-0.1",
    ),
    (lambda: SGD(nesterov="yes"), "Argument `nesterov` must be a bool. Received: nesterov='yes'"),
    (lambda: Adam(amsgrad=1), "Argument `amsgrad` must be a bool. Received: amsgrad=1"),
    (lambda: RMSprop(centered=None), "Argument `centered` must be a bool. Received: centered=None"),
    (
        lambda: Adagrad(initial_accumulator_value=-0.1),
        (
            "Argument `initial_accumulator_value` must be a float >= 0. "
            "Received: initial_accumulator_value=-0.1"
        ),
    ),
    (
        lambda: SGD(use_ema=True, ema_momentum=1.5),
        "Argument `ema_momentum` must be a float in [0, 1]. Received: ema_momentum=1.5",
    ),
    (
        lambda: SGD(gradient_accumulation_steps=1),
        (
            "Argument `gradient_accumulation_steps` must be an integer >= 2 or None. "
            "Received: gradient_accumulation_steps=1"
        ),
    ),
    (
        lambda: SGD(ema_overwrite_frequency=0),
        (
            "Argument `ema_overwrite_frequency` must be an integer >= 1 or None. "
            "Received: ema_overwrite_frequency=0"
        ),
    ),
    (
        lambda: SGD(loss_scale_factor=0.0),
        (
            "Argument `loss_scale_factor` must be a positive float or None. "
            "Received: loss_scale_factor=0.0"
        ),
    ),
    (lambda: SGD(name=3), "Argument `name` must be a string. Received: name=3"),
    (lambda: SGD(lr=-1.0), LR_MSG + "Received: learning_rate=-1.0"),
    (lambda: SGD(decay=-0.5), "Argument `decay` must be a float >= 0. Received: decay=-0.5"),
]


@pytest.mark.parametrize("make,message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_messages(make, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError) as err:
            make()
    assert str(err.value) == message


def test_numpy_scalars_are_accepted_and_shown_plainly():
    opt = Adam(learning_rate=np.float32(0.5), beta_1=np.float64(0.8))
    assert opt.learning_rate == 0.5 and opt.beta_1 == 0.8
    json.dumps(opt.get_config())
    with pytest.raises(ValueError, match=r"Received: beta_1=1\.0$"):
        Adam(beta_1=np.float64(1.0))


def test_no_assert_statements_for_user_errors():
    package = pathlib.Path(optimizers.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        assert not any(isinstance(node, ast.Assert) for node in ast.walk(tree)), path.name


# --------------------------------------------------------------------------
# Writing a new optimizer on the base class
# --------------------------------------------------------------------------


def test_custom_optimizer_on_the_base_class():
    class SignSGD(Optimizer):
        """w -= lr * sign(g)."""

        _n_scratch = 1

        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def update_step(self, grad, data, lr, slots, scratch):
            s = self._xp.sign(grad, out=scratch[0])
            self._xp.multiply(s, lr, out=s)
            self._xp.subtract(data, s, out=data)

    w = Var(np.array([1.0, 1.0, 1.0]))
    opt = SignSGD(clipnorm=1.0)
    opt.apply_gradients([(np.array([-5.0, 0.0, 3.0]), w)])
    np.testing.assert_allclose(w.data, [1.1, 1.0, 0.9])
    assert optimizers.serialize(opt)["class_name"] == "SignSGD"


@pytest.mark.parametrize("jit", ["auto", False])
def test_fit_scales_the_loss_that_loss_scale_factor_unscales(jit):
    # Keras: fit differentiates optimizer.scale_loss(loss) and apply divides the gradients by
    # the factor, so the factor changes nothing but rounding (power-of-two factors: exactly)
    import chainrule as cr

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)).astype(np.float32), rng.standard_normal((32, 1))
    results = []
    for factor in (None, 8.0):
        cr.utils.set_random_seed(0)
        model = cr.models.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
        model.compile(cr.optimizers.SGD(0.1, loss_scale_factor=factor), "mse", jit_compile=jit)
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False)
        results.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1] == results[1][1]  # the tracked loss is the unscaled one

"""Tests of chainrule.optimizers.schedules: values worked by hand, config, errors."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from chainrule.optimizers import SGD, schedules
from chainrule.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

# (schedule, step, value worked by hand)
HAND_VALUES = [
    # 0.1 * 0.5 ** (step / 10)
    (ExponentialDecay(0.1, 10, 0.5), 0, 0.1),
    (ExponentialDecay(0.1, 10, 0.5), 5, 0.1 * math.sqrt(0.5)),  # 0.0707106781
    (ExponentialDecay(0.1, 10, 0.5), 10, 0.05),
    (ExponentialDecay(0.1, 10, 0.5), 30, 0.0125),
    # staircase: the exponent is floor(step / 10)
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 9, 0.1),
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 10, 0.05),
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 19, 0.05),
    # 0.1 / (1 + 0.5 * step)
    (InverseTimeDecay(0.1, 1, 0.5), 0, 0.1),
    (InverseTimeDecay(0.1, 1, 0.5), 2, 0.05),
    (InverseTimeDecay(0.1, 1, 0.5), 6, 0.025),
    # 0.1 / (1 + 0.5 * step / 10); staircase floors step / 10
    (InverseTimeDecay(0.1, 10, 0.5), 15, 0.1 / 1.75),
    (InverseTimeDecay(0.1, 10, 0.5, staircase=True), 15, 0.1 / 1.5),
    # values[0] while step <= 100, values[1] while 100 < step <= 110, then values[2]
    (PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), 0, 1.0),
    (PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), 100, 1.0),
    (PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), 101, 0.5),
    (PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), 110, 0.5),
    (PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), 111, 0.1),
    # (0.1 - 0.01) * (1 - step / 10) ** 2 + 0.01, step capped at 10
    (PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0), 0, 0.1),
    (PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0), 5, 0.0325),
    (PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0), 20, 0.01),
    # cycle: step 15 decays over 20 steps, p = 0.75: 0.09 * 0.0625 + 0.01
    (PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0, cycle=True), 15, 0.015625),
    (PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0, cycle=True), 0, 0.1),
    # default end_learning_rate 0.0001, linear: (0.1 - 0.0001) * 0.5 + 0.0001
    (PolynomialDecay(0.1, 10), 5, 0.05005),
    # 0.1 * ((1 - 0.1) * 0.5 * (1 + cos(pi * step / 100)) + 0.1)
    (CosineDecay(0.1, 100, alpha=0.1), 0, 0.1),
    (CosineDecay(0.1, 100, alpha=0.1), 50, 0.055),
    (CosineDecay(0.1, 100, alpha=0.1), 100, 0.01),
    (CosineDecay(0.1, 100, alpha=0.1), 500, 0.01),
    (CosineDecay(0.1, 100), 25, 0.05 * (1 + math.sqrt(0.5))),
    # warmup from 0 to 0.1 in 10 steps, then cosine from 0.1 over 100 steps
    (CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10), 5, 0.05),
    (CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10), 10, 0.1),
    (CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10), 60, 0.05),
    (CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10), 1000, 0.0),
    # t_mul=1: periods of 10 steps, each restart at m_mul times the previous start
    (CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5), 5, 0.05),
    (CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5), 10, 0.05),
    (CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5), 25, 0.0125),
    # t_mul=2: periods of 10, 20, 40 steps starting at steps 0, 10, 30
    (CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5), 10, 0.05),
    (CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5), 20, 0.025),
    (CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5), 30, 0.025),
    (CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5, alpha=0.2), 20, 0.1 * (0.8 * 0.25 + 0.2)),
]


@pytest.mark.parametrize(
    "schedule,step,expected", HAND_VALUES, ids=[f"{s!r}@{k}" for s, k, _ in HAND_VALUES]
)
def test_values_by_hand(schedule, step, expected):
    value = schedule(step)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)


SCHEDULES = [
    ExponentialDecay(0.1, 7, 0.8),
    ExponentialDecay(0.1, 7, 0.8, staircase=True),
    InverseTimeDecay(0.2, 3, 0.4, staircase=True),
    PiecewiseConstantDecay([5, 12, 30], [0.3, 0.2, 0.1, 0.05]),
    PolynomialDecay(0.1, 13, end_learning_rate=0.001, power=0.5, cycle=True),
    PolynomialDecay(0.1, 13),
    CosineDecay(0.1, 40, alpha=0.05),
    CosineDecay(0.01, 40, warmup_target=0.1, warmup_steps=8),
    CosineDecayRestarts(0.1, 9, t_mul=1.5, m_mul=0.7, alpha=0.01),
    CosineDecayRestarts(0.1, 9, t_mul=1.0),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_array_of_steps_matches_scalar_steps(schedule):
    steps = np.arange(0, 80)
    values = schedule(steps)
    assert isinstance(values, np.ndarray) and values.shape == (80,)
    np.testing.assert_allclose(values, [schedule(int(s)) for s in steps], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_config_round_trip(schedule):
    config = schedule.get_config()
    clone = type(schedule).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    blob = json.loads(json.dumps(schedules.serialize(schedule)))
    assert blob["class_name"] == type(schedule).__name__
    assert blob["module"] == "keras.optimizers.schedules"
    again = schedules.deserialize(blob)
    for step in (0, 3, 17, 60):
        assert again(step) == schedule(step)


def test_keras_defaults_and_names():
    assert ExponentialDecay(0.1, 1, 0.9).get_config() == {
        "initial_learning_rate": 0.1,
        "decay_steps": 1,
        "decay_rate": 0.9,
        "staircase": False,
        "name": "ExponentialDecay",
    }
    assert InverseTimeDecay(0.1, 1, 0.9).get_config()["name"] == "InverseTimeDecay"
    assert PiecewiseConstantDecay([1], [1.0, 0.5]).get_config()["name"] == "PiecewiseConstant"
    poly = PolynomialDecay(0.1, 10).get_config()
    assert (poly["end_learning_rate"], poly["power"], poly["cycle"]) == (0.0001, 1.0, False)
    cosine = CosineDecay(0.1, 10).get_config()
    assert (cosine["alpha"], cosine["warmup_target"], cosine["warmup_steps"]) == (0.0, None, 0)
    assert cosine["name"] == "CosineDecay"
    restarts = CosineDecayRestarts(0.1, 10).get_config()
    assert (restarts["t_mul"], restarts["m_mul"], restarts["alpha"]) == (2.0, 1.0, 0.0)
    assert restarts["name"] == "SGDRDecay"


def test_deserialize_unknown_name_suggests():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Unknown learning rate schedule: 'ExponentalDecay'. Did you mean 'ExponentialDecay'"
        ),
    ):
        schedules.deserialize({"class_name": "ExponentalDecay", "config": {}})


def test_custom_schedule_drives_an_optimizer():
    class Halving(LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2**step

        def get_config(self):
            return {}

    opt = SGD(learning_rate=Halving())
    w = type("V", (), {})()
    w.data, w.name = np.array([0.0]), "w"
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0]), w)])
    assert w.data[0] == -1.75
    blob = SGD(learning_rate=Halving()).get_config()["learning_rate"]
    assert blob["registered_name"] == "Halving"
    restored = SGD.from_config({"learning_rate": blob}, custom_objects={"Halving": Halving})
    assert isinstance(restored._lr_schedule, Halving)


def test_base_class_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        LearningRateSchedule().get_config()


BAD = [
    (
        lambda: ExponentialDecay(0.1, 0, 0.5),
        "Argument `decay_steps` must be > 0. Received: decay_steps=0",
    ),
    (
        lambda: InverseTimeDecay(0.1, -1, 0.5),
        "Argument `decay_steps` must be > 0. Received: decay_steps=-1",
    ),
    (
        lambda: PolynomialDecay(0.1, 0),
        "Argument `decay_steps` must be > 0. Received: decay_steps=0",
    ),
    (lambda: CosineDecay(0.1, 0), "Argument `decay_steps` must be > 0. Received: decay_steps=0"),
    (
        lambda: CosineDecayRestarts(0.1, 0),
        "Argument `first_decay_steps` must be > 0. Received: first_decay_steps=0",
    ),
    (
        lambda: ExponentialDecay(0.1, 10, -0.5),
        "Argument `decay_rate` must be a positive float. Received: decay_rate=-0.5",
    ),
    (
        lambda: InverseTimeDecay(0.1, 10, -0.5),
        "Argument `decay_rate` must be a float >= 0. Received: decay_rate=-0.5",
    ),
    (
        lambda: ExponentialDecay("0.1", 10, 0.5),
        "Argument `initial_learning_rate` must be a number. Received: initial_learning_rate='0.1'",
    ),
    (
        lambda: PiecewiseConstantDecay([1, 2], [1.0, 0.5]),
        (
            "The length of boundaries should be 1 less than the length of values. Received: "
            "boundaries=[1, 2] of length 2, and values=[1.0, 0.5] of length 2."
        ),
    ),
    (
        lambda: PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1]),
        "Argument `boundaries` must be strictly increasing. Received: boundaries=[5, 2]",
    ),
    (
        lambda: CosineDecayRestarts(0.1, 10, t_mul=0),
        "Argument `t_mul` must be a positive float. Received: t_mul=0",
    ),
    (
        lambda: CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1),
        "Argument `warmup_steps` must be a number >= 0. Received: warmup_steps=-1",
    ),
]


@pytest.mark.parametrize("make,message", BAD, ids=[m for _, m in BAD])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert str(err.value) == message

"""LossScaleOptimizer, Muon, ScheduleFreeAdamW, Circle and CTC against Keras 3's numbers.

The fixture ``tests/fixtures/keras_optx.npz`` is written by ``tools/keras_optx_fixtures.py``
(Keras 3.15 with TensorFlow): a small fixed model trained a few steps by each
optimizer, a LossScaleOptimizer driven by a gradient sequence with NaN and inf,
and the losses (with gradients) on fixed inputs.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses, optimizers
from chainrule.layers import Variable

FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_optx.npz"))
STEPS = len(FIX["muon/losses"])


def _model(jit: object = "auto") -> cr.Model:
    model = cr.Sequential([cr.Input((4,)), cr.layers.Dense(3, activation="tanh", name="hidden"),
                           cr.layers.Dense(2, name="out")])
    model.set_weights([FIX[f"w0_{i}"] for i in range(4)])
    return model


def _train(opt: optimizers.Optimizer, jit: object = "auto") -> tuple:
    model = _model()
    model.compile(optimizer=opt, loss="mse", jit_compile=jit)
    step_losses = [float(model.train_on_batch(FIX["x"], FIX["y"])) for _ in range(STEPS)]
    return model, step_losses


def _check_training(name: str, opt: optimizers.Optimizer, atol: float = 1e-6) -> cr.Model:
    model, step_losses = _train(opt)
    np.testing.assert_allclose(step_losses, FIX[f"{name}/losses"], rtol=1e-5, atol=atol)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, FIX[f"{name}/w_{i}"], rtol=0, atol=atol, err_msg=f"weight {i}")
    return model


def test_fixture_records_versions() -> None:
    versions = json.loads(str(FIX["versions"]))
    assert versions["keras"].startswith("3.") and versions["tensorflow"]


# -- LossScaleOptimizer ------------------------------------------------------------------


@pytest.mark.parametrize("name, make", [
    ("lso_sgd", lambda: optimizers.LossScaleOptimizer(optimizers.SGD(0.1, momentum=0.9))),
    ("lso_adam", lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0,
                                                       dynamic_growth_steps=2)),
])
def test_loss_scale_optimizer_trains_as_keras(name: str, make) -> None:
    model = _check_training(name, make())
    assert float(model.optimizer.dynamic_scale) == float(FIX[f"{name}/scale"])
    assert int(model.optimizer.step_counter) == int(FIX[f"{name}/counter"])
    assert int(model.optimizer.iterations) == STEPS


def test_loss_scale_optimizer_apply_matches_keras_with_nonfinite_gradients() -> None:
    trace = FIX["lso_apply/trace"]
    v = Variable(np.array([0.5, -0.25, 1.0], np.float32), name="v")
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(learning_rate=0.1), initial_scale=8.0,
                                        dynamic_growth_steps=2)
    for g, row in zip(FIX["lso_apply/grads"], trace):
        before = v.numpy().copy()
        with np.errstate(invalid="ignore", over="ignore"):
            opt.apply([g * np.float32(float(opt.dynamic_scale))], [v])
        np.testing.assert_allclose(v.numpy(), row[:3], rtol=0, atol=1e-6)
        assert (float(opt.dynamic_scale), int(opt.step_counter), int(opt.iterations)) == \
            (row[3], row[4], row[5])
        if not np.isfinite(g).all():
            np.testing.assert_array_equal(v.numpy(), before)


@pytest.mark.parametrize("jit", [True, False])
def test_loss_scale_optimizer_skips_inf_gradient_step_and_halves_scale(jit: bool) -> None:
    """A step whose (scaled) gradients overflow changes no weight, on the captured step and on
    the tape, and fit goes on (the loss itself is finite)."""
    model = _model()
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=2.0**15)
    model.compile(optimizer=opt, loss="mse", jit_compile=jit)
    x, y = FIX["x"], FIX["y"]
    for _ in range(3):
        model.train_on_batch(x, y)
    if jit:
        assert any(e.program is not None for e in model._steps.entries.values())
    before = [w.copy() for w in model.get_weights()]
    inner_state = opt.inner_optimizer.get_state()
    opt.dynamic_scale.assign(np.float32(3e38))  # the scaled gradients overflow to inf
    with np.errstate(over="ignore", invalid="ignore"):
        loss = model.train_on_batch(x, y * 100)
    assert np.isfinite(loss)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert float(opt.dynamic_scale) == np.float32(3e38) * np.float32(0.5)
    assert int(opt.step_counter) == 0 and int(opt.iterations) == 3
    for key, value in opt.inner_optimizer.get_state().items():
        np.testing.assert_array_equal(value, inner_state[key])
    opt.dynamic_scale.assign(np.float32(8.0))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert int(opt.iterations) == 4 and int(opt.step_counter) == 1
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


def test_loss_scale_optimizer_fit_on_nan_raise_is_not_triggered_by_gradients() -> None:
    model = _model()
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.01), initial_scale=3e38)
    model.compile(optimizer=opt, loss="mse")
    before = [w.copy() for w in model.get_weights()]
    with np.errstate(over="ignore", invalid="ignore"):  # the scaled gradients overflow
        model.fit(FIX["x"], FIX["y"] * 100, epochs=2, batch_size=8, verbose=0, on_nan="raise")
    assert float(opt.dynamic_scale) < 3e38 / 2 and int(opt.iterations) == 0
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_loss_scale_optimizer_captured_and_taped_are_identical() -> None:
    def run(jit: bool) -> list:
        model = _model()
        model.compile(optimizer=optimizers.LossScaleOptimizer(
            optimizers.Adam(0.01), initial_scale=4.0, dynamic_growth_steps=2), loss="mse",
            jit_compile=jit)
        for _ in range(5):
            model.train_on_batch(FIX["x"], FIX["y"])
        return model.get_weights()

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_loss_scale_optimizer_config_variables_and_state() -> None:
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0,
                                        dynamic_growth_steps=3)
    config = opt.get_config()
    assert config["inner_optimizer"]["class_name"] == "Adam"
    assert (config["name"], config["initial_scale"], config["dynamic_growth_steps"]) == \
        ("loss_scale_optimizer", 4.0, 3)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, optimizers.LossScaleOptimizer)
    assert again.get_config() == config
    assert cr.mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer
    assert opt.scale_loss(0.5) == 2.0 and opt.loss_scale_factor is None
    w = Variable(np.zeros((2, 3), np.float32), name="k")
    opt.apply([np.ones((2, 3), np.float32)], [w])
    assert [v.path for v in opt.variables] == [
        "loss_scale_optimizer/iteration", "loss_scale_optimizer/learning_rate",
        "loss_scale_optimizer/step_counter", "loss_scale_optimizer/dynamic_scale",
        "adam/iteration", "adam/learning_rate", "adam/k_momentum", "adam/k_velocity"]
    opt.learning_rate = 0.5
    assert float(opt.inner_optimizer.learning_rate) == 0.5
    state = opt.get_state()
    other = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0,
                                          dynamic_growth_steps=3)
    other.build([Variable(np.zeros((2, 3), np.float32), name="k")])
    other.set_state(state)
    assert int(other.step_counter) == 1 and int(other.iterations) == 1
    for key, value in other.get_state().items():
        np.testing.assert_array_equal(value, state[key])

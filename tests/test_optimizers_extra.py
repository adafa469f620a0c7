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
from chainrule.gradcheck import check_gradients
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


# -- Muon and ScheduleFreeAdamW -----------------------------------------------------------

MUON = {
    "muon": lambda: optimizers.Muon(learning_rate=0.02),
    "muon_options": lambda: optimizers.Muon(
        learning_rate=0.01, exclude_layers=["out"], nesterov=False, rms_rate=None,
        adam_lr_ratio=0.5, weight_decay=0.1, adam_weight_decay=0.05, ns_steps=3),
    "sfadamw": lambda: optimizers.ScheduleFreeAdamW(learning_rate=0.01),
    "sfadamw_options": lambda: optimizers.ScheduleFreeAdamW(
        learning_rate=0.02, beta_1=0.8, warmup_steps=3, weight_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(MUON))
def test_optimizer_trains_as_keras(name: str) -> None:
    _check_training(name, MUON[name]())


@pytest.mark.parametrize("name", sorted(MUON))
def test_optimizer_captured_step_is_bit_identical_to_the_tape(name: str) -> None:
    def run(jit: bool) -> list:
        model, _ = _train(MUON[name](), jit)
        if jit:
            assert any(e.program is not None for e in model._steps.entries.values())
        return model.get_weights()

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_muon_newton_schulz_orthogonalizes() -> None:
    """Many Newton-Schulz steps bring the update's singular values near 1 (an independent
    check with NumPy's SVD): the Muon step of a fresh weight is lr * rms * sqrt(max dim) * U V^T
    up to the quintic's spread of the singular values (about 0.7 to 1.2)."""
    rng = np.random.default_rng(0)
    g = rng.normal(size=(5, 3))
    opt = optimizers.Muon(learning_rate=1.0, weight_decay=None, nesterov=False, rms_rate=None,
                          ns_steps=10)
    w = Variable(np.zeros((5, 3)), name="kernel")
    opt.apply([g], [w])
    s = np.linalg.svd(-w.numpy(), compute_uv=False)
    assert np.all((s > 0.6) & (s < 1.25))
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    assert np.sum(-w.numpy() * (u @ vt)) > 0.9 * 3


def test_muon_chooses_adamw_for_embeddings_vectors_and_excluded_layers() -> None:
    model = cr.Sequential([cr.Input((2,), dtype="int64"), cr.layers.Embedding(6, 3, name="embedding"),
                           cr.layers.Flatten(), cr.layers.Dense(4, name="body"),
                           cr.layers.Dense(1, name="head")])
    opt = optimizers.Muon(exclude_layers=["^head/"])
    model.compile(optimizer=opt, loss="mse")
    model.train_on_batch(np.array([[1, 2], [3, 4]]), np.zeros((2, 1), np.float32))
    assert [v.path for v in opt.variables] == [
        "muon/iteration", "muon/learning_rate",
        "muon/embedding_embeddings_momentum", "muon/embedding_embeddings_velocity",
        "muon/body_kernel_momentum", "muon/body_bias_momentum", "muon/body_bias_velocity",
        "muon/head_kernel_momentum", "muon/head_kernel_velocity",
        "muon/head_bias_momentum", "muon/head_bias_velocity"]
    state = opt.get_state()
    assert "velocity/0" in state and "velocity/1" not in state
    other = optimizers.Muon(exclude_layers=["^head/"])
    other.build(model.trainable_variables)
    other.set_state(state)
    for key, value in other.get_state().items():
        np.testing.assert_array_equal(value, state[key])


@pytest.mark.parametrize("cls, extra", [
    (optimizers.Muon, {"exclude_layers": ["x"], "ns_steps": 3, "rms_rate": None}),
    (optimizers.ScheduleFreeAdamW, {"warmup_steps": 5, "beta_1": 0.8}),
])
def test_config_round_trip_and_registry(cls, extra) -> None:
    opt = cls(learning_rate=0.01, **extra)
    config = opt.get_config()
    for key, value in extra.items():
        assert config[key] == value
    assert cls.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config
    assert type(optimizers.get(cls.__name__)) is cls


def test_schedule_free_adamw_starts_z_at_the_weights_and_keras_names() -> None:
    opt = optimizers.ScheduleFreeAdamW()
    assert opt.name == "schedule_free_adam_w" and opt.get_config()["epsilon"] == 1e-8
    w = Variable(np.array([1.0, -2.0], np.float32), name="w")
    opt.build([w])
    assert [v.path for v in opt.variables][2:] == ["schedule_free_adam_w/w_momentum",
                                                    "schedule_free_adam_w/w_velocity"]
    np.testing.assert_array_equal(opt.variables[2].numpy(), w.numpy())
    # first step: y = z = w - lr * g / (|g| + eps) (x starts at z)
    opt.apply([np.array([0.5, -0.25], np.float32)], [w])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.0025, -2.0 + 0.0025], rtol=1e-6)


# -- MultiOptimizer and OptimizerMap ------------------------------------------------------


def _multi() -> optimizers.MultiOptimizer:
    # Keras's paths start with the model's name ("sequential/out/kernel"), chainrule's with the
    # layer's ("out/kernel"): the pattern matches both
    return optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.1, momentum=0.9), {".*out/.*": optimizers.Adam(0.01)}))


def test_multi_optimizer_trains_as_keras() -> None:
    model = _check_training("multi", _multi())
    opt = model.optimizer
    assert [int(opt.iterations)] + [int(o.iterations) for o in opt.optimizers] == \
        FIX["multi/iterations"].tolist()
    assert [type(o).__name__ for o in opt.optimizers] == ["Adam", "SGD"]
    assert [v.path for v in opt.variables][:3] == [
        "multi_optimizer/iteration", "adam/iteration", "adam/learning_rate"]


def test_multi_optimizer_captured_step_is_bit_identical_to_the_tape() -> None:
    runs = []
    for jit in (True, False):
        model, _ = _train(_multi(), jit)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_multi_optimizer_with_a_function_and_state_round_trip() -> None:
    sgd, adam = optimizers.SGD(0.5), optimizers.Adam(0.1)
    opt = optimizers.MultiOptimizer(lambda v: adam if v.name == "b" else sgd,
                                    loss_scale_factor=2.0)
    a = Variable(np.ones(2, np.float32), name="a")
    b = Variable(np.ones(2, np.float32), name="b")
    opt.apply([np.full(2, 2.0, np.float32), np.full(2, 2.0, np.float32)], [a, b])
    np.testing.assert_allclose(a.numpy(), [0.5, 0.5])  # the gradient divided by the factor
    np.testing.assert_allclose(b.numpy(), [0.9, 0.9], rtol=1e-5)  # Adam's first step: lr
    assert sgd.loss_scale_factor == 2.0 and opt.scale_loss(1.5) == 3.0
    with pytest.raises(AttributeError, match="no single learning rate"):
        opt.learning_rate  # noqa: B018
    with pytest.raises(TypeError, match="cannot be serialized.*Received: optimizer_map="):
        opt.get_config()
    state = opt.get_state()
    assert set(state) >= {"iterations", "optimizer_0/iterations", "optimizer_1/momentum/0"}
    other_sgd, other_adam = optimizers.SGD(0.5), optimizers.Adam(0.1)
    other = optimizers.MultiOptimizer(lambda v: other_adam if v.name == "b" else other_sgd)
    other.build([a, b])
    other.set_state(state)
    for key, value in other.get_state().items():
        np.testing.assert_array_equal(value, state[key])


def test_optimizer_map_lookup_config_and_errors() -> None:
    m = optimizers.OptimizerMap(optimizers.RMSprop(), {"encoder/layer_0/dense": optimizers.Adam()})
    m["encoder/.*"] = optimizers.SGD()
    m["decoder"] = optimizers.Adam()
    assert m["decoder"].name == "adam" and m["encoder/layer_0/dense"].name == "adam"
    assert m["encoder/layer_0/attention/query"].name == "sgd"
    assert m["decoder/layer_0/dense"].name == "rmsprop"
    m[".*/query"] = optimizers.Lion()
    with pytest.raises(ValueError, match="Multiple optimizers"):
        m["encoder/attention/query"]  # noqa: B018
    with pytest.raises(ValueError, match="already exists"):
        m["decoder"] = optimizers.SGD()
    with pytest.raises(ValueError, match="cannot be a LossScaleOptimizer"):
        m["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    multi = optimizers.MultiOptimizer(m, name="mo")
    config = optimizers.serialize(multi)
    again = optimizers.deserialize(config)
    assert isinstance(again, optimizers.MultiOptimizer) and again.name == "mo"
    assert again.get_config() == multi.get_config()
    assert [o.name for o in again.optimizers] == [o.name for o in multi.optimizers]


# -- Circle and CTC -----------------------------------------------------------------------


def test_circle_matches_keras_with_gradient() -> None:
    emb, labels = FIX["circle/emb"], FIX["circle/labels"]
    np.testing.assert_allclose(losses.circle(labels, emb).numpy(), FIX["circle/fn"], rtol=1e-6,
                               atol=1e-5)
    np.testing.assert_allclose(
        losses.circle(labels, emb, ref_labels=FIX["circle/ref_labels"],
                      ref_embeddings=FIX["circle/ref_emb"], gamma=20).numpy(),
        FIX["circle/fn_ref"], rtol=1e-6, atol=1e-5)
    e = cr.Tensor(emb, requires_grad=True)
    value = losses.Circle()(labels, e)  # the mean over the positive losses only (Keras's mask)
    value.backward()
    np.testing.assert_allclose(float(value), FIX["circle/loss"], rtol=1e-6)
    np.testing.assert_allclose(e.grad, FIX["circle/grad"], rtol=1e-5, atol=1e-5)
    options = losses.Circle(gamma=10.0, margin=0.25, remove_diagonal=False, reduction="sum")
    np.testing.assert_allclose(float(options(labels, emb)), FIX["circle/loss_options"], rtol=1e-6)
    # the function through a wrapper (compile(loss="circle")) keeps the mask
    assert float(losses.LossFunctionWrapper(losses.circle)(labels, emb)) == pytest.approx(
        float(FIX["circle/loss"]), rel=1e-6)


def test_circle_gradient_check_float64() -> None:
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(5, 3))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ref = rng.normal(size=(4, 3))
    labels, ref_labels = np.array([0, 1, 0, 1, 2]), np.array([0, 1, 1, 2])
    assert check_gradients(lambda e: losses.circle(labels, e, gamma=5.0), emb)
    assert check_gradients(
        lambda e, r: losses.circle(labels, e, ref_labels=ref_labels, ref_embeddings=r, gamma=3.0),
        emb, ref)


def test_circle_lonely_label_has_zero_loss_and_gradient() -> None:
    e = cr.Tensor(np.array([[1.0, 0.0], [0.0, 1.0]]), requires_grad=True)
    value = losses.circle([0, 1], e)  # no positives anywhere
    np.testing.assert_array_equal(value.numpy(), [0.0, 0.0])
    cr.ops.sum(value).backward()
    np.testing.assert_array_equal(e.grad, np.zeros((2, 2)))


def test_ctc_matches_keras_with_gradient() -> None:
    logits, labels = FIX["ctc/logits"], FIX["ctc/labels"]
    np.testing.assert_allclose(losses.ctc(labels, logits).numpy(), FIX["ctc/fn"], rtol=1e-6)
    t = cr.Tensor(logits, requires_grad=True)
    value = losses.CTC()(labels, t)
    value.backward()
    np.testing.assert_allclose(float(value), FIX["ctc/loss"], rtol=1e-6)
    np.testing.assert_allclose(t.grad, FIX["ctc/grad"], rtol=1e-5, atol=1e-6)
    assert check_gradients(lambda x: losses.ctc(labels, x), logits.astype(np.float64))


@pytest.mark.parametrize("loss, y", [
    (lambda: losses.Circle(gamma=10.0), lambda rng: np.array([0, 1, 0, 2, 1, 0])),
    (lambda: "circle", lambda rng: np.array([0, 1, 0, 2, 1, 0])),
    (lambda: losses.CTC(), lambda rng: np.array([[1, 2], [3, 0], [2, 2], [1, 0], [3, 1], [2, 0]])),
    (lambda: "ctc", lambda rng: np.array([[1, 2], [3, 0], [2, 2], [1, 0], [3, 1], [2, 0]])),
])
def test_losses_train_on_the_captured_step(loss, y) -> None:
    rng = np.random.default_rng(1)
    ctc = not isinstance(loss(), losses.Circle) and loss() != "circle"
    x = rng.normal(size=(6,) + ((5, 2) if ctc else (4,))).astype(np.float32)
    labels = y(rng)

    def run(jit: bool) -> tuple:
        cr.utils.set_random_seed(0)
        layers = ([cr.Input((5, 2)), cr.layers.Dense(4)] if ctc else
                  [cr.Input((4,)), cr.layers.Dense(3), cr.layers.UnitNormalization()])
        model = cr.Sequential(layers)
        model.compile(optimizer="adam", loss=loss(), jit_compile=jit)
        history = model.fit(x, labels, epochs=3, batch_size=3, shuffle=False, verbose=0)
        if jit:
            assert all(e.program is not None for e in model._steps.entries.values())
        return history.history["loss"], model.get_weights()

    (l1, w1), (l2, w2) = run(True), run(False)
    assert l1 == l2 and l1[-1] < l1[0]
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_circle_and_ctc_config_and_registry() -> None:
    circle = losses.Circle(gamma=10.0, margin=0.25, remove_diagonal=False)
    assert circle.get_config() == {"name": "circle", "reduction": "sum_over_batch_size",
                                   "gamma": 10.0, "margin": 0.25, "remove_diagonal": False}
    assert losses.deserialize(losses.serialize(circle)).get_config() == circle.get_config()
    assert losses.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}
    assert losses.get("circle") is losses.circle and losses.get("ctc") is losses.ctc
    assert isinstance(losses.get("CTC"), losses.CTC)


@pytest.mark.parametrize("make", [
    lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=4.0,
                                          dynamic_growth_steps=2),
    lambda: optimizers.Muon(),
    lambda: optimizers.ScheduleFreeAdamW(),
    lambda: optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.1), {"out/.*": optimizers.Adam()})),
], ids=["loss_scale", "muon", "schedule_free", "multi"])
def test_saved_model_resumes_with_the_optimizer_state(make, tmp_path) -> None:
    x, y = FIX["x"], FIX["y"]
    model = _model()
    model.compile(optimizer=make(), loss="mse")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    loaded = cr.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is type(model.optimizer)
    state, again = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert set(state) == set(again)
    for key in state:
        np.testing.assert_array_equal(state[key], again[key])
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)

"""Normalization: the ops against NumPy and float64 gradient checks, the layers' behaviour,
the captured step (moving statistics included), and Keras 3's recorded numbers."""

import json
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.layers import BatchNormalization, Dense, GroupNormalization, LayerNormalization

rng = np.random.default_rng(0)
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "norm_keras.npz")


def r(*shape):
    return rng.standard_normal(shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


def fixture():
    data = np.load(FIXTURE)
    return data, json.loads(str(data["meta"]))


# -- ops: forward against NumPy ------------------------------------------------------------


def np_norm(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def test_moments_match_numpy():
    x = r(4, 3, 5)
    m, v = ops.moments(cr.Tensor(x), axes=[0, 2])
    np.testing.assert_allclose(m.data, x.mean(axis=(0, 2)))
    np.testing.assert_allclose(v.data, x.var(axis=(0, 2)))
    m, v = ops.moments(cr.Tensor(x), axes=-1, keepdims=True)
    assert m.shape == v.shape == (4, 3, 1)
    np.testing.assert_allclose(v.data, x.var(axis=-1, keepdims=True))


def test_batch_normalization_op_matches_numpy():
    x, m, v, b, g = r(5, 3, 2), r(3), pos(3), r(3), r(3)
    y = ops.batch_normalization(cr.Tensor(x), m, v, axis=1, offset=b, scale=g, epsilon=1e-3)
    ref = (x - m[:, None]) / np.sqrt(v[:, None] + 1e-3) * g[:, None] + b[:, None]
    np.testing.assert_allclose(y.data, ref, rtol=1e-12)
    y = ops.batch_normalization(cr.Tensor(x), m[:2], v[:2], axis=-1)
    np.testing.assert_allclose(y.data, (x - m[:2]) / np.sqrt(v[:2] + 1e-3), rtol=1e-12)


def test_fused_batch_normalization_matches_numpy_and_updates_moving_statistics():
    x, g, b = r(6, 2, 3), r(3), r(3)
    mm = cr.layers.Variable(r(3), trainable=False)
    mv = cr.layers.Variable(pos(3), trainable=False)
    mm0, mv0 = mm.numpy(), mv.numpy()
    y = ops.fused_batch_normalization(cr.Tensor(x), g, b, mm, mv, axis=-1, momentum=0.9,
                                      epsilon=1e-3)
    np.testing.assert_allclose(y.data, np_norm(x, (0, 1), 1e-3) * g + b, rtol=1e-10)
    np.testing.assert_allclose(mm.numpy(), mm0 * 0.9 + x.mean(axis=(0, 1)) * 0.1, rtol=1e-12)
    np.testing.assert_allclose(mv.numpy(), mv0 * 0.9 + x.var(axis=(0, 1)) * 0.1, rtol=1e-12)


def test_layer_and_group_normalization_ops_match_numpy():
    x, g, b = r(3, 4, 6), r(4, 6), r(4, 6)
    y = ops.layer_normalization(cr.Tensor(x), g, b, axis=[1, 2], epsilon=1e-3)
    np.testing.assert_allclose(y.data, np_norm(x, (1, 2), 1e-3) * g + b, rtol=1e-10)
    y = ops.layer_normalization(cr.Tensor(x), axis=-1, epsilon=1e-3, rms_scaling=True)
    np.testing.assert_allclose(y.data, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-10)
    g, b = r(6), r(6)
    y = ops.group_normalization(cr.Tensor(x), 3, g, b, axis=-1, epsilon=1e-3)
    grouped = x.reshape(3, 4, 3, 2)
    ref = np_norm(grouped, (1, 3), 1e-3).reshape(x.shape) * g + b
    np.testing.assert_allclose(y.data, ref, rtol=1e-10)


def test_assign_moving_average():
    v = cr.layers.Variable(np.array([1.0, 2.0]), trainable=False)
    out = ops.assign_moving_average(v, cr.Tensor(np.array([3.0, 4.0])), 0.5)
    np.testing.assert_allclose(v.numpy(), [2.0, 3.0])
    out.data[0] = 99  # the result is a copy
    assert v.numpy()[0] == 2.0
    with pytest.raises(TypeError, match="Variable"):
        ops.assign_moving_average(cr.Tensor([1.0]), cr.Tensor([1.0]), 0.5)
    with pytest.raises(ValueError, match="momentum"):
        ops.assign_moving_average(v, cr.Tensor([1.0, 1.0]), 1.5)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ops.assign_moving_average(v, cr.Tensor([1.0, 1.0, 1.0]), 0.5)


# -- ops: float64 gradient checks ------------------------------------------------------------

GRADS = [
    ("moments_mean", lambda x: ops.moments(x, [0, 2])[0], [r(3, 2, 4)]),
    ("moments_variance", lambda x: ops.moments(x, [0, 2], keepdims=True)[1], [r(3, 2, 4)]),
    ("batch_normalization", lambda x, m, v, b, g: ops.batch_normalization(x, m, v, 1, b, g),
     [r(3, 4, 2), r(4), pos(4), r(4), r(4)]),
    ("batch_normalization_bare", lambda x, m, v: ops.batch_normalization(x, m, v, -1),
     [r(3, 4), r(4), pos(4)]),
    ("batch_normalization_scale_only",
     lambda x, m, v, g: ops.batch_normalization(x, m, v, -1, scale=g),
     [r(3, 4), r(4), pos(4), r(4)]),
    ("fused_batch_normalization", lambda x, g, b: ops.fused_batch_normalization(x, g, b),
     [r(5, 2, 3), r(3), r(3)]),
    ("fused_batch_normalization_axis1",
     lambda x, g, b: ops.fused_batch_normalization(x, g, b, axis=1), [r(5, 3, 2), r(3), r(3)]),
    ("fused_batch_normalization_bare", lambda x: ops.fused_batch_normalization(x), [r(5, 3)]),
    ("fused_batch_normalization_offset_only",
     lambda x, b: ops.fused_batch_normalization(x, offset=b), [r(5, 3), r(3)]),
    ("layer_normalization", lambda x, g, b: ops.layer_normalization(x, g, b, epsilon=1e-3),
     [r(3, 5), r(5), r(5)]),
    ("layer_normalization_axes",
     lambda x, g, b: ops.layer_normalization(x, g, b, axis=[1, 2], epsilon=1e-3),
     [r(3, 2, 4), r(2, 4), r(2, 4)]),
    ("layer_normalization_rms",
     lambda x, g: ops.layer_normalization(x, g, epsilon=1e-3, rms_scaling=True), [r(3, 5), r(5)]),
    ("group_normalization", lambda x, g, b: ops.group_normalization(x, 2, g, b),
     [r(3, 2, 4), r(4), r(4)]),
    ("group_normalization_axis1", lambda x, g, b: ops.group_normalization(x, 2, g, b, axis=1),
     [r(3, 4, 3), r(4), r(4)]),
]


@pytest.mark.parametrize("name,fn,inputs", GRADS, ids=[g[0] for g in GRADS])
def test_gradients(name, fn, inputs):
    result = check_gradients(fn, *inputs, tolerance=1e-6)
    assert result.ok, str(result)


def test_op_errors_name_the_op_and_the_shapes():
    x = cr.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"batch_normalization: mean has 4 values.*\(2, 3\)"):
        ops.batch_normalization(x, np.zeros(4), np.ones(4), axis=-1)
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        ops.batch_normalization(x, np.zeros(3), np.ones(3), axis=5)
    with pytest.raises(ValueError, match="both moving_mean and moving_variance"):
        ops.fused_batch_normalization(x, moving_mean=cr.layers.Variable(np.zeros(3)))
    with pytest.raises(ValueError, match=r"scale needs 3 values.*\(4,\)"):
        ops.fused_batch_normalization(x, scale=np.ones(4))
    with pytest.raises(ValueError, match="groups must be a positive divisor"):
        ops.group_normalization(x, 2)
    with pytest.raises(ValueError, match="epsilon"):
        ops.layer_normalization(x, epsilon=-1.0)
    with pytest.raises(ValueError, match="axes"):
        ops.moments(x, axes=[0, 0])
    with pytest.raises(ValueError, match="axes must be an int or a list of ints"):
        ops.moments(x, axes=None)


# -- layers ----------------------------------------------------------------------------------


def test_batch_normalization_layer_weights_config_and_modes():
    cr.utils.clear_session()
    bn = BatchNormalization(momentum=0.5)
    x = r(8, 3).astype("float32") * 3 + 1
    y = bn(x)  # inference by default: the moving statistics (0 and 1)
    np.testing.assert_allclose(y.numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.trainable for w in bn.weights] == [True, True, False, False]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)
    y = bn(x, training=True)
    np.testing.assert_allclose(y.numpy(), np_norm(x, (0,), 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-6)
    bn.trainable = False  # Keras 3: frozen means inference mode, no update
    before = bn.moving_mean.numpy()
    bn(x, training=True)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)
    config = bn.get_config()
    assert config["momentum"] == 0.5 and config["axis"] == -1 and config["epsilon"] == 1e-3
    clone = BatchNormalization.from_config(config)
    assert clone.momentum == 0.5 and clone.get_config()["moving_variance_initializer"] == \
        config["moving_variance_initializer"]
    assert bn.compute_output_shape((None, 3)) == (None, 3)


def test_batch_normalization_center_scale_and_4d_axis():
    cr.utils.clear_session()
    bn = BatchNormalization(axis=1, center=False, scale=False)
    x = r(4, 3, 2, 2).astype("float32")
    y = bn(x, training=True)
    np.testing.assert_allclose(y.numpy(), np_norm(x, (0, 2, 3), 1e-3), rtol=1e-4, atol=1e-5)
    assert [w.name for w in bn.weights] == ["moving_mean", "moving_variance"]
    assert bn.count_params() == 6


def test_layer_and_group_normalization_layers():
    cr.utils.clear_session()
    ln = LayerNormalization(axis=[1, 2])
    x = r(2, 3, 4).astype("float32")
    np.testing.assert_allclose(ln(x).numpy(), np_norm(x, (1, 2), 1e-3), rtol=1e-4, atol=1e-5)
    assert [w.shape for w in ln.weights] == [(3, 4), (3, 4)]
    assert ln.get_config()["axis"] == [1, 2]
    with pytest.warns(UserWarning, match="rms_scaling"):
        rms = LayerNormalization(rms_scaling=True)
    rms(x)
    assert [w.name for w in rms.weights] == ["gamma"]
    gn = GroupNormalization(groups=-1)
    gn(x)
    assert gn.groups == 4 and gn.get_config()["groups"] == 4
    assert GroupNormalization.from_config(GroupNormalization(groups=2).get_config()).groups == 2


@pytest.mark.parametrize("make,shape,match", [
    (lambda: GroupNormalization(groups=3), (2, 4), r"groups \(3\) must divide.*channels \(4\)"),
    (lambda: BatchNormalization(axis=3), (2, 4), "axis 3 is out of bounds"),
    (lambda: LayerNormalization(axis=[1, 5]), (2, 4, 3), "out of bounds"),
    (lambda: GroupNormalization(axis=0, groups=1), (2, 4), "out of bounds"),
])
def test_layer_build_errors_name_layer_and_shape(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.zeros(shape, dtype="float32"))


def test_layer_refuses_input_of_another_shape_than_built_for():
    bn = BatchNormalization(name="bn")
    bn(np.zeros((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match=r'layer "bn" is incompatible.*\(2, 5\)'):
        bn(np.zeros((2, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0.0, 1.0\]"):
        BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="renorm"):
        BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups=0)


def test_unsaveable_constraint_is_an_error_not_a_silent_loss():
    bn = BatchNormalization(gamma_constraint=lambda w: w)
    with pytest.raises(ValueError, match="gamma_constraint"):
        bn.get_config()


# -- the captured step -------------------------------------------------------------------------

X = rng.standard_normal((64, 5)).astype("float32")
Y = rng.standard_normal((64, 1)).astype("float32")


def bn_model(jit, four_d=False):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    if four_d:
        layers = [Dense(12, input_shape=(5,)), cr.layers.Reshape((2, 3, 2)),
                  BatchNormalization(momentum=0.9), BatchNormalization(axis=1),
                  cr.layers.Flatten(), Dense(1)]
    else:
        layers = [Dense(8, input_shape=(5,)), BatchNormalization(momentum=0.9), Dense(1)]
    model = cr.Sequential(layers)
    model.compile("adam", "mse", jit_compile=jit)
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0, shuffle=False,
                        validation_data=(X[:16], Y[:16]))
    return model, history.history


def programs(model, mode="train"):
    return [e.program for k, e in model._steps.entries.items()
            if k[0] == mode and e.program is not None]


@pytest.mark.parametrize("four_d", [False, True])
def test_captured_step_is_bit_identical_to_the_tape_moving_statistics_included(four_d):
    fast = bn_model(True, four_d)  # jit_compile=True: raises if it cannot be captured
    assert programs(fast[0])
    slow = bn_model(False, four_d)
    assert slow[0]._steps.entries == {}
    for u, v in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    assert fast[1] == slow[1]
    bn = [la for la in fast[0].layers if isinstance(la, BatchNormalization)][0]
    assert not np.allclose(bn.moving_mean.numpy(), 0)  # the replays did update them
    assert not np.allclose(bn.moving_variance.numpy(), 1)


def test_moving_statistics_updated_once_per_step_when_replayed():
    model, _ = bn_model(True)
    bn = model.layers[1]
    # after 3 epochs of 4 steps: replay the same update by hand from a fresh model
    ref, _ = bn_model(False)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), ref.layers[1].moving_mean.numpy())
    before = bn.moving_mean.numpy()
    h = model.layers[0](X[:16]).numpy()  # what the BN layer sees in the next step
    model.train_on_batch(X[:16], Y[:16])  # a replay of the captured program
    after = bn.moving_mean.numpy()
    np.testing.assert_allclose(after, before * np.float32(0.9) + h.mean(0) * np.float32(0.1),
                               rtol=1e-5, atol=1e-6)


def test_inference_never_updates_the_moving_statistics():
    model, _ = bn_model(True)
    weights = [w.copy() for w in model.get_weights()]
    for _ in range(3):  # the second and third calls replay captured programs
        model.predict(X, verbose=0)
        model.evaluate(X, Y, verbose=0)
    assert programs(model, "predict") and programs(model, "test")
    for u, v in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_functional_construction_with_training_true_does_not_update():
    cr.utils.clear_session()
    inp = cr.layers.Input((3,))
    bn = BatchNormalization()
    out = bn(inp, training=True)
    cr.models.Model(inp, out)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), 1)


def test_weight_shapes_without_allocating():
    shapes = BatchNormalization(name="b").compute_weight_shapes((None, 4, 4, 3))
    assert [(w.name, w.shape) for w in shapes] == [
        ("gamma", (3,)), ("beta", (3,)), ("moving_mean", (3,)), ("moving_variance", (3,))]


def test_save_and_load_round_trip(tmp_path):
    model, _ = bn_model(True, four_d=True)
    path = tmp_path / "bn.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    for u, v in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))


def test_layer_and_group_norm_models_capture_and_match_tape():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([Dense(8, input_shape=(5,)), LayerNormalization(),
                               cr.layers.Reshape((2, 4)), GroupNormalization(groups=2),
                               cr.layers.Flatten(), Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        h = model.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return model, h.history

    fast, slow = run(True), run(False)
    assert programs(fast[0])
    for u, v in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    assert fast[1] == slow[1]


# -- Keras 3's numbers -------------------------------------------------------------------------


def build_from_spec(spec):
    cr.utils.clear_session()
    layers = [getattr(cr.layers, cls)(**kw) for cls, kw in spec["layers"]]
    model = cr.Sequential([cr.layers.Input(tuple(spec["input_shape"]))] + layers)
    return model


def set_flat(model, flat):
    ws, i = [], 0
    for w in model.get_weights():
        ws.append(flat[i:i + w.size].reshape(w.shape))
        i += w.size
    assert i == flat.size
    model.set_weights(ws)


def norm_specs():
    _, meta = fixture()
    return [s for s in meta["sequential"]]


@pytest.mark.parametrize("spec", norm_specs(), ids=[s["name"] for s in norm_specs()])
def test_keras_parity(spec):
    data, meta = fixture()
    name = spec["name"]
    model = build_from_spec(spec)
    assert [[w.name, list(w.shape), w.trainable] for w in model.weights] == spec["weights"]
    assert model.count_params() == spec["params"]
    set_flat(model, data[f"{name}/w0"])
    x = data[f"{name}/x"]
    if spec["train"] is None:
        np.testing.assert_allclose(model.predict(x, verbose=0), data[f"{name}/pred"],
                                   rtol=1e-4, atol=1e-5)
        return
    train = spec["train"]
    model.compile(optimizer=cr.optimizers.Adam(train["lr"]), loss=train["loss"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = model.fit(x, data[f"{name}/y"], batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h.history["loss"], meta["histories"][name], rtol=1e-4)
    flat = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(flat, data[f"{name}/w1"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), data[f"{name}/pred"],
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ["BatchNormalization", "LayerNormalization",
                                 "GroupNormalization"])
def test_config_keys_are_keras(cls):
    _, meta = fixture()
    ours = set(getattr(cr.layers, cls)(**({"groups": 2} if cls == "GroupNormalization" else {}))
               .get_config()) - {"name", "dtype"}
    assert set(meta["configs"][cls]) <= ours
    assert ours - set(meta["configs"][cls]) <= {"trainable", "batch_input_shape"}


class RunningMean(cr.layers.Layer):
    """A user's layer that tracks its inputs' running mean with ops.assign_moving_average."""

    def build(self, input_shape):
        self.running = self.add_weight((input_shape[-1],), "zeros", trainable=False,
                                       name="running")

    def call(self, x, training=None):
        if training:
            ops.assign_moving_average(self.running, ops.mean(x, axis=0), 0.5)  # result unused
        return x


def test_assign_moving_average_in_a_user_layer_is_replayed_every_step():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([Dense(4, input_shape=(5,)), RunningMean(), Dense(1)])
        model.compile("sgd", "mse", jit_compile=jit)
        model.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return model

    fast, slow = run(True), run(False)
    assert programs(fast)
    assert not np.allclose(fast.layers[1].running.numpy(), 0)
    for u, v in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(u, v)


class SubclassedBN(cr.models.Model):
    def __init__(self):
        super().__init__()
        self.d1 = Dense(6)
        self.bn = BatchNormalization()
        self.d2 = Dense(1)

    def call(self, x, training=None):
        return self.d2(self.bn(self.d1(x), training=training))


def test_batch_normalization_in_a_subclassed_model():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = SubclassedBN()
        model.compile("adam", "mse", jit_compile=jit)
        model.fit(X, Y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return model

    fast, slow = run(True), run(False)
    assert programs(fast)
    for u, v in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert not np.allclose(fast.bn.moving_mean.numpy(), 0)

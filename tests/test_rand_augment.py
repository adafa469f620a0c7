"""RandAugment and AugMix: Keras's fixed-choice outputs, structure, replay and saving."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers.preprocessing.rand_augment import _ALL_OPS, _AUGMIX_ALL, _AUGMIX_BASIC

L = cr.layers
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_randaug.npz")


@pytest.fixture(scope="module")
def keras_data():
    data = np.load(FIXTURE)
    return data, json.loads(str(data["settings"]))


def _images(n=3, h=8, w=7, top=255.0, seed=0):
    return np.random.default_rng(seed).uniform(0, top, (n, h, w, 3)).astype("float32")


def test_keras_config_keys_and_defaults(keras_data):
    _, settings = keras_data
    for cls, layer in (("RandAugment", L.RandAugment()), ("AugMix", L.AugMix())):
        ours = layer.get_config()
        for key, value in settings["configs"][cls].items():
            assert key in ours, (cls, key)
            if isinstance(value, list):
                np.testing.assert_allclose(ours[key], value)
            else:
                assert ours[key] == value, (cls, key)


def test_randaugment_matches_keras_with_fixed_operations(keras_data):
    data, settings = keras_data
    for name, (kwargs, idxes, top) in settings["rand"].items():
        layer = L.RandAugment(**{k: tuple(v) if isinstance(v, list) else v
                                 for k, v in kwargs.items()})
        x = data["input"] * top
        table = np.tile(np.asarray(idxes, "float32"), (x.shape[0], 1))
        got = layer._select(cr.ops.convert_to_tensor(x), cr.ops.convert_to_tensor(table)).numpy()
        np.testing.assert_allclose(got, data[name], atol=1e-5 * top, err_msg=name)


def test_augmix_matches_keras_with_fixed_chains(keras_data):
    data, settings = keras_data
    for name, (kwargs, chains, weights, m, top) in settings["mix"].items():
        layer = L.AugMix(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in kwargs.items()})
        names = layer._op_names
        none = len(names)
        picks = [[names.index(op) for op in chain] + [none] * (layer.chain_depth - len(chain))
                 for chain in chains]
        row = np.concatenate([weights, [m], np.ravel(picks)]).astype("float32")
        x = data["input"] * top
        table = np.tile(row, (x.shape[0], 1))
        got = layer._mix(cr.ops.convert_to_tensor(x), cr.ops.convert_to_tensor(table)).numpy()
        np.testing.assert_allclose(got, data[name], atol=1e-5 * top, err_msg=name)


def test_augmix_mix_is_a_convex_combination_of_its_chains():
    # a fixed table: the result equals the NumPy mixture of the chains' outputs and lies
    # between the per-pixel minimum and maximum of the input and the chains
    layer = L.AugMix(num_chains=2, chain_depth=2, all_ops=False)
    x = _images(n=2)
    ac, eq = L.AutoContrast(), L.Equalization()
    chain0 = eq(ac(x, training=True), training=True).numpy()
    chain1 = x.copy()  # no operation in either step
    row = np.array([0.35, 0.65, 0.2, 5, 6, 7, 7], "float32")
    got = layer._mix(cr.ops.convert_to_tensor(x), cr.ops.convert_to_tensor(np.tile(row, (2, 1))))
    got = got.numpy()
    want = 0.2 * x + 0.8 * (0.35 * chain0 + 0.65 * chain1)
    np.testing.assert_allclose(got, np.clip(want, 0, 255), rtol=1e-5, atol=1e-3)
    stack = np.stack([x, chain0, chain1])
    assert (got >= stack.min(0) - 1e-3).all() and (got <= stack.max(0) + 1e-3).all()


def test_operation_lists_follow_keras():
    assert len(_ALL_OPS) == 11 and set(_AUGMIX_ALL) == set(_ALL_OPS)
    assert L.AugMix(all_ops=False)._op_names == _AUGMIX_BASIC
    assert not hasattr(L.AugMix(all_ops=False), "random_brightness")
    ra = L.RandAugment(factor=0.5, value_range=(0, 1))
    assert ra.random_shear.x_factor == (0.0, 0.5) or list(ra.random_shear.x_factor) == [0, 0.5]
    assert ra.random_posterization.factor == (1, 4)  # max(1, int(8 * 0.5)) bits at most
    assert ra.solarization.value_range == (0.0, 1.0)
    assert L.AugMix(factor=0.1).random_posterization.factor == (1, 1)


@pytest.mark.parametrize("cls, kwargs", [
    ("RandAugment", {}), ("RandAugment", {"num_ops": 4, "factor": (0.2, 0.9)}),
    ("AugMix", {}), ("AugMix", {"all_ops": False, "alpha": 0.5, "num_chains": 2}),
])
def test_range_shape_dtype_and_seed(cls, kwargs):
    x = _images()
    a = getattr(L, cls)(seed=7, **kwargs)
    b = getattr(L, cls)(seed=7, **kwargs)
    ya, yb = a(x, training=True).numpy(), b(x, training=True).numpy()
    assert ya.shape == x.shape and ya.dtype == np.float32
    assert ya.min() >= -1e-3 and ya.max() <= 255 + 1e-3
    np.testing.assert_array_equal(ya, yb)  # one seed, the same draws
    assert not np.array_equal(ya, a(x, training=True).numpy())  # and new draws per call
    assert not np.array_equal(ya, x)


@pytest.mark.parametrize("cls", ["RandAugment", "AugMix"])
def test_identity_in_inference(cls):
    x = _images()
    layer = getattr(L, cls)()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    model = cr.Sequential([L.Input(shape=x.shape[1:]), getattr(L, cls)(seed=1)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


@pytest.mark.parametrize("cls", ["RandAugment", "AugMix"])
def test_unbatched_and_channels_first(cls):
    x = _images(n=2, top=1.0)
    y = getattr(L, cls)(value_range=(0, 1), seed=3)(x[0], training=True).numpy()
    assert y.shape == x[0].shape and 0 <= y.min() and y.max() <= 1 + 1e-6
    # channels first: the same draws as channels last, transposed
    cl = getattr(L, cls)(value_range=(0, 1), seed=4)(x, training=True).numpy()
    cf = getattr(L, cls)(value_range=(0, 1), seed=4, data_format="channels_first")(
        np.transpose(x, (0, 3, 1, 2)), training=True).numpy()
    np.testing.assert_allclose(np.transpose(cf, (0, 2, 3, 1)), cl, atol=1e-5)


@pytest.mark.parametrize("cls", ["RandAugment", "AugMix"])
def test_config_round_trip(cls):
    layer = getattr(L, cls)(value_range=(0, 1), factor=(0.1, 0.4), seed=5, name="pol")
    again = getattr(L, cls).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    x = _images(top=1.0)
    np.testing.assert_array_equal(layer(x, training=True).numpy(),
                                  again(x, training=True).numpy())


def _model(x_shape):
    return cr.Sequential([L.Input(shape=x_shape),
                          L.RandAugment(value_range=(0, 1), num_ops=2, factor=0.3),
                          L.AugMix(value_range=(0, 1), num_chains=2, chain_depth=1),
                          L.Flatten(), L.Dense(2)])


def test_captured_training_matches_the_tape():
    from tests.test_step import programs

    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        x = _images(n=8, h=5, w=5, top=1.0, seed=1)
        model = _model(x.shape[1:])
        model.compile("sgd", cr.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        model.fit(x, np.arange(8) % 2, batch_size=2, epochs=2, verbose=0, shuffle=False)
        return model

    fast, slow = run("auto"), run(False)
    assert programs(fast) and not slow._steps.entries
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    x = _images(n=4, h=5, w=5, top=1.0)
    jit = _model(x.shape[1:])
    jit.compile("sgd", "mse", jit_compile=True)  # raises if it cannot be captured
    jit.fit(x, np.zeros((4, 2)), batch_size=2, epochs=2, verbose=0)
    assert programs(jit)


def test_save_and_load_a_model(tmp_path):
    cr.utils.set_random_seed(0)
    x = _images(n=4, h=5, w=5, top=1.0)
    model = _model(x.shape[1:])
    path = str(tmp_path / "policy.keras")
    model.save(path)
    again = cr.saving.load_model(path)
    assert [la.get_config() for la in again.layers[:2]] == [
        la.get_config() for la in model.layers[:2]]
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))

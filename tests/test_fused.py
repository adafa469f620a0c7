"""The fused (Numba) optimizer kernels: bit-identical to the NumPy passes, and their switch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import parallel
from chainrule.optimizers import _fused
from chainrule.optimizers import base as opt_base
from chainrule.optimizers import sgd as sgd_module

pytest.importorskip("numba")


class Var:
    def __init__(self, data, name="w"):
        self.data, self.name = data, name


@pytest.fixture(autouse=True)
def _defaults():
    yield
    cr.config.set_fused_kernels(None)
    parallel.set_num_threads(None)


def _train(make, fused, dtype, steps=6, threads=1, shapes=((7, 5), (5,), (300,))):
    cr.config.set_fused_kernels(fused)
    parallel.set_num_threads(threads)
    rng = np.random.default_rng(42)
    variables = [Var(rng.standard_normal(s).astype(dtype), f"v{i}") for i, s in enumerate(shapes)]
    opt = make()
    for step in range(steps):
        # gradients from tiny (subnormal in float32) to huge (overflowing v to inf)
        scale = 10.0 ** rng.integers(-42, 25)
        grads = [(rng.standard_normal(v.data.shape) * scale).astype(dtype) for v in variables]
        if step == 2:
            grads[0].flat[0] = 0.0
        opt.apply(grads, variables)
    return [v.data for v in variables] + [np.asarray(s) for s in opt.variables]


OPTIMIZERS = {  # name: (kernel used, optimizer)
    "adam": ("adam", lambda: cr.optimizers.Adam(learning_rate=0.01)),
    "adam-options": ("adam", lambda: cr.optimizers.Adam(0.3, beta_1=0.5, beta_2=0.9, epsilon=1e-3)),
    "adamw": ("adam", lambda: cr.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05)),
    "adam-schedule": ("adam", lambda: cr.optimizers.Adam(
        cr.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5))),
    "sgd": ("sgd", lambda: cr.optimizers.SGD(0.1)),
    "sgd-momentum": ("sgd", lambda: cr.optimizers.SGD(0.1, momentum=0.9)),
    "sgd-nesterov": ("sgd", lambda: cr.optimizers.SGD(0.1, momentum=0.8, nesterov=True)),
    "sgd-weight-decay": ("sgd", lambda: cr.optimizers.SGD(0.1, momentum=0.5, weight_decay=0.01)),
    "rmsprop": ("rmsprop", lambda: cr.optimizers.RMSprop(0.01)),
    "rmsprop-momentum": ("rmsprop", lambda: cr.optimizers.RMSprop(0.01, momentum=0.9)),
    "rmsprop-centered": ("rmsprop", lambda: cr.optimizers.RMSprop(0.01, centered=True)),
    "rmsprop-centered-momentum": ("rmsprop", lambda: cr.optimizers.RMSprop(
        0.01, rho=0.8, momentum=0.5, centered=True, epsilon=1e-5)),
    "adagrad": ("adagrad", lambda: cr.optimizers.Adagrad(0.1)),
    "adagrad-options": ("adagrad", lambda: cr.optimizers.Adagrad(
        0.5, initial_accumulator_value=0.3, epsilon=1e-4)),
}
ADAMS = {k: v[1] for k, v in OPTIMIZERS.items() if v[0] == "adam"}


def _counting_kernels(monkeypatch):
    calls = []
    real = _fused.kernel

    def counting(name):
        compiled = real(name)
        return None if compiled is None else lambda *a: (calls.append(name), compiled(*a))

    monkeypatch.setattr(_fused, "kernel", counting)
    # plain SGD sends small arrays to NumPy (cheaper than a kernel call): count them too
    monkeypatch.setattr(sgd_module, "_KERNEL_MIN_SIZE", 0)
    return calls


def test_plain_sgd_updates_small_arrays_with_numpy_and_large_ones_with_the_kernel(monkeypatch):
    calls = []
    real = _fused.kernel
    monkeypatch.setattr(_fused, "kernel", lambda name: (
        lambda *a: (calls.append(a[1].size), real(name)(*a))))
    small = Var(np.ones(13, np.float32))
    large = Var(np.ones(sgd_module._KERNEL_MIN_SIZE, np.float32))
    opt = cr.optimizers.SGD(0.5)
    opt.apply([np.full(13, 2, np.float32), np.full(large.data.size, 2, np.float32)],
              [small, large])
    assert calls == [large.data.size]
    np.testing.assert_array_equal(small.data, np.zeros(13, np.float32))
    np.testing.assert_array_equal(large.data, np.zeros(large.data.size, np.float32))


# the NumPy passes warn when the huge gradients overflow a square to inf; the kernels do not
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_update_is_bit_identical_to_numpy_passes(name, dtype, monkeypatch):
    kernel_name, make = OPTIMIZERS[name]
    calls = _counting_kernels(monkeypatch)
    fused = _train(make, True, dtype)
    assert calls == [kernel_name] * (6 * 3)  # every variable, every step, went through it
    plain = _train(make, False, dtype)
    assert len(calls) == 18
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name", ["adamw", "sgd-nesterov", "rmsprop-centered-momentum", "adagrad"])
def test_fused_update_in_parallel_pieces_is_bit_identical(name):
    big = opt_base._PARALLEL_MIN_SIZE
    shapes = ((big * 2 + 3,), (big + 5,), (17,))
    make = OPTIMIZERS[name][1]
    fused = _train(make, True, np.float32, steps=3, threads=2, shapes=shapes)
    plain = _train(make, False, np.float32, steps=3, threads=1, shapes=shapes)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)


def test_amsgrad_and_mixed_dtypes_use_numpy_passes(monkeypatch):
    monkeypatch.setattr(_fused, "kernel", lambda name: pytest.fail("kernel used"))
    w = Var(np.ones(4, dtype=np.float32))
    cr.optimizers.Adam(0.1, amsgrad=True).apply([np.ones(4, dtype=np.float32)], [w])
    a, b = Var(np.ones(3, dtype=np.float32)), Var(np.ones(3, dtype=np.float64))
    cr.optimizers.Adam(0.1).apply([np.ones(3, np.float32), np.ones(3)], [a, b])
    np.testing.assert_allclose(a.data, 0.9, rtol=1e-5)


def test_gradient_of_another_dtype_falls_back_to_numpy():
    w1, w2 = Var(np.ones(6, dtype=np.float32)), Var(np.ones(6, dtype=np.float32))
    g64 = np.linspace(-1, 1, 6)  # float64 gradient for a float32 variable
    cr.config.set_fused_kernels(True)
    cr.optimizers.Adam(0.1).apply([g64], [w1])
    cr.config.set_fused_kernels(False)
    cr.optimizers.Adam(0.1).apply([g64], [w2])
    np.testing.assert_array_equal(w1.data, w2.data)


def test_fit_with_and_without_fused_kernels_gives_the_same_weights():
    x = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    weights = []
    for fused in (True, False):
        cr.config.set_fused_kernels(fused)
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.models.Sequential([cr.layers.Dense(8, activation="relu", input_shape=(6,)),
                                      cr.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_switch_and_environment(monkeypatch):
    cr.config.set_fused_kernels(False)
    assert cr.config.fused_kernels() is False
    assert _fused.adam_kernel() is None
    cr.config.set_fused_kernels(None)
    from chainrule.backend import compiled

    try:  # the environment is read once, at import: read it again as an import would
        monkeypatch.setenv("CHAINRULE_FUSED", "0")
        compiled._read_environment()
        assert cr.config.fused_kernels() is False
        monkeypatch.setenv("CHAINRULE_FUSED", "1")
        compiled._read_environment()
        assert cr.config.fused_kernels() is True
        assert callable(_fused.adam_kernel())
    finally:
        monkeypatch.undo()
        compiled._read_environment()


@pytest.mark.parametrize("bad", [1, "yes", 0.0])
def test_set_fused_kernels_rejects_non_bools(bad):
    with pytest.raises(ValueError, match=r"enabled must be True, False or None\. Received: enabled="):
        cr.config.set_fused_kernels(bad)


def test_one_switch_and_one_compiler_serve_every_kernel_family():
    from chainrule.backend import compiled

    assert cr.config.set_fused_kernels is compiled.set_fused_kernels
    assert _fused.set_fused_kernels is compiled.set_fused_kernels  # the optimizers' module too
    cr.config.set_fused_kernels(False)
    try:
        assert not compiled.fused_kernels() and _fused.adam_kernel() is None
    finally:
        cr.config.set_fused_kernels(None)
    if compiled.numba_module() is not None:
        add = compiled.compile_kernel(lambda a, b: a + b)
        assert add(1.5, 2.0) == 3.5

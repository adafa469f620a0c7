"""Keras 3's name_scope, StatelessScope, SymbolicScope, remat/RematScope, Operation and
config.enable_unsafe_deserialization (reference paths and values recorded from Keras 3 by
tools/keras_scopes_fixtures.py)."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import scopes

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "fixtures", "keras_scopes.json"), encoding="utf-8") as _f:
    KERAS = json.load(_f)
REF = np.load(os.path.join(HERE, "fixtures", "keras_scopes.npz"))


@pytest.fixture(autouse=True)
def _fresh():
    cr.utils.clear_session()
    yield
    assert scopes.current_path() == "" and not scopes.in_stateless_scope()


# ------------------------------------------------------------------------------ name_scope
def test_fixture_records_versions():
    assert KERAS["keras"].startswith("3.") and KERAS["tensorflow"]


def test_paths_in_nested_scopes_match_keras():
    ref = KERAS["paths"]
    with cr.name_scope("outer"):
        with cr.name_scope("inner"):
            dense = cr.layers.Dense(2, name="d")
            dense.build((None, 3))
            v = cr.Variable(1.0, name="v")
        w = cr.Variable(1.0, name="w")
    assert [x.path for x in dense.weights] == ref["dense_in_nested"]
    assert v.path == ref["variable_in_nested"] and v.name == "v"
    assert w.path == ref["variable_in_outer"]
    plain = cr.layers.Dense(2, name="plain")
    plain.build((None, 3))
    assert [x.path for x in plain.weights] == ref["dense_outside"]


def test_recurrent_cell_paths_in_scope_match_keras():
    with cr.name_scope("enc"):
        lstm = cr.layers.LSTM(2, name="lstm")
        lstm.build((None, 3, 4))
    assert [x.path for x in lstm.weights] == KERAS["paths"]["lstm_in_scope"]
    plain = cr.layers.LSTM(2, name="lstm")
    plain.build((None, 3, 4))
    assert [x.path for x in plain.weights] == [p[len("enc/"):] for p in
                                               KERAS["paths"]["lstm_in_scope"]]


def test_override_parent_and_deduplicate_match_keras():
    ref = KERAS["paths"]
    with cr.name_scope("a"):
        with cr.name_scope("b", override_parent="root/sub"):
            assert cr.Variable(1.0, name="x").path == ref["override_parent"]
    caller = object()
    with cr.name_scope("blk", caller=caller):
        with cr.name_scope("blk", caller=caller):
            assert cr.Variable(1.0, name="x").path == ref["dedup_same_caller"]
        with cr.name_scope("blk", caller=caller, deduplicate=False):
            assert cr.Variable(1.0, name="x").path == ref["no_dedup"]
        with cr.name_scope("blk"):
            assert cr.Variable(1.0, name="x").path == ref["no_caller"]
        assert scopes.current_path() == "blk"


def test_caller_parent_path_replaces_enclosing_scopes():
    class Caller:
        _parent_path = "model/block"

    with cr.name_scope("elsewhere"), cr.name_scope("layer", caller=Caller()):
        assert scopes.current_path() == "model/block/layer"


def test_scope_closes_on_error_and_paths_stay_fixed():
    with pytest.raises(RuntimeError), cr.name_scope("boom"):
        v = cr.Variable(np.zeros(2), name="v")
        raise RuntimeError("x")
    assert scopes.current_path() == "" and v.path == "boom/v"


def test_custom_layer_and_metric_weights_in_scope():
    class Scale(cr.layers.Layer):
        def build(self, input_shape):
            self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")
            self.t = cr.Variable(np.zeros(input_shape[-1]), name="t")

        def call(self, x):
            return x * self.s + self.t

    class Count(cr.metrics.Metric):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.n = self.add_variable(shape=(), name="n")

    with cr.name_scope("enc"):
        layer = Scale(name="scale")
        layer.build((None, 2))
        metric = Count(name="count")
    assert [w.path for w in layer.weights] == ["enc/scale/s", "enc/scale/t"]
    assert [v.path for v in metric.variables] == ["enc/count/n"]


def test_model_built_in_scope_saves_and_loads_outside(tmp_path):
    cr.utils.set_random_seed(0)
    with cr.name_scope("block"):
        model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4, name="h"),
                               cr.layers.Dense(1, name="o")])
    assert [w.path for w in model.weights] == ["block/h/kernel", "block/h/bias",
                                               "block/o/kernel", "block/o/bias"]
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = cr.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with cr.name_scope("block"):
        again = cr.saving.load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_training_a_scoped_model_is_captured():
    cr.utils.set_random_seed(0)
    with cr.name_scope("net"):
        model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
    model.compile("sgd", "mse")
    x = np.ones((8, 3), "float32")
    model.fit(x, np.zeros((8, 2), "float32"), batch_size=4, epochs=2, verbose=0)
    assert any(e.program is not None for k, e in model._steps.entries.items() if k[0] == "train")


@pytest.mark.parametrize("name", ["a/b", 3, None])
def test_name_scope_bad_name(name):
    with pytest.raises(ValueError, match=r"Argument `name` must be a string.*Received: name="):
        cr.name_scope(name)


def test_name_scope_bad_override_parent():
    with pytest.raises(TypeError, match=r"override_parent.*Received: override_parent=3$"):
        cr.name_scope("a", override_parent=3)


# ------------------------------------------------------------------------- StatelessScope
def test_stateless_scope_matches_keras():
    dense = cr.layers.Dense(2, name="sd")
    dense.build((None, 3))
    before = [w.numpy() for w in dense.weights]
    kernel, bias, inp = REF["sl_kernel"], REF["sl_bias"], REF["sl_input"]
    with cr.StatelessScope([(dense.kernel, kernel), (dense.bias, bias)]) as scope:
        assert scopes.in_stateless_scope() and scopes.get_stateless_scope() is scope
        y = dense(inp).numpy()
        dense.bias.assign(bias * 3)
        y2 = dense(inp).numpy()
    np.testing.assert_allclose(y, REF["sl_out"], rtol=1e-6)
    np.testing.assert_allclose(y2, REF["sl_out_after_assign"], rtol=1e-6)
    np.testing.assert_allclose(scope.get_current_value(dense.bias), REF["sl_collected_bias"])
    assert bool(REF["sl_unchanged"])
    for b, w in zip(before, dense.weights):
        np.testing.assert_array_equal(b, w.numpy())


def test_stateless_scope_collects_updates_without_applying_them():
    v = cr.Variable(np.array([1.0, 2.0]), name="v")
    u = cr.Variable(np.zeros(2), name="u")
    data = v.data
    with cr.StatelessScope() as scope:
        v.assign_add([1.0, 1.0])
        v.assign_sub(np.array([0.5, 0.5]))
        u.assign(np.array([3.0, 4.0]))
        np.testing.assert_allclose((v + u).numpy(), [4.5, 6.5])
    assert v.data is data  # the same array object, untouched
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(u.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(scope.get_current_value(v), [1.5, 2.5])
    np.testing.assert_allclose(scope.get_current_value(u), [3.0, 4.0])
    assert scope.get_current_value(cr.Variable(1.0)) is None


def test_training_inside_a_stateless_scope_collects_the_new_weights():
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
    model.compile("sgd", "mse")
    dense = model.layers[0]
    before = [w.numpy() for w in model.weights]
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    start = [np.zeros((3, 2), "float32"), np.zeros(2, "float32")]
    with cr.StatelessScope(list(zip(dense.weights, start))) as scope:
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for b, w in zip(before, model.weights):
        np.testing.assert_array_equal(b, w.numpy())
    # one SGD step (lr 0.01) from zeros: d/dk mean((x k + b - 1)^2) over 4 x 2 values is -1
    np.testing.assert_allclose(scope.get_current_value(dense.kernel), np.full((3, 2), 0.01),
                               rtol=1e-5)
    np.testing.assert_allclose(scope.get_current_value(dense.bias), np.full(2, 0.01), rtol=1e-5)


def test_stateless_scope_values_are_cast_and_copied():
    v = cr.Variable(np.zeros(2, "float32"), name="v")
    mapped = np.array([1.0, 2.0])  # float64 given
    with cr.StatelessScope([(v, mapped)]) as scope:
        assert v.dtype == np.float32
        v.assign_add([1.0, 1.0])
    np.testing.assert_array_equal(mapped, [1.0, 2.0])  # the caller's array is not written
    assert scope.get_current_value(v).dtype == np.float32


def test_nested_stateless_scopes_restore_in_order():
    v = cr.Variable(np.zeros(1), name="v")
    with cr.StatelessScope([(v, np.ones(1))]) as outer:
        with cr.StatelessScope([(v, np.full(1, 5.0))]) as inner:
            v.assign([7.0])
            assert float(v.numpy()[0]) == 7.0
        assert float(v.numpy()[0]) == 1.0
        assert scopes.get_stateless_scope() is outer
    assert float(v.numpy()[0]) == 0.0
    assert float(inner.get_current_value(v)[0]) == 7.0


def test_stateless_scope_gradients_use_mapped_values():
    dense = cr.layers.Dense(1, use_bias=False)
    dense.build((None, 2))
    with cr.StatelessScope([(dense.kernel, np.array([[2.0], [3.0]], "float32"))]):
        x = cr.Tensor(np.array([[1.0, 1.0]], "float32"), requires_grad=True)
        dense(x).sum().backward()
    np.testing.assert_allclose(x.grad, [[2.0, 3.0]])


def test_stateless_scope_collects_losses():
    class Penalized(cr.layers.Layer):
        def call(self, x):
            self.add_loss(cr.ops.sum(x))
            return x

    with cr.StatelessScope(collect_losses=True) as scope:
        Penalized()(np.ones((2, 2), "float32"))
    with cr.StatelessScope() as quiet:
        Penalized()(np.ones((2, 2), "float32"))
    assert [float(x.numpy()) for x in scope.losses] == [4.0] and quiet.losses == []


def test_stateless_scope_bad_mapping():
    v = cr.Variable(np.zeros(2), name="v")
    with pytest.raises(ValueError, match=r"must be Variable instances\. Received: "):
        cr.StatelessScope([(np.zeros(2), np.zeros(2))])
    with pytest.raises(ValueError, match=r"variable 'v' has shape \(2,\)\. "
                                         r"Received: value of shape \(3,\)$"):
        cr.StatelessScope([(v, np.zeros(3))])
    with pytest.raises(ValueError, match=r"\(variable, value\) pairs\. Received: "):
        cr.StatelessScope([v])


# ------------------------------------------------------------------ SymbolicScope and remat
def test_symbolic_scope_nests():
    assert not scopes.in_symbolic_scope()
    with cr.SymbolicScope() as a:
        with cr.SymbolicScope():
            assert scopes.in_symbolic_scope()
        assert scopes.in_symbolic_scope() and scopes._STATE.symbolic is a
    assert not scopes.in_symbolic_scope()


def test_remat_gives_the_same_values_and_gradients():
    def f(x, w):
        return cr.ops.sum(cr.ops.tanh(cr.ops.matmul(x, w)) ** 2)

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 3))
    ws = rng.standard_normal((3, 2))
    grads = []
    for fn in (f, cr.remat(f)):
        x, w = cr.Tensor(xs, requires_grad=True), cr.Tensor(ws, requires_grad=True)
        out = fn(x, w)
        out.backward()
        grads.append((out.numpy(), x.grad.copy(), w.grad.copy()))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    assert cr.remat(f).__name__ == "f"


def test_remat_scope_records_settings():
    with cr.RematScope(mode="list_of_layers", layer_names=["d"]):
        with cr.RematScope(mode=None):
            assert scopes.get_current_remat_mode() == scopes.RematMode(None, 1024, [])
        mode = scopes.get_current_remat_mode()
        assert mode.mode == "list_of_layers" and mode.layer_names == ["d"]
    assert scopes.get_current_remat_mode() is None


def test_remat_scope_and_remat_bad_input():
    with pytest.raises(ValueError, match=r"Argument `mode` must be one of .*Received: "
                                         r"mode='some'$"):
        cr.RematScope(mode="some")
    with pytest.raises(TypeError, match=r"remat must be callable\. Received: f=3$"):
        cr.remat(3)


def test_model_under_remat_scope_trains_like_without():
    def run(scope):
        cr.utils.set_random_seed(0)
        with scope:
            model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4, activation="tanh"),
                                   cr.layers.Dense(1)])
            model.compile("sgd", "mse")
            model.fit(np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), epochs=2,
                      verbose=0)
        return [w.numpy() for w in model.weights]

    import contextlib

    for a, b in zip(run(contextlib.nullcontext()), run(cr.RematScope())):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------- Operation
class Affine(cr.Operation):
    def __init__(self, scale, name=None):
        super().__init__(name=name)
        self.scale = scale

    def call(self, x, shift, power=1):
        return cr.ops.multiply(x, self.scale) ** power + shift

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class Concat(cr.Operation):
    def call(self, a, b):
        return cr.ops.concatenate([a, b], axis=-1)

    def compute_output_spec(self, a, b):
        return cr.KerasTensor(a.shape[:-1] + (a.shape[-1] + b.shape[-1],), dtype=a.dtype)


def test_operation_eager_on_arrays_and_tensors():
    op = Affine(2.0)
    np.testing.assert_allclose(op(np.array([1.0, 2.0]), 1.0).numpy(), [3.0, 5.0])
    x = cr.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    op(x, 0.0, power=2).sum().backward()
    np.testing.assert_allclose(x.grad, 8.0 * x.numpy())  # d/dx (2x)^2 = 8x


def test_operation_names_and_config():
    a, b = Affine(1.0), Affine(1.0)
    assert a.name == "affine" and b.name == "affine_1"
    assert Affine(1.0, name="aff").get_config() == {"name": "aff", "scale": 1.0}
    assert Affine.from_config({"name": "z", "scale": 3.0}).scale == 3.0


def test_operation_in_functional_model_records_nodes():
    inputs = cr.Input((3,))
    other = cr.Input((2,))
    op = Affine(2.0, name="aff")
    h = op(inputs, 1.0)
    h2 = op(h, 0.0, power=2)  # the same op twice: two nodes
    out = Concat()(h2, other)
    assert out.shape == (None, 5) and h.shape == (None, 3)
    model = cr.Model([inputs, other], out)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    z = np.ones((2, 2), "float32")
    expected = np.concatenate([(2 * (2 * x + 1)) ** 2, z], axis=-1)
    np.testing.assert_allclose(model.predict([x, z], verbose=0), expected, rtol=1e-6)
    assert [n for n in (la.name for la in model.layers) if n.startswith("aff")] == [
        "aff", "aff_call1"]


def test_compute_output_spec_sets_symbolic_shape():
    class Pad(cr.Operation):
        def call(self, x):
            return cr.ops.pad(x, [[0, 0], [0, 2]])

        def compute_output_spec(self, x):
            return cr.KerasTensor(x.shape[:-1] + (x.shape[-1] + 2,), dtype="float64")

    out = Pad()(cr.Input((3,)))
    assert out.shape == (None, 5) and out.dtype == "float64"
    spec = Affine(1.0).compute_output_spec(cr.Input((4,)), 0.0)  # the default: a dry run
    assert spec.shape == (None, 4)


def test_functional_model_with_operation_trains_captured():
    cr.utils.set_random_seed(0)
    inputs = cr.Input((3,))
    h = cr.layers.Dense(4)(inputs)
    out = cr.layers.Dense(1)(Affine(0.5)(h, 0.1, power=1))
    model = cr.Model(inputs, out)
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
    hist = model.fit(x, np.ones((8, 1), "float32"), batch_size=4, epochs=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert any(e.program is not None for k, e in model._steps.entries.items() if k[0] == "train")


def test_operation_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"Argument `name` must be a string.*Received: name="
                                         r"'a/b' \(of type str\)$"):
        Affine(1.0, name="a/b")
    with pytest.raises(NotImplementedError, match=r"must implement call\(\)\. Received: "):
        cr.Operation()(1.0)
    inputs = cr.Input((3,))
    with pytest.raises(ValueError, match=r"passed positionally .*Received: keyword arguments "
                                         r"\['shift'\]$"):
        Affine(1.0)(inputs, shift=inputs)

    class Wrong(cr.Operation):
        def call(self, x):
            return x

        def compute_output_spec(self, x):
            return [x, x]

    with pytest.raises(ValueError, match=r"compute_output_spec gives 2 output\(s\) but call "
                                         r"gives 1\. Received: "):
        Wrong()(inputs)
    model = cr.Model(inputs, Affine(1.0, name="unsaved")(inputs, 0.0))
    with pytest.raises(ValueError, match=r"Operation 'unsaved' \(Affine\) cannot be saved.*"
                                         r"Received: <Operation name=unsaved>$"):
        model.save(str(tmp_path / "m.keras"))


# ------------------------------------------------------------- enable_unsafe_deserialization
def twice(x):
    return x * 2


def test_enable_unsafe_deserialization_runs_no_code_from_files(tmp_path, monkeypatch):
    monkeypatch.setitem(cr.config._UNSAFE, "enabled", False)
    model = cr.Sequential([cr.Input((2,)), cr.layers.Lambda(twice)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with pytest.raises(cr.saving.UnsafeFileError) as before:
        cr.saving.load_model(path, safe_mode=False)
    assert cr.config.enable_unsafe_deserialization() is None
    assert cr.config._unsafe_deserialization_enabled()
    with pytest.raises(cr.saving.UnsafeFileError) as after:
        cr.saving.load_model(path, safe_mode=False)
    assert str(after.value) == str(before.value)
    loaded = cr.saving.load_model(path, custom_objects={"twice": twice})
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])

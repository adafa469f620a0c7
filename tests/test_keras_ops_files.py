"""Ops in functional graphs (``x * 2.0``, ``ops.mean``) in Keras 3's own ``.keras`` files.

Keras 3 writes each such op as an entry of its own class (``Multiply``, module
``keras.src.ops.numpy``; constructor settings in ``config``, call arguments such as
``2.0`` in ``inbound_nodes``). The files and predictions under
``tests/fixtures/keras_ops/`` were written by Keras 3 with
``tools/keras_fixtures_ops_files.py``, which builds the same two programs as
:func:`ops_arith` and :func:`ops_nn` below.
"""

import importlib.util
import json
import os
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers, ops
from chainrule.layers import OpLayer
from chainrule.ops.keras_classes import KERAS_OPS, keras_op_for
from chainrule.saving import InvalidArchiveError, UnsafeFileError
from chainrule.saving.keras_ops import op_entry_spec

pytestmark = pytest.mark.skipif(importlib.util.find_spec("h5py") is None,
                                reason="Keras's .keras files need h5py (the h5 extra)")

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras_ops")
EXPECTED = np.load(os.path.join(FIXTURES, "expected.npz"))
NAMES = ("ops_arith", "ops_nn", "ops_more", "ops_extra")


def ops_arith():
    """Operators, reductions, joins and shape ops between two Dense layers."""
    inp = cr.Input((4,), name="x")
    h = layers.Dense(3, name="hidden")(inp)
    a = h * 2.0
    parts = [a, 2.0 * h, h - 1.0, 1.0 - h, h / 2.0, h ** 2, -h, h + a,
             ops.mean(a, axis=-1, keepdims=True), ops.expand_dims(ops.sum(h, axis=1), -1),
             ops.max(h, axis=-1, keepdims=True), ops.min(h, axis=-1, keepdims=True),
             h + np.array([1.0, 2.0, 3.0], dtype="float32")]
    head = layers.Dense(2, name="head")(ops.concatenate(parts, axis=-1))
    st = ops.stack([h, a], axis=1)
    r = ops.reshape(st, (-1, 3, 2))
    mm = ops.squeeze(ops.expand_dims(ops.matmul(st, r), 1), axis=1)
    t = ops.transpose(r, (0, 2, 1))
    return cr.Model(inp, [head, ops.reshape(mm, (-1, 4)), mm[:, 0, :], t[..., 1]],
                    name="ops_arith")


def ops_nn():
    """Elementwise maths, selection, casts and activations on one tensor."""
    inp = cr.Input((4,), name="x")
    h = layers.Dense(4, name="hidden")(inp)
    parts = [ops.exp(ops.clip(h, -1.0, 1.0)), ops.log(ops.abs(h) + 1.0),
             ops.sqrt(ops.square(h)), ops.sign(h), ops.where(h > 0, h, 0.0),
             ops.cast(ops.cast(h * 10.0, "int32"), "float32"), ops.maximum(h, 0.5),
             ops.minimum(h, -0.5), ops.softmax(h, axis=-1), ops.relu(h), ops.sigmoid(h),
             ops.tanh(h), ops.gelu(h), ops.leaky_relu(h, 0.1), ops.elu(h),
             ops.log_softmax(h), ops.silu(h), ops.selu(h), ops.softplus(h), ops.softsign(h),
             ops.relu6(h * 4.0)]
    feats = ops.concatenate(parts, axis=-1)
    return cr.Model(inp, [feats, layers.Dense(1, name="head")(feats)], name="ops_nn")


def ops_more():
    """One of each further op of the table (a reduction, a shape op, a comparison...)."""
    inp = cr.Input((4,), name="x")
    h = layers.Dense(4, name="hidden")(inp)
    sq = ops.reshape(h, (-1, 2, 2))
    outs = [ops.std(h, axis=-1, keepdims=True), ops.var(h, axis=1), ops.prod(h, axis=-1),
            ops.argmax(h, axis=-1), ops.argmin(h, axis=-1), ops.logsumexp(h, axis=-1),
            ops.swapaxes(sq, 1, 2), ops.moveaxis(sq, 1, 2), ops.flip(h, axis=-1),
            ops.tile(h, (1, 2)), ops.repeat(h, 2, axis=-1), ops.cumsum(h, axis=-1),
            ops.tensordot(h, h, axes=0)[:, 0], ops.dot(h, ops.transpose(h)),
            ops.reciprocal(h + 3.0), ops.log1p(ops.abs(h)), ops.expm1(h), ops.floor(h),
            ops.ceil(h), ops.round(h, 1), ops.sin(h), ops.cos(h), ops.erf(h),
            ops.rsqrt(ops.abs(h) + 1.0), ops.greater_equal(h, 0.0), ops.less(h, 0.0),
            ops.less_equal(h, 0.0), ops.equal(h, h), ops.not_equal(h, 0.0),
            ops.logical_and(h > 0, h < 1), ops.logical_or(h > 0, h < -1),
            ops.logical_not(h > 0), ops.stop_gradient(h), ops.zeros_like(h),
            ops.ones_like(h, dtype="float32"), ops.hard_sigmoid(h), ops.normalize(h),
            ops.one_hot(ops.argmax(h, axis=-1), 4), ops.floor_divide(h, 0.3), ops.mod(h, 0.3),
            ops.norm(h, axis=-1), ops.divide(h, 3.0), ops.sum(h, axis=None, keepdims=True), sq[:, 1]]
    return cr.Model(inp, outs, name="ops_more")


def ops_extra():
    """Further ops: pooling and convolutions with constant kernels, losses, two-output ops."""
    inp = cr.Input((4,), name="x")
    h = layers.Dense(8, name="hidden")(inp)
    k = np.linspace(-1.0, 1.0, 24, dtype="float32")
    x4 = ops.reshape(h, (-1, 2, 2, 2))
    sq = ops.reshape(h[:, :4], (-1, 2, 2))
    left, right = ops.split(h, 2, axis=-1)
    mean, var = ops.moments(h, axes=[-1])
    values, indices = ops.top_k(h, 3)
    outs = [ops.max_pool(x4, 2), ops.average_pool(x4, (2, 1), strides=1, padding="same"),
            ops.conv(x4, k[:24].reshape(2, 2, 2, 3)), ops.depthwise_conv(x4, k[:8].reshape(2, 2, 2, 1)),
            ops.separable_conv(x4, k[:8].reshape(2, 2, 2, 1), k[:6].reshape(1, 1, 2, 3)),
            left * right, mean, var, values, indices,
            ops.layer_normalization(h, np.linspace(0.5, 1.5, 8, dtype="float32"), None,
                                    epsilon=1e-3),
            ops.binary_crossentropy(ops.sigmoid(h), ops.sigmoid(h * 2.0)),
            ops.categorical_crossentropy(ops.softmax(h), h, from_logits=True),
            ops.sparse_categorical_crossentropy(ops.argmax(h, axis=-1), h, from_logits=True),
            ops.in_top_k(ops.argmin(h, axis=-1), h, 3),
            ops.arctan(h), ops.tan(h * 0.1), ops.sinh(h), ops.cosh(h),
            ops.log2(ops.abs(h) + 1.0), ops.log10(ops.abs(h) + 1.0), ops.isnan(h),
            ops.isfinite(h), ops.isinf(h), ops.logical_xor(h > 0, h < 0.5),
            ops.outer(h[:, 0], np.array([1.0, 2.0], dtype="float32")),
            ops.sort(h, axis=-1), ops.argsort(h, axis=-1), ops.tril(sq), ops.triu(sq, k=1),
            ops.roll(h, 1, axis=-1), ops.diagonal(sq, axis1=1, axis2=2),
            ops.trace(sq, axis1=1, axis2=2), ops.cumprod(h, axis=-1),
            ops.nan_to_num(ops.log(h)), ops.take(h, [0, 2], axis=-1),
            ops.take_along_axis(h, ops.argsort(h, axis=-1), axis=-1),
            ops.pad(h, ((0, 0), (1, 2)), constant_values=0.5), ops.full_like(h, 0.5),
            ops.all(h > -10.0, axis=-1), ops.any(h > 1.0, axis=-1),
            ops.count_nonzero(h > 0, axis=-1)]
    return cr.Model(inp, outs, name="ops_extra")


BUILD = {"ops_arith": ops_arith, "ops_nn": ops_nn, "ops_more": ops_more, "ops_extra": ops_extra}


def keras_config(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


def op_entries(config):
    return [e for e in config["config"]["layers"] if e["module"].startswith("keras.src.ops.")]


def predictions(model, x):
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


@pytest.fixture(autouse=True)
def _fresh_names():
    cr.utils.clear_session()  # op names (multiply, multiply_1, ...) count from zero, as in Keras


@pytest.mark.parametrize("name", NAMES)
def test_keras_written_file_loads_and_predicts_like_keras(name):
    path = os.path.join(FIXTURES, f"{name}.keras")
    model = cr.models.load_model(path)
    wanted = [e["name"] for e in op_entries(keras_config(path))]
    assert sorted(op.name for op in model.operations if isinstance(op, OpLayer)) == sorted(wanted)
    assert len(wanted) >= 20
    # every table entry appears in some fixture, but Abs (Keras's other name of Absolute)
    # and BroadcastTo (its target shape needs a fixed batch size); the image ops, Einsum,
    # Diag and MultiHot are in the files of tests/test_image_ops.py and test_keras_ops_gaps.py
    if name == NAMES[-1]:
        others = os.path.join(os.path.dirname(FIXTURES), "keras_files")
        paths = [os.path.join(FIXTURES, f"{n}.keras") for n in NAMES] + [
            os.path.join(others, f"{n}.keras") for n in ("extract_patches", "ops_gaps_einsum",
                                                         "ops_gaps_diag")]
        seen = {e["class_name"] for path in paths for e in op_entries(keras_config(path))}
        assert set(KERAS_OPS) - seen == {"Abs", "BroadcastTo"}
    assert all(not isinstance(la, OpLayer) for la in model.layers)
    outs = predictions(model, EXPECTED[f"{name}/x"])
    assert len(outs) == len([k for k in EXPECTED.files if k.startswith(f"{name}/y")])
    for k, got in enumerate(outs):
        want = EXPECTED[f"{name}/y{k}"]
        assert got.shape == want.shape and got.dtype.kind == want.dtype.kind, k
        np.testing.assert_allclose(got.astype("float64"), want.astype("float64"),
                                   rtol=1e-5, atol=1e-6)


def test_keras_written_constants_become_op_arguments():
    model = cr.models.load_model(os.path.join(FIXTURES, "ops_arith.keras"))
    by_name = {op.name: op for op in model.operations}
    # x * 2.0 and 2.0 * x: the constant keeps its place; a NumPy constant stays an array
    assert by_name["multiply"].get_config()["arguments"]["args"] == [{"__tensor__": 0}, 2.0]
    assert by_name["multiply_1"].get_config()["arguments"]["args"] == [2.0, {"__tensor__": 0}]
    consts = [op._args[1] for op in model.operations
              if isinstance(op, OpLayer) and op.function == "add"
              and isinstance(op._args[1], np.ndarray)]
    assert len(consts) == 1 and consts[0].dtype == np.float32
    np.testing.assert_array_equal(consts[0], [1.0, 2.0, 3.0])
    # constructor settings become the op's keyword arguments; x[:, 0, :] its index key
    assert by_name["mean"]._kwargs == {"axis": -1, "keepdims": True}
    assert by_name["get_item"]._args[1] == (slice(None), 0, slice(None))
    assert by_name["get_item_1"]._args[1] == (Ellipsis, 1)


@pytest.mark.parametrize("name", NAMES)
def test_chainrule_writes_the_entries_keras_writes(name, tmp_path):
    cr.utils.set_random_seed(0)
    model = BUILD[name]()
    path = tmp_path / f"{name}.keras"
    model.save(path, format="keras")
    ours = op_entries(keras_config(path))
    theirs = op_entries(keras_config(os.path.join(FIXTURES, f"{name}.keras")))
    theirs = {e["name"]: e for e in theirs}  # (each lists the graph in its own order)
    assert sorted(e["name"] for e in ours) == sorted(theirs)
    for a in ours:
        b = theirs[a["name"]]
        assert (a["module"], a["class_name"], a["registered_name"]) == (
            b["module"], b["class_name"], b["registered_name"])
        assert a["config"] == b["config"]

        def strip(v):  # Keras records the static shape; chainrule's may be less refined
            if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
                return v["config"]["keras_history"]
            if isinstance(v, dict):
                return {k: strip(x) for k, x in v.items()}
            return [strip(x) for x in v] if isinstance(v, list) else v

        assert strip(a["inbound_nodes"]) == strip(b["inbound_nodes"])


@pytest.mark.parametrize("name", NAMES)
def test_chainrule_written_file_reloads_bit_identically(name, tmp_path):
    cr.utils.set_random_seed(1)
    model = BUILD[name]()
    path = tmp_path / f"{name}.keras"
    model.save(path, format="keras")
    back = cr.models.load_model(path)
    assert [op.name for op in back.operations] == [op.name for op in model.operations]
    x = EXPECTED[f"{name}/x"]
    for got, want in zip(predictions(back, x), predictions(model, x)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_own_format_keeps_op_layer_entries(name, tmp_path):
    cr.utils.set_random_seed(2)
    model = BUILD[name]()
    model.save(tmp_path / "m.keras")  # chainrule's own archive: unchanged by the Keras form
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert "model.weights.npz" in zf.namelist()
        config = json.loads(zf.read("config.json"))
    entries = [e for e in config["config"]["layers"] if e["class_name"] == "OpLayer"]
    assert entries and all("function" in e["config"] for e in entries)
    back = cr.models.load_model(tmp_path / "m.keras")
    x = EXPECTED[f"{name}/x"]
    for got, want in zip(predictions(back, x), predictions(model, x)):
        np.testing.assert_array_equal(got, want)


def test_loaded_ops_train_and_replay(tmp_path):
    model = cr.models.load_model(os.path.join(FIXTURES, "ops_arith.keras"))
    head = cr.Model(model.inputs, model.outputs[0])
    head.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    head.fit(rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 2)),
             batch_size=8, epochs=1, verbose=0)
    assert any(e.program is not None for e in head._steps.entries.values())


def test_table_names_fit_chainrule_ops():
    import inspect

    from chainrule.ops.symbolic import raw_op  # loads a lazily loaded op's module

    for class_name, spec in KERAS_OPS.items():
        params = inspect.signature(raw_op(spec.function)).parameters
        call = [ours for _, ours in spec.call_pairs]
        settings = [ours for _, ours in spec.setting_pairs]
        assert set(call + settings) <= set(params), class_name
        rest = [p for n, p in params.items() if n not in call + settings]
        assert all(p.default is not inspect.Parameter.empty or p.kind in (
            p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in rest), class_name
        assert spec.module in ("numpy", "nn", "core", "math", "linalg", "image"), class_name
        assert keras_op_for(spec.function)[1].function == spec.function


def test_aliases_are_written_in_keras_spelling(tmp_path):
    x = cr.Input((3,))
    model = cr.Model(x, [ops.clip(x, min_value=0.0, max_value=0.5),
                         ops.leaky_relu(x, alpha=0.3), ops.reshape(x, newshape=(-1, 3, 1))])
    model.save(tmp_path / "m.keras", format="keras")
    configs = {e["class_name"]: e["config"] for e in op_entries(keras_config(tmp_path / "m.keras"))}
    assert configs["Clip"] == {"name": "clip", "x_min": 0.0, "x_max": 0.5}
    assert configs["LeakyRelu"] == {"name": "leaky_relu", "negative_slope": 0.3}
    assert configs["Reshape"] == {"name": "reshape", "newshape": [-1, 3, 1]}
    back = cr.models.load_model(tmp_path / "m.keras")
    v = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    for got, want in zip(back.predict(v, verbose=0), model.predict(v, verbose=0)):
        np.testing.assert_array_equal(got, want)


def _entry(class_name, config=None, args=None, module="keras.src.ops.numpy"):
    tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": ["dense", 0, 0]}}
    return {"module": module, "class_name": class_name,
            "config": {"name": "op", **(config or {})}, "name": "op",
            "inbound_nodes": [{"args": [tensor] if args is None else args, "kwargs": {}}]}


def test_unknown_operation_names_class_and_module():
    with pytest.raises(UnsafeFileError, match=r"m\.keras: layers\[3\] \(Kron 'op'\): chainrule "
                       r"has no counterpart of the Keras operation 'Kron' \(module "
                       r"'keras\.src\.ops\.numpy'\).*Received: class_name='Kron', "
                       r"module='keras\.src\.ops\.numpy'$"):
        op_entry_spec(_entry("Kron"), "layers[3]", "m.keras")


@pytest.mark.parametrize("entry,message", [
    (_entry("Mean", {"axes": 1}), r"sets axes=1, which chainrule's ops\.mean does not take "
                                  r".*Received: axes=1$"),
    (_entry("Add", args=[1.0, 2.0]), r"a call without tensor inputs"),
    (_entry("Exp", args=[{"class_name": "__keras_tensor__",
                          "config": {"keras_history": ["d", 0, 0]}}, 1.0]),
     r"called with 2 arguments; Exp takes 1\. Received: 2 arguments$"),
    (_entry("Add", args=[{"class_name": "__lambda__", "config": {"value": "..."}}, 1.0]),
     r"an argument chainrule cannot read\. Received: \{'class_name': '__lambda__'"),
    ({**_entry("Exp"), "inbound_nodes": []}, r"an operation is called exactly once"),
])
def test_malformed_operation_entries_are_refused(entry, message):
    with pytest.raises(InvalidArchiveError, match=message):
        op_entry_spec(entry, "layers[3]", "m.keras")


def test_op_keras_lacks_is_refused_when_writing(tmp_path):
    x = cr.Input((3,))
    model = cr.Model(x, ops.dropout(x, 0.5))
    with pytest.raises(ValueError, match=r"Cannot write op layer 'dropout' \(ops\.dropout\) in "
                                         r"Keras's \.keras format.*Received: function='dropout'$"):
        model.save(tmp_path / "m.keras", format="keras")
    model.save(tmp_path / "own.keras")  # chainrule's own format holds it


def test_own_format_file_written_before_keras_entries_still_loads():
    # own_format_ops.keras: chainrule's own archive of Dense -> x * 2.0, ops.mean, x[:, 0:1],
    # ops.clip(min_value=, max_value=) -> Concatenate -> Dense, written by the code before
    # ops were written in Keras's form; own_format_ops.npz holds its inputs and predictions
    model = cr.models.load_model(os.path.join(FIXTURES, "own_format_ops.keras"))
    recorded = np.load(os.path.join(FIXTURES, "own_format_ops.npz"))
    assert [op.function for op in model.operations if isinstance(op, OpLayer)] == [
        "multiply", "mean", "getitem", "clip"]
    np.testing.assert_array_equal(model.predict(recorded["x"], verbose=0), recorded["y"])


def test_tensor_in_a_keras_setting_is_refused_when_writing(tmp_path):
    x = cr.Input((3,))
    lo = cr.Input((3,))
    model = cr.Model([x, lo], ops.clip(x, lo))  # chainrule's clip takes tensor bounds
    with pytest.raises(ValueError, match=r"Cannot write op layer 'clip' \(ops\.clip\) in Keras's "
                                         r"\.keras format: Keras's Clip takes x_min as a constant "
                                         r"setting, not a tensor\. Received: x_min=a tensor$"):
        model.save(tmp_path / "m.keras", format="keras")

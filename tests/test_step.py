"""The captured step replays exactly what the layers and the tape compute, for any model."""

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.autograd import capture
from chainrule.autograd.engine import Tensor, backward_for_training
from chainrule.layers import Activation, Dense, Dropout, Flatten, Layer
from chainrule.models import Sequential

rng = np.random.default_rng(0)
X = rng.standard_normal((50, 3, 4)).astype(np.float32)

CASES = {
    "scce_softmax": ("sparse_categorical_crossentropy", "softmax", rng.integers(0, 3, 50)),
    "scce_labels_n1": ("sparse_categorical_crossentropy", "softmax", rng.integers(0, 3, (50, 1))),
    "scce_float_labels": ("sparse_categorical_crossentropy", "softmax",
                          rng.integers(0, 3, 50).astype(np.float32)),
    "cce_softmax": ("categorical_crossentropy", "softmax",
                    np.eye(3, dtype=np.float32)[rng.integers(0, 3, 50)]),
    "bce_sigmoid": ("binary_crossentropy", "sigmoid",
                    (rng.random((50, 3)) > 0.5).astype(np.float32)),
    "mse_linear": ("mse", None, rng.standard_normal((50, 3)).astype(np.float32)),
    "mse_sigmoid": ("mse", "sigmoid", rng.random((50, 3)).astype(np.float32)),
    "mae_tanh": ("mae", "tanh", rng.standard_normal((50, 3)).astype(np.float32)),
    "huber_linear": ("huber", None, rng.standard_normal((50, 3)).astype(np.float32)),
    "scce_logits": (cr.losses.SparseCategoricalCrossentropy(from_logits=True), None,
                    rng.integers(0, 3, 50)),
}


def programs(model, mode="train"):
    """The captured programs of ``model`` for ``mode`` (one per batch shape)."""
    return [e.program for k, e in model._steps.entries.items() if k[0] == mode
            and e.program is not None]


def train(jit, loss, act, y, hidden="relu", dropout=False, optimizer="adam", epochs=3, **kw):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    layers = [Flatten(input_shape=(3, 4)), Dense(8, activation=hidden, **kw)]
    if dropout:
        layers.append(Dropout(0.3))
    layers += [Dense(6, activation="tanh"), Dense(3), Activation(act or "linear")]
    model = Sequential(layers)
    name = loss if isinstance(loss, str) else loss.name
    metrics = ["accuracy"] if "categorical" in name else ["mae"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit)
    h = model.fit(X, y, batch_size=16, epochs=epochs, verbose=0)
    return model, h.history


def assert_same_training(a, b):
    (ma, ha), (mb, hb) = a, b
    for u, v in zip(ma.get_weights(), mb.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert ha == hb


@pytest.mark.parametrize("case", list(CASES))
def test_captured_step_is_bit_identical_to_the_tape(case):
    loss, act, y = CASES[case]
    fast = train("auto", loss, act, y)
    assert programs(fast[0]), "the model should be captured"
    slow = train(False, loss, act, y)
    assert slow[0]._steps.entries == {}
    assert_same_training(fast, slow)


@pytest.mark.parametrize("case, reused", [("scce_softmax", True), ("scce_labels_n1", True),
                                           ("scce_float_labels", True), ("cce_softmax", False),
                                           ("scce_logits", False)])
def test_the_cross_entropy_reuses_the_softmax_of_its_logits(case, reused):
    # a softmax output and the loss computed from its logits share one exp per replay; the
    # weights and history stay bit-identical to the tape (test above)
    model, _ = train("auto", *CASES[case])
    for prog in programs(model):  # the full batches' and the last one's
        (sce,) = [fn for fn, _ in prog.fwd if type(fn).__name__ == "SoftmaxCrossEntropy"]
        # linked where a softmax ran on the same logits; used for class-index labels only
        assert (sce.softmax is not None) is (case != "scce_logits")
        assert (sce.p is not None and sce.p is sce.softmax.y) is reused


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "linear", "elu", "gelu", "swish"])
def test_captured_step_with_dropout_and_hidden_activations(hidden):
    loss, act, y = CASES["scce_softmax"]
    fast = train("auto", loss, act, y, hidden=hidden, dropout=True, optimizer="sgd")
    assert programs(fast[0])
    assert_same_training(fast, train(False, loss, act, y, hidden=hidden, dropout=True,
                                     optimizer="sgd"))


def test_regularizers_and_global_clipnorm_are_captured_too():
    loss, act, y = CASES["mse_linear"]
    opt = lambda: cr.optimizers.Adam(global_clipnorm=0.1)  # noqa: E731
    fast = train("auto", loss, act, y, optimizer=opt(), kernel_regularizer="l2",
                 activity_regularizer="l1")
    assert programs(fast[0])
    slow = train(False, loss, act, y, optimizer=opt(), kernel_regularizer="l2",
                 activity_regularizer="l1")
    assert_same_training(fast, slow)


class Antirectifier(Layer):
    """keras-io's antirectifier, written only with chainrule.ops."""

    def call(self, x):
        x = x - ops.mean(x, axis=-1, keepdims=True)
        norm = ops.sqrt(ops.maximum(ops.sum(x * x, axis=-1, keepdims=True), 1e-12))
        x = x / norm
        return ops.concatenate([ops.relu(x), ops.relu(-x)], axis=-1)


def antirectifier_model(kind):
    cr.utils.clear_session()
    cr.utils.set_random_seed(3)
    if kind == "sequential":
        return Sequential([Dense(16, activation="relu", input_dim=12), Antirectifier(),
                           Dropout(0.2), Dense(4, activation="softmax")])
    if kind == "functional":
        inp = cr.layers.Input(shape=(12,))
        h = Antirectifier()(Dense(16, activation="relu")(inp))
        return cr.Model(inp, Dense(4, activation="softmax")(Dropout(0.2)(h)))

    class Net(cr.Model):
        def __init__(self):
            super().__init__()
            self.d1, self.a, self.d2 = Dense(16, activation="relu"), Antirectifier(), Dense(4)

        def call(self, x, training=None):
            return ops.softmax(self.d2(self.a(self.d1(x))))

    return Net()


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_a_users_own_layer_is_captured_in_every_kind_of_model(kind):
    data = np.random.default_rng(5).standard_normal((70, 12)).astype(np.float32)
    labels = np.random.default_rng(6).integers(0, 4, 70)
    results = []
    for jit in ("auto", False):
        model = antirectifier_model(kind)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit)
        h = model.fit(data, labels, batch_size=16, epochs=3, verbose=0)
        results.append((model, h.history))
    assert len(programs(results[0][0])) == 2  # batches of 16 and the last one of 6
    assert_same_training(*results)
    fast, slow = results[0][0], results[1][0]
    np.testing.assert_array_equal(fast.predict(data, verbose=0), slow.predict(data, verbose=0))
    assert programs(fast, "predict")


def test_replayed_steps_never_take_the_general_path(monkeypatch):
    from chainrule.models.step import StepFactory

    loss, act, y = CASES["scce_softmax"]
    model, _ = train("auto", loss, act, y, epochs=1)
    general, replays = [], []
    real_general, real_run = StepFactory._train_general, capture.Program.run
    monkeypatch.setattr(StepFactory, "_train_general",
                        lambda self, *a: (general.append(1), real_general(self, *a))[1])
    monkeypatch.setattr(capture.Program, "run",
                        lambda self, *a: (replays.append(1), real_run(self, *a))[1])
    model.fit(X[:32], y[:32], batch_size=16, epochs=2, verbose=0)
    assert general == [] and len(replays) == 4


class ValueBranch(Layer):
    """Python control flow on the data: cannot be replayed."""

    def call(self, x):
        return ops.relu(x) if float(ops.mean(x)) > 0 else ops.tanh(x)


class NumpyMask(Layer):
    """A mask computed from the data in NumPy, outside any op: cannot be replayed."""

    def call(self, x):
        return x * Tensor((x.data > 0).astype(x.data.dtype))


@pytest.mark.parametrize("layer, reason", [
    (ValueBranch, "reads the value of a tensor (float())"),
    (NumpyMask, "changes from batch to batch"),
])
def test_uncapturable_models_stay_on_the_tape_or_raise_with_the_reason(layer, reason):
    data = np.random.default_rng(1).standard_normal((40, 5)).astype(np.float32)
    target = data.sum(axis=1, keepdims=True)

    def make(jit):
        cr.utils.clear_session()
        model = Sequential([Dense(5, input_dim=5), layer(name="odd"), Dense(1)])
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        return model

    model = make("auto")
    model.fit(data, target, batch_size=8, epochs=2, verbose=0)
    entries = [e for k, e in model._steps.entries.items() if k[0] == "train"]
    assert entries and all(e.program is None and e.reason for e in entries)
    assert 'layer "odd"' in entries[0].reason and reason in entries[0].reason
    with pytest.raises(ValueError, match=r'cannot be captured for replay: layer "odd" .*'
                       r"Received: jit_compile=True"):
        make(True).fit(data, target, batch_size=8, epochs=1, verbose=0)


def fitted_dense(jit="auto"):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = Sequential([Dense(6, activation="relu", input_dim=4), Dense(2)])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    data = np.random.default_rng(2).standard_normal((64, 4)).astype(np.float32)
    target = np.random.default_rng(3).standard_normal((64, 2)).astype(np.float32)
    model.fit(data, target, batch_size=16, epochs=1, verbose=0)
    return model, data, target


def test_freezing_a_layer_after_capture_recaptures_and_keeps_it_frozen():
    model, data, target = fitted_dense()
    old = programs(model)
    assert old
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(data, target, batch_size=16, epochs=2, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    new = programs(model)
    assert new and all(p is not q for p in new for q in old)
    assert len(new[0].variables) == 2  # only the second layer's kernel and bias


def test_adding_a_layer_after_capture_recaptures():
    model, data, _ = fitted_dense()
    model.add(Dense(3))
    model.compile(optimizer="adam", loss="mse")
    h = model.fit(data, np.zeros((64, 3), np.float32), batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    assert len(programs(model)[0].variables) == 6


def test_set_weights_after_capture_is_seen_by_the_replay():
    model, data, _ = fitted_dense()
    before = programs(model)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    np.testing.assert_array_equal(model.predict(data, verbose=0), 0.0)
    assert programs(model) == before  # values assigned in place: the capture stays valid


def test_replacing_a_weight_array_repacks_and_recaptures():
    model, data, target = fitted_dense()
    before = programs(model)
    kernel = model.layers[1].kernel
    kernel.data = np.ones_like(kernel.data)  # a new array, not a view of the flat buffer
    model.fit(data, target, batch_size=16, epochs=1, verbose=0)
    after = programs(model)
    assert after and all(p is not q for p in after for q in before)
    assert all(np.shares_memory(v.data, model._steps.buffer.data[v.data.dtype])
               for v in model.trainable_weights)


def test_changing_a_layer_setting_after_capture_recaptures():
    data = np.ones((32, 4), np.float32)
    cr.utils.clear_session()
    model = Sequential([Dense(4, input_dim=4, kernel_initializer="identity", use_bias=False),
                        Dropout(0.0)])
    model.compile(optimizer=cr.optimizers.SGD(1e-12), loss="mse")
    model.fit(data, data, batch_size=8, epochs=1, verbose=0)
    assert programs(model)
    model.layers[1].rate = 0.5
    loss = model.evaluate(data, data, verbose=0)
    assert loss == 0.0  # inference: no dropout
    h = model.fit(data, data, batch_size=8, epochs=1, verbose=0)
    assert h.history["loss"][0] > 0.1  # dropout at the new rate, not a stale replay


def test_training_and_inference_are_separate_captures():
    loss, act, y = CASES["scce_softmax"]
    model, _ = train("auto", loss, act, y, dropout=True)
    a = model.predict(X, batch_size=16, verbose=0)
    b = model.predict(X, batch_size=16, verbose=0)
    np.testing.assert_array_equal(a, b)  # no dropout in inference replays
    modes = {k[0] for k, e in model._steps.entries.items() if e.program is not None}
    assert modes == {"train", "predict"}


@pytest.mark.parametrize("act", ["softmax", "sigmoid", "tanh", "linear", "relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_captured_predict_is_bit_identical_to_layers_forward(act, dtype):
    cr.utils.clear_session()
    cr.utils.set_random_seed(1)
    model = Sequential([Flatten(input_shape=(3, 4)), Dense(7, activation="relu"), Dropout(0.5),
                        Dense(5, activation="sigmoid", kernel_regularizer="l2"),
                        Dense(3), Activation(act)])
    x = (X * 3).astype(dtype)
    fast = model.predict(x, batch_size=16, verbose=0)  # never compiled: jit_compile 'auto'
    assert programs(model, "predict")
    model.compile(loss="mse", jit_compile=False)
    slow = model.predict(x, batch_size=16, verbose=0)
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("case", list(CASES))
def test_captured_evaluate_matches_layers_forward_and_loss(case):
    loss, act, y = CASES[case]
    model, _ = train("auto", loss, act, y, dropout=True, epochs=1)
    fast = model.evaluate(X, y, batch_size=16, verbose=0, return_dict=True)
    assert programs(model, "test")
    model.compile(optimizer="adam", loss=loss, metrics=list(fast)[1:] and model._metric_specs[0],
                  jit_compile=False)
    slow = model.evaluate(X, y, batch_size=16, verbose=0, return_dict=True)
    assert fast == slow


def test_extreme_logits_stay_finite_in_captured_step():
    cr.utils.clear_session()
    model = Sequential([Dense(2, input_dim=1, activation="softmax", kernel_initializer="ones")])
    model.compile(optimizer=cr.optimizers.SGD(learning_rate=1e-9),
                  loss="sparse_categorical_crossentropy")
    x = np.array([[1000.0], [-1000.0]] * 8, dtype=np.float32)
    model.layers[0].set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    h = model.fit(x, np.array([1, 0] * 8), batch_size=2, epochs=1, verbose=0)
    assert programs(model)
    assert h.history["loss"][0] == pytest.approx(2000.0, rel=1e-3)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_bad_labels_are_still_refused_by_a_replayed_step():
    model, _ = train("auto", *CASES["scce_softmax"][:2], CASES["scce_softmax"][2], epochs=1)
    assert programs(model)
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\)"):
        model.train_on_batch(X[:16], np.full(16, 7))


def test_weights_and_gradients_live_in_one_flat_buffer(monkeypatch):
    model, data, target = fitted_dense()
    buf = model._steps.buffer
    flat = buf.data[np.dtype("float32")]
    assert flat.size == model.count_params()
    assert all(v.data.base is flat for v in model.trainable_weights)
    opt = model.optimizer
    assert all(s.base is f for slots in opt._slots for s, f in zip(slots, opt._flat_slots))
    calls = []
    real = type(opt).update_step
    monkeypatch.setattr(type(opt), "update_step",
                        lambda self, g, d, *a: (calls.append(d.shape), real(self, g, d, *a))[1])
    model.fit(data, target, batch_size=16, epochs=1, verbose=0)
    assert calls == [(model.count_params(),)] * 4  # one pass over the whole buffer per step
    state = opt.get_state()
    assert sorted(state) == sorted(["iterations", "learning_rate"] + [
        f"{s}/{i}" for s in ("momentum", "velocity") for i in range(4)])


def test_the_training_step_allocates_nothing_that_stays():
    model, data, target = fitted_dense()
    model.fit(data, target, batch_size=16, epochs=3, verbose=0)
    tracemalloc.start()
    model.fit(data, target, batch_size=16, epochs=5, verbose=0)
    base = tracemalloc.get_traced_memory()[0]
    model.fit(data, target, batch_size=16, epochs=50, verbose=0)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 64 * 1024  # 200 more steps: no per-step growth (history lists aside)


def test_training_backward_keeps_no_intermediate_gradients():
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    h = ops.tanh(Tensor(np.ones((4, 3))) @ w)
    loss = ops.sum(h * h)
    backward_for_training(loss)
    assert w.grad is not None and h.grad is None
    w.grad = None
    h2 = ops.tanh(Tensor(np.ones((4, 3))) @ w)
    ops.sum(h2 * h2).backward()  # a user's backward keeps them, for inspection
    assert h2.grad is not None


def test_program_refuses_traces_that_differ():
    a = Tensor(np.ones(3))
    _, first = capture.trace(lambda: ops.relu(a), [a])
    _, second = capture.trace(lambda: ops.tanh(a), [a])
    with pytest.raises(capture.NotCapturable, match="calls different ops"):
        capture.Program.from_traces(first, second, [], None, [])


def test_dropout_op_gradient_is_its_mask():
    cr.utils.set_random_seed(4)
    x = Tensor(np.ones((50, 8)), requires_grad=True)
    y = ops.dropout(x, 0.25)
    ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad, y.data)  # the scaled mask itself
    kept = (y.data != 0).mean()
    assert 0.6 < kept < 0.9 and set(np.unique(y.data)) <= {0.0, 1 / 0.75}
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\). Received: rate=1"):
        ops.dropout(x, 1)


@pytest.mark.parametrize("weighting", ["sample_weight", "class_weight"])
def test_weighted_training_is_captured_and_bit_identical(weighting):
    loss, act, y = CASES["scce_softmax"]
    kw = ({"sample_weight": np.random.default_rng(9).random(50).astype(np.float32)}
          if weighting == "sample_weight" else {"class_weight": {0: 1.0, 1: 2.5, 2: 0.5}})
    runs = []
    for jit in ("auto", False):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = Sequential([Flatten(input_shape=(3, 4)), Dense(8, activation="relu"), Dense(3),
                            Activation("softmax")])
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], jit_compile=jit)
        h = model.fit(X, y, batch_size=16, epochs=3, verbose=0, **kw)
        runs.append((model, h.history))
    assert programs(runs[0][0])
    assert_same_training(*runs)


def test_a_capture_records_only_its_own_threads_ops():
    import threading

    cr.utils.clear_session()
    other = Sequential([Dense(8, activation="relu", input_dim=4), Dense(2)])
    other.compile(loss="mse", jit_compile=False)  # always the layers: many ops, all the time
    stop = threading.Event()
    batch = np.ones((64, 4), np.float32)

    def busy():
        while not stop.is_set():
            other.predict(batch, batch_size=8, verbose=0)

    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between almost every two bytecodes
    thread = threading.Thread(target=busy)
    thread.start()
    try:
        for _ in range(5):  # strict: a trace polluted by the other thread's ops would raise
            model, data, target = fitted_dense(jit=True)
            assert programs(model)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def test_fit_adapts_its_threads_once_per_batch(monkeypatch):
    import contextlib

    from chainrule import _blas

    steps = []

    class Spy:
        def step(self):
            steps.append(1)

    model, data, target = fitted_dense()
    monkeypatch.setattr(_blas, "adapt_threads_to_load", contextlib.contextmanager(
        lambda: (yield Spy())))
    model.fit(data, target, batch_size=16, epochs=2, verbose=0, validation_data=(data, target))
    assert len(steps) == 2 * 4 + 2 * 4  # training batches and validation batches


class RunningMean(Layer):
    """Keeps a running mean by assigning a weight inside call: a replay would skip it."""

    def build(self, input_shape):
        self.mean = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                    trainable=False, name="mean")

    def call(self, x, training=None):
        if training:
            self.mean.assign(0.9 * self.mean.data + 0.1 * x.data.mean(axis=0))
        return x - self.mean


def test_a_layer_that_assigns_a_weight_while_training_is_not_replayed():
    data = np.random.default_rng(1).standard_normal((48, 3)).astype(np.float32)
    runs = []
    for jit in ("auto", False):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = Sequential([Dense(3, input_dim=3), RunningMean(name="running"), Dense(1)])
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        model.fit(data, data[:, :1], batch_size=8, epochs=2, verbose=0)
        runs.append(model)
    entry = [e for k, e in runs[0]._steps.entries.items() if k[0] == "train"][0]
    assert entry.program is None
    assert entry.reason.startswith('layer "running" assigns to weight \'running/mean\'')
    for a, b in zip(runs[0].get_weights(), runs[1].get_weights()):
        np.testing.assert_array_equal(a, b)  # every step ran the layer, as on the tape


def test_the_replay_is_straight_line_code_one_call_per_op():
    model, _ = train("auto", *CASES["mse_sigmoid"])
    prog = programs(model)[0]
    src = prog.source()
    forward, backward = src.split("def backward")
    # one forward call per recorded op, in order, and one backward call per op on the loss path
    assert [ln.split(" = ")[1].split("(")[0] for ln in forward.splitlines()[1:-1]] == [
        f"F{i}" for i in range(len(prog.fwd))]
    assert backward.count("gs = B") == len(prog.bwd)
    # every weight's gradient lands in the flat buffer
    assert backward.count("d = grads_out[") == len(model.trainable_weights)


def test_the_first_trace_is_condensed_and_keeps_no_activation():
    # between the two traced steps, the first trace holds what the comparison needs (op
    # types, inputs' classification, configurations), not the step's arrays
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 5)).astype(np.float32), rng.integers(0, 3, 64)
    model = cr.models.Sequential([cr.Input((5,)), cr.layers.Dense(4, activation="relu"),
                                  cr.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0)  # one traced step
    (entry,) = [e for k, e in model._steps.entries.items() if k[0] == "train"]
    first = entry.first
    assert first is not None and first.condensed and entry.program is None
    assert not first.feeds
    assert all(isinstance(node[0], type) and node[2] is None for node in first.nodes)
    kinds = {k for node in first.nodes for k, _ in node[1]}
    assert kinds <= {capture._SLOT, capture._FEED, capture._VAR, capture._CONST}

    def arrays(obj):  # every array reachable through tuples, lists and dicts
        if isinstance(obj, np.ndarray):
            yield obj
        elif isinstance(obj, (tuple, list)):
            for o in obj:
                yield from arrays(o)
        elif isinstance(obj, dict):
            for o in obj.values():
                yield from arrays(o)

    assert not [a.shape for a in arrays(first.nodes) if a.ndim and a.shape[0] == 32]
    model.fit(x[32:], y[32:], batch_size=32, epochs=1, verbose=0)  # the second: captured
    assert entry.first is None and entry.program is not None

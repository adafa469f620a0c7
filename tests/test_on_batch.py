"""train_on_batch, test_on_batch and predict_on_batch: the captured steps, and thread counts
that follow the load only while a call runs.

Nothing here times anything: the load comes from a fake sampler, and the thread counts are read
back from threadpoolctl and chainrule.parallel.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import _blas, parallel
from chainrule.models import trainer

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 12)).astype(np.float32)
Y = rng.integers(0, 4, 16)
X2 = rng.standard_normal((16, 12)).astype(np.float32)


def make(jit="auto", dropout=False, seed=0):
    cr.utils.clear_session()
    cr.utils.set_random_seed(seed)
    layers = [cr.Input((12,)), cr.layers.Dense(10, activation="relu")]
    if dropout:
        layers.append(cr.layers.Dropout(0.25))
    layers += [cr.layers.Dense(8, activation="tanh"), cr.layers.Dense(4, activation="softmax")]
    model = cr.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)
    return model


def programs(model, mode):
    steps = model._steps
    return [] if steps is None else [e.program for k, e in steps.entries.items()
                                     if k[0] == mode and e.program is not None]


def assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


# -- predict_on_batch ---------------------------------------------------------------------------
def test_predict_on_batch_replays_the_program_predict_uses():
    model = make()
    outs = [model.predict_on_batch(X) for _ in range(4)]
    assert len(programs(model, "predict")) == 1, "the forward should be captured"
    for o in outs:
        np.testing.assert_array_equal(o, outs[0])
    np.testing.assert_array_equal(outs[-1], model.predict(X, batch_size=len(X), verbose=0))
    assert len(programs(model, "predict")) == 1  # predict found the same program
    tape = make(jit=False)
    np.testing.assert_array_equal(outs[-1], tape.predict_on_batch(X))
    assert tape._steps is None or tape._steps.entries == {}


def test_predict_on_batch_uses_a_program_predict_captured():
    model = make()
    model.predict(np.concatenate([X, X, X]), batch_size=len(X), verbose=0)
    program = programs(model, "predict")
    assert len(program) == 1
    out = model.predict_on_batch(X2)
    assert programs(model, "predict") == program
    np.testing.assert_array_equal(out, make(jit=False).predict_on_batch(X2))


def test_predict_on_batch_follows_weight_changes_as_predict_does():
    model, tape = make(), make(jit=False)
    for _ in range(3):
        model.predict_on_batch(X)
    assert programs(model, "predict")
    # training between calls, then weights set from outside: the replay sees both
    for _ in range(3):
        model.train_on_batch(X, Y)
        tape.train_on_batch(X, Y)
        np.testing.assert_array_equal(model.predict_on_batch(X), tape.predict_on_batch(X))
    new = [w * 0.5 for w in model.get_weights()]
    model.set_weights(new)
    tape.set_weights(new)
    np.testing.assert_array_equal(model.predict_on_batch(X), tape.predict_on_batch(X))
    np.testing.assert_array_equal(model.predict_on_batch(X),
                                  model.predict(X, batch_size=len(X), verbose=0))


def test_predict_on_batch_drops_the_capture_when_a_layer_attribute_changes():
    model, tape = make(), make(jit=False)
    for _ in range(3):
        model.predict_on_batch(X)
    model.layers[1].activation = cr.activations.get("sigmoid")
    tape.layers[1].activation = cr.activations.get("sigmoid")
    for _ in range(3):
        np.testing.assert_array_equal(model.predict_on_batch(X), tape.predict_on_batch(X))
    assert programs(model, "predict")


def test_predict_on_batch_runs_a_models_predict_step():
    class Doubled(cr.Sequential):
        def predict_step(self, data):
            return self(data, training=False) * 2.0

    cr.utils.set_random_seed(0)
    model = Doubled([cr.Input((12,)), cr.layers.Dense(3)])
    plain = model(X).numpy()
    np.testing.assert_array_equal(model.predict_on_batch(X), plain * 2.0)


def test_predict_on_batch_checks_the_input_shape():
    model = make()
    with pytest.raises(ValueError, match="Received"):
        model.predict_on_batch(np.ones((4, 5), np.float32))


def test_predict_on_batch_of_a_dict_output_model_gives_a_dict():
    inp = cr.Input((12,))
    model = cr.Model(inp, {"a": cr.layers.Dense(2)(inp), "b": cr.layers.Dense(3)(inp)})
    out = model.predict_on_batch(X)
    full = model.predict(X, batch_size=len(X), verbose=0)
    assert isinstance(out, dict) and sorted(out) == ["a", "b"]
    for k in out:
        np.testing.assert_array_equal(out[k], full[k])


# -- train_on_batch / test_on_batch ---------------------------------------------------------------
@pytest.mark.parametrize("dropout", [False, True])
def test_train_on_batch_is_captured_and_bit_identical_to_the_tape(dropout):
    fast = make(dropout=dropout)  # each model: seed, build, train (the same random draws)
    losses_fast = [fast.train_on_batch(X, Y) for _ in range(5)]
    slow = make(jit=False, dropout=dropout)
    losses_slow = [slow.train_on_batch(X, Y) for _ in range(5)]
    assert len(programs(fast, "train")) == 1
    assert slow._steps.entries == {}
    assert losses_fast == losses_slow
    assert_same_weights(fast, slow)


def test_train_on_batch_matches_fit_on_the_same_batch():
    a, b = make(), make()
    logs = [a.train_on_batch(X, Y, return_dict=True) for _ in range(4)]
    history = b.fit(X, Y, batch_size=len(X), epochs=4, shuffle=False, verbose=0).history
    assert_same_weights(a, b)
    assert [d["loss"] for d in logs] == history["loss"]
    assert [d["accuracy"] for d in logs] == history["accuracy"]
    assert programs(a, "train") and programs(b, "train")


def test_test_on_batch_is_captured_and_matches_evaluate_and_the_tape():
    fast, slow = make(), make(jit=False)
    for m in (fast, slow):
        m.train_on_batch(X, Y)
    results = [fast.test_on_batch(X, Y) for _ in range(4)]
    assert len(programs(fast, "test")) == 1
    assert all(r == results[0] for r in results)
    assert results[-1] == slow.test_on_batch(X, Y)
    assert results[-1] == fast.evaluate(X, Y, batch_size=len(X), verbose=0)


def test_train_on_batch_alternating_shapes_keeps_one_program_each():
    model = make()
    for _ in range(3):
        model.train_on_batch(X, Y)
        model.train_on_batch(X[:5], Y[:5])
    assert len(programs(model, "train")) == 2


# -- thread counts ------------------------------------------------------------------------------
@pytest.fixture
def busy(monkeypatch):
    """The *_on_batch adapter with a fake load: two CPUs, both used by other processes."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not _blas.blas_available():
        pytest.skip("threadpoolctl sees no BLAS library")
    state = {"wall": 0.0, "busy": 0.0, "looks": 0, "others": 2.0}

    def sampler():
        state["looks"] += 1
        state["wall"] += 1.0
        state["busy"] += state["others"]
        return state["busy"], 0.0, state["wall"]

    monkeypatch.setattr(_blas, "FIRST_CHECK", 0.0)
    monkeypatch.setattr(_blas, "CHECK_INTERVAL", 0.0)
    monkeypatch.setattr(_blas, "_last_seen", None)
    monkeypatch.delenv("CHAINRULE_ADAPTIVE_THREADS", raising=False)
    adapter = trainer._OnBatchThreads(sampler_factory=lambda: sampler, cpus=2)
    monkeypatch.setattr(trainer, "_ON_BATCH_THREADS", adapter)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        parallel.set_num_threads(2)
        try:
            yield state
        finally:
            parallel.set_num_threads(None)
            parallel.set_thread_limit(None)


def blas_threads():
    import threadpoolctl

    return max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")


def spy(monkeypatch, model, name):
    """Record (BLAS threads, chainrule threads) inside each call of ``model.<name>``."""
    seen = []
    inner = getattr(model, name)

    def wrapped(*args, **kwargs):
        seen.append((blas_threads(), parallel.get_num_threads()))
        return inner(*args, **kwargs)

    monkeypatch.setattr(model, name, wrapped)
    return seen


def test_on_batch_calls_lower_threads_under_load_and_restore_them(busy, monkeypatch):
    model = make()
    seen = {n: spy(monkeypatch, model, n) for n in ("_train_batch", "_test_batch",
                                                     "_predict_batch")}
    for _ in range(3):
        model.train_on_batch(X, Y)
        assert (blas_threads(), parallel.get_num_threads()) == (2, 2)
        model.test_on_batch(X, Y)
        assert (blas_threads(), parallel.get_num_threads()) == (2, 2)
        model.predict_on_batch(X)
        assert (blas_threads(), parallel.get_num_threads()) == (2, 2)
    # the first call only starts the measurement; every later one runs on the free core
    assert seen["_train_batch"][0] == (2, 2)
    assert seen["_train_batch"][1:] == [(1, 1)] * 2
    assert seen["_test_batch"] == [(1, 1)] * 3
    assert seen["_predict_batch"] == [(1, 1)] * 3
    assert programs(model, "train") and programs(model, "test") and programs(model, "predict")


def test_the_measured_load_persists_between_calls(busy, monkeypatch):
    monkeypatch.setattr(_blas, "CHECK_INTERVAL", 3600.0)  # one look after the first, then none
    model = make()
    seen = spy(monkeypatch, model, "_train_batch")
    for _ in range(5):
        model.train_on_batch(X, Y)
    assert busy["looks"] == 2
    assert seen == [(2, 2)] + [(1, 1)] * 4
    assert (blas_threads(), parallel.get_num_threads()) == (2, 2)


def test_threads_come_back_when_the_load_goes(busy, monkeypatch):
    model = make()
    seen = spy(monkeypatch, model, "_predict_batch")
    model.predict_on_batch(X)
    model.predict_on_batch(X)
    busy["others"] = 0.0
    model.predict_on_batch(X)
    assert seen == [(2, 2), (1, 1), (2, 2)]


def test_threads_are_restored_after_an_exception(busy, monkeypatch):
    model = make()
    model.train_on_batch(X, Y)  # starts the measurement

    def fail(*args, **kwargs):
        assert blas_threads() == 1
        raise RuntimeError("inside the step")

    monkeypatch.setattr(model, "_train_batch", fail)
    with pytest.raises(RuntimeError, match="inside the step"):
        model.train_on_batch(X, Y)
    assert (blas_threads(), parallel.get_num_threads()) == (2, 2)
    assert trainer._ON_BATCH_THREADS._depth == 0


def test_a_user_thread_limit_is_kept(busy):
    model = make()
    model.train_on_batch(X, Y)
    parallel.set_thread_limit(2)
    model.train_on_batch(X, Y)
    assert parallel._limit == 2 and blas_threads() == 2


def test_switched_off_nothing_changes(busy, monkeypatch):
    monkeypatch.setenv("CHAINRULE_ADAPTIVE_THREADS", "0")
    model = make()
    seen = spy(monkeypatch, model, "_train_batch")
    for _ in range(3):
        model.train_on_batch(X, Y)
    assert seen == [(2, 2)] * 3
    assert busy["looks"] == 0


def test_nested_calls_restore_once_at_the_outermost(busy):
    adapter = trainer._ON_BATCH_THREADS
    adapter.enter()
    adapter.exit()  # first look made
    adapter.enter()
    assert blas_threads() == 1
    adapter.enter()  # e.g. predict_on_batch of another model from inside a custom step
    assert blas_threads() == 1
    adapter.exit()
    assert blas_threads() == 1
    adapter.exit()
    assert (blas_threads(), parallel.get_num_threads()) == (2, 2)


def test_on_batch_results_are_the_same_with_and_without_the_load(busy, monkeypatch):
    loaded = make()
    for _ in range(4):
        loaded.train_on_batch(X, Y)
    monkeypatch.setenv("CHAINRULE_ADAPTIVE_THREADS", "0")
    quiet = make()
    for _ in range(4):
        quiet.train_on_batch(X, Y)
    assert_same_weights(loaded, quiet)

"""callbacks.TensorBoard: the event files, read back with TensorBoard's own readers.

Every value is checked against what the run itself recorded (its History, the
batch logs a second callback saw, the weights and gradients left on the model),
never against numbers written here.
"""

import json
import os
import pathlib
import sys

import numpy as np
import pytest

import chainrule as cr

TB = "tensorboard"
KERAS_TAGS = pathlib.Path(__file__).parent / "fixtures" / "keras_tensorboard_tags.json"


def _tb():
    return pytest.importorskip(TB, reason="the tensorboard extra is not installed "
                                          "(pip install chainrule[tensorboard])")


def _read(folder):
    """{tag: [(step, value array)]} and {tag: plugin name} of the events in ``folder``."""
    _tb()
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util

    acc = ea.EventAccumulator(str(folder), size_guidance={ea.TENSORS: 0})
    acc.Reload()
    out, plugins = {}, {}
    for tag in acc.Tags()["tensors"]:
        out[tag] = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
        plugins[tag] = acc.SummaryMetadata(tag).plugin_data.plugin_name
    return out, plugins


def _scalars(events, tag):
    return [(step, float(v)) for step, v in events[tag]]


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    return x, y


def _model(optimizer="adam"):
    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Dense(6, activation="tanh", input_dim=4),
                                  cr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class _BatchLogs(cr.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


def test_epoch_scalars_equal_the_history(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[cr.callbacks.TensorBoard(tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, plugins = _read(tmp_path / "train")
    val, _ = _read(tmp_path / "validation")
    for key in ("loss", "accuracy"):
        expected = [(e, float(np.float32(v))) for e, v in enumerate(history.history[key])]
        assert _scalars(train, "epoch_" + key) == expected
        expected = [(e, float(np.float32(v)))
                    for e, v in enumerate(history.history["val_" + key])]
        assert _scalars(val, "epoch_" + key) == expected
        assert plugins["epoch_" + key] == "scalars"
    lr = float(np.float32(model.optimizer.learning_rate))
    assert _scalars(train, "epoch_learning_rate") == [(0, lr), (1, lr), (2, lr)]
    assert not any(t.startswith("batch_") for t in train)  # update_freq='epoch'
    assert not any(t.startswith("val_") or t.startswith("epoch_val") for t in train.keys() | val)


def test_learning_rate_follows_a_scheduler(tmp_path):
    _tb()
    x, y = _data()
    model = _model("sgd")
    sched = cr.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    model.fit(x, y, epochs=3, batch_size=16, verbose=0,
              callbacks=[sched, cr.callbacks.TensorBoard(tmp_path)])
    train, _ = _read(tmp_path / "train")
    assert _scalars(train, "epoch_learning_rate") == [
        (e, float(np.float32(0.1 / (e + 1)))) for e in range(3)]


@pytest.mark.parametrize("update_freq,every", [("batch", 1), (2, 2)])
def test_batch_scalars(tmp_path, update_freq, every):
    _tb()
    x, y = _data()
    seen = _BatchLogs()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,  # 3 batches an epoch
              callbacks=[seen, cr.callbacks.TensorBoard(tmp_path, update_freq=update_freq)])
    train, plugins = _read(tmp_path / "train")
    for key in ("loss", "accuracy"):
        expected = [(i + 1, float(np.float32(logs[key]))) for i, logs in enumerate(seen.logs)
                    if (i + 1) % every == 0]
        assert _scalars(train, "batch_" + key) == expected
        assert plugins["batch_" + key] == "scalars"
    assert len(train["epoch_loss"]) == 2


def test_evaluation_against_iterations(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x[:8], y[:8]),
              callbacks=[cr.callbacks.TensorBoard(tmp_path)])
    val, _ = _read(tmp_path / "validation")
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [3, 6]
    # evaluate alone writes there too, at the optimizer's iteration count
    out = tmp_path / "eval"
    result = model.evaluate(x, y, verbose=0, return_dict=True,
                            callbacks=[cr.callbacks.TensorBoard(out)])
    val, _ = _read(out / "validation")
    assert _scalars(val, "evaluation_loss_vs_iterations") == [(6, float(np.float32(
        result["loss"])))]


def test_histograms_of_weights_and_gradients(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    train, plugins = _read(tmp_path / "train")
    for v in model.weights:
        tag = f"{model.name}/{v.path}/histogram"
        assert plugins[tag] == "histograms"
        assert [s for s, _ in train[tag]] == [0, 2]
        buckets = train[tag][-1][1]  # (k, 3): left edge, right edge, count
        w = np.asarray(v.numpy(), dtype=np.float64)
        assert buckets[:, 2].sum() == w.size
        assert buckets[0, 0] == pytest.approx(w.min()) and buckets[-1, 1] == pytest.approx(w.max())
        grad = train[f"{model.name}/{v.path}/gradient_histogram"][-1][1]
        g = np.asarray(v.grad, dtype=np.float64)
        assert grad[:, 2].sum() == g.size
        assert grad[0, 0] == pytest.approx(g.min()) and grad[-1, 1] == pytest.approx(g.max())


def test_gradient_norms_are_the_last_batch_gradients(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    monitor = cr.callbacks.GradientMonitor()
    # validation runs between the last batch and the epoch's end: it leaves the gradients alone
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x[:8], y[:8]),
              callbacks=[monitor, cr.callbacks.TensorBoard(tmp_path)])
    train, _ = _read(tmp_path / "train")
    for col, layer in enumerate(model.layers):
        written = _scalars(train, f"gradient_norm/{layer.name}")
        assert [s for s, _ in written] == [0, 1]
        assert [v for _, v in written] == [
            float(np.float32(n)) for n in monitor.grad_norms("all")[:, col]]
        # independently: the gradients the last step left on the weights
        last = np.sqrt(sum(np.sum(np.asarray(w.grad, dtype=np.float64) ** 2)
                           for w in layer.trainable_weights))
        assert written[-1][1] == pytest.approx(last, rel=1e-6)
    out = tmp_path / "off"
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(out, gradient_norms=False)])
    assert not any(t.startswith("gradient_norm") for t in _read(out / "train")[0])


def test_graph_and_steps_per_second(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(tmp_path, write_steps_per_second=True,
                                                  update_freq=3)])
    train, plugins = _read(tmp_path / "train")
    assert plugins["keras"] == "graph_keras_model"
    step, text = train["keras"][0]
    assert step == 0 and json.loads(text.item().decode()) == json.loads(model.to_json())
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(v > 0 for _, v in _scalars(train, "epoch_steps_per_second"))
    assert [s for s, _ in train["batch_steps_per_second"]] == [3, 6]
    out = tmp_path / "nograph"
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(out, write_graph=False)])
    assert "keras" not in _read(out / "train")[0]


def test_the_step_is_still_captured(tmp_path):
    _tb()
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(tmp_path, histogram_freq=1, update_freq=1)])
    assert [e for k, e in model._steps.entries.items() if k[0] == "train"
            and e.program is not None]


def test_unwritable_log_dir_fails_at_train_begin(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    tb = cr.callbacks.TensorBoard(blocker / "logs")  # constructing writes nothing
    x, y = _data()
    with pytest.raises(OSError, match=r"TensorBoard cannot write its event files to .*a_file.*"
                                      r"Received: log_dir=.*a_file.*logs'$"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[tb])


@pytest.mark.parametrize("kwargs,match", [
    ({"update_freq": "minute"}, r"update_freq must be 'epoch', 'batch' or a positive integer\. "
                                r"Received: update_freq='minute'$"),
    ({"update_freq": 0}, r"Received: update_freq=0$"),
    ({"histogram_freq": -1}, r"histogram_freq must be a non-negative integer.*"
                             r"Received: histogram_freq=-1$"),
    ({"histogram_freq": 1.5}, r"Received: histogram_freq=1\.5$"),
    ({"profile_batch": 5}, r"Profiling is not available.*Received: profile_batch=5 \(must be 0\)$"),
    ({"write_images": True}, r"write_images=True is not supported.*Received: write_images=True$"),
    ({"embeddings_freq": 1}, r"Embedding projections.*Received: embeddings_freq=1"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cr.callbacks.TensorBoard("logs", **kwargs)


def test_bad_log_dir_type():
    with pytest.raises(TypeError, match=r"log_dir must be a path\. Received: log_dir=3$"):
        cr.callbacks.TensorBoard(3)


def test_missing_tensorboard_says_how_to_install(tmp_path, monkeypatch):
    for name in [n for n in sys.modules if n == TB or n.startswith(TB + ".")] + [TB]:
        monkeypatch.setitem(sys.modules, name, None)  # importing tensorboard now fails
    tb = cr.callbacks.TensorBoard(tmp_path)
    x, y = _data()
    with pytest.raises(ImportError, match=r"pip install chainrule\[tensorboard\]"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[tb])


def test_tensorboards_own_loader_sees_scalars_and_histograms(tmp_path):
    """The plugin-aware accumulator TensorBoard's server uses files the tags under its plugins."""
    _tb()
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea

    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[cr.callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    first, last = (layer.name for layer in model.layers)
    assert sorted(os.listdir(tmp_path)) == ["train"]  # no validation: no validation folder
    acc = pea.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    scalars = set(acc.PluginTagToContent("scalars"))
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", f"gradient_norm/{first}",
            f"gradient_norm/{last}"} <= scalars
    assert f"{model.name}/{first}/kernel/histogram" in acc.PluginTagToContent("histograms")
    assert "keras" in acc.PluginTagToContent("graph_keras_model")
    assert [e.step for e in acc.Tensors("epoch_loss")] == [0, 1]


def _raw_tags(folder):
    """{tag: (plugin, [steps])} of every event file in ``folder``, read without any purging."""
    _tb()
    from tensorboard.backend.event_processing import event_file_loader

    tags = {}
    for name in sorted(os.listdir(folder)):
        for event in event_file_loader.EventFileLoader(str(folder / name)).Load():
            for value in event.summary.value:
                plugin, steps = tags.setdefault(
                    value.tag, (value.metadata.plugin_data.plugin_name, []))
                steps.append(event.step)
    return tags


def test_same_folders_tags_and_steps_as_keras(tmp_path):
    """Keras 3's own files for the same run (tools/record_keras_tensorboard.py) as the reference."""
    _tb()
    keras = json.loads(KERAS_TAGS.read_text())
    run = keras["run"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(run["samples"], run["features"])).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Dense(6, activation="tanh", input_dim=run["features"],
                                           name="dense"),
                           cr.layers.Dense(2, activation="softmax", name="dense_1")],
                          name="sequential")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    n_val = run["validation_samples"]
    model.fit(x, y, batch_size=run["batch_size"], epochs=run["epochs"], verbose=0,
              validation_data=(x[:n_val], y[:n_val]),
              callbacks=[cr.callbacks.TensorBoard(tmp_path, **run["callback"])])
    assert sorted(os.listdir(tmp_path)) == keras["folders"]
    epochs = list(range(run["epochs"]))
    for folder in keras["folders"]:
        ours = _raw_tags(tmp_path / folder)
        for tag, theirs in keras["tags"][folder].items():
            assert tag in ours, f"{folder}/{tag} written by Keras is missing"
            plugin, steps = ours[tag]
            assert plugin == theirs["plugin"], tag
            if tag.startswith("batch_") or tag == "keras":
                assert steps == theirs["steps"], tag
            else:
                # Keras drops the epochs whose last global batch is not a multiple of
                # update_freq (docs/differences.md); chainrule writes every epoch
                assert set(theirs["steps"]) <= set(steps), tag
                if tag.startswith("evaluation_"):
                    assert steps == [(e + 1) * 3 for e in epochs], tag  # 3 batches an epoch
                else:
                    assert steps == epochs, tag
        extra = set(ours) - set(keras["tags"][folder])
        assert all(t.startswith("gradient_norm/") or t.endswith("/gradient_histogram")
                   for t in extra), extra


def test_epoch_only_logging_adds_no_batch_hooks():
    """With nothing to write per batch, the training loop need not build the batch logs."""
    quiet = cr.callbacks.CallbackList([cr.callbacks.TensorBoard("logs")])
    assert not quiet._train_batch_end and not quiet._train_batch_begin
    for kwargs in ({"update_freq": 5}, {"write_steps_per_second": True}):
        busy = cr.callbacks.CallbackList([cr.callbacks.TensorBoard("logs", **kwargs)])
        assert busy._train_batch_end and busy._train_batch_begin


def test_only_process_0_writes_in_data_parallel_training(tmp_path, monkeypatch):
    """Under chainrule.distribute, processes other than 0 train with the callback but write
    nothing (as ModelCheckpoint and CSVLogger)."""
    _tb()
    import chainrule.distribute

    monkeypatch.setattr(chainrule.distribute, "is_chief", lambda: False)
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                 callbacks=[cr.callbacks.TensorBoard(tmp_path / "logs", histogram_freq=1)])
    assert not (tmp_path / "logs").exists()

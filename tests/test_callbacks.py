"""Callbacks on scripted logs, driven through a CallbackList like `fit` drives them."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest

from chainrule.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

FULL = "=" * 30


# --------------------------------------------------------------------------- fakes


class FakeOptimizer:
    def __init__(self, learning_rate: float) -> None:
        self._lr = learning_rate

    @property
    def learning_rate(self) -> float:
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._lr = float(value)


class FakeModel:
    """The callback interface: stop_training, get/set_weights, optimizer.learning_rate."""

    def __init__(self, learning_rate: float = 0.1) -> None:
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.history = None
        self.weights = [np.zeros(3), np.zeros(1)]

    def get_weights(self):
        return self.weights  # live arrays, as a flat-buffer model could return views

    def set_weights(self, weights):
        for live, new in zip(self.weights, weights):
            live[...] = new


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit(model, callbacks, epoch_logs, steps=2, verbose=0, batch_logs=None, clock=None):
    """A minimal training loop with the call sequence of `fit`.

    During epoch ``e`` the weights are set in place to ``e``, so restored
    weights tell which epoch they come from.
    """
    callbacks = CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=len(epoch_logs),
        steps=steps,
    )
    model.stop_training = False
    callbacks.on_train_begin()
    logs = None
    for epoch, logs in enumerate(epoch_logs):
        callbacks.on_epoch_begin(epoch)
        for step in range(steps):
            callbacks.on_train_batch_begin(step)
            for w in model.weights:
                w[...] = epoch
            if clock is not None:
                clock.t += 0.001
            step_logs = batch_logs(epoch, step) if batch_logs else {"loss": logs.get("loss", 0.0)}
            callbacks.on_train_batch_end(step, step_logs)
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end(logs)
    return model.history


def epochs_run(history: History) -> int:
    return len(history.epoch)


# --------------------------------------------------------------------------- Callback, CallbackList


class Recorder(Callback):
    def __init__(self, name, calls):
        super().__init__()
        self.name, self.calls = name, calls

    def on_train_begin(self, logs=None):
        self.calls.append((self.name, "train_begin"))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append((self.name, "epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):  # the older name still works
        self.calls.append((self.name, "batch_end", batch, dict(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((self.name, "epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.calls.append((self.name, "train_end"))


def test_callback_list_calls_hooks_in_order():
    calls = []
    model = FakeModel()
    fit(model, [Recorder("a", calls), Recorder("b", calls)], [{"loss": 1.0}], steps=1)
    assert calls == [
        ("a", "train_begin"),
        ("b", "train_begin"),
        ("a", "epoch_begin", 0),
        ("b", "epoch_begin", 0),
        ("a", "batch_end", 0, {"loss": 1.0}),
        ("b", "batch_end", 0, {"loss": 1.0}),
        ("a", "epoch_end", 0, {"loss": 1.0}),
        ("b", "epoch_end", 0, {"loss": 1.0}),
        ("a", "train_end"),
        ("b", "train_end"),
    ]


def test_base_callback_hooks_do_nothing_and_batch_hooks_forward():
    seen = []

    class Old(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

    cb = Old()
    cb.on_train_batch_begin(3, {})
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_test_batch_end(0)
    assert seen == [("begin", 3)]


def test_callback_list_sets_model_params_and_history():
    model = FakeModel()
    first = Callback()
    callbacks = CallbackList(
        [first], add_history=True, add_progbar=True, model=model, verbose=1, epochs=5, steps=32
    )
    history, progbar = callbacks.callbacks[1], callbacks.callbacks[2]
    assert isinstance(history, History) and isinstance(progbar, ProgbarLogger)
    assert model.history is history
    for cb in callbacks:
        assert cb.model is model
        assert cb.params == {"verbose": 1, "epochs": 5, "steps": 32}
    assert len(callbacks) == 3


def test_callback_list_does_not_duplicate_history_or_progbar():
    history, progbar = History(), ProgbarLogger()
    callbacks = CallbackList([history, progbar], add_history=True, add_progbar=True)
    assert callbacks.callbacks == [history, progbar]


def test_callback_list_append_and_type_check():
    model = FakeModel()
    calls = []
    callbacks = CallbackList([], model=model, epochs=1, steps=1, verbose=0)
    callbacks.append(Recorder("late", calls))
    callbacks.on_train_batch_end(0, {"loss": 2.0})
    assert calls == [("late", "batch_end", 0, {"loss": 2.0})]
    assert callbacks.callbacks[0].model is model
    with pytest.raises(TypeError, match=r"Received: 'early'"):
        CallbackList(["early"])
    with pytest.raises(TypeError, match="instances of chainrule.callbacks.Callback"):
        callbacks.append(print)


def test_callback_list_shares_one_copy_of_the_logs_and_pythonifies():
    class AddKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 1.5

    model = FakeModel()
    caller_logs = {"loss": np.float32(0.5), "acc": np.array(0.25)}
    callbacks = CallbackList([AddKey()], add_history=True, model=model, epochs=1, steps=1)
    callbacks.on_train_begin()
    callbacks.on_epoch_end(0, caller_logs)
    assert model.history.history == {"loss": [0.5], "acc": [0.25], "extra": [1.5]}
    assert type(model.history.history["loss"][0]) is float
    assert set(caller_logs) == {"loss", "acc"}  # the caller's dict is untouched


def test_lambda_batch_hooks_are_dispatched():
    seen = []
    callbacks = CallbackList([LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    for batch in range(3):
        callbacks.on_train_batch_begin(batch)
        callbacks.on_train_batch_end(batch, {"loss": 1.0})
    callbacks.on_test_batch_end(0, {})  # nobody implements it: no error
    assert seen == [0, 1, 2]


# --------------------------------------------------------------------------- History


def test_history_accumulates_per_key():
    model = FakeModel()
    logs = [
        {"loss": 0.0819, "mae": 0.2704},
        {"loss": 0.0738, "mae": 0.2550},
        {"loss": 0.0665, "mae": 0.2402},
    ]
    history = fit(model, [], logs)
    assert isinstance(history, History)
    assert history.history == {"loss": [0.0819, 0.0738, 0.0665], "mae": [0.2704, 0.2550, 0.2402]}
    assert list(history.history.keys()) == ["loss", "mae"]
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 2}
    assert history.model is model


def test_history_epoch_restarts_on_each_fit():
    model, history = FakeModel(), History()
    fit(model, [history], [{"loss": 1.0}])
    fit(model, [history], [{"loss": 0.5}, {"loss": 0.25}])
    assert history.epoch == [0, 1]
    assert history.history["loss"] == [1.0, 0.5, 0.25]


# --------------------------------------------------------------------------- ProgbarLogger


def run_with_progbar(verbose, stream, epoch_logs, steps=2, known_steps=True):
    clock = Clock()
    logger = ProgbarLogger(stream=stream, time_fn=clock)
    model = FakeModel()
    callbacks = CallbackList(
        [logger],
        add_history=True,
        model=model,
        verbose=verbose,
        epochs=len(epoch_logs),
        steps=steps if known_steps else None,
    )
    callbacks.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        callbacks.on_epoch_begin(epoch)
        for step in range(steps):
            clock.t += 0.001
            callbacks.on_train_batch_end(step, {"loss": logs["loss"]})
        # Validation inside fit goes through the test hooks and must be silent.
        callbacks.on_test_begin()
        callbacks.on_test_batch_end(0, {"loss": 9.0})
        callbacks.on_test_end({"loss": 9.0})
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end()
    return logger


def test_progbar_logger_verbose_1_on_a_file():
    out = io.StringIO()
    run_with_progbar(
        1,
        out,
        [
            {"loss": 0.0819, "mae": 0.2704, "val_loss": 0.0801},
            {"loss": 0.0738, "mae": 0.2550, "val_loss": 0.0701},
        ],
    )
    assert out.getvalue() == (
        "Epoch 1/2\n"
        f"2/2 [{FULL}] - 0s 1ms/step - loss: 0.0819 - mae: 0.2704 - val_loss: 0.0801\n"
        "Epoch 2/2\n"
        f"2/2 [{FULL}] - 0s 1ms/step - loss: 0.0738 - mae: 0.2550 - val_loss: 0.0701\n"
    )


def test_progbar_logger_verbose_1_on_a_terminal_updates_in_place():
    out = Terminal()
    run_with_progbar(1, out, [{"loss": 0.5}, {"loss": 0.25}])
    assert out.getvalue() == (
        "Epoch 1/2\n"
        "\r1/2 [==============>...............] - ETA: 0s - loss: 0.5000"
        f"\r2/2 [{FULL}] - 0s 1ms/step - loss: 0.5000\n"
        "Epoch 2/2\n"
        "\r1/2 [==============>...............] - ETA: 0s - loss: 0.2500"
        f"\r2/2 [{FULL}] - 0s 1ms/step - loss: 0.2500\n"
    )


def test_progbar_logger_verbose_2_one_line_per_epoch():
    out = Terminal()
    run_with_progbar(2, out, [{"loss": 0.0665, "mae": 0.2402}, {"loss": 0.0600, "mae": 0.2300}])
    assert out.getvalue() == (
        "Epoch 1/2\n"
        "2/2 - 0s - loss: 0.0665 - mae: 0.2402\n"
        "Epoch 2/2\n"
        "2/2 - 0s - loss: 0.0600 - mae: 0.2300\n"
    )


def test_progbar_logger_single_epoch_has_no_epoch_line():
    out = io.StringIO()
    run_with_progbar(1, out, [{"loss": 0.5}])
    assert out.getvalue() == f"2/2 [{FULL}] - 0s 1ms/step - loss: 0.5000\n"


def test_progbar_logger_verbose_0_prints_nothing():
    out = Terminal()
    run_with_progbar(0, out, [{"loss": 0.5}, {"loss": 0.4}])
    assert out.getvalue() == ""


def test_progbar_logger_unknown_steps_learns_them_in_the_first_epoch():
    out = Terminal()
    logger = run_with_progbar(1, out, [{"loss": 0.5}, {"loss": 0.25}], steps=2, known_steps=False)
    assert logger.target == 2
    assert out.getvalue() == (
        "Epoch 1/2\n"
        "\r      1/Unknown - 0s 1ms/step - loss: 0.5000"
        f"\r2/2 [{FULL}] - 0s 1ms/step - loss: 0.5000\n"
        "Epoch 2/2\n"
        "\r1/2 [==============>...............] - ETA: 0s - loss: 0.2500"
        f"\r2/2 [{FULL}] - 0s 1ms/step - loss: 0.2500\n"
    )


def test_progbar_logger_evaluate_verbose_2_matches_the_tutorial():
    out = io.StringIO()
    logger = ProgbarLogger(stream=out, time_fn=Clock())
    callbacks = CallbackList([logger], model=FakeModel(), verbose=2, epochs=1, steps=313)
    callbacks.on_test_begin()
    for step in range(313):
        callbacks.on_test_batch_end(step, {"loss": 0.4513, "accuracy": 0.8429})
    callbacks.on_test_end({"loss": 0.4513, "accuracy": 0.8429})
    assert out.getvalue() == "313/313 - 0s - loss: 0.4513 - accuracy: 0.8429\n"


def test_progbar_logger_predict_shows_no_values():
    out = io.StringIO()
    logger = ProgbarLogger(stream=out, time_fn=Clock())
    callbacks = CallbackList([logger], verbose=1, epochs=1, steps=1)
    callbacks.on_predict_begin()
    callbacks.on_predict_batch_end(0, {"outputs": np.zeros((1, 10))})
    callbacks.on_predict_end()
    assert out.getvalue() == f"1/1 [{FULL}] - 0s 0s/step\n"


def test_progbar_logger_verbose_auto_means_1():
    logger = ProgbarLogger()
    logger.set_params({"verbose": "auto", "epochs": 3, "steps": 4})
    assert (logger.verbose, logger.epochs, logger.target) == (1, 3, 4)


# --------------------------------------------------------------------------- EarlyStopping


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


def test_early_stopping_stops_after_patience_and_restores_best_weights(capsys):
    model = FakeModel()
    early = EarlyStopping(patience=2, verbose=1, restore_best_weights=True)
    history = fit(model, [early], val_losses(1.0, 0.9, 0.95, 0.96, 0.97, 0.5))
    assert epochs_run(history) == 4
    assert early.stopped_epoch == 3 and early.best_epoch == 1 and early.best == 0.9
    assert [w.tolist() for w in model.weights] == [[1.0, 1.0, 1.0], [1.0]]
    assert capsys.readouterr().out == (
        "Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_without_restore_keeps_last_weights(capsys):
    model = FakeModel()
    history = fit(model, [EarlyStopping(patience=0)], val_losses(1.0, 1.5, 0.5))
    assert epochs_run(history) == 2
    assert model.weights[0].tolist() == [1.0, 1.0, 1.0]
    assert capsys.readouterr().out == ""


def test_early_stopping_patience_zero_never_stops_on_the_first_epoch():
    model = FakeModel()
    history = fit(model, [EarlyStopping(patience=0)], val_losses(1.0, 0.9, 0.8))
    assert epochs_run(history) == 3 and model.stop_training is False


def test_early_stopping_auto_mode_maximizes_accuracy():
    model = FakeModel()
    logs = [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.6, 0.55, 0.7)]
    early = EarlyStopping(monitor="val_accuracy", patience=0)
    history = fit(model, [early], logs)
    assert epochs_run(history) == 3 and early.best == 0.6


def test_early_stopping_min_delta():
    model = FakeModel()
    logs = [{"loss": v} for v in (1.0, 0.995, 0.99, 0.5)]
    early = EarlyStopping(monitor="loss", min_delta=0.01, patience=1)
    assert epochs_run(fit(model, [early], logs)) == 2
    assert epochs_run(fit(model, [EarlyStopping(monitor="loss", patience=1)], logs)) == 4


def test_early_stopping_baseline_must_be_beaten_to_restart_patience():
    logs = [{"loss": v} for v in (0.9, 0.8, 0.85, 0.84, 0.83)]
    with_baseline = EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    assert epochs_run(fit(FakeModel(), [with_baseline], logs)) == 3
    without = EarlyStopping(monitor="loss", patience=2)
    assert epochs_run(fit(FakeModel(), [without], logs)) == 4


def test_early_stopping_start_from_epoch():
    logs = [{"loss": v} for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    early = EarlyStopping(monitor="loss", patience=0, start_from_epoch=2)
    assert epochs_run(fit(FakeModel(), [early], logs)) == 4
    assert early.stopped_epoch == 3


def test_early_stopping_restores_first_monitored_epoch_when_nothing_improves():
    model = FakeModel()
    early = EarlyStopping(patience=2, restore_best_weights=True)
    fit(model, [early], val_losses(0.5, 0.6, 0.7, 0.8))
    # The snapshot of epoch 0 was copied: in-place training did not change it.
    assert model.weights[0].tolist() == [0.0, 0.0, 0.0]


def test_early_stopping_is_reusable_across_fits():
    early = EarlyStopping(patience=0)
    fit(FakeModel(), [early], val_losses(1.0, 2.0))
    assert early.stopped_epoch == 1
    history = fit(FakeModel(), [early], val_losses(5.0, 4.0, 3.0))
    assert epochs_run(history) == 3 and early.stopped_epoch == 0 and early.best == 3.0


def test_early_stopping_warns_when_monitor_is_missing():
    model = FakeModel()
    with pytest.warns(UserWarning) as record:
        history = fit(model, [EarlyStopping(patience=0)], [{"loss": 1.0, "mae": 2.0}] * 3)
    assert epochs_run(history) == 3
    assert str(record[0].message) == (
        "Early stopping conditioned on metric `val_loss` which is not available. "
        "Available metrics are: loss,mae"
    )


@pytest.mark.parametrize(
    "monitor, op",
    [
        ("loss", "less"),
        ("val_loss", "less"),
        ("mae", "less"),
        ("val_mse", "less"),
        ("mean_squared_error", "less"),
        ("accuracy", "greater"),
        ("val_acc", "greater"),
        ("val_sparse_categorical_accuracy", "greater"),
        ("auc", "greater"),
        ("val_precision", "greater"),
        ("recall", "greater"),
        ("f1_score", "greater"),
        ("r2_score", "greater"),
        ("val_accuracy_loss", "less"),
    ],
)
def test_auto_mode_direction(monitor, op):
    assert EarlyStopping(monitor=monitor).monitor_op.__name__ == op
    assert ReduceLROnPlateau(monitor=monitor).monitor_op.__name__ == op


def test_explicit_mode_overrides_the_name():
    assert EarlyStopping(monitor="accuracy", mode="min").monitor_op is np.less
    assert EarlyStopping(monitor="loss", mode="max").monitor_op is np.greater


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"patience": -1},
            ValueError,
            "patience must be a non-negative integer. Received: patience=-1",
        ),
        (
            {"patience": 1.5},
            TypeError,
            "patience must be a non-negative integer. Received: patience=1.5",
        ),
        (
            {"mode": "maxx"},
            ValueError,
            "mode must be one of 'auto', 'min' or 'max'. Received: mode='maxx'",
        ),
        ({"monitor": 3}, TypeError, "monitor must be a metric name. Received: monitor=3"),
        ({"min_delta": "0.1"}, TypeError, "min_delta must be a number. Received: min_delta='0.1'"),
        ({"baseline": "high"}, TypeError, "baseline must be a number. Received: baseline='high'"),
        ({"start_from_epoch": -2}, ValueError, "Received: start_from_epoch=-2"),
    ],
)
def test_early_stopping_validation(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        EarlyStopping(**kwargs)


# --------------------------------------------------------------------------- ReduceLROnPlateau


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr(capsys):
    model = FakeModel(learning_rate=1.0)
    reduce_lr = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_lr=0.2, verbose=1)
    history = fit(model, [reduce_lr], val_losses(*[1.0] * 11))
    # The rate used during each epoch. Reductions at the end of epochs 3, 6 and 9:
    # two epochs of patience, then two of cooldown during which nothing is counted.
    assert history.history["learning_rate"] == [
        1.0,
        1.0,
        1.0,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
        0.25,
        0.2,
        0.2,
    ]
    assert model.optimizer.learning_rate == 0.2
    assert capsys.readouterr().out == (
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 6: ReduceLROnPlateau reducing learning rate to 0.25.\n"
        "\nEpoch 9: ReduceLROnPlateau reducing learning rate to 0.2.\n"
    )


def test_reduce_lr_without_cooldown():
    model = FakeModel(learning_rate=1.0)
    history = fit(model, [ReduceLROnPlateau(factor=0.5, patience=2)], val_losses(*[1.0] * 7))
    assert history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_reduce_lr_improvement_resets_the_wait():
    model = FakeModel(learning_rate=1.0)
    reduce_lr = ReduceLROnPlateau(factor=0.1, patience=2)
    history = fit(model, [reduce_lr], val_losses(1.0, 1.0, 0.5, 0.5, 0.5, 0.5))
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.1])


def test_reduce_lr_min_delta_ignores_tiny_improvements():
    model = FakeModel(learning_rate=1.0)
    logs = val_losses(1.0, 0.99995, 0.9999)
    fit(model, [ReduceLROnPlateau(factor=0.5, patience=2)], logs)
    assert model.optimizer.learning_rate == 0.5


def test_reduce_lr_max_mode():
    model = FakeModel(learning_rate=1.0)
    logs = [{"val_accuracy": a} for a in (0.5, 0.7, 0.6, 0.65)]
    fit(model, [ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)], logs)
    assert model.optimizer.learning_rate == 0.25


def test_reduce_lr_float32_rate_at_min_lr_is_not_reduced_again():
    model = FakeModel(learning_rate=float(np.float32(0.2)))
    fit(model, [ReduceLROnPlateau(factor=0.5, patience=0, min_lr=0.2)], val_losses(1.0, 1.0, 1.0))
    assert model.optimizer.learning_rate == float(np.float32(0.2))


def test_reduce_lr_warns_when_monitor_is_missing():
    model = FakeModel(learning_rate=0.1)
    with pytest.warns(UserWarning) as record:
        fit(model, [ReduceLROnPlateau(patience=0)], [{"loss": 1.0}] * 3)
    assert model.optimizer.learning_rate == 0.1
    assert str(record[0].message) == (
        "Learning rate reduction is conditioned on metric `val_loss` which is not available. "
        "Available metrics are: loss,learning_rate."
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"factor": 1.0}, ValueError, "does not support a factor >= 1.0. Received: factor=1.0"),
        ({"factor": 0.0}, ValueError, "Received: factor=0.0"),
        (
            {"patience": -1},
            ValueError,
            "patience must be a non-negative integer. Received: patience=-1",
        ),
        (
            {"cooldown": -1},
            ValueError,
            "cooldown must be a non-negative integer. Received: cooldown=-1",
        ),
        ({"min_lr": -0.1}, ValueError, "min_lr must be non-negative. Received: min_lr=-0.1"),
        ({"mode": "up"}, ValueError, "Received: mode='up'"),
    ],
)
def test_reduce_lr_validation(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ReduceLROnPlateau(**kwargs)


# --------------------------------------------------------------------------- LearningRateScheduler


def test_scheduler_with_epoch_and_lr(capsys):
    model = FakeModel(learning_rate=0.1)
    scheduler = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5, verbose=1)
    history = fit(model, [scheduler], [{"loss": 1.0}] * 4)
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05, 0.025]
    assert model.optimizer.learning_rate == 0.025
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
        "\nEpoch 2: LearningRateScheduler setting learning rate to 0.1.\n"
        "\nEpoch 3: LearningRateScheduler setting learning rate to 0.05.\n"
        "\nEpoch 4: LearningRateScheduler setting learning rate to 0.025.\n"
    )


def test_scheduler_with_epoch_only():
    model = FakeModel(learning_rate=0.1)

    def schedule(epoch):
        return 0.01 * (epoch + 1)

    history = fit(model, [LearningRateScheduler(schedule)], [{"loss": 1.0}] * 3)
    assert history.history["learning_rate"] == [0.01, 0.02, 0.03]


def test_scheduler_accepts_numpy_output_and_builtin_callables():
    model = FakeModel(learning_rate=0.1)
    fit(model, [LearningRateScheduler(lambda epoch, lr: np.float32(0.5) * lr)], [{"loss": 1.0}])
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    fit(model, [LearningRateScheduler(math.sqrt)], [{"loss": 1.0}] * 2)  # schedule(epoch)
    assert model.optimizer.learning_rate == 1.0


def test_scheduler_errors():
    with pytest.raises(
        TypeError, match=re.escape("schedule must be callable. Received: schedule=0.1")
    ):
        LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match=re.escape("should be a float. Received: 'fast'")):
        fit(FakeModel(), [LearningRateScheduler(lambda epoch: "fast")], [{"loss": 1.0}])

    class NoRate:
        pass

    model = FakeModel()
    model.optimizer = NoRate()
    with pytest.raises(ValueError, match='must have a "learning_rate" attribute'):
        fit(model, [LearningRateScheduler(lambda epoch: 0.1)], [{"loss": 1.0}])


def test_scheduler_type_error_inside_schedule_is_not_hidden():
    def schedule(epoch, lr):
        return lr + "oops"

    with pytest.raises(TypeError, match="unsupported operand"):
        fit(FakeModel(), [LearningRateScheduler(schedule)], [{"loss": 1.0}])


# --------------------------------------------------------------------------- TerminateOnNaN


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), np.float32("nan")])
def test_terminate_on_nan_stops_training(bad, capsys):
    model = FakeModel()
    batch_logs = lambda epoch, step: {"loss": bad if (epoch, step) == (1, 1) else 0.5}
    history = fit(model, [TerminateOnNaN()], [{"loss": 0.5}] * 5, steps=3, batch_logs=batch_logs)
    assert model.stop_training is True
    assert epochs_run(history) == 2
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_ignores_finite_and_missing_loss():
    model = FakeModel()
    history = fit(
        model,
        [TerminateOnNaN()],
        [{"loss": 0.5}] * 3,
        batch_logs=lambda e, s: {"acc": float("nan")},
    )
    assert epochs_run(history) == 3 and model.stop_training is False


def test_terminate_on_nan_can_raise():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fit(
            FakeModel(),
            [TerminateOnNaN(raise_error=True)],
            [{"loss": 0.5}],
            batch_logs=lambda e, s: {"loss": float("nan")},
        )


# --------------------------------------------------------------------------- CSVLogger


def test_csv_logger_writes_sorted_columns(tmp_path):
    path = tmp_path / "training.log"
    logs = [
        {"loss": 0.5, "mae": 0.25, "val_loss": 0.75},
        {"loss": 0.125, "mae": 0.0625, "val_loss": 0.5},
    ]
    fit(FakeModel(), [CSVLogger(path)], logs)
    assert path.read_text() == "epoch,loss,mae,val_loss\n0,0.5,0.25,0.75\n1,0.125,0.0625,0.5\n"


def test_csv_logger_separator_missing_keys_and_arrays(tmp_path):
    path = tmp_path / "log.csv"
    logs = [
        {"loss": 0.5, "acc": 0.25},
        {"loss": np.float64(0.25)},
        {"loss": 0.1, "acc": np.array([1, 2])},
    ]
    fit(FakeModel(), [CSVLogger(str(path), separator=";")], logs)
    assert path.read_text() == "epoch;acc;loss\n0;0.25;0.5\n1;NA;0.25\n2;[1, 2];0.1\n"


def test_csv_logger_append_writes_one_header(tmp_path):
    path = tmp_path / "log.csv"
    fit(FakeModel(), [CSVLogger(path)], [{"loss": 1.0}])
    fit(FakeModel(), [CSVLogger(path, append=True)], [{"loss": 0.5}, {"loss": 0.25}])
    assert path.read_text() == "epoch,loss\n0,1.0\n0,0.5\n1,0.25\n"
    fit(FakeModel(), [CSVLogger(path)], [{"loss": 2.0}])  # overwrite
    assert path.read_text() == "epoch,loss\n0,2.0\n"


def test_csv_logger_flushes_each_epoch_and_closes(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    assert path.read_text() == "epoch,loss\n0,1.0\n"
    logger.on_train_end()
    assert logger.csv_file is None


def test_csv_logger_validation():
    with pytest.raises(
        ValueError,
        match=re.escape("separator must be a single character. Received: separator=', '"),
    ):
        CSVLogger("x.csv", separator=", ")
    with pytest.raises(TypeError, match=re.escape("filename must be a path (str or os.PathLike). "
                                                  "Received: filename=3")):
        CSVLogger(3)


# --------------------------------------------------------------------------- LambdaCallback


def test_lambda_callback_hooks():
    events = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_end=lambda batch, logs: events.append(("batch", batch)),
        on_train_end=lambda logs: events.append("train_end"),
    )
    fit(FakeModel(), [callback], [{"loss": 0.5}], steps=2)
    assert events == [
        "train_begin",
        ("epoch_begin", 0),
        ("batch", 0),
        ("batch", 1),
        ("epoch_end", 0, 0.5),
        "train_end",
    ]


def test_lambda_callback_other_hooks_by_name():
    seen = []
    callbacks = CallbackList([LambdaCallback(on_test_end=lambda logs: seen.append(logs))])
    callbacks.on_test_end({"loss": 0.25})
    assert seen == [{"loss": 0.25}]


def test_lambda_callback_validation():
    with pytest.raises(
        TypeError, match=r"unknown hook 'on_epoch_finish'.*Received: on_epoch_finish="
    ):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(
        TypeError, match=re.escape("on_epoch_end must be callable. Received: on_epoch_end=1")
    ):
        LambdaCallback(on_epoch_end=1)


def test_predict_batch_end_logs_hold_the_batch_outputs():
    """As Keras 3: ``on_predict_batch_end`` gets the batch's predictions under "outputs"."""
    import chainrule  # noqa: PLC0415

    seen = []

    class Grab(chainrule.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append((batch, sorted(logs), logs["outputs"]))

    model = chainrule.Sequential([chainrule.Input((3,)), chainrule.layers.Dense(2)])
    x = np.arange(15, dtype="float32").reshape(5, 3)
    pred = model.predict(x, batch_size=2, verbose=0, callbacks=[Grab()])
    assert [b for b, _, _ in seen] == [0, 1, 2]
    assert all(keys == ["outputs"] for _, keys, _ in seen)
    np.testing.assert_array_equal(np.concatenate([o for _, _, o in seen]), pred)

    inp = chainrule.Input((3,))
    two = chainrule.Model(inp, [chainrule.layers.Dense(2)(inp), chainrule.layers.Dense(1)(inp)])
    seen.clear()
    p1, p2 = two.predict(x, batch_size=5, verbose=0, callbacks=[Grab()])
    outs = seen[0][2]
    assert len(outs) == 2
    np.testing.assert_array_equal(outs[0], p1)
    np.testing.assert_array_equal(outs[1], p2)


def test_a_callback_decays_the_rate_with_keras_assign_idiom():
    # keras code: self.model.optimizer.learning_rate.assign(self.model.optimizer.learning_rate
    # * 0.5) from a callback; the next epoch's updates use the new rate
    import chainrule as cr

    seen = []

    class Halve(cr.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            lr = self.model.optimizer.learning_rate
            seen.append(float(lr))
            lr.assign(lr * 0.5)

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.standard_normal((16, 1))
    model = cr.models.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
    model.compile(cr.optimizers.SGD(0.1), "mse")
    start = model.get_weights()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[Halve()], shuffle=False)
    assert seen == [0.1, 0.05, 0.025]
    assert float(model.optimizer.learning_rate) == 0.0125
    other = cr.models.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
    other.compile(cr.optimizers.SGD(0.1), "mse")
    other.set_weights(start)
    for rate in seen:  # the same rates, set by hand epoch by epoch
        other.optimizer.learning_rate = rate
        other.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)

"""Callbacks: hooks into `fit`, `evaluate` and `predict`, with Keras semantics.

A callback sees the model only through a small interface:

* ``model.stop_training``: a bool the training loop checks after each epoch;
* ``model.get_weights()`` / ``model.set_weights(list_of_arrays)``;
* ``model.optimizer.learning_rate``: a Variable (``float()`` reads it, ``assign`` or
  setting the attribute changes it);
* ``model.history``: set to the :class:`History` of the current ``fit``.

The training loop drives every callback through one :class:`CallbackList`::

    callbacks = CallbackList(user_callbacks, add_history=True, add_progbar=verbose != 0,
                             model=model, verbose=verbose, epochs=epochs, steps=steps)
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for step in range(steps):
            callbacks.on_train_batch_begin(step)
            logs = train_step(...)
            callbacks.on_train_batch_end(step, logs)
        callbacks.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callbacks.on_train_end(epoch_logs)
"""

from chainrule import _lazy
from chainrule.callbacks.callback import Callback
from chainrule.callbacks.callback import Logs as Logs  # the type of the hooks' logs
from chainrule.callbacks.callback_list import CallbackList
from chainrule.callbacks.history import History
from chainrule.callbacks.progbar_logger import ProgbarLogger

# Every other callback loads with its module when a program first names it
_lazy.attach(
    globals(),
    {
        ".backup_and_restore": ["BackupAndRestore"],
        ".csv_logger": ["CSVLogger"],
        ".early_stopping": ["EarlyStopping"],
        ".gradient_monitor": ["GradientMonitor"],
        ".lambda_callback": ["LambdaCallback"],
        ".learning_rate_scheduler": ["LearningRateScheduler"],
        ".model_checkpoint": ["ModelCheckpoint"],
        ".reduce_lr_on_plateau": ["ReduceLROnPlateau"],
        ".remote_monitor": ["RemoteMonitor"],
        ".swap_ema_weights": ["SwapEMAWeights"],
        ".tensorboard": ["TensorBoard"],
        ".terminate_on_nan": ["TerminateOnNaN"],
    },
)

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientMonitor",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "RemoteMonitor",
    "SwapEMAWeights",
]

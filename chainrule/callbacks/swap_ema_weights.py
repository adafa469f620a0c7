"""SwapEMAWeights: evaluate (and optionally checkpoint) with the optimizer's moving averages."""

from __future__ import annotations

from typing import Any

from chainrule.callbacks.callback import Callback, Logs

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's EMA weights around evaluation.

    With an optimizer built with ``use_ema=True``, the weights are replaced by their
    exponential moving averages ("Polyak averaging") while ``evaluate``, ``predict`` and
    the validation of ``fit`` run, and restored afterwards, so metrics are those of the
    averaged model. The swap is in place. With ``swap_on_epoch=True`` the averages are
    also in the model between ``on_epoch_end`` and the next ``on_epoch_begin`` (put a
    ``ModelCheckpoint`` after this callback to save them); after the last epoch the
    model keeps them (and the averages are set to them), as in Keras.

    Args:
        swap_on_epoch: also swap at the end of each epoch (and back at the start of the
            next).

    The optimizer may be wrapped in a ``LossScaleOptimizer``; with a ``MultiOptimizer``,
    the weights of each inner optimizer with ``use_ema=True`` are swapped (the others keep
    their trained values), as in Keras.

    Raises:
        ValueError: when the model's optimizer does not have ``use_ema=True``, or when
            none of a ``MultiOptimizer``'s inner optimizers has it.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> model = cr.Sequential([cr.Input((2,)), cr.layers.Dense(1)])
        >>> model.compile(optimizer=cr.optimizers.SGD(use_ema=True), loss="mse")
        >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), verbose=0,
        ...               validation_data=(np.ones((4, 2)), np.ones((4, 1))),
        ...               callbacks=[cr.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._ema_weights_in_model = False

    def _optimizers(self) -> list[Any]:
        """The optimizers whose averages are swapped: the model's optimizer (unwrapped from a
        ``LossScaleOptimizer``), or the inner optimizers with ``use_ema=True`` of a
        ``MultiOptimizer``, as Keras finds them."""
        opt = getattr(self.model, "optimizer", None)
        opt = getattr(opt, "inner_optimizer", opt)
        inner = getattr(opt, "optimizers", None)
        if inner is not None:
            with_ema = [o for o in inner if getattr(o, "use_ema", False)]
            if not with_ema:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received: a MultiOptimizer whose inner optimizers "
                    f"all have use_ema=False ({[o.name for o in inner]})")
            return with_ema
        if opt is None or not getattr(opt, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(opt, 'use_ema', None)}")
        return [opt]

    def _swap(self) -> None:
        for opt in self._optimizers():
            if not opt.built:  # nothing averaged yet
                continue
            for var, avg in zip(opt._vars, opt._averages):
                held = var.data.copy()
                var.data[...] = avg
                avg[...] = held

    def _finalize(self) -> None:
        for opt in self._optimizers():
            if opt.built:
                for var, avg in zip(opt._vars, opt._averages):
                    avg[...] = var.data

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Puts the trained weights back (``swap_on_epoch``)."""
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Puts the averages in the model (``swap_on_epoch``); keeps them after the last epoch."""
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize()

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Puts the averages in the model for the evaluation."""
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Restores the trained weights."""
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end

"""TerminateOnNaN: stop training when the loss becomes NaN or infinite."""

from __future__ import annotations

import numpy as np

from chainrule.callbacks._utils import print_message
from chainrule.callbacks.callback import Callback, Logs

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite.

    Args:
        raise_error: Raise a RuntimeError at once instead of setting
            ``model.stop_training`` (which lets ``on_train_end`` run).

    Example:
        >>> callback = TerminateOnNaN()
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Checks the batch's loss.

        Raises:
            RuntimeError: If the loss is NaN or infinite and ``raise_error`` is set.
        """
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. "
                f"Loss value: {loss}. Terminating training immediately."
            )
        print_message(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True

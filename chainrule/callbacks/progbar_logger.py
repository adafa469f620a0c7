"""ProgbarLogger: the ``Epoch k/N`` lines and the progress bars of `fit`, `evaluate`, `predict`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from chainrule.callbacks.callback import Callback, Logs
from chainrule.utils import io_utils
from chainrule.utils.progbar import Progbar

__all__ = ["ProgbarLogger"]

class ProgbarLogger(Callback):
    """Prints the ``Epoch k/N`` lines and a progress bar, as tf.keras does.

    ``verbose=1`` draws a bar per epoch, redrawn in place on a terminal and
    printed once per epoch elsewhere; ``verbose=2`` prints one line per epoch;
    ``verbose=0`` prints nothing. Validation inside `fit` is silent; alone (in
    `evaluate` or `predict`) it gets its own bar. The values in the logs are
    shown as given: the training loop passes running means already.

    Args:
        stream: Where to print; ``None`` means ``sys.stdout`` at the time of printing.
        time_fn: Clock for the progress bar (see :class:`~chainrule.utils.progbar.Progbar`).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> logger = ProgbarLogger(stream=out, time_fn=lambda: 0.0)
        >>> logger.set_params({"verbose": 2, "epochs": 2, "steps": 32})
        >>> logger.on_train_begin()
        >>> logger.on_epoch_begin(0)
        >>> logger.on_epoch_end(0, {"loss": 0.0665, "mae": 0.2402})
        >>> print(out.getvalue(), end="")
        Epoch 1/2
        32/32 - 0s - loss: 0.0665 - mae: 0.2402
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        time_fn: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.time_fn = time_fn
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Reads ``verbose`` (``"auto"`` means 1), ``epochs`` and ``steps`` (``None`` if unknown)."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _write(self, text: str) -> None:
        io_utils.write(text, self.stream)

    def _new_progbar(self) -> None:
        self.seen = 0
        self.progbar = Progbar(
            target=self.target,
            verbose=self.verbose,
            stateless_metrics=(),  # every value arrives as a running mean
            stream=self.stream,
            time_fn=self.time_fn,
        )

    def _update(self, batch: int, logs: Logs | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, logs.items() if logs else None, finalize=False)

    def _finalize(self, logs: Logs | None) -> None:
        if self.target is None:
            # Steps were unknown: the first full pass tells how many there are.
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, logs.items() if logs else None, finalize=True)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Marks that validation inside `fit` must stay silent."""
        self._called_in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Ends the `fit`; a later `evaluate` with this logger prints again."""
        self._called_in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Starts a bar and prints ``Epoch k/N`` when there is more than one epoch."""
        self._new_progbar()
        if self.verbose and self.epochs > 1:
            self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the bar."""
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Prints the final state of the epoch's bar."""
        self._finalize(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Starts a bar for `evaluate` (not for validation inside `fit`)."""
        if not self._called_in_fit:
            self._new_progbar()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the `evaluate` bar."""
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Prints the final `evaluate` line."""
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Starts a bar for `predict`."""
        self._new_progbar()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Moves the `predict` bar (predictions are not printed)."""
        self._update(batch, None)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Prints the final `predict` line."""
        self._finalize(None)

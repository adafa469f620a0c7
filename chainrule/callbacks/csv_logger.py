"""CSVLogger: write the logs of every epoch as a row of a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.callbacks.callback import Callback, Logs

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Writes the logs of every epoch as a row of a CSV file.

    The columns are ``epoch`` then the keys of the first epoch's logs, sorted;
    a key missing later is written ``NA``.

    Args:
        filename: Path of the CSV file.
        separator: One character separating the fields.
        append: Append to an existing file (no second header) instead of
            overwriting it.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "mae": 0.25})
        >>> logger.on_train_end()
        >>> print(open(path).read(), end="")
        epoch,loss,mae
        0,0.5,0.25
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        from chainrule.saving.api import _fspath  # noqa: PLC0415

        self.filename = _fspath(filename, "filename")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"separator must be a single character. Received: separator={separator!r}"
            )
        if separator in '\r\n"':
            raise ValueError(
                "separator cannot be a line break or the quote character '\"' (the rows could "
                f"not be read back). Received: separator={separator!r}"
            )
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self.writer: Any = None
        self.csv_file: Any = None
        self.append_header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Opens the file (appending or overwriting)."""
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        # newline="" lets the csv module decide the line ends: '\n' here.
        # The file stays open across epochs and is closed in on_train_end.
        from chainrule.distribute import is_chief  # noqa: PLC0415

        # data-parallel training: process 0 writes the file, the others write nowhere
        self.csv_file = open(  # noqa: SIM115
            self.filename if is_chief() else os.devnull, "a" if self.append else "w",
            newline="", encoding="utf-8"
        )
        self.writer = None
        self.keys = None

    @staticmethod
    def _cell(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        if isinstance(value, Iterable):
            return f"[{', '.join(map(str, value))}]"
        return value

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Writes one row and flushes it to disk."""
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.csv_file, delimiter=self.sep, lineterminator="\n")
            if self.append_header:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(self._cell(logs.get(k, "NA")) for k in self.keys)])
        self.csv_file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Closes the file."""
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None

"""The progress bar that `fit`, `evaluate` and `predict` print.

The output follows tf.keras 2, the format the tutorials show::

    Epoch 3/50
    32/32 [==============================] - 0s 987us/step - loss: 0.0665 - mae: 0.2402

and, with ``verbose=2``, one line per epoch::

    313/313 - 0s - loss: 0.4513 - accuracy: 0.8429

On a terminal (or a Jupyter cell) ``verbose=1`` redraws one line in place with
``\\r``; anywhere else (a file, a pipe, CI logs) it prints only the finished line
of each epoch, so logs stay readable.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import numpy as np

from chainrule.utils import io_utils

__all__ = ["Progbar"]


def _is_interactive(stream: Any) -> bool:
    """Whether ``stream`` renders a carriage return by redrawing the line."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None:
        try:
            if isatty():
                return True
        except (ValueError, OSError):  # closed or detached stream
            return False
    # Jupyter and Colab send stdout through ipykernel: not a tty, yet the
    # front end redraws on '\r'. So does PyCharm's run console.
    if type(stream).__module__.split(".", 1)[0] == "ipykernel":
        return True
    return bool(os.environ.get("PYCHARM_HOSTED")) and stream in (sys.stdout, sys.stderr)


def _format_value(value: Any) -> str:
    """Format one metric the way Keras does: 4 decimals, scientific when tiny."""
    if type(value) is not float:
        try:
            value = float(np.mean(value))
        except (TypeError, ValueError):
            return f" {value}"
    # NOTE: tf.keras tests `avg > 1e-3` in verbose=2 mode, which prints
    # negative values in scientific notation; abs() is what verbose=1 uses.
    if abs(value) > 1e-3:
        return f" {value:.4f}"
    return f" {value:.4e}"


def _format_time(seconds: float, unit_name: str) -> str:
    """Format a duration per unit as ``' 3s/step'``, ``' 12ms/step'`` or ``' 987us/step'``."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(seconds: float) -> str:
    """Format a remaining time as ``'1:02:03'``, ``'2:03'`` or ``'12s'``."""
    whole = int(seconds)
    if seconds > 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if seconds > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, or ``None`` if unknown (for
            example when the data come from a generator).
        width: Width of the bar in characters.
        verbose: 0 (silent), 1 (a bar, redrawn in place on a terminal) or 2
            (one line when the target is reached).
        interval: Minimum time in seconds between two redraws of the bar.
        stateful_metrics: Names of values that are shown as given instead of
            being averaged over the steps. All other values are averaged.
        stateless_metrics: Names of values that are averaged over the steps; all
            other values are shown as given. Give at most one of
            ``stateful_metrics`` and ``stateless_metrics``.
        unit_name: Name of one step in the time per step, e.g. ``"step"``.
        stream: Where to write; ``None`` means ``sys.stdout`` at the time of
            writing.
        time_fn: Clock returning seconds; ``time.perf_counter`` by default.
            Inject a fake clock to make the output deterministic.

    Example:
        >>> import io
        >>> clock = iter([0.0, 0.5, 1.0, 1.5]).__next__
        >>> out = io.StringIO()
        >>> bar = Progbar(3, stream=out, time_fn=clock)
        >>> for step in range(1, 4):
        ...     bar.update(step, [("loss", 1.0 / step)])
        >>> print(out.getvalue(), end="")
        3/3 [==============================] - 2s 500ms/step - loss: 0.6111
    """

    def __init__(
        self,
        target: int | None,
        width: int = 30,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        stream: TextIO | None = None,
        time_fn: Callable[[], float] | None = None,
    ) -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Give at most one of `stateful_metrics` and `stateless_metrics`. "
                f"Received: stateful_metrics={stateful_metrics!r}, "
                f"stateless_metrics={stateless_metrics!r}"
            )
        if target is not None and (not isinstance(target, (int, np.integer)) or target < 0):
            raise ValueError(
                f"target must be a non-negative integer or None. Received: target={target!r}"
            )
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2. Received: verbose={verbose!r}")
        self.target = None if target is None else int(target)
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream
        # One set, read with a flag: name in _listed means stateful when
        # _listed_are_stateful, stateless otherwise.
        if stateless_metrics is not None:
            self._listed = set(stateless_metrics)
            self._listed_are_stateful = False
        else:
            self._listed = set(stateful_metrics or ())
            self._listed_are_stateful = True
        self._all_stateful = stateless_metrics is not None and not self._listed
        self._time_fn = time_fn or time.perf_counter
        # with interactive logging off (and no stream), finished lines go to logging
        self._dynamic_display = _is_interactive(self._out()) and (
            stream is not None or io_utils.is_interactive_logging_enabled())
        self._values: dict[str, Any] = {}  # name -> (value, 1) or [sum, steps]
        self._values_order: list[str] = []
        self._seen_so_far = 0
        self._total_width = 0
        self._start = self._time_fn()
        self._last_update = -float("inf")
        self._time_after_first_step: float | None = None

    @property
    def stateful_metrics(self) -> set[str]:
        """Names shown as given (only meaningful when ``stateless_metrics`` was not used)."""
        return self._listed if self._listed_are_stateful else set()

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _is_stateful(self, name: str) -> bool:
        return (name in self._listed) == self._listed_are_stateful

    def update(
        self,
        current: int,
        values: Iterable[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Moves the bar to step ``current`` and records new values.

        Called once per batch, so the common path does little: it records the
        values and returns unless the line is due to be drawn.

        Args:
            current: Index of the current step (1 after the first step).
            values: ``(name, value)`` pairs for this step. Stateful values
                are shown as given; others are averaged, weighted by the number
                of steps since the previous update.
            finalize: Whether this is the last update of the bar. ``None``
                means ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            self._record(current, values)
        self._seen_so_far = current

        now = self._time_fn()
        if current == 1:
            # The first step pays one-time costs; time per step leaves it out.
            self._time_after_first_step = now
        if not finalize and (
            self.verbose != 1
            or not self._dynamic_display
            or now - self._last_update < self.interval
        ):
            return
        if self.verbose == 1:
            self._draw_bar(current, now, finalize)
        elif self.verbose == 2:
            self._draw_line(current, now)
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advances the bar by ``n`` steps.

        Args:
            n: Number of steps done since the last update.
            values: ``(name, value)`` pairs, as for :meth:`update`.
        """
        self.update(self._seen_so_far + n, values)

    def _record(self, current: int, values: Iterable[tuple[str, Any]]) -> None:
        store = self._values
        if self._all_stateful:  # the common case in fit: one store per value
            for name, value in values:
                if name not in store:
                    self._values_order.append(name)
                store[name] = (value, 1)
            return
        for name, value in values:
            entry = store.get(name)
            if entry is None:
                self._values_order.append(name)
            if self._is_stateful(name):
                store[name] = (value, 1)
                continue
            # When the target is unknown the logger may finalize at the step
            # it last updated; count at least one step so the mean stays right.
            steps = max(current - self._seen_so_far, 1)
            if entry is None:
                store[name] = [value * steps, steps]
            else:
                entry[0] += value * steps
                entry[1] += steps

    def _values_text(self) -> str:
        parts = []
        for name in self._values_order:
            total, count = self._values[name]
            value = total if count == 1 else total / count
            parts.append(f" - {name}:{_format_value(value)}")
        return "".join(parts)

    def _time_per_step(self, current: int, now: float) -> float:
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        return (now - self._start) / current

    def _draw_bar(self, current: int, now: float, finalize: bool) -> None:
        target = self.target
        if target is not None:
            digits = len(str(target))
            bar = f"{current:{digits}d}/{target} ["
            fraction = min(current / target, 1.0) if target else 1.0
            done = int(self.width * fraction)
            if done > 0:
                bar += "=" * (done - 1) + (">" if current < target else "=")
            bar += "." * (self.width - done) + "]"
        else:
            bar = f"{current:7d}/Unknown"

        per_step = self._time_per_step(current, now)
        if target is None or finalize:
            info = f" - {now - self._start:.0f}s" + _format_time(per_step, self.unit_name)
        else:
            info = " - ETA: " + _format_eta(per_step * (target - current))
        info += self._values_text()

        line = bar + info
        if self._dynamic_display:
            # Blank out what is left of a longer previous line.
            pad = " " * max(self._total_width - len(line), 0)
            self._total_width = len(line)
            message = "\r" + line + pad
        else:
            message = line
        if finalize:
            message += "\n"
        io_utils.write(message, self.stream)

    def _draw_line(self, current: int, now: float) -> None:
        if self.target is not None:
            count = f"{current:{len(str(self.target))}d}/{self.target}"
        else:
            count = f"{current}/Unknown"
        line = f"{count} - {now - self._start:.0f}s" + self._values_text() + "\n"
        io_utils.write(line, self.stream)

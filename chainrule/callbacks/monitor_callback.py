"""The shared part of the callbacks that watch one metric for improvement.

:class:`~chainrule.callbacks.EarlyStopping`, :class:`~chainrule.callbacks.ReduceLROnPlateau`
and :class:`~chainrule.callbacks.ModelCheckpoint` build on it.
"""

from __future__ import annotations

import numpy as np

from chainrule.callbacks._utils import check_mode, check_real
from chainrule.callbacks.callback import Callback

# Metric names (without ``val_``) that grow as the model gets better.
_MAXIMIZED_PARTS = ("acc", "auc", "precision", "recall", "f1", "fbeta", "iou")
_MAXIMIZED_NAMES = ("cosine_similarity", "true_positives", "true_negatives")


def _infer_maximize(monitor: str) -> bool:
    """Whether ``mode='auto'`` should maximize ``monitor``; losses and errors are minimized."""
    name = monitor.removeprefix("val_").lower()
    if name.endswith("loss"):
        return False
    return (
        any(part in name for part in _MAXIMIZED_PARTS)
        or name.startswith("r2")
        or name in _MAXIMIZED_NAMES
    )


class _MonitorCallback(Callback):
    """Shared part of callbacks that watch one metric for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.mode = check_mode(mode)
        self.min_delta = abs(check_real("min_delta", min_delta))
        maximize = _infer_maximize(monitor) if mode == "auto" else mode == "max"
        #: np.greater when larger is better, np.less otherwise (as in Keras).
        self.monitor_op = np.greater if maximize else np.less
        self.best: float | None = None

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        """Whether ``current`` beats ``reference`` by more than ``min_delta``."""
        if reference is None:
            return True
        if self.monitor_op is np.greater:
            return bool(current - self.min_delta > reference)
        return bool(current + self.min_delta < reference)

"""The one place chainrule.plot imports matplotlib (lazily), makes figures and saves them.

Figures are :class:`matplotlib.figure.Figure` objects created directly, not
through ``pyplot``: nothing opens a window, nothing depends on the display or
the configured backend, and the caller gets the figure to show, save or close.
In a notebook, a returned figure displays inline.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["require", "new_figure", "finish"]

_HINT = 'chainrule.plot needs matplotlib, the optional "plot" extra: pip install "chainrule[plot]"'


def require() -> Any:
    """Import and return matplotlib, or raise an ImportError naming the extra to install."""
    try:
        import matplotlib  # noqa: PLC0415
        import matplotlib.figure  # noqa: F401, PLC0415
    except ImportError as e:
        raise ImportError(f"{_HINT} (import failed: {e}).") from None
    return matplotlib


def new_figure(width: float, height: float) -> Any:
    """A new Figure of ``width`` x ``height`` inches with a constrained layout."""
    mpl = require()
    return mpl.figure.Figure(figsize=(width, height), layout="constrained", dpi=100)


def finish(fig: Any, path: Any) -> Any:
    """Save ``fig`` as a PNG at ``path`` (folders created) when a path is given; return ``fig``."""
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike) or None. "
                            f"Received: path of type {type(path).__name__}")
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(os.fspath(path), dpi=100)
    return fig

"""Where chainrule's messages go: the terminal, or Python's ``logging`` (Keras's io_utils).

With interactive logging on (the default), progress bars and callback messages are
written to ``sys.stdout``. Turned off, each finished line goes to the ``"chainrule"``
logger at level INFO instead, and bars are not redrawn in place: what a
non-interactive job (a scheduler, a service) wants in its logs.

Example:
    >>> from chainrule.utils import io_utils
    >>> io_utils.is_interactive_logging_enabled()
    True
"""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["enable_interactive_logging", "disable_interactive_logging",
           "is_interactive_logging_enabled", "print_msg", "write"]

logger = logging.getLogger("chainrule")
_state = {"interactive": True}


def enable_interactive_logging() -> None:
    """Write progress bars and messages to ``sys.stdout`` (the default).

    Example:
        >>> enable_interactive_logging(); is_interactive_logging_enabled()
        True
    """
    _state["interactive"] = True


def disable_interactive_logging() -> None:
    """Send progress lines and messages to the ``"chainrule"`` logger (INFO) instead.

    Example:
        >>> disable_interactive_logging(); is_interactive_logging_enabled()
        False
        >>> enable_interactive_logging()
    """
    _state["interactive"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether messages go to ``sys.stdout`` (True) or to ``logging`` (False)."""
    return _state["interactive"]


def write(text: str, stream: Any = None) -> None:
    """Write ``text`` to ``stream``; with no stream, to stdout or the logger (see above).

    Args:
        text: the text, with its own line breaks.
        stream: a file-like object; None follows the interactive-logging switch.
    """
    if stream is None and not _state["interactive"]:
        line = text.strip("\r\n")
        if line:
            logger.info(line)
        return
    out = stream if stream is not None else sys.stdout
    out.write(text)
    out.flush()


def print_msg(message: Any, line_break: bool = True) -> None:
    """Print one message (Keras's ``io_utils.print_msg``), honouring the switch.

    Args:
        message: the message (converted with ``str``).
        line_break: end it with a new line.

    Example:
        >>> print_msg("epoch done")
        epoch done
    """
    write(str(message) + ("\n" if line_break else ""))

"""RemoteMonitor: post each epoch's logs to a server (Keras's ``keras.callbacks.RemoteMonitor``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

import numpy as np

from chainrule.callbacks.callback import Callback, Logs

__all__ = ["RemoteMonitor"]


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    """One HTTP POST (the standard library's; no extra dependency)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()


class RemoteMonitor(Callback):
    """Send ``{"epoch": k, **logs}`` to ``root + path`` with an HTTP POST after each epoch.

    As in Keras, the JSON goes in the form field ``field``
    (``application/x-www-form-urlencoded``), or, with ``send_as_json=True``, as the
    request body (``application/json``). A server that cannot be reached gives a
    warning, not an error. chainrule posts with Python's ``urllib`` (Keras needs the
    ``requests`` package).

    Args:
        root: the server's root URL (``http`` or ``https``).
        path: the path under ``root`` the events go to.
        field: the form field holding the JSON (form posts only).
        headers: extra HTTP headers.
        send_as_json: send the JSON as the body.
        timeout: seconds to wait for the server (chainrule's addition; Keras waits
            without limit).

    Raises:
        ValueError: for a ``root`` that is not an http(s) URL.

    Example:
        >>> import chainrule as cr
        >>> monitor = cr.callbacks.RemoteMonitor(root="http://localhost:9000")
        >>> monitor.root + monitor.path
        'http://localhost:9000/publish/epoch/end/'
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict[str, str] | None = None,
                 send_as_json: bool = False, timeout: float = 10.0) -> None:
        super().__init__()
        if not isinstance(root, str) or urllib.parse.urlsplit(root).scheme not in ("http",
                                                                                   "https"):
            raise ValueError("RemoteMonitor: root must be an http:// or https:// URL. "
                             f"Received: root={root!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = bool(send_as_json)
        self.timeout = timeout

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Posts the epoch number and the epoch's logs."""
        send: dict[str, Any] = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            _post(self.root + self.path, body, headers, self.timeout)
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)

"""Keras 3's top-level helpers: ``keras.version()`` and ``keras.device(...)``.

Example:
    >>> import chainrule as cr
    >>> cr.version() == cr.__version__
    True
    >>> with cr.device("cpu:0"):
    ...     y = cr.ops.add(1.0, 2.0)
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator

from chainrule import backend
from chainrule._version import __version__

__all__ = ["version", "device"]

_DEVICE = re.compile(r"^(cpu|gpu|cuda)(?::(\d+))?$")


def version() -> str:
    """Return chainrule's version string (``keras.version()``).

    Example:
        >>> isinstance(version(), str)
        True
    """
    return __version__


@contextlib.contextmanager
def device(device_name: str) -> Iterator[None]:
    """Run the block on a device (``keras.device``).

    With the NumPy backend everything runs on the CPU and, as Keras's NumPy backend
    does, the scope changes nothing. With the CuPy backend, ``"gpu:N"`` (or
    ``"cuda:N"``) makes GPU ``N`` the current CuPy device inside the block; ``"cpu"``
    does not move CuPy arrays to the host.

    Args:
        device_name: ``"cpu"``, ``"gpu"`` or ``"cuda"``, optionally with ``":index"``
            (case-insensitive), e.g. ``"gpu:0"``.

    Raises:
        ValueError: for any other value.

    Example:
        >>> with device("gpu:0"):
        ...     pass
    """
    m = _DEVICE.match(device_name.lower()) if isinstance(device_name, str) else None
    if m is None:
        raise ValueError("Invalid value for argument `device_name`. Expected a string like "
                         f"'cpu', 'gpu:0' or 'cuda:1'. Received: device_name={device_name!r}")
    if backend.get_backend() == "cupy" and m.group(1) in ("gpu", "cuda"):  # pragma: no cover
        with backend.xp.cuda.Device(int(m.group(2) or 0)):
            yield
    else:
        yield

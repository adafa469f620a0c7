"""Keras 3's global switches (``keras.config``): image layout, debugging caps, flags.

Example:
    >>> from chainrule.backend import settings
    >>> settings.image_data_format()
    'channels_last'
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["image_data_format", "set_image_data_format", "max_epochs", "set_max_epochs",
           "max_steps_per_epoch", "set_max_steps_per_epoch", "enable_traceback_filtering",
           "disable_traceback_filtering", "is_traceback_filtering_enabled",
           "enable_flash_attention", "disable_flash_attention", "is_flash_attention_enabled",
           "is_nnx_enabled"]

_FORMATS = ("channels_last", "channels_first")
_state: dict[str, Any] = {"image_data_format": "channels_last", "traceback_filtering": True,
                          "flash_attention": None}


def image_data_format() -> str:
    """The default layout of images: ``'channels_last'`` (Keras's default) or ``'channels_first'``.

    Layers and ops whose ``data_format`` is None use it.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return _state["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the layout that layers with ``data_format=None`` use from now on.

    Args:
        data_format: ``'channels_last'`` or ``'channels_first'`` (any case).

    Raises:
        ValueError: for any other value.

    Example:
        >>> set_image_data_format("channels_first"); image_data_format()
        'channels_first'
        >>> set_image_data_format("channels_last")
    """
    value = str(data_format).lower()
    if value not in _FORMATS:
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format!r}")
    _state["image_data_format"] = value


def _check_cap(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer or None. "
                         f"Received: {name}={value!r}")
    return int(value)


def _env_cap(var: str, name: str) -> int | None:
    raw = os.environ.get(var)
    if not raw:
        return None
    try:
        return _check_cap(int(raw), name)
    except ValueError:
        raise ValueError(f"The environment variable {var} must be a positive integer. "
                         f"Received: {var}={raw!r}") from None


def max_epochs() -> int | None:
    """The cap on ``fit``'s epochs (None: no cap); ``KERAS_MAX_EPOCHS`` sets it at import."""
    return _state["max_epochs"]


def set_max_epochs(max_epochs: int | None) -> None:
    """Cap the number of epochs of every ``fit`` (a debugging aid, as in Keras).

    ``fit`` warns ``Limiting epochs to N`` and trains at most ``N`` epochs.

    Args:
        max_epochs: a positive integer, or None for no cap.

    Example:
        >>> set_max_epochs(2); max_epochs()
        2
        >>> set_max_epochs(None)
    """
    _state["max_epochs"] = _check_cap(max_epochs, "max_epochs")


def max_steps_per_epoch() -> int | None:
    """The cap on steps per epoch of ``fit``, ``evaluate`` and ``predict`` (None: no cap)."""
    return _state["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Cap the batches of each epoch of ``fit`` (and of ``evaluate``/``predict``).

    A debugging aid, as in Keras: a warning ``Limiting steps_per_epoch to N``, then at
    most ``N`` batches. ``KERAS_MAX_STEPS_PER_EPOCH`` sets it at import.

    Args:
        max_steps_per_epoch: a positive integer, or None for no cap.

    Example:
        >>> set_max_steps_per_epoch(3); max_steps_per_epoch()
        3
        >>> set_max_steps_per_epoch(None)
    """
    _state["max_steps_per_epoch"] = _check_cap(max_steps_per_epoch, "max_steps_per_epoch")


def enable_traceback_filtering() -> None:
    """Record that tracebacks may be filtered (Keras's default).

    chainrule's tracebacks hold chainrule's frames whatever the switch says: it filters
    nothing, and errors name the layer or argument at fault instead.
    """
    _state["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Record that tracebacks must show every frame (which chainrule's always do)."""
    _state["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    """The switch's state (True by default, as in Keras).

    Example:
        >>> disable_traceback_filtering(); is_traceback_filtering_enabled()
        False
        >>> enable_traceback_filtering()
    """
    return _state["traceback_filtering"]


def enable_flash_attention() -> None:
    """Record a request for flash attention.

    chainrule has no flash-attention kernel: attention layers compute the same
    softmax attention whatever the switch says (the flag is kept for code that reads it).
    """
    _state["flash_attention"] = True


def disable_flash_attention() -> None:
    """Record that flash attention must not be used (chainrule never uses it)."""
    _state["flash_attention"] = False


def is_flash_attention_enabled() -> bool | None:
    """The flash-attention switch: None (unset, Keras's default), True or False.

    Example:
        >>> is_flash_attention_enabled() is None
        True
    """
    return _state["flash_attention"]


def is_nnx_enabled() -> bool:
    """False: chainrule does not run on JAX, so Flax NNX is never in use."""
    return False


_state["max_epochs"] = _env_cap("KERAS_MAX_EPOCHS", "max_epochs")
_state["max_steps_per_epoch"] = _env_cap("KERAS_MAX_STEPS_PER_EPOCH", "max_steps_per_epoch")

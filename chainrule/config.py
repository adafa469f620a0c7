"""Global settings: the float policy, the fuzz factor, chainrule's threads and fused kernels,
and Keras 3's ``keras.config`` switches.

Example:
    >>> import chainrule
    >>> chainrule.config.floatx(), chainrule.config.image_data_format()
    ('float32', 'channels_last')
"""

from chainrule.backend import backend, epsilon, floatx, set_epsilon, set_floatx
from chainrule.backend.compiled import fused_kernels, set_fused_kernels

# Keras 3's keras.config names
from chainrule.backend.settings import (  # noqa: E402
    disable_flash_attention,
    disable_traceback_filtering,
    enable_flash_attention,
    enable_traceback_filtering,
    image_data_format,
    is_flash_attention_enabled,
    is_nnx_enabled,
    is_traceback_filtering_enabled,
    max_epochs,
    max_steps_per_epoch,
    set_image_data_format,
    set_max_epochs,
    set_max_steps_per_epoch,
)
from chainrule.dtype_policies import dtype_policy, set_dtype_policy  # noqa: E402
from chainrule.parallel import get_num_threads, set_num_threads
from chainrule.utils.io_utils import (  # noqa: E402
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

__all__ = ["floatx", "set_floatx", "epsilon", "set_epsilon", "get_num_threads", "set_num_threads",
           "fused_kernels", "set_fused_kernels",
           "backend", "image_data_format", "set_image_data_format", "max_epochs", "set_max_epochs",
           "max_steps_per_epoch", "set_max_steps_per_epoch", "enable_traceback_filtering",
           "disable_traceback_filtering", "is_traceback_filtering_enabled",
           "enable_flash_attention", "disable_flash_attention", "is_flash_attention_enabled",
           "is_nnx_enabled", "dtype_policy", "set_dtype_policy", "enable_interactive_logging",
           "disable_interactive_logging", "is_interactive_logging_enabled"]

# -- Keras 3's keras.config.enable_unsafe_deserialization --
_UNSAFE = {"enabled": False}


def enable_unsafe_deserialization() -> None:
    """Keras's switch that lets ``load_model`` rebuild Python lambdas from a file.

    Keras stores a ``Lambda`` layer's lambda as bytecode and refuses to load it
    unless safe mode is off; this call turns safe mode off for the rest of the
    process. chainrule never stores or runs code from a file (a ``Lambda``
    layer is saved with its function's registered name only), so there is no
    unsafe deserialization to enable: the call is accepted and recorded
    and loading stays exactly as safe as before, whatever ``safe_mode`` says.

    Example:
        >>> import chainrule as cr
        >>> cr.config.enable_unsafe_deserialization()
        >>> cr.config._unsafe_deserialization_enabled()
        True
    """
    _UNSAFE["enabled"] = True


def _unsafe_deserialization_enabled() -> bool:
    """Whether :func:`enable_unsafe_deserialization` was called (it changes no loading)."""
    return _UNSAFE["enabled"]


__all__ += ["enable_unsafe_deserialization"]
# -- end of enable_unsafe_deserialization --
# -- Keras 3's keras.config.set_backend --


def set_backend(backend: str) -> None:
    """Select the backend, as Keras's ``keras.config.set_backend`` does.

    chainrule's backends are its array libraries, ``"numpy"`` and ``"cupy"``
    (:func:`chainrule.backend.set_backend`); any other name (``"tensorflow"``, ``"jax"``,
    ``"torch"``, ...) is refused with Keras's error for a backend it cannot import. As in
    Keras, objects made before the switch are not converted (a warning says so): build
    models after choosing the backend.

    Args:
        backend: ``"numpy"`` or ``"cupy"``.

    Raises:
        ValueError: for any other backend.
        ImportError: for ``"cupy"`` without CuPy installed.

    Example:
        >>> import warnings
        >>> import chainrule as cr
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     cr.config.set_backend("numpy")
        >>> cr.backend.get_backend()
        'numpy'
    """
    import warnings  # noqa: PLC0415

    from chainrule import backend as _backend  # noqa: PLC0415

    if not isinstance(backend, str) or backend.lower() not in _backend._BACKENDS:
        raise ValueError(f"Unable to import backend : {backend} (chainrule's backends are "
                         f"{', '.join(repr(b) for b in _backend._BACKENDS)}). "
                         f"Received: backend={backend!r}")
    _backend.set_backend(backend)
    warnings.warn("Using `keras.config.set_backend` is dangerous and should be done carefully. "
                  "Already-instantiated objects will not be converted: tensors, layers and "
                  "models created before calling `set_backend()` keep the arrays they hold. "
                  "Create them again after choosing the backend.", stacklevel=2)


__all__ += ["set_backend"]
# -- end of set_backend --

"""``Lambda``: a function of tensors used as a layer (Keras 3's ``keras.layers.Lambda``)."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, Sequence

from chainrule.layers.base import Layer

__all__ = ["Lambda"]


class Lambda(Layer):
    """Wrap a function of tensors as a layer: ``Lambda(lambda x: x * 2)``.

    The function is called as ``function(inputs, **arguments)``, with ``mask=``
    and ``training=`` added when its signature names them. It must compute with
    ``chainrule.ops`` (or operators on tensors), like any layer's ``call``, so
    gradients flow through it and a compiled model can replay it. The output
    shape is found by running the function, as Keras does when
    ``output_shape`` is None.

    Saving: a model with a ``Lambda`` is saved with its function's *name* only;
    chainrule never stores or runs code from a file. A named function (``def``)
    registered with :func:`chainrule.saving.register_keras_serializable` (or
    passed in ``custom_objects`` when loading) round-trips; saving a Python
    ``lambda`` raises ``ValueError`` (Keras stores its bytecode and loads it
    with ``safe_mode=False``).

    Args:
        function: the function of the input tensor(s).
        output_shape: the output shape without the batch axis, kept in the
            config for Keras compatibility (the shape comes from running the
            function).
        mask: None, a function ``mask(inputs, input_mask)`` giving the output's
            mask, or a fixed mask.
        arguments: optional keyword arguments passed to ``function``.
        **kwargs: the base layer's (``name``, ``trainable``, ``dtype``).

    Input shape: whatever ``function`` accepts. Output shape: what it returns.

    Raises:
        TypeError: if ``function`` is not callable or ``arguments`` is not a dict.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.Input((3,)), cr.layers.Lambda(lambda x: x * 2)])
        >>> model.predict(cr.ops.ones((2, 3)), verbose=0).tolist()
        [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
        >>> cr.layers.Lambda(cr.ops.sum, arguments={"axis": -1})(cr.ops.ones((2, 3))).shape
        (2,)
    """

    def __init__(self, function: Callable, output_shape: Sequence[int] | None = None,
                 mask: Any = None, arguments: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f'Layer "{self.name}" (Lambda): function must be callable. '
                            f"Received: function={function!r:.80}")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise TypeError(f'Layer "{self.name}" (Lambda): arguments must be a dict of keyword '
                            f"arguments for the function. Received: arguments={arguments!r:.80}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.output_shape_arg = None if output_shape is None else output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            params = {}
        self._fn_expects_mask_arg = "mask" in params
        self._fn_expects_training_arg = "training" in params

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output's mask: ``mask(inputs, input_mask)`` when ``mask`` is a function,
        else the fixed ``mask`` given to the constructor."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self) -> dict:
        """The config, with the function (and a mask function) by registered name.

        Raises:
            ValueError: if the function (or mask) is a Python ``lambda`` or a fixed
                mask tensor: chainrule never stores code in a file.
        """
        from chainrule.saving import serialize_keras_object  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "function": self._function_name(self.function, "function"),
            "output_shape": (None if self.output_shape_arg is None
                             else serialize_keras_object(self.output_shape_arg)),
            "arguments": serialize_keras_object(self.arguments),
            "mask": None if self.mask is None else self._function_name(self.mask, "mask"),
        })
        return config

    def _function_name(self, fn: Any, what: str) -> Any:
        from chainrule.saving import serialize_keras_object  # noqa: PLC0415

        name = getattr(fn, "__name__", None)
        if not callable(fn) or name is None or name == "<lambda>":
            raise ValueError(
                f'Layer "{self.name}" (Lambda): its {what} cannot be saved: chainrule saves a '
                "function by its name only and never stores code in a file. Define it with "
                "`def`, register it with @chainrule.saving.register_keras_serializable(), and "
                f"load with it registered (or in custom_objects). Received: {what}={fn!r:.80}")
        try:
            return serialize_keras_object(fn)
        except (TypeError, ValueError):
            return name

    @classmethod
    def from_config(cls, config: dict) -> "Lambda":
        """Rebuild from :meth:`get_config`'s output; the function is looked up by name among
        registered objects, ``custom_objects`` and chainrule's activations."""
        from chainrule.saving import deserialize_keras_object  # noqa: PLC0415

        config = dict(config)
        config["function"] = deserialize_keras_object(config["function"])
        if config.get("mask") is not None:
            config["mask"] = deserialize_keras_object(config["mask"])
        return cls(**config)

"""Keras 3's distillation losses: ``DistillationLoss``, ``LogitsDistillation``,
``FeatureDistillation``.

A distillation loss compares a teacher's outputs (or the outputs of one of its
layers) with a student's and returns one scalar; :class:`~chainrule.distillation.Distiller`
weighs and adds them. Every loss is written with chainrule's ops and losses, so its
gradient reaches the student.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> teacher = np.array([[2.0, 0.0, -1.0]], "float32")
    >>> loss = cr.distillation.LogitsDistillation(temperature=2.0,
    ...                                           loss=cr.losses.KLDivergence())
    >>> float(loss.compute_loss(teacher, teacher))
    0.0
"""

from __future__ import annotations

from typing import Any

from chainrule import ops, tree

__all__ = ["DistillationLoss", "FeatureDistillation", "LogitsDistillation", "serialize",
           "deserialize"]


def _convert_loss(item: Any) -> Any:
    """A loss name as the function Keras's ``losses.get`` gives; objects and None as they are."""
    if isinstance(item, str):
        from chainrule import losses  # noqa: PLC0415

        return losses.get(item)
    return item


def _losses(loss: Any, what: str) -> Any:
    converted = tree.map_structure(_convert_loss, loss) if loss is not None else None
    if all(v is None for v in tree.flatten(converted)):
        raise ValueError(f"{what}: loss must contain at least one loss that is not None. "
                         f"Received: loss={loss!r}")
    return converted


def _serialize_loss(loss: Any) -> Any:
    from chainrule import losses  # noqa: PLC0415

    if loss is None:
        return None
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    return losses.serialize(loss)


def _deserialize_loss(config: Any) -> Any:
    from chainrule import losses  # noqa: PLC0415

    if config is None:
        return None
    if isinstance(config, list):
        return [_deserialize_loss(v) for v in config]
    if isinstance(config, dict) and "class_name" not in config:
        return {k: _deserialize_loss(v) for k, v in config.items()}
    return losses.deserialize(config)


def _sum(values: list) -> Any:
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total if hasattr(total, "shape") else ops.convert_to_tensor(float(total))


class DistillationLoss:
    """The base of the distillation losses (Keras's ``keras.distillation.DistillationLoss``).

    Subclass it and write :meth:`compute_loss`; :meth:`validate_outputs` and
    :meth:`validate_model_compatibility` may check the models and outputs first.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> class MeanGap(cr.distillation.DistillationLoss):
        ...     def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        ...         return cr.ops.mean(cr.ops.abs(teacher_outputs - student_outputs))
        >>> float(MeanGap().compute_loss(np.ones(3), np.zeros(3)))
        1.0
    """

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        """The scalar loss between teacher and student outputs (subclasses write it).

        Raises:
            NotImplementedError: in the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement compute_loss("
                                  "teacher_outputs, student_outputs, **kwargs). Received: "
                                  "the base class's method")

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        """Check that the teacher's and the student's outputs have the same structure.

        Raises:
            ValueError: for different structures.
        """
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        """Check that the models suit this loss (the base class accepts any)."""

    def get_config(self) -> dict:
        """The loss's arguments (subclasses with arguments write it)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> DistillationLoss:
        """The loss made from :meth:`get_config`'s output."""
        return cls(**config)


class FeatureDistillation(DistillationLoss):
    """Match the student's features to the teacher's (Keras's ``FeatureDistillation``).

    The features are the outputs of the layers named ``teacher_layer_name`` and
    ``student_layer_name`` (functional or Sequential models), or the models' final
    outputs when a name is None. The loss is ``mean(loss(teacher, student))``, summed
    over the outputs of a nested structure.

    Args:
        loss: a loss name (as ``losses.get`` gives it: the function, e.g.
            ``"mse"``, ``"cosine_similarity"``), a loss object, or a structure of them
            matching the outputs, None entries skipping an output. Default ``"mse"``.
        teacher_layer_name: the teacher's layer whose output is compared.
        student_layer_name: the student's layer whose output is compared.

    Raises:
        ValueError: when every loss is None.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> loss = cr.distillation.FeatureDistillation("mse")
        >>> float(loss.compute_loss(np.array([[1.0, 3.0]]), np.array([[1.0, 1.0]])))
        2.0
    """

    def __init__(self, loss: Any = "mse", teacher_layer_name: str | None = None,
                 student_layer_name: str | None = None) -> None:
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = _losses(loss, "FeatureDistillation")

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        """Layer names need models with symbolic inputs, and the named layers must exist.

        Raises:
            ValueError: for a subclassed model with a layer name, or an unknown layer.
        """
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [role for role, m in (("teacher", teacher), ("student", student))
                          if getattr(m, "inputs", None) is None]
            if subclassed:
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(subclassed)} model(s) appear to be "
                    "subclassed (no symbolic inputs/outputs). Either use Functional/Sequential "
                    "models, or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead. Received: "
                    f"teacher_layer_name={self.teacher_layer_name!r}, "
                    f"student_layer_name={self.student_layer_name!r}")
        for role, model, name in (("teacher", teacher, self.teacher_layer_name),
                                  ("student", student, self.student_layer_name)):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as e:
                    raise ValueError(f"In {role} model: {e}") from None

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        """Check the outputs' structures against each other and against ``loss``.

        Raises:
            ValueError: for mismatched structures.
        """
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except (ValueError, TypeError) as e:
            raise ValueError(f"FeatureDistillation: the loss structure must match the "
                             f"outputs' structure. Received: {e}") from None

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        """``mean(loss(teacher, student))`` per output, summed (a scalar Tensor)."""
        def apply(fn: Any, teacher: Any, student: Any) -> Any:
            return 0.0 if fn is None else ops.mean(fn(teacher, student))

        return _sum(tree.flatten(tree.map_structure(apply, self.loss, teacher_outputs,
                                                    student_outputs)))

    def get_config(self) -> dict:
        """``loss`` (serialized), ``teacher_layer_name`` and ``student_layer_name``."""
        return {"loss": _serialize_loss(self.loss), "teacher_layer_name": self.teacher_layer_name,
                "student_layer_name": self.student_layer_name}

    @classmethod
    def from_config(cls, config: dict) -> FeatureDistillation:
        """The loss made from :meth:`get_config`'s output."""
        config = dict(config)
        config["loss"] = _deserialize_loss(config["loss"])
        return cls(**config)


class LogitsDistillation(DistillationLoss):
    """Match the student's logits to the teacher's, softened by a temperature (Keras's).

    Both models' outputs are divided by ``temperature``. With a
    :class:`~chainrule.losses.KLDivergence` object, the loss is
    ``temperature**2 * mean(KL(softmax(teacher / T), softmax(student / T)))`` (Hinton
    et al.'s distillation loss). Any other loss (including the default name
    ``"kl_divergence"``, which Keras turns into the plain function) is applied to the
    scaled logits directly, ``mean(loss(teacher / T, student / T))``, exactly as Keras
    does.

    Args:
        temperature: a positive number (default 3.0).
        loss: a loss name, object, or a structure of them matching the outputs (None
            entries skip an output). Default ``"kl_divergence"``.

    Raises:
        ValueError: for a temperature that is not a positive number, or no loss.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> loss = cr.distillation.LogitsDistillation(2.0, loss=cr.losses.KLDivergence())
        >>> t, s = np.array([[2.0, 0.0]]), np.array([[0.0, 2.0]])
        >>> round(float(loss.compute_loss(t, s)), 4)
        1.8485
    """

    def __init__(self, temperature: float = 3.0, loss: Any = "kl_divergence") -> None:
        self.temperature = temperature
        self.loss = _losses(loss, "LogitsDistillation")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
                or temperature <= 0:
            raise ValueError("LogitsDistillation: temperature must be a positive number. "
                             f"Received: temperature={temperature!r}")

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        """The loss of the temperature-scaled logits, summed over outputs (a scalar)."""
        from chainrule import losses  # noqa: PLC0415

        t = self.temperature
        teacher = tree.map_structure(lambda x: ops.divide(x, t), teacher_outputs)
        student = tree.map_structure(lambda x: ops.divide(x, t), student_outputs)

        def apply(fn: Any, teacher_logits: Any, student_logits: Any) -> Any:
            if fn is None:
                return 0.0
            if isinstance(fn, losses.KLDivergence):
                value = ops.mean(fn(ops.softmax(teacher_logits, axis=-1),
                                    ops.softmax(student_logits, axis=-1)))
                return value * (t ** 2)
            return ops.mean(fn(teacher_logits, student_logits))

        return _sum(tree.flatten(tree.map_structure(apply, self.loss, teacher, student)))

    def get_config(self) -> dict:
        """``temperature`` and ``loss`` (serialized)."""
        return {"temperature": self.temperature, "loss": _serialize_loss(self.loss)}

    @classmethod
    def from_config(cls, config: dict) -> LogitsDistillation:
        """The loss made from :meth:`get_config`'s output."""
        config = dict(config)
        config["loss"] = _deserialize_loss(config["loss"])
        return cls(**config)


_CLASSES = {"DistillationLoss": DistillationLoss, "FeatureDistillation": FeatureDistillation,
            "LogitsDistillation": LogitsDistillation}


def serialize(loss: DistillationLoss) -> dict:
    """A distillation loss as Keras writes it: ``{"module": "keras.distillation", ...}``.

    Example:
        >>> import chainrule as cr
        >>> serialize(cr.distillation.LogitsDistillation())["config"]["temperature"]
        3.0
    """
    from chainrule._registry import get_registered_name  # noqa: PLC0415

    cls = type(loss)
    registered = get_registered_name(cls)
    own = _CLASSES.get(cls.__name__) is cls
    return {"module": "keras.distillation" if own else cls.__module__,
            "class_name": cls.__name__, "config": loss.get_config(),
            "registered_name": None if own else registered}


def deserialize(config: Any, custom_objects: dict | None = None) -> DistillationLoss:
    """A distillation loss from :func:`serialize`'s output (Keras's files too); classes of
    your own come from ``custom_objects`` or ``register_keras_serializable``.

    Raises:
        ValueError: for a class that is not known.

    Example:
        >>> import chainrule as cr
        >>> loss = deserialize(serialize(cr.distillation.FeatureDistillation("mae")))
        >>> type(loss).__name__
        'FeatureDistillation'
    """
    if isinstance(config, DistillationLoss):
        return config
    from chainrule._registry import get_registered_object  # noqa: PLC0415

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("A distillation loss config must be a dict with 'class_name' and "
                         f"'config'. Received: {config!r:.200}")
    cls = None
    for name in (config.get("registered_name"), config["class_name"]):
        if name:
            found = get_registered_object(name, custom_objects)
            if isinstance(found, type) and issubclass(found, DistillationLoss):
                cls = found
                break
    cls = cls or _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown distillation loss {config['class_name']!r}: known are "
                         f"{sorted(_CLASSES)}; pass your own classes in custom_objects. "
                         f"Received: class_name={config['class_name']!r}")
    return cls.from_config(dict(config.get("config") or {}))

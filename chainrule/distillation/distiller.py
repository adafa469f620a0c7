"""Keras 3's ``Distiller``: a model that trains a student from a frozen teacher.

The distiller's call is the student's; its loss (``compute_loss``) is Keras's::

    total = w * student_loss(y, y_pred) + (1 - w) * sum_i(weight_i * distillation_i)

with ``w = student_loss_weight`` and each distillation loss comparing the teacher's
outputs (or a named layer's) with the student's. The teacher runs in inference mode
and is frozen, so only the student's weights train. ``fit`` and ``evaluate`` report
``loss`` and the compiled metrics, then ``student_loss``, ``distillation_loss`` and
``total_loss`` (Keras's trackers). The step runs on the tape (it reads the inputs,
which the captured step does not hand to ``compute_loss``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops, tree
from chainrule.autograd.engine import Tensor
from chainrule.distillation import distillation_loss as dl
from chainrule.layers.serialization import register_layer_class
from chainrule.models.custom_steps import unpack_x_y_sample_weight
from chainrule.models.model import Model

__all__ = ["Distiller"]


def _scalar(value: Any) -> float:
    return float(value.numpy() if isinstance(value, Tensor) else np.asarray(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value,
                                                                                      bool)


class Distiller(Model):
    """Knowledge distillation from a teacher to a student (Keras's ``keras.distillation``).

    Args:
        teacher: a trained :class:`~chainrule.Model`; frozen (``trainable = False``).
        student: the :class:`~chainrule.Model` to train; after ``fit`` use it directly.
        distillation_losses: a :class:`~chainrule.distillation.DistillationLoss` or a list
            of them (``LogitsDistillation``, ``FeatureDistillation``, your own).
        distillation_loss_weights: one weight per distillation loss (default all 1.0).
        student_loss_weight: ``w`` in ``w * student_loss + (1 - w) * distillation``, in
            [0, 1] (default 0.5).
        name: the model's name (default ``"distiller"``).
        **kwargs: :class:`~chainrule.Model` arguments.

    Raises:
        ValueError: for models that are not chainrule models, with different input or
            output shapes or dtypes, a weight out of range, no distillation loss, or a
            number of weights that differs from the number of losses.

    Example:
        >>> import chainrule as cr
        >>> def mlp(units):
        ...     return cr.Sequential([cr.layers.Input((4,)), cr.layers.Dense(units),
        ...                           cr.layers.Dense(3)])
        >>> distiller = cr.distillation.Distiller(
        ...     mlp(8), mlp(2), cr.distillation.LogitsDistillation(temperature=3.0))
        >>> distiller.compile("adam", loss="sparse_categorical_crossentropy")
        >>> x, y = np.random.rand(8, 4), np.random.randint(0, 3, 8)
        >>> sorted(distiller.fit(x, y, epochs=1, verbose=0).history)
        ['distillation_loss', 'loss', 'student_loss', 'total_loss']
        >>> distiller.predict(x, verbose=0).shape
        (8, 3)
    """

    def __init__(self, teacher: Any, student: Any, distillation_losses: Any,
                 distillation_loss_weights: Any = None, student_loss_weight: float = 0.5,
                 name: str = "distiller", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._validate_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if not _is_number(student_loss_weight) or not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError("Distiller: student_loss_weight must be a number between 0.0 and "
                             f"1.0. Received: student_loss_weight={student_loss_weight!r}")
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError("Distiller: distillation_losses cannot be None. Provide a "
                             "distillation loss (e.g. LogitsDistillation or "
                             "FeatureDistillation) or a list of them. Received: "
                             "distillation_losses=None")
        if not isinstance(distillation_losses, (list, tuple)):
            losses, weights = [distillation_losses], [1.0]
        else:
            losses = list(distillation_losses)
            if distillation_loss_weights is None:
                weights = [1.0] * len(losses)
            else:
                weights = list(distillation_loss_weights)
                if len(weights) != len(losses):
                    raise ValueError(
                        f"Distiller: the number of distillation_loss_weights ({len(weights)}) "
                        f"must match the number of distillation_losses ({len(losses)}). "
                        f"Received: distillation_loss_weights={distillation_loss_weights!r}")
        for loss in losses:
            if not isinstance(loss, dl.DistillationLoss):
                raise ValueError("Distiller: each distillation loss must be a "
                                 "chainrule.distillation.DistillationLoss. Received: an "
                                 f"object of type {type(loss).__name__}")
            loss.validate_model_compatibility(teacher, student)
        self._distillation = (losses, weights)
        self._make_feature_extractors()
        self.teacher.trainable = False
        from chainrule.metrics import Mean  # noqa: PLC0415

        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")
        self.total_loss_tracker = Mean(name="total_loss")

    # the lists are plain attributes for the user (Keras's names), not tracked layers
    @property
    def distillation_losses(self) -> list:
        """The distillation losses, in order."""
        return self._distillation[0]

    @property
    def distillation_loss_weights(self) -> list:
        """The weight of each distillation loss."""
        return self._distillation[1]

    # -- checks ----------------------------------------------------------------------------
    @staticmethod
    def _validate_models(teacher: Any, student: Any) -> None:
        for role, model in (("teacher", teacher), ("student", student)):
            if not isinstance(model, Model):
                raise ValueError(f"Distiller: the {role} must be a chainrule Model. Received: "
                                 f"{role} of type {type(model).__name__}")
        t_in, s_in = getattr(teacher, "inputs", None), getattr(student, "inputs", None)
        t_out, s_out = getattr(teacher, "outputs", None), getattr(student, "outputs", None)
        for what, a, b in (("input", t_in, s_in), ("output", t_out, s_out)):
            if a is None or b is None:
                continue
            if len(a) != len(b):
                raise ValueError(f"Distiller: teacher and student must have the same number of "
                                 f"{what}s. Received: {len(a)} and {len(b)}")
            for ta, sb in zip(a, b):
                ts, ss = tuple(ta.shape), tuple(sb.shape)
                if len(ts) != len(ss) or any(
                        d1 is not None and d2 is not None and d1 != d2 for d1, d2 in zip(ts, ss)):
                    raise ValueError(f"Distiller: teacher and student {what} shapes are "
                                     f"incompatible; all dimensions must match. Received: "
                                     f"teacher {what} shape {ts}, student {what} shape {ss}")
                if str(ta.dtype) != str(sb.dtype):
                    raise ValueError(f"Distiller: teacher and student {what} dtypes must "
                                     f"match. Received: teacher {ta.dtype}, student "
                                     f"{sb.dtype}")

    # -- features --------------------------------------------------------------------------
    def _make_feature_extractors(self) -> None:
        """One model per side giving the final output and every named layer's output."""
        def names(attr: str) -> list:
            out: list = []
            for loss in self.distillation_losses:
                name = getattr(loss, attr, None)
                if name and name not in out:
                    out.append(name)
            return out

        extractors = []
        for model, layer_names in ((self.teacher, names("teacher_layer_name")),
                                   (self.student, names("student_layer_name"))):
            if not layer_names:
                extractors.append(None)
                continue
            if getattr(model, "inputs", None) is None:
                raise ValueError(f"Distiller: cannot extract features of model {model.name!r}: "
                                 "it has no symbolic inputs. Received: a subclassed model")
            final = model.outputs if len(model.outputs) > 1 else model.outputs[0]
            outputs = [final] + [model.get_layer(name=n).output for n in layer_names]
            extractor = Model(model.inputs, outputs,
                              name=f"{model.name}_multi_feature_extractor")
            extractors.append((extractor, ["final_output"] + layer_names))
        # not tracked as layers: they share the teacher's and the student's layers
        object.__setattr__(self, "_extractors", tuple(extractors))

    @staticmethod
    def _features(extractor: Any, x: Any, training: bool) -> dict:
        model, keys = extractor
        outs = model(x, training=training)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        n_final = len(outs) - (len(keys) - 1)
        final = outs[0] if n_final == 1 else outs[:n_final]
        return {"final_output": final, **dict(zip(keys[1:], outs[n_final:]))}

    # -- the model -------------------------------------------------------------------------
    def call(self, inputs: Any, training: Any = None) -> Any:
        """The student's outputs."""
        return self.student(inputs, training=training)

    def compile(self, optimizer: Any = "adam", loss: Any = None, metrics: Any = None,
                **kwargs: Any) -> None:
        """Compile for distillation: ``loss`` is the student's supervised loss.

        Args:
            optimizer: the optimizer of the student's weights (default ``"adam"``).
            loss: the student's loss (a name, function or ``Loss``, or a structure of them
                matching the outputs); required.
            metrics: a list of metrics of the student's outputs.
            **kwargs: other :meth:`~chainrule.Model.compile` arguments.

        Raises:
            ValueError: for no loss, or metrics that are not a list or tuple.
        """
        if loss is None:
            raise ValueError("Distiller.compile: loss (the student's loss) cannot be None. "
                             "Received: loss=None")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError("Distiller.compile: metrics must be a list or tuple. Received: "
                             f"metrics of type {type(metrics).__name__}")
        self._student_loss = tree.map_structure(dl._convert_loss, loss)
        self._student_loss_for_serialization = loss
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)
        self.loss = loss  # what a saved file's compile settings hold (the student's loss)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        """Keras's combined loss (see the module); ``sample_weight`` is unused, as in Keras.

        Also updates the ``student_loss``, ``distillation_loss`` and ``total_loss``
        trackers.

        Returns:
            The total loss, a scalar Tensor.
        """
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss: Any = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            values = tree.flatten(tree.map_structure(lambda fn, o, p: fn(o, p),
                                                     self._student_loss, y, y_pred))
            student_loss = dl._sum(values) if len(values) > 1 else values[0]
            if getattr(student_loss, "ndim", 0):
                student_loss = ops.mean(student_loss)
        distillation: Any = 0.0
        if self.student_loss_weight < 1.0:
            teacher_ex, student_ex = self._extractors
            if teacher_ex is not None:
                teacher_features = self._features(teacher_ex, x, False)
            else:
                teacher_features = {"final_output": self.teacher(x, training=False)}
            student_features = (self._features(student_ex, x, True) if student_ex is not None
                                else {"final_output": y_pred})
            for loss, weight in zip(*self._distillation):
                t_name = getattr(loss, "teacher_layer_name", None)
                if t_name is not None:
                    s_name = getattr(loss, "student_layer_name", None) or "final_output"
                    teacher_out, student_out = teacher_features[t_name], \
                        student_features[s_name]
                else:
                    teacher_out, student_out = teacher_features["final_output"], y_pred
                loss.validate_outputs(teacher_out, student_out)
                value = loss.compute_loss(teacher_out, student_out)
                if getattr(value, "ndim", 0):
                    raise ValueError(f"Distiller: distillation loss {type(loss).__name__} "
                                     "returned a non-scalar loss; compute_loss must return a "
                                     f"scalar. Received: a loss of shape {tuple(value.shape)}")
                distillation = distillation + weight * value
        w = self.student_loss_weight
        total = w * student_loss + (1.0 - w) * distillation
        if not isinstance(total, Tensor):
            total = ops.convert_to_tensor(float(total))
        self.student_loss_tracker.update_state(_scalar(student_loss))
        self.distillation_loss_tracker.update_state(_scalar(distillation))
        self.total_loss_tracker.update_state(_scalar(total))
        return total

    def _batch_size(self, x: Any) -> int:
        first = tree.flatten(x)[0]
        return int(first.shape[0])

    def train_step(self, data: Any) -> dict:
        """One distillation step: the student's outputs, the combined loss, its gradients
        with respect to the student's weights, an optimizer update; returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=True)
        self._loss_tracker.update_state(_scalar(loss), self._batch_size(x))
        loss.backward()
        pairs = [(w.grad, w) for w in self.trainable_weights if w.grad is not None]
        if pairs:
            self.optimizer.apply([g for g, _ in pairs], [w for _, w in pairs])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict:
        """The combined loss and the metrics of one batch, without training."""
        from chainrule.autograd.engine import no_grad  # noqa: PLC0415

        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=False)
        self._loss_tracker.update_state(_scalar(loss), self._batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def reset_metrics(self) -> None:
        """Reset every metric, the distillation trackers included."""
        super().reset_metrics()
        for tracker in (self.student_loss_tracker, self.distillation_loss_tracker,
                        self.total_loss_tracker):
            tracker.reset_state()

    # -- saving ----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's config: the teacher, the student and the distillation losses serialized,
        the loss weights and ``student_loss_weight``."""
        from chainrule.saving import serialize_keras_object  # noqa: PLC0415

        config = super().get_config()
        config.update({
            "teacher": serialize_keras_object(self.teacher),
            "student": serialize_keras_object(self.student),
            "distillation_losses": [dl.serialize(loss) for loss in self.distillation_losses],
            "distillation_loss_weights": list(self.distillation_loss_weights),
            "student_loss_weight": self.student_loss_weight,
        })
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Distiller:
        """The distiller made from :meth:`get_config`'s output (Keras's configs too)."""
        from chainrule.layers.serialization import deserialize  # noqa: PLC0415

        config = dict(config)
        if isinstance(config.get("dtype"), dict):  # Keras's dtype policy entry
            config.pop("dtype")
        for role in ("teacher", "student"):  # models: the layer registry knows Functional too
            spec = config[role]
            if isinstance(spec, Model):
                continue
            if isinstance(spec, dict) and str(spec.get("module") or "").startswith("keras"):
                from chainrule.saving.keras_archive import from_keras_config  # noqa: PLC0415

                spec = from_keras_config(spec, custom_objects, source=f"the {role}'s config")
            config[role] = deserialize(spec, custom_objects)
        config["distillation_losses"] = [dl.deserialize(c, custom_objects)
                                         for c in config["distillation_losses"]]
        return cls(**config)


register_layer_class(Distiller)

"""MultiOptimizer and OptimizerMap: a different optimizer for each group of weights (Keras 3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.loss_scale_optimizer import LossScaleOptimizer

__all__ = ["MultiOptimizer", "OptimizerMap"]


def _path(variable: Any) -> str:
    return str(getattr(variable, "path", None) or getattr(variable, "name", ""))


class OptimizerMap(MutableMapping):
    """Optimizers by weight path: exact keys first, then keys as regular expressions.

    A key matches a weight's path exactly, or as a regular expression that
    matches the whole path (``re.fullmatch``): ``"encoder/.*"`` covers every
    weight under ``encoder``. A path no key matches gets ``default_optimizer``.

    Args:
        default_optimizer: the :class:`Optimizer` of the weights no key matches.
        optimizer_map: an optional dict ``{path or pattern: Optimizer}``.

    Raises:
        TypeError: if ``default_optimizer`` is not an Optimizer or
            ``optimizer_map`` not a dict.

    Example:
        >>> from chainrule.optimizers import SGD, Adam, RMSprop
        >>> m = OptimizerMap(default_optimizer=RMSprop())
        >>> m["encoder/.*"] = SGD()
        >>> m["decoder"] = Adam()
        >>> m["decoder"].name, m["encoder/dense/kernel"].name, m["decoder/dense"].name
        ('adam', 'sgd', 'rmsprop')
    """

    def __init__(self, default_optimizer: Optimizer,
                 optimizer_map: Mapping[str, Optimizer] | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("Argument `default_optimizer` must be an Optimizer instance. "
                            f"Received: default_optimizer={default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError("Argument `optimizer_map` must be a dict {path or pattern: "
                            f"Optimizer}}. Received: optimizer_map={optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for key, opt in (optimizer_map or {}).items():
            self[key] = opt

    @property
    def default_optimizer(self) -> Optimizer:
        """The optimizer of the weights no key matches."""
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers are assigned to weight {key!r}: the patterns "
                             f"{matching} all match it. Received: key={key!r}")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"An OptimizerMap key must be a string (a weight path or a "
                             f"regular expression). Received: key={key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"{key!r} already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]!r}; use each key once. "
                             f"Received: key={key!r}")
        try:
            re.compile(key)
        except re.error as e:
            raise ValueError(f"An OptimizerMap key must be a valid regular expression ({e}). "
                             f"Received: key={key!r}") from None
        if not isinstance(optimizer, Optimizer):
            raise ValueError("An OptimizerMap value must be an Optimizer instance. "
                             f"Received: optimizer={optimizer!r}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(f"An OptimizerMap value cannot be a {type(optimizer).__name__}. "
                             f"Received: optimizer={optimizer!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: Any) -> Optimizer:
        """The optimizer of ``variable`` (looked up by its path)."""
        return self[_path(variable)]

    def get_config(self) -> dict[str, Any]:
        """``default_optimizer`` and ``optimizer_map``, each optimizer serialized (Keras's keys)."""
        from chainrule.optimizers import serialize  # noqa: PLC0415 - the registry imports us

        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any],
                    custom_objects: Mapping[str, Any] | None = None) -> OptimizerMap:
        """Create the map from :meth:`get_config`'s dict."""
        from chainrule.optimizers import deserialize  # noqa: PLC0415

        default = deserialize(config["default_optimizer"], custom_objects)
        return cls(default, {k: deserialize(v, custom_objects)
                             for k, v in (config.get("optimizer_map") or {}).items()})

    def __repr__(self) -> str:
        return (f"<OptimizerMap default={self._default_optimizer!r} "
                f"{ {k: v.name for k, v in self._optimizer_map.items()} }>")


class MultiOptimizer(Optimizer):
    """Updates each weight with its own optimizer (Keras 3's ``MultiOptimizer``).

    Each weight goes to the optimizer ``optimizer_map`` gives it: an
    :class:`OptimizerMap` (by path) or a function of the variable. Each inner
    optimizer keeps its own state and ``iterations``; the MultiOptimizer's own
    ``iterations`` counts its steps. It has no single learning rate: reading or
    setting ``learning_rate`` raises AttributeError (use ``optimizers``).

    Args:
        optimizer_map: an :class:`OptimizerMap`, or a function ``variable ->
            Optimizer`` (a model using one cannot be saved with its config).
        loss_scale_factor: set on every inner optimizer (the gradients are
            divided by it there).
        name: defaults to ``"multi_optimizer"``.

    Raises:
        TypeError: if ``optimizer_map`` is neither an OptimizerMap nor callable.

    Example:
        >>> from chainrule.layers import Variable
        >>> from chainrule.optimizers import SGD
        >>> a = Variable(np.ones(2), name="a"); b = Variable(np.ones(2), name="b")
        >>> opt = MultiOptimizer(OptimizerMap(SGD(0.1), {"b": SGD(1.0)}))
        >>> opt.apply([np.ones(2), np.ones(2)], [a, b])
        >>> a.numpy(), b.numpy(), int(opt.iterations)
        (array([0.9, 0.9]), array([0., 0.]), 1)
    """

    def __init__(self, optimizer_map: OptimizerMap | Callable[[Any], Optimizer],
                 loss_scale_factor: float | None = None, name: str | None = None) -> None:
        if not isinstance(optimizer_map, OptimizerMap) and not callable(optimizer_map):
            raise TypeError("Argument `optimizer_map` must be an OptimizerMap or a function "
                            "that returns the Optimizer of a variable. "
                            f"Received: optimizer_map={optimizer_map!r}")
        self._inner: list[Optimizer] = []
        super().__init__(learning_rate=1.0, loss_scale_factor=loss_scale_factor,
                         name=name or "multi_optimizer")
        self._optimizer_map = optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            for opt in [*optimizer_map.values(), optimizer_map.default_optimizer]:
                self._add(opt)
        self._assignment: list[int] = []

    def _add(self, opt: Any) -> int:
        """Index of ``opt`` among the inner optimizers (added, with the loss scale, if new)."""
        for i, known in enumerate(self._inner):
            if known is opt:
                return i
        opt.loss_scale_factor = self.loss_scale_factor
        self._inner.append(opt)
        return len(self._inner) - 1

    @property
    def loss_scale_factor(self) -> float | None:
        """The loss scale, set on every inner optimizer too."""
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner", []):
            opt.loss_scale_factor = value

    @property
    def optimizers(self) -> list[Optimizer]:
        """The inner optimizers (the map's values, then its default, then any a function gave)."""
        return list(self._inner)

    @property
    def learning_rate(self) -> Any:
        """Not available: each inner optimizer has its own (see :attr:`optimizers`)."""
        raise AttributeError("A MultiOptimizer has no single learning rate; read it on the "
                             "inner optimizers instead (`optimizer.optimizers`).")

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        raise AttributeError("A MultiOptimizer has no single learning rate; set it on the "
                             "inner optimizers instead (`optimizer.optimizers`). "
                             f"Received: learning_rate={value!r}")

    def build(self, variables: Iterable[Any]) -> None:
        """Assign each variable its optimizer and build each inner optimizer on its own."""
        if self.built:
            return
        variables = list(variables)
        assignment = []
        for v in variables:
            opt = self._optimizer_map(v)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"The optimizer_map gave no Optimizer for variable "
                                 f"{_path(v)!r}. Received: {opt!r}")
            if isinstance(opt, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(f"A {type(opt).__name__} cannot be used inside a "
                                 f"MultiOptimizer. Received: {opt!r} for {_path(v)!r}")
            assignment.append(self._add(opt))
        for k, opt in enumerate(self._inner):
            group = [v for v, a in zip(variables, assignment) if a == k]
            if group:
                opt.build(group)
        self._vars = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._assignment = assignment
        self.built = True

    @property
    def variables(self) -> list[Any]:
        """``iteration``, then each inner optimizer's variables (Keras's order)."""
        out: list[Any] = [self._iteration]
        for opt in self._inner:
            out += opt.variables
        return out

    def apply(self, grads: Sequence[Any], variables: Iterable[Any] | None = None) -> None:
        """Apply one step: each inner optimizer updates its own variables.

        Args:
            grads: one gradient array (or None) per variable.
            variables: the variables (may be omitted once built).

        Raises:
            ValueError: for a gradient count that does not match the variables.
        """
        grads = list(grads)
        if not grads:
            return
        if variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built. Call `optimizer.build(variables)` first.")
            variables = self._vars
        variables = list(variables)
        if not self.built:
            self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Received {len(grads)} gradients for {len(variables)} variables; "
                             "pass one gradient per variable.")
        try:
            idx = [self._index[id(v)] for v in variables]
        except KeyError:
            raise self._unknown_variable(variables) from None
        groups: list[tuple[list, list]] = [([], []) for _ in self._inner]
        for g, i in zip(grads, idx):
            gs, vs = groups[self._assignment[i]]
            gs.append(g)
            vs.append(self._vars[i])
        for opt, (gs, vs) in zip(self._inner, groups):
            if gs:
                opt.apply(gs, vs)
        self._finish_step()

    def apply_flat(self, buffer: Any) -> None:
        """:meth:`apply` over the buffer's per-weight views (each inner optimizer has a part)."""
        self.apply(buffer.grads, buffer.variables)

    def _finish_step(self) -> None:
        count = self._iteration.data
        count[()] = count.item() + 1

    def finalize_variable_values(self, var_list: Iterable[Any] | None = None) -> None:
        """Each inner optimizer's :meth:`~Optimizer.finalize_variable_values`."""
        for opt in self._inner:
            opt.finalize_variable_values()

    def get_state(self) -> dict[str, np.ndarray]:
        """``iterations`` and each inner optimizer's state under ``optimizer_<k>/``."""
        state = {"iterations": np.asarray(self._iteration.data.item(), np.int64)}
        for k, opt in enumerate(self._inner):
            state.update({f"optimizer_{k}/{key}": v for key, v in opt.get_state().items()})
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`get_state` returned.

        Raises:
            ValueError: for a key of no inner optimizer, or what an inner one refuses.
        """
        if not isinstance(state, Mapping) or "iterations" not in state:
            raise ValueError("MultiOptimizer state must be the dict get_state() returned. "
                             f"Received: {type(state).__name__}")
        parts: list[dict[str, Any]] = [{} for _ in self._inner]
        for key, value in state.items():
            if key == "iterations":
                continue
            head, _, rest = key.partition("/")
            k = head[len("optimizer_"):] if head.startswith("optimizer_") else ""
            if not k.isdigit() or int(k) >= len(parts):
                raise ValueError(f"Unexpected MultiOptimizer state key {key!r}: this optimizer "
                                 f"has {len(parts)} inner optimizers. Received: {key!r}")
            parts[int(k)][rest] = value
        for opt, part in zip(self._inner, parts):
            if part:
                opt.set_state(part)
        self._iteration.data[()] = int(np.asarray(state["iterations"]))

    def get_config(self) -> dict[str, Any]:
        """``optimizer_map`` (serialized), ``loss_scale_factor`` and ``name`` (Keras's keys).

        Raises:
            TypeError: when ``optimizer_map`` is a function (only an OptimizerMap
                can be written down).
        """
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise TypeError("A MultiOptimizer whose optimizer_map is a function cannot be "
                            "serialized; use an OptimizerMap. "
                            f"Received: optimizer_map={self._optimizer_map!r}")
        return {
            "optimizer_map": {"module": "keras.optimizers", "class_name": "OptimizerMap",
                              "config": self._optimizer_map.get_config(),
                              "registered_name": None},
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any],
                    custom_objects: Mapping[str, Any] | None = None) -> MultiOptimizer:
        """Create the optimizer from :meth:`get_config`'s dict."""
        config = dict(config)
        omap = config.pop("optimizer_map")
        if isinstance(omap, Mapping):
            omap = OptimizerMap.from_config(omap.get("config", omap), custom_objects)
        return cls(omap, **config)

    def __repr__(self) -> str:
        return (f"<MultiOptimizer name={self.name!r} optimizers="
                f"{[o.name for o in self._inner]} iterations={self._iteration.data.item()}>")


"""The optimizer base class: state slots, the training-step pipeline, config and state.

An optimizer updates *variables*: objects with ``.data`` (a NumPy or CuPy array,
updated **in place**, because models keep their weights as views into one flat
buffer), ``.name`` and optionally ``.trainable`` and ``.constraint``.

One call of :meth:`Optimizer.apply` runs Keras 3's pipeline:

1. drop pairs whose gradient is None (with a warning) or whose variable is
   not trainable;
2. divide by ``loss_scale_factor``;
3. with ``gradient_accumulation_steps=n``, add into accumulators and update only
   every n-th call, with the mean gradient;
4. clip (``clipnorm`` per variable, ``global_clipnorm`` over all, ``clipvalue``);
5. weight decay ``var -= var * weight_decay * lr``;
6. the optimizer's ``update_step`` for each variable;
7. apply each updated variable's ``constraint`` (called with the variable, as
   in Keras; its result, an array or an object with ``.data``, is written back
   in place);
8. update the moving averages when ``use_ema=True``;
9. ``iterations += 1``.

The update rules are elementwise, so updating one flat array that concatenates
all parameters gives exactly the same numbers as updating each parameter —
except ``clipnorm``, which Keras applies to each variable's own norm: on a flat
buffer it clips the norm of all parameters together (like ``global_clipnorm``).

Writing an optimizer: declare its state in ``_slot_specs`` and its rule in
``update_step`` with ``out=`` into the scratch arrays it is given (see
:class:`Optimizer`).
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import backend, parallel
from chainrule.autograd.engine import Tensor
from chainrule.autograd.variable import Variable as _StateVariable
from chainrule.optimizers import _checks, _fused
from chainrule.optimizers._iterations import IterationsVariable, LearningRateVariable, _rate_of
from chainrule.optimizers.schedules import LearningRateSchedule
from chainrule.optimizers.schedules import deserialize as _deserialize_schedule
from chainrule.optimizers.schedules import serialize as _serialize_schedule

__all__ = ["Optimizer"]

#: Variables at least this large are updated in parallel pieces (see chainrule.parallel);
#: each piece at least _PARALLEL_MIN_PART elements. Below that the threads' start-up costs
#: more than they save (measured: Adam on 269,322 parameters gains nothing from 2 threads).
_PARALLEL_MIN_SIZE = 1 << 18
_PARALLEL_MIN_PART = 1 << 17

_POSITIVE = "a positive float"
_LR_EXPECT = "a positive float, a LearningRateSchedule or a callable that returns the rate"


def _array_module(array: Any) -> Any:
    """Return the array library (``numpy`` or ``cupy``) an array belongs to."""
    if isinstance(array, np.ndarray):
        return np
    return sys.modules.get(type(array).__module__.split(".")[0], np)


def _to_host(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array.copy()
    return array.get()  # CuPy: a host copy


def _check_learning_rate(value: Any) -> Any:
    """Return a float for a number, the object itself for a schedule or callable."""
    if isinstance(value, LearningRateSchedule) or (callable(value) and not _checks.is_real(value)):
        return value
    return _checks.real("learning_rate", value, _LR_EXPECT, lambda v: v > 0 and math.isfinite(v))


class Optimizer:
    """Base class of the optimizers (Keras 3's ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a positive float, a
            :class:`~chainrule.optimizers.schedules.LearningRateSchedule`
            (evaluated at ``iterations`` before every update), or a callable
            without arguments that returns the rate.
        weight_decay: if set, ``var -= var * weight_decay * lr`` before each update.
        clipnorm: if set, each variable's gradient is rescaled so its L2 norm is
            at most this value.
        clipvalue: if set, gradients are clipped elementwise to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together so their
            joint L2 norm is at most this value.
        use_ema: keep an exponential moving average of the variables.
        ema_momentum: the average's momentum, in [0, 1].
        ema_overwrite_frequency: every this many steps, overwrite the variables
            with their average (None: only in :meth:`finalize_variable_values`).
        loss_scale_factor: if set, gradients are divided by it first.
        gradient_accumulation_steps: if set (>= 2), update only every this many
            calls, with the mean of the accumulated gradients.
        name: the optimizer's name (default: its lower-case class name).
        **kwargs: tf.keras 2 spellings, accepted with a DeprecationWarning:
            ``lr`` (use ``learning_rate``) and ``decay`` (inverse-time decay
            ``lr / (1 + decay * iterations)``, which Keras 3 ignores and
            chainrule applies).

    Subclasses set ``_n_scratch`` (the scratch arrays their step needs),
    ``_slot_specs()`` (the per-variable state) and ``update_step``. Large
    variables are updated in parallel pieces (see :mod:`chainrule.parallel`)
    only by chainrule's own optimizers, whose ``update_step`` treats every
    element on its own (``_elementwise``); a subclass that overrides
    ``update_step`` always gets whole arrays.

    Example:
        >>> import numpy as np
        >>> from chainrule.optimizers import SGD
        >>> class Var:
        ...     def __init__(self, data, name):
        ...         self.data, self.name = data, name
        >>> w = Var(np.array([1.0, 2.0]), "w")
        >>> opt = SGD(learning_rate=0.1)
        >>> opt.apply_gradients([(np.array([1.0, -1.0]), w)])  # returns the step count
        <Variable path=sgd/iteration, shape=(), dtype=int64, value=1>
        >>> w.data
        array([0.9, 2.1])
    """

    #: Scratch arrays (shaped like the variable) that ``update_step`` receives.
    _n_scratch: int = 1
    #: ``update_step`` computes each element from the same element of its inputs only.
    _elementwise: bool = False
    #: The fused kernel of this step (set by ``_begin_step`` via ``_kernel_for``), or None.
    _kernel: Any = None

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule | Callable[[], float],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._legacy_decay = 0.0
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            _checks.deprecated(
                "Argument `lr` is deprecated (tf.keras 2); use `learning_rate` instead."
            )
            default = self._default_learning_rate()
            if learning_rate is not lr and learning_rate != default and learning_rate != lr:
                raise TypeError(
                    "Pass the learning rate once, as `learning_rate` (`lr` is its old "
                    f"spelling). Received: learning_rate={_checks.shown(learning_rate)}, "
                    f"lr={_checks.shown(lr)}"
                )
            learning_rate = lr
        if "decay" in kwargs:
            decay = kwargs.pop("decay")
            self._legacy_decay = _checks.real(
                "decay", decay, "a float >= 0", lambda v: v >= 0 and math.isfinite(v)
            )
            _checks.deprecated(
                "Argument `decay` is deprecated (tf.keras 2) and Keras 3 ignores it; "
                "chainrule applies it as lr / (1 + decay * iterations). Use "
                "`learning_rate=chainrule.optimizers.schedules.InverseTimeDecay("
                f"initial_learning_rate, decay_steps=1, decay_rate={decay!r})` instead."
            )
        if kwargs:
            raise _checks.unexpected_kwargs(
                type(self).__name__,
                kwargs,
                _checks.accepted_arguments(type(self)) + ["lr", "decay"],
            )

        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be a string. {_checks.received('name', name)}")
        self.name: str = name if name is not None else type(self).__name__.lower()

        lr = _check_learning_rate(learning_rate)
        self._lr_value: float = 0.0
        self._lr_schedule: Any = None
        if isinstance(lr, float):
            self._lr_value = lr
        else:
            self._lr_schedule = lr

        nonneg = "a float >= 0"
        pos = _POSITIVE
        self.weight_decay = _checks.optional_real(
            "weight_decay", weight_decay, nonneg, lambda v: v >= 0 and math.isfinite(v)
        )
        self.clipnorm = _checks.optional_real("clipnorm", clipnorm, pos, lambda v: v > 0)
        self.clipvalue = _checks.optional_real("clipvalue", clipvalue, pos, lambda v: v > 0)
        self.global_clipnorm = _checks.optional_real(
            "global_clipnorm", global_clipnorm, pos, lambda v: v > 0
        )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={_checks.shown(clipnorm)}, "
                f"clipvalue={_checks.shown(clipvalue)}, "
                f"global_clipnorm={_checks.shown(global_clipnorm)}"
            )
        self.use_ema = _checks.boolean("use_ema", use_ema)
        self.ema_momentum = _checks.real(
            "ema_momentum", ema_momentum, "a float in [0, 1]", lambda v: 0 <= v <= 1
        )
        if ema_overwrite_frequency is not None and (
            not isinstance(ema_overwrite_frequency, (int, np.integer))
            or isinstance(ema_overwrite_frequency, bool)
            or ema_overwrite_frequency < 1
        ):
            raise ValueError(
                "Argument `ema_overwrite_frequency` must be an integer >= 1 or None. "
                f"{_checks.received('ema_overwrite_frequency', ema_overwrite_frequency)}"
            )
        self.ema_overwrite_frequency = (
            None if ema_overwrite_frequency is None else int(ema_overwrite_frequency)
        )
        self.loss_scale_factor = _checks.optional_real(
            "loss_scale_factor", loss_scale_factor, pos, lambda v: v > 0 and math.isfinite(v)
        )
        if gradient_accumulation_steps is not None and (
            not isinstance(gradient_accumulation_steps, (int, np.integer))
            or isinstance(gradient_accumulation_steps, bool)
            or gradient_accumulation_steps < 2
        ):
            raise ValueError(
                "Argument `gradient_accumulation_steps` must be an integer >= 2 or None. "
                f"{_checks.received('gradient_accumulation_steps', gradient_accumulation_steps)}"
            )
        self.gradient_accumulation_steps = (
            None if gradient_accumulation_steps is None else int(gradient_accumulation_steps)
        )

        # Keras's `iteration` variable: the count of applied steps (calls, with gradient
        # accumulation); `_iterations` reads and writes it as an int
        self._iteration = IterationsVariable(0, path=f"{self.name}/iteration")
        # Keras's `learning_rate` variable: reads the rate set here (or the schedule's value)
        self._lr_variable = LearningRateVariable(self, path=f"{self.name}/learning_rate")
        self.built = False
        self._vars: list[Any] = []
        self._index: dict[int, int] = {}
        self._slot_names: list[str] = []
        self._slots: list[tuple[Any, ...]] = []
        self._scratch_views: list[tuple[Any, ...]] | None = None  # made on first use
        self._grad_bufs: list[Any] = []
        self._accumulators: list[Any] = []
        self._averages: list[Any] = []
        self._decay_mask: list[bool] = []
        self._unchecked: set[int] = set()
        self._xp: Any = np
        self._const_dtype: Any = None
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern[str] | None = None
        self._pending_state: dict[str, Any] | None = None
        self._flat_for: Any = None  # the FlatBuffer the state is packed like (apply_flat)
        self._flat_slots: tuple = ()
        self._flat_scratch: tuple | None = None
        self._part_total = 0

    # ------------------------------------------------------------------ hooks
    def _slot_specs(self) -> list[tuple[str, float]]:
        """Return ``(slot name, initial value)`` for each per-variable state array.

        Called once by :meth:`build`; the arrays reach ``update_step`` in this order.
        """
        return []

    def _begin_step(self, lr: float) -> None:
        """Compute the scalars one update needs, once for all variables.

        Called before the ``update_step`` calls of a step, while ``iterations``
        still counts the updates done before this one. Pass each scalar through
        :meth:`_const` before storing it for ``update_step``.
        """

    @property
    def _ftype(self) -> Any:
        """The scalar type of the variables (np.float32 for float32 weights).

        Step constants such as ``beta_2 ** t`` are computed in this type, as
        Keras does: 0.999 in float32 is 0.99900001..., so computing the bias
        correction in float64 would differ from Keras by ~6e-6 relative.
        """
        return np.dtype(self._const_dtype or "float64").type

    def _const(self, value: float) -> Any:
        """Return a scalar in the form the update arithmetic is fastest with.

        NumPy converts a Python float on every ufunc call (about half a
        microsecond each, a large share of a small model's step); a 0-d array of
        the variables' dtype skips that and rounds identically, since NumPy casts
        a Python float operand to the array's dtype anyway. With mixed dtypes or
        on CuPy the plain float is kept.
        """
        dtype = self._const_dtype
        return value if dtype is None else np.array(value, dtype=dtype)

    def update_step(
        self, grad: Any, data: Any, lr: float, slots: Sequence[Any], scratch: Sequence[Any]
    ) -> None:
        """Update one variable's array in place.

        Args:
            grad: the gradient, shaped like ``data`` (read only).
            data: the variable's array, to update in place.
            lr: the learning rate of this step (through :meth:`_const`: a float
                or a 0-d array of the variables' dtype).
            slots: this variable's state arrays, as declared by ``_slot_specs``.
            scratch: ``_n_scratch`` arrays shaped like ``data`` to compute in.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update_step().")

    def _extra_state(self) -> dict[str, Any]:
        """Scalars of the optimizer's own (not per-variable) state, for get_state."""
        return {}

    def _set_extra_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`_extra_state` returned."""

    def _build_extra(self) -> None:
        """Create or reset the optimizer's own state (called by :meth:`build`)."""

    # -------------------------------------------------------- learning rate
    @classmethod
    def _default_learning_rate(cls) -> Any:
        param = inspect.signature(cls.__init__).parameters.get("learning_rate")
        return None if param is None else param.default

    @property
    def learning_rate(self) -> Any:
        """The learning rate of the next step, as Keras 3's ``learning_rate`` Variable (settable).

        ``float(opt.learning_rate)`` is the rate as set; ``opt.learning_rate.assign(x)``
        and ``opt.learning_rate = x`` change it. With a schedule (or a callable) it
        is, as in Keras, the schedule's value at ``iterations``: a 0-d Tensor of
        floatx, read anew each time. With the deprecated ``decay=`` it is the
        undecayed base rate, as in tf.keras 2.

        Example:
            >>> from chainrule.optimizers import SGD
            >>> opt = SGD(0.1)
            >>> opt.learning_rate.assign(0.05); opt.learning_rate == 0.05
            True
        """
        if self._lr_schedule is not None:
            return Tensor(np.asarray(self._current_learning_rate(), dtype=backend.floatx()))
        return self._lr_variable.refresh()

    def _current_learning_rate(self) -> float:
        """The learning rate of the next step as a float (see :attr:`learning_rate`)."""
        s = self._lr_schedule
        if s is None:
            return self._lr_value
        if isinstance(s, LearningRateSchedule):
            return float(s(self._iterations))
        return float(s())

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule | Callable[[], float]) -> None:
        if isinstance(self._lr_schedule, LearningRateSchedule) and not isinstance(
            value, LearningRateSchedule
        ):
            raise TypeError(
                "This optimizer was created with a LearningRateSchedule as its "
                "`learning_rate`, so its learning rate is not settable to a number. "
                "Create the optimizer with a float `learning_rate` to change it during "
                f"training. {_checks.received('learning_rate', value)}"
            )
        value = _check_learning_rate(_rate_of(value))
        if isinstance(value, float):
            self._lr_value, self._lr_schedule = value, None
        else:
            self._lr_schedule = value

    @property
    def lr(self) -> float:
        """Deprecated tf.keras 2 alias of :attr:`learning_rate`."""
        _checks.deprecated("`optimizer.lr` is deprecated; use `optimizer.learning_rate`.")
        return self.learning_rate

    @lr.setter
    def lr(self, value: float) -> None:
        _checks.deprecated("`optimizer.lr` is deprecated; use `optimizer.learning_rate`.")
        self.learning_rate = value

    def _step_learning_rate(self) -> float:
        """The learning rate of this step; a NaN or infinite one is an error, before any update."""
        lr = self._current_learning_rate()
        if self._legacy_decay:
            lr = lr / (1.0 + self._legacy_decay * self._iterations)
        if not math.isfinite(lr):
            raise ValueError(
                f"The learning rate of optimizer {self.name!r} became {lr} at step "
                f"{self._updates_done()} (iterations={self._updates_done()}), given by "
                f"{_lr_source(self._lr_schedule)}; no weight was updated. Make the schedule "
                f"return finite values for every step. Received: learning_rate={lr}"
            )
        return lr

    @property
    def iterations(self) -> IterationsVariable:
        """How many updates have been applied: a Variable (int64, not trainable), as in Keras 3.

        ``int(opt.iterations)``, ``opt.iterations.numpy()``, comparisons and
        arithmetic (which give NumPy scalars) work, and ``assign`` sets the count
        (a learning-rate schedule follows it). It is saved and restored with the
        optimizer's state. With ``gradient_accumulation_steps`` it is the number
        of updates, ``calls // gradient_accumulation_steps``, as a new Variable
        each time (Keras: a tensor); assigning to it changes nothing.

        Example:
            >>> from chainrule.optimizers import SGD
            >>> opt = SGD()
            >>> opt.iterations
            <Variable path=sgd/iteration, shape=(), dtype=int64, value=0>
            >>> opt.iterations.assign(5); int(opt.iterations), bool(opt.iterations == 5)
            (5, True)
        """
        steps = self.gradient_accumulation_steps
        if steps:
            return IterationsVariable(self._iterations // steps, path=f"{self.name}/iteration")
        return self._iteration

    @property
    def _iterations(self) -> int:
        """The count of applied calls, as an int (read and written in place on the Variable)."""
        return self._iteration.data.item()

    @_iterations.setter
    def _iterations(self, value: int) -> None:
        self._iteration.data[()] = value

    def _updates_done(self) -> int:
        """:attr:`iterations` as an int (the step scalars' ``t - 1``), without making a Variable."""
        steps = self.gradient_accumulation_steps
        n = self._iteration.data.item()
        return n // steps if steps else n

    # ----------------------------------------------------------------- build
    def build(self, variables: Iterable[Any]) -> None:
        """Create the state slots for ``variables`` (done by the first apply).

        Args:
            variables: the variables this optimizer will update, in order.

        Raises:
            TypeError: if an item has no array ``.data``.
            ValueError: if a variable appears twice.
        """
        if self.built:
            return
        variables = list(variables)
        index: dict[int, int] = {}
        for i, v in enumerate(variables):
            data = getattr(v, "data", None)
            if data is None or not hasattr(data, "shape") or not hasattr(data, "dtype"):
                raise TypeError(
                    "An optimizer updates variables: objects with an array `.data` and a "
                    f"`.name`. Item {i} is not one. Received: {type(v).__name__} {v!r:.80}"
                )
            if data.dtype.kind != "f":
                raise TypeError(
                    f"Variable {_var_label(v, i)} has dtype {data.dtype}; optimizers update "
                    "floating-point variables only."
                )
            if id(v) in index:
                raise ValueError(
                    f"Variable {_var_label(v, i)} is listed twice (items {index[id(v)]} and {i})."
                )
            index[id(v)] = i
        self._xp = _array_module(variables[0].data) if variables else np
        xp = self._xp
        dtypes = {v.data.dtype for v in variables}
        self._const_dtype = dtypes.pop() if xp is np and len(dtypes) == 1 else None
        self._vars = variables
        self._index = index
        specs = self._slot_specs()
        self._slot_names = [name for name, _ in specs]
        self._slots = _packed_slots(xp, variables, specs)
        if self._slots is None:
            self._slots = [tuple(_filled(xp, v.data, init) for _, init in specs) for v in variables]
        self._scratch_views = None  # per-variable scratch: made when a step first needs it
        needs_grad_buf = self.loss_scale_factor is not None or (
            self.clipnorm or self.clipvalue or self.global_clipnorm
        )
        self._grad_bufs = [xp.empty_like(v.data) for v in variables] if needs_grad_buf else []
        self._accumulators = (
            [xp.zeros_like(v.data) for v in variables] if self.gradient_accumulation_steps else []
        )
        self._averages = [xp.zeros_like(v.data) for v in variables] if self.use_ema else []
        self._decay_mask = [self._use_weight_decay(v) for v in variables]
        self._part_bufs: list[dict[Any, list[Any]]] = []
        self._parallel_ok = (
            xp is np
            and self._elementwise
            and any(v.data.size >= _PARALLEL_MIN_SIZE for v in variables)
            and type(self).update_step.__module__.startswith("chainrule.optimizers.")
            and all(  # (scratch arrays are slices of fresh buffers: contiguous)
                a.flags.c_contiguous
                for v, sl in zip(variables, self._slots)
                for a in (v.data, *sl)
            )
        )
        self._unchecked = set(range(len(variables)))
        self._build_extra()
        self.built = True
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.set_state(pending)

    @property
    def variables(self) -> list[Any]:
        """The optimizer's Variables, as Keras 3 lists them.

        ``iteration``, ``learning_rate`` (unless it is a schedule), then each model
        variable's state in turn (for Adam its ``momentum`` and ``velocity``),
        named after the model variable's path (``adam/dense_kernel_momentum``).
        The moving averages of ``use_ema`` and the gradient accumulators come
        before the state. Each state Variable shares its array with the optimizer:
        ``assign`` changes the state (until the next step packs it anew).

        Example:
            >>> import numpy as np
            >>> from chainrule.layers import Variable
            >>> from chainrule.optimizers import Adam
            >>> opt = Adam(); w = Variable(np.zeros(2, np.float32), name="w")
            >>> opt.apply([np.ones(2, np.float32)], [w])
            >>> [v.path for v in opt.variables]
            ['adam/iteration', 'adam/learning_rate', 'adam/w_momentum', 'adam/w_velocity']
        """
        out: list[Any] = [self._iteration]
        if self._lr_schedule is None:
            out.append(self.learning_rate)

        def state(array: Any, v: Any, label: str) -> Any:
            own = str(getattr(v, "path", None) or getattr(v, "name", None) or "variable")
            var = _StateVariable(array, name=label, trainable=False)
            var.path = f"{self.name}/{own.replace('/', '_')}_{label}"
            return var

        for label, arrays in (("average", self._averages),
                              ("gradient_accumulator", self._accumulators)):
            out += [state(a, v, label) for v, a in zip(self._vars, arrays)]
        for v, slots in zip(self._vars, self._slots):
            out += [state(a, v, label) for label, a in zip(self._slot_names, slots)]
        return out

    def exclude_from_weight_decay(
        self, var_list: Iterable[Any] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exempt variables from weight decay (call before the optimizer is built).

        Args:
            var_list: variables to exempt.
            var_names: substrings; a variable whose name contains one is exempt
                (e.g. ``["bias"]``).

        Raises:
            ValueError: if the optimizer is already built.
        """
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer "
                "is built (before its first apply)."
            )
        self._exclude_ids = {id(v) for v in (var_list or [])}
        names = sorted(set(var_names or []))
        self._exclude_pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def _use_weight_decay(self, variable: Any) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return not (pattern is not None and pattern.search(str(getattr(variable, "name", ""))))

    # ----------------------------------------------------------------- apply
    def scale_loss(self, loss: Any) -> Any:
        """Keras 3's ``optimizer.scale_loss``: ``loss * loss_scale_factor`` when it is set.

        A custom ``train_step`` that differentiates the loss itself calls it
        before taking gradients, since :meth:`apply` divides them by the factor
        (``fit``'s own step does both).

        Args:
            loss: the loss (a Tensor or a number).

        Returns:
            The scaled loss, or ``loss`` itself without a factor.

        Example:
            >>> from chainrule.optimizers import SGD
            >>> SGD(loss_scale_factor=8.0).scale_loss(0.5), SGD().scale_loss(0.5)
            (4.0, 0.5)
        """
        if self.loss_scale_factor is None:
            return loss
        return loss * self.loss_scale_factor

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> IterationsVariable:
        """Apply one step from ``(gradient, variable)`` pairs.

        Args:
            grads_and_vars: a list or ``zip`` of ``(gradient array, variable)``.

        Returns:
            :attr:`iterations` after the step (the Variable, as Keras returns it).
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self.iterations

    def apply(self, grads: Sequence[Any], variables: Iterable[Any] | None = None) -> None:
        """Apply one step: update ``variables`` in place from ``grads``.

        Args:
            grads: one gradient array (or None) per variable.
            variables: the variables; may be omitted once the optimizer is built,
                then ``grads`` must match the variables it was built with.

        Raises:
            ValueError: for unknown variables, mismatched lengths or shapes, or no
                gradients at all.
        """
        grads = list(grads)
        if variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already "
                    "be built. Call `optimizer.build(variables)` first."
                )
            if len(grads) != len(self._vars):
                raise ValueError(
                    f"Received {len(grads)} gradients, but the optimizer was built with "
                    f"{len(self._vars)} variables."
                )
            idx: Sequence[int] = range(len(grads))
        else:
            variables = list(variables)
            if len(grads) != len(variables):
                raise ValueError(
                    f"Received {len(grads)} gradients for {len(variables)} variables; "
                    "pass one gradient per variable."
                )
            if not self.built:
                self.build(variables)
            index = self._index
            try:
                idx = [index[id(v)] for v in variables]
            except KeyError:
                raise self._unknown_variable(variables) from None
        if not grads:
            return

        vars_ = self._vars
        pairs = [
            (g, i)
            for g, i in zip(grads, idx)
            if g is not None and getattr(vars_[i], "trainable", True) is not False
        ]
        if len(pairs) != len(grads):
            pairs = self._filter_missing(grads, idx, pairs)
        if self._unchecked:
            self._check_gradients(pairs)
        lr = self._step_learning_rate()  # checked before anything changes

        xp = self._xp
        if self.loss_scale_factor is not None:
            bufs, scale = self._grad_bufs, self.loss_scale_factor
            pairs = [(xp.divide(g, scale, out=bufs[i]), i) for g, i in pairs]

        steps = self.gradient_accumulation_steps
        if steps:
            accs = self._accumulators
            for g, i in pairs:
                xp.add(accs[i], g, out=accs[i])
            if (self._iterations + 1) % steps:
                self._finish_step()
                return
            for _, i in pairs:
                xp.divide(accs[i], steps, out=accs[i])
            pairs = [(accs[i], i) for _, i in pairs]

        if self.clipnorm or self.clipvalue or self.global_clipnorm:
            pairs = self._clip(pairs)

        self._begin_step(lr)  # step scalars only; weight decay below uses the same lr
        lr_k = self._const(lr)
        updated = [i for _, i in pairs]  # every weight this step changes, for the constraints
        threads = parallel.get_num_threads() if self._parallel_ok else 1
        if threads > 1:
            small = [(g, i) for g, i in pairs if vars_[i].data.size < _PARALLEL_MIN_SIZE]
            large = [(g, i) for g, i in pairs if vars_[i].data.size >= _PARALLEL_MIN_SIZE]
            if large:
                parts = min(threads, max(vars_[i].data.size for _, i in large) // _PARALLEL_MIN_PART)
                bufs = self._part_scratch(parts)
                parallel.run_parts(lambda k: self._update_part(large, lr_k, k, parts, bufs[k]), parts)
            pairs = small
        decay = self.weight_decay is not None
        update, slots, scratch = self.update_step, self._slots, self._scratch
        for g, i in pairs:
            data = vars_[i].data
            if decay:
                self._decay(data, scratch[i][0], i, lr_k)
            update(g, data, lr_k, slots[i], scratch[i])

        if steps:
            for acc in self._accumulators:
                acc.fill(0)
        self._apply_constraints(vars_[i] for i in updated)
        self._finish_step()

    @staticmethod
    def _apply_constraints(variables: Iterable[Any]) -> None:
        """Each updated variable's ``constraint``, its result written back in place."""
        for var in variables:
            constraint = getattr(var, "constraint", None)
            if constraint is not None:
                value = constraint(var)
                var.data[...] = getattr(value, "data", value)

    def apply_flat(self, buffer: Any) -> None:
        """Apply one step from a flat gradient buffer to the weights packed in it.

        The trainer's form of :meth:`apply`: ``buffer`` is a
        :class:`~chainrule.backend.flat.FlatBuffer` whose ``grad`` holds this
        step's gradients. When the update is elementwise over every weight
        (chainrule's optimizers, no per-variable clipping, no gradient
        accumulation or loss scaling, weight decay on all weights or none), it is
        one ``update_step`` over the whole buffer — one fused kernel call with
        Numba — with the optimizer's state packed the same way. Otherwise it is
        :meth:`apply` over the per-weight views. The numbers are the same either
        way (the rules are elementwise); ``get_state`` keeps its per-variable keys.

        Args:
            buffer: the model's packed weights and gradients.

        Example:
            >>> import numpy as np
            >>> from chainrule.backend.flat import FlatBuffer
            >>> from chainrule.layers import Variable
            >>> w = Variable(np.array([1.0, 2.0]), name="w")
            >>> buf = FlatBuffer([w])
            >>> buf.grads[0][...] = [1.0, -1.0]
            >>> from chainrule.optimizers import SGD
            >>> opt = SGD(learning_rate=0.1); opt.build(buf.variables); opt.apply_flat(buf)
            >>> w.data
            array([0.9, 2.1])
        """
        if not self.built:
            self.build(buffer.variables)
        if not self._flat_ready(buffer):
            self.apply(buffer.grads, buffer.variables)
            return
        xp = self._xp
        dt = buffer.single_dtype
        g, data = buffer.grad[dt], buffer.data[dt]
        lr = self._step_learning_rate()  # checked before anything changes
        if self.global_clipnorm:
            scale = self._global_scale([(g, 0)])  # one norm over the whole buffer
            if scale != 1.0:
                xp.multiply(g, scale, out=g)
        self._begin_step(lr)
        lr_k = self._const(lr)
        slots = self._flat_slots
        # pieces of at least _PARALLEL_MIN_SIZE: smaller ones gained nothing (see above)
        parts = data.size // _PARALLEL_MIN_SIZE if xp is np else 0
        if parts > 1:
            parts = min(parts, parallel.get_num_threads())
        # a fused kernel's update needs no scratch arrays: none are made for it (a large
        # model's scratch is twice its weights)
        free = self.weight_decay is None and self._scratch_free(data.size)
        if parts > 1:
            bufs = [{dt: ()}] * parts if free else self._part_scratch(parts, data.size)
            parallel.run_parts(
                lambda k: self._update_flat_part(g, data, slots, lr_k, k, parts, bufs[k][dt]),
                parts)
        else:
            scratch = () if free else self._flat_scratch_for(data)
            if self.weight_decay is not None:
                self._decay_all(data, scratch[0], lr_k)
            self.update_step(g, data, lr_k, slots, scratch)
        self._apply_constraints(buffer.variables)
        self._finish_step()

    @property
    def _scratch(self) -> list[tuple[Any, ...]]:
        """Per variable, ``_n_scratch`` arrays shaped like it to compute in (made on first use:
        the flat buffer's fused updates never need them)."""
        views = self._scratch_views
        if views is None:
            views = self._scratch_views = _scratch_views(
                self._xp, [v.data for v in self._vars], max(self._n_scratch, 1))
        return views

    def _scratch_free(self, size: int) -> bool:
        """Whether this step's ``update_step`` of a contiguous 1-D array of ``size`` elements
        runs entirely in a fused kernel, so that it reads no scratch arrays.

        Called after ``_begin_step``. False unless an optimizer says so (those with a
        fused kernel: Adam and AdamW, SGD, RMSprop, Adagrad).
        """
        return False

    def _flat_ready(self, buffer: Any) -> bool:
        """Whether one pass over ``buffer`` is this step (and the state is packed like it)."""
        if self._flat_for is buffer and buffer.intact():
            return True
        ok = (
            buffer.single_dtype is not None
            and self._elementwise
            and type(self).update_step.__module__.startswith("chainrule.optimizers.")
            and self.loss_scale_factor is None
            and not self.gradient_accumulation_steps
            and not self.clipnorm
            and not self.clipvalue
            and (self.weight_decay is None or all(self._decay_mask))
            and buffer.holds(self._vars)
            and all(getattr(v, "trainable", True) is not False for v in self._vars)
        )
        if not ok:
            return False
        xp, n = self._xp, buffer.data[buffer.single_dtype].size
        first = self._slots[0] if self._slots else ()
        if first and all(sl.base is not None and sl.base.size == n for sl in first) and all(
                s.base is f.base for slots in self._slots for s, f in zip(slots, first)):
            flat_slots = [sl.base for sl in first]  # built packed (see _packed_slots)
        else:  # pack the state like the weights: one array per slot, each variable's a view
            flat_slots = []
            for k in range(len(self._slot_names)):
                flat = xp.empty(n, dtype=buffer.single_dtype)
                for (_, a, b), slots in zip(buffer.spans, self._slots):
                    flat[a:b] = slots[k].reshape(-1)
                flat_slots.append(flat)
            self._slots = [
                tuple(flat[a:b].reshape(v.data.shape) for flat in flat_slots)
                for (_, a, b), v in zip(buffer.spans, self._vars)
            ]
        self._flat_slots = tuple(flat_slots)
        self._flat_scratch = None
        self._flat_for = buffer
        return True

    def _flat_scratch_for(self, data: Any) -> tuple:
        scratch = self._flat_scratch
        if scratch is None:  # made on first use: the fused kernels need none
            n = max(self._n_scratch, 1)
            scratch = self._flat_scratch = tuple(self._xp.empty_like(data) for _ in range(n))
        return scratch

    def _decay_all(self, data: Any, s: Any, lr_k: Any) -> None:
        """``data -= data * weight_decay * lr`` (``s``: scratch shaped like ``data``)."""
        xp = self._xp
        xp.multiply(data, self._const(self.weight_decay), out=s)
        xp.multiply(s, lr_k, out=s)
        xp.subtract(data, s, out=data)

    def _update_flat_part(self, g: Any, data: Any, slots: tuple, lr_k: Any, k: int, parts: int,
                          own: list) -> None:
        """Part ``k`` of ``parts`` of a flat update (same operations as the whole-array one)."""
        n = data.size
        a, b = n * k // parts, n * (k + 1) // parts
        if a == b:
            return
        piece = data[a:b]
        s = tuple(buf[: b - a] for buf in own)  # () when the update needs none
        if self.weight_decay is not None:
            self._decay_all(piece, s[0], lr_k)
        self.update_step(g[a:b], piece, lr_k, tuple(x[a:b] for x in slots), s)

    def _kernel_for(self, name: str) -> Any:
        """The fused kernel ``name`` (see ``optimizers/_fused.py``), or None.

        None on CuPy, with variables of several dtypes, and when the kernels are
        off or Numba is not installed; the optimizer then runs its NumPy passes.
        """
        if self._const_dtype is None or self._xp is not np:
            return None
        return _fused.kernel(name)

    @staticmethod
    def _flat(grad: Any, data: Any, *state: Any) -> tuple[Any, ...] | None:
        """1-D views of ``grad``, ``data`` and ``state`` for a fused kernel, or None.

        None when the gradient has another dtype than the variable or an array
        to update is not contiguous (its flat view would be a copy).
        """
        if grad.dtype != data.dtype or not data.flags.c_contiguous:
            return None
        if data.ndim == 1 and grad.ndim == 1:  # the flat buffer's arrays: 1-D already
            for a in state:
                if a.ndim != 1 or not a.flags.c_contiguous:
                    break
            else:
                return (grad, data, *state)
        if not all(a.flags.c_contiguous for a in state):
            return None
        return (grad.reshape(-1), data.reshape(-1), *(a.reshape(-1) for a in state))

    def _decay(self, data: Any, s: Any, i: int, lr_k: Any) -> None:
        """Weight decay of one variable (or a piece of it): ``data -= data * wd * lr``."""
        if self._decay_mask[i]:
            self._decay_all(data, s, lr_k)

    def _update_part(self, pairs: list[tuple[Any, int]], lr_k: Any, k: int, parts: int,
                     own: dict[Any, list[Any]]) -> None:
        """Part ``k`` of ``parts`` of the update of large variables, on flat pieces.

        Each variable is split into ``parts`` contiguous pieces; part ``k``
        updates piece ``k`` of every variable with the same operations as the
        whole-array update, so every element gets bit-identical results. Each
        part computes in scratch buffers of its own (``own``, per dtype).
        """
        vars_, slots = self._vars, self._slots
        decay, update = self.weight_decay is not None, self.update_step
        for g, i in pairs:
            n = vars_[i].data.size
            a, b = n * k // parts, n * (k + 1) // parts
            if a == b:
                continue
            data = vars_[i].data.reshape(-1)[a:b]
            s = tuple(buf[: b - a] for buf in own[data.dtype])
            if decay:
                self._decay(data, s[0], i, lr_k)
            update(g.reshape(-1)[a:b], data, lr_k, tuple(x.reshape(-1)[a:b] for x in slots[i]), s)

    def _part_scratch(self, parts: int, total: int = 0) -> list[dict[Any, list[Any]]]:
        """Scratch buffers of each part (per dtype), so that parallel parts never share one.

        Sized for the largest variable, or for ``total`` elements (a flat update).
        """
        cached = self._part_bufs
        if len(cached) != parts or self._part_total != total:
            self._part_total = total
            largest: dict[Any, int] = {}
            for v in self._vars:
                largest[v.data.dtype] = max(largest.get(v.data.dtype, 0), int(v.data.size), total)
            count = max(self._n_scratch, 1)
            cached = [
                {dt: [np.empty(-(-n // parts), dtype=dt) for _ in range(count)]
                 for dt, n in largest.items()}
                for _ in range(parts)
            ]
            self._part_bufs = cached
        return cached

    def _finish_step(self) -> None:
        if self.use_ema:
            self._update_moving_averages()
        count = self._iteration.data  # the 0-d array, counted up in place (a few tens of ns)
        count[()] = count.item() + 1

    def _filter_missing(
        self, grads: list[Any], idx: Sequence[int], pairs: list[tuple[Any, int]]
    ) -> list[tuple[Any, int]]:
        missing = [
            str(getattr(self._vars[i], "name", f"#{i}")) for g, i in zip(grads, idx) if g is None
        ]
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        if not pairs and missing:
            raise ValueError("No gradients provided for any variable.")
        return pairs

    def _check_gradients(self, pairs: list[tuple[Any, int]]) -> None:
        # Once per variable: a mismatched gradient could otherwise broadcast silently.
        for g, i in pairs:
            if i not in self._unchecked:
                continue
            data = self._vars[i].data
            shape = getattr(g, "shape", None)
            if shape is None or not hasattr(g, "dtype"):
                raise TypeError(
                    f"The gradient for variable {_var_label(self._vars[i], i)} must be an "
                    f"array. Received: {type(g).__name__}"
                )
            if tuple(shape) != tuple(data.shape):
                raise ValueError(
                    f"The gradient for variable {_var_label(self._vars[i], i)} has shape "
                    f"{tuple(shape)}, but the variable has shape {tuple(data.shape)}."
                )
            self._unchecked.discard(i)

    def _unknown_variable(self, variables: list[Any]) -> ValueError:
        for v in variables:
            if id(v) not in self._index:
                return ValueError(
                    f"Unknown variable {_var_label(v, None)}. This optimizer can only update "
                    "the variables it was built with; create a new optimizer for new variables."
                )
        return ValueError("Unknown variable.")  # pragma: no cover - unreachable

    def _clip(self, pairs: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
        xp, bufs = self._xp, self._grad_bufs
        out = []
        if self.clipnorm:
            c = self.clipnorm
            for g, i in pairs:
                norm = math.sqrt(float(xp.vdot(g, g)))
                buf = xp.multiply(g, c, out=bufs[i])
                xp.divide(buf, max(norm, c), out=buf)
                out.append((buf, i))
        elif self.global_clipnorm:
            scale = self._global_scale(pairs)
            if scale == 1.0:
                return pairs
            out = [(xp.multiply(g, scale, out=bufs[i]), i) for g, i in pairs]
        else:
            c = self.clipvalue
            out = [(xp.clip(g, -c, c, out=bufs[i]), i) for g, i in pairs]
        return out

    def _global_scale(self, pairs: list[tuple[Any, int]]) -> float:
        """``global_clipnorm``'s factor: Keras's ``c * min(1/norm, 1/c)``, NaN for a non-finite norm.

        The squared norms of ``pairs`` are summed in order (a flat buffer is one pair).
        """
        xp, c = self._xp, self.global_clipnorm
        norm = math.sqrt(sum(float(xp.vdot(g, g)) for g, _ in pairs))
        if not math.isfinite(norm):
            return math.nan
        if norm == 0:
            return c * (1.0 / c)
        return c * min(1.0 / norm, 1.0 / c)

    def _update_moving_averages(self) -> None:
        xp = self._xp
        it = self._updates_done()
        momentum = self.ema_momentum if it != 0 else 0.0
        for i, v in enumerate(self._vars):
            avg, s = self._averages[i], self._scratch[i][0]
            xp.multiply(v.data, 1.0 - momentum, out=s)
            xp.multiply(avg, momentum, out=avg)
            xp.add(avg, s, out=avg)
        freq = self.ema_overwrite_frequency
        if freq and (it + 1) % freq == 0:
            self.finalize_variable_values()

    def finalize_variable_values(self, var_list: Iterable[Any] | None = None) -> None:
        """Overwrite the variables with their moving averages (only with ``use_ema``).

        Args:
            var_list: unused; kept for Keras's signature. The variables the
                optimizer was built with are overwritten.
        """
        if not self.use_ema or not self.built:
            return
        for v, avg in zip(self._vars, self._averages):
            v.data[...] = avg

    # ------------------------------------------------------------ state I/O
    def _state_layout(self) -> dict[str, tuple[Any, str]]:
        """Map every state key to ``(array, variable label)`` for the per-variable state."""
        layout: dict[str, tuple[Any, str]] = {}
        for i, slots in enumerate(self._slots):
            label = _var_label(self._vars[i], i)
            for name, arr in zip(self._slot_names, slots):
                layout[f"{name}/{i}"] = (arr, label)
            if self._accumulators:
                layout[f"gradient_accumulator/{i}"] = (self._accumulators[i], label)
            if self._averages:
                layout[f"average/{i}"] = (self._averages[i], label)
        return layout

    def get_state(self) -> dict[str, np.ndarray]:
        """Return the full training state as host NumPy arrays (copies).

        Keys are stable strings: ``"iterations"``; ``"learning_rate"`` when it
        is a number (callbacks may have changed it); ``"<slot>/<i>"`` for slot
        ``<slot>`` of the i-th variable (e.g. ``"momentum/0"``); and the
        optimizer's own scalars (e.g. Nadam's ``"u_product"``).

        Returns:
            A dict of NumPy arrays, to save and later pass to :meth:`set_state`.
        """
        state: dict[str, np.ndarray] = {"iterations": np.asarray(self._iterations, dtype=np.int64)}
        if self._lr_schedule is None:
            state["learning_rate"] = np.asarray(self._lr_value, dtype=np.float64)
        if self.built:
            for key, value in self._extra_state().items():
                state[key] = np.asarray(value, dtype=np.float64)
            for key, (arr, _) in self._state_layout().items():
                state[key] = _to_host(arr)
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state`, exactly.

        Before the optimizer is built the state is kept and restored by
        :meth:`build`. A ``learning_rate`` entry is ignored when the optimizer
        uses a schedule (the schedule follows ``iterations``).

        Args:
            state: the dict :meth:`get_state` returned.

        Raises:
            ValueError: naming the key, for a missing or unexpected key, a shape
                that does not match, or a value no training could have produced: a
                NaN or infinite entry, a learning rate that is not positive, a
                negative second moment (``velocity``, ``accumulator``, ...), or
                ``iterations`` that is not an integer in ``[0, 2**62]`` (nothing is
                changed then).
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"set_state() expects a dict of arrays. Received: {type(state).__name__}"
            )
        if "iterations" not in state:
            raise ValueError(
                "Optimizer state is missing key 'iterations'. Pass the dict get_state() returned."
            )
        _check_state_values(state)
        if not self.built:
            self._pending_state = dict(state)
            self._restore_scalars(state)
            return
        layout = self._state_layout()
        extra = set(self._extra_state())
        expected = set(layout) | extra | {"iterations", "learning_rate"}
        for key in sorted(set(layout) | extra):
            if key not in state:
                shape = tuple(layout[key][0].shape) if key in layout else ()
                raise ValueError(
                    f"Optimizer state is missing key {key!r} (expected shape {shape}). Was it "
                    f"saved from a {type(self).__name__} with the same settings and variables?"
                )
        for key in sorted(state):
            if key not in expected:
                raise ValueError(
                    f"Unexpected optimizer state key {key!r} with shape "
                    f"{tuple(np.shape(state[key]))}. Was it saved from a different optimizer, "
                    "other settings or other variables?"
                )
        for key in ("iterations", "learning_rate", *sorted(extra)):
            if key in state and np.shape(state[key]) != ():
                raise ValueError(
                    f"Optimizer state {key!r} has shape {tuple(np.shape(state[key]))}, but a "
                    "scalar of shape () is expected."
                )
        for key, (arr, label) in layout.items():
            got = tuple(np.shape(state[key]))
            if got != tuple(arr.shape):
                raise ValueError(
                    f"Optimizer state {key!r} has shape {got}, but this optimizer expects "
                    f"shape {tuple(arr.shape)} for variable {label}."
                )
        xp = self._xp
        for key, (arr, _) in layout.items():
            arr[...] = xp.asarray(state[key])
        self._set_extra_state({k: float(state[k]) for k in extra})
        self._restore_scalars(state)

    def _restore_scalars(self, state: Mapping[str, Any]) -> None:
        self._iterations = int(np.asarray(state["iterations"]))
        if "learning_rate" in state and self._lr_schedule is None:
            self._lr_value = float(np.asarray(state["learning_rate"]))

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-serializable dict (Keras 3's keys).

        A schedule is serialized as a nested dict; a callable learning rate is
        stored as its current value.

        Returns:
            The config; ``type(opt).from_config(config)`` makes an equal optimizer.
        """
        if isinstance(self._lr_schedule, LearningRateSchedule):
            learning_rate: Any = _serialize_schedule(self._lr_schedule)
        else:
            learning_rate = self._current_learning_rate()
        config: dict[str, Any] = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self._legacy_decay:
            config["decay"] = self._legacy_decay
        return config

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
    ) -> Optimizer:
        """Create an optimizer from :meth:`get_config`'s dict (no state).

        Args:
            config: the config.
            custom_objects: custom schedule classes by name.

        Returns:
            A new optimizer.
        """
        config = dict(config)
        if isinstance(config.get("learning_rate"), Mapping):
            config["learning_rate"] = _deserialize_schedule(
                config["learning_rate"], custom_objects=custom_objects
            )
        # The user was warned about `decay` when first creating the optimizer.
        decay = config.pop("decay", 0.0)
        opt = cls(**config)
        if decay:
            opt._legacy_decay = _checks.real(
                "decay", decay, "a float >= 0", lambda v: v >= 0 and math.isfinite(v)
            )
        return opt

    def __repr__(self) -> str:
        if isinstance(self._lr_schedule, LearningRateSchedule):
            lr = repr(self._lr_schedule)
        else:
            lr = f"{self._current_learning_rate():g}"
        return (
            f"<{type(self).__name__} name={self.name!r} learning_rate={lr} "
            f"iterations={self._updates_done()}>"
        )


#: Slots that hold running sums of squares (second moments): never negative.
_NONNEGATIVE_SLOTS = frozenset({"velocity", "velocity_hat", "accumulator", "accumulated_grad",
                                "accumulated_delta_var"})
#: The most iterations a state may claim: no training reaches it, and it is far below the top
#: of the int64 that iterations is saved as (so training on from it cannot overflow).
MAX_ITERATIONS = 2**62


def _check_state_values(state: Mapping[str, Any]) -> None:
    """Refuse values that no training produces (before anything is restored), naming the key."""
    for key in sorted(state):
        try:
            arr = np.asarray(state[key])
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"Optimizer state {key!r} is not an array of numbers. Received: "
                             f"{type(state[key]).__name__}") from None
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"Optimizer state {key!r} must hold numbers. Received: dtype "
                             f"{arr.dtype}")
        if key == "iterations":
            value = arr.reshape(-1)[0] if arr.size == 1 else None
            ok = value is not None and (
                arr.dtype.kind in "iub" or (np.isfinite(value) and float(value).is_integer()))
            if not ok or not 0 <= int(value) <= MAX_ITERATIONS:
                raise ValueError(
                    f"Optimizer state 'iterations' must be an integer in [0, 2**62]. Received: "
                    f"iterations={arr.tolist() if arr.size <= 4 else arr.shape}")
            continue
        if arr.dtype.kind != "f":
            continue
        if not np.isfinite(arr).all():
            raise ValueError(f"Optimizer state {key!r} holds NaN or infinite values. Received: "
                             f"{key}={arr.tolist() if arr.size == 1 else 'an array with NaN/inf'}")
        if key == "learning_rate" and not (arr.size == 1 and float(arr.reshape(-1)[0]) > 0):
            raise ValueError(f"Optimizer state 'learning_rate' must be a positive number. "
                             f"Received: learning_rate={arr.tolist()}")
        if key.split("/")[0] in _NONNEGATIVE_SLOTS and arr.size and float(arr.min()) < 0:
            raise ValueError(
                f"Optimizer state {key!r} is a second moment (a running sum of squares), which is "
                f"never negative. Received: a minimum of {float(arr.min())}")


def _lr_source(schedule: Any) -> str:
    """Words naming where a learning rate came from: the schedule and its settings."""
    if schedule is None:
        return "the number set as learning_rate"
    if isinstance(schedule, LearningRateSchedule):
        try:
            config = schedule.get_config()
        except Exception:  # noqa: BLE001 - a user's schedule; the name is enough then
            config = None
        if isinstance(config, dict):
            args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "name")
            return f"the schedule {type(schedule).__name__}({args})"[:300]
        return f"the schedule {type(schedule).__name__}"
    name = getattr(schedule, "__qualname__", None) or type(schedule).__name__
    return f"the callable {name}"


def _var_label(variable: Any, index: int | None) -> str:
    name = getattr(variable, "name", None)
    if name is not None:
        return repr(str(name))
    return f"#{index}" if index is not None else repr(variable)


def _packed_slots(xp: Any, variables: list[Any], specs: list) -> list | None:
    """Slots laid out like the variables when these are one flat buffer, in order (else None).

    Then :meth:`Optimizer.apply_flat` updates the state in place as one array,
    without first copying it into that layout.
    """
    if not variables or xp is not np:
        return None
    base = variables[0].data.base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    start = base.__array_interface__["data"][0]
    offset, itemsize = 0, base.itemsize
    for v in variables:
        d = v.data
        if d.base is not base or not d.flags.c_contiguous or d.dtype != base.dtype or \
                d.__array_interface__["data"][0] != start + offset * itemsize:
            return None
        offset += d.size
    if offset != base.size:
        return None
    flats = [_filled(xp, base, init) for _, init in specs]
    out, a = [], 0
    for v in variables:
        b = a + v.data.size
        out.append(tuple(f[a:b].reshape(v.data.shape) for f in flats))
        a = b
    return out


def _filled(xp: Any, like: Any, value: float) -> Any:
    if value == 0:
        return xp.zeros_like(like)
    return xp.full_like(like, value)


def _scratch_views(xp: Any, arrays: list[Any], count: int) -> list[tuple[Any, ...]]:
    """Return ``count`` scratch views per array, shaped like it.

    One flat buffer per dtype, sized for the largest array, serves all of them:
    the variables are updated one after another, so they can share it.
    """
    largest: dict[Any, int] = {}
    for a in arrays:
        largest[a.dtype] = max(largest.get(a.dtype, 0), int(a.size))
    buffers = {dt: [xp.empty(n, dtype=dt) for _ in range(count)] for dt, n in largest.items()}
    return [tuple(buf[: a.size].reshape(a.shape) for buf in buffers[a.dtype]) for a in arrays]

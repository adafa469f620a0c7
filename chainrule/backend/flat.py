"""One contiguous buffer per dtype for a model's trainable weights, and one for their gradients.

Each weight's array becomes a view into the buffer, so an optimizer update is
one pass over one array, a gradient norm is one dot product and an allreduce
is one call. :func:`Variable.assign <chainrule.layers.Variable.assign>` writes
in place, so ``set_weights``, loading and checkpoints keep the views.
"""

from __future__ import annotations

from typing import Any, Sequence

from chainrule import backend

__all__ = ["FlatBuffer"]


class FlatBuffer:
    """Weights packed into one buffer per dtype, with a gradient buffer of the same layout.

    Packing copies each variable's values into the buffer and makes
    ``variable.data`` a view of it; the values do not change.

    Args:
        variables: the weights to pack (objects with an array ``.data``), in order.

    Attributes:
        variables: the packed weights, in order.
        data: ``{dtype: 1-D array}`` holding every weight of that dtype.
        grad: ``{dtype: 1-D array}`` of the same layout, for the gradients.
        grads: one gradient view per variable, shaped like it.

    Example:
        >>> import numpy as np
        >>> from chainrule.layers import Variable
        >>> a, b = Variable(np.ones((2, 2))), Variable(np.zeros(3))
        >>> buf = FlatBuffer([a, b])
        >>> buf.data[np.dtype("float64")].shape, a.data.base is buf.data[np.dtype("float64")]
        ((7,), True)
    """

    def __init__(self, variables: Sequence[Any]) -> None:
        xp = backend.xp
        self.variables = list(variables)
        self._checked: Any = None
        sizes: dict[Any, int] = {}
        for v in self.variables:
            sizes[v.data.dtype] = sizes.get(v.data.dtype, 0) + int(v.data.size)
        self.data = {dt: xp.empty(n, dtype=dt) for dt, n in sizes.items()}
        self.grad = {dt: xp.zeros(n, dtype=dt) for dt, n in sizes.items()}
        offsets = dict.fromkeys(sizes, 0)
        self.views: list = []
        self.grads: list = []
        self.spans: list = []
        for v in self.variables:
            dt, n, shape = v.data.dtype, int(v.data.size), v.data.shape
            a = offsets[dt]
            view = self.data[dt][a:a + n].reshape(shape)
            view[...] = v.data
            v.data = view
            self.views.append(view)
            self.grads.append(self.grad[dt][a:a + n].reshape(shape))
            self.spans.append((dt, a, a + n))
            offsets[dt] = a + n

    @property
    def single_dtype(self) -> Any:
        """The dtype when every weight has the same one, else None."""
        return next(iter(self.data)) if len(self.data) == 1 else None

    def intact(self) -> bool:
        """Whether every variable's ``.data`` is still its view (nobody replaced an array)."""
        for v, w in zip(self.variables, self.views):  # a loop: cheaper than all() per step
            if v.data is not w:
                return False
        return True

    def holds(self, variables: Sequence[Any]) -> bool:
        """Whether ``variables`` are exactly the packed ones, in order, with their views intact."""
        if variables is not self._checked:
            own = self.variables
            if len(variables) != len(own) or any(a is not b for a, b in zip(variables, own)):
                return False
            self._checked = variables  # the trainer passes the same list every step
        return self.intact()

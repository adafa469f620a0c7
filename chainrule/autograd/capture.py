"""Capture a step by running it once, and replay it on raw arrays.

A training step of a model with fixed shapes calls the same ops in the same
order every time: only the values in the batch, the weights and the random
draws change. So the step is run on the general path (layers → ops → tape)
while a :class:`Recorder` notes every :class:`~chainrule.autograd.Function`
call and where each of its inputs came from: a batch array (a *feed*), a
weight (read live from ``variable.data`` at every replay), the output of an
earlier op, or a constant. A second traced run must record the same program
— same ops, same configuration, same constants — or the step depends on
values in a way a replay cannot reproduce, and it is not captured. From then
on :class:`Program.run` calls each op's ``forward`` on raw arrays, then each
``backward`` in the order the tape used, with no Tensor objects, no
topological sort and no per-op dispatch. The maths is the ops' own: nothing
is written a second time, so a user's layer written with ``chainrule.ops``
is captured like a built-in one (Chainer's ``static_graph`` and tinygrad's
``TinyJit`` work the same way).

What invalidates a capture is the caller's business (the model keys its
programs by mode, input shapes and the identity of its weights); what makes a
step uncapturable is found here and reported as a reason naming the layer.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from chainrule.autograd import engine
from chainrule.autograd.engine import Function, Tensor
from chainrule.autograd.variable import Variable

__all__ = ["Recorder", "Program", "NotCapturable", "trace", "inference_generation",
           "new_inference_generation", "in_inference_pass", "inference_pass"]

# input kinds of a recorded op
_SLOT, _FEED, _VAR, _CONST = 0, 1, 2, 3

_generation = 0
_passes = threading.local()  # .depth: how many inference_pass blocks this thread is in


def inference_generation() -> int:
    """The number of the current inference pass (see :func:`inference_pass`).

    Returns:
        An int that changes whenever a pass starts or ends, and at every
        :func:`new_inference_generation`.

    >>> new_inference_generation() == inference_generation()
    True
    """
    return _generation


def new_inference_generation() -> int:
    """Start a new generation: what a forward-only op computed from the weights (e.g. a
    recurrent op's projected embedding table) is not used again.

    Returns:
        The new generation number.

    >>> new_inference_generation() + 1 == new_inference_generation()
    True
    """
    global _generation
    _generation += 1
    return _generation


def in_inference_pass() -> bool:
    """Whether this thread runs inside :func:`inference_pass`.

    >>> in_inference_pass()
    False
    """
    return getattr(_passes, "depth", 0) > 0


@contextlib.contextmanager
def inference_pass() -> Iterator[None]:
    """One ``predict`` or ``evaluate`` call: the weights stay as they are inside, so a
    forward-only op may keep what it computed from them for the rest of the block. The
    generation changes as the block starts and ends; outside any block, every inference step
    of a model (:class:`chainrule.models.step.StepFactory`) starts a new one.

    >>> with inference_pass():
    ...     in_inference_pass()
    True
    """
    new_inference_generation()
    _passes.depth = getattr(_passes, "depth", 0) + 1
    try:
        yield
    finally:
        _passes.depth -= 1
        new_inference_generation()


class NotCapturable(Exception):
    """The traced step cannot be replayed; ``str(e)`` says which layer and why."""


class Recorder:
    """Collects the ops of one traced run (installed by :func:`trace`).

    Args:
        feeds: the Tensors that stand for the batch (inputs, targets, weights).
    """

    def __init__(self, feeds: Sequence[Tensor]) -> None:
        self.thread = threading.get_ident()  # ops of other threads are not this step's
        self.feed_ids = {id(t): i for i, t in enumerate(feeds)}
        self.feeds = list(feeds)  # keep them alive: ids must stay unique
        self.nodes: list = []  # (fn, inputs, out, config, layer name)
        self.out_ids: dict[int, int] = {}
        self.layers: list[str] = []
        self.problem: str | None = None
        self._configs: dict[int, dict] = {}
        self.condensed = False  # see condense: nodes hold (op type, classified inputs, ...)

    # -- hooks called by the engine and by Layer.__call__ ------------------------------
    def before(self, fn: Function) -> None:
        if threading.get_ident() == self.thread:
            self._configs[id(fn)] = dict(getattr(fn, "__dict__", {}))

    def after(self, fn: Function, inputs: tuple, out: Tensor) -> None:
        if threading.get_ident() != self.thread:
            return
        config = self._configs.pop(id(fn), {})
        self.out_ids[id(out)] = len(self.nodes)
        self.nodes.append((fn, inputs, out, config, self.layers[-1] if self.layers else None))

    def value_read(self, t: Tensor, how: str) -> None:
        if threading.get_ident() != self.thread:
            return
        if self.problem is None and (id(t) in self.out_ids or id(t) in self.feed_ids
                                     or _is_variable(t)):
            where = f'layer "{self.layers[-1]}"' if self.layers else "the loss"
            self.problem = (f"{where} reads the value of a tensor ({how}) while computing, so "
                            "its Python code may depend on the data")

    def side_effect(self, what: str) -> None:
        """Note something the step does outside the ops (a replay would not do it again)."""
        if self.problem is None and threading.get_ident() == self.thread:
            where = f'layer "{self.layers[-1]}"' if self.layers else "the step"
            self.problem = f"{where} {what} while computing, which a replay would not repeat"

    def push_layer(self, name: str) -> None:
        if threading.get_ident() == self.thread:
            self.layers.append(name)

    def pop_layer(self) -> None:
        if threading.get_ident() == self.thread:
            self.layers.pop()

    def condense(self, variables: Sequence[Any]) -> None:
        """Keep only what :meth:`Program.from_traces` compares of this trace.

        Each op becomes its type, its inputs' classification (which op's output,
        which feed, which weight, or the constant's value) and its configuration;
        the ops themselves, with the arrays they saved for their backward, and the
        batch's tensors are let go. The trainer condenses the first of the two traces
        it compares, so that the first step's activations are not held while the
        second step runs (they would raise the peak memory of the capture).

        Args:
            variables: the weights, as :meth:`Program.from_traces` will be given them.
        """
        if self.condensed:
            return
        var_index = {id(v): i for i, v in enumerate(variables)}
        self.nodes = [(type(fn), tuple(_classify(self, x, var_index) for x in inputs), None,
                       config, layer) for fn, inputs, _, config, layer in self.nodes]
        self.feeds = []
        self.condensed = True

    def creator_of(self, t: Tensor) -> Function | None:
        """The recorded op that made ``t`` (also under ``no_grad``), or None."""
        i = self.out_ids.get(id(t))
        return None if i is None else self.nodes[i][0]


def trace(fn: Callable[[], Any], feeds: Sequence[Tensor]) -> tuple[Any, Recorder]:
    """Run ``fn()`` while recording every op; returns ``(fn's result, recorder)``.

    Args:
        fn: the step to trace (forward and loss), returning its output Tensors.
        feeds: the Tensors that hold this batch's arrays.

    Returns:
        ``fn()``'s result and the :class:`Recorder` with its ops.
    """
    if engine._recorder is not None:  # a traced step inside a traced step: record the outer
        return fn(), engine._recorder
    rec = Recorder(feeds)
    engine._recorder = rec
    try:
        result = fn()
    finally:
        engine._recorder = None
    return result, rec


def _same(a: Any, b: Any) -> bool:
    """Equal configuration values: arrays by dtype, shape and contents."""
    if a is b:
        return True
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and _same(a.data, b.data)
    if hasattr(a, "dtype") and hasattr(a, "shape") or hasattr(b, "dtype") and hasattr(b, "shape"):
        if type(a) is not type(b) or a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool((a == b).all()) if a.dtype.kind != "f" else bool(
            np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - objects without a usable ==: the same object only
        return False



class _Spent:
    """What a captured op keeps of a traced input: its shape and dtype, not its array (a
    replayed backward may ask an input's shape; holding the traced step's activations would
    keep a second copy of them alive for as long as the program lives)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, t: Tensor) -> None:
        self.shape, self.dtype = t.data.shape, t.data.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

class Program:
    """A recorded step, replayable on raw arrays.

    Built by :meth:`from_traces` from two traced runs of the same step.

    Attributes:
        n_feeds: how many arrays :meth:`run` takes.
        variables: the weights whose gradients :meth:`run` computes, in order.
    """

    def __init__(self) -> None:
        self.fwd: list = []  # (fn, ((kind, ref), ...))
        self.bwd: list = []  # (slot, fn, ((position, kind, target), ...))
        self.outputs: list = []  # (kind, ref) per returned array
        self.root: int = -1
        self.variables: list = []
        self.n_feeds = 0
        self.bound: Any = None
        self._code: tuple | None = None  # (forward, backward, source), made on first run
        self._one: Any = None
        self._scale: float | None = None  # the seed's value when not 1 (see run)

    @classmethod
    def from_traces(cls, first: Recorder, second: Recorder, outputs: Sequence[Tensor],
                    loss: Tensor | None, variables: Sequence[Any]) -> "Program":
        """Check that two traces recorded the same program and build it from the second.

        Args:
            first, second: recorders of two runs of the same step on different batches.
            outputs: the second run's Tensors whose arrays :meth:`run` returns.
            loss: the second run's scalar loss to differentiate, or None (forward only).
            variables: the weights to differentiate for, in the order of the gradients.

        Returns:
            The program.

        Raises:
            NotCapturable: naming the layer and the reason, when the traces differ
                or the step does something a replay cannot reproduce.
        """
        for rec in (first, second):
            if rec.problem is not None:
                raise NotCapturable(rec.problem)
        if len(first.nodes) != len(second.nodes):
            raise NotCapturable(_where(second, first) + "calls a different number of ops on two "
                                "batches (Python control flow that depends on the data?)")
        prog = cls()
        var_index = {id(v): i for i, v in enumerate(variables)}
        prog.variables = list(variables)
        prog.n_feeds = len(second.feeds)
        for (f1, in1, _, c1, _), (f2, in2, _, c2, layer) in zip(first.nodes, second.nodes):
            where = f'layer "{layer}"' if layer else "the loss"
            op = type(f2).__name__
            t1 = _op_type(f1)
            if t1 is not type(f2) or len(in1) != len(in2):
                raise NotCapturable(f"{where} calls different ops on two batches ({t1.__name__}"
                                    f" then {op}): Python control flow that depends on the data?")
            if not _same(c1, c2):
                raise NotCapturable(f"{where} configures op {op} differently on two batches "
                                    "(a setting computed from the data?)")
            spec = []
            for a, b in zip(in1, in2):
                k1, r1 = a if first.condensed else _classify(first, a, var_index)
                k2, r2 = _classify(second, b, var_index)
                if k1 != k2 or (k1 in (_SLOT, _FEED, _VAR) and r1 != r2) or (
                        k1 == _CONST and not _same(r1, r2)):
                    raise NotCapturable(
                        f"{where} passes op {op} an input that changes from batch to batch but "
                        "is not computed by chainrule ops (an array made from the data in NumPy, "
                        "or a random draw outside an op?)")
                if k2 == _VAR:
                    r2 = b  # the variable object itself: its .data is read at every replay
                spec.append((k2, r2))
            prog.fwd.append((f2, tuple(spec)))
        prog._link_reuse()
        prog.outputs = [_classify(second, t, var_index) if isinstance(t, Tensor) else (_CONST, t)
                        for t in outputs]
        for k, _ in prog.outputs:
            if k == _CONST:
                raise NotCapturable("the step's outputs are not computed by chainrule ops")
        prog._link_absorb()
        if loss is not None:
            prog._plan_backward(second, loss, var_index)
        else:
            prog._link_inputs()
        for fn, _ in prog.fwd:  # the traced step's tensors are not the replay's: let them go
            traced = getattr(fn, "inputs", None)
            if traced:
                fn.inputs = tuple(_Spent(t) if isinstance(t, Tensor) else t for t in traced)
        return prog

    def _uses(self) -> dict:
        """How many times each op's output is read: by later ops and as a returned output."""
        uses: dict = {}
        for _, spec in self.fwd:
            for k, r in spec:
                if k == _SLOT:
                    uses[r] = uses.get(r, 0) + 1
        for k, r in self.outputs:
            if k == _SLOT:
                uses[r] = uses.get(r, 0) + 1
        return uses

    def _link_absorb(self) -> None:
        """Offer an op with an ``absorb(producer, sole)`` method whose first input is an
        earlier op's output that op (in order, so a chain is offered link by link), and
        whether this op is its only reader. An op that accepts does the producer's last
        elementwise pass itself, in the same pass as its own, with the same arithmetic (e.g.
        a max pooling of a ReLU of a convolution's output adds the bias, takes the ReLU and
        the maximum in one compiled loop; its backward routes the gradient and applies the
        ReLU's mask in one); the producer then hands its input on. Training and forward-only
        programs alike: the results are bit-identical to the ops run one by one.
        """
        uses = self._uses()
        for fn, spec in self.fwd:
            absorb = getattr(fn, "absorb", None)
            if absorb is not None and spec and spec[0][0] == _SLOT:
                absorb(self.fwd[spec[0][1]][0], uses[spec[0][1]] == 1)

    def _link_reuse(self) -> None:
        """Let an op reuse what an earlier op computed from the same first input.

        An op with a ``reuse(other)`` method (e.g. a softmax cross-entropy after
        the model's softmax output on the same logits) is offered each earlier op
        on its first input, nearest first, until it accepts one; it then reads
        that op's intermediates of the same replay instead of recomputing them
        (bit-identical: the same operations).
        """
        for j, (fn, spec) in enumerate(self.fwd):
            reuse = getattr(fn, "reuse", None)
            if reuse is None or not spec or spec[0][0] not in (_SLOT, _FEED):
                continue
            for i in range(j - 1, -1, -1):
                other, ospec = self.fwd[i]
                if ospec and ospec[0] == spec[0] and reuse(other):
                    break

    def _link_inputs(self) -> None:
        """In a forward-only program, tell an op with a ``forward_only`` attribute that no
        backward follows (setting it True: e.g. a convolution need not keep its patches),
        and offer an op with a ``fuse_input(producer, sole)`` method
        whose first input is an earlier op's output that op, and whether this op is its
        output's only reader (no other op, not a returned output): a recurrent op after an
        ``Embedding`` op gathers rows of a projected table (``chainrule.ops.rnn``), and an
        ``Embedding`` read by it alone need not gather its rows at all.
        """
        uses = self._uses()
        for fn, _ in self.fwd:
            if hasattr(fn, "forward_only"):  # it need not keep what only a backward reads
                fn.forward_only = True
        for fn, spec in self.fwd:
            fuse = getattr(fn, "fuse_input", None)
            if fuse is not None and spec and spec[0][0] == _SLOT:
                fuse(self.fwd[spec[0][1]][0], uses[spec[0][1]] == 1)

    def _plan_backward(self, rec: Recorder, loss: Tensor, var_index: dict) -> None:
        """The backward pass in exactly the tape's order (so sums round identically)."""
        root = rec.out_ids.get(id(loss))
        if root is None:
            raise NotCapturable("the loss is not computed by chainrule ops")
        self.root = root
        for t in reversed(engine._topological_order(loss)):
            slot = rec.out_ids.get(id(t))
            if slot is None:
                continue  # a leaf: weights get their sum when popped, as on the tape
            fn = rec.nodes[slot][0]
            if fn is not t.creator:
                raise NotCapturable("an op's output was made by another op than recorded")
            targets = []
            for pos, (x, need) in enumerate(zip(fn.inputs, fn.needs)):
                if not need:
                    continue
                if id(x) in rec.out_ids:
                    targets.append((pos, _SLOT, rec.out_ids[id(x)]))
                elif id(x) in var_index:
                    targets.append((pos, _VAR, var_index[id(x)]))
                else:
                    where = f'layer "{rec.nodes[slot][4]}"' if rec.nodes[slot][4] else "the loss"
                    raise NotCapturable(f"{where} differentiates a tensor that is neither a "
                                        "weight of the model nor computed by chainrule ops")
            self.bwd.append((slot, fn, tuple(targets)))

    def run(self, feeds: Sequence[Any], grads_out: Sequence[Any] | None = None,
            scale: float | None = None) -> list:
        """Replay the step on raw arrays.

        Args:
            feeds: the batch's arrays, in the order of the traced feeds.
            grads_out: one array per variable, overwritten with its gradient
                (zeros where the loss does not depend on it); None for a
                forward-only program.
            scale: the gradients of ``loss * scale`` instead (an optimizer's
                ``loss_scale_factor``), as the tape's ``backward_for_training``.

        Returns:
            The arrays of the traced outputs.
        """
        code = self._code
        if code is None:
            code = self._code = _compile(self)
        out, loss = code[0](feeds)
        if grads_out is None or self.root < 0:
            return out
        if grads_out is not self.bound:
            self.bind_gradients(grads_out)
        one = self._one
        if (one is None or one.shape != np.shape(loss) or one.dtype != loss.dtype
                or self._scale != scale):
            one = self._one = (np.ones_like(loss) if isinstance(loss, (np.ndarray, np.generic))
                               else _ones_like(loss))
            if scale is not None:
                one[...] = scale  # the seed of loss * scale's backward, as on the tape
            self._scale = scale
            one.flags.writeable = False  # shared by every replay: no op may write into it
        code[1](one, grads_out)
        return out

    def source(self) -> str:
        """The Python source the replay runs (for reading; see :func:`_compile`)."""
        return _compile(self)[2]

    def bind_gradients(self, grads_out: Sequence[Any]) -> None:
        """Let ops write each weight's gradient straight into ``grads_out`` (no copy).

        Only where the weight gets one contribution and the op supports it
        (``Function.grad_out``); the numbers are the same as without.
        """
        count: dict = {}
        for _, _, targets in self.bwd:
            for _, kind, t in targets:
                if kind == _VAR:
                    count[t] = count.get(t, 0) + 1
        for _, fn, targets in self.bwd:
            outs = {pos: grads_out[t] for pos, kind, t in targets
                    if kind == _VAR and count[t] == 1 and fn.supports_grad_out}
            fn.grad_out = outs or None
        self.bound = grads_out


def _compile(prog: Program) -> tuple:
    """The program as two Python functions of straight-line code: forward and backward.

    The forward calls each op's ``forward`` on its inputs by name (``v3 =
    F3(v1, W0.data)``); the backward seeds the loss's gradient and calls each
    ``backward`` in the tape's order, summing a tensor's gradients in the order
    the tape does, skipping an op no gradient reached, and freeing a gradient
    once used; last, each weight's gradient lands in ``grads_out`` (zeros
    where none reached it). The same calls as a loop over the recorded ops
    would make, without the loop's indexing and bookkeeping per op.

    Returns:
        ``(forward(feeds) -> (outputs, loss), backward(one, grads_out), source)``.
    """
    env: dict = {}
    lines = ["def forward(feeds):"]

    def ref(kind: int, r: Any, name: str) -> str:
        if kind == _SLOT:
            return f"v{r}"
        if kind == _FEED:
            return f"feeds[{r}]"
        env[name] = r
        return f"{name}.data" if kind == _VAR else name

    for i, (fn, spec) in enumerate(prog.fwd):
        env[f"F{i}"] = fn.forward
        args = ", ".join(ref(k, r, f"C{i}_{j}") for j, (k, r) in enumerate(spec))
        lines.append(f"    v{i} = F{i}({args})")
    outs = ", ".join(ref(k, r, f"O{j}") for j, (k, r) in enumerate(prog.outputs))
    loss = f"v{prog.root}" if prog.root >= 0 else "None"
    lines.append(f"    return [{outs}], {loss}")
    if not prog.fwd:  # no op at all: outputs are feeds or weights
        lines.insert(1, "    pass")
    n = len(prog.fwd)
    lines.append("def backward(one, grads_out):")
    names = [f"g{i}" for i in range(n)] + [f"w{k}" for k in range(len(prog.variables))]
    for chunk in range(0, len(names), 64):
        lines.append("    " + " = ".join(names[chunk:chunk + 64]) + " = None")
    if prog.root >= 0:
        lines.append(f"    g{prog.root} = one")
    for slot, fn, targets in prog.bwd:
        env[f"B{slot}"] = fn.backward
        lines.append(f"    if g{slot} is not None:")
        lines.append(f"        gs = B{slot}(g{slot})")
        lines.append(f"        g{slot} = None")  # freed once used, as the tape does
        for pos, kind, t in targets:
            dst = f"g{t}" if kind == _SLOT else f"w{t}"
            lines.append(f"        x = gs[{pos}]")
            lines.append("        if x is not None:")
            lines.append(f"            {dst} = x if {dst} is None else {dst} + x")
    for k in range(len(prog.variables)):
        lines.append(f"    d = grads_out[{k}]")
        lines.append(f"    if w{k} is None:")
        lines.append("        d.fill(0)")
        lines.append(f"    elif w{k} is not d:")  # ops that honour grad_out wrote there already
        lines.append(f"        d[...] = w{k}")
    src = "\n".join(lines) + "\n"
    exec(compile(src, "<chainrule captured step>", "exec"), env)  # noqa: S102 - our own code
    return env["forward"], env["backward"], src


def _ones_like(a: Any) -> Any:
    from chainrule import backend  # noqa: PLC0415

    return backend.xp.ones_like(a)


def _classify(rec: Recorder, x: Any, var_index: dict) -> tuple:
    if isinstance(x, Tensor):
        i = rec.out_ids.get(id(x))
        if i is not None:
            return _SLOT, i
        i = rec.feed_ids.get(id(x))
        if i is not None:
            return _FEED, i
        if id(x) in var_index or _is_variable(x):
            return _VAR, id(x)
        return _CONST, x.data
    return _CONST, x


def _is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


def _op_type(node_op: Any) -> type:
    """The op's class, from a recorded op or a condensed trace's type."""
    return node_op if isinstance(node_op, type) else type(node_op)


def _where(rec: Recorder, other: Recorder) -> str:
    for a, b in zip(rec.nodes, other.nodes):
        if _op_type(a[0]) is not _op_type(b[0]):
            return f'layer "{a[4]}" ' if a[4] else "the loss "
    return "the step "

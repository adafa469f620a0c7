"""Workload definitions and synthetic data shared by every framework runner.

A workload is a small, framework-neutral description of a model, its training settings and the data
it runs on. Each runner (``fw_*.py``) turns it into its own framework's objects, so all frameworks
train the same architecture, with the same initialization scheme (Glorot-uniform kernels, zero
biases), the same optimizer settings and the same data.

This module imports only NumPy, so the orchestrator and every child process can use it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

#: Seed for the synthetic data and for every framework's weight initialization.
SEED = 1234

#: Adam settings shared by all frameworks (Keras defaults; PyTorch's eps is set to match).
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Attributes:
        key: One-letter name used on the command line (``a`` ... ``g``).
        title: Short human-readable description for the results table.
        kind: ``"train"`` (time an epoch of ``fit``) or ``"predict"`` (time one ``predict`` call).
        input_shape: Shape of one sample; a 2-D shape means the model starts with ``Flatten``.
        hidden: Widths of the hidden ``Dense`` layers.
        hidden_activation: Activation of the hidden layers.
        outputs: Width of the output layer.
        output_activation: Activation of the output layer (``"softmax"`` or ``"sigmoid"``).
        loss: Keras loss name (``"sparse_categorical_crossentropy"`` or ``"mse"``).
        metrics: Keras metric names compiled into the model.
        optimizer: ``"adam"`` or ``"sgd"``.
        learning_rate: Optimizer learning rate.
        batch_size: Mini-batch size for training or prediction.
        samples: Number of samples in the full run.
        quick_samples: Number of samples with ``--quick``.
        timed_epochs: Epochs timed in one call (the reported time is per epoch).
        data: ``"classification"`` (random pixels, 10 classes) or ``"regression"`` (seed 003).
        antirectifier: Index of the hidden ``Dense`` layer followed by an antirectifier layer
            (see :data:`ANTIRECTIFIER`), or None for a plain stack. The antirectifier has no
            weights and doubles the width, so the next ``Dense`` layer's fan-in doubles.
        spec: The whole model as ``(Keras layer class name, kwargs)`` pairs after an ``Input`` of
            ``input_shape``, or None for the Dense stack the fields above describe. Each runner
            builds it by name (``fw_torch.py`` translates with a table); ``hidden`` is then
            unused and ``outputs`` is the last layer's width. :func:`spec_shapes` follows the
            shapes through it for the parameter and FLOP counts.
    """

    key: str
    title: str
    kind: str
    input_shape: tuple[int, ...]
    hidden: tuple[int, ...]
    hidden_activation: str
    outputs: int
    output_activation: str
    loss: str
    metrics: tuple[str, ...]
    optimizer: str
    learning_rate: float
    batch_size: int
    samples: int
    quick_samples: int
    timed_epochs: int = 1
    data: str = "classification"
    antirectifier: int | None = None
    spec: tuple | None = None

    @property
    def flatten(self) -> bool:
        """Whether the model starts with a ``Flatten`` layer (Dense stacks only)."""
        return self.spec is None and len(self.input_shape) > 1

    @property
    def layer_sizes(self) -> list[int]:
        """Input width followed by the width of every ``Dense`` layer."""
        return [math.prod(self.input_shape), *self.hidden, self.outputs]

    @property
    def dense_shapes(self) -> list[tuple[int, int]]:
        """``(fan_in, fan_out)`` of every ``Dense`` layer, after any antirectifier's doubling."""
        shapes = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(self.layer_sizes)):
            if self.antirectifier is not None and i == self.antirectifier + 1:
                fan_in *= 2
            shapes.append((fan_in, fan_out))
        return shapes

    @property
    def parameters(self) -> int:
        """Number of trainable parameters (kernels and biases)."""
        if self.spec is not None:
            return sum(p for _, _, p, _ in spec_shapes(self.input_shape, self.spec))
        return sum(a * b + b for a, b in self.dense_shapes)

    def n_samples(self, quick: bool) -> int:
        """Samples used in a full or a ``--quick`` run."""
        return self.quick_samples if quick else self.samples

    def steps(self, quick: bool) -> int:
        """Batches per epoch (or per ``predict`` call), counting a final partial batch."""
        return math.ceil(self.n_samples(quick) / self.batch_size)

    def flops(self, quick: bool) -> float:
        """Matrix-product floating-point operations per timed unit (one epoch or one call).

        Training costs three products per layer (forward, input gradient, weight gradient), each
        ``2 × fan_in × fan_out`` per sample: ``6 × parameters × samples``. Prediction is the
        forward product only: ``2 × parameters × samples``.
        """
        per_sample = 6 if self.kind == "train" else 2
        if self.spec is not None:  # a kernel is applied at every output position: count MACs
            macs = [m for _, _, _, m in spec_shapes(self.input_shape, self.spec)]
            total = per_sample * sum(macs)
            if self.kind == "train":  # nobody computes the gradient of the data itself
                total -= 2 * next((m for m in macs if m), 0)
            return float(total * self.n_samples(quick))
        return float(per_sample * self.parameters * self.n_samples(quick))


def spec_shapes(input_shape: tuple[int, ...], spec: tuple) -> list[tuple[str, tuple, int, int]]:
    """Follow a channels-last ``spec`` layer by layer.

    Knows the layers the workloads use: ``Conv1D``/``Conv2D`` (``valid``/``same`` padding,
    strides), ``MaxPooling*``/``AveragePooling*``, ``Flatten``, ``Dropout`` and ``Dense``.

    Returns:
        ``(class name, output shape, parameters, multiply-adds per sample)`` per layer.
    """
    shape, out = tuple(input_shape), []
    for name, kw in spec:
        params = macs = 0
        if name in ("Conv1D", "Conv2D"):
            rank = len(shape) - 1
            k = _tuple(kw["kernel_size"], rank)
            s = _tuple(kw.get("strides", 1), rank)
            same = kw.get("padding", "valid") == "same"
            spatial = tuple(-(-n // st) if same else (n - kk) // st + 1
                            for n, kk, st in zip(shape[:-1], k, s))
            fan_in = math.prod(k) * shape[-1]
            params = fan_in * kw["filters"] + kw["filters"]
            macs = fan_in * kw["filters"] * math.prod(spatial)
            shape = (*spatial, kw["filters"])
        elif "Pooling" in name:
            rank = len(shape) - 1
            p = _tuple(kw.get("pool_size", 2), rank)
            s = _tuple(kw.get("strides") or p, rank)
            shape = (*((n - pp) // st + 1 for n, pp, st in zip(shape[:-1], p, s)), shape[-1])
        elif name == "Flatten":
            shape = (math.prod(shape),)
        elif name == "Dense":
            params = shape[-1] * kw["units"] + kw["units"]
            macs = shape[-1] * kw["units"]
            shape = (*shape[:-1], kw["units"])
        elif name != "Dropout":
            raise ValueError(f"spec_shapes does not know layer {name!r}. Received: {name!r}")
        out.append((name, shape, params, macs))
    return out


def _tuple(v, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (int(v),) * n


_CLASSIFIER = {
    "hidden_activation": "relu",
    "outputs": 10,
    "output_activation": "softmax",
    "loss": "sparse_categorical_crossentropy",
    "metrics": ("accuracy",),
    "optimizer": "adam",
    "learning_rate": 1e-3,
}

#: keras-io's "Simple MNIST convnet", channels last.
MNIST_CONVNET = (
    ("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
    ("MaxPooling2D", {"pool_size": 2}),
    ("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
    ("MaxPooling2D", {"pool_size": 2}),
    ("Flatten", {}),
    ("Dropout", {"rate": 0.5}),
    ("Dense", {"units": 10, "activation": "softmax"}),
)

WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in [
        Workload(
            key="a", title="seed Fashion-MNIST: Flatten(28×28) → Dense(10, softmax), batch 32",
            kind="train", input_shape=(28, 28), hidden=(), batch_size=32,
            samples=60_000, quick_samples=4_096, **_CLASSIFIER,
        ),
        Workload(
            key="b", title="784-256-256-10 ReLU MLP, batch 32", kind="train", input_shape=(784,),
            hidden=(256, 256), batch_size=32, samples=60_000, quick_samples=4_096, **_CLASSIFIER,
        ),
        Workload(
            key="c", title="784-256-256-10 ReLU MLP, batch 256", kind="train", input_shape=(784,),
            hidden=(256, 256), batch_size=256, samples=60_000, quick_samples=4_096, **_CLASSIFIER,
        ),
        Workload(
            key="d", title="784-1024-1024-10 ReLU MLP, batch 512", kind="train",
            input_shape=(784,), hidden=(1024, 1024), batch_size=512, samples=60_000,
            quick_samples=4_096, **_CLASSIFIER,
        ),
        Workload(
            key="e", title="predict, 784-256-256-10 MLP, 10,000 samples, batch 32",
            kind="predict", input_shape=(784,), hidden=(256, 256), batch_size=32,
            samples=10_000, quick_samples=2_048, **_CLASSIFIER,
        ),
        Workload(
            key="f", title="seed 003 regression: 2-3-1 sigmoid, SGD 0.01, MSE, batch 32, 50 epochs",
            kind="train", input_shape=(2,), hidden=(3,), hidden_activation="sigmoid", outputs=1,
            output_activation="sigmoid", loss="mse", metrics=("mae", "mse"), optimizer="sgd",
            learning_rate=0.01, batch_size=32, samples=1_000, quick_samples=1_000,
            timed_epochs=50, data="regression",
        ),
        Workload(
            key="g", title="custom layer: 784-256-[antirectifier]-256-10 ReLU MLP, batch 32",
            kind="train", input_shape=(784,), hidden=(256, 256), batch_size=32, samples=60_000,
            quick_samples=4_096, antirectifier=0, **_CLASSIFIER,
        ),
        Workload(
            key="h", title="keras-io MNIST convnet (Conv2D 32, 64 + pools), 6,000 samples, batch 128",
            kind="train", input_shape=(28, 28, 1), hidden=(), batch_size=128, samples=6_000,
            quick_samples=1_024, spec=MNIST_CONVNET, **_CLASSIFIER,
        ),
        Workload(
            key="i", title="predict, keras-io MNIST convnet, 10,000 samples, batch 128",
            kind="predict", input_shape=(28, 28, 1), hidden=(), batch_size=128, samples=10_000,
            quick_samples=1_024, spec=MNIST_CONVNET, **_CLASSIFIER,
        ),
    ]
}

#: What every runner's antirectifier layer computes, per sample ``x`` (a row of features): the
#: 2016 Keras example's custom layer (``keras/examples/antirectifier.py``; keras-io's current
#: recipe of that name replaces the normalization by a learned ``2d → d`` kernel). The
#: normalization is ``K.l2_normalize``'s (TensorFlow's ``l2_normalize``, epsilon 1e-12).
ANTIRECTIFIER = """\
x = x - mean(x, axis=-1, keepdims=True)
x = x / sqrt(maximum(sum(x * x, axis=-1, keepdims=True), 1e-12))
return concatenate([relu(x), relu(-x)], axis=-1)      # twice as wide
"""

#: The epsilon under the antirectifier's square root (``tf.math.l2_normalize``'s default).
ANTIRECTIFIER_EPSILON = 1e-12


def make_data(workload: Workload, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Build the workload's data deterministically from :data:`SEED`.

    Classification: standard-normal float32 features of shape ``(n, 784)`` (reshaped to
    ``(n, 28, 28)`` when the model flattens), like standardized pixels, and int64 labels in
    ``[0, 10)`` given by a fixed random linear "teacher" (``argmax(x @ T)``), so every framework
    has something to learn and its loss and accuracy can be compared.

    NOTE: not uniform [0, 1) pixels with random labels. With those, Adam kills almost every ReLU
    unit of the MLPs within one epoch; the first moments of the dead weights decay into float32
    subnormals and stay there, and NumPy and PyTorch (which, unlike TensorFlow, do not flush
    subnormals to zero) then spend most of each step on slow subnormal arithmetic. That would
    measure a degenerate network, not the frameworks.

    Regression: seed 003's ``make_samples`` (study and sleep hours uniform in [1, 8],
    ``y = 5·study + 2·sleep + 40``, both normalized), as float32 with ``y`` of shape ``(n, 1)``.

    Args:
        workload: The workload to build data for.
        quick: Use the smaller ``--quick`` sample count.

    Returns:
        ``(x, y)`` as C-contiguous NumPy arrays.
    """
    n = workload.n_samples(quick)
    rng = np.random.default_rng(SEED)
    if workload.data == "regression":
        study = rng.uniform(1, 8, (n, 1))
        sleep = rng.uniform(1, 8, (n, 1))
        y = 5 * study + 2 * sleep + 40
        x = np.append(study, sleep, axis=1)
        x = x / np.amax(x, axis=0)
        return x.astype(np.float32), (y / 100).astype(np.float32)
    features = math.prod(workload.input_shape)
    teacher = rng.standard_normal((features, workload.outputs), dtype=np.float32)
    x = rng.standard_normal((n, features), dtype=np.float32)
    y = (x @ teacher).argmax(axis=1).astype(np.int64)
    return np.ascontiguousarray(x.reshape((n, *workload.input_shape))), y


def subnormal_count(array: np.ndarray) -> int:
    """Entries of a float32 array that are subnormal (nonzero and below the smallest normal)."""
    tiny = np.finfo(np.float32).tiny
    return int(np.count_nonzero((array != 0) & (np.abs(array) < tiny)))


def glorot_limit(fan_in: int, fan_out: int) -> float:
    """Half-width of the Glorot (Xavier) uniform distribution for a kernel."""
    return math.sqrt(6.0 / (fan_in + fan_out))


# -- sequence workloads (j), (k), (l) ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SequenceWorkload:
    """A text-classification workload: token ids → Embedding → recurrent layer → Dense(1).

    Attributes:
        key: ``j``, ``k`` or ``l``.
        title: description for the results table.
        kind: ``"train"`` (one epoch of ``fit``) or ``"predict"`` (one ``predict`` call).
        spec: the model as ``(Keras layer class name, kwargs)`` pairs, built by name.
        timesteps: sequence length.
        vocabulary: the Embedding's ``input_dim``.
        batch_size: batch size.
        samples: samples in the timed unit; quick_samples with ``--quick``.
    """

    key: str
    title: str
    kind: str
    spec: tuple
    timesteps: int = 200
    vocabulary: int = 20_000
    batch_size: int = 32
    samples: int = 3_200
    quick_samples: int = 640
    learning_rate: float = 1e-3

    def n_samples(self, quick: bool) -> int:
        """Samples used in a full or a ``--quick`` run."""
        return self.quick_samples if quick else self.samples


def _text_model(recurrent: str) -> tuple:
    return (("Embedding", {"input_dim": 20_000, "output_dim": 128}),
            (recurrent, {"units": 64}),
            ("Dense", {"units": 1, "activation": "sigmoid"}))


SEQUENCE_WORKLOADS: dict[str, SequenceWorkload] = {
    w.key: w
    for w in [
        SequenceWorkload("j", "Embedding(20000, 128) → LSTM(64) → Dense(1, sigmoid), length 200, "
                         "batch 32, Adam, 3,200 samples", "train", _text_model("LSTM")),
        SequenceWorkload("k", "the same with GRU(64)", "train", _text_model("GRU")),
        SequenceWorkload("l", "predict of (j)'s model, 3,200 samples, batch 32", "predict",
                         _text_model("LSTM")),
    ]
}


def make_sequence_data(workload: SequenceWorkload, quick: bool = False) -> tuple:
    """Token ids in ``[1, vocabulary)`` of shape ``(n, timesteps)`` (int32) and 0/1 labels
    ``(n, 1)`` (float32) given by a fixed random per-token score, from :data:`SEED`."""
    n = workload.n_samples(quick)
    rng = np.random.default_rng(SEED)
    x = rng.integers(1, workload.vocabulary, (n, workload.timesteps)).astype(np.int32)
    score = rng.standard_normal(workload.vocabulary).astype(np.float32)
    y = (score[x].mean(axis=1) > 0).astype(np.float32)[:, None]
    return x, y

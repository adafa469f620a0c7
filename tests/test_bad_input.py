"""The bad-input table of docs/errors.md: one test per row.

Every row feeds chainrule one mistake and checks the exact error it gets:
its type and the start of its message (and, where the row says so, that the
message ends with what was received). Rows chainrule does not get right yet
are marked ``xfail(strict=True)`` with the fix they need, so they turn into
failures (and must be unmarked) as soon as the fix lands.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import InvalidArchiveError, UnsafeFileError, WeightMismatchError

L = cr.layers
DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "errors.md")

X = np.random.default_rng(0).random((10, 5)).astype("float32")
Y = np.arange(10) % 3


def mlp(loss=None, out=3, activation="softmax", compile=True, **compile_kwargs):  # noqa: A002
    model = cr.Sequential([L.Dense(4, input_dim=5, activation="relu", name="hidden"),
                           L.Dense(out, activation=activation, name="out")])
    if compile:
        model.compile(optimizer="sgd", loss=loss or "sparse_categorical_crossentropy",
                      **compile_kwargs)
    return model


def compiled(*stack, loss="sparse_categorical_crossentropy"):
    model = cr.Sequential(list(stack))
    model.compile(optimizer="sgd", loss=loss)
    return model


def fit(model=None, x=X, y=Y, **kwargs):
    kwargs.setdefault("verbose", 0)
    return (model or mlp()).fit(x, y, **kwargs)


def with_nan(a, where):
    a = np.array(a, dtype="float32")
    a[where] = np.nan
    return a


def exploding(**fit_kwargs):
    """A regression that diverges: the loss becomes inf/NaN within the first epoch."""
    model = cr.Sequential([L.Dense(4, input_dim=5), L.Dense(1)])
    model.compile(optimizer=cr.optimizers.SGD(1e4), loss="mse")
    y = np.linspace(0, 100, 10, dtype="float32")[:, None]
    with np.errstate(all="ignore"):  # NumPy's overflow warnings
        model.fit(X, y, epochs=3, batch_size=2, verbose=0, **fit_kwargs)
    return model


class _ValueBranch(L.Layer):
    """A layer whose Python code depends on the data: a replay cannot reproduce it."""

    def call(self, x):
        return cr.ops.relu(x) if float(cr.ops.mean(x)) > 0 else x


def _value_branch_model():
    model = cr.Sequential([L.Dense(4, input_dim=5), _ValueBranch(name="branch"), L.Dense(3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    return model


def two_input_model():
    a, b = L.Input((2,)), L.Input((3,))
    return cr.Model([a, b], L.Dense(1)(L.Dense(2)(a)))


def _adapt_twice():
    layer = L.Normalization()
    layer.adapt(np.zeros((8, 3)))
    layer.adapt(np.zeros((8, 4)))


def write(path, content):
    with open(path, "wb") as f:
        f.write(content)
    return path


XFAIL = "needs a fix outside the saving files; see the row in docs/errors.md"


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


# (row id, action, error type, message start (regex), message ends with "Received: ...")
ROWS = [
    # -- data -------------------------------------------------------------------------------
    ("x-y-length", lambda: fit(y=Y[:7]), ValueError,
     r"x and y must have the same number of samples\. Received: x with 10 samples and y with "
     r"7 samples$", True),
    ("sample-weight-length", lambda: fit(sample_weight=np.ones(3)), ValueError,
     r"sample_weight must have one weight per sample\.", True),
    ("x-feature-size", lambda: fit(x=np.zeros((10, 7))), ValueError,
     r'Input 0 of layer "hidden" is incompatible with the layer: expected last dimension 5, '
     r"received shape \(None, 7\)\.", True),
    ("x-extra-dims", lambda: fit(compiled(L.Dense(4, input_dim=784, name="d"), L.Dense(3)),
                                 x=np.zeros((10, 28, 28))), ValueError,
     r'Input 0 of layer "d" is incompatible with the layer: expected last dimension 784, '
     r"received shape \(None, 28, 28\)\. Did you forget a Flatten layer\?", True),
    pytest.param(
        "x-extra-dims-undeclared",
        lambda: fit(compiled(L.Dense(4), L.Dense(3, activation="softmax")),
                    x=np.zeros((10, 28, 28))),
        ValueError, r"sparse_categorical_crossentropy: .*Did you forget a Flatten layer\?", False),
    ("predict-feature-size", lambda: mlp().predict(np.zeros((2, 7)), verbose=0), ValueError,
     r'Input 0 of layer "hidden" is incompatible with the layer', True),
    ("validation-feature-size",
     lambda: fit(validation_data=(np.zeros((4, 7)), Y[:4])), ValueError,
     r'Input 0 of layer "hidden" is incompatible with the layer', True),
    ("one-hot-to-sparse", lambda: fit(y=np.eye(3)[Y]), ValueError,
     r"sparse_categorical_crossentropy expects integer class labels of shape \(batch,\), "
     r"received one-hot labels of shape \(10, 3\)\. Use loss=\"categorical_crossentropy\"", False),
    ("integers-to-categorical", lambda: fit(mlp("categorical_crossentropy")), ValueError,
     r"categorical_crossentropy expects one-hot labels of shape \(10, 3\), received integer "
     r"class labels of shape \(10,\)\. Use loss=\"sparse_categorical_crossentropy\"", False),
    ("label-too-large", lambda: fit(y=Y + 5), ValueError,
     r"sparse_categorical_crossentropy: class labels must be in \[0, 3\) for y_pred with 3 "
     r"classes\.", True),
    ("label-negative", lambda: fit(y=Y - 1), ValueError,
     r"sparse_categorical_crossentropy: class labels must be in \[0, 3\)", True),
    ("label-not-integer", lambda: fit(y=Y + 0.5), ValueError,
     r"sparse_categorical_crossentropy expects integer class labels\.", False),
    ("one-hot-class-count", lambda: fit(mlp("categorical_crossentropy"),
                                        y=np.eye(4)[np.arange(10) % 4]), ValueError,
     r"categorical_crossentropy: y_true and y_pred must have the same shape\.", True),
    pytest.param(
        "binary-labels-outside-0-1",
        lambda: fit(mlp("binary_crossentropy", out=1, activation="sigmoid")), ValueError,
        r"binary_crossentropy expects labels in \[0, 1\]", True),
    ("regression-y-shape", lambda: fit(mlp("mse", out=3, activation=None), y=np.zeros((10, 2))),
     ValueError, r"mean_squared_error: y_true and y_pred must have the same shape or shapes "
     r"that broadcast together", True),
    ("nan-in-x", lambda: fit(x=with_nan(X, (slice(2, 4), 1))), ValueError,
     r"x contains 2 NaN or infinite value\(s\), first at index\(es\) \[\(2, 1\), \(3, 1\)\]\. "
     r".*allow_nonfinite=True", True),
    ("inf-in-y", lambda: fit(mlp("mse", out=1, activation=None),
                             y=np.where(Y > 1, np.inf, Y).astype("float32")), ValueError,
     r"y contains 3 NaN or infinite value\(s\)", True),
    ("nan-in-validation-data", lambda: fit(validation_data=(with_nan(X[:4], (0, 0)), Y[:4])),
     ValueError, r"x contains 1 NaN or infinite value\(s\)", True),
    ("nan-in-sample-weight", lambda: fit(sample_weight=with_nan(np.ones(10), 4)), ValueError,
     r"sample_weight contains 1 NaN or infinite value\(s\), first at index\(es\) \[\(4,\)\]",
     True),
    ("empty-x", lambda: fit(x=np.zeros((0, 5)), y=np.zeros(0)), ValueError,
     r"x is empty: there are no samples to use\. Received: x with 0 samples$", True),
    ("scalar-x", lambda: mlp().predict(np.float32(3), verbose=0), ValueError,
     r"x must have a sample axis \(at least 1 dimension\)\. Received: a scalar x$", True),
    ("strings-in-x", lambda: fit(x=np.array([["a"] * 5] * 10)), TypeError,
     r"x must contain numbers, but it has dtype <U1", True),
    ("objects-in-x", lambda: fit(x=np.array([[object()] * 5] * 10, dtype=object)), TypeError,
     r"x must contain numbers, but it has dtype object", True),
    ("ragged-x", lambda: fit(x=[[1, 2, 3, 4, 5], [1, 2]], y=[0, 1]), ValueError,
     r"x must be an array of numbers \(or a nested list of equal-length rows\)\.", True),
    ("strings-in-y", lambda: fit(y=np.array(["cat"] * 10)), TypeError,
     r"y must contain numbers, but it has dtype <U3", True),
    ("x-none", lambda: fit(x=None), ValueError, r"x is required", True),
    ("y-none", lambda: fit(y=None), ValueError, r"y is required for training", True),
    pytest.param(
        "one-dimensional-x-unbuilt",
        lambda: cr.Sequential([L.Dense(2)]).predict(np.zeros(3), verbose=0), ValueError,
        r"x has shape \(3,\).*reshape", True),
    ("wrong-number-of-inputs", lambda: two_input_model().predict(np.zeros((2, 2)), verbose=0),
     ValueError, r"Model '.*' expects 2 inputs\. Received: 1 inputs$", True),
    # -- fit arguments ----------------------------------------------------------------------
    ("batch-size-zero", lambda: fit(batch_size=0), ValueError,
     r"batch_size must be a positive integer .*Received: batch_size=0$", True),
    ("batch-size-float", lambda: fit(batch_size=2.5), ValueError,
     r"batch_size must be a positive integer .*Received: batch_size=2\.5$", True),
    ("batch-size-string", lambda: mlp().evaluate(X, Y, batch_size="32", verbose=0), ValueError,
     r"batch_size must be a positive integer .*Received: batch_size='32'$", True),
    ("epochs-negative", lambda: fit(epochs=-1), ValueError,
     r"epochs must be a non-negative integer\. Received: epochs=-1$", True),
    ("epochs-float", lambda: fit(epochs=2.5), ValueError,
     r"epochs must be a non-negative integer\. Received: epochs=2\.5$", True),
    ("validation-split-one", lambda: fit(validation_split=1.0), ValueError,
     r"validation_split must be a number in \[0, 1\)\. Received: validation_split=1\.0$", True),
    ("validation-split-negative", lambda: fit(validation_split=-0.1), ValueError,
     r"validation_split must be a number in \[0, 1\)\. Received: validation_split=-0\.1$", True),
    ("validation-split-no-training", lambda: fit(validation_split=0.95), ValueError,
     r"validation_split=0\.95 leaves no training samples out of 10", True),
    ("initial-epoch-negative", lambda: fit(initial_epoch=-1), ValueError,
     r"initial_epoch must be a non-negative integer\. Received: initial_epoch=-1$", True),
    ("steps-per-epoch-zero", lambda: fit(steps_per_epoch=0), ValueError,
     r"steps_per_epoch must be a positive integer\. Received: steps_per_epoch=0$", True),
    ("validation-freq-zero", lambda: fit(validation_freq=0), ValueError,
     r"validation_freq must be a positive integer\. Received: validation_freq=0$", True),
    ("verbose-three", lambda: fit(verbose=3), ValueError,
     r"verbose must be 0, 1, 2 or 'auto'\. Received: verbose=3$", True),
    ("shuffle-string", lambda: fit(shuffle="yes"), ValueError,
     r"shuffle must be True, False or 'batch'\. Received: shuffle='yes'$", True),
    ("on-nan-unknown", lambda: fit(on_nan="warn"), ValueError,
     r"on_nan must be 'raise', 'stop' or 'ignore'\. Received: on_nan='warn'$", True),
    ("fit-unknown-keyword", lambda: fit(epoch=3), TypeError,
     r"fit\(\) got unexpected keyword arguments: \['epoch'\]\. Received: epoch=3$", True),
    ("class-weight-list", lambda: fit(class_weight=[1, 2]), ValueError,
     r"class_weight must be a dict \{class: weight\}\. Received: class_weight=\[1, 2\]$", True),
    pytest.param(
        "class-weight-key", lambda: fit(class_weight={"cat": 2.0}), ValueError,
        r"class_weight keys must be class indices.*Received: class_weight=", True),
    pytest.param(
        "class-weight-nan", lambda: fit(class_weight={0: float("nan")}), ValueError,
        r"class_weight .*finite.*Received: class_weight=", True),
    ("validation-data-not-tuple", lambda: fit(validation_data=X), ValueError,
     r"validation_data must be a tuple \(x_val, y_val\)", True),
    ("generator-bad-batch", lambda: fit(x=(i for i in range(3)), y=None, steps_per_epoch=1),
     ValueError, r"A batch generator must yield \(x, y\) or \(x, y, sample_weight\) tuples\. "
     r"Received: a batch of type int$", True),
    # -- compile and names ------------------------------------------------------------------
    ("unknown-loss", lambda: mlp("msee"), ValueError,
     r"Unknown loss: 'msee'\. Did you mean 'mse'", False),
    ("unknown-metric", lambda: mlp(metrics=["acuracy"]), ValueError,
     r"Unknown metric: 'acuracy'\. Did you mean 'accuracy'", False),
    ("unknown-optimizer",
     lambda: mlp(compile=False).compile(optimizer="adma", loss="mse"), ValueError,
     r"Unknown optimizer: 'adma'\. Did you mean 'adam'\? Known: adadelta, adafactor, adagrad, adam", False),
    ("unknown-activation", lambda: L.Dense(3, activation="rleu"), ValueError,
     r"Unknown activation: 'rleu'\. Did you mean 'relu'", False),
    ("unknown-initializer", lambda: L.Dense(3, kernel_initializer="glorot_unifrom"), ValueError,
     r"Unknown initializer: 'glorot_unifrom'\. Did you mean 'glorot_uniform'", False),
    ("compile-without-loss", lambda: mlp(compile=False).compile(optimizer="sgd"), ValueError,
     r"compile\(\) needs a loss.*Received: loss=None$", True),
    ("compile-unknown-keyword",
     lambda: mlp(compile=False).compile(optimizer="sgd", loss="mse", metric=["acc"]), TypeError,
     r"compile\(\) got unexpected keyword arguments: \['metric'\]", True),
    ("optimizer-not-understood",
     lambda: mlp(compile=False).compile(optimizer=3, loss="mse"), ValueError,
     r"Could not interpret optimizer identifier.*Received: identifier=3$", True),
    ("jit-compile-uncapturable", lambda: fit(_value_branch_model()), ValueError,
     r'jit_compile=True, but model "?\S+"? cannot be captured for replay: layer "branch" reads '
     r"the value of a tensor \(float\(\)\).*Received: jit_compile=True$", True),
    ("jit-compile-value", lambda: mlp(jit_compile="yes"), ValueError,
     r"jit_compile must be True, False or 'auto'\. Received: jit_compile='yes'$", True),
    ("loss-weights-count", lambda: mlp(loss_weights=[1, 2]), ValueError,
     r"loss_weights needs one weight per output \(1\)\. Received: loss_weights=\[1, 2\]$", True),
    ("fit-before-compile", lambda: fit(mlp(compile=False)), ValueError,
     r"You must compile the model before calling fit\(\)", True),
    ("evaluate-before-compile", lambda: mlp(compile=False).evaluate(X, Y, verbose=0),
     ValueError, r"You must compile the model before calling evaluate\(\)", True),
    # -- models and layers ------------------------------------------------------------------
    ("build-without-shape", lambda: cr.Sequential([L.Dense(2)]).build(), ValueError,
     r"Cannot build Sequential model '.*': the input shape is unknown\..*"
     r"Received: input_shape=None$", True),
    ("set-weights-count", lambda: mlp().set_weights([np.zeros((5, 4))]), ValueError,
     r"Layer '.*' expects 4 weights \(\(5, 4\), \(4,\), \(4, 3\), \(3,\)\), but received 1\.",
     True),
    pytest.param(
        "set-weights-shape-names-layer",
        lambda: mlp().set_weights([np.zeros((5, 4)), np.zeros(4), np.zeros((4, 2)),
                                   np.zeros(3)]),
        ValueError, r".*'out/kernel' has shape \(4, 3\), but the value given for it has shape "
        r"\(4, 2\)", True),
    ("layer-set-weights-shape",
     lambda: mlp().get_layer("hidden").set_weights([np.zeros((5, 3)), np.zeros(4)]), ValueError,
     r"Layer 'hidden' weight 'kernel' has shape \(5, 4\), but the value given for it has shape "
     r"\(5, 3\)\.", True),
    pytest.param(
        "set-weights-none", lambda: mlp().set_weights(None), TypeError,
        r"set_weights expects a list of arrays.*Received: weights=None$", True),
    ("dense-units", lambda: L.Dense(0), ValueError,
     r"units must be a positive integer\. Received: units=0$", True),
    ("dropout-rate", lambda: L.Dropout(1.0), ValueError,
     r"rate must be a number in \[0, 1\)\. Received: rate=1\.0$", True),
    ("input-shape-type", lambda: L.Dense(3, input_shape="5"), ValueError,
     r"input_shape must be a tuple of integers\. Received: input_shape='5'$", True),
    ("input-shape-negative", lambda: L.Input(shape=(-1,)), ValueError,
     r"shape must be a tuple of non-negative integers or None\. Received: shape=\(-1,\)$", True),
    ("reshape-size",
     lambda: cr.Sequential([L.Reshape((4, 4), input_shape=(10,))]).predict(np.zeros((2, 10)),
                                                                             verbose=0),
     ValueError, r"Reshape layer '.*' cannot reshape samples of shape \(10,\) \(10 values\) "
     r"into \(4, 4\)\.", True),
    # -- normalization, merging and reshaping layers -------------------------------------------
    ("merge-shapes", lambda: L.add([L.Input((3,)), L.Input((4,))]), ValueError,
     r'Layer "add" \(Add\) cannot merge inputs of shapes \(None, 3\) and \(None, 4\)', True),
    ("merge-not-a-list", lambda: L.Add()(np.zeros((2, 3))), ValueError,
     r'A merge layer \("add", Add\) should be called on a list of inputs\.', True),
    ("concatenate-shapes", lambda: L.Concatenate()([L.Input((3, 2)), L.Input((4, 5))]),
     ValueError, r'Layer "concatenate" \(Concatenate\) requires inputs with matching shapes '
     r"except for the concatenation axis -1\.", True),
    ("dot-axes-sizes", lambda: L.Dot(axes=1)([L.Input((3,)), L.Input((4,))]), ValueError,
     r'Layer "dot" \(Dot\) cannot contract axis 1 of shape \(None, 3\) with axis 1 of shape '
     r"\(None, 4\): sizes 3 != 4\.", True),
    ("batch-norm-features",
     lambda: cr.Sequential([L.Input((4,)), L.BatchNormalization()]).predict(np.zeros((2, 5)),
                                                                           verbose=0),
     ValueError, r'Input 0 of layer "batch_normalization" is incompatible with the layer: '
     r"expected shape \(None, 4\), received shape \(None, 5\)\.", True),
    ("normalization-axis", lambda: L.BatchNormalization(axis=3)(L.Input((4,))), ValueError,
     r'Layer "batch_normalization": axis 3 is out of bounds for an input of shape \(None, 4\)',
     True),
    ("group-norm-groups", lambda: L.GroupNormalization(groups=3)(L.Input((4,))), ValueError,
     r'Layer "group_normalization": the number of groups \(3\) must divide the number of '
     r"channels \(4\)", True),
    ("zero-padding-rank", lambda: L.ZeroPadding2D(name="pad")(L.Input((28, 28))), ValueError,
     r'Layer "pad" \(ZeroPadding2D\) expects 4-D input \(batch, height, width, channels\), '
     r"received shape \(None, 28, 28\)\. Add a channel axis", True),
    ("cropping-too-much",
     lambda: L.Cropping2D(((2, 2), (0, 0)), name="crop")(L.Input((4, 4, 1))), ValueError,
     r'Layer "crop" \(Cropping2D\): cropping \(\(2, 2\), \(0, 0\)\) is not smaller than the '
     r"spatial size", True),
    ("pad-mode", lambda: cr.ops.pad(cr.Tensor(np.zeros(3)), 1, mode="reflekt"), ValueError,
     r"pad: unknown mode 'reflekt'\. Did you mean 'reflect'\?", True),
    ("data-format", lambda: L.UpSampling2D(data_format="channel_first"), ValueError,
     r"UpSampling2D: data_format must be 'channels_last' or 'channels_first'\. Did you mean "
     r"'channels_first'\?", True),
    # -- sequences --------------------------------------------------------------------------
    ("rnn-2d-input",
     lambda: fit(compiled(L.LSTM(4), loss="mse"), np.zeros((32, 200)), np.zeros((32, 4))),
     ValueError, r"LSTM expects 3-D input \(batch, timesteps, features\), received shape "
     r"\(32, 200\)\. For token ids, add an Embedding layer first\.", True),
    ("embedding-id-too-large",
     lambda: fit(compiled(L.Embedding(10, 3, name="emb"), L.LSTM(2), loss="mse"),
                 np.array([[1, 12, 3]] * 4), np.zeros((4, 2))),
     ValueError, r'Layer "emb" \(Embedding\) got token id 12, outside \[0, input_dim=10\) '
     r"\(largest id 12", True),
    ("embedding-id-negative",
     lambda: compiled(L.Embedding(10, 3, name="emb"), loss="mse").predict(
         np.array([[1, -1]]), verbose=0),
     ValueError, r'Layer "emb" \(Embedding\) got token id -1, outside \[0, input_dim=10\)',
     True),
    ("embedding-float-ids",
     lambda: compiled(L.Embedding(10, 3, name="emb"), loss="mse").predict(
         np.array([[0.5, 2.0]]), verbose=0),
     ValueError, r'Layer "emb" \(Embedding\) expects integer token ids, but received float '
     r"values that are not whole numbers, such as 0\.5\.", True),
    ("return-state-in-sequential",
     lambda: cr.Sequential([L.Input((5, 3)), L.LSTM(4, return_state=True, name="enc")]),
     ValueError, r'Layer "enc" returns 3 tensors \(return_state=True\), but every layer of a '
     r"Sequential model must return one tensor\. Use the functional API", True),
    ("stateful-without-batch-size",
     lambda: cr.Sequential([L.Input((5, 3)), L.GRU(4, stateful=True, name="g")]),
     ValueError, r'Layer "g" is stateful, so it needs a fixed batch size: pass batch_size=\.\.\. '
     r"to Input", True),
    ("bidirectional-non-recurrent", lambda: L.Bidirectional(L.Dense(3)), ValueError,
     r"Bidirectional wraps a recurrent layer \(LSTM, GRU, SimpleRNN or RNN", True),
    ("gradient-through-time-no-rnn",
     lambda: cr.explain.gradient_through_time(compiled(L.Dense(1), loss="mse"), np.ones((2, 3)),
                                              np.ones((2, 1))),
     ValueError, r"gradient_through_time\(\) needs a model with a recurrent layer", True),
    ("gradient-monitor-over-time-no-data", lambda: cr.explain.GradientMonitor(over="time"),
     ValueError, r"GradientMonitor\(over='time'\) needs time_data=\(x, y\)", True),
    ("gradient-flow-over",
     lambda: __import__("chainrule.plot").plot.gradient_flow({}, over="steps"), ValueError,
     r"over must be 'layers' or 'time'\. Received: over='steps'$", True),
    # -- convolution and pooling layers ---------------------------------------------------------
    ("conv-input-rank", lambda: L.Conv2D(8, 3)(np.zeros((32, 28, 28))), ValueError,
     r'Input 0 of layer "conv2d" is incompatible with the layer: Conv2D expects 4-D input '
     r"\(batch, height, width, channels\), received shape \(32, 28, 28\)\. Add a channel "
     r"axis: x\[\.\.\., None\]\.", True),
    ("conv-fit-input-rank",
     lambda: fit(compiled(L.Conv2D(4, 3), L.Flatten(), L.Dense(3, activation="softmax")),
                 x=np.zeros((10, 28, 28), "float32")), ValueError,
     r'Input 0 of layer "conv2d" is incompatible with the layer: Conv2D expects 4-D input .*'
     r"received shape \(None, 28, 28\)\. Add a channel axis", True),
    ("conv-kernel-too-large", lambda: L.Conv2D(4, 5)(np.zeros((1, 3, 3, 1))), ValueError,
     r'Layer "conv2d" \(Conv2D\): the kernel \(5, 5\) is larger than the input\'s spatial '
     r"size with padding 'valid'", True),
    ("pool-too-large", lambda: L.MaxPooling2D(4)(np.zeros((1, 3, 3, 1))), ValueError,
     r'Layer "max_pooling2d" \(MaxPooling2D\): the pool_size \(4, 4\) is larger than the '
     r"input", True),
    ("conv-strides-zero", lambda: L.Conv2D(4, 3, strides=0), ValueError,
     r"Conv2D layer 'conv2d': every value of `strides` must be positive \(> 0\)\. "
     r"Received: strides=0", True),
    ("conv-dilation-negative", lambda: L.Conv1D(4, 3, dilation_rate=-1), ValueError,
     r"Conv1D layer 'conv1d': every value of `dilation_rate` must be positive", True),
    ("conv-strides-and-dilation", lambda: L.Conv2D(4, 3, strides=2, dilation_rate=2),
     ValueError, r"Conv2D layer 'conv2d': `strides > 1` is not supported together with "
     r"`dilation_rate > 1`", True),
    ("conv-groups-channels", lambda: L.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3))),
     ValueError, r'Layer "conv2d" \(Conv2D\): the input\'s 3 channels cannot be split evenly '
     r"into groups=2", True),
    ("conv-filters-groups", lambda: L.Conv2D(5, 3, groups=2), ValueError,
     r"Conv2D layer 'conv2d': the number of filters must be evenly divisible by the number of "
     r"groups", True),
    ("conv-padding-typo", lambda: L.Conv2D(4, 3, padding="vaild"), ValueError,
     r"Conv2D layer 'conv2d': invalid padding\. Did you mean 'valid'\? Expected one of "
     r"'valid', 'same'\. Received: padding='vaild'", True),
    ("conv2d-causal", lambda: L.Conv2D(4, 3, padding="causal"), ValueError,
     r"Conv2D layer 'conv2d': invalid padding\. 'causal' padding is for 1-D convolutions", True),
    # -- optimizers -------------------------------------------------------------------------
    ("learning-rate-zero", lambda: cr.optimizers.Adam(learning_rate=0), ValueError,
     r"Argument `learning_rate` must be a positive float.*Received: learning_rate=0$", True),
    ("learning-rate-negative", lambda: cr.optimizers.SGD(learning_rate=-1), ValueError,
     r"Argument `learning_rate` must be a positive float.*Received: learning_rate=-1$", True),
    ("learning-rate-nan", lambda: cr.optimizers.SGD(learning_rate=float("nan")), ValueError,
     r"Argument `learning_rate` must be a positive float.*Received: learning_rate=nan$", True),
    ("beta-1-above-one", lambda: cr.optimizers.Adam(beta_1=1.5), ValueError,
     r"Argument `beta_1` must be a float in \[0, 1\)\. Received: beta_1=1\.5$", True),
    ("beta-2-negative", lambda: cr.optimizers.Adam(beta_2=-0.1), ValueError,
     r"Argument `beta_2` must be a float in \[0, 1\)\. Received: beta_2=-0\.1$", True),
    ("momentum-above-one", lambda: cr.optimizers.SGD(momentum=2), ValueError,
     r"Argument `momentum` must be a float in \[0, 1\]\. Received: momentum=2$", True),
    ("epsilon-negative", lambda: cr.optimizers.Adam(epsilon=-1), ValueError,
     r"Argument `epsilon` must be a float >= 0\. Received: epsilon=-1$", True),
    ("clipnorm-negative", lambda: cr.optimizers.SGD(clipnorm=-1), ValueError,
     r"Argument `clipnorm` must be a positive float or None\. Received: clipnorm=-1$", True),
    # -- settings ---------------------------------------------------------------------------
    ("num-threads-zero", lambda: cr.config.set_num_threads(0), ValueError,
     r"num_threads must be a positive int or None\. Received: n=0$", True),
    ("fused-kernels-not-bool", lambda: cr.config.set_fused_kernels("yes"), ValueError,
     r"enabled must be True, False or None\. Received: enabled='yes'$", True),
    # -- files ------------------------------------------------------------------------------
    ("load-not-an-archive",
     lambda: cr.saving.load_model(write(TMP / "notes.keras", b"my notes")), InvalidArchiveError,
     r"'.*notes\.keras' is not a chainrule model archive: it is not a zip file\.", True),
    ("load-hdf5-file",
     lambda: cr.saving.load_model(write(TMP / "model.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)),
     InvalidArchiveError, r"'.*model\.h5' is not a chainrule model archive: it is an HDF5 file",
     True),
    ("load-pickle",
     lambda: cr.saving.load_model(write(TMP / "model.pkl", b"\x80\x04\x95\x00")),
     InvalidArchiveError, r"'.*model\.pkl' is not a chainrule model archive: it is a Python "
     r"pickle", True),
    ("load-missing-file", lambda: cr.saving.load_model(TMP / "absent.keras"), FileNotFoundError,
     r"No file found at '.*absent\.keras'", True),
    ("load-weights-shape",
     lambda: (mlp().save_weights(TMP / "a.weights.npz"),
              cr.Sequential([L.Dense(6, input_dim=5, name="hidden"), L.Dense(3, name="out")])
              .load_weights(TMP / "a.weights.npz")),
     WeightMismatchError, r'Layer "hidden" weight "kernel" has shape \(5, 6\) in the model but '
     r"\(5, 4\) in '.*a\.weights\.npz'", True),
    ("save-h5-extension", lambda: mlp().save(TMP / "model.pb"), ValueError,
     r"Invalid filepath extension for saving\..*Received: filepath=.*model\.pb$", True),
    ("checkpoint-extension", lambda: cr.saving.ModelCheckpoint("weights.best.hdf5"), ValueError,
     r"The filepath provided must end in `\.keras`.*Received: filepath=weights\.best\.hdf5$",
     True),
    ("backup-dir-empty", lambda: cr.saving.BackupAndRestore(""), ValueError,
     r"Empty `backup_dir` argument passed\. Received: backup_dir=''$", True),
    ("lambda-not-callable", lambda: L.Lambda("double"), TypeError,
     r'Layer "lambda(_\d+)?" \(Lambda\): function must be callable\. Received: function=', True),
    ("lambda-save-python-lambda",
     lambda: cr.Sequential([cr.Input((2,)), L.Lambda(lambda t: t * 2)]).save(TMP / "l.keras"),
     ValueError, r'Layer "lambda(_\d+)?" \(Lambda\): its function cannot be saved: chainrule '
     r"saves a function by its name only", True),
    ("unpickle-unregistered-class", lambda: _unpickle_unregistered_subclass(), UnsafeFileError,
     r"Cannot unpickle \(or deep-copy\) the model: .*register_keras_serializable.*"
     r"Received: the pickled model: Unknown layer class: '_Unregistered'$", True),
    # -- preprocessing layers -----------------------------------------------------------------
    ("adapt-empty-data", lambda: L.Normalization().adapt(np.zeros((0, 3))), ValueError,
     r"Normalization layer \"normalization\"\.adapt\(\) received empty data: there is "
     r"nothing to learn from\. Received: data of shape \(0, 3\)$", True),
    ("adapt-empty-iterable", lambda: L.StringLookup().adapt(iter([])), ValueError,
     r"StringLookup layer \"string_lookup\"\.adapt\(\) received an empty iterable", True),
    ("adapt-other-last-axis", _adapt_twice, ValueError,
     r"Normalization layer \"normalization\" was built for inputs of shape \(None, 3\), but "
     r"adapt\(\) received data of an incompatible shape\. Received: data of shape \(8, 4\)$",
     True),
    ("lookup-output-mode", lambda: L.StringLookup(output_mode="onehot"), ValueError,
     r"Unknown output_mode for layer StringLookup: 'onehot'\. Did you mean 'one_hot'\? "
     r"Known: 'int', 'one_hot', 'multi_hot', 'count', 'tf_idf'\. "
     r"Received: output_mode='onehot'$", True),
    ("category-out-of-range", lambda: L.CategoryEncoding(3)(np.array([[0, 5]])), ValueError,
     r"Layer \"category_encoding\" expects integer inputs in \[0, num_tokens\) with "
     r"num_tokens=3\. Received: values from 0 to 5$", True),
    ("lookup-no-vocabulary", lambda: L.StringLookup(output_mode="count")(np.array(["a"])),
     RuntimeError, r"StringLookup layer \"string_lookup\": with output_mode='count' and "
     r"pad_to_max_tokens=False, set the vocabulary", True),
    # -- training ---------------------------------------------------------------------------
    ("loss-becomes-nan", lambda: exploding(), FloatingPointError,
     r"The loss became (nan|inf|-inf) at epoch 1, batch \d+; training stopped and the weights "
     r"from before this batch were kept\.", False),
    # -- layer losses, custom steps, metrics, model utilities -------------------------------
    ("no-loss-to-compute",
     lambda: _compiled(type("Plain", (cr.Model,), {"call": lambda self, x: x})(name="plain"),
                       optimizer="sgd").fit(X, epochs=1, verbose=0), ValueError,
     r"No loss to compute for model 'plain': compile\(\) was given no loss and no layer added "
     r"one with add_loss\(\)\. .*Received: loss=None$", True),
    ("add-loss-not-a-tensor",
     lambda: type("Bad", (L.Layer,), {"call": lambda self, x: (self.add_loss("penalty"), x)[1]})(
         name="bad")(X), ValueError,
     r"add_loss\(\) of layer 'bad' takes a tensor \(or a number\), computed in call\(\)\. "
     r"Received: loss of type str$", True),
    ("train-step-not-a-dict",
     lambda: _compiled(type("NoDict", (cr.Model,), {"call": lambda self, x: x,
                                                     "train_step": lambda self, data: 1.0})(),
                       optimizer="sgd", loss="mse").fit(X, X, epochs=1, verbose=0), TypeError,
     r"train_step must return a dict of metric names and values.*Received: a value of type "
     r"float$", True),
    ("train-step-jit-compile",
     lambda: _compiled(type("Own", (cr.Model,), {"call": lambda self, x: x,
                                                  "train_step": lambda self, data: {}})(
         name="own"), optimizer="sgd", loss="mse", jit_compile=True).fit(X, X, epochs=1,
                                                                       verbose=0),
     ValueError, r"jit_compile=True, but model 'own' cannot be captured for replay: it overrides "
     r"train_step.*Received: jit_compile=True$", True),
    ("metric-variable-shape",
     lambda: cr.metrics.Mean().add_variable((2,), name="total").assign_add(np.ones(3)),
     ValueError, r"Cannot assign_add a value of shape \(3,\) to variable 'mean/total' of shape "
     r"\(2,\)\. Received: value of shape \(3,\)$", True),
    ("f1-average", lambda: cr.metrics.F1Score(average="mean"), ValueError,
     r"average must be None, 'micro', 'macro' or 'weighted'\. Received: average='mean'$", True),
    ("iou-class-id", lambda: cr.metrics.MeanIoU(num_classes=2).update_state([0, 3], [0, 1]),
     ValueError, r"mean_io_u: class ids must be in \[0, 2\)\. Received: y_true values "
     r"\[3\]$", True),
    ("clone-not-a-model", lambda: cr.models.clone_model(L.Dense(2)), ValueError,
     r"clone_model expects a Model \(Sequential, functional or subclassed\)\. Received: model "
     r"of type Dense$", True),
    ("model-from-json-invalid", lambda: cr.models.model_from_json("{nope"), ValueError,
     r"model_from_json: the text is not valid JSON .*Received: json_string='\{nope'$", True),
    ("symbolic-call-mixed-arguments",
     lambda: type("Two", (L.Layer,), {"call": lambda self, a, b, c: a})(name="two")(
         L.Input((2,)), L.Input((2,)), 0.5), ValueError,
     r"Layer 'two' was called on symbolic tensors with other positional arguments mixed in; "
     r"pass the other arguments by keyword\. Received: positional arguments of types "
     r"\['KerasTensor', 'float'\]$", True),
    ("plot-model-unbuilt",
     lambda: cr.utils.plot_model(cr.Sequential([L.Dense(2)], name="s"), to_file=None),
     ValueError, r"plot_model needs a built model: model 's' has no layers with known shapes "
     r"yet\..*Received: an unbuilt model$", True),
    # -- hardening: interrupted, hostile or odd input (helpers below ROWS) -------------------
    ("learning-rate-becomes-nan", lambda: fit(nan_schedule_model(), epochs=3), ValueError,
     r"The learning rate of optimizer 'sgd' became nan at step 2 \(iterations=2\), given by "
     r"the schedule NanAfter\(steps=2\); no weight was updated\..*Received: "
     r"learning_rate=nan$", True),
    ("gradients-become-nan", lambda: fit(sqrt_at_zero_model(), y=np.ones((10, 1))),
     FloatingPointError, r"The gradients became NaN or infinite \(the loss was 1\.0\) at epoch "
     r"1, batch 1; training stopped and the weights from before this batch were kept\.", False),
    ("load-fifo", lambda: cr.saving.load_model(fifo(TMP / "pipe.keras")), InvalidArchiveError,
     r"'.*pipe\.keras' is a FIFO \(named pipe\), not a regular file: chainrule reads saved "
     r"models and weights from regular files only\. Received: filepath=", True),
    ("load-bytes-path", lambda: cr.saving.load_model(b"model.keras"), TypeError,
     r"filepath must be a str path, not bytes \(decode it, e\.g\. with os\.fsdecode\)\. "
     r"Received: filepath=b'model\.keras'$", True),
    ("save-nul-path", lambda: mlp().save("mo\x00del.keras"), ValueError,
     r"filepath must not contain a NUL character\. Received: filepath='mo\\x00del\.keras'$", True),
    ("custom-objects-not-a-dict",
     lambda: cr.saving.load_model(saved_mlp(), custom_objects=["MyLayer"]), TypeError,
     r"custom_objects must be a dict mapping names to classes or functions, e\.g\. "
     r"\{'MyLayer': MyLayer\}\. Received: custom_objects of type list$", True),
    ("optimizer-state-negative-learning-rate",
     lambda: cr.saving.load_model(saved_mlp(learning_rate=-0.5)), InvalidArchiveError,
     r"'.*m\.keras' member 'optimizer\.npz': Optimizer state 'learning_rate' must be a positive "
     r"number\. Received: learning_rate=-0\.5$", True),
    ("load-budget-zero-sized-kernel", lambda: cr.saving.load_model(zero_kernel_archive()),
     UnsafeFileError, r"'.*zero\.keras': config\.json asks layer 'd' for a weight 'kernel' of "
     r"shape \(0, 536870912\) \(float32\); with the weights before it the model would take "
     r"2147483648 bytes \(a zero-sized dimension counted as 1\)", True),
    ("backup-dir-is-a-file", lambda: cr.saving.BackupAndRestore(write(TMP / "notes.txt", b"x")),
     ValueError, r"backup_dir must be a directory \(the backup is written inside it\), but "
     r"'.*notes\.txt' is a file\..*Received: backup_dir=", True),
    ("backup-other-optimizer", lambda: resume_with_other_optimizer(), ValueError,
     r"The backup in '.*backup' was saved while training with another optimizer: class_name "
     r"'Adam' in the backup, 'SGD' now\. .*Delete the folder .*Received: optimizer=SGD$", True),
    ("checkpoint-format-field", lambda: cr.saving.ModelCheckpoint("m-{epoch.nope}.keras"),
     KeyError, r'Failed to format this callback filepath: "m-\{epoch\.nope\}\.keras"\. '
     r"Reason: ValueError: the field \{epoch\.nope\} cannot be filled", True),
    ("csv-separator-newline", lambda: cr.callbacks.CSVLogger("log.csv", separator="\n"),
     ValueError, r"separator cannot be a line break or the quote character '\"' \(the rows "
     r"could not be read back\)\. Received: separator='\\n'$", True),
    ("set-weights-strings",
     lambda: mlp().set_weights([np.full((5, 4), "a"), np.zeros(4), np.zeros((4, 3)), np.zeros(3)]),
     TypeError, r"Layer 'sequential' weight 'hidden/kernel' must be set from numbers, but the "
     r"value given for it has dtype <U1\. Received: a value of dtype <U1$", True),
]


# -- helpers of the hardening rows (looked up when a row runs) -------------------------------


class NanAfter(cr.optimizers.schedules.LearningRateSchedule):
    """A schedule with a bug: 0.01, then NaN from step ``steps`` on."""

    def __init__(self, steps=2):
        self.steps = steps

    def __call__(self, step):
        return 0.01 if step < self.steps else float("nan")

    def get_config(self):
        return {"steps": self.steps}


def nan_schedule_model():
    model = mlp(compile=False)
    model.compile(optimizer=cr.optimizers.SGD(NanAfter(2)),
                  loss="sparse_categorical_crossentropy")
    return model


class _Sqrt(L.Layer):
    def call(self, x):
        return cr.ops.sqrt(x)


def sqrt_at_zero_model():
    """sqrt at 0: the loss is finite, its gradient infinite."""
    model = cr.Sequential([L.Dense(1, input_dim=5, kernel_initializer="zeros"), _Sqrt()])
    model.compile(optimizer="sgd", loss="mse")
    return model


def fifo(path):
    os.mkfifo(path)
    return path


def saved_mlp(learning_rate=None):
    model = mlp()
    model.fit(X, Y, verbose=0)
    path = TMP / "m.keras"
    model.save(path)
    if learning_rate is not None:
        rewrite_member(path, "optimizer.npz", lambda s: s.update(
            learning_rate=np.asarray(learning_rate)))
    return path


def rewrite_member(path, member, change):
    import io  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with np.load(io.BytesIO(members[member])) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    members[member] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def zero_kernel_archive():
    """A few hundred bytes asking for Dense(2**29) on 0 features: a kernel (0, 2**29)."""
    import json  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    path = TMP / "zero.keras"
    cr.saving.save_model(cr.Sequential([L.Dense(4, use_bias=False, input_shape=(0,), name="d")]),
                         path, include_optimizer=False)
    rewrite_member(path, "model.weights.npz", lambda s: s.update(
        {"d/kernel": np.zeros((0, 2**29), "float32")}))
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = 2**29
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def resume_with_other_optimizer():
    class Crash(cr.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyError("crash")

    first = mlp(compile=False)
    first.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    backup = str(TMP / "backup")
    try:
        fit(first, epochs=2, callbacks=[cr.saving.BackupAndRestore(backup), Crash()])
    except KeyError:
        pass
    fit(mlp(), epochs=2, callbacks=[cr.saving.BackupAndRestore(backup)])


# -- datasets and data utilities (docs/errors.md, "Datasets and data utilities") ---------------


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def _unpickle_unregistered_subclass():
    import pickle  # noqa: PLC0415

    class _Unregistered(cr.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = _Unregistered()
    model(np.zeros((1, 3), "float32"))
    return pickle.loads(pickle.dumps(model))


def _unsafe_imdb():
    import io  # noqa: PLC0415
    import pickle  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, np.lib.format.header_data_from_array_1_0(np.empty(1, dtype=object)))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x_train.npy", header.getvalue() + pickle.dumps(_Boom(), protocol=2))
    folder = TMP / "home" / "datasets" / "imdb"
    folder.mkdir(parents=True)
    (folder / "imdb.npz").write_bytes(archive.getvalue())
    old = os.environ.get("CHAINRULE_HOME")
    os.environ["CHAINRULE_HOME"] = str(TMP / "home")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # not the published file
            cr.datasets.imdb.load_data()
    finally:
        if old is None:
            del os.environ["CHAINRULE_HOME"]
        else:
            os.environ["CHAINRULE_HOME"] = old


class _WrongBatch(cr.utils.PyDataset):
    def __len__(self):
        return 3

    def __getitem__(self, index):
        return (X[:2], Y[:2]) if index < 2 else None


def _flat_image_folder():
    (TMP / "flat").mkdir()
    (TMP / "flat" / "a.png").write_bytes(b"")
    cr.utils.image_dataset_from_directory(TMP / "flat", verbose=False)


ROWS += [
    ("pad-sequences-padding", lambda: cr.utils.pad_sequences([[1]], padding="middle"),
     ValueError, r'padding must be "pre" or "post"\. Received: padding=\'middle\'$', True),
    ("dataset-unsafe-pickle", _unsafe_imdb, cr.datasets.UnsafeDatasetError,
     r".*imdb\.npz:x_train was refused: the pickle stream refers to (posix|nt|os)\.system", False),
    ("pydataset-bad-batch", lambda: mlp().fit(_WrongBatch(), shuffle=False, verbose=0),
     ValueError, r"_WrongBatch\.__getitem__\(2\) must return x, \(x,\), \(x, y\) or "
     r"\(x, y, sample_weight\).*Received: NoneType None$", True),
    ("directory-no-class-folders", _flat_image_folder, ValueError,
     r".*flat has no class subfolders: with labels=\"inferred\" each class is a subfolder", True),
    ("get-file-http", lambda: cr.utils.get_file(origin="http://example.com/a.csv"), ValueError,
     r"origin must be an https:// address .*Received: origin='http://example\.com/a\.csv'$",
     True),
    ("split-dataset-no-size", lambda: cr.utils.split_dataset(np.arange(4)), ValueError,
     r"At least one of left_size or right_size must be given\. Received: left_size=None and "
     r"right_size=None$", True),
]


# -- TensorBoard callback (docs/errors.md, "Interoperability") -------------------------------------
def _tensorboard_into_a_file():
    (TMP / "a_file").write_text("not a folder")
    tb = cr.callbacks.TensorBoard(TMP / "a_file" / "logs")
    mlp().fit(X, Y, verbose=0, callbacks=[tb])


ROWS += [
    ("tensorboard-log-dir", _tensorboard_into_a_file, OSError,
     r"TensorBoard cannot write its event files to '.*a_file/logs/train': .*Received: "
     r"log_dir='.*a_file/logs'$", True),
    ("tensorboard-update-freq", lambda: cr.callbacks.TensorBoard(update_freq="minute"),
     ValueError, r"update_freq must be 'epoch', 'batch' or a positive integer\. Received: "
     r"update_freq='minute'$", True),
]
# -- ops on symbolic tensors (docs/errors.md, "Ops on symbolic tensors") ---------------------------
def _save_op_with_a_generator():
    x = L.Input((3,))
    cr.Model(x, cr.ops.dropout(x, 0.5, rng=np.random.default_rng(0))).save(TMP / "m.keras")


ROWS += [
    ("op-layer-unsaveable-argument", _save_op_with_a_generator, ValueError,
     r"Cannot save op layer 'dropout': an argument of ops\.dropout is a Generator, .*"
     r"Received: an argument of type Generator$", True),
    ("op-layer-unknown-function", lambda: L.OpLayer("__import__"), ValueError,
     r"OpLayer: `function` must name an op of chainrule\.ops .*Received: "
     r"function='__import__'$", True),
    ("op-layer-input-count", lambda: L.OpLayer("add", {"args": [{"__tensor__": 0}, 1.0]})(
        [np.ones((2, 3)), np.ones((2, 3))]), ValueError,
     r"OpLayer 'add' \(add\) expects 1 tensor inputs\. Received: 2 inputs$", True),
]


def _dense_and_an_op():
    cr.utils.clear_session()
    x = L.Input((3,))
    return cr.Model(x, L.Dense(2)(x) * 2.0)


ROWS += [
    ("get-layer-op-name", lambda: _dense_and_an_op().get_layer("multiply"), ValueError,
     r"No such layer: 'multiply'\. Existing layers: \['input_layer', 'dense'\]\. "
     r"Received: name='multiply'$", True),
    ("get-layer-index-range", lambda: _dense_and_an_op().get_layer(index=2), ValueError,
     r"index out of range: the model has 2 layers \(ops are not layers\)\. "
     r"Received: index=2$", True),
    ("get-layer-no-argument", lambda: _dense_and_an_op().get_layer(), ValueError,
     r"get_layer needs a layer name or a layer index\. Received: name=None, index=None$", True),
    ("get-layer-both-arguments", lambda: _dense_and_an_op().get_layer("dense", 1), ValueError,
     r"get_layer: provide only a layer name or a layer index\. "
     r"Received: index=1, name='dense'$", True),
]


# -- ops of Keras's functional graphs (docs/errors.md, "Ops on symbolic tensors") ----------------
def _keras_ops_with(index, **changes):
    """The Keras-written ops_arith.keras with entry ``index`` of its layers updated."""
    import json
    import zipfile

    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras_ops",
                       "ops_arith.keras")
    with zipfile.ZipFile(src) as zin:
        config = json.loads(zin.read("config.json"))
        config["config"]["layers"][index].update(changes)
        with zipfile.ZipFile(TMP / "keras_model.keras", "w") as zout:
            for name in zin.namelist():
                zout.writestr(name, json.dumps(config) if name == "config.json"
                              else zin.read(name))
    return cr.models.load_model(TMP / "keras_model.keras")


_needs_h5py_for_ops = pytest.mark.skipif(__import__("importlib").util.find_spec("h5py") is None,
                                         reason="needs h5py (the h5 extra)")


def _save_dropout_op_for_keras():
    x = L.Input((3,))
    cr.Model(x, cr.ops.dropout(x, 0.5)).save(TMP / "m.keras", format="keras")


def _save_tensor_clip_for_keras():
    x, lo = L.Input((3,)), L.Input((3,))
    cr.Model([x, lo], cr.ops.clip(x, lo)).save(TMP / "m.keras", format="keras")


ROWS += [
    ("keras-unknown-operation",
     lambda: _keras_ops_with(2, class_name="Kron", registered_name="Kron", name="kron",
                             config={"name": "kron"}),
     cr.saving.UnsafeFileError, r"'.*keras_model\.keras': the model layers\[2\] \(Kron "
     r"'kron'\): chainrule has no counterpart of the Keras operation 'Kron' \(module "
     r"'keras\.src\.ops\.numpy'\); .*Received: class_name='Kron', "
     r"module='keras\.src\.ops\.numpy'$", True),
    ("keras-value-shaped-operation",
     lambda: _keras_ops_with(2, class_name="Unique", registered_name="Unique", name="unique",
                             config={"name": "unique", "sorted": True}),
     cr.saving.UnsafeFileError, r"'.*keras_model\.keras': the model layers\[2\] \(Unique "
     r"'unique'\): chainrule does not read the Keras operation 'Unique': its output's shape "
     r"depends on the input's values .*Received: class_name='Unique', "
     r"module='keras\.src\.ops\.numpy'$", True),
    ("symbolic-value-shaped-op", lambda: cr.ops.unique(L.Input((4,))), ValueError,
     r"ops\.unique cannot be called on a symbolic tensor of a functional model: its output's "
     r"shape depends on the input's values, not only on its shape\. Pass size= .*"
     r"Received: a KerasTensor argument$", True),
    ("keras-operation-setting",
     lambda: _keras_ops_with(2, class_name="Mean", name="mean",
                             config={"name": "mean", "axes": 1}),
     InvalidArchiveError, r"'.*keras_model\.keras': the model layers\[2\] \(Mean 'mean'\) sets "
     r"axes=1, which chainrule's ops\.mean does not take \(it reads \['axis', 'keepdims'\]\)\. "
     r"Received: axes=1$", True),
    pytest.param(
        "keras-write-unknown-operation", _save_dropout_op_for_keras, ValueError,
        r"Cannot write op layer 'dropout' \(ops\.dropout\) in Keras's \.keras format: Keras 3 "
        r"has no operation chainrule knows for it .*Received: function='dropout'$", True,
        marks=_needs_h5py_for_ops),
    pytest.param(
        "keras-write-tensor-setting", _save_tensor_clip_for_keras, ValueError,
        r"Cannot write op layer 'clip' \(ops\.clip\) in Keras's \.keras format: Keras's Clip "
        r"takes x_min as a constant setting, not a tensor\. Received: x_min=a tensor$", True,
        marks=_needs_h5py_for_ops),
]


def _compiled(model, **kwargs):
    model.compile(**kwargs)
    return model

# -- Keras's own files (docs/errors.md, "Files"; the h5 extra) -----------------------------
_KERAS_FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras_files")
_needs_h5py = pytest.mark.skipif(__import__("importlib").util.find_spec("h5py") is None,
                                 reason="needs h5py (the h5 extra)")


def _keras_mlp_with(index, entry):
    """The Keras-written mlp.keras with layer ``index`` of its config replaced by ``entry``."""
    import json
    import zipfile

    src = os.path.join(_KERAS_FILES, "mlp.keras")
    with zipfile.ZipFile(src) as zin:
        config = json.loads(zin.read("config.json"))
        config["config"]["layers"][index] = entry
        with zipfile.ZipFile(TMP / "keras_model.keras", "w") as zout:
            for name in zin.namelist():
                zout.writestr(name, json.dumps(config) if name == "config.json"
                              else zin.read(name))
    return cr.models.load_model(TMP / "keras_model.keras")


def _huge_h5_dataset():
    import h5py

    with h5py.File(TMP / "huge.weights.h5", "w") as f:  # declared only: the file stays small
        f.create_group("layers/dense/vars").create_dataset("0", shape=(2**20, 2**20),
                                                           dtype="float32", chunks=(16, 16))
    cr.Sequential([L.Input((5,)), L.Dense(2)]).load_weights(TMP / "huge.weights.h5")


def _without_h5py(action):
    import sys

    saved = sys.modules.get("h5py", False)
    sys.modules["h5py"] = None
    try:
        action()
    finally:
        if saved is False:
            del sys.modules["h5py"]
        else:
            sys.modules["h5py"] = saved


ROWS += [
    ("keras-lambda-layer",
     lambda: _keras_mlp_with(2, {"module": "keras.layers", "class_name": "Lambda",
                                 "config": {"name": "lambda", "function": "..."}}),
     cr.saving.UnsafeFileError, r"'.*keras_model\.keras': the model layers\[2\] \(Lambda "
     r"'lambda'\) is a Lambda layer, which holds Python code; chainrule never runs code", True),
    ("keras-unknown-layer",
     lambda: _keras_mlp_with(1, {"module": "keras.layers", "class_name": "WaveletTransform",
                                 "config": {"name": "hidden", "filters": 4}}),
     cr.saving.UnsafeFileError, r"'.*keras_model\.keras': the model layers\[1\] "
     r"\(WaveletTransform 'hidden'\): chainrule has no layer class 'WaveletTransform'",
     True),
    ("weights-h5-not-hdf5",
     lambda: mlp().load_weights(write(TMP / "notes.weights.h5", b"my notes")),
     InvalidArchiveError, r"'.*notes\.weights\.h5' is not a Keras HDF5 weights file: it does "
     r"not start with the HDF5 signature", True),
    pytest.param("weights-h5-too-large", _huge_h5_dataset, cr.saving.UnsafeFileError,
                 r"'.*huge\.weights\.h5': dataset layers/dense/vars/0 declares shape "
                 r"\(1048576, 1048576\) \(float32\), 4398046511104 bytes .*Nothing was read",
                 True, marks=_needs_h5py),
    ("weights-h5-without-h5py",
     lambda: _without_h5py(lambda: mlp().save_weights(TMP / "model.weights.h5")), ImportError,
     r"Keras's HDF5 files .* need h5py, an optional dependency: pip install \"chainrule\[h5\]\"",
     True),
]

# -- noise, activation, unit/RMS normalization, 3-D reshaping, stacked cells, InputSpec ------
def _prelu_other_channels():
    layer = L.PReLU(shared_axes=[1], name="prelu")
    layer(np.zeros((2, 4, 3), "float32"))
    layer(np.zeros((2, 4, 5), "float32"))


ROWS += [
    ("gaussian-noise-stddev", lambda: L.GaussianNoise(-0.1), ValueError,
     r"GaussianNoise: stddev must be a number in \[0, 1\]\. Received: stddev=-0\.1$", True),
    ("noise-dropout-rate", lambda: L.GaussianDropout(1.0), ValueError,
     r"GaussianDropout: rate must be a number in \[0, 1\)\. Received: rate=1\.0$", True),
    ("alpha-dropout-rate", lambda: L.AlphaDropout(1.5), ValueError,
     r"AlphaDropout: rate must be a number in \[0, 1\)\. Received: rate=1\.5$", True),
    ("prelu-shared-axes", lambda: L.PReLU(shared_axes=[0]), ValueError,
     r"PReLU: shared_axes must be None or axes >= 1 \(axis 0 is the batch\)\. Received: "
     r"shared_axes=\[0\]$", True),
    ("input-spec-axis", _prelu_other_channels, ValueError,
     r'Input 0 of layer "prelu" is incompatible with the layer: expected axis 2 of the input '
     r"shape to have value 3\. Received: inputs of shape \(2, 4, 5\)$", True),
    ("rms-norm-axis", lambda: L.RMSNormalization(axis=3, name="rms")(np.ones((2, 4))),
     ValueError, r'Layer "rms" \(RMSNormalization\): axis 3 is out of bounds for an input of '
     r"shape \(2, 4\)\. Received: axis=3$", True),
    ("cropping3d-too-much", lambda: cr.Sequential(
        [L.Input((5, 5, 5, 1)), L.Cropping3D(((3, 3), (0, 0), (0, 0)), name="crop")]),
     ValueError, r'Layer "crop" \(Cropping3D\): cropping \(\(3, 3\), \(0, 0\), \(0, 0\)\) is '
     r"not smaller than the spatial size of the input of shape \(None, 5, 5, 5, 1\)", True),
    ("upsampling3d-rank", lambda: L.UpSampling3D(name="up")(np.ones((2, 4, 4, 1))), ValueError,
     r'Layer "up" \(UpSampling3D\) expects 5-D input \(batch, depth, height, width, '
     r"channels\), received shape \(2, 4, 4, 1\)\. Add a channel axis", True),
    ("random-crop-size", lambda: L.RandomCrop(0, 3), ValueError,
     r"RandomCrop: height must be an integer >= 1\. Received: height=0$", True),
    ("stacked-cells-not-cells", lambda: L.StackedRNNCells([L.Dense(2)]), ValueError,
     r"StackedRNNCells: every cell must be a layer with a `state_size` .*Received: cell "
     r"<Dense .* of type Dense$", True),
    ("wrapper-not-a-layer", lambda: L.Wrapper("dense"), ValueError,
     r"Wrapper wraps a layer\. Received: layer='dense' of type str$", True),
]

# -- optimizers, losses and activations: Adamax to Tversky (docs/errors.md) --------------------
_X23 = np.zeros((2, 3), dtype="float32")
ROWS += [
    ("ftrl-learning-rate-power-positive", lambda: cr.optimizers.Ftrl(learning_rate_power=0.5),
     ValueError, r"Argument `learning_rate_power` must be a float <= 0\. "
     r"Received: learning_rate_power=0\.5$", True),
    ("ftrl-l1-negative", lambda: cr.optimizers.Ftrl(l1_regularization_strength=-1), ValueError,
     r"Argument `l1_regularization_strength` must be a float >= 0\. "
     r"Received: l1_regularization_strength=-1$", True),
    ("lion-beta-1-zero", lambda: cr.optimizers.Lion(beta_1=0), ValueError,
     r"Argument `beta_1` must be a float in \(0, 1\]\. Received: beta_1=0$", True),
    ("lamb-beta-2-one", lambda: cr.optimizers.Lamb(beta_2=1.0), ValueError,
     r"Argument `beta_2` must be a float in \[0, 1\)\. Received: beta_2=1\.0$", True),
    ("focal-gamma-negative", lambda: cr.losses.BinaryFocalCrossentropy(gamma=-1), ValueError,
     r"gamma must be a number >= 0\. Received: gamma=-1$", True),
    ("focal-alpha-outside", lambda: cr.losses.BinaryFocalCrossentropy(alpha=1.5), ValueError,
     r"alpha must be a number in \[0, 1\]\. Received: alpha=1\.5$", True),
    ("focal-alpha-per-class",
     lambda: cr.losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.8])(
         np.eye(3)[[0, 1]], np.full((2, 3), 1 / 3)), ValueError,
     r"categorical_focal_crossentropy: alpha must have one weight per class \(3\)\. "
     r"Received: alpha=\[0\.2, 0\.8\]$", True),
    ("tversky-alpha-negative", lambda: cr.losses.Tversky(alpha=-0.5), ValueError,
     r"Tversky: alpha must be a number >= 0\. Received: alpha=-0\.5$", True),
    ("dice-bad-axis", lambda: cr.losses.dice(_X23, _X23, axis=3), ValueError,
     r"dice: axis must be None, an integer or a tuple of integers, each in \[-2, 2\) for "
     r"inputs of 2 dimensions\. Received: axis=3$", True),
    ("glu-odd-axis", lambda: cr.activations.glu(_X23), ValueError,
     r"glu: the size of axis -1 must be even \(it is split into two halves\)\. "
     r"Received: x\.shape=\(2, 3\) with axis=-1$", True),
    ("sparsemax-bad-axis", lambda: cr.ops.sparsemax(_X23, axis=2), ValueError,
     r"sparsemax: `axis` 2 is out of range for an input of shape \(2, 3\)\. "
     r"Received: axis=2$", True),
    ("celu-alpha-zero", lambda: cr.activations.celu(_X23, alpha=0), ValueError,
     r"celu: `alpha` must be a nonzero number\. Received: alpha=0$", True),
    ("squareplus-b-negative", lambda: cr.ops.squareplus(_X23, b=-1), ValueError,
     r"squareplus: `b` must be a number >= 0\. Received: b=-1$", True),
]

# -- more ops (docs/errors.md, "More `ops`") --------------------------------------------------
ROWS += [
    ("ops-quantile-q", lambda: cr.ops.quantile(_X23, 1.5), ValueError,
     r"quantile: q must be a number or a 1-D list of numbers in \[0, 1\]\. "
     r"Received: q=1\.5$", True),
    ("ops-bitwise-float", lambda: cr.ops.bitwise_and(np.ones(2), np.ones(2, int)), TypeError,
     r"bitwise_and: x must hold integers or booleans\. Received: x of dtype float64$", True),
    ("ops-searchsorted-rank", lambda: cr.ops.searchsorted(np.zeros((2, 3)), 1.0), ValueError,
     r"searchsorted: sorted_sequence must be 1-D \(use ops\.vectorized_map for more "
     r"dimensions\)\. Received: sorted_sequence of shape \(2, 3\)$", True),
    ("ops-slice-out-of-range", lambda: cr.ops.slice(_X23, (0, 2), (2, 2)), ValueError,
     r"slice: the block runs out of inputs of shape \(2, 3\)\. Received: "
     r"start_indices=\(0, 2\), shape=\(2, 2\)$", True),
    ("ops-scatter-update-reduction",
     lambda: cr.ops.scatter_update(_X23, [[0, 0]], [1.0], reduction="avg"), ValueError,
     r"scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul'\. "
     r"Received: reduction='avg'$", True),
    ("ops-segment-ids", lambda: cr.ops.segment_sum(np.zeros((2, 3)), np.array([0])),
     ValueError, r"segment_sum: segment_ids must be a 1-D integer tensor with one id per row "
     r"of data\. Received: segment_ids of shape \(1,\) and dtype int64 for data of shape "
     r"\(2, 3\)$", True),
    ("linalg-not-square", lambda: cr.ops.det(_X23), ValueError,
     r"det: x must be a square matrix or a stack of them, of shape \(\.\.\., n, n\)\. "
     r"Received: x of shape \(2, 3\)$", True),
    ("linalg-singular", lambda: cr.ops.inv(np.ones((2, 2))), ValueError,
     r"inv: Singular matrix\. Received: a matrix NumPy's linear algebra cannot handle$", True),
    ("ops-fft-pair", lambda: cr.ops.fft(np.zeros(4)), ValueError,
     r"fft: x must be a tuple \(real, imag\) of two tensors\. Received: x of type ndarray$",
     True),
    ("ops-ctc-decode-strategy",
     lambda: cr.ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="best"), ValueError,
     r"ctc_decode: strategy must be 'greedy' or 'beam_search'\. "
     r"Received: strategy='best'$", True),
    ("ops-rearrange-axes", lambda: cr.ops.rearrange(_X23, "a b -> a c"), ValueError,
     r"rearrange: both sides must name the same axes, each once\. "
     r"Received: pattern='a b -> a c'$", True),
    ("ops-depth-to-space-channels",
     lambda: cr.ops.depth_to_space(np.zeros((1, 2, 2, 6)), 2), ValueError,
     r"depth_to_space: the channels \(6\) must be divisible by block_size\*\*2 \(4\)\. "
     r"Received: x of shape \(1, 2, 2, 6\)$", True),
]

# -- attention layers (docs/errors.md, "Attention layers") -------------------------------------
_SEQ_Q = np.ones((2, 4, 8), "float32")
_SEQ_V = np.ones((2, 5, 8), "float32")


def _mha_called_on_other_query():
    mha = L.MultiHeadAttention(2, 4, name="mha")
    mha(_SEQ_Q, _SEQ_V)
    mha(np.ones((2, 4, 6), "float32"), _SEQ_V)


ROWS += [
    ("mha-key-dim", lambda: L.MultiHeadAttention(num_heads=2, name="mha"), ValueError,
     r"MultiHeadAttention layer 'mha': key_dim must be a positive integer\. "
     r"Received: key_dim=None$", True),
    ("mha-num-heads", lambda: L.MultiHeadAttention(num_heads=0, key_dim=4, name="mha"),
     ValueError, r"MultiHeadAttention layer 'mha': num_heads must be a positive integer\. "
     r"Received: num_heads=0$", True),
    ("mha-value-missing", lambda: L.MultiHeadAttention(2, 4, name="mha")(_SEQ_Q), ValueError,
     r"MultiHeadAttention layer 'mha' must be called with a query and a value, e\.g\. "
     r"mha\(query, value\)\. Received: query=a tensor, value=None$", True),
    ("mha-rank", lambda: L.MultiHeadAttention(2, 4, name="mha")(_SEQ_Q[:, 0], _SEQ_Q[:, 0]),
     ValueError, r"MultiHeadAttention layer 'mha': query and value must be sequences of the "
     r"same rank, at least 3 .*Received: query_shape=\(2, 8\), value_shape=\(2, 8\)$", True),
    ("mha-key-value-shape",
     lambda: L.MultiHeadAttention(2, 4, name="mha")(_SEQ_Q, _SEQ_V, np.ones((2, 4, 8))),
     ValueError, r"MultiHeadAttention layer 'mha': all dimensions of value and key but the "
     r"last must be equal\. Received: value_shape=\(2, 5, 8\), key_shape=\(2, 4, 8\)$", True),
    ("mha-query-dim", _mha_called_on_other_query, ValueError,
     r"MultiHeadAttention layer 'mha' was built for query of shape \(2, 4, 8\) \(last "
     r"dimension 8\), but is called on a query of shape \(2, 4, 6\)\. "
     r"Received: query\.shape=\(2, 4, 6\)$", True),
    ("mha-attention-mask", lambda: L.MultiHeadAttention(2, 4, name="mha")(
        _SEQ_Q, _SEQ_V, attention_mask=np.ones((2, 4, 4), bool)), ValueError,
     r"MultiHeadAttention layer 'mha': attention_mask must have shape \(2, 4, 5\) .*"
     r"Received: attention_mask\.shape=\(2, 4, 4\)$", True),
    ("symbolic-keyword-mixed-list", lambda: L.Attention(name="att")(
        [L.Input((4, 8)), L.Input((5, 8))], mask=[None, L.Input((5,), dtype="bool")]),
     ValueError, r"Layer 'att' was called with a list mixing symbolic tensors and other values "
     r"as mask; a functional graph takes a tensor or a list of tensors by keyword\. "
     r"Received: mask of types \['NoneType', 'KerasTensor'\]$", True),
    ("gqa-head-dim", lambda: L.GroupQueryAttention(head_dim=0, num_query_heads=4,
                                                   num_key_value_heads=2, name="gqa"),
     ValueError, r"GroupQueryAttention layer 'gqa': head_dim must be a positive integer\. "
     r"Received: head_dim=0$", True),
    ("gqa-heads-not-divisible", lambda: L.GroupQueryAttention(
        head_dim=2, num_query_heads=4, num_key_value_heads=3, name="gqa"), ValueError,
     r"GroupQueryAttention layer 'gqa': num_query_heads must be divisible by "
     r"num_key_value_heads .*Received: num_query_heads=4, num_key_value_heads=3$", True),
    ("gqa-rank", lambda: L.GroupQueryAttention(2, 4, 2, name="gqa")(
        np.ones((2, 3, 4, 8), "float32"), np.ones((2, 3, 4, 8), "float32")), ValueError,
     r"GroupQueryAttention layer 'gqa': query, value and key must have rank 3 \(batch, "
     r"positions, features\)\. Received: query_shape=\(2, 3, 4, 8\), "
     r"value_shape=\(2, 3, 4, 8\)$", True),
    ("attention-not-a-list", lambda: L.Attention(name="att")(_SEQ_Q), ValueError,
     r"Attention layer 'att' must be called on a list \[query, value\] or \[query, value, "
     r"key\]\. Received: inputs=one input of shape \(2, 4, 8\)$", True),
    ("attention-query-key-dim",
     lambda: L.Attention(name="att")([_SEQ_Q, np.ones((2, 5, 3), "float32")]), ValueError,
     r"Attention layer 'att': query and key must have the same last dimension .*"
     r"Received: query\.shape=\(2, 4, 8\), key\.shape=\(2, 5, 3\)$", True),
    ("attention-score-mode", lambda: L.Attention(score_mode="general", name="att"), ValueError,
     r"Attention layer 'att': score_mode must be 'dot' or 'concat'\. "
     r"Received: score_mode='general'$", True),
    ("einsum-dense-equation", lambda: L.EinsumDense("ab->b", 3, name="ed")(_SEQ_Q), ValueError,
     r"EinsumDense layer 'ed': the equation must have the form 'X,Y->Z', .*"
     r"Received: equation='ab->b'$", True),
    ("einsum-dense-bias-axes", lambda: L.EinsumDense("abc,cd->abd", (None, 3), bias_axes="x",
                                                     name="ed")(_SEQ_Q), ValueError,
     r"EinsumDense layer 'ed': bias_axes must be letters of the output 'abd'\. "
     r"Received: bias_axes='x'$", True),
    ("einsum-dense-output-letter",
     lambda: L.EinsumDense("abc,cz->abd", (None, 3), name="ed")(_SEQ_Q), ValueError,
     r"EinsumDense layer 'ed': output letter 'd' is in neither the input nor the kernel\. "
     r"Received: equation='abc,cz->abd'$", True),
]

def _config_with_bad_keyword_tensors():
    x, m = L.Input((5, 2)), L.Input((5,), dtype="bool")
    config = cr.Model([x, m], L.SimpleRNN(3, name="rnn")(x, mask=m)).get_config()
    (rnn,) = [e for e in config["layers"] if e["name"] == "rnn"]
    rnn["keyword_tensors"] = [[["mask", 2]]]  # two tensors in a list: the call has two inputs
    return cr.Model.from_config(config)


ROWS += [
    ("config-keyword-tensors", _config_with_bad_keyword_tensors, ValueError,
     r"Invalid functional config: layer 'rnn' passes more tensors by keyword than it has "
     r"inputs\. Received: \[\['mask', 2\]\]$", True),
]


# -- ops.image (docs/errors.md, "Image ops") ---------------------------------------------------
_IMAGES = np.ones((2, 8, 8, 3), "float32")
ROWS += [
    ("patches-size", lambda: cr.ops.image.extract_patches(_IMAGES, (2, 2, 2, 2)), ValueError,
     r"extract_patches: size must be an int or a tuple of 2 \(2-D patches\) or 3 \(3-D "
     r"patches\) ints\. Received: size=\(2, 2, 2, 2\)$", True),
    ("patches-rank", lambda: cr.ops.image.extract_patches(_IMAGES[0, :, :, 0], 2), ValueError,
     r"extract_patches: 2-D patches take images \(height, width, channels\), with or without "
     r"a batch axis first: rank 3 or 4\. Received: images of shape \(8, 8\)$", True),
    ("patches-padding", lambda: cr.ops.image.extract_patches(_IMAGES, 2, padding="full"),
     ValueError, r"extract_patches: invalid padding\. Expected one of 'valid', 'same'\. "
     r"Received: padding='full'$", True),
    ("patches-too-large", lambda: cr.ops.image.extract_patches(_IMAGES, 9), ValueError,
     r"extract_patches: the window \(9, 9\) .* is larger than the padded input \(8, 8\) "
     r"\(padding 'valid'\)\. Received: inputs of shape \(2, 8, 8, 3\)$", True),
    ("resize-interpolation",
     lambda: cr.ops.image.resize(_IMAGES, (4, 4), interpolation="bicubic"), ValueError,
     r"image\.resize: chainrule resizes with 'bilinear' or 'nearest' interpolation\. "
     r"Received: interpolation='bicubic'$", True),
]

# -- colour augmentation layers and colour ops (docs/errors.md, "Colour augmentation") --
ROWS += [
    ("color-aug-factor", lambda: L.RandomHue(factor=1.5), ValueError,
     r"RandomHue: factor must be a number or a pair of numbers in \[0\.0, 1\.0\]\. "
     r"Received: factor=1\.5$", True),
    ("color-aug-value-range", lambda: L.RandomSaturation(0.5, value_range=(0, 255, 1)),
     ValueError, r"RandomSaturation: value_range must be a pair of two different numbers "
     r"\(low, high\)\. Received: value_range=\(0, 255, 1\)$", True),
    ("color-aug-channels", lambda: L.RandomHue(0.2, name="hue")(np.ones((2, 4, 4, 4))),
     ValueError, r'RandomHue layer "hue" expects RGB images with 3 channels on axis -1 '
     r"\(channels_last\)\. Received: inputs of shape \(2, 4, 4, 4\)$", True),
    ("color-aug-data-format", lambda: L.RandomHue(0.2, data_format="nhwc"), ValueError,
     r"RandomHue: data_format must be 'channels_last' or 'channels_first'\. "
     r"Received: data_format='nhwc'$", True),
    ("grayscale-factor", lambda: L.RandomGrayscale(factor=1.5), ValueError,
     r"RandomGrayscale: factor must be a number in \[0, 1\]\. Received: factor=1\.5$", True),
    ("posterization-factor", lambda: L.RandomPosterization(9), ValueError,
     r"RandomPosterization: factor must be an integer in \[1, 8\] or a pair of them\. "
     r"Received: factor=9$", True),
    ("solarization-factor", lambda: L.Solarization(threshold_factor=2), ValueError,
     r"Solarization: threshold_factor must be a number in \[0, 1\] or a pair of them\. "
     r"Received: threshold_factor=2$", True),
    ("gaussian-blur-kernel-size", lambda: L.RandomGaussianBlur(kernel_size=4), ValueError,
     r"RandomGaussianBlur: kernel_size must be an odd positive integer or a pair of them\. "
     r"Received: kernel_size=4$", True),
    ("equalization-bins", lambda: L.Equalization(bins=0), ValueError,
     r"Equalization: bins must be an integer >= 1\. Received: bins=0$", True),
    ("rgb-to-hsv-channels", lambda: cr.ops.image.rgb_to_hsv(np.ones((4, 4, 1))), ValueError,
     r"rgb_to_hsv: images must have 3 channels \(RGB\) on axis -1\. Received: images of "
     r"shape \(4, 4, 1\)$", True),
    ("gaussian-blur-sigma", lambda: cr.ops.image.gaussian_blur(_IMAGES, sigma=0), ValueError,
     r"gaussian_blur: sigma must be a pair of positive numbers\. Received: sigma=0$",
     True),
]

# -- convolutional LSTM (sequences of frames) --
ROWS += [
    ("conv-lstm-input-rank",
     lambda: L.ConvLSTM2D(8, 3, name="clstm")(np.zeros((8, 6, 16, 16), "float32")), ValueError,
     r'Input 0 of layer "clstm" is incompatible with the layer: ConvLSTM2D expects 5-D input '
     r"\(batch, time, rows, cols, channels\), received shape \(8, 6, 16, 16\)\. Add a channel "
     r"axis to one-channel frames \(x\[\.\.\., None\]\), or a time axis to single frames "
     r"\(x\[:, None\]\)\. Received: inputs of shape \(8, 6, 16, 16\)$", True),
    ("conv-lstm-fit-input-rank",
     lambda: fit(compiled(L.ConvLSTM2D(4, 3, name="clstm"), L.Flatten(), L.Dense(1),
                          loss="mse"), np.zeros((4, 6, 8, 8)), np.zeros((4, 1))), ValueError,
     r'Input 0 of layer "clstm" is incompatible with the layer: ConvLSTM2D expects 5-D input '
     r"\(batch, time, rows, cols, channels\), received shape \(None, 6, 8, 8\)\.", True),
    ("conv-lstm-spatial-unknown",
     lambda: L.ConvLSTM2D(4, 3, name="clstm")(L.Input((None, None, None, 1))), ValueError,
     r'Layer "clstm" \(ConvLSTM2D\): ConvLSTM layers only support static input shapes for the '
     r"spatial dimensions \(the time axis may be None\)\. Received: input_shape=\(None, None, "
     r"None, None, 1\)$", True),
]

ROWS += [
    # -- Keras 3 namespaces: tree, device, config, backend, dtype policies -------------------
    ("tree-pack-length", lambda: cr.tree.pack_sequence_as([1, 2], [1]), ValueError,
     r"pack_sequence_as: the structure has 2 leaves, but flat_sequence has 1 items\. "
     r"Received: flat_sequence of length 1$", True),
    ("tree-structure", lambda: cr.tree.assert_same_structure([0, 1], (2, 3)), ValueError,
     r"assert_same_structure: the structures don't have the same nested structure: "
     r"expected a list, got tuple\. Received: \(2, 3\)$", True),
    ("tree-map-arity", lambda: cr.tree.map_structure(lambda a, b: a, [1, 2], [1]), ValueError,
     r"map_structure: the structures don't have the same nested structure: expected a list "
     r"of 2 items, got 1\. Received: \[1\]$", True),
    ("device-name", lambda: cr.device("tpu:x").__enter__(), ValueError,
     r"Invalid value for argument `device_name`\. .*Received: device_name='tpu:x'$", True),
    ("image-data-format", lambda: cr.config.set_image_data_format("nchw"), ValueError,
     r"The `data_format` argument must be one of 'channels_first', 'channels_last'\. "
     r"Received: data_format='nchw'$", True),
    ("max-epochs", lambda: cr.config.set_max_epochs(0), ValueError,
     r"max_epochs must be a positive integer or None\. Received: max_epochs=0$", True),
    ("result-type-dtype", lambda: cr.backend.result_type("foo"), ValueError,
     r"Invalid dtype: expected one of float16, .*Received: dtype='foo'$", True),
    ("dtype-policy-name", lambda: cr.DTypePolicy("floaty"), ValueError,
     r"Cannot convert 'floaty' to a DTypePolicy\. .*Received: name='floaty'$", True),
    ("dtype-policy-mixed", lambda: cr.config.set_dtype_policy("mixed_float16"), ValueError,
     r"chainrule cannot honour the global dtype policy 'mixed_float16': its layers compute "
     r"in the dtype of their weights.*Received: policy='mixed_float16'$", True),
    ("dtype-policy-bfloat16", lambda: L.Dense(2, dtype="bfloat16"), ValueError,
     r"chainrule cannot honour the dtype 'bfloat16': NumPy has no bfloat16 type\. .*"
     r"Received: policy='bfloat16'$", True),
]

# -- adaptive pooling, spectrograms, spectral normalization, reversible embedding --------------
def _reverse_with_wrong_size():
    layer = L.ReversibleEmbedding(5, 3, name="rev")
    layer.build()
    return layer(np.zeros((2, 4, 5), "float32"), reverse=True)


ROWS += [
    ("adaptive-output-size", lambda: L.AdaptiveAveragePooling2D((3, 0), name="ap"), ValueError,
     r"AdaptiveAveragePooling2D layer 'ap': invalid value for argument `output_size`: expected "
     r"a positive integer or 2 of them\. Received: output_size=\(3, 0\)$", True),
    ("adaptive-input-rank",
     lambda: L.AdaptiveMaxPooling2D(2, name="ap")(np.zeros((2, 5, 5), "float32")), ValueError,
     r'Input 0 of layer "ap" is incompatible with the layer: AdaptiveMaxPooling2D expects 4-D '
     r"input \(batch, height, width, channels\), received shape \(2, 5, 5\)\. Add a channel "
     r"axis: x\[\.\.\., None\]\. Received: inputs of shape \(2, 5, 5\)$", True),
    ("stft-frame-step", lambda: L.STFTSpectrogram(frame_length=8, frame_step=9), ValueError,
     r"STFTSpectrogram: `frame_step` must be a positive integer not greater than "
     r"`frame_length` \(8\)\. Received: frame_step=9$", True),
    ("stft-fft-length", lambda: L.STFTSpectrogram(frame_length=8, fft_length=4), ValueError,
     r"STFTSpectrogram: `fft_length` must be an integer not less than `frame_length` \(8\)\. "
     r"Received: fft_length=4$", True),
    ("stft-mode", lambda: L.STFTSpectrogram(mode="power"), ValueError,
     r"STFTSpectrogram: `mode` must be one of log, magnitude, psd, real, imag, angle, stft\. "
     r"Received: mode='power'$", True),
    ("stft-window", lambda: L.STFTSpectrogram(window="hanning"), ValueError,
     r"STFTSpectrogram: unknown window 'hanning'; chainrule knows SciPy's bartlett, .*"
     r"Received: window='hanning'$", True),
    ("stft-input-rank",
     lambda: L.STFTSpectrogram(frame_length=8, name="spec")(np.zeros((2, 32), "float32")),
     ValueError, r'Input 0 of layer "spec" is incompatible with the layer: STFTSpectrogram '
     r"expects 3-D input \(batch, time, channels\), received shape \(2, 32\)\. Add a channel "
     r"axis: x\[\.\.\., None\]\. Received: inputs of shape \(2, 32\)$", True),
    ("stft-short-signal",
     lambda: L.STFTSpectrogram(frame_length=8, name="spec")(np.zeros((1, 4, 1), "float32")),
     ValueError, r'Layer "spec" \(STFTSpectrogram\): the signal has 4 samples, fewer than '
     r"frame_length=8 .*Received: input_shape=\(1, 4, 1\)$", True),
    ("stft-init-side", lambda: cr.initializers.STFT("complex"), ValueError,
     r"STFT: side must be 'real' or 'imag'\. Received: side='complex'$", True),
    ("mel-fft-length", lambda: L.MelSpectrogram(fft_length=256, sequence_length=512),
     ValueError, r"MelSpectrogram: `fft_length` must be greater than or equal to "
     r"`sequence_length` \(512\)\. Received: fft_length=256$", True),
    ("mel-stride", lambda: L.MelSpectrogram(sequence_stride=0), ValueError,
     r"MelSpectrogram: `sequence_stride` must be a positive integer\. "
     r"Received: sequence_stride=0$", True),
    ("mel-input-rank", lambda: L.MelSpectrogram(name="mel")(np.zeros((2, 3, 64), "float32")),
     ValueError, r'Input 0 of layer "mel" is incompatible with the layer: MelSpectrogram '
     r"expects 1-D \(samples,\) or 2-D \(batch, samples\) input, received shape "
     r"\(2, 3, 64\)\. Received: inputs of shape \(2, 3, 64\)$", True),
    ("spectral-power-iterations",
     lambda: L.SpectralNormalization(L.Dense(2), power_iterations=0, name="sn"), ValueError,
     r'Layer "sn" \(SpectralNormalization\): `power_iterations` must be a positive integer\. '
     r"Received: power_iterations=0$", True),
    ("spectral-no-kernel",
     lambda: L.SpectralNormalization(L.Flatten(), name="sn")(np.zeros((2, 3), "float32")),
     ValueError, r'Layer "sn" \(SpectralNormalization\) needs a wrapped layer with a `kernel` '
     r"or `embeddings` weight\. Received: layer of type Flatten$", True),
    ("reversible-soft-cap", lambda: L.ReversibleEmbedding(5, 3, logit_soft_cap=0, name="rev"),
     ValueError, r'Layer "rev" \(ReversibleEmbedding\): `logit_soft_cap` must be a positive '
     r"number or None\. Received: logit_soft_cap=0$", True),
    ("reversible-reverse-size", _reverse_with_wrong_size, ValueError,
     r'Layer "rev" \(ReversibleEmbedding\): call\(\.\.\., reverse=True\) takes vectors of '
     r"size output_dim=3 on the last axis\. Received: inputs of shape \(2, 4, 5\)$", True),
]
# -- end of adaptive pooling, spectrograms, spectral normalization, reversible embedding --
# -- geometric image ops and augmentation layers (docs/errors.md, "Geometric image ops ...") --
_IMGS = np.ones((2, 8, 8, 3), "float32")
_IMG_OPS = cr.ops.image
ROWS += [
    ("affine-transform-shape", lambda: _IMG_OPS.affine_transform(_IMGS, [1, 0, 0]), ValueError,
     r"image\.affine_transform: transform must have shape \(8,\) or \(batch, 8\)\. "
     r"Received: transform of shape \(3,\)$", True),
    ("affine-fill-mode", lambda: _IMG_OPS.affine_transform(_IMGS, [1, 0, 0, 0, 1, 0, 0, 0],
                                                           fill_mode="mirror"), ValueError,
     r"image\.affine_transform: fill_mode must be one of 'constant', 'nearest', 'wrap', "
     r"'reflect'\. Received: fill_mode='mirror'$", True),
    ("map-coordinates-order",
     lambda: _IMG_OPS.map_coordinates(_IMGS[0, :, :, 0], np.zeros((2, 3)), order=3),
     ValueError, r"image\.map_coordinates: order must be 0 \(nearest\) or 1 \(linear\)\. "
     r"Received: order=3$", True),
    ("map-coordinates-rank", lambda: _IMG_OPS.map_coordinates(_IMGS, np.zeros((2, 3)), order=1),
     ValueError, r"image\.map_coordinates: the first axis of coordinates must be the rank of "
     r"inputs \(4\)\. Received: coordinates of shape \(2, 3\) for inputs of shape "
     r"\(2, 8, 8, 3\)$", True),
    ("perspective-points-shape",
     lambda: _IMG_OPS.perspective_transform(_IMGS, np.zeros((3, 2)), np.zeros((3, 2))),
     ValueError, r"image\.perspective_transform: start_points must have shape \(4, 2\) or "
     r"\(batch, 4, 2\)\. Received: start_points of shape \(3, 2\)$", True),
    ("pad-images-two-of-three",
     lambda: _IMG_OPS.pad_images(_IMGS, 1, 1, 1, 1, target_height=10), ValueError,
     r"image\.pad_images: give exactly two of top_padding, bottom_padding, target_height\. "
     r"Received: top_padding=1, bottom_padding=1, target_height=10$", True),
    ("crop-images-too-large",
     lambda: _IMG_OPS.crop_images(_IMGS, 0, 0, target_height=10, target_width=4), ValueError,
     r"image\.crop_images: the crop reaches past the images\. Received: images of shape "
     r"\(2, 8, 8, 3\), a crop of \(10, 4\) from \(0, 0\)$", True),
    ("scale-translate-method",
     lambda: _IMG_OPS.scale_and_translate(_IMGS, (2, 4, 4, 3), (0.5, 0.5), (0, 0), (1, 2),
                                          "area"), ValueError,
     r"image\.scale_and_translate: method must be one of 'linear', .*'lanczos5'\. "
     r"Received: method='area'$", True),
    ("elastic-sigma", lambda: _IMG_OPS.elastic_transform(_IMGS, sigma=-1.0), ValueError,
     r"image\.elastic_transform: sigma must be a non-negative number\. "
     r"Received: sigma=-1\.0$", True),
    ("random-shear-factor", lambda: L.RandomShear(x_factor=1.5), ValueError,
     r"RandomShear: x_factor must be a number or a pair of numbers in \[0, 1\]\. "
     r"Received: x_factor=1\.5$", True),
    ("random-perspective-scale", lambda: L.RandomPerspective(scale=2.0), ValueError,
     r"RandomPerspective: scale must be a number in \[0, 1\]\. Received: scale=2\.0$", True),
    ("random-elastic-fill-mode", lambda: L.RandomElasticTransform(fill_mode="mirrored"),
     ValueError, r"Unknown fill_mode for layer RandomElasticTransform: 'mirrored'\. Did you "
     r"mean 'mirror'\?.* Received: fill_mode='mirrored'$", True),
    ("random-erasing-fill-value", lambda: L.RandomErasing(fill_value=(1, 2)), ValueError,
     r"RandomErasing: fill_value must be None, a number or three numbers \(one per "
     r"channel\)\. Received: fill_value=\(1, 2\)$", True),
    ("mixup-alpha", lambda: L.MixUp(alpha=0), ValueError,
     r"MixUp: alpha must be a positive number\. Received: alpha=0$", True),
    ("mixup-dict-keys", lambda: L.MixUp(name="mix")({"image": _IMGS}), ValueError,
     r'MixUp layer "mix" takes images or a dict with "images" and optionally "labels"\. '
     r"Received: keys \['image'\]$", True),
    ("cutmix-factor", lambda: L.CutMix(factor=(0.5, 2.0)), ValueError,
     r"CutMix: factor must be a number or a pair of numbers in \[0, 1\]\. "
     r"Received: factor=\(0\.5, 2\.0\)$", True),
    ("augment-rank", lambda: L.RandomShear(0.1, name="shear")(_IMGS[0, :, :, 0]), ValueError,
     r'RandomShear layer "shear" expects images of rank 4 \(batch, height, width, channels\) '
     r"or rank 3 \(one image\)\. Received: inputs of shape \(8, 8\)$", True),
]
# -- end of geometric image ops and augmentation layers --
# -- LossScaleOptimizer, Muon, ScheduleFreeAdamW, Circle and CTC (docs/errors.md) ------------
ROWS += [
    ("loss-scale-inner-not-optimizer", lambda: cr.optimizers.LossScaleOptimizer("adam"),
     TypeError, r"Argument `inner_optimizer` must be an Optimizer instance .*"
     r"Received: inner_optimizer='adam' of type str$", True),
    ("loss-scale-initial-scale", lambda: cr.optimizers.LossScaleOptimizer(
        cr.optimizers.SGD(), initial_scale=0), ValueError,
     r"Argument `initial_scale` must be a positive finite float\. Received: initial_scale=0$",
     True),
    ("loss-scale-growth-steps", lambda: cr.optimizers.LossScaleOptimizer(
        cr.optimizers.SGD(), dynamic_growth_steps=0), ValueError,
     r"Argument `dynamic_growth_steps` must be an integer >= 1\. "
     r"Received: dynamic_growth_steps=0$", True),
    ("loss-scale-base-argument", lambda: cr.optimizers.LossScaleOptimizer(
        cr.optimizers.SGD(), clipnorm=1.0), ValueError,
     r"LossScaleOptimizer does not support `clipnorm`; set it on the `inner_optimizer` "
     r"instead\. Received: clipnorm=1\.0$", True),
    ("muon-ns-steps", lambda: cr.optimizers.Muon(ns_steps=-1), ValueError,
     r"Argument `ns_steps` must be an integer >= 0\. Received: ns_steps=-1$", True),
    ("muon-exclude-layers", lambda: cr.optimizers.Muon(exclude_layers="dense"), ValueError,
     r"Argument `exclude_layers` must be a list of strings .*"
     r"Received: exclude_layers='dense'$", True),
    ("schedule-free-warmup", lambda: cr.optimizers.ScheduleFreeAdamW(warmup_steps=-1),
     ValueError, r"Argument `warmup_steps` must be an integer >= 0\. Received: warmup_steps=-1$",
     True),
    ("circle-gamma", lambda: cr.losses.Circle(gamma=0), ValueError,
     r"Circle: gamma must be a positive number\. Received: gamma=0$", True),
    ("circle-labels", lambda: cr.losses.circle(np.zeros((2, 2)), np.eye(2)), ValueError,
     r"circle: y_true must be integer labels of shape \(batch,\)\. "
     r"Received: y_true of shape \(2, 2\)$", True),
    ("ctc-labels-rank", lambda: cr.losses.ctc(np.array([1, 2]), np.zeros((2, 3, 4))),
     ValueError, r"ctc: y_true must be integer labels of shape \(batch_size, max_length\)\. "
     r"Received: y_true\.shape=\(2,\)$", True),
    ("multi-optimizer-map", lambda: cr.optimizers.MultiOptimizer(3), TypeError,
     r"Argument `optimizer_map` must be an OptimizerMap or a function that returns the "
     r"Optimizer of a variable\. Received: optimizer_map=3$", True),
    ("optimizer-map-default", lambda: cr.optimizers.OptimizerMap("sgd"), TypeError,
     r"Argument `default_optimizer` must be an Optimizer instance\. "
     r"Received: default_optimizer='sgd'$", True),
]

# utils.FeatureSpace and utils.audio_dataset_from_directory
FS = cr.utils.FeatureSpace


def _not_a_wav():
    path = os.path.join(str(TMP), "noise.wav")
    with open(path, "wb") as f:
        f.write(b"not a wav file at all")
    from chainrule.utils.audio_dataset_utils import read_wav

    read_wav(path)


ROWS += [
    ("feature-space-empty", lambda: FS({}), ValueError,
     r"The `features` argument cannot be None or empty\. Received: features=\{\}$", True),
    ("feature-space-output-mode", lambda: FS({"a": "float"}, output_mode="vector"), ValueError,
     r"Invalid value for argument `output_mode`\. .*Received: output_mode='vector'$", True),
    ("feature-space-feature-type", lambda: FS({"a": "floaty"}), ValueError,
     r"Invalid feature type for feature 'a'\. .*Received: features\['a'\]='floaty'$", True),
    ("feature-space-cross-unknown", lambda: FS({"a": "float"}, crosses=[("a", "b")]),
     ValueError, r"All features referenced in the `crosses` argument .*Received: unknown "
     r"features \['b'\]", True),
    ("feature-space-cross-output-mode", lambda: FS.cross(("a", "b"), 4, output_mode="float"),
     ValueError, r"Invalid value for argument `output_mode`\. .*output_mode='float'$", True),
    ("feature-space-not-adapted", lambda: FS({"a": "float_normalized"})({"a": [1.0]}),
     ValueError, r"You need to call `\.adapt\(dataset\)` on the FeatureSpace", True),
    ("feature-space-call-not-dict", lambda: FS({"a": "float"})([1.0]), ValueError,
     r"A FeatureSpace can only be called with a dict\. Received: data of type list$", True),
    ("feature-space-adapt-type", lambda: FS({"a": "float_normalized"}).adapt(np.zeros(3)),
     TypeError, r"`adapt\(\)` can only be called on a dict of arrays/lists or an iterable "
     r"of dict batches\. Received: dataset of type ndarray$", True),
    ("feature-space-concat-int",
     lambda: FS({"a": FS.integer_categorical(output_mode="int")}).adapt({"a": [1, 2]}),
     ValueError, r"Cannot concatenate features because feature 'a' has not been encoded", True),
    ("audio-ragged", lambda: cr.utils.audio_dataset_from_directory(str(TMP), ragged=True),
     ValueError, r"audio_dataset_from_directory: ragged=True is not supported.*"
     r"Received: ragged=True$", True),
    ("audio-sampling-rate",
     lambda: cr.utils.audio_dataset_from_directory(str(TMP), sampling_rate=0), ValueError,
     r"`sampling_rate` should be a positive integer\. Received: sampling_rate=0$", True),
    ("audio-not-wav", _not_a_wav, ValueError,
     r"Cannot read .*noise\.wav as a PCM wav file .*Received: path=", True),
]

ROWS += [
    # -- scopes, Operation, remat and ops.jvp ----------------------------------------------
    ("name-scope-name", lambda: cr.name_scope("a/b"), ValueError,
     r"Argument `name` must be a string and cannot contain character `/`\. "
     r"Received: name='a/b'$", True),
    ("stateless-scope-key", lambda: cr.StatelessScope([(np.zeros(2), np.zeros(2))]), ValueError,
     r"Invalid reference variable in StatelessScope: all keys in argument `state_mapping` "
     r"must be Variable instances\. Received: ", True),
    ("stateless-scope-shape",
     lambda: cr.StatelessScope([(cr.Variable(np.zeros(2), name="v"), np.zeros(3))]), ValueError,
     r"Invalid variable value in StatelessScope: .*variable 'v' has shape \(2,\)\. "
     r"Received: value of shape \(3,\)$", True),
    ("remat-scope-mode", lambda: cr.RematScope(mode="some"), ValueError,
     r"Argument `mode` must be one of 'full', 'activations', 'larger_than', 'list_of_layers' "
     r"or None\. Received: mode='some'$", True),
    ("remat-not-callable", lambda: cr.remat(3), TypeError,
     r"Argument `f` of remat must be callable\. Received: f=3$", True),
    ("operation-name", lambda: cr.Operation(name="a/b"), ValueError,
     r"Argument `name` must be a string and cannot contain character `/`\. Received: "
     r"name='a/b' \(of type str\)$", True),
    ("operation-keyword-tensor", lambda: _operation_keyword_tensor(), ValueError,
     r"Operation 'affine': symbolic tensors must be passed positionally .*Received: keyword "
     r"arguments \['shift'\]$", True),
    ("operation-save", lambda: _operation_save(), ValueError,
     r"Operation 'op' \(ScopesOp\) cannot be saved in a model config: .*Received: "
     r"<Operation name=op>$", True),
    ("jvp-tangent-shape", lambda: cr.ops.jvp(cr.ops.sin, (np.ones(2),), (np.ones(3),)),
     ValueError, r"jvp: tangent 0 must have the shape of its primal \(2,\)\. Received: "
                 r"tangent of shape \(3,\)$", True),
    ("jvp-primals-type", lambda: cr.ops.jvp(cr.ops.sin, 1.0, (1.0,)), TypeError,
     r"jvp: argument `primals` must be a tuple or a list of fun's arguments\. Received: "
     r"primals of type float$", True),
    ("file-editor-extension", lambda: cr.saving.KerasFileEditor("m.h5"), ValueError,
     r"Invalid filename: expected a `\.keras`, `\.weights\.npz` or `\.weights\.h5` "
     r"extension\. Received: filepath='m\.h5'$", True),
    ("file-editor-ambiguous-name", lambda: _file_editor_ambiguous(), ValueError,
     r"Name 'kernel' occurs 2 times in the file; pass its full path\. "
     r"Received: 'kernel'$", True),
]


class ScopesOp(cr.Operation):
    def call(self, x, shift=0.0):
        return x + shift


def _operation_keyword_tensor():
    inputs = cr.Input((2,))
    ScopesOp(name="affine")(inputs, shift=inputs)


def _file_editor_ambiguous():
    path = os.path.join(TMP, "m.weights.npz")
    cr.Sequential([cr.Input((2,)), cr.layers.Dense(2), cr.layers.Dense(1)]).save_weights(path)
    cr.saving.KerasFileEditor(path).delete_object("kernel")


def _operation_save():
    inputs = cr.Input((2,))
    cr.Model(inputs, ScopesOp(name="op")(inputs)).save(os.path.join(TMP, "m.keras"))

# -- RandAugment and AugMix (docs/errors.md) --
ROWS += [
    ("randaugment-factor", lambda: L.RandAugment(factor=1.5), ValueError,
     r"RandAugment: factor must be a number or a pair of numbers in \[0, 1\]\. "
     r"Received: factor=1\.5$", True),
    ("randaugment-num-ops", lambda: L.RandAugment(num_ops=0), ValueError,
     r"RandAugment: num_ops must be a positive integer\. Received: num_ops=0$", True),
    ("randaugment-interpolation", lambda: L.RandAugment(interpolation="bicubic"), ValueError,
     r"RandAugment: interpolation must be 'bilinear' or 'nearest'\. "
     r"Received: interpolation='bicubic'$", True),
    ("randaugment-rank", lambda: L.RandAugment(name="ra")(_IMGS[0, :, :, 0]), ValueError,
     r'RandAugment layer "ra" expects images of rank 4 \(batch, height, width, channels\) '
     r"or rank 3 \(one image\)\. Received: inputs of shape \(8, 8\)$", True),
    ("augmix-alpha", lambda: L.AugMix(alpha=0), ValueError,
     r"AugMix: alpha must be a positive number\. Received: alpha=0$", True),
    ("augmix-chain-depth", lambda: L.AugMix(chain_depth=0), ValueError,
     r"AugMix: chain_depth must be a positive integer\. Received: chain_depth=0$", True),
    ("augmix-all-ops", lambda: L.AugMix(all_ops="yes"), ValueError,
     r"AugMix: all_ops must be True or False\. Received: all_ops='yes'$", True),
]
# -- end of RandAugment and AugMix --

# -- preprocessing.image.smart_resize (docs/errors.md) ------------------------------------------
ROWS += [
    ("smart-resize-size",
     lambda: cr.preprocessing.image.smart_resize(np.zeros((4, 4, 3)), (2,)), ValueError,
     r"smart_resize: `size` must be a tuple of 2 positive integers\. Received: size=\(2,\)$",
     True),
    ("smart-resize-interpolation", lambda: cr.preprocessing.image.smart_resize(
        np.zeros((4, 4, 3)), (2, 2), interpolation="bicubic"), ValueError,
     r"smart_resize: chainrule resizes with 'bilinear' or 'nearest' interpolation\. "
     r"Received: interpolation='bicubic'$", True),
    ("smart-resize-rank", lambda: cr.preprocessing.image.smart_resize(np.zeros((4, 4)), (2, 2)),
     ValueError, r"smart_resize: expected an image array .*Received: input of shape \(4, 4\)$",
     True),
]
# -- end of smart_resize --
# -- bounding boxes and visualization --
_BOX = np.array([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 5.0]], "float32")


def _bb():
    return cr.utils.bounding_boxes


ROWS += [
    ("bbox-unknown-format", lambda: _bb().convert_format(_BOX, "xyxy", "xyz"), ValueError,
     r"target must be one of \('xyxy'.*\(case-insensitive\)\. Received: target='xyz'$", True),
    ("bbox-relative-without-size", lambda: _bb().convert_format(_BOX, "xyxy", "rel_xyxy"),
     ValueError, r"convert_format: height and width are needed to convert between relative and "
     r"absolute formats .*Received: height=None, width=None$", True),
    ("bbox-last-dimension", lambda: _bb().convert_format(_BOX[:, :3], "xyxy", "xywh"), ValueError,
     r"boxes must be an array whose last dimension is 4\. Received: boxes\.shape=\(2, 3\)$",
     True),
    ("bbox-iou-batch", lambda: _bb().compute_iou(np.stack([_BOX] * 2), np.stack([_BOX] * 3),
                                                 "xyxy"), ValueError,
     r"compute_iou: boxes1 and boxes2 must have the same batch size\. Received: "
     r"boxes1\.shape=\(2, 2, 4\), boxes2\.shape=\(3, 2, 4\)$", True),
    ("bbox-iou-relative", lambda: _bb().compute_iou(_BOX, _BOX, "rel_xyxy"), ValueError,
     r"compute_iou: image_shape is needed for a relative bounding_box_format "
     r"\('rel_xyxy'\)\. Received: image_shape=None$", True),
    ("bbox-ciou-shapes", lambda: _bb().compute_ciou(_BOX, np.zeros((3, 4)), "xyxy"), ValueError,
     r"compute_ciou: boxes1 and boxes2 must have shapes that broadcast\. Received: "
     r"boxes1\.shape=\(2, 4\), boxes2\.shape=\(3, 4\)$", True),
    ("bbox-clip-size", lambda: _bb().clip_to_image_size({"boxes": _BOX}), ValueError,
     r"clip_to_image_size: height and width are needed for bounding_box_format='xyxy'\. "
     r"Received: height=None, width=None$", True),
    ("bbox-variance", lambda: _bb().encode_box_to_deltas(_BOX, _BOX, "xyxy", "xyxy",
                                                         variance=[1, 1, 1]), ValueError,
     r"variance must have length 4\. Received: variance=\[1\.0, 1\.0, 1\.0\]$", True),
    ("bbox-encoding-format", lambda: _bb().encode_box_to_deltas(
        _BOX, _BOX, "xyxy", "xyxy", encoding_format="xyxy"), ValueError,
     r"encoding_format must be 'center_xywh' or 'center_yxhw'\. "
     r"Received: encoding_format='xyxy'$", True),
    ("draw-boxes-rank", lambda: cr.visualization.draw_bounding_boxes(
        np.zeros((8, 8, 3)), {"boxes": _BOX[None], "labels": np.zeros((1, 2))}, "xyxy"),
     ValueError, r"images must be a batched 4D array \(batch, height, width, channels\)\. "
     r"Received: images\.shape=\(8, 8, 3\)$", True),
    ("draw-boxes-labels", lambda: cr.visualization.draw_bounding_boxes(
        np.zeros((1, 8, 8, 3)), {"boxes": _BOX[None], "labels": np.zeros((1, 3))}, "xyxy"),
     ValueError, r"bounding_boxes must hold 'boxes' of shape \(batch, N, 4\) and 'labels' of "
     r"shape \(batch, N\) for 1 images\. Received: boxes\.shape=\(1, 2, 4\), "
     r"labels\.shape=\(1, 3\)$", True),
    ("draw-masks-shape", lambda: cr.visualization.draw_segmentation_masks(
        np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 6, 1), "int32")), ValueError,
     r"segmentation_masks must have shape \(batch, height, width, 1\) matching the images "
     r"\(1, 8, 8, 3\)\. Received: segmentation_masks\.shape=\(1, 8, 6, 1\)$", True),
    ("draw-masks-dtype", lambda: cr.visualization.draw_segmentation_masks(
        np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 1))), TypeError,
     r"segmentation_masks must have an integer dtype\. "
     r"Received: segmentation_masks\.dtype=float64$", True),
]
# -- end of bounding boxes and visualization --
# -- chainrule.applications (docs/errors.md) ---------------------------------------------------
def _mobilenet_v2(**kwargs):
    return cr.applications.MobileNetV2(**kwargs)


ROWS += [
    ("applications-weights-unknown", lambda: _mobilenet_v2(weights="imagenet21k"), ValueError,
     r"The `weights` argument should be either `None` \(random initialization\), `imagenet` "
     r"\(pre-training on ImageNet\), or the path to the weights file to be loaded\. "
     r"Received: weights=imagenet21k$", True),
    ("applications-imagenet-classes", lambda: _mobilenet_v2(weights="imagenet", classes=7),
     ValueError, r'If using `weights="imagenet"` with `include_top` as true, `classes` should '
     r"be 1000\. Received: classes=7$", True),
    ("applications-imagenet-top-shape",
     lambda: _mobilenet_v2(input_shape=(100, 100, 3), weights="imagenet"), ValueError,
     r"When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be "
     r"\(224, 224, 3\)\. Received: input_shape=\(100, 100, 3\)$", True),
    ("applications-input-too-small",
     lambda: _mobilenet_v2(input_shape=(16, 16, 3), include_top=False, weights=None),
     ValueError, r"Input size must be at least 32x32\. Received: input_shape=\(16, 16, 3\)$",
     True),
    ("applications-input-rank",
     lambda: _mobilenet_v2(input_shape=(32, 32), include_top=False, weights=None), ValueError,
     r"`input_shape` must be a tuple of three integers\. Received: input_shape=\(32, 32\)$",
     True),
    ("applications-imagenet-alpha",
     lambda: _mobilenet_v2(alpha=0.2, include_top=False, weights="imagenet"), ValueError,
     r"If imagenet weights are being loaded, alpha must be one of `0\.35`, `0\.50`, `0\.75`, "
     r"`1\.0`, `1\.3` or `1\.4` only\. Received: alpha=0\.2$", True),
    ("applications-classifier-activation",
     lambda: cr.applications.imagenet_utils.validate_activation("relu", "imagenet"),
     ValueError, r"Only `None` and `softmax` activations are allowed for the "
     r"`classifier_activation` argument when using pretrained weights, with "
     r"`include_top=True`\. Received: classifier_activation=relu$", True),
    ("preprocess-input-mode",
     lambda: cr.applications.imagenet_utils.preprocess_input(_IMGS, mode="keras"), ValueError,
     r"Expected mode to be one of `caffe`, `tf` or `torch`\. Received: mode=keras$", True),
    ("preprocess-input-data-format",
     lambda: cr.applications.imagenet_utils.preprocess_input(_IMGS, data_format="nhwc"),
     ValueError, r"Expected data_format to be one of `channels_first` or `channels_last`\. "
     r"Received: data_format=nhwc$", True),
    ("decode-predictions-shape",
     lambda: cr.applications.imagenet_utils.decode_predictions(np.zeros((1, 10))), ValueError,
     r"`decode_predictions` expects a batch of predictions \(i\.e\. a 2D array of shape "
     r"\(samples, 1000\)\)\. Received: array with shape \(1, 10\)$", True),
]
# -- end of chainrule.applications --
# -- chainrule.applications: MobileNetV3, ConvNeXt, NASNet (docs/errors.md) -------------------
ROWS += [
    ("applications-mobilenet-v3-alpha",
     lambda: cr.applications.MobileNetV3Small(alpha=0.75, minimalistic=True, weights="imagenet"),
     ValueError, r"If imagenet weights are being loaded, alpha can be one of `0\.75`, `1\.0` for "
     r"non minimalistic or `1\.0` for minimalistic only\. Received: alpha=0\.75, "
     r"minimalistic=True$", True),
    ("applications-input-shape-tensor",
     lambda: cr.applications.MobileNetV3Small(input_shape=(64, 64, 3), weights=None,
                                              input_tensor=L.Input((48, 48, 3))),
     ValueError, r"input_shape\[1\] must equal input_tensor\.shape\[2\]\. "
     r"Received: input_shape=\(64, 64, 3\), input_tensor\.shape=\(None, 48, 48, 3\)$", True),
    ("applications-channels-first", lambda: _channels_first(cr.applications.ConvNeXtTiny),
     ValueError, r"ConvNeXt does not support the `channels_first` image data format\. .*"
     r"Received: image_data_format=channels_first$", True),
    ("applications-convnext-name",
     lambda: cr.applications.ConvNeXtTiny(weights="imagenet", name="mine"), ValueError,
     r'Model name "mine" does not match weights variant "convnext_tiny"\. .*'
     r"Received: name=mine$", True),
    ("stochastic-depth-rate", lambda: cr.applications.convnext.StochasticDepth(1.0), ValueError,
     r"StochasticDepth: drop_path_rate must be a number in \[0, 1\)\. "
     r"Received: drop_path_rate=1\.0$", True),
    ("applications-nasnet-static-shape",
     lambda: cr.applications.NASNetLarge(input_shape=(None, None, 3), include_top=False),
     ValueError, r"When specifying the input shape of a NASNet and loading `ImageNet` weights, "
     r"the input_shape argument must be static \(no None entries\)\. "
     r"Received: input_shape=\(None, None, 3\)$", True),
]


def _channels_first(builder):
    cr.backend.set_image_data_format("channels_first")
    try:
        return builder(weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")
# -- end of MobileNetV3, ConvNeXt, NASNet --
# -- sobel_edges, ssim, MaxNumBoundingBoxes, CLAHE, distillation (docs/errors.md) ------------
_IMG8 = np.zeros((1, 8, 8, 1), "float32")
ROWS += [
    ("sobel-edges-rank", lambda: cr.ops.image.sobel_edges(np.zeros((8, 8, 1))), ValueError,
     r"sobel_edges: images must have rank 4 \(a batch of images\)\. Received: images of "
     r"shape \(8, 8, 1\)$", True),
    ("ssim-shapes", lambda: cr.ops.image.ssim(_IMG8, np.zeros((1, 8, 7, 1))), ValueError,
     r"ssim: image1 and image2 must have the same shape\. Received: image1 of shape "
     r"\(1, 8, 8, 1\), image2 of shape \(1, 8, 7, 1\)$", True),
    ("ssim-window", lambda: cr.ops.image.ssim(_IMG8, _IMG8), ValueError,
     r"ssim: the images must be at least filter_size=11 pixels high and wide \(only whole "
     r"windows count\)\. Received: images of shape \(1, 8, 8, 1\)$", True),
    ("ssim-filter-size", lambda: cr.ops.image.ssim(_IMG8, _IMG8, filter_size=0), ValueError,
     r"ssim: filter_size must be a positive integer\. Received: filter_size=0$", True),
    ("clahe-tile-grid", lambda: cr.layers.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(0, 8)), ValueError,
     r"ContrastLimitedAdaptiveHistogramEqualization: tile_grid_size must be a pair of integers "
     r">= 1 \(rows, columns of tiles\)\. Received: tile_grid_size=\(0, 8\)$", True),
    ("max-num-boxes-number", lambda: cr.layers.MaxNumBoundingBoxes(0), ValueError,
     r"MaxNumBoundingBoxes: max_number must be an integer >= 1\. Received: max_number=0$", True),
    ("max-num-boxes-format", lambda: cr.layers.MaxNumBoundingBoxes(2)(
        {"images": _IMG8, "bounding_boxes": {"boxes": np.zeros((1, 1, 4)),
                                             "labels": np.zeros((1, 1))}}), ValueError,
     r"You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding box "
     r"format\. .*Received: bounding_box_format=None$", True),
    ("max-num-boxes-shapes", lambda: cr.layers.MaxNumBoundingBoxes(2, bounding_box_format="xyxy")(
        {"images": _IMG8, "bounding_boxes": {"boxes": np.zeros((1, 3, 4)),
                                             "labels": np.zeros((1, 2))}}), ValueError,
     r'MaxNumBoundingBoxes layer "max_num_bounding_boxes\w*": boxes and labels must have '
     r"shapes \(batch, N, 4\) and \(batch, N\)\. Received: boxes\.shape=\(1, 3, 4\), "
     r"labels\.shape=\(1, 2\)$", True),
]


def _mlp(units, outputs=3):
    return cr.Sequential([cr.layers.Input((4,)), cr.layers.Dense(units),
                          cr.layers.Dense(outputs)])


def _distiller(**kwargs):
    args = {"teacher": _mlp(5), "student": _mlp(2),
            "distillation_losses": cr.distillation.LogitsDistillation(), **kwargs}
    return cr.distillation.Distiller(**args)


ROWS += [
    ("distiller-student-loss-weight", lambda: _distiller(student_loss_weight=1.5), ValueError,
     r"Distiller: student_loss_weight must be a number between 0\.0 and 1\.0\. Received: "
     r"student_loss_weight=1\.5$", True),
    ("distiller-loss-weights", lambda: _distiller(
        distillation_losses=[cr.distillation.LogitsDistillation()],
        distillation_loss_weights=[1.0, 2.0]), ValueError,
     r"Distiller: the number of distillation_loss_weights \(2\) must match the number of "
     r"distillation_losses \(1\)\. Received: distillation_loss_weights=\[1\.0, 2\.0\]$", True),
    ("distiller-output-shapes", lambda: _distiller(student=_mlp(2, outputs=4)), ValueError,
     r"Distiller: teacher and student output shapes are incompatible; all dimensions must "
     r"match\. Received: teacher output shape \(None, 3\), student output shape "
     r"\(None, 4\)$", True),
    ("distiller-not-a-model", lambda: _distiller(student="student"), ValueError,
     r"Distiller: the student must be a chainrule Model\. Received: student of type str$", True),
    ("distiller-compile-loss", lambda: _distiller().compile("sgd"), ValueError,
     r"Distiller\.compile: loss \(the student's loss\) cannot be None\. Received: "
     r"loss=None$", True),
    ("distillation-temperature", lambda: cr.distillation.LogitsDistillation(temperature=0),
     ValueError, r"LogitsDistillation: temperature must be a positive number\. Received: "
     r"temperature=0$", True),
    ("distillation-no-loss", lambda: cr.distillation.FeatureDistillation(loss=None), ValueError,
     r"FeatureDistillation: loss must contain at least one loss that is not None\. Received: "
     r"loss=None$", True),
    ("distillation-layer-name", lambda: _distiller(
        distillation_losses=cr.distillation.FeatureDistillation(teacher_layer_name="nope")),
     ValueError, r"In teacher model: No such layer: 'nope'\. .*Received: name='nope'$", True),
    ("set-backend-unknown", lambda: cr.config.set_backend("jax"), ValueError,
     r"Unable to import backend : jax \(chainrule's backends are 'numpy', 'cupy'\)\. "
     r"Received: backend='jax'$", True),
    ("dtype-policy-map-path", lambda: cr.dtype_policies.DTypePolicyMap(
        policy_map={"a/.*": "float16", "a/b.*": "float32"})["a/bc"], ValueError,
     r"Path 'a/bc' matches multiple dtype policy specification keys: \['a/\.\*', 'a/b\.\*'\]\. "
     r".*Received: key='a/bc'$", True),
    ("dtype-policy-map-value", lambda: cr.dtype_policies.DTypePolicyMap().__setitem__(
        "dense", 3), ValueError,
     r"DTypePolicyMap: a value must be a dtype policy \(a name, a config or a DTypePolicy\)\. "
     r"Received: 3$", True),
]
# -- end of sobel_edges ... distillation --


# -- Keras 3.15 compatibility: SwapEMAWeights with wrapped optimizers --


def _swap_ema_without_averages():
    o = cr.optimizers
    model = cr.Sequential([L.Input((5,)), L.Dense(3, name="a")])
    model.compile(optimizer=o.MultiOptimizer(o.OptimizerMap(o.SGD(), {"a/bias": o.Adam()})),
                  loss="mse")
    model.evaluate(X, np.zeros((10, 3)), verbose=0, callbacks=[cr.callbacks.SwapEMAWeights()])


ROWS += [
    ("swap-ema-multi-optimizer", _swap_ema_without_averages, ValueError,
     r"SwapEMAWeights must be used when at least one inner optimizer has `use_ema=True` set\. "
     r"Received: a MultiOptimizer whose inner optimizers all have use_ema=False "
     r"\(\['adam', 'sgd'\]\)$", True),
]
# -- end of Keras 3.15 compatibility --
# -- chainrule.applications: DenseNet, Inception, Xception (docs/errors.md) -------------------
def _channels_first_densenet():
    cr.backend.set_image_data_format("channels_first")
    try:
        cr.applications.DenseNet121(weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")


ROWS += [
    ("densenet-channels-first", _channels_first_densenet, ValueError,
     r"DenseNet does not support the `channels_first` image data format\. Switch to "
     r"`channels_last` with chainrule\.backend\.set_image_data_format\('channels_last'\)\. "
     r"Received: data_format=channels_first$", True),
    ("densenet-imagenet-blocks",
     lambda: cr.applications.densenet.DenseNet([1, 1, 1, 1], weights="imagenet"), ValueError,
     r"ImageNet weights exist only for DenseNet121, DenseNet169 and DenseNet201 \(blocks "
     r"\[6, 12, 24, 16\], \[6, 12, 32, 32\] or \[6, 12, 48, 32\]\)\. "
     r"Received: blocks=\[1, 1, 1, 1\]$", True),
    ("custom-scale-layer-scale", lambda: cr.layers.CustomScaleLayer("big"), ValueError,
     r"CustomScaleLayer: `scale` must be a number\. Received: scale='big'$", True),
    ("custom-scale-layer-inputs",
     lambda: cr.layers.CustomScaleLayer(0.1)([np.ones((1, 2))] * 3), ValueError,
     r"Layer 'custom_scale_layer' \(CustomScaleLayer\) expects a list of two inputs "
     r"\(shortcut, branch\)\. Received: 3 input\(s\)$", True),
    ("inception-resnet-block-type",
     lambda: cr.applications.inception_resnet_v2.inception_resnet_block(
         L.Input((4, 4, 8)), 0.1, "block99", 1), ValueError,
     r'Unknown Inception-ResNet block type\. Expects "block35", "block17" or "block8"\. '
     r"Received: block_type=block99$", True),
]
# -- end of DenseNet, Inception, Xception --

TMP = None  # set by the autouse fixture below


@pytest.fixture(autouse=True)
def _tmp(tmp_path, monkeypatch):
    global TMP
    TMP = tmp_path
    monkeypatch.chdir(tmp_path)
    cr.utils.clear_session()


def _row_id(row):
    values = row.values if hasattr(row, "values") else row
    return values[0]


@pytest.mark.parametrize("row_id,action,error,start,received", ROWS, ids=[_row_id(r) for r in ROWS])
def test_row(row_id, action, error, start, received):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(Exception) as info:  # noqa: PT011 - the exact type is checked below
            action()
    err = info.value
    message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    assert type(err) is error or (isinstance(err, error) and error is not Exception), (
        f"{row_id}: expected {error.__name__}, got {type(err).__name__}: {message}")
    assert not isinstance(err, (IndexError, AttributeError, AssertionError)), message
    assert re.match(start, message, re.DOTALL), f"{row_id}: message was {message!r}"
    if received:
        assert re.search(r"Received: [^\n]+$", message), f"{row_id}: no 'Received:' at the end"


# -- behaviours that are not errors -----------------------------------------------------------


def test_allow_nonfinite_accepts_nan_inputs():
    history = fit(x=with_nan(X, (0, 0)), allow_nonfinite=True, on_nan="ignore")
    assert len(history.history["loss"]) == 1


def test_on_nan_stop_keeps_last_good_weights():
    with pytest.warns(RuntimeWarning, match=r"The loss became .* at epoch 1, batch"):
        model = exploding(on_nan="stop")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.stop_training


def test_on_nan_ignore_continues():
    model = exploding(on_nan="ignore")
    assert not all(np.isfinite(w).all() for w in model.get_weights())


def test_terminate_on_nan_with_on_nan_ignore(capsys):
    model = exploding(on_nan="ignore", callbacks=[cr.callbacks.TerminateOnNaN()])
    assert model.stop_training
    assert re.search(r"Batch \d+: Invalid loss, terminating training", capsys.readouterr().out)


def test_terminate_on_nan_with_default_on_nan(capsys):
    model = exploding(callbacks=[cr.callbacks.TerminateOnNaN()])
    assert model.stop_training
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_every_row_is_documented():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", doc, re.MULTILINE)
    ids = [_row_id(r) for r in ROWS] + ["allow-nonfinite", "on-nan-stop", "on-nan-ignore",
                                        "terminate-on-nan", "terminate-on-nan-default"]
    assert sorted(documented) == sorted(ids)

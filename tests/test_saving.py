"""Saving and loading: round trips, exact training continuation, weights files, safety, atomicity."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import sys
import warnings
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import saving
from chainrule.saving import (
    ArchiveError,
    InvalidArchiveError,
    UnsafeFileError,
    WeightMismatchError,
    load_model,
    load_weights,
    save_model,
)
from chainrule.saving import api as saving_api

layers = cr.layers


# --------------------------------------------------------------------------- helpers


def _data(n=40, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return x, y


def _mlp(dropout=0.0, name=None):
    stack = [layers.Dense(8, input_dim=4, activation="relu")]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(3, activation="softmax"))
    return cr.Sequential(stack, name=name)


def _compiled(dropout=0.0, optimizer=None):
    model = _mlp(dropout)
    model.compile(optimizer=optimizer or cr.optimizers.Adam(0.01),
                  loss=cr.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wb)
    )


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


def _npz(arrays):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key, data in arrays.items():
            zf.writestr(f"{key}.npy", data if isinstance(data, bytes) else _npy(data))
    return buf.getvalue()


@pytest.fixture
def saved(tmp_path):
    """A trained, compiled Sequential model and its archive."""
    x, y = _data()
    model = _compiled(dropout=0.2)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def _snapshot(directory):
    return sorted((p, os.path.getsize(os.path.join(directory, p))) for p in os.listdir(directory))


# --------------------------------------------------------------------------- round trips


def test_archive_layout_and_config(saved):
    model, path = saved
    members = _members(path)
    assert list(members) == ["config.json", "model.weights.npz", "optimizer.npz"]
    config = json.loads(members["config.json"])
    assert config["format"] == saving.FORMAT and config["chainrule_version"] == cr.__version__
    assert config["class_name"] == "Sequential"
    assert config["config"] == json.loads(json.dumps(model.get_config()))
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["metrics"] == ["accuracy"]
    weights = np.load(io.BytesIO(members["model.weights.npz"]), allow_pickle=False)
    assert weights.files == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"] or \
        weights.files == [w.path for w in model.weights]
    opt = np.load(io.BytesIO(members["optimizer.npz"]), allow_pickle=False)
    assert int(opt["iterations"]) == model.optimizer.iterations


def test_predict_is_bit_identical_and_state_restored(saved):
    model, path = saved
    x, _ = _data(seed=1)
    loaded = load_model(path)
    assert type(loaded) is cr.Sequential and loaded.name == model.name
    assert _weights_equal(model, loaded)
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.compiled and loaded.optimizer.get_config() == model.optimizer.get_config()
    a, b = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_training_continues_exactly(tmp_path):
    x, y = _data()
    model = _compiled(dropout=0.25)
    cr.utils.set_random_seed(1)
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    cr.utils.set_random_seed(7)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    cr.utils.set_random_seed(7)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert _weights_equal(model, loaded)
    assert loaded.optimizer.iterations == model.optimizer.iterations


@pytest.mark.parametrize("optimizer", [
    lambda: cr.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: cr.optimizers.RMSprop(0.01),
    lambda: cr.optimizers.Nadam(0.01),
    lambda: cr.optimizers.AdamW(0.01, weight_decay=0.01),
    lambda: cr.optimizers.Adagrad(0.1),
    lambda: cr.optimizers.Adadelta(1.0),
    lambda: cr.optimizers.Adam(cr.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
])
def test_every_optimizer_continues_exactly(tmp_path, optimizer):
    x, y = _data()
    model = _compiled(optimizer=optimizer())
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert _weights_equal(model, loaded)


def test_loading_does_not_touch_the_random_state(saved):
    _, path = saved
    cr.utils.set_random_seed(3)
    before = cr.backend.get_random_state()
    load_model(path)
    assert cr.backend.get_random_state() == before


def test_saving_twice_gives_identical_bytes(saved, tmp_path):
    model, path = saved
    other = tmp_path / "again.keras"
    model.save(other)
    assert path.read_bytes() == other.read_bytes()


def test_uncompiled_and_compile_false(tmp_path):
    model = _mlp()
    model.save(tmp_path / "plain.keras")
    loaded = load_model(tmp_path / "plain.keras")
    assert not loaded.compiled and _weights_equal(model, loaded)
    compiled = _compiled()
    compiled.save(tmp_path / "c.keras")
    assert not load_model(tmp_path / "c.keras", compile=False).compiled
    assert "optimizer.npz" in _members(tmp_path / "c.keras")  # never trained: scalars only
    assert load_model(tmp_path / "c.keras").optimizer.iterations == 0


def test_compile_settings_round_trip(tmp_path):
    model = _mlp()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["acc", cr.metrics.SparseTopKCategoricalAccuracy(k=2)],
                  loss_weights=[0.5])
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.loss == "sparse_categorical_crossentropy"
    assert loaded._loss_weights == [0.5]
    metrics, _ = loaded._metric_specs
    assert metrics[0] == "acc" and metrics[1].get_config() == model._metric_specs[0][1].get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


def test_unserializable_loss_warns_and_loads_uncompiled(tmp_path):
    model = _mlp()
    model.compile(optimizer="sgd", loss=lambda y, p: (p - y) ** 2)
    with pytest.warns(UserWarning, match="compile settings"):
        model.save(tmp_path / "m.keras")
    assert not load_model(tmp_path / "m.keras").compiled


def test_custom_loss_function_needs_custom_objects(tmp_path):
    def my_loss(y_true, y_pred):
        return cr.losses.mean_squared_error(y_true, y_pred)

    model = _mlp()
    model.compile(optimizer="sgd", loss=my_loss)
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsafeFileError, match="custom_objects"):
        load_model(tmp_path / "m.keras")
    assert load_model(tmp_path / "m.keras", custom_objects={"my_loss": my_loss}).loss is my_loss


def test_functional_several_inputs_and_outputs(tmp_path):
    a = layers.Input(shape=(3,), name="a")
    b = layers.Input(shape=(2,), name="b")
    h = layers.Dense(5, activation="tanh", name="h")(a)
    g = layers.Dense(5, activation="relu", name="g")(b)
    out1 = layers.Dense(1, name="out1")(h)
    out2 = layers.Dense(2, activation="softmax", name="out2")(g)
    model = cr.Model([a, b], [out1, out2], name="two_heads")
    model.compile(optimizer="adam", loss={"out1": "mse", "out2": "categorical_crossentropy"},
                  metrics={"out1": ["mae"], "out2": ["accuracy"]}, loss_weights=[1.0, 0.5])
    model.save(tmp_path / "f.keras")
    loaded = load_model(tmp_path / "f.keras")
    xa, xb = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    for p, q in zip(model.predict([xa, xb], verbose=0), loaded.predict([xa, xb], verbose=0)):
        assert np.array_equal(p, q)
    assert loaded.loss == model.loss and loaded._metric_specs == model._metric_specs
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]


class _Subclassed(cr.Model):
    def __init__(self, hidden=6, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.d1 = layers.Dense(hidden, activation="relu")
        self.drop = layers.Dropout(0.1)
        self.d2 = layers.Dense(2)

    def call(self, x, training=None):
        return self.d2(self.drop(self.d1(x), training=training))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def test_subclassed_model_needs_custom_objects(tmp_path):
    model = _Subclassed(hidden=5, name="mine")
    x = np.ones((3, 4), "float32")
    expected = model.predict(x, verbose=0)
    model.compile(optimizer="sgd", loss=cr.losses.MeanSquaredError())
    model.save(tmp_path / "s.keras")
    with pytest.raises(UnsafeFileError, match=r"_Subclassed.*custom_objects"):
        load_model(tmp_path / "s.keras")
    # Rebuilt in this process its layers get new default names: matched by order.
    loaded = load_model(tmp_path / "s.keras", custom_objects={"_Subclassed": _Subclassed})
    assert isinstance(loaded, _Subclassed) and loaded.hidden == 5
    assert np.array_equal(loaded.predict(x, verbose=0), expected)


LAYER_EXAMPLES = {
    "Dense": lambda: layers.Dense(6, activation="tanh", kernel_regularizer="l2"),
    "Flatten": lambda: layers.Flatten(),
    "Activation": lambda: layers.Activation("relu"),
    "Dropout": lambda: layers.Dropout(0.3, seed=4),
    "Reshape": lambda: layers.Reshape((3, 2)),
    "LeakyReLU": lambda: layers.LeakyReLU(negative_slope=0.1),
    "ReLU": lambda: layers.ReLU(max_value=6.0, negative_slope=0.01, threshold=0.1),
    "Softmax": lambda: layers.Softmax(axis=-1),
    # normalization and reshaping layers: a list is a segment (a Dense(12) to set the size, the
    # layer wrapped in Reshape/Flatten); merging layers take several inputs, see MERGING below
    "BatchNormalization": lambda: layers.BatchNormalization(momentum=0.9, epsilon=0.01),
    "LayerNormalization": lambda: layers.LayerNormalization(axis=-1),
    "GroupNormalization": lambda: [layers.Dense(12), layers.GroupNormalization(groups=3)],
    "Rescaling": lambda: layers.Rescaling(0.5, offset=0.25),
    "RepeatVector": lambda: [layers.Dense(12), layers.RepeatVector(2), layers.Flatten()],
    "Permute": lambda: [layers.Dense(12), layers.Reshape((3, 4)), layers.Permute((2, 1)),
                        layers.Flatten()],
    "ZeroPadding1D": lambda: [layers.Dense(12), layers.Reshape((6, 2)),
                              layers.ZeroPadding1D((1, 2)), layers.Flatten()],
    "Cropping1D": lambda: [layers.Dense(12), layers.Reshape((6, 2)), layers.Cropping1D((1, 0)),
                           layers.Flatten()],
    "UpSampling1D": lambda: [layers.Dense(12), layers.Reshape((6, 2)), layers.UpSampling1D(2),
                             layers.Flatten()],
    "SpatialDropout1D": lambda: [layers.Dense(12), layers.Reshape((6, 2)),
                                 layers.SpatialDropout1D(0.2, seed=1), layers.Flatten()],
    "ZeroPadding2D": lambda: [layers.Dense(12), layers.Reshape((2, 3, 2)),
                              layers.ZeroPadding2D(((1, 0), (0, 1))), layers.Flatten()],
    "Cropping2D": lambda: [layers.Dense(12), layers.Reshape((2, 3, 2)),
                           layers.Cropping2D(((0, 1), (1, 0))), layers.Flatten()],
    "UpSampling2D": lambda: [layers.Dense(12), layers.Reshape((2, 3, 2)),
                             layers.UpSampling2D(2, interpolation="bilinear"), layers.Flatten()],
    "SpatialDropout2D": lambda: [layers.Dense(12), layers.Reshape((2, 3, 2)),
                                 layers.SpatialDropout2D(0.2), layers.Flatten()],
    "SpatialDropout3D": lambda: [layers.Dense(12), layers.Reshape((1, 2, 3, 2)),
                                 layers.SpatialDropout3D(0.2), layers.Flatten()],
    "Pipeline": lambda: layers.Pipeline([layers.Dense(4), layers.Activation("relu")]),
    "Add": lambda: layers.Add(), "Subtract": lambda: layers.Subtract(),
    "Multiply": lambda: layers.Multiply(), "Average": lambda: layers.Average(),
    "Maximum": lambda: layers.Maximum(), "Minimum": lambda: layers.Minimum(),
    "Concatenate": lambda: layers.Concatenate(axis=-1),
    "Dot": lambda: layers.Dot(axes=1, normalize=True),
}
# convolution and pooling layers: a segment from Dense(12) to a 1-D, 2-D or 3-D input, and back
_SEQ, _IMG, _VOL = (6, 2), (2, 3, 2), (2, 3, 2, 1)


def _conv_segment(shape, make):
    return lambda: [layers.Dense(12), layers.Reshape(shape), make(), layers.Flatten()]


_CONV_EXAMPLES = {
    "Conv1D": (_SEQ, lambda: layers.Conv1D(3, 2, padding="causal", dilation_rate=2)),
    "Conv2D": (_IMG, lambda: layers.Conv2D(2, 2, padding="same", activation="relu")),
    "Conv3D": (_VOL, lambda: layers.Conv3D(2, 2, padding="same")),
    "Conv1DTranspose": (_SEQ, lambda: layers.Conv1DTranspose(2, 2, strides=2)),
    "Conv2DTranspose": (_IMG, lambda: layers.Conv2DTranspose(2, 2, strides=2, padding="same")),
    "Conv3DTranspose": (_VOL, lambda: layers.Conv3DTranspose(1, 2)),
    "DepthwiseConv1D": (_SEQ, lambda: layers.DepthwiseConv1D(2, depth_multiplier=2)),
    "DepthwiseConv2D": (_IMG, lambda: layers.DepthwiseConv2D(2, padding="same")),
    "SeparableConv1D": (_SEQ, lambda: layers.SeparableConv1D(3, 2, depth_multiplier=2)),
    "SeparableConv2D": (_IMG, lambda: layers.SeparableConv2D(3, 2, padding="same")),
    "MaxPooling1D": (_SEQ, lambda: layers.MaxPooling1D(2)),
    "AveragePooling1D": (_SEQ, lambda: layers.AveragePooling1D(3, strides=1, padding="same")),
    "MaxPooling2D": (_IMG, lambda: layers.MaxPooling2D((1, 2))),
    "AveragePooling2D": (_IMG, lambda: layers.AveragePooling2D(2, padding="same")),
    "MaxPooling3D": (_VOL, lambda: layers.MaxPooling3D((2, 1, 2))),
    "AveragePooling3D": (_VOL, lambda: layers.AveragePooling3D(2, padding="same")),
    "GlobalAveragePooling1D": (_SEQ, lambda: layers.GlobalAveragePooling1D(keepdims=True)),
    "GlobalMaxPooling1D": (_SEQ, lambda: layers.GlobalMaxPooling1D()),
    "GlobalAveragePooling2D": (_IMG, lambda: layers.GlobalAveragePooling2D()),
    "GlobalMaxPooling2D": (_IMG, lambda: layers.GlobalMaxPooling2D(keepdims=True)),
    "GlobalAveragePooling3D": (_VOL, lambda: layers.GlobalAveragePooling3D()),
    "GlobalMaxPooling3D": (_VOL, lambda: layers.GlobalMaxPooling3D()),
}
_CONV_ALIASES = {  # Keras's other names of the same classes
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose", "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D", "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D", "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D", "AvgPool3D": "AveragePooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool3D": "GlobalMaxPooling3D",
}
LAYER_EXAMPLES.update({name: _conv_segment(*spec) for name, spec in _CONV_EXAMPLES.items()})
LAYER_EXAMPLES.update({alias: LAYER_EXAMPLES[name] for alias, name in _CONV_ALIASES.items()})


@cr.saving.register_keras_serializable(package="test_saving")
def halve_and_shift(x):
    """A named, registered function: what a saved Lambda layer may wrap."""
    return 0.5 * x + 1.0


LAYER_EXAMPLES["Lambda"] = lambda: layers.Lambda(halve_and_shift)
MERGING = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")
# preprocessing layers: their save/load round trips, on the inputs each reads (text, images,
# adapted state), are in tests/test_preprocessing.py::test_save_load_round_trip
PREPROCESSING = {"Normalization", "Discretization", "CategoryEncoding", "Hashing", "IntegerLookup",
                 "StringLookup", "TextVectorization", "Resizing", "CenterCrop", "RandomFlip",
                 "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
                 "RandomBrightness", "HashedCrossing"}
LAYER_EXAMPLES.update({name: getattr(layers, name) for name in PREPROCESSING})
# colour augmentation layers: saved in a model and loaded in tests/test_color_augmentation.py
_COLOR_AUGMENTATION = {"RandomGrayscale", "RandomHue", "RandomSaturation",
                       "RandomColorDegeneration", "RandomColorJitter", "RandomSharpness",
                       "RandomInvert", "RandomPosterization", "AutoContrast", "Equalization",
                       "Solarization", "RandomGaussianBlur"}
PREPROCESSING |= _COLOR_AUGMENTATION
LAYER_EXAMPLES.update({name: getattr(layers, name) for name in _COLOR_AUGMENTATION})

# sequence layers (token ids in, sequences through): round-tripped in a model of their own, in
# this order; a cell is saved inside the RNN layer that runs it
SEQUENCE_EXAMPLES = {
    "Embedding": lambda: layers.Embedding(10, 4, mask_zero=True),
    "Masking": lambda: layers.Masking(mask_value=-1.0),
    "TimeDistributed": lambda: layers.TimeDistributed(layers.Dense(3)),
    "Bidirectional": lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True),
                                                  merge_mode="sum"),
    "LSTM": lambda: layers.LSTM(3, return_sequences=True, go_backwards=True),
    "GRU": lambda: layers.GRU(3, return_sequences=True, reset_after=False),
    "RNN": lambda: layers.RNN(layers.GRUCell(2), return_sequences=True),
    "LSTMCell": lambda: layers.RNN(layers.LSTMCell(2, unit_forget_bias=False),
                                   return_sequences=True),
    "GRUCell": lambda: layers.RNN(layers.GRUCell(2), return_sequences=True),
    "SimpleRNNCell": lambda: layers.RNN(layers.SimpleRNNCell(2), return_sequences=True),
    "SimpleRNN": lambda: layers.SimpleRNN(3, activation="relu"),
}
LAYER_EXAMPLES.update(SEQUENCE_EXAMPLES)
# attention layers: EinsumDense acts on any rank; the others take a query and a value (below)
ATTENTION = {
    "MultiHeadAttention": lambda: layers.MultiHeadAttention(2, 3, value_dim=2, output_shape=5),
    "Attention": lambda: layers.Attention(use_scale=True, score_mode="concat"),
    "AdditiveAttention": lambda: layers.AdditiveAttention(),
    "GroupQueryAttention": lambda: layers.GroupQueryAttention(2, 4, 2, use_gate=True),
}
ATTENTION["GroupedQueryAttention"] = ATTENTION["GroupQueryAttention"]  # Keras's class name
LAYER_EXAMPLES.update(ATTENTION)
LAYER_EXAMPLES["EinsumDense"] = lambda: layers.EinsumDense("...b,bc->...c", 4, bias_axes="c")
# an op called on symbolic tensors (more round trips in tests/test_symbolic_ops.py)
LAYER_EXAMPLES["OpLayer"] = lambda: layers.OpLayer("tanh", {"args": [{"__tensor__": 0}]})


# noise, activation, unit/RMS normalization, 3-D reshaping, random crop, stacked cells, Wrapper
@cr.saving.register_keras_serializable(package="test_saving")
class ScaledWrapper(layers.Wrapper):
    """A user's wrapper: Keras's Wrapper base class with a call of its own."""

    def call(self, inputs, training=None):
        return 0.5 * self.layer(inputs)


LAYER_EXAMPLES.update({
    "GaussianNoise": lambda: layers.GaussianNoise(0.1, seed=1),
    "GaussianDropout": lambda: layers.GaussianDropout(0.2),
    "AlphaDropout": lambda: layers.AlphaDropout(0.1, seed=2),
    "ActivityRegularization": lambda: layers.ActivityRegularization(0.01, 0.02),
    "PReLU": lambda: layers.PReLU(alpha_initializer="ones", alpha_constraint="non_neg"),
    "ELU": lambda: layers.ELU(0.5), "Identity": lambda: layers.Identity(),
    "UnitNormalization": lambda: layers.UnitNormalization(),
    "RMSNormalization": lambda: layers.RMSNormalization(epsilon=1e-3),
    "ZeroPadding3D": _conv_segment(_VOL, lambda: layers.ZeroPadding3D(((1, 0), (0, 1), (1, 1)))),
    "Cropping3D": _conv_segment(_VOL, lambda: layers.Cropping3D(((1, 0), (0, 1), (0, 0)))),
    "UpSampling3D": _conv_segment(_VOL, lambda: layers.UpSampling3D((1, 2, 1))),
    "RandomCrop": lambda: [layers.Dense(12), layers.Reshape(_IMG), layers.RandomCrop(2, 2, seed=0),
                           layers.GlobalAveragePooling2D()],
    "StackedRNNCells": lambda: [layers.Dense(12), layers.Reshape(_SEQ), layers.RNN(
        layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)]))],
    "Wrapper": lambda: ScaledWrapper(layers.Dense(3)),
})
# geometric and mixing augmentation (identity in predict): each in a segment on images
LAYER_EXAMPLES.update({
    name: (lambda n=name: [layers.Dense(12), layers.Reshape(_IMG), getattr(layers, n)(seed=0),
                           layers.GlobalAveragePooling2D()])
    for name in ("RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing",
                 "MixUp", "CutMix")})
# -- RandAugment and AugMix (identity in predict): each on RGB images --
LAYER_EXAMPLES.update({
    "RandAugment": lambda: [layers.Dense(12), layers.Reshape((2, 2, 3)),
                            layers.RandAugment(value_range=(0, 1), num_ops=1, seed=0),
                            layers.GlobalAveragePooling2D()],
    "AugMix": lambda: [layers.Dense(12), layers.Reshape((2, 2, 3)),
                       layers.AugMix(value_range=(0, 1), chain_depth=1, all_ops=False, seed=0),
                       layers.GlobalAveragePooling2D()],
})
# -- end of RandAugment and AugMix --
# -- MaxNumBoundingBoxes (images pass unchanged) and CLAHE: each on images --
LAYER_EXAMPLES.update({
    "MaxNumBoundingBoxes": lambda: [layers.Dense(12), layers.Reshape((2, 2, 3)),
                                    layers.MaxNumBoundingBoxes(4, fill_value=0,
                                                               bounding_box_format="xyxy"),
                                    layers.GlobalAveragePooling2D()],
    "ContrastLimitedAdaptiveHistogramEqualization": lambda: [
        layers.Dense(12), layers.Reshape((2, 2, 3)),
        layers.ContrastLimitedAdaptiveHistogramEqualization(
            value_range=(-3, 3), clip_limit=2.0, tile_grid_size=(2, 1)),
        layers.GlobalAveragePooling2D()],
})
# -- end of MaxNumBoundingBoxes and CLAHE --
# convolutional LSTMs: a segment from Dense(12) to a sequence of frames, and back
LAYER_EXAMPLES.update({
    "ConvLSTM1D": _conv_segment((2, 3, 2), lambda: layers.ConvLSTM1D(
        2, 2, padding="same", return_sequences=True, go_backwards=True)),
    "ConvLSTM2D": _conv_segment((2, 3, 2, 1), lambda: layers.ConvLSTM2D(
        2, (2, 1), recurrent_dropout=0.1, seed=1, kernel_regularizer="l2")),
    "ConvLSTM3D": _conv_segment((2, 1, 3, 2, 1), lambda: layers.ConvLSTM3D(
        1, 1, unit_forget_bias=False, activation="relu")),
})
# adaptive pooling, spectrograms, spectral normalization, reversible embedding
LAYER_EXAMPLES.update({
    "AdaptiveAveragePooling1D": _conv_segment(_SEQ, lambda: layers.AdaptiveAveragePooling1D(3)),
    "AdaptiveMaxPooling1D": _conv_segment(_SEQ, lambda: layers.AdaptiveMaxPooling1D(
        2, data_format="channels_first")),
    "AdaptiveAveragePooling2D": _conv_segment(_IMG, lambda: layers.AdaptiveAveragePooling2D(
        (3, 1))),
    "AdaptiveMaxPooling2D": _conv_segment(_IMG, lambda: layers.AdaptiveMaxPooling2D(2)),
    "AdaptiveAveragePooling3D": _conv_segment(_VOL, lambda: layers.AdaptiveAveragePooling3D(
        (1, 2, 1))),
    "AdaptiveMaxPooling3D": _conv_segment(_VOL, lambda: layers.AdaptiveMaxPooling3D(1)),
    "STFTSpectrogram": _conv_segment((12, 1), lambda: layers.STFTSpectrogram(
        mode="psd", frame_length=4, frame_step=2, window="hamming")),
    "MelSpectrogram": lambda: [layers.Dense(32), layers.MelSpectrogram(
        fft_length=16, sequence_stride=8, num_mel_bins=3, sampling_rate=8000), layers.Flatten()],
    "SpectralNormalization": lambda: layers.SpectralNormalization(layers.Dense(4),
                                                                  power_iterations=2),
    "ReversibleEmbedding": lambda: [  # ids from a Discretization
        layers.Dense(3), layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5]),
        layers.ReversibleEmbedding(4, 2, tie_weights=False, logit_soft_cap=3.0),
        layers.Flatten()],
})

# -- CustomScaleLayer (InceptionResNetV2's residual sum): two inputs, as the merging layers --
MERGING += ("CustomScaleLayer",)
LAYER_EXAMPLES["CustomScaleLayer"] = lambda: layers.CustomScaleLayer(0.17)
# -- end of CustomScaleLayer --


def _layer_classes():
    return sorted(name for name in layers.__all__
                  if isinstance(getattr(layers, name), type)
                  and issubclass(getattr(layers, name), layers.Layer)
                  and name not in ("Layer", "InputLayer"))


def test_every_layer_type_is_covered():
    missing = [n for n in _layer_classes() if n not in LAYER_EXAMPLES]
    assert not missing, (f"add an example of {missing} to LAYER_EXAMPLES in tests/test_saving.py "
                         "so its save/load round trip is tested")


def test_every_layer_type_round_trips(tmp_path):
    stack = [layers.Input(shape=(2, 3)), layers.Flatten()]
    for name in ["Dense", "Activation", "Dropout", "Reshape", "LeakyReLU", "ReLU", "Flatten",
                 "Softmax"]:
        stack.append(LAYER_EXAMPLES[name]())
    for n in _layer_classes():
        if n not in ("Dense", "Activation", "Dropout", "Reshape", "LeakyReLU", "ReLU",
                     "Flatten", "Softmax") + MERGING and n not in SEQUENCE_EXAMPLES \
                and n not in PREPROCESSING and n not in ATTENTION:
            example = LAYER_EXAMPLES[n]()
            stack += example if isinstance(example, list) else [example]
    model = cr.Sequential(stack)
    model.save(tmp_path / "all.keras")
    loaded = load_model(tmp_path / "all.keras")
    assert [type(la).__name__ for la in loaded.layers] == [type(la).__name__ for la in model.layers]
    for la, lb in zip(model.layers, loaded.layers):
        assert la.get_config() == lb.get_config()
    x = np.random.default_rng(0).normal(size=(5, 2, 3)).astype("float32")
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_merging_layers_round_trip_in_a_functional_model(tmp_path):
    a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
    h = layers.Dense(4, name="h")(a)
    outs = [LAYER_EXAMPLES[n]()([h, b]) for n in MERGING]
    model = cr.Model([a, b], layers.Concatenate()(outs))
    model.save(tmp_path / "merge.keras")
    loaded = load_model(tmp_path / "merge.keras")
    for la, lb in zip(model.layers, loaded.layers):
        assert type(la) is type(lb) and la.get_config() == lb.get_config()
    x = [np.random.default_rng(0).normal(size=(5, 4)).astype("float32") for _ in range(2)]
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_attention_layers_round_trip_in_a_functional_model(tmp_path):
    q, v = layers.Input(shape=(3, 4)), layers.Input(shape=(5, 4))
    mha = LAYER_EXAMPLES["MultiHeadAttention"]()(q, v)
    att = LAYER_EXAMPLES["Attention"]()([q, v])
    add = LAYER_EXAMPLES["AdditiveAttention"]()([q, v, v])
    gqa = LAYER_EXAMPLES["GroupQueryAttention"]()(q, v, use_causal_mask=True)
    model = cr.Model([q, v], layers.Concatenate()([mha, att, add, gqa]))
    model.save(tmp_path / "attention.keras")
    loaded = load_model(tmp_path / "attention.keras")
    for la, lb in zip(model.layers, loaded.layers):
        assert type(la) is type(lb) and la.get_config() == lb.get_config()
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32")]
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_sequence_layers_round_trip(tmp_path):
    model = cr.Sequential([layers.Input(shape=(6,), dtype="int32")]
                          + [make() for make in SEQUENCE_EXAMPLES.values()])
    model.save(tmp_path / "seq.keras")
    loaded = load_model(tmp_path / "seq.keras")
    for la, lb in zip(model.layers, loaded.layers):
        assert la.get_config() == lb.get_config()
    x = np.random.default_rng(0).integers(0, 10, (5, 6))
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_sequential_built_on_data_has_its_build_shape_saved(tmp_path):
    model = cr.Sequential([layers.Dense(3), layers.Dense(1)])
    model.predict(np.ones((2, 5), "float32"), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.built and _weights_equal(model, loaded)


def test_save_extension_and_overwrite(tmp_path, saved):
    model, path = saved
    with pytest.raises(ValueError, match=r"\.keras.*Received: filepath=.*model\.pb"):
        model.save(tmp_path / "model.pb")  # (.h5 writes Keras's legacy layout, with h5py)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(path, overwrite=False)
    assert path.read_bytes() == before
    with pytest.raises(TypeError, match="filepath must be a path"):
        save_model(model, 42)


# --------------------------------------------------------------------------- weights files


def test_save_and_load_weights(tmp_path):
    a, b = _mlp(), _mlp()
    a.save_weights(tmp_path / "a.weights.npz")
    b.load_weights(tmp_path / "a.weights.npz")
    assert _weights_equal(a, b)
    with np.load(tmp_path / "a.weights.npz", allow_pickle=False) as f:
        assert f.files == [w.path for w in a.weights]
    assert list(saving.read_weights(tmp_path / "a.weights.npz")) == [w.path for w in a.weights]


def test_load_weights_from_a_model_archive(saved):
    model, path = saved
    fresh = _mlp(dropout=0.2)
    fresh.load_weights(path)
    assert _weights_equal(model, fresh)


def test_weights_extension(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.weights\.npz`.*Received: filepath="):
        _mlp().save_weights(tmp_path / "w.h5")


def test_shape_mismatch_names_layer_weight_and_shapes(tmp_path):
    a = cr.Sequential([layers.Dense(4, input_dim=3, name="hidden"), layers.Dense(1, name="out")])
    b = cr.Sequential([layers.Dense(5, input_dim=3, name="hidden"), layers.Dense(1, name="out")])
    a.save_weights(tmp_path / "a.weights.npz")
    before = b.get_weights()
    with pytest.raises(WeightMismatchError, match=r'Layer "hidden" weight "kernel" has shape '
                       r"\(3, 5\) in the model but \(3, 4\) in"):
        b.load_weights(tmp_path / "a.weights.npz")
    assert all(np.array_equal(x, y) for x, y in zip(before, b.get_weights()))  # unchanged
    with pytest.warns(UserWarning, match="skipping"):
        b.load_weights(tmp_path / "a.weights.npz", skip_mismatch=True)
    assert np.array_equal(b.get_layer("out").get_weights()[1], a.get_layer("out").get_weights()[1])
    assert np.array_equal(b.get_layer("hidden").get_weights()[0], before[0])


def test_missing_and_extra_layers(tmp_path):
    a = cr.Sequential([layers.Dense(4, input_dim=3, name="h1"), layers.Dense(1, name="out")])
    b = cr.Sequential([layers.Dense(4, input_dim=3, name="h1"), layers.Dense(4, name="h2"),
                       layers.Dense(1, name="out")])
    a.save_weights(tmp_path / "a.weights.npz")
    b.save_weights(tmp_path / "b.weights.npz")
    with pytest.raises(WeightMismatchError, match=r"no weights for .*'h2/kernel'.*layers \['h2'\]"):
        b.load_weights(tmp_path / "a.weights.npz")
    with pytest.raises(WeightMismatchError, match=r"holds weights .* for layers \['h2'\] that the "
                       r"model does not have"):
        a.load_weights(tmp_path / "b.weights.npz")
    with pytest.warns(UserWarning):
        b.load_weights(tmp_path / "a.weights.npz", skip_mismatch=True)
    assert np.array_equal(b.get_layer("h1").get_weights()[0], a.get_layer("h1").get_weights()[0])


def test_renamed_layers_are_matched_by_order(tmp_path):
    a = cr.Sequential([layers.Dense(4, input_dim=3), layers.Dense(1)])
    b = cr.Sequential([layers.Dense(4, input_dim=3), layers.Dense(1)])  # other default names
    a.save_weights(tmp_path / "a.weights.npz")
    b.load_weights(tmp_path / "a.weights.npz")
    assert _weights_equal(a, b)


def test_load_weights_into_unbuilt_model(tmp_path):
    a = _mlp()
    a.save_weights(tmp_path / "a.weights.npz")
    unbuilt = cr.Sequential([layers.Dense(8), layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        unbuilt.load_weights(tmp_path / "a.weights.npz")
    with pytest.raises(ValueError, match="not built"):
        unbuilt.save_weights(tmp_path / "u.weights.npz")


def test_unsafe_layer_names_are_refused_at_save(tmp_path):
    model = cr.Sequential([layers.Dense(2, input_dim=2, name="../escape")])
    with pytest.raises(ValueError, match="unsafe file name"):
        model.save_weights(tmp_path / "w.weights.npz")
    assert not os.listdir(tmp_path)


# --------------------------------------------------------------------------- refusing files


def _refuses(path, error=ArchiveError, match=None, **kwargs):
    directory = os.path.dirname(path)
    before = _snapshot(directory)
    with pytest.raises(error, match=match):
        load_model(path, **kwargs)
    assert _snapshot(directory) == before  # nothing written anywhere near it


@pytest.fixture
def parts(saved):
    _, path = saved
    members = _members(path)
    return members, json.loads(members["config.json"])


def test_pickle_inside_is_refused(tmp_path, parts, monkeypatch):
    members, _ = parts
    evil = np.array([{"x": 1}], dtype=object)
    weights = _npz({"dense/kernel": evil})
    _write_zip(tmp_path / "p.keras", {**members, "model.weights.npz": weights})
    touched = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: touched.append(1))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: touched.append(1))
    _refuses(tmp_path / "p.keras", UnsafeFileError, r"Python objects \(pickled data\)")
    raw = _npz({"dense/kernel": pickle.dumps(os.system)})  # a bare pickle as a member
    _write_zip(tmp_path / "q.keras", {**members, "model.weights.npz": raw})
    _refuses(tmp_path / "q.keras", UnsafeFileError, "pickle")
    assert not touched


def test_loading_never_unpickles(saved, monkeypatch):
    _, path = saved

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    load_model(path)


@pytest.mark.parametrize("descr", ["<U5", "|S3", "<M8[D]", "<c8", "|V4"])
def test_non_numeric_dtypes_are_refused(tmp_path, parts, descr):
    members, _ = parts
    arr = np.zeros(2, dtype=np.dtype(descr))
    _write_zip(tmp_path / "d.keras", {**members, "model.weights.npz": _npz({"dense/kernel": arr})})
    _refuses(tmp_path / "d.keras", UnsafeFileError, "only numeric arrays")


def test_structured_dtype_is_refused(tmp_path, parts):
    members, _ = parts
    arr = np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")])
    _write_zip(tmp_path / "s.keras", {**members, "model.weights.npz": _npz({"dense/kernel": arr})})
    _refuses(tmp_path / "s.keras", UnsafeFileError, "structured")


def test_config_naming_os_system_is_refused(tmp_path, parts):
    members, config = parts
    for mutate in (
        lambda c: c.__setitem__("class_name", "os.system"),
        lambda c: c["config"]["layers"][1].__setitem__("class_name", "os.system"),
        lambda c: c["config"]["layers"][1]["config"].__setitem__("activation", "os.system"),
        lambda c: c["config"]["layers"][1].__setitem__("class_name", "NotARegisteredLayer"),
        lambda c: c["compile_config"]["optimizer"].__setitem__("class_name", "subprocess.Popen"),
        lambda c: c["compile_config"].__setitem__("loss", {"class_name": "function",
                                                            "config": "eval"}),
    ):
        bad = json.loads(json.dumps(config))
        mutate(bad)
        path = tmp_path / "c.keras"
        _write_zip(path, {**members, "config.json": json.dumps(bad).encode()})
        _refuses(path, UnsafeFileError)


def test_modules_named_in_a_config_are_never_imported(tmp_path, parts, monkeypatch):
    members, config = parts
    marker = tmp_path / "imported"
    (tmp_path / "evil_chainrule_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nclass Thing: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    bad = json.loads(json.dumps(config))
    bad["class_name"] = "evil_chainrule_plugin.Thing"
    bad["config"]["layers"][1]["module"] = "evil_chainrule_plugin"
    bad["config"]["layers"][1]["class_name"] = "Thing"
    path = tmp_path / "e.keras"
    _write_zip(path, {**members, "config.json": json.dumps(bad).encode()})
    with pytest.raises(UnsafeFileError):
        load_model(path)
    bad["class_name"] = "Sequential"
    _write_zip(path, {**members, "config.json": json.dumps(bad).encode()})
    with pytest.raises(UnsafeFileError, match="Thing"):
        load_model(path)
    assert not marker.exists() and "evil_chainrule_plugin" not in sys.modules


@pytest.mark.parametrize("name", ["../x", "/abs/path", "a/../../b", "a\\b", "C:/x", "a//b",
                                  "./config.json"])
def test_path_traversal_members_are_refused(tmp_path, parts, name):
    members, _ = parts
    _write_zip(tmp_path / "t.keras", {**members, name: b"x"})
    _refuses(tmp_path / "t.keras", UnsafeFileError, "unsafe name")


def test_unexpected_members_are_refused(tmp_path, parts):
    members, _ = parts
    _write_zip(tmp_path / "u.keras", {**members, "payload.pkl": b"\x80\x04."})
    _refuses(tmp_path / "u.keras", UnsafeFileError, "unexpected members")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("dense/kernel.npy", _npy(np.zeros((4, 8), "float32")))
        zf.writestr("readme.txt", b"hello")
    _write_zip(tmp_path / "v.keras", {**members, "model.weights.npz": buf.getvalue()})
    _refuses(tmp_path / "v.keras", UnsafeFileError, "unexpected member 'readme.txt'")


def test_duplicate_members_are_refused(tmp_path, parts):
    members, _ = parts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(tmp_path / "dup.keras", "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
            zf.writestr("config.json", b"{}")
    _refuses(tmp_path / "dup.keras", UnsafeFileError, "twice")


def test_zip_bomb_is_refused_before_reading(tmp_path, parts, monkeypatch):
    members, _ = parts
    bomb = _npz({"dense/kernel": np.zeros(5 * 2**20, dtype="float32")})  # 20 MiB of zeros
    with zipfile.ZipFile(tmp_path / "b.keras", "w") as zf:
        zf.writestr("config.json", members["config.json"])
        zf.writestr("model.weights.npz", bomb, compress_type=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(tmp_path / "b.keras") < 2**20
    monkeypatch.setattr(saving_api, "open_npz_bytes", lambda *a, **k: pytest.fail("read"))
    _refuses(tmp_path / "b.keras", UnsafeFileError, "zip bomb")


def _set_central_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size a zip's central directory declares for ``name``."""
    data = bytearray(data)
    pos = 0
    while True:
        pos = data.index(b"PK\x01\x02", pos)
        name_len = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if bytes(data[pos + 46:pos + 46 + name_len]) == name:
            data[pos + 24:pos + 28] = struct.pack("<I", size)
            return bytes(data)
        pos += 4


def test_declared_size_lies_are_caught(tmp_path, saved):
    _, path = saved
    data = path.read_bytes()
    (tmp_path / "big.keras").write_bytes(_set_central_size(data, b"model.weights.npz", 2**32 - 2))
    _refuses(tmp_path / "big.keras", ArchiveError)
    (tmp_path / "small.keras").write_bytes(_set_central_size(data, b"config.json", 10))
    _refuses(tmp_path / "small.keras", InvalidArchiveError)


def test_absurd_array_header_is_refused_before_allocating(tmp_path, parts):
    members, _ = parts
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"
    header += " " * (63 - len(header) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64
    _write_zip(tmp_path / "h.keras", {**members, "model.weights.npz": _npz({"dense/kernel": npy})})
    _refuses(tmp_path / "h.keras", UnsafeFileError, r"shape \(1000000000000,\)")


def test_absurd_shapes_in_config_are_refused(tmp_path, parts):
    members, config = parts
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**9]
    _write_zip(tmp_path / "a.keras", {**members, "config.json": json.dumps(bad).encode()})
    _refuses(tmp_path / "a.keras", UnsafeFileError, "implausibly large")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["units"] = 10**7
    _write_zip(tmp_path / "b.keras", {**members, "config.json": json.dumps(bad).encode()})
    _refuses(tmp_path / "b.keras", InvalidArchiveError, "units=10000000")


@pytest.mark.parametrize("content,hint", [
    (b"just some text\n", "not a zip file"),
    (b"", "empty"),
    (pickle.dumps({"weights": [1, 2]}), "pickle"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5"),
    (_npy(np.zeros(3)), "single .npy array"),
])
def test_not_an_archive(tmp_path, content, hint):
    path = tmp_path / "thing.keras"
    path.write_bytes(content)
    with pytest.raises(InvalidArchiveError, match=rf"thing\.keras' is not a chainrule model "
                       rf"archive: .*{hint}"):
        load_model(path)


def test_other_zips_are_not_chainrule_archives(tmp_path, saved):
    model, _ = saved
    _write_zip(tmp_path / "notes.keras", {"notes.txt": b"hello"})
    with pytest.raises(InvalidArchiveError, match="is not a chainrule model archive.*no config"):
        load_model(tmp_path / "notes.keras")
    _write_zip(tmp_path / "k3.keras", {"config.json": b"{}", "metadata.json": b"{}",
                                       "model.weights.h5": b"\x89HDF"})
    with pytest.raises(InvalidArchiveError, match="'model.weights.h5' is not an HDF5 file"):
        load_model(tmp_path / "k3.keras")  # a Keras-written archive goes to the Keras reader
    _write_zip(tmp_path / "c.keras", {"config.json": b'{"class_name": "Sequential"}'})
    with pytest.raises(InvalidArchiveError, match="lacks the format marker"):
        load_model(tmp_path / "c.keras")
    model.save_weights(tmp_path / "w.weights.npz")
    with pytest.raises(InvalidArchiveError, match="load_weights"):
        load_model(tmp_path / "w.weights.npz")
    (tmp_path / "x.weights.npz").write_text("not weights")
    with pytest.raises(InvalidArchiveError, match="is not a chainrule weights file"):
        load_weights(model, tmp_path / "x.weights.npz")


def test_newer_format_and_missing_and_directory(tmp_path, parts):
    members, config = parts
    newer = {**config, "format_version": 99}
    _write_zip(tmp_path / "n.keras", {**members, "config.json": json.dumps(newer).encode()})
    with pytest.raises(InvalidArchiveError, match="newer chainrule"):
        load_model(tmp_path / "n.keras")
    with pytest.raises(FileNotFoundError, match="No file found"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(InvalidArchiveError, match="is a directory"):
        load_model(tmp_path)


def test_mismatched_weights_in_archive(tmp_path, parts):
    members, _ = parts
    weights = _npz({"dense/kernel": np.zeros((4, 8), "float32")})
    _write_zip(tmp_path / "w.keras", {**members, "model.weights.npz": weights})
    _refuses(tmp_path / "w.keras", InvalidArchiveError, "no saved kernel")


# --------------------------------------------------------------------------- atomic writes


class _Boom(RuntimeError):
    pass


def _failing_write_npz(real):
    def write(fileobj, arrays):
        fileobj.write(b"partial garbage" * 100)
        raise _Boom("disk full")

    return write


def test_crash_mid_save_keeps_the_previous_model(tmp_path, saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    model.fit(*_data(), epochs=1, verbose=0)  # different weights now
    monkeypatch.setattr(saving_api, "write_npz", _failing_write_npz(saving_api.write_npz))
    with pytest.raises(_Boom):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # no temporary file left
    load_model(path)


def test_crash_mid_save_weights_keeps_the_previous_file(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    before = path.read_bytes()
    monkeypatch.setattr(saving_api, "write_npz", _failing_write_npz(saving_api.write_npz))
    with pytest.raises(_Boom):
        model.save_weights(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.weights.npz"]


def test_crash_in_fsync_or_replace_keeps_the_previous_file(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()
    for target in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(saving.atomic.os, target, lambda *a, **k: (_ for _ in ()).throw(_Boom()))
            with pytest.raises(_Boom):
                _mlp().save(path)
        assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.keras"]


def test_atomic_write_keeps_permissions(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with saving.atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and (os.stat(path).st_mode & 0o777) == 0o640
    with pytest.raises(IsADirectoryError), saving.atomic_write(tmp_path):
        pass

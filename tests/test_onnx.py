"""ONNX export: every converter's model checked by onnx.checker and run in ONNX Runtime.

Each case builds a small model with random weights, exports it, and compares
ONNX Runtime's output with chainrule's ``predict`` (float32, 1e-5) at two batch
sizes from one file (the batch axis is dynamic).
"""

from __future__ import annotations

import functools
import os
import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export tests need `pip install chainrule[onnx]`")
ort = pytest.importorskip("onnxruntime",
                          reason="ONNX export tests need onnxruntime (`chainrule[onnx]`)")

import chainrule as cr  # noqa: E402
from chainrule import activations  # noqa: E402
from chainrule.export import (  # noqa: E402
    ACTIVATIONS,
    CONVERTERS,
    DEFAULT_OPSET,
    UnsupportedLayerError,
    export_onnx,
    register_converter,
)

L = cr.layers
DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
BATCHES = (2, 5)


def randomize(model, seed=0):
    """Random weights, so every bias and gate block matters (variances kept positive)."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        w = rng.normal(0.0, 0.5, v.shape).astype("float32")
        if "variance" in v.name:
            w = np.abs(w) + 0.5
        v.assign(w)
    return model


def run_onnx(path, xs):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(sess.get_inputs(), xs)}
    return sess.run(None, feeds)


def check_export(model, make_inputs, tmp_path, batches=BATCHES, atol=1e-5):
    """Export once; at each batch size ONNX Runtime equals predict to ``atol``."""
    path = tmp_path / "model.onnx"
    proto = export_onnx(model, path)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded.opset_import[0].version == DEFAULT_OPSET
    for vi in list(loaded.graph.input) + list(loaded.graph.output):
        assert vi.type.tensor_type.shape.dim[0].dim_param == "batch"
    for b in batches:
        xs = make_inputs(b)
        got = run_onnx(path, xs)
        ref = model.predict(xs if len(xs) > 1 else xs[0], verbose=0, batch_size=b)
        ref = ref if isinstance(ref, list) else [ref]
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=atol)
    return proto


def normal(*shape, seed=1):
    def make(b):
        return [np.random.default_rng(seed + b).normal(size=(b,) + shape).astype("float32")]
    return make


def normals(*shapes, seed=1):
    def make(b):
        rng = np.random.default_rng(seed + b)
        return [rng.normal(size=(b,) + s).astype("float32") for s in shapes]
    return make


def seq(*layers, shape):
    return randomize(cr.Sequential([L.Input(shape=shape)] + list(layers)))


def functional(layer, *shapes, dtype=None):
    inputs = [L.Input(shape=s, dtype=dtype) for s in shapes]
    out = layer(inputs if len(inputs) > 1 else inputs[0])
    return randomize(cr.models.Model(inputs, out))


# -- activations -------------------------------------------------------------------------------
ACT_NAMES = sorted(set(ACTIVATIONS) - {"threshold"}) + ["swish", "hard_swish"]  # threshold: below


@pytest.mark.parametrize("name", ACT_NAMES)
def test_dense_with_each_activation(name, tmp_path):
    model = seq(L.Dense(4, activation=name), shape=(3,))
    check_export(model, normal(3), tmp_path)


@pytest.mark.parametrize("fn", [
    functools.partial(activations.gelu, approximate=True),
    functools.partial(activations.leaky_relu, negative_slope=0.05),
    functools.partial(activations.elu, alpha=0.5),
    functools.partial(activations.relu, max_value=0.7, negative_slope=0.1, threshold=0.2),
    functools.partial(activations.softmax, axis=1),
    functools.partial(activations.threshold, threshold=0.2, default_value=-1.0),
    functools.partial(activations.sparsemax, axis=1),
    functools.partial(activations.glu, axis=2),
    functools.partial(activations.soft_shrink, threshold=0.3),
], ids=["gelu-tanh", "leaky-relu-slope", "elu-alpha", "relu-general", "softmax-axis1",
        "threshold", "sparsemax-axis1", "glu-axis2", "soft-shrink-threshold"])
def test_activation_layer_with_arguments(fn, tmp_path):
    check_export(seq(L.Activation(fn), shape=(3, 4)), normal(3, 4), tmp_path)


def test_every_activation_has_an_onnx_form():
    known = {n for n in activations._ACTIVATIONS}
    assert known <= set(ACTIVATIONS)


@pytest.mark.parametrize("layer", [
    lambda: L.ReLU(), lambda: L.ReLU(max_value=1.0), lambda: L.ReLU(negative_slope=0.1),
    lambda: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5), lambda: L.LeakyReLU(),
    lambda: L.Softmax(), lambda: L.Softmax(axis=1), lambda: L.Activation("softmax"),
], ids=["relu", "relu-max", "relu-slope", "relu-all", "leaky-relu", "softmax", "softmax-axis1",
        "activation-softmax"])
def test_activation_layers(layer, tmp_path):
    check_export(seq(layer(), shape=(3, 4)), normal(3, 4), tmp_path)


# -- core layers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    (lambda: [L.Dense(3, use_bias=False)], (4,)),
    (lambda: [L.Dense(3, activation="tanh")], (2, 4)),  # on the last axis of a 3-D input
    (lambda: [L.Dropout(0.5), L.Dense(2)], (4,)),
    (lambda: [L.SpatialDropout1D(0.5)], (3, 4)),
    (lambda: [L.SpatialDropout2D(0.5)], (3, 4, 2)),
    (lambda: [L.Flatten(), L.Dense(2)], (3, 4)),
    (lambda: [L.Flatten()], (4,)),
    (lambda: [L.Flatten(data_format="channels_first"), L.Dense(2)], (3, 4)),
    (lambda: [L.Flatten(data_format="channels_first")], (2, 3, 4)),
    (lambda: [L.Reshape((2, -1))], (3, 4)),
    (lambda: [L.Reshape((4, 3))], (12,)),
], ids=["dense-no-bias", "dense-3d", "dropout", "spatial-dropout1d", "spatial-dropout2d",
        "flatten", "flatten-2d", "flatten-channels-first", "flatten-channels-first-4d",
        "reshape-minus-one", "reshape"])
def test_core_layers(case, tmp_path):
    make, shape = case
    check_export(seq(*make(), shape=shape), normal(*shape), tmp_path)


def test_sequential_built_by_a_call(tmp_path):
    model = randomize(cr.Sequential([L.Dense(3, activation="relu"), L.Dense(1)]))
    model.predict(np.zeros((1, 4), "float32"), verbose=0)
    check_export(model, normal(4), tmp_path)


# -- merging -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"])
def test_elementwise_merges(cls, tmp_path):
    n = 2 if cls == "Subtract" else 3
    model = functional(getattr(L, cls)(), *([(4,)] * n))
    check_export(model, normals(*([(4,)] * n)), tmp_path)


@pytest.mark.parametrize("case", [
    (lambda: L.Concatenate(), [(3,), (2,)]),
    (lambda: L.Concatenate(axis=1), [(2, 3), (4, 3)]),
    (lambda: L.Dot(axes=1), [(4,), (4,)]),
    (lambda: L.Dot(axes=1, normalize=True), [(4,), (4,)]),
    (lambda: L.Dot(axes=(2, 2)), [(2, 4), (3, 4)]),
    (lambda: L.Dot(axes=(1, 1)), [(4, 2), (4, 3)]),
    (lambda: L.Dot(axes=(1, 1)), [(3,), (3, 4)]),
    (lambda: L.Dot(axes=(2, 1)), [(2, 3), (3,)]),
], ids=["concat", "concat-axis1", "dot", "dot-normalize", "dot-3d-last", "dot-3d-first",
        "dot-2d-3d", "dot-3d-2d"])
def test_concatenate_and_dot(case, tmp_path):
    make, shapes = case
    check_export(functional(make(), *shapes), normals(*shapes), tmp_path)


def test_functional_graph_with_branches_and_two_outputs(tmp_path):
    a, b = L.Input(shape=(4,), name="a"), L.Input(shape=(3,), name="b")
    h = L.Dense(5, activation="relu", name="ha")(a)
    k = L.Dense(5, activation="tanh", name="hb")(b)
    s = L.Add()([h, k])
    out1 = L.Dense(2, activation="softmax", name="probs")(L.Concatenate()([s, h]))
    out2 = L.Dense(1, name="value")(L.Multiply()([s, k]))
    model = randomize(cr.models.Model([a, b], [out1, out2]))
    proto = check_export(model, normals((4,), (3,)), tmp_path)
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["probs", "value"]


def test_nested_models(tmp_path):
    inner = cr.Sequential([L.Input(shape=(4,)), L.Dense(3, activation="relu"), L.Dense(2)])
    x = L.Input(shape=(4,))
    model = randomize(cr.models.Model(x, L.Activation("sigmoid")(inner(x))))
    check_export(model, normal(4), tmp_path)
    outer = randomize(cr.Sequential([L.Input(shape=(4,)), inner, L.Dense(1)]))
    check_export(outer, normal(4), tmp_path)


# -- normalization ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    (lambda: L.BatchNormalization(), (4,)),
    (lambda: L.BatchNormalization(axis=1), (3, 4, 2)),
    (lambda: L.BatchNormalization(center=False, scale=False, epsilon=0.01), (3, 4)),
    (lambda: L.LayerNormalization(), (3, 4)),
    (lambda: L.LayerNormalization(axis=[1, 2]), (3, 4, 2)),
    (lambda: L.LayerNormalization(axis=1, center=False), (3, 4)),
    (lambda: L.GroupNormalization(groups=2), (3, 4)),
    (lambda: L.GroupNormalization(groups=3, axis=1, scale=False), (6, 2, 2)),
    (lambda: L.GroupNormalization(groups=-1), (5, 2, 3)),
], ids=["batchnorm", "batchnorm-axis1", "batchnorm-plain", "layernorm", "layernorm-axes",
        "layernorm-no-center", "groupnorm", "groupnorm-axis1", "instancenorm"])
def test_normalization(case, tmp_path):
    make, shape = case
    check_export(seq(make(), shape=shape), normal(*shape), tmp_path)


def test_layer_normalization_rms_scaling(tmp_path):
    with pytest.warns(UserWarning):
        layer = L.LayerNormalization(rms_scaling=True)
    check_export(seq(layer, shape=(3, 4)), normal(3, 4), tmp_path)


def test_batch_normalization_uses_moving_statistics(tmp_path):
    model = seq(L.BatchNormalization(), shape=(4,))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(2.0, 3.0, (16, 4)).astype("float32")
    model.fit(x, x, epochs=2, verbose=0)  # the moving statistics move
    check_export(model, normal(4), tmp_path)


# -- reshaping ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    (lambda: L.Rescaling(1 / 255.0, offset=-1.0), (3, 2)),
    (lambda: L.Rescaling([0.5, 2.0]), (3, 2)),
    (lambda: L.ZeroPadding1D((1, 2)), (3, 2)),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), (3, 4, 2)),
    (lambda: L.ZeroPadding2D(1, data_format="channels_first"), (2, 3, 4)),
    (lambda: L.Cropping1D((1, 2)), (5, 2)),
    (lambda: L.Cropping1D((0, 1)), (5, 2)),
    (lambda: L.Cropping2D(((1, 0), (0, 2))), (3, 5, 2)),
    (lambda: L.Cropping2D(1, data_format="channels_first"), (2, 4, 5)),
    (lambda: L.UpSampling1D(3), (3, 2)),
    (lambda: L.UpSampling2D((2, 3)), (3, 2, 2)),
    (lambda: L.UpSampling2D(2, data_format="channels_first"), (2, 3, 2)),
    (lambda: L.Permute((2, 1)), (3, 4)),
    (lambda: L.Permute((3, 1, 2)), (3, 4, 2)),
    (lambda: L.RepeatVector(3), (4,)),
], ids=["rescaling", "rescaling-per-channel", "zeropad1d", "zeropad2d", "zeropad2d-cf",
        "crop1d", "crop1d-end", "crop2d", "crop2d-cf", "upsample1d", "upsample2d",
        "upsample2d-cf", "permute", "permute-3d", "repeat-vector"])
def test_reshaping_layers(case, tmp_path):
    make, shape = case
    check_export(seq(make(), shape=shape), normal(*shape), tmp_path)


def test_upsampling2d_bilinear_is_refused(tmp_path):
    model = seq(L.UpSampling2D(2, interpolation="bilinear"), shape=(2, 2, 1))
    with pytest.raises(UnsupportedLayerError, match=r"interpolation='nearest'.*Received: "):
        export_onnx(model, tmp_path / "m.onnx")


# -- preprocessing (inference) ------------------------------------------------------------------------
def test_normalization_adapted(tmp_path):
    layer = L.Normalization()
    layer.adapt(np.random.default_rng(0).normal(3.0, 2.0, (50, 4)).astype("float32"))
    check_export(cr.Sequential([L.Input(shape=(4,)), layer, L.Dense(2)]), normal(4), tmp_path)


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_given_statistics(invert, tmp_path):
    layer = L.Normalization(axis=-1, mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0],
                            invert=invert)
    check_export(cr.Sequential([L.Input(shape=(2, 3)), layer]), normal(2, 3), tmp_path)


def test_image_preprocessing_for_inference(tmp_path):
    model = randomize(cr.Sequential([
        L.Input(shape=(7, 6, 2)), L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.1),
        L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.2), L.RandomBrightness(0.2),
        L.CenterCrop(4, 3), L.Flatten(), L.Dense(2)]))
    check_export(model, normal(7, 6, 2), tmp_path)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(9, 4), (3, 5)], ids=["up-down", "down-up"])
def test_resizing(interpolation, size, tmp_path):
    model = cr.Sequential([L.Input(shape=(6, 7, 2)), L.Resizing(*size, interpolation)])
    check_export(model, normal(6, 7, 2), tmp_path)


def test_resizing_to_an_aspect_ratio_is_refused(tmp_path):
    model = cr.Sequential([L.Input(shape=(6, 7, 2)),
                           L.Resizing(3, 3, crop_to_aspect_ratio=True, name="resize")])
    with pytest.raises(UnsupportedLayerError, match=r'Layer "resize" \(Resizing\).*Received: '):
        export_onnx(model, tmp_path / "m.onnx")


def test_center_crop_larger_than_the_image_is_refused(tmp_path):
    model = cr.Sequential([L.Input(shape=(3, 3, 1)), L.CenterCrop(4, 4, name="crop")])
    with pytest.raises(UnsupportedLayerError, match=r'Layer "crop" \(CenterCrop\).*Received: '):
        export_onnx(model, tmp_path / "m.onnx")


# -- convolution and pooling -------------------------------------------------------------------------
CONV_CASES = {
    "conv2d": (lambda: [L.Conv2D(4, 3, activation="relu")], (7, 6, 2)),
    "conv2d-same-strides": (lambda: [L.Conv2D(4, (3, 2), strides=2, padding="same")], (7, 6, 2)),
    "conv2d-cf-dilated": (lambda: [L.Conv2D(4, 3, padding="same", dilation_rate=2,
                                            data_format="channels_first")], (2, 7, 6)),
    "conv2d-groups": (lambda: [L.Conv2D(4, 3, groups=2, use_bias=False)], (5, 5, 4)),
    "conv1d-causal": (lambda: [L.Conv1D(3, 3, padding="causal", dilation_rate=2)], (8, 2)),
    "conv1d-same": (lambda: [L.Conv1D(3, 4, strides=3, padding="same")], (8, 2)),
    "conv3d": (lambda: [L.Conv3D(2, 2)], (4, 4, 3, 2)),
    "depthwise2d": (lambda: [L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")],
                    (5, 6, 3)),
    "depthwise1d": (lambda: [L.DepthwiseConv1D(2, strides=2)], (7, 3)),
    "separable2d": (lambda: [L.SeparableConv2D(4, 3, depth_multiplier=2, activation="tanh")],
                    (6, 5, 3)),
    "separable1d": (lambda: [L.SeparableConv1D(4, 3, padding="same")], (6, 3)),
    "conv2d-transpose": (lambda: [L.Conv2DTranspose(3, 3, strides=2)], (4, 3, 2)),
    "conv2d-transpose-same": (lambda: [L.Conv2DTranspose(3, 3, strides=2, padding="same")],
                              (4, 3, 2)),
    "conv2d-transpose-small-kernel": (lambda: [L.Conv2DTranspose(3, 2, strides=3)], (4, 3, 2)),
    "conv1d-transpose-cf": (lambda: [L.Conv1DTranspose(3, 4, strides=2, padding="same",
                                                       data_format="channels_first")], (2, 5)),
    "conv3d-transpose": (lambda: [L.Conv3DTranspose(2, 2, strides=2)], (2, 3, 2, 2)),
    "maxpool2d": (lambda: [L.MaxPooling2D()], (6, 7, 2)),
    "maxpool2d-same": (lambda: [L.MaxPooling2D(3, strides=2, padding="same")], (6, 7, 2)),
    "avgpool2d-same": (lambda: [L.AveragePooling2D(3, strides=2, padding="same")], (6, 7, 2)),
    "avgpool1d": (lambda: [L.AveragePooling1D(2)], (7, 2)),
    "maxpool1d-cf": (lambda: [L.MaxPooling1D(3, padding="same", data_format="channels_first")],
                     (2, 7)),
    "maxpool3d": (lambda: [L.MaxPooling3D(2)], (4, 4, 4, 2)),
    "avgpool3d-same": (lambda: [L.AveragePooling3D(2, padding="same")], (3, 4, 5, 2)),
    "global-avg2d": (lambda: [L.GlobalAveragePooling2D()], (4, 5, 3)),
    "global-max2d-keepdims": (lambda: [L.GlobalMaxPooling2D(keepdims=True)], (4, 5, 3)),
    "global-avg1d-cf": (lambda: [L.GlobalAveragePooling1D(data_format="channels_first")], (3, 5)),
    "global-max3d": (lambda: [L.GlobalMaxPooling3D()], (2, 3, 4, 2)),
    "convnet": (lambda: [L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
                         L.MaxPooling2D(), L.Flatten(), L.Dense(3, activation="softmax")],
                (8, 8, 1)),
}


@pytest.mark.parametrize("name", sorted(CONV_CASES))
def test_convolution_and_pooling(name, tmp_path):
    make, shape = CONV_CASES[name]
    check_export(seq(*make(), shape=shape), normal(*shape), tmp_path)


def test_conv1d_on_sequences_of_any_length(tmp_path):
    x = L.Input(shape=(None, 2))
    y = L.GlobalMaxPooling1D()(L.Conv1D(3, 3, strides=2, padding="same")(
        L.Conv1D(4, 3, padding="causal")(x)))
    model = randomize(cr.models.Model(x, y))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    for steps in (5, 8):
        xs = normal(steps, 2)(3)
        np.testing.assert_allclose(run_onnx(path, xs)[0], model.predict(xs[0], verbose=0),
                                   rtol=1e-5, atol=1e-5)


# -- embeddings and recurrent layers -----------------------------------------------------------------
def ids_input(steps, vocab=10, dtype="int32"):
    def make(b):
        return [np.random.default_rng(b).integers(0, vocab, (b, steps)).astype(dtype)]
    return make


def test_embedding_with_integer_input(tmp_path):
    x = L.Input(shape=(5,), dtype="int32")
    model = randomize(cr.models.Model(x, L.Dense(2)(L.Embedding(10, 3)(x))))
    proto = check_export(model, ids_input(5), tmp_path)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT32


def test_embedding_with_float_ids_in_a_sequential(tmp_path):
    model = seq(L.Embedding(10, 3), L.LSTM(2), shape=(5,))
    check_export(model, ids_input(5, dtype="float32"), tmp_path)


RNN_CASES = {
    "simple-rnn": lambda: L.SimpleRNN(3),
    "simple-rnn-relu-seq": lambda: L.SimpleRNN(3, activation="relu", return_sequences=True),
    "simple-rnn-no-bias-back": lambda: L.SimpleRNN(3, use_bias=False, go_backwards=True),
    "lstm": lambda: L.LSTM(3),
    "lstm-seq": lambda: L.LSTM(3, return_sequences=True),
    "lstm-back-seq": lambda: L.LSTM(3, return_sequences=True, go_backwards=True),
    "lstm-hard-sigmoid": lambda: L.LSTM(2, recurrent_activation="hard_sigmoid"),
    "gru": lambda: L.GRU(3),
    "gru-seq-back": lambda: L.GRU(3, return_sequences=True, go_backwards=True),
    "gru-reset-before": lambda: L.GRU(3, reset_after=False, return_sequences=True),
    "gru-no-bias": lambda: L.GRU(2, use_bias=False),
    "rnn-cell": lambda: L.RNN(L.LSTMCell(3), return_sequences=True),
    "bidirectional-concat": lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)),
    "bidirectional-sum": lambda: L.Bidirectional(L.GRU(2), merge_mode="sum"),
    "bidirectional-ave-seq": lambda: L.Bidirectional(L.SimpleRNN(2, return_sequences=True),
                                                     merge_mode="ave"),
    "bidirectional-mul": lambda: L.Bidirectional(L.LSTM(2), merge_mode="mul"),
    "time-distributed": lambda: L.TimeDistributed(L.Dense(2, activation="relu")),
}


@pytest.mark.parametrize("name", sorted(RNN_CASES))
def test_recurrent_layers(name, tmp_path):
    check_export(seq(RNN_CASES[name](), shape=(4, 3)), normal(4, 3), tmp_path)


def test_recurrent_state_outputs(tmp_path):
    x = L.Input(shape=(4, 3))
    seq_out, h, c = L.LSTM(3, return_sequences=True, return_state=True)(x)
    g_out, g_h = L.GRU(2, return_state=True)(seq_out)
    both = L.Bidirectional(L.LSTM(2, return_state=True), merge_mode=None)(seq_out)
    model = randomize(cr.models.Model(x, [seq_out, h, c, g_out, g_h] + list(both)))
    check_export(model, normal(4, 3), tmp_path)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_initial_states_from_an_encoder(kind, tmp_path):
    enc_in, dec_in = L.Input(shape=(4, 3)), L.Input(shape=(5, 2))
    _, *states = getattr(L, kind)(3, return_state=True)(enc_in)
    dec = getattr(L, kind)(3, return_sequences=True, go_backwards=True)(dec_in,
                                                                      initial_state=states)
    both = L.Bidirectional(getattr(L, kind)(3))(dec_in, initial_state=states + states)
    model = randomize(cr.models.Model([enc_in, dec_in], [L.Dense(2)(dec), both]))
    check_export(model, normals((4, 3), (5, 2)), tmp_path)


def test_recurrent_layer_with_unknown_length(tmp_path):
    x = L.Input(shape=(None, 3))
    model = randomize(cr.models.Model(x, L.Dense(1)(L.GRU(2)(L.LSTM(3, return_sequences=True)(
        x)))))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    for steps in (2, 6):
        xs = normal(steps, 3)(3)
        np.testing.assert_allclose(run_onnx(path, xs)[0], model.predict(xs[0], verbose=0),
                                   rtol=1e-5, atol=1e-5)


# -- model.export and the file --------------------------------------------------------------------------
def test_model_export_writes_onnx(tmp_path, capsys):
    model = seq(L.Dense(2, activation="relu"), shape=(3,))
    path = tmp_path / "m.onnx"
    model.export(str(path), format="onnx")
    assert "Saved ONNX model" in capsys.readouterr().out
    x = normal(3)(4)
    np.testing.assert_allclose(run_onnx(path, x)[0], model.predict(x[0], verbose=0), atol=1e-6)
    model.export(path, format="onnx", verbose=False, opset_version=DEFAULT_OPSET)
    assert capsys.readouterr().out == ""


def test_input_signature_builds_an_unbuilt_model(tmp_path):
    model = randomize(cr.Sequential([L.Dense(3, activation="relu"), L.Dense(1)]))
    model.export(tmp_path / "m.onnx", format="onnx", input_signature=[(None, 4)], verbose=False)
    assert model.built
    check_export(model, normal(4), tmp_path)
    export_onnx(model, tmp_path / "again.onnx", input_signature=[(7, 4)])  # agrees: accepted


def test_register_converter_adds_a_layer_class(tmp_path):
    class Double(L.Layer):
        def call(self, inputs):
            return inputs * 2.0

    def double(g, layer, inputs, shapes, out_shapes):
        return [g.node("Mul", [inputs[0], g.const(2.0, "two")], layer.name)]

    model = seq(Double(name="double"), shape=(3,))
    register_converter("Double", double)
    try:
        check_export(model, normal(3), tmp_path)
    finally:
        del CONVERTERS["Double"]


# -- a user's own layers and subclassed models: their calls traced into ops ---------------------------
class Antirectifier(L.Layer):
    """keras-io's antirectifier, written with ops only."""

    def build(self, input_shape):
        dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(dim * 2, dim), initializer="he_normal",
                                      name="kernel")

    def call(self, inputs):
        inputs -= cr.ops.mean(inputs, axis=-1, keepdims=True)
        pos = cr.ops.relu(inputs)
        neg = cr.ops.relu(-inputs)
        return cr.ops.matmul(cr.ops.concatenate([pos, neg], axis=-1), self.kernel)


class Block(L.Layer):
    """A layer holding layers, with a training argument and a weight of its own."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = L.Dense(units, activation="gelu")
        self.drop = L.Dropout(0.5)
        self.norm = L.LayerNormalization()

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")

    def call(self, x, training=None):
        return self.norm(x + self.drop(self.dense(x), training=training)) * self.gain


class SubNet(cr.models.Model):
    def __init__(self):
        super().__init__()
        self.first = L.Dense(6)
        self.anti = Antirectifier()
        self.block = Block(6)
        self.head = L.Dense(3, activation="softmax")

    def call(self, x, training=None):
        return self.head(self.block(self.anti(self.first(x)), training=training))


class Activations(L.Layer):
    """Activation ops called in a layer: exported in their activations' ONNX forms."""

    def call(self, x):
        ops = cr.ops
        return (ops.gelu(x) + ops.gelu(x, approximate=False) + ops.silu(x) + ops.swish(x)
                + ops.leaky_relu(x, negative_slope=0.1) + ops.elu(x, alpha=0.5)
                + ops.softplus(x) + ops.relu6(x) + ops.hard_sigmoid(x) + ops.selu(x))


def test_activation_ops_in_a_layer_are_exported(tmp_path):
    check_export(seq(Activations(), shape=(7,)), _x((7,)), tmp_path)


def test_integer_and_boolean_outputs_keep_their_types(tmp_path):
    x = L.Input((4,))
    h = L.Dense(3)(x)
    model = randomize(cr.Model(x, [h, cr.ops.cast(h > 0, "int32"), h > 0]))
    export_onnx(model, tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [o.type for o in sess.get_outputs()] == ["tensor(float)", "tensor(int32)",
                                                    "tensor(bool)"]
    xs = _x((4,))(5)
    for got, want in zip(sess.run(None, {sess.get_inputs()[0].name: xs[0]}),
                         model.predict(xs[0], verbose=0)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, atol=1e-5)


def _x(shape):
    return lambda n: [np.random.default_rng(n).normal(size=(n,) + shape).astype("float32")]


def test_a_users_own_layers_are_exported_through_their_ops(tmp_path):
    model = randomize(seq(L.Dense(6), Antirectifier(), Block(6), L.Dense(2), shape=(4,)))
    inbound = [len(la._inbound_nodes) for la in model.layers]
    cr.utils.clear_session()
    check_export(model, _x((4,)), tmp_path)
    assert [len(la._inbound_nodes) for la in model.layers] == inbound  # nothing left behind
    assert L.Dense(1).name == "dense"  # the session's automatic names are untouched
    x = L.Input((4,))
    functional = randomize(cr.Model(x, L.Dense(2)(Block(4)(Antirectifier()(x)))), seed=1)
    check_export(functional, _x((4,)), tmp_path)


def test_a_subclassed_model_is_exported_through_its_call(tmp_path):
    model = SubNet()
    model(np.zeros((1, 5), "float32"))
    randomize(model, seed=2)
    proto = check_export(model, _x((5,)), tmp_path)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert len(model.first._inbound_nodes) == 0  # a subclassed model's layers keep no graph


# -- errors (docs/errors.md, "ONNX export") -------------------------------------------------------------
class ReadsValue(L.Layer):
    def call(self, inputs):
        return inputs * float(cr.ops.sum(inputs))  # a value: no graph to trace


class NumpyCall(cr.models.Model):
    def call(self, x):
        return np.tanh(np.asarray(x))  # NumPy on the input: no graph to trace


def _subclassed():
    m = NumpyCall()
    m(np.zeros((1, 3), "float32"))
    return m


def my_act(x):
    return x * 3.0


def _stateful():
    return cr.Sequential([L.Input(batch_shape=(2, 4, 3)), L.LSTM(2, stateful=True)])


ROWS = [
    ("onnx.format", lambda p: seq(L.Dense(1), shape=(2,)).export(p), ValueError,
     r"chainrule exports format='onnx' only \('tf_saved_model'"),
    ("onnx.unbuilt", lambda p: cr.Sequential([L.Dense(1)]).export(p, format="onnx"),
     ValueError, r"Cannot export model '[a-z_0-9]+': it is not built"),
    ("onnx.no-converter", lambda p: export_onnx(seq(ReadsValue(name="reads"), shape=(2,)), p),
     UnsupportedLayerError, r'Layer "reads" of class ReadsValue has no ONNX converter, and its '
     r"call could not be traced on symbolic inputs to translate the ops it uses "
     r"\(TypeError: float\(\) argument"),
    ("onnx.subclassed", lambda p: export_onnx(_subclassed(), p), UnsupportedLayerError,
     r"Cannot export model '[a-z_0-9]+': its call could not be traced on symbolic inputs to "
     r"translate the ops it uses \(TypeError: "),
    ("onnx.activation", lambda p: export_onnx(seq(L.Dense(1, activation=my_act, name="d"),
                                                  shape=(2,)), p),
     UnsupportedLayerError, r'Layer "d" \(Dense\) cannot be exported to ONNX: its activation '
     r"'my_act' has no ONNX form"),
    ("onnx.masking", lambda p: export_onnx(seq(L.Masking(name="m"), L.LSTM(2), shape=(3, 2)), p),
     UnsupportedLayerError, r'Layer "m" \(Masking\) cannot be exported to ONNX: masks are not'),
    ("onnx.mask-zero", lambda p: export_onnx(seq(L.Embedding(5, 2, mask_zero=True, name="e"),
                                                 shape=(3,)), p),
     UnsupportedLayerError, r'Layer "e" \(Embedding\) cannot be exported to ONNX: masks'),
    ("onnx.stateful", lambda p: export_onnx(_stateful(), p), UnsupportedLayerError,
     r'Layer "[a-z_0-9]+" \(LSTM\) cannot be exported to ONNX: stateful layers'),
    ("onnx.opset", lambda p: export_onnx(seq(L.Dense(1), shape=(2,)), p, opset_version=13),
     ValueError, r"opset_version must be 17"),
    ("onnx.kwargs", lambda p: seq(L.Dense(1), shape=(2,)).export(p, format="onnx", dynamic=True),
     TypeError, r"export\(format='onnx'\) takes opset_version as its only extra argument"),
    ("onnx.signature", lambda p: export_onnx(seq(L.Dense(1), shape=(2,)), p,
                                             input_signature=[(None, 3)]),
     ValueError, r"input_signature does not fit model '[a-z_0-9]+', whose inputs have shapes"),
    ("onnx.output-padding",
     lambda p: export_onnx(seq(L.Conv2DTranspose(2, 3, strides=2, output_padding=1, name="up"),
                               shape=(3, 3, 1)), p),
     UnsupportedLayerError, r'Layer "up" \(Conv2DTranspose\) cannot be exported to ONNX: only '
     r"output_padding=None"),
    ("onnx.folder", lambda p: export_onnx(seq(L.Dense(1), shape=(2,)),
                                          os.path.join(os.path.dirname(p), "no", "m.onnx")),
     FileNotFoundError, r"Cannot write '.*m.onnx': the folder does not exist"),
    # recorded ops and adaptive pooling (chainrule/export/onnx_ops.py)
    ("onnx.op", lambda p: export_onnx(_op_model(lambda x: cr.ops.cumsum(x, axis=1)), p),
     UnsupportedLayerError, r'Op "cumsum(_[0-9]+)?" \(ops\.cumsum\) has no ONNX converter'),
    ("onnx.getitem", lambda p: export_onnx(_op_model(lambda x: x[:, [0, 2]]), p),
     UnsupportedLayerError, r'Op "get_item(_[0-9]+)?" \(getitem\) is exported for integers, '
     r"slices, None and one Ellipsis"),
    ("onnx.adaptive-size",
     lambda p: export_onnx(seq(L.AdaptiveAveragePooling1D(2, name="ap"), shape=(None, 2)), p),
     UnsupportedLayerError, r'Layer "ap" \(AdaptiveAveragePooling1D\) cannot be exported to '
     r"ONNX: adaptive pooling is exported for known spatial sizes"),
]


def _op_model(fn):
    x = L.Input((3, 4))
    return cr.Model(x, fn(x))


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_error_rows(row, tmp_path):
    _, action, error, start = row
    with pytest.raises(error) as info:
        action(str(tmp_path / "m.onnx"))
    message = str(info.value)
    assert re.match(start, message), message
    assert re.search(r"Received: [^\n]+$", message), message
    assert not (tmp_path / "m.onnx").exists()


def test_error_rows_are_documented():
    with open(os.path.join(DOC, "errors.md"), encoding="utf-8") as f:
        doc = f.read()
    section = doc.split("## ONNX export", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(onnx\.[a-z0-9-]+)` \|", section, re.MULTILINE)
    assert sorted(documented) == sorted(r[0] for r in ROWS)


def test_supported_layers_are_documented():
    with open(os.path.join(DOC, "interop.md"), encoding="utf-8") as f:
        doc = f.read()
    section = doc.split("## ONNX", 1)[1].split("\n## ", 1)[0]
    for cls in CONVERTERS:
        short = re.sub(r"[123]D$", "", cls)  # MaxPooling1D/2D/3D is one row
        assert f"`{cls}`" in section or f"`{short}1D/2D/3D`" in section, cls


def test_chainrule_export_is_reachable_from_the_package():
    import chainrule

    assert chainrule.export.export_onnx is export_onnx

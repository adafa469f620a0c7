"""Keras 3's public names outside ops: top level, config, backend."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import chainrule as cr


def test_top_level_base_classes_are_the_real_ones():
    assert cr.Layer is cr.layers.Layer and cr.Loss is cr.losses.Loss
    assert cr.Metric is cr.metrics.Metric and cr.Optimizer is cr.optimizers.Optimizer
    assert cr.Initializer is cr.initializers.Initializer
    assert cr.Regularizer is cr.regularizers.Regularizer
    assert isinstance(cr.Input((3,)), cr.KerasTensor)
    assert isinstance(cr.layers.Dense(2), cr.Layer)
    assert isinstance(cr.initializers.get("zeros"), cr.Initializer)


def test_version_is_the_package_version():
    assert cr.version() == cr.__version__ and isinstance(cr.version(), str)


@pytest.mark.parametrize("name", ["cpu", "CPU:0", "gpu:0", "cuda:1"])
def test_device_scope_runs_the_block(name):
    with cr.device(name):
        y = cr.layers.Dense(2, kernel_initializer="ones")(np.ones((1, 3), "float32"))
    np.testing.assert_array_equal(np.asarray(y), [[3.0, 3.0]])


@pytest.mark.parametrize("bad", ["tpu:x", "", 0, None, "gpu:"])
def test_device_rejects_bad_names(bad):
    with pytest.raises(ValueError, match=r"device_name.*Received: device_name="):
        with cr.device(bad):
            pass


# -- backend / config -------------------------------------------------------------------------

# Keras 3.15's keras.backend.result_type on its TensorFlow backend (64-bit kept)
RESULT_TYPES = [
    (("float64",), "float64"), (("float64", "float64"), "float64"),
    (("int64", "float32"), "float32"), (("int32", float), "float32"),
    (("int8", "uint8"), "int16"), (("bool", int), "int32"),
    (("float16", "bfloat16"), "float32"), (("int32", "float16"), "float16"),
    (("uint32", "int32"), "int64"), ((None,), "float32"), ((), "float32"),
    (("uint8", int), "uint8"), ((int, float), "float32"), ((int,), "int32"),
    (("bool", "bool"), "bool"), (("int16", "float16"), "float16"),
    (("uint64", "int64"), "float32"), ((np.float32, "int8"), "float32"),
    (("complex64", int), "complex64"), (("bfloat16", int), "bfloat16"),
    (("float16", float), "float16"), (("int8", float), "float32"),
    (("uint16", "int8"), "int32"), (("bool", "float16"), "float16"), ((float,), "float32"),
]


@pytest.mark.parametrize("dtypes,expected", RESULT_TYPES)
def test_result_type_follows_keras_promotion(dtypes, expected):
    assert cr.backend.result_type(*dtypes) == expected


def test_result_type_weak_types_follow_floatx():
    cr.backend.set_floatx("float64")
    try:
        assert cr.backend.result_type(int, float) == "float64"
        assert cr.backend.result_type(int) == "int64" and cr.backend.result_type() == "float64"
    finally:
        cr.backend.set_floatx("float32")


def test_result_type_errors():
    with pytest.raises(ValueError, match="float8"):
        cr.backend.result_type("float8_e4m3fn", "float32")
    with pytest.raises(ValueError, match=r"Received: dtype='foo'"):
        cr.backend.result_type("foo")


def test_standardize_dtype_and_kinds():
    sd = cr.backend.standardize_dtype
    assert (sd(np.float64), sd(int), sd(float), sd(np.dtype("int8")), sd(None), sd(bool),
            sd(complex), sd(str)) == ("float64", "int64", "float32", "int8", "float32", "bool",
                                      "complex128", "string")
    assert cr.utils.standardize_dtype is sd
    assert cr.backend.is_float_dtype("bfloat16") and not cr.backend.is_float_dtype("int8")
    assert cr.backend.is_int_dtype("uint8") and not cr.backend.is_int_dtype(bool)


def test_backend_names():
    assert cr.backend.backend() == "numpy" == cr.config.backend()
    assert cr.backend.is_keras_tensor(cr.Input((2,)))
    assert not cr.backend.is_keras_tensor(np.ones(2))


def test_clear_session_restarts_layer_names_and_uids():
    cr.backend.clear_session()
    names = [cr.layers.Dense(1).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]
    cr.backend.clear_session(free_memory=False)
    assert cr.layers.Dense(1).name == "dense"
    assert cr.backend.get_uid("thing") == 1 and cr.backend.get_uid("thing") == 2


def test_image_data_format_is_the_default_of_layers():
    assert cr.config.image_data_format() == "channels_last"
    cr.config.set_image_data_format("CHANNELS_FIRST")
    try:
        assert cr.backend.image_data_format() == "channels_first"
        conv = cr.layers.Conv2D(4, 3)
        assert conv.data_format == "channels_first"
        assert cr.layers.MaxPooling2D().data_format == "channels_first"
        assert cr.layers.GlobalAveragePooling2D().data_format == "channels_first"
        assert cr.layers.Flatten().data_format == "channels_first"
        assert cr.layers.UpSampling2D().data_format == "channels_first"
        # an explicit argument still wins
        assert cr.layers.Conv2D(4, 3, data_format="channels_last").data_format == "channels_last"
        y = conv(np.ones((2, 3, 8, 8), "float32"))  # (batch, channels, h, w)
        assert tuple(y.shape) == (2, 4, 6, 6)
        # image preprocessing layers follow it too, as in Keras 3
        assert cr.layers.Resizing(4, 4).data_format == "channels_first"
        assert tuple(cr.layers.Resizing(4, 4)(np.ones((2, 3, 8, 6))).shape) == (2, 3, 4, 4)
    finally:
        cr.config.set_image_data_format("channels_last")
    assert cr.layers.Conv2D(4, 3).data_format == "channels_last"
    with pytest.raises(ValueError, match=r"Received: data_format='nchw'"):
        cr.config.set_image_data_format("nchw")


def _small_fit(**kwargs):
    model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((40, 3), "float32")
    kwargs.setdefault("verbose", 0)
    return model.fit(x, x[:, :1], batch_size=4, **kwargs)


def test_max_epochs_and_steps_cap_fit():
    cr.config.set_max_epochs(2)
    cr.config.set_max_steps_per_epoch(3)
    try:
        seen = []
        cb = cr.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = _small_fit(epochs=5, callbacks=[cb])
        assert {str(w.message) for w in caught} >= {"Limiting epochs to 2",
                                                     "Limiting steps_per_epoch to 3"}
        assert len(history.history["loss"]) == 2
        assert seen == [0, 1, 2, 0, 1, 2]
        model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
        with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 3"):
            out = model.predict(np.ones((40, 3), "float32"), batch_size=4, verbose=0)
        assert len(out) == 12
        seen_val = []
        cb = cr.callbacks.LambdaCallback(on_test_batch_end=lambda b, logs: seen_val.append(b))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _small_fit(epochs=1, validation_data=(np.ones((40, 3)), np.ones((40, 1))),
                       validation_batch_size=4, callbacks=[cb])
        assert seen_val == [0, 1, 2]
    finally:
        cr.config.set_max_epochs(None)
        cr.config.set_max_steps_per_epoch(None)
    assert len(_small_fit(epochs=3).history["loss"]) == 3
    with pytest.raises(ValueError, match=r"Received: max_epochs=0"):
        cr.config.set_max_epochs(0)


def test_interactive_logging_routes_progress_to_logging(capsys, caplog):
    import logging

    cr.config.disable_interactive_logging()
    try:
        assert not cr.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="chainrule"):
            _small_fit(epochs=2, verbose=1).model.evaluate(np.ones((8, 3)), np.ones((8, 1)),
                                                           batch_size=4, verbose=1)
        assert capsys.readouterr().out == ""
        messages = [r.getMessage() for r in caplog.records]
        assert "Epoch 2/2" in messages
        assert any(re.fullmatch(r"10/10 \[=+\] - .*loss: .*", m) for m in messages)
        assert any(re.fullmatch(r"2/2 \[=+\] - .*loss: .*", m) for m in messages)
    finally:
        cr.config.enable_interactive_logging()
    _small_fit(epochs=1).model.evaluate(np.ones((8, 3)), np.ones((8, 1)), batch_size=4,
                                        verbose=1)
    assert "2/2" in capsys.readouterr().out


def test_flags_are_recorded(monkeypatch):
    from chainrule.backend import settings

    # the flag's default is None ("not set"); put it back after the test
    monkeypatch.setitem(settings._state, "flash_attention", settings._state["flash_attention"])
    cr.config.enable_flash_attention()
    assert cr.config.is_flash_attention_enabled() is True
    cr.config.disable_flash_attention()
    assert cr.config.is_flash_attention_enabled() is False
    cr.config.disable_traceback_filtering()
    assert cr.config.is_traceback_filtering_enabled() is False
    cr.config.enable_traceback_filtering()
    assert cr.config.is_traceback_filtering_enabled() is True
    assert cr.config.is_nnx_enabled() is False


# -- dtype policies -------------------------------------------------------------------------

def test_dtype_policy_objects():
    p = cr.DTypePolicy("mixed_float16")
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_float16", "float16", "float32")
    assert repr(cr.dtype_policies.DTypePolicy("float64")) == '<DTypePolicy "float64">'
    assert cr.mixed_precision.Policy is cr.DTypePolicy
    assert cr.dtype_policies.deserialize(cr.dtype_policies.serialize(p)) == p
    assert cr.dtype_policies.get({"class_name": "DTypePolicy", "config": {"name": "float16"}}
                                 ).compute_dtype == "float16"
    assert cr.DTypePolicy().name == "float32"
    with pytest.raises(ValueError, match=r"Received: name='floaty'"):
        cr.DTypePolicy("floaty")
    with pytest.raises(TypeError, match="Received: name=3"):
        cr.DTypePolicy(3)


def test_global_policy_is_the_dtype_of_new_layers():
    assert cr.config.dtype_policy() == cr.DTypePolicy("float32")
    cr.mixed_precision.set_global_policy("float64")
    try:
        assert cr.mixed_precision.global_policy().name == "float64"
        layer = cr.layers.Dense(2)
        layer.build((None, 3))
        assert layer.dtype == "float64" and layer.kernel.dtype == np.float64
        assert cr.layers.Dense(2, dtype="float32").dtype == "float32"
        y = layer(np.ones((1, 3), "float32"))
        assert y.dtype == np.float64
        assert cr.Input((3,)).dtype == "float32"  # inputs stay floatx, as in Keras
        model = cr.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
        assert model.layers[0].kernel.dtype == np.float64
    finally:
        cr.config.set_dtype_policy("float32")
    cr.config.set_dtype_policy("float16")
    cr.backend.clear_session()  # resets the policy, as in Keras
    assert cr.config.dtype_policy().name == "float32" and cr.layers.Dense(1).dtype is None


@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16", "bfloat16"])
def test_unsupported_policies_are_refused_clearly(name):
    with pytest.raises(ValueError, match=rf"cannot honour the global dtype policy '{name}'.*"
                                         rf"Received: policy='{name}'"):
        cr.config.set_dtype_policy(name)
    with pytest.raises(ValueError, match=rf"cannot honour the dtype '{name}'"):
        cr.layers.Dense(2, dtype=cr.DTypePolicy(name))
    assert cr.config.dtype_policy().name == "float32"


def test_layer_dtype_policy_properties():
    layer = cr.layers.Dense(2, dtype="float64")
    assert layer.dtype_policy == cr.DTypePolicy("float64")
    assert layer.compute_dtype == layer.variable_dtype == "float64"
    assert cr.layers.Dense(2).compute_dtype == "float32"
    cr.config.set_dtype_policy("float16")
    try:
        assert cr.layers.Dense(2).variable_dtype == "float16"
    finally:
        cr.config.set_dtype_policy("float32")

"""Keras 3's public names outside ops: top level, config, backend."""

from __future__ import annotations

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

"""chainrule.Variable: Keras 3's keras.Variable signature, tracked when assigned to a layer."""
import numpy as np
import pytest

import chainrule as cr


def test_value_initializer_and_attributes():
    v = cr.Variable(np.arange(3.0), name="v", dtype="float32", trainable=False)
    assert v.shape == (3,) and v.dtype == np.float32 and v.name == "v" and v.path == "v"
    assert v.trainable is False
    np.testing.assert_array_equal(v.numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(v.value, [0.0, 1.0, 2.0])
    v.assign([1.0, 1.0, 1.0])
    v.assign_add([1.0, 2.0, 3.0])
    v.assign_sub(1.0)
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal((v * 2 + 1).numpy(), [3.0, 5.0, 7.0])
    assert cr.Variable([1.0, 2.0]).dtype == np.dtype(cr.backend.floatx())
    assert cr.Variable(np.arange(2)).dtype.kind == "i"


def test_initializer_needs_shape():
    v = cr.Variable("ones", shape=(2, 3))
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 3)))
    w = cr.Variable(cr.initializers.Constant(2.0), shape=(2,), dtype="float64")
    assert w.dtype == np.float64 and w.numpy().tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="shape.*Received"):
        cr.Variable("zeros")


@pytest.mark.parametrize("kwargs", [{"aggregation": "max"}, {"synchronization": "x"},
                                    {"name": ""}, {"shape": (3,)}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="Received"):
        cr.Variable(np.zeros(2), **kwargs)


def test_layer_variable_keeps_its_signature():
    v = cr.layers.Variable(np.zeros(2), "kernel", False)
    assert v.name == "kernel" and v.trainable is False


class Offset(cr.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.offset = cr.Variable(np.zeros((units,)), name="offset", dtype="float32")

    def call(self, inputs):
        return super().call(inputs) + self.offset


def test_attribute_variable_is_tracked_and_trained():
    cr.utils.set_random_seed(0)
    layer = Offset(2, name="off")
    model = cr.Sequential([cr.Input((3,)), layer])
    assert [w.path for w in layer.weights] == ["off/offset", "off/kernel", "off/bias"]
    assert any(w is layer.offset for w in model.trainable_weights)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.rand(16, 3), np.random.rand(16, 2) + 5.0
    model.fit(x, y, epochs=2, verbose=0)
    assert np.all(layer.offset.numpy() > 0)
    layer.offset = layer.offset  # assigning again does not track twice
    assert len(layer.weights) == 3

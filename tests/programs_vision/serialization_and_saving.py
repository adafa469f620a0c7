"""keras-io guide "Save, serialize, and export models" (guides/serialization_and_saving.py):
whole-model saving, custom objects, config-only saving, weight transfer.

The guide's code with imports renamed to chainrule; its data are already random arrays. Its
sections on `Lambda` layers with `safe_mode`, on `.weights.h5` files and on the saving hooks
(`save_own_variables`, `get_build_config`, ...) are the scripts serialization_lambda.py,
serialization_weights_h5.py (it needs h5py) and serialization_hooks.py.
"""
import numpy as np

import chainrule as keras


def get_model():
    # Create a simple model.
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
    return model


model = get_model()

# Train the model.
test_input = np.random.random((128, 32))
test_target = np.random.random((128, 1))
history = model.fit(test_input, test_target, epochs=3)

# Calling `save('my_model.keras')` creates a zip archive `my_model.keras`.
model.save("my_model.keras")

# It can be used to reconstruct the model identically.
reconstructed_model = keras.models.load_model("my_model.keras")

# Let's check:
np.testing.assert_allclose(
    model.predict(test_input), reconstructed_model.predict(test_input)
)

# The reconstructed model is already compiled and has retained the optimizer
# state, so training can resume:
reconstructed_model.fit(test_input, test_target)


# Custom objects: registered with `register_keras_serializable`.
@keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
def custom_fn(x):
    return x**2


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


# Create the model.
def get_model():
    inputs = keras.Input(shape=(4,))
    mid = CustomLayer(0.5)(inputs)
    outputs = keras.layers.Dense(3, activation=custom_fn)(mid)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    return model


# Train the model.
def train_model(model):
    input = np.random.random((4, 4))
    target = np.random.random((4, 3))
    model.fit(input, target)
    return model


test_input = np.random.random((4, 4))
test_target = np.random.random((4, 3))

model = get_model()
model = train_model(model)
model.save("custom_model.keras")

# Now, we can simply load without worrying about our custom objects.
reconstructed_model = keras.models.load_model("custom_model.keras")

# Let's check:
np.testing.assert_allclose(
    model.predict(test_input), reconstructed_model.predict(test_input)
)


# Passing custom objects to `load_model()` and using a custom object scope.
class UnregisteredLayer(keras.layers.Layer):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


def unregistered_fn(x):
    return x**2


inputs = keras.Input(shape=(4,))
mid = UnregisteredLayer(0.5)(inputs)
outputs = keras.layers.Dense(3, activation=unregistered_fn)(mid)
model = keras.Model(inputs, outputs)
model.compile(optimizer="rmsprop", loss="mean_squared_error")
model.save("unregistered_model.keras")

custom_objects = {"UnregisteredLayer": UnregisteredLayer, "unregistered_fn": unregistered_fn}
reconstructed_model = keras.models.load_model(
    "unregistered_model.keras", custom_objects=custom_objects
)
np.testing.assert_allclose(model.predict(test_input), reconstructed_model.predict(test_input))

with keras.saving.custom_object_scope(custom_objects):
    reconstructed_model = keras.models.load_model("unregistered_model.keras")
np.testing.assert_allclose(model.predict(test_input), reconstructed_model.predict(test_input))

# Config-only saving: layers.
layer = keras.layers.Dense(3, activation="relu")
layer_config = layer.get_config()
new_layer = keras.layers.Dense.from_config(layer_config)
assert new_layer.get_config() == layer_config

layer_config = keras.saving.serialize_keras_object(layer)
new_layer = keras.saving.deserialize_keras_object(layer_config)
assert isinstance(new_layer, keras.layers.Dense) and new_layer.units == 3

# Sequential model
model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
config = model.get_config()
new_model = keras.Sequential.from_config(config)
assert [type(x).__name__ for x in new_model.layers] == ["Dense"]

# Functional model
inputs = keras.Input((32,))
outputs = keras.layers.Dense(1)(inputs)
model = keras.Model(inputs, outputs)
config = model.get_config()
new_model = keras.Model.from_config(config)
assert new_model.predict(np.ones((2, 32))).shape == (2, 1)

# to_json / model_from_json
model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
json_config = model.to_json()
new_model = keras.models.model_from_json(json_config)
assert new_model.predict(np.ones((2, 32))).shape == (2, 1)

# Arbitrary objects
my_reg = keras.regularizers.L1(0.01)
config = keras.saving.serialize_keras_object(my_reg)
new_reg = keras.saving.deserialize_keras_object(config)
assert isinstance(new_reg, keras.regularizers.L1) and new_reg.get_config() == my_reg.get_config()

# In-memory model cloning
new_model = keras.models.clone_model(model)
assert new_model.layers[-1] is not model.layers[-1]
assert [w.shape for w in new_model.get_weights()] == [w.shape for w in model.get_weights()]


# Transferring weights from one layer to another, in memory
def create_layer():
    layer = keras.layers.Dense(64, activation="relu", name="dense_2")
    layer.build((None, 784))
    return layer


layer_1 = create_layer()
layer_2 = create_layer()

# Copy weights from layer 1 to layer 2
layer_2.set_weights(layer_1.get_weights())
for a, b in zip(layer_1.get_weights(), layer_2.get_weights()):
    np.testing.assert_array_equal(a, b)

# Transferring weights from one model to another model with a compatible
# architecture, in memory
# Create a simple functional model
inputs = keras.Input(shape=(784,), name="digits")
x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
functional_model = keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")


# Define a subclassed model with the same architecture
class SubclassedModel(keras.Model):
    def __init__(self, output_dim, name=None):
        super().__init__(name=name)
        self.output_dim = output_dim
        self.dense_1 = keras.layers.Dense(64, activation="relu", name="dense_1")
        self.dense_2 = keras.layers.Dense(64, activation="relu", name="dense_2")
        self.dense_3 = keras.layers.Dense(output_dim, name="predictions")

    def call(self, inputs):
        x = self.dense_1(inputs)
        x = self.dense_2(x)
        x = self.dense_3(x)
        return x

    def get_config(self):
        return {"output_dim": self.output_dim, "name": self.name}


subclassed_model = SubclassedModel(10)
# Call the subclassed model once to create the weights.
subclassed_model(np.ones((1, 784)))

# Copy weights from functional_model to subclassed_model.
subclassed_model.set_weights(functional_model.get_weights())

assert len(functional_model.weights) == len(subclassed_model.weights)
for a, b in zip(functional_model.weights, subclassed_model.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy())

# The case of stateless layers: a Dropout layer adds no weights.
inputs = keras.Input(shape=(784,), name="digits")
x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
functional_model = keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")

inputs = keras.Input(shape=(784,), name="digits")
x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)

# Add a dropout layer, which does not contain any weights.
x = keras.layers.Dropout(0.5)(x)
outputs = keras.layers.Dense(10, name="predictions")(x)
functional_model_with_dropout = keras.Model(
    inputs=inputs, outputs=outputs, name="3_layer_mlp"
)

functional_model_with_dropout.set_weights(functional_model.get_weights())

LOSSES = history.history["loss"]

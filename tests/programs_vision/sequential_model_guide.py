"""keras-io guide "The Sequential model" (guides/sequential_model.py).

The guide's code with imports renamed to chainrule. Changes: the closing transfer-learning
sketches load pretrained weights (`model.load_weights(...)`, `keras.applications.Xception`);
they are run on a freshly initialized model with synthetic data.
"""
import numpy as np

import chainrule as keras
from chainrule import layers, ops

# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
y = model(x)

# Create 3 layers
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")

# Call layers on a test input
x = ops.ones((3, 3))
y = layer3(layer2(layer1(x)))
assert tuple(y.shape) == (3, 4)

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)

print(model.layers)

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))

model.pop()
print(len(model.layers))  # 2
assert len(model.layers) == 2

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))

layer = layers.Dense(3)
print(layer.weights)  # Empty
assert layer.weights == []

# Call layer on a test input
x = ops.ones((1, 4))
y = layer(x)
print(layer.weights)  # Now it has weights, of shape (4, 3) and (3,)
assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!

# At this point, you can't do this:
# model.weights

# You also can't do this:
# model.summary()

# Call the model on a test input
x = ops.ones((1, 4))
y = model(x)
print("Number of weights after calling the model:", len(model.weights))  # 6
assert len(model.weights) == 6

model.summary()

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))

model.summary()

print(model.layers)
assert len(model.layers) == 1  # the Input object is not a layer of the model

model = keras.Sequential()
model.add(keras.Input(shape=(250, 250, 3)))  # 250x250 RGB images
model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))

# Can you guess what the current output shape is at this point? Probably not.
# Let's just print it:
model.summary()

# The answer was: (40, 40, 32), so we can keep downsampling...
assert tuple(model.layers[-1].output.shape) == (None, 40, 40, 32)

model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(2))

# And now?
model.summary()

# Now that we have 4x4 feature maps, time to apply global max pooling.
assert tuple(model.layers[-1].output.shape) == (None, 4, 4, 32)
model.add(layers.GlobalMaxPooling2D())

# Finally, we add a classification layer.
model.add(layers.Dense(10))
assert tuple(model.layers[-1].output.shape) == (None, 10)

initial_model = keras.Sequential(
    [
        keras.Input(shape=(250, 250, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)

# Call feature extractor on test input.
x = ops.ones((1, 250, 250, 3))
features = feature_extractor(x)
assert [tuple(f.shape) for f in features] == [(1, 123, 123, 32), (1, 121, 121, 32),
                                              (1, 119, 119, 32)]

initial_model = keras.Sequential(
    [
        keras.Input(shape=(250, 250, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=initial_model.get_layer(name="my_intermediate_layer").output,
)
# Call feature extractor on test input.
x = ops.ones((1, 250, 250, 3))
features = feature_extractor(x)
assert tuple(features.shape) == (1, 121, 121, 32)

# Transfer learning with a Sequential model: freeze all layers except the last one.
model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),
    ]
)

# Presumably you would want to first load pre-trained weights.
# model.load_weights(...)  (no pretrained file here: the model keeps its initial weights)

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
    layer.trainable = False

frozen_before = [layer.get_weights() for layer in model.layers[:-1]]

# Recompile and train (this will only update the weights of the last layer).
rng = np.random.default_rng(0)
x_train = rng.random((256, 784)).astype("float32")
y_train = (x_train[:, :10].argmax(axis=1)).astype("int64")
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x_train, y_train, epochs=3, batch_size=32)

for before, layer in zip(frozen_before, model.layers[:-1]):
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
assert len(model.trainable_weights) == 2

LOSSES = history.history["loss"]

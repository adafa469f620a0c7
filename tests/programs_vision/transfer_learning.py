"""keras-io guide "Transfer learning & fine-tuning" (guides/transfer_learning.py), without
pretrained weights.

The guide's code with imports renamed to chainrule. Changes: `keras.applications.Xception`
with ImageNet weights is replaced by a small convolutional base model built here (Conv2D,
BatchNormalization, Activation), freshly initialized; the cats-vs-dogs TFDS download by
synthetic uint8 images; the image size (150 -> 32), batch size and epochs are cut; the
tf.data pipeline (`resizing`, `batch`, `prefetch`) and matplotlib cells are left out.
"""
import numpy as np

import chainrule as keras
from chainrule import layers

# Layers & models have three weight attributes
layer = keras.layers.Dense(3)
layer.build((None, 4))  # Create the weights

print("weights:", len(layer.weights))
print("trainable_weights:", len(layer.trainable_weights))
print("non_trainable_weights:", len(layer.non_trainable_weights))
assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (
    2, 2, 0)

layer = keras.layers.BatchNormalization()
layer.build((None, 4))  # Create the weights

print("weights:", len(layer.weights))
print("trainable_weights:", len(layer.trainable_weights))
print("non_trainable_weights:", len(layer.non_trainable_weights))
assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (
    4, 2, 2)

layer = keras.layers.Dense(3)
layer.build((None, 4))  # Create the weights
layer.trainable = False  # Freeze the layer

print("weights:", len(layer.weights))
print("trainable_weights:", len(layer.trainable_weights))
print("non_trainable_weights:", len(layer.non_trainable_weights))
assert (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)) == (
    2, 0, 2)

# Make a model with 2 layers
layer1 = keras.layers.Dense(3, activation="relu")
layer2 = keras.layers.Dense(3, activation="sigmoid")
model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])

# Freeze the first layer
layer1.trainable = False

# Keep a copy of the weights of layer1 for later reference
initial_layer1_weights_values = layer1.get_weights()

# Train the model
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)))

# Check that the weights of layer1 have not changed during training
final_layer1_weights_values = layer1.get_weights()
np.testing.assert_allclose(
    initial_layer1_weights_values[0], final_layer1_weights_values[0]
)
np.testing.assert_allclose(
    initial_layer1_weights_values[1], final_layer1_weights_values[1]
)

# Recursive setting of the trainable attribute
inner_model = keras.Sequential(
    [
        keras.Input(shape=(3,)),
        keras.layers.Dense(3, activation="relu"),
        keras.layers.Dense(3, activation="relu"),
    ]
)

model = keras.Sequential(
    [
        keras.Input(shape=(3,)),
        inner_model,
        keras.layers.Dense(3, activation="sigmoid"),
    ]
)

model.trainable = False  # Freeze the outer model

assert inner_model.trainable == False  # All layers in `model` are now frozen  # noqa: E712
assert inner_model.layers[0].trainable == False  # `trainable` is propagated recursively  # noqa: E712


# The data (stands in for tfds.load("cats_vs_dogs", ...)), resized to the cut image size.
def _cats_vs_dogs(n, rng):
    labels = rng.integers(0, 2, size=n)
    base = np.where(labels == 1, 170.0, 80.0)[:, None, None, None]
    images = np.clip(base + rng.normal(0, 40, size=(n, 32, 32, 3)), 0, 255).astype("uint8")
    return images, labels.astype("float32")


_rng = np.random.default_rng(0)
x_train, y_train = _cats_vs_dogs(640, _rng)
x_val, y_val = _cats_vs_dogs(64, _rng)
batch_size = 32


def make_base_model(input_shape):  # stands in for keras.applications.Xception(include_top=False)
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(32, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return keras.Model(inputs, x, name="base_model")


data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(x):
    for layer in data_augmentation_layers:
        x = layer(x)
    return x


base_model = make_base_model(input_shape=(32, 32, 3))

# Freeze the base_model
base_model.trainable = False

# Create new model on top
inputs = keras.Input(shape=(32, 32, 3))
x = data_augmentation(inputs)  # Apply random data augmentation

# Pre-trained Xception weights requires that input be scaled
# from (0, 255) to a range of (-1., +1.), the rescaling layer
# outputs: `(inputs * scale) + offset`
scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
x = scale_layer(x)

# The base model contains batchnorm layers. We want to keep them in inference mode
# when we unfreeze the base model for fine-tuning, so we make sure that the
# base_model is running in inference mode here.
x = base_model(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)  # Regularize with dropout
outputs = keras.layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

model.summary(show_trainable=True)

frozen_base = [w.copy() for w in base_model.get_weights()]

model.compile(
    optimizer=keras.optimizers.Adam(),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy()],
)

epochs = 3
print("Fitting the top layer of the model")
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                    validation_data=(x_val, y_val))

# Nothing of the frozen base moved: not its kernels, nor its BatchNormalization moments
for a, b in zip(frozen_base, base_model.get_weights()):
    np.testing.assert_array_equal(a, b)

# Unfreeze the base_model. Note that it keeps running in inference mode
# since we passed `training=False` when calling it. This means that
# the batchnorm layers will not update their batch statistics.
# This prevents the batchnorm layers from undoing all the training
# we've done so far.
base_model.trainable = True
model.summary(show_trainable=True)

model.compile(
    optimizer=keras.optimizers.Adam(1e-5),  # Low learning rate
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy()],
)

epochs = 2
print("Fitting the end-to-end model")
fine_history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                         validation_data=(x_val, y_val))

print("Test dataset evaluation")
results = model.evaluate(x_val, y_val, batch_size=batch_size)

# Fine-tuning moved the base's kernels but (inference mode) not its BatchNormalization moments
tuned_base = base_model.get_weights()
moved = [not np.array_equal(a, b) for a, b in zip(frozen_base, tuned_base)]
BN_MOMENTS_UNCHANGED = all(
    np.array_equal(frozen_base[i], tuned_base[i])
    for i, w in enumerate(base_model.weights) if "moving" in w.name)
KERNELS_MOVED = all(
    moved[i] for i, w in enumerate(base_model.weights) if "kernel" in w.name)

LOSSES = history.history["loss"]
FINE_LOSSES = fine_history.history["loss"]

"""keras-io example "Simple MNIST convnet" (examples/vision/mnist_convnet.py).

The example's code with imports renamed to chainrule. Changes: MNIST is replaced by synthetic
uint8 arrays of the same shapes and dtypes (fewer samples); epochs are cut.
"""
import numpy as np

import chainrule as keras
from chainrule import layers


def _load_data():  # stands in for keras.datasets.mnist.load_data()
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 256, size=(10, 28, 28))

    def part(n):
        labels = rng.integers(0, 10, size=n).astype("uint8")
        noise = rng.integers(0, 256, size=(n, 28, 28))
        return ((protos[labels] + noise) // 2).astype("uint8"), labels

    return part(1024), part(64)


# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)

# Load the data and split it between train and test sets
(x_train, y_train), (x_test, y_test) = _load_data()

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")


# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)

model.summary()

batch_size = 128
epochs = 4

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])

LOSSES = history.history["loss"]
assert model.count_params() == 34826  # the example's summary: 34,826 parameters

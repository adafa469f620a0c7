"""keras-io example "Convolutional autoencoder for image denoising" (examples/vision/autoencoder.py).

The example's Keras 3 code with imports renamed to chainrule. Changes: MNIST is replaced by
synthetic uint8 digit-like arrays of the same shapes and dtypes (fewer samples); epochs are cut;
the matplotlib display of the images is left out.
"""
import numpy as np

from chainrule import layers
from chainrule.models import Model


def _load_data():  # stands in for keras.datasets.mnist.load_data()
    rng = np.random.default_rng(0)
    # ten "digits": each a few bright strokes on a dark 28x28 canvas
    protos = np.zeros((10, 28, 28), dtype="uint8")
    for d in range(10):
        for _ in range(3):
            r, c = rng.integers(4, 20, size=2)
            if rng.random() < 0.5:
                protos[d, r:r + 3, c:c + 10] = 255
            else:
                protos[d, r:r + 10, c:c + 3] = 255

    def part(n):
        labels = rng.integers(0, 10, size=n).astype("uint8")
        return protos[labels], labels

    return part(128), part(32)


def preprocess(array):
    """Normalizes the supplied array and reshapes it."""
    array = array.astype("float32") / 255.0
    array = np.reshape(array, (len(array), 28, 28, 1))
    return array


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(
        loc=0.0, scale=1.0, size=array.shape
    )

    return np.clip(noisy_array, 0.0, 1.0)


# Since we only need images from the dataset to encode and decode, we
# won't use the labels.
(train_data, _), (test_data, _) = _load_data()

# Normalize and reshape the data
train_data = preprocess(train_data)
test_data = preprocess(test_data)

# Create a copy of the data with added noise
noisy_train_data = noise(train_data)
noisy_test_data = noise(test_data)

input = layers.Input(shape=(28, 28, 1))

# Encoder
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

history = autoencoder.fit(
    x=train_data,
    y=train_data,
    epochs=2,
    batch_size=128,
    shuffle=True,
    validation_data=(test_data, test_data),
)

predictions = autoencoder.predict(test_data)

denoise_history = autoencoder.fit(
    x=noisy_train_data,
    y=train_data,
    epochs=2,
    batch_size=128,
    shuffle=True,
    validation_data=(noisy_test_data, test_data),
)

denoised = autoencoder.predict(noisy_test_data)

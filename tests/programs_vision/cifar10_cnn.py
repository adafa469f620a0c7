"""TensorFlow tutorial "Convolutional Neural Network (CNN)" (CIFAR-10).

The tutorial's Keras code with `from tensorflow.keras import datasets, layers, models` and
`tf.keras` renamed to chainrule. Changes: CIFAR-10 is replaced by synthetic uint8 arrays of the
same shapes and dtypes ((N, 32, 32, 3) images, (N, 1) labels; fewer samples); epochs are cut;
the matplotlib cells are left out.
"""
import numpy as np

import chainrule as tf_keras
from chainrule import datasets, layers, models  # noqa: F401  (the tutorial's imports)


def _load_data():  # stands in for datasets.cifar10.load_data()
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 256, size=(10, 32, 32, 3))

    def part(n):
        labels = rng.integers(0, 10, size=(n, 1)).astype("uint8")
        noise = rng.integers(0, 256, size=(n, 32, 32, 3))
        return ((protos[labels[:, 0]] + noise) // 2).astype("uint8"), labels

    return part(256), part(64)


(train_images, train_labels), (test_images, test_labels) = _load_data()

# Normalize pixel values to be between 0 and 1
train_images, test_images = train_images / 255.0, test_images / 255.0

class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer',
               'dog', 'frog', 'horse', 'ship', 'truck']

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10))

model.summary()

model.compile(optimizer='adam',
              loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

history = model.fit(train_images, train_labels, epochs=3,
                    validation_data=(test_images, test_labels))

test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

print(test_acc)

LOSSES = history.history["loss"]
assert model.count_params() == 122570  # the tutorial's summary: 122,570 parameters
assert model.layers[4].output.shape == (None, 4, 4, 64)

"""TensorFlow tutorial "Basic classification: Classify images of clothing" (Fashion MNIST).

The tutorial's Keras code with `tf.keras` spelled `keras` (= chainrule). Changes: the dataset
is replaced by synthetic uint8 arrays of the same shapes and dtypes (fewer samples), epochs cut,
and the matplotlib plotting cells are left out (they use no Keras API).
"""
import numpy as np

import chainrule as keras


def _load_data():  # stands in for keras.datasets.fashion_mnist.load_data()
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 256, size=(10, 28, 28))

    def part(n):
        labels = rng.integers(0, 10, size=n).astype("uint8")
        noise = rng.integers(0, 256, size=(n, 28, 28))
        images = ((protos[labels] + noise) // 2).astype("uint8")
        return images, labels

    return part(512), part(128)


(train_images, train_labels), (test_images, test_labels) = _load_data()

class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

print(train_images.shape, len(train_labels), train_labels, test_images.shape, len(test_labels))

train_images = train_images / 255.0

test_images = test_images / 255.0

model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dense(10)
])

model.compile(optimizer='adam',
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

history = model.fit(train_images, train_labels, epochs=4)

test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

print('\nTest accuracy:', test_acc)

probability_model = keras.Sequential([model,
                                      keras.layers.Softmax()])

predictions = probability_model.predict(test_images)

print(predictions[0])

print(np.argmax(predictions[0]), test_labels[0])

# Grab an image from the test dataset.
img = test_images[1]

print(img.shape)

# Add the image to a batch where it's the only member.
img = (np.expand_dims(img, 0))

print(img.shape)

predictions_single = probability_model.predict(img)

print(predictions_single)

print(np.argmax(predictions_single[0]))

LOSSES = history.history["loss"]
assert predictions.shape == (128, 10)
assert np.allclose(predictions.sum(axis=1), 1.0, atol=1e-5)
assert predictions_single.shape == (1, 10)

"""keras-io guide "Training & evaluation with the built-in methods", its sections "Training &
evaluation using PyDataset instances" and "Using sample weighting and class weighting"
(guides/training_with_built_in_methods.py).

The guide's code with imports renamed to chainrule. Changes: MNIST is replaced by synthetic
arrays of its shapes (784 float features, 10 integer classes, fewer samples); the tf.data
example of sample weights is fed by a ``PyDataset`` yielding the same
``(x, y, sample_weight)`` batches.
"""
import numpy as np

import chainrule as keras
from chainrule import layers


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


# Synthetic stand-in for keras.datasets.mnist.load_data()
rng = np.random.default_rng(0)
_centers = rng.normal(size=(10, 784)).astype("float32")
y_train = rng.integers(0, 10, 600)
x_train = (_centers[y_train] + rng.normal(size=(600, 784))).astype("float32")

# Reserve 10,000 samples for validation (100 here)
x_val = x_train[-100:]
y_val = y_train[-100:]
x_train = x_train[:-100]
y_train = y_train[:-100]


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
        return batch_x, batch_y


train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)

model = get_compiled_model()
history = model.fit(
    train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1
)

evaluation = model.evaluate(val_py_dataset)

train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32, workers=4)

model = get_compiled_model()
threaded_history = model.fit(
    train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=2
)

class_weight = {
    0: 1.0,
    1: 1.0,
    2: 1.0,
    3: 1.0,
    4: 1.0,
    # Set weight "2" for class "5",
    # making this class 2x more important
    5: 2.0,
    6: 1.0,
    7: 1.0,
    8: 1.0,
    9: 1.0,
}

print("Fit with class weight")
model = get_compiled_model()
class_weight_history = model.fit(
    x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1
)

sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 5] = 2.0

print("Fit with sample weight")
model = get_compiled_model()
sample_weight_history = model.fit(
    x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1
)


# (the guide: a tf.data.Dataset of (x_train, y_train, sample_weight), shuffled and batched)
class WeightedPyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, sample_weight, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[batch], self.y[batch], self.sample_weight[batch]


train_dataset = WeightedPyDataset(x_train, y_train, sample_weight, batch_size=64)

model = get_compiled_model()
dataset_weight_history = model.fit(train_dataset, epochs=1)

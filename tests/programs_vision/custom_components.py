"""Custom components as keras-io writes them (Keras 3 intro and the guides "Making new layers
and models via subclassing", "Training & evaluation with the built-in methods").

The guides' code with imports renamed to chainrule: a layer with `self.add_weight`, a layer
drawing `keras.random` numbers from a `SeedGenerator`, a `keras.losses.Loss` subclass, a
`keras.metrics.Metric` subclass, a `keras.callbacks.Callback`, `keras.ops` maths. Changes: MNIST
is replaced by synthetic arrays of the same shapes (fewer samples); epochs are cut.
"""
import numpy as np

import chainrule as keras
from chainrule import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
y = linear_layer(x)
print(y)
assert linear_layer.weights == [linear_layer.w, linear_layer.b]


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


x = ops.ones((2, 2))
my_sum = ComputeSum(2)
y = my_sum(x)
print(y.numpy())
y = my_sum(x)
print(y.numpy())
SUM = y.numpy()
assert len(my_sum.weights) == 1
assert len(my_sum.non_trainable_weights) == 1
assert my_sum.trainable_weights == []


class LinearLazy(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LinearLazy(32)
        self.linear_2 = LinearLazy(32)
        self.linear_3 = LinearLazy(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
print("weights:", len(mlp.weights))
print("trainable weights:", len(mlp.trainable_weights))
assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(
                inputs, rate=self.rate, seed=self.seed_generator
            )
        return inputs


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


# keras.random draws with a SeedGenerator: reproducible from the seed.
seed_gen = keras.random.SeedGenerator(seed=42)
values = keras.random.normal(shape=(2, 3), seed=seed_gen)
new_values = keras.random.normal(shape=(2, 3), seed=seed_gen)
assert not np.allclose(np.asarray(values), np.asarray(new_values))
again = keras.random.normal(shape=(2, 3), seed=keras.random.SeedGenerator(seed=42))
np.testing.assert_array_equal(np.asarray(again), np.asarray(values))


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), name="ctp", initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


EPOCH_ENDS = []


class EpochLogger(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        EPOCH_ENDS.append(dict(logs))
        print(f"epoch {epoch}: {sorted(logs)}")


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = CustomDropout(0.1)(x)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def _load_data():  # stands in for keras.datasets.mnist.load_data()
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 256, size=(10, 28, 28))

    def part(n):
        labels = rng.integers(0, 10, size=n).astype("uint8")
        noise = rng.integers(0, 256, size=(n, 28, 28))
        return ((protos[labels] + noise) // 2).astype("uint8"), labels

    return part(640), part(128)


(x_train, y_train), (x_test, y_test) = _load_data()

# Preprocess the data (these are NumPy arrays)
x_train = x_train.reshape(640, 784).astype("float32") / 255
x_test = x_test.reshape(128, 784).astype("float32") / 255

y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

model = get_uncompiled_model()
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[CategoricalTruePositives()],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=3, callbacks=[EpochLogger()])
results = model.evaluate(x_test, y_test, batch_size=128, return_dict=True)
print(results)

# The custom loss, on one-hot targets.
model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(64, activation="relu"),
                          layers.Dense(10, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
y_train_one_hot = ops.one_hot(y_train, num_classes=10)
mse_history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=3)

LOSSES = history.history["loss"]
MSE_LOSSES = mse_history.history["loss"]

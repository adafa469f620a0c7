"""TensorFlow tutorial "Basic regression: Predict fuel efficiency" (keras/regression).

The original's code with its imports renamed to chainrule (``tf.keras`` -> ``keras``). Its data
(the Auto MPG dataset in a pandas DataFrame) is replaced by synthetic NumPy arrays of the same
shapes (9 feature columns, 314/78 rows); epochs are cut.
"""

import numpy as np

import chainrule as keras
from chainrule import layers

# Synthetic stand-in for the one-hot-encoded Auto MPG features (314 train / 78 test rows)
_rng = np.random.default_rng(0)


def _auto_mpg(n):
    cylinders = _rng.choice([4, 6, 8], n).astype(np.float32)
    displacement = cylinders * 40 + _rng.normal(0, 20, n)
    horsepower = displacement * 0.5 + _rng.normal(0, 10, n)
    weight = 1500 + displacement * 8 + _rng.normal(0, 200, n)
    acceleration = 20 - horsepower / 20 + _rng.normal(0, 1, n)
    year = _rng.integers(70, 83, n).astype(np.float32)
    origin = np.eye(3)[_rng.integers(0, 3, n)]
    mpg = 50 - weight / 150 + (year - 70) * 0.7 + _rng.normal(0, 2, n)
    x = np.column_stack([cylinders, displacement, horsepower, weight, acceleration, year,
                         origin]).astype(np.float32)
    return x, mpg.astype(np.float32)


train_features, train_labels = _auto_mpg(314)
test_features, test_labels = _auto_mpg(78)
HORSEPOWER = 2

normalizer = keras.layers.Normalization(axis=-1)
normalizer.adapt(np.array(train_features))
print(normalizer.mean.numpy())

first = np.array(train_features[:1])
with np.printoptions(precision=2, suppress=True):
    print("First example:", first)
    print()
    print("Normalized:", normalizer(first).numpy())

# Linear regression with one variable
horsepower = np.array(train_features[:, HORSEPOWER])

horsepower_normalizer = layers.Normalization(input_shape=[1,], axis=None)
horsepower_normalizer.adapt(horsepower)

horsepower_model = keras.Sequential([
    horsepower_normalizer,
    layers.Dense(units=1)
])

horsepower_model.summary()
horsepower_model.predict(horsepower[:10])

horsepower_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.1),
    loss="mean_absolute_error")

history = horsepower_model.fit(
    train_features[:, HORSEPOWER],
    train_labels,
    epochs=10,  # 100 in the original
    # Suppress logging.
    verbose=0,
    # Calculate validation results on 20% of the training data.
    validation_split=0.2)

test_results = {}
test_results["horsepower_model"] = horsepower_model.evaluate(
    test_features[:, HORSEPOWER], test_labels, verbose=0)

x = np.linspace(0.0, 250, 251)
y = horsepower_model.predict(x)

# Linear regression with multiple inputs
linear_model = keras.Sequential([
    normalizer,
    layers.Dense(units=1)
])
linear_model.predict(train_features[:10])
print(linear_model.layers[1].kernel)
linear_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.1),
    loss="mean_absolute_error")
history = linear_model.fit(
    train_features,
    train_labels,
    epochs=10,
    verbose=0,
    validation_split=0.2)
test_results["linear_model"] = linear_model.evaluate(test_features, test_labels, verbose=0)


# Regression with a deep neural network (DNN)
def build_and_compile_model(norm):
    model = keras.Sequential([
        norm,
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1)
    ])

    model.compile(loss="mean_absolute_error",
                  optimizer=keras.optimizers.Adam(0.001))
    return model


dnn_horsepower_model = build_and_compile_model(horsepower_normalizer)
dnn_horsepower_model.summary()
history = dnn_horsepower_model.fit(
    train_features[:, HORSEPOWER],
    train_labels,
    validation_split=0.2,
    verbose=0, epochs=10)
test_results["dnn_horsepower_model"] = dnn_horsepower_model.evaluate(
    test_features[:, HORSEPOWER], test_labels,
    verbose=0)

dnn_model = build_and_compile_model(normalizer)
dnn_model.summary()
history = dnn_model.fit(
    train_features,
    train_labels,
    validation_split=0.2,
    verbose=0, epochs=10)
test_results["dnn_model"] = dnn_model.evaluate(test_features, test_labels, verbose=0)
print(test_results)

test_predictions = dnn_model.predict(test_features).flatten()
error = test_predictions - test_labels

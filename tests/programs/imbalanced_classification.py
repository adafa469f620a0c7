# ruff: noqa: UP032  (the original program's own style, kept as written)
"""TensorFlow tutorial "Classification on imbalanced data" (structured_data/imbalanced_data).

The original's code with its imports renamed to chainrule (``tf.keras`` -> ``keras``). Its data
(the Kaggle credit-card fraud CSV, processed with pandas/sklearn) is replaced by synthetic
standardized features (29 columns, ~2% positives); sizes and epochs are cut.
"""

import numpy as np

import chainrule as keras

# Synthetic stand-in for the cleaned, scaled creditcard.csv features
_rng = np.random.default_rng(0)
_n = 4000
train_labels = (_rng.random(_n) < 0.02).astype(np.int64)
train_features = _rng.normal(size=(_n, 29)) + 1.5 * train_labels[:, None] * (
    np.arange(29) < 5)
train_features = np.clip(train_features, -5, 5).astype(np.float32)
val_labels = (_rng.random(800) < 0.02).astype(np.int64)
val_labels[:10] = 1
val_features = np.clip(_rng.normal(size=(800, 29)) + 1.5 * val_labels[:, None] * (
    np.arange(29) < 5), -5, 5).astype(np.float32)

neg, pos = np.bincount(train_labels)
total = neg + pos
print("Examples:\n    Total: {}\n    Positive: {} ({:.2f}% of total)\n".format(
    total, pos, 100 * pos / total))

METRICS = [
    keras.metrics.BinaryCrossentropy(name="cross entropy"),  # same as model's loss
    keras.metrics.MeanSquaredError(name="Brier score"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
    keras.metrics.AUC(name="prc", curve="PR"),  # precision-recall curve
]


def make_model(metrics=METRICS, output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.Dense(
            16, activation="relu",
            input_shape=(train_features.shape[-1],)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid",
                           bias_initializer=output_bias),
    ])

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=metrics)

    return model


EPOCHS = 5  # 100 in the original
BATCH_SIZE = 512  # 2048 in the original

early_stopping = keras.callbacks.EarlyStopping(
    monitor="val_prc",
    verbose=1,
    patience=10,
    mode="max",
    restore_best_weights=True)

model = make_model()
model.summary()

model.predict(train_features[:10])

results = model.evaluate(train_features, train_labels, batch_size=BATCH_SIZE, verbose=0)
print("Loss: {:0.4f}".format(results[0]))

initial_bias = np.log([pos / neg])
print(initial_bias)

model = make_model(output_bias=initial_bias)
model.predict(train_features[:10])
results = model.evaluate(train_features, train_labels, batch_size=BATCH_SIZE, verbose=0)
print("Loss: {:0.4f}".format(results[0]))

initial_weights = "initial.weights.h5"
import os  # noqa: E402
import tempfile  # noqa: E402

initial_weights = os.path.join(tempfile.mkdtemp(), "initial.weights.npz")  # chainrule's format
model.save_weights(initial_weights)

model = make_model()
model.load_weights(initial_weights)
baseline_history = model.fit(
    train_features,
    train_labels,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    callbacks=[early_stopping],
    validation_data=(val_features, val_labels))

train_predictions_baseline = model.predict(train_features, batch_size=BATCH_SIZE)

# Class weights
weight_for_0 = (1 / neg) * (total / 2.0)
weight_for_1 = (1 / pos) * (total / 2.0)

class_weight = {0: weight_for_0, 1: weight_for_1}

print("Weight for class 0: {:.2f}".format(weight_for_0))
print("Weight for class 1: {:.2f}".format(weight_for_1))

weighted_model = make_model()
weighted_model.load_weights(initial_weights)

weighted_history = weighted_model.fit(
    train_features,
    train_labels,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    callbacks=[early_stopping],
    validation_data=(val_features, val_labels),
    # The class weights go here
    class_weight=class_weight)

history = weighted_history

"""keras-io "Timeseries classification with a Transformer model"
(examples/timeseries/timeseries_classification_transformer.py).

The original's code with its imports renamed to chainrule. Its data (the FordA recordings
downloaded from timeseriesclassification.com) is replaced by synthetic univariate series of
the same layout, (samples, timesteps, 1) with labels 0/1: class 1 oscillates twice as fast.
Sizes are cut (fewer and shorter series, smaller heads, two blocks, a few epochs, a higher
learning rate).
"""

import numpy as np

import chainrule as keras
from chainrule import layers


## Load the dataset (synthetic stand-in for readucr(root_url + "FordA_TRAIN.tsv") & co.)
def readucr(n, seed, length=40):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    t = np.arange(length)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = np.sin(2 * np.pi * (1 + y[:, None]) * t / 20 + phase) + 0.3 * rng.normal(size=(n, length))
    return x, np.where(y == 1, 1, -1)


x_train, y_train = readucr(96, 0)
x_test, y_test = readucr(32, 1)

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

n_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0


## Build the model
def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


## Train and evaluate
input_shape = x_train.shape[1:]

model = build_model(
    input_shape,
    head_size=16,  # 256 (cut)
    num_heads=2,  # 4 (cut)
    ff_dim=4,
    num_transformer_blocks=2,  # 4 (cut)
    mlp_units=[32],  # [128] (cut)
    mlp_dropout=0.4,
    dropout=0.25,
)

model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(learning_rate=3e-3),  # 1e-4 (raised for the few epochs)
    metrics=["sparse_categorical_accuracy"],
)
model.summary()

callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

history = model.fit(
    x_train,
    y_train,
    validation_split=0.2,
    epochs=8,  # 150 (cut)
    batch_size=16,  # 64 (cut)
    callbacks=callbacks,
)

results = model.evaluate(x_test, y_test, verbose=1)

"""keras-io example "Timeseries classification from scratch"
(examples/timeseries/timeseries_classification_from_scratch.py): a fully convolutional
network trained with ModelCheckpoint, ReduceLROnPlateau and EarlyStopping, the best model then
loaded back for the test.

The example's Keras 3 code with imports renamed to chainrule. Changes: instead of reading the
UCR FordA files from GitHub, the program writes two small tab-separated files of the same
layout (label -1 or 1, then the readings) and reads them with the example's ``readucr``; the
series are 100 readings long instead of 500; the filters and the epochs are cut; the
matplotlib plots and ``plot_model`` are left out.
"""
import numpy as np

import chainrule as keras


def _write_forda():  # stands in for FordA_TRAIN.tsv and FordA_TEST.tsv
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4 * np.pi, 100)
    for name, n in (("FordA_TRAIN.tsv", 160), ("FordA_TEST.tsv", 40)):
        labels = rng.choice([-1, 1], size=n)
        freq = np.where(labels == 1, 3.0, 1.5)[:, None]
        series = np.sin(freq * t + rng.uniform(0, 2 * np.pi, (n, 1)))
        series += rng.normal(scale=0.3, size=series.shape)
        series = (series - series.mean(1, keepdims=True)) / series.std(1, keepdims=True)
        np.savetxt(name, np.column_stack([labels, series]), delimiter="\t", fmt="%.6f")


_write_forda()


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


root_url = ""  # (the example: "https://raw.githubusercontent.com/hfawaz/cd-diagram/master/FordA/")

x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")
x_test, y_test = readucr(root_url + "FordA_TEST.tsv")

classes = np.unique(np.concatenate((y_train, y_test), axis=0))

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

num_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])

epochs = 6
batch_size = 32

callbacks = [
    keras.callbacks.ModelCheckpoint(
        "best_model.keras", save_best_only=True, monitor="val_loss"
    ),
    keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=2, min_lr=0.0001
    ),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, verbose=1),
]
model.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_split=0.2,
    verbose=1,
)

model = keras.models.load_model("best_model.keras")

test_loss, test_acc = model.evaluate(x_test, y_test)

print("Test accuracy", test_acc)
print("Test loss", test_loss)

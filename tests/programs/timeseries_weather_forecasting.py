"""keras-io "Timeseries forecasting for weather prediction" (examples/timeseries/).

The original's code with its imports renamed to chainrule. Its data (the Jena climate CSV read by
pandas) is replaced by a synthetic array of 7 smooth feature columns; sizes (rows, past/future
steps, units, epochs) are cut.
"""

import os
import tempfile

import numpy as np

import chainrule as keras

# Synthetic stand-in for the selected features of jena_climate_2009_2016.csv
_rng = np.random.default_rng(0)
_t = np.arange(3000, dtype=np.float64)
features = np.stack([np.sin(_t / (20 + 7 * k)) * (k + 1) + 0.1 * _rng.normal(size=_t.size)
                     for k in range(7)], axis=1)

split_fraction = 0.715
train_split = int(split_fraction * int(features.shape[0]))
step = 6

past = 120  # 720 in the original
future = 12  # 72 in the original
learning_rate = 0.001
batch_size = 64  # 256 in the original
epochs = 3  # 10 in the original


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


features = normalize(features, train_split)
train_data = features[0 : train_split - 1]
val_data = features[train_split:]

start = past + future
end = start + train_split

x_train = train_data[:, [i for i in range(7)]]
y_train = features[start:end][:, 1]

sequence_length = int(past / step)

dataset_train = keras.utils.timeseries_dataset_from_array(
    x_train,
    y_train,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)

x_end = len(val_data) - past - future

label_start = train_split + past + future

x_val = val_data[:x_end][:, [i for i in range(7)]]  # .iloc[...].values in the original
y_val = features[label_start:][:, 1]

dataset_val = keras.utils.timeseries_dataset_from_array(
    x_val,
    y_val,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)


for batch in dataset_train.take(1):
    inputs, targets = batch

print("Input shape:", inputs.numpy().shape)
print("Target shape:", targets.numpy().shape)

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(8)(inputs)  # 32 units in the original
outputs = keras.layers.Dense(1)(lstm_out)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
model.summary()

path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.weights.h5")
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss",
    filepath=path_checkpoint,
    verbose=1,
    save_weights_only=True,
    save_best_only=True,
)

history = model.fit(
    dataset_train,
    epochs=epochs,
    validation_data=dataset_val,
    callbacks=[es_callback, modelckpt_callback],
)

for x, y in dataset_val.take(5):
    prediction = model.predict(x)[0]
    print("true", y[0].numpy(), "predicted", prediction)

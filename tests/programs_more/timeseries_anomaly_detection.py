"""keras-io example "Timeseries anomaly detection using an Autoencoder"
(examples/timeseries/timeseries_anomaly_detection.py).

The example's Keras 3 code with imports renamed to chainrule. Changes: instead of reading the
Numenta Anomaly Benchmark's CSV files from GitHub, the program writes two CSV files of the same
columns (a daily cycle with small noise; the same with a jump up on one day) and reads them as
the example does; a day has 48 readings instead of 288 (``TIME_STEPS`` follows), and there are
7 days instead of 14; epochs are cut; the matplotlib plots are left out.
"""
import numpy as np
import pandas as pd

import chainrule as keras
from chainrule import layers


def _write_csv_files():  # stands in for the NAB files on GitHub
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2014-04-01", periods=48 * 7, freq="30min")
    day = np.sin(np.linspace(0, 2 * np.pi, 48, endpoint=False))
    cycle = 20 + 10 * np.tile(np.maximum(day, -0.3), 7)
    small_noise = cycle + rng.normal(scale=0.5, size=cycle.shape)
    jumpsup = cycle + rng.normal(scale=0.5, size=cycle.shape)
    jumpsup[48 * 4 + 10:48 * 4 + 24] += 40.0  # the anomaly: a jump up on day 5
    for name, values in (("art_daily_small_noise.csv", small_noise),
                         ("art_daily_jumpsup.csv", jumpsup)):
        pd.DataFrame({"timestamp": stamps, "value": values}).to_csv(name, index=False)


_write_csv_files()

df_small_noise_url = "art_daily_small_noise.csv"
df_small_noise = pd.read_csv(
    df_small_noise_url, parse_dates=True, index_col="timestamp"
)

df_daily_jumpsup_url = "art_daily_jumpsup.csv"
df_daily_jumpsup = pd.read_csv(
    df_daily_jumpsup_url, parse_dates=True, index_col="timestamp"
)

print(df_small_noise.head())

print(df_daily_jumpsup.head())

# Normalize and save the mean and std we get,
# for normalizing test data.
training_mean = df_small_noise.mean()
training_std = df_small_noise.std()
df_training_value = (df_small_noise - training_mean) / training_std
print("Number of training samples:", len(df_training_value))

TIME_STEPS = 48


# Generated training sequences for use in the model.
def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i : (i + time_steps)])
    return np.stack(output)


x_train = create_sequences(df_training_value.values)
print("Training input shape: ", x_train.shape)

model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(
            filters=32,
            kernel_size=7,
            padding="same",
            strides=2,
            activation="relu",
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1D(
            filters=16,
            kernel_size=7,
            padding="same",
            strides=2,
            activation="relu",
        ),
        layers.Conv1DTranspose(
            filters=16,
            kernel_size=7,
            padding="same",
            strides=2,
            activation="relu",
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(
            filters=32,
            kernel_size=7,
            padding="same",
            strides=2,
            activation="relu",
        ),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()

history = model.fit(
    x_train,
    x_train,
    epochs=8,
    batch_size=128,
    validation_split=0.1,
    callbacks=[
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")
    ],
)

# Get train MAE loss.
x_train_pred = model.predict(x_train)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)

# Get reconstruction loss threshold.
threshold = np.max(train_mae_loss)
print("Reconstruction error threshold: ", threshold)

df_test_value = (df_daily_jumpsup - training_mean) / training_std

# Create sequences from test values.
x_test = create_sequences(df_test_value.values)
print("Test input shape: ", x_test.shape)

# Get test MAE loss.
x_test_pred = model.predict(x_test)
test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1)
test_mae_loss = test_mae_loss.reshape((-1))  # noqa: UP034 - the example's code

# Detect all the samples which are anomalies.
anomalies = test_mae_loss > threshold
print("Number of anomaly samples: ", np.sum(anomalies))
print("Indices of anomaly samples: ", np.where(anomalies))

# data i is an anomaly if samples [(i - timesteps + 1) to (i)] are anomalies
anomalous_data_indices = []
for data_idx in range(TIME_STEPS - 1, len(df_test_value) - TIME_STEPS + 1):
    if np.all(anomalies[data_idx - TIME_STEPS + 1 : data_idx]):
        anomalous_data_indices.append(data_idx)

df_subset = df_daily_jumpsup.iloc[anomalous_data_indices]

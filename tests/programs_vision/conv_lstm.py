"""keras-io example "Next-Frame Video Prediction with Convolutional LSTMs" (examples/vision/conv_lstm.py).

The example's code with imports renamed to chainrule. Changes: Moving MNIST (downloaded
with `keras.utils.get_file`) is replaced by synthetic uint8 videos of the same layout
(frames first, then samples; a bright square moving across a dark frame) with fewer,
smaller and shorter videos (20 of 6 frames of 16x16 instead of 10000 of 20 frames of
64x64); the filters (64 -> 8) and epochs (20 -> 3) are cut; the predictions use the
first 3 frames instead of 10; the matplotlib figures and the GIF widgets are left out
(they use no Keras API).
"""
import numpy as np

import chainrule as keras
from chainrule import layers


def _moving_squares(n_frames=6, n_videos=20, size=16, side=4):
    """Stands in for np.load(fpath) of mnist_test_seq.npy: uint8 (frames, videos, h, w)."""
    rng = np.random.default_rng(0)
    data = np.zeros((n_frames, n_videos, size, size), dtype="uint8")
    for v in range(n_videos):
        pos = rng.integers(0, size - side, size=2).astype(float)
        vel = rng.choice([-1.0, 1.0], size=2)
        for f in range(n_frames):
            for axis in range(2):  # bounce off the borders
                if not 0 <= pos[axis] + vel[axis] <= size - side:
                    vel[axis] = -vel[axis]
            r, c = pos.astype(int)
            data[f, v, r:r + side, c:c + side] = 255
            pos += vel
    return data


# Download and load the dataset.
dataset = _moving_squares()

# Swap the axes representing the number of frames and number of data samples.
dataset = np.swapaxes(dataset, 0, 1)
# We'll pick out 1000 of the 10000 total examples and use those.
dataset = dataset[:1000, ...]
# Add a channel dimension since the images are grayscale.
dataset = np.expand_dims(dataset, axis=-1)

# Split into train and validation sets using indexing to optimize memory.
indexes = np.arange(dataset.shape[0])
np.random.shuffle(indexes)
train_index = indexes[: int(0.9 * dataset.shape[0])]
val_index = indexes[int(0.9 * dataset.shape[0]) :]
train_dataset = dataset[train_index]
val_dataset = dataset[val_index]

# Normalize the data to the 0-1 range.
train_dataset = train_dataset / 255
val_dataset = val_dataset / 255


# We'll define a helper function to shift the frames, where
# `x` is frames 0 to n - 1, and `y` is frames 1 to n.
def create_shifted_frames(data):
    x = data[:, 0 : data.shape[1] - 1, :, :]
    y = data[:, 1 : data.shape[1], :, :]
    return x, y


# Apply the processing function to the datasets.
x_train, y_train = create_shifted_frames(train_dataset)
x_val, y_val = create_shifted_frames(val_dataset)

# Inspect the dataset.
print("Training Dataset Shapes: " + str(x_train.shape) + ", " + str(y_train.shape))
print("Validation Dataset Shapes: " + str(x_val.shape) + ", " + str(y_val.shape))

# Construct the input layer with no definite frame size.
inp = layers.Input(shape=(None, *x_train.shape[2:]))

# We will construct 3 `ConvLSTM2D` layers with batch normalization,
# followed by a `Conv3D` layer for the spatiotemporal outputs.
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(5, 5),
    padding="same",
    return_sequences=True,
    activation="relu",
)(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(3, 3),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(1, 1),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.Conv3D(
    filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same"
)(x)

# Next, we will build the complete model and compile it.
model = keras.models.Model(inp, x)
model.compile(
    loss=keras.losses.binary_crossentropy, optimizer=keras.optimizers.Adam(),
)

# Define some callbacks to improve training.
early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

# Define modifiable training hyperparameters.
epochs = 3
batch_size = 5

# Fit the model to the training data.
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    callbacks=[early_stopping, reduce_lr],
)

# Select a random example from the validation dataset.
example = val_dataset[np.random.choice(range(len(val_dataset)), size=1)[0]]

# Pick the first/last three frames from the example.
frames = example[:3, ...]
original_frames = example[3:, ...]

# Predict a new set of 3 frames.
for _ in range(3):
    # Extract the model's prediction and post-process it.
    new_prediction = model.predict(np.expand_dims(frames, axis=0))
    new_prediction = np.squeeze(new_prediction, axis=0)
    predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

    # Extend the set of prediction frames.
    frames = np.concatenate((frames, predicted_frame), axis=0)

new_frames = frames[3:, ...]

# Select a few random examples from the dataset.
examples = val_dataset[np.random.choice(range(len(val_dataset)), size=2)]

# Iterate over the examples and predict the frames.
predicted_videos = []
for example in examples:
    # Pick the first/last three frames from the example.
    frames = example[:3, ...]
    original_frames = example[3:, ...]
    new_predictions = np.zeros(shape=(3, *frames[0].shape))

    # Predict a new set of 3 frames.
    for i in range(3):
        # Extract the model's prediction and post-process it.
        frames = example[: 3 + i + 1, ...]
        new_prediction = model.predict(np.expand_dims(frames, axis=0))
        new_prediction = np.squeeze(new_prediction, axis=0)
        predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

        # Extend the set of prediction frames.
        new_predictions[i] = predicted_frame
    predicted_videos.append(new_predictions)

LOSSES = history.history["loss"]

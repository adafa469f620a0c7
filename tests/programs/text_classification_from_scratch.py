"""keras-io "Text classification from scratch" (examples/nlp/text_classification_from_scratch.py).

The original's code with its imports renamed to chainrule. Its data (the aclImdb folder) is
replaced by a small folder of synthetic reviews written into a temporary directory with the same
layout (train/pos, train/neg, test/pos, test/neg). The ``tf.strings``/``tf.expand_dims`` calls
become NumPy string functions and ``keras.ops.expand_dims``; sizes are cut.
"""

import os
import tempfile

import numpy as np

import chainrule as keras
from chainrule import layers, ops

# Synthetic stand-in for the downloaded aclImdb folder.
_rng = np.random.default_rng(0)
_POS = ["great", "wonderful", "loved", "superb", "moving", "brilliant"]
_NEG = ["awful", "boring", "hated", "dull", "terrible", "waste"]
_FILL = ["the", "movie", "film", "was", "a", "plot", "actors", "and", "it", "story"]
dataset_dir = os.path.join(tempfile.mkdtemp(), "aclImdb")
for split, n in (("train", 60), ("test", 20)):
    for label, words in (("pos", _POS), ("neg", _NEG)):
        os.makedirs(os.path.join(dataset_dir, split, label))
        for i in range(n):
            text = " ".join(_rng.choice(_FILL + words, size=int(_rng.integers(8, 30))))
            text = text.capitalize() + ".<br />" + str(_rng.choice(words)).upper() + "!"
            with open(os.path.join(dataset_dir, split, label, f"{i}_7.txt"), "w") as f:
                f.write(text)

batch_size = 32
train_dir = os.path.join(dataset_dir, "train")
test_dir = os.path.join(dataset_dir, "test")

raw_train_ds = keras.utils.text_dataset_from_directory(
    train_dir,
    batch_size=batch_size,
    validation_split=0.2,
    subset="training",
    seed=1337,
    class_names=["pos", "neg"],
)
raw_val_ds = keras.utils.text_dataset_from_directory(
    train_dir,
    batch_size=batch_size,
    validation_split=0.2,
    subset="validation",
    seed=1337,
    class_names=["pos", "neg"],
)
raw_test_ds = keras.utils.text_dataset_from_directory(test_dir, batch_size=batch_size)

print(f"Number of batches in raw_train_ds: {raw_train_ds.cardinality()}")
print(f"Number of batches in raw_val_ds: {raw_val_ds.cardinality()}")
print(f"Number of batches in raw_test_ds: {raw_test_ds.cardinality()}")

for text_batch, label_batch in raw_train_ds.take(1):
    for i in range(5):
        print(text_batch.numpy()[i])
        print(label_batch.numpy()[i])

import re  # noqa: E402
import string  # noqa: E402


# TensorFlow's string ops (tf.strings.lower / regex_replace) have no Keras equivalent;
# chainrule hands a custom standardization a NumPy array of strings, so NumPy stands in for them.
def _regex_replace(text, pattern, rewrite):
    return np.vectorize(lambda s: re.sub(pattern, rewrite, s), otypes=[object])(text).astype(str)


def custom_standardization(input_data):
    lowercase = np.char.lower(input_data)
    stripped_html = _regex_replace(lowercase, "<br />", " ")
    return _regex_replace(
        stripped_html, f"[{re.escape(string.punctuation)}]", ""
    )


# Model constants.
max_features = 2000
embedding_dim = 16
sequence_length = 50

vectorize_layer = keras.layers.TextVectorization(
    standardize=custom_standardization,
    max_tokens=max_features,
    output_mode="int",
    output_sequence_length=sequence_length,
)

# Let's make a text-only dataset (no labels):
text_ds = raw_train_ds.map(lambda x, y: x)
# Let's call `adapt`:
vectorize_layer.adapt(text_ds)


def vectorize_text(text, label):
    text = ops.expand_dims(text, -1)
    return vectorize_layer(text), label


# Vectorize the data.
train_ds = raw_train_ds.map(vectorize_text)
val_ds = raw_val_ds.map(vectorize_text)
test_ds = raw_test_ds.map(vectorize_text)

# Do async prefetching / buffering of the data for best performance on GPU.
train_ds = train_ds.cache().prefetch(buffer_size=10)
val_ds = val_ds.cache().prefetch(buffer_size=10)
test_ds = test_ds.cache().prefetch(buffer_size=10)

# A integer input for vocab indices.
inputs = keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(max_features, embedding_dim)(inputs)
x = layers.Dropout(0.5)(x)

# Conv1D + global max pooling
x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.GlobalMaxPooling1D()(x)

# We add a vanilla hidden layer:
x = layers.Dense(16, activation="relu")(x)
x = layers.Dropout(0.5)(x)

# We project onto a single unit output layer, and squash it with a sigmoid:
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

model = keras.Model(inputs, predictions)

# Compile the model with binary crossentropy loss and an adam optimizer.
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

epochs = 3

# Fit the model using the train and test datasets.
history = model.fit(train_ds, validation_data=val_ds, epochs=epochs)

model.evaluate(test_ds)

# A string input
inputs = keras.Input(shape=(1,), dtype="string")
# Turn strings into vocab indices
indices = vectorize_layer(inputs)
# Turn vocab indices into predictions
outputs = model(indices)

# Our end to end model
end_to_end_model = keras.Model(inputs, outputs)
end_to_end_model.compile(
    loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"]
)

# Test it with `raw_test_ds`, which yields raw strings
end_to_end_model.evaluate(raw_test_ds)

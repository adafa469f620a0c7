"""keras-io "Bidirectional LSTM on IMDB" (examples/nlp/bidirectional_lstm_imdb.py).

The original's code with its imports renamed to chainrule. Its data (``keras.datasets.imdb``) is
replaced by synthetic reviews: lists of word indices of varying length whose label depends on the
words they contain. Sizes are cut (fewer reviews, shorter maxlen, smaller layers, one epoch more).
"""

import numpy as np

import chainrule as keras
from chainrule import layers

max_features = 2000  # Only consider the top 20k words (cut)
maxlen = 20  # Only consider the first 200 words of each movie review (cut)

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 16)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(8))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()


# Synthetic stand-in for keras.datasets.imdb.load_data(num_words=max_features): lists of word
# indices; "positive" reviews use words from the lower half of the vocabulary.
def _synthetic_imdb(n, seed):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        length = int(rng.integers(5, 40))
        low, high = (1, max_features // 2) if label else (max_features // 2, max_features)
        xs.append(list(rng.integers(low, high, size=length)))
        ys.append(label)
    return xs, np.array(ys)


(x_train, y_train), (x_val, y_val) = _synthetic_imdb(96, 0), _synthetic_imdb(32, 1)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=4, validation_data=(x_val, y_val))

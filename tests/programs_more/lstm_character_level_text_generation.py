"""keras-io example "Character-level text generation with LSTM"
(examples/generative/lstm_character_level_text_generation.py).

The example's Keras 3 code with imports renamed to chainrule. Changes: instead of downloading
Nietzsche's writings, the program writes a short text into the download cache, where
``keras.utils.get_file`` finds it; ``maxlen``, the LSTM's units, the epochs and the length of
the generated text are cut.
"""
import io
import os
import random
from pathlib import Path

import numpy as np

import chainrule as keras
from chainrule import layers


def _write_text():  # stands in for the download of nietzsche.txt
    rng = np.random.default_rng(0)
    words = ("the will to power is the essence of life and truth is a woman who "
             "does not give herself to those who seek her with heavy seriousness").split()
    sentences = [" ".join(rng.choice(words, size=rng.integers(5, 12))) + "." for _ in range(60)]
    folder = Path(os.environ.get("CHAINRULE_HOME", "~/.chainrule")).expanduser() / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nietzsche.txt").write_text("PREFACE\n\n" + "\n".join(sentences), encoding="utf-8")


_write_text()

path = keras.utils.get_file(
    "nietzsche.txt",
    origin="https://s3.amazonaws.com/text-datasets/nietzsche.txt",
)
with io.open(path, encoding="utf-8") as f:  # noqa: UP020 - the example's code
    text = f.read().lower()
text = text.replace("\n", " ")  # We remove newlines chars for nicer display
print("Corpus length:", len(text))

chars = sorted(list(set(text)))
print("Total chars:", len(chars))
char_indices = dict((c, i) for i, c in enumerate(chars))
indices_char = dict((i, c) for i, c in enumerate(chars))

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 20
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i : i + maxlen])
    next_chars.append(text[i + maxlen])
print("Number of sequences:", len(sentences))

x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
y = np.zeros((len(sentences), len(chars)), dtype="bool")
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1

model = keras.Sequential(
    [
        keras.Input(shape=(maxlen, len(chars))),
        layers.LSTM(32),
        layers.Dense(len(chars), activation="softmax"),
    ]
)
optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


epochs = 3
batch_size = 128

LOSSES = []
GENERATED = {}
for epoch in range(epochs):
    history = model.fit(x, y, batch_size=batch_size, epochs=1)
    LOSSES.extend(history.history["loss"])
    print()
    print("Generating text after epoch: %d" % epoch)  # noqa: UP031 - the example's code

    start_index = random.randint(0, len(text) - maxlen - 1)
    for diversity in [0.2, 0.5, 1.0, 1.2]:
        print("...Diversity:", diversity)

        generated = ""
        sentence = text[start_index : start_index + maxlen]
        print('...Generating with seed: "' + sentence + '"')

        for i in range(10):  # noqa: B007 - the example's code
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0
            preds = model.predict(x_pred, verbose=0)[0]
            next_index = sample(preds, diversity)
            next_char = indices_char[next_index]
            sentence = sentence[1:] + next_char
            generated += next_char

        print("...Generated: ", generated)
        print("-")
        GENERATED[diversity] = generated

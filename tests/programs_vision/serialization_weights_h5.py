"""keras-io guide "Save, serialize, and export models": weights-only saving to `.weights.h5`.

The guide's code with imports renamed to chainrule.
"""
import numpy as np

import chainrule as keras


def create_model():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


sequential_model = create_model()
sequential_model.save_weights("my_model.weights.h5")
weights = sequential_model.get_weights()

new_model = create_model()
new_model.load_weights("my_model.weights.h5")
for a, b in zip(weights, new_model.get_weights()):
    np.testing.assert_array_equal(a, b)

"""keras-io guide "Save, serialize, and export models": the `Lambda` layer and `safe_mode`.

The guide's code with imports renamed to chainrule.
"""
import numpy as np

import chainrule as keras

model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda x: x * 2)])
model.save("lambda_model.keras")

# Loading a lambda is refused in safe mode (the file would run code).
try:
    keras.models.load_model("lambda_model.keras")
    REFUSED = False
except ValueError as e:
    REFUSED = True
    print(e)

model = keras.models.load_model("lambda_model.keras", safe_mode=False)
np.testing.assert_allclose(model.predict(np.ones((2, 3))), 2 * np.ones((2, 3)))

"""keras-io guide "Customizing what happens in fit()" (guides/custom_train_step_in_torch.py:
chainrule's gradients come from a tape, as with Keras's PyTorch backend).

The original's code with its imports renamed to chainrule (``torch.no_grad`` -> ``keras.no_grad``);
the guide's random data is kept, epochs cut.
"""

import numpy as np

import chainrule as keras


# -- Customizing what happens in fit(): a custom train_step with metric trackers
class CustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data

        # Clear the leftover gradients
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.loss_fn(y, y_pred)

        # Call torch.Tensor.backward() on the loss to compute gradients
        # for the weights.
        loss.backward()

        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]

        # Update weights
        with keras.no_grad():  # torch.no_grad() in the original
            self.optimizer.apply(gradients, trainable_weights)

        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam")
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
custom_fit_history = model.fit(x, y, epochs=5)
history = custom_fit_history

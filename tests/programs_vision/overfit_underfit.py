"""TensorFlow tutorial "Overfit and underfit" (HIGGS, model sizes, L2, dropout).

The tutorial's Keras code with `tf.keras` spelled `keras` (= chainrule). Changes: the HIGGS CSV
read through tf.data is replaced by synthetic float32 arrays of the same feature count (28),
fed as an endlessly repeating batch generator (as `.batch().repeat()` is) with
`steps_per_epoch`; sizes and epochs are cut; `tfdocs.modeling.EpochDots` (from
tensorflow_docs, not Keras) and the plotting cells are left out.
"""
import pathlib
import shutil
import tempfile

import numpy as np

import chainrule as keras
from chainrule import layers, regularizers

logdir = pathlib.Path(tempfile.mkdtemp())/"tensorboard_logs"
shutil.rmtree(logdir, ignore_errors=True)

FEATURES = 28

N_VALIDATION = int(1e2)
N_TRAIN = int(1e3)
BUFFER_SIZE = int(1e3)
BATCH_SIZE = 100
STEPS_PER_EPOCH = N_TRAIN//BATCH_SIZE

_rng = np.random.default_rng(0)
_features = _rng.normal(size=(N_TRAIN + N_VALIDATION, FEATURES)).astype("float32")
_w = _rng.normal(size=(FEATURES,))
_labels = ((_features @ _w + 0.5 * np.sin(3 * _features[:, 0])) > 0).astype("float32")
validate_ds = (_features[:N_VALIDATION], _labels[:N_VALIDATION])


def _train_ds():  # packed_ds.skip(N_VALIDATION).take(N_TRAIN).cache().shuffle().repeat().batch()
    x, y = _features[N_VALIDATION:], _labels[N_VALIDATION:]
    while True:
        order = _rng.permutation(N_TRAIN)
        for i in range(STEPS_PER_EPOCH):
            idx = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
            yield x[idx], y[idx]


lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
  0.001,
  decay_steps=STEPS_PER_EPOCH*1000,
  decay_rate=1,
  staircase=False)


def get_optimizer():
  return keras.optimizers.Adam(lr_schedule)


step = np.linspace(0, 100000)
lr = lr_schedule(step)
print(np.asarray(lr)[:3])


def get_callbacks(name):
  return [
    keras.callbacks.EarlyStopping(monitor='val_binary_crossentropy', patience=200),
    keras.callbacks.TensorBoard(logdir/name),
  ]


def compile_and_fit(model, name, optimizer=None, max_epochs=10000):
  if optimizer is None:
    optimizer = get_optimizer()
  model.compile(optimizer=optimizer,
                loss=keras.losses.BinaryCrossentropy(from_logits=True),
                metrics=[
                  keras.metrics.BinaryCrossentropy(
                      from_logits=True, name='binary_crossentropy'),
                  'accuracy'])

  model.summary()

  history = model.fit(
    _train_ds(),
    steps_per_epoch = STEPS_PER_EPOCH,
    epochs=max_epochs,
    validation_data=validate_ds,
    callbacks=get_callbacks(name),
    verbose=0)
  return history


MAX_EPOCHS = 6

tiny_model = keras.Sequential([
    layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(1)
])

size_histories = {}

size_histories['Tiny'] = compile_and_fit(tiny_model, 'sizes/Tiny', max_epochs=MAX_EPOCHS)

small_model = keras.Sequential([
    # `input_shape` is only required here so that `.summary` works.
    layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(16, activation='elu'),
    layers.Dense(1)
])

size_histories['Small'] = compile_and_fit(small_model, 'sizes/Small', max_epochs=MAX_EPOCHS)

medium_model = keras.Sequential([
    layers.Dense(64, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(64, activation='elu'),
    layers.Dense(64, activation='elu'),
    layers.Dense(1)
])

size_histories['Medium']  = compile_and_fit(medium_model, "sizes/Medium",
                                            max_epochs=MAX_EPOCHS)

large_model = keras.Sequential([
    layers.Dense(512, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(512, activation='elu'),
    layers.Dense(512, activation='elu'),
    layers.Dense(512, activation='elu'),
    layers.Dense(1)
])

size_histories['large'] = compile_and_fit(large_model, "sizes/large", max_epochs=MAX_EPOCHS)

regularizer_histories = {}
regularizer_histories['Tiny'] = size_histories['Tiny']

l2_model = keras.Sequential([
    layers.Dense(512, activation='elu',
                 kernel_regularizer=regularizers.l2(0.001),
                 input_shape=(FEATURES,)),
    layers.Dense(512, activation='elu',
                 kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(512, activation='elu',
                 kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(512, activation='elu',
                 kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(1)
])

regularizer_histories['l2'] = compile_and_fit(l2_model, "regularizers/l2", max_epochs=MAX_EPOCHS)

result = l2_model(validate_ds[0][:10])
regularization_loss=sum(l2_model.losses)
print(float(np.asarray(regularization_loss)))

dropout_model = keras.Sequential([
    layers.Dense(512, activation='elu', input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(512, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(512, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(512, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(1)
])

regularizer_histories['dropout'] = compile_and_fit(dropout_model, "regularizers/dropout",
                                                   max_epochs=MAX_EPOCHS)

combined_model = keras.Sequential([
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001),
                 activation='elu', input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001),
                 activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001),
                 activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001),
                 activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(1)
])

regularizer_histories['combined'] = compile_and_fit(combined_model, "regularizers/combined",
                                                    max_epochs=MAX_EPOCHS)

HISTORIES = {**{"size/" + k: v for k, v in size_histories.items()},
             **{"reg/" + k: v for k, v in regularizer_histories.items()}}
LOSSES = {k: h.history["loss"] for k, h in HISTORIES.items()}
for h in HISTORIES.values():
    assert {"loss", "binary_crossentropy", "accuracy", "val_loss", "val_binary_crossentropy",
            "val_accuracy"} <= set(h.history)
assert any((logdir / "sizes" / "Tiny").rglob("*tfevents*"))

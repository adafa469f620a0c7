"""Train a small model, data-parallel when started under mpiexec; save what each process ends with.

Usage: python train.py OUT_DIR [options as key=value]: dtype, epochs, batch, n, reduction,
case (ok, raise, shapes, lengths, generator, small_batch), shuffle, backup, kill_after.
"""

import hashlib
import json
import os
import sys

import numpy as np

import chainrule as cr

out = sys.argv[1]
opts = dict(a.split("=", 1) for a in sys.argv[2:])
dtype = opts.get("dtype", "float32")
epochs, batch, n = int(opts.get("epochs", 3)), int(opts.get("batch", 16)), int(opts.get("n", 50))
case = opts.get("case", "ok")

cr.backend.set_floatx(dtype)
cr.utils.set_random_seed(1)
dist = None
if opts.get("distribute", "1") == "1":
    dist = cr.distribute.DataParallel(reduction=opts.get("reduction", "sum"))
    cr.distribute.set_distribution(dist)
rank = dist.process_id if dist else 0

rng = np.random.default_rng(0)
x = rng.normal(size=(n, 5)).astype(dtype)
y = (x @ rng.normal(size=(5, 3)) > 0).astype(dtype)
if case == "lengths" and rank == 1:
    x, y = x[:-4], y[:-4]
units = 7 if case == "shapes" and rank == 1 else 8
hidden = [cr.layers.Dense(units, activation="tanh")]
if case == "batchnorm":
    hidden.append(cr.layers.BatchNormalization())
model = cr.Sequential([cr.layers.Input((5,)), *hidden, cr.layers.Dense(3, activation="sigmoid")])
model.compile(optimizer=cr.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["binary_accuracy"])
step_hashes = []


class StepHashes(cr.callbacks.Callback):
    """A digest of every weight after every step (to compare processes step by step)."""

    def on_train_batch_end(self, batch, logs=None):
        flat = np.concatenate([np.ravel(w) for w in self.model.get_weights()])
        step_hashes.append(hashlib.sha1(flat.tobytes()).hexdigest())


callbacks = [cr.callbacks.CSVLogger(os.path.join(out, "log.csv")), StepHashes()]
if "backup" in opts:
    callbacks.append(cr.callbacks.BackupAndRestore(opts["backup"]))
if "kill_after" in opts:
    kill_after = int(opts["kill_after"])

    class Kill(cr.callbacks.Callback):
        # after the first step of epoch `kill_after` (0-based): by then process 0 has written
        # the backup of the epoch before (the step's allreduce waits for it)
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_after and batch == 0 and rank == 1:
                os.kill(os.getpid(), 9)

    callbacks.append(Kill())
if case == "raise":

    class Boom(cr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if rank == 1 and batch == 1:
                raise RuntimeError("boom on purpose")

    callbacks.append(Boom())
data = x
if case == "pydataset":

    class Batches(cr.utils.PyDataset):
        def __len__(self):
            return -(-n // batch)

        def __getitem__(self, i):
            return x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]

    data = Batches()
if case == "generator":
    data = ((x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch))
fit_y = None if case in ("generator", "pydataset") else y
history = model.fit(data, fit_y, batch_size=batch, epochs=epochs, verbose=2,
                    shuffle=opts.get("shuffle", "1") == "1", callbacks=callbacks,
                    validation_split=0.0 if case == "pydataset" else 0.2)
if case == "eval_lengths" and rank == 1:
    x, y = x[:-4], y[:-4]
result = model.evaluate(x, y, batch_size=batch, verbose=0, return_dict=True)
pred = model.predict(x, batch_size=batch, verbose=0)
np.savez(os.path.join(out, f"rank{rank}.npz"), *model.get_weights(), pred=pred)
with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
    json.dump({"history": history.history, "evaluate": result,
               "allreduce_calls": dist.allreduce_calls if dist else 0,
               "step_hashes": step_hashes}, f)

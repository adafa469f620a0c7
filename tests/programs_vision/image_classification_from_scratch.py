"""keras-io example "Image classification from scratch" (examples/vision/image_classification_from_scratch.py).

The example's code with imports renamed to chainrule. Changes: the Cats-vs-Dogs download is
replaced by a folder of small synthetic JPEG files in the same layout (PetImages/Cat,
PetImages/Dog; a few of them corrupt, as in the download, so the filtering step has work);
the image size (180 -> 32), the batch size, the block widths and the epochs are cut; the
matplotlib cells are left out. Data augmentation is made part of the model, the example's
first option ("Option 1: Make it part of the model").
"""
import os

import numpy as np
from PIL import Image

import chainrule as keras
from chainrule import layers


def _write_pet_images(root="PetImages", per_class=40):  # stands in for the download
    rng = np.random.default_rng(0)
    for k, folder_name in enumerate(("Cat", "Dog")):
        os.makedirs(os.path.join(root, folder_name), exist_ok=True)
        for i in range(per_class):
            h, w = rng.integers(40, 64, size=2)
            base = 70 + 110 * k  # the two classes differ in brightness
            pixels = np.clip(base + rng.normal(0, 40, size=(h, w, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(os.path.join(root, folder_name, f"{i}.jpg"))
        with open(os.path.join(root, folder_name, f"{per_class}.jpg"), "wb") as f:
            f.write(b"\x00not a jpeg file")  # the download has a few corrupt files


_write_pet_images()

num_skipped = 0
for folder_name in ("Cat", "Dog"):
    folder_path = os.path.join("PetImages", folder_name)
    for fname in os.listdir(folder_path):
        fpath = os.path.join(folder_path, fname)
        try:
            fobj = open(fpath, "rb")
            is_jfif = b"JFIF" in fobj.peek(10)
        finally:
            fobj.close()

        if not is_jfif:
            num_skipped += 1
            # Delete corrupted image
            os.remove(fpath)

print(f"Deleted {num_skipped} images.")

image_size = (32, 32)
batch_size = 16

train_ds, val_ds = keras.utils.image_dataset_from_directory(
    "PetImages",
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=image_size,
    batch_size=batch_size,
)

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)

    # Image augmentation block
    x = data_augmentation(inputs)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [16, 32, 48]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(
            previous_block_activation
        )
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)

epochs = 4

callbacks = [
    keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
]
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
history = model.fit(
    train_ds,
    epochs=epochs,
    callbacks=callbacks,
    validation_data=val_ds,
)

img = keras.utils.load_img("PetImages/Cat/6.jpg", target_size=image_size)

img_array = keras.utils.img_to_array(img)
img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

predictions = model.predict(img_array)
score = float(keras.ops.sigmoid(predictions[0][0]))
print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")

LOSSES = history.history["loss"]
assert num_skipped == 2

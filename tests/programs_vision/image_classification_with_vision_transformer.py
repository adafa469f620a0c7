"""keras-io example "Image classification with Vision Transformer"
(examples/vision/image_classification_with_vision_transformer.py).

The example's code with imports renamed to chainrule. Changes: CIFAR-100 is replaced by 64
synthetic 32x32x3 uint8 images (labels of shape (n, 1), as cifar100.load_data gives, whose class
is the image's brightest colour band: something to learn); the sizes are cut (10 classes
instead of 100, images resized to 24 instead of 72, projection_dim 16, 2 heads, 2 Transformer
blocks, a head of 64 and 32 units, batch size 16, 3 epochs); the matplotlib cells are left out
(the patches of the sample image are still computed). The checkpoint is written to the
working folder as Keras's ``.weights.h5`` where h5py is installed and as chainrule's
``.weights.npz`` otherwise. Every data augmentation layer of the original is kept
(Normalization, Resizing, RandomFlip, RandomRotation, RandomZoom).
"""

import importlib.util

import numpy as np

import chainrule as keras
from chainrule import layers, ops

"""
## Prepare the data
"""

num_classes = 10  # 100 in the original (CIFAR-100)
input_shape = (32, 32, 3)


def _synthetic_cifar(n, seed):  # stands in for keras.datasets.cifar100.load_data()
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, size=(n, 1))
    x = rng.integers(0, 120, size=(n, 32, 32, 3))
    band = (y[:, 0] * 32) // num_classes  # a bright horizontal band whose row is the class
    for i in range(n):
        x[i, band[i]:band[i] + 4] += 130
    return x.astype("uint8"), y.astype("int64")


(x_train, y_train), (x_test, y_test) = _synthetic_cifar(64, 0), _synthetic_cifar(32, 1)

print(f"x_train shape: {x_train.shape} - y_train shape: {y_train.shape}")
print(f"x_test shape: {x_test.shape} - y_test shape: {y_test.shape}")


"""
## Configure the hyperparameters
"""

learning_rate = 0.001
weight_decay = 0.0001
batch_size = 16  # 256 in the original
num_epochs = 3  # For real training, use num_epochs=100. 10 is a test value
image_size = 24  # We'll resize input images to this size (72 in the original)
patch_size = 6  # Size of the patches to be extract from the input images
num_patches = (image_size // patch_size) ** 2
projection_dim = 16  # 64 in the original
num_heads = 2  # 4 in the original
hidden_dim = projection_dim * num_heads
transformer_units = [
    hidden_dim * 2,
    hidden_dim,
]  # Size of the transformer layers
transformer_layers = 2  # 8 in the original
mlp_head_units = [
    64,
    32,
]  # Size of the dense layers of the final classifier (2048, 1024 in the original)


"""
## Use data augmentation
"""

data_augmentation = keras.Sequential(
    [
        layers.Normalization(),
        layers.Resizing(image_size, image_size),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(factor=0.02),
        layers.RandomZoom(height_factor=0.2, width_factor=0.2),
    ],
    name="data_augmentation",
)
# Compute the mean and the variance of the training data for normalization.
data_augmentation.layers[0].adapt(x_train)


"""
## Implement multilayer perceptron (MLP)
"""


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


"""
## Implement patch creation as a layer
"""


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        input_shape = ops.shape(images)
        batch_size = input_shape[0]
        height = input_shape[1]
        width = input_shape[2]
        channels = input_shape[3]
        num_patches_h = height // self.patch_size
        num_patches_w = width // self.patch_size
        patches = keras.ops.image.extract_patches(images, size=self.patch_size)
        patches = ops.reshape(
            patches,
            (
                batch_size,
                num_patches_h * num_patches_w,
                self.patch_size * self.patch_size * channels,
            ),
        )
        return patches

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config


"""
Let's display patches for a sample image (the plots are left out)
"""

image = x_train[np.random.choice(range(x_train.shape[0]))]

resized_image = ops.image.resize(
    ops.convert_to_tensor([image], dtype="float32"), size=(image_size, image_size)
)
patches = Patches(patch_size)(resized_image)
print(f"Image size: {image_size} X {image_size}")
print(f"Patch size: {patch_size} X {patch_size}")
print(f"Patches per image: {patches.shape[1]}")
print(f"Elements per patch: {patches.shape[-1]}")

n = int(np.sqrt(patches.shape[1]))
PATCH_IMAGES = []
for i, patch in enumerate(patches[0]):  # noqa: B007 - the original plots patch i at i + 1
    patch_img = ops.reshape(patch, (patch_size, patch_size, 3))
    PATCH_IMAGES.append(ops.convert_to_numpy(patch_img).astype("uint8"))

"""
## Implement the patch encoding layer
"""


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(
            input_dim=num_patches, output_dim=projection_dim
        )

    def call(self, patch):
        positions = ops.expand_dims(
            ops.arange(start=0, stop=self.num_patches, step=1), axis=0
        )
        projected_patches = self.projection(patch)
        encoded = projected_patches + self.position_embedding(positions)
        return encoded

    def get_config(self):
        config = super().get_config()
        config.update({"num_patches": self.num_patches})
        return config


"""
## Build the ViT model
"""


def create_vit_classifier():
    inputs = keras.Input(shape=input_shape)
    # Augment data.
    augmented = data_augmentation(inputs)
    # Create patches.
    patches = Patches(patch_size)(augmented)
    # Encode patches.
    encoded_patches = PatchEncoder(num_patches, hidden_dim)(patches)

    # Create multiple layers of the Transformer block.
    for _ in range(transformer_layers):
        # Layer normalization 1.
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        # Create a multi-head attention layer.
        attention_output = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=projection_dim, dropout=0.1
        )(x1, x1)
        # Skip connection 1.
        x2 = layers.Add()([attention_output, encoded_patches])
        # Layer normalization 2.
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        # MLP.
        x3 = mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
        # Skip connection 2.
        encoded_patches = layers.Add()([x3, x2])

    # Create a [batch_size, projection_dim] tensor.
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    representation = layers.Dropout(0.5)(representation)
    # Add MLP.
    features = mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
    # Classify outputs.
    logits = layers.Dense(num_classes)(features)
    # Create the Keras model.
    model = keras.Model(inputs=inputs, outputs=logits)
    return model


"""
## Compile, train, and evaluate the mode
"""


def run_experiment(model):
    global RESULTS
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate, weight_decay=weight_decay
    )

    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )

    # "/tmp/checkpoint.weights.h5" in the original; .weights.npz without h5py
    suffix = ".weights.h5" if importlib.util.find_spec("h5py") else ".weights.npz"
    checkpoint_filepath = "checkpoint" + suffix
    checkpoint_callback = keras.callbacks.ModelCheckpoint(
        checkpoint_filepath,
        monitor="val_accuracy",
        save_best_only=True,
        save_weights_only=True,
    )

    history = model.fit(
        x=x_train,
        y=y_train,
        batch_size=batch_size,
        epochs=num_epochs,
        validation_split=0.1,
        callbacks=[checkpoint_callback],
    )

    model.load_weights(checkpoint_filepath)
    _, accuracy, top_5_accuracy = RESULTS = model.evaluate(x_test, y_test)
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")
    print(f"Test top 5 accuracy: {round(top_5_accuracy * 100, 2)}%")

    return history


vit_classifier = create_vit_classifier()
history = run_experiment(vit_classifier)
LOSSES = history.history["loss"]

"""Fashion-MNIST with a convnet: the next lesson after seed 003's Flatten + Dense model.

The same data as examples/fashion_mnist.py, now kept as images: two Conv2D layers
learn 3x3 filters that slide over the picture, MaxPooling2D halves the resolution
after each, and only then a Dense layer classifies (keras-io's "Simple MNIST
convnet"). The seed's dense model trains alongside for comparison: the convnet's
test accuracy is higher because a filter sees neighbouring pixels together and the
same filter is used everywhere in the image.

Run:
    python examples/fashion_mnist_cnn.py [--quick] [--synthetic] [--epochs N] [--out DIR]
"""

import argparse
import os
import sys

import numpy as np

from chainrule.datasets import DatasetError, fashion_mnist
from chainrule.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from chainrule.models import Sequential
from chainrule.utils import set_random_seed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import synthetic_fashion  # noqa: E402  (the seed example's generated images)


def convnet():
    """keras-io's "Simple MNIST convnet", for 28x28 grey images and 10 classes."""
    return Sequential([
        Input(shape=(28, 28, 1)),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])


def dense():
    """Seed 003's model: every pixel straight into a softmax."""
    return Sequential([Input(shape=(28, 28)), Flatten(), Dense(10, activation="softmax")])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset of the data, 2 epochs")
    parser.add_argument("--synthetic", action="store_true",
                        help="use generated 28x28 images instead of the real data")
    parser.add_argument("--epochs", type=int, default=None, help="default 2 quick, else 10")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args(argv)
    set_random_seed(0)

    if args.synthetic:
        print("Using generated 28x28 images (--synthetic), not the real Fashion-MNIST.")
        (x_train, y_train), (x_test, y_test) = (synthetic_fashion(2000, 500) if args.quick
                                                else synthetic_fashion())
    else:
        try:
            (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
        except DatasetError as e:
            print(f"Fashion-MNIST is not available: {e}\n\nRun with --synthetic to do the same "
                  "lesson on generated 28x28 images.", file=sys.stderr)
            return 1
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:500], y_test[:500]
    epochs = args.epochs or (2 if args.quick else 10)

    # scale to [0, 1] and add the channel axis a Conv2D expects: (n, 28, 28) -> (n, 28, 28, 1)
    x_train = (x_train / 255.0).astype("float32")[..., None]
    x_test = (x_test / 255.0).astype("float32")[..., None]
    print("x_train", x_train.shape, "x_test", x_test.shape)

    model = convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1,
                        verbose=2)
    _, cnn_acc = model.evaluate(x_test, y_test, verbose=0)

    baseline = dense()
    baseline.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])
    baseline.fit(x_train[..., 0], y_train, batch_size=128, epochs=epochs, verbose=0)
    _, dense_acc = baseline.evaluate(x_test[..., 0], y_test, verbose=0)

    print(f"test accuracy: convnet {cnn_acc:.4f}, seed 003's dense model {dense_acc:.4f}")
    probabilities = model.predict(x_test[:1], verbose=0)[0]
    print(f"first test image: predicted class {int(np.argmax(probabilities))}, "
          f"true class {int(y_test[0])}")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figures skipped: {e})")
            return 0
        plot.history(history, path=os.path.join(args.out, "fashion_mnist_cnn_history.png"))
        plot.filters(model.layers[0], path=os.path.join(args.out, "fashion_mnist_cnn_filters.png"))
        plot.feature_maps(model, x_test[0],
                          path=os.path.join(args.out, "fashion_mnist_cnn_feature_maps.png"))
        print(f"Figures written to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

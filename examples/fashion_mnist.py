"""Seed 003: Fashion-MNIST with Flatten + Dense(10, softmax), exactly as the seed writes it.

The data comes from chainrule.datasets.fashion_mnist.load_data(), which
downloads the official files once. Offline, put the files in the folder the
error message names, or pass --synthetic to run the same lesson on generated
28x28 images of ten simple clothing-like shapes.

Run:
    python examples/fashion_mnist.py [--quick] [--out DIR] [--synthetic]
"""

import argparse
import os
import sys

import numpy as np

# tensorflow.keras.datasets / models / layers in the seed
from chainrule.datasets import DatasetError, fashion_mnist
from chainrule.layers import Dense, Flatten
from chainrule.models import Sequential

CLASS_NAMES = fashion_mnist.CLASS_NAMES


def _shape_masks():
    """Ten 28x28 silhouettes, one per Fashion-MNIST class (rough, but recognizably different)."""
    r, c = np.mgrid[0:28, 0:28]
    m = np.zeros((10, 28, 28), bool)
    m[0] = ((r >= 6) & (r < 10) & (c >= 4) & (c < 24)) | ((r >= 6) & (r < 24) & (c >= 9) & (c < 19))
    m[1] = (r >= 4) & (r < 26) & (((c >= 8) & (c < 13)) | ((c >= 15) & (c < 20)) | ((r < 9) & (c >= 8) & (c < 20)))
    m[2] = ((r >= 5) & (r < 24) & (c >= 8) & (c < 20)) | ((r >= 5) & (r < 22) & (((c >= 3) & (c < 8)) | ((c >= 20) & (c < 25))))
    m[3] = (r >= 4) & (r < 26) & (np.abs(c - 13.5) < 3 + (r - 4) * 0.35)
    m[4] = ((r >= 4) & (r < 26) & (c >= 7) & (c < 21) & (np.abs(c - 13.5) > 0.8)) | ((r >= 4) & (r < 24) & (((c >= 3) & (c < 7)) | ((c >= 21) & (c < 25))))
    m[5] = (r >= 17) & (r < 22) & (c >= 2) & (c < 26) & (((c // 4) % 2 == 0) | (r >= 20))
    m[6] = ((r >= 5) & (r < 25) & (c >= 7) & (c < 21)) & ~((r < 11) & (np.abs(c - 13.5) < 3 - (r - 5) * 0.4))
    m[7] = ((r >= 15) & (r < 23) & (c >= 2) & (c < 26)) & ~((r < 18) & (c >= 15))
    m[8] = ((r >= 10) & (r < 25) & (c >= 4) & (c < 24)) | ((r >= 4) & (r < 10) & ((np.abs(c - 9) < 1.5) | (np.abs(c - 18) < 1.5) | (r < 6) & (c >= 8) & (c < 20)))
    m[9] = ((r >= 4) & (r < 24) & (c >= 8) & (c < 16)) | ((r >= 17) & (r < 24) & (c >= 8) & (c < 25))
    return m


def synthetic_fashion(n_train=6000, n_test=1000, seed=0):
    """Generated stand-ins for Fashion-MNIST: uint8 (n, 28, 28) images and uint8 labels 0-9."""
    rng = np.random.default_rng(seed)
    masks = _shape_masks().astype(np.float64)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.empty((n, 28, 28), np.uint8)
        for i, lab in enumerate(labels):
            img = np.roll(masks[lab], (rng.integers(-2, 3), rng.integers(-2, 3)), axis=(0, 1))
            img = img * rng.uniform(120, 255) + rng.normal(0, 25, (28, 28))
            images[i] = np.clip(img, 0, 255).astype(np.uint8)
        return images, labels

    return make(n_train), make(n_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset of the data, 2 epochs")
    parser.add_argument("--out", default=None, help="folder for the figures")
    parser.add_argument("--synthetic", action="store_true",
                        help="use generated 28x28 images instead of the real data")
    args = parser.parse_args(argv)

    if args.synthetic:
        print("Using generated 28x28 images (--synthetic), not the real Fashion-MNIST.")
        (X_train, y_train), (X_test, y_test) = (synthetic_fashion(2000, 500) if args.quick
                                                else synthetic_fashion())
    else:
        try:
            # 데이터 불러오기 (load the data)
            (X_train, y_train), (X_test, y_test) = fashion_mnist.load_data()
        except DatasetError as e:
            print(f"Fashion-MNIST is not available: {e}\n\nRun with --synthetic to do the same "
                  "lesson on generated 28x28 images.", file=sys.stderr)
            return 1
    if args.quick:
        X_train, y_train, X_test, y_test = X_train[:2000], y_train[:2000], X_test[:500], y_test[:500]
    print("x_train", X_train.shape, X_train.dtype, "y_train", y_train.shape,
          "x_test", X_test.shape, "y_test", y_test.shape)

    # 데이터를 정규화 합니다 (scale to [0, 1])
    X_train = X_train / 255.
    X_test = X_test / 255.

    model = Sequential()
    model.add(Flatten(input_shape=(28, 28)))  # 28*28 = 784 특성 벡터로 펼쳐 변환해 Dense 층으로 들어갑니다
    model.add(Dense(10, activation='softmax'))

    model.compile(optimizer='adam'
                  , loss='sparse_categorical_crossentropy'
                  , metrics=['accuracy'])

    model.summary()

    # 모델 학습 (train)
    history = model.fit(X_train, y_train, epochs=2 if args.quick else 10,
                        validation_data=(X_test, y_test))

    # 예측 (predict)
    print(model.predict(X_test[0:1]))

    # 정확도 (accuracy)
    test_loss, test_acc = model.evaluate(X_test, y_test, verbose=2)
    print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figures skipped: {e})")
            return 0
        plot.image_grid(X_train[:9], y_train[:9], class_names=CLASS_NAMES,
                        path=os.path.join(args.out, "fashion_mnist_grid.png"))
        plot.history(history, path=os.path.join(args.out, "fashion_mnist_history.png"))
        print(f"Figures written to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

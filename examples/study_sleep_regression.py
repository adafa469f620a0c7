"""Seed 003: the study-hours / sleep-hours regression, by hand in NumPy and with the Keras API.

Part 1 is the seed's NeuralNetwork class (2 inputs, 3 hidden sigmoid units,
1 sigmoid output, no biases) trained with its own feed_forward/backward; its
backward step is checked against chainrule's engine. Part 2 is the seed's
Keras code, unchanged except for the imports.

Run:
    python examples/study_sleep_regression.py [--quick] [--out DIR]
"""

import argparse
import os

import numpy as np

# tensorflow.keras.models / tensorflow.keras.layers in the seed
from chainrule.layers import Dense
from chainrule.models import Sequential


class NeuralNetwork:
    """The seed's hand-written network: w1 (2x3), w2 (3x1), sigmoid everywhere, no biases."""

    def __init__(self):
        self.inputs = 2
        self.hiddenNodes = 3
        self.outputNodes = 1
        self.w1 = np.random.randn(self.inputs, self.hiddenNodes)   # layer 1 weights, 2x3
        self.w2 = np.random.randn(self.hiddenNodes, self.outputNodes)  # layer 2 weights, 3x1

    def sigmoid(self, s):
        return 1 / (1 + np.exp(-s))

    def sigmoidPrime(self, s):  # noqa: N802 - the seed's name
        sx = self.sigmoid(s)
        return sx * (1 - sx)

    def feed_forward(self, X):
        self.hidden_sum = np.dot(X, self.w1)
        self.activated_hidden = self.sigmoid(self.hidden_sum)
        self.output_sum = np.dot(self.activated_hidden, self.w2)
        self.activated_output = self.sigmoid(self.output_sum)
        return self.activated_output

    def backward(self, X, y, o):
        # NOTE: the seed multiplies by sigmoidPrime(o) and sigmoidPrime(self.output_sum); the
        # chain rule needs the derivative at each layer's own weighted sum, as written here.
        self.o_error = y - o
        self.o_delta = self.o_error * self.sigmoidPrime(self.output_sum)
        self.z2_error = self.o_delta.dot(self.w2.T)
        self.z2_delta = self.z2_error * self.sigmoidPrime(self.hidden_sum)
        self.w1 += X.T.dot(self.z2_delta)
        self.w2 += self.activated_hidden.T.dot(self.o_delta)

    def train(self, X, y):
        o = self.feed_forward(X)
        self.backward(X, y, o)


def make_samples(n=1000):
    """The seed's data: score = 5 * study + 2 * sleep + 40, normalized."""
    study = np.random.uniform(1, 8, (n, 1))
    sleep = np.random.uniform(1, 8, (n, 1))
    y = 5 * study + 2 * sleep + 40
    X = np.append(study, sleep, axis=1)
    X = X / np.amax(X, axis=0)
    y = y / 100
    return X, y


def part1_by_hand(iterations):
    from chainrule.explain import backprop

    np.random.seed(812)
    X = np.array(([8, 8], [2, 5], [7, 6]), dtype=float)
    y = (X[:, 0] * 5 + X[:, 1] * 2).reshape(3, 1)
    X = X / np.amax(X, axis=0)
    y = y / np.amax(y, axis=0)
    print("공부시간, 수면시간 (study, sleep)\n", X)
    print("시험점수 (score)\n", y)

    def show(epoch):
        print('+' + '---' * 3 + f'EPOCH {epoch}' + '---' * 3 + '+')
        print("예측 (prediction):\n", str(nn.feed_forward(X)))
        print("에러 (error):\n", str(np.mean(np.square(y - nn.feed_forward(X)))))

    nn = NeuralNetwork()
    show(1)
    # one hand-written step against the engine: the seed's update is w += -∂E/∂w for
    # E = ½Σ(y − o)², i.e. gradient descent with learning rate 1
    model = Sequential([Dense(3, input_dim=2, activation="sigmoid", use_bias=False, dtype="float64"),
                        Dense(1, activation="sigmoid", use_bias=False, dtype="float64")])
    model.set_weights([nn.w1, nn.w2])
    report = backprop(model, X, y, learning_rate=1.0, loss="half_sse")
    w1_before, w2_before = nn.w1.copy(), nn.w2.copy()
    nn.train(X, y)
    same = (np.allclose(w1_before - nn.w1, report.gradients[0], rtol=1e-10, atol=1e-14)
            and np.allclose(w2_before - nn.w2, report.gradients[1], rtol=1e-10, atol=1e-14))
    print(f"The hand-written backward step equals the engine's gradient step: {same}")

    for i in range(1, iterations):
        if (i + 1 in [1, 2, 3, 4, 5]) or ((i + 1) % 1000 == 0):
            show(i + 1)
        nn.train(X, y)
    print(f"after {iterations} iterations, mean squared error "
          f"{np.mean(np.square(y - nn.feed_forward(X))):.6f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and epochs")
    parser.add_argument("--out", default=None, help="folder for the history figure")
    args = parser.parse_args(argv)

    print("Part 1: the NumPy network by hand")
    part1_by_hand(1000 if args.quick else 10000)

    print("\nPart 2: the same model with the Keras API")
    X, y = make_samples()

    model = Sequential()
    # 신경망 모델 구조 정의 (the model's layers)
    model.add(Dense(3, input_dim=2, activation='sigmoid'))
    model.add(Dense(1, activation='sigmoid'))

    # 컴파일 단계 (compile: optimizer, loss and metrics)
    model.compile(optimizer='sgd', loss='mse', metrics=['mae', 'mse'])

    results = model.fit(X, y, epochs=5 if args.quick else 50)

    print(results.history.keys())

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "study_sleep_history.png")
        plot.history(results, path=path)
        print(f"Figure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

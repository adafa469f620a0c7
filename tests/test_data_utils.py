"""Tests for chainrule.utils.data_utils: to_categorical, normalize, train_test_split."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import backend
from chainrule.utils.data_utils import normalize, to_categorical, train_test_split


@pytest.fixture
def restore_backend():
    state, floatx = backend.get_random_state(), backend.floatx()
    yield
    backend.set_random_state(state)
    backend.set_floatx(floatx)


# --------------------------------------------------------------------------- to_categorical


def test_to_categorical_exact_one_hot():
    result = to_categorical([0, 2, 1, 2])
    assert result.dtype == np.float32
    assert result.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]


def test_to_categorical_with_num_classes_and_dtype():
    result = to_categorical(np.array([3, 0]), num_classes=5, dtype="int32")
    assert result.dtype == np.int32
    assert result.tolist() == [[0, 0, 0, 1, 0], [1, 0, 0, 0, 0]]


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((6,), (6, 4)),
        ((6, 1), (6, 4)),  # trailing 1 squeezed, as Keras
        ((2, 3), (2, 3, 4)),
        ((3, 2, 1), (3, 2, 4)),
        ((6, 1, 1), (6, 1, 4)),  # only the last dimension is squeezed
        ((1,), (1, 4)),
    ],
)
def test_to_categorical_shapes_follow_keras(shape, expected):
    labels = np.arange(int(np.prod(shape))).reshape(shape) % 4
    result = to_categorical(labels, num_classes=4)
    assert result.shape == expected
    np.testing.assert_array_equal(result.argmax(-1), labels.reshape(expected[:-1]))
    assert result.sum() == labels.size


def test_to_categorical_scalar_label():
    assert to_categorical(2, num_classes=4).tolist() == [0, 0, 1, 0]


def test_to_categorical_accepts_integral_floats_and_bools():
    assert to_categorical([1.0, 0.0]).tolist() == [[0, 1], [1, 0]]
    assert to_categorical(np.array([True, False])).tolist() == [[0, 1], [1, 0]]
    assert to_categorical(np.array([2], dtype=np.uint8), 3).tolist() == [[0, 0, 1]]


def test_to_categorical_empty_labels_with_num_classes():
    assert to_categorical(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"x": [0, 3], "num_classes": 3},
            ValueError,
            (
                "x must hold class indices in [0, num_classes). "
                "Received: x with values from 0 to 3, num_classes=3"
            ),
        ),
        (
            {"x": [-1, 2]},
            ValueError,
            "x must hold non-negative class indices. Received: x with values from -1 to 2",
        ),
        (
            {"x": [0.5, 1]},
            ValueError,
            (
                "x must hold integer class labels; found the non-integer value 0.5. "
                "Received: x=array of shape (2,) and dtype float64"
            ),
        ),
        (
            {"x": [np.nan]},
            ValueError,
            "value nan. Received: x=array of shape (1,) and dtype float64",
        ),
        (
            {"x": ["a", "b"]},
            TypeError,
            "x must hold integer class labels. Received: x with dtype <U1",
        ),
        (
            {"x": [1], "num_classes": 0},
            ValueError,
            "num_classes must be a positive integer or None. Received: num_classes=0",
        ),
        ({"x": [1], "num_classes": 2.0}, ValueError, "Received: num_classes=2.0"),
        ({"x": [1], "num_classes": True}, ValueError, "Received: num_classes=True"),
        ({"x": [1], "dtype": "flaot32"}, TypeError, "Received: dtype='flaot32'"),
        (
            {"x": []},
            ValueError,
            "Received: x=array of shape (0,) and dtype float64, num_classes=None",
        ),
        ({"x": [[1], [2, 3]]}, ValueError, "Received: x of type list"),
    ],
)
def test_to_categorical_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error) as info:
        to_categorical(**kwargs)
    assert str(info.value).endswith(message)


# --------------------------------------------------------------------------- normalize


def test_normalize_l2_rows_and_zero_rows():
    result = normalize(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]], rtol=1e-7)


def test_normalize_along_axis_0():
    x = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[0.6, 0.0, 1.0], [0.8, 0.0, 0.0]])


def test_normalize_l1_and_max_norms():
    x = np.array([[1.0, -2.0, 2.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[0.2, -0.4, 0.4]])
    np.testing.assert_allclose(normalize(x, order=np.inf), [[0.5, -1.0, 1.0]])


def test_normalize_integer_input_becomes_floatx(restore_backend):
    assert normalize([[3, 4]]).dtype == np.float32
    np.testing.assert_allclose(normalize([[3, 4]]), [[0.6, 0.8]], rtol=1e-7)
    backend.set_floatx("float64")
    assert normalize([[3, 4]]).dtype == np.float64


def test_normalize_matches_numpy_on_3d_input():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    result = normalize(x, axis=1)
    np.testing.assert_allclose(result, x / np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(np.linalg.norm(result, axis=1), np.ones((2, 4)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"x": [1.0, 2.0], "axis": 1},
            ValueError,
            "axis must be an integer in [-1, 1) for an input of shape (2,). Received: axis=1",
        ),
        ({"x": [[1.0]], "axis": 0.5}, ValueError, "Received: axis=0.5"),
        (
            {"x": [1.0], "order": 0},
            ValueError,
            "order must be a positive number (2 for L2, 1 for L1, inf for max). Received: order=0",
        ),
        ({"x": [1.0], "order": "l2"}, ValueError, "Received: order='l2'"),
        ({"x": 3.0}, ValueError, "Received: x=array of shape () and dtype float64"),
        ({"x": ["a"]}, TypeError, "x must be numeric. Received: x with dtype <U1"),
    ],
)
def test_normalize_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error) as info:
        normalize(**kwargs)
    assert str(info.value).endswith(message)


# --------------------------------------------------------------------------- train_test_split


def test_split_without_shuffle_keeps_order():
    x, y = np.arange(16).reshape(8, 2), np.arange(8) * 10
    x_train, x_test, y_train, y_test = train_test_split(x, y, shuffle=False)
    assert x_train.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert x_test.tolist() == [[12, 13], [14, 15]]
    assert y_train.tolist() == [0, 10, 20, 30, 40, 50] and y_test.tolist() == [60, 70]


def test_split_with_validation_without_shuffle():
    parts = train_test_split(np.arange(20), test_size=0.2, validation_size=0.1, shuffle=False)
    assert [p.tolist() for p in parts] == [list(range(14)), [14, 15], [16, 17, 18, 19]]


def test_split_shuffles_reproducibly_and_keeps_rows_aligned():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    first = train_test_split(x, y, test_size=0.3, seed=7)
    second = train_test_split(x, y, test_size=0.3, seed=7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    x_train, x_test, y_train, y_test = first
    assert len(x_train) == 35 and len(x_test) == 15
    np.testing.assert_array_equal(x_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(x_test[:, 0], 2 * y_test)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))
    assert y_train.tolist() != sorted(y_train.tolist())
    other = train_test_split(x, y, test_size=0.3, seed=8)
    assert not np.array_equal(other[3], y_test)


def test_split_train_validation_test_partition():
    y = np.arange(20)
    y_train, y_val, y_test = train_test_split(y, test_size=0.2, validation_size=0.1, seed=0)
    assert (len(y_train), len(y_val), len(y_test)) == (14, 2, 4)
    everything = np.concatenate([y_train, y_val, y_test])
    assert sorted(everything.tolist()) == list(range(20))


def test_split_sizes_round_up_and_accept_counts():
    assert [len(p) for p in train_test_split(np.arange(10), test_size=0.25)] == [7, 3]
    assert [len(p) for p in train_test_split(np.arange(100), test_size=0.07)] == [93, 7]
    assert [len(p) for p in train_test_split(np.arange(10), test_size=3, validation_size=2)] == [
        5,
        2,
        3,
    ]


def test_split_seed_none_follows_set_random_seed(restore_backend):
    backend.set_random_seed(3)
    a = train_test_split(np.arange(30))
    backend.set_random_seed(3)
    b = train_test_split(np.arange(30), seed=None)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


def test_split_accepts_lists_and_returns_arrays():
    x_train, x_test = train_test_split([[1, 2], [3, 4], [5, 6], [7, 8]], shuffle=False)
    assert isinstance(x_train, np.ndarray)
    assert x_train.tolist() == [[1, 2], [3, 4], [5, 6]] and x_test.tolist() == [[7, 8]]


def test_stratified_split_keeps_class_proportions_exactly():
    y = np.array([0] * 12 + [1] * 8)
    x = np.arange(20)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=1, stratify=y)
    assert np.bincount(y_test).tolist() == [3, 2]
    assert np.bincount(y_train).tolist() == [9, 6]
    np.testing.assert_array_equal(y[x_train], y_train)
    np.testing.assert_array_equal(y[x_test], y_test)


def test_stratified_split_with_validation_and_one_hot_labels():
    labels = np.array([0] * 30 + [1] * 20 + [2] * 10)
    onehot = to_categorical(labels)
    parts = train_test_split(
        labels, onehot, test_size=0.2, validation_size=0.1, seed=0, stratify=onehot
    )
    y_train, y_val, y_test, h_train, h_val, h_test = parts
    assert np.bincount(y_test, minlength=3).tolist() == [6, 4, 2]
    assert np.bincount(y_val, minlength=3).tolist() == [3, 2, 1]
    assert np.bincount(y_train, minlength=3).tolist() == [21, 14, 7]
    for h, y in ((h_train, y_train), (h_val, y_val), (h_test, y_test)):
        np.testing.assert_array_equal(h.argmax(-1), y)


def test_stratified_split_breaks_remainder_ties_fairly():
    # 3 classes of 5; 4 test samples: quotas 1.33 each, one class gets a second sample.
    y = np.repeat([0, 1, 2], 5)
    counts = sorted(np.bincount(train_test_split(y, test_size=4, seed=2, stratify=y)[1]).tolist())
    assert counts == [1, 1, 2]


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (
            (np.arange(4),),
            {"test_size": 1.5},
            ValueError,
            "test_size must be in (0, 1). Received: test_size=1.5",
        ),
        (
            (np.arange(4),),
            {"test_size": 0.0},
            ValueError,
            "test_size must be in (0, 1). Received: test_size=0.0",
        ),
        ((np.arange(4),), {"test_size": float("nan")}, ValueError, "Received: test_size=nan"),
        (
            (np.arange(4),),
            {"test_size": 4},
            ValueError,
            (
                "test_size, as a number of samples, must be in [1, 4) for 4 samples. "
                "Received: test_size=4"
            ),
        ),
        ((np.arange(4),), {"test_size": "0.2"}, TypeError, "Received: test_size='0.2'"),
        ((np.arange(4),), {"test_size": True}, TypeError, "Received: test_size=True"),
        (
            (np.arange(4),),
            {"validation_size": -0.1},
            ValueError,
            "validation_size must be in (0, 1). Received: validation_size=-0.1",
        ),
        (
            (np.arange(10),),
            {"test_size": 0.6, "validation_size": 0.4},
            ValueError,
            (
                "test_size + validation_size must be below 1, leaving samples to train on. "
                "Received: test_size=0.6, validation_size=0.4"
            ),
        ),
        (
            (np.arange(3),),
            {"test_size": 0.5, "validation_size": 0.4},
            ValueError,
            (
                "The split leaves the training set empty: of 3 samples, 2 go to test and 2 to "
                "validation. Use smaller sizes or more samples. "
                "Received: n_samples=3, test_size=0.5, validation_size=0.4"
            ),
        ),
        (
            (np.arange(10),),
            {"test_size": 1e-12},
            ValueError,
            (
                "The split leaves the test set empty: of 10 samples, 0 go to test. Use a larger test "
                "size or more samples. Received: n_samples=10, test_size=1e-12"
            ),
        ),
        (
            (np.arange(1),),
            {},
            ValueError,
            (
                "The split leaves the training set empty: of 1 samples, 1 go to test. Use smaller "
                "sizes or more samples. Received: n_samples=1, test_size=0.25"
            ),
        ),
        (
            (np.arange(4), np.arange(3)),
            {},
            ValueError,
            "All arrays must have the same number of samples. Received: arrays with lengths [4, 3]",
        ),
        ((), {}, ValueError, "train_test_split needs at least one array. Received: no arrays"),
        (
            (np.float64(3.0),),
            {},
            ValueError,
            (
                "arrays[0] must have at least one dimension (one entry per sample). "
                "Received: arrays[0] of shape ()"
            ),
        ),
        ((np.arange(4),), {"shuffle": "no"}, TypeError, "Received: shuffle='no'"),
        ((np.arange(4),), {"seed": -3}, ValueError, "Received: seed=-3"),
        (
            (np.arange(4),),
            {"stratify": np.arange(4) % 2, "shuffle": False},
            ValueError,
            (
                "stratify needs shuffle=True: a stratified split draws each class's samples at "
                "random. Received: shuffle=False"
            ),
        ),
        (
            (np.arange(4),),
            {"stratify": np.arange(3)},
            ValueError,
            (
                "stratify must hold one label per sample (4). "
                "Received: stratify=array of shape (3,) and dtype int64"
            ),
        ),
        (
            (np.arange(5),),
            {"stratify": np.array([0, 0, 1, 1, 2])},
            ValueError,
            "the smallest class has 1. Received: stratify with 3 classes of sizes [2, 2, 1]",
        ),
    ],
)
def test_split_rejects_bad_input(args, kwargs, error, message):
    with pytest.raises(error) as info:
        train_test_split(*args, **kwargs)
    assert str(info.value).endswith(message)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_all_finite_finds_every_nan_and_inf_and_accepts_large_finite_values(dtype):
    from chainrule import backend

    big = np.finfo(dtype).max
    a = np.ones((7, 5), dtype)
    assert backend.all_finite(a)
    assert backend.all_finite(np.full((3, 3), big, dtype))  # the squares overflow: confirmed
    assert backend.all_finite(a[:, ::2])  # not contiguous: the element-wise check
    assert backend.all_finite(np.zeros((0, 4), dtype))
    assert backend.all_finite(np.arange(5))  # integers are always finite
    for bad in (np.nan, np.inf, -np.inf):
        for pos in [(0, 0), (6, 4), (3, 2)]:
            b = a.copy()
            b[pos] = bad
            assert not backend.all_finite(b)
            assert not backend.all_finite(b[:, ::-1])


def test_fit_refuses_non_finite_x_found_by_the_fast_check():
    import chainrule as cr

    x = np.ones((40, 3), np.float32)
    x[17, 1] = np.inf
    model = cr.models.Sequential([cr.Input((3,)), cr.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\), first at "
                                         r"index\(es\) \[\(17, 1\)\]"):
        model.fit(x, np.zeros((40, 1)), verbose=0)

"""chainrule.utils.pad_sequences against Keras's documented results and a plain-Python model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from chainrule.utils import pad_sequences


def reference(seqs, maxlen, padding, truncating, value):
    """Padding spelled out element by element, independent of the implementation."""
    width = max((len(s) for s in seqs), default=0) if maxlen is None else maxlen
    rows = []
    for s in seqs:
        s = list(s)
        if len(s) > width:
            s = s[len(s) - width:] if truncating == "pre" else s[:width]
        fill = [value] * (width - len(s))
        rows.append(fill + s if padding == "pre" else s + fill)
    return rows


def test_keras_documented_examples():
    seqs = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(seqs).dtype == np.int32


@pytest.mark.parametrize("padding,truncating,maxlen", list(itertools.product(
    ["pre", "post"], ["pre", "post"], [None, 0, 1, 3, 7])))
def test_matches_the_reference_on_ragged_lists(padding, truncating, maxlen):
    rng = np.random.default_rng(3)
    seqs = [rng.integers(1, 50, size=n).tolist() for n in (0, 1, 5, 2, 9, 3)]
    got = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=-7)
    want = reference(seqs, maxlen, padding, truncating, -7)
    assert got.shape == (len(seqs), len(want[0]))
    assert got.tolist() == want


def test_dtype_value_and_arrays_of_vectors():
    got = pad_sequences([np.ones((2, 3)), np.zeros((0, 3)), 2 * np.ones((4, 3))], maxlen=3,
                        dtype="float32", value=0.5)
    assert got.shape == (3, 3, 3) and got.dtype == np.float32
    np.testing.assert_array_equal(got[0, 0], 0.5)
    np.testing.assert_array_equal(got[0, 1:], 1.0)
    np.testing.assert_array_equal(got[1], 0.5)
    np.testing.assert_array_equal(got[2], 2.0)


def test_strings_with_object_dtype():
    got = pad_sequences([["a"], ["b", "cc"]], dtype=object, value="<pad>", padding="post")
    assert got.tolist() == [["a", "<pad>"], ["b", "cc"]]


def test_empty_list_of_sequences():
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([], maxlen=4).shape == (0, 4)


@pytest.mark.parametrize("kwargs,message", [
    ({"sequences": 5}, r"sequences must be a list of sequences\. Received: sequences of type int"),
    ({"sequences": [[1], 2]}, r"sequences\[1\] is not one\. Received: sequences\[1\]=2"),
    ({"padding": "middle"}, r'padding must be "pre" or "post"\. Received: padding=\'middle\''),
    ({"truncating": "both"}, r"truncating must be .* Received: truncating='both'"),
    ({"maxlen": -1}, r"maxlen must be a non-negative integer or None\. Received: maxlen=-1"),
    ({"maxlen": 2.5}, r"Received: maxlen=2\.5"),
    ({"value": "x"}, r"value is a string but dtype int32 is numeric.*Received: value='x'"),
    ({"sequences": [[[1, 2]], [[1, 2, 3]]]}, r"Received: sequences\[1\] with items of shape \(3,\)"),
])
def test_bad_arguments_are_named(kwargs, message):
    kwargs = {"sequences": [[1, 2], [3]], **kwargs}
    with pytest.raises(ValueError, match=message):
        pad_sequences(**kwargs)

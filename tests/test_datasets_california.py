"""california_housing: Keras's loader on a small file the test writes (never the network)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from chainrule.datasets import (
    CorruptDatasetError,
    DatasetNotFoundError,
    _download,
    california_housing,
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    def refuse(url, timeout, **_):
        raise OSError("no network in tests")

    monkeypatch.setattr(_download, "fetch_url", refuse)
    monkeypatch.setattr(_download, "BACKOFF", 0.0)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


def _write(x, y, where="chainrule", name="california_housing.npz"):
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    folder = (_download.dataset_dir("california_housing") if where == "chainrule"
              else _download.keras_home() / "datasets")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(buf.getvalue())


def _keras_split(x, y, version, test_split, seed):
    """keras/src/datasets/california_housing.py's steps, written out with NumPy."""
    if version == "small":
        x, y = x[:600], y[:600]
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])


@pytest.mark.parametrize("version,test_split,seed", [("large", 0.2, 113), ("small", 0.2, 113),
                                                      ("large", 0.0, 7), ("small", 0.35, 1)])
def test_load_data_splits_as_keras(version, test_split, seed):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(700, 8))
    y = rng.uniform(2e4, 5e5, size=700)
    _write(x, y)
    with pytest.warns(UserWarning, match="does not match the published"):
        got = california_housing.load_data(version=version, test_split=test_split, seed=seed)
    want = _keras_split(x, y, version, test_split, seed)
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_array_equal(g, w)
    assert got[0][0].shape[1] == 8


def test_keras_cache_is_read_and_errors():
    x, y = np.ones((10, 8)), np.arange(10.0)
    _write(x, y, where="keras")
    with pytest.warns(UserWarning):
        (xa, ya), (xb, yb) = california_housing.load_data(test_split=0.5)
    assert len(xa) == 5 and sorted(np.concatenate([ya, yb]).tolist()) == list(range(10))
    with pytest.raises(ValueError, match=r"Received: version='medium'"):
        california_housing.load_data(version="medium")
    with pytest.raises(ValueError, match=r"Received: test_split=1"):
        california_housing.load_data(test_split=1)


def test_missing_file_and_bad_content(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="california_housing.npz"):
        california_housing.load_data()
    _write(np.ones((4, 8)), np.ones((3,)))
    with pytest.warns(UserWarning), pytest.raises(CorruptDatasetError, match=r"shape \(n,\)"):
        california_housing.load_data()
